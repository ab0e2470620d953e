"""Cells of the audit page: the generated images at the held-out count beside the reference,
and intervals with three decimals like the shares elsewhere on the page."""

from __future__ import annotations

import json
from pathlib import Path

from latentplay.report import auditing
from latentplay.report.page import Facts, Table

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
    assert [c.text for c in table.rows[0][1:]] == ["1", "0.5", "1.2", "0.6", "1", "4", "0.6", "0.05"]
    assert [c.text for c in table.rows[1][1:]] == ["0.9", "0.8", "1", "0.7", "0.9", "1", "—", "—"]
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


def _texts(table: Table) -> list[list[str]]:
    return [[c.text for c in row] for row in table.rows]


def test_compare_cells_hold_each_number_under_its_own_header(tmp_path: Path) -> None:
    """Every measure of `audit compare` in the column its header names: distinct values put
    anywhere else read wrong."""
    row = {"class": "a", "training_count": 30, "training": 0.3, "training_low": 0.21,
           "training_high": 0.39, "generated_count": 40, "generated": 0.4, "generated_low": 0.31,
           "generated_high": 0.49, "corrected": 0.45, "corrected_low": 0.36,
           "corrected_high": 0.54, "ratio": 1.5, "ratio_low": 1.25, "ratio_high": 1.75}
    classes = {"classes": ["a"], "tv": 0.11, "js": 0.22, "corrected_tv": 0.33,
               "corrected_js": 0.44, "per_class": [row],
               "annotator": {"kind": "linear", "evaluation": {"accuracy": 0.9, "n": 50}},
               "chi2": {"statistic": 5.5, "dof": 2, "p_value": 0.064}}
    values = {"kind": "continuous", "mean_training": 1.5, "mean_generated": 2.5, "smd": 0.7,
              "ks": 0.3, "ks_p": 0.01, "wasserstein": 0.9,
              "quantiles": [{"quantile": 0.5, "training": 1.4, "generated": 2.6}]}
    summary = {"data": "/x/faces", "n_generated": 70, "n_training": 90,
               "attributes": {"g": classes, "v": values}}
    (tmp_path / "summary.json").write_text(json.dumps(summary))
    overview, g, v = auditing.page(tmp_path).sections
    facts = dict(next(b for b in overview.blocks if isinstance(b, Facts)).items)
    assert facts["images"] == "70"
    measured, read = [b for b in overview.blocks if isinstance(b, Table)]
    assert _texts(measured) == [["g", "0.9", "0.11", "0.22", "5.5", "2", "0.064", "0.33", "0.44"]]
    assert _texts(read) == [["v", "1.5", "2.5", "0.7", "0.3", "0.01", "0.9"]]
    shares = next(b for b in g.blocks if isinstance(b, Table))
    assert _texts(shares) == [["a", "30", "0.3", "[0.210, 0.390]", "40", "0.4", "[0.310, 0.490]",
                               "0.45", "[0.360, 0.540]", "x1.50 (1.25-1.75)"]]
    assert dict(next(b for b in g.blocks if isinstance(b, Facts)).items)["TV, JS"] == "0.11, 0.22 bits"
    quantiles = next(b for b in v.blocks if isinstance(b, Table))
    assert _texts(quantiles) == [["0.5", "1.4", "2.6"]]


def test_the_confusion_table_has_the_true_classes_as_rows(tmp_path: Path) -> None:
    """The annotator's confusion (rows: true class) as written, not transposed."""
    attribute = {"classes": ["a", "b"], "tv": 0.1, "per_class": [],
                 "annotator": {"kind": "linear", "evaluation": {
                     "accuracy": 0.85, "n": 40, "confusion": [[18, 2], [4, 16]]}}}
    (tmp_path / "summary.json").write_text(json.dumps({"data": "/x/faces",
                                                       "attributes": {"g": attribute}}))
    confusion = [b for b in auditing.page(tmp_path).sections[1].blocks if isinstance(b, Table)][1]
    assert _texts(confusion) == [["a", "18", "2"], ["b", "4", "16"]]


def test_versus_truncation_and_detection_cells(tmp_path: Path) -> None:
    """`audit versus`, `compare --psi` and `audit detection`: each number in its column, the
    bounds in order, every group and the all-rows line."""
    row = {"audit": "x", "n_generated": 100, "tv": 0.1, "faithful_tv": 0.02,
           "corrected_tv": 0.12, "faithful_corrected_tv": 0.03, "chi2_p": 0.004,
           "amplification": 2.5}
    pair = {"audits": ["x", "y"], "statistic": 3.0, "dof": 1, "p_value": 0.08, "p_holm": 0.16}
    versus = {"audits": {"x": "p1", "y": "p2"}, "data": ["/x/faces"], "attributes": {"g": {
        "test": {"statistic": 3.0, "dof": 1, "p_value": 0.08}, "rows": [row], "pairs": [pair]}}}
    (tmp_path / "versus.json").write_text(json.dumps(versus))
    audits, pairs = [b for b in auditing.page(tmp_path).sections[1].blocks if isinstance(b, Table)]
    assert _texts(audits) == [["x", "100", "0.1", "0.02", "0.12", "0.03", "0.004", "2.5"]]
    assert _texts(pairs) == [["x vs y", "3", "1", "0.08", "0.16"]]
    (tmp_path / "versus.json").unlink()

    truncation = {"run": "r", "data": "/x/faces", "n": 10, "seed": 0, "psi": [0.5, 1.0],
                  "attributes": {"g": {"classes": ["a", "b"], "psi": [0.5, 1.0],
                                       "generated": [[0.2, 0.8], [0.4, 0.6]],
                                       "generated_ci": [[[0.1, 0.3], [0.7, 0.9]],
                                                        [[0.3, 0.5], [0.5, 0.7]]],
                                       "tv": [0.25, 0.05], "confidence": [0.91, 0.85],
                                       "training": [0.45, 0.55], "confidence_held_out": 0.93}}}
    (tmp_path / "truncation.json").write_text(json.dumps(truncation))
    (shares,) = [b for b in auditing.page(tmp_path).sections[1].blocks if isinstance(b, Table)]
    assert _texts(shares) == [
        ["0.5", "0.200 [0.100, 0.300]", "0.800 [0.700, 0.900]", "0.250", "0.910"],
        ["1", "0.400 [0.300, 0.500]", "0.600 [0.500, 0.700]", "0.050", "0.850"],
        ["faces", "0.450", "0.550", "—", "0.930"]]
    # since truncation.json records it: a faithful generator's TV beside each psi's
    truncation["attributes"]["g"]["faithful_tv"] = [0.031, 0.029]
    (tmp_path / "truncation.json").write_text(json.dumps(truncation))
    (shares,) = [b for b in auditing.page(tmp_path).sections[1].blocks if isinstance(b, Table)]
    assert shares.columns[4] == "a faithful generator's TV"
    assert [row[3:5] for row in _texts(shares)] == [["0.250", "0.031"], ["0.050", "0.029"], ["—", "—"]]
    (tmp_path / "truncation.json").unlink()

    detection = {"store": "s", "label": "dlib", "cut": 0.5, "thresholds": [-1.0, 1.0],
                 "unknown_rows": 2, "by": "g",
                 "groups": {"a": {"n": 10, "at_cut": 0.9, "at_cut_interval": [0.6, 0.98],
                                  "matched_at": -0.25},
                            "b": {"n": 12, "at_cut": 0.8, "at_cut_interval": [0.5, 0.95],
                                  "matched_at": None}},
                 "all": {"n": 22, "at_cut": 0.85, "at_cut_interval": [0.7, 0.93]}}
    (tmp_path / "detection.json").write_text(json.dumps(detection))
    (found,) = [b for b in auditing.page(tmp_path).sections[0].blocks if isinstance(b, Table)]
    assert _texts(found) == [["a", "10", "0.900 [0.600, 0.980]", "-0.25"],
                             ["b", "12", "0.800 [0.500, 0.950]", "not in range"],
                             ["all", "22", "0.850 [0.700, 0.930]", "—"]]


def test_reconstruction_and_fidelity_group_cells(tmp_path: Path) -> None:
    """`audit reconstruction`'s groups and all photos, each mean before its bounds; `audit
    fidelity --by`'s coverage, recall, held-out and annotated columns in their places."""
    def measures(base: float) -> dict:
        return {m: base + k / 10 for k, m in enumerate(("unexplained", "mse", "failed", "kept"))
                } | {f"{m}_{side}": base + k / 10 + shift for k, m in
                     enumerate(("unexplained", "mse", "failed", "kept"))
                     for side, shift in (("low", -0.01), ("high", 0.01))}
    rec = {"run": "r", "data": "d", "codes": "encoder", "photos": 30, "unknown_rows": 0,
           "by": "g", "groups": {"a": {"n": 10, **measures(0.1)}, "b": {"n": 20, **measures(0.5)}},
           "all": {"n": 30, **measures(0.3)}}
    (tmp_path / "reconstruction.json").write_text(json.dumps(rec))
    (table,) = [b for b in auditing.page(tmp_path).sections[0].blocks if isinstance(b, Table)]
    assert table.columns == ["group", "photos", "variance missed (95%)", "pixel MSE (95%)",
                             "failed (95%)", "identity kept (95%)"]
    assert [r[:4] for r in _texts(table)] == [
        ["a", "10", "0.1000 [0.0900, 0.1100]", "0.2000 [0.1900, 0.2100]"],
        ["b", "20", "0.5000 [0.4900, 0.5100]", "0.6000 [0.5900, 0.6100]"],
        ["all", "30", "0.3000 [0.2900, 0.3100]", "0.4000 [0.3900, 0.4100]"]]
    (tmp_path / "reconstruction.json").unlink()

    group = {"class": "a", "n_real": 30, "n_not_embedded": 1, "coverage": 0.51,
             "coverage_ci": [0.31, 0.69], "recall": 0.42, "recall_ci": [0.22, 0.62],
             "reference_coverage": 0.61, "reference_recall": 0.52, "n_generated": 25,
             "precision": 0.71, "density": 0.81}
    summary = {"source": {"run": "r"}, "data": "/x/faces", "k": 5,
               "reference": {}, "groups": {"tone": [group]},
               "trends": {"tone": {"coverage": {"slope": 0.05, "low": 0.01, "high": 0.09},
                                   "recall": {"slope": -0.04, "low": -0.08, "high": 0.02}}}}
    (tmp_path / "fidelity.json").write_text(json.dumps(summary))
    by_tone = auditing.page(tmp_path).sections[1]
    (groups,) = [b for b in by_tone.blocks if isinstance(b, Table)]
    trend = dict(next(b for b in by_tone.blocks if isinstance(b, Facts)).items)
    assert trend["along the order of tone"] == ("coverage 0.05 per step, 95% [0.01, 0.09]; "
                                                "recall -0.04 per step, 95% [-0.08, 0.02]")
    assert groups.columns[3:] == ["coverage", "interval", "recall", "interval",
                                  "held-out coverage", "held-out recall",
                                  "generated n (annotated)", "precision", "density"]
    assert _texts(groups) == [["a", "30", "1", "0.51", "[0.310, 0.690]", "0.42",
                               "[0.220, 0.620]", "0.61", "0.52", "25", "0.71", "0.81"]]


def test_sample_groups_cells(tmp_path: Path) -> None:
    """`audit sample-groups`: the base rate, the share annotated as the group and among prior
    samples each with its own interval, and the annotated shares by group (rows) and class."""
    def group(name: str, rows: int, base: float, own: float, prior: float) -> dict:
        return {"class": name, "rows": rows, "base_rate": base, "components": 2,
                "chosen_by": "bic", "share_annotated": own, "share_annotated_low": own - 0.1,
                "share_annotated_high": own + 0.1, "prior_share": prior,
                "prior_share_low": prior - 0.05, "prior_share_high": prior + 0.05,
                "annotator_recall": 0.9, "annotator_recall_low": 0.8,
                "annotator_recall_high": 0.95, "annotator_recall_n": 40,
                "annotated": {"a": own, "b": 1 - own}}
    summary = {"run": "r", "data": "/x/faces", "attribute": "g", "n": 8, "seed": 0,
               "measure": 50, "groups": [group("a", 120, 0.6, 0.7, 0.55),
                                         group("b", 80, 0.4, 0.2, 0.45)]}
    (tmp_path / "groups.json").write_text(json.dumps(summary))
    table, annotated = [b for b in auditing.page(tmp_path).sections[0].blocks
                        if isinstance(b, Table)]
    assert _texts(table) == [
        ["a", "120", "0.600", "2 (lowest BIC)", "0.700 [0.600, 0.800]", "0.550 [0.500, 0.600]",
         "0.900 [0.800, 0.950] of 40 held out"],
        ["b", "80", "0.400", "2 (lowest BIC)", "0.200 [0.100, 0.300]", "0.450 [0.400, 0.500]",
         "0.900 [0.800, 0.950] of 40 held out"]]
    assert _texts(annotated) == [["a", "0.700", "0.300"], ["b", "0.200", "0.800"]]
