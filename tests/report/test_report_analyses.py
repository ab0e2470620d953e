"""Reports of match and audit runs: sections, numbers equal to their files, highlights."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from report_html import assert_self_contained, decode_image, row_of, value

from latentplay.report import build_report
from latentplay.report.page import SMD_THRESHOLD


def test_match_report(match_run: Path, tmp_path: Path) -> None:
    out = build_report(match_run, tmp_path / "m.html")
    text = out.read_text(encoding="utf-8")
    html = assert_self_contained(out)
    assert html.sections == ["matching", "balance", "effect", "figures", "config"]
    assert len(html.images) == 3 and all(decode_image(s).format == "PNG" for s in html.images)
    summary = json.loads((match_run / "summary.json").read_text())
    counts = html.tables["matching"][0]
    assert value(row_of(counts, "pairs")[1]) == summary["counts"]["pairs"]
    assert value(row_of(counts, "effective sample size of the controls")[1]) == pytest.approx(
        summary["counts"]["controls_ess"], rel=1e-3)
    with open(match_run / "balance.csv", newline="") as fh:
        balance = list(csv.DictReader(fh))
    table = html.tables["balance"][1]
    assert table[0][:2] == ["covariate", "type"] and len(table) == len(balance) + 1
    for source, row in zip(balance, table[1:], strict=True):
        assert row[0] == source["covariate"]
        for col, key in ((4, "smd_before"), (8, "smd_after")):
            assert value(row[col]) == pytest.approx(float(source[key]), rel=1e-3, abs=1e-6)
    assert f"mean difference / {summary['balance']['smd_denominator']}" in text
    flagged = text.count('class="num flag"')
    expected = sum(abs(float(r[k])) > SMD_THRESHOLD for r in balance for k in ("smd_before",
                                                                              "smd_after"))
    assert flagged == expected > 0
    matched = summary["effect"]["matched"]
    effect = row_of(html.tables["effect"][0], "matched difference (effect on the treated)")
    assert value(effect[1]) == pytest.approx(matched["estimate"], rel=1e-3, abs=1e-6)
    low, high = (value(v) for v in effect[2].strip("[]").split(", "))
    assert (low, high) == (pytest.approx(matched["ci_low"], rel=1e-3, abs=1e-6),
                           pytest.approx(matched["ci_high"], rel=1e-3, abs=1e-6))


def test_match_report_shows_the_run_s_warnings(match_run: Path, tmp_path: Path) -> None:
    """A warning ``match run`` wrote (a separating propensity model) heads the Matching section."""
    import shutil

    run = Path(shutil.copytree(match_run, tmp_path / "run"))
    summary = json.loads((run / "summary.json").read_text())
    summary["match"]["warnings"] = ["the propensity model separates the groups"]
    (run / "summary.json").write_text(json.dumps(summary))
    text = build_report(run, tmp_path / "w.html").read_text(encoding="utf-8")
    assert "Warning: the propensity model separates the groups." in text
    assert "Warning:" not in build_report(match_run, tmp_path / "m.html").read_text(encoding="utf-8")


def test_audit_report_compare_and_groups(audit_run: Path, tmp_path: Path) -> None:
    html = assert_self_contained(build_report(audit_run, tmp_path / "a.html"))
    assert html.sections == ["audit", "attr-gender", "groups"]
    assert len(html.images) == 4 and all(decode_image(s).format == "PNG" for s in html.images)
    gender = json.loads((audit_run / "summary.json").read_text())["attributes"]["gender"]
    overview = row_of(html.tables["audit"][0], "gender")
    assert value(overview[2]) == pytest.approx(gender["tv"], rel=1e-3, abs=1e-6)
    assert value(overview[1]) == pytest.approx(gender["annotator"]["evaluation"]["accuracy"])
    per_class = html.tables["attr-gender"][0]
    for c in gender["per_class"]:
        row = row_of(per_class, c["class"])
        assert value(row[1]) == c["training_count"] and value(row[4]) == c["generated_count"]
    groups = json.loads((audit_run / "groups.json").read_text())["groups"]
    table = html.tables["groups"][0]
    for g in groups:
        row = row_of(table, g["class"])
        assert value(row[1]) == g["rows"]
        assert value(row[2]) == pytest.approx(g["base_rate"], rel=1e-3)
