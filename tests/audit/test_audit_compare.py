"""Distribution statistics against hand computations, and the confusion correction."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import chi2, chi2_contingency, chisquare

from latentplay.audit import (
    chi_square,
    compare,
    correct_confusion,
    fairness_discrepancy,
    js_divergence,
    total_variation,
    wilson_interval,
)
from latentplay.store.io import load, store_digest


def _wilson(k: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


def test_wilson_matches_the_formula() -> None:
    counts = np.array([0, 3, 47, 50])
    ci = wilson_interval(counts, 100)
    for k, (lo, hi) in zip(counts, ci, strict=True):
        assert (lo, hi) == pytest.approx(_wilson(int(k), 100), abs=1e-9)
    assert ci[0, 0] == pytest.approx(0.0, abs=1e-12) and ci[0, 1] > 0.03  # never a zero width
    assert np.isnan(wilson_interval(np.array([0, 0]), 0)).all()


def test_tv_js_and_chi_square_by_hand() -> None:
    p = np.array([0.5, 0.3, 0.2])
    q = np.array([0.2, 0.3, 0.5])
    assert total_variation(p, q) == pytest.approx(0.3)
    m = (p + q) / 2
    js = 0.5 * np.sum(p * np.log2(p / m)) + 0.5 * np.sum(q * np.log2(q / m))
    assert js_divergence(p, q) == pytest.approx(js)
    assert js_divergence(p, p) == pytest.approx(0.0, abs=1e-12)
    assert js_divergence(np.array([1.0, 0]), np.array([0, 1.0])) == pytest.approx(1.0)


def test_js_divergence_of_equal_shares_is_zero_not_nan() -> None:
    """Corrected shares that equal the training shares up to rounding (an annotator that reads
    every class as it is, on images read like the training set) are at JS 0: the square of
    scipy's distance was NaN there, in summary.json and the figure's title."""
    rng = np.random.default_rng(0)
    for _ in range(200):
        p = rng.dirichlet(np.ones(3))
        q = np.abs(p + rng.normal(0.0, 1e-17, 3))
        assert js_divergence(p, q) == pytest.approx(0.0, abs=1e-12)
    assert js_divergence(np.array([2.0, 2.0]), np.array([0.5, 0.5])) == pytest.approx(0.0)


def test_chi_square_of_labels_is_pearsons_test_of_homogeneity() -> None:
    training, generated = np.array([30, 50, 20]), np.array([300, 400, 300])
    stat, pval, dof = chi_square(training, generated)
    ref = chi2_contingency(np.stack([training, generated]), correction=False)
    assert (stat, pval, dof) == (pytest.approx(ref[0]), pytest.approx(ref[1]), 2)
    pooled = (training + generated) / 1100
    by_hand = 100 * 1000 / 1100 * np.sum((training / 100 - generated / 1000) ** 2 / pooled)
    assert stat == pytest.approx(by_hand)
    # a rare class is a class like any other (its direction of the covariance is small, not none)
    rare_t, rare_g = np.array([6000, 10000, 2]), np.array([300, 400, 1])
    ref = chi2_contingency(np.stack([rare_t, rare_g]), correction=False)
    assert chi_square(rare_t, rare_g) == (pytest.approx(ref[0]), pytest.approx(ref[1]), 2)
    # a class neither side has is left out; one only the generated images have is a real
    # difference in labels, but impossible when the annotator never reads it on training images
    assert chi_square(np.array([50, 50, 0]), np.array([50, 50, 0]))[::2] == (0.0, 1)
    assert np.isfinite(chi_square(np.array([50, 50, 0]), np.array([50, 45, 5]))[0])
    assert chi_square(np.array([50, 50, 0]), np.array([50, 45, 5]), confusion=np.eye(3))[:2] == (
        np.inf, 0.0)
    assert np.isnan(chi_square(np.array([50, 50]), np.array([0, 0]))[0])


def test_chi_square_through_the_annotator_by_hand() -> None:
    """Two classes: the Wald statistic of the generated share against C^T p_t, its variance
    the generated binomial, the training share through C and each measured row of C."""
    training, generated = np.array([600, 400]), np.array([1180, 820])
    counts = np.array([[270, 30], [40, 160]])
    c = counts / counts.sum(axis=1, keepdims=True)
    p = training / 1000
    q = p @ c[:, 0]
    variance = (q * (1 - q) / 2000 + (c[0, 0] - c[1, 0]) ** 2 * p[0] * p[1] / 1000
                + p[0] ** 2 * c[0, 0] * c[0, 1] / 300 + p[1] ** 2 * c[1, 0] * c[1, 1] / 200)
    stat, pval, dof = chi_square(training, generated, confusion=c, confusion_counts=counts)
    assert stat == pytest.approx((1180 / 2000 - q) ** 2 / variance) and dof == 1
    assert pval == pytest.approx(chi2.sf(stat, 1))
    # without the confusion's counts its rows are taken as known
    fixed = chi_square(training, generated, confusion=c)[0]
    assert fixed == pytest.approx((1180 / 2000 - q) ** 2 / (variance - p[0] ** 2 * c[0, 0] * c[0, 1]
                                                             / 300 - p[1] ** 2 * c[1, 0]
                                                             * c[1, 1] / 200))


def test_chi_square_holds_its_level_where_annotator_errors_fool_the_labels_test() -> None:
    """A generator that reproduces the training distribution, read by an 80 %-accurate
    annotator measured on 400 held-out images: the test of the annotated shares against the
    training labels rejects it most of the time; the test through the annotator at about 5 %."""
    rng = np.random.default_rng(0)
    truth = np.array([0.5, 0.3, 0.2])
    confusion = np.array([[0.85, 0.10, 0.05], [0.10, 0.80, 0.10], [0.05, 0.15, 0.80]])
    naive = through = 0
    for _ in range(300):
        training = rng.multinomial(1500, truth)
        held = np.stack([rng.multinomial(n, confusion[i])
                         for i, n in enumerate(rng.multinomial(400, truth))])
        generated = sum(rng.multinomial(n, confusion[i])
                        for i, n in enumerate(rng.multinomial(2000, truth)))
        naive += chisquare(generated, training / 1500 * 2000).pvalue < 0.05
        through += chi_square(training, generated, confusion=held / held.sum(axis=1)[:, None],
                              confusion_counts=held)[1] < 0.05
    assert naive / 300 > 0.5 and 0.02 <= through / 300 <= 0.09
    # and a generator that does differ is still found
    generated = sum(rng.multinomial(n, confusion[i])
                    for i, n in enumerate(rng.multinomial(2000, [0.42, 0.33, 0.25])))
    assert chi_square(rng.multinomial(1500, truth), generated, confusion=confusion)[1] < 1e-3


def test_compare_counts_the_training_sets_persons() -> None:
    """200 persons with 6 photos each, a person's photos all of one class: the training
    shares vary 6 k / (k - 1) times as much as photos', and the test holds its level only when
    it counts the persons."""
    rng = np.random.default_rng(1)
    truth = np.array([0.5, 0.3, 0.2])
    persons = np.repeat(np.arange(200), 6)
    rejected = {"photos": 0, "persons": 0}
    for _ in range(200):
        codes = np.repeat(rng.choice(3, size=200, p=truth), 6)
        training, generated = np.bincount(codes, minlength=3), rng.multinomial(1200, truth)
        rejected["photos"] += compare(training, generated, list("abc"), n_boot=10).chi2_p < 0.05
        result = compare(training, generated, list("abc"), n_boot=10,
                         training_persons=(codes, persons))
        rejected["persons"] += result.chi2_p < 0.05
    assert result.training_spread is not None
    assert result.training_spread.design_effect == pytest.approx(6 * 200 / 199)
    assert rejected["photos"] / 200 > 0.25 and rejected["persons"] / 200 < 0.11
    photos = compare(training, generated, list("abc"), n_boot=10)
    width = result.training_ci[:, 1] - result.training_ci[:, 0]
    assert np.all(width > 2.2 * (photos.training_ci[:, 1] - photos.training_ci[:, 0]))
    chi = result.to_dict()["chi2"]
    assert chi["training_persons"] == 200 and chi["design_effect"] == pytest.approx(6 * 200 / 199)
    with pytest.raises(ValueError, match="count up"):
        compare(training + 1, generated, list("abc"), training_persons=(codes, persons))


def test_compare_counts_the_audited_images_persons() -> None:
    """400 audited images of 40 persons, 10 photos each, a person's photos all of one class,
    against 3,000 independent reference rows of the same shares: taken as independent images
    the test rejected this faithful set most of the time and the ratios' intervals missed 1;
    counted over the persons the test holds its level and the intervals hold the truth."""
    rng = np.random.default_rng(0)
    truth = np.array([0.5, 0.3, 0.2])
    persons = np.repeat(np.arange(40), 10)
    rejected, ratios_hold, wilson_hold = {"photos": 0, "persons": 0}, {"photos": 0, "persons": 0}, 0
    for seed in range(200):
        codes = np.repeat(rng.choice(3, size=40, p=truth), 10)
        training, generated = rng.multinomial(3000, truth), np.bincount(codes, minlength=3)
        for kind, shown in (("photos", None), ("persons", (codes, persons))):
            result = compare(training, generated, list("abc"), n_boot=10, seed=seed,
                             generated_persons=shown)
            rejected[kind] += result.p_value < 0.05
            assert result.ratios is not None
            low, high = result.ratios.interval.T
            ratios_hold[kind] += bool(((low <= 1) & (1 <= high)).all())
        low, high = result.generated_ci.T
        wilson_hold += bool(((low <= truth) & (truth <= high)).all())
    assert rejected["photos"] / 200 > 0.5 and rejected["persons"] / 200 < 0.09, rejected
    assert ratios_hold["photos"] / 200 < 0.6 and ratios_hold["persons"] / 200 > 0.9, ratios_hold
    assert wilson_hold / 200 > 0.85     # three 95 % intervals at once
    assert result.generated_spread is not None
    assert result.generated_spread.design_effect == pytest.approx(10 * 40 / 39)
    np.testing.assert_allclose(result.generated_effective, generated / (10 * 40 / 39))
    chi = result.to_dict()["chi2"]
    assert chi["generated_persons"] == 40 and chi["generated_design_effect"] == pytest.approx(10 * 40 / 39)
    with pytest.raises(ValueError, match="count up"):
        compare(training, generated + 1, list("abc"), generated_persons=(codes, persons))
    # 4 persons, every photo of one class: no spread to measure, so each person is one image
    alike = compare(np.array([50, 50]), np.array([40, 0]), ["a", "b"],
                    generated_persons=(np.zeros(40, int), np.repeat(np.arange(4), 10)))
    np.testing.assert_allclose(alike.generated_effective, [4, 0])
    assert alike.generated_design_effect == 10 and alike.to_dict()["chi2"]["generated_design_effect"] == 10
    np.testing.assert_allclose(alike.generated_ci[0], wilson_interval(np.array([4, 0]), 4)[0])
    assert alike.p_value > 0.05      # 4 of 4 persons in one class: no evidence at 5 %


def test_shares_of_few_persons_hold_their_truth() -> None:
    """300 audited sets of 8 persons of 10 photos, a photo of its person's own class (drawn
    0.5 / 0.3 / 0.2) 7 times in 10, else of any class (true shares 0.45, 0.31 and 0.24):
    Wilson's interval at the rows over the design effect the 8 persons show, adjusted for its
    7 degrees of freedom, holds each share in at least 93 % of the 900 (94 %; at the rows
    over the design effect alone 92 %)."""
    rng = np.random.default_rng(4)
    truth = 0.7 * np.array([0.5, 0.3, 0.2]) + 0.1
    persons = np.repeat(np.arange(8), 10)
    held = 0
    for seed in range(300):
        own = rng.choice(3, 8, p=[0.5, 0.3, 0.2])[persons]
        codes = np.where(rng.random(80) < 0.7, own, rng.integers(0, 3, 80))
        result = compare(np.array([500, 300, 200]), np.bincount(codes, minlength=3), list("abc"),
                         n_boot=10, seed=seed, generated_persons=(codes, persons))
        low, high = result.generated_ci.T
        held += int(((low <= truth) & (truth <= high)).sum())
    assert held / 900 >= 0.93


def test_compare_through_an_annotator_counts_the_audited_persons() -> None:
    """The same persons read through an annotator that errs on each photo on its own: the
    corrected shares' intervals, resampled at the images' effective size, hold the true
    shares about as often as they claim."""
    rng = np.random.default_rng(1)
    truth = np.array([0.5, 0.3, 0.2])
    confusion = np.full((3, 3), 0.05) + np.eye(3) * 0.85
    persons = np.repeat(np.arange(40), 10)
    held = np.zeros(3)
    for seed in range(150):
        shown = np.repeat(rng.choice(3, size=40, p=truth), 10)
        read = (rng.random(400)[:, None] > np.cumsum(confusion[shown], axis=1)).sum(axis=1)
        result = compare(rng.multinomial(3000, truth), np.bincount(read, minlength=3), list("abc"),
                         n_boot=200, seed=seed, confusion=confusion, generated_persons=(read, persons))
        assert result.corrected_ci is not None
        held += (result.corrected_ci[:, 0] <= truth) & (truth <= result.corrected_ci[:, 1])
    assert np.all(held / 150 > 0.89), held / 150


def test_compare_fields() -> None:
    result = compare(np.array([250, 750]), np.array([100, 900]), ["female", "male"],
                     attribute="gender")
    assert result.training.tolist() == [0.25, 0.75] and result.generated.tolist() == [0.1, 0.9]
    assert result.tv == pytest.approx(0.15)
    assert result.chi2 == pytest.approx(chi2_contingency([[250, 750], [100, 900]],
                                                         correction=False)[0])
    assert not result.to_dict()["chi2"]["through_annotator"]
    assert result.corrected is None
    d = result.to_dict()
    assert d["n_generated"] == 1000 and d["per_class"][0]["generated_count"] == 100
    assert "corrected" not in d["per_class"][0]


def test_correction_recovers_true_proportions_of_a_simulated_annotator() -> None:
    rng = np.random.default_rng(0)
    truth = np.array([0.7, 0.2, 0.1])
    confusion = np.array([[0.70, 0.20, 0.10],
                          [0.20, 0.70, 0.10],
                          [0.10, 0.30, 0.60]])
    n = 20000
    true = rng.choice(3, size=n, p=truth)
    annotated = np.array([rng.choice(3, p=confusion[t]) for t in true])
    observed = np.bincount(annotated, minlength=3) / n
    assert total_variation(observed, truth) > 0.1  # the raw estimate is biased
    corrected = correct_confusion(observed, confusion)
    assert corrected.sum() == pytest.approx(1.0) and (corrected >= 0).all()
    assert np.abs(corrected - truth).max() < 0.02
    result = compare(np.round(truth * 1000).astype(int), np.bincount(annotated, minlength=3),
                     ["a", "b", "c"], confusion=confusion)
    assert result.corrected_tv < 0.02 < result.tv
    lo, hi = result.corrected_ci.T
    assert ((lo <= truth + 0.005) & (truth - 0.005 <= hi)).all()
    assert (hi - lo > result.generated_ci[:, 1] - result.generated_ci[:, 0]).all()


def test_correction_stays_on_the_simplex() -> None:
    confusion = np.array([[0.9, 0.1], [0.3, 0.7]])
    # observed share of class 1 below what even a population of only class 0 would give
    corrected = correct_confusion(np.array([0.95, 0.05]), confusion)
    assert corrected.tolist() == pytest.approx([1.0, 0.0])
    assert correct_confusion(np.array([0.5, 0.5]), np.eye(2)).tolist() == [0.5, 0.5]


def test_confusion_counts_widen_the_corrected_intervals() -> None:
    counts = np.array([[40, 10], [15, 35]])
    confusion = counts / counts.sum(axis=1, keepdims=True)
    generated = np.array([600, 400])
    exact = compare(np.array([500, 500]), generated, ["a", "b"], confusion=confusion)
    noisy = compare(np.array([500, 500]), generated, ["a", "b"], confusion=confusion,
                    confusion_counts=counts)
    assert np.array_equal(exact.corrected, noisy.corrected)
    width = lambda r: r.corrected_ci[:, 1] - r.corrected_ci[:, 0]  # noqa: E731
    assert (width(noisy) > 1.5 * width(exact)).all()
    assert exact.confusion_condition == pytest.approx(np.linalg.cond(confusion))
    assert compare(np.array([5, 5]), np.array([5, 5]), ["a", "b"],
                   confusion=np.eye(2)).confusion_condition == pytest.approx(1.0)


def test_a_class_never_generated_still_has_an_interval() -> None:
    """No generated image in a class: its corrected share and the generated distance from
    balance vary over the resamples (Jeffreys' draws) rather than sitting on a point."""
    result = compare(np.array([300, 700]), np.array([0, 400]), ["female", "male"],
                     confusion=np.array([[0.95, 0.05], [0.0, 1.0]]))
    low, high = result.corrected_ci[0]
    assert low < 1e-4 and 0.002 < high < 0.03
    assert result.imbalance.generated_low < result.imbalance.generated_high
    # every image read as one class: the intervals still hold their estimates
    imbalance = result.imbalance
    assert imbalance.generated_low <= imbalance.generated <= imbalance.generated_high
    assert imbalance.low <= imbalance.amplification <= imbalance.high
    assert all(lo <= e <= hi for e, (lo, hi) in zip(result.corrected, result.corrected_ci, strict=True))


def test_no_correction_through_a_singular_confusion() -> None:
    always_male = np.array([[0.0, 1.0], [0.0, 1.0]])
    result = compare(np.array([300, 700]), np.array([0, 100]), ["female", "male"],
                     confusion=always_male)
    assert result.corrected is None and result.corrected_tv is None
    assert not result.confusion_condition < 1e3


def test_ordinal_shift_by_hand() -> None:
    from latentplay.audit.distribution import ordinal_shift

    # training at positions 0 and 1, generated at 1 and 2: one class later on average;
    # of the four pairs, three have the generated image later and one a tie
    assert ordinal_shift(np.array([5, 5, 0]), np.array([0, 5, 5])) == pytest.approx((1.0, 0.75))
    assert ordinal_shift(np.array([1, 0, 0]), np.array([0, 0, 1])) == pytest.approx((2.0, 1.0))
    assert ordinal_shift(np.array([1, 2, 1]), np.array([1, 2, 1])) == pytest.approx((0.0, 0.0))


def test_compare_measures_a_shift_along_ordered_classes() -> None:
    from latentplay.audit.distribution import shift_text

    training = np.array([100, 200, 300, 200, 100])
    generated = np.array([250, 300, 250, 150, 50])
    classes = ["monk_1", "monk_2", "monk_3", "monk_4", "monk_5"]
    result = compare(training, generated, classes, ordered=True)
    expected = (generated / 1000) @ np.arange(5) - (training / 900) @ np.arange(5)
    assert result.shift.mean == pytest.approx(expected) and expected < -0.5
    assert result.shift.low < result.shift.mean < result.shift.high < 0
    assert -1 < result.shift.delta < -0.2
    assert compare(training, generated, classes).shift is None   # unordered classes
    text = shift_text(result.to_dict())
    assert text.startswith(f"generated {expected:+.2f} classes along the order") \
        and "towards monk_1" in text


def test_corrected_shift_undoes_an_annotator_that_pulls_to_the_middle() -> None:
    """An annotator that calls a tenth of each class its neighbour makes the generated
    distribution look nearer the middle; the correction recovers the true shift."""
    confusion = np.array([[0.8, 0.2, 0.0], [0.1, 0.8, 0.1], [0.0, 0.2, 0.8]])
    truth = np.array([0.6, 0.3, 0.1])                 # the generator leans to class 0
    observed = np.round(confusion.T @ truth * 20000).astype(int)
    training = np.array([3000, 4000, 3000])
    result = compare(training, observed, ["a", "b", "c"], confusion=confusion, ordered=True)
    true_shift = truth @ np.arange(3) - 1.0
    assert result.corrected_shift.mean == pytest.approx(true_shift, abs=0.01)
    assert abs(result.shift.mean) < abs(true_shift) - 0.05    # raw: pulled to the middle
    assert result.corrected_shift.low < true_shift < result.corrected_shift.high


def test_fairness_discrepancy_by_hand() -> None:
    from latentplay.audit.distribution import fairness_discrepancy

    assert fairness_discrepancy(np.array([5, 5, 5, 5])) == 0
    # all in one of K classes: sqrt((1 - 1/K)^2 + (K - 1) / K^2) = sqrt(1 - 1/K)
    assert fairness_discrepancy(np.array([0, 9, 0])) == pytest.approx(np.sqrt(2 / 3))
    assert fairness_discrepancy(np.array([3, 1])) == pytest.approx(np.sqrt(2 * 0.25 ** 2))


def test_imbalance_amplified_by_a_generator_and_undone_by_the_correction() -> None:
    """Training 70 : 30; a generator at 85 : 15 amplifies the imbalance (by the distances from
    balance, 0.49 - 0.28); an annotator that calls a fifth of each class the other hides it
    (observed 71 : 29), and the correction brings it back. At these sizes the bias correction
    of the distances moves them by under 0.001."""
    from latentplay.audit.distribution import imbalance_text

    training = np.array([7000, 3000])
    truth = np.array([0.85, 0.15])
    confusion = np.array([[0.8, 0.2], [0.2, 0.8]])
    observed = np.round(confusion.T @ truth * 20000).astype(int)
    result = compare(training, observed, ["a", "b"], confusion=confusion)
    fd = lambda p: np.sqrt(2) * abs(p - 0.5)  # noqa: E731  (two classes)
    raw, corrected = result.imbalance, result.corrected_imbalance
    assert raw.training == pytest.approx(fd(0.7), abs=1e-3)
    assert raw.generated == pytest.approx(fd(observed[0] / observed.sum()), abs=1e-3)
    assert raw.low < raw.amplification < raw.high and abs(raw.amplification) < 0.03
    assert corrected.generated == pytest.approx(fd(0.85), abs=0.01)
    assert corrected.amplification == pytest.approx(fd(0.85) - fd(0.7), abs=0.01)
    assert 0 < corrected.low < corrected.amplification < corrected.high
    assert corrected.generated_low < fd(0.85) < corrected.generated_high
    text = imbalance_text(result.to_dict())
    assert text.startswith("distance from balance (L2, sampling bias taken off): reference 0.283, "
                           "generated")
    assert imbalance_text(result.to_dict(), "ffhq").startswith(
        "distance from balance (L2, sampling bias taken off): ffhq 0.283")
    assert "; corrected: generated 0.49" in text and "amplification +0.2" in text
    assert compare(np.array([5]), np.array([3]), ["a"]).imbalance is None


def test_what_a_faithful_generator_scores() -> None:
    """Two classes, a training set so large its shares are exact: the raw TV of 400 faithful
    images is |X / 400 - p|, whose mean is sqrt(2 / pi) sqrt(p (1 - p) / 400); an annotator
    that errs adds its own shift, which the corrected TV removes."""
    training = np.array([50_000_000, 50_000_000])
    result = compare(training, np.array([230, 170]), ["a", "b"], n_boot=4000)
    assert result.faithful is not None and result.faithful.corrected_tv is None
    assert result.faithful.tv == pytest.approx(np.sqrt(2 / np.pi) * np.sqrt(0.25 / 400), rel=0.05)
    assert result.faithful.tv < result.faithful.tv_high < result.tv    # 0.075 is beyond it
    confusion = np.array([[0.7, 0.3], [0.1, 0.9]])                    # reads 0.4 / 0.6
    read = compare(training, np.array([230, 170]), ["a", "b"], confusion=confusion, n_boot=2000)
    assert read.faithful is not None and read.faithful.corrected_tv is not None
    assert read.faithful.tv == pytest.approx(0.1, abs=0.01)
    assert read.faithful.corrected_tv < 0.06
    assert read.to_dict()["faithful"]["tv_high"] == read.faithful.tv_high
    assert compare(training, np.array([0, 0]), ["a", "b"]).faithful is None


def test_joint_measuring_error_is_the_variance_of_the_kronecker_reading() -> None:
    """Two annotators measured on held-out images: the closed form of the variance that
    measuring them puts into C^T p over their intersections against a simulation of the
    measurements, and the joint test's level when a generator reproduces the intersections."""
    from latentplay.audit.goodness_of_fit import (
        JointCounts,
        _measuring_error,
        counts_draw,
        measured_confusion,
    )

    rng = np.random.default_rng(0)
    first = np.array([[0.9, 0.1], [0.2, 0.8]])
    second = np.array([[0.8, 0.15, 0.05], [0.1, 0.8, 0.1], [0.05, 0.15, 0.8]])

    def measured() -> JointCounts:
        return JointCounts(*(np.stack([rng.multinomial(n, c[i]) for i, n in enumerate(sizes)])
                             for c, sizes in ((first, [300, 150]), (second, [100, 200, 80]))))

    counts = measured()
    truth = rng.dirichlet(np.ones(6))
    confusion = counts.confusion()
    assert confusion.shape == (6, 6) and confusion.sum(axis=1) == pytest.approx(np.ones(6))
    redraw = np.random.default_rng(1)  # its own stream: the level below does not hang on the count
    draws = np.array([measured_confusion(counts_draw(counts, redraw)).T @ truth for _ in range(8000)])
    # largest difference 4.7e-6 (seeds 1-3: up to 5.9e-6), of entries up to 3.2e-4
    assert _measuring_error(counts, confusion, truth) == pytest.approx(np.cov(draws.T), abs=2e-5)
    rejected = 0
    for _ in range(200):
        counts = measured()
        training = rng.multinomial(1500, truth)
        read = np.kron(first, second)
        generated = sum(rng.multinomial(n, read[i])
                        for i, n in enumerate(rng.multinomial(2000, truth)))
        rejected += chi_square(training, generated, confusion=counts.confusion(),
                               confusion_counts=counts)[1] < 0.05
    assert 0.01 <= rejected / 200 <= 0.1  # 0.06


def test_joint_measuring_error_is_exact_on_few_held_out_images() -> None:
    """Rows of two or three held-out images: the variance of C^T p over every way the
    measurement could have come out, enumerated, equals the closed form (its term in the
    product of both rows' variances included, large here)."""
    from itertools import product

    from scipy.stats import binom

    from latentplay.audit.goodness_of_fit import JointCounts, _measuring_error, measured_confusion

    first, second = np.array([[1, 1], [2, 1]]), np.array([[2, 1], [1, 1]])
    sizes, rates = [2, 3, 3, 2], [0.5, 2 / 3, 2 / 3, 0.5]     # each row's images, first class's share
    p = np.array([0.1, 0.2, 0.3, 0.4])
    readings, weights = [], []
    for firsts in product(*(range(n + 1) for n in sizes)):
        rows = np.array([[k, n - k] for k, n in zip(firsts, sizes, strict=True)])
        counts = JointCounts(rows[:2], rows[2:])
        readings.append(measured_confusion(counts).T @ p)
        weights.append(np.prod([binom.pmf(k, n, r) for k, n, r in zip(firsts, sizes, rates, strict=True)]))
    readings, weights = np.array(readings), np.array(weights)
    mean = weights @ readings
    exact = (weights[:, None, None] * np.einsum("dx,dy->dxy", readings - mean, readings - mean)).sum(0)
    counts = JointCounts(first, second)
    assert _measuring_error(counts, measured_confusion(counts), p) == pytest.approx(exact, abs=1e-12)


def test_a_faithful_generators_amplification() -> None:
    """An annotator that mixes the classes pulls every annotated distribution towards balance:
    a faithful generator shows a negative raw amplification, about none once corrected; with
    an exact reader, about none either way."""
    training = np.array([6000, 3000, 1000])
    mixing = np.full((3, 3), 0.1) + 0.7 * np.eye(3)
    read = compare(training, np.array([1000, 600, 400]), list("abc"), confusion=mixing,
                   n_boot=2000)
    assert read.faithful is not None and read.faithful.amplification is not None
    pulled = mixing.T @ (training / training.sum())
    expected = fairness_discrepancy(pulled) - fairness_discrepancy(training)
    assert read.faithful.amplification["mean"] == pytest.approx(expected, abs=0.01)
    assert expected < -0.1
    assert abs(read.faithful.corrected_amplification["mean"]) < 0.02
    amplification = read.faithful.amplification
    assert amplification["low"] < amplification["mean"] < amplification["high"]
    exact = compare(training, np.array([1200, 600, 200]), list("abc"), n_boot=2000).faithful
    assert exact is not None and abs(exact.amplification["mean"]) < 0.01
    assert exact.corrected_amplification is None


def _imbalance_coverage(training: np.ndarray, generated: np.ndarray, n_training: int,
                        n_generated: int, sets: int, confusion: np.ndarray | None = None
                        ) -> tuple[float, float]:
    """Shares of ``sets`` simulated comparisons (``(K,)`` true training and generated shares,
    the generated ones read through ``confusion``) whose 95 % intervals hold the true distance
    of the generated shares from balance and the true amplification (the corrected ones with
    a confusion)."""
    from latentplay.audit.distribution import fairness_discrepancy

    rng = np.random.default_rng(7)
    read = generated if confusion is None else confusion.T @ generated
    true_generated = fairness_discrepancy(generated)
    true_amplification = true_generated - fairness_discrepancy(training)
    held = np.zeros(2)
    for k in range(sets):
        result = compare(rng.multinomial(n_training, training), rng.multinomial(n_generated, read),
                         [f"c{j}" for j in range(len(training))], confusion=confusion, n_boot=400,
                         seed=k)
        found = result.imbalance if confusion is None else result.corrected_imbalance
        held += [found.generated_low <= true_generated <= found.generated_high,
                 found.low <= true_amplification <= found.high]
    return held[0] / sets, held[1] / sets


@pytest.mark.slow  # ~25 s of simulated comparisons
def test_imbalance_intervals_hold_the_truth_near_balance() -> None:
    """The plug-in distance from balance is biased upwards, most at balance, where it is never
    0: percentile intervals of it held the true 0 in none of these comparisons, and the
    amplification between 1,500 training and 400 generated images of ten balanced classes in
    about 40 %. Corrected for the bias, both hold it at least 95 % of the time at balance (the
    interval reaches 0) and about 95 % away from it."""
    uniform = np.full(10, 0.1)
    assert min(_imbalance_coverage(uniform, uniform, 1500, 400, 200)) >= 0.93
    mixing = np.full((3, 3), 0.1) + 0.7 * np.eye(3)
    balanced = np.full(3, 1 / 3)
    assert min(_imbalance_coverage(balanced, balanced, 1500, 1000, 60, mixing)) >= 0.93
    skewed = np.array([0.4, 0.3, 0.2, 0.1])
    generated_held, amplification_held = _imbalance_coverage(skewed, skewed, 1500, 400, 300)
    assert 0.91 <= generated_held <= 0.99 and 0.91 <= amplification_held <= 0.99


def test_rows_without_a_class_are_counted_not_compared() -> None:
    """A class ``unknown`` is refused: rows without a class are counted beside the comparison,
    which the test's description names; so does a joint comparison's assumption."""
    from latentplay.audit.distribution import chi_square_basis

    with pytest.raises(ValueError, match="without_class"):
        compare(np.array([5, 3, 2]), np.array([4, 4, 2]), ["a", "b", "unknown"])
    result = compare(np.array([50, 30]), np.array([40, 40]), ["a", "b"], without_class=(2, 7))
    summary = result.to_dict()
    assert summary["without_class"] == {"training": 2, "generated": 7}
    assert (summary["n_training"], summary["n_generated"]) == (80, 80)
    assert chi_square_basis(summary) == ("leaving out 2 reference rows and 7 generated images "
                                         "without a class")
    assert chi_square_basis(compare(np.array([50, 30]), np.array([40, 40]), ["a", "b"]).to_dict()) is None
    joint = {**summary, "without_class": {"training": 0, "generated": 0},
             "chi2": {"through_annotator": True}, "annotator": {"independent_errors": True}}
    assert chi_square_basis(joint) == ("the generated images' annotated class counts against "
                                       "what the annotator reads on the reference labels' shares "
                                       "(C^T p), the two annotators' errors taken as "
                                       "independent given the true classes")


def test_the_data_store_is_named_by_its_folder_not_called_training(
        cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``audit compare --data reference``: the store compared with need not be the training set;
    the printed lines, the figures' legends and panel titles and the report name it
    ``reference`` (its folder's name), never ``training``; the JSON keys stay as they were."""

    import matplotlib.pyplot as plt

    from latentplay import sources
    from latentplay.audit import run as audit_run
    from latentplay.audit.distribution import data_name
    from latentplay.report import auditing
    from latentplay.report.page import Table

    reference, images = tmp_path / "reference", tmp_path / "images"
    sources.make("synthfaces", reference, n=60, seed=0)
    sources.make("synthfaces", images, n=40, seed=1)
    texts: list[str] = []

    def save(figure: plt.Figure, path: Path) -> None:
        texts.extend(t.get_text() for t in figure.findobj(plt.Text))
        plt.close(figure)

    monkeypatch.setattr(audit_run, "save_figure", save)
    out = tmp_path / "out"
    r = cli("audit", "compare", "--images", images, "--data", reference, "--annotator", "labels",
            "--attribute", "gender,skin_tone", "--joint", "gender,skin_tone", "--out", out)
    assert r.code == 0, r.err
    assert "training" not in r.out
    assert any(line.lstrip().startswith("female: reference 0.") for line in r.out.splitlines())
    # each class's shares stand beside the counts they rest on (read with --annotator labels:
    # the images' own labels, counted here from the stores)
    sides = [np.bincount(load(path).labels("gender"), minlength=2) for path in (reference, images)]
    for k, name in enumerate(load(reference).schema.attribute_or_error("gender").names):
        (a, b) = (side[k] for side in sides)
        assert (f"  {name}: reference {a / sides[0].sum():.3f} ({a}), images {b / sides[1].sum():.3f} "
                f"({b})") in r.out
    assert "distance from balance (L2, sampling bias taken off): reference " in r.out
    assert any(t.startswith("reference (n=") for t in texts)           # the bars' legend
    assert "reference shares" in texts                                  # the heatmaps
    assert any(t.startswith("log2(images / reference)") for t in texts)
    assert not [t for t in texts if "training" in t]
    summary = json.loads((out / "summary.json").read_text())["attributes"]
    assert {"n_training", "training"} <= summary["gender"].keys() | summary["gender"]["per_class"][0].keys()
    for name in ("gender", "gender,skin_tone"):                         # the joint one too
        assert summary[name]["chi2"]["compares"].startswith("the class counts of the images of images ")
    page = auditing.page(out)
    columns = [c for s in page.sections for b in s.blocks if isinstance(b, Table) for c in b.columns]
    assert "reference n" in columns and not [c for c in columns if "training" in c]
    assert (data_name(tmp_path / "ffhq"), data_name(tmp_path / "generated"), data_name(None)) == (
        "ffhq", "reference", "reference")


def test_no_basis_is_described_for_a_test_that_was_not_made() -> None:
    """An annotator that reads every image as one class (``audit annotator --option dim=1``
    always answering "male") leaves the chi-square test with 0 degrees of freedom: no test was
    made, so there is no basis to describe (``audit compare`` printed ``chi-square nan on 0 dof,
    against the annotator's reading ...``)."""
    from latentplay.audit.distribution import chi_square_basis

    summary = compare(np.array([30, 70]), np.array([0, 100]), ["female", "male"]).to_dict()
    untested = {**summary, "chi2": {"statistic": float("nan"), "p_value": float("nan"), "dof": 0,
                                    "through_annotator": True}}
    assert chi_square_basis(untested) is None
    assert chi_square_basis({**untested, "without_class": {"training": 2, "generated": 0}}) is None


def test_a_shift_whose_interval_spans_zero_names_no_direction() -> None:
    """"+0.01 classes (95 % -0.23 to +0.31), towards monk_10" read as a finding."""
    from latentplay.audit.distribution import shift_text

    summary = {"classes": ["monk_1", "monk_2", "monk_3"],
               "shift": {"mean": 0.01, "low": -0.23, "high": 0.31, "delta": 0.004}}
    assert "no clear direction (the interval spans 0)" in shift_text(summary)
    summary["shift"] |= {"low": 0.02}
    assert "towards monk_3" in shift_text(summary)


def test_the_distance_from_balance_stays_within_its_largest() -> None:
    """A two-class distance is at most sqrt(1/2); its interval reached 0.7078."""
    from latentplay.audit.distribution import balance_distances

    rng = np.random.default_rng(0)
    draws = rng.multinomial(1000, [0.999, 0.001], size=400)
    estimate, resampled = balance_distances(np.array([1000, 0]), draws)
    assert estimate <= np.sqrt(0.5) + 1e-12 and resampled.max() <= np.sqrt(0.5) + 1e-12


def test_a_corrected_share_pinned_at_zero_is_said_to_be_unknown() -> None:
    """Where the annotator reads other classes into a class, the non-negative correction pins
    it at 0 in every resample: its interval [0.000, 0.000] claimed a nil share though an image
    was read as it. The intervals now come from the unconstrained solutions cut at 0, and a
    class they still pin at 0 is named as unknown."""
    confusion = np.array([[0.8, 0.2, 0.0], [0.1, 0.8, 0.1], [0.0, 0.2, 0.8]])
    result = compare(np.array([300, 300, 400]), np.array([0, 1, 399]),
                     ["monk_1", "monk_5", "monk_10"], confusion=confusion)
    assert result.corrected[1] == 0.0 and result.corrected_ci[1].tolist() == [0.0, 0.0]
    # the readings (1 image) contradict the confusion (20 % of monk_10 read as monk_5): every
    # resample solves below 0, and the summary says the share is unknown there, not nil
    assert result.pinned == ["monk_5"] and result.to_dict()["corrected_pinned"] == ["monk_5"]
    # a class the readings fit keeps an interval above 0 though never read
    fits = compare(np.array([300, 700]), np.array([0, 400]), ["female", "male"],
                   confusion=np.array([[0.95, 0.05], [0.0, 1.0]]))
    assert fits.pinned == [] and fits.corrected_ci[0, 1] > 0.002


def test_labels_audit_decodes_only_the_images_it_draws(cli, tmp_path: Path, monkeypatch) -> None:
    """``--annotator labels`` reads the store's labels: it decoded every image of --images
    first (a peak of 956 MB at 30,000 faces of 64 px); now only the samples figure's few are
    decoded."""
    from latentplay import sources
    from latentplay.audit import run as audit_run
    from latentplay.embed import column

    reference, images = tmp_path / "reference", tmp_path / "images"
    sources.make("synthfaces", reference, n=60, seed=0)
    sources.make("synthfaces", images, n=80, seed=1)
    decoded: list[int] = []
    load_rows = column.load_rows
    monkeypatch.setattr(column, "load_rows", lambda store, rows: (decoded.append(len(rows)),
                                                                   load_rows(store, rows))[1])
    monkeypatch.setattr(audit_run, "read_images", lambda path: pytest.fail("every image decoded"))
    out = tmp_path / "out"
    r = cli("audit", "compare", "--images", images, "--data", reference, "--annotator", "labels",
            "--attribute", "gender", "--out", out)
    assert r.code == 0, r.err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["n_generated"] == 80
    assert summary["made_by"]["command"] == (f"latentplay audit compare --images {images} --data {reference} "
                                             f"--annotator labels --attribute gender --out {out}")
    assert summary["data_digest"] == store_digest(load(reference))
    assert set(decoded) == {1} and 0 < len(decoded) < 80           # one row at a time, a few
    assert (out / "samples_gender.png").read_bytes()[:4] == b"\x89PNG"


def test_applied_design_effect_is_at_least_1() -> None:
    """Persons whose photos differ more than independent rows would (a measured design
    effect of 0.5) still count each photo once at most: 1, not 0.5; where the shares do not
    vary over the persons, each person counts as one row however few rows there are."""
    from latentplay.audit.distribution import applied_effect
    from latentplay.clustered import ShareSpread

    assert applied_effect(ShareSpread(np.eye(2) * 1e-3, 10, 0.5), 100) == 1.0
    assert applied_effect(ShareSpread(np.zeros((2, 2)), 10, float("nan")), 100) == 10.0
    assert applied_effect(ShareSpread(np.zeros((2, 2)), 10, float("nan")), 5) == 1.0
