"""Where a row of the annotator's confusion rests on few held-out images, the test's variance is
estimated from a handful of misreads and the chi-square curve's p-value runs small: `audit
compare` simulates the p-value there too, and says why."""

from __future__ import annotations

import numpy as np

from latentplay.audit.annotate import Evaluation
from latentplay.audit.distribution import chi_square_basis, compare, simulated_text
from latentplay.audit.goodness_of_fit import (
    FEW_HELD_OUT,
    REFERENCE_TRUTH,
    JointCounts,
    confusion_rates,
    fewest_held_out,
)
from latentplay.audit.run import _p_title
from latentplay.outputs import p_text

THREE = ["a", "b", "c"]
# A faithful generator (2,000 images of the training shares 0.5 / 0.3 / 0.2 read through an
# 82 %-accurate annotator) whose annotator was measured on 60 held-out images.
TRAINING = np.array([790, 431, 279])
GENERATED = np.array([930, 624, 446])
HELD = np.array([[24, 5, 0], [1, 21, 0], [0, 2, 7]])


def test_a_faithful_generator_is_not_called_different_for_a_confusion_measured_on_few_images(
) -> None:
    """The curve's p is 0.017; drawing the held-out counts again as they could have come out,
    a statistic this large is common (p about 0.09)."""
    found = compare(TRAINING, GENERATED, THREE, confusion=confusion_rates(HELD),
                    confusion_counts=HELD, n_boot=100)
    assert found.chi2_p < 0.05 and found.p_value > 0.05
    test = found.to_dict()["chi2"]
    assert test["fewest_held_out"] == 9 and test["sparse"] == 0      # not for Cochran's rule
    assert test["simulation"] == REFERENCE_TRUTH and test["p_value_simulated"] == found.p_value
    assert (f"a row of the annotator's confusion rests on 9 held-out images (under {FEW_HELD_OUT}): "
            f"p simulated from 2,000 comparisons drawn with {REFERENCE_TRUTH}, where the "
            f"chi-square curve's (p {p_text(found.chi2_p, 3)}) can be too small"
            in chi_square_basis(found.to_dict()))
    assert _p_title(found) == (f"chi-square p {p_text(found.p_value)} (simulated: confusion "
                               "measured on few images)")


def test_a_simulated_p_that_no_draw_reached_is_called_the_smallest_they_give() -> None:
    """Generated images far from the training shares: none of the 2,000 comparisons scores as
    high, and 1 / 2,001 is said to be the floor of the draws, not an estimate."""
    far, faithful = (compare(TRAINING, generated, THREE, confusion=confusion_rates(HELD),
                             confusion_counts=HELD, n_boot=100) for generated in (GENERATED[::-1], GENERATED))
    assert far.p_value == 1 / 2001
    assert (f"drawn with {REFERENCE_TRUTH} (none scored as high: 1 / 2,001, the smallest p they can "
            "give), where the chi-square curve's" in chi_square_basis(far.to_dict()))
    assert "none scored" not in chi_square_basis(faithful.to_dict())


def test_a_confusion_measured_on_many_images_keeps_the_curve() -> None:
    many = HELD * 6                                                  # rows of 54 to 174
    found = compare(TRAINING, GENERATED, THREE, confusion=confusion_rates(many),
                    confusion_counts=many, n_boot=100)
    assert found.fewest_held_out == 54 and found.chi2_p_simulated is None
    assert found.p_value == found.chi2_p and _p_title(found) == f"chi-square p {p_text(found.chi2_p)}"
    assert "held-out images" not in (chi_square_basis(found.to_dict()) or "")
    known = compare(TRAINING, GENERATED, THREE, confusion=confusion_rates(HELD), n_boot=100)
    assert known.fewest_held_out is None and "fewest_held_out" not in known.to_dict()["chi2"]


def test_both_reasons_are_named() -> None:
    classes = [f"c{i}" for i in range(12)]
    training = np.array([245] * 6 + [5] * 6)        # six classes at 0.5 % of the labels
    held = np.eye(12, dtype=int) * 40 + np.roll(np.eye(12, dtype=int), 1, axis=1)   # rows of 41
    found = compare(training, np.array([49] * 6 + [1] * 6), classes,
                    confusion=confusion_rates(held), confusion_counts=held, n_boot=100)
    assert found.simulated_because == ("few images expected in some classes, confusion measured "
                                       "on few images")
    basis = chi_square_basis(found.to_dict())
    assert ("50% of the classes expect under 5 generated images (the fewest 1) and a row of the "
            "annotator's confusion rests on 41 held-out images (under 50): p simulated" in basis)


def test_the_fewest_rows_are_those_the_test_reads() -> None:
    counts = np.array([[40, 10, 0], [3, 27, 0], [0, 0, 0]])         # rows 50, 30, unmeasured
    assert fewest_held_out(counts, np.array([10, 5, 3])) == 30
    assert fewest_held_out(counts, np.array([10, 0, 3])) == 50      # no reference of b
    assert fewest_held_out(counts, np.array([0, 0, 3])) is None     # c was never measured
    # two annotators read together: each one's rows of the classes the reference's margins hold
    joint = JointCounts(np.array([[35, 5], [10, 90]]), np.array([[60, 0], [2, 18]]))
    assert fewest_held_out(joint, np.array([5, 5, 5, 5])) == 20
    assert fewest_held_out(joint, np.array([5, 0, 5, 0])) == 40     # second's class 1 absent
    # held-out photos of few persons: each row at its effective size
    persons = np.repeat(np.arange(40), 5)
    true = np.repeat(np.arange(40) % 2, 5)
    read = np.where(np.repeat(np.arange(40) % 5 == 0, 5), 1 - true, true)   # misread alike
    ev = Evaluation.from_proba(true, np.eye(2)[read], persons)
    assert ev.effective is not None and ev.effective.max() < 100    # of 100 photos each
    assert fewest_held_out(ev.measured_counts, np.array([1, 1])) == ev.effective.min()


def test_simulated_p_reads_the_drawn_images_through_the_confusion() -> None:
    """The bootstrap draws the audited images at C^T p (not p, not C p): the chi-square's 95 %
    point on 2 degrees of freedom is then exceeded in about 5 % of the drawn comparisons.
    Counts at an effective size (fractions) cannot be dealt with both margins fixed."""
    from scipy.stats import chi2

    from latentplay.audit.goodness_of_fit import MARGINS_FIXED, REFERENCE_SHARES, simulated_p

    training = np.array([600, 300, 100])
    confusion = np.array([[0.7, 0.3, 0.0], [0.0, 0.6, 0.4], [0.2, 0.0, 0.8]])
    point = chi2.ppf(0.95, 2)
    p, how = simulated_p(training, np.array([400, 250, 150]), point, confusion=confusion)
    assert 0.035 <= p <= 0.07 and how == REFERENCE_TRUTH   # 0.053
    assert simulated_p(training, np.array([40.5, 30.5, 20.0]), point)[1] == REFERENCE_SHARES
    assert simulated_p(training, np.array([40, 31, 20]), point)[1] == MARGINS_FIXED


def test_a_row_of_one_held_out_image_is_named_in_the_singular() -> None:
    assert simulated_text({"fewest_held_out": 1}).startswith(
        f"a row of the annotator's confusion rests on 1 held-out image (under {FEW_HELD_OUT}): ")
    assert "rests on 2 held-out images (" in simulated_text({"fewest_held_out": 2})
