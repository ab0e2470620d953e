"""How well predictions match the labels, group by group: Gender Shades' question of any
classifier or regressor whose output a store holds.

``latentplay data predict`` writes a network's classes (``predicted_gender``) or readings
(``predicted_age``) beside a dataset's labels; ``group_accuracy`` asks whether the network is
as right for every group of another attribute (skin tone, race, their intersections):

    >>> group_accuracy(store, "predicted_gender", "gender", by="skin_tone", out="acc")

Three kinds of comparison, chosen by the attributes' kinds:

- classes against classes (matched by name): per group the accuracy with its 95 % Wilson
  interval (a row without a prediction, ``unknown``, counts as an error), how many rows have
  no prediction and the accuracy over the rest, and each true class's recall (for ordered
  classes also the share at most one class off and the mean offset in classes);
  across groups the error ratio (highest error over lowest), the accuracy gap (highest
  minus lowest) beside the gap that groups of these sizes show by chance alone when all are
  equally accurate (a range of noisy estimates is biased upward), a chi-square test of equal
  accuracy (with, where over a fifth of the cells expect fewer than 5 rows or one fewer
  than 1, its p-value simulated with both margins fixed: the chi-square curve is then a rough
  guide), and, along
  an ordered ``by``, the linear trend test of the errors;
- values against values (an age regressor and ages in years): per group the mean absolute
  error, the bias (mean reading minus label) with t 95 % intervals, and the
  correlation, over the rows read (``no_reading``: the group's rows without a reading);
  across groups the ratio of the highest MAE to the lowest and, along an ordered ``by``,
  the change of the absolute error per group step (least squares with a robust normal
  interval);
- values against groups named as intervals (readings of age against FairFace's ``0-2`` ..
  ``more than 70``): each reading is cut into the truth's groups and compared as classes.

Rows whose label is missing or ``unknown``, or whose group is, are left out and counted
(``left_out``), and so, counted apart (``unnamed``), are rows labelled with a class the
predictions have no name for (it cannot be predicted, so accuracy is not asked of it). When
the store's ``identity`` (or ``person``) attribute shows several photos of one person, the
accuracy intervals are a bootstrap over persons (each drawn with all of their photos), and the
chi-square and trend tests between groups gain a version corrected for them (Rao-Scott,
:mod:`latentplay.clustered`: ``chi2["persons_test"]``, ``trend["persons_test"]``); values'
intervals, and their slope along an ordered ``by``, are a bootstrap over persons too.
Along an ordered ``by`` each group stands at its class's place in the attribute's order (the
trend test's score, the slope's step): a class without rows between two with rows still
counts a step, and the trend names its fitted ``groups`` and those ``gaps``.
``persons`` counts them among the rows judged, a row without a person as one of its own (as
the bootstrap draws it, and as ``verification.json`` counts the faces of its pairs).

Where the store holds each prediction's confidence (``predicted_<attr>_p``, written by
``data predict``), classes are also checked for calibration within each group
(:mod:`latentplay.audit.calibration`): is the classifier as sure as it is right for everyone?

Outputs in ``out``: ``accuracy.json``, ``accuracy.csv`` (a row per group and one for all),
``confusion.csv`` (classes: group, true class, predicted class, rows) and ``accuracy.png``;
with confidences also ``calibration.csv`` (reliability bins per group) and
``calibration.png`` (reliability diagrams and over-confidence per group); with ``adjust``
``adjusted.csv`` (each group's error standardized over strata of measured covariates); with
``positive`` ``parity.csv`` (selection, base rate, TPR and FPR per group) and
``parity.png``.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from latentplay import store as st
from latentplay.audit.calibration import check_binning, check_threshold, group_calibration
from latentplay.audit.parity import group_parity
from latentplay.audit.standardize import covariates, standardized_errors
from latentplay.clustered import clustered_trend, persons_refusal, rao_scott
from latentplay.contingency import chi_square
from latentplay.errors import UserError
from latentplay.intervals import STUDENT, proportion_interval, t_interval
from latentplay.metrics.verification import rate_trend, slope_interval
from latentplay.outputs import finite_or_none, json_default, made_by, output_dir, staged_outputs, write_csv
from latentplay.resample import mean_intervals
from latentplay.store.bias import linear_trend, repeated_persons
from latentplay.store.binning import group_bounds, interval_codes
from latentplay.store.combine import group_codes, group_order
from latentplay.store.io import opened, store_digest
from latentplay.store.schema import UNKNOWN, group_places, trend_groups

ALL = "all rows"
AUTO = "auto"
"""``confidence``: ``<predicted>_p`` when the store has it (``data predict`` writes it)."""
OPTIONAL_OUTPUTS = ("confusion.csv", "adjusted.csv", "parity.csv", "parity.png", "calibration.csv",
                    "calibration.png")
"""Written under some settings only: an earlier run's that this one does not write are removed
from ``out`` (``--overwrite``), so that the folder never mixes two runs."""


def group_accuracy(store: st.Store | str | os.PathLike[str], predicted: str, truth: str,
                   by: str, out: str | os.PathLike[str], *, confidence: str | None = AUTO,
                   threshold: float | None = None, adjust: Sequence[str] = (),
                   strata: int = 4, positive: str | None = None, overwrite: bool = False,
                   seed: int = 0, binning: str = "width") -> dict[str, Any]:
    """Compare attribute ``predicted`` with ``truth`` in every group of ``by`` (one attribute,
    or several comma-separated for their intersections) and write the outputs (module
    docstring) into ``out``.

    ``confidence`` names the attribute holding the probability of each predicted class (its
    calibration per group is then measured, :mod:`latentplay.audit.calibration`); the default
    :data:`AUTO` takes ``<predicted>_p`` when the store has it, None measures none.
    ``threshold``: the confidence at or above which answers pass unreviewed (coverage,
    accuracy and errors passed per group); ``binning``: the ECE's ``width`` or equal-row
    (``mass``) bins. ``adjust`` names continuous attributes (measured
    covariates: face_score, pose_yaw) over whose ``strata`` quantile strata each group's
    error is standardized (:mod:`latentplay.audit.standardize`). ``positive`` names a class
    whose selection, TPR and FPR are compared across groups (:mod:`latentplay.audit.parity`).

    Returns:
        The summary written to ``accuracy.json``.
    """
    summary, confusion = measure_accuracy(store, predicted, truth, by, confidence=confidence,
                                          threshold=threshold, adjust=adjust, strata=strata,
                                          positive=positive, seed=seed, binning=binning)
    with staged_outputs(output_dir(out, overwrite), owned=OPTIONAL_OUTPUTS) as stage:
        _write(stage, summary, confusion)   # moved in once all are written
    return summary


def measure_accuracy(store: st.Store | str | os.PathLike[str], predicted: str, truth: str,
                     by: str, *, confidence: str | None = AUTO, threshold: float | None = None,
                     adjust: Sequence[str] = (), strata: int = 4, positive: str | None = None,
                     seed: int = 0, binning: str = "width"
                     ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """:func:`group_accuracy`'s summary and ``confusion.csv``'s rows (group, true,
    predicted, rows; none for values), with nothing written: what the playground draws.
    Every input is checked before anything is measured.
    """
    store = opened(store)
    if predicted == truth:
        raise UserError("--predicted and --truth must be two different attributes")
    pa, ta = (store.schema.attribute_or_error(n) for n in (predicted, truth))
    names, groups, ordered = group_codes(store, by)
    order = group_order(store, by) if ordered else None
    confidence = _confidence_attribute(store, predicted, confidence)
    confidences = None if confidence is None else _confidences(store, confidence)
    check_threshold(threshold)
    check_binning(binning)  # before anything is measured
    if threshold is not None and confidences is None:
        raise UserError(f"--threshold needs each prediction's confidence: the store has no "
                        f"{predicted}_p; name it with --confidence")
    if pa.kind == "continuous" and ta.kind == "continuous":
        kind = "values"
    elif pa.kind == "continuous" and ta.kind == "categorical" and \
            group_bounds(_known(ta.level_names)) is not None:
        kind = "interval groups"
    elif pa.kind != "continuous" and ta.kind != "continuous":
        kind = "classes"
    else:
        raise UserError(f"{predicted!r} is {pa.kind} and {truth!r} {ta.kind}: compare classes "
                        "with classes, values with values, or values with groups named as "
                        "intervals (0-2, 3-9, ...)")
    if threshold is not None and kind != "classes":
        raise UserError("--threshold applies to a classifier's classes and their confidences")
    if positive is not None and kind == "values":
        raise UserError("--positive names a class; these predictions are values")
    values = covariates(store, adjust, strata) if adjust else None
    summary: dict[str, Any] = {"data": str(store.path), "data_digest": store_digest(store),
                               "predicted": predicted, "truth": truth,
                               "by": by, "ordered": ordered, "kind": kind, "seed": seed}
    persons = repeated_persons(store)
    summary["persons"] = None  # filled below: the persons of the rows judged
    confusion: list[dict[str, Any]] = []
    if kind == "values":
        summary["intervals"] = STUDENT if persons is None else "bootstrap over persons"
        summary.update(_values(store.labels(predicted), store.labels(truth), names, groups,
                               ordered, persons, seed, order))
        errors = np.abs(np.asarray(store.labels(predicted), np.float64)
                        - np.asarray(store.labels(truth), np.float64))
    else:
        true_names, pred_names, truth_codes, pred_codes = _classes(store, predicted, truth, kind)
        truth_codes, unnamed = _unnamed(true_names, pred_names, truth_codes, groups)
        keep = (truth_codes >= 0) & (groups >= 0)
        correct = _correct(true_names, pred_names, truth_codes, pred_codes)
        steps = kind == "interval groups" or ta.ordered
        summary["intervals"] = "Wilson" if persons is None else "bootstrap over persons"
        summary.update(_classes_summary(true_names, pred_names, truth_codes, pred_codes,
                                        correct, keep, names, groups, ordered, steps, persons,
                                        seed, order))
        if unnamed:                     # labelled and grouped: not 'without a label or a group'
            summary["left_out"] -= unnamed["rows"]
            summary["unnamed"] = unnamed
        if confidences is not None and kind == "classes":
            summary["confidence"] = confidence
            unread = pred_codes == pred_names.index(UNKNOWN)    # no prediction, no confidence
            summary["calibration"] = group_calibration(
                np.where(unread, np.nan, confidences), correct, names, groups, keep, ordered,
                persons, seed, threshold=threshold, binning=binning, order=order)
        errors = np.where(truth_codes >= 0, ~correct, np.nan)
        if positive is not None:
            summary["parity"] = _parity(positive, true_names, pred_names, truth_codes,
                                        pred_codes, names, groups, keep, persons, seed)
        confusion = _confusion_rows(true_names, pred_names, truth_codes, pred_codes, names,
                                    groups, keep)
    summary["persons"] = judged_persons(persons, np.isfinite(errors) & (groups >= 0))
    if not summary["overall"].get("n"):  # e.g. labels whose classes the predictions lack
        why = (f"a {predicted!r} reading, a {truth!r} value and" if kind == "values" else
               f"a {truth!r} label that {predicted!r} can predict and")
        raise UserError(f"no row to judge: none has {why} a {by!r} group ({len(store):,} rows "
                        "left out)")
    if values is not None:
        summary["adjusted"] = standardized_errors(
            errors, groups, names, values, adjust, strata,
            "mean absolute error" if kind == "values" else "error rate", persons, seed)
    return summary, confusion


def judged_persons(persons: np.ndarray | None, judged: np.ndarray) -> int | None:
    """The persons behind the ``(N,)`` bool ``judged`` rows from ``(N,)`` codes ``persons``
    (:func:`~latentplay.store.bias.repeated_persons`: a row without a person has a code of its
    own, so counts as one, as the bootstrap draws it); None without persons."""
    return None if persons is None else int(len(np.unique(persons[judged])))


def _write(out: Path, summary: dict[str, Any], confusion: list[dict[str, Any]]) -> None:
    """:func:`group_accuracy`'s outputs (module docstring) into ``out``."""
    from latentplay.viz.accuracy import accuracy_figures
    from latentplay.viz.grid import save_figure

    if summary["kind"] != "values":
        write_csv(out / "confusion.csv", confusion, fields=["group", "true", "predicted", "rows"])
    if "adjusted" in summary:
        write_csv(out / "adjusted.csv", summary["adjusted"]["groups"])
    if "parity" in summary:
        write_csv(out / "parity.csv", [*summary["parity"]["groups"], summary["parity"]["overall"]])
    if "calibration" in summary:
        cal = summary["calibration"]
        write_csv(out / "calibration.csv",
                  [{"group": r["group"], "bin_low": b["low"], "bin_high": b["high"],
                    "rows": b["n"], "confidence": b["confidence"], "accuracy": b["accuracy"]}
                   for r in [*cal["groups"], cal["overall"]] for b in r.get("bins", [])],
                  floats=".6g", fields=["group", "bin_low", "bin_high", "rows", "confidence", "accuracy"])
    (out / "accuracy.json").write_text(json.dumps({**summary, "made_by": made_by()}, indent=2,
                                                  default=json_default), encoding="utf-8")
    _write_table(out / "accuracy.csv", summary)
    for name, fig in accuracy_figures(summary).items():
        save_figure(fig, out / f"{name}.png")


def _confidence_attribute(store: st.Store, predicted: str, confidence: str | None
                          ) -> str | None:
    """The attribute of the predictions' confidences: ``confidence`` checked, or with
    :data:`AUTO` ``<predicted>_p`` when it is a continuous attribute of ``store``."""
    if confidence == AUTO:
        name = f"{predicted}_p"
        known = {a.name: a.kind for a in store.schema.attributes}
        return name if known.get(name) == "continuous" else None
    if confidence is None:
        return None
    attribute = store.schema.attribute_or_error(confidence)
    if attribute.kind != "continuous":
        raise UserError(f"--confidence {confidence!r} is {attribute.kind}: it must hold the "
                        "probability of each predicted class")
    return confidence


def _confidences(store: st.Store, confidence: str) -> np.ndarray:
    """``(N,)`` the values of attribute ``confidence``, refused unless probabilities."""
    c = np.asarray(store.labels(confidence), np.float64)
    outside = np.isfinite(c) & ((c < 0) | (c > 1))
    if outside.any():
        raise UserError(f"--confidence {confidence!r} holds {int(outside.sum())} values outside "
                        f"[0, 1] (e.g. {c[outside][0]:.3g}): it must hold probabilities")
    return c


def _parity(positive: str, true_names: list[str], pred_names: list[str], truth: np.ndarray,
            pred: np.ndarray, names: list[str], groups: np.ndarray, keep: np.ndarray,
            persons: np.ndarray | None, seed: int) -> dict[str, Any]:
    """:func:`~latentplay.audit.parity.group_parity` of class ``positive`` (a true class the
    predictions also name)."""
    if positive not in true_names or positive not in pred_names:
        raise UserError(f"--positive {positive!r} is not a class of both the labels "
                        f"({', '.join(true_names)}) and the predictions")
    return group_parity(truth == true_names.index(positive), pred == pred_names.index(positive),
                        names, groups, keep, positive, persons, seed=seed)


def _correct(true_names: list[str], pred_names: list[str], truth: np.ndarray,
             pred: np.ndarray) -> np.ndarray:
    """``(N,)`` whether each prediction names the row's true class (matched by name)."""
    same = np.array([pred_names.index(n) if n in pred_names else -2 for n in true_names] + [-2])
    return (truth >= 0) & (pred == same[truth])


def _known(names: list[str]) -> list[str]:
    return [n for n in names if n != UNKNOWN]


def _classes(store: st.Store, predicted: str, truth: str, kind: str
             ) -> tuple[list[str], list[str], np.ndarray, np.ndarray]:
    """True and predicted class names and ``(N,)`` codes into them (-1: no label); readings
    are cut into the truth's interval groups."""
    ta = store.schema.attribute(truth)
    true_names = _known(ta.level_names)
    position = {name: k for k, name in enumerate(true_names)}
    lookup = np.array([position.get(name, -1) for name in ta.level_names] + [-1])
    raw = np.asarray(store.labels(truth), np.int64)
    truth_codes = lookup[np.where(raw >= 0, raw, len(ta.level_names))]
    if kind == "interval groups":
        bounds = group_bounds(true_names)
        assert bounds is not None
        values = np.asarray(store.labels(predicted), np.float64)
        cut = interval_codes(values, bounds)
        return true_names, [*true_names, UNKNOWN], truth_codes, \
            np.where(np.isfinite(values), cut, len(true_names))
    pa = store.schema.attribute(predicted)
    pred_codes = np.asarray(store.labels(predicted), np.int64)
    pred_names = list(pa.level_names)
    if UNKNOWN not in pred_names:
        pred_names.append(UNKNOWN)
    pred_codes = np.where(pred_codes < 0, pred_names.index(UNKNOWN), pred_codes)
    return true_names, pred_names, truth_codes, pred_codes


def _unnamed(true_names: list[str], pred_names: list[str], truth: np.ndarray,
             groups: np.ndarray) -> tuple[np.ndarray, dict[str, Any] | None]:
    """``(N,)`` true codes without the classes the predictions have no name for (-1: such a
    label cannot be predicted, so its rows are left out) and, where a grouped row has one,
    ``{"rows", "classes"}``: how many rows that leaves out, and those classes."""
    lacking = np.array([name not in pred_names for name in true_names] + [False])
    dropped = lacking[truth]                              # truth -1 reads the last entry
    rows = int((dropped & (groups >= 0)).sum())
    found = {"rows": rows, "classes": sorted({true_names[k] for k in truth[dropped & (groups >= 0)]})}
    return np.where(dropped, -1, truth), found if rows else None


def _classes_summary(true_names: list[str], pred_names: list[str], truth: np.ndarray,
                     pred: np.ndarray, correct: np.ndarray, keep: np.ndarray, names: list[str],
                     groups: np.ndarray, ordered: bool, steps: bool,
                     persons: np.ndarray | None = None, seed: int = 0,
                     order: list[str] | None = None) -> dict[str, Any]:
    """Per group and over all rows: accuracy and the rest (module docstring); with ``steps``
    (the true classes are ordered) also ``within_one`` (the share predicted at most one class
    off) and ``offset`` (the mean predicted place minus the true one, over rows predicted as
    one of the true classes). With ``(N,)`` ``persons`` (several photos of one person) the
    accuracy intervals are a bootstrap over persons instead of Wilson's. ``correct`` and
    ``keep`` ``(N,)``: each prediction right, and the rows with a label and a group. Ordered
    groups step along the classes of ``order`` (default ``names``)."""
    none = pred == pred_names.index(UNKNOWN)
    place = np.array([true_names.index(n) if n in true_names else -1 for n in pred_names])
    off = np.where((place[pred] >= 0) & (truth >= 0), place[pred] - truth, np.iinfo(np.int64).max)
    placed = off != np.iinfo(np.int64).max

    def row(name: str, rows: np.ndarray) -> dict[str, Any]:
        n, right = int(rows.sum()), int(correct[rows].sum())
        low, high = (proportion_interval(correct[rows], None if persons is None
                                         else persons[rows], seed) if n else (np.nan, np.nan))
        recall = {c: (float(correct[rows & (truth == k)].mean())
                      if (rows & (truth == k)).any() else None)
                  for k, c in enumerate(true_names)}
        predicted = n - int(none[rows].sum())
        out = {"group": name, "n": n, "correct": right,
               "accuracy": right / n if n else None, "low": finite_or_none(low), "high": finite_or_none(high),
               "no_prediction": n - predicted,
               "accuracy_predicted": right / predicted if predicted else None}
        if steps:
            out["within_one"] = float((placed[rows] & (np.abs(off[rows]) <= 1)).mean()) \
                if n else None
            out["offset"] = float(off[rows & placed].mean()) if (rows & placed).any() else None
        return {**out, "recall": recall}

    table = [row(name, keep & (groups == g)) for g, name in enumerate(names)]
    overall = row(ALL, keep)
    scored = [r for r in table if r["n"]]
    counts = np.array([[r["n"] - r["correct"], r["correct"]] for r in scored])
    places = np.append(group_places(names, order), -1)      # the last entry: no group
    held = [g for g, r in enumerate(table) if r["n"]]
    across = _across(scored, counts, places[held] if ordered else None,
                     names if order is None else order, seed)
    if across and "chi2" in across and persons is not None:
        rows = np.where(keep, places[groups], -1)
        _over_persons(across, [r["group"] for r in scored], counts, rows, correct, persons)
    return {"groups": table, "overall": overall, "left_out": int((~keep).sum()),
            "across": across}


def _over_persons(across: dict[str, Any], names: list[str], counts: np.ndarray,
                  rows: np.ndarray, correct: np.ndarray, persons: np.ndarray) -> None:
    """Add to ``across``'s chi-square and trend their Rao-Scott versions over the ``(N,)``
    ``persons``, from each row's place (-1: left out) — its group's place in the order, the
    trend's score — and whether it is right, and to its detectable gap and chance gap those
    of the groups' ``(G, 2)`` ``counts`` worth ``1 / design effect`` independent rows each."""
    used = rows >= 0
    test = rao_scott(rows[used], correct[used], persons[used])
    across["chi2"]["persons_test"] = test.to_dict() if test else None
    across["chi2"]["persons_refused"] = (
        None if test else persons_refusal(rows[used], correct[used], persons[used]))
    if test:
        across["detectable_gap"]["gap_over_persons"] = detectable_gap(
            names, counts / test.design_effect)["gap"]
        across["chance_gap_over_persons"] = chance_gap(counts, test.design_effect)
    if "trend" in across:
        trend = clustered_trend(rows[used], correct[used], persons[used],
                                across["trend"]["statistic"])
        across["trend"]["persons_test"] = trend.to_dict() if trend else None


def _across(scored: list[dict[str, Any]], counts: np.ndarray, places: np.ndarray | None,
            order: list[str], seed: int = 0) -> dict[str, Any] | None:
    """Differences between the groups' accuracies, from their ``(G, 2)`` (wrong, right)
    counts; given the ``(G,)`` ``places`` of ordered groups among the classes of ``order``,
    the trend test with them as scores, its ``r`` positive when errors grow along the order."""
    if len(scored) < 2:
        return None
    accuracies = [r["accuracy"] for r in scored]
    errors = [1 - a for a in accuracies]
    out: dict[str, Any] = {"error_ratio": max(errors) / min(errors) if min(errors) > 0 else None,
                           "accuracy_gap": max(accuracies) - min(accuracies),
                           "chance_gap": chance_gap(counts, seed=seed)}
    out["detectable_gap"] = detectable_gap([r["group"] for r in scored], counts)
    if (counts.sum(0) > 0).all():
        out["chi2"] = chi_square(counts, seed)
        if places is not None and len(scored) > 2:
            trend = linear_trend(counts, row_scores=places.astype(np.float64))
            out["trend"] = {"r": -trend.r, "statistic": trend.statistic,
                            "p_value": trend.p_value,
                            **trend_groups(order, places)}
    return out


def chance_gap(counts: np.ndarray, design_effect: float = 1.0, draws: int = 2000,
               seed: int = 0) -> float:
    """The mean accuracy gap (highest minus lowest) that groups with the sizes of ``(G, 2)``
    wrong/right ``counts`` show when every one is as accurate as all of them together: what
    the gap reads where the groups do not differ at all, since the range of noisy estimates
    is biased upward (it grows with the number of groups and as they shrink). Each group's
    accuracy is drawn binomially ``draws`` times, its spread widened by
    ``sqrt(design_effect)`` where photos repeat persons."""
    n = counts.sum(axis=1).astype(np.int64)
    p = counts[:, 1].sum() / n.sum()
    drawn = np.random.default_rng(seed).binomial(n, p, size=(draws, len(n))) / n
    drawn = np.clip(p + (drawn - p) * np.sqrt(design_effect), 0.0, 1.0)
    return float((drawn.max(axis=1) - drawn.min(axis=1)).mean())


Z_TEST, Z_POWER = 1.959964, 0.841621
"""z of a two-sided 5 % test, and of 80 % power."""


def detectable_gap(names: list[str], counts: np.ndarray) -> dict[str, Any]:
    """How small an accuracy gap this audit can see: how much less accurate than the rest (at
    the overall accuracy ``p``) the smallest group must be for a two-sided 5 % test of two
    proportions to find it with 80 % power — the ``d`` solving
    ``z_0.975 sqrt(pbar qbar (1/n_g + 1/n_r)) + z_0.8 sqrt(p_g q_g / n_g + p q / n_r) = d``
    with ``p_g = p - d`` (Fleiss' formula) — from ``(G, 2)`` wrong/right counts. A test that
    finds no gap says little about gaps below it.

    Returns:
        ``{"group", "gap", "power": 0.8, "alpha": 0.05}`` of the smallest group.
    """
    n = counts.sum(axis=1).astype(float)
    total = n.sum()
    smallest = int(np.argmin(n))
    gap = _gap(counts[:, 1].sum() / total, n[smallest], total - n[smallest])
    return {"group": names[smallest], "gap": gap, "power": 0.8, "alpha": 0.05}


def _gap(p: float, n_group: float, n_rest: float) -> float:
    """Fleiss' detectable drop from accuracy ``p`` (the rest's) for a group of ``n_group``
    (bisection; ``p`` itself when not even a drop to 0 is found)."""
    def short(d: float) -> float:
        pg = p - d
        pbar = (n_group * pg + n_rest * p) / (n_group + n_rest)
        need = (Z_TEST * np.sqrt(pbar * (1 - pbar) * (1 / n_group + 1 / n_rest))
                + Z_POWER * np.sqrt(pg * (1 - pg) / n_group + p * (1 - p) / n_rest))
        return d - need

    if short(p) < 0:
        return float(p)
    low, high = 0.0, float(p)
    for _ in range(60):
        mid = (low + high) / 2
        low, high = (mid, high) if short(mid) < 0 else (low, mid)
    return high


def _values(predicted: np.ndarray, truth: np.ndarray, names: list[str], groups: np.ndarray,
            ordered: bool, persons: np.ndarray | None = None, seed: int = 0,
            order: list[str] | None = None) -> dict[str, Any]:
    """Per group and over all rows: mean absolute error and bias (reading minus label) with
    95 % intervals — normal ones, or with ``(N,)`` ``persons`` a bootstrap over them — and
    the correlation, over the rows with a reading (``no_reading``: the group's labelled rows
    without one, left out of its errors); across groups the MAE ratio and gap and, along an
    ordered ``by``, the slope of the absolute error per step of the classes of ``order``
    (default ``names``; robust normal interval, or the bootstrap) naming its ``groups`` and
    ``gaps``. ``left_out``: the rows without a label or a group."""
    p, t = np.asarray(predicted, np.float64), np.asarray(truth, np.float64)
    labelled = np.isfinite(t) & (groups >= 0)
    keep = labelled & np.isfinite(p)
    error = p - t

    def row(name: str, among: np.ndarray) -> dict[str, Any]:
        rows = among & keep
        n, unread = int(rows.sum()), int((among & ~keep).sum())
        if n < 2:       # every key, so that accuracy.csv's columns are every row's
            return {"group": name, "n": n, "no_reading": unread, "mae": None, "mae_low": None,
                    "mae_high": None, "bias": None, "bias_low": None, "bias_high": None,
                    "r": None}
        e, a = error[rows], np.abs(error[rows])
        bias, mae = (None, None), (None, None)  # (low, high); one person: none
        if persons is None:
            bias, mae = ((float(low), float(high))
                         for _, low, high in (t_interval(e), t_interval(a)))
        elif len(np.unique(persons[rows])) > 1:  # one person: every draw is that person
            # measured values, no proportion even where they lie in [0, 1]
            bias, mae = mean_intervals(np.column_stack([e, a]), persons[rows], 1000, seed,
                                       proportion=False).tolist()
        r = float(np.corrcoef(p[rows], t[rows])[0, 1]) if p[rows].std() and t[rows].std() \
            else None
        return {"group": name, "n": n, "no_reading": unread, "mae": float(a.mean()),
                "mae_low": mae[0], "mae_high": mae[1], "bias": float(e.mean()),
                "bias_low": bias[0], "bias_high": bias[1], "r": r}

    table = [row(name, labelled & (groups == g)) for g, name in enumerate(names)]
    scored = [r for r in table if r["mae"] is not None]
    across = None
    if len(scored) >= 2:
        maes = [r["mae"] for r in scored]
        across = {"mae_ratio": max(maes) / min(maes) if min(maes) > 0 else None,
                  "mae_gap": max(maes) - min(maes)}
        if ordered and len(scored) > 2:
            held = [r["mae"] is not None for r in table]     # two rows or more
            position = np.append(np.where(held, group_places(names, order), -1), -1)[groups]
            rows = keep & (position >= 0)
            across["trend"] = {**(slope_interval(np.abs(error[rows]), position[rows])
                                  if persons is None else
                                  rate_trend(np.abs(error[rows]), position[rows], persons[rows],
                                             seed=seed)),
                               **trend_groups(names if order is None else order,
                                              np.unique(position[rows]))}
    return {"groups": table, "overall": row(ALL, labelled), "left_out": int((~labelled).sum()),
            "across": across}


def _write_table(path: Path, summary: dict[str, Any]) -> None:
    rows = [*summary["groups"], summary["overall"]]
    fields = [k for k in rows[0] if k != "recall"]
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


def _confusion_rows(true_names: list[str], pred_names: list[str], truth: np.ndarray,
                    pred: np.ndarray, names: list[str], groups: np.ndarray, keep: np.ndarray
                    ) -> list[dict[str, Any]]:
    """Each group's confusion: a row per (true, predicted) pair that occurs."""
    out = []
    for g, name in enumerate(names):
        rows = keep & (groups == g)
        table = np.zeros((len(true_names), len(pred_names)), np.int64)
        np.add.at(table, (truth[rows], pred[rows]), 1)
        out += [{"group": name, "true": true_names[i], "predicted": pred_names[j],
                 "rows": int(table[i, j])} for i, j in zip(*np.nonzero(table), strict=True)]
    return out
