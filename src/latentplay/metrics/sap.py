"""SAP score (Kumar et al. 2018, "Variational Inference of Disentangled Latent Concepts").

A score matrix ``(D, K)`` holds how well each single code dimension predicts each factor --
the test accuracy of a linear SVM (``LinearSVC(C=0.01, class_weight="balanced")``) for
discrete factors, the squared correlation for continuous ones -- and SAP is the mean over
factors of the gap between the two best dimensions (``SAP_score``).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from joblib import Parallel, delayed
from sklearn.exceptions import ConvergenceWarning
from sklearn.svm import LinearSVC

from latentplay.errors import UserError
from latentplay.metrics.registry import register
from latentplay.metrics.sampling import (
    TRAIN_PERCENTAGE,
    Represent,
    few_rows_quiet,
    sample_factors_codes,
    train_test,
)
from latentplay.outputs import warn


def _svm_accuracy(
    x: np.ndarray, y: np.ndarray, x_test: np.ndarray, y_test: np.ndarray, seed: int | None
) -> tuple[float, bool]:
    """Test accuracy of the SVM of one code dimension ``(N,)`` for one factor, and whether it
    predicts more than one class on the test rows."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = LinearSVC(C=0.01, class_weight="balanced", random_state=seed)
        clf.fit(x[:, None], y)
        predicted = clf.predict(x_test[:, None])
        return float(np.mean(predicted == y_test)), bool(len(np.unique(predicted)) > 1)


def _one_class_note(learned: np.ndarray, codes: np.ndarray) -> str | None:
    """The note where, for some factor, the SVM of every code dimension predicted one class
    only (``learned``: ``(D, K)`` bool, more than one class predicted), naming the factors
    and the codes' median SD: LinearSVC(C=0.01) on codes as they are learns nothing from
    dimensions of small scale (SD 0.01 scored SAP 0 where the same codes times 100 scored
    0.40), as it does from uninformative ones; None where every factor has a dimension that
    splits its classes."""
    blind = np.flatnonzero(~learned.any(axis=0))
    if not len(blind):
        return None
    sd = float(np.median(codes.std(axis=0)))
    return (f"note: SAP: for factor{'s' if len(blind) > 1 else ''} "
            f"{', '.join(map(str, blind))} no code dimension's SVM predicts more than one class, "
            f"so SAP counts 0 there. LinearSVC(C=0.01) is fitted on the codes as they are (as "
            f"disentanglement_lib does), and learns nothing from dimensions of small scale "
            f"(their median SD is {sd:.2g}): if that is well below 1, multiply the codes by a "
            "constant and score them again")


def score_matrix(
    factors: np.ndarray,
    codes: np.ndarray,
    factors_test: np.ndarray,
    codes_test: np.ndarray,
    continuous_factors: bool = False,
    random_state: int | None = 0,
    n_jobs: int | None = -1,
) -> np.ndarray:
    """SAP's ``(D, K)`` matrix of per-dimension predictability.

    Args:
        factors, codes: ``(N, K)`` and ``(N, D)`` training rows.
        factors_test, codes_test: ``(M, K)`` and ``(M, D)`` test rows (discrete case only).
        continuous_factors: squared Pearson correlation instead of SVM accuracy.
        random_state: seed of the SVMs.
        n_jobs: parallel SVM fits (joblib threads; -1 = all cores).
    """
    if continuous_factors:
        c = codes.astype(np.float64) - codes.mean(axis=0, dtype=np.float64)
        f = factors.astype(np.float64) - factors.mean(axis=0)
        n = len(codes) - 1
        cov = c.T @ f / n
        var_c = np.sum(c * c, axis=0) / n
        var_f = np.sum(f * f, axis=0) / n
        with np.errstate(divide="ignore", invalid="ignore"):
            out = cov**2 / (var_c[:, None] * var_f[None, :])
        return np.where(var_c[:, None] > 1e-12, out, 0.0)
    d_dims, k_dims = codes.shape[1], factors.shape[1]
    jobs = (
        delayed(_svm_accuracy)(codes[:, i], factors[:, j], codes_test[:, i], factors_test[:, j], random_state)
        for i in range(d_dims)
        for j in range(k_dims)
    )
    with few_rows_quiet():
        values = Parallel(n_jobs=n_jobs, prefer="threads")(jobs)
    note = _one_class_note(np.array([v[1] for v in values]).reshape(d_dims, k_dims), codes)
    if note:
        warn(note)
    return np.asarray([v[0] for v in values], dtype=np.float64).reshape(d_dims, k_dims)


def avg_diff_top_two(matrix: np.ndarray) -> float:
    """Mean over columns of (largest - second largest) entry; ``matrix`` is ``(D, K)``."""
    top = np.sort(matrix, axis=0)
    return float(np.mean(top[-1] - top[-2]))


def sap_arrays(
    factors: Any,
    codes: Any,
    factors_test: Any = None,
    codes_test: Any = None,
    *,
    random_state: int | None = 0,
    continuous_factors: bool = False,
    train_percentage: float = TRAIN_PERCENTAGE,
    n_jobs: int | None = -1,
) -> dict[str, float]:
    """SAP on given rows (split 90/10 when no test rows are given). With
    ``continuous_factors`` the factors may be any real numbers (the scores use the training
    rows only)."""
    f, c, ft, ct = train_test(
        factors, codes, factors_test, codes_test, train_percentage, discrete=not continuous_factors
    )
    if c.shape[1] < 2:
        raise UserError("SAP needs codes with at least 2 dimensions")
    m = score_matrix(f, c, ft, ct, continuous_factors, random_state, n_jobs)
    return {"SAP_score": avg_diff_top_two(m)}


@register(
    "sap",
    arrays=sap_arrays,
    fast={"num_train": 2000, "num_test": 1000},
    aliases=("sap_score",),
    description="Separated Attribute Predictability (linear SVM per dimension)",
)
def compute_sap(
    ground_truth: Any,
    represent: Represent,
    rng: np.random.Generator,
    num_train: int = 10000,
    num_test: int = 5000,
    batch_size: int = 16,
    continuous_factors: bool = False,
    n_jobs: int | None = -1,
) -> dict[str, float]:
    """SAP on sampled points (disentanglement_lib: 10000 train, 5000 test, discrete factors)."""
    f, c = sample_factors_codes(ground_truth, represent, num_train, rng, batch_size)
    ft, ct = sample_factors_codes(ground_truth, represent, num_test, rng, batch_size)
    seed = int(rng.integers(2**31 - 1))
    return sap_arrays(f, c, ft, ct, random_state=seed, continuous_factors=continuous_factors, n_jobs=n_jobs)
