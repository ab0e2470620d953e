"""Optimal 1:k matching: the pairs with the smallest total distance.

Up to ``DENSE_LIMIT`` treated-control pairs, the full cost matrix goes to scipy's
``linear_sum_assignment`` (exactly optimal). Larger problems are solved on the sparse graph of
each treated unit's ``max(2k, 16 ratio)`` nearest controls with
``min_weight_full_bipartite_matching``, doubling that until every treated unit can be matched:
optimal among matchings that use only those edges (within 0.2% of the true optimum in the
tests; the dense solver is exact).

With a caliper, pairs farther apart are forbidden: the dense solver first maximises the number
of pairs within the caliper, then minimises their total distance; so does the sparse solver,
once every pair within the caliper is in its graph (one solve, each graph row given a private
"unmatched" column that costs more than any matching). With ``ratio = 1`` that is the most
treated units matched; with ``ratio > 1`` the most pairs, which may give one treated unit all
its controls and leave another, that could have had one, unmatched.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import min_weight_full_bipartite_matching
from scipy.spatial.distance import cdist

from latentplay.errors import UserError
from latentplay.match.greedy import Pairs
from latentplay.match.knn import ControlSearch

DENSE_LIMIT = 25_000_000
"""Largest ``ratio * n_treated * n_controls`` solved with a dense cost matrix (~200 MB)."""
MAX_K = 1024


def optimal_match(
    treated: np.ndarray,
    controls: np.ndarray,
    *,
    ratio: int = 1,
    caliper2: float = np.inf,
    index: str = "exact",
    k: int = 16,
    seed: int = 0,
    dense_limit: int = DENSE_LIMIT,
) -> Pairs:
    """Minimum-total-distance matching of ``(n_t, d)`` treated to ``(n_c, d)`` controls.

    Each treated unit gets ``ratio`` distinct controls; no control is used twice. Needs
    ``ratio * n_t <= n_c``. Returns :class:`~latentplay.match.greedy.Pairs`.
    """
    n_t, n_c = len(treated), len(controls)
    if n_t == 0 or n_c == 0:
        return Pairs.empty()
    if ratio * n_t > n_c:
        raise UserError(
            f"optimal matching needs ratio x treated <= controls ({ratio} x {n_t} > {n_c})"
        )
    if ratio * n_t * n_c <= dense_limit:
        return _dense(treated, controls, ratio, caliper2)
    return _sparse(treated, controls, ratio, caliper2, index, k, seed)


def _dense(treated: np.ndarray, controls: np.ndarray, ratio: int, caliper2: float) -> Pairs:
    d2 = cdist(treated.astype(np.float64), controls.astype(np.float64), "sqeuclidean")
    beyond = d2 > caliper2  # on squared distances, as the greedy and sparse solvers decide
    dist = np.sqrt(d2)
    if beyond.any():
        dist[beyond] = (float(dist[~beyond].max(initial=0.0)) + 1.0) * (ratio * len(dist) + 1)
    rows, cols = linear_sum_assignment(np.repeat(dist, ratio, axis=0))
    t = rows // ratio
    ok = ~beyond[t, cols]
    d = np.sqrt(np.einsum("ij,ij->i", *(2 * [controls[cols].astype(np.float64) - treated[t]])))
    return Pairs(t[ok].astype(np.int64), cols[ok].astype(np.int64), d[ok],
                 {"solver": "dense", "index": ["exact"]})  # every distance, no index


def _sparse(
    treated: np.ndarray,
    controls: np.ndarray,
    ratio: int,
    caliper2: float,
    index: str,
    k: int,
    seed: int,
) -> Pairs:
    n_t, n_c = len(treated), len(controls)
    search = ControlSearch(controls, index, seed=seed)
    k = max(2 * k, 16 * ratio)
    while True:
        found = search.search(treated, min(k, n_c))
        ids, d2 = found.ids, found.d2
        edge = (ids >= 0) & (d2 <= caliper2)
        rows_t = np.repeat(np.arange(n_t), edge.sum(axis=1))
        cols = ids[edge]
        weight = np.sqrt(d2[edge]) + 1.0  # scipy needs nonzero weights; +1 per pair is constant
        units = np.flatnonzero(edge.sum(axis=1) >= 1)
        graph = _replicated(rows_t, cols, weight, n_t, n_c, ratio)
        try:
            r, c = min_weight_full_bipartite_matching(graph[_rows_of(units, ratio)])
            rows = _rows_of(units, ratio)[r]
            break
        except ValueError:
            pass
        if np.isfinite(caliper2) and (k >= n_c or found.bound.min() > caliper2):
            # Every edge within the caliper is in the graph: the most pairs, then the least total.
            rows, c = _most_then_cheapest(graph[_rows_of(units, ratio)])
            rows = _rows_of(units, ratio)[rows]
            break
        if k >= min(n_c, MAX_K):
            raise UserError(
                f"optimal matching found no full matching among each unit's {k} nearest "
                "controls; use --method nearest, or a smaller problem (exact blocks)"
            )
        k *= 2
    t = rows // ratio
    d = np.sqrt(np.einsum("ij,ij->i", *(2 * [controls[c].astype(np.float64) - treated[t]])))
    return Pairs(t.astype(np.int64), c.astype(np.int64), d,
                 {"solver": "sparse", "k": int(k), "index": sorted(search.used)})


def _most_then_cheapest(graph: csr_matrix) -> tuple[np.ndarray, np.ndarray]:
    """A maximum matching of the ``(m, n)`` biadjacency ``graph`` (positive weights) with the
    least total weight among maximum matchings, as ``(rows, cols)`` of its pairs.

    Each row gets a private "unmatched" column whose weight exceeds the total of all edges, so
    leaving one more row unmatched always costs more than any choice among real edges: the
    minimum-weight full matching of the extended graph serves as many rows as possible, then
    minimises their total weight.
    """
    m, n = graph.shape
    penalty = float(graph.data.sum()) + 1.0
    unmatched = csr_matrix((np.full(m, penalty), (np.arange(m), n + np.arange(m))), shape=(m, n + m))
    extended = csr_matrix((graph.data, graph.indices, graph.indptr), shape=(m, n + m)) + unmatched
    r, c = min_weight_full_bipartite_matching(extended)
    real = c < n
    return r[real], c[real]


def _rows_of(units: np.ndarray, ratio: int) -> np.ndarray:
    """Graph rows of treated ``units`` (each unit has ``ratio`` consecutive rows)."""
    return (units[:, None] * ratio + np.arange(ratio)[None, :]).reshape(-1)


def _replicated(
    rows_t: np.ndarray, cols: np.ndarray, weight: np.ndarray, n_t: int, n_c: int, ratio: int
) -> csr_matrix:
    """Biadjacency with ``ratio`` identical rows per treated unit."""
    r = (rows_t[:, None] * ratio + np.arange(ratio)[None, :]).reshape(-1)
    c = np.repeat(cols, ratio)
    w = np.repeat(weight, ratio)
    return csr_matrix((w, (r, c)), shape=(n_t * ratio, n_c))
