"""Training figures: reconstruction grids and their GIF, latent-variance heatmap, sample grids."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import imageio.v3 as iio
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from latentplay.viz.grid import image_grid, save_figure  # noqa: E402
from latentplay.viz.style import integer_ticks  # noqa: E402

PER_ROW = 8


def save_recon_grid(originals: np.ndarray, recons: np.ndarray, path: Path, title: str) -> None:
    """Rows of originals each followed by their reconstructions; both ``(n, H, W, C)`` uint8."""
    rows, labels = [], []
    for start in range(0, len(originals), PER_ROW):
        rows += [originals[start:start + PER_ROW], recons[start:start + PER_ROW]]
        labels += ["original", "reconstruction"]
    save_figure(image_grid(rows, labels, title=title), path)


def save_image_rows(rows: Sequence[np.ndarray], labels: Sequence[str], path: Path,
                    title: str, captions: Sequence[Sequence[str]] | None = None) -> None:
    """A grid with one labelled row per ``(k, H, W, C)`` uint8 array (optional captions
    under the images, ``captions[row][column]``)."""
    save_figure(image_grid(rows, labels, captions=captions, title=title), path)


def save_gif(frames: Sequence[Path], path: Path, seconds_per_frame: float = 0.5) -> None:
    """Animate PNG ``frames`` (same size) into a looping GIF."""
    images = [iio.imread(f)[..., :3] for f in frames]
    if images:
        iio.imwrite(path, np.stack(images), extension=".gif",
                    duration=int(seconds_per_frame * 1000), loop=0)


def save_latent_variance(variance: np.ndarray, path: Path, threshold: float = 0.01) -> None:
    """Write :func:`latent_variance_figure` of ``(epochs, D)`` ``variance`` to the PNG ``path``."""
    fig = latent_variance_figure(variance, threshold)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def latent_variance_figure(variance: np.ndarray, threshold: float = 0.01) -> Figure:
    """Heatmap of ``(epochs, D)`` variances of the encoder means: dimensions x epochs (counted
    from 1, as in ``metrics.csv``; ticks at whole epochs), log colour scale; dimensions above
    ``threshold`` at the last epoch are the active units."""
    epochs, dims = variance.shape
    fig, ax = plt.subplots(figsize=(max(4.5, min(2 + 0.35 * epochs, 14)), 1.2 + 0.3 * dims))
    shown = np.log10(np.maximum(variance.T, 1e-6))
    im = ax.imshow(shown, aspect="auto", cmap="viridis", interpolation="nearest",
                   extent=(0.5, epochs + 0.5, dims - 0.5, -0.5))
    integer_ticks(ax.xaxis)
    ax.set_xlabel("epoch")
    ax.set_ylabel("latent dimension")
    ax.set_yticks(range(dims))
    active = variance[-1] > threshold
    ax.set_yticklabels([f"{d}{' *' if a else ''}" for d, a in enumerate(active)], fontsize=7)
    ax.set_title(f"variance of encoder means per epoch\n{int(active.sum())}/{dims} active "
                 f"(* = variance > {threshold:g} at the last epoch)", fontsize=9)
    fig.colorbar(im, ax=ax, label="log10 variance")
    fig.tight_layout()
    return fig
