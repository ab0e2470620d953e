"""Figures laid out to fit their labels (verification's, the distribution figures and the report's
own) are drawn once when saved: no layout engine left on them makes ``savefig`` lay the whole
figure out a second time first."""

from __future__ import annotations

import io
from collections.abc import Callable

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure

from latentplay.report import figures as report_figures
from latentplay.report import images
from latentplay.viz import distribution, verification

RNG = np.random.default_rng(0)
PARTS = [(g, RNG.random(40), np.arange(40) % 2 == 0) for g in ("a", "b")]
RATES = [{"group": g, "fmr": 0.1, "fmr_low": 0.05, "fmr_high": 0.2, "fnmr": 0.2,
          "fnmr_low": 0.1, "fnmr_high": 0.3} for g in ("a", "b")]
GRID = np.array([[0.2, 0.3], [0.1, 0.4]])
FIGURES: dict[str, Callable[[], Figure]] = {
    "det_curves": lambda: verification.det_curves(PARTS, 0.5),
    "score_histograms": lambda: verification.score_histograms(PARTS, 0.5, "distance"),
    "rate_bars": lambda: verification.rate_bars(RATES, 0.5, "over pairs"),
    "column_bars": lambda: verification.column_bars(
        ["a", "b"], ["x", "y"], np.full((2, 2), 0.9), np.full((2, 2), 0.01), np.full((2, 2), 0.1),
        np.full((2, 2), 0.2), 0.01, 10),
    "count_bars": lambda: distribution.count_bars(["a", "b"], [3, 4], "counts"),
    "distribution_bars": lambda: distribution.distribution_bars(
        ["a", "b"], {"training": (np.array([0.4, 0.6]), None)}, title="shares"),
    "intersection_heatmaps": lambda: distribution.intersection_heatmaps(
        ["a", "b"], ["c", "d"], GRID, GRID[::-1]),
    "value_histograms": lambda: distribution.value_histograms({"training": RNG.random(30)}),
    "shares_by_setting": lambda: distribution.shares_by_setting(
        [1.0, 0.5], ["a", "b"], np.array([[0.4, 0.6], [0.3, 0.7]]),
        np.stack([np.array([[0.4, 0.6], [0.3, 0.7]]) - 0.1, np.array([[0.4, 0.6], [0.3, 0.7]]) + 0.1],
                 axis=-1)),
}


def _draws(monkeypatch: pytest.MonkeyPatch) -> list[Figure]:
    """Every ``Figure.draw`` from now on, in a list."""
    drawn: list[Figure] = []
    real = Figure.draw

    def counted(self: Figure, renderer: object) -> None:
        drawn.append(self)
        real(self, renderer)

    monkeypatch.setattr(Figure, "draw", counted)
    return drawn


@pytest.mark.parametrize("name", FIGURES)
def test_a_laid_out_figure_is_drawn_once_when_saved(name: str,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    fig = FIGURES[name]()
    drawn = _draws(monkeypatch)
    fig.savefig(io.BytesIO(), format="png", dpi=40)
    plt.close(fig)
    assert drawn == [fig]


@pytest.mark.parametrize("build", [
    lambda: report_figures.curves({"loss": {"train": ([1, 2], [0.5, 0.4])}}, "epoch", "losses"),
    lambda: report_figures.latent_dimensions(np.ones(3), np.ones(3), None, None),
    lambda: report_figures.spectrum(np.array([3.0, 2.0, 1.0]), "spectrum"),
], ids=["curves", "latent_dimensions", "spectrum"])
def test_a_report_figure_is_drawn_once(build: Callable[[], str],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    drawn = _draws(monkeypatch)
    saved: list[Figure] = []
    real = images.figure_uri

    def seen(fig: Figure, dpi: int = 100) -> str:
        saved.append(fig)
        return real(fig, dpi=40)

    monkeypatch.setattr(report_figures, "figure_uri", seen)
    assert build().startswith("data:image/png")
    assert len(saved) == 1 and drawn == saved


def test_no_module_leaves_a_layout_engine_on_its_figures() -> None:
    """Every figure latentplay lays out goes through :func:`latentplay.viz.style.tight_layout`:
    ``Figure.tight_layout`` leaves a placeholder engine that makes ``savefig`` lay the figure out
    a second time."""
    import re
    from pathlib import Path

    import latentplay

    root = Path(latentplay.__file__).parent
    call = re.compile(r"^\s*[\w.\[\], ]+\.tight_layout\(", re.MULTILINE)
    calling = [str(p.relative_to(root)) for p in root.rglob("*.py") if call.search(p.read_text())]
    assert calling == []


def test_an_interval_spanning_zero_to_one_is_a_faint_line_not_the_axis() -> None:
    """A corrected share the annotator cannot pin down (95 % interval 0-1) is drawn as a dotted
    line off the top, named in the legend; the axis keeps to the informative bars."""
    from latentplay.viz.distribution import distribution_bars

    props = np.array([0.1, 0.6, 0.3])
    informative = np.array([[0.05, 0.15], [0.5, 0.7], [0.2, 0.4]])
    fig = distribution_bars(["a", "b", "c"], {
        "training": (props, informative),
        "corrected": (np.array([0.0, 0.7, 0.3]), np.array([[0.0, 1.0], [0.6, 0.8], [0.0, 0.99]]))})
    ax = fig.axes[0]
    assert ax.get_ylim()[1] == pytest.approx(0.8 * 1.12)
    dotted = [c for c in ax.collections if c.get_linestyle()[0][1] is not None]
    assert len(dotted) == 1 and len(dotted[0].get_segments()) == 2
    texts = [t.get_text() for legend in fig.legends for t in legend.get_texts()]
    assert texts[:2] == ["training", "corrected"] and "cannot tell this class apart" in texts[2]
    plain = distribution_bars(["a", "b", "c"], {"training": (props, informative)})
    assert len(plain.legends) == 1
