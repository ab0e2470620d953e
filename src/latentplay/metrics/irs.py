"""Interventional Robustness Score (Suter et al. 2019).

For each factor ``k`` and each of its (20-bin discretised) values, the 99th percentile of
``|z - E[z | g_k]|`` within that group measures how much each code dimension still moves when
``g_k`` is held fixed; averaged over the values and normalised by the dimension's largest
deviation from its mean, ``1 -`` that is the robustness of the dimension to the other factors.
IRS is the maximum over factors per dimension, averaged with the maximal deviations as
weights. Constant code dimensions are dropped first.

``num_active_dims`` counts the non-constant dimensions. (disentanglement_lib reports
``np.sum`` of their *values* under that key, which is a bug; ``IRS`` itself is unaffected.)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from latentplay.errors import UserError
from latentplay.metrics.information import NUM_BINS, histogram_discretize
from latentplay.metrics.registry import register
from latentplay.metrics.sampling import Represent, check_arrays, sample_factors_codes

DIFF_QUANTILE = 0.99


def irs_matrix(
    factors: np.ndarray, codes: np.ndarray, diff_quantile: float = DIFF_QUANTILE
) -> tuple[np.ndarray, np.ndarray]:
    """IRS matrix ``(D, K)`` and maximal deviations ``(D,)`` of ``(N, D)`` active codes
    against ``(N, K)`` discrete (already discretised) factors."""
    max_dev = np.max(np.abs(codes - codes.mean(axis=0)), axis=0)
    cum = np.zeros((codes.shape[1], factors.shape[1]))
    for k in range(factors.shape[1]):
        values, groups = np.unique(factors[:, k], return_inverse=True)
        for g in range(len(values)):
            block = codes[groups == g]
            diffs = np.abs(block - block.mean(axis=0))
            cum[:, k] += np.quantile(diffs, diff_quantile, axis=0)
        cum[:, k] /= len(values)
    with np.errstate(divide="ignore", invalid="ignore"):
        return 1.0 - cum / max_dev[:, None], max_dev


def _compute_irs(
    factors: np.ndarray,
    codes: np.ndarray,
    diff_quantile: float = DIFF_QUANTILE,
    num_bins: int = NUM_BINS,
) -> dict[str, float]:
    """IRS of ``(N, D)`` codes against ``(N, K)`` factors (factors binned into ``num_bins``)."""
    if not 0.0 <= diff_quantile <= 1.0:
        raise UserError(f"diff_quantile must be in [0, 1], got {diff_quantile}")
    # Column-major, like disentanglement_lib's transposed arrays, so that float32 sums are
    # accumulated in the same order and the scores agree to the last digits.
    active = np.asfortranarray(codes[:, codes.var(axis=0) > 0.0])
    if active.shape[1] == 0:
        return {"IRS": 0.0, "num_active_dims": 0.0}
    matrix, max_dev = irs_matrix(histogram_discretize(factors, num_bins), active, diff_quantile)
    per_dim = matrix.max(axis=1)
    irs = np.average(per_dim, weights=max_dev) if max_dev.sum() > 0 else np.mean(per_dim)
    return {"IRS": float(irs), "num_active_dims": float(active.shape[1])}


def irs_arrays(
    factors: Any,
    codes: Any,
    factors_test: Any = None,
    codes_test: Any = None,
    *,
    random_state: int | None = 0,
    diff_quantile: float = DIFF_QUANTILE,
    num_bins: int = NUM_BINS,
) -> dict[str, float]:
    """IRS on the given rows (no test split: test arrays are ignored)."""
    f, c = check_arrays(factors, codes)
    return _compute_irs(f, c, diff_quantile, num_bins)


@register(
    "irs",
    arrays=irs_arrays,
    fast={"num_train": 2000},
    description="Interventional Robustness Score",
    split=False,
)
def compute_irs(
    ground_truth: Any,
    represent: Represent,
    rng: np.random.Generator,
    num_train: int = 10000,
    batch_size: int = 16,
    diff_quantile: float = DIFF_QUANTILE,
    num_bins: int = NUM_BINS,
) -> dict[str, float]:
    """IRS on sampled points (disentanglement_lib: ``irs.num_train=10000``, 0.99 quantile)."""
    f, c = sample_factors_codes(ground_truth, represent, num_train, rng, batch_size)
    return _compute_irs(f, c, diff_quantile, num_bins)
