"""The match page and a match run whose files are partly gone or were edited: a missing
balance.csv is named as such (it was refused as an audit summary without ``attributes``), a
balance.csv shorter than the run's summary is flagged, and the lines of the rows matched on are
the run's own, like the lines over all rows above them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from latentplay.errors import UserError
from latentplay.report import build_report, detect
from latentplay.report.matching import _balance
from latentplay.report.page import Text

SUMMARY = {
    "store": "faces",
    "treatment": {"attribute": "group", "treated": "treated", "control": "control"},
    "config": {"treatment": "group", "covariates": ["z"], "method": "propensity"},
    "counts": {"treated": 10, "controls": 20, "pairs": 8},
    "balance": {
        "covariates": 3,
        "before": {"max_abs_smd": 0.43477494548906453, "mean_abs_smd": 0.3, "n_over_0.1": 3},
        "after": {"max_abs_smd": 0.05144877515620989, "mean_abs_smd": 0.02, "n_over_0.1": 0},
        "matched_on": {
            "covariates": 2,
            "before": {"max_abs_smd": 0.43477494548906453, "mean_abs_smd": 0.25, "n_over_0.1": 2},
            "after": {"max_abs_smd": 0.05144877515620989, "mean_abs_smd": 0.01, "n_over_0.1": 0},
        },
    },
}


def _row(covariate: str, before: str, after: str) -> dict[str, str]:
    return {"covariate": covariate, "type": "continuous", "smd_before": before,
            "smd_after": after}


# balance.csv keeps six significant digits: 0.434775 rounds up what summary.json holds
ROWS = [_row("z[0]", "0.415408", "0.0514488"), _row("z[1]", "0.434775", "-0.0382897"),
        _row("x0", "0.415408", "0.0514488")]


def test_a_match_run_without_balance_csv_is_named_a_match_run(tmp_path: Path) -> None:
    """With balance.csv deleted the directory was taken for an audit and refused with "is not
    the summary of `latentplay audit compare` (no 'attributes')"."""
    (tmp_path / "summary.json").write_text(json.dumps(SUMMARY))
    with pytest.raises(UserError) as err:
        detect(tmp_path)
    message = str(err.value)
    assert "match run" in message and "balance.csv" in message
    assert "audit compare" not in message
    with pytest.raises(UserError, match="balance.csv"):
        build_report(tmp_path)


def test_an_audit_summary_is_still_an_audit(tmp_path: Path) -> None:
    (tmp_path / "summary.json").write_text(json.dumps({"attributes": {}}))
    assert detect(tmp_path) == "audit"


def test_the_matched_on_lines_are_the_runs_own_values() -> None:
    """The lines over the rows matched on were recomputed from balance.csv's rounded values:
    their max |SMD| (0.43478) read above the max over every row (0.43477) that includes them."""
    overview = _balance(SUMMARY, ROWS).blocks[0]
    lines = {row[0].text: row for row in overview.rows}
    assert lines["before, matched on"][1].text == lines["before"][1].text
    assert lines["before, matched on"][2].text == "0.25"


def test_the_matched_on_lines_of_an_older_summary_come_from_balance_csv() -> None:
    summary = {**SUMMARY, "balance": {k: v for k, v in SUMMARY["balance"].items()
                                      if k != "matched_on"}}
    lines = {row[0].text: row for row in _balance(summary, ROWS).blocks[0].rows}
    assert lines["before, matched on"][1].text == "0.43478"


def test_a_balance_csv_shorter_than_the_summary_is_flagged() -> None:
    """With rows cut from balance.csv the page showed what was left under "3 covariates."
    without a word that the table is incomplete."""
    blocks = _balance(SUMMARY, ROWS[:1]).blocks
    notes = [b.text for b in blocks if isinstance(b, Text)]
    assert notes and "1 row(s)" in notes[0] and "3 covariate(s)" in notes[0]
    assert not [b for b in _balance(SUMMARY, ROWS).blocks if isinstance(b, Text)]


def test_the_matched_on_column_comes_from_balance_csv_when_it_has_one() -> None:
    """balance.csv's ``matched_on`` column says which rows the run matched on; the report
    guessed it from the config's column names (still its fallback for older files), which a
    summary without them (here: none) left blank, the column dropped."""
    summary = {**SUMMARY, "config": {"treatment": "group", "method": "propensity"}}
    rows = [{**row, "matched_on": flag} for row, flag in zip(ROWS, ("1", "1", "0"), strict=True)]
    overview, table = _balance(summary, rows).blocks
    assert table.columns[2] == "matched on"
    assert [[c.text for c in line[:3]] for line in table.rows] == [
        ["z[0]", "continuous", "yes"], ["z[1]", "continuous", "yes"], ["x0", "continuous", "no"]]
    assert "2 of the covariates matched on (z), 1 of attributes not matched on" in overview.caption
    assert "matched on" not in _balance(summary, ROWS).blocks[1].columns  # no column, no config


def test_the_matched_on_column_of_an_older_balance_csv_follows_the_config() -> None:
    table = _balance(SUMMARY, ROWS).blocks[1]  # the config's --covariates z
    assert [line[2].text for line in table.rows] == ["yes", "yes", "no"]
