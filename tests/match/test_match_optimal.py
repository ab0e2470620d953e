"""Optimal matching: minimum total distance, dense and sparse solvers agree."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from match_reference import dense_d2
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import maximum_bipartite_matching

from latentplay.errors import UserError
from latentplay.match import greedy_match, optimal_match


def _total(xt: np.ndarray, xc: np.ndarray, pairs) -> float:
    return float(np.sqrt(dense_d2(xt, xc)[pairs.treated, pairs.control]).sum())


def test_dense_optimal_is_the_best_assignment_by_enumeration() -> None:
    rng = np.random.default_rng(0)
    xt = rng.standard_normal((4, 2)).astype(np.float32)
    xc = rng.standard_normal((6, 2)).astype(np.float32)
    dist = np.sqrt(dense_d2(xt, xc))
    best = min(sum(dist[i, c] for i, c in enumerate(p)) for p in itertools.permutations(range(6), 4))
    got = optimal_match(xt, xc)
    assert len(got) == 4
    assert _total(xt, xc, got) == pytest.approx(best)
    assert _total(xt, xc, got) <= _total(xt, xc, greedy_match(xt, xc)) + 1e-9


@pytest.mark.parametrize("ratio", [1, 2])
def test_sparse_solver_matches_dense_solver(ratio: int) -> None:
    rng = np.random.default_rng(1)
    xt = rng.standard_normal((60, 3)).astype(np.float32) + 0.4
    xc = rng.standard_normal((200, 3)).astype(np.float32)
    dense = optimal_match(xt, xc, ratio=ratio)
    sparse = optimal_match(xt, xc, ratio=ratio, dense_limit=0)
    assert dense.stats["solver"] == "dense" and sparse.stats["solver"] == "sparse"
    assert len(dense) == len(sparse) == 60 * ratio
    assert np.bincount(sparse.treated, minlength=60).tolist() == [ratio] * 60
    assert len(np.unique(sparse.control)) == len(sparse)
    # the dense solver is exact; the sparse one is optimal over each unit's nearest controls
    assert _total(xt, xc, dense) - 1e-9 <= _total(xt, xc, sparse) <= 1.002 * _total(xt, xc, dense)
    assert _total(xt, xc, sparse) < _total(xt, xc, greedy_match(xt, xc, ratio=ratio))


def test_caliper_forbids_far_pairs_and_maximises_matches() -> None:
    rng = np.random.default_rng(2)
    xt = rng.standard_normal((30, 2)).astype(np.float32) + 1.0
    xc = rng.standard_normal((60, 2)).astype(np.float32)
    caliper2 = 0.3
    for limit in (10**9, 0):
        got = optimal_match(xt, xc, caliper2=caliper2, dense_limit=limit)
        assert (got.distance**2 <= caliper2 + 1e-9).all()
        assert 0 < len(got) < 30
    dense = optimal_match(xt, xc, caliper2=caliper2)
    sparse = optimal_match(xt, xc, caliper2=caliper2, dense_limit=0)
    assert len(dense) == len(sparse)


@pytest.mark.parametrize("limit", [10**9, 0])
def test_a_pair_exactly_at_the_caliper_is_allowed(limit: int) -> None:
    # (0, 0)-(1, 1) is sqrt(2) apart: squared 2.0 exactly, but sqrt(2) ** 2 rounds above 2.0.
    # Both solvers, like the greedy one, must keep a pair whose squared distance equals caliper2.
    xt = np.array([[0.0, 0.0]], dtype=np.float32)
    xc = np.array([[1.0, 1.0], [3.0, 3.0]], dtype=np.float32)
    got = optimal_match(xt, xc, caliper2=2.0, dense_limit=limit)
    assert len(got) == len(greedy_match(xt, xc, caliper2=2.0)) == 1
    assert got.control.tolist() == [0]


@pytest.mark.parametrize("limit", [10**9, 0])
def test_with_a_caliper_and_ratio_two_the_most_pairs_then_the_least_distance(limit: int) -> None:
    # Unit 0 takes controls 0 and 1; unit 1 could have had control 0 or 1 but not both: 2 pairs
    # either way, and giving both to unit 0 is cheaper (what the module docstring states).
    xt = np.array([[0.0], [1.0]], dtype=np.float32)
    xc = np.array([[0.1], [0.2], [5.0], [6.0]], dtype=np.float32)
    got = optimal_match(xt, xc, ratio=2, caliper2=1.0, dense_limit=limit)
    d2 = dense_d2(xt, xc)
    best = min(
        (-sum(d2[t, c] <= 1.0 for t, c in zip((0, 0, 1, 1), p, strict=True)),
         sum(np.sqrt(d2[t, c]) for t, c in zip((0, 0, 1, 1), p, strict=True) if d2[t, c] <= 1.0))
        for p in itertools.permutations(range(4), 4)
    )
    assert (-len(got), got.distance.sum()) == (best[0], pytest.approx(best[1]))
    assert sorted(got.treated.tolist()) == [0, 0]


def test_needs_enough_controls() -> None:
    x = np.zeros((5, 2), np.float32)
    with pytest.raises(UserError, match="ratio x treated"):
        optimal_match(x, x[:3])


def test_sparse_solver_keeps_the_treated_units_of_the_cheapest_maximum_matching() -> None:
    """Two treated units want the one control within the caliper: the one nearer to it gets it."""
    xt = np.array([[0.5], [0.0]], np.float32)
    xc = np.array([[0.05], [100.0], [101.0]], np.float32)
    for limit in (10**9, 0):
        got = optimal_match(xt, xc, caliper2=1.0, dense_limit=limit)
        assert got.treated.tolist() == [1] and got.control.tolist() == [0]
        assert got.distance == pytest.approx([0.05])


@pytest.mark.parametrize("ratio", [1, 2])
def test_sparse_and_dense_solvers_agree_under_a_caliper(ratio: int) -> None:
    """Small random cases (every pair within the caliper is in the sparse graph): both solvers
    find a maximum matching of least total distance."""
    rng = np.random.default_rng(4)
    for _ in range(60):
        n_t = int(rng.integers(2, 9))
        xt = rng.standard_normal((n_t, 2)).astype(np.float32) + 0.5
        xc = rng.standard_normal((int(rng.integers(ratio * n_t, 25)), 2)).astype(np.float32)
        caliper2 = float(rng.uniform(0.05, 1.0))
        dense = optimal_match(xt, xc, ratio=ratio, caliper2=caliper2)
        sparse = optimal_match(xt, xc, ratio=ratio, caliper2=caliper2, dense_limit=0)
        assert sparse.stats["solver"] == "sparse"
        allowed = csr_matrix(np.repeat(dense_d2(xt, xc) <= caliper2, ratio, axis=0))
        most = int((maximum_bipartite_matching(allowed, perm_type="column") >= 0).sum())  # Hopcroft-Karp
        assert len(sparse) == len(dense) == most
        assert (sparse.distance**2 <= caliper2 + 1e-6).all()
        assert len(np.unique(sparse.control)) == len(sparse)
        assert np.bincount(sparse.treated).max(initial=0) <= ratio
        assert _total(xt, xc, sparse) == pytest.approx(_total(xt, xc, dense), abs=1e-6)


def test_too_few_controls_names_the_partial_argument_for_python_and_the_cli() -> None:
    """``match()`` from Python said "pass --partial", a flag it has no argument of: both of its
    refusals of too few controls name ``partial=True`` and the CLI's ``--partial``."""
    from latentplay.match import match

    rng = np.random.default_rng(0)
    x = rng.standard_normal((12, 2))
    treated = np.arange(12) < 5
    with pytest.raises(UserError, match=r"partial=True \(--partial\)"):
        match(x, treated, ratio=2, index="exact")
    blocks = np.array([0] * 4 + [1] + [0] * 2 + [1] * 5)  # block 0: 4 treated, 2 controls
    with pytest.raises(UserError, match=r"partial=True \(--partial\)"):
        match(x, treated, method="optimal", exact=blocks, index="exact")
    assert len(match(x, treated, method="optimal", exact=blocks, index="exact", partial=True)) == 3
