"""Discretisation and discrete mutual information, as disentanglement_lib computes them.

Arrays follow latentplay's convention: one row per point, ``codes`` ``(N, D)`` and ``factors``
``(N, K)`` (disentanglement_lib transposes both internally). Mutual information is in nats.
"""

from __future__ import annotations

import numpy as np

from latentplay.errors import UserError

NUM_BINS = 20  # disentanglement_lib's ``discretizer.num_bins`` in every study config


def histogram_discretize(values: np.ndarray, num_bins: int = NUM_BINS) -> np.ndarray:
    """Bin every column into ``num_bins`` equal-width bins spanning its own min..max.

    Matches ``np.digitize(x, np.histogram(x, num_bins)[1][:-1])`` column by column, the
    histogram discretiser of disentanglement_lib: bin numbers run from 1 to ``num_bins``.
    A column whose range is too narrow for ``num_bins`` distinct edges in its own precision
    (a nearly constant float32 dimension, where ``np.histogram`` raises) is binned with the
    same equal-width rule computed in float64.

    Args:
        values: ``(N, D)`` array.
        num_bins: number of bins per column.

    Returns:
        ``(N, D)`` int64 bin numbers.
    """
    if num_bins < 1:
        raise UserError(f"num_bins must be at least 1, got {num_bins}")
    values = np.asarray(values)
    out = np.empty(values.shape, dtype=np.int64)
    for d in range(values.shape[1]):
        column = values[:, d]
        try:
            edges = np.histogram_bin_edges(column, num_bins)[:-1]
        except ValueError:  # "Too many bins for data range", or a non-finite range
            if not np.all(np.isfinite(column)):
                raise
            edges = None
        if edges is None or np.any(np.diff(edges) <= 0):  # older NumPy: coinciding edges, no error
            out[:, d] = _equal_width_bins(column.astype(np.float64), num_bins)
            continue
        out[:, d] = np.searchsorted(edges, column, side="right")
    return out


def _equal_width_bins(column: np.ndarray, num_bins: int) -> np.ndarray:
    """Bin numbers 1..``num_bins`` of a ``(N,)`` float64 column over its min..max (the last bin
    closed, as ``np.digitize`` with the histogram's edges puts the maximum; a constant column
    goes to the middle bin, as ``np.histogram``'s ``v - 0.5 .. v + 0.5`` edges put it)."""
    low, high = column.min(), column.max()
    if high == low:
        return np.full(len(column), num_bins // 2 + 1, dtype=np.int64)
    bins = np.floor((column - low) / (high - low) * num_bins).astype(np.int64)
    return np.minimum(bins, num_bins - 1) + 1


def _dense_labels(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Map each column of ``(N, M)`` labels to 0..c-1; returns ``(codes (N, M), counts (M,))``."""
    codes = np.empty(labels.shape, dtype=np.int64)
    counts = np.empty(labels.shape[1], dtype=np.int64)
    for m in range(labels.shape[1]):
        uniq, codes[:, m] = np.unique(labels[:, m], return_inverse=True)
        counts[m] = len(uniq)
    return codes, counts


def discrete_mutual_info(codes: np.ndarray, factors: np.ndarray) -> np.ndarray:
    """Mutual information between every discrete code column and every factor column.

    Equal to ``sklearn.metrics.mutual_info_score(factors[:, k], codes[:, d])`` for each pair,
    computed from one joint histogram per pair.

    Args:
        codes: ``(N, D)`` discrete labels (e.g. from :func:`histogram_discretize`).
        factors: ``(N, K)`` discrete labels.

    Returns:
        ``(D, K)`` float64 mutual information in nats (clipped at 0 as scikit-learn does).
    """
    codes = np.asarray(codes)
    factors = np.asarray(factors)
    n = codes.shape[0]
    a, na = _dense_labels(codes)
    b, nb = _dense_labels(factors)
    out = np.zeros((codes.shape[1], factors.shape[1]), dtype=np.float64)
    for k in range(factors.shape[1]):
        pb = np.bincount(b[:, k], minlength=nb[k]).astype(np.float64)
        for d in range(codes.shape[1]):
            if na[d] == 1 or nb[k] == 1:  # a constant labelling shares no information
                continue
            joint = np.bincount(a[:, d] * nb[k] + b[:, k], minlength=na[d] * nb[k])
            joint = joint.reshape(na[d], nb[k]).astype(np.float64)
            pa = joint.sum(axis=1)
            i, j = np.nonzero(joint)
            nij = joint[i, j]
            mi = np.sum(nij / n * (np.log(nij) + np.log(n) - np.log(pa[i]) - np.log(pb[j])))
            out[d, k] = max(mi, 0.0)
    return out


def discrete_entropy(factors: np.ndarray) -> np.ndarray:
    """Entropy in nats of each column of ``(N, K)`` discrete labels; returns ``(K,)``."""
    factors = np.asarray(factors)
    b, nb = _dense_labels(factors)
    out = np.empty(factors.shape[1], dtype=np.float64)
    for k in range(factors.shape[1]):
        p = np.bincount(b[:, k], minlength=nb[k]) / factors.shape[0]
        out[k] = -np.sum(p * np.log(p))
    return out
