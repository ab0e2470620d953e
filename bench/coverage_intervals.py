"""How honest the tests and intervals over persons are: simulated data with a known truth.

Prints one JSON line per scenario:

- ``tables``: 60 persons x 8 photos, a person attribute in 4 ordered groups and a photo
  attribute drawn around each person's own propensity, independent of the group: the share of
  datasets in which Pearson's chi-square, the trend test and their Rao-Scott versions over
  persons (``latentplay.clustered``) reject at 5 % (should be 5 %).
- ``pairs_independent`` / ``pairs_wolves``: impostor pairs of two persons whose false matches
  are independent (600 persons, 3,000 pairs, rate 0.01), or 20 times as likely for the pairs of
  a few "wolves" (60 persons, 5 % of them wolves, 3,000 pairs): the share of 95 % intervals of
  the FMR holding the true rate, and their mean width, for Wilson's over the pairs, a
  bootstrap over each pair's first person, a bootstrap over both persons (a pair counted as the
  product of their draws), and the dyadic-robust interval ``audit verify`` reports
  (``pair_rate_interval``).

    python bench/coverage_intervals.py [--runs 300] [--seed 0]
"""

from __future__ import annotations

import argparse
import json

import numpy as np
from scipy.stats import chi2_contingency

from latentplay.clustered import clustered_trend, pair_rate_interval, rao_scott
from latentplay.intervals import proportion_interval, wilson_interval
from latentplay.store.bias import linear_trend


def tables(runs: int, rng: np.random.Generator) -> dict[str, object]:
    rejected = []
    for _ in range(runs):
        group = np.repeat(rng.integers(0, 4, 60), 8)
        propensity = np.repeat(rng.beta(1, 1, 60), 8)
        level = (rng.random((480, 2)) < propensity[:, None] * [0.5, 1.0]).sum(1)
        person = np.repeat(np.arange(60), 8)
        counts = np.zeros((4, 3))
        np.add.at(counts, (group, level), 1)
        trend = linear_trend(counts)
        rejected.append([chi2_contingency(counts, correction=False)[1] < 0.05,
                         rao_scott(group, level, person).p_value < 0.05,
                         trend.p_value < 0.05,
                         clustered_trend(group, level, person, trend.statistic).p_value < 0.05])
    names = ("pearson", "rao_scott", "trend", "trend_rao_scott")
    return {"scenario": "tables", "runs": runs,
            "rejected_at_5pct": dict(zip(names, np.mean(rejected, 0).round(3).tolist(), strict=True))}


def _both_persons_bootstrap(wrong: np.ndarray, persons: np.ndarray, n_boot: int,
                            rng: np.random.Generator) -> tuple[float, float]:
    """Percentile interval of the rate when persons are drawn and a pair of two counts as the
    product of their draws."""
    _, codes = np.unique(persons, return_inverse=True)
    a, b = codes.reshape(-1, 2).T
    k = int(codes.max()) + 1
    drawn = rng.multinomial(k, np.full(k, 1 / k), size=n_boot)
    times = drawn[:, a] * drawn[:, b]
    rates = (times @ wrong) / np.maximum(times.sum(1), 1)
    return tuple(np.percentile(rates, [2.5, 97.5]))


def pairs(name: str, persons_n: int, wolves: float, runs: int,
          rng: np.random.Generator) -> dict[str, object]:
    base, boost = 0.005 if wolves else 0.01, 20
    either = 1 - (1 - wolves) ** 2
    truth = either * base * boost + (1 - either) * base
    held = {k: [] for k in ("wilson", "first_person_bootstrap", "both_persons_bootstrap",
                            "dyadic")}
    width = {k: [] for k in held}
    for run in range(runs):
        wolf = rng.random(persons_n) < wolves
        a = rng.integers(0, persons_n, 3000)
        b = (a + rng.integers(1, persons_n, 3000)) % persons_n
        rate = np.where(wolf[a] | wolf[b], base * boost, base)
        wrong = rng.random(3000) < rate
        found = {"wilson": wilson_interval(np.array([int(wrong.sum())]), 3000)[0],
                 "first_person_bootstrap": proportion_interval(wrong, a, seed=run),
                 "both_persons_bootstrap": _both_persons_bootstrap(
                     wrong.astype(float), np.column_stack([a, b]), 1000, rng),
                 "dyadic": pair_rate_interval(wrong, np.column_stack([a, b]))[:2]}
        for key, (low, high) in found.items():
            held[key].append(low <= truth <= high)
            width[key].append(high - low)
    return {"scenario": name, "runs": runs, "persons": persons_n, "wolves": wolves,
            "true_rate": truth,
            "held_truth": {k: round(float(np.mean(v)), 3) for k, v in held.items()},
            "mean_width": {k: round(float(np.mean(v)), 5) for k, v in width.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    print(json.dumps(tables(args.runs, rng)))
    print(json.dumps(pairs("pairs_independent", 600, 0.0, args.runs, rng)))
    print(json.dumps(pairs("pairs_wolves", 60, 0.05, args.runs, rng)))


if __name__ == "__main__":
    main()
