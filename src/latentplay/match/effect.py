"""Treatment-effect estimates: difference in outcome means, with bootstrap intervals.

After matching, the estimate is the average over matched treated units of (own outcome - mean
outcome of its matched controls), the effect on the treated (ATT). Its interval resamples
matched treated units together with their controls (the pair bootstrap of Austin & Small,
2014), percentile method.
"""

from __future__ import annotations

import numpy as np

CHUNK_DRAWS = 4_000_000  # resampled values held at once


def _percentile_interval(draws: np.ndarray, level: float) -> tuple[float, float]:
    alpha = (1.0 - level) / 2.0
    lo, hi = np.quantile(draws, [alpha, 1.0 - alpha])
    return float(lo), float(hi)


def matched_difference(
    y: np.ndarray,
    treated_rows: np.ndarray,
    control_rows: np.ndarray,
    *,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> dict:
    """ATT from matched pairs with a pair-bootstrap percentile interval.

    Args:
        y: ``(n,)`` outcome of every unit.
        treated_rows, control_rows: ``(m,)`` units of each pair (1:k pairs share a treated row).
        n_boot: bootstrap resamples.
        level: interval coverage.
        seed: bootstrap seed.

    Returns:
        ``{"estimate", "ci_low", "ci_high", "level", "n_treated", "n_boot"}``.
    """
    y = np.asarray(y, dtype=np.float64)
    if len(treated_rows) == 0:
        return {"estimate": None, "ci_low": None, "ci_high": None, "level": level,
                "n_treated": 0, "n_boot": n_boot}
    units, inverse = np.unique(treated_rows, return_inverse=True)
    control_mean = np.bincount(inverse, weights=y[control_rows]) / np.bincount(inverse)
    diff = y[units] - control_mean
    rng = np.random.default_rng(seed)
    draws = np.empty(n_boot)
    step = max(1, CHUNK_DRAWS // len(diff))
    for s in range(0, n_boot, step):
        b = min(step, n_boot - s)
        draws[s : s + b] = diff[rng.integers(0, len(diff), size=(b, len(diff)))].mean(axis=1)
    lo, hi = _percentile_interval(draws, level)
    return {"estimate": float(diff.mean()), "ci_low": lo, "ci_high": hi, "level": level,
            "n_treated": int(len(units)), "n_boot": n_boot}


def naive_difference(
    y: np.ndarray, treated: np.ndarray, *, n_boot: int = 1000, level: float = 0.95, seed: int = 0
) -> dict:
    """Difference of group means before matching, bootstrapping each group separately."""
    y = np.asarray(y, dtype=np.float64)
    yt, yc = y[treated], y[~treated]
    rng = np.random.default_rng(seed)
    draws = np.empty(n_boot)
    step = max(1, CHUNK_DRAWS // len(y))
    for s in range(0, n_boot, step):
        b = min(step, n_boot - s)
        mt = yt[rng.integers(0, len(yt), size=(b, len(yt)))].mean(axis=1)
        mc = yc[rng.integers(0, len(yc), size=(b, len(yc)))].mean(axis=1)
        draws[s : s + b] = mt - mc
    lo, hi = _percentile_interval(draws, level)
    return {"estimate": float(yt.mean() - yc.mean()), "ci_low": lo, "ci_high": hi,
            "level": level, "n_treated": int(len(yt)), "n_boot": n_boot}
