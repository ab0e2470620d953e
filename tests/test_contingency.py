"""Pearson's chi-square of a table, and its p-value simulated with both margins fixed."""

from __future__ import annotations

from itertools import product
from math import factorial, prod

import numpy as np
import pytest
from scipy.stats import chi2_contingency

from latentplay.contingency import chi_square, read_p, simulated_p


def _statistic(table: np.ndarray) -> float:
    expected = np.outer(table.sum(1), table.sum(0)) / table.sum()
    return float(((table - expected) ** 2 / expected).sum())


def test_a_plain_table_is_scipys_test() -> None:
    counts = np.array([[30, 20, 25], [18, 33, 29]])
    test = chi_square(counts)
    statistic, p, dof, _ = chi2_contingency(counts, correction=False)
    assert test["statistic"] == pytest.approx(statistic) and test["dof"] == dof == 2
    assert test["p_value"] == pytest.approx(p) and read_p(test) == test["p_value"]
    assert test["sparse"] == 0 and "p_value_simulated" not in test


def test_the_simulated_p_is_the_exact_one() -> None:
    """A 2 x 3 table: the share of tables with its margins (each as likely as the
    hypergeometric makes it) that score at least as high, counted over all of them."""
    counts = np.array([[2, 0, 1], [0, 3, 1]])
    rows, cols, n = counts.sum(1), counts.sum(0), int(counts.sum())
    observed, exact = _statistic(counts), 0.0
    for first in product(*(range(c + 1) for c in cols)):
        if sum(first) != rows[0]:
            continue
        table = np.array([first, cols - np.array(first)])
        chance = (prod(factorial(int(x)) for x in (*rows, *cols))
                  / factorial(n) / prod(factorial(int(x)) for x in table.ravel()))
        exact += chance * (_statistic(table) >= observed - 1e-9)
    assert simulated_p(counts, observed) == pytest.approx(exact, abs=0.01)


def test_one_cell_that_expects_almost_nothing_gets_a_simulated_p() -> None:
    """Groups of 2000, 2000 and 60 rows over nine common classes and one rare class seen
    once, in the small group: only 10 % of the cells expect under 5 rows, but that one cell
    expects 0.016, and its single row makes the chi-square curve's p about 1e-6 where the
    chance of the rare row falling in the small group is about 1.5 %. The p read is the
    simulated one, close to that of shuffling the rows between the groups."""
    counts = np.zeros((3, 10), np.int64)
    counts[:, :9] = np.array([2000, 2000, 60])[:, None] // 9
    counts[2, 9] = 1
    test = chi_square(counts)
    assert test["sparse"] <= 0.2 and test["p_value"] < 1e-5
    assert "p_value_simulated" in test and read_p(test) == test["p_value_simulated"]
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(10), counts.sum(axis=0))
    cuts = np.cumsum(counts.sum(axis=1))[:-1]
    high = 0
    for _ in range(2000):
        table = np.array([np.bincount(part, minlength=10)
                          for part in np.split(rng.permutation(labels), cuts)])
        high += _statistic(table) >= test["statistic"] * (1 - 1e-9)
    assert read_p(test) == pytest.approx(high / 2000, abs=0.01)
    assert read_p(test) > 0.005


def test_the_reason_for_simulating_names_the_rule_that_applied() -> None:
    from latentplay.contingency import chi_square, sparse_reason

    many = chi_square(np.array([[3, 1, 2], [2, 2, 1]]))
    assert sparse_reason(many) == f"{many['sparse']:.0%} of cells expect under 5 rows"
    rare = chi_square(np.array([[400, 300, 200, 100, 250, 0], [380, 320, 210, 90, 240, 0],
                                [400, 310, 190, 110, 260, 1]]))
    assert rare["sparse"] <= 0.2 and "p_value_simulated" in rare
    assert sparse_reason(rare) == f"a cell expects {rare['min_expected']:.2g} rows"


def test_a_simulated_p_at_its_floor_is_named_a_bound() -> None:
    """A sparse table no drawn table reaches gets p = 1 / (draws + 1), the smallest the
    simulation can give: its note says so (it read as 0.0001), without calling it an upper
    bound (the exact p-value may be a little above it)."""
    from latentplay.contingency import DRAWS, simulated_note

    counts = np.zeros((2, 6), np.int64)
    counts[0, :3], counts[1, 3:] = 4, 4              # every row of a group in its own classes
    test = chi_square(counts)
    assert read_p(test) == pytest.approx(1 / (DRAWS + 1))
    assert "the smallest p-value they can give" in simulated_note(test)
    assert "at most" not in simulated_note(test)
    assert "smallest" not in simulated_note({**test, "p_value_simulated": 0.2})
    assert simulated_note({"p_value": 0.2}) == ""


def test_drawn_tables_as_extreme_as_the_observed_one_count() -> None:
    """[[1, 0], [0, 1]]: the only two tables with its margins both have X2 = 2, so every drawn
    table is as far from independence as the observed one and the p-value is 1."""
    test = chi_square(np.array([[1, 0], [0, 1]]))
    assert test["statistic"] == pytest.approx(2.0)
    assert read_p(test) == 1.0


def test_cochrans_rule_allows_a_fifth_of_cells_under_5_and_a_cell_of_1() -> None:
    """Cochran's rule asks no more than 20 % of cells to expect under 5 rows and none under 1:
    a table exactly at either limit keeps the chi-square curve's p-value."""
    from latentplay.contingency import is_sparse

    assert not is_sparse({"sparse": 0.2, "min_expected": 1.0})
    assert is_sparse({"sparse": 0.25, "min_expected": 1.0})
    assert is_sparse({"sparse": 0.2, "min_expected": 0.99})
