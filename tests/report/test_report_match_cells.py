"""Cells of the match page built from ``summary.json`` alone: which balance rows were matched
on, and the kind of each effect interval for summaries written before it was recorded."""

from __future__ import annotations

import pytest

from latentplay.match import interval_kinds
from latentplay.report.matching import _balance, _effect


def _row(covariate: str, smd: float) -> dict[str, str]:
    return {"covariate": covariate, "type": "continuous", "smd_before": str(2 * smd),
            "smd_after": str(smd)}


def test_a_propensity_second_caliper_is_not_named_a_covariate() -> None:
    """``--second-caliper-on propensity`` is a model on the covariates, not a column: the
    caption listed it among the covariates matched on."""
    config = {"covariates": ["smile"], "second_caliper_on": ["propensity"],
              "propensity_covariates": ["yaw"]}
    section = _balance({"config": config}, [_row("smile", 0.05), _row("yaw", 0.02),
                                            _row("age", 0.3)])
    caption = section.blocks[0].caption
    assert "(smile, yaw)" in caption and "propensity" not in caption
    assert [r[2].text for r in section.blocks[1].rows] == ["yes", "yes", "no"]


@pytest.mark.parametrize(("intervals", "replace", "persons"), [
    ("bootstrap", False, False), ("abadie-imbens", True, False),
    ("normal over persons (sets sharing one)", False, True),
    ("abadie-imbens over persons (sets sharing one)", True, True)])
def test_an_older_summary_names_each_interval_by_its_estimate(intervals: str, replace: bool,
                                                              persons: bool) -> None:
    """A summary without ``effect.<estimate>.interval`` gave both rows its one
    ``effect.intervals``: the difference before matching read ``abadie-imbens`` with
    ``--replace``, though it is a bootstrap over units."""
    estimate = {"estimate": 1.0, "ci_low": 0.5, "ci_high": 1.5, "level": 0.95, "n_treated": 9}
    table = _effect({"outcome": "y", "intervals": intervals, "naive": estimate,
                     "matched": estimate}).blocks[0]
    assert [row[4].text for row in table.rows] == list(interval_kinds(replace, persons))


def test_the_method_line_writes_a_ratio_as_the_docs_do() -> None:
    """--ratio 3 read "3:1" in the report, "1:k" in the docs and the README."""
    from latentplay.report.matching import _overview
    from latentplay.report.page import Facts

    section = _overview({"config": {"method": "nearest", "ratio": 3}, "match": {"distance": "euclidean"}})
    facts = dict(next(b for b in section.blocks if isinstance(b, Facts)).items)
    assert "1:3" in facts["method"] and "3:1" not in facts["method"]
