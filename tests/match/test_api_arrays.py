"""The matching functions on arrays refuse arrays of mismatched lengths in one sentence (a
short ``names`` silently dropped covariates), and a ``MatchResult`` prints in one short line."""

from __future__ import annotations

import numpy as np
import pytest

from latentplay.errors import UserError
from latentplay.match import (
    balance_table,
    match,
    matched_difference,
    matched_difference_with_replacement,
    matching_weights,
    naive_difference,
)


@pytest.fixture(scope="module")
def units() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    z = rng.normal(size=(300, 4))
    treated = rng.random(300) < 1 / (1 + np.exp(-z[:, 0]))
    return z, treated


def test_balance_table_refuses_names_of_another_length(units: tuple) -> None:
    z, treated = units
    r = match(z, treated, method="nearest", partial=True)
    w = matching_weights(len(z), r.treated_rows, r.control_rows)
    assert [row["covariate"] for row in balance_table(z, list("abcd"), treated, w)] == list("abcd")
    for names in (["a", "b"], list("abcdef")):
        with pytest.raises(UserError, match=f"x has 4 covariate columns but names has {len(names)} "
                                            "names; give one name per column"):
            balance_table(z, names, treated, w)
    with pytest.raises(UserError, match=r"treated must be \(300,\), one group per row of x, got "
                                        r"shape \(299,\)"):
        balance_table(z, list("abcd"), treated[:-1], w)
    with pytest.raises(UserError, match=r"weights must be \(300,\), one per row of x, got shape \(10,\)"):
        balance_table(z, list("abcd"), treated, w[:10])
    with pytest.raises(UserError, match=r"x must be an \(n, p\) array of covariates"):
        balance_table(z[:, 0], ["a"], treated, w)


def test_the_effects_refuse_an_outcome_that_is_not_one_per_unit(units: tuple) -> None:
    """A 2-D outcome failed in NumPy with "object too deep for desired array"."""
    z, treated = units
    r = match(z, treated, method="nearest", partial=True)
    y2 = np.stack([z[:, 0], z[:, 1]], axis=1)
    shape = r"y must hold one outcome per unit, shape \(n,\), got shape \(300, 2\)"
    with pytest.raises(UserError, match=shape):
        matched_difference(y2, r.treated_rows, r.control_rows, n_boot=10)
    with pytest.raises(UserError, match=shape):
        naive_difference(y2, treated, n_boot=10)
    with pytest.raises(UserError, match=shape):
        matched_difference_with_replacement(y2, r.points, treated, r.treated_rows, r.control_rows)
    with pytest.raises(UserError, match="y holds 300 units but treated holds 299"):
        naive_difference(z[:, 0], treated[:-1], n_boot=10)
    with pytest.raises(UserError, match="control_rows holds units from .* beyond the 100 units of y"):
        matched_difference(z[:100, 0], r.treated_rows[r.treated_rows < 100],
                           r.control_rows[r.treated_rows < 100] + 100, n_boot=10)
    effect = matched_difference(z[:, 0], r.treated_rows, r.control_rows, n_boot=10)
    assert effect["n_treated"] == len(np.unique(r.treated_rows))


def test_a_match_result_prints_in_one_short_line(units: tuple) -> None:
    """Its repr printed every array (20-27 kB in a notebook)."""
    z, treated = units
    z = np.repeat(z, 20, axis=0)
    treated = np.repeat(treated, 20)
    r = match(z, treated, method="propensity", caliper=0.2)
    text = repr(r)
    assert len(text) < 600 and "\n" not in text
    assert text.startswith(f"MatchResult(pairs={len(r)}, treated={len(np.unique(r.treated_rows))}, ")
    assert "method='propensity'" in text and f"unmatched_treated={len(r.unmatched_treated)}" in text
    assert f"treated_rows=<int64 ({len(r)},)>" in text and "points=<float32 (6000, 1)>" in text
    assert "propensity=<Propensity score, logit float64 (6000,)>" in text
    assert "caliper=" in text and "mean_distance=" in text
    replaced = repr(match(z[:300], treated[:300], method="nearest", replace=True, ratio=2))
    assert "replace=True" in replaced and "caliper=None" in replaced
