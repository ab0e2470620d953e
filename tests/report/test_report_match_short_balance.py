"""A match run whose balance.csv lost its rows of attributes not matched on still shows the
"matched on" balance lines, from summary.json (they were dropped: the rows left were all
matched on)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from latentplay.report.matching import page
from latentplay.report.page import Table, number


def _overview(run: Path) -> Table:
    section = next(s for s in page(run).sections if s.anchor == "balance")
    return next(b for b in section.blocks if isinstance(b, Table))


def test_the_matched_on_lines_survive_a_short_balance_csv(match_run: Path, tmp_path: Path) -> None:
    run = tmp_path / "m"
    shutil.copytree(match_run, run)
    balance = json.loads((run / "summary.json").read_text())["balance"]
    on = balance["matched_on"]["covariates"]
    assert 0 < on < balance["covariates"]
    lines = (run / "balance.csv").read_text().splitlines(keepends=True)
    assert all(line.split(",")[2] == "1" for line in lines[1:on + 1])  # the rows matched on first
    (run / "balance.csv").write_text("".join(lines[:on + 1]))
    rows = {row[0].text: row for row in _overview(run).rows}
    for when in ("before", "after"):
        assert rows[f"{when}, matched on"][1].text == number(balance["matched_on"][when]["max_abs_smd"])
    assert _overview(run).caption.startswith(f"{balance['covariates']} covariates: {on} of the "
                                             "covariates matched on")
