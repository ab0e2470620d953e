"""The figure of ``latentplay audit detection``: the share of faces found in each group
against the detector's score threshold."""

from __future__ import annotations

import os
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from latentplay.viz.grid import save_figure
from latentplay.viz.plain import drawn_as_written
from latentplay.viz.projection import class_colors
from latentplay.viz.style import COLOUR_ONLY, legend_items, tight_layout, wrap_title

STYLES = ("-", "--", "-.")
"""Line styles of the groups in turn (dotted is all images')."""
MARKERS = ("o", "s", "^", "D", "v")
"""Markers of the groups in turn, set along each line."""


@drawn_as_written
def plot_sweep(sweep: dict[str, Any], path: str | os.PathLike[str] | None = None) -> Figure:
    """Share found against threshold, one line (and its 95 % band) per group and for all
    images, the detector's cut marked; written to ``path`` (PNG; the figure is then closed)
    when given. The title says what the bands are drawn over: the sweep's ``persons`` (a
    bootstrap) where it counts them, else images. Past :data:`~latentplay.viz.style.COLOUR_ONLY`
    groups (ten skin tones, whose neighbouring colours even normal vision barely tells apart)
    each line also takes one of :data:`STYLES` and :data:`MARKERS` in turn. Returns the figure."""
    t = np.asarray(sweep["thresholds"])
    groups = sweep["groups"]
    colors = class_colors(len(groups), sweep["ordered"], list(groups), sweep["by"])
    fig, ax = plt.subplots(figsize=(8, 5))
    marked = len(groups) > COLOUR_ONLY
    for k, (color, (name, g)) in enumerate(zip(colors, groups.items(), strict=True)):
        style = {"ls": STYLES[k % len(STYLES)], "marker": MARKERS[k % len(MARKERS)],
                 "markevery": max(1, len(t) // 8), "ms": 5} if marked else {}
        ax.plot(t, g["share"], color=color, label=f"{name} (n={g['n']})", lw=1.8, **style)
        ax.fill_between(t, g["low"], g["high"], color=color, alpha=0.15, lw=0)
    every = sweep["all"]
    ax.plot(t, every["share"], color="black", ls=":", lw=1.5, label=f"all (n={every['n']})")
    ax.fill_between(t, every["low"], every["high"], color="black", alpha=0.08, lw=0)
    ax.axvline(sweep["cut"], color="grey", ls="--", lw=1)
    ax.text(sweep["cut"], 1.01, " the detector's cut", color="0.35", fontsize=9, va="bottom")
    ax.set_xlim(t[0], t[-1])
    ax.set_ylim(0, 1)
    ax.set_xlabel("score threshold (faces kept above it)")
    ax.set_ylabel("share of images with a face found")
    persons = sweep.get("persons")
    over = ("" if "persons" not in sweep else " over images (Wilson)" if persons is None
            else f" over {persons} persons (bootstrap)")
    ax.set_title(wrap_title(f"faces found by {sweep['label']} within each {sweep['by']}; "
                            f"bands: 95 % intervals{over}", 5.5, 12), pad=18)  # axes' width
    ax.legend(*legend_items(ax), fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    tight_layout(fig)
    if path is not None:
        save_figure(fig, path)
    return fig
