"""An annotator's confusion measured on several photos of each person: a person's photos tend
to be misread alike, so each confusion row is worth fewer independent images than it holds,
and the test and the corrected intervals count its effective size."""

from __future__ import annotations

import numpy as np
import pytest

from latentplay.audit.annotate import Evaluation, row_effective_sizes
from latentplay.audit.distribution import chi_square_basis
from latentplay.audit.goodness_of_fit import (
    _measuring_error,
    confusion_rates,
    counts_draw,
    filled_confusion,
)


def _alike(persons: int, photos: int, wrong: float, seed: int = 0
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Two classes, ``persons`` of each with ``photos`` photos; a ``wrong`` share of the
    persons has every photo read as the other class: ``(true, predicted, persons)``."""
    rng = np.random.default_rng(seed)
    person = np.arange(2 * persons)
    true = person % 2
    misread = rng.random(2 * persons) < wrong
    predicted = np.where(misread, 1 - true, true)
    return (np.repeat(true, photos), np.repeat(predicted, photos),
            np.repeat(person, photos))


def test_a_row_read_alike_per_person_is_worth_about_its_persons() -> None:
    """Persons whose 5 photos are all read alike: a row's design effect is about 5 (times
    ``k / (k - 1)``), so it is worth about its persons, not its photos."""
    true, predicted, persons = _alike(60, 5, 0.2)
    effective = row_effective_sizes(true, predicted, persons, 2)
    assert effective == pytest.approx([60 * 59 / 60, 60 * 59 / 60], rel=1e-9)


def test_photos_misread_independently_keep_most_of_their_weight() -> None:
    """The same persons with each photo misread on its own: the design effect stays near 1."""
    rng = np.random.default_rng(1)
    true = np.repeat(np.arange(120) % 2, 5)
    predicted = np.where(rng.random(600) < 0.2, 1 - true, true)
    effective = row_effective_sizes(true, predicted, np.repeat(np.arange(120), 5), 2)
    assert effective == pytest.approx([300, 300], rel=0.3)


def test_a_row_read_one_way_or_of_one_person_keeps_its_images() -> None:
    true = np.array([0] * 6 + [1] * 4)
    predicted = np.array([0] * 6 + [1, 0, 1, 0])
    persons = np.array([0, 0, 1, 1, 2, 2, 3, 3, 3, 3])
    assert row_effective_sizes(true, predicted, persons, 2).tolist() == [6, 4]


def test_measured_counts_scale_each_confusion_row_to_its_effective_size() -> None:
    """Rows of 10 and 4 held-out images worth 5 and 4: the first row's counts halve."""
    ev = Evaluation(0.79, np.array([[0.8, 0.2], [0.25, 0.75]]), np.array([[8, 2], [1, 3]]), 14,
                    persons=6, effective=np.array([5.0, 4.0]))
    np.testing.assert_allclose(ev.measured_counts, [[4, 1], [1, 3]])


def test_evaluation_scales_its_measured_counts_only_where_persons_repeat() -> None:
    true, predicted, persons = _alike(40, 4, 0.25, seed=2)
    proba = np.eye(2)[predicted] * 0.8 + 0.1
    ev = Evaluation.from_proba(true, proba, persons)
    assert ev.persons == 80 and ev.effective is not None
    rows = ev.counts.sum(axis=1)
    assert np.allclose(ev.measured_counts.sum(axis=1), ev.effective)
    assert np.allclose(confusion_rates(ev.measured_counts), ev.confusion)   # rates unchanged
    assert (ev.effective < rows).all()
    again = Evaluation.from_dict(ev.to_dict())
    assert again.persons == 80 and np.allclose(again.measured_counts, ev.measured_counts)
    lone = Evaluation.from_proba(true, proba, np.arange(len(true)))       # no person repeats
    assert lone.persons is None and lone.effective is None and lone.measured_counts is lone.counts
    old = {k: v for k, v in ev.to_dict().items() if k not in ("persons", "effective")}
    assert Evaluation.from_dict(old).effective is None                     # an older file


def test_the_measuring_error_grows_by_each_row_s_design_effect() -> None:
    counts = np.array([[90, 10, 0], [5, 40, 5], [0, 3, 27]])
    effective = np.array([30.0, 50.0, 10.0])
    scaled = counts * (effective / counts.sum(axis=1))[:, None]
    c = filled_confusion(confusion_rates(counts))
    p = np.array([0.5, 0.3, 0.2])
    by_hand = sum(p[i] ** 2 * (np.diag(c[i]) - np.outer(c[i], c[i])) / effective[i]
                  for i in range(3))
    assert np.allclose(_measuring_error(scaled, c, p), by_hand)
    assert np.allclose(_measuring_error(scaled, c, p),
                       _measuring_error(counts, c, p) + sum(
                           p[i] ** 2 * (np.diag(c[i]) - np.outer(c[i], c[i]))
                           * (1 / effective[i] - 1 / counts[i].sum()) for i in range(3)))


def test_scaled_counts_are_drawn_at_their_effective_size() -> None:
    """A row scaled to 12.4 images is drawn as 12, one scaled below a half still as 1, a row
    without images stays without."""
    counts = np.array([[9.3, 3.1], [0.0, 0.0]])
    tiny = np.array([[0.3, 0.0], [0.0, 0.2]])
    rng = np.random.default_rng(0)
    assert {tuple(counts_draw(counts, rng).sum(axis=1)) for _ in range(20)} == {(12, 0)}
    drawn = counts_draw(tiny, rng)
    assert drawn.sum(axis=1).tolist() == [1, 1]


def test_a_joint_comparison_names_the_annotators_counted_over_persons() -> None:
    summary = {"chi2": {"dof": 9, "through_annotator": True},
               "annotator": {"kind": "joint", "independent_errors": True,
                             "persons_counted": ["gender", "age_group"]}}
    assert ("the gender and age_group annotators' confusions counted over the persons measured "
            "on, each row at its effective size") in chi_square_basis(summary)
    summary["annotator"]["persons_counted"] = ["gender"]
    assert "the gender annotator's confusion counted over" in chi_square_basis(summary)
    summary["annotator"]["persons_counted"] = []
    assert "counted over the persons" not in chi_square_basis(summary)
