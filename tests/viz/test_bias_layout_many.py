"""The dataset-bias chart of many groups (persons) or many levels stays readable: no empty band
above the first bar, a height that stops growing, a legend that fits or a note instead."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.container import ErrorbarContainer

from latentplay.intervals import wilson_interval


@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    yield
    plt.close("all")


def _persons(n: int, odd: list[int]) -> np.ndarray:
    """``(n, 2)`` counts of ``n`` persons of 6 rows each: 4 no and 2 yes, but the ``odd`` ones
    all no."""
    counts = np.tile([4, 2], (n, 1))
    counts[odd] = [6, 0]
    return counts


def _intervals(counts: np.ndarray) -> np.ndarray:
    """``(R + 1, 2)`` Wilson intervals of the first level's share: all rows, then each group."""
    hits, totals = [counts[:, 0].sum(), *counts[:, 0]], [counts.sum(), *counts.sum(1)]
    return np.array([wilson_interval(np.array([h]), int(n))[0]
                     for h, n in zip(hits, totals, strict=True)])


def test_a_hundred_persons_draw_the_ones_that_differ_without_an_empty_band() -> None:
    from latentplay.viz.bias import MAX_GROUPS, bias_bars

    odd = [3, 17, 42, 99]
    counts = _persons(100, odd)
    groups = [f"person_{i:05d}" for i in range(100)]
    fig = bias_bars(groups, ["no", "yes"], counts, "identity", "eyeglasses", "chi-square 1",
                    _intervals(counts), persons=100)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert len(labels) == MAX_GROUPS + 1 and labels[0] == "all (n=600)"
    assert all(f"{groups[i]} (n=6)" in labels for i in odd)   # the persons that differ are drawn
    assert "the 30 of 100 identity groups" in fig.get_suptitle()
    (whiskers,) = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    spans = [segment[:, 0] for segment in whiskers.lines[2][0].get_segments()]
    shown = [0] + [groups.index(label.rsplit(" (", 1)[0]) + 1 for label in labels[1:]]
    np.testing.assert_allclose(spans, _intervals(counts)[shown])   # each group's own interval
    top, bottom = ax.get_ylim()                            # no margin beyond the outer bars
    assert (bottom, top) == (-0.5, MAX_GROUPS + 0.5)
    assert fig.get_figheight() < 16                        # it was 57 inches


def test_a_hundred_levels_get_a_note_not_a_legend_cut_off() -> None:
    from latentplay.viz.bias import bias_bars

    levels = [f"person_{i:05d}" for i in range(100)] + ["unknown"]
    counts = np.random.default_rng(0).integers(1, 5, (2, 101))
    with warnings.catch_warnings():
        warnings.simplefilter("error")                     # "Tight layout not applied" was one
        fig = bias_bars(["female", "male"], levels, counts, "gender", "identity")
        fig.canvas.draw()
    ax = fig.axes[0]
    assert ax.get_legend() is None
    (note,) = [t for t in ax.texts if "100 levels" in t.get_text()]
    text = " ".join(note.get_text().split())
    assert "from person_00000 (dark) to person_00099" in text and "unknown: hatched grey" in text
    box = note.get_window_extent(fig.canvas.get_renderer())
    assert box.x1 <= fig.bbox.x1 and box.y1 <= fig.bbox.y1


@pytest.mark.parametrize("n", [25, 40])
def test_many_levels_get_a_legend_in_columns_that_fits(n: int) -> None:
    from latentplay.viz.bias import bias_bars

    levels = [f"class_{i:02d}" for i in range(n)]
    counts = np.ones((3, n), dtype=int)
    counts[0, 5] = 0
    counts[1:, 5] = [0, 1]                                 # one row only: its count is listed
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = bias_bars(["a", "b", "c"], levels, counts, "grp", "many", "line one\nline two")
        fig.canvas.draw()
    legend = fig.axes[0].get_legend()
    assert legend._ncols >= 2
    box = legend.get_window_extent(fig.canvas.get_renderer())
    assert fig.bbox.x0 <= box.x0 and box.x1 <= fig.bbox.x1
    assert fig.bbox.y0 <= box.y0 and box.y1 <= fig.bbox.y1
    assert legend.get_texts()[5].get_text() == "class_05 (n=1)"


def test_a_dozen_groups_or_more_never_make_a_shorter_chart_than_fewer() -> None:
    from latentplay.viz.bias import bias_bars

    heights = []
    for r in range(10, 20):             # around where bars start to get thinner
        fig = bias_bars([f"g{i}" for i in range(r)], ["no", "yes"], np.ones((r, 2), dtype=int),
                        "grp", "flag")
        heights.append(round(fig.get_figheight(), 6))
        plt.close(fig)
    assert heights == sorted(heights)


def test_the_groups_shown_are_those_that_differ_most_in_their_order() -> None:
    """Of four groups of 10 rows, the two whose shares are farthest from all rows' (chi-square
    contributions by hand: 4.95 for the first, 8.18 for the last, 0.10 each for the middle
    two), kept in the groups' order."""
    from latentplay.viz.bias import shown_groups

    counts = np.array([[8, 2], [5, 5], [5, 5], [0, 10]])
    assert shown_groups(counts, 2).tolist() == [0, 3]
    assert shown_groups(counts, 4).tolist() == [0, 1, 2, 3]
