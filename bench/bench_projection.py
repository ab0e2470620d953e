"""t-SNE and UMAP of 100,000 x 128 points: latentplay against openTSNE / umap-learn directly.

For each method three lines (one JSON object each):

* ``latentplay``: :func:`latentplay.embed.coordinates.projections` on a store holding the vectors
  (reads the column, projects, caches the coordinates in the store, saves it atomically);
* ``direct``: the same algorithm and settings called straight on the array (openTSNE or
  umap-learn, no latentplay), so ``overhead_s`` is what latentplay adds;
* ``library_defaults``: the library's own defaults (openTSNE ``TSNE(n_jobs).fit``: perplexity
  30 on the raw 128-d data; umap-learn ``UMAP(random_state)``), for reference. Skipped with
  ``--quick``.

``knn_acc`` is the 10-nearest-neighbour accuracy of the mixture component in 2-d and
``knn_kept`` the share of each point's 10 nearest neighbours in 128-d kept in 2-d (quality);
``cpu_s`` is process CPU time, which a busy machine distorts less than ``wall_s``.

    python bench/bench_projection.py [--rows 100000] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

from latentplay import store as st
from latentplay.embed import coordinates as pj

TARGET_S = {"tsne": 90.0, "umap": 120.0}


def mixture(rows: int, dim: int = 128, k: int = 20, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``rows`` points of ``k`` clusters in ``dim`` dims, and the cluster labels.

    Each cluster is a 4-d Gaussian blob embedded by a random linear map, plus a little
    isotropic noise, so that points have meaningful nearest neighbours (pure isotropic noise
    in 128-d would make every within-cluster neighbour equally near).
    """
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(k, dim)) * 3
    maps = rng.normal(size=(k, 4, dim))
    labels = rng.integers(0, k, rows)
    latent = rng.normal(size=(rows, 4))
    x = centres[labels] + np.einsum("ni,nid->nd", latent, maps[labels])
    return (x + 0.1 * rng.normal(size=(rows, dim))).astype(np.float32), labels


def knn_accuracy(coords: np.ndarray, labels: np.ndarray, k: int = 10, n: int = 5000) -> float:
    """Share of the ``k`` nearest 2-d neighbours (of ``n`` probe points) with the same label."""
    from sklearn.neighbors import NearestNeighbors

    probe = np.random.default_rng(1).choice(len(coords), min(n, len(coords)), replace=False)
    nn = NearestNeighbors(n_neighbors=k + 1).fit(coords)
    idx = nn.kneighbors(coords[probe], return_distance=False)[:, 1:]
    return float((labels[idx] == labels[probe, None]).mean())


def knn_preservation(x: np.ndarray, coords: np.ndarray, k: int = 10, n: int = 2000) -> float:
    """Share of each probe point's ``k`` nearest neighbours in ``x`` that stay among its ``k``
    nearest in ``coords`` (1 = local structure kept exactly)."""
    from sklearn.neighbors import NearestNeighbors

    probe = np.random.default_rng(2).choice(len(x), min(n, len(x)), replace=False)
    high = NearestNeighbors(n_neighbors=k + 1).fit(x).kneighbors(x[probe], return_distance=False)
    low = NearestNeighbors(n_neighbors=k + 1).fit(coords).kneighbors(coords[probe],
                                                                    return_distance=False)
    kept = [len(set(h[1:]) & set(lo[1:])) / k for h, lo in zip(high, low, strict=True)]
    return float(np.mean(kept))


def timed(fn: Callable[[], np.ndarray]) -> tuple[np.ndarray, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - wall, time.process_time() - cpu


def tsne_direct(x: np.ndarray, p: pj.TSNEParams, seed: int, threads: int) -> np.ndarray:
    """openTSNE with latentplay's default settings, written out without latentplay."""
    from openTSNE import TSNE, affinity
    from openTSNE.nearest_neighbors import Annoy
    from sklearn.decomposition import PCA

    z = PCA(p.pca_dims, svd_solver="randomized", random_state=seed).fit_transform(x)
    z = z.astype(np.float32)
    n = len(z)  # latentplay's choice for n rows: perplexity affinities up to auto_rows, else uniform
    knn = Annoy(z, min(p.neighbors_for(n), n - 1), n_jobs=threads, random_state=seed,
                knn_kwargs={"n_trees": p.n_trees})
    if p.affinity_for(n) == "uniform":
        aff = affinity.Uniform(knn_index=knn, n_jobs=threads, random_state=seed)
    else:
        aff = affinity.PerplexityBasedNN(knn_index=knn, perplexity=p.perplexity, n_jobs=threads,
                                         random_state=seed)
    model = TSNE(n_iter=p.n_iter, early_exaggeration_iter=p.early_exaggeration_iter,
                 negative_gradient_method="auto", n_jobs=threads, random_state=seed)
    return np.asarray(model.fit(z, affinities=aff))


def umap_direct(x: np.ndarray, p: pj.UMAPParams, seed: int, threads: int) -> np.ndarray:
    """umap-learn with latentplay's default settings, written out without latentplay."""
    import umap
    from openTSNE.nearest_neighbors import Annoy
    from sklearn.decomposition import PCA

    z = PCA(p.pca_dims, svd_solver="randomized", random_state=seed).fit_transform(x)
    z = z.astype(np.float32)
    idx, dist = Annoy(z, p.n_neighbors - 1, n_jobs=threads, random_state=seed,
                      knn_kwargs={"n_trees": p.n_trees}).build()
    self_col = np.arange(len(z))[:, None]
    knn = (np.hstack([self_col, idx]),
           np.hstack([np.zeros_like(self_col, np.float32), dist.astype(np.float32)]), None)
    return umap.UMAP(n_neighbors=p.n_neighbors, min_dist=p.min_dist, init=p.init,
                     random_state=seed, precomputed_knn=knn).fit_transform(z)


def library_defaults(method: str, x: np.ndarray, seed: int, threads: int) -> np.ndarray:
    if method == "tsne":
        from openTSNE import TSNE

        return np.asarray(TSNE(n_jobs=threads, random_state=seed).fit(x))
    import umap

    return umap.UMAP(random_state=seed).fit_transform(x)


def warm_up() -> None:
    """Compile umap-learn's numba functions once so no timing below includes it."""
    x, _ = mixture(500, 16)
    pj.compute(x, "umap", pj.UMAPParams(n_epochs=10))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--quick", action="store_true", help="skip the library defaults")
    parser.add_argument("--methods", default="tsne,umap")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    threads = pj._threads(-1)  # the threads latentplay's n_jobs=-1 takes (OMP_NUM_THREADS first)
    x, labels = mixture(args.rows)
    warm_up()
    tmp = Path(tempfile.mkdtemp())
    try:
        schema = st.Schema(
            attributes=[st.Attribute("component", "categorical",
                                     names=[str(i) for i in range(labels.max() + 1)])],
            provenance=st.Provenance(source="bench", converter="bench_projection"),
            image_column=None,
        )
        store = st.build([{"component": labels}], schema, tmp / "s")
        store = st.save(st.add_column(store, "emb", x), store.path)
        for method in args.methods.split(","):
            params = pj.PARAMS[method]()
            runs: list[tuple[str, Callable[[], np.ndarray]]] = [
                ("direct", (lambda p=params: tsne_direct(x, p, 0, threads)) if method == "tsne"
                 else (lambda p=params: umap_direct(x, p, 0, threads))),
                ("latentplay", lambda m=method: pj.projections(
                    st.load(store.path), ["emb"], [m])[1][0].coords),
            ]
            if not args.quick:
                runs.append(("library_defaults",
                             lambda m=method: library_defaults(m, x, 0, threads)))
            times = {}
            for impl, fn in runs:
                coords, wall, cpu = timed(fn)
                times[impl] = wall
                print(json.dumps({
                    "bench": f"projection_{method}",
                    "impl": impl,
                    "rows": args.rows,
                    "dim": x.shape[1],
                    "threads": threads,
                    "wall_s": round(wall, 1),
                    "cpu_s": round(cpu, 1),
                    "target_s": TARGET_S[method],
                    "knn_acc": round(knn_accuracy(coords, labels), 3),
                    "knn_kept": round(knn_preservation(x, coords), 3),
                    "overhead_s": round(wall - times["direct"], 1) if impl == "latentplay"
                    and "direct" in times else None,
                    "load_avg": round(os.getloadavg()[0], 1),
                    "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                }), flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
