"""Figures of a latent space: per-dimension histograms of encoder means, response curves."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from latentplay.errors import UserError
from latentplay.store.schema import UNKNOWN
from latentplay.viz.plain import drawn_as_written
from latentplay.viz.projection import class_colors
from latentplay.viz.style import UNKNOWN_GREY, legend_items, tight_layout, wrap_title

PANEL_WIDTH = 1.7
"""Inches of one panel of :func:`latent_histograms`: four to a row make a page's width."""


@drawn_as_written
def latent_histograms(mu: np.ndarray, bins: int = 40, prior: bool = True,
                      per_row: int = 4, split: np.ndarray | None = None) -> Figure:
    """One histogram per dimension of ``(N, D)`` encoder means (SmileCVAE's "latent
    forward" figure), the standard normal density drawn over each when ``prior``; each title
    gives the dimension and the variance of its means (near 0: an inactive unit). All panels
    share one axis (the pooled 0.5-99.5 percentiles, widened to +-3 with ``prior``); means
    beyond it are counted in its edge bins and their number is given in the panel's title, so
    that no code is dropped. The figure's title counts the training and test images when
    ``split`` ``(N,)`` (1: held out, as in a run's ``latents.npy``) is given, else calls them
    store images. A :class:`UserError` unless ``mu`` is ``(N, D)`` with ``D >= 1`` (one
    dimension ``k``: ``mu[:, [k]]``)."""
    mu = np.asarray(mu)
    if mu.ndim != 2 or mu.shape[1] == 0:
        raise UserError(f"mu= must be (N, D) encoder means with D >= 1, got shape {mu.shape} (one "
                        "dimension k: mu[:, [k]])")
    n, d = mu.shape
    if split is not None and np.shape(split) != (n,):
        raise UserError(f"split= must be (N,) = ({n},) like mu's rows, got shape {np.shape(split)}")
    cols = min(per_row, d)
    rows = math.ceil(d / cols)
    if split is None:
        title = f"encoder means of {n} store images"
    else:
        n_test = int((np.asarray(split) == 1).sum())
        title = f"encoder means of {n - n_test} training and {n_test} test images"
    # broken to the figure's width: one or two panels are narrower than the title
    title = wrap_title(title + (" (line: N(0, 1) prior)" if prior else ""), PANEL_WIDTH * cols - 0.2, 9)
    top = 0.05 + 0.16 * (title.count("\n") + 1)  # inches above the panels
    lo, hi = float(np.percentile(mu, 0.5)), float(np.percentile(mu, 99.5))
    lo, hi = min(lo, -3.0) if prior else lo, max(hi, 3.0) if prior else hi
    beyond = ((mu < lo) | (mu > hi)).sum(axis=0)  # (D,) means in the edge bins
    width, height = PANEL_WIDTH * cols, 1.6 * rows + 0.5 + top + 0.2 * rows * bool(beyond.any())
    # margins in inches, laid out here (a tight layout drew the figure once more): the column's
    # "density" left, a panel's title above it (three lines where means lie beyond the axis), the
    # tick labels and axis title below
    left, right, bottom, above, below = 0.3, 0.1, 0.45, 0.35 + 0.2 * bool(beyond.any()), 0.4
    panel_h = (height - top - above - bottom - (rows - 1) * (above + below)) / rows
    panel_w = (width - left - right - (cols - 1) * 0.2) / cols
    fig, axes = plt.subplots(rows, cols, figsize=(width, height), squeeze=False, gridspec_kw={
        "left": left / width, "right": 1 - right / width, "bottom": bottom / height,
        "top": 1 - (top + above) / height, "hspace": (above + below) / panel_h, "wspace": 0.2 / panel_w})
    grid = np.linspace(lo, hi, 200)
    for k, ax in enumerate(axes.flat):
        if k >= d:
            ax.set_visible(False)
            continue
        ax.hist(np.clip(mu[:, k], lo, hi), bins=bins, range=(lo, hi), density=True,
                color="tab:blue", alpha=0.7, histtype="stepfilled")  # one patch, not a bar per bin
        if prior:
            ax.plot(grid, np.exp(-grid ** 2 / 2) / math.sqrt(2 * math.pi), color="k", lw=0.8)
        ax.set_title(f"z{k}  var {mu[:, k].var():.2g}" + (f"\n({beyond[k]} beyond the axis,\nin its "
                     "edge bins)" if beyond[k] else ""), fontsize=8 if not beyond[k] else 7)
        ax.tick_params(labelsize=6.5)
        ax.set_yticks([])
        if k % cols == 0:
            ax.set_ylabel("density", fontsize=7)
        if k + cols >= d:  # the lowest panel of its column
            ax.set_xlabel("encoder mean", fontsize=7)
    fig.suptitle(title, fontsize=9, y=1 - 0.05 / height, va="top")
    return fig


@drawn_as_written
def distance_histogram(distances: np.ndarray, labels: np.ndarray, names: list[str] | None,
                       title: str, attribute: str, ordered: bool = False, unit: str = "") -> Figure:
    """Signed distances ``(N,)`` of codes to the boundary of ``attribute`` (in ``unit``, e.g.
    ``"SDs"``, named on the axis): for two classes, overlaid histograms (``labels`` ``(N,)``
    class codes, ``names`` their names); for more, one panel per class in the classes' order,
    on one distance axis, each with its median dashed (overlaid, five classes blend into one
    mass); each class in the colour every figure gives it
    (:func:`~latentplay.viz.projection.class_colors`: along the ramp of ordered classes where
    ``ordered``), ``unknown`` grey; for a continuous attribute (``names`` None) a scatter against its value.
    ``title`` may hold several lines (each wrapped to the figure's width)."""
    in_unit = f" ({unit})" if unit else ""
    xlabel = f"signed distance to the boundary{in_unit}"
    width = 5.5
    title = wrap_title(title, width - 0.3, 9)
    top = 0.16 * (title.count("\n") + 1)  # inches the title takes above the axes
    if names is None:
        fig, ax = plt.subplots(figsize=(width, 3.2 + top))
        keep = np.isfinite(labels)
        ax.scatter(labels[keep], distances[keep], s=4, alpha=0.4)
        ax.set_xlabel(attribute)
        # on two lines: on one it was taller than the axes and ran off the figure's top
        ax.set_ylabel(f"signed distance\n{in_unit.strip()}" if unit else "signed distance")
        ax.set_title(title, fontsize=9)
        tight_layout(fig)
        return fig
    bins = np.histogram_bin_edges(distances, bins=40)
    known = [name for name in names if name != UNKNOWN]   # each in its colour of every figure
    palette = iter(class_colors(len(known), ordered, known, attribute))
    colours = [UNKNOWN_GREY if name == UNKNOWN else next(palette) for name in names]
    present = [code for code in range(len(names)) if (labels == code).any()]
    if len(present) <= 2:
        fig, ax = plt.subplots(figsize=(width, 3.2 + top))
        for code in present:
            part = distances[labels == code]
            ax.hist(part, bins=bins, alpha=0.5, color=colours[code],
                    label=f"{names[code]} ({len(part)})", histtype="stepfilled")
        ax.axvline(0, color="k", lw=0.8)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("codes")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend(*legend_items(ax), fontsize=7)
        ax.set_title(title, fontsize=9)
        tight_layout(fig)
        return fig
    fig, axes = plt.subplots(len(present), 1, sharex=True, squeeze=False,
                             figsize=(width, 0.9 + 0.55 * len(present) + top))
    for ax, code in zip(axes[:, 0], present, strict=True):
        part = distances[labels == code]
        ax.hist(part, bins=bins, color=colours[code], alpha=0.8, histtype="stepfilled")
        ax.axvline(0, color="k", lw=0.8)
        ax.axvline(float(np.median(part)), color="0.25", lw=0.8, ls="--")
        ax.set_ylabel(f"{names[code]} ({len(part)})", rotation=0, ha="right", va="center", fontsize=7)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=2))
        ax.tick_params(labelsize=6)
        ax.spines[["top", "right"]].set_visible(False)
    axes[-1, 0].set_xlabel(xlabel + "\ndashed: each class's median", fontsize=8)
    axes[0, 0].set_title(title, fontsize=9)
    tight_layout(fig)
    fig.subplots_adjust(hspace=0.15)
    return fig


FRAME_AXES = 10
"""Faces in one row of a traversal frame: more axes wrap onto further rows."""
FRAME_DPI = 180
"""Pixels per inch of a traversal GIF's frames (captions of 6 points readable)."""


def traversal_frames(rows: np.ndarray, values: np.ndarray, labels: list[str],
                     title: str) -> np.ndarray:
    """Frames of a traversal's animation: ``rows`` ``(A, V, S, S, C)`` uint8 (one row per
    axis, one column per value of ``values`` ``(V,)``) -> ``(2V - 2, H, W, 3)`` uint8 frames,
    each the ``A`` faces at one value (captioned with ``labels``, one per axis; at most
    :data:`FRAME_AXES` to a row), labelled with it; the values go from the first to the last
    and back, leaving out the ends on the way back so that the looped animation shows each
    once per sweep."""
    from latentplay.viz.grid import grid_frames

    order = list(range(len(values))) + list(range(len(values) - 2, 0, -1))
    parts = [slice(a, a + FRAME_AXES) for a in range(0, len(rows), FRAME_AXES)]
    return grid_frames([[rows[part, v] for part in parts] for v in order],
                       [[f"step\n{values[v]:+.3g}" if i == 0 else "" for i in range(len(parts))]
                        for v in order],
                       captions=[labels[part] for part in parts], title=title, dpi=FRAME_DPI)


def save_traversal_gif(rows: np.ndarray, values: np.ndarray, labels: list[str], title: str,
                       path: Path, seconds_per_frame: float = 0.5) -> None:
    """Write :func:`traversal_frames` as a looping GIF at ``path`` (as a run's recon.gif)."""
    from latentplay.viz.grid import write_gif

    write_gif(traversal_frames(rows, values, labels, title), path, seconds_per_frame)
