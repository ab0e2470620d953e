"""Intervals of proportions over persons: never a point at 0 % or 100 % or with one person,
and at their level with few persons."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy import stats

from latentplay.intervals import (
    degrees_adjusted_rows,
    effective_wilson,
    proportion_interval,
    simultaneous_percentiles,
    t_interval,
    wilson_interval,
)
from latentplay.resample import effective_rows, mean_intervals


def test_all_right_over_persons_is_not_a_point() -> None:
    """3 photos all right: Wilson's interval on 3 rows at least, whether the photos are of
    3 persons or of 1; and the same for all wrong."""
    wilson, none = wilson_interval(np.array([3, 0]), 3)
    for persons in (np.array([0, 1, 2]), np.array([7, 7, 7])):
        low, high = proportion_interval(np.ones(3, bool), persons)
        assert high == 1.0
        assert low <= wilson[0] + 1e-9 and low < 0.6
        low, high = proportion_interval(np.zeros(3, bool), persons)
        assert low == 0.0 and high >= none[1] - 1e-9


def test_one_person_with_mixed_photos_is_not_a_point() -> None:
    """One person, 2 of 4 photos right: the bootstrap redraws the one person every time."""
    low, high = proportion_interval(np.array([1, 0, 1, 0], bool), np.zeros(4))
    assert low < 0.5 < high
    assert high - low > 0.5


def test_clustered_rows_widen_the_floor() -> None:
    """Persons who are all right or all wrong, 10 photos each: the photos count about as one
    each, so the interval is about Wilson's on the persons, far wider than on the photos."""
    persons = np.repeat(np.arange(20), 10)
    hits = persons < 14                                           # 70 %
    low, high = proportion_interval(hits, persons)
    on_persons = wilson_interval(np.array([14]), 20)[0]
    on_photos = wilson_interval(np.array([140]), 200)[0]
    assert high - low > 2 * (on_photos[1] - on_photos[0])
    assert low <= on_persons[0] + 0.02 and high >= on_persons[1] - 0.02


def test_mean_probabilities_stay_narrow_when_they_barely_vary() -> None:
    """The floor follows the spread of values in [0, 1]: probabilities 0.5 +- 0.01 over 50
    persons keep an interval about the normal one, not Wilson's on 50 rows; values outside
    [0, 1] are not floored."""
    rng = np.random.default_rng(0)
    values = 0.5 + 0.01 * rng.standard_normal((50, 1))
    low, high = mean_intervals(values, np.arange(50), 1000, 0)[0]
    half = 1.96 * values.std() / np.sqrt(50)
    assert high - low < 3 * half
    signed = np.full((3, 1), 2.0)
    np.testing.assert_array_equal(mean_intervals(signed, np.arange(3), 100, 0)[0], [2.0, 2.0])
    # three rows of one person: every resample is that person, so no interval (not [2, 2])
    assert np.isnan(mean_intervals(signed, np.zeros(3), 100, 0)[0]).all()


def test_interval_over_few_persons_covers_a_high_rate() -> None:
    """A true rate of 0.97 (persons differ: each one's rate is Beta around it), 10 to 20
    persons of 1 to 5 photos: the interval over persons holds the rate in at least 92 % of 300
    repetitions (the percentile bootstrap alone, about 70 %), and is there hardly wider than
    Wilson's at the photos over their design effect, which sets it (so it holds the rate
    more often than 95 %): the bootstrap's wider percentiles over few persons do not pile up
    on Wilson's."""
    rng = np.random.default_rng(1)
    rate, held, width, wilson = 0.97, 0, 0.0, 0.0
    for repetition in range(300):
        k = int(rng.integers(10, 21))
        persons = np.repeat(np.arange(k), rng.integers(1, 6, k))
        own = rng.beta(rate * 20, (1 - rate) * 20, k)
        hits = rng.random(len(persons)) < own[persons]
        low, high = proportion_interval(hits, persons, seed=repetition, n_boot=200)
        held += low <= rate <= high
        width += high - low
        floor = effective_wilson(float(hits.mean()), effective_rows(hits.astype(float), persons))
        wilson += floor[1] - floor[0]
    assert held / 300 >= 0.92
    assert width <= 1.1 * wilson


def test_values_that_do_not_vary_are_widened_only_as_proportions() -> None:
    """Similarities that round to a mean of 1, or a constant 0.7, are no proportion: no
    widening; all 1 (as right or wrong) is: Wilson's on the rows."""
    near = np.array([[1.0], [1 - 1e-16], [1.0], [1 - 1e-16]])
    low, high = mean_intervals(near, np.arange(4), 200, 0)[0]
    assert high - low < 1e-6
    np.testing.assert_allclose(mean_intervals(np.full((4, 1), 0.7), np.arange(4), 200, 0)[0], 0.7)
    ones = mean_intervals(np.ones((4, 1)), np.arange(4), 200, 0)[0]
    np.testing.assert_allclose(ones, wilson_interval(np.array([4]), 4)[0])


def test_t_interval_of_a_mean_by_hand() -> None:
    """1, 2, 3, 4: mean 2.5, standard error sqrt(5/3) / 2 = 0.6455, and t(0.975, 3 dof) =
    3.1824 (the tables' value), so 2.5 -/+ 2.0543 = [0.4457, 4.5543], where the normal's 1.96
    gave [1.2348, 3.7652]; two rows 0 and 1: 0.5 -/+ 12.706 * 0.5; at 400 rows the half
    width is within 0.5 % of 1.96 standard errors."""
    x = np.array([1.0, 2.0, 3.0, 4.0])
    mean, low, high = t_interval(x)
    assert mean == 2.5
    assert np.isclose(low, 2.5 - 3.182446 * np.sqrt(5 / 3) / 2) and np.isclose(low, 0.4457, atol=1e-4)
    assert np.isclose(high, 4.5543, atol=1e-4)
    _, low, high = t_interval(np.array([0.0, 1.0]))
    assert np.isclose(low, 0.5 - 12.7062 * 0.5, atol=1e-3)
    assert np.isclose(high, 0.5 + 12.7062 * 0.5, atol=1e-3)
    many = np.random.default_rng(0).normal(size=400)
    mean, _, high = t_interval(many)
    assert 1.96 < (high - mean) / stats.sem(many) < 1.96 * 1.005


def test_t_interval_of_half_precision_values_is_computed_in_double() -> None:
    """float16 values around 30,000: their squared deviations summed in float16 overflow
    (65,504 at most) to an interval of -inf to inf; the values taken as float64 give the
    interval of the same numbers."""
    x = (np.random.default_rng(0).normal(size=1000) * 1e4 + 3e4).astype(np.float16)
    found = t_interval(x)
    expected = t_interval(x.astype(np.float64))
    assert np.isfinite(found).all() and np.allclose(found, expected, rtol=0, atol=0)


def test_t_interval_along_an_axis() -> None:
    """``(n, A, K)`` -> three ``(A, K)`` arrays, each cell the interval of its own column."""
    x = np.random.default_rng(0).random((6, 3, 2))
    mean, low, high = t_interval(x)
    assert mean.shape == low.shape == high.shape == (3, 2)
    one = t_interval(x[:, 1, 0])
    assert np.allclose((mean[1, 0], low[1, 0], high[1, 0]), one)
    across = t_interval(x, axis=1)
    assert across[1].shape == (6, 2) and np.allclose(across[1][2, 1], t_interval(x[2, :, 1])[1])


def test_t_interval_of_one_row_has_no_bounds() -> None:
    """One row: its value as the mean, NaN bounds (no spread), and no warning; no rows: NaN."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mean, low, high = t_interval(np.array([0.3]))
        assert mean == 0.3 and np.isnan(low) and np.isnan(high)
        mean, low, high = t_interval(np.full((1, 2, 3), 0.5))
        assert (mean == 0.5).all() and low.shape == high.shape == (2, 3) and np.isnan(low).all()
        assert all(np.isnan(v) for v in t_interval(np.array([])))


def test_wilson_interval_of_one_count_is_a_pair_of_floats() -> None:
    """``wilson_interval(5, 10)`` failed with 'iteration over a 0-d array'."""
    from latentplay.audit import wilson_interval as exported

    low, high = exported(5, 10)
    assert type(low) is float and type(high) is float
    assert (low, high) == tuple(wilson_interval(np.array([5]), 10)[0])
    assert np.isnan(wilson_interval(np.int64(0), 0)).all()


def test_wilson_interval_reaches_0_and_1_exactly() -> None:
    """No hits: the interval starts at 0; all hits: it ends at 1 (its centre minus its half
    width is 3e-17 for n = 7 in floating point, a low bound above the share seen)."""
    for n in range(1, 200):
        assert wilson_interval(0, n)[0] == 0.0
        assert wilson_interval(n, n)[1] == 1.0


def test_simultaneous_percentiles_of_one_column_are_its_own_95_percent() -> None:
    """One column of 1,000 distinct draws: the 25th smallest and largest (i = 24, the largest
    i with i <= 2.5 % of 999), so each interval holds 952 of the draws, at least 95 %."""
    draws = np.random.default_rng(0).permutation(1000).astype(float)[:, None]
    bounds, pointwise = simultaneous_percentiles(draws)
    np.testing.assert_array_equal(bounds, [[24.0, 975.0]])
    assert pointwise == 1 - 48 / 999


def test_simultaneous_percentiles_hold_exactly_95_percent_of_two_columns() -> None:
    """100 draws of two columns: between the 3rd smallest and largest values (2 and 97) the
    first column leaves out draws 0-3, the second draws 0, 1, 2 and 4: 95 of the 100 draws
    lie inside both, exactly 95 %, so those are the bounds (not the wider 1 and 98)."""
    first = np.array([0, 1, 98, 99, *range(2, 98)], float)
    second = np.array([0, 1, 98, 2, 99, *range(3, 98)], float)
    bounds, pointwise = simultaneous_percentiles(np.stack([first, second], axis=1))
    np.testing.assert_array_equal(bounds, [[2.0, 97.0], [2.0, 97.0]])
    assert pointwise == 1 - 4 / 99


def test_degrees_adjusted_rows_by_hand() -> None:
    """Korn & Graubard's adjustment: 80 rows of 8 persons worth 20 independent rows are worth
    20 (t(79) / t(7))^2 = 20 (1.9905 / 2.3646)^2 = 14.17 for an interval; rows of their own
    keep their number; never fewer than the persons (persons whose photos are all alike,
    worth 8 rows, stay 8), nor more than the rows were worth."""
    assert degrees_adjusted_rows(20.0, 80, 8) == pytest.approx(20 * (1.9905 / 2.3646) ** 2, rel=1e-3)
    assert degrees_adjusted_rows(80.0, 80, 80) == pytest.approx(80.0)
    assert degrees_adjusted_rows(8.0, 80, 8) == pytest.approx(8.0)
    assert degrees_adjusted_rows(5.0, 80, 8) == pytest.approx(5.0)
    assert degrees_adjusted_rows(3.0, 80, 1) == 3.0
