"""Verification figures per group: DET curves, distance histograms, error rates at a common
threshold."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import blended_transform_factory
from sklearn.metrics import roc_curve

from latentplay.outputs import first_named
from latentplay.viz.plain import drawn_as_written
from latentplay.viz.style import (
    CLASS_COLORS,
    PAGE_WIDTH,
    SMALLEST_TEXT,
    legend_items,
    log_axis,
    qualitative_colors,
    row_note,
    text_width,
    tight_layout,
    wrap_title,
)

Part = tuple[str, np.ndarray, np.ndarray]  # group name, (P,) distances, (P,) bool genuine

GENUINE, IMPOSTOR = CLASS_COLORS[0], CLASS_COLORS[3]
"""Colours of genuine and impostor pairs (and of the error rates each makes, FNMR and FMR):
Okabe and Ito's blue and vermilion, apart for every colour vision where overlaid; green and
red were 4.6 CIEDE2000 apart to a deuteranope."""


@drawn_as_written
def det_curves(parts: Sequence[Part], threshold: float, note: str | None = None) -> Figure:
    """One DET curve per group — FNMR against FMR, both on log axes — with each group's
    operating point at the common ``threshold`` marked (``parts``: each group's name, ``(P,)``
    distances and ``(P,)`` bool genuine, both kinds of pair present). A rate of 0 cannot sit on
    a log axis: it is drawn at half a pair of that rate's own pairs (FMR: 0.5 / the group's
    impostor pairs, FNMR: 0.5 / its genuine pairs), the operating point then hollow, and the
    legend says so. ``note`` (e.g. :func:`undrawn_note`) stands under the axes."""
    outside = len(parts) > 8  # a long legend goes beside the axes, off the curves
    width = 7.8 if outside else 6.4  # its 7 pt legend 6 pt or more on a page
    lines = _wrapped(note, width)
    fig, ax = plt.subplots(figsize=(width, 5.2 + 0.17 * len(lines)))
    floor, zeros = 1.0, False
    for (name, d, same), color in zip(parts, qualitative_colors(len(parts)), strict=True):
        fmr, tar, _ = roc_curve(same, -d)
        fnmr = 1 - tar
        # half a pair of each rate's own pairs: zero rates stay on the plot
        lo_fmr, lo_fnmr = 0.5 / max(int((~same).sum()), 1), 0.5 / max(int(same.sum()), 1)
        floor = min(floor, lo_fmr, lo_fnmr)
        ax.step(np.maximum(fmr, lo_fmr), np.maximum(fnmr, lo_fnmr), where="post", color=color,
                lw=1.6, label=name)
        rates = float((d[~same] < threshold).mean()), float((d[same] >= threshold).mean())
        zero = min(rates) == 0  # drawn at half a pair, hollow: not a small rate
        zeros = zeros or zero
        ax.plot(max(rates[0], lo_fmr), max(rates[1], lo_fnmr), "o", color=color, ms=7, zorder=3,
                mec=color if zero else "black", mfc="white" if zero else color,
                mew=2 if zero else 1, clip_on=False)  # whole on the axes' edges
    log_axis(ax, "x")
    log_axis(ax, "y")
    ax.set_xlim(floor, 1)
    ax.set_ylim(floor, 1)
    ax.plot([floor, 1], [floor, 1], color="0.8", lw=1, ls="--", zorder=0)
    ax.plot([], [], "o", color="0.6", mec="black", label="common threshold")
    if zeros:
        ax.plot([], [], "o", color="white", mec="black", mew=2,
                label="hollow: a rate of 0 there,\ndrawn at half a pair")
    ax.set_xlabel("false match rate (impostor pairs called one person)")
    ax.set_ylabel("false non-match rate (genuine pairs missed)")
    ax.set_title("Verification errors per group (lower left is better)", fontsize=10)
    ax.grid(which="both", color="0.93")
    if outside:
        ax.legend(*legend_items(ax), fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1),
                  frameon=False)
    else:
        ax.legend(*legend_items(ax), fontsize=8, loc="best")  # off the curves and the points on the floor
    _bottom_note(fig, lines)
    return fig


@drawn_as_written
def score_histograms(parts: Sequence[Part], threshold: float, label: str,
                     note: str | None = None) -> Figure:
    """Per group (one panel each, shared axis) the distances of genuine and impostor pairs,
    with the common ``threshold`` as a line; ``label`` names the distance; ``note`` (e.g.
    :func:`undrawn_note`) stands under the panels."""
    n = len(parts)
    lines = _wrapped(note, 6.4)
    fig, axes = plt.subplots(n, 1, figsize=(6.4, 0.9 + 1.15 * n + 0.17 * len(lines)), sharex=True,
                             squeeze=False)
    every = np.concatenate([d for _, d, _ in parts])
    finite = every[np.isfinite(every)]
    bins = np.linspace(finite.min(), finite.max(), 60) if len(finite) else 10
    for ax, (name, d, same) in zip(axes[:, 0], parts, strict=True):
        ax.hist(d[same], bins=bins, density=True, alpha=0.6, color=GENUINE, label="genuine",
                histtype="stepfilled")  # one patch a histogram, not one a bar: 30 groups draw fast
        ax.hist(d[~same], bins=bins, density=True, alpha=0.6, color=IMPOSTOR, label="impostor",
                histtype="stepfilled")
        if np.isfinite(threshold):
            ax.axvline(threshold, color="black", lw=1.2)
        ax.set_ylabel(name, rotation=0, ha="right", va="center", fontsize=8)
        ax.set_yticks([])
    axes[0, 0].legend(fontsize=7, loc="upper right")
    axes[0, 0].set_title("Distances of genuine and impostor pairs (line: common threshold)",
                         fontsize=10)
    axes[-1, 0].set_xlabel(label)
    _bottom_note(fig, lines)
    return fig


def _zeros(ax: Any, y: np.ndarray, values: np.ndarray, color: Any) -> None:
    """Write "0" where a bar of ``values`` ``(G,)`` at heights ``y`` ``(G,)`` is a rate of 0,
    which draws no bar: a measured zero, not a missing rate."""
    for at in np.flatnonzero(values == 0):
        ax.text(0, y[at], " 0", va="center", ha="left", fontsize=7, color=color)


def undrawn_note(groups: Sequence[str], named: int = 12) -> str | None:
    """The line under the DET curves and distance histograms naming the ``groups`` they leave
    out (a curve needs genuine and impostor pairs), the first ``named`` of them; None for none."""
    if not groups:
        return None
    return f"not drawn, without both genuine and impostor pairs: {first_named(groups, named)}"


def _wrapped(note: str | None, width: float) -> list[str]:
    """``note`` wrapped to a ``width``-inch figure at 8 pt (about 15 characters an inch)."""
    return textwrap.wrap(note, int(width * 15)) if note else []


def _bottom_note(fig: Figure, lines: Sequence[str]) -> None:
    """Lay ``fig`` out with ``lines`` (8 pt, grey) under its axes."""
    room = (0.1 + 0.15 * len(lines)) / fig.get_figheight() if lines else 0.0
    if lines:
        fig.text(0.5, 0.01, "\n".join(lines), ha="center", va="bottom", fontsize=8, color="0.3")
    tight_layout(fig, rect=(0, room, 1, 1))


def pair_interval_note(persons: int | None) -> str:
    """What ``audit verify``'s rate intervals are drawn over: ``95 % interval over 200
    persons (Wilson at the pairs' design effect)`` where the pairs' faces are ``persons``
    persons, else ``95 % interval over pairs (Wilson, pairs taken as independent)``."""
    if persons is None:
        return "95 % interval over pairs (Wilson, pairs taken as independent)"
    return f"95 % interval over {persons} persons (Wilson at the pairs' design effect)"


@drawn_as_written
def rate_bars(rows: Sequence[Mapping[str, Any]], threshold: float,
              intervals: str | None = None) -> Figure:
    """Two panels: FMR and FNMR of each group at the common ``threshold``, with their 95%
    intervals (``rows``: dicts with ``group``, ``fmr``, ``fmr_low``, ``fmr_high`` and the same
    for ``fnmr``); ``intervals`` (:func:`pair_interval_note`), what the intervals are drawn
    over, stands under the panels."""
    fig, axes = plt.subplots(1, 2, figsize=(7.5, 0.9 + 0.36 * len(rows) + 0.3 * bool(intervals)),
                             sharey=True)
    y = np.arange(len(rows))
    for ax, key, title, kind in ((axes[0], "fmr", "false match rate", "impostor"),
                                 (axes[1], "fnmr", "false non-match rate", "genuine")):
        values = np.array([r[key] if r[key] is not None else np.nan for r in rows], float)
        low = np.array([r[f"{key}_low"] if r[f"{key}_low"] is not None else np.nan
                        for r in rows], float)
        high = np.array([r[f"{key}_high"] if r[f"{key}_high"] is not None else np.nan
                         for r in rows], float)
        color = IMPOSTOR if key == "fmr" else GENUINE
        ax.barh(y, values, color=color, alpha=0.75)
        _zeros(ax, y, values, color)
        ax.errorbar(values, y, xerr=[values - low, high - values], fmt="none", ecolor="black",
                    capsize=3, lw=1)
        ax.set_xlim(0, max(float(np.nanmax(high)) * 1.1 if np.isfinite(high).any() else 1e-3,
                           1e-3))
        for g in np.flatnonzero(~np.isfinite(values)):
            row_note(ax, g, f"no {kind} pairs")
        ax.set_title(f"{title} at d < {threshold:.4g}", fontsize=10)
        ax.grid(axis="x", color="0.9")
    axes[0].set_yticks(y, [str(r["group"]) for r in rows], fontsize=8)
    axes[0].set_ylim(len(rows) - 0.5, -0.5)  # every group's row, the first on top
    if intervals:
        fig.text(0.5, 0.01, f"error bars: {intervals}", ha="center", va="bottom", fontsize=8)
    tight_layout(fig, rect=(0, 0.3 / fig.get_figheight() if intervals else 0, 1, 1))
    return fig


Shown = tuple[str, list[tuple[np.ndarray, np.ndarray, float]],
              list[tuple[np.ndarray, np.ndarray, float]]]
"""A group's name, its closest impostor pairs and its farthest genuine pairs: (image a,
image b, distance), images ``(S, S, C)`` uint8."""


@drawn_as_written
def hardest_pairs(groups: Sequence[Shown], threshold: float, cell: float = 0.6,
                  note: str | None = None) -> Figure:
    """One row per group: its closest impostor pairs (left; a distance in red and bold is a false
    match at the common ``threshold``: bold for readers who cannot tell red from black) and its
    farthest genuine pairs (right; red and bold: a false non-match);
    faces ``cell`` inches wide. ``note`` (e.g. which groups are left out) stands on top, wrapped
    to the figure's width. The margins are set in inches, so the group names, the headings and
    the last row's distances stay on the figure however few or many rows there are; the text
    is drawn large enough to read once the figure is scaled to a page
    (:data:`~latentplay.viz.style.SMALLEST_TEXT` at :data:`~latentplay.viz.style.PAGE_WIDTH`).
    A row is one image on one axes (24 groups of 3 pairs a side: 24 axes, not 312)."""
    k = max(1, *(max(len(imp), len(gen)) for _, imp, gen in groups))
    side = next((img.shape[0] for _, imp, gen in groups for pair in (*imp, *gen) for img in pair[:2]), 1)
    inner, between, middle = 0.06, 0.25, 0.6  # gaps in faces: within a pair, between pairs, kinds
    block = k * (2 + inner) + (k - 1) * between  # one kind's pairs, in face widths
    starts = (0.0, block + middle)
    wide = 2 * block + middle
    # the distances' points, names 1 pt and headings 2 pt more: 6 pt on a page, where the
    # figure's width is its faces' and its names' (these as wide as the points they are drawn at)
    per_point = max(text_width(name, 1.0) for name, _, _ in groups)
    shrink = PAGE_WIDTH / SMALLEST_TEXT  # inches of figure per point of the smallest text
    size = max(7.0, (0.4 + wide * cell + per_point) / (shrink - per_point))
    left = 0.2 + per_point * (size + 1)
    width = left + wide * cell + 0.2
    headings = [wrap_title(text, block * cell, size + 2) for text in (
        f"closest impostor pairs (two people); red, bold: d < {threshold:.4g}, called one person",
        f"farthest genuine pairs (one person); red, bold: d ≥ {threshold:.4g}, missed")]
    lines = wrap_title(note, width - 0.3, size + 2).split("\n") if note else []
    line = (size + 2) * 1.25 / 72  # inches of a line of the headings and the note
    heads = max(h.count("\n") + 1 for h in headings)
    noted = line * len(lines) + (0.08 if lines else 0.0)  # the note and a gap under it
    top, bottom, gap = 0.15 + line * heads + noted, 0.08 + size * 1.3 / 72, 0.25 + size / 72 / cell
    height = top + len(groups) * cell + (len(groups) - 1) * gap * cell + bottom
    fig, axes = plt.subplots(len(groups), 1, squeeze=False, figsize=(width, height))
    fig.subplots_adjust(left=left / width, right=1 - 0.2 / width, bottom=bottom / height,
                        top=1 - top / height, hspace=gap)
    for ax, (name, impostor, genuine) in zip(axes[:, 0], groups, strict=True):
        canvas = np.full((side, round(wide * side), 3), 255, np.uint8)
        for start, found, wrong in ((starts[0], impostor, lambda v: v < threshold),
                                    (starts[1], genuine, lambda v: v >= threshold)):
            for i, (a, b, dist) in enumerate(found):
                x = start + i * (2 + inner + between)
                for j, img in enumerate((a, b)):
                    at = round((x + j * (1 + inner)) * side)
                    canvas[:, at:at + side] = img if img.shape[-1] == 3 else img.repeat(3, axis=-1)
                ax.text(x + 1 + inner / 2, 1.06, f"d = {dist:.3g}", ha="center", va="top",
                        fontsize=size, color="tab:red" if wrong(dist) else "black",
                        fontweight="bold" if wrong(dist) else "normal")
        ax.imshow(canvas, extent=(0, canvas.shape[1] / side, 1, 0), interpolation="antialiased")
        ax.axis("off")
        ax.text(-0.15, 0.5, name, ha="right", va="center", fontsize=size + 1)
    heading_y = 1 - (0.05 + noted) / height
    at_top = blended_transform_factory(axes[0, 0].transData, fig.transFigure)
    for start, text in zip(starts, headings, strict=True):
        fig.text(start + block / 2, heading_y, text, ha="center", va="top", fontsize=size + 2,
                 transform=at_top)
    if lines:
        fig.text(0.5, 1 - 0.05 / height, "\n".join(lines), ha="center", va="top", fontsize=size + 2)
    return fig


COMPARISON_WIDTH = 7.5
"""Inches of ``comparison.png``: its smallest text, 7 points, prints at 6.4 on a page."""


@drawn_as_written
def column_bars(groups: Sequence[str], columns: Sequence[str], accuracy: np.ndarray,
                accuracy_std: np.ndarray, fmr: np.ndarray, fnmr: np.ndarray,
                target: float | None, folds: int) -> Figure:
    """Three panels, one mark per column in each group: the ``folds``-fold accuracy (a dot
    with its ±1 SD across folds, on an axis zoomed to where the groups differ, its start in
    the title), and bars from 0 of the FMR and FNMR at each column's threshold of the same
    overall ``target`` FMR (``accuracy``, ``accuracy_std``, ``fmr``, ``fnmr``: ``(C, G)``,
    NaN where a group has too few pairs, or no impostor (FMR) or genuine (FNMR) pairs: no
    bar, the reason written in its place)."""
    n_col, n_grp = accuracy.shape
    height = 0.8 / n_col
    # a page's width: the panels' titles are wrapped to the panels, and the extra lines added
    width = COMPARISON_WIDTH
    panel = (width - 0.6 - max(text_width(str(g), 8) for g in groups)) / 3 - 0.25
    at = f" at FMR {target:g} overall" if target else ""
    low = np.clip(accuracy - np.nan_to_num(accuracy_std), 0, 1)
    high = np.clip(accuracy + np.nan_to_num(accuracy_std), 0, 1)
    floor = float(np.nanmin(low)) if np.isfinite(low).any() else 0.5
    start = max(0.0, floor - 0.1 * (1 - floor) - 1e-3)  # zoomed on where the groups differ
    titles = [wrap_title(text, panel, 9) for text in (
        f"{folds}-fold accuracy ± 1 SD across folds (own thresholds);\naxis starts at {start:.3g}, not 0",
        "false match rate" + at, "false non-match rate" + at)]
    lines = max(t.count("\n") for t in titles)
    fig, axes = plt.subplots(1, 3, figsize=(width, 1.0 + 0.16 * lines + n_grp * (0.2 + 0.22 * n_col)),
                             sharey=True)
    y = np.arange(n_grp)
    colors = qualitative_colors(n_col)
    for c in range(n_col):
        axes[0].errorbar(accuracy[c], y - 0.4 + height * (c + 0.5),
                         xerr=[accuracy[c] - low[c], high[c] - accuracy[c]], fmt="o", ms=5,
                         color=colors[c], capsize=2, lw=1)
    for ax, values, title, kind in ((axes[1], fmr, titles[1], "impostor"),
                                    (axes[2], fnmr, titles[2], "genuine")):
        for c in range(n_col):
            ax.barh(y - 0.4 + height * (c + 0.5), values[c], height, color=colors[c],
                    label=columns[c])
            _zeros(ax, y - 0.4 + height * (c + 0.5), values[c], colors[c])
        for g in np.flatnonzero(~np.isfinite(values).any(axis=0)):
            row_note(ax, g, f"no {kind} pairs")
        top = max(float(np.nanmax(values)) if np.isfinite(values).any() else 0.0,
                  (target or 0.0) if ax is axes[1] else 0.0)
        ax.set_xlim(0, 1.1 * top if top > 0 else 0.01)  # rates from 0, never below it
        ax.set_title(title, fontsize=9)
    for g in np.flatnonzero(~np.isfinite(accuracy).any(axis=0)):
        row_note(axes[0], g, "too few pairs")
    axes[0].set_xlim(start, 1 + 0.05 * (1 - start))
    axes[0].set_title(titles[0], fontsize=9)
    if target:
        axes[1].axvline(target, color="0.4", lw=1, ls="--")
    for ax in axes:
        ax.xaxis.set_major_locator(MaxNLocator(3))  # rates of five digits, side by side
        ax.tick_params(axis="x", labelsize=8)
        ax.grid(axis="x", color="0.9")
    axes[0].set_yticks(y, list(groups), fontsize=8)
    axes[0].set_ylim(n_grp - 0.5, -0.5)  # every group's place, the first on top
    handles, names = legend_items(axes[1])
    fig.legend(handles, names, loc="lower center", ncol=min(n_col, 6), fontsize=8,
               frameon=False)
    tight_layout(fig, rect=(0, 0.35 / fig.get_figheight(), 1, 1))
    return fig
