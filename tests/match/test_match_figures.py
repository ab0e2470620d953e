"""The figures of `latentplay match run`: the propensity-score overlap (whenever a score was
fitted), the group sizes of the attribute-means chart, the distance named in ``pairs.png``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from match_reference import read_rows

from latentplay.match import balance as bal
from latentplay.match.pipeline import MatchConfig, group_sizes, run
from latentplay.report.matching import page


def _spy(monkeypatch: pytest.MonkeyPatch, module: str, name: str) -> list[dict[str, Any]]:
    """Record the arguments of every call of ``module.name`` (still drawing the figure)."""
    import importlib

    mod = importlib.import_module(module)
    real, calls = getattr(mod, name), []

    def spy(*args: Any, **kwargs: Any) -> Any:
        calls.append({"args": args, **kwargs})
        return real(*args, **kwargs)

    monkeypatch.setattr(mod, name, spy)
    return calls


@pytest.mark.parametrize(("config", "fitted"), [
    ({"method": "propensity", "replace": True}, "own"),
    ({"method": "optimal", "distance": "propensity", "partial": True}, "own"),
    ({"method": "mahalanobis", "second_caliper": 1.0, "second_caliper_on": ["propensity"],
      "propensity_covariates": ["x0"], "partial": True}, "second"),
    ({"method": "nearest", "partial": True}, None),
])
def test_propensity_png_whenever_a_score_is_fitted(sim: Path, tmp_path: Path, undrawn,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   config: dict, fitted: str | None) -> None:
    """``propensity.png`` is written (and shown in the report) exactly when a propensity model
    was fitted, with the fitted scores of every unit and the matching weights; the x label
    names the treated class and the model's covariates."""
    undrawn("love_plot", "attribute_means")  # not looked at here
    calls = _spy(monkeypatch, "latentplay.viz.balance", "propensity_overlap")
    out = tmp_path / "m"
    cfg = MatchConfig(treatment="group", covariates=["z"], bootstrap=100, **config)
    summary = run(sim, cfg, out)
    assert (out / "propensity.png").exists() == (fitted is not None)
    shown = [f.caption for s in page(out).sections if s.anchor == "figures" for f in s.blocks]
    assert any("propensity score" in c.lower() for c in shown) == (fitted is not None)
    if fitted is None:
        assert not calls
        return
    (call,) = calls
    score, treated, weights = call["args"]
    assert len(score) == len(treated) == summary["counts"]["treated"] + summary["counts"]["controls"]
    assert ((score > 0) & (score < 1)).all()
    assert weights[~treated].sum() == pytest.approx(summary["counts"]["matched_treated"])
    assert call["xlabel"] == "propensity score P(treated | " + ("z)" if fitted == "own" else "x0)")
    assert call["weighted"] == bool(cfg.replace)
    if cfg.method == "propensity":  # the scores pairs.csv gives
        pairs = read_rows(out / "pairs.csv")
        t = [int(p["treated_index"]) for p in pairs]
        np.testing.assert_allclose(score[t], [float(p["treated_propensity"]) for p in pairs],
                                   rtol=1e-5)


def test_group_sizes_count_matched_units_and_their_weights() -> None:
    """Before: every unit of each group; after: the matched ones, with their total weight when
    a control was reused (with replacement) or the weights differ (``--ratio``)."""
    treated = np.array([True, True, True, False, False, False, False])
    w = bal.matching_weights(7, np.array([0, 1, 2]), np.array([3, 3, 4]))
    assert group_sizes(treated, w) == (("n = 3", "n = 4"), ("n = 3", "n = 2, weighted 3"))
    w = bal.matching_weights(7, np.array([0, 1]), np.array([3, 4]))
    assert group_sizes(treated, w) == (("n = 3", "n = 4"), ("n = 2", "n = 2"))


def test_attribute_means_get_group_sizes_and_a_share_label(sim: Path, tmp_path: Path, undrawn,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """The simulated store has no binary attribute: its chart shows means ("mean"), with the
    number of units of each group before and after matching."""
    undrawn("love_plot", "propensity_overlap")  # not looked at here
    calls = _spy(monkeypatch, "latentplay.viz.balance", "attribute_means")
    summary = run(sim, MatchConfig(treatment="group", covariates=["z"], replace=True,
                                   bootstrap=100), tmp_path / "m")
    (call,) = calls
    c = summary["counts"]
    assert call["ylabel"] == "mean"
    assert call["sizes"][0] == (f"n = {c['treated']}", f"n = {c['controls']}")
    assert call["sizes"][1][1].startswith(f"n = {c['matched_controls']}, weighted ")
