"""``--out`` of ``latentplay report`` never destroys what it reports on: a run's own file
(``--out RUN/config.yaml`` replaced the config with the page and the run could no longer be
resumed or reported) or a file inside the store reported on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from latentplay.errors import UserError
from latentplay.report import build_report

SUMMARY = {"store": "faces", "treatment": {"attribute": "g", "treated": "a", "control": "b"},
           "config": {"covariates": ["x"]}, "counts": {"treated": 1, "controls": 1},
           "balance": {"covariates": 1}}
BALANCE = ("covariate,type,mean_treated_before,mean_control_before,smd_before,var_ratio_before,"
           "mean_treated_after,mean_control_after,smd_after,var_ratio_after\n"
           "x,continuous,1,0,0.5,1,0.5,0.5,0,1\n")


@pytest.fixture
def match_dir(tmp_path: Path) -> Path:
    run = tmp_path / "m"
    run.mkdir()
    (run / "summary.json").write_text(json.dumps(SUMMARY))
    (run / "balance.csv").write_text(BALANCE)
    return run


def test_out_onto_a_file_of_the_run_is_refused(match_dir: Path) -> None:
    before = (match_dir / "balance.csv").read_bytes()
    with pytest.raises(UserError, match=r"--out must name a \.html or \.htm file, got balance\.csv"):
        build_report(match_dir, out=match_dir / "balance.csv")
    assert (match_dir / "balance.csv").read_bytes() == before


@pytest.mark.parametrize("name", ["r.pdf", "r.report", "r"])
def test_out_not_named_html_is_refused(cli, match_dir: Path, name: str) -> None:  # noqa: ANN001
    """``report DIR --out x.pdf`` wrote an HTML page under a PDF's name (a viewer could not
    open it); now one error line, and nothing is written."""
    r = cli("report", match_dir, "--out", match_dir.parent / name)
    assert r.code == 2 and r.err.strip() == f"error: --out must name a .html or .htm file, got {name}", r.err
    assert not (match_dir.parent / name).exists()


def test_a_report_may_replace_html_and_earlier_reports(match_dir: Path) -> None:
    page = match_dir / "notes.html"
    page.write_text("<p>old</p>")
    assert build_report(match_dir, out=page) == page
    other = match_dir / "balance.HTM"  # a report under another name, written twice
    build_report(match_dir, out=other)
    build_report(match_dir, out=other)
    assert "latentplay" in other.read_text()
    assert "Balance" in page.read_text()


def test_out_inside_the_store_is_refused(tmp_path: Path) -> None:
    from latentplay.report import build

    store = tmp_path / "faces"
    store.mkdir()
    with pytest.raises(UserError, match="inside the store"):
        build._refuse_inside_store(store / "r.html", store, "store")
    build._refuse_inside_store(tmp_path / "faces.report.html", store, "store")
