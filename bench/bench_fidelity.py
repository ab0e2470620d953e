"""Fidelity measures (precision/recall/density/coverage, Fréchet and kernel distances) on
``n`` x ``n`` feature sets: seconds each and peak memory of ``prdc``, which works in blocks so
that memory grows linearly with ``n``, not with ``n x n``.

    python bench/bench_fidelity.py [--n 5000 10000 20000] [--dim 64 512]
"""

from __future__ import annotations

import argparse
import json
import time
import tracemalloc

import numpy as np

from latentplay.metrics.fidelity import frechet_distance, kernel_distance, prdc


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, nargs="+", default=[5000, 10000, 20000])
    parser.add_argument("--dim", type=int, nargs="+", default=[64, 512])
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    for dim in args.dim:
        for n in args.n:
            real = rng.normal(size=(n, dim)).astype(np.float32)
            fake = (rng.normal(size=(n, dim)) + 0.1).astype(np.float32)
            start = time.perf_counter()  # timed untraced, as the other two are
            result = prdc(real, fake, k=5)
            prdc_s = time.perf_counter() - start
            tracemalloc.start()  # its peak memory from a second, traced call
            prdc(real, fake, k=5)
            peak_mb = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
            start = time.perf_counter()
            frechet_distance(real, fake)
            fd_s = time.perf_counter() - start
            start = time.perf_counter()
            kernel_distance(real, fake)
            kid_s = time.perf_counter() - start
            print(json.dumps({
                "bench": "fidelity", "n": n, "dim": dim, "prdc_s": round(prdc_s, 2),
                "prdc_peak_mb": round(peak_mb, 1), "dense_matrix_mb": round(n * n * 8 / 2**20),
                "frechet_s": round(fd_s, 2), "kernel_s": round(kid_s, 2),
                "coverage": round(result.coverage, 4)}))


if __name__ == "__main__":
    main()
