"""Mutual Information Gap (Chen et al. 2018, "Isolating Sources of Disentanglement in VAEs").

For each factor, the gap between the two code dimensions sharing most mutual information
with it, divided by the factor's entropy; averaged over factors. Codes are discretised into
20 equal-width bins per dimension, as disentanglement_lib does (``discrete_mig``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from latentplay.errors import UserError
from latentplay.metrics.information import (
    NUM_BINS,
    discrete_entropy,
    discrete_mutual_info,
    histogram_discretize,
)
from latentplay.metrics.registry import register
from latentplay.metrics.sampling import Represent, check_arrays, sample_factors_codes


def _compute_mig(factors: np.ndarray, codes: np.ndarray, num_bins: int = NUM_BINS) -> dict[str, float]:
    """MIG of ``(N, D)`` codes against ``(N, K)`` discrete factors (needs D >= 2)."""
    mi = discrete_mutual_info(histogram_discretize(codes, num_bins), factors)  # (D, K)
    top = np.sort(mi, axis=0)[::-1]
    entropy = discrete_entropy(factors)
    with np.errstate(divide="ignore", invalid="ignore"):
        gap = (top[0] - top[1]) / entropy
    return {"discrete_mig": float(np.mean(gap))}


def mig_arrays(
    factors: Any,
    codes: Any,
    factors_test: Any = None,
    codes_test: Any = None,
    *,
    random_state: int | None = 0,
    num_bins: int = NUM_BINS,
) -> dict[str, float]:
    """MIG on the given rows (no test split: test arrays are ignored)."""
    f, c = check_arrays(factors, codes)
    if c.shape[1] < 2:
        raise UserError("MIG needs codes with at least 2 dimensions")
    return _compute_mig(f, c, num_bins)


@register(
    "mig",
    arrays=mig_arrays,
    fast={"num_train": 2000},
    aliases=("discrete_mig",),
    description="Mutual Information Gap (20-bin histograms)",
    split=False,
)
def compute_mig(
    ground_truth: Any,
    represent: Represent,
    rng: np.random.Generator,
    num_train: int = 10000,
    batch_size: int = 16,
    num_bins: int = NUM_BINS,
) -> dict[str, float]:
    """MIG on ``num_train`` sampled points (disentanglement_lib: ``mig.num_train=10000``)."""
    factors, codes = sample_factors_codes(ground_truth, represent, num_train, rng, batch_size)
    return mig_arrays(factors, codes, num_bins=num_bins)
