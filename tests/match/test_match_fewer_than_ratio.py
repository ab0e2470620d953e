"""With ``ratio`` k > 1, treated units given at least one control but fewer than k get a warning
and a count, whatever caused it: the calipers (with or without replacement, no ``--exact``
needed) or a block that ran short of controls. Only the ``--exact`` blocks' shortfall was
warned about."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from latentplay.match import match
from latentplay.match.pipeline import MatchConfig, run


def _points(values: list[float]) -> np.ndarray:
    """``(n, 2)`` points on a line (two columns: the faiss index, not the 1-d sorted array)."""
    return np.stack([np.asarray(values, np.float64), np.zeros(len(values))], axis=1)


def _fewer(res, ratio: int) -> int:
    """Treated units the pairs give at least one but fewer than ``ratio`` controls."""
    per_unit = np.unique(res.treated_rows, return_counts=True)[1]
    return int((per_unit < ratio).sum())


# 2 treated (0, 10), 4 controls: two within 1 of unit 0, one within 1 of unit 10, one far away
X = _points([0.0, 10.0, 0.1, 0.2, 10.1, 13.0])
TREATED = np.arange(6) < 2
ABS = {"caliper_units": "abs", "scale": False, "index": "exact"}


@pytest.mark.parametrize("replace", [False, True])
def test_a_caliper_that_allows_fewer_than_k_controls_warns(replace: bool) -> None:
    res = match(X, TREATED, ratio=2, caliper=1.0, replace=replace, **ABS)
    assert _fewer(res, 2) == 1
    assert res.info["warnings"] == ["1 treated units got fewer than 2 controls (but at least "
                                    "one): the caliper allowed no other control left"]
    assert res.info["fewer_than_ratio"] == {"treated": 1, "controls_ran_short": 0, "calipers": 1}
    assert match(X, TREATED, ratio=2, caliper=5.0, replace=replace, **ABS).info["warnings"] == []


@pytest.mark.parametrize("replace", [False, True])
def test_a_second_caliper_is_named(replace: bool) -> None:
    res = match(X, TREATED, ratio=2, second_on=X[:, :1], second_caliper=1.0, replace=replace,
                scale=False, index="exact")
    assert res.info["warnings"] == ["1 treated units got fewer than 2 controls (but at least "
                                    "one): the second caliper allowed no other control left"]
    both = match(X, TREATED, ratio=2, caliper=1.0, second_on=X[:, :1], second_caliper=1.0,
                 replace=replace, **ABS)
    assert both.info["warnings"][0].endswith("the calipers allowed no other control left")


def test_controls_that_ran_short_without_blocks_warn_too() -> None:
    """3 controls for 2 treated units x 2 (--partial): one unit gets a single control."""
    res = match(X[:5], TREATED[:5], ratio=2, partial=True, scale=False, index="exact")
    assert _fewer(res, 2) == 1
    assert res.info["warnings"] == ["1 treated units got fewer than 2 controls (but at least "
                                    "one): the controls ran short (every one was used)"]


def test_blocks_name_both_causes() -> None:
    """Block 0 as above (the caliper leaves unit 10 one control); block 1: 2 treated units and
    3 controls within the caliper, so one unit gets a single control (the block ran short)."""
    x = np.concatenate([X, _points([0.0, 0.5, 0.1, 0.2, 0.3])])
    treated = np.r_[TREATED, [True, True, False, False, False]]
    blocks = np.repeat([0, 1], [6, 5])
    res = match(x, treated, ratio=2, caliper=1.0, exact=blocks, partial=True, **ABS)
    assert _fewer(res, 2) == 2
    assert res.info["warnings"] == ["2 treated units in 2 of the 2 exact-match blocks got fewer "
                                    "than 2 controls (but at least one): 1 because their block "
                                    "ran short of controls, 1 because the caliper allowed no "
                                    "other control left"]
    assert res.info["fewer_than_ratio"] == {"treated": 2, "controls_ran_short": 1, "calipers": 1}


def test_the_run_counts_and_warns(sim: Path, tmp_path: Path, undrawn) -> None:
    """The reviewer's run: propensity 1:2 with a caliper of 0.2 SD left hundreds of treated
    units one control each, with warnings []."""
    undrawn("love_plot", "attribute_means", "propensity_overlap")  # figures not looked at
    cfg = MatchConfig(treatment="group", covariates=["z"], method="propensity", ratio=2,
                      caliper=0.2, partial=True)
    run(sim, cfg, tmp_path / "m")
    summary = json.loads((tmp_path / "m" / "summary.json").read_text())
    pairs = np.loadtxt(tmp_path / "m" / "pairs.csv", delimiter=",", skiprows=1, usecols=0)
    per_unit = np.unique(pairs, return_counts=True)[1]
    fewer = int((per_unit < 2).sum())
    assert fewer > 0 and summary["counts"]["fewer_than_ratio"] == fewer
    assert f"{fewer} treated units got fewer than 2 controls (but at least one): the caliper " \
           "allowed no other control left" in summary["match"]["warnings"]
