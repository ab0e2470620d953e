"""Training figures: reconstruction grids and their GIF, latent-variance heatmap, sample grids."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from PIL import Image

from latentplay.viz.grid import image_grid, palette_frame, save_figure, write_palette_gif
from latentplay.viz.plain import drawn_as_written
from latentplay.viz.style import integer_ticks, wrap_title

GIF_FRAMES = 100
"""Most epochs a reconstruction GIF shows (evenly spaced, the first and last among them)."""


def epoch_frames(folder: Path, last: int, most: int = GIF_FRAMES) -> list[Path]:
    """The per-epoch figures ``epoch_001.png`` ... of epochs 1 to ``last`` in ``folder``, in
    epoch order (by name, ``epoch_1000`` would sort before ``epoch_101``), at most ``most`` of
    them evenly spaced (the first and the last kept); frames of later epochs left by a run
    resumed from an earlier checkpoint are not included."""
    frames = [path for path in (folder / f"epoch_{k:03d}.png" for k in range(1, last + 1))
              if path.exists()]
    if len(frames) <= most:
        return frames
    return [frames[int(k)] for k in np.unique(np.linspace(0, len(frames) - 1, most).round())]


PER_ROW = 8
ZOOM = 50  # epochs in each close-up of a long run's latent-variance heatmap
VARIANCE_WIDTH = 8.0  # inches: the widest latent-variance heatmap, a long run's
AE_DRAWS = "N(mean, SD) of the training codes"
"""What a plain autoencoder's samples are drawn from (it has no prior): each dimension's mean
and standard deviation over its encoded training set (:func:`latentplay.train.api.prior_frame`)."""
AE_SAMPLES = f"decodings of draws from the {AE_DRAWS} (an autoencoder has no prior)"
"""The title of a plain autoencoder's samples (``samples.png``, ``latent sample``)."""


def save_recon_grid(originals: np.ndarray, recons: np.ndarray, path: Path, title: str) -> None:
    """Rows of originals each followed by their reconstructions; both ``(n, H, W, C)`` uint8.
    No file for ``n`` = 0 (``log.recon_images=0``)."""
    if not len(originals):
        return
    rows, labels = [], []
    for start in range(0, len(originals), PER_ROW):
        rows += [originals[start:start + PER_ROW], recons[start:start + PER_ROW]]
        labels += ["original", "reconstruction"]
    save_figure(image_grid(rows, labels, title=title), path)


def save_image_rows(rows: Sequence[np.ndarray], labels: Sequence[str], path: Path,
                    title: str, captions: Sequence[Sequence[str]] | None = None) -> None:
    """A grid with one labelled row per ``(k, H, W, C)`` uint8 array (optional captions
    under the images, ``captions[row][column]``). No file when there is no image."""
    if not any(len(row) for row in rows):
        return
    save_figure(image_grid(rows, labels, captions=captions, title=title), path)


class GifFrames:
    """Writes a run's GIF of its per-epoch figures, each figure read and reduced to a
    256-colour palette once: a run rewrites its GIF after every epoch (or every few), and
    reducing every frame again made each rewrite cost time growing with the epochs."""

    def __init__(self) -> None:
        self._frames: dict[Path, Image.Image] = {}

    def save(self, frames: Sequence[Path], path: Path, seconds_per_frame: float = 0.5) -> None:
        """Animate PNG ``frames`` (same size) into a looping GIF at ``path``; no file for none.
        Frames no longer shown are forgotten."""
        self._frames = {f: self._frames[f] if f in self._frames else _palette_image(f) for f in frames}
        write_palette_gif(list(self._frames.values()), path, seconds_per_frame)


def _palette_image(path: Path) -> Image.Image:
    """The PNG at ``path`` as a GIF frame (:func:`~latentplay.viz.grid.palette_frame`)."""
    with Image.open(path) as image:
        return palette_frame(np.asarray(image.convert("RGB")))


def save_latent_variance(variance: np.ndarray, path: Path, threshold: float = 0.01) -> None:
    """Write :func:`latent_variance_figure` of ``(epochs, D)`` ``variance`` to the PNG ``path``."""
    save_figure(latent_variance_figure(variance, threshold), path, dpi=110)


@drawn_as_written
def latent_variance_figure(variance: np.ndarray, threshold: float = 0.01) -> Figure:
    """Heatmap of ``(epochs, D)`` variances of the encoder means: dimensions x epochs (counted
    from 1, as in ``metrics.csv``; ticks at whole epochs), log colour scale; dimensions above
    ``threshold`` at the last epoch are the active units (starred, or a red tick where a wide
    latent labels only every k-th dimension). At most 12 inches tall and
    :data:`VARIANCE_WIDTH` wide; a run of more than
    ``2 * ZOOM`` epochs also shows its first and last ``ZOOM`` epochs beside the full view."""
    epochs, dims = variance.shape
    zoom = epochs > 2 * ZOOM
    height = min(1.2 + 0.3 * dims, 12.0)
    # label every step-th dimension: 7 pt labels need about 0.14 inch each
    needed = 0.14 * dims / (height - 1.2)
    step = next(k for k in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, dims) if k >= needed)
    # the longer title of thinned labels ("* or red tick") needs the wider figure; at most
    # VARIANCE_WIDTH, where the 7 pt labels print at 6 pt or more on a page
    width = VARIANCE_WIDTH if zoom else max(4.5 if step == 1 else 5.5,
                                            min(2 + 0.35 * epochs, VARIANCE_WIDTH))
    active = variance[-1] > threshold
    title = (f"variance of encoder means over each epoch's training batches\n"
             f"{int(active.sum())}/{dims} above {threshold:g} in the last "
             f"epoch ({'*' if step == 1 else '* or red tick'}); active_units.json counts "
             "the final model's")
    # margins in inches, laid out here (a constrained layout took most of the figure's time):
    # dimension labels and their axis title left, the colour bar right, the title's lines on top
    left, right, bottom = 0.7, 1.1, 0.45
    # over the full view: half the panels' width beside the close-ups
    title = wrap_title(title, (width - left - right) * (0.5 if zoom else 1.0) + 0.3, 9)
    top = 0.12 + (title.count("\n") + 1) * 9 * 1.3 / 72
    fig = plt.figure(figsize=(width, height))
    grid = {"left": left / width, "right": 1 - right / width, "bottom": bottom / height,
            "top": 1 - top / height, "wspace": 0.08}
    axes = (fig.subplots(1, 3, sharey=True, width_ratios=[2, 1, 1], gridspec_kw=grid) if zoom
            else [fig.subplots(gridspec_kw=grid)])
    shown = np.log10(np.maximum(variance.T, 1e-6))
    for ax in axes:
        im = ax.imshow(shown, aspect="auto", cmap="viridis", interpolation="nearest",
                       extent=(0.5, epochs + 0.5, dims - 0.5, -0.5))
        integer_ticks(ax.xaxis)
        ax.set_xlabel("epoch")
    if zoom:
        axes[1].set_xlim(0.5, ZOOM + 0.5)
        axes[1].set_title(f"first {ZOOM} epochs", fontsize=9)
        axes[2].set_xlim(epochs - ZOOM + 0.5, epochs + 0.5)
        axes[2].set_title(f"last {ZOOM} epochs", fontsize=9)
    ax = axes[0]
    ax.set_ylabel("latent dimension")
    labelled = np.arange(0, dims, step)
    ax.set_yticks(labelled)
    ax.set_yticklabels([f"{d}{' *' if active[d] else ''}" for d in labelled], fontsize=7)
    ax.set_yticks(np.flatnonzero(active & (np.arange(dims) % step != 0)), minor=True)
    ax.tick_params(axis="y", which="minor", length=5, width=1.2, color="tab:red")
    ax.set_title(title, fontsize=9)
    bar = fig.add_axes((1 - (right - 0.2) / width, bottom / height, 0.15 / width,
                        1 - (top + bottom) / height))
    fig.colorbar(im, cax=bar, label="log10 variance")
    return fig
