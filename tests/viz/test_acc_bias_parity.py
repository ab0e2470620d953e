"""The parity figure of ``latentplay audit accuracy --positive``: a rate that cannot be
computed (no rows of a class in a group) says so instead of leaving its bar blank."""

from __future__ import annotations

from typing import Any

from latentplay.viz.accuracy import parity_figure


def _row(group: str, n: int, positives: int, tpr: float | None,
         fpr: float | None) -> dict[str, Any]:
    """One group of a parity summary with ``tpr``/``fpr`` (None: no rows to compute it)."""
    def span(x: float | None) -> dict[str, float | None]:
        return {"": x, "_low": None if x is None else max(0.0, x - 0.1),
                "_high": None if x is None else min(1.0, x + 0.1)}
    out: dict[str, Any] = {"group": group, "n": n, "positives": positives,
                           "negatives": n - positives, "base_rate": positives / n}
    for key, value in (("selection", 0.5), ("tpr", tpr), ("fpr", fpr)):
        out.update({key + suffix: v for suffix, v in span(value).items()})
    return out


def _summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    overall = {"selection": 0.5, "tpr": 0.9, "fpr": None}
    return {"predicted": "predicted_gender", "by": "skin_tone",
            "parity": {"positive": "female", "groups": rows, "overall": overall, "across": {}}}


def _texts(ax: Any) -> list[str]:
    return [" ".join(t.get_text().split()) for t in ax.texts]


def test_a_panel_without_any_rate_says_why() -> None:
    """A females-only store: no group has rows that are not female, so no FPR anywhere."""
    fig = parity_figure(_summary([_row("light", 30, 30, 0.9, None),
                                  _row("dark", 20, 20, 0.8, None)]))
    selection, tpr, fpr = fig.axes
    assert any("no rows that are not female" in t for t in _texts(fpr))
    assert _texts(tpr) == [] and _texts(selection) == []
    assert fpr.get_legend() is None               # nothing to explain, no empty legend


def test_a_group_without_a_rate_gets_a_note_in_its_row() -> None:
    """One group holds only women (no FPR), another only men (no TPR): each of those rows
    says which rows it lacks, in the panel of that rate only."""
    fig = parity_figure(_summary([_row("light", 30, 15, 0.9, 0.1),
                                  _row("medium", 20, 20, 0.8, None),
                                  _row("dark", 10, 0, None, 0.2)]))
    _, tpr, fpr = fig.axes
    assert _texts(fpr) == ["no rows that are not female"]
    assert _texts(tpr) == ["no rows that are female"]
    assert [t.get_position()[1] for t in fpr.texts] == [1]      # the medium row's place
    assert [t.get_position()[1] for t in tpr.texts] == [2]


def test_a_short_figure_keeps_its_legends_under_the_axis_labels() -> None:
    """Three groups make a short figure: each legend still sits below its axis label."""
    fig = parity_figure(_summary([_row("light", 30, 15, 0.9, 0.1),
                                  _row("dark", 10, 5, 0.7, 0.2)]))
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    for ax in fig.axes[:2]:
        label = ax.xaxis.label.get_window_extent(renderer)
        legend = ax.get_legend().get_window_extent(renderer)
        assert legend.y1 <= label.y0 and legend.y0 >= 0


def test_ten_groups_are_readable_on_a_page_each_label_under_its_own_panel() -> None:
    """At 14 inches the legends' 7 pt printed at 3.4 pt on a page: scaled to a page every text
    is 6 points or more, the axis labels (wrapped) do not run into each other, and the
    legends stay under them, on the figure."""
    from latentplay.viz.style import PAGE_WIDTH, SMALLEST_TEXT, printed_size

    fig = parity_figure(_summary([_row(f"monk_{g} / female", 30, 15, 0.9, 0.1) for g in range(10)]))
    assert printed_size(fig, PAGE_WIDTH) >= SMALLEST_TEXT
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    labels = [ax.xaxis.label.get_window_extent(renderer) for ax in fig.axes]
    assert all(a.x1 < b.x0 for a, b in zip(labels, labels[1:], strict=False))
    for ax, label in zip(fig.axes[:2], labels, strict=False):
        legend = ax.get_legend().get_window_extent(renderer)
        assert legend.y1 <= label.y0 and legend.y0 >= 0 and legend.x0 >= 0


def test_each_rate_is_its_group_s_own_bar_and_a_group_of_no_rows_is_left_out() -> None:
    """Selection, TPR and FPR each a bar of the group's rate with its whisker from its low to
    its high bound; the base rate a diamond on the selection panel; a group of no rows has no
    place."""
    import numpy as np
    from matplotlib.container import ErrorbarContainer

    rows = [_row("a", 10, 4, 0.75, 0.2), _row("b", 20, 15, 0.6, 0.4)]
    rows[1].update(selection=0.3, selection_low=0.15, selection_high=0.5)
    empty = {"group": "none", "n": 0, **{key + suffix: None for key in ("selection", "tpr", "fpr")
                                         for suffix in ("", "_low", "_high")}, "base_rate": None}
    fig = parity_figure(_summary([rows[0], empty, rows[1]]))
    expected = {"selection": [0.5, 0.3], "tpr": [0.75, 0.6], "fpr": [0.2, 0.4]}
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["a (n=10)", "b (n=20)"]
    assert fig.axes[0].get_ylim()[0] > fig.axes[0].get_ylim()[1]      # the first group on top
    for ax, (key, rates) in zip(fig.axes, expected.items(), strict=True):
        np.testing.assert_allclose([p.get_width() for p in ax.patches], rates, err_msg=key)
        (whiskers,) = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
        spans = [segment[:, 0] for segment in whiskers.lines[2][0].get_segments()]
        bounds = [[r[f"{key}_low"], r[f"{key}_high"]] for r in rows]
        np.testing.assert_allclose(np.sort(spans, 1), bounds, err_msg=key)
    diamonds = next(line for line in fig.axes[0].lines if line.get_marker() == "D")
    np.testing.assert_allclose(diamonds.get_xdata(), [0.4, 0.75])     # 4 of 10, 15 of 20
