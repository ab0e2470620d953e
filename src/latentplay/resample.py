"""The subsets (cluster) bootstrap: resampling whole clusters — persons, or rows when each
is its own — with replacement, for intervals that respect the people behind repeated photos
or pairs (Bolle, Ratha & Pankanti 2004).

>>> sums = cluster_sums(persons, [np.ones(n), correct])   # (k, 2) per person
>>> totals, right = resampled(sums, 1000, seed=0).T       # (1000,) each
>>> mean_intervals(values, persons, 1000, seed=0)         # (A, 2) intervals of column means
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.stats import norm
from scipy.stats import t as student_t

from latentplay.intervals import effective_wilson, mover_difference

DRAW_CELLS = 1 << 22
"""Cluster counts held at once while resampling (32 MiB of int64): draws come in chunks."""


def clusters(units: np.ndarray) -> tuple[np.ndarray, int]:
    """``(N,)`` cluster index ``0..k-1`` of each row or pair (its ``units`` value, e.g. the
    person) and the number of clusters ``k``."""
    _, cluster = np.unique(units, return_inverse=True)
    return cluster, int(cluster.max()) + 1 if len(cluster) else 0


def cluster_sums(units: np.ndarray, weights: Sequence[np.ndarray]) -> np.ndarray:
    """``(k, m)`` totals per cluster of ``units`` (:func:`clusters`) of ``m`` ``(N,)`` per-row
    ``weights``: what :func:`resampled` draws from."""
    cluster, k = clusters(units)
    return np.stack([np.bincount(cluster, weights=np.asarray(w, np.float64), minlength=k)
                     for w in weights], axis=1)


COLLAPSE_AT = 20_000
"""Clusters from which :func:`resampled` first draws over the distinct totals instead."""


def resampled(sums: np.ndarray, n_boot: int, seed: int, collapse_from: int = COLLAPSE_AT
              ) -> np.ndarray:
    """``(n_boot, m)`` sums of ``(k, m)`` per-cluster totals ``sums`` over ``k`` clusters drawn
    with replacement, ``n_boot`` times. The counts of each draw are made in chunks of at most
    :data:`DRAW_CELLS`, so memory does not grow with ``n_boot x k``.

    From :data:`COLLAPSE_AT` clusters, when the totals take few distinct values (rows of
    indicators: a group, right or wrong), the draw is over the distinct totals, each as likely
    as it is common: the same distribution (clusters with equal totals are interchangeable)
    at a cost that no longer grows with ``k``. The draws themselves differ from the direct
    way's, which is why smaller sets keep it and their seeded intervals stay as they were;
    draws with no seeded intervals of their own to keep pass a lower ``collapse_from`` (0: at
    any size)."""
    k = sums.shape[0]
    if not k:
        return np.zeros((n_boot, sums.shape[1]))
    rng = np.random.default_rng(seed)
    share = np.full(k, 1 / k)
    if k >= collapse_from:
        distinct, counts = distinct_rows(sums)
        if 4 * len(distinct) <= k:
            sums, share = distinct, counts / k
    step = max(1, DRAW_CELLS // len(sums))
    return np.concatenate([
        rng.multinomial(k, share, size=min(step, n_boot - start)) @ sums
        for start in range(0, n_boot, step)])


def distinct_rows(sums: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The ``(d, m)`` distinct rows of ``(k, m)`` ``sums`` in lexicographic order and their
    ``(d,)`` counts: ``np.unique(sums, axis=0, return_counts=True)``, whose sort of whole rows
    takes seconds for many wide rows (10 s for 100,000 x 300), found instead by one key per
    row (a random projection), checked against the rows themselves, so only the distinct rows
    are sorted. Rows that share a key without being equal, or hold NaN, take the direct way."""
    key = sums @ np.random.default_rng(0).standard_normal(sums.shape[1])  # (k,)
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    step = max(1, DRAW_CELLS // max(1, sums.shape[1]))
    if not all(np.array_equal(sums[start:start + step], sums[first[inverse[start:start + step]]])
               for start in range(0, len(sums), step)):
        return np.unique(sums, axis=0, return_counts=True)
    distinct, back = np.unique(sums[first], axis=0, return_inverse=True)
    return distinct, np.bincount(back[inverse], minlength=len(distinct))


def mean_intervals(values: np.ndarray, units: np.ndarray, n_boot: int, seed: int,
                   proportion: bool | Sequence[bool] = True) -> np.ndarray:
    """``(A, 2)`` 95 % percentile intervals of the column means of ``values`` ``(n, A)`` (NaN
    left out) over ``n_boot`` resamples of the clusters of ``units`` ``(n,)`` (rows, or
    persons drawn with all of their rows), their percentiles expanded over few clusters
    (:func:`expanded_tail`); NaN where no draw has a value.

    A column whose values all lie in [0, 1] (right or wrong, a probability) is a proportion
    or like one, and its interval is never narrower than Wilson's at its effective number of
    rows (:func:`effective_rows`): the percentile interval alone shrinks to a point at 0 % or
    100 % or with a single person, and covers too seldom with few persons. (A constant column
    of 1s reads as a proportion of 100 %: Wilson's interval at its rows.) ``proportion=False``
    says the values are no proportion whatever their range (differences, measured values):
    the percentile intervals alone; one bool per column says it column by column. A column
    read on a single unit has no percentile interval (every resample is that unit: NaN, not
    a zero-width interval that looks certain)."""
    out = _percentile_intervals(values, units, n_boot, seed)
    read = np.isfinite(values)
    for j in range(values.shape[1]):
        if len(np.unique(units[read[:, j]])) < 2:
            out[j] = np.nan
    for j in np.flatnonzero(np.broadcast_to(np.asarray(proportion, bool), values.shape[1:])):
        x = values[read[:, j], j]
        if len(x) and x.min() >= 0 and x.max() <= 1:
            low, high = share_wilson(x, units[read[:, j]])
            out[j] = np.fmin(out[j, 0], low), np.fmax(out[j, 1], high)
    return out


def difference_intervals(a: np.ndarray, b: np.ndarray, units: np.ndarray, n_boot: int,
                         seed: int) -> np.ndarray:
    """``(A, 2)`` 95 % intervals of the column means of ``a - b``, two ``(n, A)`` proportions
    read on the same rows (a rate and its reference; rows where either is NaN left out): the
    percentile intervals of the differences, never narrower than the MOVER interval built
    from each side's Wilson interval at its effective rows and the sides' correlation over
    the rows (Zou & Donner 2008; Newcombe's hybrid score interval for paired proportions).
    Where neither side ever changes (both 0 %), the interval is symmetric around 0, not a
    point or a one-sided one."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    both = np.isfinite(a) & np.isfinite(b)
    out = _percentile_intervals(np.where(both, a - b, np.nan), units, n_boot, seed)
    for j in range(a.shape[1]):
        rows = both[:, j]
        if not rows.any():
            continue
        first, second = ((float(x.mean()), *share_wilson(x, units[rows]))
                         for x in (a[rows, j], b[rows, j]))
        low, high = mover_difference(first, second, _correlation(a[rows, j], b[rows, j]))
        out[j] = np.fmin(out[j, 0], low), np.fmax(out[j, 1], high)
    return out


def _correlation(x: np.ndarray, y: np.ndarray) -> float:
    """Pearson's correlation of two ``(n,)`` columns; 0 where either does not vary."""
    if x.std() == 0 or y.std() == 0:
        return 0.0
    return float(np.clip(np.corrcoef(x, y)[0, 1], -1.0, 1.0))


def _percentile_intervals(values: np.ndarray, units: np.ndarray, n_boot: int, seed: int
                          ) -> np.ndarray:
    """``(A, 2)`` 95 % percentile intervals of the column means of ``(n, A)`` ``values`` (NaN
    left out) over cluster resamples, at the expanded percentiles of each column's clusters
    (:func:`expanded_tail`); NaN where no draw has a value."""
    read = np.isfinite(values)
    a = values.shape[1]
    sums = cluster_sums(units, [np.where(read[:, j], values[:, j], 0.0) for j in range(a)]
                        + [read[:, j].astype(float) for j in range(a)])
    boot = resampled(sums, n_boot, seed)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = boot[:, :a] / boot[:, a:]
    out = np.full((a, 2), np.nan)
    for j in range(a):
        finite = means[np.isfinite(means[:, j]), j]
        if len(finite):
            tail = 100 * expanded_tail(int((sums[:, a + j] > 0).sum()))
            out[j] = np.percentile(finite, [tail, 100 - tail])
    return out


def expanded_tail(k: int, confidence: float = 0.95) -> float:
    """The share of draws each end of a percentile interval over ``k`` clusters leaves out:
    Hesterberg's (2015) expanded percentile interval, ``Phi(-sqrt(k / (k - 1)) t)``, ``t`` the
    quantile of Student's t at ``k - 1`` degrees of freedom, so that the interval is as wide
    as the t interval over the clusters where the plain percentiles (2.5 % for 95 %) narrow
    it by the bootstrap's ``(k - 1) / k`` variance and the normal quantile: 0.6 % at 8
    clusters, 1.3 % at 15, 2.0 % at 40, towards 2.5 % (over 8 persons the plain ones hold the
    truth in about 85 % of datasets; ``bench/coverage_means.py``)."""
    if k < 2:
        return (1 - confidence) / 2
    return float(norm.cdf(-np.sqrt(k / (k - 1)) * student_t.ppf(0.5 + confidence / 2, k - 1)))


def share_wilson(x: np.ndarray, units: np.ndarray) -> tuple[float, float]:
    """Wilson's 95 % interval of the mean of ``(n,)`` values ``x`` in [0, 1] at their
    effective rows over the clusters of ``(n,)`` ``units`` (:func:`effective_rows`)."""
    return effective_wilson(float(x.mean()), effective_rows(x, units))


def effective_rows(x: np.ndarray, units: np.ndarray) -> float:
    """The effective number of independent rows behind the mean ``m`` of ``(n,)`` values ``x``
    in [0, 1] over the clusters of ``(n,)`` ``units``: ``m (1 - m) / v`` (Korn & Graubard
    1998), ``v`` the mean's variance over the ``k`` clusters (``k / (k - 1)`` times the sum of
    their squared total deviations over ``n^2``, as :func:`~latentplay.clustered.rao_scott`'s)
    but never below that of independent rows, ``var(x) / n`` (a design effect of at least 1;
    with one cluster the clusters' variance cannot be measured). For a proportion (values 0
    or 1) that is ``n`` over its design effect, and ``n`` when all are 0 or all 1; other
    values that do not vary, or whose mean rounds to 0 or 1 (similarities of 1 - 1e-8), are
    worth infinitely many rows: no widening."""
    n, m = len(x), float(x.mean())
    deviation = cluster_sums(units, [x - m])[:, 0]                  # (k,)
    k = len(deviation)
    variance = max(k / (k - 1) * float(deviation @ deviation) / n**2 if k > 1 else 0.0,
                   float(x.var()) / n)
    if variance > 0 and 0 < m < 1:
        return m * (1 - m) / variance
    return float(n) if np.isin(x, (0.0, 1.0)).all() else np.inf
