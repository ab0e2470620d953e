"""The confounded-data experiment: matching removes a known bias (numbers in docs/matching.md)."""

from __future__ import annotations

import numpy as np

from latentplay.match import balance_table, match, matched_difference, matching_weights
from latentplay.match.effect import naive_difference
from latentplay.match.synthetic import confounded


def _balance(data, result) -> np.ndarray:
    w = matching_weights(len(data.y), result.treated_rows, result.control_rows)
    rows = balance_table(data.x, [f"z{j}" for j in range(data.x.shape[1])], data.treated, w)
    return np.abs([r["smd_after"] for r in rows]), np.abs([r["smd_before"] for r in rows])


def test_propensity_matching_removes_bias_nearest_in_full_space_does_not() -> None:
    data = confounded(12_000, relevant=5, irrelevant=95, effect=1.0, seed=0)
    naive = naive_difference(data.y, data.treated, n_boot=300)
    assert naive["ci_low"] > 1.5  # strongly biased upwards

    ps = match(data.x, data.treated, method="propensity", caliper=0.2)
    after, before = _balance(data, ps)
    assert before.max() > 0.3
    assert after.max() < 0.1  # every SMD under 0.1
    est = matched_difference(data.y, ps.treated_rows, ps.control_rows, n_boot=500)
    assert est["ci_low"] < 1.0 < est["ci_high"]
    assert ps.caliper_drops > 0

    nn = match(data.x, data.treated, method="nearest")
    nn_after, _ = _balance(data, nn)
    assert nn_after[: data.relevant].max() > 0.2  # confounders barely balanced
    nn_est = matched_difference(data.y, nn.treated_rows, nn.control_rows, n_boot=300)
    assert nn_est["ci_low"] > 1.3
