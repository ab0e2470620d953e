"""Greedy matching equals the brute-force definition (same pairs), in every mode."""

from __future__ import annotations

import numpy as np
import pytest
from match_reference import dense_d2, greedy_reference

from latentplay.errors import UserError
from latentplay.match import greedy_match, match
from latentplay.match.knn import ControlSearch


def _case(seed: int, d: int, shift: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    n_t = int(rng.integers(5, 60))
    n_c = int(rng.integers(n_t // 2 + 1, 2 * n_t + 10))
    xt = rng.standard_normal((n_t, d)).astype(np.float32)
    xc = (rng.standard_normal((n_c, d)) * 1.3 + shift).astype(np.float32)
    return xt, xc


def _pairs(p) -> set[tuple[int, int]]:
    return set(zip(p.treated.tolist(), p.control.tolist(), strict=True))


@pytest.mark.parametrize("order", ["closest", "random"])
@pytest.mark.parametrize("d", [1, 2, 6])
@pytest.mark.parametrize("ratio", [1, 2])
@pytest.mark.parametrize("seed", range(6))
def test_greedy_equals_brute_force(order: str, d: int, ratio: int, seed: int) -> None:
    xt, xc = _case(100 * seed + d, d)
    # k=2 forces many units to run out of candidates and be searched again
    for caliper2 in (np.inf, float(np.quantile(dense_d2(xt, xc).min(axis=1), 0.6))):
        ref = greedy_reference(xt, xc, ratio=ratio, caliper2=caliper2, order=order, seed=seed)
        got = greedy_match(xt, xc, ratio=ratio, caliper2=caliper2, order=order, k=2, seed=seed)
        assert _pairs(got) == ref
        assert len(set(got.control.tolist())) == len(got)  # without replacement
        d2 = dense_d2(xt, xc)[got.treated, got.control]
        np.testing.assert_allclose(got.distance**2, d2, rtol=1e-5, atol=1e-6)
        assert (got.distance**2 <= caliper2 * (1 + 1e-9)).all()


def test_caliper_changes_the_result_and_is_exact() -> None:
    xt, xc = _case(7, 3)
    caliper2 = float(np.quantile(dense_d2(xt, xc).min(axis=1), 0.5))
    wide = greedy_match(xt, xc)
    narrow = greedy_match(xt, xc, caliper2=caliper2, k=1)
    assert 0 < len(narrow) < len(wide)
    assert _pairs(narrow) == greedy_reference(xt, xc, caliper2=caliper2)


@pytest.mark.parametrize("method", ["nearest", "mahalanobis", "optimal"])
def test_a_caliper_in_sds_does_not_depend_on_the_order_of_rows_or_columns(method: str) -> None:
    """The SD of random pairs' distances is drawn from the points, not from row numbers: the
    same units in another row order, with their covariates in another column order and of
    the other sign, get the same caliper and the same pairs."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((400, 5)) * [3, 1, 1, 1, 1]
    treated = x[:, 0] * 0.3 + x[:, 1] + rng.standard_normal(400) > 1.0   # 1 in 4 treated
    rows, columns = rng.permutation(400), [3, 0, 4, 1, 2]
    first = match(x, treated, method=method, caliper=1.0)
    again = match(-x[rows][:, columns], treated[rows], method=method, caliper=1.0)
    assert again.caliper == pytest.approx(first.caliper, rel=1e-9)
    assert 0 < len(first.treated_rows) < treated.sum()             # the caliper drops some
    moved = zip(rows[again.treated_rows].tolist(), rows[again.control_rows].tolist(), strict=True)
    assert sorted(moved) == sorted(zip(first.treated_rows.tolist(), first.control_rows.tolist(),
                                       strict=True))


def test_larger_case_with_many_searches_again() -> None:
    rng = np.random.default_rng(3)
    xt = rng.standard_normal((400, 8)).astype(np.float32) + 0.3
    xc = rng.standard_normal((420, 8)).astype(np.float32)
    got = greedy_match(xt, xc, k=3)
    assert got.stats["units_searched_again"] > 50
    assert _pairs(got) == greedy_reference(xt, xc)


@pytest.mark.parametrize("c", [0.0, -1.0, float("nan")])
def test_a_propensity_c_that_is_not_positive_is_one_clear_error(c: float) -> None:
    rng = np.random.default_rng(3)
    x = rng.standard_normal((40, 3))
    with pytest.raises(UserError, match=r"^propensity_c \(--propensity-c\) must be a finite number "
                                        r"above 0, got "):
        match(x, rng.random(40) < 0.4, method="propensity", propensity_c=c)


@pytest.mark.parametrize("method", ["nearest", "mahalanobis"])
def test_exact_blocks_equal_brute_force_per_block(method: str) -> None:
    rng = np.random.default_rng(11)
    n = 300
    x = rng.standard_normal((n, 4)).astype(np.float32)
    treated = rng.random(n) < 0.35
    blocks = rng.integers(0, 3, n)
    caliper = 1.0
    res = match(x, treated, method=method, exact=blocks, caliper=caliper, caliper_units="abs",
                partial=True, scale=method == "mahalanobis")    # --no-scale: Euclidean only
    assert (blocks[res.treated_rows] == blocks[res.control_rows]).all()
    from latentplay.match.space import matching_space

    pts = matching_space(x, treated, metric="mahalanobis" if method == "mahalanobis" else
                         "euclidean", scale=method == "mahalanobis")
    expected = set()
    for b in range(3):
        t = np.flatnonzero((blocks == b) & treated)
        c = np.flatnonzero((blocks == b) & ~treated)
        for i, j in greedy_reference(pts[t], pts[c], caliper2=caliper**2):
            expected.add((int(t[i]), int(c[j])))
    got = set(zip(res.treated_rows.tolist(), res.control_rows.tolist(), strict=True))
    assert got == expected


def test_exact_blocks_short_of_controls_say_how_many_treated_units_they_leave() -> None:
    rng = np.random.default_rng(4)
    x = rng.standard_normal((80, 3))
    blocks = np.repeat([0, 1, 2, 3], 20)
    treated = np.zeros(80, bool)
    treated[:8] = True  # block 0: 8 treated, 12 controls
    treated[20:33] = True  # block 1: 13 treated, 7 controls
    treated[40:55] = True  # block 2: 15 treated, 5 controls
    treated[60:62] = True  # block 3: 2 treated, 18 controls
    res = match(x, treated, exact=blocks)
    assert [b["treated"] - b["matched_treated"] for b in res.info["blocks"]] == [0, 6, 10, 0]
    assert res.info["warnings"] == ["16 treated units in 2 of the 4 exact-match blocks found no "
                                    "control: their block ran out of controls (fewer than its "
                                    "treated units x ratio, or none)"]
    # a caliper's drops are not counted as lacking controls
    tight = match(x, treated, exact=blocks, caliper=1.5)
    left = sum(b["treated"] - b["matched_treated"] for b in tight.info["blocks"])
    assert tight.caliper_drops > 0 and left - tight.caliper_drops > 0
    assert tight.info["warnings"][0].startswith(
        f"{left - tight.caliper_drops} treated units in 1 of the 4 exact-match blocks")
    enough = match(x, treated & (blocks % 3 == 0), exact=blocks)
    assert enough.info["warnings"] == []


@pytest.mark.parametrize("replace", [False, True])
def test_exact_blocks_short_of_controls_for_the_ratio_say_how_many_got_fewer(replace: bool) -> None:
    """1:3 in blocks of 4 treated units: block 0 has 16 controls, block 1 only 5 (2 without
    replacement): some of its treated units get 1 or 2 controls, and the warning counts them."""
    rng = np.random.default_rng(4)
    x = rng.standard_normal((40, 2))
    blocks = np.repeat([0, 1], 20)
    treated = np.zeros(40, bool)
    treated[:4] = True
    treated[20:24] = True
    keep = np.ones(40, bool)
    keep[24 + (2 if replace else 5):] = False
    x, blocks, treated = x[keep], blocks[keep], treated[keep]
    res = match(x, treated, exact=blocks, ratio=3, replace=replace, partial=not replace)
    per_unit = np.bincount(res.treated_rows, minlength=len(x))[treated]
    few = int(((per_unit > 0) & (per_unit < 3)).sum())
    assert few > 0
    assert (f"{few} treated units in 1 of the 2 exact-match blocks got fewer than 3 controls "
            "(but at least one): their block ran short of controls") in res.info["warnings"]
    assert match(x, treated, exact=blocks, replace=replace).info["warnings"] == []


def test_search_returns_nearest_available_and_a_true_bound() -> None:
    rng = np.random.default_rng(5)
    xc = rng.standard_normal((500, 5)).astype(np.float32)
    xq = rng.standard_normal((40, 5)).astype(np.float32)
    search = ControlSearch(xc, "exact")
    search.mark_used(np.arange(0, 500, 3))
    found = search.search(xq, 7)
    d2 = dense_d2(xq, xc)
    d2[:, ~search.available] = np.inf
    for i in range(len(xq)):
        ids = found.ids[i][found.ids[i] >= 0]
        assert search.available[ids].all()
        np.testing.assert_array_equal(ids[:7], np.argsort(d2[i], kind="stable")[:7])
        others = np.setdiff1d(np.flatnonzero(search.available), ids)
        assert d2[i, others].min() >= found.bound[i]


@pytest.mark.parametrize("index", ["ivf", "hnsw"])
def test_approximate_indexes_give_valid_matchings_close_to_exact(index: str) -> None:
    rng = np.random.default_rng(2)
    centers = rng.standard_normal((20, 16)) * 3
    xt = (centers[rng.integers(0, 20, 2000)] + rng.standard_normal((2000, 16))).astype(np.float32)
    xc = (centers[rng.integers(0, 20, 3000)] + rng.standard_normal((3000, 16))).astype(np.float32)
    import latentplay.match.knn as knn

    old = knn.EXACT_BELOW
    knn.EXACT_BELOW = 100  # keep the approximate index in use on this small case
    try:
        approx = greedy_match(xt, xc, index=index)
    finally:
        knn.EXACT_BELOW = old
    exact = greedy_match(xt, xc, index="exact")
    assert len(approx) == len(exact) == 2000
    assert len(np.unique(approx.control)) == 2000
    d = np.linalg.norm(xt[approx.treated] - xc[approx.control], axis=1)
    np.testing.assert_allclose(d, approx.distance, rtol=1e-4)
    assert approx.distance.mean() <= 1.05 * exact.distance.mean()


def test_ivf_rows_that_run_dry_probe_more_lists() -> None:
    rng = np.random.default_rng(4)
    xc = (rng.standard_normal((3000, 8)) + 5 * rng.integers(0, 4, (3000, 1))).astype(np.float32)
    xq = xc[:20] + 0.01
    import latentplay.match.knn as knn

    old = knn.EXACT_BELOW
    knn.EXACT_BELOW = 3
    try:
        search = ControlSearch(xc, "ivf", nprobe=1)
        search.mark_used(np.arange(0, 2900))  # the probed lists are (nearly) empty now
        found = search.search(xq, 12)
        search.mark_used(np.arange(2900, 2995))  # 5 left: every list must be probed
        last = search.search(xq, 12)
    finally:
        knn.EXACT_BELOW = old
    assert found.ids.shape == (20, 12)
    d2 = dense_d2(xq, xc)
    for i in range(20):
        ids = found.ids[i]
        assert (ids >= 2900).all() and len(np.unique(ids)) == 12
        np.testing.assert_allclose(found.d2[i], d2[i, ids], rtol=1e-5)
        assert (np.diff(found.d2[i]) >= 0).all() and found.bound[i] == found.d2[i, -1]
        assert sorted(last.ids[i]) == list(range(2995, 3000))
