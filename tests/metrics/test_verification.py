"""Verification measures against their definitions, computed by brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from latentplay.audit.distribution import wilson_interval
from latentplay.metrics.verification import (
    best_threshold,
    differentials,
    equal_error_rate,
    fold_problem,
    kfold_accuracy,
    pair_distances,
    quantile_strata,
    rates,
    standardized_rate,
    tar_at_fmr,
    threshold_at_fmr,
    verification,
)


def _case(seed: int, n: int = 40, ties: bool = False) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    same = rng.random(n) < 0.5
    d = rng.normal(np.where(same, 0.5, 1.0), 0.3)
    return (np.round(d, 1) if ties else d), same


def _balanced(d: np.ndarray, same: np.ndarray, t: float) -> float:
    """By hand: the mean of the share of genuine pairs below ``t`` and of impostors not."""
    return ((d[same] < t).mean() + (d[~same] >= t).mean()) / 2


@pytest.mark.parametrize("seed", range(12))
def test_best_threshold_is_the_best_of_every_cut(seed: int) -> None:
    d, same = _case(seed, ties=seed % 2 == 0)
    t, acc = best_threshold(d, same)
    assert acc == pytest.approx(_balanced(d, same, t))
    cuts = np.r_[d - 1e-9, d + 1e-9, d.min() - 1, d.max() + 1]
    brute = max(_balanced(d, same, c) for c in cuts)
    assert acc == pytest.approx(brute)


def test_accuracy_weighs_genuine_and_impostor_pairs_alike() -> None:
    # 1 genuine pair at 0.5 and 9 impostors at 0.4: plain accuracy is best (0.9) calling no pair
    # a match; balanced accuracy sees that 0.9 as (0 + 1) / 2 and ties it with matching all
    d = np.r_[0.5, np.full(9, 0.4)]
    same = np.arange(10) == 0
    assert best_threshold(d, same) == (pytest.approx(-0.6), pytest.approx(0.5))
    # one genuine pair closer than every impostor: a perfect cut, whatever the mix
    d = np.r_[0.1, np.linspace(0.2, 1, 9)]
    assert best_threshold(d, same) == (pytest.approx(0.15), pytest.approx(1.0))
    # each impostor three times over, in file-order folds: the same folds, the same accuracy
    rng = np.random.default_rng(7)
    genuine, impostor = rng.normal(0.5, 0.3, 20), rng.normal(1.0, 0.3, 20)
    kinds = np.r_[np.ones(20, bool), np.zeros(20, bool)]
    once = kfold_accuracy(np.r_[genuine, impostor], kinds, folds=2, seed=None)
    thrice = kfold_accuracy(np.r_[genuine, np.repeat(impostor, 3)],
                            np.r_[np.ones(20, bool), np.zeros(60, bool)], folds=2, seed=None)
    assert 0.6 < once[0] < 0.95  # the kinds overlap: errors on both sides
    assert np.allclose(thrice[2], once[2])


@pytest.mark.parametrize("fmr", [0.0, 0.013, 0.05, 0.1, 0.25, 0.333, 0.99])
def test_threshold_at_fmr_is_the_largest_within_the_target(fmr: float) -> None:
    imp = np.random.default_rng(1).normal(size=200)
    t = threshold_at_fmr(imp, fmr)
    assert (imp < t).mean() <= fmr
    larger = np.sort(imp[imp >= t])
    if len(larger):  # any larger threshold passes one more impostor and exceeds the target
        assert (imp <= larger[0]).mean() > fmr


def test_rates_count_matches_and_non_matches() -> None:
    d = np.array([0.1, 0.5, 0.7, 0.2, 0.9, 0.6])
    same = np.array([1, 1, 1, 0, 0, 0], bool)
    r = rates(d, same, 0.6)  # matched: 0.1, 0.5, 0.2
    assert (r["false_matches"], r["false_non_matches"]) == (1, 1)
    assert r["fmr"] == pytest.approx(1 / 3) and r["fnmr"] == pytest.approx(1 / 3)
    # d == t is not a match (d < t), as dlib's "closer than 0.6"
    assert rates(np.array([0.6]), np.array([True]), 0.6)["fnmr"] == 1.0


def test_auc_eer_and_tar_against_brute_force() -> None:
    d, same = _case(3, n=400)
    v = verification(d, same, folds=10)
    gen, imp = d[same], d[~same]
    brute_auc = np.mean([(g < i) + 0.5 * (g == i) for g, i in itertools.product(gen, imp)])
    assert v.auc == pytest.approx(brute_auc)
    eer, t = equal_error_rate(d, same)
    assert eer == v.eer and d.min() < t < d.max()
    # FMR rises and FNMR falls, so their crossing lies between the two rates at every cut
    for c in np.r_[d, d + 1e-9]:
        fmr, fnmr = (imp < c).mean(), (gen >= c).mean()
        assert min(fmr, fnmr) - 1e-12 <= eer <= max(fmr, fnmr) + 1e-12
    assert v.tar_at_fmr["0.001"] is None  # ~200 impostors cannot measure 1e-3
    t10 = threshold_at_fmr(imp, 0.1)
    assert v.tar_at_fmr["0.1"] == pytest.approx((gen < t10).mean())
    assert tar_at_fmr(d, same, 0.1) == v.tar_at_fmr["0.1"]


def test_tar_at_fmr_by_hand() -> None:
    """Impostors at 1..10 and FMR 0.1: the threshold is the second smallest, 2 (one impostor
    below it); genuine pairs at 0.5, 2, 2 and 5: only 0.5 lies below it (d < t), TAR 1/4.
    Nine impostors cannot measure an FMR of 0.1."""
    impostor, genuine = np.arange(1.0, 11.0), np.array([0.5, 2.0, 2.0, 5.0])
    d, same = np.r_[genuine, impostor], np.r_[np.ones(4, bool), np.zeros(10, bool)]
    assert threshold_at_fmr(impostor, 0.1) == 2.0
    assert tar_at_fmr(d, same, 0.1) == pytest.approx(0.25)
    assert tar_at_fmr(d[:-1], same[:-1], 0.1) is None


@pytest.mark.parametrize(("genuine", "impostor", "eer", "threshold"), [
    # cuts 0.25 and 0.35 (midway between distances): FMR 1/3 on both, FNMR 1/2 then 0; the lines
    # meet where FNMR = 1/2 - w/2 = 1/3, w = 1/3 of the way: EER 1/3 at 0.25 + 0.1 / 3
    ([0.1, 0.3], [0.2, 0.4, 0.5], 1 / 3, 0.25 + 0.1 / 3),
    # a genuine and an impostor pair both at 0.4: from cut 0.35 to 0.45 FMR goes 1/4 -> 1/2 and
    # FNMR 1/3 -> 0; 1/4 + w/4 = 1/3 - w/3 at w = 1/7: EER 1/4 + 1/28 = 2/7 at 0.35 + 0.1 / 7
    ([0.1, 0.2, 0.4], [0.3, 0.4, 0.5, 0.6], 2 / 7, 0.35 + 0.1 / 7),
    # the rates meet on a cut: 0.5 and 0.5 at 0.25
    ([0.1, 0.3], [0.2, 0.4], 0.5, 0.25),
])
def test_eer_is_where_the_rate_lines_cross(genuine: list[float], impostor: list[float],
                                           eer: float, threshold: float) -> None:
    d = np.r_[genuine, impostor]
    same = np.arange(len(d)) < len(genuine)
    assert equal_error_rate(d, same) == (pytest.approx(eer), pytest.approx(threshold))


def test_kfold_accuracy_separable_overlapping_and_seeded() -> None:
    same = np.r_[np.ones(50, bool), np.zeros(50, bool)]
    d = np.r_[np.linspace(0, 1, 50), np.linspace(2, 3, 50)]
    mean, std, per_fold = kfold_accuracy(d, same, folds=10)
    assert (mean, std) == (1.0, 0.0) and len(per_fold) == 10
    d2, s2 = _case(5, n=600)
    a = kfold_accuracy(d2, s2, 10, seed=0)
    assert a[0] == kfold_accuracy(d2, s2, 10, seed=0)[0]
    # held-out accuracy cannot beat the best threshold chosen on all pairs
    assert a[0] <= best_threshold(d2, s2)[1] + 1e-12
    assert 0.7 < a[0] < 0.9  # two normals 0.5 / 0.3 apart by 1.67 sd: about 0.80
    # the sd over folds is the population SD (ddof 0, as docs/verification.md states)
    assert a[1] == pytest.approx(np.sqrt(np.sum((a[2] - a[0]) ** 2) / 10)) and a[1] > 0


def test_pair_distances_euclidean_and_cosine() -> None:
    z = np.array([[3.0, 4.0], [0.0, 1.0], [0.0, -2.0]], np.float32)
    a, b = np.array([0, 1]), np.array([1, 2])
    assert pair_distances(z, a, b).tolist() == pytest.approx([np.sqrt(9 + 9), 3.0])
    assert pair_distances(z, a, b, "cosine").tolist() == pytest.approx([1 - 0.8, 2.0])
    with pytest.raises(ValueError, match="metric"):
        pair_distances(z, a, b, "manhattan")


def test_differentials_and_too_few_pairs() -> None:
    diff = differentials([0.9, 0.95, 0.99], [0.002, 0.001, 0.004], [0.1, 0.0, 0.05])
    assert diff["skewed_error_ratio"] == pytest.approx(0.1 / 0.01)
    assert diff["fmr_ratio"] == pytest.approx(4.0)
    assert diff["fnmr_ratio"] is None  # the lowest is 0
    assert diff["accuracy_std"] == pytest.approx(np.std([0.9, 0.95, 0.99]))
    with pytest.raises(ValueError, match="at least 10"):
        verification(np.arange(12.0), np.arange(12) < 3)


def test_pair_intervals_widen_only_when_persons_recur() -> None:
    from latentplay.clustered import pair_rate_interval

    rng = np.random.default_rng(0)
    n = 2000
    wrong = rng.random(n) < 0.05
    fm = int(wrong.sum())
    wilson = wilson_interval(np.array([fm]), n)[0]
    # every pair two persons of its own: Wilson's interval
    alone = pair_rate_interval(wrong, np.arange(2 * n).reshape(n, 2))
    assert alone[:2] == (pytest.approx(wilson[0], rel=1e-3), pytest.approx(wilson[1], rel=1e-3))
    assert alone[2] == pytest.approx(1.0, abs=0.01)
    # 20 persons, and the errors all belong to two of them (first face or second): far wider
    persons = np.column_stack([np.arange(n) % 20, (np.arange(n) // 20 + np.arange(n)) % 20])
    persons[:, 1] = np.where(persons[:, 1] == persons[:, 0], (persons[:, 0] + 1) % 20,
                             persons[:, 1])
    wolves = np.isin(persons, [0, 1]).any(axis=1)
    low, high, effect = pair_rate_interval(wolves, persons)
    w_low, w_high = wilson_interval(np.array([int(wolves.sum())]), n)[0]
    assert effect > 10 and high - low > 3 * (w_high - w_low)
    assert low <= wolves.mean() <= high
    # no error at all: Wilson's interval, not a point
    assert pair_rate_interval(np.zeros(n, bool), persons)[:2] == \
        (0.0, pytest.approx(wilson_interval(np.array([0]), n)[0][1]))


def test_folds_in_file_order_are_consecutive_runs() -> None:
    # each kind of pair: first half in one regime, second half in another; consecutive folds
    # train on one regime and test on the other, random folds see both
    same = np.r_[np.ones(20, bool), np.zeros(20, bool)]
    d = np.r_[np.zeros(10), np.full(10, 4.0), np.full(10, 2.0), np.full(10, 6.0)]
    in_order, _, per_fold = kfold_accuracy(d, same, folds=2, seed=None)
    assert in_order == 0.5 and per_fold.tolist() == [0.5, 0.5]
    assert kfold_accuracy(d, same, folds=2, seed=0)[0] > 0.6  # one threshold: at best 0.75


def test_predefined_folds_stay_put_when_pairs_are_dropped() -> None:
    """Four folds of 20 genuine then 20 impostor pairs, in file order; fold 0 loses its three
    easiest genuine and three easiest impostor pairs (far from every best threshold, equally
    many of each kind, so the other folds' thresholds stay). With the fold of each pair given,
    folds 1-3 hold the same pairs and score exactly as before; consecutive runs shift them."""
    rng = np.random.default_rng(0)
    fold = np.repeat(np.arange(4), 40)
    same = np.tile(np.r_[np.ones(20, bool), np.zeros(20, bool)], 4)
    d = np.where(same, rng.uniform(0, 1.5, len(same)), rng.uniform(1, 2.5, len(same)))
    _, _, before = kfold_accuracy(d, same, fold=fold)
    assert before.tolist() == kfold_accuracy(d, same, 4, seed=None)[2].tolist()  # same folds
    genuine0, impostor0 = np.flatnonzero((fold == 0) & same), np.flatnonzero((fold == 0) & ~same)
    keep = np.ones(len(d), bool)
    keep[genuine0[np.argsort(d[genuine0])[:3]]] = False
    keep[impostor0[np.argsort(d[impostor0])[-3:]]] = False
    _, _, after = kfold_accuracy(d[keep], same[keep], fold=fold[keep])
    assert len(after) == 4 and after[1:].tolist() == before[1:].tolist()
    assert 0.6 < before[1:].min() < 1  # the folds err: a shifted fold could score otherwise
    shifted = kfold_accuracy(d[keep], same[keep], 4, seed=None)[2]
    assert shifted[1:].tolist() != before[1:].tolist()
    # a fold's label is only a name; a fold left without one kind cannot be scored
    assert kfold_accuracy(d, same, fold=fold * 10 + 3)[2].tolist() == before.tolist()
    assert fold_problem(same, fold) is None
    lonely = same & (fold == 2) | (fold != 2)
    assert fold_problem(same[lonely], fold[lonely]) == "fold 2 holds no impostor pair"
    with pytest.raises(ValueError, match="at least two folds"):
        kfold_accuracy(d, same, fold=np.zeros(len(d), int))


def test_standardization_removes_a_gap_the_strata_explain() -> None:
    """Both groups fail 5 % of easy pairs and 40 % of hard ones; A has 80 easy pairs of 100, B
    20: raw FNMR 0.12 vs 0.33, standardized both 0.5 * 0.05 + 0.5 * 0.40 = 0.225."""
    def group(easy: int, hard: int) -> tuple[np.ndarray, np.ndarray]:
        errors = np.zeros(easy + hard, bool)
        errors[: easy // 20] = True
        errors[easy: easy + int(0.4 * hard)] = True
        return errors, np.r_[np.zeros(easy, int), np.ones(hard, int)]

    (ea, sa), (eb, sb) = group(80, 20), group(20, 80)
    groups = np.r_[np.zeros(100, int), np.ones(100, int)]
    found = standardized_rate(np.r_[ea, eb], groups, np.r_[sa, sb], 2, 2)
    np.testing.assert_allclose(found["rate"], [0.12, 0.33])
    np.testing.assert_allclose(found["standardized"], [0.225, 0.225])
    assert found["counts"].tolist() == [[80, 20], [20, 80]]
    low, high = found["interval"].T
    assert (low <= 0.225).all() and (high >= 0.225).all() and (high - low < 0.25).all()
    # a group with no pair in a stratum that has weight cannot be standardized
    missing = standardized_rate(np.r_[ea[:80], eb], np.r_[np.zeros(80, int), np.ones(100, int)],
                                np.r_[sa[:80], sb], 2, 2)
    assert np.isnan(missing["standardized"][0]) and np.isfinite(missing["standardized"][1])
    # persons as clusters: every pair of one person moves together in the bootstrap
    persons = np.arange(200) // 10
    clustered = standardized_rate(np.r_[ea, eb], groups, np.r_[sa, sb], 2, 2, persons=persons)
    np.testing.assert_allclose(clustered["standardized"], [0.225, 0.225])


def test_standardized_interval_only_over_draws_that_fill_the_strata() -> None:
    """Group 1 has no pair in stratum 1, which only unit 4 (group 0, an error) fills: group 1
    has no standardized rate and so no interval. Group 0's interval counts only draws that
    hold unit 4: there stratum 1 weighs at least 1/9 at a rate of 1, so no bound is below 1/9
    (draws without it would drop the stratum and give group 0 rates down to 0)."""
    found = standardized_rate(np.array([0, 1, 0, 1, 1, 1, 0, 1, 0], bool),
                              np.array([0] * 5 + [1] * 4), np.array([0, 0, 0, 0, 1, 0, 0, 0, 0]),
                              2, 2, persons=np.arange(9))
    assert np.isnan(found["standardized"][1]) and found["missing"].tolist() == [0, 1]
    assert np.isnan(found["interval"][1]).all()
    assert np.isfinite(found["interval"][0]).all() and found["interval"][0, 0] >= 1 / 9 - 1e-12


def test_a_standardized_rate_of_0_is_not_certain() -> None:
    """Group 1's 50 units, spread over 3 strata, are never wrong: every resample gives it 0,
    and its interval was 0 to 0; it reaches up to Wilson's at its 50 units (0 of 50: 0.071),
    as any rate of 0 of 50 does. Group 0 (wrong at 0.2 over 350 units) keeps its bootstrap."""
    rng = np.random.default_rng(0)
    groups = np.repeat([0, 1], [350, 50])
    errors = np.r_[rng.random(350) < 0.2, np.zeros(50, bool)]
    found = standardized_rate(errors, groups, rng.integers(0, 3, 400), 2, 3)
    assert found["standardized"][1] == 0
    assert found["interval"][1].tolist() == pytest.approx(wilson_interval(np.array([0]), 50)[0])
    assert found["interval"][1, 1] == pytest.approx(0.0713, abs=1e-4)
    low, high = wilson_interval(np.array([round(found["standardized"][0] * 350)]), 350)[0]
    assert found["interval"][0, 0] < found["standardized"][0] < found["interval"][0, 1]
    assert found["interval"][0, 1] - found["interval"][0, 0] > 0.9 * (high - low)


def test_quantile_strata() -> None:
    codes = quantile_strata(np.arange(100.0), 4)
    assert np.bincount(codes).tolist() == [25, 25, 25, 25]
    assert quantile_strata(np.array([3.0, 1.0, 2.0, 0.0]), 2).tolist() == [1, 0, 1, 0]


def test_quantile_strata_with_ties() -> None:
    """A value tied over a quantile gets a stratum of its own, and no stratum is left empty:
    60 % zeros (median 0) still split from the ones; 0 / 1 / 2 with 1 tied over all three
    quartiles give three strata; a frontal yaw of 0 on half the rows is one stratum."""
    two = np.r_[np.zeros(60), np.ones(40)]
    assert (quantile_strata(two, 2) == two).all()
    three = np.r_[np.zeros(10), np.ones(80), np.full(10, 2.0)]
    assert (quantile_strata(three, 4) == three).all()
    rng = np.random.default_rng(0)
    yaw = np.where(rng.random(1000) < 0.5, 0.0, rng.normal(size=1000))
    codes = quantile_strata(yaw, 8)
    assert (np.bincount(codes) > 0).all() and len(np.unique(codes[yaw == 0])) == 1
    assert (codes[yaw != 0] != codes[yaw == 0][0]).all()


def test_standardized_rate_sparse_weight() -> None:
    """Group 1 has 3 units in stratum 1, which holds 53 of 103 units: that share of the
    standard weight rests on its few units; group 0 (50 units in each) has none so."""
    strata = np.r_[np.arange(100) % 2, [1, 1, 1]]
    groups = np.r_[np.zeros(100, int), np.ones(3, int)]
    found = standardized_rate(np.arange(103) % 3 == 0, groups, strata, 2, 2)
    np.testing.assert_allclose(found["sparse"], [0.0, 53 / 103])


def test_a_stratum_of_one_or_two_persons_is_sparse_however_many_units() -> None:
    """Group 1's 90 units are two persons', each on 45 units in one stratum of two: every
    stratum it fills rests on one person, so all its weight is sparse, though no cell holds
    under SPARSE_UNITS units; group 0 (30 persons of 3 units over both strata) is not.
    Without persons each unit is its own, and neither group is sparse."""
    from latentplay.metrics.verification import SPARSE_PERSONS

    persons = np.r_[np.repeat(np.arange(30), 3), np.repeat([30, 31], 45)]
    groups = (persons >= 30).astype(int)
    strata = np.r_[np.arange(90) % 2, np.repeat([0, 1], 45)]
    errors = np.arange(180) % 4 == 0
    found = standardized_rate(errors, groups, strata, 2, 2, persons=persons, n_boot=50)
    assert found["persons"].tolist() == [[30, 30], [1, 1]] and SPARSE_PERSONS == 3
    np.testing.assert_allclose(found["sparse"], [0.0, 1.0])
    three = np.r_[persons[:90], np.repeat([30, 31, 32], 30)]  # three persons, all on both strata
    strata3 = np.r_[strata[:90], np.arange(90) % 2]
    found = standardized_rate(errors, groups, strata3, 2, 2, persons=three, n_boot=50)
    np.testing.assert_allclose(found["sparse"], [0.0, 0.0])
    plain = standardized_rate(errors, groups, strata, 2, 2, n_boot=50)
    np.testing.assert_allclose(plain["sparse"], [0.0, 0.0])


def test_the_standardized_rate_interval_is_95_percent_wide() -> None:
    """One stratum: the standardized rate is the raw one, 600 errors of 2,000 (0.3), and its
    percentile bootstrap interval is about 2 * 1.96 sqrt(0.3 * 0.7 / 2000) wide."""
    errors = np.arange(2000) < 600
    found = standardized_rate(errors, np.zeros(2000, int), np.zeros(2000, int), 1, 1,
                              n_boot=4000)
    assert found["standardized"][0] == pytest.approx(0.3)
    low, high = found["interval"][0]
    assert high - low == pytest.approx(2 * 1.959964 * np.sqrt(0.3 * 0.7 / 2000), rel=0.05)
