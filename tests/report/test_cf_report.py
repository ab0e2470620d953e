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
