"""Face verification at the size of real identity sets: drawing genuine and impostor pairs
from ``rows`` faces of ``rows / photos`` persons in 4 groups, their distances in 128-d, the
per-group measures (10-fold accuracy, AUC, EER, TAR), the FMR and FNMR intervals over both
faces' persons and the FNMR standardized over 16 strata of two covariates (1,000 person
draws). Seconds of each step.

    python bench/bench_verify.py [--rows 20000 200000] [--pairs 3000 30000]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from latentplay.audit.verification import identity_pairs
from latentplay.clustered import pair_rate_interval
from latentplay.metrics.verification import (
    pair_distances,
    quantile_strata,
    standardized_rate,
    threshold_at_fmr,
    verification,
)

GROUPS = 4
DIM = 128


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, nargs="+", default=[20000, 200000])
    parser.add_argument("--pairs", type=int, nargs="+", default=[3000, 30000])
    parser.add_argument("--photos", type=int, default=20, help="photos per person")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    for rows in args.rows:
        persons = rows // args.photos
        identity = np.repeat(np.arange(persons), args.photos)
        groups = identity % GROUPS
        centres = rng.normal(size=(persons, DIM)).astype(np.float32)
        z = centres[identity] + rng.normal(size=(rows, DIM)).astype(np.float32)
        for n in args.pairs:
            start = time.perf_counter()
            pairs = identity_pairs(identity, groups, n, seed=0)
            draw_s = time.perf_counter() - start
            start = time.perf_counter()
            d = pair_distances(z, pairs.a, pairs.b)
            dist_s = time.perf_counter() - start
            group_of = groups[pairs.a]
            start = time.perf_counter()
            accuracy = [verification(d[group_of == g], pairs.same[group_of == g]).accuracy
                        for g in range(GROUPS)]
            measures_s = time.perf_counter() - start
            t = threshold_at_fmr(d[~pairs.same], 1e-3)
            start = time.perf_counter()
            for g in range(GROUPS):
                mine = group_of == g
                faces = np.column_stack([identity[pairs.a[mine]], identity[pairs.b[mine]]])
                matched, same = d[mine] < t, pairs.same[mine]
                pair_rate_interval(matched[~same], faces[~same])
                pair_rate_interval(~matched[same], faces[same])
            intervals_s = time.perf_counter() - start
            genuine = pairs.same
            covariate = rng.random(len(pairs))[genuine]  # two covariates, 4 strata each
            strata = quantile_strata(covariate, 4) * 4 + quantile_strata(covariate ** 2 + 0.1 *
                                                                         rng.random(len(covariate)), 4)
            start = time.perf_counter()
            standardized_rate(d[genuine] >= t, group_of[genuine], strata, GROUPS, 16,
                              identity[pairs.a[genuine]])
            adjust_s = time.perf_counter() - start
            print(json.dumps({
                "bench": "verify", "rows": rows, "persons": persons, "pairs": len(pairs),
                "draw_pairs_s": round(draw_s, 2), "distances_s": round(dist_s, 3),
                "measures_s": round(measures_s, 2), "intervals_s": round(intervals_s, 2),
                "standardized_fnmr_s": round(adjust_s, 2),
                "accuracy_group0": round(accuracy[0], 4)}))


if __name__ == "__main__":
    main()
