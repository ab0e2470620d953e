"""Figure titles wrapped to fit, one ramp for ordered classes, and ``unknown`` grey in every
bar chart (love plot, image grids, bias chart, a store report's count chart)."""

from __future__ import annotations

import matplotlib.colors as mcolors
import matplotlib.pyplot as plt
import numpy as np
import pytest

from latentplay.viz.style import UNKNOWN_FILL, ordered_colors, wrap_title


def _inside(fig, text) -> bool:
    """Whether the drawn ``text`` lies within the figure's canvas."""
    fig.canvas.draw()
    box, frame = text.get_window_extent(), fig.bbox
    return box.x0 >= frame.x0 - 0.5 and box.x1 <= frame.x1 + 0.5 and box.y1 <= frame.y1 + 0.5


def test_wrap_title_breaks_long_lines_into_even_ones():
    text = "(55 less imbalanced covariates not shown; their max |SMD| after: 0.632)"
    assert wrap_title(text, 10.0, 10) == text
    lines = wrap_title(f"Balance\n{text}", 3.0, 10).split("\n")
    assert lines[0] == "Balance" and len(lines) == 3
    assert " ".join(lines[1:]) == text
    assert abs(len(lines[1]) - len(lines[2])) < 12  # balanced, no lone last word


def test_love_plot_title_fits_with_covariates_left_out():
    from latentplay.viz.balance import love_plot

    rng = np.random.default_rng(0)
    names = [f"skin_group=intermediate_{i}" for i in range(60)]  # long names: axes far right
    before = np.abs(rng.normal(0.3, 0.3, 60))
    fig = love_plot(names, before, before * 0.3 + 0.4,
                    title="Balance of treated vs control (propensity)\nSMD: mean difference / SD "
                          "of the treated units before matching")
    title = fig.axes[0].title
    assert "20 less imbalanced covariates not shown" in title.get_text().replace("\n", " ")
    assert _inside(fig, title)


@pytest.mark.parametrize("ncols", [1, 2, 4, 10])
def test_image_grid_title_fits_and_clears_the_images(ncols: int):
    from latentplay.viz.grid import image_grid

    images = np.zeros((ncols, 8, 8, 3), np.uint8)
    fig = image_grid([images, images], ["female\n(n=99, k=3)", "male\n(n=301, k=4)"],
                     title="gender: faces drawn from each group's latent mixture")
    title = fig._suptitle
    assert _inside(fig, title)
    fig.canvas.draw()
    top = max(image.get_window_extent().y1 for image in fig.axes[0].get_images())
    assert title.get_window_extent().y0 > top + 2  # a gap above the images


def test_ordered_ramp_has_no_grey_middle():
    colours = ordered_colors(5)
    rgb = colours[:, :3]
    saturation = rgb.max(1) - rgb.min(1)
    assert (saturation > 0.25).all()  # every class clearly coloured, the middle one too
    assert (np.diff(rgb @ [0.2126, 0.7152, 0.0722]) > 0).all()  # dark to light, in order


def test_bias_bars_use_the_ramp_and_grey_unknown():
    from latentplay.viz.bias import bias_bars

    levels = ["frown", "neutral", "smile", "unknown"]
    counts = np.array([[5, 4, 7, 20], [6, 2, 3, 30]])
    fig = bias_bars(["female", "male"], levels, counts, "gender", "lift3")
    ax = fig.axes[0]
    handles, labels = ax.get_legend_handles_labels()
    assert labels == levels
    fills = [h.patches[0].get_facecolor() for h in handles]
    np.testing.assert_allclose(fills[:3], ordered_colors(3))
    np.testing.assert_allclose(fills[3], UNKNOWN_FILL)
    assert handles[3].patches[0].get_hatch() and not handles[1].patches[0].get_hatch()


def test_count_bars_grey_unknown():
    from latentplay.viz.distribution import count_bars

    fig = count_bars(["frown", "neutral", "smile", "unknown"], [44, 24, 35, 297], "lift3")
    bars = fig.axes[0].patches
    assert len(bars) == 4
    assert all(mcolors.same_color(b.get_facecolor(), "tab:blue") for b in bars[:3])
    np.testing.assert_allclose(bars[3].get_facecolor(), UNKNOWN_FILL)
    assert bars[3].get_hatch() and not bars[0].get_hatch()
    assert [b.get_height() for b in bars] == [44, 24, 35, 297]       # each class's count
    assert [b.get_x() + b.get_width() / 2 for b in bars] == [0, 1, 2, 3]
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["frown", "neutral", "smile",
                                                                    "unknown"]


def test_distribution_bars_put_each_series_share_and_interval_over_its_class():
    """Two series over three classes: each share a bar of its series' colour at its place in
    the class's group (0.4 wide, left then right of the class's tick), its whisker from the
    interval's low to its high bound; the share axis reaches above the highest bound."""
    from matplotlib.container import ErrorbarContainer

    from latentplay.viz.distribution import FIRST_STYLE, distribution_bars
    from latentplay.viz.style import CLASS_COLORS

    training = (np.array([0.2, 0.3, 0.5]), np.array([[0.15, 0.26], [0.24, 0.35], [0.45, 0.56]]))
    generated = (np.array([0.1, 0.6, 0.3]), np.array([[0.05, 0.18], [0.5, 0.66], [0.22, 0.37]]))
    fig = distribution_bars(["a", "b", "c"], {"training": training, "generated": generated})
    ax = fig.axes[0]
    bars = ax.patches
    np.testing.assert_allclose([b.get_height() for b in bars], [0.2, 0.3, 0.5, 0.1, 0.6, 0.3])
    np.testing.assert_allclose([b.get_x() + b.get_width() / 2 for b in bars],
                               [-0.2, 0.8, 1.8, 0.2, 1.2, 2.2])
    assert all(mcolors.same_color(b.get_facecolor(), (FIRST_STYLE["color"], CLASS_COLORS[0])[k // 3])
               for k, b in enumerate(bars))
    whiskers = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    spans = [segment[:, 1] for c in whiskers for segment in c.lines[2][0].get_segments()]
    np.testing.assert_allclose(spans, [*training[1], *generated[1]])
    assert 0.66 < ax.get_ylim()[1] <= 1.0


def test_distribution_bars_series_stay_apart_for_colour_blind_readers_and_on_paper():
    """Four series (the data, prior samples, mixture samples, held-out recall) took tab10's
    orange and green third and fourth, 1.3 CIEDE2000 apart to a protanope, and the first,
    second and fourth were one grey on paper (luma 0.50, 0.39, 0.44): every two series are
    now more than 10 apart for every vision, the plain ones at least 0.15 apart in luma
    (ITU-R 601, as greyscale printing and PIL's "L" take it) and the others each hatched its
    own way; none takes the first series' grey again (a sixth series did)."""
    from tests.viz.colour_vision import least_gaps

    from latentplay.viz.distribution import distribution_bars

    def drawn(m: int) -> list[tuple[tuple[float, ...], str | None]]:
        share = (np.array([0.5, 0.5]), np.array([[0.4, 0.6], [0.4, 0.6]]))
        fig = distribution_bars(["a", "b"], {f"series {i}": share for i in range(m)})
        styles = [(tuple(p.get_facecolor()[:3]), p.get_hatch()) for p in fig.axes[0].patches[::2]]
        plt.close(fig)
        return styles

    for m in (2, 3, 4, 6):
        styles = drawn(m)
        gaps = least_gaps([colour for colour, _ in styles])
        assert min(gaps.values()) > 10, (m, gaps)
        luma = sorted(np.dot(colour, [0.299, 0.587, 0.114]) for colour, hatch in styles if not hatch)
        assert min(np.diff(luma)) >= 0.15, (m, luma)
        hatches = [hatch for _, hatch in styles if hatch]
        assert len(set(hatches)) == len(hatches) == max(m - 3, 0)
    many = drawn(8)
    assert len(set(many)) == 8 and many[0][0] not in [colour for colour, _ in many[1:]]


def test_love_plot_shows_what_matching_left_imbalanced():
    """A covariate balanced before but not after matching is among those shown."""
    from latentplay.viz.balance import love_plot

    before = np.linspace(0.5, 0.01, 50)
    after = before * 0.1
    after[45] = 0.48  # nearly balanced before (0.05), imbalanced after
    names = [f"c{i}" for i in range(50)]
    fig = love_plot(names, before, after, max_rows=10)
    shown = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert "c45" in shown and len(shown) == 10
    text = fig.axes[0].title.get_text().replace("\n", " ")
    assert "40 less imbalanced covariates not shown" in text and "0.410 before, 0.041 after" in text


def test_shares_by_setting_draws_many_classes_in_panels_of_their_own():
    """Twenty joint classes (gender x skin tone, `audit compare --joint --psi`) were twenty
    lines near 0.05 on a 0-1 axis, not to be told apart: now a panel per class, named above
    it, all on one share axis that reaches just above the highest band; the title (with what
    the dotted line is) stays within the figure, and every text prints at 6 points or more on
    a page (five panels a row printed their 7 pt ticks at 4.6)."""
    from latentplay.viz.distribution import shares_by_setting
    from latentplay.viz.style import PAGE_WIDTH, SMALLEST_TEXT, printed_size

    classes = [f"{g} / monk_{t}" for g in ("female", "male") for t in range(1, 11)]
    shares = np.full((3, 20), 1 / 20)
    shares[2, 3] = 0.09
    intervals = np.stack([shares - 0.01, shares + 0.01], axis=-1)
    fig = shares_by_setting([1.0, 0.7, 0.4], classes, shares, intervals, np.full(20, 1 / 20),
                            title="gender,skin_tone: annotated shares of 60 samples at each ψ")
    shown = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in shown] == classes
    assert {ax.get_ylim() for ax in shown} == {(0.0, 0.15)}          # 1.1 x 0.10, to 0.05
    assert shown[3].get_lines()[0].get_ydata()[-1] == pytest.approx(0.09)
    band = shown[3].collections[0].get_paths()[0].vertices[:, 1]        # its own interval
    assert (band.min(), band.max()) == pytest.approx((0.04, 0.10))
    assert shown[0].get_xlim()[0] > shown[0].get_xlim()[1]           # psi 1 on the left
    assert "dotted: reference" in fig._suptitle.get_text()
    assert _inside(fig, fig._suptitle)
    assert printed_size(fig, PAGE_WIDTH) >= SMALLEST_TEXT


def test_shares_by_setting_of_few_classes_share_one_axes_with_a_legend_beside_it():
    from latentplay.viz.distribution import shares_by_setting

    shares = np.array([[0.5, 0.5], [0.7, 0.3]])
    intervals = np.stack([shares - 0.05, shares + 0.05], axis=-1)
    fig = shares_by_setting([1.0, 0.5], ["female", "male"], shares, intervals,
                            np.full(2, 0.5), reference_label="fairface")
    ax = fig.axes[0]
    assert len(fig.axes) == 1 and ax.get_ylim() == (0.0, 0.85)      # 1.1 x 0.75, to 0.05
    lines = [line for line in ax.get_lines() if line.get_label() in ("female", "male")]
    assert len({mcolors.to_hex(line.get_color()) for line in lines}) == 2
    fig.canvas.draw()
    legend, plot, frame = ax.get_legend().get_window_extent(), ax.get_window_extent(), fig.bbox
    assert legend.x0 >= plot.x1 and legend.x1 <= frame.x1 + 0.5  # beside the axes, not over the lines
    # the dotted shares are the --data store's, which need not be the training set
    assert ax.get_legend().get_title().get_text() == "dotted: fairface"


def test_value_histograms_mark_each_sample_s_median():
    """The dashed line of each sample stands at its median (0 for 0, 0, 0, 10; its mean is
    2.5), and the legend counts its values."""
    from latentplay.viz.distribution import value_histograms

    fig = value_histograms({"faces": np.array([0.0, 0.0, 0.0, 10.0]),
                            "generated": np.array([1.0, 2.0, 9.0])})
    ax = fig.axes[0]
    assert [line.get_xdata()[0] for line in ax.get_lines()] == [0.0, 2.0]
    assert [t.get_text() for t in fig.legends[0].get_texts()] == [
        "faces (n=4)", "generated (n=3); dashed lines: medians"]


def test_a_class_name_of_300_characters_is_shortened_under_its_bars() -> None:
    """A 300-character class name under bars (a store report's counts, an audit's shares)
    shows its start, an ellipsis and its end, and every label stays on the figure with the
    bars above it (before, the name ran off the figure and the layout gave up)."""
    from latentplay.viz.distribution import count_bars, distribution_bars

    name = "from " + "the photo collection of a museum, " * 8 + "end"
    shares = {"training": (np.full(5, 0.2), None), "generated": (np.full(5, 0.2), None)}
    for fig in (count_bars(["a", "b", name], [10, 20, 30], "who"),
                distribution_bars(["a", "b", name, "c", "d"], shares)):
        fig.canvas.draw()
        ax = fig.axes[0]
        labels = ax.get_xticklabels()
        (long,) = [t.get_text() for t in labels if len(t.get_text()) > 1]
        assert long.startswith("from the") and long.endswith("end") and "…" in long
        for text in labels:
            box = text.get_window_extent()
            assert fig.bbox.x0 <= box.x0 and box.x1 <= fig.bbox.x1 and fig.bbox.y0 <= box.y0
        assert ax.get_window_extent().height >= 0.4 * fig.bbox.height
