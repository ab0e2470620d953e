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


def test_informativeness_heatmap_numbers_have_the_contrast_text_needs() -> None:
    """A value just under 0.6 of the highest was written white on magma's orange-red, 4.0:1:
    each number now takes black or white by its cell's colour, 4.5:1 or more (WCAG)."""
    from tests.viz.colour_vision import contrast

    values = np.array([[1.0, 0.598, 0.61, 0.3, 0.8, 0.1]])
    fig = informativeness_heatmap(values, ["a"], "mu")
    image = fig.axes[0].images[0]
    for text in fig.axes[0].texts:
        cell = image.cmap(image.norm(values[0, round(text.get_position()[0])]))
        assert contrast(cell, text.get_color()) >= 4.5, text.get_text()
    plt.close(fig)


def test_informativeness_heatmap_title_fits_a_narrow_figure() -> None:
    fig = informativeness_heatmap(np.full((2, 3), 0.5), ["a", "b"], "mu")
    fig.canvas.draw()
    box = fig.axes[0].title.get_window_extent()
    assert box.x0 >= 0 and box.x1 <= fig.bbox.width
    plt.close(fig)


@pytest.mark.parametrize("dims", [8, 32, 64, 512])
def test_informativeness_heatmap_of_many_dimensions_is_readable_on_a_page(dims: int) -> None:
    """However many dimensions, the heatmap is no wider than a page, so its 6 pt numbers print
    at 6 pt, and the numbered dimensions' labels do not run into each other."""
    from latentplay.viz.style import PAGE_WIDTH, SMALLEST_TEXT, printed_size

    values = np.random.default_rng(0).random((8, dims)) * 0.5
    fig = informativeness_heatmap(values, [f"attribute_{a}" for a in range(8)], "mu",
                                  chance=np.full(8, 0.1))
    assert fig.get_figwidth() <= PAGE_WIDTH
    assert printed_size(fig, PAGE_WIDTH) >= SMALLEST_TEXT - 1e-9
    fig.canvas.draw()
    boxes = [t.get_window_extent() for t in fig.axes[0].get_xticklabels() if t.get_text()]
    assert all(left.x1 < right.x0 for left, right in zip(boxes, boxes[1:], strict=False))


def test_pairs_grid_of_four_pairs_a_row_is_readable_on_a_page() -> None:
    """Four pairs a row make a 10-inch figure whose 8 pt values printed at 5.5 pt on a page:
    they are drawn larger, so that scaled to a page every text is 6 points or more."""
    from latentplay.viz.style import PAGE_WIDTH, SMALLEST_TEXT, printed_size

    faces = np.zeros((8, 16, 16, 3), np.uint8)
    fig = pairs_grid(faces, faces, np.linspace(0.5, 2.0, 8), groups=("generated", "nearest of faces"),
                     title="closest pairs", value_label="ratio")
    assert printed_size(fig, PAGE_WIDTH) >= SMALLEST_TEXT - 1e-9


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
    """The caption sat at the inner edge of the left image, not under the middle of the pair;
    it is centred between the outer edges of the two images (also for wide images, which do
    not fill their square), just below them, and the images keep their width : height."""
    images = np.zeros(shape, np.uint8)
    fig = pairs_grid(images, images, np.array([0.1, 0.2]), per_row=2,
                     value_label="Mahalanobis distance")
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    (ax,) = fig.axes
    shown = ax.get_images()
    captions = [t for t in ax.texts if t.get_text().startswith("Mahalanobis distance = ")]
    assert len(shown) == 4 and len(captions) == 2
    for i, caption in enumerate(captions):
        left, right = (shown[2 * i + k].get_window_extent(renderer) for k in (0, 1))
        text = caption.get_window_extent(renderer)
        assert (text.x0 + text.x1) / 2 == pytest.approx((left.x0 + right.x1) / 2, abs=1.0)
        assert 0 < left.y0 - text.y1 < 10  # just below the images (pixels)
        assert left.width / left.height == pytest.approx(shape[2] / shape[1], rel=0.02)
    plt.close(fig)


def test_pairs_grid_makes_room_for_a_long_title() -> None:
    """A title of three lines pushed the sides' names into it (the figure kept its height)."""
    images = np.zeros((4, 8, 8, 3), np.uint8)
    fig = pairs_grid(images, images, np.arange(4.0), per_row=2, title="one\ntwo\nthree")
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    title = fig._suptitle.get_window_extent(renderer)
    names = [t.get_window_extent(renderer) for t in fig.axes[0].texts if t.get_text() == "treated"]
    assert title.y1 <= fig.bbox.height and all(name.y1 < title.y0 for name in names)
    plt.close(fig)


def test_pairs_grid_puts_each_pairs_faces_and_value_together() -> None:
    """Pair i's treated face on the left, its control on the right, in row i // per_row and
    column i % per_row, its value under it, each side named above the first row."""
    treated = np.stack([np.full((8, 8, 3), 10 + i, np.uint8) for i in range(3)])
    control = np.stack([np.full((8, 8, 3), 100 + i, np.uint8) for i in range(3)])
    fig = pairs_grid(treated, control, np.array([0.25, 0.5, 0.75]), per_row=2,
                     groups=("smiling", "neutral"), value_label="d")
    (ax,) = fig.axes
    faces = sorted(ax.get_images(), key=lambda im: (im.get_extent()[3], im.get_extent()[0]))
    values = [int(np.asarray(im.get_array())[0, 0, 0]) for im in faces]
    assert values == [10, 100, 11, 101, 12, 102]  # by row (top first), then left to right
    captions = {t.get_text(): t.get_position() for t in ax.texts if t.get_text().startswith("d = ")}
    assert set(captions) == {"d = 0.25", "d = 0.5", "d = 0.75"}
    for i, text in enumerate(("d = 0.25", "d = 0.5", "d = 0.75")):
        left, right = faces[2 * i].get_extent(), faces[2 * i + 1].get_extent()
        x, y = captions[text]
        assert left[1] < x < right[0] and y > left[2]  # between the two faces, below them
        assert y < ax.get_ylim()[0]  # on the figure (its axes run from the top down)
    names = [(t.get_position()[0], t.get_text()) for t in ax.texts if not t.get_text().startswith("d = ")]
    assert [text for _, text in sorted(names)] == ["smiling", "neutral", "smiling", "neutral"]
    plt.close(fig)


def test_probe_bars_draw_each_attributes_scores_in_its_row() -> None:
    """Attribute a's row holds column c's linear score as a bar (legend: the column), its
    k-NN score as a ring at the bar's height, and a tick at a's chance; the first attribute
    on top, the columns top to bottom in their order."""
    from matplotlib.colors import same_color

    from latentplay.viz.probe import probe_bars

    linear = np.array([[0.9, 0.6], [0.3, 0.7]])
    knn = np.array([[0.8, 0.5], [0.2, 0.65]])
    chance = np.array([0.5, 0.1])
    ax = probe_bars(["gender", "age"], ["balanced accuracy", "R²"], ["mu", "clip"],
                    linear, knn, chance).axes[0]
    labels = {round(y): t.get_text() for y, t in zip(ax.get_yticks(), ax.get_yticklabels(), strict=True)}
    assert labels == {0: "gender\n(bal. acc.)", 1: "age\n(R²)"}
    bottom, top = ax.get_ylim()
    assert bottom > top  # row 0 (the first attribute) drawn on top
    handles, names = ax.get_legend_handles_labels()
    colour = {n: h.patches[0].get_facecolor() for h, n in zip(handles, names, strict=True)
              if n in ("mu", "clip")}
    rings = [line for line in ax.lines if line.get_marker() == "o" and len(line.get_xdata())]
    ticks = [line for line in ax.lines if line.get_marker() != "o" and len(line.get_xdata())]
    for a in range(2):
        bars = sorted((p for p in ax.patches if round(p.get_y() + p.get_height() / 2) == a),
                      key=lambda p: p.get_y())
        assert [p.get_width() for p in bars] == pytest.approx(linear[a])
        for c, (bar, name) in enumerate(zip(bars, ("mu", "clip"), strict=True)):
            assert same_color(bar.get_facecolor(), colour[name])
            centre = bar.get_y() + bar.get_height() / 2
            ring = [x for line in rings for x, y in zip(line.get_xdata(), line.get_ydata(), strict=True)
                    if y == pytest.approx(centre)]
            assert ring == pytest.approx([knn[a, c]])
        tick = [line for line in ticks if np.mean(line.get_ydata()) == pytest.approx(a)]
        assert len(tick) == 1 and list(tick[0].get_xdata()) == pytest.approx([chance[a]] * 2)
    plt.close(ax.figure)


def test_informativeness_heatmap_numbers_each_cell_where_it_is_drawn() -> None:
    """The number of attribute a and dimension d sits on that cell (x = d, y = a), over the
    value drawn there, dark on a bright cell, and only where the value is above a's own
    chance level."""
    from latentplay.viz.probe import informativeness_heatmap

    values = np.array([[0.10, 0.50, 0.30], [0.30, 0.20, 0.90]])
    fig = informativeness_heatmap(values, ["gender", "age"], "mu", chance=np.array([0.35, 0.15]))
    ax = fig.axes[0]
    np.testing.assert_allclose(ax.get_images()[0].get_array(), values)
    shown = {(round(t.get_position()[1]), round(t.get_position()[0])): t.get_text() for t in ax.texts}
    assert shown == {(0, 1): ".50", (1, 0): ".30", (1, 1): ".20", (1, 2): ".90"}
    colour = {t.get_text(): t.get_color() for t in ax.texts}  # dark on the bright cells
    assert colour[".90"] == "black" and colour[".20"] == "white"
    assert [t.get_text() for t in ax.get_yticklabels()] == ["gender", "age"]
    plt.close(fig)
