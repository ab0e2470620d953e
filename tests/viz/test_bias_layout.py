"""The dataset-bias chart keeps its numbers clear of the intervals, whatever the number of bars,
the levels (``unknown`` among them) and the lines of its title."""

from __future__ import annotations

from collections.abc import Iterator

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.container import ErrorbarContainer
from matplotlib.transforms import Bbox

from latentplay.intervals import wilson_interval


@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    yield
    plt.close("all")


SUBTITLE = ("chi-square 12.3 (dof 1), p 0.0004, Cramér's V 0.123\n"
            "chi-square over 40 persons (design effect 3.1)")

CASES = {
    "one group, long title": (["only"], ["frown", "smile"], [[2, 3]], SUBTITLE),
    "two small groups": (["female", "male"], ["frown", "smile"], [[3, 7], [6, 4]], ""),
    "unknown between": (["a", "b", "c"], ["light", "unknown", "dark"],
                        [[4, 2, 6], [10, 1, 3], [2, 5, 2]], SUBTITLE),
    "unknown last": (["a", "b"], ["no", "yes", "unknown"], [[5, 3, 2], [1, 4, 6]], "one line"),
    "twelve groups": ([f"g{i}" for i in range(12)], ["no", "yes"],
                      [[i + 1, 12 - i] for i in range(12)], SUBTITLE),
    "names of 300 characters": (["a" * 150 + "1" + "a" * 149, "a" * 150 + "2" + "a" * 149],
                                ["L" * 300, "short"], [[4, 6], [6, 4]], ""),
}


def _intervals(counts: np.ndarray, first: int) -> np.ndarray:
    """``(R + 1, 2)`` Wilson intervals of level ``first``'s share: all rows, then each group."""
    hits = [counts[:, first].sum(), *counts[:, first]]
    totals = [counts.sum(), *counts.sum(1)]
    return np.array([wilson_interval(np.array([h]), int(n))[0]
                     for h, n in zip(hits, totals, strict=True)])


@pytest.mark.parametrize("case", CASES)
def test_no_interval_crosses_a_number(case: str) -> None:
    from latentplay.viz.bias import bias_bars

    groups, levels, counts, subtitle = CASES[case]
    counts = np.array(counts)
    first = next(k for k, level in enumerate(levels) if level != "unknown")
    fig = bias_bars(groups, levels, counts, "group", "level", subtitle,
                    _intervals(counts, first))
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    ax = fig.axes[0]
    (whiskers,) = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    _, caps, (bars_of_whiskers,) = whiskers.lines
    # a whisker reaches half a cap above and below its line, and the white halo 1.25 pt more
    pad = (caps[0].get_markersize() / 2 + 1.25) * fig.dpi / 72
    boxes = [Bbox(ax.transData.transform(segment)).padded(pad)
             for segment in bars_of_whiskers.get_segments()]
    assert len(boxes) == len(groups) + 1
    numbers = [t.get_window_extent(renderer) for t in ax.texts]
    assert len(numbers) >= len(groups) + 1  # every bar has at least one share of 6 % or more
    crossed = [(t.get_text(), i) for t, box in zip(ax.texts, numbers, strict=True)
               for i, whisker in enumerate(boxes) if box.overlaps(whisker)]
    assert crossed == []
    # and each number stays inside the bar it belongs to
    bars = [p.get_window_extent(renderer) for p in ax.patches]
    for text, box in zip(ax.texts, numbers, strict=True):
        (bar,) = [b for b in bars if b.contains((box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2)]
        assert bar.y0 <= box.y0 and box.y1 <= bar.y1, text.get_text()


def test_the_whiskers_say_what_interval_they_are() -> None:
    """The legend names the whiskers: 95 % Wilson intervals of the first level's share, and,
    when the rows repeat persons, that they are taken over the persons."""
    from latentplay.viz.bias import bias_bars

    groups, levels, counts, subtitle = CASES["unknown between"]
    counts = np.array(counts)
    entries = [f"{level} (n={n})" for level, n in zip(levels, counts.sum(0), strict=True)]
    for persons, said in ((None, "95 % Wilson interval of light's share"),
                          (40, "95 % Wilson interval of light's share over 40 persons")):
        fig = bias_bars(groups, levels, counts, "group", "level", subtitle, _intervals(counts, 0),
                        persons=persons)
        texts = [" ".join(t.get_text().split()) for t in fig.axes[0].get_legend().get_texts()]
        assert texts == [*entries, said]
    fig = bias_bars(groups, levels, counts, "group", "level", subtitle)
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == entries


@pytest.mark.parametrize("case", CASES)
def test_the_chart_reads_in_a_column_its_legend_and_title_inside(case: str) -> None:
    """Printed a column wide, every text is 6 points or more; the legend (under the bars) and
    the title stay on the figure."""
    from latentplay.viz.bias import bias_bars
    from latentplay.viz.style import COLUMN_WIDTH, SMALLEST_TEXT, printed_size

    groups, levels, counts, subtitle = CASES[case]
    fig = bias_bars(groups, levels, np.array(counts), "group", "level", subtitle)
    fig.canvas.draw()
    assert printed_size(fig, COLUMN_WIDTH) >= SMALLEST_TEXT
    renderer = fig.canvas.get_renderer()
    for artist in (fig.axes[0].get_legend(), fig._suptitle):
        box = artist.get_window_extent(renderer)
        assert fig.bbox.x0 <= box.x0 and box.x1 <= fig.bbox.x1
        assert fig.bbox.y0 <= box.y0 and box.y1 <= fig.bbox.y1
    assert fig.axes[0].get_legend().get_window_extent(renderer).y1 < \
        fig.axes[0].get_window_extent(renderer).y0          # under the bars, not over them


def test_each_bar_holds_its_group_s_shares_and_each_whisker_its_interval() -> None:
    """Top to bottom, all rows then each group, labelled with its row count; each level's
    segment as wide as its share and starting where the previous one ends; the whisker of the
    first known level's share (after a level ``unknown`` drawn first) spans its interval,
    shifted by the ``unknown`` share before it; the share axis runs 0 to 1."""
    from latentplay.viz.bias import bias_bars

    counts = np.array([[2, 6, 2], [1, 1, 8]])        # unknown, yes, no
    intervals = np.array([[0.2, 0.55], [0.4, 0.9], [0.02, 0.35]])
    fig = bias_bars(["a", "b"], ["unknown", "yes", "no"], counts, "group", "level", "",
                    intervals)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["all (n=20)", "a (n=10)", "b (n=10)"]
    assert ax.get_ylim() == (2.5, -0.5) and ax.get_xlim() == (0.0, 1.0)   # all rows on top
    shares = [[0.15, 0.35, 0.5], [0.2, 0.6, 0.2], [0.1, 0.1, 0.8]]     # by hand, per bar
    bars = ax.patches[:9]                            # level by level, each over the three bars
    widths = np.array([b.get_width() for b in bars]).reshape(3, 3).T
    starts = np.array([b.get_x() for b in bars]).reshape(3, 3).T
    np.testing.assert_allclose(widths, shares)
    np.testing.assert_allclose(starts, np.cumsum(shares, 1) - shares)
    (whiskers,) = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    spans = [segment[:, 0] for segment in whiskers.lines[2][0].get_segments()]
    np.testing.assert_allclose(spans, [[0.35, 0.7], [0.6, 1.1], [0.12, 0.45]])


def test_each_legend_entry_shows_its_own_level_s_colour_whatever_its_name() -> None:
    """A level named ``_dark`` (matplotlib leaves labels that start with ``_`` out of a legend)
    keeps its entry: every entry's swatch is the colour of that level's bars and the whiskers'
    entry is last (before, the entries slid up one: ``_dark`` took the bars of ``light``,
    ``light`` those of ``mid``, and ``mid``'s entry was gone)."""
    from latentplay.viz.bias import bias_bars

    levels = ["_dark", "light", "mid"]
    counts = np.array([[5, 3, 1], [2, 6, 4]])
    fig = bias_bars(["f", "m"], levels, counts, "gender", "tone", "",
                    np.array([[0.2, 0.5], [0.3, 0.8], [0.05, 0.4]]))
    ax, legend = fig.axes[0], fig.axes[0].get_legend()
    assert [t.get_text() for t in legend.get_texts()][:3] == ["_dark (n=7)", "light (n=9)", "mid (n=5)"]
    assert legend.get_texts()[3].get_text().startswith("95 % Wilson interval")
    bar_colours = [ax.patches[3 * k].get_facecolor() for k in range(3)]   # three bars a level
    assert [h.get_facecolor() for h in legend.legend_handles[:3]] == bar_colours
    assert len(set(bar_colours)) == 3


def test_long_names_are_shortened_in_the_middle_and_keep_a_bar_each() -> None:
    """Group and level names of 300 characters (a person id, a file path) keep their start,
    end and count, each label within the figure beside bars 40 % of its width or more; two
    names that differ only in their middle keep a bar each (before, the labels took about
    15 inches of a 4-inch figure: the labels ran off its left edge and the bars shrank to
    nothing)."""
    from latentplay.viz.bias import bias_bars

    groups, levels, counts, _ = CASES["names of 300 characters"]
    fig = bias_bars(groups, levels, np.array(counts), "person", "kind")
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    ax = fig.axes[0]
    ticks = ax.get_yticklabels()
    assert [t.get_text()[:3] for t in ticks] == ["all", "aaa", "aaa"]
    assert all(t.get_text().endswith(" (n=10)") and "…" in t.get_text() for t in ticks[1:])
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[0].startswith("LLL") and "…" in legend[0] and legend[0].endswith("L (n=10)")
    for text in [*ticks, *ax.get_legend().get_texts()]:
        box = text.get_window_extent(renderer)
        assert fig.bbox.x0 <= box.x0 and box.x1 <= fig.bbox.x1, text.get_text()
    assert ax.get_window_extent(renderer).width >= 0.4 * fig.bbox.width
    assert sorted({round(p.get_y() + p.get_height() / 2) for p in ax.patches}) == [0, 1, 2]
