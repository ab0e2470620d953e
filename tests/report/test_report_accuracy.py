"""The report section of ``latentplay audit accuracy``: the accuracy gap with the gap that
chance alone gives groups of these sizes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from latentplay.report.accuracy import section
from latentplay.report.page import Page
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
    assert "0.0712 by chance alone" in html and "0.1093 over persons" in html
    del summary["across"]["chance_gap_over_persons"]
    html = render(Page("audit", "accuracy", str(tmp_path), [section(tmp_path, summary)]))
    assert "0.0712 by chance alone" in html and "over persons" not in html
