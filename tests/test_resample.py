"""The cluster bootstrap's draws: from many clusters of few distinct totals, drawn over the
distinct totals, with the distribution of drawing the clusters themselves."""

from __future__ import annotations

import numpy as np
import pytest

from latentplay import resample


def test_many_clusters_are_drawn_over_their_distinct_totals() -> None:
    """30,000 rows in 3 kinds (shares 0.5, 0.3, 0.2): each draw's count of a kind is
    Binomial(30,000, share) whichever way the draws are made, and the collapsed way is used."""
    kinds = np.repeat([0, 1, 2], [15000, 9000, 6000])
    sums = np.eye(3)[kinds]
    drawn = resample.resampled(sums, 2000, seed=1)
    share = np.array([0.5, 0.3, 0.2])
    np.testing.assert_allclose(drawn.mean(axis=0), 30000 * share, rtol=0.002)
    np.testing.assert_allclose(drawn.std(axis=0), np.sqrt(30000 * share * (1 - share)),
                               rtol=0.06)
    assert (drawn.sum(axis=1) == 30000).all()
    # the collapsed way was taken: its draws are not the direct way's under the same seed
    direct = np.random.default_rng(1).multinomial(30000, np.full(30000, 1 / 30000),
                                                  size=3) @ sums
    assert not np.array_equal(resample.resampled(sums, 3, seed=1), direct)
    # below the threshold the clusters themselves are drawn: the same seed, the same draws
    small = sums[::2]
    direct = np.random.default_rng(3).multinomial(len(small), np.full(len(small), 1 / len(small)),
                                                  size=5) @ small
    np.testing.assert_array_equal(resample.resampled(small, 5, seed=3), direct)


def test_continuous_totals_are_drawn_directly() -> None:
    """Totals that are all distinct gain nothing from collapsing: drawn as clusters."""
    values = np.random.default_rng(0).random((25000, 1))
    direct = np.random.default_rng(4).multinomial(25000, np.full(25000, 1 / 25000),
                                                  size=3) @ values
    np.testing.assert_allclose(resample.resampled(values, 3, seed=4), direct)


def test_a_difference_of_rates_that_never_change_has_a_symmetric_interval() -> None:
    """Neither the edit nor the random directions flip a face: the excess is 0, and its
    interval runs as far below 0 as above (a one-sided [0, 3.7 %] read as a proportion
    before), each side Wilson's upper bound at the rows."""
    from latentplay.intervals import effective_wilson
    from latentplay.resample import difference_intervals

    zeros = np.zeros((100, 1))
    (low, high), = difference_intervals(zeros, zeros, np.arange(100), 500, seed=0)
    w = effective_wilson(0.0, 100)[1]
    assert high == pytest.approx(w) and low == pytest.approx(-w)


def test_a_difference_of_rates_is_newcombes_interval_where_the_bootstrap_is_narrower() -> None:
    """Independent rows: never narrower than Newcombe's hybrid score interval for paired
    proportions (with their correlation), which the percentile bootstrap undercuts at 0 %."""
    from latentplay.intervals import effective_wilson
    from latentplay.resample import difference_intervals

    rng = np.random.default_rng(3)
    a = (rng.random((60, 1)) < 0.1).astype(float)
    b = np.zeros((60, 1))
    b[:3] = 1.0
    (low, high), = difference_intervals(a, b, np.arange(60), 2000, seed=0)
    (p1, (l1, u1)), (p2, (l2, u2)) = [(x.mean(), effective_wilson(x.mean(), 60)) for x in (a, b)]
    r = np.corrcoef(a[:, 0], b[:, 0])[0, 1]
    newcombe_low = p1 - p2 - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2 - 2 * r * (p1 - l1) * (u2 - p2))
    newcombe_high = p1 - p2 + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2 - 2 * r * (u1 - p1) * (p2 - l2))
    assert low <= newcombe_low + 1e-12 and high >= newcombe_high - 1e-12
    assert low < p1 - p2 < high


def test_distinct_rows_are_numpys_unique_rows() -> None:
    """Wide rows of group indicators (as audit accuracy's parity draws from), with repeats,
    a -0.0 and rows holding NaN: the same distinct rows, order and counts as np.unique."""
    rng = np.random.default_rng(0)
    groups = rng.integers(0, 7, 3000)
    sums = np.concatenate([np.eye(7)[groups], (rng.random((3000, 5)) < 0.5)], axis=1)
    sums[::97, 2] = -0.0
    for rows in (sums, np.concatenate([sums, np.full((3, 12), np.nan)])):
        distinct, counts = resample.distinct_rows(rows)
        want, want_counts = np.unique(rows, axis=0, return_counts=True)
        np.testing.assert_array_equal(distinct, want)
        np.testing.assert_array_equal(counts, want_counts)


def test_collapsed_draws_are_those_of_sorting_whole_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    """The collapsed bootstrap draws exactly what it drew when np.unique sorted the rows."""
    groups = np.random.default_rng(1).integers(0, 40, resample.COLLAPSE_AT)
    sums = np.repeat(np.eye(40)[groups], 3, axis=1)                    # (20,000, 120)
    drawn = resample.resampled(sums, 50, seed=2)
    monkeypatch.setattr(resample, "distinct_rows",
                        lambda rows: np.unique(rows, axis=0, return_counts=True))
    np.testing.assert_array_equal(drawn, resample.resampled(sums, 50, seed=2))


def test_a_column_read_on_one_unit_has_no_percentile_interval() -> None:
    """A group of one photo got "missed 1.021 [1.021, 1.021]": every resample is that photo.
    Its mean has no interval; a proportion still gets Wilson's; two units get one."""
    one = resample.mean_intervals(np.array([[1.021, 1.0]]), np.array([0]), 200, 0,
                                  proportion=[False, True])
    assert np.isnan(one[0]).all()
    assert one[1, 0] < 0.5 and one[1, 1] == 1.0            # Wilson's at n = 1
    two = resample.mean_intervals(np.array([[1.0], [3.0], [np.nan]]), np.array([0, 1, 2]), 200, 0,
                                  proportion=False)
    assert two[0, 0] == 1.0 and two[0, 1] == 3.0          # units with a value: two
    persons = resample.mean_intervals(np.array([[1.0], [3.0]]), np.array([7, 7]), 200, 0,
                                      proportion=False)
    assert np.isnan(persons).all()                         # two photos of one person


def test_effective_rows_by_hand() -> None:
    """Three persons of two photos, right 2, 0 and 1 times: mean 1/2, the persons' total
    deviations 1, -1 and 0, so the mean's variance is 3/2 * 2 / 36 = 1/12 (above the 1/24 of
    six independent rows) and the rows are worth 0.25 / (1/12) = 3. Persons whose photos
    disagree more than independent rows would are still worth no more than the 6 rows."""
    x = np.array([1.0, 1.0, 0.0, 0.0, 1.0, 0.0])
    assert resample.effective_rows(x, np.array([0, 0, 1, 1, 2, 2])) == pytest.approx(3.0)
    x = np.array([1.0, 0.0, 1.0, 0.0, 1.0, 1.0])
    assert resample.effective_rows(x, np.array([0, 0, 1, 1, 2, 3])) == pytest.approx(6.0)


def test_percentile_intervals_of_a_mean_are_95_percent_wide() -> None:
    """400 independent normal values (no proportion): the bootstrap's 2.5 and 97.5
    percentiles lie about 1.96 standard errors either side of the mean (1.645 for a 90 %
    interval)."""
    values = np.random.default_rng(0).standard_normal((400, 1))
    (low, high), = resample.mean_intervals(values, np.arange(400), 4000, 0, proportion=False)
    half = 1.96 * values.std(ddof=1) / np.sqrt(400)
    assert (high - low) / (2 * half) == pytest.approx(1.0, abs=0.05)
    assert (low + high) / 2 == pytest.approx(values.mean(), abs=0.2 * half)


def test_percentile_intervals_over_few_persons_are_as_wide_as_t_over_their_means() -> None:
    """8 persons of 5 photos, each person's values around a mean of their own: the interval
    is as wide as Student's t over the 8 persons' means (7 degrees of freedom, t = 2.365).
    The plain 2.5 and 97.5 percentiles are 1.96 sqrt(7 / 8) / 2.365 = 0.78 times as wide, and
    hold the truth in about 85 % of such sets (bench/coverage_means.py)."""
    rng = np.random.default_rng(3)
    persons = np.repeat(np.arange(8), 5)
    values = (rng.standard_normal(8)[persons] + rng.standard_normal(40))[:, None]
    (low, high), = resample.mean_intervals(values, persons, 20000, 0, proportion=False)
    means = values[:, 0].reshape(8, 5).mean(1)
    half = 2.365 * means.std(ddof=1) / np.sqrt(8)
    assert (high - low) / (2 * half) == pytest.approx(1.0, abs=0.08)


def test_the_expanded_percentiles_tail_by_hand() -> None:
    """Hesterberg's expanded percentile interval: Phi(-sqrt(k / (k - 1)) t_{k-1}), at 8
    clusters Phi(-sqrt(8 / 7) 2.3646) = Phi(-2.5279) = 0.00574; towards 2.5 % with many."""
    from scipy.stats import norm

    assert resample.expanded_tail(8) == pytest.approx(float(norm.cdf(-np.sqrt(8 / 7) * 2.3646)),
                                                      rel=1e-3)
    assert resample.expanded_tail(8) == pytest.approx(0.00574, abs=1e-5)
    assert resample.expanded_tail(10_000) == pytest.approx(0.025, abs=1e-4)


def test_a_difference_of_correlated_rates_is_newcombes_interval() -> None:
    """The edit flips the 3 faces the reference flips and 2 more (60 rows, correlation
    0.76): the bootstrap of the differences never goes below 0, Newcombe's lower bound does
    and is the one given, the correlation narrowing it (Zou & Donner 2008, eq. 8). Each side's
    Wilson interval is at 59 effective rows: rows of their own have the clusters' variance
    estimator's design effect n / (n - 1)."""
    from latentplay.intervals import effective_wilson

    b = np.zeros((60, 1))
    b[:3] = 1.0
    a = b.copy()
    a[3:5] = 1.0
    (low, _), = resample.difference_intervals(a, b, np.arange(60), 2000, seed=0)
    p1, p2 = 5 / 60, 3 / 60
    assert resample.effective_rows(a[:, 0], np.arange(60)) == pytest.approx(59)
    l1, u2 = effective_wilson(p1, 59)[0], effective_wilson(p2, 59)[1]
    r = (p2 - p1 * p2) / np.sqrt(p1 * (1 - p1) * p2 * (1 - p2))   # both 1 on 3 rows
    assert r == pytest.approx(np.corrcoef(a[:, 0], b[:, 0])[0, 1])
    newcombe = p1 - p2 - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2 - 2 * r * (p1 - l1) * (u2 - p2))
    assert low == pytest.approx(newcombe) and low < 0
