"""Latent codes and conditions of a store's images, and condition vectors by attribute name."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from latentplay.errors import UserError
from latentplay.reprs import short_repr
from latentplay.store import load_images
from latentplay.store.io import Store, opened
from latentplay.train.api import PathLike, as_model, encode


def condition_vector(model: torch.nn.Module, values: Mapping[str, Any] | None) -> np.ndarray | None:
    """``(K,)`` condition of a conditional model from ``{attribute: value}``; None for an
    unconditional model (which must get no values)."""
    spec = model.condition_spec  # type: ignore[attr-defined]
    if not spec.dim:
        if values:
            raise UserError("this model is not conditional; pass no condition")
        return None
    return spec.vector(dict(values or {}))


@dataclass
class StoreCodes:
    """Codes of some rows of a store.

    Attributes:
        rows: ``(n,)`` row indices.
        images: ``(n, H, W, C)`` uint8, the store's images of those rows (a list of ``(H, W,
            C)`` arrays where they differ in size: :func:`stored_images`).
        z: ``(n, D)`` float32 codes (encoder means, or inverted codes for a generator).
        condition: ``(n, K)`` float32 conditions read from the store's attributes, or None
            for an unconditional model.
        loss: ``(n,)`` pixel MSE of inverted codes (found now, or read from an
            ``invert:RUN`` column), or None for encoder means and a sample's own codes.
        reference: ``(n,)`` pixel MSE of the run's mean code on the same faces
            (:func:`~latentplay.latent.invert.mean_code`) beside ``loss``, else None.
        source: where the codes come from: ``generated`` (a store of the run's samples: the
            codes they were drawn from), ``column`` (a vector column of this run's codes),
            ``inverted`` (optimised now) or ``encoder`` (encoder means).
        column: the column of ``generated`` or ``column`` codes, else None.
        settings: the inversion's ``steps``, ``restarts`` and ``seed`` (``inverted``), else {}.
    """

    __repr__ = short_repr

    rows: np.ndarray
    images: np.ndarray | list[np.ndarray]
    z: np.ndarray
    condition: np.ndarray | None
    loss: np.ndarray | None = None
    reference: np.ndarray | None = None
    source: str = "encoder"
    column: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> np.ndarray:
        """``(n,)`` bool: faces whose codes redraw them hardly better than the mean code (a
        failed inversion, :func:`~latentplay.latent.invert.failed`); all False for encoded codes."""
        from latentplay.latent.invert import failed

        return np.zeros(len(self.rows), bool) if self.loss is None else failed(self.loss, self.reference)

    def framed(self, model: torch.nn.Module) -> np.ndarray:
        """``(n, S, S, C)`` uint8: the faces as ``model`` sees them
        (:func:`~latentplay.train.model_input`); a store of this run's own samples holds them
        in that frame already, so they are not cropped again."""
        from latentplay.train import model_input

        return model_input(model, self.images, cropped=self.source == "generated")

    def record(self) -> dict[str, Any]:
        """What a command's JSON says of the codes: ``codes`` (source, column, inversion
        settings) and, for inverted codes, ``inversion_loss``, ``mean_code_loss`` (per face)
        and ``inversion`` (:func:`~latentplay.latent.invert.loss_summary`)."""
        from latentplay.latent.invert import loss_summary

        out: dict[str, Any] = {"codes": {"source": self.source, "column": self.column, **self.settings},
                               "inversion_loss": None if self.loss is None else self.loss.tolist()}
        if self.loss is not None:
            out["mean_code_loss"] = None if self.reference is None else self.reference.tolist()
            out["inversion"] = loss_summary(self.loss, self.reference)
        return out

    def captions(self, first: str = "original") -> list[str]:
        """One caption per face: ``first`` and, for inverted codes, their MSE beside the mean
        code's (:func:`~latentplay.latent.invert.loss_caption`)."""
        from latentplay.latent.invert import loss_caption

        if self.loss is None:
            return [first] * len(self.rows)
        refs = [None] * len(self.loss) if self.reference is None else self.reference.tolist()
        return [f"{first}\n{loss_caption(v, r)}".lstrip("\n")
                for v, r in zip(self.loss.tolist(), refs, strict=True)]

    def cautions(self) -> list[str]:
        """A caution line when some faces' inversions failed (empty otherwise)."""
        from latentplay.latent.invert import loss_lines, loss_summary

        if self.loss is None or not self.failed.any():
            return []
        line = loss_lines(loss_summary(self.loss, self.reference), "faces")[-1]
        rows = ", ".join(str(r) for r in self.rows[self.failed][:10])
        return [f"{line} (rows {rows}{' ...' if self.failed.sum() > 10 else ''})"]

    def title_note(self) -> str:
        """``; inversion failed for k of n faces (their MSE near the mean code's)`` when some
        did, else empty: the figure says what the printed caution says."""
        k = int(self.failed.sum())
        return "" if not k else (f"; inversion failed for {k} of {len(self.rows)} faces (codes redraw "
                                 "them hardly better than the run's mean code)")


def checked_rows(store: Store, rows: Sequence[int]) -> np.ndarray:
    """``(n,)`` int64 row indices; a :class:`UserError` when none is given or one is out of
    range."""
    rows_arr = np.asarray(list(rows), dtype=np.int64)
    if len(rows_arr) == 0:
        raise UserError("select at least one row")
    bad = rows_arr[(rows_arr < 0) | (rows_arr >= len(store))]
    if len(bad):
        raise UserError(f"rows {bad[:5].tolist()} out of range; the store has {len(store)} rows")
    return rows_arr


def row_conditions(model: torch.nn.Module, store: Store, rows: np.ndarray) -> np.ndarray | None:
    """``(n, K)`` conditions of store ``rows`` read from its attributes (classes matched by
    name); None for an unconditional model."""
    spec = model.condition_spec  # type: ignore[attr-defined]
    return spec.encode_store(store)[rows] if spec.dim else None


def encode_rows(model: torch.nn.Module, store: Store, rows: np.ndarray, batch_size: int = 512,
                device: str = "cpu") -> np.ndarray:
    """``(n, D)`` float32 encoder means of store ``rows`` (each with its own condition), read
    ``batch_size`` images at a time, so memory does not grow with the store."""
    from latentplay.embed.column import load_rows

    cond = row_conditions(model, store, rows)
    out = [encode(model, load_rows(store, rows[s:s + batch_size]), device=device,
                  condition=None if cond is None else cond[s:s + batch_size])
           for s in range(0, len(rows), batch_size)]
    return np.concatenate(out) if out else np.zeros((0, model.latent_dim), np.float32)


def generated_codes(model: torch.nn.Module, store: Store, rows: np.ndarray) -> np.ndarray | None:
    """``(n, D)`` codes the images of ``rows`` of ``store`` were decoded from, when it was
    written by ``latentplay data generate`` from the run ``model`` was loaded from, with the
    weights it has now (a run retrained since decodes those codes to other images); else None.
    A store written before it recorded the weights' SHA-256 is taken for one of these weights
    when ``model`` decodes its codes to its images (:func:`_decodes_to`)."""
    from latentplay.latent.directions import run_sha256
    from latentplay.sources.generated import samples_of
    from latentplay.store.columns import vectors

    prov = store.schema.provenance
    column = prov.arguments.get("column")
    run_dir = getattr(model, "run_dir", None)
    if run_dir is None or column not in store.columns or not samples_of(store, run_dir):
        return None
    recorded = prov.arguments.get("run_sha256")
    if recorded is not None and recorded != run_sha256(run_dir):
        return None
    codes = vectors(store, column, rows)
    if recorded is None and not _decodes_to(model, store, rows, codes):
        return None
    return codes


def _decodes_to(model: torch.nn.Module, store: Store, rows: np.ndarray, codes: np.ndarray) -> bool:
    """Whether ``model`` decodes ``(n, D)`` ``codes`` (each row with its condition) to the
    images of ``rows`` of ``store``, within :data:`DECODED_RMS` grey levels."""
    from latentplay.train.api import decode

    device = next(model.parameters()).device
    decoded = decode(model, codes, row_conditions(model, store, rows), device=str(device))
    stored = load_images(store, rows)
    if stored.shape != decoded.shape:
        return False
    return bool(np.sqrt(np.mean((stored.astype(np.float64) - decoded) ** 2)) <= DECODED_RMS)


DECODED_RMS = 2.0
"""RMS difference, in grey levels (0-255), within which a run's decoding of a store's codes is
its images: a stored image is the decoding itself, rounded alike (another device may move a
level or so); a run trained since draws other faces."""


def store_codes(model: torch.nn.Module | PathLike, store: Store | PathLike, rows: Sequence[int],
                invert_steps: int = 300, seed: int = 0, device: str = "cpu",
                per_layer: bool = False, restarts: int = 4, columns: bool = False,
                prefer: str | None = None, reinvert: bool = False) -> StoreCodes:
    """Codes of ``rows`` of ``store``, in this order of preference:

    1. the codes the images were decoded from when ``store`` holds this model's own samples
       (:func:`generated_codes`);
    2. with ``columns``, a vector column of ``store`` holding this run's codes
       (:func:`run_column`): ``prefer`` (e.g. the column a direction was fitted on) when it
       does, else, for a generator, the latest ``invert:RUN`` column of this run (so that an
       edit starts from the codes its direction was fitted on rather than from another
       inversion); the pixel MSE of inverted codes is measured again
       (:func:`~latentplay.latent.invert.reconstruction_loss`);
    3. encoder means for models with an encoder;
    4. optimised codes (:func:`latentplay.latent.invert.invert`, ``invert_steps`` steps,
       ``restarts`` random starts, ``seed``) for a generator.

    ``reinvert`` skips 1 and 2 and inverts (any model). A conditional model gets each row's
    own condition from the store's attributes. ``per_layer``: a StyleGAN2's W+ codes ``(n,
    n_layers * D)`` (a sample's own code at every layer). ``store`` may be given by its path."""
    store = opened(store)
    model = as_model(model, device)
    from latentplay.latent.invert import codes_per_image, invert, mean_code, reconstruction_loss
    from latentplay.store.columns import vectors

    layers = codes_per_image(model, per_layer)  # an encoder's model has no W+ either
    rows_arr = checked_rows(store, rows)
    images = stored_images(store, rows_arr)
    cond = row_conditions(model, store, rows_arr)
    if not reinvert:
        drawn = generated_codes(model, store, rows_arr)
        if drawn is not None:
            return StoreCodes(rows_arr, images, np.tile(drawn, (1, layers)), cond, source="generated",
                              column=store.schema.provenance.arguments.get("column"))
        column = run_column(store, model, model.latent_dim * layers, prefer) if columns else None
        z = None if column is None else vectors(store, column, rows_arr)
        if z is not None and np.isfinite(z).all():  # a row the embedder failed on: found again
            if not _inverted(store, str(column)):  # encoder means, or a sample's own codes
                return StoreCodes(rows_arr, images, z, cond, source="column", column=column)
            loss = reconstruction_loss(model, z, images, cond, device=device)
            reference = reconstruction_loss(model, np.tile(mean_code(model), layers), images, cond,
                                            device=device)
            return StoreCodes(rows_arr, images, z, cond, loss, reference, "column", column)
    if reinvert or not model.has_encoder:
        result = invert(model, images, condition=cond, steps=invert_steps, restarts=restarts,
                        seed=seed, device=device, per_layer=per_layer)
        return StoreCodes(rows_arr, images, result.z, cond, result.loss, result.reference_loss,
                          "inverted", settings={"steps": invert_steps, "restarts": restarts, "seed": seed})
    z = encode(model, images, condition=cond, device=device)
    return StoreCodes(rows_arr, images, z, cond)


def stored_images(store: Store, rows: np.ndarray) -> np.ndarray | list[np.ndarray]:
    """The images of ``rows`` as stored: ``(n, H, W, C)`` uint8, or where they differ in size
    (photos converted without ``--resize``) a list of ``(H, W, C)`` uint8, which the model's
    encoder and inversion fit to it one by one."""
    from latentplay.store.images import load_image_list

    images = load_image_list(store, rows)
    return np.stack(images) if len({im.shape for im in images}) == 1 else images


def run_column(store: Store, model: torch.nn.Module, dim: int, prefer: str | None = None) -> str | None:
    """The vector column of ``store`` whose ``dim``-value codes were made by ``model``'s run
    (:func:`~latentplay.latent.directions.column_run`: the same weights, or the same run
    directory where no weights were recorded): ``prefer`` when it is one, else, for a model
    without an encoder, the latest ``latentplay embed --with invert:RUN`` column of the run;
    None when there is none."""
    from latentplay.embed.column import embed_entry

    dims = {v.name: v.dim for v in store.schema.vectors}
    if prefer is not None and dims.get(prefer) == dim and _made_by(store, prefer, model):
        return prefer
    if model.has_encoder:
        return None
    for entry in reversed(store.schema.history):
        name = entry.get("column")
        if (entry.get("op") == "embed" and dims.get(name) == dim and embed_entry(store, name) is entry
                and _inverted(store, name) and _made_by(store, name, model)):
            return str(name)
    return None


def _inverted(store: Store, column: str) -> bool:
    """Whether ``column`` of ``store`` was made by ``latentplay embed --with invert:RUN``."""
    from latentplay.embed.column import embed_entry

    entry = embed_entry(store, column)
    return entry is not None and str(entry.get("embedder", "")).startswith("invert:")


def _made_by(store: Store, column: str, model: torch.nn.Module) -> bool:
    """Whether vector ``column`` of ``store`` holds codes of ``model``'s run."""
    return column_of_run(store, column, model) is True


def column_of_run(store: Store, column: str, model: torch.nn.Module) -> bool | None:
    """Whether vector ``column`` of ``store`` holds codes of ``model``'s run
    (:func:`~latentplay.latent.directions.column_run`): True for the same weights read in the
    same code space (or the same run directory where no weights were recorded), False for
    another run's codes (an import of the same generator in the other space, ``w`` or ``z``,
    included), None when the column names no run (or ``model`` has no run directory)."""
    from latentplay.latent.directions import column_run, other_code_space, run_sha256

    run_dir = getattr(model, "run_dir", None)
    run, sha = column_run(store, column)
    if run is None or run_dir is None:
        return None
    here = run_sha256(run_dir)
    if sha is not None and here is not None:
        return bool(sha == here) and not other_code_space(run, run_dir)
    return Path(run).resolve() == Path(run_dir).resolve()


def check_column_of_run(store: Store, column: str, model: torch.nn.Module, run: Path) -> str | None:
    """A :class:`UserError` when vector ``column`` of ``store`` holds another run's codes
    (:func:`column_of_run`), which mean nothing in ``model``'s latent (``run``: its directory,
    for the message); a caution line when the column names no run; else None."""
    from latentplay.latent.directions import column_run

    made = column_of_run(store, column, model)
    if made is False:
        other, _ = column_run(store, column)
        raise UserError(f"column {column!r} holds codes of run {other}, not of {run} (other weights, "
                        f"or another code space): embed the faces with `latentplay embed STORE --with "
                        f"invert:{run}` and give that column")
    if made is None:
        return (f"caution: column {column!r} holds no known run's codes; they mean something "
                f"here only if they are {run}'s")
    return None
