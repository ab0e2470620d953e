"""``match.index`` in ``summary.json`` (and ``MatchResult.info["index"]``) names the kinds of
search the matching ran, not the one asked for: ``--index ivf`` or ``hnsw`` searches exactly
below ``knn.EXACT_BELOW`` available controls."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from latentplay.match import knn, match
from latentplay.match.pipeline import MatchConfig, run


def _units(n: int = 240, dim: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """``(n, dim)`` points and ``(n,)`` bool groups, a third of them treated."""
    rng = np.random.default_rng(0)
    return rng.standard_normal((n, dim)), np.arange(n) % 3 == 0


@pytest.mark.parametrize("index", ["ivf", "hnsw"])
@pytest.mark.parametrize("how", [{}, {"replace": True}, {"ratio": 2},
                                 {"method": "optimal"}, {"method": "propensity"}])
def test_few_controls_are_searched_exactly_and_say_so(index: str, how: dict) -> None:
    """160 controls: far below EXACT_BELOW, every search was exact; info said ["ivf"]."""
    x, treated = _units()
    assert match(x, treated, index=index, **how).info["index"] == ["exact"]


@pytest.mark.parametrize("index", ["ivf", "hnsw"])
def test_an_approximate_search_is_named_when_it_ran(monkeypatch: pytest.MonkeyPatch,
                                                    index: str) -> None:
    """With EXACT_BELOW lowered under the controls the approximate index searches first, and
    exactly once few controls are left (greedy matching uses them up)."""
    monkeypatch.setattr(knn, "EXACT_BELOW", 100)
    x, treated = _units()
    assert index in match(x, treated, index=index).info["index"]
    assert match(x, treated, index=index, replace=True).info["index"] == [index]


def test_summary_records_the_search_that_ran(sim: Path, tmp_path: Path, undrawn) -> None:
    undrawn("love_plot", "attribute_means", "propensity_overlap")  # figures not looked at
    cfg = MatchConfig(treatment="group", covariates=["z"], index="hnsw")
    run(sim, cfg, tmp_path / "m")
    summary = json.loads((tmp_path / "m" / "summary.json").read_text())
    assert summary["match"]["index"] == ["exact"] and summary["config"]["index"] == "hnsw"
