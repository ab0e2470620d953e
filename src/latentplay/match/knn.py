"""Nearest available controls for a set of treated units, in blocks, never an n x n matrix.

:class:`ControlSearch` answers "the ``k`` nearest controls that are still available" for any set
of query rows. Controls that matching has used are removed from the searched set as it goes
(compacted copies for the exact index, ``remove_ids`` for IVF, an ID filter for HNSW), so a
second search for a unit whose candidates were all taken finds fresh ones.

Each answer comes with a *bound* per row: every available control that was not returned lies at
squared distance >= that bound (``inf`` when all available controls were examined). For the
exact index this is what lets greedy matching stay exact while only holding ``k`` candidates per
unit. Distances are recomputed in float64 for the returned pairs, so orderings do not depend on
faiss' float32 ``|x|^2 + |y|^2 - 2xy`` rounding.

One-dimensional data (propensity logits) uses a sorted array instead of faiss: exact and
``O((n + m k) log n)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import faiss
import numpy as np

INDEX_KINDS = ("auto", "exact", "ivf", "hnsw")
AUTO_EXACT_MAX_WORK = 1e13
"""``--index auto`` picks the exact index while ``n_treated * n_controls * dim`` is at most
this (about a minute or two of exact search on 2 cores), IVF above it."""
EXACT_BELOW = 50_000
"""Approximate indexes switch to exact search once this few controls remain available."""
QUERY_BLOCK = 8192
IVF_LISTS_PER_SQRT_N = 4
"""IVF lists: ``4 sqrt(n_controls)`` (faiss' guideline is 4 to 16 sqrt(n))."""
PCA_VARIANCE = 0.99
PCA_MIN_DIMS = 32
"""The IVF index searches the principal components that hold ``PCA_VARIANCE`` of the variance
(at least ``PCA_MIN_DIMS``; none when that is more than half the dimensions) and ranks its
candidates again by full distances: scanning costs in proportion to the dimension."""


def index_dims(sample: np.ndarray) -> int:
    """Dimensions the IVF index works in for ``(n, d)`` points: ``d``, or fewer principal
    components when those hold :data:`PCA_VARIANCE` of the variance."""
    d = sample.shape[1]
    if d <= 2 * PCA_MIN_DIMS:
        return d
    centred = sample[: 20_000].astype(np.float64) - sample[: 20_000].mean(axis=0)
    var = np.linalg.eigvalsh(centred.T @ centred)[::-1]
    dims = max(PCA_MIN_DIMS, int(np.searchsorted(np.cumsum(var) / var.sum(), PCA_VARIANCE)) + 1)
    return d if dims > d // 2 else dims


def choose_index(kind: str, n_treated: int, n_controls: int, dim: int) -> str:
    """Resolve ``auto`` to ``exact`` or ``ivf`` from the amount of exact-search work."""
    if kind not in INDEX_KINDS:
        raise ValueError(f"index must be one of {INDEX_KINDS}, got {kind!r}")
    if kind != "auto":
        return kind
    if dim == 1:
        return "exact"
    work = float(n_treated) * float(n_controls) * float(dim)
    return "exact" if work <= AUTO_EXACT_MAX_WORK else "ivf"


@dataclass
class Candidates:
    """Answer of :meth:`ControlSearch.search` for ``m`` query rows.

    Attributes:
        ids: ``(m, k)`` int64 control row numbers, nearest first; ``-1`` pads short rows.
        d2: ``(m, k)`` float64 squared distances (``inf`` where ``ids`` is ``-1``).
        bound: ``(m,)`` float64; every available control not in the row is at squared distance
            >= ``bound`` (``inf`` when the row holds every available control).
    """

    ids: np.ndarray
    d2: np.ndarray
    bound: np.ndarray


@dataclass
class SecondCaliper:
    """A second condition on pairs: their Euclidean distance in another space (the propensity
    logit, face descriptors, ...) must be at most ``width``.

    Attributes:
        treated: ``(n_t, g)`` float64 treated units in the second space.
        controls: ``(n_c, g)`` float64 controls in the second space.
        width: largest allowed distance there.
    """

    treated: np.ndarray
    controls: np.ndarray
    width: float

    def restrict(self, units: np.ndarray, found: Candidates) -> Candidates:
        """``found`` for treated rows ``units`` (``(m,)``) without the controls each unit may not
        be paired with: allowed candidates move left in their order, ``-1`` pads. The bound is
        unchanged: it bounds the controls the search did not return, allowed or not."""
        ids = found.ids
        allowed = np.empty(ids.shape, dtype=bool)
        step = max(1, 262_144 // max(1, ids.shape[1] * self.controls.shape[1]))
        for s in range(0, len(units), step):
            diff = self.controls[np.maximum(ids[s : s + step], 0)]
            diff -= self.treated[units[s : s + step], None, :]
            allowed[s : s + step] = np.einsum("ijk,ijk->ij", diff, diff) <= self.width**2
        allowed &= ids >= 0
        order = np.argsort(~allowed, axis=1, kind="stable")
        return Candidates(
            np.take_along_axis(np.where(allowed, ids, -1), order, axis=1),
            np.take_along_axis(np.where(allowed, found.d2, np.inf), order, axis=1),
            found.bound,
        )


class ControlSearch:
    """k-nearest available controls of query points.

    Args:
        controls: ``(n_c, d)`` float32 control covariates in the matching space.
        index: ``exact`` (faiss ``IndexFlatL2``, or a sorted array when ``d == 1``), ``ivf``
            (``IndexIVFFlat``) or ``hnsw`` (``IndexHNSWFlat``).
        seed: seeds the IVF k-means sample.
        nprobe: IVF lists probed per query.
        ef_search: HNSW search breadth.
        progress: optional callback ``(done, total)`` called after each query block.
        exact_below: an approximate index searches exactly once this few controls are left
            available (None: :data:`EXACT_BELOW`; 0: never).

    Attributes:
        used: the kinds of search that searches ran: ``exact`` (the exact index, the sorted
            array, or an approximate index's last ``exact_below`` controls) and ``ivf`` or
            ``hnsw`` when that index was searched. Empty before the first search.
    """

    def __init__(
        self,
        controls: np.ndarray,
        index: str = "exact",
        *,
        seed: int = 0,
        nprobe: int = 16,
        ef_search: int = 128,
        progress: Callable[[int, int], None] | None = None,
        exact_below: int | None = None,
    ) -> None:
        self.controls = np.ascontiguousarray(controls, dtype=np.float32)
        self.exact_below = EXACT_BELOW if exact_below is None else exact_below
        self.n, self.dim = self.controls.shape
        self.kind = "exact" if index == "auto" else index
        self.seed = seed
        self.nprobe = nprobe
        self.ef_search = ef_search
        self.progress = progress
        self.available = np.ones(self.n, dtype=bool)
        self.searches = 0
        self.distances = 0  # distance evaluations by exact searches (a machine-free cost)
        self.used: set[str] = set()  # how searches searched: "exact" and/or self.kind
        self._removed = np.zeros(self.n, dtype=bool)  # removed from the approximate index
        self._base: np.ndarray | None = None  # control rows held by the exact index
        self._flat: faiss.Index | None = None
        self._approx: faiss.Index | None = None
        self._ivf: faiss.IndexIVFFlat | None = None
        self._sorted: tuple[np.ndarray, np.ndarray] | None = None  # 1-d: (values, rows)
        if self.kind in ("ivf", "hnsw") and self.dim > 1:
            self._approx = self._build_approx()

    # -- public -----------------------------------------------------------------------------
    def mark_used(self, rows: np.ndarray) -> None:
        """Make control ``rows`` unavailable for later searches."""
        self.available[np.asarray(rows, dtype=np.int64)] = False

    def search(self, queries: np.ndarray, k: int) -> Candidates:
        """The ``k`` nearest available controls of each ``(m, d)`` query row."""
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        m = len(queries)
        n_avail = int(self.available.sum())
        k = max(1, min(int(k), n_avail)) if n_avail else 1
        self.searches += 1
        if n_avail == 0 or m == 0:
            return Candidates(
                np.full((m, k), -1, np.int64), np.full((m, k), np.inf), np.full(m, np.inf)
            )
        if self.dim == 1:
            self.used.add("exact")
            return self._search_sorted(queries, k)
        if self._approx is not None and n_avail > self.exact_below:
            self.used.add(self.kind)
            found = self._search_approx(queries, k)
            if k == n_avail:  # each row holds every available control
                found.bound[:] = np.inf
            return found
        return self._search_exact(queries, k)

    # -- exact ------------------------------------------------------------------------------
    def _exact_base(self) -> np.ndarray:
        """Rows in the flat index; rebuilt (compacted) once half of them have been used."""
        n_avail = int(self.available.sum())
        if self._base is None or n_avail <= 0.5 * len(self._base):
            self._base = np.flatnonzero(self.available)
            self._flat = faiss.IndexFlatL2(self.dim)
            self._flat.add(self.controls[self._base])
        return self._base

    def _search_exact(self, queries: np.ndarray, k: int) -> Candidates:
        self.used.add("exact")
        base = self._exact_base()
        self.distances += len(queries) * len(base)
        usable = self.available[base]
        frac = max(float(usable.mean()), 1e-9)
        k_ask = min(len(base), math.ceil(k / frac) + (8 if frac < 1 else 0))
        out_ids, out_d2, out_bound = [], [], []
        for start in range(0, len(queries), QUERY_BLOCK):
            block = queries[start : start + QUERY_BLOCK]
            d2, pos = self._flat.search(block, k_ask)
            rows = np.where(pos >= 0, base[np.maximum(pos, 0)], -1)
            bound = d2[:, -1].astype(np.float64) if k_ask < len(base) else np.full(len(block), np.inf)
            keep = (rows >= 0) & self.available[np.maximum(rows, 0)]
            ids, dd = self._refine(block, rows, keep, k_ask)  # all kept: the bound is k_ask's
            out_ids.append(ids)
            out_d2.append(dd)
            out_bound.append(_loosen(bound, block))
            self._tick(start + len(block), len(queries))
        return Candidates(np.concatenate(out_ids), np.concatenate(out_d2), np.concatenate(out_bound))

    # -- approximate ------------------------------------------------------------------------
    def _build_approx(self) -> faiss.Index:
        if self.kind == "ivf":
            nlist = int(np.clip(round(IVF_LISTS_PER_SQRT_N * math.sqrt(self.n)), 16, 65536))
            nlist = min(nlist, max(1, self.n // 32))
            rng = np.random.default_rng(self.seed)
            n_train = min(self.n, 32 * nlist)
            sample = self.controls[np.sort(rng.choice(self.n, n_train, replace=False))]
            dims = index_dims(sample)
            ivf = faiss.IndexIVFFlat(faiss.IndexFlatL2(dims), dims, nlist)
            ivf.cp.seed = self.seed
            ivf.cp.niter = 10
            ivf.cp.min_points_per_centroid = 1  # no warning for the small training sample
            ivf.nprobe = min(self.nprobe, nlist)
            index: faiss.Index = ivf
            if dims < self.dim:
                index = faiss.IndexPreTransform(faiss.PCAMatrix(self.dim, dims), ivf)
            index.train(sample)
            index.add(self.controls)
            self._ivf = ivf
            return index
        index = faiss.IndexHNSWFlat(self.dim, 32)
        index.hnsw.efConstruction = 40
        index.add(self.controls)
        return index

    def _search_approx(self, queries: np.ndarray, k: int) -> Candidates:
        index = self._approx
        gone = ~self.available & ~self._removed
        params = None
        if self.kind == "ivf":
            if gone.any():
                index.remove_ids(faiss.IDSelectorBatch(np.flatnonzero(gone).astype(np.int64)))
                self._removed |= gone
        else:
            keep_bits = np.packbits(self.available, bitorder="little")
            selector = faiss.IDSelectorBitmap(self.n, faiss.swig_ptr(keep_bits))
            params = faiss.SearchParametersHNSW(sel=selector, efSearch=max(self.ef_search, 2 * k))
        # Candidates found in a PCA-reduced space are ranked again by their full distances.
        k_ask = k if self._ivf is None or self._ivf.d == self.dim else 2 * k
        out_ids, out_d2, out_bound = [], [], []
        for start in range(0, len(queries), QUERY_BLOCK):
            block = queries[start : start + QUERY_BLOCK]
            ids, dd = self._approx_block(block, k, k_ask, params)
            bound = dd[:, -1].copy()
            short = ~np.isfinite(bound)  # probed lists ran dry
            if short.any() and self.kind == "ivf":  # probe more lists (all of them at the end)
                ivf, nprobe = self._ivf, self._ivf.nprobe
                try:
                    while short.any() and ivf.nprobe < ivf.nlist:
                        ivf.nprobe = min(ivf.nlist, 4 * ivf.nprobe)
                        rows = np.flatnonzero(short)
                        ids[rows], dd[rows] = self._approx_block(block[rows], k, k_ask, None)
                        bound[rows] = dd[rows, -1]
                        short = ~np.isfinite(bound)
                finally:
                    ivf.nprobe = nprobe
                # every list probed: a short row holds every available control
            elif short.any():  # HNSW: ask the exact index instead
                exact = _first(self._search_exact(block[short], k), k)
                ids[short], dd[short], bound[short] = exact.ids, exact.d2, exact.bound
            out_ids.append(ids)
            out_d2.append(dd)
            out_bound.append(bound)
            self._tick(start + len(block), len(queries))
        return Candidates(np.concatenate(out_ids), np.concatenate(out_d2), np.concatenate(out_bound))

    def _approx_block(
        self, block: np.ndarray, k: int, k_ask: int, params: object
    ) -> tuple[np.ndarray, np.ndarray]:
        """``(m, k)`` ids and full-space d2 of the approximate index's ``k_ask`` candidates."""
        if params is not None:
            _, rows = self._approx.search(block, k_ask, params=params)
        else:
            _, rows = self._approx.search(block, k_ask)
        keep = (rows >= 0) & self.available[np.maximum(rows, 0)]
        return self._refine(block, rows, keep, k)

    # -- one dimension ----------------------------------------------------------------------
    def _search_sorted(self, queries: np.ndarray, k: int) -> Candidates:
        if self._sorted is None:
            values = self.controls[:, 0].astype(np.float64)
            order = np.argsort(values, kind="stable")
            self._sorted = (values[order], order.astype(np.int64))
        if len(self._sorted[1]) != int(self.available.sum()):  # drop used rows, keep the order
            values, rows = self._sorted
            keep = self.available[rows]
            self._sorted = (values[keep], rows[keep])
        values, rows = self._sorted
        n = len(values)
        q = queries[:, 0].astype(np.float64)
        out_ids, out_d2, out_bound = [], [], []
        for start in range(0, len(q), 4 * QUERY_BLOCK):
            qb = q[start : start + 4 * QUERY_BLOCK]
            pos = np.searchsorted(values, qb)
            lo = np.clip(pos - k, 0, max(n - 2 * k, 0))
            window = lo[:, None] + np.arange(min(2 * k, n))[None, :]
            d2 = (values[window] - qb[:, None]) ** 2
            order = np.lexsort((rows[window], d2), axis=-1)
            ids = np.take_along_axis(rows[window], order[:, :k], axis=1)
            dd = np.take_along_axis(d2, order, axis=1)
            if 2 * k >= n:  # the window is everything
                bound = np.full(len(qb), np.inf)
            else:  # nearest values left and right of the window bound what was not examined
                left = np.where(lo > 0, values[np.maximum(lo - 1, 0)], -np.inf)
                hi = lo + 2 * k
                right = np.where(hi < n, values[np.minimum(hi, n - 1)], np.inf)
                bound = np.minimum((qb - left) ** 2, (right - qb) ** 2)
            if dd.shape[1] > k:  # window members not returned
                bound = np.minimum(bound, dd[:, k])
            dd = dd[:, :k]
            out_ids.append(ids)
            out_d2.append(dd)
            out_bound.append(bound)
            self._tick(start + len(qb), len(q))
        return Candidates(np.concatenate(out_ids), np.concatenate(out_d2), np.concatenate(out_bound))

    # -- helpers ----------------------------------------------------------------------------
    def _refine(
        self, block: np.ndarray, rows: np.ndarray, keep: np.ndarray, k: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Squared distances of the kept pairs from coordinate differences (no cancellation,
        summed in float64), sorted by distance then row; the first ``k`` per row."""
        safe = np.where(keep, rows, 0)
        d2 = np.empty(rows.shape, dtype=np.float64)
        step = max(1, 262_144 // max(1, rows.shape[1] * self.dim))
        for s in range(0, len(block), step):
            diff = self.controls[safe[s : s + step]]
            diff -= block[s : s + step, None, :]
            d2[s : s + step] = np.einsum("ijk,ijk->ij", diff, diff, dtype=np.float64)
        d2[~keep] = np.inf
        ids = np.where(keep, rows, -1)
        order = np.lexsort((np.where(keep, rows, np.iinfo(np.int64).max), d2), axis=-1)[:, :k]
        ids = np.take_along_axis(ids, order, axis=1)
        d2 = np.take_along_axis(d2, order, axis=1)
        if ids.shape[1] < k:
            pad = k - ids.shape[1]
            ids = np.pad(ids, ((0, 0), (0, pad)), constant_values=-1)
            d2 = np.pad(d2, ((0, 0), (0, pad)), constant_values=np.inf)
        return ids, d2

    def _tick(self, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(done, total)


def _loosen(bound: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """Lower a float32 faiss bound by more than its rounding error, so exactness is never
    overstated: faiss computes ``|q|^2 + |c|^2 - 2qc`` and ``|c|^2 <= 2|q|^2 + 2 d^2``."""
    q2 = np.einsum("ij,ij->i", queries, queries).astype(np.float64)
    finite = np.isfinite(bound)
    return np.where(finite, bound - 1e-5 * (3.0 * q2 + 2.0 * np.where(finite, bound, 0.0)), bound)


def _first(found: Candidates, k: int) -> Candidates:
    """The first ``k`` candidates of each row, the bound lowered to the first one left out."""
    if found.ids.shape[1] <= k:
        pad = k - found.ids.shape[1]
        return Candidates(
            np.pad(found.ids, ((0, 0), (0, pad)), constant_values=-1),
            np.pad(found.d2, ((0, 0), (0, pad)), constant_values=np.inf),
            found.bound,
        )
    return Candidates(found.ids[:, :k], found.d2[:, :k], np.minimum(found.bound, found.d2[:, k]))
