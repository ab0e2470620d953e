"""Matching balance figures: the love plot, the before/after bar chart of attribute means and
the propensity-score histograms (overlap) before and after matching."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter
from matplotlib.transforms import offset_copy

from latentplay.errors import UserError
from latentplay.match import SMD_THRESHOLD
from latentplay.viz.plain import drawn_as_written
from latentplay.viz.style import (
    CHART_TEXT,
    CHART_WIDTH,
    LABEL_MOST,
    PAGE_WIDTH,
    fitted,
    readable_size,
    tight_layout,
    wrap_title,
)

MATCHED_ON_HEADING = "Matched on: {n} {what} (what the matching aims to balance)"
CHECKED_HEADING = ("Checked, not matched on: {n} {what}\n(not balanced by design: an imbalance here is "
                   "no failure of the matching)")
"""Headings of the two panels of :func:`love_plot` (``n`` rows, ``what`` covariate(s) or
attribute(s))."""
LEGEND_ROW = 0.22
"""Inches of a row of :func:`love_plot`'s legend under the figure."""
CHECKED_COLORS = ("0.45", "0.6")
"""Colours of the points before (hollow) and after (filled) of the attributes only checked:
grey, where the covariates matched on are red and blue."""


@drawn_as_written
def love_plot(
    names: Sequence[str],
    smd_before: np.ndarray,
    smd_after: np.ndarray,
    *,
    threshold: float = SMD_THRESHOLD,
    max_rows: int = 40,
    title: str = "Covariate balance",
    matched_on: np.ndarray | None = None,
) -> Figure:
    """|SMD| of each covariate before (hollow) and after (filled) matching, MatchIt-style.

    Args:
        names: ``p`` covariate names.
        smd_before, smd_after: ``(p,)`` standardized mean differences (NaN after: not shown;
            all NaN after, i.e. no pairs: no "after" entry, and the title says so).
        threshold: dashed reference line (0.1: a rule of thumb for balance, Austin 2009).
        max_rows: show at most this many covariates, the most imbalanced before or after
            matching (drawn in the order of their imbalance before); the title (of each panel)
            says how many were left out and how imbalanced they are at most.
        title: figure title (its lines are wrapped to the figure's width).
        matched_on: ``(p,)`` bool, True for a column the matching used; None: all. Columns
            only checked (False) get a panel of their own under the others, in grey and headed
            "not balanced by design", so that their imbalance is not taken for a failure of the
            matching; ``max_rows`` is then shared between the panels.

    Arrays that are not ``(p,)`` for the ``p`` names are refused (:class:`UserError`).
    """
    before = np.abs(np.asarray(smd_before, dtype=float))
    after = np.abs(np.asarray(smd_after, dtype=float))
    on = np.ones(len(names), bool) if matched_on is None else np.asarray(matched_on, dtype=bool)
    for arg, values in (("smd_before", before), ("smd_after", after), ("matched_on", on)):
        if values.shape != (len(names),):
            raise UserError(f"{arg}= must be (p,) = ({len(names)},) for the {len(names)} names, "
                            f"got shape {values.shape}")
    has_after = bool(np.isfinite(after).any())  # all NaN: no pairs (a caliper dropped every unit)
    if not has_after:
        title += "\n(no matched pairs: nothing to show after matching)"
    groups = [g for g in (np.flatnonzero(on), np.flatnonzero(~on)) if len(g)] or [np.flatnonzero(on)]
    quotas = _quotas([len(g) for g in groups], max_rows)
    picks = [_pick(g, before, after, k) for g, k in zip(groups, quotas, strict=True)]
    if matched_on is None or on.all():  # one panel, as MatchIt draws it
        shown, hidden = picks[0]
        fig, ax = plt.subplots(figsize=(CHART_WIDTH, 1.2 + LEGEND_ROW + 0.24 * max(len(shown), 1)))
        _love_panel(ax, names, before, after, shown, threshold, ("tab:red", "tab:blue"), has_after)
        ax.set_xlabel(_x_label(threshold), fontsize=CHART_TEXT + 0.5)
        ax.set_xlim(left=0)
        band = _legend_below(fig, [ax])
        tight_layout(fig, rect=(0, band, 1, 1))
        _wrapped_title(ax, title + _left_out(hidden, before, after, "covariate"))
        tight_layout(fig, rect=(0, band, 1, 1))
        return fig
    heights = [max(len(shown), 1) + 0.6 for shown, _ in picks]
    fig, axes = plt.subplots(len(picks), 1, sharex=True, squeeze=False,
                             figsize=(CHART_WIDTH, 2.2 + 2 * LEGEND_ROW + 0.24 * sum(heights)
                                      + 0.5 * len(picks)),
                             gridspec_kw={"height_ratios": heights})
    for ax, group, (shown, hidden) in zip(axes[:, 0], groups, picks, strict=True):
        matched = bool(on[group[0]])
        colors = ("tab:red", "tab:blue") if matched else CHECKED_COLORS
        _love_panel(ax, names, before, after, shown, threshold, colors, has_after)
        noun = "covariate" if matched else "attribute"
        heading = (MATCHED_ON_HEADING if matched else CHECKED_HEADING).format(
            n=len(group), what=noun + ("s" if len(group) > 1 else ""))
        ax.set_title(heading + _left_out(hidden, before, after, noun), fontsize=CHART_TEXT, loc="left",
                     color="black" if matched else "0.35")
        if not matched:
            ax.set_facecolor("0.96")
    axes[-1, 0].set_xlabel(_x_label(threshold), fontsize=CHART_TEXT + 0.5)
    axes[-1, 0].set_xlim(left=0)  # once all panels are drawn: the shared x axis holds every point
    width = fig.get_figwidth()
    fig.suptitle(wrap_title(title, width - 0.3, CHART_TEXT + 1), fontsize=CHART_TEXT + 1)
    band = _legend_below(fig, list(axes[:, 0]))
    tight_layout(fig, rect=(0, band, 1, 1))
    for ax in axes[:, 0]:  # headings start at the axes' left edge: wrap them to the room right of it
        room = (1 - ax.get_position().x0) * width - 0.15
        ax.set_title(wrap_title(ax.get_title(loc="left"), room, CHART_TEXT), fontsize=CHART_TEXT,
                     loc="left")
    tight_layout(fig, rect=(0, band, 1, 1))
    return fig


def _x_label(threshold: float) -> str:
    """The x axis's label, which says what its dashed line is."""
    return f"|standardized mean difference|\n(dashed: {threshold:g}, a rule of thumb for balance)"


def _legend_below(fig: Figure, axes: list[plt.Axes]) -> float:
    """One legend of the ``axes``' points under the figure, a row of before and after per
    panel (in a panel's corner it covered the points there, and a one-row panel has no free
    corner); the height it takes, as a share of the figure's."""
    handles, labels = [], []
    for ax in axes:
        found = ax.get_legend_handles_labels()
        handles += found[0]
        labels += found[1]
    fig.legend(handles, labels, loc="lower center", ncol=2, fontsize=CHART_TEXT, frameon=False)
    return (0.05 + LEGEND_ROW * len(axes)) / fig.get_figheight()


def _quotas(sizes: list[int], total: int) -> list[int]:
    """How many rows of groups of ``sizes`` rows to show: all of each when they fit in
    ``total``, else ``total`` shared out as evenly as the groups allow (a small group whole,
    the rest to the others; an odd row to the larger group, or the first of equal ones)."""
    quotas = [0] * len(sizes)
    left = total
    for done, k in enumerate(sorted(range(len(sizes)), key=lambda k: (sizes[k], -k))):
        quotas[k] = min(sizes[k], left // (len(sizes) - done))
        left -= quotas[k]
    return quotas


def _pick(group: np.ndarray, before: np.ndarray, after: np.ndarray, k: int
          ) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` rows of ``group`` (indices into the ``(p,)`` |SMD|s ``before`` and ``after``)
    most imbalanced before or after matching, bottom to top in the order of their imbalance
    before (the worst at the top), and the rows left out."""
    worst = np.fmax(before[group], after[group])
    picked = group[np.argsort(-np.nan_to_num(worst, nan=-1.0), kind="stable")[:k]]
    hidden = np.setdiff1d(group, picked)
    shown = picked[np.argsort(-np.nan_to_num(before[picked], nan=-1.0), kind="stable")][::-1]
    return shown, hidden


def _love_panel(
    ax: plt.Axes, names: Sequence[str], before: np.ndarray, after: np.ndarray, shown: np.ndarray,
    threshold: float, colors: tuple[str, str], has_after: bool,
) -> None:
    """Draw the |SMD|s of rows ``shown`` (indices into the ``(p,)`` ``before`` and ``after``),
    one row each: before hollow in ``colors[0]``, after filled in ``colors[1]`` (unless
    ``has_after`` is False), joined by a line, with the dashed ``threshold`` line."""
    y = np.arange(len(shown))
    which = "" if colors != CHECKED_COLORS else " (checked)"
    ax.scatter(before[shown], y, facecolors="none", edgecolors=colors[0], label=f"before{which}", zorder=3)
    if has_after:
        ax.scatter(after[shown], y, color=colors[1], label=f"after{which}", zorder=3)
    for i, j in enumerate(shown):
        if np.isfinite(before[j]) and np.isfinite(after[j]):
            ax.plot([before[j], after[j]], [i, i], color="0.8", lw=1, zorder=1)
    ax.axvline(threshold, color="0.4", ls="--", lw=1)
    ax.set_yticks(y, [fitted(names[j], LABEL_MOST, CHART_TEXT) for j in shown], fontsize=CHART_TEXT)
    ax.tick_params(axis="x", labelsize=CHART_TEXT)
    ax.set_ylim(-0.8, max(len(shown), 1) - 0.2)
    ax.grid(axis="x", alpha=0.3)


def _left_out(hidden: np.ndarray, before: np.ndarray, after: np.ndarray, noun: str) -> str:
    """The note that the rows ``hidden`` (each a ``noun``) are not shown, with their largest |SMD|
    before and after (``(p,)`` ``before``, ``after``); empty when none is hidden."""
    if len(hidden) == 0:
        return ""
    most = [f"{np.nanmax(side[hidden]):.3f} {when}" for side, when in
            ((before, "before"), (after, "after")) if np.isfinite(side[hidden]).any()]
    what = f"less imbalanced {noun}" + ("s" if len(hidden) > 1 else "")
    return (f"\n({len(hidden)} {what} not shown"
            + (f"; their |SMD| at most {', '.join(most)})" if most else ")"))


def _wrapped_title(ax: plt.Axes, title: str) -> None:
    """Set ``title`` over ``ax``, its lines wrapped to twice the room on the narrower side of
    the axes' centre (the title is centred over the axes)."""
    width = ax.figure.get_figwidth()
    box = ax.get_position()
    centre = (box.x0 + box.x1) / 2 * width
    ax.set_title(wrap_title(title, 2 * min(centre, width - centre) - 0.15, CHART_TEXT + 1),
                 fontsize=CHART_TEXT + 1)


SIDE_BY_SIDE = 6
"""Attributes up to which :func:`attribute_means` draws its two panels side by side (a page
wide: each attribute's pair of bars about 0.4 inch), above and below each other past it."""


@drawn_as_written
def attribute_means(
    names: Sequence[str],
    before: tuple[np.ndarray, np.ndarray],
    after: tuple[np.ndarray, np.ndarray],
    *,
    groups: tuple[str, str] = ("treated", "control"),
    title: str = "Attribute means before and after matching",
    sizes: tuple[tuple[str, str], tuple[str, str]] | None = None,
    ylabel: str = "mean",
    colors: tuple[Any, Any] = ("tab:orange", "tab:blue"),
) -> Figure:
    """Grouped bars of each attribute's mean in both groups, before and after matching (the
    Matching-in-GAN-space figure): after matching the two bars of an attribute should agree.

    Args:
        names: ``p`` attribute names (0/1 indicators show as proportions).
        before: ``(p,)`` means of (treated, control) in the full groups.
        after: ``(p,)`` means of (treated, control) in the matched sample (all NaN: no
            pairs, and the "after" panel says so).
        groups: legend names of the two groups.
        title: figure title.
        sizes: how many units each bar stands for, ``((treated, control) before, (treated,
            control) after)`` as text (``"n = 120"``), shown in the panel titles.
        ylabel: what the bars are (``"share (mean of 0/1)"`` for 0/1 attributes).
        colors: the colours of the two groups (the classes' own, as other figures draw them).
    """
    p = len(names)
    if p <= SIDE_BY_SIDE:  # side by side, as Matching in GAN-space draws it, a page wide
        width = PAGE_WIDTH
        fig, axes = plt.subplots(1, 2, figsize=(width, 3.8), sharey=True)
    else:  # many attributes: before above after, so the figure stays readable
        width = max(PAGE_WIDTH, 1.5 + 0.3 * p)
        fig, axes = plt.subplots(2, 1, figsize=(width, 6.8), sharey=True)
    text = readable_size(8.0, width)  # 6 pt or more printed a page wide
    x = np.arange(p)
    bar = 0.38
    panels = (("before matching", before), ("after matching", after))
    for i, (ax, (label, (mt, mc))) in enumerate(zip(axes, panels, strict=True)):
        if sizes is not None:
            label += f" ({groups[0]}: {sizes[i][0]}; {groups[1]}: {sizes[i][1]})"
        handles = [ax.bar(x - bar / 2, mt, bar, label=groups[0], color=colors[0]),
                   ax.bar(x + bar / 2, mc, bar, label=groups[1], color=colors[1])]
        ax.set_xticks(x, [fitted(n, LABEL_MOST, text) for n in names], rotation=45, ha="right",
                      fontsize=text)
        ax.tick_params(axis="y", labelsize=text)
        ax.set_xlim(-0.6, p - 0.4)
        ax.set_title(label, fontsize=text + 1)
        ax.axhline(0, color="0.3", lw=0.8)
        ax.grid(axis="y", alpha=0.3)
        if i == 0 or p > SIDE_BY_SIDE:  # side by side, the panels share the one on the left
            ax.set_ylabel(ylabel, fontsize=text + 0.5)
        if not (np.isfinite(mt).any() or np.isfinite(mc).any()):  # a caliper dropped every unit
            _no_pairs(ax)
    # by the bars, not their labels: a group named "_x" (a label matplotlib leaves out) keeps its entry
    fig.legend(handles, list(groups), loc="upper right", ncol=2, fontsize=text, frameon=False)
    title = wrap_title(title, width - 2.5, text + 2)  # left of the legend
    fig.suptitle(title, fontsize=text + 2, x=0.02, ha="left")  # the layout keeps the axes under it
    tight_layout(fig)
    for ax in axes:  # each panel's title (with its group sizes) broken to the panel's width
        room = ax.get_position().width * width
        ax.set_title(wrap_title(ax.get_title(), room, text + 1), fontsize=text + 1)
    tight_layout(fig)
    return fig


OVERLAP_WIDTH = 8.0
"""Inches of :func:`propensity_overlap`'s figure: its legends' 8 points print at 6.9 on a page."""


@drawn_as_written
def propensity_overlap(
    score: np.ndarray,
    treated: np.ndarray,
    weights: np.ndarray,
    *,
    groups: tuple[str, str] = ("treated", "control"),
    sizes: tuple[tuple[str, str], tuple[str, str]] | None = None,
    xlabel: str = "propensity score",
    weighted: bool = False,
    title: str = "Propensity score before and after matching",
    bins: int = 30,
    colors: tuple[Any, Any] = ("tab:orange", "tab:blue"),
) -> Figure:
    """Histograms of the propensity score in each group, before matching (all units) and after
    (the matched units, by their matching weights), on the same bins, mirrored (treated up,
    controls down, as MatchIt's ``plot(m, type = "histogram")``): where the groups overlap
    (common support), and how matching brought the controls' scores to the treated units'.

    Each group's bars are its share of units (after matching: of its matching weight), so
    groups of different sizes compare on one scale.

    Args:
        score: ``(n,)`` fitted P(treated | covariates) of all units.
        treated: ``(n,)`` bool.
        weights: ``(n,)`` matching weights (0: unmatched; all 0: no pairs, and the "after"
            panel says so).
        groups: legend names of the two groups.
        sizes: ``((treated, control) before, (treated, control) after)`` unit counts as text,
            shown in the legends.
        xlabel: what the score is.
        weighted: the matched units count by their (unequal) weights; the "after" axis says so.
        title: figure title.
        bins: number of bins over the range of all scores.
        colors: the colours of the two groups (the classes' own, as other figures draw them).
    """
    score = np.asarray(score, dtype=np.float64)
    treated = np.asarray(treated, dtype=bool)
    weights = np.asarray(weights, dtype=np.float64)
    lo, hi = float(score.min()), float(score.max())
    edges = np.linspace(lo, hi, bins + 1) if hi > lo else np.array([lo - 0.5, lo + 0.5])
    fig, axes = plt.subplots(1, 2, figsize=(OVERLAP_WIDTH, 4.4), sharex=True, sharey=True)
    xlabel = wrap_title(xlabel, OVERLAP_WIDTH / 2 - 0.6, 10)  # under its panel, not the other's
    panels = (("before matching", np.ones_like(weights)), ("after matching", weights))
    for i, (ax, (label, w)) in enumerate(zip(axes, panels, strict=True)):
        for side, (in_group, sign) in enumerate(((treated, 1.0), (~treated, -1.0))):
            wg = w[in_group]
            if wg.sum() <= 0:
                continue
            share = np.histogram(score[in_group], bins=edges, weights=wg / wg.sum())[0]
            name = groups[side] if sizes is None else f"{groups[side]} ({sizes[i][side]})"
            ax.bar(edges[:-1], sign * share, width=np.diff(edges), align="edge", label=name,
                   color=colors[side], edgecolor="white", linewidth=0.4)
        ax.axhline(0, color="0.3", lw=0.8)
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{abs(v):g}"))
        ax.set_title(label, fontsize=10)
        ax.set_xlabel(xlabel)
        unit = "weight" if i == 1 and weighted else "units"
        ax.set_ylabel(f"share of the group's {unit}\n({groups[0]} up, {groups[1]} down)")
        ax.grid(axis="y", alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            # under the axis label: inside the axes, bars spread over the whole range hid behind it
            below = -22 - 12 * (xlabel.count("\n") + 1)
            ax.legend(fontsize=8, ncol=2, frameon=False, loc="upper center", bbox_to_anchor=(0.5, 0),
                      bbox_transform=offset_copy(ax.transAxes, fig, y=below, units="points"))
        else:  # a caliper dropped every unit
            _no_pairs(ax)
    title = wrap_title(title, OVERLAP_WIDTH - 0.3, 11)
    fig.suptitle(title, fontsize=11)
    tight_layout(fig, rect=(0, 0, 1, 0.94 - 0.2 * title.count("\n") / fig.get_figheight()))
    return fig


def _no_pairs(ax: plt.Axes) -> None:
    """Say in the middle of the "after matching" panel ``ax`` that it has nothing to show."""
    ax.text(0.5, 0.5, "no matched pairs:\nnothing to show after matching", ha="center",
            va="center", transform=ax.transAxes, fontsize=9, color="0.4")
