"""2-d projections of an embedding column (t-SNE, UMAP, PCA), cached in the store.

>>> p = project(store, "dlib", method="tsne", sample=20000)
>>> p.coords          # (n, 2) float32 for store rows p.rows
>>> p.column          # "tsne__dlib__n20000": kept in the store, reused next time

Coordinates are saved as a 2-d vector column named ``<method>__<embedding>`` (plus
``__n<sample>`` for a sample and a short hash for non-default parameters); rows outside the
sample hold NaN. The column's description records the method, parameters, sample, seed and a
digest of the embedding, so a cached projection is reused only while all of them match; and,
for t-SNE and UMAP, the threads that computed it (``threads``), which the coordinates depend
on — the Annoy index builds its trees per thread and the gradient sums in a thread's order —
but which do not stop a cached projection from being reused.
"""

from __future__ import annotations

import errno
import functools
import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from latentplay import store as st
from latentplay.config import resolve, to_dict
from latentplay.errors import FULL_ERRNOS, UserError
from latentplay.jsontext import parsed_json
from latentplay.outputs import progress_bar, warn
from latentplay.reprs import short_repr
from latentplay.store.io import opened


@dataclass
class TSNEParams:
    """openTSNE options (FFT-accelerated gradients from 10,000 rows, Barnes-Hut below).

    Attributes:
        perplexity: effective number of neighbours of the classic perplexity-based affinities.
        affinity: ``perplexity`` (classic t-SNE: Gaussian affinities over ``3 * perplexity``
            neighbours), ``uniform`` (equal affinities over the ``k_neighbors`` nearest
            neighbours, which gives nearly the same embedding at a fraction of the cost, see
            Böhm, Berens & Kobak 2022), or ``auto``: perplexity up to ``auto_rows`` rows,
            uniform above.
        k_neighbors: neighbours of the uniform affinities.
        auto_rows: the ``auto`` switch-over point.
        n_iter: iterations after early exaggeration.
        early_exaggeration_iter: iterations with exaggerated attraction.
        exaggeration: attraction factor in the final phase (1 = plain t-SNE; >1 tightens
            clusters of very large data sets).
        pca_dims: reduce the embedding to this many principal components first (0: never).
        n_trees: trees of the Annoy nearest-neighbour index (fewer: faster, less exact).
        n_jobs: threads (-1: ``OMP_NUM_THREADS`` where set, else all cores).
    """

    perplexity: float = 30.0
    affinity: str = "auto"
    k_neighbors: int = 15
    auto_rows: int = 50000
    n_iter: int = 500
    early_exaggeration_iter: int = 250
    exaggeration: float = 1.0
    pca_dims: int = 50
    n_trees: int = 10
    n_jobs: int = -1

    def validate(self) -> None:
        if not self.perplexity >= 1:  # the perplexity of affinities over k >= 1 neighbours
            raise UserError(f"tsne: perplexity must be at least 1, got {self.perplexity}")
        if self.affinity not in ("auto", "perplexity", "uniform"):
            raise UserError(f"tsne: affinity must be auto, perplexity or uniform, got "
                            f"{self.affinity!r}")
        if self.k_neighbors < 1 or self.n_trees < 1:
            raise UserError("tsne: k_neighbors and n_trees must be at least 1")
        if self.n_iter < 1 or self.early_exaggeration_iter < 0:
            raise UserError("tsne: n_iter must be >= 1 and early_exaggeration_iter >= 0")

    def affinity_for(self, n: int) -> str:
        """The affinity used for ``n`` rows (``auto`` resolved)."""
        if self.affinity != "auto":
            return self.affinity
        return "perplexity" if n <= self.auto_rows else "uniform"

    def neighbors_for(self, n: int) -> int:
        """Nearest neighbours each point needs."""
        if self.affinity_for(n) == "uniform":
            return self.k_neighbors
        return int(3 * self.perplexity)

    def min_rows(self, n: int) -> int:
        return self.neighbors_for(n) + 2


@dataclass
class UMAPParams:
    """umap-learn options.

    Attributes:
        n_neighbors: size of the local neighbourhood (needs more rows than this).
        min_dist: how tightly points may pack in 2-d.
        metric: distance (``euclidean``, ``cosine`` (1 - cosine similarity), ``manhattan``
            use the Annoy index shared with t-SNE; other umap-learn metrics use its own
            search).
        n_epochs: optimisation epochs (0: umap-learn's choice, 200 above 10,000 rows).
        init: ``pca`` (fast, keeps global structure) or ``spectral`` (umap-learn's default).
        pca_dims: reduce the embedding to this many principal components first (0: never);
            with the ``euclidean`` metric only, as centring and rotating the embedding change
            cosine, manhattan and other distances.
        n_trees: trees of the Annoy nearest-neighbour index.
        n_jobs: threads of the neighbour search (-1 as for t-SNE; the seeded optimisation runs on
            one).
    """

    n_neighbors: int = 15
    min_dist: float = 0.1
    metric: str = "euclidean"
    n_epochs: int = 0
    init: str = "pca"
    pca_dims: int = 50
    n_trees: int = 10
    n_jobs: int = -1

    def validate(self) -> None:
        if self.n_neighbors < 2:
            raise UserError(f"umap: n_neighbors must be at least 2, got {self.n_neighbors}")
        if not 0 <= self.min_dist <= 1:
            raise UserError(f"umap: min_dist must be in [0, 1], got {self.min_dist}")
        if self.init not in ("pca", "spectral", "random"):
            raise UserError(f"umap: init must be pca, spectral or random, got {self.init!r}")
        if self.n_epochs < 0 or self.n_trees < 1:
            raise UserError("umap: n_epochs must be >= 0 and n_trees >= 1")

    def min_rows(self, n: int) -> int:
        return self.n_neighbors + 1


@dataclass
class PCAParams:
    """The first two principal components (``whiten`` scales both to unit variance)."""

    whiten: bool = False

    def min_rows(self, n: int) -> int:
        return 3


PARAMS: dict[str, type] = {"tsne": TSNEParams, "umap": UMAPParams, "pca": PCAParams}
TITLES = {"tsne": "t-SNE", "umap": "UMAP", "pca": "PCA"}
METHODS: tuple[str, ...] = tuple(PARAMS)


def _threads(n_jobs: int) -> int:
    """Threads for ``n_jobs``: itself (at least 1) when not negative; for -1 the
    ``OMP_NUM_THREADS`` the environment sets (as torch and the BLAS libraries follow it), else
    every core this process may run on."""
    if n_jobs >= 0:
        return max(1, n_jobs)
    limit = os.environ.get("OMP_NUM_THREADS", "")
    if limit.isdigit() and int(limit) > 0:
        return int(limit)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def _reduce(x: np.ndarray, dims: int, seed: int) -> np.ndarray:
    """``x`` projected on its first ``dims`` principal components when it has more columns."""
    if not dims or x.shape[1] <= dims or len(x) <= dims:
        return x
    from sklearn.decomposition import PCA

    return PCA(dims, svd_solver="randomized", random_state=seed).fit_transform(x)


def compute(x: np.ndarray, method: str = "tsne", params: Any = None, seed: int = 0
            ) -> np.ndarray:
    """Project ``x`` ``(n, D)`` to ``(n, 2)`` float32 with ``method`` (pure arrays, no caching).

    Args:
        x: the points; rows must be finite, and not all the same (else :class:`UserError`).
        method: ``tsne`` (openTSNE, FFT gradients), ``umap`` (umap-learn) or ``pca``.
        params: a :class:`TSNEParams` / :class:`UMAPParams` / :class:`PCAParams` (defaults if None).
        seed: random seed (same seed, machine and threads: same coordinates; t-SNE and UMAP
            at another thread count, ``n_jobs`` or ``OMP_NUM_THREADS``, lay the points out
            otherwise, equally good but not the same).
    """
    if method not in PARAMS:
        raise UserError(f"unknown projection method {method!r}; choose from: {', '.join(METHODS)}")
    params = PARAMS[method]() if params is None else params
    if not isinstance(params, PARAMS[method]):
        raise UserError(f"params of {method}: give a {PARAMS[method].__name__} (or None: its "
                        f"defaults), not {type(params).__name__}")
    if hasattr(params, "validate"):  # PCA has nothing to check
        params.validate()
    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 2:
        raise UserError(f"x to {method}: give an (n, D) array of points, got shape {x.shape}")
    bad = int((~np.isfinite(x).all(axis=1)).sum())
    if bad:
        raise UserError(f"{bad:,} of {len(x):,} rows to {method} hold NaN or infinite values; "
                        "leave them out first")
    if len(x) < params.min_rows(len(x)):
        raise UserError(f"{method} with these parameters needs at least {params.min_rows(len(x))} "
                        f"rows, got {len(x)}" + _fewer_rows_hint(method, params, len(x)))
    if not np.ptp(x, axis=0).any():
        raise UserError(f"all {len(x)} rows to project are the same vector: there is nothing to "
                        f"{method} (check the embedding column)")
    if method == "pca":
        from sklearn.decomposition import PCA

        dims = min(2, x.shape[1])
        out = PCA(dims, whiten=params.whiten, random_state=seed).fit_transform(x)
        return np.pad(out, ((0, 0), (0, 2 - dims))).astype(np.float32)
    euclidean = method == "tsne" or params.metric == "euclidean"
    x = _reduce(x, params.pca_dims if euclidean else 0, seed).astype(np.float32)
    if method == "tsne":
        return _tsne(x, params, seed)
    return _umap(x, params, seed)


def _spinner() -> Any:
    """A progress display on standard error (a terminal's only) naming the projection being
    computed: a first UMAP or t-SNE can take a minute before anything is written."""
    from rich.progress import SpinnerColumn, TextColumn, TimeElapsedColumn

    return progress_bar(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())


def _fewer_rows_hint(method: str, params: Any, n: int) -> str:
    """What would project ``n`` rows: the largest perplexity, neighbours or n_neighbors that
    fits them, or more rows where none does."""
    if method == "tsne" and params.affinity_for(n) == "uniform":
        key, value = "k_neighbors", n - 2                          # k + 2 rows
    elif method == "tsne":
        key, value = "perplexity", (n - 2) // 3                    # 3 * perplexity + 2 rows
    elif method == "umap":
        key, value = "n_neighbors", n - 1                          # n_neighbors + 1 rows
    else:
        return ""
    if value < (2 if key == "n_neighbors" else 1):
        return "; use more rows"
    return f"; use more rows, or {key} {value} at most (--param {method}.{key}={value})"


def tsne_affinities(x: np.ndarray, p: TSNEParams, seed: int) -> Any:
    """openTSNE affinities of ``x`` ``(n, d)``: Annoy neighbours, perplexity or uniform."""
    from openTSNE import affinity
    from openTSNE.nearest_neighbors import Annoy

    n_jobs = _threads(p.n_jobs)
    k = min(p.neighbors_for(len(x)), len(x) - 1)
    knn = Annoy(x, k, n_jobs=n_jobs, random_state=seed, knn_kwargs={"n_trees": p.n_trees})
    if p.affinity_for(len(x)) == "uniform":
        return affinity.Uniform(knn_index=knn, n_jobs=n_jobs, random_state=seed)
    return affinity.PerplexityBasedNN(knn_index=knn, perplexity=p.perplexity, n_jobs=n_jobs,
                                      random_state=seed)


def _tsne(x: np.ndarray, p: TSNEParams, seed: int) -> np.ndarray:
    from openTSNE import TSNE

    model = TSNE(
        n_iter=p.n_iter,
        early_exaggeration_iter=p.early_exaggeration_iter,
        exaggeration=None if p.exaggeration == 1 else p.exaggeration,
        negative_gradient_method="auto",  # FFT interpolation from 10,000 rows, Barnes-Hut below
        initialization="pca",
        n_jobs=_threads(p.n_jobs),
        random_state=seed,
    )
    return np.asarray(model.fit(x, affinities=tsne_affinities(x, p, seed)), dtype=np.float32)


ANNOY_METRICS = ("euclidean", "cosine", "manhattan")


UMAP_KERNELS = (("umap.umap_", "smooth_knn_dist"), ("umap.umap_", "compute_membership_strengths"),
                ("umap.layouts", "_nb_optimize_layout_euclidean_single_epoch"))
"""umap-learn's numba functions that a seeded UMAP runs and umap-learn compiles anew in every
process (seconds each on a small machine): :func:`cache_umap_kernels` keeps them compiled."""


@functools.cache
def cache_umap_kernels() -> None:
    """Swap :data:`UMAP_KERNELS` for copies that numba caches on disk (beside umap-learn's
    sources, or in the user's cache folder where those are read-only), so that only the first
    UMAP on a machine compiles them; one that cannot be cached, or that this umap-learn
    version lacks, is left as it is."""
    import importlib

    import numba

    for module_name, name in UMAP_KERNELS:
        module = importlib.import_module(module_name)
        kernel = getattr(module, name, None)
        if not isinstance(kernel, numba.core.registry.CPUDispatcher):
            continue
        try:
            cached = numba.jit(cache=True, locals=kernel.locals, **kernel.targetoptions)(kernel.py_func)
        except RuntimeError:  # numba finds no folder to cache it in
            continue
        setattr(module, name, cached)


def _umap(x: np.ndarray, p: UMAPParams, seed: int) -> np.ndarray:
    import warnings

    import umap
    from openTSNE.nearest_neighbors import Annoy

    cache_umap_kernels()

    knn = None
    if p.metric in ANNOY_METRICS:  # threaded and seeded; umap-learn's own search is not both
        index = Annoy(x, p.n_neighbors - 1, metric=p.metric, n_jobs=_threads(p.n_jobs),
                      random_state=seed, knn_kwargs={"n_trees": p.n_trees})
        idx, dist = index.build()
        if p.metric == "cosine":  # Annoy's angular distance sqrt(2 (1 - cos)) to umap's 1 - cos
            dist = dist ** 2 / 2
        rows = np.arange(len(x))[:, None]  # umap-learn counts each point as its own neighbour
        knn = (np.hstack([rows, idx]), np.hstack([np.zeros_like(rows, np.float32),
                                                  dist.astype(np.float32)]), None)
    model = umap.UMAP(
        n_neighbors=p.n_neighbors,
        min_dist=p.min_dist,
        metric=p.metric,
        n_epochs=p.n_epochs or None,
        init=p.init,
        random_state=seed,
        precomputed_knn=knn or (None, None, None),
    )
    with warnings.catch_warnings():  # seeding disables umap's threads; no index for transform
        warnings.simplefilter("ignore")
        return np.asarray(model.fit_transform(x), dtype=np.float32)


@dataclass
class Projection:
    """2-d coordinates of some rows of a store.

    Attributes:
        coords: ``(n, 2)`` float32.
        rows: ``(n,)`` int64 store rows the coordinates belong to.
        method, embedding: what was projected and how.
        params: the method's parameters (a dict).
        column: the store column caching the coordinates.
        cached: True when read from that column rather than computed now.
    """

    __repr__ = short_repr

    coords: np.ndarray
    rows: np.ndarray
    method: str
    embedding: str
    params: dict[str, Any] = field(default_factory=dict)
    column: str = ""
    cached: bool = False


def sample_rows(n: int, sample: int | None, seed: int) -> np.ndarray:
    """Sorted rows of a seeded random sample of ``sample`` of ``n`` rows (all when None/>= n)."""
    if sample is None or sample >= n:
        return np.arange(n)
    if sample < 1:
        raise UserError(f"--sample must be at least 1, got {sample}")
    return np.sort(np.random.default_rng(seed).choice(n, size=sample, replace=False))


def _digest(x: np.ndarray) -> str:
    return hashlib.sha1(np.ascontiguousarray(x).tobytes()).hexdigest()[:16]


def cache_column(method: str, embedding: str, params: Any, sample: int | None, seed: int
                 ) -> str:
    """Name of the column caching this projection (readable; hashed when not the defaults)."""
    name = f"{method}__{embedding}"
    if sample is not None:
        name += f"__n{sample}"
    custom = {"params": to_dict(params), "seed": seed}
    if custom != {"params": to_dict(PARAMS[method]()), "seed": 0}:
        name += "__" + hashlib.sha1(json.dumps(custom, sort_keys=True).encode()).hexdigest()[:6]
    return name


def projections(
    store: st.Store | str | os.PathLike[str],
    embeddings: Sequence[str],
    methods: Sequence[str] = ("tsne",),
    *,
    params: Sequence[str] = (),
    sample: int | None = None,
    seed: int = 0,
    cache: bool = True,
) -> tuple[st.Store, list[Projection]]:
    """Project each embedding column with each method, reusing and filling the store's cache.

    Args:
        store: a store or its path.
        embeddings: vector columns to project.
        methods: any of ``tsne``, ``umap``, ``pca``.
        params: ``method.key=value`` (or ``key=value`` when one method is asked) overrides,
            e.g. ``tsne.perplexity=50``.
        sample: project a seeded random sample of this many rows (all rows when None).
        seed: seed of the sample and of the method.
        cache: read and write coordinate columns in the store (saved once, atomically: a
            ``Store`` object loaded before is then out of date; load it again to save it).

    Returns:
        The (possibly re-saved) store and one :class:`Projection` per (embedding, method).
    """
    store = opened(store)
    configs = _method_params(methods, params)
    if sample is not None and sample >= len(store):
        sample = None  # every row: the same projection, and the same cache, as without a sample
    rows = sample_rows(len(store), sample, seed)
    out: list[Projection] = []
    new_columns: list[tuple[str, np.ndarray, str]] = []
    with _spinner() as bar:
        for emb in embeddings:
            if emb not in store.columns:
                raise UserError(f"no column {emb!r} in store; vector columns: "
                                + (", ".join(v.name for v in store.schema.vectors if not v.is_projection)
                                   or "none"))
            x = st.vectors(store, emb)[rows]
            finite = np.isfinite(x).all(axis=1)
            if not finite.any():
                raise UserError(f"column {emb!r} has no vector (only NaN) in the {len(rows):,} rows to "
                                "project; check how it was embedded")
            emb_rows, x = rows[finite], x[finite]
            digest = _digest(x)
            for method, cfg in configs.items():
                column = cache_column(method, emb, cfg, sample, seed)
                record = {"projection": method, "embedding": emb, "params": to_dict(cfg),
                          "sample": sample, "seed": seed, "source": digest}
                if method == "umap" and cfg.metric != "euclidean":
                    record["reduced"] = False  # neighbours in the embedding itself, not its PCA
                if method != "pca":
                    record["threads"] = _threads(cfg.n_jobs)
                coords = _cached(store, column, record, emb_rows) if cache else None
                cached = coords is not None
                if coords is None:
                    task = bar.add_task(f"{TITLES[method]} of {emb}: {len(x):,} rows")
                    coords = compute(x, method, cfg, seed)
                    bar.remove_task(task)
                    full = np.full((len(store), 2), np.nan, dtype=np.float32)
                    full[emb_rows] = coords
                    new_columns.append((column, full, json.dumps(record)))
                out.append(Projection(coords=coords, rows=emb_rows, method=method, embedding=emb,
                                      params=to_dict(cfg), column=column, cached=cached))
    if cache and new_columns and store.path is not None:
        store = _save_cache(store, new_columns)
    return store, out


_UNWRITABLE = FULL_ERRNOS | {errno.EROFS, errno.EACCES, errno.EPERM}
"""Why a store cannot be written, whoever runs the command: a read-only or full disk, a
folder of another user's."""


def _save_cache(store: st.Store, new_columns: list[tuple[str, np.ndarray, str]]) -> st.Store:
    """``store`` saved in place with the coordinate columns ``new_columns`` (name, ``(N, 2)``
    values, description) and re-loaded. When another command (or an earlier save of this
    process) wrote the store since ``store`` was read, the columns are added to the store as it
    is now instead (saving ``store`` would drop what was written; a cached column records the
    embedding it was made from, so it is never reused for other vectors); when that store has
    other rows or is written meanwhile once more, or when it cannot be written (a read-only
    or full disk, a folder of another user's), ``store`` is returned and the cache left
    unwritten, with a note: the projection is made all the same."""
    from latentplay.store.io import StoreChanged

    try:
        return _saved_with(store, new_columns)
    except StoreChanged:
        pass
    except OSError as exc:
        if exc.errno not in _UNWRITABLE:
            raise
        warn(f"note: the coordinates are not kept in {store.path} ({exc.strerror}): they are "
             "computed again next time (--no-cache: neither reused nor kept)")
        return store
    try:
        now = st.load(store.path)
        if len(now) == len(store):
            return _saved_with(now, new_columns)
    except UserError:  # StoreChanged among them: written meanwhile once more
        pass
    return store


def _saved_with(store: st.Store, new_columns: list[tuple[str, np.ndarray, str]]) -> st.Store:
    """``store`` with ``new_columns`` (name, values, description) added, saved in place."""
    for column, full, description in new_columns:
        store = st.add_column(store, column, full, description)
    return st.save(store, store.path)


def project(
    store: st.Store | str | os.PathLike[str],
    embedding: str,
    method: str = "tsne",
    *,
    params: Sequence[str] = (),
    sample: int | None = None,
    seed: int = 0,
    cache: bool = True,
) -> Projection:
    """One projection of one embedding column; see :func:`projections`."""
    return projections(store, [embedding], [method], params=params, sample=sample, seed=seed,
                       cache=cache)[1][0]


def _method_params(methods: Sequence[str], params: Sequence[str]) -> dict[str, Any]:
    """Resolve ``method.key=value`` items into one params object per method."""
    methods = list(dict.fromkeys(methods))
    for m in methods:
        if m not in PARAMS:
            raise UserError(f"unknown projection method {m!r}; choose from: {', '.join(METHODS)}")
    per: dict[str, list[str]] = {m: [] for m in methods}
    for item in params:
        key = item.split("=", 1)[0]
        prefix, dot, rest = key.partition(".")
        if dot and prefix in PARAMS:
            if prefix not in per:   # it would change nothing: say so rather than ignore it
                raise UserError(f"parameter {item!r} is for {prefix}, which is not among the "
                                f"methods asked ({', '.join(methods)}); add it to --method or "
                                "leave the parameter out")
            per[prefix].append(item[len(prefix) + 1:])
        elif len(methods) == 1:
            per[methods[0]].append(item)
        else:
            knowing = [m for m in methods if key in {f.name for f in fields(PARAMS[m])}] or methods
            raise UserError(f"parameter {item!r}: prefix it with the method, e.g. {knowing[0]}.{item}")
    return {m: resolve(PARAMS[m], per[m]) for m in methods}


def _cached(store: st.Store, column: str, record: dict[str, Any], rows: np.ndarray
            ) -> np.ndarray | None:
    """Coordinates of ``rows`` from ``column`` when it was made with exactly ``record`` (its
    ``threads`` aside)."""
    try:
        vec = store.schema.vector(column)
    except KeyError:
        return None
    try:
        saved = parsed_json(vec.description)
    except json.JSONDecodeError:
        return None
    if {**saved, "threads": None} != {**record, "threads": None}:
        return None
    coords = st.vectors(store, column)[rows]
    return coords if np.isfinite(coords).all() else None
