"""The corrected distance from balance where the annotator confuses two classes: the corrected
shares of each resample then sit nearly all on one class or the other, draws that differ in
which class, not in imbalance. Their covariance was taken off the distance as sampling noise
(0.667 [0.657, 0.670] where every resample lies at 0.85-0.87); it is now read plainly, with a
caution naming the classes."""

from __future__ import annotations

import numpy as np
import pytest

from latentplay.audit.distribution import (
    compare,
    correct_confusion,
    effective_count,
    fairness_discrepancy,
    imbalance_text,
    jeffreys_draw,
)
from latentplay.audit.goodness_of_fit import counts_draw, measured_confusion

CLASSES = ["a", "b", "c", "d"]
TRAINING = np.array([300, 200, 150, 100])


def _confused() -> np.ndarray:
    """``(4, 4)`` held-out counts of an annotator that reads a and b nearly alike."""
    return np.array([[60, 40, 0, 0], [55, 45, 0, 0], [0, 0, 90, 10], [0, 0, 10, 90]])


def test_a_confused_pair_gives_the_plain_distance_with_the_resamples_inside_its_interval() -> None:
    counts = _confused()
    confusion = counts / counts.sum(axis=1, keepdims=True)
    generated = np.array([400, 0, 0, 0])
    result = compare(TRAINING, generated, CLASSES, confusion=confusion, confusion_counts=counts)
    rng = np.random.default_rng(5)
    replicates = [fairness_discrepancy(correct_confusion(jeffreys_draw(generated, rng),
                                                         measured_confusion(counts_draw(counts, rng))))
                  for _ in range(300)]
    imbalance = result.corrected_imbalance
    assert imbalance is not None and result.corrected is not None
    assert imbalance.generated == fairness_discrepancy(result.corrected)
    assert imbalance.generated_low <= np.median(replicates) <= imbalance.generated_high
    assert imbalance.unsteady_classes == ["a", "b"] and imbalance.unsteady_n < 2
    text = imbalance_text(result.to_dict())
    assert text is not None and "caution: the corrected shares of a, b swing" in text


def test_an_annotator_that_tells_the_classes_apart_keeps_the_bias_correction() -> None:
    counts = np.diag([90, 90, 90, 90]) + 3
    confusion = counts / counts.sum(axis=1, keepdims=True)
    generated = np.array([110, 95, 100, 95])
    result = compare(TRAINING, generated, CLASSES, confusion=confusion, confusion_counts=counts)
    imbalance = result.corrected_imbalance
    assert imbalance is not None and result.corrected is not None
    assert imbalance.unsteady_classes == [] and imbalance.unsteady_n is None
    assert imbalance.generated < fairness_discrepancy(result.corrected)
    assert "swing" not in (imbalance_text(result.to_dict()) or "")


def test_effective_count_of_a_samples_shares_is_its_size() -> None:
    """The shares of multinomial samples of 80 spread as ``tr Cov = (1 - |p|^2) / 80``: the
    count read back is 80, from counts or shares alike; draws that do not spread are worth
    infinitely many images."""
    p = np.array([0.4, 0.3, 0.2, 0.1])
    draws = np.random.default_rng(0).multinomial(80, p, size=8000)
    assert effective_count(draws) == pytest.approx(effective_count(draws / 80))
    assert abs(effective_count(draws) - 80) < 0.06 * 80
    assert effective_count(np.tile(p, (5, 1))) == np.inf
