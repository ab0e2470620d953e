"""BetaVAE score (Higgins et al. 2017), scikit-learn variant of disentanglement_lib.

Each training point is made from two batches of ``batch_size`` observations that share one
randomly chosen factor: the feature vector is the mean absolute difference of their codes,
the label the shared factor. A logistic regression predicts the label; the scores are its
training and evaluation accuracy (``train_accuracy``, ``eval_accuracy``).

Points are drawn all at once and encoded in large batches rather than one pair at a time;
the distribution of the points is disentanglement_lib's.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from latentplay.errors import UserError
from latentplay.metrics.registry import register
from latentplay.metrics.sampling import Represent, represent_factors

CHUNK_OBSERVATIONS = 4096  # observations encoded per call of ``represent``


def pair_features(codes1: np.ndarray, codes2: np.ndarray) -> np.ndarray:
    """``(P, B, D)`` codes of paired batches -> ``(P, D)`` mean absolute differences."""
    return np.mean(np.abs(codes1 - codes2), axis=1)


def _sample_points(
    ground_truth: Any, represent: Represent, batch_size: int, num_points: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """``(num_points, D)`` features and ``(num_points,)`` labels (the fixed factor)."""
    k = ground_truth.num_factors
    labels = rng.integers(k, size=num_points)
    per_chunk = max(1, CHUNK_OBSERVATIONS // (2 * batch_size))
    feats = []
    for start in range(0, num_points, per_chunk):
        idx = labels[start : start + per_chunk]
        p = len(idx)
        f1 = np.asarray(ground_truth.sample_factors(p * batch_size, rng)).reshape(p, batch_size, k)
        f2 = np.asarray(ground_truth.sample_factors(p * batch_size, rng)).reshape(p, batch_size, k)
        rows = np.arange(p)
        f2[rows, :, idx] = f1[rows, :, idx]
        both = np.concatenate([f1.reshape(-1, k), f2.reshape(-1, k)], axis=0)
        codes = represent_factors(ground_truth, represent, both, rng, len(both))
        codes = codes.reshape(2, p, batch_size, -1)
        feats.append(pair_features(codes[0], codes[1]))
    return np.concatenate(feats, axis=0), labels


def accuracies(
    train_points: np.ndarray, train_labels: np.ndarray, eval_points: np.ndarray, eval_labels: np.ndarray
) -> dict[str, float]:
    """Fit ``LogisticRegression()`` on ``(P, D)`` points; train and eval accuracy."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = LogisticRegression().fit(train_points, train_labels)
    return {
        "train_accuracy": float(np.mean(model.predict(train_points) == train_labels)),
        "eval_accuracy": float(model.score(eval_points, eval_labels)),
    }


@register(
    "beta_vae",
    arrays=None,
    fast={"num_train": 500, "num_eval": 250},
    aliases=("beta_vae_sklearn", "betavae"),
    description="BetaVAE score (logistic regression on paired-batch differences)",
    images=lambda s: 2 * s["batch_size"] * (s["num_train"] + s["num_eval"]),
)
def compute_beta_vae(
    ground_truth: Any,
    represent: Represent,
    rng: np.random.Generator,
    batch_size: int = 64,
    num_train: int = 10000,
    num_eval: int = 5000,
) -> dict[str, float]:
    """BetaVAE score (disentanglement_lib: ``batch_size=64``, 10000 train, 5000 eval points)."""
    if batch_size < 1 or num_train < 1 or num_eval < 1:
        raise UserError("beta_vae: batch_size, num_train and num_eval must be at least 1")
    train = _sample_points(ground_truth, represent, batch_size, num_train, rng)
    if len(np.unique(train[1])) < 2:
        raise UserError(
            f"beta_vae: the {num_train} training points hold one fixed factor only; the classifier "
            "needs two (more points, or a ground truth with two factors at least)"
        )
    evaluation = _sample_points(ground_truth, represent, batch_size, num_eval, rng)
    return accuracies(*train, *evaluation)
