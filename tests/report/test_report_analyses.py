"""Reports of match and audit runs: sections, numbers equal to their files, highlights."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from report_html import assert_self_contained, decode_image, parse, row_of, value

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
    assert table[0][:3] == ["covariate", "type", "matched on"] and len(table) == len(balance) + 1
    for source, row in zip(balance, table[1:], strict=True):
        assert row[0] == source["covariate"]
        for col, key in ((5, "smd_before"), (9, "smd_after")):
            assert value(row[col]) == pytest.approx(float(source[key]), rel=1e-3, abs=1e-6)
    assert f"mean difference / {summary['balance']['smd_denominator']}" in text
    flagged = text.count('class="num flag"')
    expected = sum(abs(float(r[k])) > SMD_THRESHOLD for r in balance for k in ("smd_before",
                                                                              "smd_after"))
    assert flagged == expected > 0
    matched = summary["effect"]["matched"]
    effect = row_of(html.tables["effect"][0], f"matched difference: {matched['estimand']}")
    assert value(effect[1]) == pytest.approx(matched["estimate"], rel=1e-3, abs=1e-6)
    low, high = (value(v) for v in effect[2].strip("[]").split(", "))
    assert (low, high) == (pytest.approx(matched["ci_low"], rel=1e-3, abs=1e-6),
                           pytest.approx(matched["ci_high"], rel=1e-3, abs=1e-6))


def test_balance_tells_covariates_matched_on_from_attributes_only_checked(match_run: Path,
                                                                          tmp_path: Path) -> None:
    """balance.csv holds every attribute, not only the covariates matched on: each row says
    which, and the overview gives the |SMD| over the covariates matched on apart."""
    html = parse(build_report(match_run, tmp_path / "m.html"))
    with open(match_run / "balance.csv", newline="") as fh:
        balance = list(csv.DictReader(fh))
    header, *rows = html.tables["balance"][1]

    def matched(name: str) -> bool:
        return name == "smile" or name.startswith("emb[")  # the fixture's --covariates emb,smile

    assert {r[0]: r[2] for r in rows} == {r[0]: "yes" if matched(r[0]) else "no" for r in rows}
    assert not all(matched(r[0]) for r in rows)
    mine = [abs(float(r["smd_after"])) for r in balance if matched(r["covariate"])]
    after = row_of(html.tables["balance"][0], "after, matched on")
    assert value(after[1]) == pytest.approx(max(mine), rel=1e-3)
    assert value(after[2]) == pytest.approx(sum(mine) / len(mine), rel=1e-3)


def test_balance_caption_defines_smd_without_nested_parentheses(match_run: Path, tmp_path: Path) -> None:
    """The balance table's caption reads "(SMD: mean difference / ...)", as the love plot's title
    does, not "(SMD (mean difference / ...))"."""
    text = build_report(match_run, tmp_path / "m.html").read_text(encoding="utf-8")
    denominator = json.loads((match_run / "summary.json").read_text())["balance"]["smd_denominator"]
    assert f"(SMD: mean difference / {denominator})" in text
    assert "(SMD (" not in text


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


def test_match_report_says_which_rows_lacked_values(match_run: Path, tmp_path: Path) -> None:
    """Rows ``match run`` left out for lacking a vector or outcome value are a fact of the
    Matching section, with the columns they lacked; a run that left none out says nothing."""
    import shutil

    run = Path(shutil.copytree(match_run, tmp_path / "run"))
    summary = json.loads((run / "summary.json").read_text())
    summary["rows_left_out"] = {"rows": 3, "of": 120, "lacking": {"pix": 2, "outcome y": 1}}
    (run / "summary.json").write_text(json.dumps(summary))
    text = build_report(run, tmp_path / "w.html").read_text(encoding="utf-8")
    assert "3 of 120 compared rows lacked values (pix 2, outcome y 1)" in text
    assert "lacked values" not in build_report(match_run, tmp_path / "m.html").read_text(encoding="utf-8")


def test_match_report_names_the_balance_columns_it_lacks(match_run: Path, tmp_path: Path) -> None:
    """A balance.csv without its columns (rows or not) is one error naming the file and them."""
    import shutil

    from latentplay.errors import UserError

    run = Path(shutil.copytree(match_run, tmp_path / "run"))
    header, *rows = (match_run / "balance.csv").read_text().splitlines()
    for text in ("x\n", "\n".join([header.replace(",smd_after", ",smd_aftr"), *rows]) + "\n"):
        (run / "balance.csv").write_text(text)
        with pytest.raises(UserError, match=r"balance\.csv lacks the column") as info:
            build_report(run, tmp_path / "b.html")
        assert ("'smd_after'" in str(info.value)) and ("'covariate'" in str(info.value)) == (text == "x\n")
    assert not (tmp_path / "b.html").exists()


def _counterfactual(kind: str, persons: int | None) -> dict:
    """A minimal ``counterfactual.json`` of ``kind`` (classes or values) with random directions
    and an identity check; ``persons``: how many persons its repeated faces show, or None."""
    row = {"group": "all faces", "step": "0", "n": 4, "excess": 0.1, "excess_low": 0.0,
           "excess_high": 0.2}
    table = ({"changes": [{**row, "change": 0.1, "change_low": 0.0, "change_high": 0.2,
                           "abs_change": 0.2, "random_abs_change": 0.1}],
              "check_means": [{"attribute": "age", "step": "0", "n": 4, "mean": 1.0,
                               "mean_low": 0.5, "mean_high": 1.5}],
              "reconstruction_difference": {"mean": 0.0, "mean_absolute": 0.1}}
             if kind == "values" else
             {"flips": [{**row, "rate": 0.5, "low": 0.2, "high": 0.8, "random_rate": 0.4,
                         "p_reference": 0.9}]})
    return {"kind": kind, "rows": [0, 1, 2, 3], "persons": persons, "reference": "0",
            "groups_by": "gender", "checks": [],
            "edit": {"kind": "faces", "label": "smile", "text": "as given", "unit": "SDs"},
            "classifier": {"attribute": "smile", "kind": kind},
            "identity": {"embedder": "arcface", "between": 0.1, "reconstruction": 0.9,
                         "table": [{"group": "all faces", "step": "0", "n": 4, "similarity": 0.9,
                                    "low": 0.8, "high": 1.0, "kept": 0.9, "random_similarity": 0.8,
                                    "loss": -0.1, "loss_low": -0.2, "loss_high": 0.0,
                                    "not_found": 0}]},
            **table}


@pytest.mark.parametrize("kind", ["classes", "values"])
def test_counterfactual_captions_name_what_the_bootstrap_resamples(kind: str, tmp_path: Path) -> None:
    """With repeated persons every interval is a bootstrap over persons, and the captions say so."""
    from PIL import Image

    from latentplay.report.counterfactuals import section
    from latentplay.report.page import Facts, Table

    for name in ("counterfactual.png", "faces.png"):
        Image.new("RGB", (4, 4)).save(tmp_path / name)
    for persons, unit in ((3, "persons"), (None, "faces")):
        blocks = section(tmp_path, _counterfactual(kind, persons)).blocks
        tables = [b for b in blocks if isinstance(b, Table)]
        facts = dict(next(b for b in blocks if isinstance(b, Facts)).items)
        captions = " ".join(t.caption for t in tables)
        other = "faces" if unit == "persons" else "persons"
        assert f"bootstrap over {unit}" in captions and f"bootstrap over {other}" not in captions
        assert ("persons" in facts) == (persons is not None)
        if persons:
            assert "normal" not in captions


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


def test_match_report_names_the_pair_distance_and_captions_propensity(match_run: Path,
                                                                      tmp_path: Path) -> None:
    """The pair distances name their space (as pairs.png does), and propensity.png, written for
    propensity matching, appears with a caption saying what it shows."""
    import shutil

    from PIL import Image

    from latentplay.report.matching import page
    from latentplay.report.page import Figure

    html = parse(build_report(match_run, tmp_path / "m.html"))
    assert value(row_of(html.tables["matching"][0], "pair distance (Euclidean distance): mean")[1]) \
        == pytest.approx(json.loads((match_run / "summary.json").read_text())["distance"]["mean"],
                         rel=1e-3)
    run = Path(shutil.copytree(match_run, tmp_path / "run"))
    summary = json.loads((run / "summary.json").read_text())
    summary["match"]["distance"] = "propensity"
    (run / "summary.json").write_text(json.dumps(summary))
    Image.new("RGB", (4, 4)).save(run / "propensity.png")
    html = parse(build_report(run, tmp_path / "p.html"))
    assert row_of(html.tables["matching"][0], "pair distance (|Δ propensity logit|): max")
    captions = [b.caption for s in page(run).sections for b in s.blocks if isinstance(b, Figure)]
    assert any(c.startswith("Fitted propensity score") and "common support" in c
               for c in captions)
    assert any("distance in the matching space" in c for c in captions)


@pytest.mark.parametrize("kind", ["classes", "values"])
def test_counterfactual_excess_intervals_resample_random_directions(kind: str,
                                                                    tmp_path: Path) -> None:
    """The excess and the identity loss intervals resample the random directions too (the
    audit's ``excess_intervals``): their captions say so, over faces or over persons."""
    from PIL import Image

    from latentplay.report.counterfactuals import section
    from latentplay.report.page import Table

    for name in ("counterfactual.png", "faces.png"):
        Image.new("RGB", (4, 4)).save(tmp_path / name)
    for persons, unit in ((3, "persons"), (None, "faces")):
        tables = [b for b in section(tmp_path, _counterfactual(kind, persons)).blocks
                  if isinstance(b, Table)]
        excess = next(t.caption for t in tables if "excess:" in t.caption)
        loss = next(t.caption for t in tables if "loss:" in t.caption)
        for caption in (excess, loss):
            assert f"bootstrap over {unit} and random directions" in caption
