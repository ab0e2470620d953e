"""The dataset-bias figure: the distribution of one attribute within each group of another."""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib import patheffects
from matplotlib.figure import Figure
from matplotlib.transforms import offset_copy

from latentplay.errors import UserError
from latentplay.store.bias import Association
from latentplay.store.schema import UNKNOWN
from latentplay.viz.plain import drawn_as_written
from latentplay.viz.projection import class_colors
from latentplay.viz.style import (
    CHART_TEXT,
    CHART_WIDTH,
    COLOUR_ONLY,
    LABEL_MOST,
    fitted,
    text_color,
    text_width,
    tight_layout,
    unknown_bar_style,
    wrap_title,
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


def association_bars(found: Association, subtitle: str) -> Figure:
    """:func:`bias_bars` of an :class:`~latentplay.store.bias.Association`: its counts, its
    intervals and, where they are taken over repeated persons, how many persons."""
    persons = found.clusters if found.design_effects is not None else None
    return bias_bars(found.groups, found.levels, found.counts, found.by, found.of, subtitle,
                     found.intervals, persons, ordered=found.of_ordered)


@drawn_as_written
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
    effects, adjusted for the persons' degrees of freedom, as
    :attr:`latentplay.store.bias.Association.intervals` gives them). The legend
    gives each level's count over all rows (a level of one row is a sliver too thin to see),
    under the bars in as many columns as fit; of more than :data:`MAX_LEGEND` levels a note
    there says how many the colours show instead. The chart is :data:`CHART_WIDTH` inches wide, its
    text :data:`CHART_TEXT` points or more (6 or more printed a column wide); a share is written on
    its bar where it fits. Of more than :data:`MAX_GROUPS` groups, those
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
    labels = [f"all (n={totals.sum()})"] + [
        fitted(g, LABEL_MOST, CHART_TEXT + 0.5, f" (n={n})")
        for g, n in zip(groups, counts.sum(1), strict=True)]
    table = np.vstack([overall, shares])
    known = [k for k, level in enumerate(levels) if level != UNKNOWN]
    ramp = iter(class_colors(len(known), ordered, [levels[k] for k in known], of))
    listed = len(levels) <= MAX_LEGEND
    label_width = max(text_width(label, CHART_TEXT + 0.5) for label in labels)
    room = CHART_WIDTH - label_width - 0.35    # inches of the axes, the legend's under them
    entries = [fitted(level, room - 0.5, CHART_TEXT, f" (n={n})")   # a column's room, its swatch
               for level, n in zip(levels, totals, strict=True)]
    title = wrap_title(f"{of} within each {by}" + (f"\n{subtitle}" if subtitle else ""),
                       CHART_WIDTH - 0.2, CHART_TEXT + 1)
    whisker_label = None
    if intervals is not None:
        over = f"\nover {persons} persons" if persons else ""
        share = fitted(levels[known[0]], room - 0.5, CHART_TEXT, "'s share")
        whisker_label = f"95 % Wilson interval\nof {share}{over}"
    if listed:
        widths = [0.45 + text_width(e, CHART_TEXT) for e in [*entries, *whisker_label.split("\n")]] \
            if whisker_label else [0.45 + text_width(e, CHART_TEXT) for e in entries]
        columns = max(1, min(len(levels) + (whisker_label is not None), int(room // max(widths))))
        # the legend's lines in a column (the whiskers' entry takes three) and its title
        legend_lines = -(-(len(levels) + (whisker_label is not None)) // columns) \
            + 2 * (whisker_label is not None) + 1
    else:
        note = _levels_note(of, [levels[k] for k in known], len(known) < len(levels), ordered)
        note = wrap_title(note, room, CHART_TEXT)
        legend_lines = note.count("\n") + 1
    row = max(0.3, 0.45 * min(1.0, 13 / len(labels)))  # inches a bar takes: thinner when many
    height = (0.5 + row * len(labels) + 0.19 * (title.count("\n") + 1) + 0.3
              + 0.17 * legend_lines)
    fig, ax = plt.subplots(figsize=(CHART_WIDTH, height))
    # bars span y +- 0.4: with intervals the numbers go low and the whiskers high in each bar
    text_y, whisker_y = (TEXT_SHIFT, -WHISKER_SHIFT) if intervals is not None else (0.0, 0.0)
    left = np.zeros(len(labels))
    hatched = len(known) > COLOUR_ONLY    # every other class hatched: neighbours told by more than colour
    # each bar, its share, its style and whether its number needs a box (on a hatched bar)
    shares: list[tuple[Any, float, dict[str, Any], bool]] = []
    nth = {k: n for n, k in enumerate(known)}    # a known level's place among the known
    handles: list[Any] = []   # each level's bars, then the whiskers: not by their labels
    for k, level in enumerate(levels):
        style = unknown_bar_style() if level == UNKNOWN else \
            {"color": next(ramp), "edgecolor": "white", "linewidth": 1.0}
        boxed = hatched and level != UNKNOWN and nth[k] % 2 == 1
        if boxed:
            style.update(hatch="////", hatchcolor=text_color(style["color"]), hatch_linewidth=0.4)
        bars = ax.barh(np.arange(len(labels)), table[:, k], left=left, label=level, **style)
        handles.append(bars)
        shares.extend((bar, share, style, boxed) for bar, share in zip(bars, table[:, k], strict=True))
        left += table[:, k]
    empty = np.flatnonzero(table.sum(1) == 0)
    for i in empty:
        ax.text(0.5, i, "no rows", ha="center", va="center", fontsize=CHART_TEXT, color="0.4")
    if intervals is not None:
        first = known[0]
        before = table[:, :first].sum(1)     # the shares drawn left of the first known level
        mid = before + table[:, first]
        drawn = np.setdiff1d(np.arange(len(labels)), empty)
        whiskers = ax.errorbar(mid[drawn], drawn + whisker_y,
                               xerr=np.abs(intervals[drawn].T + before[drawn] - mid[drawn]),
                               fmt="none",
                               ecolor="black", elinewidth=1, capsize=3, label=whisker_label)
        handles.append(whiskers)
        halo = [patheffects.withStroke(linewidth=2.5, foreground="white")]  # seen on dark bars
        for artist in whiskers.get_children():
            artist.set_path_effects(halo)
    ax.set_yticks(np.arange(len(labels)), labels)   # by place: two shortened names may read alike
    ax.set_ylim(len(labels) - 0.5, -0.5)  # top to bottom, no margin above the first bar
    ax.set_xlim(0, 1)
    ax.set_xlabel(f"share of {of}", fontsize=CHART_TEXT + 0.5)
    ax.tick_params(labelsize=CHART_TEXT + 0.5)
    fig.suptitle(title, fontsize=CHART_TEXT + 1)   # over the whole width: the axes leave the labels room
    # under the axes, below the ticks and the axis label
    under = offset_copy(ax.transAxes, fig, y=-3.2 * (CHART_TEXT + 0.5), units="points")
    if listed:
        ax.legend(handles, entries + ([whisker_label] if whisker_label else []), title=of,
                  loc="upper center", bbox_to_anchor=(0.5, 0), bbox_transform=under,
                  fontsize=CHART_TEXT, title_fontsize=CHART_TEXT, ncol=columns, frameon=False,
                  columnspacing=1.0, handlelength=1.5)
    else:
        ax.text(0.5, 0, note, transform=under, ha="center", va="top", fontsize=CHART_TEXT)
    tight_layout(fig)
    axes_width = ax.get_position().width * CHART_WIDTH
    for bar, share, style, boxed in shares:   # a share written where it fits in its bar
        text = f"{share:.0%}"
        if share * axes_width >= text_width(text, CHART_TEXT) + 0.06:
            ax.text(bar.get_x() + bar.get_width() / 2,
                    bar.get_y() + bar.get_height() / 2 + text_y,
                    text, ha="center", va="center", fontsize=CHART_TEXT,
                    color=text_color(style["color"]),
                    bbox={"facecolor": style["color"], "edgecolor": "none", "pad": 0.6}
                    if boxed else None)
    return fig


def _levels_note(of: str, known: list[str], unknown: bool, ordered: bool) -> str:
    """What the colours of a chart of too many levels to list show: ``known`` levels of ``of``,
    one colour each (from the first, dark, to the last when ``ordered``), and grey hatching for
    ``unknown`` when there are rows without a value."""
    note = f"{of}: {len(known)} levels, one colour each"
    if ordered and known:
        note += f", from {known[0]} (dark) to {known[-1]}"
    return note + (f"; {UNKNOWN}: hatched grey" if unknown else "")


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
