"""`audit compare`'s simulated p-value tests its drawn comparisons in chunks: each chunk's
statistics are those of its comparisons tested one at a time."""

from __future__ import annotations

import numpy as np
import pytest

from latentplay.audit.goodness_of_fit import (
    JointCounts,
    _statistics,
    _wald,
    counts_draw,
    filled_confusion,
    measured_confusion,
)
from latentplay.clustered import ShareSpread, cluster_spread, spread_covariances


@pytest.mark.parametrize("joint", [False, True])
def test_a_chunk_of_comparisons_scores_as_each_one_alone(joint: bool) -> None:
    rng = np.random.default_rng(4)
    if joint:
        held = JointCounts(rng.integers(0, 9, (3, 3)) + 6 * np.eye(3, dtype=int),
                           np.array([[9, 1], [0, 0]]))           # the second's class 1 unmeasured
    else:
        held = rng.integers(0, 9, (4, 4)) + 6 * np.eye(4, dtype=int)
        held[2] = 0                                               # a class never measured
    k = 6 if joint else 4
    persons = rng.integers(0, 3, (25, k))
    taken = rng.multinomial(25, np.full(25, 1 / 25), size=40)    # (40, 25)
    t = taken @ persons
    g = rng.multinomial(60, np.full(k, 1 / k), size=40)
    g[0] = 0                                                      # an empty side: no test
    g[1] = np.eye(k, dtype=int)[0] * 60                           # one class alone
    counts = counts_draw(held, rng, 40)
    c = filled_confusion(measured_confusion(counts))
    spreads = spread_covariances(persons, taken)
    statistics, dofs = _statistics(t.astype(float), g.astype(float), c, counts, spreads)
    for d in range(40):
        one = JointCounts(counts.first[d], counts.second[d]) if joint else counts[d]
        spread = cluster_spread(persons, taken[d])
        assert np.allclose(spread.covariance, spreads[d], rtol=1e-12, atol=0)
        alone = _wald(t[d], g[d], c[d], one, ShareSpread(spreads[d], 25, 1.0))
        assert dofs[d] == alone[1]
        assert statistics[d] == pytest.approx(alone[0], rel=1e-9, nan_ok=True)
    assert np.isnan(statistics[0]) and dofs[0] == 0
    assert np.isfinite(statistics[2:]).all() and (dofs[2:] > 0).all()
