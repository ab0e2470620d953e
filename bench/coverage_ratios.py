"""How often the ratios of audited to training shares hold their true values all at once.

Prints one JSON line per design: over ``--runs`` draws of a training set and an audited set of
``--classes`` classes, the share of draws where every class's interval holds its true ratio
(``compare(...).ratios``: intervals that hold together) and where the intervals read one class
at a time did (the audited share's own 95 % interval, Wilson's or the corrected share's, over
the training share taken as exact: what the ``--joint`` heatmap coloured by before); with a
lifted class, how often it is called drawn more often.

Designs: ``rows`` (independent training rows, a faithful generator), ``lifted`` (the first
class drawn ``--lift`` times as often), ``persons`` (training rows in persons of 5 photos of
one class), ``corrected`` (images read through an annotator's confusion measured on 80
held-out images a class, the shares corrected).

    python bench/coverage_ratios.py [--runs 400] [--classes 14] [--training 3000]
        [--audited 600] [--lift 1.6] [--only DESIGN]
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from latentplay.audit.distribution import compare
from latentplay.intervals import wilson_interval

DESIGNS = ("rows", "lifted", "persons", "corrected")


def design(name: str, runs: int, k: int, n_training: int, n_audited: int, lift: float
           ) -> dict[str, object]:
    rng = np.random.default_rng(7)
    p = rng.dirichlet(np.full(k, 2.0))
    q = p.copy()
    if name == "lifted":
        q[0] *= lift
        q /= q.sum()
    truth = q / p
    confusion = np.eye(k) * 0.85 + 0.15 / k
    together = one_by_one = lifted_called = 0
    pointwise = []
    for seed in range(runs):
        persons = None
        if name == "persons":
            per_person = rng.multinomial(n_training // 5, p)
            t = per_person * 5
            codes = np.repeat(np.arange(k), t)
            persons = (codes, np.repeat(np.arange(len(codes) // 5), 5))
        else:
            t = rng.multinomial(n_training, p)
        kwargs: dict[str, object] = {}
        if name == "corrected":
            held_out = np.array([rng.multinomial(80, row) for row in confusion]).astype(float)
            kwargs = {"confusion": held_out / held_out.sum(axis=1, keepdims=True),
                      "confusion_counts": held_out}
            g = rng.multinomial(n_audited, confusion.T @ q)
        else:
            g = rng.multinomial(n_audited, q)
        result = compare(t, g, [f"c{i}" for i in range(k)], n_boot=200, seed=seed,
                         training_persons=persons, **kwargs)  # type: ignore[arg-type]
        ratios = result.ratios
        assert ratios is not None
        low, high = ratios.interval.T
        together += bool(((low <= truth) & (truth <= high)).all())
        shares_ci = result.corrected_ci if result.corrected_ci is not None else wilson_interval(
            g, int(g.sum()))
        cell = shares_ci / result.training[:, None]
        one_by_one += bool(((cell[:, 0] <= truth) & (truth <= cell[:, 1])).all())
        lifted_called += bool(ratios.more[0])
        pointwise.append(ratios.pointwise)
    out: dict[str, object] = {
        "design": name, "runs": runs, "classes": k, "training": n_training,
        "audited": n_audited, "coverage_together": together / runs,
        "coverage_one_by_one": one_by_one / runs, "pointwise_level": float(np.mean(pointwise))}
    if name == "lifted":
        out.update(lift=lift, lifted_called_more=lifted_called / runs)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=400)
    parser.add_argument("--classes", type=int, default=14)
    parser.add_argument("--training", type=int, default=3000)
    parser.add_argument("--audited", type=int, default=600)
    parser.add_argument("--lift", type=float, default=1.6)
    parser.add_argument("--only", choices=DESIGNS)
    args = parser.parse_args()
    for name in [args.only] if args.only else DESIGNS:
        print(json.dumps(design(name, args.runs, args.classes, args.training, args.audited,
                                args.lift)), flush=True)


if __name__ == "__main__":
    main()
