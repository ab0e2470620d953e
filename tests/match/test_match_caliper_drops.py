"""``caliper_drops``: the treated units the calipers left unmatched (their block still had
controls available, none of them allowed within the caliper), counted from that definition."""

from __future__ import annotations

import numpy as np
import pytest
from match_reference import dense_d2, second_allowed

from latentplay.match import match


def _one_d(values: list[float]) -> np.ndarray:
    return np.asarray(values, dtype=np.float64)[:, None]


def test_a_unit_beyond_the_caliper_counts_with_ratio_two_and_partial_matching() -> None:
    """3 treated, 5 controls, 1:2: units 0 and 1 take two controls each within the caliper;
    unit 2's nearest control is 20 away, beyond the caliper of 1."""
    x = _one_d([0.0, 10.0, 50.0, 0.1, 0.2, 10.1, 10.2, 30.0])
    treated = np.arange(8) < 3
    res = match(x, treated, ratio=2, caliper=1.0, caliper_units="abs", scale=False,
                partial=True, index="exact")
    assert res.unmatched_treated.tolist() == [2]
    assert res.caliper_drops == 1


def test_a_unit_counts_when_only_controls_beyond_the_caliper_are_left() -> None:
    """Both treated units want the one control within the caliper; the other one is left with
    controls 5 away: the caliper dropped it. With fewer controls than treated units, the one
    left over for want of controls is not counted."""
    treated = np.arange(5) < 2
    res = match(_one_d([0.0, 0.05, 0.1, 5.0, 6.0]), treated, caliper=1.0, caliper_units="abs",
                scale=False, index="exact")
    assert res.unmatched_treated.tolist() == [0]
    assert res.caliper_drops == 1
    short = match(_one_d([0.0, 0.05, 0.1, 0.2, 0.3]), np.arange(5) < 3, caliper=1.0,
                  caliper_units="abs", scale=False, index="exact", partial=True)
    assert len(short.unmatched_treated) == 1 and short.caliper_drops == 0


@pytest.mark.parametrize(("replace", "ratio"), [(False, 1), (False, 2), (True, 2)])
def test_caliper_drops_follow_their_definition(replace: bool, ratio: int) -> None:
    """Random blocks (one short of controls), both calipers, k = 2 (so the count needs
    searches beyond the first k candidates)."""
    rng = np.random.default_rng(5)
    n = 240
    x = rng.standard_normal((n, 2))
    treated = rng.random(n) < 0.4
    blocks = rng.integers(0, 3, n)
    blocks[np.flatnonzero((blocks == 2) & ~treated)[6:]] = 1  # block 2: few controls
    face = rng.standard_normal((n, 2))
    res = match(x, treated, ratio=ratio, replace=replace, caliper=0.8, caliper_units="abs",
                scale=False, exact=blocks, index="exact", partial=not replace, k=2,
                second_on=face, second_caliper=0.6)
    used = set() if replace else set(res.control_rows.tolist())
    drops = no_allowed = 0
    for u in res.unmatched_treated:
        block = np.flatnonzero((blocks == blocks[u]) & ~treated)
        left = np.array([c for c in block if c not in used], np.int64)
        near = dense_d2(x[[u]], x[left])[0] <= 0.8**2
        allowed = second_allowed(face[[u]], face[left], 0.6)[0]
        if len(left) and not (near & allowed).any():
            drops += 1
            no_allowed += int(not second_allowed(face[[u]], face[block], 0.6).any())
    assert res.caliper_drops == drops > 0
    assert res.second_caliper_drops == no_allowed > 0
