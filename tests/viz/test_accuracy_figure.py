"""The figure of ``latentplay audit accuracy``: groups without a value, bars from 0, and a
title and legend that neither leave the figure nor cover the bars."""

from __future__ import annotations

from typing import Any

import matplotlib.colors as mcolors
import matplotlib.pyplot as plt
import numpy as np
import pytest
from tests.viz.colour_vision import least_gaps

from latentplay.viz.accuracy import accuracy_bars
from latentplay.viz.style import ordered_colors


def _classes(name: str) -> dict[str, Any]:
    """A summary of classes whose groups are 80-100 % right, one of 3 rows all right."""
    groups = [{"group": g, "n": n, "correct": round(a * n), "accuracy": a, "low": lo, "high": hi,
               "no_prediction": 0, "accuracy_predicted": a}
              for g, n, a, lo, hi in (("light", 120, 0.92, 0.87, 0.95),
                                      ("dark", 40, 0.80, 0.66, 0.89),
                                      ("very dark", 3, 1.0, 0.44, 1.0))]
    return {"kind": "classes", "predicted": name, "truth": "age_label_true", "by": name,
            "groups": groups, "overall": {"accuracy": 0.9},
            "across": {"chi2": {"p_value": 0.04, "persons_test": {"p_value": 0.21}}}}


def test_a_group_without_a_value_is_drawn_without_a_bar() -> None:
    """A group under 2 readings (None mean and interval) keeps its place, with no bar."""
    def row(group: str, n: int, mae: float | None) -> dict[str, Any]:
        def plus(x: float) -> float | None:
            return None if mae is None else mae + x
        return {"group": group, "n": n, "mae": mae, "mae_low": plus(-0.5), "mae_high": plus(0.5),
                "bias": plus(-4), "bias_low": plus(-4.5), "bias_high": plus(-3.5), "r": None}
    summary = {"kind": "values", "predicted": "age_read", "truth": "age", "by": "group",
               "groups": [row("a", 50, 4.0), row("b", 30, 5.5), row("c", 1, None)],
               "overall": {"mae": 4.6, "bias": 0.1}, "across": None}
    fig = accuracy_bars(summary)
    assert len(fig.axes) == 2  # mean absolute error and bias
    for ax in fig.axes:
        widths = [p.get_width() for p in ax.patches]
        assert len(widths) == 3 and np.isfinite(widths[:2]).all() and np.isnan(widths[2])
        low, high = sorted(ax.get_ylim())
        assert low <= 2 - 0.4 and high >= -0.4                     # every group's place shown
        assert any("no value" in t.get_text() for t in ax.texts)


def test_accuracy_bars_start_at_zero_and_nothing_is_clipped_or_covered() -> None:
    """Accuracies of 0.8 to 1 still have bars from 0; a long two-line title stays inside the
    figure and the legend off the bars."""
    fig = accuracy_bars(_classes("age_predicted_by_a_classifier_with_a_rather_long_name"))
    ax = fig.axes[0]
    assert ax.get_xlim()[0] == 0
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    title = fig._suptitle.get_window_extent(renderer)
    assert title.x0 >= 0 and title.x1 <= fig.bbox.x1 and title.y1 <= fig.bbox.y1
    legend = ax.get_legend().get_window_extent(renderer)
    assert not legend.overlaps(ax.get_window_extent(renderer))
    assert legend.y0 >= 0


def test_error_and_bias_panels_are_readable_on_a_page() -> None:
    """The two panels of a reading's error and bias made an 11.9-inch figure whose 8 pt
    legends and notes printed at 4.6 pt on a page: scaled to a page every text is now 6 points
    or more, and the two legends stay apart and on the figure."""
    from latentplay.viz.style import PAGE_WIDTH, SMALLEST_TEXT, printed_size

    def row(group: str, mae: float | None) -> dict[str, Any]:
        def plus(x: float) -> float | None:
            return None if mae is None else mae + x
        return {"group": group, "n": 40, "mae": mae, "mae_low": plus(-0.5), "mae_high": plus(0.5),
                "bias": plus(-4), "bias_low": plus(-4.5), "bias_high": plus(-3.5), "r": None}
    summary = {"kind": "values", "predicted": "age_read", "truth": "age", "by": "skin_tone",
               "groups": [row("monk_1", 4.0), row("monk_5", 5.5), row("monk_10", None)],
               "overall": {"mae": 4.6, "bias": 0.1}, "across": None, "persons": 200}
    fig = accuracy_bars(summary)
    assert printed_size(fig, PAGE_WIDTH) >= SMALLEST_TEXT
    fig.canvas.draw()
    left, right = (ax.get_legend().get_window_extent() for ax in fig.axes)
    assert not left.overlaps(right) and left.x0 >= 0 and right.x1 <= fig.bbox.width
    plt.close(fig)


def test_a_group_whose_rows_went_unread_keeps_its_place() -> None:
    """A reader that read none of a group's faces (the detector found none) left the group out
    of the figure, as if it had not been audited; it keeps its row and says how many went
    unread."""
    def row(group: str, n: int, unread: int, mae: float | None) -> dict[str, Any]:
        return {"group": group, "n": n, "no_reading": unread, "mae": mae, "mae_low": None,
                "mae_high": None, "bias": mae, "bias_low": None, "bias_high": None, "r": None}
    summary = {"kind": "values", "predicted": "age_read", "truth": "age", "by": "tone",
               "groups": [row("light", 50, 2, 4.0), row("dark", 0, 13, None)],
               "overall": {"mae": 4.0, "bias": 4.0}, "across": None}
    fig = accuracy_bars(summary)
    ticks = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert ticks == ["light (n=50, 2 unread)", "dark (n=0, 13 unread)"]
    assert "no reading" in [t.get_text() for t in fig.axes[0].texts]


def _calibration(groups: int) -> dict[str, Any]:
    """A summary with the calibration of ``groups`` unordered groups: each one's reliability
    bins and its selective-accuracy curve, which starts at small coverage low on the left."""
    def bins(shift: float) -> list[dict[str, float]]:
        return [{"low": lo, "high": lo + 0.1, "n": 20, "confidence": lo + 0.05,
                 "accuracy": lo + 0.05 - shift} for lo in (0.6, 0.7, 0.8, 0.9)]

    coverage = np.linspace(0.05, 1, 20)
    rows = [{"group": f"g{k}", "n": 80, "bins": bins(0.02 * k), "ece": 0.02 * k,
             "ece_null": 0.04, "overconfidence": 0.02 * k, "low": 0.02 * k - 0.05,
             "high": 0.02 * k + 0.05,
             "curve": [{"coverage": c, "accuracy": a}
                       for c, a in zip(coverage, 0.6 + 0.3 * np.sin(3 * coverage + k) ** 2,
                                       strict=True)]}
            for k in range(groups)]
    return {"predicted": "predicted_gender", "by": "tone", "ordered": False,
            "calibration": {"groups": rows, "overall": {"bins": bins(0.03)}, "threshold": None}}


def _all_rows_and_selective_curves(fig: Any, summary: dict[str, Any]) -> tuple[Any, list[Any]]:
    """A calibration figure's all-rows reliability curve (its first diagram's, found by the
    summary's overall accuracies) and its selective-accuracy panel's group curves."""
    overall = [b["accuracy"] for b in summary["calibration"]["overall"]["bins"]]
    everyone = [line for line in fig.axes[0].lines
                if len(line.get_ydata()) == len(overall) and np.allclose(line.get_ydata(), overall)]
    assert len(everyone) == 1
    panel = next(ax for ax in fig.axes if ax.get_legend() is not None)
    return everyone[0], [line for line in panel.lines if not line.get_label().startswith("_")]


@pytest.mark.parametrize("groups", [2, 3, 4, 5])
def test_all_rows_and_the_groups_stay_apart_for_colour_blind_readers(groups: int) -> None:
    """All rows' reliability curve and up to five groups' selective-accuracy curves are at least
    10 CIEDE2000 apart for normal, deuteranope, protanope and tritanope vision: all rows took
    orange, which pushed four groups onto tab10 (blue and purple 6.2 apart to a deuteranope, 1.9
    to a protanope) and left two groups' green 8.0 from it to a protanope."""
    from latentplay.viz.accuracy import calibration_figure

    summary = _calibration(groups)
    everyone, curves = _all_rows_and_selective_curves(calibration_figure(summary), summary)
    assert len(curves) == groups
    gaps = least_gaps([everyone.get_color()] + [line.get_color() for line in curves])
    assert min(gaps.values()) >= 10, gaps


def test_the_selective_panels_legend_is_off_the_curves() -> None:
    """Nine groups' legend stands beside the selective-accuracy panel: it covers no curve."""
    from latentplay.viz.accuracy import calibration_figure

    summary = _calibration(9)
    fig = calibration_figure(summary)
    _, curves = _all_rows_and_selective_curves(fig, summary)
    assert len(curves) == 9
    panel = next(ax for ax in fig.axes if ax.get_legend() is not None)
    fig.canvas.draw()
    legend = panel.get_legend().get_window_extent(fig.canvas.get_renderer())
    for line in curves:
        points = line.get_transform().transform(line.get_xydata())
        assert not legend.count_contains(points), line.get_label()


@pytest.mark.parametrize("groups", [4, 10])
def test_calibration_is_readable_on_a_page(groups: int) -> None:
    """Ten groups' reliability diagrams, the over-confidence bars and the selective accuracy
    fit a page: scaled to its width every text is 6 points or more, the figure no taller than
    a page, and no two diagrams' titles touch."""
    from latentplay.viz.accuracy import calibration_figure
    from latentplay.viz.style import PAGE_WIDTH, SMALLEST_TEXT, printed_size

    fig = calibration_figure(_calibration(groups))
    assert printed_size(fig, PAGE_WIDTH) >= SMALLEST_TEXT
    assert fig.get_figheight() * PAGE_WIDTH / fig.get_figwidth() <= 9.0
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    titles = [ax.title.get_window_extent(renderer) for ax in fig.axes if ax.get_title().count("ECE")]
    assert len(titles) == groups
    assert not any(a.overlaps(b) for k, a in enumerate(titles) for b in titles[k + 1:])


@pytest.mark.parametrize("groups", [1, 3])
def test_calibration_says_what_its_colours_mean_and_keeps_its_titles_inside(groups: int) -> None:
    """The groups' red / blue / grey are named on the over-confidence panel; with few groups
    the reliability title (one panel wide) stays inside the figure and the two-line group
    labels do not overlap each other."""
    from latentplay.viz.accuracy import calibration_figure

    fig = calibration_figure(_calibration(groups))
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    bars = next(ax for ax in fig.axes if ax.get_xlabel().startswith("over-confidence"))
    assert all(f"{c}:" in bars.get_xlabel() for c in ("red", "blue", "grey"))
    page = fig.bbox
    titles = [t for sub in fig.subfigs for t in sub.texts if t.get_text()]
    for text in titles:
        box = text.get_window_extent(renderer)
        assert page.x0 - 1 <= box.x0 and box.x1 <= page.x1 + 1, text.get_text()
    labels = [t.get_window_extent(renderer) for t in bars.get_yticklabels()]
    for upper, lower in zip(labels, labels[1:], strict=False):
        assert not upper.overlaps(lower)


def test_the_title_gives_the_simulated_p_of_a_sparse_table() -> None:
    """A table whose cells expect few rows is read by its simulated p-value (the curve's runs
    small there), and the title says it was simulated."""
    summary = _classes("skin")
    summary["across"]["chi2"].update(p_value=0.004, p_value_simulated=0.08)
    title = accuracy_bars(summary)._suptitle.get_text()
    assert "chi-square p 0.08 (simulated: sparse cells)" in title and "0.004" not in title
    plain = accuracy_bars(_classes("skin"))._suptitle.get_text()
    assert "chi-square p 0.04 (over persons 0.21)" in plain and "simulated" not in plain


def test_the_title_gives_a_p_value_that_underflowed_as_the_printout_does() -> None:
    """A p-value below 1e-300 (0.0 in doubles) reads "< 1e-300" in the title, as the printout
    gives it, not "0"; a test over persons that could not be made is not named."""
    summary = _classes("skin")
    summary["across"]["chi2"].update(p_value=0.0, persons_test={"p_value": 1e-310})
    summary["across"]["trend"] = {"r": 0.5, "p_value": 0.0, "persons_test": None}
    title = " ".join(accuracy_bars(summary)._suptitle.get_text().split())
    assert "chi-square p < 1e-300 (over persons < 1e-300)" in title
    assert "r +0.500, p < 1e-300" in title and "p 0" not in title


def _spans(ax: Any, axis: int = 0) -> list[np.ndarray]:
    """The ends of every error bar of ``ax`` along ``axis`` (0: x, 1: y), container by
    container."""
    from matplotlib.container import ErrorbarContainer

    return [segment[:, axis] for c in ax.containers if isinstance(c, ErrorbarContainer)
            for segment in c.lines[2][0].get_segments()]


def test_each_group_s_accuracy_bar_whisker_and_standardized_value() -> None:
    """Top to bottom in the summary's order, each bar as long as its group's accuracy, its
    whisker from its low to its high bound, and the standardized error drawn as an accuracy
    (1 - 0.1 = 0.9, its interval 1 - 0.2 to 1 - 0.05)."""
    summary = _classes("g")
    summary["groups"][1].update(no_prediction=4, accuracy_predicted=0.89)
    summary["adjusted"] = {"covariates": ["pose"], "groups": [
        {"group": g, "standardized": s, "low": s - 0.05, "high": s + 0.1}
        for g, s in (("light", 0.1), ("dark", 0.3), ("very dark", 0.2))]}
    ax = accuracy_bars(summary).axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["light (n=120)", "dark (n=40)",
                                                           "very dark (n=3)"]
    assert ax.get_ylim() == (2.5, -0.5)                          # the first group on top
    np.testing.assert_allclose([p.get_width() for p in ax.patches], [0.92, 0.80, 1.0])
    bars, standardized = _spans(ax)[:3], _spans(ax)[3:]
    np.testing.assert_allclose(np.sort(bars, 1), [[0.87, 0.95], [0.66, 0.89], [0.44, 1.0]])
    np.testing.assert_allclose(np.sort(standardized, 1), [[0.8, 0.95], [0.6, 0.75], [0.7, 0.85]])
    diamonds = next(line for line in ax.lines if line.get_marker() == "D")
    np.testing.assert_allclose(diamonds.get_xdata(), [0.92, 0.89, 1.0])   # over rows predicted


def test_calibration_colours_and_draws_each_group_s_own_numbers() -> None:
    """The reliability curve of a group runs through its bins' (confidence, accuracy), its
    whiskers the Wilson intervals of the bins' right answers; each over-confidence bar is as
    long as the group's and red where its interval is above 0, blue below 0, grey across it."""
    from latentplay.intervals import wilson_interval
    from latentplay.viz.accuracy import calibration_figure

    summary = _calibration(3)
    for row, (over, low, high) in zip(summary["calibration"]["groups"],
                                      ((0.08, 0.03, 0.13), (-0.06, -0.1, -0.02), (0.01, -0.03, 0.05)),
                                      strict=True):
        row.update(overconfidence=over, low=low, high=high)
    summary["ordered"] = True
    fig = calibration_figure(summary)
    third = fig.axes[2]                    # g2: each bin 0.04 less often right than sure
    curve = next(line for line in third.lines if line.get_linestyle() == "-"
                 and line.get_alpha() is None)
    np.testing.assert_allclose(curve.get_xdata(), [0.65, 0.75, 0.85, 0.95])
    np.testing.assert_allclose(curve.get_ydata(), [0.61, 0.71, 0.81, 0.91])
    right = [wilson_interval(np.array([k]), 20)[0] for k in (12, 14, 16, 18)]   # of 20 each
    np.testing.assert_allclose(_spans(third, 1), right)
    selective = next(ax for ax in fig.axes if ax.get_legend() is not None)
    curves = [line for line in selective.lines if line.get_label() in ("g0", "g1", "g2")]
    np.testing.assert_allclose([mcolors.to_rgba(line.get_color()) for line in curves],
                               ordered_colors(3, "tone"))    # ordered groups: the ramp
    bars = next(ax for ax in fig.axes if ax.get_xlabel().startswith("over-confidence"))
    np.testing.assert_allclose([p.get_width() for p in bars.patches], [0.08, -0.06, 0.01])
    colours = [mcolors.to_hex(p.get_facecolor(), keep_alpha=False) for p in bars.patches]
    assert colours == ["#c44e52", "#4c72b0", mcolors.to_hex("0.4")]
