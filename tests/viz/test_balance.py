"""The balance figures: the love plot, and the attribute-means chart (side by side for a few
attributes, stacked for many)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest

from latentplay.viz.balance import attribute_means, love_plot


@pytest.mark.parametrize(("p", "stacked"), [(5, False), (30, True)])
def test_layout_follows_the_number_of_attributes(p: int, stacked: bool) -> None:
    means = (np.linspace(0, 1, p), np.linspace(1, 0, p))
    fig = attribute_means([f"a{i}" for i in range(p)], means, means, groups=("m", "f"))
    before, after = fig.axes[:2]
    x0, y0 = before.get_position().x0, before.get_position().y0
    x1, y1 = after.get_position().x0, after.get_position().y0
    assert (y0 > y1 and x0 == pytest.approx(x1)) if stacked else (x1 > x0)
    assert [t.get_text() for t in after.get_xticklabels()] == [f"a{i}" for i in range(p)]
    assert fig.get_size_inches()[0] < 12 or not stacked


@pytest.mark.parametrize("pairs", [True, False])
def test_love_plot_without_pairs_has_no_after_entry_and_says_so(pairs: bool) -> None:
    """60 covariates (20 left out); no pairs (a caliper dropped every unit): every SMD after
    is NaN, so no "after" legend entry, no "nan" in the title, and the title says why."""
    before = np.linspace(0.5, 0.01, 60)
    after = before / 10 if pairs else np.full(60, np.nan)
    fig = love_plot([f"c{i}" for i in range(60)], before, after)
    ax = fig.axes[0]
    labels = ax.get_legend_handles_labels()[1]
    title = ax.get_title().replace("\n", " ")
    assert labels == (["before", "after"] if pairs else ["before"])
    assert ("no matched pairs" in title) != pairs
    assert "nan" not in title and "20 less imbalanced covariates not shown" in title


def test_love_plot_draws_each_covariates_absolute_smds_on_its_row() -> None:
    """Signed SMDs are drawn as |SMD|, before (hollow) and after (filled) on the row named
    after their covariate; the rows kept are the most imbalanced before or after matching,
    the most imbalanced before at the top, and the title gives the largest left out."""
    before = np.array([0.3, -0.5, 0.05, 0.2, -0.01, 0.15])
    after = np.array([0.02, -0.1, -0.4, 0.01, 0.0, -0.05])
    names = [f"c{i}" for i in range(6)]
    ax = love_plot(names, before, after, max_rows=3).axes[0]
    hollow, filled = ax.collections[:2]
    rows = {t.get_text(): round(y) for t, y in zip(ax.get_yticklabels(), ax.get_yticks(), strict=True)}
    assert set(rows) == {"c0", "c1", "c2"}  # worst |SMD| 0.3, 0.5, 0.4; c3 only 0.2
    assert sorted(rows, key=rows.get) == ["c2", "c0", "c1"]  # |before| 0.05, 0.3, 0.5 upwards
    for name, y in rows.items():
        i = names.index(name)
        assert hollow.get_offsets()[y].tolist() == pytest.approx([abs(before[i]), y])
        assert filled.get_offsets()[y].tolist() == pytest.approx([abs(after[i]), y])
    title = " ".join(ax.get_title().split())
    assert "3 less imbalanced covariates not shown; their |SMD| at most 0.200 before, 0.050 after" in title
    plt.close(ax.figure)


@pytest.mark.parametrize("pairs", [True, False])
def test_attribute_means_without_pairs_say_so(pairs: bool) -> None:
    """No pairs (a caliper dropped every unit): every mean after is NaN; the "after" panel
    used to be left empty without a word, now it says there are no matched pairs."""
    means = (np.linspace(0.1, 1, 5), np.linspace(1, 0.1, 5))
    after = means if pairs else (np.full(5, np.nan), np.full(5, np.nan))
    fig = attribute_means([f"a{i}" for i in range(5)], means, after)
    said = [t.get_text().replace("\n", " ") for t in fig.axes[1].texts]
    assert said == ([] if pairs else ["no matched pairs: nothing to show after matching"])
    assert not fig.axes[0].texts


def test_attribute_means_say_how_many_units_each_bar_stands_for() -> None:
    """The panel titles give each group's n (after matching: weighted when weights differ),
    and the y label says what the bars are."""
    means = (np.array([0.2, 0.5]), np.array([0.4, 0.1]))
    sizes = (("n = 10", "n = 30"), ("n = 10", "n = 4, weighted 10"))
    fig = attribute_means(["a", "b"], means, means, groups=("m", "f"), sizes=sizes,
                          ylabel="share (mean of 0/1)")
    before, after = fig.axes[:2]
    titles = [" ".join(ax.get_title().split()) for ax in (before, after)]  # wrapped to a panel
    assert titles == ["before matching (m: n = 10; f: n = 30)",
                      "after matching (m: n = 10; f: n = 4, weighted 10)"]
    assert before.get_ylabel() == "share (mean of 0/1)"
    after_means = (np.array([0.3, 0.35]), np.array([0.25, 0.3]))
    fig = attribute_means(["a", "b"], means, after_means, groups=("m", "f"))
    for ax, (m, f) in zip(fig.axes[:2], (means, after_means), strict=True):  # m left, f right
        bars = sorted(ax.patches, key=lambda p: p.get_x())
        np.testing.assert_allclose([p.get_height() for p in bars], [m[0], f[0], m[1], f[1]])


def test_propensity_overlap_draws_weighted_shares_of_each_group_on_one_set_of_bins() -> None:
    """Before: every unit; after: the matched units by their matching weights (a control used
    twice counts twice, an unmatched unit not at all), treated up and controls down, each a
    share of its group, on bins shared by both panels."""
    from latentplay.viz.balance import propensity_overlap

    score = np.array([0.1, 0.2, 0.8, 0.9, 0.15, 0.85, 0.5, 0.55])
    treated = np.array([False, False, True, True, False, True, False, True])
    weights = np.array([0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 3.0, 1.0])  # control 6 reused
    fig = propensity_overlap(score, treated, weights, groups=("m", "f"), bins=4,
                             sizes=(("n = 4", "n = 4"), ("n = 4", "n = 2, weighted 4")),
                             xlabel="propensity score P(m | z)", weighted=True)
    before, after = fig.axes[:2]
    edges = np.linspace(0.1, 0.9, 5)

    def heights(ax: plt.Axes, n_bars: int) -> tuple[np.ndarray, np.ndarray]:
        bars = [p.get_height() for p in ax.patches]
        return np.array(bars[:n_bars]), np.array(bars[n_bars:])

    up, down = heights(before, 4)
    np.testing.assert_allclose(up, np.histogram(score[treated], edges)[0] / 4)
    np.testing.assert_allclose(-down, np.histogram(score[~treated], edges)[0] / 4)
    up, down = heights(after, 4)
    np.testing.assert_allclose(up, np.histogram(score[treated], edges)[0] / 4)
    np.testing.assert_allclose(-down, np.histogram(score[~treated], edges,
                                                   weights=weights[~treated])[0] / 4)
    assert [p.get_x() for p in after.patches[:4]] == pytest.approx(edges[:-1])
    assert after.get_legend_handles_labels()[1] == ["m (n = 4)", "f (n = 2, weighted 4)"]
    assert after.get_xlabel() == "propensity score P(m | z)"
    assert "weight" in after.get_ylabel() and "units" in before.get_ylabel()
    plt.close(fig)


def test_propensity_overlap_without_pairs_says_so() -> None:
    """A caliper dropped every unit (all weights 0): the "after" panel says so, no bars."""
    from latentplay.viz.balance import propensity_overlap

    treated = np.array([True, False, True, False])
    fig = propensity_overlap(np.array([0.2, 0.4, 0.6, 0.8]), treated, np.zeros(4))
    after = fig.axes[1]
    assert not after.patches
    assert [t.get_text() for t in after.texts] == ["no matched pairs:\nnothing to show after matching"]
    plt.close(fig)


def test_propensity_overlap_legends_cover_no_bar() -> None:
    """Scores spread over the whole range fill every corner of both panels: the legends (with
    the group sizes) must not hide bars, as the "best" location inside the axes did."""
    from latentplay.viz.balance import propensity_overlap

    rng = np.random.default_rng(0)
    score = np.concatenate([rng.uniform(0.02, 0.98, 600), rng.uniform(0.02, 0.98, 900)])
    treated = np.arange(1500) < 600
    fig = propensity_overlap(score, treated, np.ones(1500), sizes=(("n = 600", "n = 900"),) * 2)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    for ax in fig.axes[:2]:
        legend = ax.get_legend().get_window_extent(renderer)
        hidden = [p for p in ax.patches if p.get_height() != 0
                  and legend.overlaps(p.get_window_extent(renderer))]
        assert not hidden, f"the legend of {ax.get_title()!r} hides {len(hidden)} bars"
    plt.close(fig)


def test_propensity_overlap_is_readable_on_a_page_and_a_long_label_keeps_apart() -> None:
    """At 10 inches its 8 pt legends printed at 5.5 pt on a page, and a score of many
    covariates ran its axis label into the other panel's: now every text prints at 6 pt or
    more, the labels are wrapped apart from each other, and each legend sits
    under its label, inside the figure."""
    from latentplay.viz.balance import propensity_overlap
    from latentplay.viz.style import PAGE_WIDTH, SMALLEST_TEXT, printed_size

    rng = np.random.default_rng(0)
    treated = np.arange(400) < 160
    names = ", ".join(f"attribute_{i}" for i in range(12))
    fig = propensity_overlap(rng.uniform(0.05, 0.95, 400), treated, np.ones(400),
                             groups=("female", "male"), xlabel=f"propensity score P(female | {names})",
                             sizes=(("n = 160", "n = 240"),) * 2)
    assert printed_size(fig, PAGE_WIDTH) >= SMALLEST_TEXT
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    labels = [ax.xaxis.label.get_window_extent(renderer) for ax in fig.axes[:2]]
    assert 0 <= labels[0].x0 and labels[0].x1 < labels[1].x0 and labels[1].x1 <= fig.bbox.width
    for ax, label in zip(fig.axes[:2], labels, strict=True):
        legend = ax.get_legend().get_window_extent(renderer)
        assert legend.y1 <= label.y0 and legend.y0 >= 0
    plt.close(fig)


def _panels(fig: plt.Figure) -> list[plt.Axes]:
    """The axes of ``fig`` that draw points (not a colour bar or the like)."""
    return [ax for ax in fig.axes if ax.collections]


def test_love_plot_puts_attributes_only_checked_in_a_grey_panel_of_their_own() -> None:
    """Covariates matched on and attributes only checked were ranked in one list, so a checked
    attribute's imbalance after matching (hair_color=black 0.07 -> 0.38) read as matching making
    balance worse: the checked ones are now a grey panel under the others, headed "not balanced
    by design", each panel with its hollow/filled points, its 0.1 line and its legend."""
    names = ["c0", "c1", "c2", "a0", "a1"]
    before = np.array([0.5, 0.3, 0.2, 0.07, 0.1])
    after = np.array([0.05, 0.02, 0.01, 0.38, 0.02])
    fig = love_plot(names, before, after, matched_on=np.array([True, True, True, False, False]),
                    title="Balance")
    top, bottom = _panels(fig)
    assert [t.get_text() for t in top.get_yticklabels()] == ["c2", "c1", "c0"]
    assert [t.get_text() for t in bottom.get_yticklabels()] == ["a0", "a1"]
    assert top.get_position().y0 > bottom.get_position().y1
    assert "Matched on: 3 covariates" in top.get_title(loc="left")
    # matching aims to balance what it is given; it need not (SMD 0.74 after on a VAE's codes)
    assert "(what the matching aims to balance)" in " ".join(top.get_title(loc="left").split())
    # the dashed line is named, as a rule of thumb
    assert " ".join(bottom.get_xlabel().split()) == (
        "|standardized mean difference| (dashed: 0.1, a rule of thumb for balance)")
    heading = " ".join(bottom.get_title(loc="left").split())
    assert "Checked, not matched on: 2 attributes" in heading and "not balanced by design" in heading
    for ax, grey, which in ((top, False, ""), (bottom, True, " (checked)")):
        hollow, filled = ax.collections[:2]
        assert len(hollow.get_facecolors()) == 0 and filled.get_facecolors()[0][3] == 1
        colour = filled.get_facecolors()[0][:3]
        assert (np.ptp(colour) == 0) == grey  # grey: r = g = b
        assert any(list(line.get_xdata()) == [0.1, 0.1] for line in ax.get_lines())
        assert ax.get_legend_handles_labels()[1] == [f"before{which}", f"after{which}"]
    np.testing.assert_allclose(bottom.collections[1].get_offsets()[:, 0], [0.38, 0.02])
    assert fig._suptitle is not None and fig._suptitle.get_text() == "Balance"
    plt.close(fig)


def test_love_plot_shares_its_rows_between_the_panels_and_notes_what_each_leaves_out() -> None:
    """With more rows than ``max_rows`` each panel gets half (a small one all of its rows) and
    says in its heading how many of its own it left out and how imbalanced they are at most;
    without pairs the figure's title says so."""
    before = np.concatenate([np.linspace(0.9, 0.01, 30), np.linspace(0.5, 0.02, 30)])
    on = np.arange(60) < 30
    fig = love_plot([f"x{i}" for i in range(60)], before, np.full(60, np.nan), matched_on=on,
                    max_rows=20)
    top, bottom = _panels(fig)
    assert len(top.get_yticks()) == len(bottom.get_yticks()) == 10
    notes = [" ".join(ax.get_title(loc="left").split()) for ax in (top, bottom)]
    assert "(20 less imbalanced covariates not shown; their |SMD| at most 0.593 before)" in notes[0]
    assert "(20 less imbalanced attributes not shown; their |SMD| at most 0.334 before)" in notes[1]
    assert "no matched pairs" in fig._suptitle.get_text().replace("\n", " ")
    assert [ax.get_legend_handles_labels()[1] for ax in (top, bottom)] == [["before"], ["before (checked)"]]
    plt.close(fig)


@pytest.mark.parametrize(("sizes", "total", "quotas"), [
    ([21, 23], 40, [20, 20]), ([5, 100], 40, [5, 35]), ([10, 12], 40, [10, 12]),
    ([30, 30], 21, [11, 10]), ([3, 4], 5, [2, 3]),
])
def test_love_plot_quotas(sizes: list[int], total: int, quotas: list[int]) -> None:
    from latentplay.viz.balance import _quotas

    assert _quotas(sizes, total) == quotas


def test_love_plot_headings_fit_the_figure_and_clear_the_panel_above() -> None:
    """Long names push the panels right: the title and both headings (with their notes) stay
    inside the figure, and the lower heading below the upper panel's x axis; the x axis the
    panels share reaches the largest |SMD| of either (it stopped at the upper one's)."""
    rng = np.random.default_rng(0)
    names = [f"skin_group=intermediate_{i}" for i in range(60)]
    before = np.abs(rng.normal(0.3, 0.3, 60))
    fig = love_plot(names, before, before * 0.3 + 0.4, matched_on=np.arange(60) < 35,
                    title="Balance of treated vs control (propensity)\nSMD: mean difference / SD "
                          "of the treated units before matching")
    top, bottom = _panels(fig)
    for ax in (top, bottom):  # the shared x axis holds the points of both panels
        for points in ax.collections[:2]:
            assert points.get_offsets()[:, 0].max() <= ax.get_xlim()[1]
    fig.canvas.draw()
    frame = fig.bbox
    for text in (fig._suptitle, top._left_title, bottom._left_title):
        box = text.get_window_extent()
        assert box.x0 >= frame.x0 - 0.5 and box.x1 <= frame.x1 + 0.5 and box.y1 <= frame.y1 + 0.5
    renderer = fig.canvas.get_renderer()
    assert bottom._left_title.get_window_extent().y1 < top.get_tightbbox(renderer).y0 + 1
    assert fig._suptitle.get_window_extent().y0 > top._left_title.get_window_extent().y1 - 1
    plt.close(fig)


@pytest.mark.parametrize(("before", "after", "matched_on", "message"), [
    ([0.1, 0.2], [0.1, 0.2, 0.3], None, r"smd_before= must be \(p,\) = \(3,\) .* got shape \(2,\)"),
    ([0.1, 0.2, 0.3], [0.1, 0.2], None, r"smd_after= must be \(p,\) = \(3,\)"),
    ([0.1, 0.2, 0.3], [0.1, 0.2, 0.3], [True], r"matched_on= must be \(p,\) = \(3,\)"),
])
def test_love_plot_refuses_smds_that_do_not_fit_the_names(before, after, matched_on, message) -> None:
    """Three names and two SMDs raised IndexError."""
    from latentplay.errors import UserError

    with pytest.raises(UserError, match=message):
        love_plot(["a", "b", "c"], np.array(before), np.array(after), matched_on=matched_on)


@pytest.mark.parametrize("checked", [False, True])
def test_love_plot_reads_in_a_column(checked: bool) -> None:
    """Printed a column wide, every text of the love plot (one panel, or two with attributes
    only checked) is 6 points or more."""
    from latentplay.viz.balance import love_plot
    from latentplay.viz.style import COLUMN_WIDTH, SMALLEST_TEXT, printed_size

    names = [f"x{i}" for i in range(6)]
    on = np.array([True] * 4 + [not checked] * 2)
    fig = love_plot(names, np.linspace(0.05, 0.5, 6), np.linspace(0.01, 0.1, 6), matched_on=on)
    assert printed_size(fig, COLUMN_WIDTH) >= SMALLEST_TEXT


@pytest.mark.parametrize("checked", [False, True])
def test_love_plot_legend_covers_no_point(checked: bool) -> None:
    """The legend stood in each panel's lower right corner, over a one-row panel's point at
    |SMD| 1.3 there: it is one legend under the figure, below the x label and every point."""
    names = ["x0", "x1", "y"]
    before, after = np.array([0.4, 0.2, 1.3]), np.array([0.05, 0.03, 1.25])
    fig = love_plot(names, before, after, matched_on=np.array([True, True, not checked]))
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    assert [ax.get_legend() for ax in fig.axes] == [None] * len(fig.axes) and len(fig.legends) == 1
    legend = fig.legends[0].get_window_extent(renderer)
    lowest = fig.axes[-1]
    assert legend.y1 <= lowest.xaxis.label.get_window_extent(renderer).y0 and legend.y0 >= 0
    for ax in _panels(fig):
        points = np.vstack([ax.transData.transform(c.get_offsets()) for c in ax.collections])
        assert not any(legend.contains(x, y) for x, y in points)
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels == (["before", "after", "before (checked)", "after (checked)"] if checked
                      else ["before", "after"])
    plt.close(fig)


@pytest.mark.parametrize("p", [1, 5, 20])
def test_attribute_means_read_on_a_page_their_titles_inside(p: int) -> None:
    """Side by side, five attributes made a 9.6-inch figure whose 8 pt text printed at 5.7 pt
    on a page: the figure is a page wide (more attributes: panels above each other, text sized
    to the width) and each panel's title, with its group sizes, wrapped inside the figure."""
    from latentplay.viz.style import PAGE_WIDTH, SMALLEST_TEXT, printed_size

    rng = np.random.default_rng(0)
    names = [f"attribute_{i}" for i in range(p)]
    fig = attribute_means(names, (rng.random(p), rng.random(p)), (rng.random(p), rng.random(p)),
                          groups=("female", "male"),
                          sizes=(("n = 1,204", "n = 1,796"), ("n = 1,204", "n = 1,011, weighted 1,204")))
    assert printed_size(fig, PAGE_WIDTH) >= SMALLEST_TEXT
    assert fig.get_figwidth() == PAGE_WIDTH or p > 6
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    for ax in fig.axes:
        box = ax.title.get_window_extent(renderer)
        assert 0 <= box.x0 and box.x1 <= fig.bbox.width
    plt.close(fig)


def test_attribute_means_name_both_groups_whatever_their_names() -> None:
    """A control class named ``_light`` (matplotlib leaves labels starting with ``_`` out of a
    legend) keeps its legend entry, in its bars' colour (before, the legend named the treated
    group only)."""
    means = (np.array([0.2, 0.4]), np.array([0.3, 0.1]))
    fig = attribute_means(["a", "b"], means, means, groups=("dark", "_light"))
    (legend,) = fig.legends
    assert [t.get_text() for t in legend.get_texts()] == ["dark", "_light"]
    bars = fig.axes[0].patches    # the treated group's two bars, then the control's
    assert [h.get_facecolor() for h in legend.legend_handles] == [bars[0].get_facecolor(),
                                                                  bars[2].get_facecolor()]


def test_names_of_300_characters_are_shortened_to_stay_on_the_figure() -> None:
    """A covariate ``group=<300 characters>`` (a one-hot class of a long name) is labelled by
    its start, an ellipsis and its end in the love plot and the attribute means, every label
    on the figure (before, it ran some 15 inches off a 4-inch love plot's left edge)."""
    names = ["age", "group=" + "x" * 300 + "end"]
    fig = love_plot(names, np.array([0.3, 0.2]), np.array([0.05, 0.02]))
    means = (np.array([0.2, 0.4]), np.array([0.3, 0.1]))
    other = attribute_means(names, means, means)
    labels = [*fig.axes[0].get_yticklabels(), *other.axes[0].get_xticklabels()]
    assert sorted(t.get_text()[:9] for t in labels) == ["age", "age", "group=xxx", "group=xxx"]
    for text in labels:
        assert text.get_text() == "age" or ("…" in text.get_text() and text.get_text().endswith("xend"))
        text.figure.canvas.draw()
        box = text.get_window_extent()
        assert text.figure.bbox.x0 <= box.x0 and box.x1 <= text.figure.bbox.x1, text.get_text()
