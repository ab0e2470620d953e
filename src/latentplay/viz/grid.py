"""Labelled image grids: one row per value of an attribute."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from latentplay.errors import UserError
from latentplay.outputs import made_by, made_by_text, replaced_whole
from latentplay.viz.plain import drawn_as_written
from latentplay.viz.style import fitted, readable_size, text_width, wrap_title

if TYPE_CHECKING:
    from PIL import Image

    from latentplay.store.io import Store

TITLE_SIZE = 10
"""Least font size of an image grid's title (points); a wide grid draws it larger."""

LABEL_SIZE = 8
"""Least font size of an image grid's row labels (points): a wide grid draws them larger, to be
read at :data:`~latentplay.viz.style.PAGE_WIDTH`."""

CAPTION_SIZE = 6
"""Least font size of the captions under an image grid's images (points): a wide grid draws
them larger (:func:`~latentplay.viz.style.readable_size`), as far as its cells leave room."""

FIGURE_DPI = 120
"""Pixels per inch of saved figures."""


@drawn_as_written
def image_grid(
    rows: Sequence[np.ndarray],
    row_labels: Sequence[str],
    captions: Sequence[Sequence[str]] | None = None,
    title: str | None = None,
    cell_inches: float = 0.9,
) -> Figure:
    """A figure with one row of images per entry of ``rows``.

    The images are drawn on one axes that covers the figure, in data units of inches from its
    top-left corner (an axes per image took most of a grid's drawing time); each image keeps
    its pixels square, centred in its cell.

    Args:
        rows: a list with one entry per grid row, each a ``(k, H, W, C)`` uint8 array (``C`` =
            1, 3 or 4) or a ``(k, H, W)`` one of grey images (or a list of ``k`` such images);
            rows may differ in ``k``. One ``(k, H, W, C)`` array is refused: pass ``[images]``.
        row_labels: text left of each row, one per row.
        captions: optional text under each image, ``captions[r][i]`` (one list per row).
        title: figure title, wrapped to the figure's width above the images.
        cell_inches: size of one image cell.
    """
    _check_grid(rows, row_labels, captions)
    ncols = max((len(r) for r in rows), default=1) or 1
    nrows = max(len(rows), 1)
    width = 1.6 + ncols * cell_inches
    label_size = readable_size(LABEL_SIZE, width)
    row_labels = [fitted(str(text), 0.4 * width, label_size)
                  for text in row_labels]   # a 300-character class name took the whole width
    label = max((text_width(line, label_size) for text in row_labels for line in text.split("\n")),
                default=0.0)
    left = label + 0.12
    cell = (width - left - 0.05) / ncols
    caption_size = _caption_size(captions, width, cell)
    # each row's caption lines, in a band of their own under its images (none where it has none)
    lines = [max((str(text).count("\n") + 1 for text in captions[r] if str(text)), default=0)
             if captions is not None else 0 for r in range(len(rows))]
    bands = [k * caption_size * 1.25 / 72 + (0.04 if k else 0.0) for k in lines]
    body = 0.4 + nrows * cell_inches * 1.1 + sum(bands)
    head, title_size = 0.0, readable_size(TITLE_SIZE, width)
    if title:  # wrapped to the figure's width, in a band of its own above the images
        title = wrap_title(title, width - 0.2, title_size)
        head = (title.count("\n") + 1) * title_size * 1.3 / 72 + 0.12
    height = body + head
    fig = plt.figure(figsize=(width, height))
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.set_axis_off()
    row_height = (body - 0.1 - sum(bands)) / nrows  # of the images, without the captions
    side = max(min(cell - 0.04, row_height - 0.04), 0.05)  # an image's square
    starts = head + 0.05 + np.concatenate([[0.0], np.cumsum([row_height + b for b in bands])])
    for r, images in enumerate(rows):
        top = float(starts[r]) + (row_height - side) / 2
        for c, img in enumerate(images):
            h, w = img.shape[:2]
            shown_w, shown_h = side * w / max(h, w), side * h / max(h, w)
            x0 = left + c * cell + (cell - shown_w) / 2
            y0 = top + (side - shown_h) / 2
            extent = (x0, x0 + shown_w, y0 + shown_h, y0)
            if _grey(img):
                high = 1.0 if np.issubdtype(img.dtype, np.floating) else 255
                ax.imshow(_pixels(img), cmap="gray", vmin=0, vmax=high, interpolation="nearest",
                          extent=extent)
            else:
                ax.imshow(img, interpolation="nearest", extent=extent)
            if captions is not None and c < len(captions[r]):
                ax.text(left + (c + 0.5) * cell, y0 + shown_h + 0.03, captions[r][c],
                        fontsize=caption_size, ha="center", va="top")
        ax.text(left - 0.08, top + side / 2, row_labels[r], fontsize=label_size, ha="right",
                va="center", gid=f"row-label-{r}")
    ax.set_xlim(0, width)
    ax.set_ylim(height, 0)
    ax.set_aspect("auto")
    if title:
        fig.suptitle(title, fontsize=title_size, y=1 - 0.06 / height, va="top")
    return fig


def _grey(img: np.ndarray) -> bool:
    """Whether ``img`` is a grey image: ``(H, W)`` or ``(H, W, 1)``."""
    return img.ndim == 2 or img.shape[-1] == 1


def _pixels(img: np.ndarray) -> np.ndarray:
    """``img`` as ``imshow`` takes it: a grey image ``(H, W)``, a colour one as it is."""
    return img.reshape(img.shape[:2]) if _grey(img) else img


def _caption_size(captions: Sequence[Sequence[str]] | None, width: float, cell: float) -> float:
    """Points of the captions of a grid ``width`` inches wide with cells ``cell`` inches wide:
    readable at the width the grid is printed at where the widest caption line still fits its
    cell, and never under :data:`CAPTION_SIZE`."""
    widest = max((text_width(line, 1.0) for row in captions or [] for text in row
                  for line in str(text).split("\n") if line), default=0.0)
    fits = (cell - 0.08) / widest if widest else float("inf")
    return max(CAPTION_SIZE, min(readable_size(CAPTION_SIZE, width), fits))


def heat_images(maps: np.ndarray, top: float, cmap: str = "magma") -> np.ndarray:
    """``(K, H, W)`` non-negative maps as ``(K, H, W, 3)`` uint8 colour images to put in a grid
    row: 0 the colour map's darkest end (magma's black), ``top`` or more its brightest."""
    import matplotlib

    scaled = np.clip(np.asarray(maps, dtype=np.float64) / max(float(top), 1e-12), 0.0, 1.0)
    return (matplotlib.colormaps[cmap](scaled)[..., :3] * 255).round().astype(np.uint8)


def _check_grid(rows: Sequence[np.ndarray], row_labels: Sequence[str],
                captions: Sequence[Sequence[str]] | None) -> None:
    """A :class:`UserError` unless ``rows`` is a list of rows of ``(H, W)`` or ``(H, W, C)``
    images (``C`` = 1, 3 or 4) with one label, and one list of captions when given, per row."""
    if isinstance(rows, np.ndarray) and rows.ndim < 5:
        raise UserError(f"rows= takes a list of image arrays, one per grid row, each (k, H, W, C) or "
                        f"(k, H, W); got one array of shape {rows.shape} (pass [images] for one row)")
    for r, row in enumerate(rows):
        for c, img in enumerate(row):
            shape = np.shape(img)
            if not (len(shape) == 2 or (len(shape) == 3 and shape[-1] in (1, 3, 4))):
                raise UserError(f"rows[{r}][{c}] is no (H, W, C) image with C = 1, 3 or 4 nor a grey "
                                f"(H, W) one: shape {shape} (rows[{r}] must be (k, H, W, C) or (k, H, W))")
    if len(row_labels) != len(rows):
        raise UserError(f"row_labels= has {len(row_labels)} labels for {len(rows)} rows; give one per row")
    if captions is not None and len(captions) != len(rows):
        raise UserError(f"captions= has {len(captions)} lists for {len(rows)} rows; give one per row")


METADATA_KEYS = {"png": ("Software", "Source"), "pdf": ("Creator", "Subject"),
                 "svg": ("Creator", "Description")}
"""Per figure format, the metadata fields that name the latentplay version and the command that
drew the figure (:func:`~latentplay.outputs.made_by`)."""


def save_figure(fig: Figure, path: str | os.PathLike[str], dpi: int = FIGURE_DPI) -> None:
    """Write ``fig`` to ``path`` (PNG, or PDF or SVG by its suffix; missing directories are
    made) whole or not at all (:func:`~latentplay.outputs.replaced_whole`), and close it. Its
    metadata (:data:`METADATA_KEYS`) name the latentplay version and the command that drew it,
    with the folder the command ran in."""
    kind = Path(path).suffix[1:].lower() or plt.rcParams["savefig.format"]
    metadata = None
    if kind in METADATA_KEYS:
        software, source = METADATA_KEYS[kind]
        made = made_by()
        metadata = {software: f"latentplay {made['latentplay']}", source: made_by_text(made)}
    with replaced_whole(path) as tmp:
        fig.savefig(tmp, dpi=dpi, format=kind, metadata=metadata)
    plt.close(fig)


def grid_frames(frames: Sequence[Sequence[np.ndarray]], row_labels: Sequence[Sequence[str]],
                captions: Sequence[Sequence[str]] | None = None, title: str | None = None,
                dpi: float | None = None) -> np.ndarray:
    """An animated :func:`image_grid` as ``(F, H, W, 3)`` uint8 frames: frame ``f`` shows the
    rows ``frames[f]`` (each as :func:`image_grid` takes them, of the same shapes in every
    frame) labelled ``row_labels[f]``. The grid is laid out once, for each row's widest label,
    and only its images and labels are changed from frame to frame: nothing else moves in the
    animation, and a frame takes a redraw, not a new figure."""
    widest = [max((labels[r] for labels in row_labels),
                  key=lambda text: max(text_width(line, 1.0) for line in str(text).split("\n")))
              for r in range(len(frames[0]))]
    fig = image_grid(frames[0], widest, captions=captions, title=title)
    if dpi is not None:
        fig.set_dpi(dpi)
    canvas = FigureCanvasAgg(fig)
    ax = fig.axes[0]
    labels = {text.get_gid(): text for text in ax.texts if text.get_gid()}   # the row labels
    drawn = []
    for rows, texts in zip(frames, row_labels, strict=True):
        for shown, image in zip(ax.images, (image for row in rows for image in row), strict=True):
            shown.set_data(_pixels(image))
        for r, text in enumerate(texts):
            labels[f"row-label-{r}"].set_text(text)
        canvas.draw()
        drawn.append(np.asarray(canvas.buffer_rgba())[..., :3].copy())
    plt.close(fig)
    return np.stack(drawn)


def figure_array(fig: Figure, dpi: float | None = None) -> np.ndarray:
    """``fig`` drawn as an ``(H, W, 3)`` uint8 image (for a page) at ``dpi`` (default its
    own), and closed."""
    if dpi is not None:
        fig.set_dpi(dpi)
    canvas = FigureCanvasAgg(fig)   # whatever backend the caller's pyplot uses (svg, inline)
    canvas.draw()
    image = np.asarray(canvas.buffer_rgba())[..., :3].copy()
    plt.close(fig)
    return image


MAX_GROUPS = 40
"""Rows a store grid shows by default: the largest groups (identities run to thousands)."""

AUTO_SIDE_MAX = 256
"""Largest side (pixels) images of different sizes are brought to when no size is given."""

SIZE_MAX = 512
"""Largest side a grid's images are resized to (ten 512-pixel images make a row 5,200
pixels wide)."""


def save_store_grid(
    store: Store | str | os.PathLike[str],
    out: str | os.PathLike[str],
    by: str | None = None,
    per_row: int = 10,
    seed: int = 0,
    bins: int = 5,
    size: int | None = None,
    max_groups: int = MAX_GROUPS,
) -> list[str]:
    """Draw images of ``store`` grouped by attribute ``by`` (or random rows) into a PNG.

    Continuous attributes are cut into ``bins`` equal-width bins and each image is captioned
    with its value (a row's images by value, equal ones in row order); categorical and factor
    attributes get one row per value with its count.
    Rows without a value (NaN, or no class) get a last row of their own, ``unknown``. Of more
    than ``max_groups`` groups only the ``max_groups`` largest are drawn (in their order); the
    title says how many were left out. Images are shown as stored when they agree in size;
    given ``size``, or when they differ, each is centre-cropped to a square and resized
    (see :func:`common_size`); grey images among colour ones are shown in RGB.

    Returns:
        notes for the user: groups left out, images resized to a common size.
    """
    from latentplay.store.images import load_image_list
    from latentplay.store.io import opened
    from latentplay.store.schema import UNKNOWN
    from latentplay.store.summary import level_codes

    store = opened(store).require_rows("draw")
    rng = np.random.default_rng(seed)
    groups: list[tuple[str, np.ndarray]] = []
    captions: list[list[str]] | None = None
    notes: list[str] = []
    name = "store" if store.path is None else store.path.name   # a store not saved has no path
    title = f"{name} by {by}"
    if by is None:
        n = min(len(store), per_row * 5)
        idx = rng.choice(len(store), size=n, replace=False)
        title = f"{name}: {n} of its {len(store)} images, drawn at random"
        groups = [("", idx[k * per_row : (k + 1) * per_row]) for k in range(5)]
        groups = [g for g in groups if len(g[1])]
    else:
        attr = store.schema.attribute_or_error(by)
        codes, names = level_codes(store, attr, bins)  # continuous: [a,b) bins, the last [a,b]
        members = [np.flatnonzero(codes == code) for code in range(len(names))]
        labels = list(names)
        without = np.flatnonzero(codes < 0)   # NaN values, rows without a class: a row of their own
        if len(without):
            members.append(without)
            labels.append(UNKNOWN)
        sizes = np.array([len(m) for m in members])
        if len(members) > max_groups:
            kept = np.sort(np.argsort(-sizes, kind="stable")[:max_groups])
            left = len(members) - max_groups
            rows_left = int(sizes.sum() - sizes[kept].sum())
            notes.append(f"showing the {max_groups} largest of {len(members)} {by} groups; "
                         f"{left} smaller groups ({rows_left} rows) left out (--max-groups)")
            title = f"{title} (the {max_groups} largest of {len(members)} groups)"
            members, labels = [members[k] for k in kept], [labels[k] for k in kept]
        for name, rows in zip(labels, members, strict=True):
            chosen = rng.choice(rows, size=min(per_row, len(rows)), replace=False)
            groups.append((f"{name}\n(n={len(rows)})", chosen))
        if attr.kind == "continuous":  # the values of the rows shown, in order, as captions
            column = store.schema.column_of(attr)
            shown = store.dataset.select_columns([column])
            captions = []
            for k, (label, chosen) in enumerate(groups):
                chosen = np.sort(chosen)   # equal values in row order
                values = np.asarray(shown[chosen.tolist()][column], dtype=np.float64)
                order = np.argsort(values, kind="stable")
                groups[k] = (label, chosen[order])
                captions.append([f"{v:.2f}" if np.isfinite(v) else "no value" for v in values[order]])
    loaded = [load_image_list(store, np.sort(idx) if captions is None else idx) for _, idx in groups]
    rows, note = common_size(loaded, size)
    notes += [note] if note else []
    # a chosen size is drawn at its pixels (at least the default cell of 0.9 inch)
    cell = 0.9 if size is None else max(0.9, size / FIGURE_DPI + 0.05)
    fig = image_grid(rows, [g[0] for g in groups], captions=captions, title=title, cell_inches=cell)
    save_figure(fig, out)
    return notes


def common_size(rows: Sequence[Sequence[np.ndarray]], size: int | None = None
                ) -> tuple[list[np.ndarray], str | None]:
    """Rows of ``(H, W, C)`` uint8 images of any sizes as ``(k, H, W, C)`` arrays of one shape
    (``H = W = S`` when resized).

    Images that all share one size (and ``size`` None) are kept as they are. Otherwise each
    is centre-cropped to a square and resized (bilinear) to ``size``, or, when not given, to
    the largest shorter side among them, at most :data:`AUTO_SIDE_MAX`. Grey (C = 1) or RGBA
    images among others are converted to RGB.

    Returns:
        the rows, and a note saying how images of different sizes were brought to one (None
        when they were not resized, or ``size`` asked for it).
    """
    from PIL import Image

    from latentplay.store.images import fitted_array

    images = [im for row in rows for im in row]
    channels = {im.shape[2] for im in images}
    shapes = sorted({im.shape[:2] for im in images})
    note = None
    side = size
    if side is None and len(shapes) > 1:
        side = min(max(min(shape) for shape in shapes), AUTO_SIDE_MAX)
        shown = ", ".join(f"{w}x{h}" for h, w in shapes[:3]) + (", ..." if len(shapes) > 3 else "")
        note = (f"images differ in size ({shown}): each is shown centre-cropped to a square of "
                f"{side}x{side} (--size N to choose)")

    def fitted(image: np.ndarray) -> np.ndarray:
        if len(channels) > 1 and image.shape[2] != 3:
            image = np.asarray(Image.fromarray(image[..., 0] if image.shape[2] == 1 else image
                                               ).convert("RGB"))
        if side is None:
            return image
        h, w = image.shape[:2]
        square = min(h, w)
        top, left = (h - square) // 2, (w - square) // 2
        crop = image[top:top + square, left:left + square]
        return fitted_array(Image.fromarray(crop[..., 0] if crop.shape[2] == 1 else crop), side)

    out = [np.stack([fitted(im) for im in row]) if len(row) else np.zeros((0, 1, 1, 3), np.uint8)
           for row in rows]
    return out, note


def write_gif(frames: np.ndarray, path: str | os.PathLike[str], seconds_per_frame: float = 0.5) -> None:
    """Write ``(F, H, W, 3)`` uint8 ``frames`` as a looping GIF at ``path``."""
    write_palette_gif([palette_frame(frame) for frame in frames], path, seconds_per_frame)


def palette_frame(frame: np.ndarray) -> Image.Image:
    """An ``(H, W, 3)`` uint8 image reduced to the 256-colour palette a GIF frame holds."""
    from PIL import Image

    return Image.fromarray(frame).quantize(256)


def write_palette_gif(frames: Sequence[Image.Image], path: str | os.PathLike[str],
                      seconds_per_frame: float = 0.5) -> None:
    """Write :func:`palette_frame` ``frames`` (same size) as a looping GIF at ``path``; no file
    for none; written whole or not at all (:func:`~latentplay.outputs.replaced_whole`), its
    comment naming the latentplay version and the command that drew it
    (:func:`~latentplay.outputs.made_by_text`)."""
    if frames:
        with replaced_whole(path) as tmp:
            frames[0].save(tmp, format="GIF", save_all=True, append_images=list(frames[1:]),
                           duration=int(seconds_per_frame * 1000), loop=0,
                           comment=made_by_text().encode())
