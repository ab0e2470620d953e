"""`audit compare`'s chi-square is read off the chi-square curve; where many classes expect few
generated images that p-value runs small, and the test's basis line says so."""

from __future__ import annotations

import numpy as np

from latentplay.audit.distribution import chi_square_basis, compare

CLASSES = [f"c{i}" for i in range(12)]
TRAINING = np.array([245] * 6 + [5] * 6)     # six classes at 0.5 % of the training labels
CONFUSION = np.eye(12) * 0.98 + 0.02 / 11 * (1 - np.eye(12))


def test_sparse_expected_counts_are_named_in_the_basis() -> None:
    few = compare(TRAINING, np.array([49] * 6 + [1] * 6), CLASSES, confusion=CONFUSION).to_dict()
    test = few["chi2"]
    expected = 300 * (CONFUSION.T @ (TRAINING / TRAINING.sum()))
    assert test["sparse"] == np.mean(expected < 5) == 0.5
    assert np.isclose(test["min_expected"], expected.min())
    basis = chi_square_basis(few)
    assert "50% of the classes expect under 5 generated images (the fewest 1.5)" in basis
    assert "can be too small" in basis
    many = compare(TRAINING, np.array([490] * 6 + [10] * 6), CLASSES, confusion=CONFUSION).to_dict()
    assert many["chi2"]["sparse"] == 0 and "expect under 5" not in (chi_square_basis(many) or "")


def test_labels_on_both_sides_count_the_smaller_side() -> None:
    """Pearson's 2 x K table: its smallest cells are the smaller side's."""
    few = compare(np.array([500, 300, 8]), np.array([50, 30, 2]), CLASSES[:3]).to_dict()
    assert np.isclose(few["chi2"]["min_expected"], 82 * 10 / 890)
    assert "expect under 5 generated images" in chi_square_basis(few, "generated")
    plenty = compare(np.array([500, 300, 200]), np.array([50, 30, 20]), CLASSES[:3]).to_dict()
    assert chi_square_basis(plenty) is None
