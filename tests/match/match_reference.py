"""Brute-force reference matchings (dense distance matrix) for small test cases."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np


def dense_d2(treated: np.ndarray, controls: np.ndarray) -> np.ndarray:
    """``(n_t, n_c)`` float64 squared distances."""
    diff = controls.astype(np.float64)[None, :, :] - treated.astype(np.float64)[:, None, :]
    return np.einsum("ijk,ijk->ij", diff, diff)


def second_allowed(treated2: np.ndarray, controls2: np.ndarray, width: float) -> np.ndarray:
    """``(n_t, n_c)`` bool: pairs within ``width`` in the second space (a second caliper)."""
    return dense_d2(treated2, controls2) <= width**2


def greedy_reference(
    treated: np.ndarray,
    controls: np.ndarray,
    *,
    ratio: int = 1,
    caliper2: float = np.inf,
    order: str = "closest",
    seed: int = 0,
    allowed: np.ndarray | None = None,
) -> set[tuple[int, int]]:
    """The greedy matching by definition: all pairs sorted, or treated units in random order;
    pairs outside ``allowed`` (``(n_t, n_c)`` bool, a second caliper) do not exist."""
    d2 = dense_d2(treated, controls)
    if allowed is not None:
        d2 = np.where(allowed, d2, np.inf)
    n_t, n_c = d2.shape
    used = np.zeros(n_c, dtype=bool)
    count = np.zeros(n_t, dtype=int)
    pairs: set[tuple[int, int]] = set()
    if order == "closest":
        t_idx, c_idx = np.meshgrid(np.arange(n_t), np.arange(n_c), indexing="ij")
        for e in np.lexsort((c_idx.ravel(), t_idx.ravel(), d2.ravel())):
            t, c = divmod(int(e), n_c)
            if d2[t, c] > caliper2 or d2[t, c] == np.inf:
                break
            if count[t] < ratio and not used[c]:
                used[c] = True
                count[t] += 1
                pairs.add((t, c))
        return pairs
    perm = np.random.default_rng(seed).permutation(n_t)
    for r in range(ratio):
        for t in perm:
            if count[t] != r or used.all():
                continue
            row = np.where(used, np.inf, d2[t])
            c = int(np.argmin(row))
            if row[c] <= caliper2 and row[c] < np.inf:
                used[c] = True
                count[t] += 1
                pairs.add((int(t), c))
    return pairs


def replacement_reference(
    treated: np.ndarray,
    controls: np.ndarray,
    *,
    ratio: int = 1,
    caliper2: float = np.inf,
    allowed: np.ndarray | None = None,
) -> set[tuple[int, int]]:
    """With replacement by definition: each treated unit's ``ratio`` nearest (``allowed``)
    controls in the caliper (ties by control row)."""
    d2 = dense_d2(treated, controls)
    if allowed is not None:
        d2 = np.where(allowed, d2, np.inf)
    pairs: set[tuple[int, int]] = set()
    for t, row in enumerate(d2):
        for c in np.argsort(row, kind="stable")[:ratio]:
            if row[c] <= caliper2 and row[c] < np.inf:
                pairs.add((t, int(c)))
    return pairs


def read_rows(path: Path) -> list[dict]:
    """Rows of a CSV file written by a match run, as dicts of strings."""
    with open(path) as fh:
        return list(csv.DictReader(fh))
