"""Pairs grids and probe heatmaps: grey levels and printed values as they are."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from latentplay.viz.pairs import pairs_grid
from latentplay.viz.probe import informativeness_heatmap


def test_pairs_grid_draws_grey_levels_on_the_uint8_scale() -> None:
    grey = np.full((2, 8, 8, 1), 120, np.uint8)
    grey[:, :4] = 130          # a faint edge must stay faint, not black against white
    fig = pairs_grid(grey, grey, np.array([0.1, 0.2]), per_row=2)
    shown = [im for ax in fig.axes for im in ax.get_images()]
    assert len(shown) == 4
    assert all(im.get_clim() == (0, 255) for im in shown)
    plt.close(fig)


def test_informativeness_heatmap_prints_values_near_one_whole() -> None:
    values = np.array([[0.996, 0.3], [0.42, 1.0]])
    fig = informativeness_heatmap(values, ["a", "b"], "mu")
    texts = sorted(t.get_text() for t in fig.axes[0].texts)
    assert texts == sorted([f"{v:.2f}".removeprefix("0") for v in values.ravel()])
    assert "1.00" in texts and ".00" not in texts
    plt.close(fig)


def test_informativeness_heatmap_title_fits_a_narrow_figure() -> None:
    fig = informativeness_heatmap(np.full((2, 3), 0.5), ["a", "b"], "mu")
    fig.canvas.draw()
    box = fig.axes[0].title.get_window_extent()
    assert box.x0 >= 0 and box.x1 <= fig.bbox.width
    plt.close(fig)


def test_probe_bars_draw_a_negative_r2_where_it_is() -> None:
    """A k-NN R² of -0.065 was drawn at 0, its ring cut by the axis; scores below the floor
    are drawn at it and the axis label says so."""
    from latentplay.viz.probe import FLOOR, probe_bars

    linear, knn, chance = np.array([[0.4]]), np.array([[-0.065]]), np.array([0.0])
    ax = probe_bars(["age"], ["R²"], ["mu"], linear, knn, chance).axes[0]
    ring = ax.lines[0].get_xdata()
    assert ring[0] == pytest.approx(-0.065) and ax.get_xlim()[0] < -0.065
    assert "drawn at" not in ax.get_xlabel()
    ax = probe_bars(["age"], ["R²"], ["mu"], np.array([[-3.0]]), knn, chance).axes[0]
    assert ax.get_xlim()[0] == pytest.approx(FLOOR - 0.03) and "drawn at" in ax.get_xlabel()
    assert ax.patches[0].get_width() == pytest.approx(FLOOR)
    ax = probe_bars(["age"], ["R²"], ["mu"], linear, np.array([[0.3]]), chance).axes[0]
    assert ax.get_xlim()[0] == 0


@pytest.mark.parametrize("shape", [(2, 8, 8, 3), (2, 8, 16, 3)])
def test_pairs_grid_centres_each_caption_under_its_pair(shape: tuple[int, ...]) -> None:
    """The caption sat at the inner edge of the left image (x = 1 of its axes), not under the
    middle of the pair; now it is centred between the outer edges of the two images (also for
    wide images, which do not fill their axes box)."""
    images = np.zeros(shape, np.uint8)
    fig = pairs_grid(images, images, np.array([0.1, 0.2]), per_row=2,
                     value_label="Mahalanobis distance")
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    for i in range(2):
        left, right = fig.axes[2 * i], fig.axes[2 * i + 1]
        (caption,) = left.texts
        assert caption.get_text().startswith("Mahalanobis distance = ")
        text = caption.get_window_extent(renderer)
        x0 = left.get_images()[0].get_window_extent(renderer).x0
        x1 = right.get_images()[0].get_window_extent(renderer).x1
        assert (text.x0 + text.x1) / 2 == pytest.approx((x0 + x1) / 2, abs=1.0)
        assert text.y1 < left.get_window_extent(renderer).y0 + 2  # below the images
    plt.close(fig)
