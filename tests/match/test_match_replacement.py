"""Matching with replacement equals its brute-force definition, and helps where controls are
scarce."""

from __future__ import annotations

import numpy as np
import pytest
from match_reference import dense_d2, replacement_reference
from scipy.stats import t as student_t

from latentplay.errors import UserError
from latentplay.match import match, matched_difference, matched_difference_with_replacement, matching_weights
from latentplay.match.balance import effective_sample_size
from latentplay.match.replacement import match_with_replacement
from latentplay.match.space import matching_space


@pytest.mark.parametrize("d", [1, 3])
@pytest.mark.parametrize("ratio", [1, 3])
@pytest.mark.parametrize("seed", range(4))
def test_with_replacement_equals_brute_force(d: int, ratio: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    xt = rng.standard_normal((int(rng.integers(20, 80)), d)).astype(np.float32)
    xc = (rng.standard_normal((int(rng.integers(5, 40)), d)) + 0.7).astype(np.float32)
    for caliper2 in (np.inf, float(np.quantile(dense_d2(xt, xc).min(axis=1), 0.5))):
        got = match_with_replacement(xt, xc, ratio=ratio, caliper2=caliper2)
        pairs = set(zip(got.treated.tolist(), got.control.tolist(), strict=True))
        assert pairs == replacement_reference(xt, xc, ratio=ratio, caliper2=caliper2)
        np.testing.assert_allclose(got.distance**2, dense_d2(xt, xc)[got.treated, got.control],
                                   rtol=1e-5, atol=1e-6)


def test_exact_blocks_caliper_and_counts() -> None:
    rng = np.random.default_rng(2)
    n = 400
    x = rng.standard_normal((n, 4))
    treated = rng.random(n) < 0.6  # more treated than controls: impossible without replacement
    blocks = rng.integers(0, 3, n)
    blocks[(blocks == 2) & ~treated] = 1  # block 2 has no controls
    with pytest.raises(UserError, match="only"):
        match(x, treated)
    res = match(x, treated, replace=True, exact=blocks, caliper=1.2, caliper_units="abs",
                scale=False)
    assert (blocks[res.treated_rows] == blocks[res.control_rows]).all()
    pts = matching_space(x, treated, metric="euclidean", scale=False)
    expected = set()
    for b in (0, 1):
        t = np.flatnonzero((blocks == b) & treated)
        c = np.flatnonzero((blocks == b) & ~treated)
        expected |= {(int(t[i]), int(c[j])) for i, j in
                     replacement_reference(pts[t], pts[c], caliper2=1.2**2)}
    assert set(zip(res.treated_rows.tolist(), res.control_rows.tolist(), strict=True)) == expected
    in_block_2 = int(((blocks == 2) & treated).sum())
    assert len(res.unmatched_treated) == int(treated.sum()) - len(expected)
    assert res.caliper_drops == len(res.unmatched_treated) - in_block_2 > 0
    assert len(np.unique(res.control_rows)) < len(res)  # controls were reused
    with pytest.raises(UserError, match="optimal"):
        match(x, treated, replace=True, method="optimal")


def test_replacement_balances_where_controls_are_scarce() -> None:
    """Treated units crowd where controls are rare: 1:1 without replacement must use far-off
    controls, with replacement it reuses the near ones and balances the covariate."""
    rng = np.random.default_rng(0)
    n_t, n_c = 2000, 6000
    x = np.concatenate([rng.normal(1.0, 1.0, n_t), rng.normal(-0.5, 1.0, n_c)])[:, None]
    treated = np.arange(n_t + n_c) < n_t

    def smd(res) -> float:
        w = matching_weights(len(x), res.treated_rows, res.control_rows)
        mt = np.average(x[treated, 0], weights=w[treated])
        mc = np.average(x[~treated, 0], weights=w[~treated])
        return abs(mt - mc) / np.sqrt((x[treated].var() + x[~treated].var()) / 2)

    without, with_ = match(x, treated), match(x, treated, replace=True)
    assert smd(without) > 0.3 and smd(with_) < 0.05
    w = matching_weights(len(x), with_.treated_rows, with_.control_rows)
    ess = effective_sample_size(w[~treated])
    assert ess < len(np.unique(with_.control_rows)) <= n_t  # reuse costs effective size
    assert effective_sample_size(matching_weights(len(x), without.treated_rows,
                                                  without.control_rows)[~treated]) == pytest.approx(n_t)


def test_abadie_imbens_variance_by_hand() -> None:
    # 1-d: treated 0, 1, 2 at x = 0.0, 0.1, 1.0; controls 3, 4, 5 at x = 0.05, 0.9, 3.0
    x = np.array([0.0, 0.1, 1.0, 0.05, 0.9, 3.0])[:, None].astype(np.float32)
    y = np.array([2.0, 3.0, 5.0, 1.0, 2.0, 7.0])
    treated = np.arange(6) < 3
    t_rows, c_rows = np.array([0, 1, 2]), np.array([3, 3, 4])  # control 3 serves twice
    got = matched_difference_with_replacement(y, x, treated, t_rows, c_rows, neighbours=1)
    d = np.array([2 - 1, 3 - 1, 5 - 2.0])
    att = d.mean()
    s2 = 0.5 * (1.0 - 2.0) ** 2  # control 3's nearest other control is 4
    variance = (((d - att) ** 2).sum() + (2**2 - 2) * s2) / 3**2
    assert got["estimate"] == pytest.approx(att)
    assert got["se"] == pytest.approx(np.sqrt(variance))
    assert got["ci_high"] - got["ci_low"] == pytest.approx(2 * 1.959964 * np.sqrt(variance), rel=1e-5)


def test_abadie_imbens_variance_with_two_controls_each_by_hand() -> None:
    """Ratio 2: treated 0 takes controls 2 and 3, treated 1 controls 3 and 4. Control 3 weighs
    w = 1/2 + 1/2 = 1 with q = 1/4 + 1/4 = 1/2 (the sum of its shares' squares), the others
    1/2 and 1/4 (no reuse: w^2 = q). d = 5 - 1.5 and 7 - 4, ATT 3.25; control 3's variance
    from its two nearest other controls is 2/3 (2 - 3.5)^2 = 1.5, so N1^2 V = 0.125 +
    (1 - 1/2) 1.5 = 0.875 over N1 = 2 treated units (not 4 pairs)."""
    x = np.array([0.0, 1.0, 0.0, 0.5, 1.0])[:, None].astype(np.float32)
    y = np.array([5.0, 7.0, 1.0, 2.0, 6.0])
    treated = np.arange(5) < 2
    got = matched_difference_with_replacement(y, x, treated, np.array([0, 0, 1, 1]),
                                              np.array([2, 3, 3, 4]), neighbours=2)
    assert got["estimate"] == pytest.approx(3.25)
    assert got["se"] == pytest.approx(np.sqrt(0.875) / 2)


def test_a_blocks_only_control_keeps_its_reuse_in_the_abadie_imbens_variance() -> None:
    """Control 3 is its block's only control and serves both treated units of the block: its
    conditional variance comes from the nearest control of another block, not 0 (which would
    drop its reuse from the variance and narrow the interval)."""
    x = np.array([0.0, 0.1, 1.0, 0.05, 0.9, 3.0])[:, None].astype(np.float32)
    y = np.array([2.0, 3.0, 5.0, 1.0, 2.0, 7.0])
    treated = np.arange(6) < 3
    blocks = np.array([0, 0, 1, 0, 1, 1])
    t_rows, c_rows = np.array([0, 1, 2]), np.array([3, 3, 4])
    got = matched_difference_with_replacement(y, x, treated, t_rows, c_rows, blocks=blocks,
                                              neighbours=1)
    d = np.array([2 - 1, 3 - 1, 5 - 2.0])
    s2 = 0.5 * (1.0 - 2.0) ** 2  # control 3's nearest other control (any block) is 4
    variance = (((d - d.mean()) ** 2).sum() + (2**2 - 2) * s2) / 3**2
    assert got["se"] == pytest.approx(np.sqrt(variance))


def test_abadie_imbens_interval_covers_where_the_pair_bootstrap_does_not() -> None:
    """Few controls, each reused by about two treated units: the pair bootstrap's interval is
    about half as wide as the estimate's spread over replications; Abadie-Imbens' is not."""
    from latentplay.match import matched_difference

    estimates, se, cover_ai, cover_boot = [], [], 0, 0
    for seed in range(200):
        rng = np.random.default_rng(seed)
        x = np.concatenate([rng.normal(0.8, 1, 300), rng.normal(0, 1, 150)])[:, None]
        treated = np.arange(450) < 300
        y = 2 * x[:, 0] + 1.0 * treated + rng.normal(0, 1, 450)  # effect 1
        r = match(x, treated, replace=True)
        ai = matched_difference_with_replacement(y, r.points, treated, r.treated_rows,
                                                 r.control_rows)
        boot = matched_difference(y, r.treated_rows, r.control_rows, n_boot=300, seed=seed)
        estimates.append(ai["estimate"])
        se.append(ai["se"])
        cover_ai += ai["ci_low"] <= 1.0 <= ai["ci_high"]
        cover_boot += boot["ci_low"] <= 1.0 <= boot["ci_high"]
    assert np.mean(se) == pytest.approx(np.std(estimates), rel=0.2)
    assert cover_ai >= 0.88 * 200 and cover_boot <= 0.8 * 200


def test_persons_add_the_sets_they_link_to_abadie_imbens_by_hand() -> None:
    # 1-d: treated 0-3 at x = 0, 1, 2, 0.02; controls 4-7 at x = 0.1, 1.1, 2.1, 5.0
    x = np.array([0.0, 1.0, 2.0, 0.02, 0.1, 1.1, 2.1, 5.0])[:, None].astype(np.float32)
    y = np.array([2.0, 4.0, 3.0, 1.0, 1.0, 3.0, 2.0, 0.0])
    treated = np.arange(8) < 4
    t_rows, c_rows = np.array([0, 1, 2, 3]), np.array([4, 5, 6, 4])  # control 4 serves twice
    centred = np.array([1.0, 1.0, 1.0, 0.0]) - 0.75  # d_t - ATT
    s2 = 0.5 * (1.0 - 3.0) ** 2  # control 4's nearest other control is 5
    ai = (centred @ centred + (2**2 - 2) * s2)  # N1^2 V of Abadie & Imbens
    plain = matched_difference_with_replacement(y, x, treated, t_rows, c_rows, neighbours=1)
    assert plain["se"] == pytest.approx(np.sqrt(ai) / 4)
    # person 10 is treated in photos 0 and 2: sets 0 and 2 share a person, no photo
    persons = np.array([10, 11, 10, 12, 13, 14, 15, 16])
    got = matched_difference_with_replacement(y, x, treated, t_rows, c_rows, neighbours=1,
                                              persons=persons)
    linked = 2 * centred[0] * centred[2]
    assert got["se"] == pytest.approx(np.sqrt(ai + linked) / 4)
    assert got["design_effect"] == pytest.approx((ai + linked) / ai) and got["persons"] == 6
    assert got["estimate"] == pytest.approx(0.75)
    # Student's t at one degree of freedom fewer than the smaller side's persons: the treated
    # photos show persons 10, 11, 12, the controls 13, 14, 15 (photo 4 twice): 2 of them
    half = student_t.ppf(0.975, 2) * got["se"]
    assert (got["ci_low"], got["ci_high"]) == pytest.approx((0.75 - half, 0.75 + half))
    # photo 3 is person 10 too: sets 0 and 3 share photo 4 (Abadie & Imbens' term, not added
    # again), sets 2 and 3 only the person: 2 * (1/4)(1/4) + 2 * (1/4)(-3/4) < 0, floored
    persons[3] = 10
    floored = matched_difference_with_replacement(y, x, treated, t_rows, c_rows, neighbours=1,
                                                  persons=persons)
    assert floored["se"] == pytest.approx(plain["se"]) and floored["design_effect"] == 1.0


def _photos_of_persons(seed: int, n_persons: int = 60, photos: int = 6
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``n_persons`` treated and as many control persons (a person's own attribute decides the
    group) of ``photos`` photos each: x near the person's own value, outcome 2 x + 1 (treated)
    + the person's own level + photo noise. Returns (x (n, 1), treated, y, person), n rows."""
    rng = np.random.default_rng(seed)
    person = np.repeat(np.arange(2 * n_persons), photos)
    treated = person < n_persons
    centre = rng.normal(0, 1, 2 * n_persons) + 0.5 * (np.arange(2 * n_persons) < n_persons)
    x = (centre[person] + rng.normal(0, 0.3, len(person)))[:, None]
    y = (2 * x[:, 0] + 1.0 * treated + rng.normal(0, 1, 2 * n_persons)[person]
         + rng.normal(0, 0.5, len(person)))
    return x, treated, y, person


def test_photos_of_one_person_widen_the_abadie_imbens_interval() -> None:
    """Six photos per person: taking the photos as independent understates the spread; counting
    the persons widens the interval, and leaves it as it was when every photo is a person."""
    x, treated, y, person = _photos_of_persons(0)
    r = match(x, treated, replace=True)
    args = (y, r.points, treated, r.treated_rows, r.control_rows)
    ai = matched_difference_with_replacement(*args)
    over = matched_difference_with_replacement(*args, persons=person)
    assert over["estimate"] == ai["estimate"] and 100 < over["persons"] <= 120
    assert over["design_effect"] > 2 and over["se"] > 1.4 * ai["se"]
    alone = matched_difference_with_replacement(*args, persons=np.arange(len(y)) + 1000)
    assert alone["design_effect"] == 1.0 and alone["se"] == pytest.approx(ai["se"], rel=1e-12)
    # Student's t at the photos' hundreds of degrees of freedom: within 1 % of the normal
    widened = (alone["ci_high"] - alone["ci_low"]) / (ai["ci_high"] - ai["ci_low"])
    assert 1 < widened < 1.01


def test_the_interval_over_persons_covers_where_abadie_imbens_does_not() -> None:
    estimates, se, cover_ai, cover_over = [], [], 0, 0
    for seed in range(200):
        x, treated, y, person = _photos_of_persons(seed)
        r = match(x, treated, replace=True)
        args = (y, r.points, treated, r.treated_rows, r.control_rows)
        ai = matched_difference_with_replacement(*args)
        over = matched_difference_with_replacement(*args, persons=person)
        estimates.append(over["estimate"])
        se.append(over["se"])
        cover_ai += ai["ci_low"] <= 1.0 <= ai["ci_high"]
        cover_over += over["ci_low"] <= 1.0 <= over["ci_high"]
    assert np.mean(se) == pytest.approx(np.std(estimates), rel=0.2)
    assert cover_over >= 0.88 * 200 and cover_ai <= 0.75 * 200


def test_a_person_on_both_sides_does_not_shrink_the_interval_below_independent_units() -> None:
    # pairs (0, 4), (1, 5), (2, 6): person 10 is treated in pair 0 and the control of pair 1,
    # whose differences lie on opposite sides of the mean, so the shared sum falls below the
    # sum of squares; the variance is taken as that of independent pairs
    y = np.array([3.0, 0.0, 1.5, 0.0, 0.0, 3.0, 0.0])
    t_rows, c_rows = np.array([0, 1, 2]), np.array([4, 5, 6])
    plain = np.array([3.0, -3.0, 1.5]) - 0.5
    persons = np.array([10, 11, 12, 13, 14, 10, 15])
    got = matched_difference(y, t_rows, c_rows, persons=persons)
    shared = (plain @ plain + 2 * plain[0] * plain[1]) / 9 * 6 / 5
    assert shared < plain @ plain / 9  # the sharing would shrink it
    assert got["design_effect"] == 1.0 and got["se"] == pytest.approx(np.sqrt(plain @ plain) / 3)


def test_more_neighbours_than_other_controls_use_all_of_them() -> None:
    """J = 3 asked for, but control 3 has only two other controls (4 and 5): its conditional
    variance is J / (J + 1) (y - mean)^2 with the J = 2 there are, 2/3 (1 - 4.5)^2."""
    x = np.array([0.0, 0.1, 1.0, 0.05, 0.9, 3.0])[:, None].astype(np.float32)
    y = np.array([2.0, 3.0, 5.0, 1.0, 2.0, 7.0])
    treated = np.arange(6) < 3
    got = matched_difference_with_replacement(y, x, treated, np.array([0, 1, 2]),
                                              np.array([3, 3, 4]), neighbours=3)
    d = np.array([2 - 1, 3 - 1, 5 - 2.0])
    s2 = 2 / 3 * (1.0 - (2.0 + 7.0) / 2) ** 2
    assert got["se"] == pytest.approx(np.sqrt((((d - d.mean()) ** 2).sum() + 2 * s2) / 3**2))
