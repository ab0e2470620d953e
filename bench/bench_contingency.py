"""Memory and time of the margins-fixed simulated chi-square p-value (``data bias``,
``audit accuracy``, ``audit versus``) as the groups grow: persons as groups reach thousands.
Target: the peak stays at a few ``(draws, K)`` arrays, whatever the number of groups ``G``
(it held ``(draws, G, K)``: 14 GB at 6,000 persons by 10 classes)."""

from __future__ import annotations

import json
import sys
import time
import tracemalloc

import numpy as np

from latentplay.contingency import DRAWS, simulated_p


def main(groups: tuple[int, ...] = (100, 1000), classes: int = 10) -> None:
    rng = np.random.default_rng(0)
    for g in groups:
        counts = rng.integers(0, 4, (g, classes)) + 1               # (G, K), no empty margin
        expected = np.outer(counts.sum(1), counts.sum(0)) / counts.sum()
        statistic = float(((counts - expected) ** 2 / expected).sum())
        tracemalloc.start()
        start = time.perf_counter()
        p = simulated_p(counts, statistic)
        seconds = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        print(json.dumps({"bench": "contingency_simulated_p", "groups": g, "classes": classes,
                          "draws": DRAWS, "seconds": round(seconds, 2), "p": round(p, 4),
                          "peak_mb": round(peak / 1e6, 1),
                          "one_row_of_draws_mb": round(DRAWS * classes * 8 / 1e6, 1),
                          "all_tables_mb": round(DRAWS * g * classes * 8 / 1e6, 1)}))


if __name__ == "__main__":
    main(tuple(int(a) for a in sys.argv[1:]) or (100, 1000))
