"""Labelled image grids: one row per value of an attribute."""

from __future__ import annotations

import os
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from latentplay.outputs import make_parents  # noqa: E402
from latentplay.viz.style import wrap_title  # noqa: E402

TITLE_SIZE = 10
"""Font size of an image grid's title (points)."""


def image_grid(
    rows: Sequence[np.ndarray],
    row_labels: Sequence[str],
    captions: Sequence[Sequence[str]] | None = None,
    title: str | None = None,
    cell_inches: float = 0.9,
) -> Figure:
    """A figure with one row of images per entry of ``rows``.

    Args:
        rows: each a ``(k, H, W, C)`` uint8 array (``C`` = 1 or 3); rows may differ in ``k``.
        row_labels: text left of each row.
        captions: optional text under each image, ``captions[r][i]``.
        title: figure title, wrapped to the figure's width above the images.
        cell_inches: size of one image cell.
    """
    ncols = max((len(r) for r in rows), default=1) or 1
    nrows = max(len(rows), 1)
    width = 1.6 + ncols * cell_inches
    body = 0.4 + nrows * cell_inches * 1.1
    head = 0.0
    if title:  # wrapped to the figure's width, in a band of its own above the images
        title = wrap_title(title, width - 0.2, TITLE_SIZE)
        head = (title.count("\n") + 1) * TITLE_SIZE * 1.3 / 72 + 0.12
    fig, axes = plt.subplots(nrows, ncols, figsize=(width, body + head), squeeze=False)
    for r, images in enumerate(rows):
        for c in range(ncols):
            ax = axes[r, c]
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_visible(False)
            if c < len(images):
                img = images[c]
                # aspect "auto" until the layout is done (below): tight_layout measures an axes'
                # captions from the box it is given, not from the smaller square an image is
                # shrunk to, and so packed rows until captions ran under the next row's images
                if img.shape[-1] == 1:
                    ax.imshow(img[..., 0], cmap="gray", vmin=0, vmax=255, interpolation="nearest",
                              aspect="auto")
                else:
                    ax.imshow(img, interpolation="nearest", aspect="auto")
                if captions is not None and c < len(captions[r]):
                    ax.set_xlabel(captions[r][c], fontsize=6, labelpad=1)
        axes[r, 0].set_ylabel(row_labels[r], rotation=0, ha="right", va="center", fontsize=8)
    fig.tight_layout(pad=0.3, rect=(0, 0, 1, 1 - head / (body + head)))
    for ax in axes.flat:  # square pixels again, each image centred in the box laid out for it
        ax.set_aspect("equal")
    if title:
        fig.suptitle(title, fontsize=TITLE_SIZE, y=1 - 0.06 / (body + head), va="top")
    return fig


def save_figure(fig: Figure, path: str | os.PathLike[str], dpi: int = 120) -> None:
    """Write ``fig`` to ``path`` (PNG; missing directories are made) and close it."""
    fig.savefig(make_parents(path), dpi=dpi)
    plt.close(fig)


def figure_array(fig: Figure) -> np.ndarray:
    """``fig`` drawn as an ``(H, W, 3)`` uint8 image (for a page), and closed."""
    fig.canvas.draw()
    image = np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
    plt.close(fig)
    return image


def save_store_grid(
    store: object,
    out: str | os.PathLike[str],
    by: str | None = None,
    per_row: int = 10,
    seed: int = 0,
    bins: int = 5,
) -> None:
    """Draw images of ``store`` grouped by attribute ``by`` (or random rows) into a PNG.

    Continuous attributes are cut into ``bins`` equal-width bins and each image is captioned
    with its value; categorical and factor attributes get one row per value with its count.
    Rows without a value (NaN, or no class) get a last row of their own, ``unknown``.
    """
    from latentplay.store.images import load_images
    from latentplay.store.io import Store
    from latentplay.store.schema import UNKNOWN
    from latentplay.store.summary import level_codes

    assert isinstance(store, Store)
    rng = np.random.default_rng(seed)
    groups: list[tuple[str, np.ndarray]] = []
    captions: list[list[str]] | None = None
    if by is None:
        n = min(len(store), per_row * 5)
        idx = rng.choice(len(store), size=n, replace=False)
        groups = [(f"{k * per_row}-", idx[k * per_row : (k + 1) * per_row]) for k in range(5)]
        groups = [g for g in groups if len(g[1])]
    else:
        attr = store.schema.attribute_or_error(by)
        codes, names = level_codes(store, attr, bins)  # continuous: [a,b) bins, the last [a,b]
        for code, name in enumerate(names):
            members = np.flatnonzero(codes == code)
            chosen = rng.choice(members, size=min(per_row, len(members)), replace=False)
            groups.append((f"{name}\n(n={len(members)})", chosen))
        without = np.flatnonzero(codes < 0)   # NaN values, rows without a class: a row of their own
        if len(without):
            chosen = rng.choice(without, size=min(per_row, len(without)), replace=False)
            groups.append((f"{UNKNOWN}\n(n={len(without)})", chosen))
        if attr.kind == "continuous":  # the values of the rows shown, in order, as captions
            column = store.schema.column_of(attr)
            shown = store.dataset.select_columns([column])
            captions = []
            for k, (label, chosen) in enumerate(groups):
                values = np.asarray(shown[chosen.tolist()][column], dtype=np.float64)
                order = np.argsort(values)
                groups[k] = (label, chosen[order])
                captions.append([f"{v:.2f}" if np.isfinite(v) else "no value" for v in values[order]])
    rows = [load_images(store, np.sort(idx) if captions is None else idx) for _, idx in groups]
    title = f"{store.schema.provenance.converter} by {by}" if by else None
    fig = image_grid(rows, [g[0] for g in groups], captions=captions, title=title)
    save_figure(fig, out)


def write_gif(frames: np.ndarray, path: str | os.PathLike[str], seconds_per_frame: float = 0.5) -> None:
    """Write ``(F, H, W, 3)`` uint8 ``frames`` as a looping GIF at ``path``."""
    import imageio.v3 as iio

    iio.imwrite(path, frames, extension=".gif", duration=int(seconds_per_frame * 1000), loop=0)
