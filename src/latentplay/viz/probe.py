"""Probe figures: what each column holds of each attribute, and which dimensions carry it."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from latentplay.viz.plain import drawn_as_written
from latentplay.viz.style import (
    PAGE_WIDTH,
    legend_items,
    qualitative_colors,
    text_color,
    tight_layout,
    wrap_title,
)

FLOOR = -0.25
"""The lowest score the probe bars draw (an R² can fall without bound)."""


@drawn_as_written
def probe_bars(attributes: Sequence[str], measures: Sequence[str], columns: Sequence[str],
               linear: np.ndarray, knn: np.ndarray, chance: np.ndarray) -> Figure:
    """Horizontal bars, one group per attribute and one bar per column: the linear probe's
    score, a ring at the k-NN probe's, a grey tick at chance.

    Args:
        attributes: ``A`` attribute names; ``measures``: what each score is (``balanced
            accuracy`` or ``R²``).
        columns: ``C`` column names.
        linear, knn: ``(A, C)`` scores; ``chance``: ``(A,)``.
    """
    n_attr, n_col = len(attributes), len(columns)
    height = 0.8 / n_col
    scores = np.concatenate([np.ravel(linear), np.ravel(knn)])
    worst = float(np.nanmin(scores)) if np.isfinite(scores).any() else 0.0
    floor = max(min(worst, 0.0), FLOOR)  # an R² below 0 is worse than the mean: drawn as such
    fig, ax = plt.subplots(figsize=(8, 1.4 + n_attr * (0.25 + 0.3 * n_col)))
    colors = qualitative_colors(n_col)
    y = np.arange(n_attr)
    for c in range(n_col):
        pos = y - 0.4 + height * (c + 0.5)
        ax.barh(pos, np.clip(linear[:, c], floor, None), height, color=colors[c], label=columns[c])
        ax.plot(np.clip(knn[:, c], floor, None), pos, "o", mfc="none", mec="black", ms=5)
    for a in range(n_attr):
        ax.plot([chance[a]] * 2, [a - 0.45, a + 0.45], color="0.4", lw=1.5)
    ax.plot([], [], "o", mfc="none", mec="black", label="k-NN probe")
    ax.plot([], [], color="0.4", lw=1.5, label="chance")
    short = {"balanced accuracy": "bal. acc.", "R²": "R²"}
    ax.set_yticks(y, [f"{a}\n({short.get(m, m)})" for a, m in zip(attributes, measures,
                                                                   strict=True)], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(floor - (0.03 if floor < 0 else 0), 1.03)  # rings at the ends stay whole
    if floor < 0:
        ax.axvline(0, color="0.3", lw=0.8)
    below = f"; scores below {FLOOR:g} drawn at it" if worst < FLOOR else ""
    ax.set_xlabel(f"held-out score (bars: linear probe{below})")
    ax.set_title("What each column holds of each attribute", fontsize=10)
    ax.grid(axis="x", color="0.9")
    ax.legend(*legend_items(ax), bbox_to_anchor=(1.01, 1), loc="upper left", fontsize=8)
    tight_layout(fig)
    return fig


@drawn_as_written
def informativeness_heatmap(values: np.ndarray, attributes: Sequence[str], column: str,
                            chance: np.ndarray | None = None) -> Figure:
    """``(A, D)`` normalised mutual information of each code dimension with each attribute;
    with ``chance`` ``(A,)`` (each attribute's chance level) a cell is numbered only above its
    attribute's."""
    n_attr, dims = values.shape
    width = min(2.5 + 0.32 * dims, PAGE_WIDTH)  # printed at its own size on a page
    fig, ax = plt.subplots(figsize=(width, 1.3 + 0.42 * n_attr))
    im = ax.imshow(values, aspect="auto", cmap="magma", vmin=0,
                   vmax=max(float(values.max()), 1e-9))
    if dims <= 32:
        for (a, d), v in np.ndenumerate(values):
            if v >= 0.05 and (chance is None or v > chance[a]):
                ax.text(d, a, f"{v:.2f}".removeprefix("0"), ha="center", va="center",
                        fontsize=6, color=text_color(im.cmap(im.norm(v))))
    ax.set_yticks(range(n_attr), attributes, fontsize=8)
    shown = range(0, dims, -(-dims // 32))  # at most 32 dimensions numbered along the axis
    ax.set_xticks(shown, [str(d) for d in shown], fontsize=6)
    ax.set_xlabel(f"dimension of {column}")
    ax.set_title(wrap_title(f"{column}: mutual information of each dimension with each attribute "
                            "/ attribute entropy" + ("" if chance is None else
                                                     "; numbered above chance (the attribute "
                                                     "shuffled)"), width - 0.6, 9), fontsize=9)
    fig.colorbar(im, ax=ax, fraction=0.03)
    tight_layout(fig)
    return fig
