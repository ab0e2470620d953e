"""Cells of the audit page: the generated images at the held-out count beside the reference,
and intervals with three decimals like the shares elsewhere on the page."""

from __future__ import annotations

import json
from pathlib import Path

from latentplay.report import auditing
from latentplay.report.page import Table

REF = {"n": 100, "precision": 0.9, "recall": 0.8, "density": 1.0, "coverage": 0.7,
       "authenticity": 0.9, "frechet_distance": 1.0}


def _fidelity(tmp_path: Path, reference: dict) -> Table:
    group = {"class": "a", "n_real": 30, "n_not_embedded": 0, "coverage": 0.5,
             "coverage_ci": [0.312345, 0.687654], "recall": 0.4, "recall_ci": [0.2, 0.6]}
    summary = {"source": {"run": "r"}, "data": "/x/faces", "seed": 0,
               "features": {"embedder": "pixels-pca", "dim": 64}, "n_real": 500,
               "n_generated": 500, "not_embedded": {"real": 0, "generated": 0},
               "precision": 1.0, "recall": 0.5, "density": 1.2, "coverage": 0.6,
               "authenticity": 1.0, "k": 5, "frechet_distance": 4.0,
               "kernel_distance": {"mean": 0.6, "std": 0.05}, "reference": reference,
               "groups": {"tone": [group]}}
    (tmp_path / "fidelity.json").write_text(json.dumps(summary))
    overall, by_tone = auditing.page(tmp_path).sections
    (groups,) = [b for b in by_tone.blocks if isinstance(b, Table)]
    assert groups.rows[0][4].text == "[0.312, 0.688]"
    return next(b for b in overall.blocks if isinstance(b, Table))


def test_the_generated_images_at_the_held_out_count_stand_beside_the_reference(
        tmp_path: Path) -> None:
    at = {"n": 100, "precision": 0.95, "recall": 0.61, "density": 1.1, "coverage": 0.55,
          "authenticity": 0.97, "frechet_distance": 5.5}
    table = _fidelity(tmp_path, {**REF, "generated_at_n": at})
    assert [r[0].text for r in table.rows] == ["generated", "held-out images of faces (100)",
                                               "generated, a random 100 (the held-out count)"]
    assert [c.text for c in table.rows[2][1:7]] == ["0.95", "0.61", "1.1", "0.55", "0.97", "5.5"]
    assert "as many generated images" in table.caption
    table = _fidelity(tmp_path, REF)  # as many held out as generated: no such row
    assert len(table.rows) == 2 and "as many generated images" not in table.caption


def test_compare_intervals_have_three_decimals(tmp_path: Path) -> None:
    row = {"class": "a", "training_count": 30, "training": 0.3, "training_low": 0.2123456,
           "training_high": 0.4098765, "generated_count": 40, "generated": 0.4,
           "generated_low": 0.3, "generated_high": 0.5, "corrected": 0.41,
           "corrected_low": None, "corrected_high": None}
    summary = {"data": "/x/faces", "attributes": {"g": {
        "classes": ["a"], "tv": 0.1, "per_class": [row],
        "chi2": {"statistic": 1.0, "p_value": 0.3, "dof": 1}}}}
    (tmp_path / "summary.json").write_text(json.dumps(summary))
    shares = next(b for b in auditing.page(tmp_path).sections[1].blocks if isinstance(b, Table))
    assert [shares.rows[0][i].text for i in (3, 6, 8)] == ["[0.212, 0.410]", "[0.300, 0.500]", "—"]


def test_the_overview_gives_the_p_value_the_command_reads(tmp_path: Path) -> None:
    """A sparse table's simulated p (what `audit compare` prints), marked so and aligned as a
    number, not the chi-square curve's, which the command calls too small."""
    row = {"class": "a", "training_count": 30, "training": 0.3, "training_low": 0.2,
           "training_high": 0.4, "generated_count": 40, "generated": 0.4,
           "generated_low": 0.3, "generated_high": 0.5}
    chi2 = {"statistic": 40.0, "p_value": 5.2e-34, "p_value_simulated": 0.0005, "dof": 1,
            "sparse": 0.5, "min_expected": 2.0, "draws": 2000,
            "simulation": "the reference shares and the confusion as measured"}
    summary = {"data": "/x/faces", "attributes": {"g": {
        "classes": ["a"], "tv": 0.1, "per_class": [row], "chi2": chi2}}}
    (tmp_path / "summary.json").write_text(json.dumps(summary))
    overview = next(b for b in auditing.page(tmp_path).sections[0].blocks if isinstance(b, Table))
    p = overview.rows[0][overview.columns.index("p")]
    assert p.text == "0.0005 (simulated)" and p.numeric
