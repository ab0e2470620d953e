"""A grid of matched pairs: each treated image beside its matched control, with the distance."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from latentplay.viz.plain import drawn_as_written
from latentplay.viz.style import readable_size

TITLE_SIZE = 10
"""Font size of a pairs grid's title (points)."""

TEXT_SIZE = 8
"""Least font size of the side names above the first row and the values under each pair
(points); a wide grid draws them larger, to be read at a page's width
(:func:`~latentplay.viz.style.readable_size`)."""


@drawn_as_written
def pairs_grid(
    treated: np.ndarray,
    control: np.ndarray,
    distances: np.ndarray,
    *,
    groups: tuple[str, str] = ("treated", "control"),
    per_row: int = 4,
    title: str | None = None,
    cell_inches: float = 1.1,
    value_label: str = "d",
    value_format: str = ".3g",
) -> Figure:
    """Matched pairs side by side, ``per_row`` pairs per row.

    The images are drawn on one axes that covers the figure, in data units of inches from its
    top-left corner, each keeping its pixels square; a pair's value is centred under the pair.
    The figure is as tall as its title's lines (a ``title`` is drawn as broken by the caller)
    and its rows need.

    Args:
        treated, control: ``(m, H, W, C)`` uint8 images of the two sides of each pair.
        distances: ``(m,)`` pair distances, printed under each pair.
        groups: names of the two sides (column captions).
        per_row: pairs per grid row.
        title: figure title.
        cell_inches: size of one image.
        value_label: what ``distances`` are, printed before each value and centred under the
            pair (``Mahalanobis distance``, ``ratio``).
        value_format: format spec of the printed values.
    """
    m = len(treated)
    rows = max(1, -(-m // per_row))
    pair = 2 * cell_inches + 0.3                      # two images and the gap to the next pair
    row_height = cell_inches * 1.3                    # an image and the value under it
    width = per_row * pair
    size = readable_size(TEXT_SIZE, width)            # of the names and values: read on a page
    band = (title.count("\n") + 1) * TITLE_SIZE * 1.3 / 72 + 0.15 if title else 0.1
    head = band + size * 1.4 / 72 + 0.05              # the title, then the sides' names
    height = head + rows * row_height
    fig = plt.figure(figsize=(width, height))
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.set_axis_off()
    side = cell_inches - 0.06                         # an image's square in its cell
    for i in range(m):
        r, c = divmod(i, per_row)
        x, y = c * pair + 0.15, head + r * row_height
        bottom = y
        for k, images in enumerate((treated, control)):
            img = images[i]
            h, w = img.shape[:2]
            shown_w, shown_h = side * w / max(h, w), side * h / max(h, w)
            x0 = x + k * cell_inches + 0.03 + (side - shown_w) / 2
            y0 = y + (side - shown_h) / 2
            extent = (x0, x0 + shown_w, y0 + shown_h, y0)
            if img.shape[-1] == 1:  # grey levels as they are, not stretched to the image's range
                ax.imshow(img[..., 0], cmap="gray", vmin=0, vmax=255, extent=extent)
            else:
                ax.imshow(img, extent=extent)
            if r == 0:
                ax.text(x + (k + 0.5) * cell_inches, y0 - 0.04, groups[k], fontsize=size,
                        ha="center", va="bottom")
            bottom = max(bottom, y0 + shown_h)
        ax.text(x + cell_inches, bottom + 0.05, f"{value_label} = {distances[i]:{value_format}}",
                ha="center", va="top", fontsize=size)
    ax.set_xlim(0, width)
    ax.set_ylim(height, 0)
    ax.set_aspect("auto")
    if title:
        fig.suptitle(title, fontsize=TITLE_SIZE, y=1 - 0.08 / height, va="top")
    return fig
