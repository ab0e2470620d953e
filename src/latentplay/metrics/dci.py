"""DCI: disentanglement, completeness, informativeness (Eastwood & Williams 2018).

One gradient-boosted tree classifier per factor (scikit-learn's ``GradientBoostingClassifier``
with default settings, as in disentanglement_lib, grown by :mod:`latentplay.metrics.boosting`
about ten times faster) predicts the factor from all codes; its feature importances form the
``(D, K)`` importance matrix. *Disentanglement* weights each
code's ``1 - entropy`` over factors by the code's share of importance; *completeness* does
the same per factor over codes; *informativeness* is the classifiers' mean accuracy on the
training and test rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from joblib import Parallel, delayed

from latentplay.metrics.boosting import fit_boosted_trees
from latentplay.metrics.registry import register
from latentplay.metrics.sampling import (
    TRAIN_PERCENTAGE,
    Represent,
    sample_factors_codes,
    train_test,
)


def _fit_one(
    codes: np.ndarray,
    y: np.ndarray,
    codes_test: np.ndarray,
    y_test: np.ndarray,
    seed: np.random.SeedSequence,
) -> tuple[np.ndarray, float, float]:
    model = fit_boosted_trees(codes, y, random_state=np.random.default_rng(seed))
    train_acc = float(np.mean(model.predict(codes) == y))
    test_acc = float(np.mean(model.predict(codes_test) == y_test))
    return np.abs(model.feature_importances), train_acc, test_acc


def importance_gbt(
    factors: np.ndarray,
    codes: np.ndarray,
    factors_test: np.ndarray,
    codes_test: np.ndarray,
    random_state: int | None = 0,
    n_jobs: int | None = -1,
) -> tuple[np.ndarray, float, float]:
    """Importance matrix ``(D, K)`` and mean train/test accuracy of one GBT per factor.

    Factors are fitted in parallel (joblib threads; ``n_jobs=-1`` uses all cores);
    ``random_state`` breaks ties between equally good tree splits.
    """
    seeds = np.random.SeedSequence(random_state).spawn(factors.shape[1])
    fits = Parallel(n_jobs=n_jobs, prefer="threads")(
        delayed(_fit_one)(codes, factors[:, k], codes_test, factors_test[:, k], seeds[k])
        for k in range(factors.shape[1])
    )
    importance = np.stack([imp for imp, _, _ in fits], axis=1).astype(np.float64)
    return importance, float(np.mean([a for _, a, _ in fits])), float(np.mean([a for _, _, a in fits]))


def _one_minus_entropy(p: np.ndarray, base: int) -> np.ndarray:
    """``1 - entropy`` of each column of nonnegative ``p`` (normalised per column), log ``base``
    (a column of one entry has entropy 0: one factor, or one code, is trivially 1)."""
    q = p / p.sum(axis=0, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        h = -np.sum(np.where(q > 0, q * np.log(q), 0.0), axis=0) / np.log(max(base, 2))
    return 1.0 - h


def disentanglement(importance: np.ndarray) -> float:
    """Importance-weighted mean over codes of ``1 - H_K(P_d)``; ``importance`` is ``(D, K)``."""
    per_code = _one_minus_entropy(importance.T + 1e-11, importance.shape[1])
    weights = importance if importance.sum() != 0.0 else np.ones_like(importance)
    return float(np.sum(per_code * weights.sum(axis=1) / weights.sum()))


def completeness(importance: np.ndarray) -> float:
    """Importance-weighted mean over factors of ``1 - H_D(P_k)``; ``importance`` is ``(D, K)``."""
    per_factor = _one_minus_entropy(importance + 1e-11, importance.shape[0])
    weights = importance if importance.sum() != 0.0 else np.ones_like(importance)
    return float(np.sum(per_factor * weights.sum(axis=0) / weights.sum()))


def scores_from_importance(importance: np.ndarray, train_acc: float, test_acc: float) -> dict[str, float]:
    """disentanglement_lib's four DCI keys from an importance matrix and accuracies."""
    return {
        "informativeness_train": train_acc,
        "informativeness_test": test_acc,
        "disentanglement": disentanglement(importance),
        "completeness": completeness(importance),
    }


def dci_arrays(
    factors: Any,
    codes: Any,
    factors_test: Any = None,
    codes_test: Any = None,
    *,
    random_state: int | None = 0,
    train_percentage: float = TRAIN_PERCENTAGE,
    n_jobs: int | None = -1,
) -> dict[str, float]:
    """DCI on given rows (split 90/10 when no test rows are given)."""
    f, c, ft, ct = train_test(factors, codes, factors_test, codes_test, train_percentage)
    return scores_from_importance(*importance_gbt(f, c, ft, ct, random_state, n_jobs))


@register(
    "dci",
    arrays=dci_arrays,
    fast={"num_train": 1000, "num_test": 500},
    description="Disentanglement, completeness, informativeness (gradient-boosted trees)",
)
def compute_dci(
    ground_truth: Any,
    represent: Represent,
    rng: np.random.Generator,
    num_train: int = 10000,
    num_test: int = 5000,
    batch_size: int = 16,
    n_jobs: int | None = -1,
) -> dict[str, float]:
    """DCI on sampled points (disentanglement_lib: ``dci.num_train=10000``, ``num_test=5000``)."""
    f, c = sample_factors_codes(ground_truth, represent, num_train, rng, batch_size)
    ft, ct = sample_factors_codes(ground_truth, represent, num_test, rng, batch_size)
    return dci_arrays(f, c, ft, ct, random_state=int(rng.integers(2**31 - 1)), n_jobs=n_jobs)
