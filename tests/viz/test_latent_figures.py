"""Figures of latent spaces (``latentplay.viz.latent``)."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.axes import Axes

from latentplay.errors import UserError
from latentplay.viz.latent import distance_histogram, latent_histograms


def _bins(ax: Axes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Left edges, widths and heights ``(bins,)`` of the panel's filled step histogram: its
    outline goes up the first edge, then along each bin's top, ``(left, h), (right, h)``."""
    (patch,) = ax.patches
    xy = patch.get_xy()
    top = xy[1:2 * ((len(xy) - 1) // 4) + 1]
    return top[::2, 0], top[1::2, 0] - top[::2, 0], top[::2, 1]


def test_histograms_keep_codes_beyond_the_shared_axis_and_say_so() -> None:
    rng = np.random.default_rng(0)
    mu = rng.standard_normal((300, 3)).astype(np.float32)
    mu[:, 0] *= 0.5  # well inside the axis (at least +-3)
    mu[:5, 1] = 40.0  # far beyond the pooled 99.5th percentile
    fig = latent_histograms(mu, bins=20)
    panels = [ax for ax in fig.axes if ax.get_visible()]
    bins = [_bins(ax) for ax in panels]
    assert all(len(left) == 20 for left, _, _ in bins)
    counts = [(width * height * len(mu)).sum() for _, width, height in bins]
    np.testing.assert_allclose(counts, 300, rtol=1e-5)
    left, width, height = bins[1]
    assert height[-1] * width[-1] * len(mu) >= 5 - 1e-6  # counted at the edge
    lo, hi = left[0], left[-1] + width[-1]
    beyond = int(((mu[:, 1] < lo) | (mu[:, 1] > hi)).sum())
    assert beyond >= 5 and f"({beyond} beyond the axis" in panels[1].get_title()
    assert "beyond" not in panels[0].get_title()


@pytest.mark.parametrize("d", [8, 10, 32])
def test_histograms_are_readable_on_a_page_and_their_titles_apart(d: int) -> None:
    """Five 2.1-inch panels a row printed their 6 pt ticks at 4 pt on a page: four 1.7-inch
    panels a row make a page's width, and no panel's title (three lines where codes lie beyond
    the axis) runs into its neighbour's or into the panel above."""
    from latentplay.viz.style import PAGE_WIDTH, SMALLEST_TEXT, printed_size

    mu = np.random.default_rng(d).standard_normal((400, d)).astype(np.float32)
    mu[:12, ::3] = 40.0  # beyond the axis: long titles
    fig = latent_histograms(mu, split=np.r_[np.zeros(360), np.ones(40)])
    assert printed_size(fig, PAGE_WIDTH) >= SMALLEST_TEXT
    fig.canvas.draw()
    panels = [ax for ax in fig.axes if ax.get_visible()]
    titles = [ax.title.get_window_extent() for ax in panels]
    assert not any(a.overlaps(b) for k, a in enumerate(titles) for b in titles[k + 1:])
    for title, ax in zip(titles[4:], panels, strict=False):  # the panel above each title
        assert title.y1 <= ax.xaxis.get_tightbbox().y0


def test_histogram_axes_are_labelled() -> None:
    mu = np.random.default_rng(1).standard_normal((50, 7)).astype(np.float32)
    panels = latent_histograms(mu, per_row=5).axes
    assert [ax.get_ylabel() for ax in panels[:7]] == ["density", "", "", "", "", "density", ""]
    # the lowest visible panel of each column: 5 and 6 on the second row, 2..4 above blanks
    assert [k for k in range(7) if panels[k].get_xlabel() == "encoder mean"] == [2, 3, 4, 5, 6]


def test_histogram_title_fits_a_latent_of_one_or_two_dimensions() -> None:
    """A 1- or 2-dimensional latent's figure is one or two panels wide, narrower than its title,
    which was cut off at both sides."""
    for d in (1, 2, 7):
        mu = np.random.default_rng(d).standard_normal((1234, d)).astype(np.float32)
        fig = latent_histograms(mu, split=np.r_[np.zeros(1000), np.ones(234)])
        fig.canvas.draw()
        box = fig.texts[0].get_window_extent()
        assert box.x0 >= 0 and box.x1 <= fig.bbox.width and box.y1 <= fig.bbox.height, d
        top_of_panels = max(ax.get_tightbbox().y1 for ax in fig.axes if ax.get_visible())
        assert top_of_panels <= box.y0, d  # the title clears the panels' titles


def test_histograms_of_one_dimension_s_means_name_the_shape_they_take() -> None:
    """``latent_histograms(mu[:, 0])`` failed with 'not enough values to unpack'."""
    mu = np.zeros((10, 3), np.float32)
    with pytest.raises(UserError, match=r"mu= must be \(N, D\) .* got shape \(10,\) \(one dimension k"):
        latent_histograms(mu[:, 0])
    with pytest.raises(UserError, match=r"split= must be \(N,\) = \(10,\)"):
        latent_histograms(mu, split=np.zeros(9))


def test_distance_plot_of_a_continuous_attribute_names_it() -> None:
    rng = np.random.default_rng(2)
    values = rng.uniform(0, 1, 40)
    fig = distance_histogram(values - 0.5, values, None, "smile", "smile")
    assert fig.axes[0].get_xlabel() == "smile"
    assert fig.axes[0].get_ylabel() == "signed distance"


def test_distance_histogram_names_its_unit() -> None:
    """`latent direction` draws distances in SDs of the codes along the normal, the unit
    `latent edit` moves by (its axis showed raw distances of about 0.004 without a unit)."""
    labels = np.repeat([0, 1], 20)
    fig = distance_histogram(labels - 0.5, labels, ["female", "male"], "gender", "gender",
                             unit="SDs of the codes along it")
    assert fig.axes[0].get_xlabel() == "signed distance to the boundary (SDs of the codes along it)"


def test_distances_of_several_classes_get_a_panel_each_in_order() -> None:
    """Five age groups overlaid blended into one mass: a panel per class in the classes' order,
    one distance axis, each class's median marked; two classes stay overlaid."""
    rng = np.random.default_rng(3)
    labels = np.repeat(np.arange(5), 30)
    distances = labels + rng.normal(0, 0.3, len(labels))
    names = ["child", "youth", "adult", "middle_aged", "senior"]
    fig = distance_histogram(distances, labels, names, "age_group", "age_group", ordered=True)
    assert [ax.get_ylabel() for ax in fig.axes] == [f"{n} (30)" for n in names]
    assert len({ax.get_xlim() for ax in fig.axes}) == 1
    medians = [ax.lines[1].get_xdata()[0] for ax in fig.axes]
    np.testing.assert_allclose(medians, [np.median(distances[labels == k]) for k in range(5)])
    two = distance_histogram(distances[:60], labels[:60], names[:2], "age_group", "age_group")
    assert len(two.axes) == 1 and two.axes[0].get_legend() is not None


def test_distance_histograms_name_a_class_that_starts_with_an_underscore() -> None:
    """Two classes ``_none`` and ``some``: both named in the legend with their counts (before,
    ``_none`` was left out, as matplotlib leaves out labels that start with ``_``)."""
    from latentplay.viz.latent import distance_histogram

    labels = np.r_[np.zeros(30, int), np.ones(20, int)]
    fig = distance_histogram(np.linspace(-1, 1, 50), labels, ["_none", "some"], "t", "kind")
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["_none (30)", "some (20)"]
