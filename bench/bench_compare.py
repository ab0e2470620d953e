"""The simulated p-value of ``audit compare``'s chi-square test (2,000 comparisons drawn under
its null), drawn in chunks as ``simulated_p`` does and, side by side, one comparison at a time
(the test of each drawn comparison made alone): seconds of each and their ratio, for an
annotator of 3 classes and of 7 measured on held-out images, two annotators read together (7 x
2 intersections), and a reference of 5,000 persons of 1-6 photos.

Then the corrected shares' 1,000 resamples (each with the confusion measured again) as
``compare`` draws them, solved at once (``corrected_draws``), against one resample at a time
(non-negative least squares and the free solve of each): seconds, ratio, and the mean width of
the corrected shares' 95 % intervals either way.

    python bench/bench_compare.py [--draws 2000]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from latentplay.audit.correction import correct_confusion, corrected_draws
from latentplay.audit.goodness_of_fit import (
    JointCounts,
    _wald,
    confusion_rates,
    counts_draw,
    filled_confusion,
    measured_confusion,
    simulated_p,
)
from latentplay.clustered import cluster_spread


def one_at_a_time(t: np.ndarray, g: np.ndarray, statistic: float, confusion: np.ndarray,
                  counts: np.ndarray | JointCounts | None, persons: np.ndarray | None,
                  draws: int) -> float:
    """The same bootstrap as ``simulated_p``, each comparison drawn and tested alone."""
    rng = np.random.default_rng(0)
    truth = t / t.sum()
    read = filled_confusion(confusion).T @ truth
    far = 0
    for _ in range(draws):
        spread = None
        if persons is None:
            tb = rng.multinomial(int(t.sum()), truth)
        else:
            taken = rng.multinomial(len(persons), np.full(len(persons), 1 / len(persons)))
            tb, spread = taken @ persons, cluster_spread(persons, taken)
        gb = rng.multinomial(int(g.sum()), read / read.sum())
        drawn = None if counts is None else counts_draw(counts, rng)
        c = confusion if drawn is None else measured_confusion(drawn)
        far += bool(_wald(tb, gb, c, drawn, spread)[0] >= statistic)
    return (1 + far) / (draws + 1)


def corrected_one_at_a_time(shares: np.ndarray, confusion: np.ndarray,
                            counts: np.ndarray | JointCounts, rng: np.random.Generator
                            ) -> tuple[np.ndarray, np.ndarray]:
    """``corrected_draws``' free and non-negative solutions, each resample alone."""
    free, kept = [], []
    for q in shares:
        c = filled_confusion(measured_confusion(counts_draw(counts, rng)))
        kept.append(correct_confusion(q, c))
        free.append(np.linalg.lstsq(c.T, q, rcond=None)[0])
    return np.array(free), np.array(kept)


def cases(rng: np.random.Generator) -> dict[str, tuple]:
    """Name -> (training counts, generated counts, confusion, held-out counts, persons)."""
    out = {}
    for k in (3, 7):
        held = np.eye(k, dtype=int) * 30 + rng.integers(0, 4, (k, k))
        truth = rng.dirichlet(np.full(k, 5.0))
        out[f"{k}_classes"] = (rng.multinomial(2000, truth), rng.multinomial(500, truth),
                               confusion_rates(held), held, None)
    joint = JointCounts(np.eye(7, dtype=int) * 30 + rng.integers(0, 4, (7, 7)),
                        np.array([[45, 5], [4, 46]]))
    truth = rng.dirichlet(np.full(14, 5.0))
    out["joint_7x2"] = (rng.multinomial(3000, truth), rng.multinomial(500, truth),
                        joint.confusion(), joint, None)
    truth = rng.dirichlet(np.full(7, 5.0))
    persons = np.array([rng.multinomial(rng.integers(1, 7), np.eye(7)[rng.choice(7, p=truth)])
                        for _ in range(5000)])
    held = np.eye(7, dtype=int) * 30 + rng.integers(0, 4, (7, 7))
    out["persons_5000"] = (persons.sum(axis=0), rng.multinomial(500, truth),
                           confusion_rates(held), held, persons)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--draws", type=int, default=2000)
    args = parser.parse_args()
    for name, (t, g, c, counts, persons) in cases(np.random.default_rng(0)).items():
        spread = None if persons is None else cluster_spread(persons)
        statistic = _wald(t, g, c, counts, spread)[0]
        start = time.perf_counter()
        p = simulated_p(t, g, statistic, confusion=c, confusion_counts=counts,
                        training_clusters=persons, draws=args.draws)[0]
        chunked = time.perf_counter() - start
        start = time.perf_counter()
        p_alone = one_at_a_time(t, g, statistic, c, counts, persons, args.draws)
        alone = time.perf_counter() - start
        print(json.dumps({"bench": "compare_simulated_p", "case": name, "draws": args.draws,
                          "chunked_s": round(chunked, 3), "one_at_a_time_s": round(alone, 3),
                          "ratio": round(alone / chunked, 1),
                          "p_chunked": round(p, 4), "p_one_at_a_time": round(p_alone, 4)}))
        if persons is not None:
            continue
        shares = np.random.default_rng(1).dirichlet(g + 0.5, size=1000)
        widths = {}
        for way, solve in (("at_once", corrected_draws), ("one_at_a_time", corrected_one_at_a_time)):
            start = time.perf_counter()
            free, _ = solve(shares, c, counts, np.random.default_rng(2))
            widths[way] = (time.perf_counter() - start,
                           float(np.diff(np.percentile(np.clip(free, 0, 1), [2.5, 97.5], axis=0),
                                         axis=0).mean()))
        print(json.dumps({"bench": "compare_corrected_resamples", "case": name, "resamples": 1000,
                          "at_once_s": round(widths["at_once"][0], 3),
                          "one_at_a_time_s": round(widths["one_at_a_time"][0], 3),
                          "ratio": round(widths["one_at_a_time"][0] / widths["at_once"][0], 1),
                          "mean_width_at_once": round(widths["at_once"][1], 4),
                          "mean_width_one_at_a_time": round(widths["one_at_a_time"][1], 4)}))


if __name__ == "__main__":
    main()
