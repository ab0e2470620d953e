"""Messages of ``latentplay.match.match``, a Python API the CLI also runs: each bad argument is
named as a Python caller passes it and as the CLI flag that sets it."""

from __future__ import annotations

import numpy as np
import pytest

from latentplay.errors import UserError
from latentplay.match import match


@pytest.mark.parametrize(
    ("kwargs", "python", "flag"),
    [
        ({"ratio": 0}, "ratio", "--ratio"),
        ({"propensity_c": 0.0}, "propensity_c", "--propensity-c"),
        # inf was fitted as no regularisation at all
        ({"propensity_c": float("inf")}, "must be a finite number above 0, got inf", "--propensity-c"),
        ({"caliper_units": "px"}, "caliper_units", "--caliper-units"),
        ({"caliper": -1.0}, "caliper (", "--caliper"),
        ({"distance": "propensity"}, "distance=", "--distance"),
        ({"method": "optimal", "replace": True}, "replace=True", "--replace"),
        # --order random did nothing with --replace or --method optimal
        ({"order": "random", "replace": True}, "replace=True", "--order"),
        ({"order": "random", "method": "optimal"}, 'method="optimal"', "--order"),
        ({"second_caliper": 0.2}, "second_on", "--second-caliper-on"),
        ({"second_on": "propensity", "second_caliper": -1.0}, "second_caliper", "--second-caliper"),
        ({"second_on": "propensity", "second_caliper": 0.2, "method": "optimal"},
         'method="optimal"', "--method optimal"),
        ({"second_on": "logit", "second_caliper": 0.2}, "second_on=", "--second-caliper-on"),
        ({"second_on": "propensity", "second_caliper": 0.2, "method": "propensity"},
         "is caliper (", "--caliper"),
        ({"second_on": np.zeros((40, 2)), "second_caliper": 0.2, "propensity_x": np.zeros((40, 2))},
         'second_on="propensity"', "--propensity-covariates"),
    ],
)
def test_a_bad_argument_is_named_for_python_and_the_cli(kwargs: dict, python: str, flag: str) -> None:
    x = np.random.default_rng(0).standard_normal((40, 3))
    with pytest.raises(UserError) as err:
        match(x, np.arange(40) < 15, **kwargs)
    assert python in str(err.value) and flag in str(err.value), str(err.value)


def test_propensity_caliper_is_in_sample_sds_of_the_logit() -> None:
    """MatchIt's ``std.caliper`` multiplies by R's ``sd()`` (``ddof=1``), not the population SD."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((12, 2))
    treated = np.arange(12) < 5
    res = match(x, treated, method="propensity", caliper=0.2, index="exact", partial=True)
    assert res.caliper == pytest.approx(0.2 * np.std(res.propensity.logit, ddof=1), rel=1e-12)


@pytest.mark.parametrize(
    ("treated", "says"),
    [
        (np.arange(40) % 10, "values 0..9 (class codes? compare them with one class: treated=codes == k)"),
        (np.full(40, 0.3), "float64 values"),
        (np.where(np.arange(40) < 15, "woman", "man"), "strings such as 'woman'"),
    ],
)
def test_treated_that_is_not_booleans_or_0_1_is_refused(treated: np.ndarray, says: str) -> None:
    """Class codes, floats and strings were cast to bool: codes 1..9 all treated, floats in (0, 1)
    all treated, strings 'found 40 treated and 0 controls'."""
    x = np.random.default_rng(0).standard_normal((40, 3))
    with pytest.raises(UserError, match="treated must be booleans or 0/1") as err:
        match(x, treated)
    assert says in str(err.value), str(err.value)


def test_treated_as_0_1_integers_or_a_list_of_bools_matches_as_booleans() -> None:
    x = np.random.default_rng(0).standard_normal((40, 3))
    mask = np.arange(40) < 15
    expected = match(x, mask)
    for given in (mask.astype(np.int64), mask.tolist()):
        np.testing.assert_array_equal(match(x, given).control_rows, expected.control_rows)


@pytest.mark.parametrize("method", ["nearest", "propensity", "optimal"])
def test_covariates_alike_for_every_unit_are_warned_of(method: str) -> None:
    """Every unit has the same covariates: each pair is at distance 0 and which control a
    treated unit gets is arbitrary, so the result says so; covariates that differ do not."""
    treated = np.arange(40) < 10
    same = match(np.ones((40, 3)), treated, method=method)
    assert (same.distance == 0).all()
    assert any(w.startswith("every unit has the same covariates") for w in same.info["warnings"])
    differ = match(np.arange(40.0)[:, None], treated, method=method)
    assert not any("same covariates" in w for w in differ.info["warnings"])
