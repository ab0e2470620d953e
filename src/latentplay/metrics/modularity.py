"""Modularity and explicitness (Ridgeway & Mozer 2018, "Learning Deep Disentangled Embeddings
With the F-Statistic Loss").

*Modularity*: each code dimension should carry information about one factor only; from the
``(D, K)`` mutual information (20-bin codes), ``1 - sum_k≠k* I^2 / (I_{k*}^2 (K - 1))`` per
dimension, averaged (dimensions with no information score 0). *Explicitness*: ROC-AUC of a
logistic regression predicting each factor from all standardised codes, averaged over
factors, on the training and the test rows.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from joblib import Parallel, delayed
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from latentplay.errors import UserError
from latentplay.metrics.information import NUM_BINS, discrete_mutual_info, histogram_discretize
from latentplay.metrics.registry import register
from latentplay.metrics.sampling import (
    TRAIN_PERCENTAGE,
    Represent,
    few_rows_quiet,
    sample_factors_codes,
    train_test,
)


def modularity(mutual_information: np.ndarray) -> float:
    """Modularity from a ``(D, K)`` mutual-information matrix (a dimension that shares no
    information with any factor scores 0; with one factor, any other scores 1)."""
    sq = np.square(mutual_information)
    top = sq.max(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        per_dim = 1.0 - (sq.sum(axis=1) - top) / (top * max(sq.shape[1] - 1.0, 1.0))
    per_dim[top == 0.0] = 0.0
    return float(np.mean(per_dim))


def _one_hot(y: np.ndarray, classes: np.ndarray) -> np.ndarray:
    return (y[:, None] == classes[None, :]).astype(np.int64)


def _auc(onehot: np.ndarray, proba: np.ndarray) -> float:
    """Macro ROC-AUC over the classes present (and absent) somewhere in ``onehot``'s columns."""
    keep = (onehot.min(axis=0) == 0) & (onehot.max(axis=0) == 1)
    return float(roc_auc_score(onehot[:, keep], proba[:, keep]))


def explicitness_per_factor(
    codes: np.ndarray, y: np.ndarray, codes_test: np.ndarray, y_test: np.ndarray
) -> tuple[float, float]:
    """Train and test ROC-AUC of ``LogisticRegression()`` predicting ``y`` from standardised codes."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = LogisticRegression().fit(codes, y)
    classes = clf.classes_
    return (
        _auc(_one_hot(y, classes), clf.predict_proba(codes)),
        _auc(_one_hot(y_test, classes), clf.predict_proba(codes_test)),
    )


def modularity_explicitness_arrays(
    factors: Any,
    codes: Any,
    factors_test: Any = None,
    codes_test: Any = None,
    *,
    random_state: int | None = 0,
    num_bins: int = NUM_BINS,
    train_percentage: float = TRAIN_PERCENTAGE,
    n_jobs: int | None = -1,
) -> dict[str, float]:
    """Modularity (training rows) and explicitness (train and test rows).

    Codes are standardised with the training mean and standard deviation (a constant
    dimension keeps standard deviation 1 instead of dividing by zero). Every factor must take
    two values in the test rows, one of them seen in training (else its AUC is undefined).
    """
    f, c, ft, ct = train_test(factors, codes, factors_test, codes_test, train_percentage)
    undefined = [
        k for k in range(f.shape[1])
        if len(np.unique(ft[:, k])) < 2 or not np.isin(ft[:, k], f[:, k]).any()
    ]
    if undefined:
        raise UserError(
            f"explicitness: the test rows of factor column(s) {', '.join(map(str, undefined))} take "
            "one value only, or none seen in training, so their ROC-AUC is undefined"
        )
    mod = modularity(discrete_mutual_info(histogram_discretize(c, num_bins), f))
    mean, std = c.mean(axis=0), c.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    z, zt = (c - mean) / std, (ct - mean) / std
    with few_rows_quiet():
        aucs = Parallel(n_jobs=n_jobs, prefer="threads")(
            delayed(explicitness_per_factor)(z, f[:, k], zt, ft[:, k]) for k in range(f.shape[1])
        )
    return {
        "modularity_score": mod,
        "explicitness_score_train": float(np.mean([a for a, _ in aucs])),
        "explicitness_score_test": float(np.mean([b for _, b in aucs])),
    }


@register(
    "modularity",
    arrays=modularity_explicitness_arrays,
    fast={"num_train": 2000, "num_test": 1000},
    aliases=("modularity_explicitness", "explicitness"),
    description="Modularity (mutual information) and explicitness (logistic-regression AUC)",
)
def compute_modularity_explicitness(
    ground_truth: Any,
    represent: Represent,
    rng: np.random.Generator,
    num_train: int = 10000,
    num_test: int = 5000,
    batch_size: int = 16,
    num_bins: int = NUM_BINS,
    n_jobs: int | None = -1,
) -> dict[str, float]:
    """Modularity/explicitness on sampled points (disentanglement_lib: 10000 train, 5000 test)."""
    f, c = sample_factors_codes(ground_truth, represent, num_train, rng, batch_size)
    ft, ct = sample_factors_codes(ground_truth, represent, num_test, rng, batch_size)
    return modularity_explicitness_arrays(f, c, ft, ct, num_bins=num_bins, n_jobs=n_jobs)
