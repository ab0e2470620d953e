"""The audit page builder (``latentplay.report.auditing``): sections from each file present."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from latentplay.errors import UserError
from latentplay.report import auditing
from latentplay.report.page import Facts, Figure, Table


def _tables(section) -> list[Table]:  # noqa: ANN001
    return [b for b in section.blocks if isinstance(b, Table)]


def test_compare_and_groups_sections(audit_run: Path) -> None:
    page = auditing.page(audit_run)
    assert [s.anchor for s in page.sections] == ["audit", "attr-gender", "groups"]
    assert page.title.startswith("Audit of images: gender")
    gender = json.loads((audit_run / "summary.json").read_text())["attributes"]["gender"]
    shares, confusion = _tables(page.sections[1])
    assert [r[0].text for r in shares.rows] == gender["classes"]
    assert len(confusion.rows) == len(gender["classes"])  # the annotator's confusion
    assert confusion.columns[1:] == gender["classes"]
    figures = [b for b in page.sections[1].blocks if isinstance(b, Figure)]
    assert len(figures) == 2  # distribution and samples
    facts = dict(next(b for b in page.sections[1].blocks if isinstance(b, Facts)).items)
    assert facts["held-out accuracy"].endswith("images")


def test_groups_alone_and_a_foreign_summary(audit_run: Path, tmp_path: Path) -> None:
    groups_only = tmp_path / "groups"
    groups_only.mkdir()
    for name in ("groups.json", "groups.png"):
        shutil.copy(audit_run / name, groups_only / name)
    page = auditing.page(groups_only)
    assert [s.anchor for s in page.sections] == ["groups"]
    assert page.title.startswith("Groups of gender sampled from ")
    facts = dict(next(b for b in page.sections[0].blocks if isinstance(b, Facts)).items)
    assert facts["codes"] == "encoder means, full covariance"
    assert len([b for b in page.sections[0].blocks if isinstance(b, Figure)]) == 1  # faces only
    shutil.copy(audit_run / "groups_shares.png", groups_only / "groups_shares.png")
    section = auditing.page(groups_only).sections[0]
    assert len([b for b in section.blocks if isinstance(b, Figure)]) == 2
    (groups_only / "summary.json").write_text(json.dumps({"counts": {}}))
    with pytest.raises(UserError, match="no 'attributes'"):
        auditing.page(groups_only)


def test_truncation_sections(faces: Path, vae_run: Path, tmp_path: Path) -> None:
    from latentplay.audit import fit_classifier, truncation_sweep
    from latentplay.report.kinds import detect

    out = tmp_path / "trunc"
    truncation_sweep(vae_run, faces, [fit_classifier(faces, "gender")], [1, 0.5], out, n=30)
    assert detect(out) == "audit"
    page = auditing.page(out)
    assert [s.anchor for s in page.sections] == ["truncation", "truncation-gender"]
    assert page.title.startswith("Samples of ") and page.title.endswith("across truncation ψ")
    (table,) = _tables(page.sections[1])
    assert [r[0].text for r in table.rows] == ["1", "0.5", "training"]
    assert len([b for b in page.sections[1].blocks if isinstance(b, Figure)]) == 1
    assert len([b for b in page.sections[0].blocks if isinstance(b, Figure)]) == 1  # the draws
