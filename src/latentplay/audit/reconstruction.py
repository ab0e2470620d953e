"""Whose faces a trained model redraws worse: reconstruction error per group.

An autoencoder that reconstructs some groups worse, or a generator whose inversions of their
photos miss more, carries that gap into everything built on its codes: edits, matching in the
latent space, probes. :func:`audit_reconstruction` encodes the photos of a store (or reads a
generator's inverted codes from a column, ``latentplay embed --with invert:RUN``), decodes
them, and measures per class of ``by``:

- ``mse``: the pixel mean squared error of the redrawing (pixels in 0-1, as the model sees
  the face): what an autoencoder's training lowers;
- ``unexplained``: that error over the photo's own pixel variance (``1 - R²`` of the
  redrawing on the photo): pixel errors are not alike across groups for reasons of the photos
  themselves (a dark or low-contrast face has less to get wrong, in pixels), and this share
  of the photo's own contrast that the redrawing misses does not move with its brightness or
  contrast. (The error over that of the run's average face, which decides ``failed``, is no
  measure to compare groups by: it is large for faces near the average, whose denominator is
  small: mid skin tones, on synthfaces);
- ``failed``: the share of photos redrawn hardly better than by the run's mean code, the
  generator's average face (:func:`~latentplay.latent.invert.failed`: an error above
  :data:`~latentplay.latent.invert.FAILED_SHARE` of the mean code's);
- with an identity ``embedder``, ``kept``: how much of the person the redrawing keeps
  (:func:`~latentplay.audit.identity.reconstruction_identity`: 1 the same face descriptor, 0 an
  unrelated person's).

Each mean has a 95 % interval from a bootstrap (over persons, each drawn with all of their
photos, where the store's ``identity`` repeats them), and a Kruskal-Wallis test per measure
says whether the groups differ (over each person's mean where persons repeat; where persons
have photos in several groups, a cluster-robust Wald test of equal means over the photos).

>>> found = audit_reconstruction("runs/vae", "data/faces", "skin_tone", "audits/recon")
>>> found["groups"]["monk_10"]["unexplained"], found["tests"]["unexplained"]["p_value"]
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import stats

from latentplay import store as st
from latentplay.clustered import MAX_CONTRASTS
from latentplay.errors import UserError
from latentplay.outputs import (
    finite_or_none,
    gaps_text,
    json_default,
    made_by,
    output_dir,
    refuse_nonempty,
    shell_word,
    staged_outputs,
    write_csv,
)
from latentplay.resample import clusters, mean_intervals
from latentplay.store.bias import repeated_persons
from latentplay.store.combine import group_codes, group_order
from latentplay.store.io import opened, store_digest
from latentplay.store.schema import group_places, trend_groups

if TYPE_CHECKING:
    import torch

FAILED_CAUTION = 0.5
"""Share of failed redrawings from which a run's comparison is cautioned."""
MEASURES = ("unexplained", "mse", "failed", "kept")
"""The per-photo measures, in the order of the report's table; each but ``failed`` (a share,
not a value per photo to rank) is tested across the groups."""

WORDS = {"mse": "pixel MSE", "unexplained": "variance missed", "failed": "failed",
         "kept": "identity kept"}
"""Each measure in a few words, for lines and tables."""

WORST = 4
"""Photos per group in ``worst_<by>.png``: those whose redrawing misses the most of them
(``unexplained``)."""

BATCH = 256
"""Photos read, encoded and decoded at a time: memory does not grow with the store."""


def audit_reconstruction(
    run: str | os.PathLike[str],
    store: st.Store | str | os.PathLike[str],
    by: str,
    out: str | os.PathLike[str],
    *,
    column: str | None = None,
    n: int | None = None,
    identity: str | None = None,
    seed: int = 0,
    device: str = "cpu",
    overwrite: bool = False,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Measure how well ``run`` redraws the photos of ``store``, per class of ``by`` (one
    categorical attribute, or several comma-separated for their intersections), and write
    ``reconstruction.json``, ``reconstruction_<by>.csv``, ``reconstruction_<by>.png`` (each
    group's means with their intervals) and ``worst_<by>.png`` (each group's photos redrawn
    worst, beside their redrawings) into the new directory ``out``.

    Args:
        run: a trained run with an encoder (its encoder means are the codes), or any run with
            ``column``.
        store: photos with the attribute(s) ``by``.
        column: a vector column of ``store`` holding ``run``'s codes of its photos (``embed
            --with invert:RUN``, or ``vae:RUN``); needed for a generator without an encoder.
        n: photos to measure, drawn at random (``seed``) from those with a group; default all.
        identity: a face embedder (``dlib``) that reads how much of each person the
            redrawing keeps.
        progress: called with the number of photos done after each batch.

    Returns:
        The summary (also ``reconstruction.json``): ``run``, ``data``, ``by``, ``codes``
        (``encoder`` or the column), ``photos``, ``persons`` (None where each photo is its own
        person), ``unknown_rows``, per group ``n`` and, per measure of :data:`MEASURES` it
        has, its mean and ``<measure>_low``/``<measure>_high``, the ``median_mse``, ``all``
        (the same over every group), ``tests`` (per measure but ``failed``, :func:`_across`:
        ``test``, ``statistic``, ``dof``, ``p_value``, ``units``, the ``worst`` and ``best``
        groups by their means: for ``kept`` the lowest is the worst, and for ordered groups
        the ``trend``: ``slope`` per step of the attribute's order with ``low`` and ``high``,
        the ``groups`` it was fitted on and the ``gaps`` between them, classes without photos
        that still count a step), ``worst_rows``.
    """
    from latentplay import train
    from latentplay.devices import resolve_device
    from latentplay.latent.codes import check_column_of_run

    device = resolve_device(device, "--device")
    store = opened(store)
    model = train.load_model(run, device)
    if column is None and not model.has_encoder:
        raise UserError(f"{run} has no encoder: give --column, a column of its codes of these photos "
                        f"(`latentplay embed {shell_word(store.path)} --with invert:{run} --column z`)")
    caution = None if column is None else check_column_of_run(store, column, model, Path(run))
    names, codes, ordered = group_codes(store, by)
    rows = np.flatnonzero(codes >= 0)
    if n is not None:
        if n < 1:
            raise UserError(f"--n must be at least 1, got {n}")
        rows = np.sort(np.random.default_rng(seed).choice(rows, min(n, len(rows)), replace=False))
    if not len(rows):
        raise UserError(f"no photo of {store.path} has a class of {by}")
    refuse_nonempty(out, overwrite)   # before the photos are redrawn, not after
    reader = None
    if identity is not None:
        from latentplay.audit.identity import identity_embedder

        reader = identity_embedder(identity)
    values = _measured(model, store, rows, column, reader, device, progress)
    persons = repeated_persons(store)
    units = rows if persons is None else persons[rows]
    found = {"run": str(run), "data": str(store.path), "data_digest": store_digest(store),
             "by": by, "ordered": ordered,
             "codes": "encoder" if column is None else column, "photos": int(len(rows)),
             "persons": None if persons is None else int(len(np.unique(units))),
             "unknown_rows": int(np.sum(codes < 0)), "identity": identity, "seed": seed,
             **({} if caution is None else {"caution": caution})}
    found.update(_by_group(values, codes[rows], names, units, persons is not None, ordered, seed,
                           group_order(store, by) if ordered else None))
    failing = found["all"]["failed"]
    if failing is not None and failing >= FAILED_CAUTION:
        said = f"caution: {100 * failing:.0f} % of the photos are redrawn hardly better than " \
               "by the run's average face: the groups' errors measure how far their photos lie " \
               "from that face more than how the model redraws them"
        found["caution"] = f"{found['caution']} {said}" if found.get("caution") else said
    missed = values["unexplained"]
    worst = {name: rows[_worst(missed, codes[rows] == names.index(name))] for name in found["groups"]}
    found["worst_rows"] = {name: picked.tolist() for name, picked in worst.items()}
    with staged_outputs(output_dir(out, overwrite)) as stage:   # moved in once all are written
        _write(stage, found, model, store, column, device,
               dict(zip(rows.tolist(), missed.tolist(), strict=True)))
    return found


def _worst(missed: np.ndarray, members: np.ndarray) -> np.ndarray:
    """Indices of the :data:`WORST` photos among ``(n,)`` bool ``members`` whose redrawing
    misses the most of them (``missed``: ``(n,)`` ``unexplained``; NaN last; ties in row order)."""
    index = np.flatnonzero(members)
    return index[np.argsort(-np.nan_to_num(missed[index], nan=-1.0), kind="stable")][:WORST]


def _measured(model: torch.nn.Module, store: st.Store, rows: np.ndarray, column: str | None,
              reader: Any, device: str, progress: Callable[[int], None] | None
              ) -> dict[str, np.ndarray]:
    """Each ``(n,)`` measure of :data:`MEASURES` of the photos of ``rows`` (``kept`` only with
    a face ``reader``), read and redrawn :data:`BATCH` at a time."""
    from latentplay.latent.codes import row_conditions
    from latentplay.latent.invert import failed, mean_code, reconstruction_loss
    from latentplay.store.images import load_image_list  # of any sizes: model_input fits them
    from latentplay.train import model_input

    centre = mean_code(model)
    mse, reference, spread, kept = (np.empty(len(rows)) for _ in range(4))
    for start in range(0, len(rows), BATCH):
        part = slice(start, start + BATCH)
        framed = model_input(model, load_image_list(store, rows[part]))   # as the model sees them
        cond = row_conditions(model, store, rows[part])
        z = _codes(model, store, column, rows[part], framed, cond, device)
        mse[part] = reconstruction_loss(model, z, framed, cond, cropped=True, device=device)
        reference[part] = reconstruction_loss(model, centre, framed, cond, cropped=True, device=device)
        spread[part] = (framed.reshape(len(framed), -1) / 255.0).var(axis=1)
        if reader is not None:
            kept[part] = _kept(reader, model, z, framed, cond, device)
        if progress is not None:
            progress(len(framed))
    with np.errstate(divide="ignore", invalid="ignore"):
        unexplained = np.where(spread > 0, mse / spread, np.nan)
    return {"mse": mse, "unexplained": unexplained, "failed": failed(mse, reference).astype(float),
            **({} if reader is None else {"kept": kept})}


def _by_group(values: dict[str, np.ndarray], group: np.ndarray, names: list[str],
              units: np.ndarray, persons: bool, ordered: bool, seed: int,
              classes: list[str] | None = None) -> dict[str, Any]:
    """``groups`` (each present group's :func:`_means`), ``all`` and ``tests`` (per measure
    but ``failed``: :func:`_kruskal`, the worst and best groups, and along ordered groups
    :func:`_trend`, each group at its place among the ``classes`` of the order, default
    ``names``) of the ``(n,)`` ``values`` of photos in ``(n,)`` groups ``group``."""
    present = [k for k in range(len(names)) if np.any(group == k)]
    groups = {names[k]: _means(values, group == k, units, seed) for k in present}
    position = group_places(names, classes)[group]          # (n,) each photo's place in the order
    tests: dict[str, Any] = {}
    for measure in MEASURES:
        if measure == "failed" or measure not in values:
            continue
        tests[measure] = _across([values[measure][group == k] for k in present],
                                 [units[group == k] for k in present], persons)
        means = {name: g[measure] for name, g in groups.items() if g[measure] is not None}
        if tests[measure] is not None and means:
            order = sorted(means, key=means.get, reverse=measure != "kept")  # kept: lowest worst
            tests[measure].update(worst=order[0], best=order[-1])
            if ordered:
                tests[measure]["trend"] = _trend(values[measure], position, classes or names,
                                                 units, seed)
    return {"groups": groups, "all": _means(values, np.ones(len(group), bool), units, seed),
            "tests": tests}


def _codes(model: torch.nn.Module, store: st.Store, column: str | None, rows: np.ndarray,
           framed: np.ndarray, cond: np.ndarray | None, device: str) -> np.ndarray:
    """``(n, D)`` codes of ``rows``: encoder means of their photos ``framed`` as the model sees
    them without ``column``, else the column's vectors (a row without a code is refused,
    naming how many)."""
    from latentplay.train import encode

    if column is None:
        return encode(model, framed, condition=cond, device=device, cropped=True)
    z = st.vectors(store, column, rows)
    if not np.isfinite(z).all():
        raise UserError(f"column {column!r} has no code for {int((~np.isfinite(z).all(axis=1)).sum())} "
                        "of the photos (rows the embedder failed on): embed them again or leave them out")
    return z


def _kept(reader: Any, model: torch.nn.Module, z: np.ndarray, framed: np.ndarray,
          cond: np.ndarray | None, device: str) -> np.ndarray:
    """``(n,)`` share of each person the redrawing keeps (NaN where no face was read) of
    photos ``framed`` as the model sees them."""
    from latentplay.audit.identity import reconstruction_identity
    from latentplay.train import decode

    read = reconstruction_identity(reader, framed, decode(model, z, condition=cond, device=device))
    return np.array([np.nan if v is None else v for v in read["kept"]], np.float64)


def _means(values: dict[str, np.ndarray], rows: np.ndarray, units: np.ndarray, seed: int
           ) -> dict[str, Any]:
    """A group's ``n``, each measure's mean with its 95 % bootstrap interval (over the
    ``units`` of its ``rows``), and its median pixel error."""
    names = list(values)
    table = np.stack([values[m][rows] for m in names], axis=1)                    # (n, M)
    # failed is a share: its interval no narrower than Wilson's (not [1, 1])
    bounds = mean_intervals(table, units[rows], 1000, seed,
                            proportion=[name == "failed" for name in names])
    out: dict[str, Any] = {"n": int(rows.sum())}
    for j, name in enumerate(names):
        read = table[np.isfinite(table[:, j]), j]
        out[name] = finite_or_none(read.mean()) if len(read) else None
        out[f"{name}_low"], out[f"{name}_high"] = (finite_or_none(b) for b in bounds[j])
    out["median_mse"] = finite_or_none(np.median(values["mse"][rows]))
    return out


def _across(measured: list[np.ndarray], units: list[np.ndarray], persons: bool
            ) -> dict[str, Any] | None:
    """Whether the groups' ``measured`` values differ: a Kruskal-Wallis test over the photos,
    or where persons repeat over each person's mean in the group (a person's photos are not
    independent); where persons have photos in several groups, whose means in each would agree
    and make that test blind (it would take them as independent), a cluster-robust Wald test
    of equal means over the photos instead (:func:`latentplay.clustered.clustered_means_test`),
    which compares a person's photos across the groups. None with fewer than two groups of
    values.

    Returns:
        ``test`` (``kruskal`` or ``wald``), ``statistic``, ``dof`` (and a Wald test's ``ddf``
        and ``spanning``, the persons in several groups), ``p_value``, ``units``.
    """
    from latentplay.clustered import clustered_means_test

    read = [np.isfinite(values) for values in measured]
    measured = [values[r] for values, r in zip(measured, read, strict=True) if r.any()]
    units = [who[r] for who, r in zip(units, read, strict=True) if r.any()]
    if len(measured) < 2 or len({float(v) for s in measured for v in s}) < 2:
        return None
    spanning = 0
    if persons:
        seen = np.concatenate([np.unique(who) for who in units])
        spanning = int((np.unique(seen, return_counts=True)[1] > 1).sum())
    if spanning:
        group = np.repeat(np.arange(len(measured)), [len(v) for v in measured])
        wald = clustered_means_test(np.concatenate(measured), group, np.concatenate(units))
        if wald is None:
            return None
        return {"test": "wald", "statistic": wald["statistic"], "dof": wald["ndf"],
                "ddf": wald["ddf"], "p_value": wald["p_value"], "units": "persons",
                "spanning": spanning}
    if persons:
        measured = [_person_means(values, who) for values, who in zip(measured, units, strict=True)]
    statistic, p = stats.kruskal(*measured)
    return {"test": "kruskal", "statistic": float(statistic), "dof": len(measured) - 1,
            "p_value": float(p), "units": "persons" if persons else "photos"}


def _person_means(values: np.ndarray, who: np.ndarray) -> np.ndarray:
    """``(P,)`` each of the ``P`` persons' mean of ``(n,)`` ``values`` of photos of ``who``."""
    index, k = clusters(who)
    return np.bincount(index, weights=values, minlength=k) / np.bincount(index, minlength=k)


NO_TEST = ("no test (fewer than two groups of values that differ; with persons in several groups, "
           "also a group all of one person's photos, no spread within persons, or over "
           f"{MAX_CONTRASTS + 1:,} groups)")
"""What :func:`across_text` says of a measure without a test across the groups."""


def across_text(test: dict[str, Any] | None) -> str:
    """A measure's test across the groups (an entry of the summary's ``tests``; None:
    :data:`NO_TEST`) in words:
    ``Kruskal-Wallis 10.14 on 9 dof over photos, p 0.339; worst monk_2, best monk_7; along the
    order -0.005 per step [-0.0078, -0.0019]`` (the last part for ordered groups); a Wald test
    over persons in several groups reads ``Wald F 4.10 on 2 and 39 dof over persons (40 in
    several groups; cluster-robust test of equal means), p 0.0244; ...``."""
    from latentplay.outputs import p_text

    if test is None:
        return NO_TEST

    def step(value: float | None) -> str:
        return "-" if value is None else f"{value:+.2g}"

    trend = test.get("trend")
    if test.get("test") == "wald":
        how = (f"Wald F {test['statistic']:.2f} on {test['dof']} and {test['ddf']} dof over persons "
               f"({test['spanning']} in several groups; cluster-robust test of equal means)")
    else:
        how = f"Kruskal-Wallis {test['statistic']:.2f} on {test['dof']} dof over {test['units']}"
    return (f"{how}, p {p_text(test['p_value'], 3)}; worst {test['worst']}, best {test['best']}" + (
                "" if trend is None else f"; along the order{gaps_text(trend.get('gaps'))} "
                f"{step(trend['slope'])} per step [{step(trend['low'])}, {step(trend['high'])}]"))


def _trend(values: np.ndarray, position: np.ndarray, order: list[str], units: np.ndarray,
           seed: int) -> dict[str, Any]:
    """How ``(n,)`` per-photo ``values`` change along ordered groups: the least-squares slope
    per step on each photo's ``(n,)`` ``position`` (its group's place among the classes of
    ``order``), with its 95 % interval over resamples of ``units``
    (:func:`~latentplay.metrics.verification.rate_trend`), the ``groups`` it was fitted on
    and the ``gaps`` between them."""
    from latentplay.metrics.verification import rate_trend

    read = np.isfinite(values)
    trend = rate_trend(values[read], position[read], units[read], seed=seed)
    return {**{key: finite_or_none(trend[key]) for key in ("slope", "low", "high")},
            **trend_groups(order, np.unique(position[read]))}


def _write(out: Path, found: dict[str, Any], model: torch.nn.Module, store: st.Store,
           column: str | None, device: str, missed: dict[int, float]) -> None:
    """``reconstruction.json``, the CSV, the bars and ``found``'s ``worst_rows`` of each group
    beside their redrawings (``missed``: each row's ``unexplained``, for their captions)."""
    from latentplay.latent.codes import row_conditions
    from latentplay.store.images import load_image_list
    from latentplay.train import decode, model_input
    from latentplay.viz.grid import save_figure
    from latentplay.viz.reconstruction import reconstruction_bars, worst_grid

    slug = found["by"].replace(",", "_")
    write_csv(out / f"reconstruction_{slug}.csv",
              [{"group": name, **g} for name, g in [*found["groups"].items(), ("all", found["all"])]],
              floats=".6g")
    save_figure(reconstruction_bars(found), out / f"reconstruction_{slug}.png")
    chosen = np.array([r for picked in found["worst_rows"].values() for r in picked], np.int64)
    framed = model_input(model, load_image_list(store, chosen))
    cond = row_conditions(model, store, chosen)
    redrawn = decode(model, _codes(model, store, column, chosen, framed, cond, device),
                     condition=cond, device=device)
    pairs, start = [], 0
    for name, picked in found["worst_rows"].items():
        stop = start + len(picked)
        pairs.append((name, framed[start:stop], redrawn[start:stop],
                      np.array([missed[r] for r in picked]), np.array(picked)))
        start = stop
    save_figure(worst_grid(pairs, found["by"]), out / f"worst_{slug}.png")
    (out / "reconstruction.json").write_text(json.dumps({**found, "made_by": made_by()}, indent=1,
                                                        default=json_default),
                                             encoding="utf-8")
