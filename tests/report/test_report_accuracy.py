"""The report section of ``latentplay audit accuracy``: the accuracy gap with the gap that
chance alone gives groups of these sizes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from latentplay.report.accuracy import section
from latentplay.report.page import Page, Table
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
