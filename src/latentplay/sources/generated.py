"""A trained run's samples as a store: images decoded from prior draws, with their codes.

Every row holds one generated image, the latent code ``z ~ N(0, I)`` it was decoded from (a
vector column, ``z`` by default; a plain autoencoder, which has no prior, is drawn from the mean
and SD of each dimension of its encoded training set, as the playground's Sample tab draws)
and, for a conditional model, the condition it was decoded under as attributes of the
condition's names. Generated faces then go through every command a
dataset does: ``data measure`` (pose and skin tone without a classifier), ``embed`` and
``viz projection`` beside the training set, ``latent direction`` on ``z`` (InterFaceGAN's
recipe: sample, label, fit a boundary), and ``latent edit`` reads the stored codes instead of
inverting the images.

    >>> gen = generate_store("runs/dcgan", "data/generated", n=2000)
    >>> store.vectors(gen, "z")                     # (2000, 128) float32: the codes
    >>> cgen = generate_store("runs/cvae", "data/cgen", n=2000, like="data/faces")
    >>> cgen.labels("smile")                        # (2000,) conditions lent by data/faces

Decoded batches wait in a hidden sibling of ``out`` until the store is written, so the same
call after an interruption decodes only what is missing; the store is the one an
uninterrupted run writes.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from latentplay import store as st
from latentplay import train
from latentplay.errors import UserError
from latentplay.models.condition import ConditionPart, ConditionSpec, class_names
from latentplay.models.stylegan2 import in_w
from latentplay.outputs import advancing, make_parents, progress_bar, replaced_whole, same_folder, warn
from latentplay.sources import GENERATED, MADE_UNDER
from latentplay.store.io import read_schema, sole_writer
from latentplay.store.schema import Attribute, Provenance, Schema, VectorColumn, check_column_name
from latentplay.train.api import has_prior, prior_draws

PathLike = str | os.PathLike[str]


def samples_of(store: st.Store, run: PathLike) -> bool:
    """Whether ``store`` was written by ``latentplay data generate`` from run directory
    ``run``: its images are that run's decodings, in the frame it decodes to."""
    prov = store.schema.provenance
    return prov.converter == GENERATED and Path(prov.source).resolve() == Path(run).resolve()


def generate_store(run: PathLike, out: PathLike, n: int, *, seed: int = 0,
                   condition: Mapping[str, Any] | None = None, like: PathLike | None = None,
                   column: str = "z", batch_size: int = 256, overwrite: bool = False,
                   progress: bool = False) -> st.Store:
    """Decode ``n`` prior draws of ``run`` into a new store at ``out`` (a plain autoencoder's
    from the mean and SD of its encoded training set: :func:`latentplay.train.api.prior_draws`).

    Args:
        run: a trained run directory (any model with a decoder or generator).
        out: the new store's directory.
        n: number of images.
        seed: seed of the draws (and of the rows ``like`` lends its conditions from).
        condition: a conditional run's condition for every row (``{attribute: value}``).
        like: instead, a store whose random rows lend each image their condition values
            (its attributes of the condition's names; classes matched by name); not ``out``.
        column: name of the vector column of codes.
        batch_size: images decoded and written at a time.
        overwrite: replace an existing store at ``out``.
        progress: show a progress bar on stderr.

    Returns:
        The store: ``image``, the condition attributes and ``column`` ``(n, latent_dim)``; its
        provenance's ``source`` is the run and its ``arguments`` hold these arguments (``like``
        as an absolute path), ``run_sha256``, the SHA-256 of the run's weights its
        ``model.json`` records (None when it records none; stores written before it was
        recorded lack the key) and, for a plain autoencoder, ``draws``: what its codes were
        drawn from.
    """
    if n < 1:
        raise UserError(f"--n must be at least 1, got {n}")
    if like is not None and same_folder(like, out):
        raise UserError(f"--out {out} is the --like store; write the samples somewhere else")
    check_column_name(column)
    model = train.load_model(run)
    parts: list[ConditionPart] = list(model.condition_spec.parts)
    rng = np.random.default_rng(seed)
    values = _conditions(parts, n, condition, like, rng)
    z = prior_draws(model, rng, n)   # (n, latent_dim) float32: the codes decoded
    attributes = [Attribute(p.name, "categorical", names=class_names(p), ordered=p.ordered,
                            description=MADE_UNDER)
                  if p.kind == "categorical" else
                  Attribute(p.name, "continuous", range=p.range, description=MADE_UNDER)
                  for p in parts]
    if column in {a.name for a in attributes} | {"image"}:
        raise UserError(f"--column {column!r} is the name of another column")
    # the SHA-256 of the weights decoded (model.json's), so that a run retrained since is told apart
    sha = model.weights_sha256
    schema = Schema(
        attributes=attributes,
        provenance=Provenance(source=str(Path(run).absolute()), converter=GENERATED,
                              # plain Python values: NumPy scalars are no JSON for the schema
                              arguments={"n": int(n), "seed": int(seed),
                                         "condition": {k: v.item() if isinstance(v, np.generic) else v
                                                       for k, v in (condition or {}).items()},
                                         "like": str(Path(like).absolute()) if like else None,
                                         "column": column,
                                         "run_sha256": sha if isinstance(sha, str) else None,
                                         **({"draws": f"{_ae_draws()} (an autoencoder has no prior)"}
                                            if not has_prior(model) else {})},
                              counts={"rows": int(n)}),
        vectors=[VectorColumn(column, int(model.latent_dim),
                              f"{_code_kind(model)} the image was decoded from ({Path(run).name})")],
    )

    if not overwrite:
        _refuse_finished(out, schema.provenance)
    key = {"run": str(Path(run).absolute()), **schema.provenance.arguments, "batch_size": batch_size}
    scratch = _scratch_path(out)

    def batches() -> Iterator[dict[str, Any]]:
        _prepare(scratch, key)         # here, once build has accepted the target
        for b, start in enumerate(range(0, n, batch_size)):
            stop = min(start + batch_size, n)
            done = scratch / f"batch_{b:06d}.npz"
            if done.exists():
                pngs = _read_pngs(done)
            else:
                cond = {k: v[start:stop] for k, v in values.items()} or None
                images = train.decode(model, z[start:stop], condition=cond)
                pngs = [st.encode_png(im)["bytes"] for im in images]
                _write_pngs(done, pngs)
            yield {"image": [{"bytes": p, "path": None} for p in pngs],
                   column: list(z[start:stop]),
                   **{name: v[start:stop] for name, v in values.items()}}

    # a second generate into out would share the scratch batches (one with other settings wiped
    # them, and each read the other's): refused while this one runs (its lock beside out)
    make_parents(out, store=True)
    with (sole_writer(scratch, f"another data generate is writing {out}; wait for it or stop it"),
          progress_bar(show=progress) as bar):
        task = bar.add_task("generating", total=n)
        made = st.build(advancing(batches(), bar, task), schema, out, overwrite=overwrite)
        shutil.rmtree(scratch, ignore_errors=True)
    return made


def _refuse_finished(out: PathLike, made: Provenance) -> None:
    """A :class:`UserError` when ``out`` already is the store ``made`` describes (the same run
    and arguments, written whole): running the command again continues only a stopped one."""
    schema_file = Path(out) / st.SCHEMA_FILE
    if not schema_file.is_file():
        return
    try:
        earlier = read_schema(schema_file).provenance
    except UserError:
        return   # not a readable store: build's own checks name it
    if (earlier.converter, earlier.source, earlier.arguments) == (
            made.converter, made.source, made.arguments):
        raise UserError(f"{out} already holds these {made.arguments['n']:,} images, finished (the "
                        "same run and settings): nothing to continue; pass --overwrite to make "
                        "them again")


def _ae_draws() -> str:
    """What a plain autoencoder's codes are drawn from (read where needed: the figures' module
    loads matplotlib)."""
    from latentplay.train.figures import AE_DRAWS

    return AE_DRAWS


def _code_kind(model: Any) -> str:
    """What a run's prior draws are, for the column's description."""
    if in_w(model):
        return "whitened W code c ~ N(0, I) (w = w_mean + c @ w_basis)"
    if not has_prior(model):
        return f"code drawn from the {_ae_draws()} (an autoencoder has no prior)"
    return "prior draw z ~ N(0, I)"


def _scratch_path(out: PathLike) -> Path:
    """The hidden sibling of ``out`` where decoded batches wait for the store to be written,
    so an interrupted run continues where it stopped."""
    path = Path(out).absolute()
    return path.with_name(f".{path.name}.generating")


def _prepare(scratch: Path, key: Mapping[str, Any]) -> None:
    """Keep the batches in ``scratch`` when they were made with the same ``key`` (run, its
    weights, size, seed, conditions, batch size); else start it afresh."""
    manifest = scratch / "manifest.json"
    text = json.dumps(dict(key), sort_keys=True, default=str)
    if scratch.exists() and (not manifest.exists() or manifest.read_text(encoding="utf-8") != text):
        shutil.rmtree(scratch)
    scratch.mkdir(parents=True, exist_ok=True)
    manifest.write_text(text, encoding="utf-8")


def _write_pngs(path: Path, pngs: list[bytes]) -> None:
    """One batch's encoded images, written whole or not at all (temp file + rename)."""
    offsets = np.cumsum([0, *(len(p) for p in pngs)])
    with replaced_whole(path) as tmp, tmp.open("wb") as fh:
        np.savez(fh, data=np.frombuffer(b"".join(pngs), np.uint8), offsets=offsets)


def _read_pngs(path: Path) -> list[bytes]:
    with np.load(path, allow_pickle=False) as saved:
        data, offsets = saved["data"].tobytes(), saved["offsets"]
    return [data[a:b] for a, b in zip(offsets[:-1], offsets[1:], strict=True)]


def _conditions(parts: list[ConditionPart], n: int, condition: Mapping[str, Any] | None,
                like: PathLike | None, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Each row's condition: ``{attribute: (n,) class codes of the run or floats}`` (empty when
    the run is unconditional)."""
    names = [p.name for p in parts]
    if not parts:
        if condition or like:
            raise UserError("this run is not conditional; drop --condition and --like (condition=, "
                            "like=)")
        return {}
    if condition and like:
        raise UserError("give --condition or --like, not both (condition= or like= in Python)")
    if not condition and not like:
        example = ",".join(f"{p.name}={p.names[0] if p.names else 0}" for p in parts)
        raise UserError(f"the run is conditional on {', '.join(names)}: pass --condition "
                        f"{example} or --like STORE (conditions of its random rows; condition= or "
                        "like= in Python)")
    spec = ConditionSpec(parts)
    if condition:
        missing = [p for p in names if p not in condition]
        unknown = [k for k in condition if k not in names]
        if missing or unknown:
            raise UserError(f"--condition needs exactly {', '.join(names)}"
                            + (f"; unknown: {', '.join(unknown)}" if unknown else ""))
        # one row's condition, as a model reads it (values checked there), on every row
        matrix = np.tile(spec.vector(condition), (n, 1))
        _warn_beyond_training(parts, condition)
    else:
        source = st.load(like)  # type: ignore[arg-type]
        if len(source) == 0:
            raise UserError(f"--like {like} has no rows")
        # (len(source), dim) as training encodes a store: classes matched by name; a row
        # without a value (NaN, class code -1) or a class the run does not know is refused
        try:
            encoded = spec.encode_store(source)
        except UserError as err:
            raise UserError(f"--like {like}: {err}") from None
        matrix = encoded[rng.integers(0, len(source), n)]
    out, start = {}, 0
    for part in parts:
        block = matrix[:, start:start + part.size]  # the value, or the one-hot class
        out[part.name] = block[:, 0] if part.kind == "continuous" else block.argmax(1)
        start += part.size
    return out


def _warn_beyond_training(parts: list[ConditionPart], condition: Mapping[str, Any]) -> None:
    """A warning on stderr for each condition of ``condition`` outside the range the run was
    trained on, or of a class no row trained on held (decoded all the same: SmileCVAE samples
    beyond the range on purpose)."""
    from latentplay.latent.sampling import in_training_range

    for part in parts:
        if part.kind != "continuous":
            if not in_training_range(part, condition[part.name]):
                warn(f"warning: --condition {part.name}={condition[part.name]} is a class no "
                     "training row held: the images show what the run makes of a class it "
                     "never saw")
            continue
        if not in_training_range(part, float(condition[part.name])):
            lo, hi = part.range  # type: ignore[misc]
            warn(f"warning: --condition {part.name}={condition[part.name]} is outside the range "
                 f"the run was trained on ({lo:g}..{hi:g}): the images show what it makes of a "
                 "value it never saw")
