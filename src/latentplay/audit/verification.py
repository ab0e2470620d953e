"""What ``latentplay audit verify`` writes: how well an embedding column verifies identities,
group by group, and how far its errors differ between groups at one threshold.

Pairs come from the store's ``pairs.csv`` (RFW's protocol pairs, written by ``latentplay data
convert rfw``), from another file of ``row_a, row_b, same`` rows, or are drawn from an
``identity`` attribute: per group, as many genuine pairs (two photos of one person) as impostor
pairs (two people of the same group, as RFW pairs them), ``n`` of each or as many as the group
allows. A pair belongs to a group when both its faces do. Accuracy is balanced (genuine and
impostor pairs weigh alike), so a pairs file with unequal numbers of each does not tilt it.

Rows the embedder flagged (e.g. no face found by dlib, which then embedded the whole image)
are left out by default and counted per group: a detector that fails more often on one group
is a differential of its own.

Outputs in ``out``: ``verification.json`` (the options, the threshold, per group the measures
of :mod:`latentplay.metrics.verification`, the differentials, which groups hold unequal numbers
of genuine and impostor pairs: ``unbalanced``), ``verification.csv`` (one row
per group), ``scores.csv`` (every pair with its distance), ``det.png``, ``scores.png``,
``rates.png`` and, for a store with images, ``hardest.png`` (each group's closest impostor and
farthest genuine pairs; with more than :data:`HARDEST_GROUPS` groups, those with the most errors
at the common threshold, the others named in the figure and under ``hardest`` in the JSON);
with ``adjust``, ``adjusted.csv`` (each group's FNMR standardized over strata of measured
covariates, also under ``adjusted`` in the JSON). When ``by`` is one
ordered attribute (Monk skin tones, ITA skin groups, binned ages), ``trend`` in the JSON holds
how FMR and FNMR change per group step along its order, with intervals over persons.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from latentplay import store as st
from latentplay.audit.parity import own_spread, range_interval
from latentplay.audit.standardize import strata_frame, stratified_rates
from latentplay.clustered import pair_rate_interval
from latentplay.errors import UserError
from latentplay.intervals import wilson_interval
from latentplay.metrics.verification import (
    differentials,
    fold_problem,
    pair_distances,
    rate_trend,
    rates,
    ratio,
    slope_interval,
    threshold_at_fmr,
    verification,
)
from latentplay.outputs import (
    counted,
    finite_or_none,
    finite_or_none_within,
    first_named,
    json_default,
    made_by,
    output_dir,
    staged_outputs,
)
from latentplay.resample import cluster_sums, resampled
from latentplay.store.bias import own_persons, person_attribute, person_codes, repeated_persons
from latentplay.store.io import opened, store_digest
from latentplay.store.schema import UNKNOWN, class_places, trend_groups

PathLike = str | os.PathLike[str]
ALL = "all pairs"
ACCURACY_MEASURE = ("balanced: 1 - (FMR + FNMR) / 2, genuine and impostor pairs weighing alike "
                    "however many there are of each")


@dataclass(frozen=True)
class Pairs:
    """Face pairs of a store: rows ``a`` and ``b`` ``(P,)`` int64, ``same`` ``(P,)`` bool
    (genuine: one person), from a file with a ``fold`` column the protocol's ``(P,)`` int64
    ``fold`` of each pair (else None) and the file's ``fold_names`` of those codes, and from a
    file the ``(P,)`` int64 ``line`` each pair stands on (else None)."""

    a: np.ndarray
    b: np.ndarray
    same: np.ndarray
    fold: np.ndarray | None = None
    line: np.ndarray | None = None
    fold_names: tuple[str, ...] | None = None

    def __len__(self) -> int:
        return len(self.a)

    def take(self, keep: np.ndarray) -> Pairs:
        """The pairs where ``(P,)`` bool ``keep`` holds."""
        return Pairs(self.a[keep], self.b[keep], self.same[keep],
                     None if self.fold is None else self.fold[keep],
                     None if self.line is None else self.line[keep], self.fold_names)


def read_pairs(path: PathLike, n_rows: int) -> tuple[Pairs, int]:
    """Pairs of a CSV with columns ``row_a``, ``row_b`` (store rows) and ``same`` (1/0), and
    optionally ``fold`` (the protocol's fold of the pair, as LFW's and RFW's converters write
    it: any names, read as codes in sorted order, a blank cell as -1); columns are taken by
    name, others are ignored. Numbers are whole, written ``1`` or ``1.0`` (as pandas writes an
    integer column with a gap).

    Returns:
        the pairs, and how many lines named row -1 (an image the converter rejected).

    Raises:
        UserError: the file is missing, lacks a column, holds a cell that is not a whole
            number, a negative row other than -1, a ``same`` other than 0 or 1, a row outside
            the store, or pairs a row with itself (distance 0: not two photos); naming the
            first such line.
    """
    path = Path(path)
    table, folds, has_fold = _pair_lines(path)
    _check_pair_lines(path, table, n_rows)
    converted = (table[:, 0] != -1) & (table[:, 1] != -1)
    table = table[converted]
    itself = np.flatnonzero(table[:, 0] == table[:, 1])
    if len(itself):
        first = table[itself[0]]
        raise UserError(f"{path}: {counted(len(itself), 'pair')} of a row with itself (distance 0, "
                        f"not two photos), the first on line {first[3]} (row_a = row_b = {first[0]}); "
                        "leave them out")
    fold, names = None, None
    if has_fold:  # each fold name a code, in sorted order; a blank cell -1 (no fold)
        named = np.asarray(folds, dtype=object)[converted]
        names = sorted({f for f in named if f}, key=lambda f: (not f.isdigit(), f.zfill(20)))
        fold = np.array([names.index(f) if f else -1 for f in named], dtype=np.int64)
    return (Pairs(table[:, 0], table[:, 1], table[:, 2].astype(bool), fold, table[:, 3],
                  None if names is None else tuple(names)),
            int((~converted).sum()))


PAIR_COLUMNS = ("row_a", "row_b", "same")


def _pair_lines(path: Path) -> tuple[np.ndarray, list[str], bool]:
    """The ``(P, 4)`` int64 ``row_a, row_b, same, line`` of every line of the pairs file
    ``path``, each line's fold name (blank without a ``fold`` column) and whether it has one.

    Raises:
        UserError: the file is missing, lacks a column, or holds a cell of
            :data:`PAIR_COLUMNS` that is not a whole number (naming its line and value).
    """
    if not path.is_file():
        raise UserError(f"no pairs file {path}")
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = set(PAIR_COLUMNS) - set(reader.fieldnames or [])
        if missing:
            raise UserError(f"{path}: needs columns row_a, row_b, same; missing "
                            f"{', '.join(sorted(missing))}")
        has_fold = "fold" in (reader.fieldnames or [])
        rows, folds = [], []
        for r in reader:
            rows.append([*(_whole(path, reader.line_num, c, r[c]) for c in PAIR_COLUMNS),
                         reader.line_num])
            folds.append((r["fold"] or "").strip() if has_fold else "")
    return np.asarray(rows, dtype=np.int64).reshape(-1, 4), folds, has_fold


def _whole(path: Path, line: int, column: str, text: str | None) -> int:
    """The whole number in cell ``text`` (``3`` or ``3.0``) of ``column`` on ``line``.

    Raises:
        UserError: a blank cell, or one that is not a whole number (``1.5``, ``nan``).
    """
    text = (text or "").strip()
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value.is_integer():  # NaN and infinities too
        shown = repr(text) if text else "a blank cell"
        raise UserError(f"{path}: line {line}: {column} must be a whole number, got {shown}")
    return int(value)


def _check_pair_lines(path: Path, table: np.ndarray, n_rows: int) -> None:
    """Refuse lines of ``(P, 4)`` ``row_a, row_b, same, line`` that are not pairs of a store
    of ``n_rows`` rows: a negative row other than -1 (an image the converter rejected), a
    ``same`` other than 0 or 1, a row beyond the store; each names the first such line."""
    negative = np.argwhere(table[:, :2] < -1)  # (k, column), in the file's order
    if len(negative):
        k, column = negative[0]
        raise UserError(f"{path}: line {table[k, 3]}: {PAIR_COLUMNS[column]} {table[k, column]} "
                        "is not a row (rows count from 0; -1 marks an image the converter rejected)")
    kind = np.flatnonzero(~np.isin(table[:, 2], (0, 1)))
    if len(kind):
        k = kind[0]
        raise UserError(f"{path}: line {table[k, 3]}: same must be 1 (one person) or 0 (two), "
                        f"got {table[k, 2]}")
    beyond = np.argwhere(table[:, :2] >= n_rows)
    if len(beyond):
        k, column = beyond[0]
        raise UserError(f"{path}: rows must be below the store's {n_rows}, line {table[k, 3]} has "
                        f"{PAIR_COLUMNS[column]} {table[k, column]}; is it the pairs file of "
                        "another store?")


def identity_pairs(identity: np.ndarray, groups: np.ndarray, n: int, seed: int = 0) -> Pairs:
    """Per value of ``groups`` ``(N,)``, up to ``n`` distinct genuine pairs (two rows of one
    ``identity`` ``(N,)``) and as many distinct impostor pairs (two identities, both in the
    group), drawn at random: a group with fewer possible pairs of either kind gets that many
    of both; negative identities or groups are skipped.

    Genuine pairs are drawn by picking a random photo of a person with two or more photos,
    then another photo of that person, so people with many photos are not over-weighted
    quadratically."""
    rng = np.random.default_rng(seed)
    a: list[np.ndarray] = []
    b: list[np.ndarray] = []
    same: list[np.ndarray] = []
    for g in np.unique(groups[groups >= 0]):
        rows = np.flatnonzero((groups == g) & (identity >= 0))
        ids = identity[rows]
        order = np.argsort(ids, kind="stable")
        rows, ids = rows[order], ids[order]
        _, start, count = np.unique(ids, return_index=True, return_counts=True)
        genuine_possible = int((count * (count - 1) // 2).sum())
        impostor_possible = (len(rows) ** 2 - int((count ** 2).sum())) // 2
        genuine = _draw(rng, rows, start, count, min(n, genuine_possible, impostor_possible), True)
        impostor = _draw(rng, rows, start, count, len(genuine), False)
        if len(impostor) < len(genuine):  # the draws missed some of a group's few impostors
            genuine = genuine[np.sort(rng.choice(len(genuine), len(impostor), replace=False))]
        for found, kind in ((genuine, True), (impostor, False)):
            a.append(found[:, 0])
            b.append(found[:, 1])
            same.append(np.full(len(found), kind))
    if not a:
        return Pairs(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, bool))
    return Pairs(np.concatenate(a), np.concatenate(b), np.concatenate(same))


def _draw(rng: np.random.Generator, rows: np.ndarray, start: np.ndarray, count: np.ndarray,
          want: int, genuine: bool) -> np.ndarray:
    """``want`` distinct ``(row, row)`` pairs (smaller row first; ``want`` at most the number the
    group has, fewer only when 50 rounds of draws miss some) of one group's ``rows`` sorted by
    ``ids``, whose people start at ``start`` with ``count`` photos each."""
    owner = np.repeat(np.arange(len(start)), count)  # person index of each row
    pool = np.flatnonzero(count[owner] >= 2) if genuine else np.arange(len(rows))
    seen: set[tuple[int, int]] = set()
    for _ in range(50):  # rounds of batched draws; duplicates are dropped
        if len(seen) >= want:
            break
        k = 2 * (want - len(seen)) + 16
        i = rng.choice(pool, size=k)
        if genuine:
            person = owner[i]
            j = start[person] + rng.integers(0, count[person] - 1, size=k)
            j = np.where(j >= i, j + 1, j)  # another photo of the same person
        else:
            j = rng.integers(0, len(rows), size=k)
            keep = owner[j] != owner[i]
            i, j = i[keep], j[keep]
        x_rows, y_rows = rows[i], rows[j]
        for x, y in zip(np.minimum(x_rows, y_rows), np.maximum(x_rows, y_rows), strict=True):
            if len(seen) >= want:
                break
            seen.add((int(x), int(y)))
    return np.asarray(sorted(seen), dtype=np.int64).reshape(-1, 2)


def pair_groups(pairs: Pairs, labels: np.ndarray) -> np.ndarray:
    """``(P,)`` group code of each pair: the label both rows share, -1 when they differ."""
    la, lb = labels[pairs.a], labels[pairs.b]
    return np.where(la == lb, la, -1)


def verify_store(
    store: st.Store | PathLike,
    column: str,
    out: PathLike,
    *,
    by: str | None = None,
    pairs: PathLike | None = None,
    identity: str | None = None,
    n_pairs: int = 3000,
    metric: str = "euclidean",
    threshold: float | None = None,
    fmr: float = 1e-3,
    folds: int = 10,
    file_folds: bool = False,
    keep_flagged: bool = False,
    also_drop: np.ndarray | None = None,
    adjust: Sequence[str] = (),
    strata: int = 4,
    seed: int = 0,
    overwrite: bool = False,
) -> dict[str, Any]:
    """Verify the pairs of ``store`` in embedding ``column``, per class of attribute ``by``
    (or per intersection of several, ``"race,gender"``), and write the outputs (module
    docstring) into ``out``.

    Args:
        pairs: a pairs CSV; default the store's own ``pairs.csv``, else pairs drawn from
            ``identity`` (default attribute ``identity``).
        identity: the attribute naming the persons that pairs are drawn from (``audit verify
            --persons``); default ``identity``.
        n_pairs: genuine and impostor pairs per group when drawn from ``identity``.
        metric: ``euclidean`` or ``cosine`` distance.
        threshold: the common threshold (``d < threshold`` is a match); default: the one
            whose FMR over all impostor pairs is ``fmr``.
        file_folds: the accuracy folds are the pairs file's own instead of random ones (pairs
            from a file only): its ``fold`` column where it has one (LFW's and RFW's
            ``pairs.csv``; ``folds`` must then be the number of folds it names), else
            consecutive runs of each kind of pair in the file's order.
        keep_flagged: keep pairs with a row the embedder flagged (no face found).
        also_drop: ``(k,)`` rows whose pairs are left out as if flagged (another embedder's
            faces not found, so that columns are compared on the same pairs).
        adjust: covariates of the FNMR standardization, ``ATTR[:min|max|mean|diff]`` (the
            pair's value from its two faces' values; default ``min``, the worse photo of a
            quality measure; ``diff`` for pose: how far apart the two photos' angles are).
        strata: quantile strata of each covariate (combined strata multiply).

    Returns:
        the summary written to ``verification.json``.
    """
    store = opened(store)
    if metric not in ("euclidean", "cosine"):
        raise UserError(f"--metric must be euclidean or cosine, got {metric!r}")
    covariates = [_covariate(store, spec) for spec in adjust]
    if covariates and not 2 <= strata <= 20:
        raise UserError(f"--strata must be in 2..20, got {strata}")
    if not 0 < fmr < 1:
        raise UserError(f"--fmr must be in (0, 1), got {fmr}")
    if threshold is not None and not 0 < threshold < float("inf"):  # NaN too
        raise UserError(f"threshold (--threshold) must be a distance above 0, got {threshold:g}")
    if folds < 2:
        raise UserError(f"--folds must be at least 2, got {folds}")
    z = st.vectors(store, column)
    names, labels = _groups(store, by)
    ids = _identities(store, identity)
    chosen, source, unconverted = _pairs(store, pairs, identity, ids, labels, n_pairs, seed)
    if file_folds and "file" not in source:
        raise UserError("--file-folds needs pairs from a file (the store's pairs.csv or --pairs)")
    fold_seed = None if file_folds else seed
    if file_folds and chosen.fold is not None and len(chosen):
        if (chosen.fold < 0).any():
            raise UserError(f"--file-folds: {int((chosen.fold < 0).sum())} pairs have a blank "
                            "cell in the pairs file's fold column")
        named = len(np.unique(chosen.fold))  # the folds of the converted pairs
        if named < 2:
            raise UserError("--file-folds: the fold column of the pairs file names 1 fold; "
                            "scoring needs two or more (leave out --file-folds for random folds)")
        if named != folds:
            raise UserError(f"--folds {folds}, but the fold column of the pairs file names "
                            f"{named} folds; give --folds {named}")
    flagged = _flagged(store, column)
    known = np.union1d(flagged if flagged is not None else np.zeros(0, np.int64),
                       also_drop if also_drop is not None else np.zeros(0, np.int64))
    dropped = (np.isin(chosen.a, known) | np.isin(chosen.b, known)) & (not keep_flagged)
    before = pair_groups(chosen, labels)
    faces = {g: _faces(labels == g, flagged, dropped & (before == g)) for g in range(len(names))}
    faces[-1] = _faces(np.ones(len(store), bool), flagged, dropped)
    chosen = chosen.take(~dropped)
    fold = chosen.fold if file_folds else None
    if not len(chosen):
        raise UserError(f"no pairs left to verify ({unconverted} name an unconverted image, "
                        f"{int(dropped.sum())} a face the embedder did not find)")
    finite = np.isfinite(z).all(axis=1)
    if not finite[chosen.a].all() or not finite[chosen.b].all():
        raise UserError(f"column {column!r} holds NaN or inf for rows of the pairs")
    d = pair_distances(z, chosen.a, chosen.b, metric)
    group_of = pair_groups(chosen, labels)
    try:
        t, chosen_by = _common_threshold(d[~chosen.same], threshold, fmr)
    except UserError as exc:
        if not dropped.any():
            raise
        raise UserError(f"{exc} ({int(dropped.sum())} pairs were left out for a face the "
                        "embedder did not find)") from None
    # the persons behind the pairs: the identity, else the persons `data persons` found
    person_of, person_name = ((ids, identity or "identity") if ids is not None else
                              (repeated_persons(store), person_attribute(store)))
    persons = None if person_of is None else _pair_persons(person_of, chosen)

    def of(values: np.ndarray | None, mask: np.ndarray) -> np.ndarray | None:
        return None if values is None else values[mask]

    groups = [{**_group(name, d[group_of == g], chosen.same[group_of == g], t, folds,
                        fold_seed, of(persons, group_of == g), of(fold, group_of == g),
                        chosen.fold_names),
               **faces[g]}
              for g, name in enumerate(names)]
    overall = {**_group(ALL, d, chosen.same, t, folds, fold_seed, persons, fold,
                        chosen.fold_names), **faces[-1]}
    scored = [r for r in groups if r["accuracy"] is not None]
    summary = {
        "data": str(store.path), "data_digest": store_digest(store),
        "column": column, "metric": metric, "by": by,
        "pairs": {**source, "used": len(chosen), "unconverted": unconverted,
                  "flagged_dropped": int(dropped.sum()),
                  "cross_group": int((group_of < 0).sum()) if by else 0},
        "threshold": t, "threshold_from": chosen_by, "folds": folds,
        "fold_order": "random" if not file_folds else "file" if fold is None else "fold column",
        "seed": seed,
        "accuracy_measure": ACCURACY_MEASURE,
        "unbalanced": [r["group"] for r in scored if r["genuine"] != r["impostor"]],
        "intervals": "Wilson (pairs taken as independent)" if persons is None else
                     f"Wilson at the effective number of pairs (dyadic-robust design effect "
                     f"over the {person_name} of both faces of each pair)",
        "persons": None if persons is None else int(len(np.unique(persons))),
        "overall": overall, "groups": groups,
        "differentials": across_groups(groups, ratio_intervals(groups, group_of, chosen.same,
                                                               d < t, persons, seed)),
        "notes": [note for note in (identity_note(identity, ids),) if note],
        "caution": circular_caution(store, source, column),
    }
    ordered = by is not None and "," not in by and store.schema.attribute(by).has_order
    if ordered:
        summary["trend"] = _trend(names, group_of, chosen.same, d >= t, persons, seed)
    if covariates:
        summary["adjusted"] = _adjusted(covariates, strata, chosen, group_of, names, d >= t,
                                        persons, seed)
    if store.schema.image_column:
        summary["hardest"] = hardest_choice(groups)
    summary = finite_or_none_within(summary)  # JSON has no NaN: a measure without a value is null
    _write(Path(out), summary, chosen, group_of, names, d, overwrite)
    if store.schema.image_column:
        _hardest(store, Path(out), chosen, group_of, names, d, t, summary["hardest"])
    return summary


def across_groups(groups: Sequence[dict[str, Any]],
                  intervals: dict[str, float | None] | None = None) -> dict[str, Any] | None:
    """The differentials between the group ``groups`` of ``verification.json``
    (:func:`~latentplay.metrics.verification.differentials`), each over the groups that have
    it: the accuracy's mean, SD and skewed error ratio over the groups with an accuracy (None
    with fewer than two), the FMR ratio over those with impostor pairs, the FNMR ratio over
    those with genuine pairs, with the ratios' ``intervals`` (:func:`ratio_intervals`) where
    given; ``left_out`` names the groups with pairs left out of each
    (``accuracy``: too few pairs for the folds, or a fold of the file without a kind of pair:
    ``accuracy_why`` says which, per group, :func:`_unscored`; ``fmr``: no impostor pairs;
    ``fnmr``: no genuine pairs). None when no measure has two groups."""
    with_pairs = [r for r in groups if r["genuine"] or r["impostor"]]
    have = {k: [r for r in with_pairs if r[k] is not None] for k in ("accuracy", "fmr", "fnmr")}
    if max(len(v) for v in have.values()) < 2:
        return None
    fmrs, fnmrs = ([r[k] for r in have[k]] for k in ("fmr", "fnmr"))
    found = (differentials([r["accuracy"] for r in have["accuracy"]], fmrs, fnmrs)
             if len(have["accuracy"]) > 1 else
             {"accuracy_mean": None, "accuracy_std": None, "skewed_error_ratio": None,
              "fmr_ratio": ratio(fmrs), "fnmr_ratio": ratio(fnmrs)})
    found.update(intervals or {})
    found["left_out"] = {k: [r["group"] for r in with_pairs if r[k] is None] for k in have}
    found["accuracy_why"] = {r["group"]: r.get("accuracy_left_out") or TOO_FEW_FOR_FOLDS
                             for r in with_pairs if r["accuracy"] is None}
    return found


def ratio_intervals(groups: Sequence[dict[str, Any]], group_of: np.ndarray, same: np.ndarray,
                    matched: np.ndarray, persons: np.ndarray | None, seed: int,
                    n_boot: int = 1000) -> dict[str, float | None]:
    """``fmr_ratio_low``, ``fmr_ratio_high``, ``fnmr_ratio_low``, ``fnmr_ratio_high``: the 95 %
    intervals of the highest over lowest FMR and FNMR of the group rows ``groups`` (each over
    the groups that have the rate, as :func:`across_groups`), from the pairs' ``(P,)`` group
    codes ``group_of``, ``same`` and ``matched`` (``d < t``); None where the ratio is None.

    The ratio is the largest gap between two groups' log rates, taken after seeing them, and
    a percentile interval of it never holds 1. So every two groups' log ratio gets an
    interval, all holding at once (:func:`~latentplay.audit.parity.range_interval`): the
    ratio's interval reaches down to 1 where the groups may well be equal. The bootstrap
    draws persons, each with every pair whose first face is theirs (a genuine pair's one
    person), ``(P, 2)`` ``persons`` (None: pairs as independent); each group's log rate
    varies at least as much as its own interval says (Wilson's at the effective number of
    pairs over the persons of both faces: ``fmr_low``, ``fmr_high``)."""
    units = np.arange(len(same)) if persons is None else persons[:, 0]
    out: dict[str, float | None] = {}
    for key, kind, errors in (("fmr", ~same, matched), ("fnmr", same, ~matched)):
        rows = [g for g, r in enumerate(groups) if r[key] is not None]
        bounds = (None, None)
        if ratio([groups[g][key] for g in rows]) is not None:
            bounds = _log_gap_interval([groups[g] for g in rows], key, rows, group_of[kind],
                                       errors[kind], units[kind], n_boot, seed)
        out[f"{key}_ratio_low"], out[f"{key}_ratio_high"] = bounds
    return out


def _log_gap_interval(rows: Sequence[dict[str, Any]], key: str, codes: Sequence[int],
                      group_of: np.ndarray, errors: np.ndarray, units: np.ndarray, n_boot: int,
                      seed: int) -> tuple[float, float]:
    """95 % interval of the highest over lowest rate ``key`` of the group ``rows`` (every
    rate above 0), groups ``codes`` of the pairs' ``(P,)`` ``group_of``, from the ``(P,)``
    bool ``errors`` of their pairs drawn by ``(P,)`` ``units`` (:func:`ratio_intervals`)."""
    weights = []
    for g in codes:
        mine = group_of == g
        weights += [mine, mine & errors]
    sums = cluster_sums(units, [w.astype(float) for w in weights])
    drawn = resampled(sums, n_boot, seed).reshape(n_boot, len(codes), 2)
    point = np.log([r[key] for r in rows])
    own = np.array([[r[f"{key}_low"], r[f"{key}_high"]] for r in rows], dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):   # -inf, NaN: left out of the draw
        boot = np.log(drawn[..., 1] / drawn[..., 0])
        low, high = range_interval([point], [boot], [own_spread(own, np.log)])
    return float(np.exp(low)), float(np.exp(high))


def left_out_note(diff: dict[str, Any] | None) -> str | None:
    """``monk_4 left out of the accuracy figures: too few pairs for the folds; ...``: the
    groups with pairs that :func:`across_groups` left out of a measure, None when none; those
    left out of the accuracy by reason (``accuracy_why``; older outputs: too few pairs)."""
    left = (diff or {}).get("left_out") or {}
    why = (diff or {}).get("accuracy_why") or {}
    reasons: dict[str, list[str]] = {}
    for group in left.get("accuracy") or []:
        reasons.setdefault(why.get(group) or TOO_FEW_FOR_FOLDS, []).append(group)
    parts = [f"{', '.join(names)} left out of the accuracy figures: {reason}"
             for reason, names in reasons.items()]
    parts += [f"{', '.join(left[key])} left out of {what}" for key, what in (
        ("fmr", "the FMR ratio: no impostor pairs"),
        ("fnmr", "the FNMR ratio: no genuine pairs")) if left.get(key)]
    return "; ".join(parts) or None


PAIR_VALUES = {"min": np.minimum, "max": np.maximum, "mean": lambda a, b: (a + b) / 2,
               "diff": lambda a, b: np.abs(a - b)}
"""How a pair's two photos give its value of an ``--adjust`` covariate."""


def _covariate(store: st.Store, spec: str) -> tuple[str, str, np.ndarray]:
    """``(attribute, how, (N,) values)`` of an ``--adjust`` item ``ATTR[:how]``."""
    name, _, how = spec.partition(":")
    how = how or "min"
    if how not in PAIR_VALUES:
        raise UserError(f"--adjust {spec}: the pair's value is one of {', '.join(PAIR_VALUES)}")
    attr = store.schema.attribute_or_error(name)
    if attr.kind == "categorical":
        raise UserError(f"--adjust {name} is categorical; give measured (continuous) attributes,"
                        " e.g. pose_yaw:diff or face_score")
    return attr.name, how, np.asarray(store.labels(attr.name), dtype=float)


def _pair_values(values: np.ndarray, pairs: Pairs, how: str) -> np.ndarray:
    return PAIR_VALUES[how](values[pairs.a], values[pairs.b])


def _adjusted(covariates: list[tuple[str, str, np.ndarray]], n_strata: int, pairs: Pairs,
              group_of: np.ndarray, names: Sequence[str], nonmatch: np.ndarray,
              persons: np.ndarray | None, seed: int) -> dict[str, Any]:
    """Each group's FNMR standardized over quantile strata of the covariates' pair values
    (:func:`~latentplay.metrics.verification.standardized_rate`), genuine pairs only; a
    group's ``strata_without_pairs`` counts the cells other groups fill and it does not (a cell
    empty for all has no weight and costs nothing), its ``sparse_weight`` the share of all
    pairs in cells where it has 1 to 4 pairs, or pairs of only 1 or 2 persons (its
    standardized FNMR leans that much on a handful of pairs or persons:
    :func:`~latentplay.audit.standardize.sparse_note`); ``strata_used`` and ``cells_filled`` as
    :func:`~latentplay.audit.standardize.filled_strata` (fewer where ties merge strata)."""
    values = np.stack([_pair_values(v, pairs, how) for _, how, v in covariates], axis=1)
    found = stratified_rates(nonmatch, pairs.same & (group_of >= 0), group_of, len(names), values,
                             n_strata, None if persons is None else persons[:, 0], seed,
                             "genuine pairs")
    groups = [{"group": name, "genuine": g["n"], "fnmr": g["rate"],
               "standardized": g["standardized"], "interval": [g["low"], g["high"]],
               "strata_without_pairs": g["missing"], "sparse_weight": g["sparse"]}
              for name, g in zip(names, found["groups"], strict=True)]
    return {"covariates": [f"{name}:{how}" for name, how, _ in covariates],
            **strata_frame(found), "pairs": found["units"], "left_out": found["left_out"],
            "groups": groups, "fnmr_ratio": found["rate_ratio"],
            "standardized_ratio": found["standardized_ratio"]}


COMPARISON = "verification_comparison.json"


def verify_columns(store: st.Store | PathLike, columns: Sequence[str], out: PathLike, *,
                   keep_flagged: bool = False, overwrite: bool = False,
                   **options: Any) -> dict[str, Any]:
    """:func:`verify_store` for each of several ``columns`` (into ``out/<column>/``) on the
    same pairs — a pair any of their embedders flagged is left out for all, unless
    ``keep_flagged`` — each at its own threshold of the same overall ``fmr``; then
    ``verification_comparison.json`` / ``.csv`` and ``comparison.png`` (accuracy with its SD
    across folds, FMR and FNMR of every group in every column).

    Raises:
        UserError: fewer than two columns, or a ``threshold`` (a distance of one column's).
    """
    if len(set(columns)) < 2:
        raise UserError("compare at least two different columns")
    store = opened(store)
    missing = [c for c in columns if c not in store.columns]
    if missing:
        raise UserError(f"no column {', '.join(map(repr, missing))} in the store; vector "
                        f"columns: {', '.join(v.name for v in store.schema.vectors) or 'none'}")
    if options.get("threshold") is not None:
        raise UserError("--threshold is a distance of one column; compare columns at a common "
                        "--fmr")
    with staged_outputs(output_dir(out, overwrite)) as out:   # moved in once all are written
        drop = np.zeros(0, np.int64)
        if not keep_flagged:
            for column in columns:
                found = _flagged(store, column)
                drop = np.union1d(drop, found if found is not None else drop)
        runs = {c: verify_store(store, c, out / c, keep_flagged=keep_flagged, also_drop=drop,
                                overwrite=overwrite, **options) for c in columns}
        first = runs[columns[0]]
        keys = ("accuracy", "accuracy_std", "auc", "eer", "fmr", "fnmr")
        comparison = {
            "data": first["data"], "data_digest": first["data_digest"],
            "by": first["by"], "columns": list(columns),
            "fmr": first["threshold_from"].get("fmr"), "pairs_used": first["pairs"]["used"],
            "pairs": first["pairs"],
            "groups_without_pairs": [g["group"] for g in first["groups"]
                                     if not g["genuine"] or not g["impostor"]],
            "accuracy_measure": first["accuracy_measure"], "unbalanced": first["unbalanced"],
            "notes": first["notes"], "groups": [g["group"] for g in first["groups"]],
            "cautions": {c: r["caution"] for c, r in runs.items() if r["caution"]},
            "per_column": {c: {"threshold": r["threshold"], "overall": {k: r["overall"][k] for k in keys},
                               "groups": [{k: g[k] for k in ("group", *keys)} for g in r["groups"]],
                               "differentials": r["differentials"]} for c, r in runs.items()}}
        record = finite_or_none_within({**comparison, "made_by": made_by()})
        (out / COMPARISON).write_text(json.dumps(record, indent=2, default=json_default, allow_nan=False),
                                      encoding="utf-8")
        with open(out / "verification_comparison.csv", "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(["column", "group", *keys])
            for c, r in runs.items():
                for g in [*r["groups"], r["overall"]]:
                    writer.writerow([c, g["group"], *(_text(g[k]) for k in keys)])
        _comparison_figure(out, comparison, first["folds"])
        return comparison


def _comparison_figure(out: Path, comparison: dict[str, Any], folds: int) -> None:
    from latentplay.viz.grid import save_figure
    from latentplay.viz.verification import column_bars

    columns = comparison["columns"]
    per = comparison["per_column"]
    values = {k: np.array([[g[k] if g[k] is not None else np.nan for g in per[c]["groups"]]
                           for c in columns], dtype=float)
              for k in ("accuracy", "accuracy_std", "fmr", "fnmr")}
    save_figure(column_bars(comparison["groups"], columns, values["accuracy"],
                            values["accuracy_std"], values["fmr"], values["fnmr"],
                            comparison["fmr"], folds), out / "comparison.png")


def _common_threshold(impostor: np.ndarray, threshold: float | None,
                      fmr: float) -> tuple[float, dict[str, float]]:
    """The given ``threshold``, or the one whose FMR over all ``(I,)`` impostor distances is
    ``fmr``; and how it was chosen."""
    if threshold is not None:
        return float(threshold), {"given": float(threshold)}
    if not len(impostor):
        raise UserError("no impostor pairs (two persons) to set the threshold by --fmr; give "
                        "--threshold, or pairs of two persons")
    if len(impostor) * fmr < 1:
        raise UserError(f"an FMR of {fmr:g} needs at least {int(np.ceil(1 / fmr))} impostor "
                        f"pairs, there are {len(impostor)}; give a larger --fmr, more pairs, or "
                        "--threshold")
    return threshold_at_fmr(impostor, fmr), {"fmr": fmr}


def _groups(store: st.Store, by: str | None) -> tuple[list[str], np.ndarray]:
    """Group names and the ``(N,)`` group code of each row: the classes of ``by``, or of
    several comma-separated attributes their intersections (``African / female``; -1 where a
    label is missing); one group when ``by`` is None."""
    if by is None:
        return [ALL], np.zeros(len(store), dtype=np.int64)
    names, codes = [""], np.zeros(len(store), dtype=np.int64)
    for name in (n.strip() for n in by.split(",")):
        attr = store.schema.attribute_or_error(name)
        if attr.kind == "continuous":
            raise UserError(f"--by {name} is continuous; group by categorical attributes "
                            f"(cut it into groups with `latentplay data bin STORE {name}`)")
        levels = attr.level_names
        values = np.asarray(store.labels(name), dtype=np.int64)
        codes = np.where((codes >= 0) & (values >= 0), codes * len(levels) + values, -1)
        names = [f"{a} / {b}" if a else b for a in names for b in levels]
    return names, codes


def _trend(names: list[str], group_of: np.ndarray, same: np.ndarray, nonmatch: np.ndarray,
           persons: np.ndarray | None, seed: int) -> dict[str, Any] | None:
    """FMR and FNMR per step along ordered groups (:func:`rate_trend` over the pairs within a
    group, ``unknown`` left out); None when fewer than two groups have pairs of a kind. Each
    rate names the ``groups`` it was fitted on and the ``gaps`` between them (groups of the
    order without its pairs); ``groups`` of the trend those of either rate."""
    pos = class_places(group_of, names)   # -1 too for pairs across groups (group_of -1)
    order = [name for name in names if name != UNKNOWN]
    out: dict[str, Any] = {"intervals": "bootstrap over pairs (taken as independent)"
                           if persons is None else "dyadic-robust normal (persons of both faces)"}
    used: set[int] = set()
    for key, kind, errors in (("fmr", ~same, ~nonmatch), ("fnmr", same, nonmatch)):
        keep = kind & (pos >= 0)
        places = np.unique(pos[keep])
        if len(places) < 2:
            return None
        out[key] = {**(rate_trend(errors[keep], pos[keep], seed=seed) if persons is None else
                       slope_interval(errors[keep], pos[keep], persons[keep])),
                    **trend_groups(order, places)}
        used.update(places.tolist())
    return {"groups": [order[k] for k in sorted(used)], **out}


def _pair_persons(ids: np.ndarray, pairs: Pairs) -> np.ndarray:
    """``(P, 2)`` the persons of each pair's two faces from the rows' ``(N,)`` person codes
    ``ids``; a face without one (a negative code) is a person of its own."""
    own = own_persons(ids)
    return np.column_stack([own[pairs.a], own[pairs.b]])


def _identities(store: st.Store, identity: str | None) -> np.ndarray | None:
    """``(N,)`` person codes of the rows (attribute ``identity``, default ``identity``; -1 for an
    ``unknown`` or missing one, a person of the row's own), or None when none is given and the
    store has no ``identity`` attribute.

    Raises:
        UserError: a given ``identity`` is not an attribute of the store, or is continuous
            (a measurement, not the persons).
    """
    if identity is not None and store.schema.attribute_or_error(identity).kind == "continuous":
        raise UserError(f"--persons {identity} is continuous; it must name the persons (a "
                        "categorical attribute: identity, or person from `latentplay data persons`)")
    name = identity or "identity"
    if not store.schema.has_attribute(name):
        return None
    return person_codes(store, name)


FEW_PERSONS = 20
"""A given ``--persons`` naming fewer persons than this gets a note (is it the persons?)."""


def identity_note(identity: str | None, ids: np.ndarray | None) -> str | None:
    """The note on a given ``identity`` whose ``(N,)`` person codes ``ids`` name fewer than
    :data:`FEW_PERSONS` persons (``--persons gender``: 2), each class taken as one person;
    None otherwise."""
    if identity is None or ids is None:
        return None
    persons = len(np.unique(ids[ids >= 0]))
    if persons >= FEW_PERSONS:
        return None
    return (f"--persons {identity} names {counted(persons, 'person')}: each of its classes is "
            "taken as one person (is it the persons?)")


def persons_found_from(store: st.Store, name: str) -> str | None:
    """The vector column from which ``latentplay data persons`` wrote attribute ``name`` (its
    last ``"op": "persons"`` entry of the store's history), None when it did not."""
    found = [entry for entry in store.schema.history
             if entry.get("op") == "persons" and entry.get("column") == name]
    return found[-1].get("vectors") if found else None


def circular_caution(store: st.Store, source: dict[str, Any], column: str) -> str | None:
    """The caution on pairs drawn from persons (``source["identity"]``) that ``latentplay data
    persons`` found from ``column`` itself: their truth is that column's clustering, so the
    rates measure the clustering, not the recogniser. None otherwise."""
    name = source.get("identity")
    if name is None or persons_found_from(store, name) != column:
        return None
    return (f"the persons of {name!r} were found by `latentplay data persons` from {column} "
            f"itself: the pairs' truth is {column}'s own clustering, so these rates measure that "
            "clustering, not how well the recogniser tells persons apart")


def _pairs(store: st.Store, pairs: PathLike | None, identity: str | None,
           ids: np.ndarray | None, labels: np.ndarray, n: int,
           seed: int) -> tuple[Pairs, dict[str, Any], int]:
    """The pairs to verify (from a file, else drawn from the person codes ``ids``), where they
    came from, and the count of unconverted ones."""
    own = store.path / st.PAIRS_FILE if store.path is not None else None
    if pairs is None and identity is None and own is not None and own.is_file():
        pairs = own
    if pairs is not None:
        found, unconverted = read_pairs(pairs, len(store))
        if ids is not None:
            _check_same(found, ids, store, identity or "identity", pairs)
        return found, {"file": str(pairs)}, unconverted
    if ids is None:
        raise UserError(f"no pairs: this store has no {st.PAIRS_FILE} and no 'identity' "
                        "attribute; give --pairs FILE or --persons ATTRIBUTE (the persons)")
    if n < 1:
        raise UserError(f"--n-pairs must be at least 1, got {n}")
    name = identity or "identity"
    drawn = identity_pairs(ids, labels, n, seed)
    if not len(drawn):
        raise UserError(f"no pairs to draw: pairs are drawn within each group of --by, and no "
                        f"group holds two persons (values of {name!r}), one of them on two "
                        "photos; --by groups the persons (e.g. race), --persons names them")
    return drawn, {"identity": name, "per_group": n}, 0


def _check_same(pairs: Pairs, ids: np.ndarray, store: st.Store, name: str,
                path: PathLike) -> None:
    """Refuse pairs of the file ``path`` whose ``same`` contradicts the rows' ``(N,)`` person
    codes ``ids`` (attribute ``name``) where both faces' persons are known.

    Raises:
        UserError: naming how many disagree and the first one's line.
    """
    ia, ib = ids[pairs.a], ids[pairs.b]
    wrong = np.flatnonzero((ia >= 0) & (ib >= 0) & ((ia == ib) != pairs.same))
    if not len(wrong):
        return
    i = wrong[0]
    persons = store.schema.attribute(name).level_names
    line = f"line {pairs.line[i]}" if pairs.line is not None else f"pair {i + 1}"
    raise UserError(
        f"{path}: {counted(len(wrong), 'pair')} {'disagrees' if len(wrong) == 1 else 'disagree'} "
        f"with the store's {name!r} (same 1 for two persons or 0 for one), the first on {line}: "
        f"rows {pairs.a[i]} and {pairs.b[i]} are {persons[ia[i]]} and {persons[ib[i]]}, same "
        f"{int(pairs.same[i])}; is it the pairs file of another store, or --persons not the "
        "persons?")


def _flagged(store: st.Store, column: str) -> np.ndarray | None:
    """Rows where the embedder of ``column`` found no face; None when it does not look for
    faces or ``column`` was not made by ``latentplay embed`` (nothing to know)."""
    from latentplay.embed.column import embed_entry

    entry = embed_entry(store, column) or {}
    rows = np.asarray(entry.get("not_found", []), dtype=np.int64)
    return rows if entry.get("detects_faces") or len(rows) else None


def _faces(rows: np.ndarray, flagged: np.ndarray | None, dropped: np.ndarray) -> dict[str, Any]:
    """Of the ``(N,)`` bool ``rows`` of a group: how many faces, the share the embedder did not
    find (None when the column has no record of it) and the ``dropped`` pairs left out for it."""
    share = None if flagged is None or not rows.any() else float(
        np.isin(np.flatnonzero(rows), flagged).mean())
    return {"faces": int(rows.sum()), "no_face_share": share,
            "flagged_dropped": int(dropped.sum())}


def _group(name: str, d: np.ndarray, same: np.ndarray, t: float, folds: int,
           fold_seed: int | None, persons: np.ndarray | None,
           fold: np.ndarray | None = None,
           fold_names: Sequence[str] | None = None) -> dict[str, Any]:
    """One group's row of ``verification.json``: counts, rates at ``t`` with 95% intervals
    (Wilson's at the effective number of pairs over ``(P, 2)`` ``persons``
    (:func:`~latentplay.clustered.pair_rate_interval`), else Wilson's over the pairs), and the
    threshold-free measures (None where the pairs are too few: fewer than ``folds`` of a kind,
    or with the file's ``(P,)`` ``fold`` of each pair a fold left without either kind; folds as
    :func:`~latentplay.metrics.verification.kfold_accuracy` with ``fold_seed`` or ``fold``),
    and why they are None (``accuracy_left_out``: :func:`_unscored`)."""
    r = rates(d, same, t)
    if persons is not None:
        matched = d < t
        fmr_ci = pair_rate_interval(matched[~same], persons[~same])[:2]
        fnmr_ci = pair_rate_interval(~matched[same], persons[same])[:2]
    else:
        fmr_ci = wilson_interval(np.array([r["false_matches"]]), int(r["impostor"]))[0]
        fnmr_ci = wilson_interval(np.array([r["false_non_matches"]]), int(r["genuine"]))[0]
    row: dict[str, Any] = {
        "group": name, "genuine": r["genuine"], "impostor": r["impostor"],
        "fmr": r["fmr"], "fmr_low": fmr_ci[0], "fmr_high": fmr_ci[1],
        "fnmr": r["fnmr"], "fnmr_low": fnmr_ci[0], "fnmr_high": fnmr_ci[1],
        "false_matches": r["false_matches"], "false_non_matches": r["false_non_matches"]}
    row["accuracy_left_out"] = _unscored(same, folds, fold, fold_names)
    if row["accuracy_left_out"] is None:
        v = verification(d, same, folds, fold_seed, fold).to_dict()
        row.update({k: v[k] for k in ("auc", "eer", "eer_threshold", "accuracy", "accuracy_std",
                                      "tar_at_fmr")})
    else:
        row.update(dict.fromkeys(("auc", "eer", "eer_threshold", "accuracy", "accuracy_std",
                                  "tar_at_fmr")))
    return {k: finite_or_none(v) if isinstance(v, float) else v for k, v in row.items()}


TOO_FEW_FOR_FOLDS = "too few pairs for the folds"
"""Why a group without the file's folds has no accuracy (fewer pairs of a kind than folds)."""


def _unscored(same: np.ndarray, folds: int, fold: np.ndarray | None,
              fold_names: Sequence[str] | None) -> str | None:
    """Why the threshold-free measures of pairs of ``(P,)`` bool ``same`` cannot be taken:
    :data:`TOO_FEW_FOR_FOLDS` with fewer than ``folds`` pairs of a kind, or with the file's
    ``(P,)`` ``fold`` codes the fold that lacks one (named as the file names it,
    :func:`~latentplay.metrics.verification.fold_problem`); None when they can."""
    if fold is not None:
        return fold_problem(same, fold, fold_names)
    return None if min(int(same.sum()), int((~same).sum())) >= folds else TOO_FEW_FOR_FOLDS


CSV_FIELDS = ("group", "faces", "no_face_share", "genuine", "impostor", "flagged_dropped",
              "accuracy", "accuracy_std",
              "auc", "eer", "fmr", "fmr_low", "fmr_high", "fnmr", "fnmr_low", "fnmr_high")


def _write(out: Path, summary: dict[str, Any], pairs: Pairs, group_of: np.ndarray,
           names: Sequence[str], d: np.ndarray, overwrite: bool) -> None:
    from latentplay.viz.grid import save_figure
    from latentplay.viz.verification import (
        det_curves,
        pair_interval_note,
        rate_bars,
        score_histograms,
        undrawn_note,
    )

    with staged_outputs(output_dir(out, overwrite)) as out:   # moved in once all are written
        record = finite_or_none_within({**summary, "made_by": made_by()})
        (out / "verification.json").write_text(json.dumps(record, indent=2, default=json_default,
                                                          allow_nan=False),
                                               encoding="utf-8")
        with open(out / "verification.csv", "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow([*CSV_FIELDS, *(f"tar_at_fmr_{k}" for k in _tar_keys(summary))])
            for r in [*summary["groups"], summary["overall"]]:
                tars = r["tar_at_fmr"] or {}
                writer.writerow([_text(r[f]) for f in CSV_FIELDS]
                                + [_text(tars.get(k)) for k in _tar_keys(summary)])
        if summary.get("adjusted"):
            with open(out / "adjusted.csv", "w", newline="", encoding="utf-8") as fh:
                writer = csv.writer(fh)
                writer.writerow(["group", "genuine", "fnmr", "standardized", "low", "high",
                                 "strata_without_pairs", "sparse_weight"])
                for g in summary["adjusted"]["groups"]:
                    writer.writerow([g["group"], g["genuine"], _text(g["fnmr"]),
                                     _text(g["standardized"]), *(_text(v) for v in g["interval"]),
                                     g["strata_without_pairs"], _text(g["sparse_weight"])])
        with open(out / "scores.csv", "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(["row_a", "row_b", "same", "group", "distance"])
            for a, b, s, g, dist in zip(pairs.a, pairs.b, pairs.same, group_of, d, strict=True):
                writer.writerow([a, b, int(s), names[g] if g >= 0 else "", f"{dist:.6g}"])
        shown = [g for g in range(len(names))
                 if (group_of == g).any() and pairs.same[group_of == g].any()
                 and (~pairs.same[group_of == g]).any()]
        parts = [(names[g], d[group_of == g], pairs.same[group_of == g]) for g in shown]
        if not parts:
            return
        t = summary["threshold"]
        label = f"{summary['column']} ({summary['metric']} distance)"
        note = undrawn_note([names[g] for g in range(len(names)) if g not in shown])
        save_figure(det_curves(parts, t, note), out / "det.png")
        save_figure(score_histograms(parts, t, label, note), out / "scores.png")
        # every group: one without a kind of pair says so in its row
        save_figure(rate_bars(summary["groups"], t, pair_interval_note(summary["persons"])),
                    out / "rates.png")


HARDEST = 3  # pairs of each kind shown per group
HARDEST_GROUPS = 24
"""Most groups ``hardest.png`` shows, a row each; with more, those with the most errors."""
HARDEST_NAMED = 12
"""Most left-out groups the figure's note names (verification.json names all)."""


def hardest_choice(rows: Sequence[dict[str, Any]], cap: int = HARDEST_GROUPS) -> dict[str, Any]:
    """Which groups ``hardest.png`` shows: of the group ``rows`` of ``verification.json`` with
    pairs, all when they are at most ``cap``, else the ``cap`` with the highest error at the
    common threshold, (FMR + FNMR) / 2 (the one rate a group with one kind of pair has), in
    their order; ``left_out`` names the others, ``no_pairs`` the groups without a pair."""
    with_pairs = [r for r in rows if r["genuine"] or r["impostor"]]

    def error(r: dict[str, Any]) -> float:
        measured = [r[k] for k in ("fmr", "fnmr") if r[k] is not None]
        return float(np.mean(measured)) if measured else 0.0

    order = sorted(range(len(with_pairs)), key=lambda i: -error(with_pairs[i]))  # stable
    kept = set(order[:cap])
    return {"shown": [r["group"] for i, r in enumerate(with_pairs) if i in kept],
            "left_out": [r["group"] for i, r in enumerate(with_pairs) if i not in kept],
            "no_pairs": [r["group"] for r in rows if not (r["genuine"] or r["impostor"])],
            "chosen_by": "all groups with pairs" if len(with_pairs) <= cap else
                         f"the {cap} groups with the highest (FMR + FNMR) / 2 at the common "
                         "threshold"}


def hardest_notes(choice: dict[str, Any], named: int | None = HARDEST_NAMED) -> list[str]:
    """What ``hardest.png`` and the report say when :func:`hardest_choice` left groups out:
    how many are shown, chosen how, and which are not, and the groups without a pair; each
    list of groups names its first ``named`` (None: all) and counts the rest."""
    left, empty = choice.get("left_out") or [], choice.get("no_pairs") or []
    shown = len(choice.get("shown", []))
    parts = []
    if left:
        parts.append(f"{shown} of {shown + len(left)} groups shown, {choice.get('chosen_by')}; "
                     f"left out: {_named(left, named)}")
    if empty:
        parts.append(f"no pairs: {_named(empty, named)}")
    return parts


def _named(groups: Sequence[str], named: int | None) -> str:
    """The first ``named`` of ``groups`` (None: all), and how many more."""
    if named is None or len(groups) <= named:
        return ", ".join(groups)
    return first_named(groups, named) + " (verification.json: hardest)"


def _hardest(store: st.Store, out: Path, pairs: Pairs, group_of: np.ndarray,
             names: Sequence[str], d: np.ndarray, threshold: float,
             choice: dict[str, Any]) -> None:
    """``hardest.png``: per group of ``choice`` (:func:`hardest_choice`) its closest impostor
    and farthest genuine pairs, the errors a threshold meets first."""
    from latentplay.embed.column import load_rows
    from latentplay.viz.grid import save_figure
    from latentplay.viz.verification import hardest_pairs

    chosen = []
    for g in range(len(names)):
        if names[g] not in choice["shown"]:
            continue
        idx = np.flatnonzero(group_of == g)
        imp = idx[~pairs.same[idx]][np.argsort(d[idx[~pairs.same[idx]]], kind="stable")]
        gen = idx[pairs.same[idx]][np.argsort(-d[idx[pairs.same[idx]]], kind="stable")]
        chosen.append((names[g], imp[:HARDEST], gen[:HARDEST]))
    if not chosen:
        return
    every = np.concatenate([np.r_[i, j] for _, i, j in chosen])
    rows = np.unique(np.r_[pairs.a[every], pairs.b[every]])
    images = load_rows(store, rows, size=64, mode="RGB")
    image_of = dict(zip(rows.tolist(), images, strict=True))

    def shown(idx: np.ndarray) -> list[tuple[np.ndarray, np.ndarray, float]]:
        return [(image_of[int(pairs.a[i])], image_of[int(pairs.b[i])], float(d[i]))
                for i in idx]

    note = "; ".join(hardest_notes(choice)) or None
    save_figure(hardest_pairs([(name, shown(i), shown(j)) for name, i, j in chosen], threshold,
                              note=note), out / "hardest.png", dpi=110)


def _tar_keys(summary: dict[str, Any]) -> list[str]:
    return list((summary["overall"].get("tar_at_fmr") or {}).keys())


def _text(value: Any) -> Any:
    if value is None:
        return ""
    return f"{value:.6g}" if isinstance(value, float) else value
