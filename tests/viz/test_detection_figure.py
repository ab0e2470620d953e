"""The detection sweep's figure says what its bands are and draws one for every line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure

from latentplay.viz import detection


def _group(n: int, share: np.ndarray) -> dict[str, object]:
    return {"n": n, "share": share, "low": share - 0.05, "high": share + 0.05}


def test_every_line_has_its_band_and_the_title_names_it(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    t = np.linspace(-0.5, 1.0, 7)
    sweep = {"thresholds": t, "cut": 0.0, "ordered": False, "label": "hog", "by": "gender",
             "groups": {"female": _group(30, np.linspace(0.9, 0.2, 7)),
                        "male": _group(30, np.linspace(0.95, 0.3, 7))},
             "all": _group(60, np.linspace(0.92, 0.25, 7))}
    drawn: list[Figure] = []
    monkeypatch.setattr(detection, "save_figure", lambda fig, path: drawn.append(fig))
    detection.plot_sweep(sweep, tmp_path / "sweep.png")
    ax = drawn[0].axes[0]
    assert "95 % intervals" in ax.get_title()
    bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
    lines = [line for line in ax.lines if not line.get_label().startswith("_")]  # not the cut
    assert len(bands) == len(lines) == 3
    # each band spans its own group's interval at every threshold, in its line's colour
    for line, band, g in zip(lines, bands, [*sweep["groups"].values(), sweep["all"]], strict=True):
        np.testing.assert_allclose(line.get_ydata(), g["share"])
        outline = band.get_paths()[0].vertices
        for x, low, high in zip(t, g["low"], g["high"], strict=True):
            at_x = outline[np.isclose(outline[:, 0], x), 1]
            assert (at_x.min(), at_x.max()) == pytest.approx((low, high)), (line.get_label(), x)
        assert to_rgb(band.get_facecolor()[0]) == pytest.approx(to_rgb(line.get_color()))


def test_a_long_title_stays_inside_the_figure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """dlib's CNN detector within each skin_tone: the title was wider than the figure and lost
    its first letters at the left edge."""
    t = np.linspace(-0.5, 1.0, 7)
    share = np.linspace(0.9, 0.2, 7)
    sweep = {"thresholds": t, "cut": 0.0, "ordered": True, "label": "dlib's CNN face detector",
             "by": "skin_tone", "groups": {f"monk_{k}": _group(30, share) for k in range(1, 11)},
             "all": _group(300, share)}
    drawn: list[Figure] = []
    monkeypatch.setattr(detection, "save_figure", lambda fig, path: drawn.append(fig))
    detection.plot_sweep(sweep, tmp_path / "sweep.png")
    fig = drawn[0]
    fig.canvas.draw()
    box, frame = fig.axes[0].title.get_window_extent(), fig.bbox
    assert box.x0 >= frame.x0 and box.x1 <= frame.x1 and box.y1 <= frame.y1
    assert " ".join(fig.axes[0].get_title().split()).startswith("faces found by dlib's CNN")


def test_plot_sweep_returns_its_figure_and_writes_a_file_only_when_given_a_path(tmp_path: Path) -> None:
    """It returned None, unlike the other figure functions."""
    share = np.linspace(0.9, 0.2, 5)
    sweep = {"thresholds": np.linspace(-0.5, 1.0, 5), "cut": 0.0, "ordered": False, "label": "hog",
             "by": "gender", "groups": {"f": _group(10, share)}, "all": _group(10, share)}
    assert isinstance(detection.plot_sweep(sweep), Figure) and not list(tmp_path.iterdir())
    fig = detection.plot_sweep(sweep, tmp_path / "sweep.png")
    assert isinstance(fig, Figure) and (tmp_path / "sweep.png").is_file()


def test_many_groups_are_told_apart_by_more_than_colour(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Ten skin tones were ten solid lines of neighbouring copper shades (2.3 CIEDE2000 apart
    to a deuteranope): past five groups, neighbours differ in line style and marker too."""
    t = np.linspace(-0.5, 1.0, 9)
    share = np.linspace(0.9, 0.2, 9)
    drawn: list[Figure] = []
    monkeypatch.setattr(detection, "save_figure", lambda fig, path: drawn.append(fig))
    for count in (2, 10):
        sweep = {"thresholds": t, "cut": 0.0, "ordered": True, "label": "hog", "by": "skin_tone",
                 "groups": {f"monk_{k}": _group(30, share) for k in range(1, count + 1)},
                 "all": _group(300, share)}
        detection.plot_sweep(sweep, tmp_path / "sweep.png")
    few, many = ([line for line in fig.axes[0].lines if line.get_label().startswith("monk")]
                 for fig in drawn)
    assert {(line.get_linestyle(), line.get_marker()) for line in few} == {("-", "None")}
    looks = [(line.get_linestyle(), line.get_marker()) for line in many]
    assert all(a != b for a, b in zip(looks, looks[1:], strict=False))   # neighbours differ
    legend = drawn[1].axes[0].get_legend()
    assert legend.get_lines()[0].get_marker() == "o"                  # and the legend shows it
