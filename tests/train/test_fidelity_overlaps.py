"""``fidelity.png``: shares of equal values stay visible, and few points are said to be few."""

from __future__ import annotations

import numpy as np
from matplotlib.colors import to_rgb

from latentplay.train.fidelity import SHARES, fidelity_figure


def _table(n: int = 30) -> np.ndarray:
    """Two evaluations of noise: recall and authenticity both 0 at every epoch."""
    names = ["epoch", *SHARES, "frechet_distance", "n_samples", "n_real"]
    table = np.zeros(2, dtype=[(k, "f8") for k in names])
    table["epoch"] = [2, 4]
    table["precision"], table["density"], table["coverage"] = 1.0, [2.1, 1.9], [0.1, 0.2]
    table["frechet_distance"] = [800.0, 700.0]
    table["n_samples"] = table["n_real"] = n
    return table


def _pixels_of(color: str, n: int = 30) -> int:
    """How many pixels inside the shares' panel are drawn in ``color``."""
    fig = fidelity_figure(_table(n))
    fig.canvas.draw()
    image = np.asarray(fig.canvas.buffer_rgba())[..., :3].astype(float)
    box = fig.axes[0].get_window_extent()
    height = image.shape[0]
    panel = image[int(height - box.y1):int(height - box.y0), int(box.x0):int(box.x1)]
    return int((np.abs(panel - 255 * np.array(to_rgb(color))).max(axis=-1) < 40).sum())


def test_a_share_equal_to_a_later_one_is_not_hidden_beneath_it() -> None:
    """Recall 0 drawn under authenticity 0 (noise samples): it was invisible, the same line and
    marker exactly beneath another; now each share has a marker of its own shape and a wider
    line than those drawn after it, so recall shows around authenticity."""
    recall, authenticity = "C1", "C4"   # the colours of SHARES[1] and SHARES[4]
    assert _pixels_of(authenticity) > 100
    assert _pixels_of(recall) > 100
    lines = fidelity_figure(_table()).axes[0].get_lines()
    markers = [line.get_marker() for line in lines if line.get_label() in SHARES]
    assert len(set(markers)) == len(SHARES)
