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


def _under(table) -> list[dict[str, str]]:
    """Each row of a report ``Table`` as its cells' texts under their headers."""
    return [dict(zip(table.columns, (c.text for c in row), strict=True)) for row in table.rows]


def test_every_count_and_balance_value_stands_under_its_own_label() -> None:
    """The counts table names each of summary.json's counts and distances (each a different
    number); the balance lines and balance.csv's group means and variance ratios stand under
    their headers, before and after."""
    from latentplay.report.matching import _overview
    from latentplay.report.page import Table

    counts = {"treated": 11, "controls": 12, "pairs": 13, "matched_treated": 14,
              "unmatched_treated": 15, "caliper_drops": 16, "matched_controls": 17,
              "controls_ess": 18.5}
    summary = {"counts": counts, "distance": {"mean": 0.1, "median": 0.2, "max": 0.3},
               "config": {"distance": "mahalanobis"}}
    table = next(b for b in _overview(summary).blocks if isinstance(b, Table))
    shown = {r["count"]: r["value"] for r in _under(table)}
    assert [shown[k] for k in ("treated units", "control units", "pairs", "matched treated",
                               "unmatched treated", "dropped by the caliper",
                               "distinct matched controls", "effective sample size of the controls")
            ] == ["11", "12", "13", "14", "15", "16", "17", "18.5"]
    assert [v for k, v in shown.items() if k.startswith("pair distance")] == ["0.1", "0.2", "0.3"]
    assert [k.rsplit(": ", 1)[1] for k in shown if k.startswith("pair distance")] == [
        "mean", "median", "max"]
    row = {"covariate": "age", "type": "continuous", "mean_treated_before": "1",
           "mean_control_before": "2", "smd_before": "0.3", "var_ratio_before": "4",
           "mean_treated_after": "5", "mean_control_after": "6", "smd_after": "0.07",
           "var_ratio_after": "8"}
    stats = {"before": {"max_abs_smd": 0.3, "mean_abs_smd": 0.25, "n_over_0.1": 1},
             "after": {"max_abs_smd": 0.07, "mean_abs_smd": 0.05, "n_over_0.1": 0}}
    lines, values = _balance({"balance": stats}, [row]).blocks
    assert [r[0] for r in (list(d.values()) for d in _under(lines))] == ["before", "after"]
    assert _under(lines)[1]["max |SMD|"] == "0.07"
    assert [(r["mean |SMD|"], r["covariates with |SMD| > 0.1"]) for r in _under(lines)] == [
        ("0.25", "1"), ("0.05", "0")]
    assert _under(values) == [{"covariate": "age", "type": "continuous", "treated before": "1",
                               "control before": "2", "SMD before": "0.3", "VR before": "4",
                               "treated after": "5", "control after": "6", "SMD after": "0.07",
                               "VR after": "8"}]


def test_the_method_and_caliper_facts_are_the_runs() -> None:
    """The method line says a run with replacement is one; the caliper reads its value in its
    units, then the distance it came to."""
    from latentplay.report.matching import _overview
    from latentplay.report.page import Facts

    summary = {"config": {"method": "propensity", "ratio": 2, "replace": True},
               "match": {"distance": "propensity"},
               "caliper": {"value": 0.2, "units": "sd", "distance": 0.0734}}
    facts = dict(next(b for b in _overview(summary).blocks if isinstance(b, Facts)).items)
    assert facts["method"] == "propensity (propensity distance, 1:2, with replacement)"
    assert facts["caliper"] == "0.2 sd = 0.0734 in distance units"
    summary["config"]["replace"] = False
    facts = dict(next(b for b in _overview(summary).blocks if isinstance(b, Facts)).items)
    assert facts["method"] == "propensity (propensity distance, 1:2)"


def test_the_balance_caption_counts_the_runs_covariates_not_the_files_rows() -> None:
    """balance.csv cut to 2 rows of a run that balanced 5 columns, 3 of them matched on: the
    caption gives the run's counts (summary.json), 3 matched on and 2 only checked."""
    stats = {"covariates": 5, "before": {"max_abs_smd": 0.4}, "after": {"max_abs_smd": 0.2},
             "matched_on": {"covariates": 3, "before": {"max_abs_smd": 0.3},
                            "after": {"max_abs_smd": 0.05}}}
    rows = [{**_row("z[0]", 0.05), "matched_on": "1"}, {**_row("age", 0.2), "matched_on": "0"}]
    lines = _balance({"balance": stats, "config": {"covariates": ["z"]}}, rows).blocks[1]
    assert lines.caption.startswith("5 covariates: 3 of the covariates matched on (z), 2 of "
                                    "attributes not matched on")


def test_smds_are_flagged_and_counted_by_their_size_above_the_bound() -> None:
    """|SMD| above 0.1 is flagged, a negative one too and one of 0.1 not; for a summary
    without the run's own lines of the covariates matched on, those lines come from
    balance.csv's rows: after matching |-0.3|, 0.1 and 0.05 give max 0.3, mean 0.15 and one
    above 0.1."""
    rows = [{**_row(name, smd), "matched_on": on}
            for name, smd, on in (("z[0]", -0.3, "1"), ("z[1]", 0.1, "1"), ("z[2]", 0.05, "1"),
                                  ("age", 0.5, "0"))]
    lines, values = _balance({"config": {"covariates": ["z"]}}, rows).blocks
    flagged = {row[0].text: row[9].flag for row in values.rows}  # SMD after
    assert flagged == {"z[0]": True, "z[1]": False, "z[2]": False, "age": True}
    after = next(r for r in _under(lines) if r[""] == "after, matched on")
    assert (after["max |SMD|"], after["mean |SMD|"], after["covariates with |SMD| > 0.1"]) == (
        "0.3", "0.15", "1")


def test_effect_and_verification_values_stand_under_their_own_headers() -> None:
    """Each effect row's persons and design effect, and each verification row's count and
    distances (the matched pairs' and the random pairs' own)."""
    from latentplay.report.matching import _verification

    estimate = {"estimate": 1.0, "ci_low": 0.5, "ci_high": 1.5, "level": 0.95, "n_treated": 9,
                "persons": 40, "design_effect": 2.5}
    table = _effect({"outcome": "y", "intervals": "Student's t over persons (sets sharing one)",
                     "naive": {**estimate, "persons": 50, "design_effect": 1.5},
                     "matched": estimate}).blocks[0]
    assert [(r["persons"], r["design effect"], r["treated units"], r["level"])
            for r in _under(table)] == [("50", "1.5", "9", "95%"), ("40", "2.5", "9", "95%")]
    ver = {"descriptor": "dlib", "matched": {"pairs": 4, "median": 0.45, "mean": 0.5},
           "random": {"pairs": 4, "median": 0.75, "mean": 0.8}}
    table = _verification(ver).blocks[1]
    assert _under(table) == [{"pairs": "matched", "count": "4", "median": "0.45", "mean": "0.5"},
                             {"pairs": "random", "count": "4", "median": "0.75", "mean": "0.8"}]


def test_a_balance_file_without_matched_on_counts_second_caliper_columns_as_matched_on() -> None:
    """A balance.csv written before its matched_on column: the rows of --second-caliper-on's
    columns (dlib) are matched on, as the covariates' are; a file holding more rows than the
    run balanced is warned about, as one holding fewer is."""
    from latentplay.report.page import Text

    rows = [_row("z[0]", 0.05), _row("dlib[0]", 0.02), _row("age", 0.3)]
    config = {"covariates": ["z"], "second_caliper_on": ["dlib"]}
    section = _balance({"config": config, "balance": {"covariates": 2}}, rows)
    warning, _, values = section.blocks
    assert [r[2].text for r in values.rows] == ["yes", "yes", "no"]
    assert isinstance(warning, Text) and "holds 3 row(s) but the run balanced 2" in warning.text
