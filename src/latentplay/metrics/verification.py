"""Face-verification measures of pair distances: is a pair one person or two?

A verification system embeds two faces and calls them the same person when their distance is
below a threshold ``t`` (``d < t``). On labelled pairs (genuine: one person; impostor: two
people):

* **FMR** (false match rate) ``= #{impostor d < t} / #impostor``; **FNMR** (false non-match
  rate) ``= #{genuine d >= t} / #genuine``; TAR = 1 - FNMR (ISO/IEC 19795-1 terms);
* **threshold_at_fmr**: the threshold of a target FMR, read off the impostor distances;
* **ROC AUC** (probability that a genuine pair is closer than an impostor pair, ties half) and
  **EER** (the rate where FMR and FNMR cross, linear between the two neighbouring thresholds);
* **TAR at FMR** ``f``: 1 - FNMR at the group's own threshold of FMR ``f`` — reported only when
  there are at least ``1 / f`` impostor pairs;
* **k-fold accuracy** (the LFW / RFW protocol): on each fold, the accuracy of the threshold that
  maximises accuracy on the other folds; mean and standard deviation over folds. Accuracy is
  *balanced*, ``1 - (FMR + FNMR) / 2``: genuine and impostor pairs weigh alike however many of
  each there are, so groups with different mixes stay comparable; on balanced pairs (LFW's,
  RFW's) it is the plain share of pairs decided right (exactly so when every fold holds as
  many of each kind).

Demographic differentials across groups (RFW; NIST FRVT part 3): at one threshold for all
groups, the ratio of the highest to the lowest FMR and FNMR; across group accuracies, their
standard deviation and the skewed error ratio ``SER = max error / min error``.

>>> t = threshold_at_fmr(d[~same], 1e-3)
>>> rates(d, same, t)            # {'fmr': ..., 'fnmr': ..., 'false_matches': ..., ...}
>>> kfold_accuracy(d, same, folds=10, seed=0)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold

from latentplay.clustered import shared_variance
from latentplay.intervals import effective_wilson
from latentplay.resample import cluster_sums, clusters, effective_rows, expanded_tail, resampled

TAR_FMRS = (1e-1, 1e-2, 1e-3)
SPARSE_UNITS = 5
"""A group's stratum with fewer units than this is sparse (:func:`standardized_rate`)."""
SPARSE_PERSONS = 3
"""A group's stratum whose units come from fewer persons than this is sparse too, however many
units it holds (:func:`standardized_rate`): the bootstrap over persons then draws only a few
values of its rate."""


def pair_distances(z: np.ndarray, a: np.ndarray, b: np.ndarray,
                   metric: str = "euclidean") -> np.ndarray:
    """``(P,)`` float64 distances between rows ``a`` and ``b`` ``(P,)`` of embeddings ``z``
    ``(N, D)``: ``euclidean``, or ``cosine`` (1 - cosine similarity, in [0, 2])."""
    x = np.asarray(z[a], dtype=np.float64)
    y = np.asarray(z[b], dtype=np.float64)
    if metric == "euclidean":
        return np.linalg.norm(x - y, axis=1)
    if metric == "cosine":
        norms = np.linalg.norm(x, axis=1) * np.linalg.norm(y, axis=1)
        return 1.0 - np.einsum("pd,pd->p", x, y) / np.maximum(norms, 1e-12)
    raise ValueError(f"unknown metric {metric!r}; use euclidean or cosine")


def threshold_at_fmr(impostor: np.ndarray, fmr: float) -> float:
    """The largest threshold ``t`` whose FMR ``#{d < t} / n`` is at most ``fmr``, from ``(n,)``
    impostor distances: the ``(floor(fmr n) + 1)``-th smallest distance (``inf`` when that
    exceeds ``n``: every impostor may match)."""
    d = np.sort(np.asarray(impostor, dtype=np.float64))
    k = int(np.floor(fmr * len(d) + 1e-9))
    return float(d[k]) if k < len(d) else float("inf")


def rates(d: np.ndarray, same: np.ndarray, threshold: float) -> dict[str, float | int]:
    """FMR and FNMR of ``(P,)`` distances ``d`` with ``(P,)`` bool ``same`` at ``threshold``,
    with the counts behind them (``false_matches`` of ``impostor``, ``false_non_matches`` of
    ``genuine``); a rate is NaN when its pairs are missing."""
    same = np.asarray(same, dtype=bool)
    matched = np.asarray(d) < threshold
    gen, imp = int(same.sum()), int((~same).sum())
    fm, fnm = int((matched & ~same).sum()), int((~matched & same).sum())
    return {"fmr": fm / imp if imp else float("nan"), "fnmr": fnm / gen if gen else float("nan"),
            "false_matches": fm, "impostor": imp, "false_non_matches": fnm, "genuine": gen}


def _cuts(d: np.ndarray, same: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every distinct decision ``d < t`` of ``(P,)`` pairs: thresholds ``t`` (one below all
    distances, the midpoints between consecutive distinct ones, one above all) and, for each,
    how many genuine and impostor pairs fall below it."""
    order = np.argsort(d, kind="stable")
    ds, ss = np.asarray(d, dtype=np.float64)[order], np.asarray(same, dtype=bool)[order]
    last = np.r_[ds[1:] != ds[:-1], True]  # last index of each distinct distance
    values = ds[last]
    cuts = np.r_[values[0] - 1.0, (values[:-1] + values[1:]) / 2, values[-1] + 1.0]
    gen_below = np.r_[0, np.cumsum(ss)[last]]
    imp_below = np.r_[0, np.cumsum(~ss)[last]]
    return cuts, gen_below, imp_below


def best_threshold(d: np.ndarray, same: np.ndarray) -> tuple[float, float]:
    """The threshold maximising the balanced accuracy ``1 - (FMR + FNMR) / 2`` of ``d < t`` on
    ``(P,)`` pairs, and that accuracy (among the cuts between distinct distances; ties go to the
    smallest threshold)."""
    cuts, gen_below, imp_below = _cuts(d, same)
    same = np.asarray(same, dtype=bool)
    genuine, impostor = max(int(same.sum()), 1), max(int((~same).sum()), 1)
    # genuine matched / genuine + impostors rejected / impostor, times genuine * impostor: exact
    score = gen_below * impostor + (impostor - imp_below) * genuine
    best = int(np.argmax(score))
    return float(cuts[best]), float(score[best] / (2 * genuine * impostor))


def balanced_accuracy(d: np.ndarray, same: np.ndarray, threshold: float) -> float:
    """``1 - (FMR + FNMR) / 2`` of ``(P,)`` distances ``d`` with ``(P,)`` bool ``same`` (both
    kinds present) at ``threshold``: the mean of the shares of genuine pairs matched and of
    impostor pairs rejected."""
    same = np.asarray(same, dtype=bool)
    matched = np.asarray(d) < threshold
    return float((matched[same].mean() + (~matched[~same]).mean()) / 2)


def kfold_accuracy(d: np.ndarray, same: np.ndarray, folds: int = 10, seed: int | None = 0,
                   fold: np.ndarray | None = None) -> tuple[float, float, np.ndarray]:
    """The LFW / RFW protocol: ``folds`` stratified folds; each fold is scored at the threshold
    that is best on the other folds, both by balanced accuracy (:func:`best_threshold`,
    :func:`balanced_accuracy`; the plain accuracy when the kinds are equally many). Folds are
    random for a ``seed``; with ``seed=None`` they are consecutive runs of each kind of pair in
    the given order (LFW's pairs file lists its ten splits one after the other).

    With ``(P,)`` ``fold`` (a protocol's own fold of each pair) the folds are its distinct
    values instead, in sorted order, and ``folds`` and ``seed`` are not used: a pair left out
    leaves every other pair in its fold (:func:`fold_problem` says when they cannot be scored).

    Returns:
        mean accuracy, standard deviation over folds, and the ``(folds,)`` accuracies.

    Raises:
        ValueError: ``fold`` names fewer than two folds or one without both kinds of pair.
    """
    same = np.asarray(same, dtype=bool)
    if fold is None:
        split = StratifiedKFold(n_splits=folds, shuffle=seed is not None, random_state=seed)
        tests = [test for _, test in split.split(d, same)]
    else:
        problem = fold_problem(same, fold)
        if problem:
            raise ValueError(problem)
        fold = np.asarray(fold)
        tests = [np.flatnonzero(fold == k) for k in np.unique(fold)]
    acc = []
    for test in tests:
        train = np.ones(len(same), bool)
        train[test] = False
        t, _ = best_threshold(d[train], same[train])
        acc.append(balanced_accuracy(d[test], same[test], t))
    out = np.asarray(acc)
    return float(out.mean()), float(out.std()), out


def fold_problem(same: np.ndarray, fold: np.ndarray,
                 names: Sequence[str] | None = None) -> str | None:
    """Why pairs of ``(P,)`` bool ``same`` in predefined ``(P,)`` folds cannot be scored fold by
    fold (fewer than two folds, or a fold without genuine or impostor pairs); None when they
    can. A fold is named by its value, or with ``names`` (the file's names of codes ``fold``)
    by ``names[value]``."""
    same = np.asarray(same, dtype=bool)
    fold = np.asarray(fold)
    found = np.unique(fold)
    if len(found) < 2:
        return f"need pairs in at least two folds, got {len(found)}"
    for k in found:
        kinds = same[fold == k]
        if kinds.all() or not kinds.any():
            name = k if names is None else names[int(k)]
            return f"fold {name} holds no {'impostor' if kinds.all() else 'genuine'} pair"
    return None


def equal_error_rate(d: np.ndarray, same: np.ndarray) -> tuple[float, float]:
    """EER and its threshold from ``(P,)`` distances ``d`` and ``(P,)`` bool ``same`` (both
    kinds present): where FMR and FNMR cross. Over the cuts between distinct distances FNMR -
    FMR falls from 1 to -1; between the last cut where it is positive and the next one both
    rates and the threshold are taken as linear, and the EER is where the two lines meet."""
    cuts, gen_below, imp_below = _cuts(d, same)
    same = np.asarray(same, dtype=bool)
    fmr = imp_below / max(int((~same).sum()), 1)
    fnmr = 1 - gen_below / max(int(same.sum()), 1)
    gap = fnmr - fmr  # strictly falling: every cut passes a genuine or an impostor pair
    j = int(np.argmax(gap <= 0))  # the first cut at or past the crossing; gap[0] = 1 > 0
    w = gap[j - 1] / (gap[j - 1] - gap[j])  # where between cut j - 1 (0) and cut j (1)
    return (float(fmr[j - 1] + w * (fmr[j] - fmr[j - 1])),
            float(cuts[j - 1] + w * (cuts[j] - cuts[j - 1])))


def tar_at_fmr(d: np.ndarray, same: np.ndarray, fmr: float) -> float | None:
    """1 - FNMR at the threshold of FMR ``fmr`` (:func:`threshold_at_fmr` on these impostor
    pairs); None with fewer than ``1 / fmr`` impostor pairs."""
    same = np.asarray(same, dtype=bool)
    impostor = np.asarray(d)[~same]
    if len(impostor) < 1 / fmr - 1e-9 or not same.any():
        return None
    t = threshold_at_fmr(impostor, fmr)
    return float((np.asarray(d)[same] < t).mean())


@dataclass(frozen=True)
class Verification:
    """Verification measures of one set of pairs (see the module docstring)."""

    genuine: int
    impostor: int
    auc: float
    eer: float
    eer_threshold: float
    accuracy: float  # k-fold mean of balanced accuracies
    accuracy_std: float
    tar_at_fmr: dict[str, float | None]  # "0.001" -> TAR or None

    def to_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


def verification(d: np.ndarray, same: np.ndarray, folds: int = 10, seed: int | None = 0,
                 fold: np.ndarray | None = None) -> Verification:
    """Every threshold-free measure of ``(P,)`` distances ``d`` and ``(P,)`` bool ``same``
    (both kinds of pair needed, at least ``folds`` of each, or with ``(P,)`` predefined
    ``fold`` both kinds in each of at least two folds; ``seed`` and ``fold`` as in
    :func:`kfold_accuracy`)."""
    same = np.asarray(same, dtype=bool)
    d = np.asarray(d, dtype=np.float64)
    genuine, impostor = int(same.sum()), int((~same).sum())
    if fold is None and min(genuine, impostor) < folds:
        raise ValueError(f"need at least {folds} genuine and {folds} impostor pairs, got "
                         f"{genuine} and {impostor}")
    eer, eer_t = equal_error_rate(d, same)
    acc, acc_std, _ = kfold_accuracy(d, same, folds, seed, fold)
    return Verification(
        genuine=genuine, impostor=impostor, auc=float(roc_auc_score(same, -d)), eer=eer,
        eer_threshold=eer_t, accuracy=acc, accuracy_std=acc_std,
        tar_at_fmr={f"{f:g}": tar_at_fmr(d, same, f) for f in TAR_FMRS})


def ratio(values: list[float]) -> float | None:
    """Highest over lowest of non-negative ``values`` (NaN ignored); None when the lowest is 0
    or fewer than two values are left."""
    v = [x for x in values if np.isfinite(x)]
    if len(v) < 2 or min(v) <= 0:
        return None
    return float(max(v) / min(v))


def differentials(accuracies: list[float], fmrs: list[float],
                  fnmrs: list[float]) -> dict[str, float | None]:
    """Across groups: mean and standard deviation of the k-fold accuracies, the skewed error
    ratio (highest error over lowest), and the highest-over-lowest ratios of FMR and FNMR at a
    common threshold."""
    acc = np.asarray(accuracies, dtype=np.float64)
    return {"accuracy_mean": float(acc.mean()), "accuracy_std": float(acc.std()),
            "skewed_error_ratio": ratio(list(1 - acc)), "fmr_ratio": ratio(fmrs),
            "fnmr_ratio": ratio(fnmrs)}


def rate_trend(errors: np.ndarray, positions: np.ndarray, units: np.ndarray | None = None,
               n_boot: int = 1000, seed: int = 0, confidence: float = 0.95) -> dict[str, float]:
    """How an error rate changes along ordered groups: the least-squares slope of ``(P,)``
    error indicators on ``(P,)`` group positions (``0..G-1``) over the pairs, i.e. the change
    of the rate per group step, with a percentile interval over ``n_boot`` draws of the
    ``(P,)`` ``units`` (persons, each drawn with all of their rows: the subsets bootstrap of
    Bolle, Ratha & Pankanti 2004; None: rows drawn as independent), its percentiles expanded
    over few of them (:func:`~latentplay.resample.expanded_tail`). NaN when fewer than two
    positions occur.

    Returns:
        ``{"slope", "low", "high", "pairs"}``.
    """
    e = np.asarray(errors, dtype=np.float64)
    x = np.asarray(positions, dtype=np.float64)
    # per-cluster sums of 1, x, x^2, e and x e: any resample's slope is one product away
    sums = cluster_sums(np.arange(len(e)) if units is None else units,
                        [np.ones_like(x), x, x * x, e, x * e]).T

    def slopes(s: np.ndarray) -> np.ndarray:
        n, sx, sxx, se, sxe = s
        spread = n * sxx - sx * sx
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(spread > 1e-9 * np.maximum(n * n, 1), (n * sxe - sx * se) / spread,
                            np.nan)

    slope = float(slopes(sums.sum(axis=1)))
    drawn = slopes(resampled(sums.T, n_boot, seed).T)
    drawn = drawn[np.isfinite(drawn)]
    tail = 100 * expanded_tail(sums.shape[1], confidence)
    low, high = (np.percentile(drawn, [tail, 100 - tail]) if len(drawn) and np.isfinite(slope)
                 else (np.nan, np.nan))
    return {"slope": slope, "low": float(low), "high": float(high), "pairs": int(len(e))}


def slope_interval(values: np.ndarray, positions: np.ndarray,
                   persons: np.ndarray | None = None) -> dict[str, float]:
    """The least-squares slope of ``(n,)`` values on ``(n,)`` group positions with a normal
    95 % interval from its heteroskedasticity-robust (HC1) standard error: for independent
    rows, what :func:`rate_trend`'s bootstrap estimates, without a draw per row. With
    ``(n, 2)`` ``persons`` (each pair's two faces' persons) the standard error is
    dyadic-robust instead (:func:`~latentplay.clustered.shared_variance`), never below the
    one of independent rows: its sum of products of pairs that share a person can come out
    small or negative (no interval at all), as :func:`~latentplay.clustered.pair_rate_interval`
    takes its design effect as at least 1.

    Returns:
        ``{"slope", "low", "high", "pairs"}``.
    """
    e = np.asarray(values, np.float64)
    x = np.asarray(positions, np.float64) - np.mean(positions)
    sxx = float(x @ x)
    n = len(e)
    if n < 3 or sxx <= 0:
        return {"slope": float("nan"), "low": float("nan"), "high": float("nan"), "pairs": n}
    slope = float(x @ (e - e.mean()) / sxx)
    residual = e - e.mean() - slope * x
    variance = float((x * x) @ (residual * residual)) / sxx ** 2 * n / (n - 2)
    if persons is not None:
        shared = shared_variance(x * residual / sxx, persons)
        variance = max(shared, variance) if np.isfinite(shared) else shared
    half = 1.96 * np.sqrt(variance)
    return {"slope": slope, "low": slope - half, "high": slope + half, "pairs": n}


def quantile_strata(values: np.ndarray, n_strata: int) -> np.ndarray:
    """``(P,)`` codes ``0..k-1`` of ``(P,)`` finite values cut at their quantiles, a value on a
    cut going up: ``k = n_strata`` strata of equal size, fewer where ties make quantiles
    coincide. A value tied over a quantile, or at the lowest one (a frontal yaw of 0), gets a
    stratum of its own rather than the values above it: a cut at the minimum would leave the
    first stratum empty and, on a covariate of two values, put every row in one stratum."""
    edges, counts = np.unique(np.quantile(values, np.linspace(0, 1, n_strata + 1)[1:-1]),
                              return_counts=True)
    distinct = np.unique(values)
    cuts = []
    for edge, count in zip(edges, counts, strict=True):
        if edge > distinct[0]:
            cuts.append(edge)
        above = distinct[distinct > edge]
        if (count > 1 or edge == distinct[0]) and len(above):
            cuts.append(above[0])
    return np.searchsorted(np.unique(cuts), values, side="right")


def combined_strata(values: np.ndarray, n_strata: int) -> tuple[np.ndarray, int]:
    """``(P,)`` codes of the combined strata of ``(P, C)`` finite covariate values, each cut
    into ``n_strata`` quantile strata (:func:`quantile_strata`; fewer where ties merge them),
    and the number of cells ``n_strata ** C`` (code ``sum_j stratum_j n_strata ** (C-1-j)``)."""
    codes = np.zeros(len(values), np.int64)
    for j in range(values.shape[1]):
        codes = codes * n_strata + quantile_strata(values[:, j], n_strata)
    return codes, n_strata ** values.shape[1]


def _standardize(total: np.ndarray, wrong: np.ndarray) -> np.ndarray:
    """``(..., G)`` rates from ``(..., G, S)`` pair and error counts: each group's rate in every
    stratum weighted by the stratum's share of all pairs; NaN where a group has no pair in a
    stratum that has weight."""
    weight = total.sum(axis=-2)
    weight = weight / weight.sum(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = wrong / total
    terms = np.where(weight[..., None, :] > 0, rate * weight[..., None, :], 0.0)
    return terms.sum(axis=-1)


def standardized_rate(errors: np.ndarray, groups: np.ndarray, strata: np.ndarray,
                      n_groups: int, n_strata: int, persons: np.ndarray | None = None,
                      n_boot: int = 1000, seed: int = 0,
                      confidence: float = 0.95) -> dict[str, np.ndarray]:
    """Each group's error rate (a verification's FNMR, a classifier's error, or the mean of any
    per-unit error such as an absolute error) as it would be if its units were spread over the
    strata of a covariate as all units are (direct standardization).

    A group whose photos are more often turned, dark or blurred fails more often for that
    reason alone; standardizing removes the part of a gap that the strata explain, and what is
    left is the gap among comparable units.

    Args:
        errors: ``(P,)`` per unit: bool (the genuine pair was not matched, the class is wrong)
            or a number (an absolute error).
        groups: ``(P,)`` group code (``-1``: in no group, left out).
        strata: ``(P,)`` stratum code ``0..n_strata-1`` of each unit's covariate value.
        persons: ``(P,)`` person of each unit (clusters of the bootstrap); None: units are
            independent.

    Returns:
        ``rate`` and ``standardized`` ``(G,)``, ``interval`` ``(G, 2)`` (percentile bootstrap
        over persons), ``counts`` ``(G, S)`` units per group and stratum, ``missing`` ``(G,)``
        the strata other groups fill and the group does not (a stratum empty for all has no
        weight and costs nothing), ``persons`` ``(G, S)`` distinct persons per group and
        stratum (units, without ``persons``), ``sparse`` ``(G,)`` the share of the standard
        weight (all units pooled) in strata where the group has 1 to ``SPARSE_UNITS - 1``
        units, or units of fewer than ``SPARSE_PERSONS`` persons: the part of its rate that
        rests on a handful of units or persons, where the interval covers too rarely (below).
        NaN where a group lacks a stratum.

    Draws in which a group has no unit in a stratum that has weight in the data (even one
    that the draw leaves empty for all groups, which would silently drop it from the weights)
    are left out of its interval, which is thus conditional on the group filling every such
    stratum, as the rate itself is; a group that lacks one in the data gets no interval, as it
    gets no rate, nor does one that no draw gives every such stratum (single units in many
    strata). That does not narrow it: resampling within each group-stratum cell instead
    (which never loses a stratum, but cannot keep a person's units together) gave slightly
    narrower intervals of the same coverage in simulation. Both fall short where a group has
    few units in a weighted stratum (95 % intervals covering 41 % of the time with 2, 71-79 %
    with 4, 90-94 % from 10): such a cell's rate takes few values. So it does where one or two
    persons supply all of a group's units in a stratum, however many units they have (2 persons
    of 45 units each spread over 4 strata: 18-20 % coverage in simulation), hence
    ``SPARSE_PERSONS``.

    Errors of 0 and 1 (a rate): a group's interval is never narrower than Wilson's at its
    units over their design effect (:func:`~latentplay.resample.effective_rows`). The floor
    is conservative: strata whose rates differ can make a standardized rate vary a little
    less than a plain share of as many units (docs/audit.md's example: the bootstrap's 0.054
    to 0.073 is widened to Wilson's 0.052 to 0.077); without it a group without a single
    error drew 0 in every resample, and its interval was the point 0 to 0.
    """
    keep = np.asarray(groups) >= 0
    groups_kept = np.asarray(groups)[keep]
    cells = (np.asarray(groups) * n_strata + np.asarray(strata))[keep]
    wrong_pairs = np.asarray(errors, dtype=float)[keep]
    units, k = clusters(np.arange(keep.sum()) if persons is None else np.asarray(persons)[keep])
    total = np.zeros((k, n_groups * n_strata))
    wrong = np.zeros((k, n_groups * n_strata))
    np.add.at(total, (units, cells), 1.0)
    np.add.at(wrong, (units, cells), wrong_pairs)
    shape = (n_groups, n_strata)
    t0, w0 = total.sum(axis=0).reshape(shape), wrong.sum(axis=0).reshape(shape)
    with np.errstate(invalid="ignore", divide="ignore"):
        raw = w0.sum(axis=1) / t0.sum(axis=1)
    filled = t0.sum(axis=0) > 0                                     # (S,) strata with weight
    interval = np.full((n_groups, 2), np.nan)
    standardized = _standardize(t0, w0)
    if k:
        drawn = resampled(np.hstack([total, wrong]), n_boot, seed)
        drawn_total = drawn[:, :total.shape[1]].reshape(n_boot, *shape)
        boot = _standardize(drawn_total, drawn[:, total.shape[1]:].reshape(n_boot, *shape))
        complete = (drawn_total[..., filled] > 0).all(axis=-1)      # (B, G)
        tail = (1 - confidence) / 2 * 100
        rates = np.isin(wrong_pairs, (0.0, 1.0)).all()                # errors of 0 and 1
        for g in range(n_groups):
            if complete[:, g].any():
                interval[g] = np.percentile(boot[complete[:, g], g], [tail, 100 - tail])
                mine = groups_kept == g
                if rates and np.isfinite(standardized[g]):
                    low, high = effective_wilson(float(standardized[g]), effective_rows(
                        wrong_pairs[mine], units[mine]), confidence)
                    interval[g] = min(interval[g, 0], low), max(interval[g, 1], high)
    share = t0.sum(axis=0) / max(t0.sum(), 1.0)                       # (S,) standard weight
    persons_in = (total > 0).sum(axis=0).reshape(shape)               # (G, S) distinct persons
    few = (t0 < SPARSE_UNITS) | (persons_in < SPARSE_PERSONS)
    return {"rate": raw, "standardized": standardized, "interval": interval,
            "counts": t0.astype(np.int64), "persons": persons_in,
            "missing": ((t0 == 0) & filled).sum(axis=1), "sparse": ((t0 > 0) & few) @ share}
