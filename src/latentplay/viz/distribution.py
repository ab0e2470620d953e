"""Distributions: one attribute's count per class, and side by side (training vs generated):
grouped bars with interval whiskers for classes, heatmaps for the intersections of two
attributes, overlaid histograms for continuous values."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure

from latentplay.store.schema import UNKNOWN
from latentplay.viz.plain import drawn_as_written
from latentplay.viz.projection import class_colors
from latentplay.viz.style import (
    PAGE_WIDTH,
    SMALLEST_TEXT,
    fitted,
    legend_items,
    qualitative_colors,
    readable_size,
    text_color,
    text_width,
    tight_layout,
    unknown_bar_style,
    wrap_title,
)

FIRST_STYLE = {"color": "0.8", "edgecolor": "0.35", "linewidth": 0.8}
"""How the first series (the reference: training, the data store) is drawn: light grey,
outlined, lighter in greyscale than the colours of the others."""

PLAIN = 2
"""Series after the first drawn in colour alone: Okabe and Ito's blue and orange, apart in
greyscale from each other and from the first's light grey (each 0.16 or more in luma)."""

HATCHES = ("///", "...", "\\\\\\", "xxx", "---", "+++", "ooo", "|||")
"""The hatching of each series after the first :data:`PLAIN` coloured ones, in turn."""


def series_styles(m: int) -> list[dict[str, Any]]:
    """Keyword arguments of ``ax.bar`` for each of ``m`` series: the first
    :data:`FIRST_STYLE`, the others in :func:`~latentplay.viz.style.qualitative_colors`, told
    from the first and from each other by colour-blind readers too, and past :data:`PLAIN` of
    them each hatched its own way (:data:`HATCHES`), told apart in greyscale too. tab10's
    orange and green (the third and fourth series) were 1.3 CIEDE2000 apart to a protanope,
    the grey, blue and green of the first, second and fourth one grey on paper, and a sixth
    series took the first's grey."""
    return [dict(FIRST_STYLE)] + [
        {"color": c} if j < PLAIN else
        {"color": c, "hatch": HATCHES[(j - PLAIN) % len(HATCHES)], "edgecolor": "0.15", "linewidth": 0}
        for j, c in enumerate(qualitative_colors(max(m - 1, 0)))]


TICK_MOST = 1.5
"""Inches a class name under its bars takes at most: a longer one is shortened in its middle
(:func:`~latentplay.viz.style.fitted`), so that the bars keep their height."""


@drawn_as_written
def count_bars(classes: Sequence[str], counts: Sequence[float], title: str,
               xlabel: str = "") -> Figure:
    """Vertical bars of ``counts`` ``(K,)`` per class of ``classes`` ``(K,)`` (a store report's
    chart of one attribute); the class ``unknown`` (rows without a value) is hatched grey, as in
    every figure."""
    k = len(classes)
    fig, ax = plt.subplots(figsize=(min(max(4.0, 0.45 * k + 1.5), 9.0), 2.8))
    for i, (name, count) in enumerate(zip(classes, counts, strict=True)):
        style = unknown_bar_style() if name == UNKNOWN else {"color": "tab:blue"}
        ax.bar(i, count, **style)
    rotate = k > 6 or max((len(s) for s in classes), default=0) > 8
    ax.set_xticks(np.arange(k), [fitted(c, TICK_MOST, 7) for c in classes], rotation=40 if rotate else 0,
                  ha="right" if rotate else "center", fontsize=7)
    ax.set_ylabel("count", fontsize=8)
    ax.tick_params(axis="y", labelsize=7)
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    ax.set_title(title, fontsize=9)
    if xlabel:
        ax.set_xlabel(xlabel, fontsize=8)
    tight_layout(fig)
    return fig


SPANS_ALL = 0.95
"""An interval from at most ``1 - SPANS_ALL`` to at least ``SPANS_ALL`` bounds a share in no
useful way (a corrected share of a class the annotator confuses with others): it is drawn as a
faint dotted line running off the top, not as a whisker setting the axis to 0-1."""


LEGEND_ROW = 6.5
"""Inches the legend of :func:`distribution_bars` may be wide; its series take as many rows as
keep it so, and the figure about a page wide."""


@drawn_as_written
def distribution_bars(
    classes: Sequence[str],
    series: Mapping[str, tuple[np.ndarray, np.ndarray | None]],
    *,
    title: str = "",
    ylabel: str = "proportion",
    note: str = "",
) -> Figure:
    """Grouped bars, one group per class and one bar per series, with interval whiskers.

    Args:
        classes: ``K`` class names (x axis).
        series: label -> (``(K,)`` proportions, ``(K, 2)`` interval bounds or None), drawn in
            order (e.g. training, generated, generated corrected).
        title: figure title (the figures' numbers).
        ylabel: y-axis label.
        note: caveats, in grey under the legend (lines broken to the figure's width), the
            figure taller by their lines: in the title they left the bars a strip under ten
            lines of text.
    """
    k = len(classes)
    m = max(len(series), 1)
    width = 0.8 / m
    ncol, legend = _legend_columns([0.065 * len(label) + 0.6 for label in series])  # 8 pt
    lines = -(-m // ncol)
    figure_width = max(6.5, 1.0 + 0.2 * k * m, legend)
    title = wrap_title(title, figure_width - 0.6, 9) if title else title
    note = wrap_title(note, figure_width - 0.4, 8) if note else note
    notes = note.count("\n") + 1 if note else 0
    # the bars 3 inches high under the title's lines, above the legend's (about 0.2 inch each)
    # and the note's (0.15 inch each)
    fig, ax = plt.subplots(figsize=(figure_width, 3.6 + 0.2 * lines + 0.17 * title.count("\n")
                                    + 0.15 * notes))
    x = np.arange(k)
    top, unknowable = 0.0, False
    styles = series_styles(len(series))
    for i, (label, (props, ci)) in enumerate(series.items()):
        pos = x - 0.4 + width * (i + 0.5)
        props = np.asarray(props, float)
        err, top = None, max(top, float(np.nanmax(props, initial=0.0)))
        if ci is not None:
            ci = np.asarray(ci, float)
            whole = (ci[:, 0] <= 1 - SPANS_ALL) & (ci[:, 1] >= SPANS_ALL)
            err = np.clip(np.stack([props - ci[:, 0], ci[:, 1] - props]), 0, None)
            err[:, whole] = np.nan  # no whisker (nor caps at the bar's top)
            top = max(top, float(np.nanmax(ci[~whole, 1], initial=0.0)))
            if whole.any():  # a faint line off the top: no bound to draw
                ax.vlines(pos[whole], 0, 1, colors="0.55", linestyles=":", lw=0.9)
                unknowable = True
        ax.bar(pos, props, width, label=label, **styles[i], yerr=err, capsize=2,
               error_kw={"lw": 0.8, "ecolor": "0.2"})
    ax.set_xticks(x, [fitted(c, TICK_MOST, 8) for c in classes], rotation=30 if k > 4 else 0,
                  ha="right" if k > 4 else "center", fontsize=8)
    ax.set_ylabel(ylabel)
    ax.set_ylim(0, min(1.0, top * 1.12) if top > 0 else 1.0)
    ax.grid(axis="y", alpha=0.3)
    if title:   # broken to the figure's width: a long test line ran off both edges
        ax.set_title(title, fontsize=9)
    # the series in rows, then the faint intervals' meaning on a line of its own
    line = 0.2 / fig.get_figheight()  # a legend line, in figure heights
    below = (0.15 * notes + 0.05 * bool(note)) / fig.get_figheight()  # the note's lines
    band = 0.1 / fig.get_figheight() + line * lines  # the series' legend
    fig.legend(*legend_items(ax), loc="lower center", ncol=ncol, fontsize=8,
               frameon=False, bbox_to_anchor=(0.5, below + (1.5 * line if unknowable else 0.0)))
    if unknowable:
        fig.legend(ax.plot([], [], color="0.55", ls=":", lw=0.9),
                   ["95 % interval from about 0 to 1 (the annotator cannot tell this class apart)"],
                   loc="lower center", fontsize=8, frameon=False, bbox_to_anchor=(0.5, below))
    if note:
        fig.text(0.5, 0.01, note, ha="center", va="bottom", fontsize=8, color="0.3")
    tight_layout(fig, rect=(0, 0.02 + below + band + unknowable * 1.5 * line, 1, 1))
    return fig


def _legend_columns(widths: list[float]) -> tuple[int, float]:
    """The most columns a legend of entries ``widths`` inches wide (in order, filling each
    column before the next, the first columns one entry longer where they do not come out
    even, as matplotlib does) can take within :data:`LEGEND_ROW`, at least one, and the
    legend's width in inches then."""
    for ncol in range(len(widths), 1, -1):
        width = sum(column.max() for column in np.array_split(np.asarray(widths), ncol))
        if width <= LEGEND_ROW:
            return ncol, float(width)
    return 1, max(widths, default=0.0)


RATIO_LIMIT = 3.0
"""The intersections heatmap's colour scale of log2(generated / training) ends at +-this."""


@drawn_as_written
def intersection_heatmaps(
    rows: Sequence[str],
    cols: Sequence[str],
    training: np.ndarray,
    generated: np.ndarray,
    *,
    generated_label: str = "generated",
    reference_label: str = "training",
    title: str = "",
    generated_name: str = "generated",
    generated_ci: np.ndarray | None = None,
    ratio_ci: np.ndarray | None = None,
) -> Figure:
    """Three heatmaps over the intersections of two attributes: the shares of the data compared
    with (``training``), the generated shares and log2 of their ratio (blue: the generator draws
    the intersection less often than the data has it, red: more; absent from the data: hatched).
    Side by side where their numbers print at :data:`~latentplay.viz.style.SMALLEST_TEXT` or
    more once the figure is scaled to :data:`~latentplay.viz.style.PAGE_WIDTH`, else one above
    the other: three panels of three columns with intervals side by side printed them at 5.2
    points, of nine at 2.0.

    Args:
        rows, cols: the ``R`` and ``C`` classes of the two attributes.
        training, generated: ``(R, C)`` shares of each intersection (each summing to 1).
        generated_label: what the generated shares are (annotated, corrected, ...).
        reference_label: what the ``training`` shares are (the store's name).
        title: figure title.
        generated_name: the ``generated`` side in the ratio panel's title (``generated``, or
            the folder of audited images that no generator drew).
        generated_ci: ``(R, C, 2)`` 95 % intervals of the generated shares, or None: given,
            each generated share is written with its interval.
        ratio_ci: ``(R, C, 2)`` intervals of the ratios that hold for all intersections
            together (:class:`~latentplay.audit.share_ratio.ShareRatios`), or None. Given,
            each ratio is written with its interval, and a ratio whose interval spans 1 (log2
            0: the data's share) is left white: a corrected share of 0 whose interval reaches
            0.4 is no "-inf", only a share the audit cannot pin down.
    """
    training, generated = np.asarray(training, float), np.asarray(generated, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.log2(generated / training)
        bounds = None if ratio_ci is None else np.log2(np.asarray(ratio_ci, float))
    ratio = np.where(training > 0, ratio, np.nan)
    shown_ratio = np.clip(ratio, -RATIO_LIMIT, RATIO_LIMIT)
    if bounds is not None:  # undetermined direction: white
        shown_ratio = np.where((bounds[..., 0] <= 0) & (bounds[..., 1] >= 0), 0.0, shown_ratio)
    cells = int((training > 0).sum())
    ratio_name = f"log2({generated_name} / {reference_label})" + (
        "" if bounds is None else
        f"\nwhite: its interval spans 0\n(95 % for all {cells} together)")
    top = float(max(training.max(), generated.max(), 1e-9))
    panels = ((training, f"{reference_label} shares", "Greys", 0.0, top),
              (generated, f"{generated_label} shares", "Greys", 0.0, top),
              (shown_ratio, ratio_name, "RdBu_r", -RATIO_LIMIT, RATIO_LIMIT))

    def cell_text(k: int, i: int, j: int) -> str:
        text = _ratio_text(ratio[i, j]) if k == 2 else f"{panels[k][0][i, j]:.3f}"
        if k == 1 and generated_ci is not None:
            text += f"\n[{generated_ci[i, j, 0]:.2f}, {generated_ci[i, j, 1]:.2f}]"
        if k == 2 and bounds is not None:
            text += f"\n[{_ratio_text(bounds[i, j, 0])}, {_ratio_text(bounds[i, j, 1])}]"
        return text

    texts = {(k, i, j): cell_text(k, i, j) for k in range(3)
             for (i, j), value in np.ndenumerate(panels[k][0]) if not np.isnan(value)}
    per_point = max((text_width(line, 1.0) for t in texts.values() for line in t.split("\n")),
                    default=0.0)   # inches of the widest line of a number at 1 point
    lines = 2 if generated_ci is not None or bounds is not None else 1
    fig = _heatmap_panels(rows, cols, panels, texts, per_point, lines, title, across=3)
    if _printed_numbers(fig) < SMALLEST_TEXT - 1e-6:   # side by side they print too small
        plt.close(fig)
        fig = _heatmap_panels(rows, cols, panels, texts, per_point, lines, title, across=1)
    return fig


@drawn_as_written
def _heatmap_panels(rows: Sequence[str], cols: Sequence[str], panels: Sequence[tuple[Any, ...]],
                    texts: Mapping[tuple[int, int, int], str], per_point: float, lines: int,
                    title: str, across: int) -> Figure:
    """:func:`intersection_heatmaps`' figure: its three ``panels`` (values ``(R, C)``, title,
    colour map, scale's ends) side by side (``across`` 3) or one above the other (1), each
    cell's number ``texts[panel, row, column]`` (``lines`` lines, the widest ``per_point``
    inches at 1 point)."""
    size, width = _cell_size(per_point, len(cols), across)
    heading, tick = readable_size(9, width), readable_size(8, width)   # the titles', the scales'
    if across == 3:
        height = 1.6 + 0.42 * len(rows) * (1.5 if lines > 1 else 1.0)
    else:    # each row as tall as its lines of numbers and a margin, no taller
        height = 0.6 + 3 * (1.0 + len(rows) * (lines * 1.4 * size / 72 + 0.12))
    fig, axes = plt.subplots(3 // across, across, figsize=(width, height), squeeze=False)
    for k, (ax, (values, name, cmap, low, high)) in enumerate(zip(axes.flat, panels, strict=True)):
        shown = ax.imshow(values, cmap=cmap, vmin=low, vmax=high, aspect="auto")
        ax.set_title(wrap_title(name, width / across - 0.4, heading), fontsize=heading)
        ax.set_xticks(range(len(cols)), list(cols), rotation=45 if len(cols) > 3 else 0,
                      ha="right" if len(cols) > 3 else "center", fontsize=readable_size(7, width))
        ax.set_yticks(range(len(rows)), list(rows), fontsize=readable_size(8, width))
        fig.colorbar(shown, ax=ax, fraction=0.046, pad=0.03).ax.tick_params(labelsize=tick)
        for (i, j), value in np.ndenumerate(values):
            if np.isnan(value):
                ax.add_patch(plt.Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, hatch="//",
                                           color="0.6", lw=0))
                continue
            ax.text(j, i, texts[k, i, j], ha="center", va="center", fontsize=size,
                    color=text_color(shown.cmap(shown.norm(value))))
    if title:
        fig.suptitle(wrap_title(title, width - 0.8, heading), fontsize=heading,
                     y=1 - 0.1 / height)   # 2 % of a tall figure: more than the layout leaves
    tight_layout(fig)
    # the labels and scales took more room than foreseen: numbers as large as their cells hold
    cell = min(ax.get_position().width for ax in axes.flat) * width / len(cols)
    if per_point * size > cell - 0.06:
        for text in (t for ax in axes.flat for t in ax.texts):
            text.set_fontsize((cell - 0.06) / per_point)
    return fig


def _printed_numbers(fig: Figure) -> float:
    """Points of the smallest cell number of :func:`_heatmap_panels`' ``fig`` once the figure
    is scaled to :data:`~latentplay.viz.style.PAGE_WIDTH`."""
    smallest = min((t.get_fontsize() for ax in fig.axes for t in ax.texts), default=float("inf"))
    return smallest * PAGE_WIDTH / float(fig.get_figwidth())


def _cell_size(per_point: float, columns: int, across: int) -> tuple[float, float]:
    """The points of :func:`intersection_heatmaps`' cell numbers (the widest line of them
    ``per_point`` inches wide at 1 point) and the inches of the figure of ``across`` panels
    side by side of ``columns`` columns each, its cells as wide as that line: numbers that
    print at :data:`~latentplay.viz.style.SMALLEST_TEXT` once the figure is scaled to a page,
    where that converges (wider cells make a wider figure, which asks larger numbers); with
    more columns, that size on the figure itself. At 5 points on a 9-inch figure they printed
    at 3.8."""
    size = SMALLEST_TEXT
    converges = across * columns * per_point * SMALLEST_TEXT / PAGE_WIDTH < 0.9
    for _ in range(20 if converges else 0):
        size = readable_size(SMALLEST_TEXT,
                             across * (1.2 + max(0.55, per_point * size + 0.1) * columns))
    width = across * (1.2 + max(0.55, per_point * size + 0.1) * columns)
    return (readable_size(SMALLEST_TEXT, width) if converges else size), width


def _ratio_text(value: float) -> str:
    """A log2 ratio as ``+0.4``, ``-∞`` or ``+∞``."""
    return f"{value:+.1f}" if np.isfinite(value) else ("-∞" if value < 0 else "+∞")


@drawn_as_written
def value_histograms(
    samples: Mapping[str, np.ndarray],
    *,
    title: str = "",
    xlabel: str = "",
    bins: int = 40,
) -> Figure:
    """Overlaid density histograms of one continuous quantity, on shared bins.

    Args:
        samples: label -> ``(n,)`` finite values (e.g. training, generated), drawn in order.
        title: figure title.
        xlabel: the quantity and its unit.
        bins: number of bins over the span of all values.
    """
    values = [np.asarray(v, float) for v in samples.values()]
    lo = min(float(v.min()) for v in values if len(v))
    hi = max(float(v.max()) for v in values if len(v))
    edges = np.linspace(lo, hi if hi > lo else lo + 1.0, bins + 1)
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    for style, (label, v) in zip(series_styles(len(samples)), samples.items(), strict=True):
        line = style.get("edgecolor", style["color"])   # the first's light grey outlined darker
        ax.hist(v, bins=edges, density=True, facecolor=to_rgba(style["color"], 0.45), edgecolor=line,
                histtype="stepfilled", label=f"{label} (n={len(v):,})")
        ax.axvline(float(np.median(v)), color=line, lw=1.2, ls="--")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("density")
    ax.grid(axis="y", alpha=0.3)
    if title:
        ax.set_title(title, fontsize=9)
    handles, labels = legend_items(ax)
    fig.legend(handles, [*labels[:-1], labels[-1] + "; dashed lines: medians"] if labels else [],
               loc="lower center", ncol=len(labels) or 1, fontsize=8, frameon=False)
    tight_layout(fig, rect=(0, 0.07, 1, 1))
    return fig


PANELS_FROM = 9
"""From this many classes on, :func:`shares_by_setting` draws a panel per class: twenty lines
of shares near 0.05 on one axes (gender x skin tone) could not be told apart."""

PANEL_COLUMNS = 4
PANEL_WIDTH = 1.7
"""Inches of a panel of :func:`shares_by_setting`: four a row fit a page's width, so that its
7 pt ticks print at 7 pt (five 2.1-inch panels printed them at 4.6)."""


@drawn_as_written
def shares_by_setting(
    settings: Sequence[float],
    classes: Sequence[str],
    shares: np.ndarray,
    intervals: np.ndarray,
    reference: np.ndarray | None = None,
    *,
    title: str = "",
    xlabel: str = "truncation ψ",
    reference_label: str = "reference",
    marked: np.ndarray | None = None,
    marked_label: str = "",
    ordered: bool = False,
    attribute: str | None = None,
) -> Figure:
    """Class shares ``(S, K)`` at each of ``S`` settings (a line per class, its ``(S, K, 2)``
    interval as a band), the strongest setting on the right (settings decreasing), and each
    class's ``reference`` share ``(K,)`` (the ``--data`` store's, named ``reference_label``:
    it need not be the training set) as a dotted line. The share axis runs from 0 to a little
    above the highest share, interval or reference. Up to :data:`PANELS_FROM` - 1 classes
    share one axes, each in the colour it has in every figure of the classes of ``attribute``
    (:func:`~latentplay.viz.projection.class_colors`: the ramp of ``ordered`` classes, skin
    colours for a skin scale) named in a legend beside it; more (joint
    classes run to dozens) get a panel each, named above it, on one share axis. ``marked``
    ``(S, K)`` bool rings the points it marks, said by ``marked_label`` (in the legend, or
    the caption of the panels)."""
    x = np.asarray(settings, float)
    shares, intervals = np.asarray(shares, float), np.asarray(intervals, float)
    rings = np.zeros(shares.shape, bool) if marked is None else np.asarray(marked, bool)
    highest = max(float(np.nanmax(intervals)), float(np.nanmax(shares)),
                  0.0 if reference is None else float(np.max(reference)))
    top = min(1.0, np.ceil(1.1 * highest * 20) / 20) if highest > 0 else 1.0
    dotted = f"dotted: {reference_label}" if reference is not None else None
    if len(classes) < PANELS_FROM:
        fig, ax = plt.subplots(figsize=(8.6, 4.2))
        colors = class_colors(len(classes), ordered, classes, attribute)
        for k, (name, color) in enumerate(zip(classes, colors, strict=True)):
            _share_line(ax, x, shares[:, k], intervals[:, k], color, name,
                        None if reference is None else reference[k], rings[:, k])
        ax.set_xlabel(xlabel)
        ax.set_ylabel("share of samples")
        if rings.any():
            ax.plot([], [], "o", mfc="none", mec="black", ms=8, label=wrap_title(marked_label, 1.9, 8))
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1), title=dotted,
                  title_fontsize=8)
        axes = [ax]
        ax.set_title(wrap_title(title, 7.4, 10), fontsize=10)
    else:
        cols = PANEL_COLUMNS
        rows = -(-len(classes) // cols)
        fig, grid = plt.subplots(rows, cols, figsize=(PANEL_WIDTH * cols, 1.55 * rows + 1.0),
                                 sharex=True, sharey=True, squeeze=False)
        axes = list(grid.flat)
        for k, name in enumerate(classes):
            _share_line(axes[k], x, shares[:, k], intervals[:, k], "C0", None,
                        None if reference is None else reference[k], rings[:, k])
            axes[k].set_title(name, fontsize=8)
            axes[k].tick_params(labelsize=7)
        for ax in axes[len(classes):]:
            ax.set_visible(False)
        for r in range(rows):
            grid[r, 0].set_ylabel("share", fontsize=8)
        for k in range(max(0, len(classes) - cols), len(classes)):
            axes[k].set_xlabel(xlabel, fontsize=8)
            axes[k].xaxis.set_tick_params(labelbottom=True)
        caption = "\n".join(t for t in (title, f"line: share of samples; {dotted}" if dotted
                                        else "", marked_label if rings.any() else "") if t)
        fig.suptitle(wrap_title(caption, fig.get_figwidth() - 0.4, 10), fontsize=10)
    for ax in axes:
        ax.set_xlim(x.max() + 0.02, x.min() - 0.02)  # weaker to stronger, left to right
        ax.set_ylim(0, top)
        ax.grid(alpha=0.3)
    tight_layout(fig)
    return fig


def _share_line(ax: plt.Axes, x: np.ndarray, share: np.ndarray, interval: np.ndarray,
                color: object, label: str | None, reference: float | None,
                ringed: np.ndarray) -> None:
    """One class's shares ``(S,)`` over the settings ``x`` with their ``(S, 2)`` band, its
    reference share dotted, and a ring around the ``(S,)`` points ``ringed`` marks."""
    ax.plot(x, share, "o-", color=color, label=label, ms=3)
    if ringed.any():
        ax.plot(x[ringed], share[ringed], "o", mfc="none", mec=color, ms=8, mew=1.3)
    ax.fill_between(x, interval[:, 0], interval[:, 1], color=color, alpha=0.15, lw=0)
    if reference is not None:
        ax.axhline(reference, color=color, ls=":", lw=1)
