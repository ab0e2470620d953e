"""Captions of an image grid (a traversal's values, a GIF frame's axis names) stay readable:
inside the canvas and clear of the next row's images."""

from __future__ import annotations

import numpy as np
import pytest

TITLE = "traversals of latent axes (raw units of z: SDs of the N(0, 1) prior) from the centre"


def _caption_overlap(fig) -> float:
    """Pixels by which any caption runs below the canvas or over an image."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    worst = 0.0
    for ax in fig.axes:
        boxes = [image.get_window_extent(renderer) for image in ax.get_images()]
        for text in ax.texts:
            if text.get_ha() != "center":  # captions are centred under their images; labels not
                continue
            label = text.get_window_extent(renderer)
            worst = max(worst, -label.y0)
            for box in boxes:
                if box.x0 < label.x1 and box.x1 > label.x0 and box.y0 < label.y1 and box.y1 > label.y0:
                    worst = max(worst, min(box.y1, label.y1) - max(box.y0, label.y0))
    return worst


@pytest.mark.parametrize(("nrows", "ncols"), [(1, 2), (1, 3), (2, 9), (3, 9), (5, 12)])
def test_image_grid_captions_clear_the_canvas_and_the_next_row(nrows: int, ncols: int) -> None:
    from latentplay.viz.grid import image_grid

    images = np.full((ncols, 32, 32, 3), 128, np.uint8)  # (k, H, W, C)
    captions = [[f"{v:+.3g}" for v in np.linspace(-3, 3, ncols)]] * nrows
    fig = image_grid([images] * nrows, [f"z{i}" for i in range(nrows)], captions=captions,
                     title=TITLE)
    assert _caption_overlap(fig) < 0.5
    images = fig.axes[0].get_images()
    assert len(images) == nrows * ncols
    for image in images:  # pixels stay square
        box = image.get_window_extent()
        assert box.width == pytest.approx(box.height, abs=1.0)


@pytest.mark.parametrize("ncols", [4, 10, 14])
def test_a_wide_grid_s_captions_and_labels_stay_readable_at_page_width(ncols: int) -> None:
    """A grid of ten or more faces is printed at a page's width: its captions and row labels are
    drawn large enough to stay 6 points there, and no caption runs over its neighbour's."""
    from latentplay.viz.grid import image_grid
    from latentplay.viz.style import PAGE_WIDTH, SMALLEST_TEXT, printed_size

    images = np.full((ncols, 32, 32, 3), 128, np.uint8)  # (k, H, W, C)
    captions = [[f"{v:.2f}" for v in np.linspace(-1, 1, ncols)]] * 3
    fig = image_grid([images] * 3, ["[-1,-0.6)\n(n=104)"] * 3, captions=captions, title=TITLE)
    assert printed_size(fig, PAGE_WIDTH) >= SMALLEST_TEXT - 1e-9
    assert _caption_overlap(fig) < 0.5
    renderer = fig.canvas.get_renderer()
    boxes = sorted((t.get_window_extent(renderer) for t in fig.axes[0].texts if t.get_ha() == "center"),
                   key=lambda box: (round(box.y0), box.x0))[:ncols]
    assert all(left.x1 < right.x0 for left, right in zip(boxes, boxes[1:], strict=False))


def test_image_grid_keeps_each_image_s_aspect_and_puts_its_caption_under_it() -> None:
    """A wide image keeps its width : height; its caption sits just under it, clear of it."""
    from latentplay.viz.grid import image_grid

    wide = np.zeros((2, 20, 40), np.uint8)  # (k, H, W) grey
    fig = image_grid([wide, np.zeros((1, 32, 32, 3), np.uint8)], ["wide", "square"],
                     captions=[["a", "b"], ["c"]])
    assert _caption_overlap(fig) < 0.5
    ax = fig.axes[0]
    first, caption = ax.get_images()[0].get_window_extent(), ax.texts[0].get_window_extent()
    assert first.width / first.height == pytest.approx(2.0, rel=0.02)
    assert 0 < first.y0 - caption.y1 < 12  # pixels: under the image, not under its square cell


def test_traversal_gif_frames_show_the_axis_names(monkeypatch: pytest.MonkeyPatch) -> None:
    """A GIF frame of three axes (one image each) keeps its captions, the axes' names, on it."""
    from latentplay.viz import grid
    from latentplay.viz.latent import traversal_frames

    overlaps = []
    real = grid.image_grid

    def measured(*args, **kwargs):   # the frames' layout: only their images and labels change
        fig = real(*args, **kwargs)
        overlaps.append(_caption_overlap(fig))
        return fig

    monkeypatch.setattr(grid, "image_grid", measured)
    rows = np.full((3, 5, 16, 16, 3), 128, np.uint8)  # (A, V, S, S, C)
    frames = traversal_frames(rows, np.linspace(-3, 3, 5), ["z0", "z1", "z2"], TITLE)
    assert len(frames) == 8 and max(overlaps) < 0.5
    assert frames.shape[2] > 700      # at 180 dpi; at the default 100 its 6-point captions blurred


def test_grid_frames_are_the_grids_of_each_frame_laid_out_once() -> None:
    """Each frame is the image grid of its rows and labels; labels of different widths keep
    the layout of the widest (a grid per frame moved the images with each label's width)."""
    from latentplay.viz.grid import figure_array, grid_frames, image_grid

    rng = np.random.default_rng(1)
    frames = [[rng.integers(0, 255, (3, 12, 12, 3), dtype=np.uint8),
               rng.integers(0, 255, (2, 12, 12), dtype=np.uint8)] for _ in range(3)]
    same = [["step\n-1", ""], ["step\n+0", "x"], ["step\n+1", ""]]   # "step" the widest line
    drawn = grid_frames(frames, same, captions=[["a", "b", "c"], ["d", "e"]], title="t", dpi=120)
    assert drawn.shape[0] == 3 and drawn.dtype == np.uint8
    for f in range(3):
        np.testing.assert_array_equal(drawn[f], figure_array(image_grid(
            frames[f], same[f], captions=[["a", "b", "c"], ["d", "e"]], title="t"), dpi=120))
    moving = grid_frames([frames[0]] * 2, [["a", ""], ["a label far wider than a", ""]])
    changed = np.flatnonzero((moving[0] != moving[1]).any(axis=(0, 2)))   # columns that differ
    wide = figure_array(image_grid(frames[0], ["a label far wider than a", ""]))
    first_image = np.flatnonzero((wide != 255).any(axis=(0, 2)) & (np.arange(wide.shape[1])
                                                                  > changed.max()))
    assert changed.size and first_image.size   # only the label's columns, left of the images
    np.testing.assert_array_equal(moving[1], wide)


def test_traversal_gif_frames_wrap_many_axes(monkeypatch: pytest.MonkeyPatch) -> None:
    """A frame of 24 axes (a concept model's latents) was one row of 24 tiny faces: the axes
    wrap ten to a row, each row's faces above their own axes' captions."""
    from latentplay.viz import grid
    from latentplay.viz.latent import FRAME_AXES, traversal_frames

    drawn = []
    real = grid.image_grid

    def recorded(rows, row_labels, captions=None, title=None, **kw):
        drawn.append(([len(r) for r in rows], row_labels, captions))
        return real(rows, row_labels, captions=captions, title=title, **kw)

    monkeypatch.setattr(grid, "image_grid", recorded)
    rows = np.random.default_rng(0).integers(0, 255, (24, 3, 16, 16, 3), dtype=np.uint8)
    labels = [f"z{a}" for a in range(24)]
    wide = traversal_frames(rows, np.linspace(-2, 2, 3), labels, TITLE)
    few = traversal_frames(rows[:FRAME_AXES], np.linspace(-2, 2, 3), labels[:FRAME_AXES], TITLE)
    counts, row_labels, captions = drawn[0]
    assert counts == [10, 10, 4] and row_labels == ["step\n-2", "", ""]
    assert captions[2] == ["z20", "z21", "z22", "z23"]
    assert wide.shape[2] == few.shape[2] and wide.shape[1] > 2 * few.shape[1] - 100


@pytest.mark.parametrize(
    ("rows", "labels", "message"),
    [
        ([np.zeros((2, 8, 8, 3), np.uint8)] * 2, ["only one"], "row_labels= has 1 labels for 2 rows"),
        (np.zeros((2, 8, 8, 3), np.uint8), ["a", "b"], r"one array of shape \(2, 8, 8, 3\) \(pass \[images"),
        ([np.zeros((2, 8, 8, 5), np.uint8)], ["a"], r"rows\[0\]\[0\] is no \(H, W, C\) image"),
    ],
)
def test_image_grid_refuses_rows_and_labels_that_do_not_fit(rows, labels: list[str], message: str) -> None:
    """These raised IndexError (fewer labels than rows; one 4-D array taken as its rows)."""
    from latentplay.errors import UserError
    from latentplay.viz.grid import image_grid

    with pytest.raises(UserError, match=message):
        image_grid(rows, labels)


def test_image_grid_draws_grey_k_h_w_images_grey() -> None:
    """``(k, H, W)`` images (what ``train.encode`` takes) were drawn in viridis."""
    from latentplay.viz.grid import image_grid

    grey = np.arange(2 * 4 * 4, dtype=np.uint8).reshape(2, 4, 4) * 8
    fig = image_grid([grey], ["grey"])
    shown = fig.axes[0].get_images()[0]
    assert shown.get_cmap().name == "gray" and shown.get_clim() == (0, 255)
    np.testing.assert_array_equal(shown.get_array(), grey[0])
    floats = np.linspace(0.0, 0.5, 16).reshape(1, 4, 4)   # float grey images are in [0, 1]
    assert image_grid([floats], ["float"]).axes[0].get_images()[0].get_clim() == (0, 1)


def test_each_image_sits_in_its_row_and_column_over_its_own_caption() -> None:
    """Image ``c`` of row ``r`` (its pixels all ``10 r + c``) is the ``c``-th from the left in
    the ``r``-th row from the top, its caption ``captions[r][c]`` centred under it and its row's
    label beside it."""
    from latentplay.viz.grid import image_grid

    rows = [np.full((3, 6, 6, 3), 10 * r, np.uint8) + np.arange(3, dtype=np.uint8)[:, None, None, None]
            for r in range(2)]
    fig = image_grid(rows, ["first", "second"], captions=[["a0", "a1", "a2"], ["b0", "b1", "b2"]])
    ax = fig.axes[0]
    at = {int(image.get_array()[0, 0, 0]): image.get_extent() for image in ax.get_images()}
    captions = {t.get_text(): t.get_position() for t in ax.texts if not t.get_gid()}
    labels = {t.get_text(): t.get_position() for t in ax.texts if t.get_gid()}
    for r, (name, letter) in enumerate((("first", "a"), ("second", "b"))):
        for c in range(3):
            left, right, bottom, top = at[10 * r + c]   # y grows downwards: bottom > top
            x, y = captions[f"{letter}{c}"]
            assert x == pytest.approx((left + right) / 2) and y > bottom
            assert top < labels[name][1] < bottom
            if c:
                assert left > at[10 * r + c - 1][1]               # right of the one before
            if r:
                assert top > at[10 * (r - 1) + c][2]              # under the row above


def test_a_row_label_of_300_characters_is_shortened_and_the_images_keep_their_room() -> None:
    """A class named by 300 characters labels its row by its start, an ellipsis and its end
    (and the count line under it whole), on the figure, and every image keeps most of its
    cell (before, the label took the whole width and the images shrank to nothing)."""
    from latentplay.viz.grid import image_grid

    name = "from " + "the photo collection of a museum, " * 8 + "end"   # 290 characters
    rows = [np.zeros((3, 8, 8, 3), np.uint8), np.zeros((3, 8, 8, 3), np.uint8)]
    fig = image_grid(rows, ["short\n(n=10)", f"{name}\n(n=12)"], cell_inches=0.9)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    ax = fig.axes[0]
    first, second = (t.get_text().split("\n") for t in ax.texts if t.get_gid())
    assert first == ["short", "(n=10)"]
    assert second[0].startswith("from the") and second[0].endswith("end") and "…" in second[0]
    assert second[1] == "(n=12)"
    for text in ax.texts:
        box = text.get_window_extent(renderer)
        assert fig.bbox.x0 <= box.x0 and box.x1 <= fig.bbox.x1
    for image in ax.get_images():
        assert image.get_window_extent(renderer).width >= 0.8 * 0.9 * fig.dpi
