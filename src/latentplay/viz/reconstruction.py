"""The figures of ``latentplay audit reconstruction``: each group's reconstruction errors with
their intervals, and the photos each group has redrawn worst."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from latentplay.outputs import p_text
from latentplay.viz.grid import image_grid
from latentplay.viz.plain import drawn_as_written
from latentplay.viz.projection import class_colors
from latentplay.viz.style import tight_layout, wrap_title

PANELS = {"unexplained": "share of the photo's variance missed\n(pixel MSE / its variance)",
          "mse": "pixel MSE\n(pixels 0-1)",
          "kept": "identity kept\n(1: the same person, 0: another)"}
"""The measures drawn, each a panel, and their axis labels."""

TEST_NAMES = {"kruskal": "Kruskal-Wallis", "wald": "cluster-robust Wald"}
"""How each test across the groups is named under its panel."""


@drawn_as_written
def reconstruction_bars(found: dict[str, Any]) -> Figure:
    """One panel per measure of :data:`PANELS` the summary of
    :func:`~latentplay.audit.reconstruction.audit_reconstruction` has: a bar per group (its
    mean) with its 95 % interval, the mean over every photo dotted."""
    groups = found["groups"]
    names = list(groups)
    panels = [m for m in PANELS if found["all"].get(m) is not None]
    colors = class_colors(len(names), bool(found.get("ordered")), names, found["by"])
    fig, axes = plt.subplots(1, len(panels), figsize=(3.4 * len(panels) + 1.2, 0.4 * len(names) + 2.2),
                             sharey=True, squeeze=False)
    y = np.arange(len(names))
    for ax, measure in zip(axes[0], panels, strict=True):
        mean = np.array([np.nan if g[measure] is None else g[measure] for g in groups.values()])
        low, high = (np.array([np.nan if g[f"{measure}_{end}"] is None else g[f"{measure}_{end}"]
                               for g in groups.values()]) for end in ("low", "high"))
        ax.barh(y, mean, color=colors, alpha=0.85)
        ax.errorbar(mean, y, xerr=np.abs(np.stack([mean - low, high - mean])), fmt="none",
                    ecolor="black", capsize=3, lw=1)
        ax.axvline(found["all"][measure], color="grey", ls=":", lw=1.2)
        test = found["tests"].get(measure)
        ax.set_xlabel(PANELS[measure] + ("\nno test" if test is None else
                                         f"\ngroups differ: {TEST_NAMES[test.get('test', 'kruskal')]} "
                                         f"p {p_text(test['p_value'], 3)}"),  # as the terminal and report
                      fontsize=9)
        ax.set_xlim(left=0)
    axes[0][0].set_yticks(y, [f"{name} (n={groups[name]['n']})" for name in names], fontsize=8)
    axes[0][0].invert_yaxis()
    over = ("photos" if found.get("persons") is None else
            f"{found['persons']} persons (bootstrap and tests)")
    fig.suptitle(wrap_title(f"how well {found['run']} redraws each {found['by']} ({found['codes']} codes); "
                            f"bars: means with 95 % intervals over {over}, dotted: all photos",
                            3.4 * len(panels) + 1.0, 11), fontsize=11)
    tight_layout(fig)
    return fig


def worst_grid(pairs: Sequence[tuple[str, np.ndarray, np.ndarray, np.ndarray, np.ndarray]],
               by: str) -> Figure:
    """A row per group: its photos redrawn worst, each beside its redrawing. ``pairs``: per
    group its name, the ``(k, S, S, C)`` photos as the model sees them, their ``(k, S, S, C)``
    redrawings, the ``(k,)`` shares of their variance missed and ``(k,)`` store rows."""
    rows, labels, captions = [], [], []
    for name, photos, redrawn, errors, picked in pairs:
        shown = np.stack([image for pair in zip(photos, redrawn, strict=True) for image in pair])
        rows.append(shown)
        labels.append(name)
        captions.append([text for row, error in zip(picked, errors, strict=True)
                         for text in (f"row {row}", f"missed {error:.2f}")])
    return image_grid(rows, labels, captions, title=f"the photos of each {by} redrawn worst (the most "
                      "of their own pixel variance missed), each beside its redrawing")
