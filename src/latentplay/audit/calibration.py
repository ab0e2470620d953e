"""Is a classifier as sure as it is right, for every group? Calibration within groups.

A classifier's confidence (the probability it gives the class it chose: ``data predict`` and
``data annotate`` write it as ``predicted_<attr>_p``) is calibrated when, among the faces it
reads with confidence 0.9, nine in ten are right. A classifier can be as accurate for two
groups and still be sure of itself for one and not the other, and a threshold on its
confidence (the faces it lets through without review) then treats them differently
(Kleinberg, Mullainathan & Raghavan 2016: calibration within groups).

Per group, over the rows with a prediction and a confidence:

- ``overconfidence``: the mean confidence minus the accuracy (calibration in the large; +:
  surer than right), with a t 95 % interval (a bootstrap over persons when a person has
  several photos; none for a group of one row, or of one person's photos);
- ``ece``: the expected calibration error over ``bins`` confidence bins,
  ``sum_b n_b / n |accuracy_b - confidence_b|`` (Guo et al. 2017): equal-width bins of [0, 1]
  (closed on the right, as in Guo et al.'s code: ``(lo, hi]``, the first one with 0),
  or with ``binning="mass"`` bins holding equal shares of the group's rows (the adaptive ECE of
  Nixon et al. 2019, for confidences crowded near 1, where equal-width bins put nearly every
  row in the last one). ECE is biased upwards in
  small groups: a perfectly calibrated classifier scores above zero by chance alone, so beside
  it stand ``ece_null`` (its mean when every answer is right with exactly the probability the
  classifier gave, drawn ``n_draws`` times: consistency resampling, Bröcker & Smith 2007) and
  ``ece_p``, its Monte Carlo p-value ``(1 + #{draws >= ECE}) / (n_draws + 1)`` (never 0:
  the observed ECE counts as one draw of the null). The draws take each photo's answer as
  independent; where persons repeat (``null_over_photos``) their answers need not be, and
  that p-value is then too small, so beside it stand ``ece_null_shared`` and
  ``ece_p_shared``, the same draws with one uniform number per person deciding all its
  photos' answers (right where it falls below a photo's confidence: still calibrated photo
  by photo, and a person's answers as alike as calibrated answers can be — the comonotone
  coupling, which maximises every pair's covariance): read the honest p as between the
  two;
- ``bins``: the reliability diagram's points (per bin: rows, mean confidence, accuracy);
- ``curve``: selective accuracy against coverage — the accuracy over the most confident
  ``coverage`` share of the group's faces. Answering only when sure can widen the gap between
  groups rather than close it (Jones et al. 2021, selective classification);
- with a ``threshold`` (the faces answered without review), ``selective``: the share of the
  group's faces at or above it (coverage), the accuracy over them with its 95 % interval, and
  the share of the group's errors that pass it unreviewed.

Across groups: the gap between the highest and lowest over-confidence and ECE (and, with a
threshold, coverage and selective accuracy, the latter over the groups with an answer: none
where fewer than two have one) and, along an ordered grouping, the change of the
over-confidence per step of the order (least squares, with a robust normal interval; a bootstrap
over persons when photos repeat them), each group at its class's place in the attribute's
order: a class without rows between two with rows still counts a step, and is named among the
trend's ``gaps``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from latentplay.errors import UserError
from latentplay.intervals import effective_wilson, proportion_interval, t_interval
from latentplay.metrics.verification import rate_trend, slope_interval
from latentplay.outputs import finite_or_none, gaps_text
from latentplay.resample import DRAW_CELLS, clusters, mean_intervals
from latentplay.store.schema import group_places, trend_groups

BINS = 10
"""Confidence bins of the ECE and the reliability diagram."""

BINNINGS = ("width", "mass")
"""Equal-width bins of [0, 1], or bins holding equal shares of the rows."""

COVERAGES = np.linspace(0.05, 1.0, 20)
"""Coverages of the selective accuracy curve."""


def bin_edges(confidence: np.ndarray, bins: int = BINS, binning: str = "width") -> np.ndarray:
    """``(k + 1,)`` bin edges over [0, 1]: ``bins`` equal-width bins, or for ``mass`` the
    quantiles of ``(n,)`` confidences at ``0, 1/bins, ..., 1`` (bins of equal rows; tied
    confidences merge bins, so ``k <= bins``)."""
    check_binning(binning)
    if binning == "width" or not len(confidence):
        return np.linspace(0.0, 1.0, bins + 1)
    inner = np.quantile(np.asarray(confidence, np.float64), np.linspace(0, 1, bins + 1)[1:-1])
    return np.unique(np.concatenate([[0.0], inner, [1.0]]))


def bin_index(confidence: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """``(n,)`` bin ``0..k-1`` of each confidence in [0, 1] among ``(k + 1,)`` bin ``edges``:
    bins ``(edge_b, edge_b+1]`` (a confidence on an edge in the bin below it, 1.0 in the last),
    the first one with its lower edge (0), as Guo et al. (2017) bin. Both are compared at
    float32 precision, the store's: a stored 0.3 (0.30000001) is on the edge 0.3, not above."""
    c = np.asarray(confidence, np.float32)
    found = np.searchsorted(np.asarray(edges, np.float32), c, side="left") - 1
    return np.clip(found, 0, len(edges) - 2)


def _binned(confidence: np.ndarray, bins: int, binning: str) -> tuple[np.ndarray, np.ndarray]:
    """Each row's bin and the edges."""
    edges = bin_edges(confidence, bins, binning)
    return bin_index(confidence, edges), edges


def expected_calibration_error(confidence: np.ndarray, correct: np.ndarray,
                               bins: int = BINS, binning: str = "width") -> float:
    """ECE of ``(n,)`` confidences and ``(n,)`` right/wrong answers: the rows-weighted mean
    over the bins of |accuracy - mean confidence|; NaN without rows."""
    if not len(confidence):
        return float("nan")
    index, edges = _binned(confidence, bins, binning)
    gap = np.bincount(index, weights=np.asarray(correct, np.float64) - confidence,
                      minlength=len(edges) - 1)
    return float(np.abs(gap).sum() / len(confidence))


def null_ece(confidence: np.ndarray, n_draws: int = 1000, seed: int = 0,
             bins: int = BINS, binning: str = "width",
             persons: np.ndarray | None = None) -> np.ndarray:
    """``(n_draws,)`` ECEs of a perfectly calibrated classifier with these ``(n,)``
    confidences: each answer drawn right with probability its confidence (consistency
    resampling). With ``(n,)`` ``persons``, one uniform number per person decides all its
    photos' answers (right where it is below the photo's confidence): each answer is still
    right with its confidence, and a person's answers are as alike as that allows. Either way
    the draws do not depend on the rows' order: without ``persons`` the numbers go to the
    confidences in ascending order, with them to the persons in their sorted order. Draws are
    made in chunks, so memory does not grow with ``n_draws x n``."""
    c = np.asarray(confidence, np.float64)
    if persons is None:
        c = np.sort(c)
    if not len(c):
        return np.full(n_draws, np.nan)
    rng = np.random.default_rng(seed)
    index, edges = _binned(c, bins, binning)  # the bins stay those of the confidences
    onehot = np.zeros((len(c), len(edges) - 1))
    onehot[np.arange(len(c)), index] = 1.0
    unit, units = (None, len(c)) if persons is None else clusters(persons)
    step = max(1, DRAW_CELLS // len(c))
    out = []
    for start in range(0, n_draws, step):
        draws = rng.random((min(step, n_draws - start), units))
        right = (draws if unit is None else draws[:, unit]) < c
        out.append(np.abs((right - c) @ onehot).sum(axis=1) / len(c))
    return np.concatenate(out)


def _simulated_p(observed: float, null: np.ndarray) -> float:
    """``(1 + #{null >= observed}) / (len(null) + 1)``: never 0, the observed value counting
    as one draw of the ``(n_draws,)`` null."""
    return float((1 + np.sum(null >= observed - 1e-12)) / (len(null) + 1))


def reliability(confidence: np.ndarray, correct: np.ndarray, bins: int = BINS,
                binning: str = "width") -> list[dict[str, float]]:
    """The reliability diagram's points: per non-empty bin its bounds, rows, mean confidence
    and accuracy."""
    index, edges = _binned(confidence, bins, binning)
    points = []
    for b in np.unique(index):
        rows = index == b
        points.append({"low": float(edges[b]), "high": float(edges[b + 1]), "n": int(rows.sum()),
                       "confidence": float(confidence[rows].mean()),
                       "accuracy": float(np.mean(correct[rows]))})
    return points


def selective_curve(confidence: np.ndarray, correct: np.ndarray,
                    coverages: np.ndarray = COVERAGES) -> list[dict[str, float]]:
    """Accuracy over the most confident ``coverage`` share of ``(n,)`` answers, for each
    coverage (at least one answer each): ``[{"coverage", "accuracy"}]``. Where the cut falls
    among tied confidences, which of them are answered is a draw: the accuracy is its
    expectation (the tied answers' accuracy for the share taken), whatever the rows' order."""
    if not len(confidence):
        return []
    order = np.argsort(-np.asarray(confidence, np.float64), kind="stable")
    ranked = -np.asarray(confidence, np.float64)[order]                 # ascending
    hits = np.concatenate([[0.0], np.cumsum(np.asarray(correct, np.float64)[order])])
    counts = np.unique(np.maximum(1, np.round(coverages * len(order)).astype(np.int64)))
    start = np.searchsorted(ranked, ranked[counts - 1], side="left")  # the k-th's ties
    end = np.searchsorted(ranked, ranked[counts - 1], side="right")
    right = hits[start] + (counts - start) * (hits[end] - hits[start]) / (end - start)
    return [{"coverage": float(k / len(order)), "accuracy": float(r / k)}
            for k, r in zip(counts, right, strict=True)]


def selective(confidence: np.ndarray, correct: np.ndarray, threshold: float,
              persons: np.ndarray | None = None, seed: int = 0) -> dict[str, Any]:
    """The answers at or above ``threshold`` of ``(n,)`` confidences: their share
    (``coverage``), accuracy with its 95 % interval (Wilson's, or a bootstrap over ``(n,)``
    ``persons``; None when none is answered), and the share of the errors among them
    (``errors_passed``; None without errors). Both are compared at float32 precision, the
    store's, as :func:`bin_index` compares: a stored 0.9 (0.89999998) is at ``0.9``, answered."""
    accepted = np.asarray(confidence, np.float32) >= np.float32(threshold)
    right = np.asarray(correct, bool)
    k, hits, errors = int(accepted.sum()), int((accepted & right).sum()), int((~right).sum())
    low, high = (proportion_interval(right[accepted], None if persons is None
                                     else persons[accepted], seed) if k else (None, None))
    return {"threshold": threshold, "accepted": k, "coverage": k / len(right),
            "accuracy": hits / k if k else None, "low": low, "high": high,
            "errors_passed": (k - hits) / errors if errors else None}


def check_binning(binning: str) -> None:
    """A :class:`UserError` unless ``binning`` is one of :data:`BINNINGS`."""
    if binning not in BINNINGS:
        raise UserError(f"--binning must be {' or '.join(BINNINGS)}, got {binning!r}")


def check_threshold(threshold: float | None) -> None:
    """A :class:`UserError` unless ``threshold`` is None or in (0, 1]."""
    if threshold is not None and not 0 < threshold <= 1:
        raise UserError(f"--threshold must be in (0, 1], got {threshold}")


def group_calibration(confidence: np.ndarray, correct: np.ndarray, names: list[str],
                      groups: np.ndarray, keep: np.ndarray, ordered: bool,
                      persons: np.ndarray | None = None, seed: int = 0, bins: int = BINS,
                      n_draws: int = 1000, threshold: float | None = None,
                      binning: str = "width", order: list[str] | None = None
                      ) -> dict[str, Any]:
    """Calibration per group (module docstring).

    Args:
        confidence: ``(N,)`` the probability of the predicted class; NaN where none was made.
        correct: ``(N,)`` whether the prediction is right.
        names, groups: the groups' names and each row's ``(N,)`` group code (-1: none).
        keep: ``(N,)`` rows with a label and a group.
        ordered: the groups have an order (adds the trend).
        persons: ``(N,)`` person codes when photos repeat persons (intervals over persons).
        threshold: the confidence at or above which answers pass unreviewed, or None.
        binning: ``width`` or ``mass`` (each group's own equal-row bins).
        order: the classes the ordered groups step along (default ``names``): the trend
            takes each group's place among them, a class without rows still a step.

    Returns:
        ``{"groups": [row per group], "overall": row, "without_confidence": rows,
        "across": {...} | None, "bins": bins, "binning": binning, "draws": n_draws,
        "threshold": threshold}``.
    """
    check_threshold(threshold)
    check_binning(binning)
    c = np.asarray(confidence, np.float64)
    right = np.asarray(correct, bool)
    scored = keep & np.isfinite(c)
    signed = c - right

    def row(name: str, rows: np.ndarray) -> dict[str, Any]:
        n = int(rows.sum())
        out: dict[str, Any] = {"group": name, "n": n}
        if not n:
            return out
        low: float | None = None
        high: float | None = None
        if persons is None and n > 1:      # rows independent: the t interval of a mean
            _, low, high = t_interval(signed[rows])
            low, high = _as_share(signed[rows], low, high)
        elif persons is not None and len(np.unique(persons[rows])) > 1:   # one person: none
            low, high = mean_intervals(signed[rows][:, None], persons[rows], 1000, seed)[0]
        ece = expected_calibration_error(c[rows], right[rows], bins, binning)
        null = _null_fields(ece, null_ece(c[rows], n_draws, seed, bins, binning))
        shared = {} if persons is None else _null_fields(
            ece, null_ece(c[rows], n_draws, seed, bins, binning, persons[rows]), "_shared")
        return {**out, "confidence": float(c[rows].mean()), "accuracy": float(right[rows].mean()),
                "overconfidence": float(signed[rows].mean()), "low": finite_or_none(low),
                "high": finite_or_none(high), "ece": ece, **null, **shared,
                "bins": reliability(c[rows], right[rows], bins, binning),
                "curve": selective_curve(c[rows], right[rows]),
                **({} if threshold is None
                   else {"selective": selective(c[rows], right[rows], threshold,
                                                None if persons is None else persons[rows],
                                                seed)})}

    table = [row(name, scored & (groups == g)) for g, name in enumerate(names)]
    return {"groups": table, "overall": row("all rows", scored),
            "without_confidence": int((keep & ~np.isfinite(c)).sum()), "bins": bins,
            "binning": binning, "draws": n_draws, "threshold": threshold,
            "null_over_photos": persons is not None,
            "across": _across(table, signed, scored, groups,
                              group_places(names, order) if ordered else None,
                              names if order is None else order, persons, seed)}


def _as_share(signed: np.ndarray, low: float, high: float) -> tuple[float, float]:
    """The t interval ``(low, high)`` of the mean of a group's ``(n,)`` ``signed`` gaps
    (confidence minus right), widened to Wilson's at its ``n`` rows where the gaps all lie in
    [0, 1] (every confidence 1, the gap the share of wrong answers), as
    :func:`~latentplay.resample.mean_intervals` takes such values over persons: a group whose
    confidences are all 1 and answers all right had the interval 0 to 0."""
    if not ((signed >= 0) & (signed <= 1)).all():
        return low, high
    wilson_low, wilson_high = effective_wilson(float(signed.mean()), len(signed))
    return min(low, wilson_low), max(high, wilson_high)


def _null_fields(ece: float, null: np.ndarray, suffix: str = "") -> dict[str, float]:
    """``ece_null`` and ``ece_p`` (``+ suffix``: ``_shared`` for the draws sharing each
    person's answers, module docstring) of an ``ece`` beside its ``(n_draws,)`` chance ECEs."""
    return {f"ece_null{suffix}": float(null.mean()), f"ece_p{suffix}": _simulated_p(ece, null)}


def _across(table: list[dict[str, Any]], signed: np.ndarray, scored: np.ndarray,
            groups: np.ndarray, places: np.ndarray | None, order: list[str],
            persons: np.ndarray | None, seed: int) -> dict[str, Any] | None:
    """Gaps between the groups with rows of ``table`` and, given the ``(G,)`` ``places`` of
    ordered groups among the classes of ``order``, the trend of the ``(N,)`` ``signed``
    over-confidence per step of the order over the ``scored`` rows of ``(N,)`` ``groups``,
    naming its ``groups`` and ``gaps``."""
    rows = [r for r in table if r["n"]]
    if len(rows) < 2:
        return None
    over = [r["overconfidence"] for r in rows]
    eces = [r["ece"] for r in rows]
    out: dict[str, Any] = {"overconfidence_gap": max(over) - min(over),
                           "ece_gap": max(eces) - min(eces)}
    if "selective" in rows[0]:
        coverage = [r["selective"]["coverage"] for r in rows]
        answered = [r["selective"]["accuracy"] for r in rows
                    if r["selective"]["accuracy"] is not None]
        out["coverage_gap"] = max(coverage) - min(coverage)
        # one group answered: no gap to take (0 would read as equal accuracy)
        out["selective_accuracy_gap"] = max(answered) - min(answered) if len(answered) > 1 else None
    if places is not None and len(rows) > 2:
        position = np.append(places, -1)[groups]            # a row without a group: -1
        use = scored & (position >= 0)
        out["trend"] = {**(slope_interval(signed[use], position[use]) if persons is None
                           else rate_trend(signed[use], position[use], persons[use], seed=seed)),
                        **trend_groups(order, np.unique(position[use]))}
    return out


def ece_p_text(p: float, draws: int) -> str:
    """The ECE's simulated p-value as text: ``<= 1/(draws + 1)`` when no calibrated draw
    reached the ECE (the smallest p the draws can give)."""
    smallest = 1 / (draws + 1)
    return f"<= {smallest:.2g}" if p <= smallest * (1 + 1e-9) else f"{p:.2g}"


def selective_text(s: dict[str, Any] | None) -> str:
    """``; at >= 0.9: 85 % answered, accuracy 0.97 [..], 40 % of errors pass``, or ''."""
    if s is None:
        return ""
    accuracy = "none answered" if s["accuracy"] is None else \
        f"accuracy {s['accuracy']:.3f} [{s['low']:.3f}, {s['high']:.3f}]"
    passed = "" if s["errors_passed"] is None else \
        f", {100 * s['errors_passed']:.0f} % of its errors pass"
    return f"; at >= {s['threshold']:g}: {100 * s['coverage']:.0f} % answered, {accuracy}{passed}"


def calibration_lines(summary: dict[str, Any]) -> list[str]:
    """What ``audit accuracy`` prints of the calibration per group."""
    cal = summary["calibration"]
    kind = "equal-row " if cal.get("binning") == "mass" else ""
    lines = [f"calibration ({summary['confidence']}; over-confidence = mean confidence - "
             f"accuracy, ECE over {cal['bins']} {kind}bins beside a calibrated classifier's by "
             "chance)" + (f"; {cal['without_confidence']} rows without one left out"
                          if cal["without_confidence"] else "")]
    if cal.get("null_over_photos"):
        lines.append("  (photos of one person answered alike make a larger ECE likelier by chance: "
                     "the chance ECE and its p draw every photo's answer alone, which reads p too "
                     "small, and again with one draw per person deciding its photos' answers, as "
                     "alike as calibrated answers can be (\"shared\"): read p as between the two. "
                     "The over-confidence intervals are over persons)")
    for r in [*cal["groups"], cal["overall"]]:
        if not r["n"]:
            lines.append(f"  {r['group']}: no rows")
            continue
        lines.append(f"  {r['group']}: confidence {r['confidence']:.3f}, accuracy "
                     f"{r['accuracy']:.3f}, over-confidence {r['overconfidence']:+.3f}"
                     + ("" if r["low"] is None else f" [{r['low']:+.3f}, {r['high']:+.3f}]")
                     + f", ECE {r['ece']:.3f} (chance "
                     f"{r['ece_null']:.3f}, p {ece_p_text(r['ece_p'], cal['draws'])}"
                     + ("" if "ece_p_shared" not in r else
                        f"; shared: chance {r['ece_null_shared']:.3f}, p "
                        f"{ece_p_text(r['ece_p_shared'], cal['draws'])}") + ")"
                     + selective_text(r.get("selective")))
    across = cal.get("across") or {}
    if across:
        lines.append(f"  across groups: over-confidence gap {across['overconfidence_gap']:.3f}, "
                     f"ECE gap {across['ece_gap']:.3f}"
                     + ("" if "coverage_gap" not in across else
                        f"; at {cal['threshold']:g}: coverage gap {across['coverage_gap']:.3f}"
                        + ("" if across["selective_accuracy_gap"] is None else
                           f", accuracy gap {across['selective_accuracy_gap']:.3f}")))
    trend = across.get("trend")
    if trend:
        lines.append(f"  along {summary['by']}{gaps_text(trend.get('gaps'))}: over-confidence "
                     f"{trend['slope']:+.3f} per step [{trend['low']:+.3f}, {trend['high']:+.3f}]")
    return lines
