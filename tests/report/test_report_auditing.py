"""The audit page builder (``latentplay.report.auditing``): sections from each file present."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
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
    # the store compared with is named by its folder, not called "training"
    assert shares.columns[1:4] == ["faces n", "faces", "interval"]
    figures = [b for b in page.sections[1].blocks if isinstance(b, Figure)]
    assert len(figures) == 2  # distribution and samples
    facts = dict(next(b for b in page.sections[1].blocks if isinstance(b, Facts)).items)
    # the accuracy stands beside chance: naming the commonest class of the evaluation images
    counts = np.array(gender["annotator"]["evaluation"]["counts"]).sum(axis=1)
    assert facts["held-out accuracy"].endswith(
        f"images (naming the commonest class every time: {counts.max() / counts.sum():.3f})")
    # the distance is the one corrected for sampling, named so (shares near balance read 0)
    assert "distance from balance (sampling bias taken off)" in facts
    # the classes counted are said, once, to be perceived ones, not the persons' identities
    overview = _tables(page.sections[0])[0]
    assert "labels are annotators' judgements of how a face looks" in overview.caption


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
    from latentplay.audit.truncation import ratio_words
    from latentplay.report.kinds import detect

    out = tmp_path / "trunc"
    truncation_sweep(vae_run, faces, [fit_classifier(faces, "gender")], [1, 0.5], out, n=30)
    assert detect(out) == "audit"
    page = auditing.page(out)
    assert [s.anchor for s in page.sections] == ["truncation", "truncation-gender"]
    assert page.title.startswith("Samples of ") and page.title.endswith("across truncation ψ")
    (table,) = _tables(page.sections[1])
    # the --data store is named by its folder (it need not be the training set)
    assert [r[0].text for r in table.rows] == ["1", "0.5", "faces"]
    assert "TV from faces" in table.columns and "training" not in table.caption
    entry = json.loads((out / "truncation.json").read_text())["attributes"]["gender"]
    column = table.columns.index("drawn more / less often")  # the words of each psi's ratios
    assert [r[column].text for r in table.rows] == [ratio_words(entry, 0) or "neither",
                                                    ratio_words(entry, 1) or "neither", "—"]
    assert "ratios of corrected shares, 95 % intervals for all 2 classes together" in table.caption
    assert len([b for b in page.sections[1].blocks if isinstance(b, Figure)]) == 1
    assert len([b for b in page.sections[0].blocks if isinstance(b, Figure)]) == 1  # the draws


def test_nan_p_value_is_a_dash_not_highly_significant(tmp_path: Path) -> None:
    # a chi-square with no degrees of freedom (one class) has p = NaN, written as NaN in the JSON
    summary = {"attributes": {"g": {"classes": ["a"], "tv": 0.0,
                                    "chi2": {"statistic": float("nan"), "p_value": float("nan"),
                                             "dof": 0}}}}
    (tmp_path / "summary.json").write_text(json.dumps(summary))
    page = auditing.page(tmp_path)
    overview = _tables(page.sections[0])[0]
    assert overview.rows[0][overview.columns.index("p")].text == "—"
    facts = dict(next(b for b in page.sections[1].blocks if isinstance(b, Facts)).items)
    assert facts["chi-square"].startswith("— on 0 dof, p = —")


def test_a_file_missing_fields_is_one_user_error(tmp_path: Path) -> None:
    (tmp_path / "versus.json").write_text(json.dumps({"audits": {"a": "x"}}))
    with pytest.raises(UserError, match=r"versus\.json lacks or mangles .*'attributes'"):
        auditing.page(tmp_path)


def test_truncation_nan_shares_read_as_dashes(tmp_path: Path) -> None:
    nan = float("nan")
    trunc = {"run": "r", "data": "d", "n": 0, "seed": 0, "psi": [1.0],
             "attributes": {"g": {"classes": ["a", "b"], "psi": [1.0], "generated": [[nan, nan]],
                                  "generated_ci": [[[nan, nan], [nan, nan]]], "tv": [nan],
                                  "confidence": [nan], "training": [0.5, 0.5],
                                  "confidence_held_out": 0.9}}}
    (tmp_path / "truncation.json").write_text(json.dumps(trunc))
    (table,) = _tables(auditing.page(tmp_path).sections[1])
    assert [c.text for c in table.rows[0]] == ["1", "— [—, —]", "— [—, —]", "—", "—"]
    assert "nan" not in " ".join(c.text for row in table.rows for c in row)


def test_fidelity_section_names_the_data_store_not_training(tmp_path: Path) -> None:
    # `audit fidelity RUN --data reference`: a separate reference set (docs/study.md), not the
    # run's training set; the page names it as the command and its figures do
    group = {"class": "monk_1", "n_real": 30, "n_not_embedded": 0, "coverage": 0.5,
             "coverage_ci": [0.3, 0.7], "recall": 0.4, "recall_ci": [0.2, 0.6], "n_nearest": 10,
             "authenticity": 1.0, "reference_authenticity": 0.9}
    ref = {"n": 20, "precision": 0.9, "recall": 0.8, "density": 1.0, "coverage": 0.7,
           "authenticity": 0.9, "frechet_distance": 1.0}
    summary = {"source": {"run": "dcgan_skewed"}, "data": "/x/reference", "seed": 0,
               "features": {"embedder": "pixels-pca", "dim": 64}, "n_real": 300,
               "n_generated": 300, "not_embedded": {"real": 0, "generated": 0},
               "precision": 1.0, "recall": 0.0, "density": 1.2, "coverage": 0.02,
               "authenticity": 1.0, "k": 5, "frechet_distance": 46.3,
               "kernel_distance": {"mean": 0.6, "std": 0.05}, "reference": ref,
               "groups": {"skin_tone": [group]}}
    (tmp_path / "fidelity.json").write_text(json.dumps(summary))
    overall, by_tone = auditing.page(tmp_path).sections
    facts = dict(next(b for b in overall.blocks if isinstance(b, Facts)).items)
    assert facts["compared with (--data)"] == "/x/reference"
    assert facts["generated / reference images"] == "300 / 300"
    (table,) = _tables(overall)
    assert table.rows[1][0].text == "held-out images of reference (20)"
    (groups,) = _tables(by_tone)
    assert groups.columns[1] == "reference n"
    texts = [*facts, *table.columns, table.caption, *groups.columns, groups.caption,
             *(c.text for row in table.rows + groups.rows for c in row)]
    assert not [t for t in texts if "training" in t]


def test_fidelity_section_counts_flat_images_and_their_caution(tmp_path: Path) -> None:
    """``fidelity.json``'s ``flat`` (blank or faint images, which score perfect precision) is
    on the page, with its caution, as the command prints it."""
    summary = {"source": {"images": "grey"}, "data": "/x/faces", "seed": 0,
               "features": {"embedder": "pixels-pca", "dim": 64}, "n_real": 300,
               "n_generated": 300, "not_embedded": {"real": 0, "generated": 0},
               "precision": 1.0, "recall": 0.0, "density": 1.1, "coverage": 0.0,
               "authenticity": 1.0, "k": 5, "frechet_distance": 46.3,
               "flat": {"count": 300, "share": 1.0, "threshold": 26.4,
                        "caution": "300 of 300 are flat: their precision says nothing"}}
    (tmp_path / "fidelity.json").write_text(json.dumps(summary))
    (overall,) = auditing.page(tmp_path).sections
    items = next(b for b in overall.blocks if isinstance(b, Facts)).items
    flat = dict(items)["flat"]
    assert flat.startswith("300 of 300 images of grey (100") and "below 26.4" in flat and "of faces" in flat
    assert ("caution", "300 of 300 are flat: their precision says nothing") in items
