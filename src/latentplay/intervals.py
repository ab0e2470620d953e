"""Confidence intervals of proportions: Wilson's score interval, which, unlike the normal
approximation, never has zero width at 0 % or 100 % and stays inside [0, 1] (Wilson 1927;
Brown, Cai & DasGupta 2001 recommend it for small counts).

>>> wilson_interval(np.array([3, 0]), 20)     # (2, 2): [[0.052, 0.360], [0.0, 0.161]]
>>> wilson_interval(3, 20)                    # (low, high): (0.052, 0.360)
>>> proportion_interval(correct, persons)  # (low, high): a bootstrap over persons, >= Wilson's at n / deff

Means of measured values get Student's t interval, ``mean ± t·sd/√n`` (``t`` the 97.5th
percentile of t on ``n - 1`` degrees of freedom: 12.71 at two rows, 2.26 at ten, 1.98 at a
hundred, where the normal's 1.96 would be too narrow for a small group):

>>> mean, low, high = t_interval(errors)       # (n,) -> three floats
>>> mean, low, high = t_interval(proba)        # (n, A, K) -> three (A, K) arrays

Resampled estimates of several quantities get percentile intervals that hold for all of them
together (each wider than its own 95 % interval, less so the more the quantities move as one):

>>> bounds, pointwise = simultaneous_percentiles(draws)   # (B, K) -> (K, 2), e.g. 0.992
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import overload

import numpy as np
from scipy.stats import norm
from scipy.stats import t as student_t


@overload
def wilson_interval(counts: int | np.integer, n: int, confidence: float = 0.95
                    ) -> tuple[float, float]: ...


@overload
def wilson_interval(counts: np.ndarray | Sequence[int], n: int, confidence: float = 0.95
                    ) -> np.ndarray: ...


def wilson_interval(counts: np.ndarray | Sequence[int] | int | np.integer, n: int,
                    confidence: float = 0.95) -> np.ndarray | tuple[float, float]:
    """``(K, 2)`` Wilson score intervals of the proportions ``counts / n`` (``counts`` ``(K,)``);
    of one count (a scalar) the ``(low, high)`` pair of floats; NaN when ``n`` is 0.

    Raises:
        ValueError: counts outside ``0..n``, a negative ``n`` or a confidence outside (0, 1).
    """
    counts = np.asarray(counts, dtype=np.int64)
    if counts.ndim == 0:
        low, high = wilson_interval(counts[None], n, confidence)[0]
        return float(low), float(high)
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1) (0.95 for 95 %), got {confidence}")
    if n < 0 or (counts.size and not 0 <= counts.min() <= counts.max() <= n):
        raise ValueError(f"counts must be in 0..n, got {counts.tolist()} of n = {n}")
    if n == 0:
        return np.full((len(counts), 2), np.nan)
    return np.array([effective_wilson(int(k) / n, n, confidence) for k in counts], dtype=float)


def effective_wilson(share: float, n: float, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson's score interval of a proportion ``share`` seen over ``n`` independent rows, ``n``
    not necessarily whole: an effective number of rows (the rows over their design effect,
    Korn & Graubard 1998) where rows come in clusters."""
    z = float(norm.ppf(0.5 + confidence / 2))
    scale = 1 + z * z / n
    centre = (share + z * z / (2 * n)) / scale
    half = z / scale * np.sqrt(share * (1 - share) / n + z * z / (4 * n * n))
    # the interval holds the share; rounding must not push a bound past it (at 0 or 1)
    return float(min(max(centre - half, 0.0), share)), float(max(min(centre + half, 1.0), share))


def mover_difference(first: tuple[float, float, float], second: tuple[float, float, float],
                     r: float = 0.0) -> tuple[float, float]:
    """Interval of the difference ``p1 - p2`` of two shares from each share and its own
    interval, ``(p, low, high)`` each: Zou & Donner's (2008) MOVER, the distances of each
    share to its interval's near and far ends combined with the shares' correlation ``r``
    (0: Newcombe's (1998) hybrid score interval of independent shares)."""
    (p1, l1, u1), (p2, l2, u2) = first, second
    d = p1 - p2
    low = d - np.sqrt(max((p1 - l1) ** 2 + (u2 - p2) ** 2 - 2 * r * (p1 - l1) * (u2 - p2), 0))
    high = d + np.sqrt(max((u1 - p1) ** 2 + (p2 - l2) ** 2 - 2 * r * (u1 - p1) * (p2 - l2), 0))
    return float(low), float(high)


def degrees_adjusted_rows(effective: float, n: int, clusters: int,
                          confidence: float = 0.95) -> float:
    """Korn & Graubard's (1998) effective number of rows adjusted for the ``clusters - 1``
    degrees of freedom their design effect was measured on: ``effective`` (``n`` rows over
    their design effect) times ``(t(n - 1) / t(clusters - 1))^2``, the two-sided quantiles of
    Student's t at ``confidence``; so Wilson's interval at it widens as Student's t does over
    few clusters (over 8 persons of 10 photos by ``(1.99 / 2.36)^2 = 0.71``), and stays
    where it was with every row its own cluster; but never below the clusters themselves
    (``effective`` where that is fewer): persons whose photos are all alike are independent
    draws of their own, Wilson's interval over them already what it should be. ``effective``
    itself with fewer than two clusters or rows."""
    if clusters < 2 or n < 2:
        return effective
    level = 0.5 + confidence / 2
    adjusted = effective * (student_t.ppf(level, n - 1) / student_t.ppf(level, clusters - 1)) ** 2
    return max(adjusted, min(effective, clusters))


STUDENT = "Student's t"
"""The name of :func:`t_interval`'s intervals in summaries and figures."""


def t_interval(x: np.ndarray, axis: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(mean, low, high)`` of ``x`` along ``axis``: the mean of its ``n`` rows and Student's
    95 % interval ``mean ± t(0.975, n - 1)·sd/√n`` (sd with ``n - 1`` degrees of freedom), each
    of ``x``'s shape without ``axis`` (numpy floats for a ``(n,)`` ``x``), computed in float64
    whatever ``x``'s type (float16 readings of 3e4 overflowed the sum of squares to an
    interval of -inf to inf). With one row the bounds are NaN (no spread to go by), with none
    the mean too; NaN in ``x`` propagates."""
    x = np.asarray(x, dtype=np.float64)
    n = x.shape[axis]
    if n < 2:
        shape = np.delete(x.shape, axis)
        mean = x.mean(axis=axis) if n else np.full(shape, np.nan)[()]
        return mean, np.full(shape, np.nan)[()], np.full(shape, np.nan)[()]
    mean = x.mean(axis=axis)
    half = student_t.ppf(0.975, n - 1) * x.std(axis=axis, ddof=1) / np.sqrt(n)
    return mean, mean - half, mean + half


def proportion_interval(hits: np.ndarray, units: np.ndarray | None = None, seed: int = 0,
                        n_boot: int = 1000) -> tuple[float, float]:
    """95 % interval of the share of ``(n,)`` bool ``hits`` (n > 0): Wilson's when the rows
    are independent (``units`` None), else the percentile interval of a bootstrap over the
    ``(n,)`` ``units`` (persons, each drawn with all of their rows), widened where needed to
    Wilson's at the effective number of rows, ``n`` over the design effect
    (:func:`~latentplay.resample.mean_intervals`): so never a point at 0 % or 100 % or with
    a single person."""
    from latentplay.resample import mean_intervals

    hits = np.asarray(hits, bool)
    if units is None:
        low, high = wilson_interval(np.array([int(hits.sum())]), len(hits))[0]
    else:
        low, high = mean_intervals(hits[:, None].astype(float), units, n_boot, seed)[0]
    return float(low), float(high)


def simultaneous_percentiles(draws: np.ndarray, confidence: float = 0.95
                             ) -> tuple[np.ndarray, float]:
    """Percentile intervals of ``K`` quantities that hold for all of them at once.

    Each column's interval runs between its ``ζ/2`` and ``1 - ζ/2`` quantiles over the draws
    (order statistics, outward), ``ζ`` the largest for which ``confidence`` of the draws lie
    inside every column's interval together: the calibrated percentile band of Montiel Olea &
    Plagborg-Møller (2019). ``ζ`` falls between Bonferroni's ``(1 - confidence) / K`` (columns
    that move independently) and ``1 - confidence`` (one column, or columns that move as one),
    found from the draws rather than assumed.

    Args:
        draws: ``(B, K)`` resampled values of the ``K`` quantities (±inf allowed: a ratio whose
            denominator was drawn as 0). A column with any NaN is no quantity (not estimated):
            its bounds are NaN and it takes no part.
        confidence: the share of draws to hold together.

    Returns:
        ``(K, 2)`` bounds, and ``1 - ζ``: the confidence each interval has on its own.
    """
    draws = np.asarray(draws, dtype=np.float64)
    bounds = np.full((draws.shape[1], 2), np.nan)
    kept = ~np.isnan(draws).any(axis=0)
    b = draws.shape[0]
    if b < 2 or not kept.any():
        return bounds, confidence
    values = draws[:, kept]
    ordered = np.sort(values, axis=0)

    def inside(i: int) -> float:
        """Share of draws inside every interval between the ``i``-th smallest and largest."""
        return float(((values >= ordered[i]) & (values <= ordered[b - 1 - i])).all(axis=1).mean())

    low, high = 0, int(np.floor((1 - confidence) / 2 * (b - 1)))   # inside(0) is 1
    while low < high:                        # the largest i whose intervals hold enough
        middle = (low + high + 1) // 2
        low, high = (middle, high) if inside(middle) >= confidence else (low, middle - 1)
    bounds[kept] = np.stack([ordered[low], ordered[b - 1 - low]], axis=1)
    return bounds, 1 - 2 * low / (b - 1)
