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
- ``generated_annotated``: a generator that reproduces a 3-class training distribution (1,500
  training labels), its 2,000 images read by an annotator about 82 % accurate whose confusion was
  measured on 400 held-out images: the share of sets in which a goodness-of-fit test of the
  annotated counts against the training labels' shares and ``audit compare``'s chi-square test
  (``latentplay.audit.chi_square``: through the annotator, with the confusion taken as known
  and with its measuring error) reject at 5 %.
- ``generated_sparse``: the same test where many classes expect few images (12 classes, six
  at 0.5 % of the training labels, 300 generated images, an annotator 98 % accurate measured on
  1,000 held-out images): how far the chi-square curve's p-value runs small there, and how
  near 5 % the p-value ``audit compare`` simulates there comes (``--draws`` draws each).
- ``annotator_persons``: the same where the annotator misreads some persons in every photo
  alike and its confusion was measured on 80 held-out persons of 5 photos: the test with the
  held-out photos taken as independent and with each confusion row at its effective size, and
  with ``--draws`` the p-value ``compare`` simulates there (its rows rest on few persons).
- ``annotator_few``: ``generated_annotated`` with the confusion measured on 60 held-out images
  (rows of about 12-30): the chi-square curve's p-value and, with ``--draws``, the simulated
  one ``compare`` reads where a row rests on fewer than 50 held-out images.
- ``generated_persons``: the same with 200 training persons of 6 photos each (a person's photos
  of one class) and 1,200 generated images read without error: the test of photos and the test
  over the training persons.
- ``values_persons``: training values of 100 persons x 6 photos sharing most of their value
  (intraclass correlation 0.81) and 800 generated values of the same marginal: the share of
  sets in which the two-sample Kolmogorov-Smirnov test of photos and the test at the persons'
  effective size (``latentplay.audit.values.ks_over_persons``) reject at 5 %.

    python bench/coverage_intervals.py [--runs 300] [--seed 0] [--draws 1000] [--only NAME]
"""

from __future__ import annotations

import argparse
import json

import numpy as np
from scipy.stats import chi2_contingency, chisquare

from latentplay.audit.annotate import Evaluation
from latentplay.audit.goodness_of_fit import chi_square, confusion_rates, simulated_p
from latentplay.audit.values import compare_values
from latentplay.clustered import clustered_trend, pair_rate_interval, rao_scott, share_spread
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


TRUTH = np.array([0.5, 0.3, 0.2])
CONFUSION = np.array([[0.85, 0.10, 0.05], [0.10, 0.80, 0.10], [0.05, 0.15, 0.80]])
"""``generated_annotated``'s training shares and annotator (about 82 % accurate)."""


def _annotated_set(rng: np.random.Generator, held_out: int
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """1,500 training labels of :data:`TRUTH`, the ``(3, 3)`` counts of :data:`CONFUSION`
    measured on ``held_out`` images of them, and 2,000 generated images of the same shares
    read through it."""
    training = rng.multinomial(1500, TRUTH)
    held = np.stack([rng.multinomial(n, CONFUSION[i])
                     for i, n in enumerate(rng.multinomial(held_out, TRUTH))])
    generated = sum(rng.multinomial(n, CONFUSION[i])
                    for i, n in enumerate(rng.multinomial(2000, TRUTH)))
    return training, held, generated


def generated_annotated(runs: int, rng: np.random.Generator) -> dict[str, object]:
    rejected = []
    for _ in range(runs):
        training, held, generated = _annotated_set(rng, 400)
        measured = held / held.sum(axis=1, keepdims=True)
        rejected.append([chisquare(generated, training / 1500 * 2000).pvalue < 0.05,
                         chi_square(training, generated, confusion=measured)[1] < 0.05,
                         chi_square(training, generated, confusion=measured,
                                    confusion_counts=held)[1] < 0.05])
    names = ("against_labels", "through_annotator_known", "through_annotator_measured")
    return {"scenario": "generated_annotated", "runs": runs,
            "rejected_at_5pct": dict(zip(names, np.mean(rejected, 0).round(3).tolist(), strict=True))}


def generated_sparse(runs: int, rng: np.random.Generator, draws: int) -> dict[str, object]:
    """``generated_annotated`` where many classes expect few images: 12 classes, six at 0.5 %
    of 1,500 training labels, 300 generated images, an annotator 98 % accurate whose confusion
    was measured on 1,000 held-out images of the training distribution; the chi-square curve's
    p-value and, with ``draws``, the one ``compare`` simulates there from that many draws."""
    truth = np.r_[np.full(6, (1 - 6 * 0.005) / 6), np.full(6, 0.005)]
    confusion = np.eye(12) * 0.98 + 0.02 / 11 * (1 - np.eye(12))
    rejected = []
    for run in range(runs):
        training = rng.multinomial(1500, truth)
        generated = rng.multinomial(300, confusion.T @ truth)
        held = np.stack([rng.multinomial(n, confusion[i])
                         for i, n in enumerate(rng.multinomial(1000, truth))])
        measured = confusion_rates(held)  # a class without held-out images: NaN, as compare has it
        known = chi_square(training, generated, confusion=confusion)
        found = chi_square(training, generated, confusion=measured, confusion_counts=held)
        rejected.append([known[1] < 0.05, found[1] < 0.05] + ([
            simulated_p(training, generated, known[0], confusion=confusion, draws=draws,
                        seed=run)[0] < 0.05,
            simulated_p(training, generated, found[0], confusion=measured, confusion_counts=held,
                        draws=draws, seed=run)[0] < 0.05] if draws else []))
    names = ("through_annotator_known", "through_annotator_measured",
             "through_annotator_known_simulated", "through_annotator_measured_simulated")
    return {"scenario": "generated_sparse", "runs": runs, "draws": draws,
            "rejected_at_5pct": dict(zip(names, np.mean(rejected, 0).round(3).tolist(),
                                         strict=False))}


def annotator_few(runs: int, rng: np.random.Generator, draws: int) -> dict[str, object]:
    """``generated_annotated`` with the annotator's confusion measured on 60 held-out images:
    the chi-square curve's p-value and, with ``draws``, the simulated one."""
    rejected = []
    for run in range(runs):
        training, held, generated = _annotated_set(rng, 60)
        measured = confusion_rates(held)
        found = chi_square(training, generated, confusion=measured, confusion_counts=held)
        rejected.append([found[1] < 0.05] + ([
            simulated_p(training, generated, found[0], confusion=measured, confusion_counts=held,
                        draws=draws, seed=run)[0] < 0.05] if draws else []))
    return {"scenario": "annotator_few", "runs": runs, "draws": draws,
            "rejected_at_5pct": dict(zip(("curve", "simulated"),
                                         np.mean(rejected, 0).round(3).tolist(), strict=False))}


def annotator_persons(runs: int, rng: np.random.Generator, draws: int) -> dict[str, object]:
    """A generator that reproduces a 3-class training distribution (1,500 labels), its 2,000
    images read by an annotator that misreads a person, 18 % of them, in every photo alike
    (as another class at random); its confusion measured on 80 held-out persons of 5 photos:
    ``compare``'s test with the held-out photos taken as independent, and with each confusion
    row at its effective size (``Evaluation.measured_counts``): its curve's p-value and, with
    ``draws``, the simulated one (the rows rest on 16-40 persons)."""
    truth = np.array([0.5, 0.3, 0.2])
    wrong = 0.18
    confusion = np.eye(3) * (1 - wrong) + wrong / 2 * (1 - np.eye(3))
    persons = np.repeat(np.arange(80), 5)
    rejected = []
    for run in range(runs):
        training = rng.multinomial(1500, truth)
        generated = sum(rng.multinomial(n, confusion[i])
                        for i, n in enumerate(rng.multinomial(2000, truth)))
        true = rng.choice(3, size=80, p=truth)
        read = np.where(rng.random(80) < wrong, (true + rng.integers(1, 3, 80)) % 3, true)
        ev = Evaluation.from_proba(true[persons], np.eye(3)[read[persons]], persons)
        found = [chi_square(training, generated, confusion=ev.confusion, confusion_counts=counts)
                 for counts in (ev.counts, ev.measured_counts)]
        rejected.append([f[1] < 0.05 for f in found] + ([
            simulated_p(training, generated, found[1][0], confusion=ev.confusion,
                        confusion_counts=ev.measured_counts, draws=draws, seed=run)[0] < 0.05]
            if draws else []))
    return {"scenario": "annotator_persons", "runs": runs, "draws": draws,
            "rejected_at_5pct": dict(zip(("photos", "effective_rows", "effective_rows_simulated"),
                                         np.mean(rejected, 0).round(3).tolist(), strict=False))}


def generated_persons(runs: int, rng: np.random.Generator) -> dict[str, object]:
    truth = np.array([0.5, 0.3, 0.2])
    persons = np.repeat(np.arange(200), 6)
    rejected = []
    for _ in range(runs):
        codes = np.repeat(rng.choice(3, size=200, p=truth), 6)
        training, generated = np.bincount(codes, minlength=3), rng.multinomial(1200, truth)
        rejected.append([chi_square(training, generated)[1] < 0.05,
                         chi_square(training, generated,
                                    training_spread=share_spread(codes, 3, persons))[1] < 0.05])
    return {"scenario": "generated_persons", "runs": runs,
            "rejected_at_5pct": dict(zip(("photos", "persons"),
                                         np.mean(rejected, 0).round(3).tolist(), strict=True))}


def values_persons(runs: int, rng: np.random.Generator) -> dict[str, object]:
    persons = np.repeat(np.arange(100), 6)
    rejected = []
    for _ in range(runs):
        training = np.repeat(rng.normal(size=100), 6) * 0.9 + rng.normal(size=600) * np.sqrt(0.19)
        found = compare_values(training, rng.normal(size=800), persons=persons)
        rejected.append([found.ks_p < 0.05, found.ks_persons["p_value"] < 0.05])
    return {"scenario": "values_persons", "runs": runs,
            "rejected_at_5pct": dict(zip(("photos", "persons"),
                                         np.mean(rejected, 0).round(3).tolist(), strict=True))}


SCENARIOS = ("tables", "pairs_independent", "pairs_wolves", "generated_annotated",
             "generated_persons", "values_persons", "generated_sparse", "annotator_persons",
             "annotator_few")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--draws", type=int, default=1000,
                        help="draws of each simulated p-value (generated_sparse, annotator_persons, "
                        "annotator_few; 0: none)")
    parser.add_argument("--only", choices=SCENARIOS, help="run this scenario alone (its data "
                        "then differ from a full run's, which draws the others first)")
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    runs = {"tables": lambda: tables(args.runs, rng),
            "pairs_independent": lambda: pairs("pairs_independent", 600, 0.0, args.runs, rng),
            "pairs_wolves": lambda: pairs("pairs_wolves", 60, 0.05, args.runs, rng),
            "generated_annotated": lambda: generated_annotated(args.runs, rng),
            "generated_persons": lambda: generated_persons(args.runs, rng),
            "values_persons": lambda: values_persons(args.runs, rng),
            "generated_sparse": lambda: generated_sparse(args.runs, rng, args.draws),
            "annotator_persons": lambda: annotator_persons(args.runs, rng, args.draws),
            "annotator_few": lambda: annotator_few(args.runs, rng, args.draws)}
    for name in SCENARIOS:      # the newer ones last: the others draw as before
        if args.only in (None, name):
            print(json.dumps(runs[name]()))


if __name__ == "__main__":
    main()
