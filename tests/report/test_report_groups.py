"""The ``sample-groups`` section of the audit page: intervals, how each group's components were
chosen, the settings and left-out classes, and ``groups.json`` files written before these."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from latentplay.report import auditing
from latentplay.report.page import Facts, Table, Text

OLD_KEYS = ("chosen_by", "note", "share_annotated_low", "share_annotated_high",
            "prior_share_low", "prior_share_high", "annotator_recall_low",
            "annotator_recall_high", "annotator_recall_n", "annotated")


def _groups_dir(audit_run: Path, tmp_path: Path, edit=None) -> Path:  # noqa: ANN001
    """A directory holding ``audit_run``'s groups.json (changed by ``edit``) alone."""
    out = tmp_path / "groups"
    out.mkdir()
    g = json.loads((audit_run / "groups.json").read_text())
    if edit:
        edit(g)
    (out / "groups.json").write_text(json.dumps(g))
    shutil.copy(audit_run / "groups.png", out / "groups.png")
    return out


def _table(section) -> Table:  # noqa: ANN001
    return next(b for b in section.blocks if isinstance(b, Table))


def test_groups_table_shows_intervals_and_how_components_were_chosen(audit_run: Path,
                                                                     tmp_path: Path) -> None:
    def edit(g: dict) -> None:
        g["skipped"] = ["other"]
        g["groups"][0]["note"] = "too few codes for 2 components"

    (section,) = auditing.page(_groups_dir(audit_run, tmp_path, edit)).sections
    groups = json.loads((audit_run / "groups.json").read_text())["groups"]
    table = _table(section)
    assert table.columns[1] == "rows in faces"  # the --data store, named by its folder
    assert table.columns[3] == "mixture components (chosen by)"
    for x, row in zip(groups, table.rows, strict=True):
        assert row[3].text == "1 (as asked)"  # the fixture asks for components=1
        low, high = x["share_annotated_low"], x["share_annotated_high"]
        assert row[4].text == f"{x['share_annotated']:.3f} [{low:.3f}, {high:.3f}]"
        assert row[5].text.startswith(f"{x['prior_share']:.3f} [")
        if x["annotator_recall"] is not None:
            assert row[6].text.endswith(f"] of {x['annotator_recall_n']} held out")
    assert "95 % Wilson interval" in table.caption
    facts = dict(next(b for b in section.blocks if isinstance(b, Facts)).items)
    assert facts["mixture components"].startswith("1 per group (as asked")
    assert facts["classes left out"] == "other (no row with a code)"
    texts = [b.text for b in section.blocks if isinstance(b, Text)]
    assert texts == [f"{groups[0]['class']}: too few codes for 2 components"]
    annotated = [b for b in section.blocks if isinstance(b, Table)][1]
    assert annotated.columns[0] == "group \\ annotated as"


def test_groups_json_written_before_intervals_and_chosen_by(audit_run: Path,
                                                           tmp_path: Path) -> None:
    def edit(g: dict) -> None:
        for key in ("skipped", "max_components", "components", "codes", "covariance"):
            g.pop(key)
        for x in g["groups"]:
            for key in OLD_KEYS:
                x.pop(key, None)

    (section,) = auditing.page(_groups_dir(audit_run, tmp_path, edit)).sections
    groups = json.loads((audit_run / "groups.json").read_text())["groups"]
    table = _table(section)
    for x, row in zip(groups, table.rows, strict=True):
        assert row[3].text == "1"
        assert row[4].text == f"{x['share_annotated']:.3f}"
        assert row[6].text == (f"{x['annotator_recall']:.3f}" if x["annotator_recall"] is not None
                               else "—")
    facts = dict(next(b for b in section.blocks if isinstance(b, Facts)).items)
    assert "classes left out" not in facts and "mixture components" not in facts


def test_groups_without_an_annotator_have_no_empty_share_columns(audit_run: Path,
                                                                 tmp_path: Path) -> None:
    def edit(g: dict) -> None:
        g.pop("annotator")
        g.pop("measure")
        g["groups"] = [{k: x[k] for k in ("class", "rows", "base_rate", "components", "chosen_by",
                                          "note")} for x in g["groups"]]

    (section,) = auditing.page(_groups_dir(audit_run, tmp_path, edit)).sections
    table = _table(section)
    assert len(table.columns) == 4 and "annotated" not in table.caption
