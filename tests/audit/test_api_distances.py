"""The distances of two class distributions take counts or shares alike, and refuse what is
no distribution; ``compare`` refuses negative counts in one sentence."""

from __future__ import annotations

import numpy as np
import pytest

from latentplay import audit
from latentplay.errors import UserError


def test_total_variation_normalises_counts_as_its_siblings_do() -> None:
    """[50, 50] against [100, 0] gave 50.0, outside the documented [0, 1]."""
    p, q = np.array([50, 50]), np.array([100, 0])
    assert audit.total_variation(p, q) == pytest.approx(0.5)
    assert audit.total_variation(p / 100, q / 100) == pytest.approx(0.5)
    assert audit.total_variation([1, 3], [30, 10]) == pytest.approx(0.5)     # other totals
    assert audit.js_divergence(p, q) == pytest.approx(audit.js_divergence(p / 100, q / 100))
    assert 0 <= audit.total_variation([7, 0, 0], [0, 0, 9]) == pytest.approx(1.0)


@pytest.mark.parametrize(("p", "q", "message"), [
    ([1, -1], [1, 1], r"total_variation: p must hold counts or shares of 0 or more, got \[1.0, -1.0\]"),
    ([1, 1], [np.nan, 1], "total_variation: q must hold counts or shares of 0 or more"),
    ([0, 0], [1, 1], r"total_variation: p is empty \(all zero\)"),
    ([1, 1], [0, 0], r"total_variation: q is empty \(all zero\)"),
    ([1, 1], [1, 1, 1], r"two \(K,\) distributions of one length, got shapes \(2,\) and \(3,\)"),
])
def test_total_variation_refuses_what_is_no_distribution(p: list, q: list, message: str) -> None:
    with pytest.raises(UserError, match=message):
        audit.total_variation(np.array(p, float), np.array(q, float))


def test_js_divergence_refuses_negative_values_and_keeps_nan_for_an_empty_side() -> None:
    with pytest.raises(UserError, match="js_divergence: q must hold counts or shares of 0 or more"):
        audit.js_divergence([1, 1], [2, -1])
    assert np.isnan(audit.js_divergence([0, 0], [1, 1]))


def test_compare_refuses_negative_counts() -> None:
    """Negative counts failed deep in NumPy (``ValueError: alpha < 0``)."""
    with pytest.raises(UserError, match=r"generated_counts must be counts of 0 or more, got \[5, -1\]"):
        audit.compare(np.array([3, 4]), np.array([5, -1]), ["a", "b"], n_boot=10)
    with pytest.raises(UserError, match="training_counts must be counts of 0 or more"):
        audit.compare(np.array([-3, 4]), np.array([5, 1]), ["a", "b"], n_boot=10)


def test_compare_refuses_counts_that_are_not_whole() -> None:
    """Shares [0.5, 0.5] were truncated to counts [0, 0]: a Comparison full of NaN."""
    with pytest.raises(UserError, match=r"training_counts must be counts of 0 or more, got \[0.5, "
                                         r"0.5\]: not whole numbers \(shares\?"):
        audit.compare(np.array([0.5, 0.5]), np.array([5, 1]), ["a", "b"], n_boot=10)
    with pytest.raises(UserError, match=r"generated_counts must be counts of 0 or more, got \[1.0, nan\]"):
        audit.compare(np.array([3, 4]), np.array([1.0, np.nan]), ["a", "b"], n_boot=10)
    whole = audit.compare(np.array([30.0, 10.0]), np.array([10, 30]), ["a", "b"], n_boot=10)
    assert whole.tv == pytest.approx(0.5)


def test_compare_keeps_its_distances_of_an_empty_side() -> None:
    """``compare`` measures its own shares, an empty side included (no refusal there)."""
    result = audit.compare(np.array([30, 10]), np.array([0, 0]), ["a", "b"], n_boot=10)
    assert result.tv == pytest.approx(0.5) and np.isnan(result.js)
    result = audit.compare(np.array([30, 10]), np.array([10, 30]), ["a", "b"], n_boot=10)
    assert result.tv == pytest.approx(0.5)
