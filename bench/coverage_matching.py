"""How honest the matched ATT's interval is when the propensity score matched on is estimated.

Prints one JSON line per design of :data:`latentplay.match.synthetic.HETEROGENEOUS`: over
``--runs`` draws of ``--n`` units matched 1:``--ratio`` with replacement on a fitted propensity score
(``match(..., method="propensity", replace=True)``), the variance of the estimates around
their mean, the mean Abadie-Imbens variance taking the score as known and with Abadie &
Imbens' (2016) correction for its estimation, the share of each 95 % interval holding the
population ATT, and the estimates' mean bias.

    python bench/coverage_matching.py [--runs 400] [--n 2000] [--c 1.0] [--irrelevant 0]
        [--ratio 1] [--exact] [--only DESIGN]
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from latentplay.match import match, matched_difference_with_replacement
from latentplay.match.synthetic import HETEROGENEOUS, heterogeneous


def design(name: str, runs: int, n: int, c: float, irrelevant: int, ratio: int,
           exact: bool) -> dict[str, object]:
    estimates, known, corrected, covers_known, covers = [], [], [], 0, 0
    for seed in range(runs):
        d = heterogeneous(name, n, seed, irrelevant)
        blocks = None
        if exact:  # a binary attribute that follows the second covariate, outside the model
            noise = np.random.default_rng(seed + 1_000_000).standard_normal(n)
            blocks = (d.x[:, 1] + noise > 0).astype(np.int64)
        r = match(d.x, d.treated, method="propensity", replace=True, propensity_c=c, ratio=ratio,
                  exact=blocks)
        m = matched_difference_with_replacement(d.y, r.points, d.treated, r.treated_rows,
                                                r.control_rows, blocks=blocks,
                                                propensity=r.propensity)
        estimates.append(m["estimate"])
        known.append(m["se_score_known"] ** 2)
        corrected.append(m["se"] ** 2)
        covers_known += abs(m["estimate"] - d.att) <= 1.96 * m["se_score_known"]
        covers += abs(m["estimate"] - d.att) <= 1.96 * m["se"]
    return {"design": name, "runs": runs, "n": n, "irrelevant": irrelevant, "ratio": ratio,
            "exact": exact,
            "propensity_c": c,
            "variance_of_estimates": float(np.var(estimates)),
            "known_score_variance": float(np.mean(known)),
            "corrected_variance": float(np.mean(corrected)),
            "coverage_known_score": covers_known / runs, "coverage_corrected": covers / runs,
            "bias": float(np.mean(estimates) - d.att)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=400)
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--c", type=float, default=1.0, help="the propensity model's C")
    parser.add_argument("--irrelevant", type=int, default=0,
                        help="covariates more that matter for neither treatment nor outcome")
    parser.add_argument("--ratio", type=int, default=1, help="controls per treated unit")
    parser.add_argument("--exact", action="store_true", help="match within two blocks of a "
                        "binary attribute that follows the second covariate")
    parser.add_argument("--only", choices=HETEROGENEOUS)
    args = parser.parse_args()
    for name in HETEROGENEOUS:
        if args.only in (None, name):
            print(json.dumps(design(name, args.runs, args.n, args.c, args.irrelevant, args.ratio,
                                    args.exact)))


if __name__ == "__main__":
    main()
