"""FactorVAE score (Kim & Mnih 2018), as disentanglement_lib computes it.

Codes are scaled by their global variances (estimated on ``num_variance_estimate`` points;
dimensions whose standard deviation is below ``prune_threshold``, and constant ones, are
ignored). Each vote fixes one random factor across a batch of ``batch_size`` observations and
names the active dimension with the smallest scaled variance; a majority-vote classifier maps
dimensions to factors. Scores are its accuracy on the training and evaluation votes.

``num_active_dims`` counts the dimensions kept. (disentanglement_lib reports ``len`` of its
boolean mask there, i.e. all dimensions; the accuracies are unaffected.)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from latentplay.errors import UserError
from latentplay.metrics.registry import register
from latentplay.metrics.sampling import Represent, represent_factors, sample_factors_codes

CHUNK_OBSERVATIONS = 4096  # observations encoded per call of ``represent``


def votes_from_codes(
    factor_index: np.ndarray,
    codes: np.ndarray,
    global_variances: np.ndarray,
    active: np.ndarray,
    num_factors: int,
) -> np.ndarray:
    """Vote matrix ``(K, D)`` from ``(P, B, D)`` batch codes whose factor ``factor_index[p]``
    was held fixed. The vote goes to the position, among the active dimensions, of the
    smallest ``local variance / global variance`` (as disentanglement_lib indexes it)."""
    local = np.var(codes, axis=1, ddof=1)  # (P, D)
    argmin = np.argmin(local[:, active] / global_variances[active], axis=1)
    votes = np.zeros((num_factors, len(global_variances)), dtype=np.int64)
    np.add.at(votes, (factor_index, argmin), 1)
    return votes


def _sample_votes(
    ground_truth: Any,
    represent: Represent,
    batch_size: int,
    num_points: int,
    rng: np.random.Generator,
    global_variances: np.ndarray,
    active: np.ndarray,
) -> np.ndarray:
    k = ground_truth.num_factors
    labels = rng.integers(k, size=num_points)
    per_chunk = max(1, CHUNK_OBSERVATIONS // batch_size)
    votes = np.zeros((k, len(global_variances)), dtype=np.int64)
    for start in range(0, num_points, per_chunk):
        idx = labels[start : start + per_chunk]
        p = len(idx)
        f = np.asarray(ground_truth.sample_factors(p * batch_size, rng)).reshape(p, batch_size, k)
        rows = np.arange(p)
        f[rows, :, idx] = f[rows, 0, idx][:, None]
        codes = represent_factors(ground_truth, represent, f.reshape(-1, k), rng, p * batch_size)
        votes += votes_from_codes(idx, codes.reshape(p, batch_size, -1), global_variances, active, k)
    return votes


def accuracy_from_votes(train_votes: np.ndarray, eval_votes: np.ndarray) -> dict[str, float]:
    """Majority-vote classifier from ``(K, D)`` training votes; train and eval accuracy."""
    classifier = np.argmax(train_votes, axis=0)
    cols = np.arange(train_votes.shape[1])
    return {
        "train_accuracy": float(train_votes[classifier, cols].sum() / train_votes.sum()),
        "eval_accuracy": float(eval_votes[classifier, cols].sum() / eval_votes.sum()),
    }


@register(
    "factor_vae",
    arrays=None,
    fast={"num_train": 500, "num_eval": 250, "num_variance_estimate": 1000},
    aliases=("factor_vae_metric", "factor_vae_score", "factorvae"),
    description="FactorVAE score (majority vote on the least-varying dimension)",
    images=lambda s: s["num_variance_estimate"] + s["batch_size"] * (s["num_train"] + s["num_eval"]),
)
def compute_factor_vae(
    ground_truth: Any,
    represent: Represent,
    rng: np.random.Generator,
    batch_size: int = 64,
    num_train: int = 10000,
    num_eval: int = 5000,
    num_variance_estimate: int = 10000,
    prune_threshold: float = 0.05,
) -> dict[str, float]:
    """FactorVAE score (disentanglement_lib's study config: batch 64, 10000 train, 5000 eval,
    10000 points for the variances, ``prune_dims.threshold=0.05``)."""
    if batch_size < 2 or num_variance_estimate < 2 or num_train < 1 or num_eval < 1:
        raise UserError(
            "factor_vae: batch_size and num_variance_estimate must be at least 2 (the votes compare "
            "sample variances), num_train and num_eval at least 1"
        )
    _, codes = sample_factors_codes(ground_truth, represent, num_variance_estimate, rng, CHUNK_OBSERVATIONS)
    global_variances = np.var(codes, axis=0, ddof=1)
    # A constant dimension is never active, even with prune_threshold 0: its scaled local
    # variance would be 0 / 0 = NaN, which argmin picks, so it would take every vote.
    active = (np.sqrt(global_variances) >= prune_threshold) & (global_variances > 0)
    if not active.any():
        return {"train_accuracy": 0.0, "eval_accuracy": 0.0, "num_active_dims": 0.0}
    train = _sample_votes(ground_truth, represent, batch_size, num_train, rng, global_variances, active)
    evaluation = _sample_votes(ground_truth, represent, batch_size, num_eval, rng, global_variances, active)
    return {**accuracy_from_votes(train, evaluation), "num_active_dims": float(active.sum())}
