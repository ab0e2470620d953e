"""The dataset-bias figure: the distribution of one attribute within each group of another."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib import patheffects
from matplotlib.figure import Figure

from latentplay.errors import UserError
from latentplay.store.bias import Association
from latentplay.store.schema import UNKNOWN
from latentplay.viz.projection import class_colors
from latentplay.viz.style import (
    COLOUR_ONLY,
    text_color,
    text_width,
    tight_layout,
    unknown_bar_style,
)

TEXT_SHIFT = 0.2
"""How far below a bar's middle (in bar rows; a bar is 0.8 high) its numbers sit when the
chart has intervals."""

WHISKER_SHIFT = 0.14
"""How far above a bar's middle (in bar rows) its interval is drawn."""

MAX_GROUPS = 30
"""Groups drawn at most (persons, say); of more, those whose shares differ most from all rows'
(:func:`shown_groups`), and the title says how many are left out."""

MAX_LEGEND = 40
"""Levels listed in the legend at most; of more (persons, say), a note says how many levels the
colours show, from which to which."""

LEGEND_ROWS = 20
"""Legend entries in one column; more take further columns."""


def association_bars(found: Association, subtitle: str) -> Figure:
    """:func:`bias_bars` of an :class:`~latentplay.store.bias.Association`: its counts, its
    intervals and, where they are taken over repeated persons, how many persons."""
    persons = found.clusters if found.design_effects is not None else None
    return bias_bars(found.groups, found.levels, found.counts, found.by, found.of, subtitle,
                     found.intervals, persons, ordered=found.of_ordered)


def bias_bars(groups: list[str], levels: list[str], counts: np.ndarray, by: str, of: str,
              subtitle: str = "", intervals: np.ndarray | None = None,
              persons: int | None = None, ordered: bool = True) -> Figure:
    """One horizontal bar per group of ``by`` (and one for all rows), split into the shares of
    the levels of ``of``; ``counts`` is ``(R, C)`` for the ``R`` groups and ``C`` levels. The
    levels take the ramp of ordered classes in their order
    (:func:`~latentplay.viz.style.ordered_colors`), or, not ``ordered``, the colours each class
    has in every other figure (:func:`~latentplay.viz.projection.class_colors`: ``female`` as
    in a projection); a level named ``unknown`` (a row without a value) is hatched grey.
    ``intervals`` ``(R + 1, 2)`` (all rows, then each
    group), given when ``of`` has two levels besides ``unknown``, bound the first of them's
    share and are drawn at the boundary between the two, so small groups show how little their
    share says. With intervals, the shares written on a bar sit in its lower part and the
    interval in its upper part, so that no interval runs across a number. The legend says what
    the whiskers are: 95 % Wilson intervals, taken over ``persons`` when given (the rows
    repeat that many persons and the intervals are Wilson's at the rows over their design
    effects, as :attr:`latentplay.store.bias.Association.intervals` gives them). The legend
    gives each level's count over all rows (a level of one row is a sliver too thin to see),
    in columns of :data:`LEGEND_ROWS`; of more than :data:`MAX_LEGEND` levels a note says how
    many the colours show instead. Of more than :data:`MAX_GROUPS` groups, those
    :func:`shown_groups` picks are drawn, and the title says so. A group of no rows keeps its
    place with an empty bar marked ``no rows`` (and no interval). Arrays of other shapes are
    refused (:class:`UserError`)."""
    counts = np.asarray(counts)
    if counts.shape != (len(groups), len(levels)):
        raise UserError(f"counts= must be (R, C) = ({len(groups)}, {len(levels)}) for the "
                        f"{len(groups)} groups and {len(levels)} levels, got shape {counts.shape}")
    if intervals is not None:
        intervals = np.asarray(intervals)
        if intervals.shape != (len(groups) + 1, 2):
            raise UserError(f"intervals= must be (R + 1, 2) = ({len(groups) + 1}, 2) (all rows, "
                            f"then each group), got shape {intervals.shape}")
    totals = counts.sum(0)
    overall = _shares(totals[None])[0]
    kept = shown_groups(counts, MAX_GROUPS)
    if len(kept) < len(groups):
        subtitle = "\n".join([*([subtitle] if subtitle else []),
                               f"the {len(kept)} of {len(groups)} {by} groups whose shares differ"
                               " most from those of all rows"])
        if intervals is not None:
            intervals = intervals[np.concatenate([[0], kept + 1])]
        groups, counts = [groups[i] for i in kept], counts[kept]
    shares = _shares(counts)
    labels = [f"all (n={totals.sum()})"] + [f"{g} (n={n})" for g, n in zip(groups, counts.sum(1),
                                                                           strict=True)]
    table = np.vstack([overall, shares])
    known = [k for k, level in enumerate(levels) if level != UNKNOWN]
    ramp = iter(class_colors(len(known), ordered, [levels[k] for k in known], of))
    title_lines = 1 + (subtitle.count("\n") + 1 if subtitle else 0)
    listed = len(levels) <= MAX_LEGEND
    entries = [f"{level} (n={n})" for level, n in zip(levels, totals, strict=True)]
    columns = -(-len(levels) // LEGEND_ROWS) if listed else 1
    # the legend's lines in a column (the whiskers' entry takes three) or the note's
    column_rows = -(-len(levels) // columns) + 3 * (intervals is not None) if listed else 6
    legend_width = columns * (0.45 + max(text_width(e, 8) for e in [*entries, of])) \
        if listed else 1.3
    row = max(0.4, 0.55 * min(1.0, 13 / len(labels)))  # inches a bar takes: thinner when many
    height = max(1.0 + row * len(labels), 0.7 + 0.19 * (column_rows + 1)) + 0.2 * title_lines
    fig, ax = plt.subplots(figsize=(max(8.0, 6.3 + legend_width), height))
    # bars span y +- 0.4: with intervals the numbers go low and the whiskers high in each bar
    text_y, whisker_y = (TEXT_SHIFT, -WHISKER_SHIFT) if intervals is not None else (0.0, 0.0)
    left = np.zeros(len(labels))
    hatched = len(known) > COLOUR_ONLY    # every other class hatched: neighbours told by more than colour
    for k, level in enumerate(levels):
        style = unknown_bar_style() if level == UNKNOWN else \
            {"color": next(ramp), "edgecolor": "white", "linewidth": 1.0}
        if hatched and level != UNKNOWN and known.index(k) % 2:
            style.update(hatch="////", hatchcolor=text_color(style["color"]), hatch_linewidth=0.4)
        bars = ax.barh(labels, table[:, k], left=left, label=level, **style)
        for bar, share in zip(bars, table[:, k], strict=True):
            if share >= 0.06:
                ax.text(bar.get_x() + bar.get_width() / 2,
                        bar.get_y() + bar.get_height() / 2 + text_y,
                        f"{share:.0%}", ha="center", va="center", fontsize=8,
                        color=text_color(style["color"]),
                        bbox={"facecolor": style["color"], "edgecolor": "none", "pad": 0.6}
                        if "hatch" in style and level != UNKNOWN else None)
        left += table[:, k]
    empty = np.flatnonzero(table.sum(1) == 0)
    for i in empty:
        ax.text(0.5, i, "no rows", ha="center", va="center", fontsize=8, color="0.4")
    if intervals is not None:
        first = known[0]
        before = table[:, :first].sum(1)     # the shares drawn left of the first known level
        mid = before + table[:, first]
        over = f"\nover {persons} persons" if persons else ""
        drawn = np.setdiff1d(np.arange(len(labels)), empty)
        whiskers = ax.errorbar(mid[drawn], drawn + whisker_y,
                               xerr=np.abs(intervals[drawn].T + before[drawn] - mid[drawn]),
                               fmt="none",
                               ecolor="black", elinewidth=1, capsize=3,
                               label=f"95 % Wilson interval\nof {levels[first]}'s share{over}")
        halo = [patheffects.withStroke(linewidth=2.5, foreground="white")]  # seen on dark bars
        for artist in whiskers.get_children():
            artist.set_path_effects(halo)
    ax.set_ylim(len(labels) - 0.5, -0.5)  # top to bottom, no margin above the first bar
    ax.set_xlim(0, 1)
    ax.set_xlabel(f"share of {of}")
    ax.set_title(f"{of} within each {by}" + (f"\n{subtitle}" if subtitle else ""), fontsize=10)
    if listed:
        handles, _ = ax.get_legend_handles_labels()
        ax.legend(handles, entries + [h.get_label() for h in handles[len(levels):]], title=of,
                  bbox_to_anchor=(1.01, 1), loc="upper left", fontsize=8, title_fontsize=8,
                  ncol=columns)
    else:
        ends = [levels[k] for k in (known[0], known[-1])] if known else ["", ""]
        note = f"{of}:\n{len(known)} levels, one\ncolour each" + (
            f", from\n{ends[0]} (dark)\nto {ends[1]}" if ordered else "")
        if len(known) < len(levels):
            note += f"\n\n{UNKNOWN}: hatched grey"
        ax.text(1.02, 1, note, transform=ax.transAxes, va="top", fontsize=8)
    tight_layout(fig)
    return fig


def _shares(counts: np.ndarray) -> np.ndarray:
    """``(R, C)`` shares of each row of ``counts`` ``(R, C)``; a row of no counts is all 0."""
    sizes = counts.sum(1, keepdims=True)
    return np.divide(counts, sizes, out=np.zeros(counts.shape), where=sizes > 0)


def shown_groups(counts: np.ndarray, limit: int) -> np.ndarray:
    """Indices, in order, of at most ``limit`` of the ``R`` groups of ``counts`` ``(R, C)``:
    all of them when they are that few, else those whose shares differ most from all rows'
    (the largest contributions to the chi-square of independence), the larger groups first
    among equal ones."""
    if len(counts) <= limit:
        return np.arange(len(counts))
    expected = counts.sum(1, keepdims=True) * counts.sum(0) / counts.sum()
    contributions = (np.divide((counts - expected) ** 2, expected, out=np.zeros(expected.shape),
                               where=expected > 0)).sum(1)
    return np.sort(np.lexsort((-counts.sum(1), -contributions))[:limit])
