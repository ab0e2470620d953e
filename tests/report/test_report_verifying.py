"""The verification sections of an audit report (:mod:`latentplay.report.verifying`), from
hand-written ``verification.json`` contents: which columns appear, how rates are written, the
comparison of several columns, and files that are not verification outputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from latentplay.audit.verification import COMPARISON
from latentplay.errors import UserError
from latentplay.report import verifying
from latentplay.report.page import Facts, Table


def _group(name: str, share: float | None) -> dict:
    return {"group": name, "faces": 100, "no_face_share": share, "flagged_dropped": 3,
            "genuine": 40, "impostor": 50, "accuracy": 0.91234, "accuracy_std": 0.0123,
            "auc": 0.95, "eer": 0.08, "fmr": 0.0123456, "fmr_low": 0.00812, "fmr_high": 0.0191,
            "fnmr": 0.2, "fnmr_low": 0.15, "fnmr_high": 0.26, "tar_at_fmr": {"0.1": 0.7}}


def _summary(share: float | None, column: str = "dlib") -> dict:
    return {"data": "data/rfw", "column": column, "metric": "euclidean", "by": "race",
            "pairs": {"file": "data/rfw/pairs.csv", "used": 90, "unconverted": 2,
                      "flagged_dropped": 6},
            "threshold": 0.6, "threshold_from": {"given": 0.6}, "folds": 10,
            "intervals": "Wilson (pairs taken as independent)",
            "groups": [_group("African", share), _group("Asian", share)],
            "overall": _group("all pairs", share)}


def _table(sections: list) -> Table:
    return next(b for b in sections[0].blocks if isinstance(b, Table))


def test_table_rows_rates_and_face_columns() -> None:
    found = verifying.sections(Path("run"), _summary(0.25))
    assert found[0].anchor == "verification-dlib"
    table = _table(found)
    assert [r[0].text for r in table.rows] == ["African", "Asian", "all pairs"]
    assert "no face found" in table.columns and "TAR at FMR 0.1" in table.columns
    fmr = table.rows[0][table.columns.index("FMR [95%]")].text
    assert fmr == "0.0123 [0.0081, 0.019]"  # three significant digits, two for the bounds
    assert table.rows[0][table.columns.index("no face found")].text == "25.0 %"
    assert "Wilson" in table.caption
    # an embedder that looks for no face: the face columns are left out
    assert "no face found" not in _table(verifying.sections(Path("run"), _summary(None))).columns


def test_drawn_pairs_are_an_upper_bound_per_group() -> None:
    """Pairs drawn from the persons: ``per_group`` is the most each group gets (a group with
    few persons or photos has fewer), which the facts must not state as every group's count."""
    summary = {**_summary(0.25), "pairs": {"identity": "identity", "per_group": 3000, "used": 90,
                                           "unconverted": 0, "flagged_dropped": 0}}
    facts = next(b for b in verifying.sections(Path("run"), summary)[0].blocks
                 if isinstance(b, Facts))
    assert dict(facts.items)["pairs"].startswith("drawn from identity (up to 3,000 of each kind")


def test_comparison_then_each_column(tmp_path: Path) -> None:
    for column in ("dlib", "clip"):
        (tmp_path / column).mkdir()
        (tmp_path / column / "verification.json").write_text(json.dumps(_summary(None, column)))
    comparison = {"data": "data/rfw", "by": "race", "columns": ["dlib", "clip"], "fmr": 0.001,
                  "pairs_used": 90,
                  "per_column": {c: {"threshold": 0.5, "overall": _group("all pairs", None),
                                     "differentials": {"skewed_error_ratio": 1.5}}
                                 for c in ("dlib", "clip")}}
    found = verifying.comparison_sections(tmp_path, comparison)
    assert [s.anchor for s in found] == ["comparison", "verification-dlib", "verification-clip"]
    assert [r[0].text for r in _table(found).rows] == ["dlib", "clip"]
    # the report and the audit name the comparison file alike
    assert verifying.COMPARISON_FILE == COMPARISON


def test_foreign_files_are_refused() -> None:
    with pytest.raises(UserError, match="not the output of `latentplay audit verify`"):
        verifying.sections(Path("run"), {"groups": []})
    with pytest.raises(UserError, match="--column A,B"):
        verifying.comparison_sections(Path("run"), {"columns": "dlib"})


def _adjusted(**extra: object) -> dict:
    """An ``adjusted`` block of ``verification.json``: b's standardized FNMR rests 37 % on
    strata where it has under 5 pairs; ``extra`` adds the fields newer runs record."""
    def group(name: str, sparse: float) -> dict:
        return {"group": name, "genuine": 40, "fnmr": 0.2, "standardized": 0.18,
                "interval": [0.1, 0.3], "strata_without_pairs": 0, "sparse_weight": sparse}
    return {"covariates": ["pose_yaw:diff"], "strata": 4, "cells": 4, "pairs": 80,
            "left_out": 0, "groups": [group("a", 0.0), group("b", 0.37)], "fnmr_ratio": 1.2,
            "standardized_ratio": 1.1, **extra}


def test_adjusted_table_flags_sparse_weight_and_says_the_strata_used() -> None:
    """The sparse weight is a column, highlighted for b only; where ties left fewer strata the
    caption says how many and how many cells hold pairs; an older run without these fields
    still renders, its sparse weights as —."""
    table = verifying.sections(Path("run"), {**_summary(None), "adjusted": _adjusted(
        strata_used=[2], cells_filled=2)})[0].blocks[-1]
    column = table.columns.index("sparse weight")
    assert [(r[column].text, r[column].flag) for r in table.rows] == [
        ("0", False), ("0.37", True), ("—", False)]
    assert "(ties leave 2 strata of pose_yaw:diff; 2 of 4 cells filled, 80 genuine pairs)" \
        in table.caption
    old = _adjusted()
    for g in old["groups"]:
        del g["sparse_weight"]
    table = verifying.sections(Path("run"), {**_summary(None), "adjusted": old})[0].blocks[-1]
    assert [r[column].text for r in table.rows] == ["—"] * 3
    assert "over 4 quantile strata of pose_yaw:diff (4 cells, 80 genuine pairs)" in table.caption


def _texts(table: Table) -> list[list[str]]:
    return [[c.text for c in row] for row in table.rows]


def test_each_measure_in_its_column() -> None:
    """Per group and over all pairs: the pair counts, accuracy, its sd, AUC, EER, both rates
    with their own bounds and the TAR; then the differentials, the trend and the standardized
    FNMR beside the raw one, each under its header."""
    summary = _summary(None)
    summary["groups"][0].update(genuine=41, impostor=52, accuracy=0.912, accuracy_std=0.0123,
                                auc=0.951, eer=0.082)
    summary["differentials"] = {"accuracy_mean": 0.9, "accuracy_std": 0.02,
                                "skewed_error_ratio": 1.4, "fmr_ratio": 2.5, "fnmr_ratio": 1.7}
    summary["trend"] = {"groups": ["African", "Asian"], "intervals": "bootstrap",
                        "fmr": {"slope": 0.011, "low": 0.004, "high": 0.019, "pairs": 50},
                        "fnmr": {"slope": -0.031, "low": -0.052, "high": -0.012, "pairs": 40}}
    adjusted = _adjusted()
    adjusted["groups"][0].update(fnmr=0.21, standardized=0.17)
    summary["adjusted"] = adjusted
    rates, differentials, trend, standardized = [
        b for b in verifying.sections(Path("run"), summary)[0].blocks if isinstance(b, Table)]
    assert _texts(rates)[0] == ["African", "100", "41", "52", "0.912", "0.0123", "0.951",
                                "0.082", "0.0123 [0.0081, 0.019]", "0.2 [0.15, 0.26]", "0.7"]
    assert [r[0] for r in _texts(rates)] == ["African", "Asian", "all pairs"]
    assert _texts(differentials) == [["0.9", "0.02", "1.4", "2.5", "1.7"]]   # no intervals yet
    summary["differentials"].update(fmr_ratio_low=1.0, fmr_ratio_high=4.1, fnmr_ratio_low=1.21,
                                    fnmr_ratio_high=2.35)
    differentials = [b for b in verifying.sections(Path("run"), summary)[0].blocks
                     if isinstance(b, Table)][1]
    assert _texts(differentials) == [["0.9", "0.02", "1.4", "2.5 [1, 4.1]", "1.7 [1.2, 2.4]"]]
    assert _texts(trend) == [["FMR", "African .. Asian", "0.011", "[0.004, 0.019]", "50"],
                             ["FNMR", "African .. Asian", "-0.031", "[-0.052, -0.012]", "40"]]
    assert _texts(standardized)[0][:5] == ["a", "40", "0.21", "0.17", "[0.1, 0.3]"]
    assert _texts(standardized)[2][2:4] == ["1.2", "1.1"]
    del summary["by"]   # no groups: all pairs alone
    rates = next(b for b in verifying.sections(Path("run"), summary)[0].blocks
                 if isinstance(b, Table))
    assert [r[0] for r in _texts(rates)] == ["all pairs"]


def test_the_comparison_gives_each_column_its_own_numbers(tmp_path: Path) -> None:
    """Each column's row holds its overall accuracy, AUC and EER, its differentials and its
    threshold, in the headers' order."""
    overall = {"accuracy": 0.912, "auc": 0.951, "eer": 0.082}
    differentials = {"accuracy_std": 0.021, "skewed_error_ratio": 1.4, "fmr_ratio": 2.5,
                     "fnmr_ratio": 1.7}
    comparison = {"data": "data/rfw", "by": "race", "columns": ["dlib"], "fmr": 0.001,
                  "pairs_used": 90, "per_column": {"dlib": {
                      "threshold": 0.55, "overall": overall, "differentials": differentials}}}
    table = _table(verifying.comparison_sections(tmp_path, comparison))
    assert _texts(table) == [["dlib", "0.912", "0.951", "0.082", "0.021", "1.4", "2.5", "1.7",
                              "0.55"]]                              # no intervals yet
    differentials.update(fmr_ratio_low=1.0, fmr_ratio_high=6.3, fnmr_ratio_low=1.1,
                         fnmr_ratio_high=2.6)
    table = _table(verifying.comparison_sections(tmp_path, comparison))
    assert _texts(table)[0][6:8] == ["2.5 [1, 6.3]", "1.7 [1.1, 2.6]"]
