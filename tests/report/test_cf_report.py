"""The counterfactual page's table of what each classifier check reads, and the wording of the
audit compare page (condition, possessives, a summary without a test)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from latentplay.report import auditing, counterfactuals
from latentplay.report.page import Facts, Table


def _summary(kind: str) -> dict:
    """A minimal ``counterfactual.json`` of ``kind`` whose skin_tone check reads monk_4 on
    every face at both steps, and a gender check that moves."""
    row = {"group": "all faces", "n": 4}
    table = ({"changes": [{**row, "step": s, "change": 0.1, "change_low": 0.0,
                           "change_high": 0.2, "abs_change": 0.2} for s in ("0", "+1")],
              "reconstruction_difference": {"mean": 0.0, "mean_absolute": 0.1}}
             if kind == "values" else
             {"flips": [{**row, "step": s, "rate": 0.5, "low": 0.2, "high": 0.8,
                         "p_reference": 0.9} for s in ("0", "+1")]})
    shares = [{"attribute": "skin_tone", "step": s, "class": k, "share": float(k == "monk_4")}
              for s in ("0", "+1") for k in ("monk_1", "monk_4", "monk_8")]
    shares += [{"attribute": "gender", "step": s, "class": k, "share": v}
               for s, female in (("0", 0.75), ("+1", 0.25))
               for k, v in (("female", female), ("male", 1 - female))]
    return {"kind": kind, "rows": [0, 1, 2, 3], "persons": None, "reference": "0",
            "groups_by": "gender", "checks": [], "check_shares": shares,
            "edit": {"kind": "faces", "label": "skin", "text": "as given", "unit": "SDs",
                     "attribute": "skin_tone", "positive": "monk_8", "negative": None},
            "classifier": {"attribute": "gender", "kind": kind}, **table}


@pytest.mark.parametrize("kind", ["classes", "values"])
def test_counterfactual_page_tabulates_the_classifier_checks(kind: str, tmp_path: Path) -> None:
    """Each check that reads classes gets a table: per step the faces and the share of each
    class it reads (one never read left out, the edit's own class kept)."""
    tables = [b for b in counterfactuals.section(tmp_path, _summary(kind)).blocks
              if isinstance(b, Table) and b.caption.startswith("Check ")]
    skin, gender = tables
    assert skin.columns == ["step", "faces", "monk_4", "monk_8"]
    assert [[c.text for c in r] for r in skin.rows] == [["0", "4", "1", "0"],
                                                        ["+1", "4", "1", "0"]]
    assert "the edited attribute" in skin.caption
    assert gender.columns == ["step", "faces", "female", "male"]
    assert [[c.text for c in r] for r in gender.rows] == [["0", "4", "0.75", "0.25"],
                                                          ["+1", "4", "0.25", "0.75"]]
    assert "classifier's attribute" in gender.caption


def test_counterfactual_page_without_classifier_checks_has_no_check_table(tmp_path: Path) -> None:
    summary = {**_summary("classes"), "check_shares": []}
    assert not [b for b in counterfactuals.section(tmp_path, summary).blocks
                if isinstance(b, Table) and b.caption.startswith("Check ")]


def test_compare_page_wording(tmp_path: Path) -> None:
    """The condition reads ``smile 0.5, gender male``; the store ``faces`` owns ``faces'``
    labels; an attribute without a chi-square test gets no chi-square line."""
    r = {"classes": ["a", "b"], "tv": 0.1, "js": 0.01, "n_training": 10, "n_generated": 10,
         "per_class": [{"class": "a"}, {"class": "b"}]}
    summary = {"data": "/x/faces", "n_generated": 10,
               "source": {"run": "cvae", "n": 10, "condition": {"smile": 0.5, "gender": "male"}},
               "attributes": {"g": r, "h": {**r, "chi2": {"statistic": 3.0, "p_value": 0.08,
                                                          "dof": 1}}}}
    (tmp_path / "summary.json").write_text(json.dumps(summary))
    sections = auditing.page(tmp_path).sections
    overview = dict(next(b for b in sections[0].blocks if isinstance(b, Facts)).items)
    assert overview["condition"] == "smile 0.5, gender male"
    untested, tested = (dict(next(b for b in s.blocks if isinstance(b, Facts)).items)
                        for s in sections[1:])
    assert "chi-square" not in untested
    assert tested["chi-square"].startswith("3 on 1 dof, p = 0.08")
    shares = next(b for b in sections[1].blocks if isinstance(b, Table))
    assert shares.caption.startswith("Shares per class: faces' labels,")


def _under(table: Table) -> list[dict[str, str]]:
    """Each row of ``table`` as its cells' texts under their headers (a header repeated, as
    "95% interval" is, numbered from its second: "95% interval 2")."""
    names = [name if k == 0 else f"{name} {k + 1}"
             for i, name in enumerate(table.columns) for k in [table.columns[:i].count(name)]]
    return [dict(zip(names, (c.text for c in row), strict=True)) for row in table.rows]


def test_every_counterfactual_number_stands_under_its_own_header(tmp_path: Path) -> None:
    """Each field of the flips, group, identity and check tables of ``counterfactual.json``
    (every one a different number) is shown under the header that names it, a row per step."""
    flips = [{"group": g, "step": s, "n": n, "rate": 0.11 + k, "low": 0.12 + k, "high": 0.13 + k,
              "random_rate": 0.14 + k, "excess": 0.15 + k, "excess_low": 0.16 + k,
              "excess_high": 0.17 + k, "shift": 0.18 + k, "shift_low": 0.19 + k,
              "shift_high": 0.21 + k, "p_reference": 0.22 + k}
             for g, n, base in (("all faces", 6, 0), ("female", 4, 2)) for s, k in
             (("0", base), ("+1", base + 1), ("+2", base + 3))]
    identity = [{"group": "all faces", "step": s, "n": 6, "similarity": 0.31 + k, "low": 0.32 + k,
                 "high": 0.33 + k, "kept": 0.34 + k, "random_similarity": 0.35 + k, "loss": 0.36 + k,
                 "loss_low": 0.37 + k, "loss_high": 0.38 + k, "not_found": 2 + int(k)}
                for s, k in (("-1", 0.0), ("+1", 1.0))]
    means = [{"attribute": "age", "step": "+1", "n": 5, "mean": 41.0, "mean_low": 40.0,
              "mean_high": 42.0}]
    summary = {"kind": "classes", "rows": list(range(6)), "persons": None, "reference": "0",
               "groups_by": "gender", "checks": [], "check_means": means, "flips": flips,
               "edit": {"kind": "faces", "label": "smile", "text": "as given", "unit": "SDs"},
               "classifier": {"attribute": "smile", "kind": "classes"},
               "identity": {"embedder": "arcface", "between": 0.1, "table": identity}}
    tables = [b for b in counterfactuals.section(tmp_path, summary).blocks if isinstance(b, Table)]
    steps, groups, checks, kept = (_under(t) for t in tables)
    assert steps == [{"step": s, "faces": "6", "class changed": f"{0.11 + k:g}",
                      "95% interval": f"[{0.12 + k:g}, {0.13 + k:g}]",
                      "random directions": f"{0.14 + k:g}", "excess": f"{0.15 + k:g}",
                      "95% interval 2": f"[{0.16 + k:g}, {0.17 + k:g}]",
                      "mean shift (classes)": f"{0.18 + k:g}",
                      "95% interval 3": f"[{0.19 + k:g}, {0.21 + k:g}]",
                      "P(class unedited)": f"{0.22 + k:g}"}
                     for s, k in (("0", 0), ("+1", 1), ("+2", 3))]
    assert groups == [{"group": "female", "faces": "4", "step": "+2", "class changed": "5.11",
                       "95% interval": "[5.12, 5.13]"}]   # the last step; the first is step 0
    assert checks == [{"check": "age", "step": "+1", "faces read": "5", "mean reading": "41",
                       "95% interval": "[40, 42]"}]
    assert kept == [{"step": s, "faces": "6", "similarity": f"{0.31 + k:g}",
                     "95% interval": f"[{0.32 + k:g}, {0.33 + k:g}]", "kept": f"{0.34 + k:g}",
                     "random directions": f"{0.35 + k:g}", "loss": f"{0.36 + k:g}",
                     "95% interval 2": f"[{0.37 + k:g}, {0.38 + k:g}]",
                     "no face found": str(2 + int(k))} for s, k in (("-1", 0.0), ("+1", 1.0))]


def test_every_counterfactual_value_change_stands_under_its_own_header(tmp_path: Path) -> None:
    """The same of a value reader's changes: per step over all faces, per group at the ends."""
    changes = [{"group": g, "step": s, "n": n, "change": 0.11 + k, "change_low": 0.12 + k,
                "change_high": 0.13 + k, "abs_change": 0.14 + k, "random_abs_change": 0.15 + k,
                "excess": 0.16 + k, "excess_low": 0.17 + k, "excess_high": 0.18 + k}
               for g, n, base in (("all faces", 6, 0), ("male", 2, 2)) for s, k in
               (("-1", base), ("0", base + 1), ("+1", base + 3))]
    summary = {**_summary("values"), "changes": changes, "check_shares": [],
               "rows": list(range(6))}
    tables = [b for b in counterfactuals.section(tmp_path, summary).blocks if isinstance(b, Table)]
    steps, groups = (_under(t) for t in tables)
    assert steps == [{"step": s, "faces": "6", "mean change": f"{0.11 + k:g}",
                      "95% interval": f"[{0.12 + k:g}, {0.13 + k:g}]",
                      "mean absolute change": f"{0.14 + k:g}", "random directions": f"{0.15 + k:g}",
                      "excess": f"{0.16 + k:g}", "95% interval 2": f"[{0.17 + k:g}, {0.18 + k:g}]"}
                     for s, k in (("-1", 0), ("0", 1), ("+1", 3))]
    assert groups == [{"group": "male", "faces": "2", "step": s, "mean change": f"{0.11 + k:g}",
                       "95% interval": f"[{0.12 + k:g}, {0.13 + k:g}]"}
                      for s, k in (("-1", 2), ("+1", 5))]
