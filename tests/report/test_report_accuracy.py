"""The report section of ``latentplay audit accuracy``: the accuracy gap with the gap that
chance alone gives groups of these sizes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from latentplay.report.accuracy import section
from latentplay.report.page import Facts, Page, Table
from latentplay.report.render import render
from latentplay.viz.accuracy import accuracy_bars


def _summary(**across: Any) -> dict[str, Any]:
    """An ``accuracy.json`` of classes over two groups with ``across`` added."""
    def row(group: str, n: int, correct: int) -> dict[str, Any]:
        return {"group": group, "n": n, "correct": correct, "accuracy": correct / n,
                "low": correct / n - 0.1, "high": min(correct / n + 0.1, 1.0),
                "no_prediction": 0, "accuracy_predicted": correct / n}
    return {"data": "faces", "predicted": "pred", "truth": "label", "kind": "classes",
            "by": "group", "left_out": 0, "intervals": "Wilson",
            "groups": [row("a", 40, 36), row("b", 20, 15)], "overall": row("all", 60, 51),
            "across": {"error_ratio": 2.5, "accuracy_gap": 0.15,
                       "detectable_gap": {"group": "b", "gap": 0.3}, **across}}


def test_the_gap_stands_beside_its_chance_gap(tmp_path: Path) -> None:
    """The page shows ``chance_gap``, and ``chance_gap_over_persons`` where there is one."""
    summary = _summary(chance_gap=0.0712, chance_gap_over_persons=0.1093)
    accuracy_bars(summary).savefig(tmp_path / "accuracy.png")
    html = render(Page("audit", "accuracy", str(tmp_path), [section(tmp_path, summary)]))
    assert "0.071 by chance alone" in html and "0.109 over persons" in html
    del summary["across"]["chance_gap_over_persons"]
    html = render(Page("audit", "accuracy", str(tmp_path), [section(tmp_path, summary)]))
    assert "0.071 by chance alone" in html and "over persons" not in html


def test_rows_left_out_apart_from_left_out_are_still_counted(tmp_path: Path) -> None:
    """Rows labelled with a class the predictions cannot name (``unnamed``) and, for values,
    rows without a reading (``no_reading``) are not in ``left_out``: the page counts them."""
    summary = _summary()
    summary["unnamed"] = {"rows": 7, "classes": ["other"]}
    accuracy_bars(summary).savefig(tmp_path / "accuracy.png")
    html = render(Page("audit", "accuracy", str(tmp_path), [section(tmp_path, summary)]))
    assert "labels the predictions cannot name" in html and "7 rows (other), left out" in html

    def row(group: str, n: int, unread: int) -> dict[str, Any]:
        return {"group": group, "n": n, "no_reading": unread, "mae": 2.0, "mae_low": 1.5,
                "mae_high": 2.5, "bias": 0.1, "bias_low": -0.2, "bias_high": 0.4, "r": 0.9}
    values = {"data": "faces", "predicted": "read_age", "truth": "age", "kind": "values",
              "by": "group", "left_out": 0, "intervals": "normal",
              "groups": [row("a", 40, 0), row("b", 4, 6)], "overall": row("all", 44, 6)}
    table = next(b for b in section(tmp_path, values).blocks if isinstance(b, Table))
    column = table.columns.index("without a reading")
    assert [r[column].text for r in table.rows] == ["0", "6", "6"]


def _adjusted(**extra: Any) -> dict[str, Any]:
    """An ``adjusted`` block of ``accuracy.json``: b's standardized error rests 50 % on strata
    where it has under 5 rows; ``extra`` adds the fields newer runs record."""
    def group(name: str, sparse: float) -> dict[str, Any]:
        return {"group": name, "n": 100, "error": 0.2, "standardized": 0.18, "low": 0.1,
                "high": 0.3, "strata_without_rows": 0, "sparse_weight": sparse}
    return {"covariates": ["frontal"], "strata": 4, "cells": 4, "rows": 200, "left_out": 0,
            "measure": "error rate", "groups": [group("a", 0.0), group("b", 0.5)],
            "error_ratio": 1.2, "standardized_ratio": 1.1, **extra}


def test_adjusted_table_flags_sparse_weight_and_says_the_strata_used(tmp_path: Path) -> None:
    """The sparse weight is a column, highlighted for b only; where ties left fewer strata the
    caption says how many and how many cells hold rows; an older run without these fields
    still renders, its sparse weights as —."""
    accuracy_bars(_summary()).savefig(tmp_path / "accuracy.png")

    def adjusted_table(adjusted: dict[str, Any]) -> Table:
        blocks = section(tmp_path, {**_summary(), "adjusted": adjusted}).blocks
        return next(b for b in blocks if isinstance(b, Table) and "sparse weight" in b.columns)

    table = adjusted_table(_adjusted(strata_used=[2], cells_filled=2))
    column = table.columns.index("sparse weight")
    assert [(r[column].text, r[column].flag) for r in table.rows] == [("0", False), ("0.5", True)]
    assert table.caption.startswith("Standardized over 4 quantile strata of frontal (ties leave "
                                    "2 strata of frontal; 2 of 4 cells filled, 200 rows):")
    old = _adjusted()
    for g in old["groups"]:
        del g["sparse_weight"]
    table = adjusted_table(old)
    assert [r[column].text for r in table.rows] == ["—", "—"]
    assert table.caption.startswith("Standardized over 4 quantile strata of frontal (4 cells, ")


def _texts(table: Table) -> list[list[str]]:
    return [[c.text for c in row] for row in table.rows]


def _tables(summary: dict[str, Any], run: Path) -> list[Table]:
    from PIL import Image

    for name in ("accuracy.png", "parity.png", "calibration.png"):
        Image.new("RGB", (4, 4)).save(run / name)
    return [b for b in section(run, summary).blocks if isinstance(b, Table)]


def test_each_number_of_the_accuracy_tables_in_its_column(tmp_path: Path) -> None:
    """Per group and over all rows: accuracy, its interval and the rows without a prediction
    in their columns; the adjusted errors, raw before standardized; parity's selection, base
    rate, TPR and FPR; calibration's confidence, accuracy and ECE against chance, and the
    selective answers."""
    summary = _summary()
    summary["groups"][0].update(no_prediction=2, accuracy_predicted=0.95, low=0.8, high=0.96)
    summary["adjusted"] = _adjusted()
    summary["adjusted"]["groups"][0].update(error=0.21, standardized=0.17)

    def parity_row(group: str, n: int, base: float) -> dict[str, Any]:
        return {"group": group, "n": n, "selection": base, "selection_low": base - 0.1,
                "selection_high": base + 0.1, "base_rate": base + 0.02, "tpr": base + 0.3,
                "tpr_low": base + 0.2, "tpr_high": base + 0.4, "fpr": base - 0.2,
                "fpr_low": base - 0.25, "fpr_high": base - 0.15}
    summary["parity"] = {"positive": "yes", "groups": [parity_row("a", 40, 0.5),
                                                      parity_row("b", 0, 0.4)],
                         "overall": parity_row("all", 60, 0.45)}

    def calibrated(group: str, n: int) -> dict[str, Any]:
        return {"group": group, "n": n, "confidence": 0.93, "accuracy": 0.81,
                "overconfidence": 0.12, "low": 0.07, "high": 0.17, "ece": 0.14,
                "ece_null": 0.04, "ece_p": 0.02,
                "selective": {"coverage": 0.6, "accuracy": 0.97, "low": 0.9, "high": 0.99,
                              "errors_passed": 0.3}}
    summary.update(confidence="conf", calibration={
        "groups": [calibrated("a", 40)], "overall": calibrated("all", 60), "threshold": 0.9,
        "bins": 10, "draws": 999})
    summary["across"]["chi2"] = {"statistic": 4.5, "dof": 1, "p_value": 0.034,
                                 "p_value_simulated": 0.041, "sparse": 0.25, "min_expected": 3.0}
    classes, adjusted, parity, calibration, selective = _tables(summary, tmp_path)
    facts = dict(next(b for b in section(tmp_path, summary).blocks if isinstance(b, Facts)).items)
    assert facts["error ratio, accuracy gap"] == "2.5, 0.150"
    assert facts["chi-square of equal accuracy"].startswith("4.5 on 1 dof, p = 0.034; ")
    assert facts["chi-square of equal accuracy"].endswith(": p = 0.041 simulated with the margins fixed")
    assert _texts(classes)[0] == ["a", "40", "36", "0.900", "[0.800, 0.960]", "2", "0.950"]
    assert [r[0] for r in _texts(classes)] == ["a", "b", "all"]
    assert _texts(adjusted)[0][:5] == ["a", "100", "0.21", "0.17", "[0.1, 0.3]"]
    assert _texts(parity) == [   # b has no rows: no line
        ["a", "40", "0.500", "[0.400, 0.600]", "0.520", "0.800", "[0.700, 0.900]", "0.300",
         "[0.250, 0.350]"],
        ["all", "60", "0.450", "[0.350, 0.550]", "0.470", "0.750", "[0.650, 0.850]", "0.250",
         "[0.200, 0.300]"]]
    assert _texts(calibration)[0] == ["a", "40", "0.930", "0.810", "0.120", "[0.070, 0.170]",
                                      "0.140", "0.040", "0.02"]
    assert _texts(selective)[0] == ["a", "40", "0.600", "0.970", "[0.900, 0.990]", "0.300"]


def test_each_number_of_the_values_table_in_its_column(tmp_path: Path) -> None:
    """A value read against a label: the mean absolute error and the bias, each with its own
    interval, and the correlation, for each group and all rows."""
    def row(group: str, base: float) -> dict[str, Any]:
        return {"group": group, "n": 40, "mae": base, "mae_low": base - 0.5,
                "mae_high": base + 0.5, "bias": base / 10, "bias_low": base / 10 - 0.25,
                "bias_high": base / 10 + 0.25, "r": 0.9}
    values = {"data": "faces", "predicted": "read_age", "truth": "age", "kind": "values",
              "by": "group", "left_out": 0, "groups": [row("a", 2.0), row("b", 3.0)],
              "overall": row("all", 2.5)}
    (table,) = _tables(values, tmp_path)
    assert _texts(table) == [["a", "40", "2", "[1.5, 2.5]", "0.2", "[-0.05, 0.45]", "0.9"],
                             ["b", "40", "3", "[2.5, 3.5]", "0.3", "[0.05, 0.55]", "0.9"],
                             ["all", "40", "2.5", "[2, 3]", "0.25", "[0, 0.5]", "0.9"]]
