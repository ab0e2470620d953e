"""A grid of matched pairs: each treated image beside its matched control, with the distance."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.transforms import blended_transform_factory


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
    cols = 2 * per_row
    fig, axes = plt.subplots(
        rows, cols, figsize=(cols * cell_inches + 0.3 * per_row, rows * cell_inches * 1.3 + 0.6),
        squeeze=False,
    )
    for ax in axes.ravel():
        ax.axis("off")
    captions = []
    for i in range(m):
        r, c = divmod(i, per_row)
        for side, images in enumerate((treated, control)):
            ax = axes[r, 2 * c + side]
            img = images[i]
            if img.shape[-1] == 1:  # grey levels as they are, not stretched to the image's range
                ax.imshow(img[..., 0], cmap="gray", vmin=0, vmax=255)
            else:
                ax.imshow(img)
            if r == 0:
                ax.set_title(groups[side], fontsize=8)
        captions.append(axes[r, 2 * c].text(
            1.0, -0.08, f"{value_label} = {distances[i]:{value_format}}",
            transform=axes[r, 2 * c].transAxes, ha="center", va="top", fontsize=8))
    if title:
        fig.suptitle(title, fontsize=10)
    for caption in captions:  # moved below; wider than one image, they would squeeze the layout
        caption.set_in_layout(False)
    fig.tight_layout(rect=(0, 0.25 / fig.get_figheight(), 1, 1))  # room for the last captions
    # centre each caption under its pair (midway between the outer edges of its two images;
    # the images sit centred in their axes boxes), not under the inner edge of the left image
    for i, caption in enumerate(captions):
        r, c = divmod(i, per_row)
        left, right = axes[r, 2 * c], axes[r, 2 * c + 1]
        caption.set_transform(blended_transform_factory(fig.transFigure, left.transAxes))
        caption.set_x((left.get_position().x0 + right.get_position().x1) / 2)
    return fig
