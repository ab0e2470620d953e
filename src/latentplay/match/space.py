"""The space units are matched in: scaled covariates, optional PCA, whitening, Mahalanobis.

Every transform is fitted on all units of both groups and returns float32 points whose
Euclidean distance is the matching distance.
"""

from __future__ import annotations

import numpy as np
from sklearn.decomposition import PCA

from latentplay.errors import UserError


def standardize(x: np.ndarray) -> np.ndarray:
    """Centre each column of ``(n, p)`` ``x`` and divide by its SD (constant columns: by 1)."""
    x = np.asarray(x, dtype=np.float64)
    sd = x.std(axis=0)
    sd[sd == 0] = 1.0
    return (x - x.mean(axis=0)) / sd


def reduce(x: np.ndarray, components: int | None, whiten: bool, seed: int = 0) -> np.ndarray:
    """Optional PCA of ``(n, p)`` ``x`` to ``components`` dimensions (whitened if asked)."""
    if not components:
        if whiten:
            return PCA(whiten=True, random_state=seed).fit_transform(x)
        return x
    if components > min(x.shape):
        raise UserError(
            f"--pca {components} is more than the covariates allow ({min(x.shape)} at most)"
        )
    return PCA(n_components=components, whiten=whiten, random_state=seed).fit_transform(x)


def mahalanobis(x: np.ndarray, treated: np.ndarray) -> np.ndarray:
    """Map ``(n, p)`` ``x`` so Euclidean distance is the Mahalanobis distance under the pooled
    within-group covariance (directions of near-zero variance are dropped).

    Args:
        x: covariates of all units.
        treated: ``(n,)`` bool group of each unit.
    """
    x = np.asarray(x, dtype=np.float64)
    parts = [x[treated] - x[treated].mean(axis=0), x[~treated] - x[~treated].mean(axis=0)]
    resid = np.concatenate([p for p in parts if len(p)])
    dof = max(1, len(resid) - sum(1 for p in parts if len(p)))
    cov = resid.T @ resid / dof
    values, vectors = np.linalg.eigh(cov)
    keep = values > values.max() * 1e-10
    if not keep.any():
        raise UserError("the covariates do not vary within the groups; nothing to match on")
    return (x - x.mean(axis=0)) @ (vectors[:, keep] / np.sqrt(values[keep]))


def matching_space(
    x: np.ndarray,
    treated: np.ndarray,
    *,
    metric: str = "euclidean",
    scale: bool = True,
    pca: int | None = None,
    whiten: bool = False,
    seed: int = 0,
) -> np.ndarray:
    """Points ``(n, q)`` float32 whose Euclidean distances are the matching distances.

    Args:
        x: ``(n, p)`` covariates.
        treated: ``(n,)`` bool.
        metric: ``euclidean`` or ``mahalanobis``.
        scale: standardize each covariate first (Euclidean only; Mahalanobis is scale-free).
        pca: keep this many principal components (None: all).
        whiten: scale the principal components to unit variance.
        seed: PCA solver seed.
    """
    z = standardize(x) if scale or metric == "mahalanobis" else np.asarray(x, np.float64)
    z = reduce(z, pca, whiten, seed)
    if metric == "mahalanobis":
        z = mahalanobis(z, treated)
    elif metric != "euclidean":
        raise ValueError(f"unknown metric {metric!r}")
    return np.ascontiguousarray(z, dtype=np.float32)
