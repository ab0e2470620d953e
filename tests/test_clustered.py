"""Rao-Scott's tests of tables whose rows come in clusters (several photos of one person)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from scipy.stats import chi2_contingency

from latentplay import clustered
from latentplay.clustered import (
    _design_effects,
    _interaction_contrasts,
    clustered_means_test,
    clustered_trend,
    persons_refusal,
    rao_scott,
    share_spread,
)
from latentplay.store.bias import linear_trend


def _table(rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    counts = np.zeros((rows.max() + 1, cols.max() + 1))
    np.add.at(counts, (rows, cols), 1)
    return counts


def _rows(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` rows of a 3 x 4 table whose columns lean with the rows."""
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, 3, n)
    cols = np.minimum(rng.integers(0, 4, n) + (rng.random(n) < 0.2 * rows), 3)
    return rows, cols


def test_rows_of_their_own_give_pearsons_test() -> None:
    """Every row its own cluster: no design effect beyond the variance estimator's
    ``n / (n - 1)``, Pearson's degrees of freedom, and ``F`` is Pearson's X2 per dof."""
    rows, cols = _rows(400, 0)
    n = len(rows)
    test = rao_scott(rows, cols, np.arange(n))
    pearson, p, dof, _ = chi2_contingency(_table(rows, cols), correction=False)
    assert test.ndf == pytest.approx(dof) and dof == 6
    assert test.design_effect == pytest.approx(n / (n - 1))
    assert test.statistic * test.ndf * n / (n - 1) == pytest.approx(pearson)
    assert test.clusters == n and test.ddf == pytest.approx(dof * (n - 1))
    assert test.p_value == pytest.approx(p, rel=0.1)


def test_copies_of_each_row_add_no_evidence() -> None:
    """Each row three times, the copies one person: Pearson's X2 triples, the design effect
    triples, and the corrected test is exactly the one of the rows taken once."""
    rows, cols = _rows(300, 1)
    once = rao_scott(rows, cols, np.arange(300))
    thrice = rao_scott(np.repeat(rows, 3), np.repeat(cols, 3), np.repeat(np.arange(300), 3))
    plain = [chi2_contingency(_table(r, c), correction=False)[0]
             for r, c in ((rows, cols), (np.repeat(rows, 3), np.repeat(cols, 3)))]
    assert plain[1] == pytest.approx(3 * plain[0])
    assert thrice.design_effect == pytest.approx(3 * once.design_effect)
    assert thrice.statistic == pytest.approx(once.statistic)
    assert thrice.p_value == pytest.approx(once.p_value)


@pytest.mark.parametrize(("n_rows", "n_cols"), [(2, 2), (3, 4), (5, 2)])
def test_interaction_contrasts_are_the_cell_indicators_off_the_main_effects(n_rows: int,
                                                                             n_cols: int) -> None:
    """Each interaction column is its cell's indicator less its least-squares fit on the
    intercept, row and column indicators (cells row-major; rows and columns from 1)."""
    r, c = np.divmod(np.arange(n_rows * n_cols), n_cols)
    main = np.column_stack([np.ones(len(r)), *(r == i for i in range(n_rows)),
                            *(c == j for j in range(n_cols))]).astype(float)
    cells = np.column_stack([(r == i) & (c == j) for i in range(1, n_rows)
                             for j in range(1, n_cols)]).astype(float)
    expected = cells - main @ np.linalg.lstsq(main, cells, rcond=None)[0]
    assert np.allclose(_interaction_contrasts(n_rows, n_cols), expected, atol=1e-12)


def test_design_effects_are_the_eigenvalues_of_the_pseudo_inverse_times_the_design() -> None:
    """A rank-4 independent covariance of 6 contrasts: the eigenvalues of
    ``pinv(independent) @ design``, the two it cannot see 0."""
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(6, 4)), rng.normal(size=(6, 9))
    independent, design = a @ a.T, b @ b.T / 9
    expected = np.sort(np.linalg.eigvals(np.linalg.pinv(independent) @ design).real)
    found = np.sort(_design_effects(independent, design))
    assert np.allclose(found, expected, atol=1e-9) and np.allclose(found[:2], 0, atol=1e-9)
    assert found[2:].min() > 0.01


def _svychisq(rows: np.ndarray, cols: np.ndarray, persons: np.ndarray
              ) -> tuple[float, float, float, float, np.ndarray]:
    """R's ``survey::svychisq(statistic = "F")`` of one-stage cluster sampling written out
    densely: the linearisation covariance ``V`` of the cell shares from the persons' totals
    of each row's ``(x - mean) / N``, the interaction columns ``C`` as the residuals of the
    cell indicators on the main effects, ``Delta = (C' D^-1 C / N)^-1 C' D^-1 V D^-1 C``.
    Returns ``F``, its two degrees of freedom, the p-value and ``Delta``'s eigenvalues."""
    n_rows, n_cols, n = rows.max() + 1, cols.max() + 1, len(rows)
    x = np.eye(n_rows * n_cols)[rows * n_cols + cols]                        # (N, RC)
    mean = x.mean(axis=0)
    _, person = np.unique(persons, return_inverse=True)
    k = person.max() + 1
    totals = np.zeros((k, x.shape[1]))
    np.add.at(totals, person, (x - mean) / n)
    totals -= totals.mean(axis=0)
    v = k / (k - 1) * totals.T @ totals
    r, c = np.divmod(np.arange(n_rows * n_cols), n_cols)
    main = np.column_stack([np.ones(len(r)), *(r == i for i in range(1, n_rows)),
                            *(c == j for j in range(1, n_cols))]).astype(float)
    cells = np.column_stack([(r == i) & (c == j) for i in range(1, n_rows)
                             for j in range(1, n_cols)]).astype(float)
    contrasts = cells - main @ np.linalg.lstsq(main, cells, rcond=None)[0]
    inverse = np.diag(1 / mean)
    delta = np.linalg.solve(contrasts.T @ inverse @ contrasts / n,
                            contrasts.T @ inverse @ v @ inverse @ contrasts)
    trace = np.trace(delta)
    ndf = trace**2 / np.trace(delta @ delta)
    f = chi2_contingency(_table(rows, cols), correction=False)[0] / trace
    return f, ndf, ndf * (k - 1), stats.f.sf(f, ndf, ndf * (k - 1)), np.linalg.eigvals(delta).real


def test_the_test_over_persons_is_svychisqs() -> None:
    """40 persons of 1 to 7 photos, each person in one of 3 groups and their photos spread
    over 3 levels by a propensity of their own: the design effects differ (each above 1, so
    none is raised to 1), and the test is ``svychisq``'s, its ``d = trace^2 / trace(Delta^2)``
    below the 4 contrasts."""
    rng = np.random.default_rng(5)
    persons = np.repeat(np.arange(40), rng.integers(1, 8, 40))
    rows = rng.integers(0, 3, 40)[persons]
    cols = np.array([rng.choice(3, p=p) for p in rng.dirichlet(np.ones(3), 40)[persons]])
    f, ndf, ddf, p, effects = _svychisq(rows, cols, persons)
    assert effects.min() > 1 and effects.max() > 1.5 * effects.min() and ndf < 3.9
    test = rao_scott(rows, cols, persons)
    assert test.statistic == pytest.approx(f) and test.ndf == pytest.approx(ndf)
    assert test.ddf == pytest.approx(ddf) and test.p_value == pytest.approx(p)
    assert test.design_effect == pytest.approx(effects.mean())


def test_relabelling_rows_and_columns_changes_nothing() -> None:
    rows, cols = _rows(200, 2)
    persons = np.arange(200) // 4
    test = rao_scott(rows, cols, persons)
    other = rao_scott(np.array([2, 0, 1])[rows] + 5, np.array([3, 1, 0, 2])[cols], persons + 100)
    assert other.statistic == pytest.approx(test.statistic)
    assert other.design_effect == pytest.approx(test.design_effect)


def _persons(rng: np.random.Generator, persons: int = 60, photos: int = 8
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A person attribute in 4 ordered groups and a photo attribute of 3 ordered levels drawn
    around each person's own propensity, independent of the group."""
    group = np.repeat(rng.integers(0, 4, persons), photos)
    propensity = np.repeat(rng.beta(1, 1, persons), photos)
    level = (rng.random((persons * photos, 2)) < propensity[:, None] * [0.5, 1.0]).sum(1)
    return group, level, np.repeat(np.arange(persons), photos)


def test_the_corrected_tests_hold_their_level_where_pearsons_do_not() -> None:
    """300 datasets of 60 persons x 8 photos with no association: Pearson's chi-square and
    the trend test reject at 5 % far more often than 5 %; their Rao-Scott versions about as
    often as they should."""
    rng = np.random.default_rng(0)
    rejected = []
    for _ in range(300):
        group, level, person = _persons(rng)
        counts = _table(group, level)
        trend = linear_trend(counts)
        rejected.append([chi2_contingency(counts, correction=False)[1] < 0.05,
                         rao_scott(group, level, person).p_value < 0.05,
                         trend.p_value < 0.05,
                         clustered_trend(group, level, person, trend.statistic).p_value < 0.05])
    plain, corrected, plain_trend, corrected_trend = np.mean(rejected, axis=0)
    assert plain > 0.25 and plain_trend > 0.2
    assert 0.02 < corrected < 0.09 and 0.02 < corrected_trend < 0.09


def test_a_real_association_is_still_found() -> None:
    """When the persons' propensities follow their group, the corrected tests find it."""
    rng = np.random.default_rng(1)
    group = np.repeat(rng.integers(0, 4, 80), 6)
    level = (rng.random(480) < 0.15 + 0.2 * group).astype(int)
    person = np.repeat(np.arange(80), 6)
    trend = linear_trend(_table(group, level))
    assert rao_scott(group, level, person).p_value < 1e-3
    assert clustered_trend(group, level, person, trend.statistic).p_value < 1e-3


def test_the_trend_of_rows_of_their_own_is_the_plain_trend() -> None:
    rows, cols = _rows(500, 3)
    trend = linear_trend(_table(rows, cols))
    test = clustered_trend(rows, cols, np.arange(500), trend.statistic)
    assert test.ndf == pytest.approx(1) and test.ddf == pytest.approx(499)
    assert test.design_effect == pytest.approx(1, abs=0.15)
    assert test.p_value == pytest.approx(trend.p_value, rel=0.3)


def test_what_cannot_be_tested() -> None:
    rows, cols = _rows(40, 4)
    assert rao_scott(rows, cols, np.zeros(40)) is None                    # one person
    assert rao_scott(rows, np.zeros(40, int), np.arange(40)) is None      # one column
    same = np.tile([0, 1], 10)                                            # identical persons
    assert rao_scott(same, same, np.repeat(np.arange(10), 2)) is None
    corner = np.array([0, 0, 1, 1])                 # each person in a corner of their own
    assert rao_scott(corner, corner, corner) is None
    assert clustered_trend(np.zeros(40), cols, np.arange(40), 0.0) is None
    assert "over 40 persons" in rao_scott(rows, cols, np.arange(40)).text()


def test_groups_that_are_the_persons_leave_no_test_over_them() -> None:
    """200 persons of 5 photos, each person a group of their own and all their photos of one
    level (a person's attribute): the 199 x 1 table's 199 degrees of freedom are the 200
    persons less one, so the design effects cannot be measured over the persons (a test was
    made: "F 1.00 on 198.x and ~39,600 dof" whatever the levels). Persons 0 and 1 one group
    (198 of the 199: one left) or two persons a group (99) are tested."""
    rng = np.random.default_rng(0)
    persons = np.repeat(np.arange(200), 5)
    level = rng.integers(0, 2, 200)[persons]
    assert rao_scott(persons, level, persons) is None
    assert persons_refusal(persons, level, persons).startswith(
        "its 199 degrees of freedom are as many as the 200 persons less one")
    assert rao_scott(np.maximum(persons - 1, 0), level, persons) is not None
    assert persons_refusal(np.maximum(persons - 1, 0), level, persons) is None
    assert rao_scott(persons // 2, level, persons) is not None
    assert persons_refusal(persons // 2, level, persons) is None


def test_a_table_of_too_many_degrees_of_freedom_is_not_built(monkeypatch: pytest.MonkeyPatch
                                                             ) -> None:
    """Above MAX_CONTRASTS (3 x 4 table: 6) no test is made, and no matrix over the
    contrasts is built (16,000 groups took over 17 GB); at it, the test is made."""
    rows, cols = _rows(400, 0)
    monkeypatch.setattr(clustered, "MAX_CONTRASTS", 5)
    monkeypatch.setattr(clustered, "_interaction_contrasts", None)   # calling it would fail
    assert rao_scott(rows, cols, np.arange(400)) is None
    assert persons_refusal(rows, cols, np.arange(400)) == (
        "its 6 degrees of freedom are over the 5 whose correction is computed, its matrices "
        "growing as their square")
    monkeypatch.undo()
    monkeypatch.setattr(clustered, "MAX_CONTRASTS", 6)
    assert rao_scott(rows, cols, np.arange(400)).ndf == pytest.approx(6)
    assert persons_refusal(rows, cols, np.arange(400)) is None


def test_a_group_of_few_persons_holds_the_level() -> None:
    """1,000 photos, each its own person but the 10 of one group, two persons' (their photos
    drawn independently: the persons cost nothing): the persons' deviations from their own
    group's share sum to nothing and the measured design effect falls to about a quarter, but
    it is taken as 1 (never more evidence than independent rows), so the test rejects at 5 %
    in about 5 % of 200 tables with no association."""
    rng = np.random.default_rng(1)
    group = np.repeat([1, 0], [10, 990])
    persons = np.concatenate([np.arange(10) % 2, np.arange(2, 992)])
    tests = [rao_scott(group, rng.integers(0, 2, 1000), persons) for _ in range(200)]
    assert all(t.design_effect >= 1 for t in tests)
    assert 0.01 < np.mean([t.p_value < 0.05 for t in tests]) < 0.09


def test_a_group_of_one_persons_photos_of_both_levels_cannot_be_tested() -> None:
    """A group (or level) all of whose photos are one person's, in both levels: how they
    split cannot be measured over persons, so there is no test over persons (rather than one
    that finds an association in random classes). Ten persons there, or the one person's
    photos all of one level (a person seen only in their group's cell), are tested."""
    rng = np.random.default_rng(0)
    group = np.repeat([1, 0], [10, 1990])
    persons = np.concatenate([np.zeros(10, int), np.arange(1, 1991)])
    level = rng.integers(0, 2, 2000)
    level[:2] = [0, 1]
    assert rao_scott(group, level, persons) is None
    assert rao_scott(level, group, persons) is None
    assert rao_scott(group, level, np.arange(2000)) is not None    # ten persons: a test
    level[:10] = 1
    assert rao_scott(group, level, persons).design_effect > 1


def _brute_force(values: np.ndarray, persons: np.ndarray) -> float:
    share = np.array([[len(set(p) & set(q)) > 0 for q in persons] for p in persons])
    k = len(np.unique(persons))
    return k / (k - 1) * values @ share @ values


def test_shared_variance_sums_over_every_two_units_that_share_a_person() -> None:
    """Against the double sum written out: pairs of one or two persons, repeated dyads, and
    matched sets of three faces with repeats."""
    from latentplay.clustered import shared_variance

    rng = np.random.default_rng(5)
    persons = rng.integers(0, 8, (60, 2))
    persons[:10, 1] = persons[:10, 0]                              # one-person pairs
    persons[10:14] = [[2, 5], [5, 2], [2, 5], [6, 1]]              # a dyad three times
    values = rng.normal(size=60)
    expected = _brute_force(values, persons)
    assert shared_variance(values, persons) == pytest.approx(expected)
    assert shared_variance(values, persons + 100) == pytest.approx(expected)   # any codes
    sets = rng.integers(0, 12, (50, 3))
    sets[:5, 2] = sets[:5, 0]                                      # a face of the same person
    values = rng.normal(size=50)
    assert shared_variance(values, sets) == pytest.approx(_brute_force(values, sets))
    many = rng.integers(0, 30, (40, 8))                            # 1 treated + 7 controls
    values = rng.normal(size=40)
    assert shared_variance(values, many) == pytest.approx(_brute_force(values, many))
    # one person per unit: the usual variance over clusters
    one = rng.integers(0, 9, 50)
    values = rng.normal(size=50)
    sums = np.bincount(one, values)
    k = len(np.unique(one))
    assert shared_variance(values, one) == pytest.approx(k / (k - 1) * sums @ sums)


def test_wilson_at_an_effective_number_of_rows() -> None:
    from scipy.stats import binomtest

    from latentplay.intervals import effective_wilson, wilson_interval

    for hits, n in ((0, 50), (3, 20), (17, 40), (40, 40)):
        scipy_ci = binomtest(hits, n).proportion_ci(method="wilson")   # Wilson's, by scipy
        for found in (effective_wilson(hits / n, n), wilson_interval(np.array([hits]), n)[0]):
            np.testing.assert_allclose(found, (scipy_ci.low, scipy_ci.high), atol=1e-12)
    # fewer effective rows, a wider interval around the same share
    narrow, wide = effective_wilson(0.2, 400), effective_wilson(0.2, 40)
    assert wide[0] < narrow[0] < 0.2 < narrow[1] < wide[1]


def test_share_spread_by_hand() -> None:
    """The design covariance of class shares written out over the persons; rows of their own
    give the multinomial covariance times n / (n - 1); rows without a class are left out."""
    rng = np.random.default_rng(4)
    codes = rng.integers(0, 3, 90)
    persons = rng.integers(0, 25, 90)
    codes[:5] = -1
    spread = share_spread(codes, 3, persons)
    keep = codes >= 0
    n, share = keep.sum(), np.bincount(codes[keep], minlength=3) / keep.sum()
    ids = np.unique(persons[keep])
    deviations = np.stack([np.bincount(codes[keep & (persons == c)], minlength=3)
                           - (keep & (persons == c)).sum() * share for c in ids]) / n
    by_hand = len(ids) / (len(ids) - 1) * deviations.T @ deviations
    assert spread is not None and spread.clusters == len(ids)
    assert spread.covariance == pytest.approx(by_hand)
    own = share_spread(codes[keep], 3, np.arange(n))
    assert own is not None
    independent = (np.diag(share) - np.outer(share, share)) / n
    assert own.covariance == pytest.approx(independent * n / (n - 1))
    assert own.design_effect == pytest.approx(n / (n - 1))
    assert share_spread(codes, 3, np.zeros(90)) is None       # one person: nothing to measure


def test_a_strong_trend_over_rows_of_their_own_has_no_design_effect() -> None:
    """Every row its own person and a strong trend (r about 0.7): the design effect is the
    variance estimator's ``n / (n - 1)``, as Pearson's is, so the corrected statistic is
    ``M2`` itself, not inflated by the trend's own spread of the score products."""
    rng = np.random.default_rng(6)
    n = 1000
    group = rng.integers(0, 4, n)
    level = (rng.random(n) < 0.05 + 0.3 * group).astype(int)
    trend = linear_trend(_table(group, level))
    assert trend.r > 0.5
    test = clustered_trend(group, level, np.arange(n), trend.statistic)
    assert test is not None
    assert test.design_effect == pytest.approx(n / (n - 1))
    assert test.statistic * n / (n - 1) == pytest.approx(trend.statistic)
    assert test.design_effect == pytest.approx(rao_scott(group, level, np.arange(n)).design_effect)


def test_means_test_of_rows_of_their_own_is_the_robust_welch_statistic() -> None:
    """One row per cluster: the Wald F of two groups is the squared difference of the means
    over the sum of their variances of the mean (each group's variance over n, the CR1 factor
    C / (C - 1) (n - 1) / (n - 2))."""
    rng = np.random.default_rng(0)
    a, b = rng.normal(0.0, 1.0, 30), rng.normal(0.5, 2.0, 50)
    values, group = np.concatenate([a, b]), np.repeat([3, 7], [30, 50])
    found = clustered_means_test(values, group, np.arange(80))
    n = 80
    factor = n / (n - 1) * (n - 1) / (n - 2)
    expected = (b.mean() - a.mean()) ** 2 / (factor * (a.var() / 30 + b.var() / 50))
    assert found["statistic"] == pytest.approx(expected, rel=1e-10)
    # on the clusters of the smaller group less one: 30 rows of their own
    assert (found["ndf"], found["ddf"], found["clusters"]) == (1, 29, 80)
    assert found["p_value"] == pytest.approx(stats.f.sf(expected, 1, 29), rel=1e-10)
    assert clustered_means_test(values, np.zeros(80), np.arange(80)) is None      # one group
    assert clustered_means_test(values, group, np.zeros(80)) is None              # one cluster


def test_means_test_over_too_many_groups_is_not_made(monkeypatch: pytest.MonkeyPatch) -> None:
    """Four groups (3 contrasts): above MAX_CONTRASTS no test, at it one."""
    rng = np.random.default_rng(0)
    group, persons = np.arange(80) % 4, np.arange(80) // 8     # each person in two groups
    monkeypatch.setattr(clustered, "MAX_CONTRASTS", 2)
    assert clustered_means_test(rng.standard_normal(80), group, persons) is None
    monkeypatch.setattr(clustered, "MAX_CONTRASTS", 3)
    assert clustered_means_test(rng.standard_normal(80), group, persons)["ndf"] == 3


def test_means_test_of_a_group_of_few_persons_holds_its_level() -> None:
    """400 photos, each its own person but the 20 of one group, two persons' (photos drawn
    independently, equal means): those persons' residuals sum to nothing within the group,
    and on the 381 persons' 380 dof the test rejected at 5 % in about a third of 300 datasets;
    on the smaller group's persons less one (1 dof) in at most 5 %. A group of one person's
    photos has no test."""
    rng = np.random.default_rng(0)
    group = np.repeat([1, 0], [20, 380])
    persons = np.concatenate([np.arange(20) % 2, np.arange(2, 382)])
    tests = [clustered_means_test(rng.standard_normal(400), group, persons) for _ in range(300)]
    assert all(t["ddf"] == 1 for t in tests)
    assert np.mean([t["p_value"] < 0.05 for t in tests]) <= 0.05
    persons[:20] = 0
    assert clustered_means_test(rng.standard_normal(400), group, persons) is None


def test_means_test_compares_a_persons_photos_across_groups() -> None:
    """Persons photographed in each of three groups, a strong person effect: ranking each
    person's mean per group as independent samples (what a test over persons nested in groups
    does) never rejects, and misses a shift the persons' own photos show; the cluster-robust
    test holds its level and finds the shift."""
    rng = np.random.default_rng(4)

    def draw(shift: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        persons = np.repeat(np.arange(40), 6)
        group = np.tile(np.repeat(np.arange(3), 2), 40)
        values = rng.standard_normal(40)[persons] + shift * group + 0.5 * rng.standard_normal(240)
        return values, group, persons

    def ranked(values: np.ndarray, group: np.ndarray, persons: np.ndarray) -> float:
        means = [np.bincount(persons[group == k], values[group == k])[np.unique(persons[group == k])]
                 / 2 for k in range(3)]
        return stats.kruskal(*means).pvalue

    null = [draw(0.0) for _ in range(300)]
    level = np.mean([clustered_means_test(*d)["p_value"] < 0.05 for d in null])
    assert 0.02 <= level <= 0.09
    assert np.mean([ranked(*d) < 0.05 for d in null]) < 0.01
    shifted = [draw(0.2) for _ in range(100)]
    assert np.mean([clustered_means_test(*d)["p_value"] < 0.05 for d in shifted]) > 0.9
    assert np.mean([ranked(*d) < 0.05 for d in shifted]) < 0.2


def test_pairs_that_cancel_have_the_interval_of_independent_pairs() -> None:
    """Two pairs of person 0, one a false match and one not: their deviations cancel, so the
    shared variance is 0, but the design effect is taken as 1 (never narrower than Wilson's
    on the 2 pairs), not 0 (a point)."""
    from latentplay.clustered import pair_rate_interval
    from latentplay.intervals import wilson_interval

    low, high, effect = pair_rate_interval(np.array([True, False]), np.array([[0, 1], [0, 2]]))
    assert effect == 1.0
    assert (low, high) == pytest.approx(wilson_interval(1, 2))
