"""Balance table (MatchIt's SMD and variance ratio), weights, effect estimates."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from latentplay.errors import UserError
from latentplay.match import balance_table, matched_difference, matching_weights, naive_difference
from latentplay.match.balance import summarize


def test_smd_and_variance_ratio_by_hand() -> None:
    x = np.array([[1.0, 0], [2.0, 1], [3.0, 1], [5.0, 0], [7.0, 1], [9.0, 0]])
    treated = np.array([True, True, True, False, False, False])
    w = matching_weights(6, np.array([0, 1]), np.array([3, 4]))
    rows = balance_table(x, ["a", "b"], treated, w)
    a = rows[0]
    vt, vc = np.var([1, 2, 3], ddof=1), np.var([5, 7, 9], ddof=1)
    assert a["mean_treated_before"] == pytest.approx(2.0)
    assert a["smd_before"] == pytest.approx((2 - 7) / np.sqrt(vt))  # treated SD: ATT
    assert a["var_ratio_before"] == pytest.approx(vt / vc)
    assert a["mean_treated_after"] == pytest.approx(1.5)
    assert a["mean_control_after"] == pytest.approx(6.0)
    assert a["smd_after"] == pytest.approx((1.5 - 6) / np.sqrt(vt))  # the same SD after
    assert rows[1]["type"] == "binary" and np.isnan(rows[1]["var_ratio_before"])
    s = summarize(rows)
    assert s["before"]["max_abs_smd"] == pytest.approx(abs(a["smd_before"]))
    assert s["estimand"] == "ATT" and "treated" in s["smd_denominator"]


def test_smd_denominator_follows_the_estimand() -> None:
    """Treated SD 1, control SD 3, means 1 apart: SMD 1 for ATT (MatchIt's default for
    matching), 1/3 for ATC, 1/sqrt(5) with the pooled SD (ATE). 0/1 columns use p (1 - p)."""
    cont = np.array([-1.0, 0.0, 1.0, -4.0, -1.0, 2.0])
    treated = np.array([True, True, True, False, False, False])
    expected = {"ATT": 1.0, "ATC": 1 / 3, "ATE": 1 / np.sqrt(5)}
    for estimand, smd in expected.items():
        row = balance_table(cont[:, None], ["a"], treated, estimand=estimand)[0]
        assert row["smd_before"] == pytest.approx(smd)
    binary = np.array([1.0, 1, 0, 0, 1, 0, 0, 0])  # treated share 0.5, control 0.25
    groups = np.arange(8) < 4
    row = balance_table(binary[:, None], ["b"], groups)[0]
    assert row["type"] == "binary"
    assert row["smd_before"] == pytest.approx(0.25 / np.sqrt(0.5 * 0.5))
    ate = balance_table(binary[:, None], ["b"], groups, estimand="ATE")[0]
    assert ate["smd_before"] == pytest.approx(0.25 / np.sqrt((0.25 + 0.25 * 0.75) / 2))
    with pytest.raises(UserError, match="estimand"):
        balance_table(binary[:, None], ["b"], groups, estimand="ATX")


def test_a_constant_treated_group_falls_back_to_the_pooled_sd() -> None:
    x = np.array([[1.0], [1.0], [1.0], [0.0], [2.0], [4.0]])
    treated = np.array([True, True, True, False, False, False])
    row = balance_table(x, ["a"], treated)[0]
    assert row["smd_before"] == pytest.approx((1 - 2) / np.sqrt((0 + 4) / 2))


def test_one_treated_unit_leaves_the_smd_undefined_not_infinite() -> None:
    x = np.array([[0.5, 1.0], [0.0, 0.0], [1.0, 1.0], [2.0, 0.0]])
    treated = np.array([True, False, False, False])
    rows = balance_table(x, ["a", "b"], treated, matching_weights(4, np.array([0]),
                                                                  np.array([1])))
    for r in rows:
        assert np.isnan(r["smd_before"]) and np.isnan(r["smd_after"])
    assert balance_table(x, ["a", "b"], treated, estimand="ATC")[0]["smd_before"] == \
        pytest.approx((0.5 - 1.0) / 1.0)  # the control SD is defined
    s = summarize(rows)
    assert s["before"]["max_abs_smd"] is None and s["after"]["n_over_0.1"] is None


def test_one_control_unit_leaves_the_smd_of_the_control_sd_undefined() -> None:
    """The mirror of one treated unit: one control unit has no SD, so the SMDs that divide by
    it (ATC's, ATE's pooled) are undefined, also for a 0/1 column (whose p (1 - p) of one
    value, 0, is no SD either); ATT's treated SD is defined."""
    x = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 1.0], [0.5, 0.0]])
    treated = np.array([True, True, True, False])
    for estimand in ("ATC", "ATE"):
        for r in balance_table(x, ["a", "b"], treated, estimand=estimand):
            assert np.isnan(r["smd_before"])
    att = balance_table(x, ["a", "b"], treated)
    assert att[1]["smd_before"] == pytest.approx((2 / 3 - 0) / np.sqrt(2 / 9))


def test_a_nearly_constant_group_falls_back_to_the_pooled_sd() -> None:
    """A treated SD of 6e-13 (rounding, not spread) is below MatchIt's sqrt(machine epsilon):
    the pooled SD, not a difference of millions of SDs; a constant control group has no
    variance ratio (not inf)."""
    x = np.array([[1.0], [1.0], [1.0 + 1e-12], [0.0], [2.0], [4.0]])
    treated = np.array([True, True, True, False, False, False])
    row = balance_table(x, ["a"], treated)[0]
    assert row["smd_before"] == pytest.approx((1 - 2) / np.sqrt((0 + 4) / 2))
    constant = balance_table(np.array([[1.0], [2.0], [3.0], [5.0], [5.0]]), ["a"],
                             np.array([True, True, True, False, False]))[0]
    assert np.isnan(constant["var_ratio_before"])


def test_summary_counts_smds_beyond_the_threshold() -> None:
    """|SMD| 0.1, 0.2 and 0.6: their mean 0.3, largest 0.6, and two beyond 0.1 (an
    SMD of exactly 0.1 is within it)."""
    rows = [{"smd_before": v, "smd_after": np.nan} for v in (0.1, -0.2, 0.6)]
    before = summarize(rows)["before"]
    assert before["mean_abs_smd"] == pytest.approx(0.3)
    assert before["max_abs_smd"] == pytest.approx(0.6)
    assert before["n_over_0.1"] == 2


def test_variance_ratio_after_uses_reliability_weights() -> None:
    """Treated 1 and 3 (variance 2); controls 0, 2 and 4 weigh 1, 0.5 and 0.5 (the second
    treated unit has two controls). The controls' weighted mean is 1.5 and their variance
    sum w (x - m)^2 / (V1 - V2 / V1) = 5.5 / (2 - 1.5 / 2) = 4.4 (MatchIt and cobalt's
    weighted variance), so the ratio is 2 / 4.4."""
    x = np.array([[1.0], [3.0], [0.0], [2.0], [4.0]])
    treated = np.array([True, True, False, False, False])
    w = matching_weights(5, np.array([0, 1, 1]), np.array([2, 3, 4]))
    np.testing.assert_allclose(w, [1, 1, 1, 0.5, 0.5])
    row = balance_table(x, ["a"], treated, w)[0]
    assert row["mean_control_after"] == pytest.approx(1.5)
    assert row["var_ratio_after"] == pytest.approx(2 / 4.4)


def test_effective_sample_size_is_kishs() -> None:
    """Weights 1, 1, 0.5, 0.5 and an unmatched 0: (sum w)^2 / sum w^2 = 9 / 2.5 = 3.6; equal
    weights count every unit once."""
    from latentplay.match.balance import effective_sample_size

    assert effective_sample_size(np.array([1.0, 1.0, 0.5, 0.5, 0.0])) == pytest.approx(3.6)
    assert effective_sample_size(np.full(7, 2.0)) == pytest.approx(7.0)
    assert effective_sample_size(np.zeros(3)) == 0.0


def test_a_unit_without_a_value_is_left_out_of_its_column() -> None:
    x = np.array([[1.0, 0], [2.0, np.nan], [3.0, 1], [5.0, 0], [np.nan, 1], [9.0, np.nan]])
    treated = np.array([True, True, True, False, False, False])
    w = matching_weights(6, np.array([0, 1, 2]), np.array([3, 4, 5]))
    rows = balance_table(x, ["a", "b"], treated, w)
    full = balance_table(x[[0, 1, 2, 3, 5], :1], ["a"], treated[[0, 1, 2, 3, 5]],
                         w[[0, 1, 2, 3, 5]])[0]
    for key in ("mean_treated_before", "mean_control_before", "smd_before", "var_ratio_before",
                "mean_control_after", "smd_after"):
        assert rows[0][key] == pytest.approx(full[key])
    assert rows[0]["mean_control_before"] == pytest.approx(7.0)
    assert rows[1]["type"] == "binary" and rows[1]["mean_treated_before"] == pytest.approx(0.5)
    assert rows[1]["mean_control_before"] == pytest.approx(0.5)


def test_weights_for_one_to_k() -> None:
    w = matching_weights(6, np.array([0, 0, 1]), np.array([3, 4, 5]))
    np.testing.assert_allclose(w, [1, 1, 0, 0.5, 0.5, 1])


def test_effect_estimates_cover_a_known_difference() -> None:
    rng = np.random.default_rng(0)
    n = 4000
    treated = np.arange(n) < n // 2
    y = rng.standard_normal(n) + 2.0 * treated
    t_rows, c_rows = np.arange(n // 2), np.arange(n // 2, n)
    m = matched_difference(y, t_rows, c_rows, n_boot=400, seed=1)
    nv = naive_difference(y, treated, n_boot=400, seed=1)
    for r in (m, nv):
        assert r["ci_low"] < 2.0 < r["ci_high"]
        assert r["ci_high"] - r["ci_low"] < 0.5
    assert m["n_treated"] == n // 2
    one_to_two = matched_difference(y, np.array([0, 0]), np.array([n - 1, n - 2]), n_boot=10)
    assert one_to_two["estimate"] == pytest.approx(y[0] - y[[n - 1, n - 2]].mean())


def test_one_matched_treated_unit_gives_no_interval() -> None:
    """One matched set has no spread to resample: an estimate, no zero-width interval."""
    from latentplay.match.effect import matched_difference_with_replacement

    y = np.array([3.0, 1.0, 2.0, 0.0])
    treated = np.array([True, False, False, False])
    one = matched_difference(y, np.array([0, 0]), np.array([1, 2]), n_boot=50)
    assert one["estimate"] == pytest.approx(1.5) and one["n_treated"] == 1
    assert one["ci_low"] is None and one["ci_high"] is None
    persons = matched_difference(y, np.array([0]), np.array([1]), persons=np.array([7, 8, 9, 9]))
    assert persons["ci_low"] is None and persons["se"] is None and persons["persons"] == 2
    ai = matched_difference_with_replacement(y, np.arange(4.0)[:, None], treated, np.array([0]),
                                             np.array([1]))
    assert ai["estimate"] == pytest.approx(2.0)
    assert ai["se"] is None and ai["ci_low"] is None and ai["ci_high"] is None
    two = matched_difference(np.array([3.0, 1.0, 1.0, 0.0]), np.array([0, 1]),
                             np.array([2, 3]), n_boot=200)
    assert two["ci_low"] < two["ci_high"]


def test_a_share_of_0_or_1_on_one_side_is_not_taken_as_certain() -> None:
    """12 treated faces all of a class against 12 controls all of the other: every resample
    and every variance gives the difference 1, but each side's share is only known to its
    Wilson interval (12 of 12: 0.758 to 1; 0 of 12: 0 to 0.243), so each estimate's interval
    is at least Newcombe's hybrid score interval, 1 - hypot(1 - 0.758, 0.243) = 0.657 to 1.
    One event among the treated against none: down to below 0, not from 0."""
    from scipy.stats import binomtest

    from latentplay.match.effect import matched_difference_with_replacement, share_floor

    y = np.repeat([1.0, 0.0], 12)
    treated = np.arange(24) < 12
    t_rows, c_rows = np.arange(12), np.arange(12, 24)
    full, empty = (binomtest(k, 12).proportion_ci(method="wilson") for k in (12, 0))
    newcombe = 1 - np.hypot(1 - full.low, empty.high)
    assert newcombe == pytest.approx(0.657, abs=1e-3)
    found = [matched_difference(y, t_rows, c_rows, n_boot=200),
             matched_difference(y, t_rows, c_rows, persons=np.arange(24)),
             naive_difference(y, treated, n_boot=200),
             naive_difference(y, treated, persons=np.arange(24)),
             matched_difference_with_replacement(y, np.zeros((24, 1)), treated, t_rows, c_rows)]
    for r in found:
        assert r["estimate"] == 1
        assert (r["ci_low"], r["ci_high"]) == (pytest.approx(newcombe), 1)
    one = np.zeros(24)
    one[0] = 1
    low = 1 / 12 - np.hypot(1 / 12 - binomtest(1, 12).proportion_ci(method="wilson").low,
                            empty.high)
    assert matched_difference(one, t_rows, c_rows, n_boot=200)["ci_low"] == pytest.approx(low)
    assert low < -0.15
    # shares away from 0 and 1, or values other than 0 and 1: the interval as it was
    out = {"ci_low": 0.1, "ci_high": 0.2, "level": 0.95}
    assert share_floor(out, np.arange(12) % 2.0, np.arange(12) % 3 == 0) == out
    assert share_floor(out, np.ones(12), np.full(12, 2.0)) == out


def test_the_means_chart_shows_the_binary_attributes() -> None:
    from latentplay.match.pipeline import means_rows

    table = [{"covariate": c, "type": t} for c, t in
             [("z[0]", "continuous"), ("z[1]", "continuous"), ("glasses=yes", "binary"),
              ("yaw", "continuous"), ("gender=m", "binary")]]
    assert [r["covariate"] for r in means_rows(table, 2)] == ["glasses=yes", "gender=m"]
    only_vectors = table[:2]
    assert [r["covariate"] for r in means_rows(only_vectors, 2)] == ["z[0]", "z[1]"]
    many = [{"covariate": f"c{k}=yes", "type": "binary"} for k in range(25)]
    assert len(means_rows(many, 25)) == 20  # up to 20 binary covariate columns


def test_matched_sets_list_their_treated_and_control_persons() -> None:
    from latentplay.match.effect import _matched_sets

    persons = np.array([10, 11, 12, 13, 14, 15])
    units, inverse = np.unique(np.array([1, 0, 1]), return_inverse=True)
    sets = _matched_sets(persons, units, inverse, np.array([3, 4, 5]))
    # unit 0 has one control (the spare place repeats its own person), unit 1 two
    np.testing.assert_array_equal(sets, [[10, 14, 10], [11, 13, 15]])


def test_photos_of_one_person_widen_the_effect_intervals() -> None:
    """40 treated and 40 control persons of 10 photos each, an outcome mostly each person's
    own: matched photo to photo, the bootstrap over 400 sets sees 400 independent draws, the
    interval over persons about 80; with every photo a person of its own the two agree."""
    rng = np.random.default_rng(3)
    person = np.repeat(np.arange(80), 10)
    treated = person < 40
    y = rng.normal(0, 1, 80)[person] + rng.normal(0, 0.3, 800) + 0.5 * treated
    t_rows, c_rows = np.flatnonzero(treated), rng.permutation(np.flatnonzero(~treated))
    boot = matched_difference(y, t_rows, c_rows, n_boot=1000, seed=1)
    over = matched_difference(y, t_rows, c_rows, persons=person)
    assert over["estimate"] == pytest.approx(boot["estimate"])
    assert over["persons"] == 80 and over["design_effect"] > 5
    assert over["ci_high"] - over["ci_low"] > 2 * (boot["ci_high"] - boot["ci_low"])
    alone = matched_difference(y, t_rows, c_rows, persons=np.arange(800))
    assert alone["design_effect"] == pytest.approx(1, abs=0.05)
    assert alone["ci_high"] - alone["ci_low"] == pytest.approx(
        boot["ci_high"] - boot["ci_low"], rel=0.1)
    naive = naive_difference(y, treated, persons=person)
    plain = naive_difference(y, treated, n_boot=1000, seed=1)
    assert naive["design_effect"] > 5
    assert naive["ci_high"] - naive["ci_low"] > 2 * (plain["ci_high"] - plain["ci_low"])


def test_matched_sets_of_unequal_sizes_over_persons_by_hand() -> None:
    """Treated 2, 6, 5 (persons 0, 1, 2) with controls {1, 3}, {2}, {0}: each set's own
    controls' mean, so differences 0, 4, 5 and an ATT of 3. Controls' persons 3, 3, 4, 4: the
    second and third sets share person 4. Centred over 3: -1, 1/3, 2/3, independent 14/9;
    the two sets add 2 (1/3)(2/3) = 4/9, and over 5 persons the variance is 5/4 (18/9) = 2.5.
    The controls' 2 persons are the smaller side: 1 degree of freedom, t = 12.7062."""
    y = np.array([2.0, 6.0, 5.0, 1.0, 3.0, 2.0, 0.0])
    out = matched_difference(y, np.array([0, 0, 1, 2]), np.array([3, 4, 5, 6]),
                             persons=np.array([0, 1, 2, 3, 3, 4, 4]))
    assert out["estimate"] == pytest.approx(3.0) and out["n_treated"] == 3
    assert out["se"] == pytest.approx(np.sqrt(2.5)) and out["persons"] == 5
    assert out["design_effect"] == pytest.approx(2.5 / (14 / 9))
    assert out["ci_high"] - out["estimate"] == pytest.approx(12.7062047 * np.sqrt(2.5))


def test_the_effect_over_few_persons_holds_it() -> None:
    """300 sets of 8 treated and 8 control persons of 10 photos each, an outcome half each
    person's own (effect 0.5), matched photo to photo: the interval over persons, at the 7
    degrees of freedom of a side's 8 persons, holds the effect in at least 93 % of them (96 %;
    the normal interval at the same standard error held it in 91 %)."""
    rng = np.random.default_rng(6)
    person = np.repeat(np.arange(16), 10)
    treated = person < 8
    held = 0
    for _ in range(300):
        y = rng.normal(0, 1, 16)[person] + rng.normal(0, 1, 160) + 0.5 * treated
        t_rows, c_rows = np.flatnonzero(treated), rng.permutation(np.flatnonzero(~treated))
        over = matched_difference(y, t_rows, c_rows, persons=person)
        held += over["ci_low"] <= 0.5 <= over["ci_high"]
    assert held / 300 >= 0.93


def test_bootstrap_intervals_are_centred_and_as_wide_as_the_standard_error() -> None:
    """Independent units: the pair bootstrap's interval of 50 differences (mean 5, SD 1) and
    the interval of a difference of a group of 400 (SD 1) and one of 20 (SD 2) lie about
    1.96 standard errors either side of the estimate (each group's mean drawn from its own
    units: sqrt(1/400 + 4/20) for the second)."""
    rng = np.random.default_rng(0)
    y = np.concatenate([5 + rng.standard_normal(50), np.zeros(50)])
    matched = matched_difference(y, np.arange(50), np.arange(50, 100), n_boot=4000, seed=0)
    se = y[:50].std(ddof=1) / np.sqrt(50)
    assert (matched["ci_low"] + matched["ci_high"]) / 2 == pytest.approx(matched["estimate"],
                                                                         abs=0.2 * se)
    assert matched["ci_high"] - matched["ci_low"] == pytest.approx(2 * 1.96 * se, rel=0.1)
    y = np.concatenate([rng.standard_normal(400), 2 * rng.standard_normal(20)])
    naive = naive_difference(y, np.arange(420) < 400, n_boot=4000, seed=0)
    se = np.sqrt(y[:400].var(ddof=1) / 400 + y[400:].var(ddof=1) / 20)
    assert naive["ci_high"] - naive["ci_low"] == pytest.approx(2 * 1.96 * se, rel=0.1)


def test_naive_difference_over_persons_by_hand() -> None:
    """Treated 1, 2, 3 and controls 14, 10; person 0 has the first of each. Each unit adds its
    deviation from its group's mean over its group's size, controls with a minus: -1/3, 0,
    1/3 and -1, 1. Independent units: (1/9 + 1/9) + (1 + 1) = 20/9. Person 0's two photos
    add 2 (-1/3)(-1) = 2/3, and over 4 persons the variance is 4/3 (20/9 + 2/3) = 104/27.
    Two means over 4 persons leave 2 degrees of freedom: Student's t 4.3027, not 1.96."""
    y = np.array([1.0, 2.0, 3.0, 14.0, 10.0])
    treated = np.array([True, True, True, False, False])
    out = naive_difference(y, treated, persons=np.array([0, 1, 2, 0, 3]))
    assert out["estimate"] == pytest.approx(2 - 12)
    assert out["se"] == pytest.approx(np.sqrt(104 / 27))
    assert out["design_effect"] == pytest.approx((104 / 27) / (20 / 9))
    assert out["ci_high"] - out["estimate"] == pytest.approx(4.302653 * np.sqrt(104 / 27))


def test_naive_difference_takes_a_0_1_group_and_a_group_of_one_gives_no_interval() -> None:
    """A 0/1 group array means the same groups as a bool one (not rows 0 and 1), and a group of
    one unit has no spread: an estimate but no interval that ignores that group's noise."""
    rng = np.random.default_rng(3)
    y = rng.standard_normal(40)
    treated = np.arange(40) % 3 == 0
    as_bool = naive_difference(y, treated, n_boot=50)
    as_int = naive_difference(y, treated.astype(int), n_boot=50)
    assert as_int["estimate"] == pytest.approx(y[treated].mean() - y[~treated].mean())
    assert as_int["n_treated"] == 14  # rows 0, 3, ..., 39
    assert as_int == as_bool
    one = np.arange(40) == 5
    for persons in (None, np.arange(40) // 2):
        r = naive_difference(y, one, n_boot=50, persons=persons)
        assert r["estimate"] == pytest.approx(y[5] - y[~one].mean())
        assert r["ci_low"] is None and r["ci_high"] is None and r["n_treated"] == 1
    with pytest.raises(UserError, match="both groups"):
        naive_difference(y, np.zeros(40, bool))


def test_the_design_effect_over_persons_is_at_least_1_without_replacement_too() -> None:
    """Person A treated in one set and a control in the other, person B the other way round:
    the two sets' product is negative and cancels the variance; the interval keeps the one of
    independent sets (design effect 1), as docs/matching.md now says for every interval over
    persons (it said so for --replace only)."""
    y = np.array([5.0, 0.0, 0.0, 5.0])
    persons = np.array([0, 1, 1, 0])
    matched = matched_difference(y, np.array([0, 2]), np.array([1, 3]), persons=persons)
    assert matched["design_effect"] == 1.0 and matched["se"] == pytest.approx(np.sqrt(12.5))
    naive = naive_difference(np.array([5.0, 0.0, 1.0, 4.0]), np.array([1, 1, 0, 0], bool),
                             persons=np.array([0, 1, 1, 0]))
    assert naive["design_effect"] >= 1.0
    doc = (Path(__file__).parents[2] / "docs" / "matching.md").read_text()
    assert "at least 1 in every interval over persons — before and after\nmatching, with or " \
           "without `--replace`" in doc
