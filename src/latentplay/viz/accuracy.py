"""The figure of ``latentplay audit accuracy``: how right the predictions are in each group."""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import offset_copy

from latentplay.audit.parity import odds_caveat
from latentplay.contingency import read_p
from latentplay.intervals import STUDENT, wilson_interval
from latentplay.outputs import gaps_text, p_text
from latentplay.viz.plain import drawn_as_written
from latentplay.viz.style import (
    legend_items,
    ordered_colors,
    qualitative_colors,
    row_note,
    text_width,
    tight_layout,
    wrap_title,
)

ALL_ROWS = "black"
"""The colour of all rows' reliability curve (dashed, as all rows' lines in the accuracy and
parity figures): no class colour is black, so the groups keep the colour-blind-safe classes'
colours (:func:`~latentplay.viz.style.qualitative_colors`)."""

DIAMOND = "#dd8452"
"""The colour of the diamonds on the accuracy and parity bars: orange on their blue."""


def accuracy_figures(summary: dict[str, Any]) -> dict[str, Figure]:
    """The figures of :func:`~latentplay.audit.accuracy.group_accuracy`'s summary by name:
    ``accuracy``, ``parity`` (with a positive class) and ``calibration`` (with confidences)."""
    out = {"accuracy": accuracy_bars(summary)}
    if "parity" in summary:
        out["parity"] = parity_figure(summary)
    if "calibration" in summary:
        out["calibration"] = calibration_figure(summary)
    return out


@drawn_as_written
def accuracy_bars(summary: dict[str, Any]) -> Figure:
    """Horizontal bars, one per group, of :func:`~latentplay.audit.accuracy.group_accuracy`'s
    summary: the accuracy with its 95 % interval and, where rows have no prediction, the
    accuracy over the rest as a diamond (classes), or the mean absolute error and
    the bias with theirs (values); the value over all rows is a dashed line. Bars start at 0
    (accuracy from 0 to 1); a group without a value (under 2 readings) has no bar, and a group
    whose rows went unread (values: ``no_reading``) keeps its place and says how many. The
    legend says what the intervals are drawn over (:func:`interval_note`)."""
    rows = [r for r in summary["groups"] if r.get("n") or r.get("no_reading")]
    labels = [f"{r['group']} (n={r['n']}" + (f", {r['no_reading']} unread)" if r.get("no_reading")
                                             else ")") for r in rows]
    overall = summary["overall"]
    values = summary["kind"] == "values"
    panels = [("mae", "mean absolute error"), ("bias", "bias (reading - label)")] if values \
        else [("accuracy", "accuracy")]
    # two panels 3.4 inches wide, not 5.2: the 11.9-inch figure printed its 8 pt text at 4.6 pt
    # on a page, the 8.3-inch one at 6.6
    panel = 5.2 if len(panels) == 1 else 3.4
    fig, axes = plt.subplots(1, len(panels), figsize=(panel * len(panels) + 1.5,
                                                      max(2.8, 1.3 + 0.42 * len(rows)) + 0.8),
                             squeeze=False)
    y = np.arange(len(rows))
    for ax, (key, title) in zip(axes[0], panels, strict=True):
        low_key, high_key = ("low", "high") if key == "accuracy" else (f"{key}_low",
                                                                       f"{key}_high")
        mid = _column(rows, key)                      # NaN (no bar) for a group without it
        err = np.abs(np.array([_column(rows, low_key), _column(rows, high_key)]) - mid)
        ax.barh(y, mid, color="#4c72b0", alpha=0.85)
        ax.errorbar(mid, y, xerr=err, fmt="none", ecolor="black", capsize=3,
                    label=interval_note(summary))
        if overall.get(key) is not None:
            ax.axvline(overall[key], color="black", ls="--", lw=1, label=f"all rows {overall[key]:.3f}")
        if key == "bias":
            ax.axvline(0, color="0.5", lw=0.8)
        if key == "accuracy" and any(r["no_prediction"] for r in rows):
            rest = [np.nan if r["accuracy_predicted"] is None else r["accuracy_predicted"]
                    for r in rows]
            ax.plot(rest, y, "D", color=DIAMOND, mec="black", ms=6,
                    label="over rows with a prediction")
        adjusted = summary.get("adjusted")
        if adjusted and key in ("accuracy", "mae"):
            _standardized(ax, rows, adjusted, y, key == "accuracy")
        if key == "accuracy":
            ax.set_xlim(0, 1.03)                      # bars from 0: their lengths compare
        for k in np.flatnonzero(np.isnan(mid)):
            row_note(ax, y[k], "no reading" if not rows[k]["n"] else "no value (under 2 rows)")
        ax.set_yticks(y, labels if ax is axes[0][0] else [""] * len(rows))
        ax.set_ylim(len(rows) - 0.5, -0.5)            # every group's place, the first on top
        ax.set_xlabel(title)
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, 0), fontsize=8, ncol=3 - len(panels),
                  frameon=False,
                  bbox_transform=offset_copy(ax.transAxes, fig, y=-32, units="points"))  # under
        # the axis label, off the bars
    across = summary.get("across") or {}
    note = ""
    if "chi2" in across:
        test = across["chi2"]
        note = (f"chi-square p {p_text(read_p(test))}"
                + (" (simulated: sparse cells)" if "p_value_simulated" in test else "")
                + _over_persons(test))
    trend = across.get("trend")
    if trend and "slope" in trend:
        note += (f"; |error| {trend['slope']:+.3g} per step [{trend['low']:+.3g}, "
                 f"{trend['high']:+.3g}]{gaps_text(trend.get('gaps'))}")
    elif trend:
        note += (f"; trend of errors r {trend['r']:+.3f}, p {p_text(trend['p_value'])}"
                 f"{_over_persons(trend)}{gaps_text(trend.get('gaps'))}")
    title = f"{summary['predicted']} against {summary['truth']} by {summary['by']}"
    title += f"\n{note.lstrip('; ')}" if note else ""
    fig.suptitle(wrap_title(title, fig.get_figwidth(), 10), fontsize=10)
    tight_layout(fig)
    return fig


def interval_note(summary: dict[str, Any], method: str | None = None) -> str:
    """What :func:`~latentplay.audit.accuracy.group_accuracy`'s intervals are drawn over:
    ``95 % interval over 200 persons (bootstrap)`` where the summary counts repeated
    ``persons``, else ``95 % interval over rows (Wilson)`` with the summary's ``intervals``
    (or ``method``, for an interval of another kind); just ``95 % interval`` for a summary
    that says neither."""
    if summary.get("persons"):
        return f"95 % interval over {summary['persons']} persons (bootstrap)"
    if "intervals" not in summary:
        return "95 % interval"
    return f"95 % interval over rows ({method or summary['intervals']})"


def _over_persons(test: dict[str, Any]) -> str:
    """`` (over persons 0.21)``: the test's p-value corrected for repeated persons, if any."""
    over = test.get("persons_test")
    return f" (over persons {p_text(over['p_value'])})" if over else ""


def _standardized(ax: plt.Axes, rows: list[dict[str, Any]], adjusted: dict[str, Any],
                  y: np.ndarray, accuracy: bool) -> None:
    """Each group's standardized value (accuracy: 1 - the standardized error) with its
    interval, as a hollow circle beside its bar."""
    by_group = {r["group"]: r for r in adjusted["groups"]}
    matched = [by_group[r["group"]] for r in rows]
    mid, low, high = (_column(matched, k) for k in ("standardized", "low", "high"))
    if accuracy:
        mid, low, high = 1 - mid, 1 - high, 1 - low
    ax.errorbar(mid, y + 0.25, xerr=[mid - low, high - mid], fmt="o", mfc="white",
                color="#55a868", capsize=2, ms=6,
                label=f"standardized over {', '.join(adjusted['covariates'])}")


CALIBRATION_WIDTH = 7.6
"""Inches of ``calibration.png``: its text (7 points and up) prints at 6 points or more on a
page (:data:`~latentplay.viz.style.PAGE_WIDTH`)."""


@drawn_as_written
def calibration_figure(summary: dict[str, Any]) -> Figure:
    """:func:`~latentplay.audit.accuracy.group_accuracy`'s ``calibration`` in two parts: a
    reliability diagram per group, five to a row (accuracy against mean confidence per
    confidence bin, with 95 % Wilson intervals, marker area by rows, all rows' curve dashed
    black; on the dotted diagonal a classifier is as sure as it is right), and under them each
    group's over-confidence (mean confidence minus accuracy) with its 95 % interval, its ECE
    and the ECE a calibrated classifier would reach by chance with its rows, beside the
    selective accuracy. Red: over-confident (the interval above 0), blue: under-confident,
    grey: neither shown. The titles say what the intervals are drawn over: the bins' over
    rows, even where photos repeat persons (then said), the over-confidence's over the
    persons where the summary counts them (:func:`interval_note`)."""
    cal = summary["calibration"]
    rows = [r for r in cal["groups"] if r.get("n")]
    cols = min(5, len(rows))
    grid = -(-len(rows) // cols)
    bars = 0.36 * len(rows) + 1.4      # inches: two-line labels of each group, the axis label
    reliability = CALIBRATION_WIDTH / max(cols, 4) * grid + 0.7   # square panels
    fig = plt.figure(figsize=(CALIBRATION_WIDTH, reliability + max(bars, 2.6) + 0.6),
                     layout="constrained")
    left, right = fig.subfigures(2, 1, height_ratios=[reliability, max(bars, 2.6) + 0.6])
    axes = left.subplots(grid, cols, sharex=True, sharey=True, squeeze=False)
    bins = [b for r in rows for b in r["bins"]]
    lowest = min(b["low"] for b in bins)
    largest = max(b["n"] for b in bins)
    overall = cal["overall"]["bins"]
    for ax, r in zip(axes.flat, rows, strict=False):
        ax.plot([0, 1], [0, 1], color="0.5", ls=":", lw=0.8)
        ax.plot([b["confidence"] for b in overall], [b["accuracy"] for b in overall],
                color=ALL_ROWS, ls="--", lw=1.2)
        x = np.array([b["confidence"] for b in r["bins"]])
        y = np.array([b["accuracy"] for b in r["bins"]])
        ci = np.array([wilson_interval(np.array([round(b["accuracy"] * b["n"])]), b["n"])[0]
                       for b in r["bins"]])
        colour = _sure(r)
        ax.errorbar(x, y, yerr=np.abs(ci.T - y), fmt="none", ecolor=colour, lw=0.8, capsize=2)
        ax.plot(x, y, "-", color=colour, lw=1)
        ax.scatter(x, y, s=[10 + 90 * b["n"] / largest for b in r["bins"]], color=colour,
                   edgecolor="black", lw=0.4, zorder=3)
        ax.set_title(f"{r['group']}: ECE {r['ece']:.3f}", fontsize=7)
        ax.tick_params(labelsize=7)
        ax.set_box_aspect(1)           # square, however tall the bars beside make the figure
    for ax in axes.flat[len(rows):]:
        ax.set_visible(False)
    axes[0, 0].set_xlim(lowest - 0.02, 1.02)
    axes[0, 0].set_ylim(-0.03, 1.03)
    left.supxlabel("confidence (mean per bin)", fontsize=9)
    left.supylabel("accuracy", fontsize=9)
    repeated = (f", the {summary['persons']} persons' photos taken as independent"
                if summary.get("persons") else "")
    left.suptitle(wrap_title("reliability per group (dashed black: all rows; the others coloured as "
                             "their over-confidence, below); bars: 95 % Wilson interval over "
                             f"rows{repeated}", CALIBRATION_WIDTH - 0.3, 9), fontsize=9)
    ax, curves = right.subplots(1, 2)
    y = np.arange(len(rows))
    mid = np.array([r["overconfidence"] for r in rows])
    err = np.nan_to_num(np.abs(np.array([_column(rows, "low"), _column(rows, "high")]) - mid))
    ax.barh(y, mid, xerr=err, color=[_sure(r) for r in rows], alpha=0.85, capsize=3)
    ax.axvline(0, color="black", lw=0.8)
    ax.xaxis.set_major_locator(MaxNLocator(5))
    ax.set_yticks(y, [f"{r['group']} (n={r['n']})\nECE {r['ece']:.3f} (chance "
                      f"{r['ece_null']:.3f})" for r in rows], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("over-confidence: mean confidence - accuracy\n(red: its interval above 0, "
                  "blue: below 0, grey: neither)", fontsize=9)
    note = ""
    trend = (cal.get("across") or {}).get("trend")
    if trend and np.isfinite(trend.get("slope", np.nan)):
        note = (f"\n{trend['slope']:+.3f} per step [{trend['low']:+.3f}, "
                f"{trend['high']:+.3f}]{gaps_text(trend.get('gaps'))}")
    right.suptitle(f"over-confidence of {summary['predicted']} by {summary['by']}\n"
                   f"error bars: {interval_note(summary, STUDENT)}{note}", fontsize=9)
    _selective_panel(curves, rows, cal.get("threshold"), bool(summary.get("ordered")),
                     summary["by"])
    return fig


def _selective_panel(ax: plt.Axes, rows: list[dict[str, Any]], threshold: float | None,
                     ordered: bool, by: str) -> None:
    """Each group's selective accuracy against coverage; with a threshold, each group's
    coverage and accuracy there as a diamond. Ordered groups of ``by`` take the ramp of ordered
    classes (skin colours for a skin scale); unordered groups take the class colours
    (:func:`~latentplay.viz.style.qualitative_colors`); the legend stands beside the axes,
    where it hides no curve."""
    colours = ordered_colors(len(rows), by) if ordered else qualitative_colors(len(rows))
    for r, colour in zip(rows, colours, strict=True):
        ax.plot([p["coverage"] for p in r["curve"]], [p["accuracy"] for p in r["curve"]],
                color=colour, lw=1.2, label=r["group"])
        chosen = r.get("selective")
        if chosen and chosen["accuracy"] is not None:
            ax.plot(chosen["coverage"], chosen["accuracy"], "D", color=colour, mec="black",
                    ms=5)
    ax.set_xlabel("coverage (most confident share answered)", fontsize=8)
    ax.set_ylabel("accuracy of those", fontsize=8)
    ax.set_title("selective accuracy" + ("" if threshold is None else
                                         f" (diamonds: confidence >= {threshold:g})"),
                 fontsize=8)
    ax.tick_params(labelsize=7)
    ax.legend(*legend_items(ax), fontsize=7, ncol=-(-len(rows) // 12), loc="upper left",
              bbox_to_anchor=(1.01, 1))


def _sure(row: dict[str, Any]) -> str:
    """A group's colour: red when over-confident (interval above 0), blue when under-confident,
    grey otherwise (the over-confidence panel's label says so)."""
    if row["low"] is None:
        return "0.4"
    return "#c44e52" if row["low"] > 0 else "#4c72b0" if row["high"] < 0 else "0.4"


PARITY_WIDTH = 7.5
"""Inches of the parity figure: its legends' 7 points print at 6.4 on a page."""


@drawn_as_written
def parity_figure(summary: dict[str, Any]) -> Figure:
    """Three panels of :func:`~latentplay.audit.accuracy.group_accuracy`'s ``parity``, a bar
    per group with its 95 % interval: the selection rate (the base rate as a diamond), the
    TPR and the FPR; all rows' value dashed; the parity differences in the title. A group
    without a rate (no rows of the positive class for the TPR, none of the others for the
    FPR) has a grey note in place of its bar; a panel of no rate at all, one note. The
    title says what the intervals are drawn over (:func:`interval_note`)."""
    parity = summary["parity"]
    rows = [r for r in parity["groups"] if r.get("n")]
    labels = [f"{r['group']} (n={r['n']})" for r in rows]
    positive = parity["positive"]
    panels = [("selection", f"selection: predicted {positive}", ""),
              ("tpr", f"TPR: of the {positive}, found", f"no rows that are {positive}"),
              ("fpr", f"FPR: of the others, predicted {positive}",
               f"no rows that are not {positive}")]
    # a page's width: the axis labels are wrapped to the panels
    panel = (PARITY_WIDTH - 0.5 - max(text_width(label, 10) for label in labels)) / 3 - 0.2
    panels = [(key, wrap_title(title, panel, 9), missing) for key, title, missing in panels]
    fig, axes = plt.subplots(1, 3, figsize=(PARITY_WIDTH, max(2.8, 1.3 + 0.42 * len(rows))),
                             sharey=True)
    y = np.arange(len(rows))
    for ax, (key, title, missing) in zip(axes, panels, strict=True):
        mid, low, high = (_column(rows, k) for k in (key, f"{key}_low", f"{key}_high"))
        ax.barh(y, np.nan_to_num(mid), xerr=np.nan_to_num(np.abs([mid - low, high - mid])),
                color="#4c72b0", alpha=0.85, capsize=3)
        overall = parity["overall"].get(key)
        if overall is not None:
            ax.axvline(overall, color="black", ls="--", lw=1, label=f"all rows {overall:.3f}")
        if key == "selection":
            ax.plot(_column(rows, "base_rate"), y, "D",
                    color=DIAMOND, mec="black", ms=6, label=f"base rate (truly {positive})")
        without = np.flatnonzero(np.isnan(mid))
        if len(without) == len(rows):
            ax.text(0.5, 0.5, f"{missing}:\nno {key.upper()} in any group", ha="center",
                    va="center", transform=ax.transAxes, fontsize=9, color="0.4")
        else:
            for k in without:
                row_note(ax, y[k], missing)
        ax.set_xlim(0, 1.02)
        ax.set_yticks(y, labels)
        ax.set_xlabel(title, fontsize=9)
        if ax.get_legend_handles_labels()[0]:
            below = -18 - 12 * (title.count("\n") + 1)   # under the axis label, off the bars
            ax.legend(loc="upper center", bbox_to_anchor=(0.5, 0), fontsize=7, frameon=False,
                      bbox_transform=offset_copy(ax.transAxes, fig, y=below, units="points"))
    axes[0].invert_yaxis()
    across = parity.get("across") or {}
    note = ", ".join(f"{name} {across[key]:.3f}" for key, name in (
        ("demographic_parity_difference", "demographic parity difference"),
        ("equal_opportunity_difference", "equal opportunity difference"),
        ("equalized_odds_difference", "equalized odds difference"))
        if across.get(key) is not None)
    if across.get("equalized_odds_difference") is not None:
        note += odds_caveat(across)
    fig.suptitle(wrap_title(f"{summary['predicted']} = {positive}, by {summary['by']}; error bars: "
                            f"{interval_note(summary)}" + (f"\n{note}" if note else ""),
                            PARITY_WIDTH - 0.3, 10), fontsize=10)
    tight_layout(fig)
    return fig


def _column(rows: list[dict[str, Any]], key: str) -> np.ndarray:
    """``(len(rows),)`` float values of ``key``, NaN where a row has None."""
    return np.array([r[key] for r in rows], dtype=float)
