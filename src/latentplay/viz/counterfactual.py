"""The figure of ``latentplay audit counterfactual``: a classifier's answers on faces edited
in one attribute."""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from latentplay.viz.plain import drawn_as_written
from latentplay.viz.style import legend_items, qualitative_colors, tight_layout, wrap_title

ALL = "all faces"

PANEL = (4.0, 3.3)
"""Inches of one panel of ``counterfactual.png``: two a row, scaled to a page's width, print its
smallest text (7 points) at 6."""


@drawn_as_written
def sensitivity_figure(summary: dict[str, Any]) -> Figure:
    """Panels of :func:`~latentplay.audit.counterfactual_run.audit_counterfactual`'s summary
    against the step of the edit (numbers, or the classes a condition is set to): the flip
    rate per group (all faces in black, Wilson 95 % bands; the random directions' rate dashed
    grey), the mean probability of each class (for a reader of values instead: the mean change
    of the reading per group, and its mean absolute change beside the random directions'),
    for each check annotator the share of faces it reads as each of its classes (a check of
    values: its mean reading), and with an identity check the similarity of the edited faces
    to the unedited ones."""
    shares = summary.get("check_shares") or []
    checked = list(dict.fromkeys(r["attribute"] for r in shares))
    means = summary.get("check_means") or []
    valued = list(dict.fromkeys(r["attribute"] for r in means))
    ordered = bool(summary.get("ordered"))
    identity = summary.get("identity")
    panels = 2 + ordered + len(checked) + len(valued) + bool(identity)
    cols = 2  # two panels a row: a page's width
    rows = -(-panels // cols)
    fig, grid = plt.subplots(rows, cols, figsize=(PANEL[0] * cols, 0.5 + PANEL[1] * rows), squeeze=False)
    axes = grid.ravel()
    for ax in axes[panels:]:
        ax.set_visible(False)
    classified = summary["classifier"]["attribute"]
    edit = summary["edit"]
    x = Steps(summary["steps"], summary.get("positions"), edit["unit"])
    if summary.get("kind") == "values":
        _group_means(axes[0], x, summary["changes"], "change",
                     f"mean change of the {classified} reading",
                     f"which way the reading moves (95% intervals), by {summary['groups_by']}")
        _absolute(axes[1], x, summary["changes"], classified)
    else:
        _flips(axes[0], x, summary["flips"], summary["groups_by"])
        _probabilities(axes[1], x, summary["probabilities"], classified)
    if ordered:
        _group_means(axes[2], x, summary["flips"], "shift",
                     f"mean change of the {classified} class read (classes)",
                     f"along the classes' order (+: later), by {summary['groups_by']}")
    roles = {classified: "held? another reader", edit["attribute"]: "the edit itself"}
    for ax, name in zip(axes[2 + ordered:], checked, strict=False):
        _checks(ax, x, [r for r in shares if r["attribute"] == name], name, roles.get(name))
    for ax, name in zip(axes[2 + ordered + len(checked):], valued, strict=False):
        mine = [dict(r, low=r["mean_low"], high=r["mean_high"]) for r in means
                if r["attribute"] == name and r["mean_low"] is not None]
        _line(ax, x, mine, "mean", "all faces", "black", 2.2)
        x.axis(ax)
        ax.set_ylabel(f"mean {name} reading")
        ax.set_title(f"{roles.get(name, 'another attribute')}: {name} as a check reads it "
                     "(95% intervals)", fontsize=9)
    if identity:
        _identity(axes[panels - 1], x, identity)
    n = len(summary["rows"])
    agreement = summary.get("reconstruction_agreement")
    sub = f"{n} faces; steps: {edit['unit']}"
    if edit["kind"] == "direction":
        sub = f"{n} faces, steps in SDs of the codes along the {edit['along']}"
    if agreement is not None:
        sub += f"; same class on the face and its decoding: {agreement:.0%}"
    gap = summary.get("reconstruction_difference")
    if gap:
        sub += (f"; decoding minus face {gap['mean']:+.3g} on average "
                f"({gap['mean_absolute']:.3g} absolute)")
    fig.suptitle(wrap_title(f"{classified} read on faces {edit['text']}\n{sub}", PANEL[0] * cols - 0.2, 10),
                 fontsize=10)
    for ax in axes[:panels]:  # each panel's words broken to its width and height
        ax.set_title(wrap_title(ax.get_title(), PANEL[0] - 0.8, 9), fontsize=9)
        ax.set_ylabel(wrap_title(ax.get_ylabel(), PANEL[1] - 0.8, 9), fontsize=9)
    tight_layout(fig)
    return fig


class Steps:
    """Where each step goes on the x axis: its number, or its place among class names."""

    def __init__(self, labels: list[str], positions: list[float] | None, unit: str) -> None:
        self.index = {label: k for k, label in enumerate(labels)}
        self.values = positions if positions is not None else list(range(len(labels)))
        self.labels, self.named, self.unit = labels, positions is None, unit

    def of(self, rows: list[dict[str, Any]]) -> np.ndarray:
        """``(len(rows),)`` x positions of the rows' ``step`` labels."""
        return np.array([self.values[self.index[r["step"]]] for r in rows], float)

    def axis(self, ax: Axes) -> None:
        """Label the x axis (class names as ticks when the steps are classes)."""
        if self.named:
            ax.set_xticks(self.values, self.labels, rotation=30 if len(self.labels) > 4 else 0,
                          ha="right" if len(self.labels) > 4 else "center", fontsize=8)
        ax.set_xlabel(f"step ({self.unit})")


def _flips(ax: Axes, x: Steps, rows: list[dict[str, Any]], grouped: str) -> None:
    _per_group(ax, x, rows, "rate", "low", "high")
    everyone = [r for r in rows if r["group"] == ALL]
    if "random_rate" in everyone[0]:
        ax.plot(x.of(everyone), [r["random_rate"] for r in everyone], "--",
                color="0.45", lw=1.6, label="random directions, all faces")
    ax.set_ylim(-0.02, 1.02)
    x.axis(ax)
    ax.set_ylabel("share of faces whose class changed")
    ax.set_title(f"class changes, by {grouped}", fontsize=9)
    _legend(ax)


def _group_means(ax: Axes, x: Steps, rows: list[dict[str, Any]], key: str, ylabel: str,
                 title: str) -> None:
    """A signed mean per step (``key`` with ``key_low`` / ``key_high``) for every group and
    all faces (black), around a zero line."""
    _per_group(ax, x, rows, key, f"{key}_low", f"{key}_high")
    ax.axhline(0, color="0.5", lw=0.8)
    x.axis(ax)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=9)
    _legend(ax)


def _per_group(ax: Axes, x: Steps, rows: list[dict[str, Any]], key: str, low: str,
               high: str) -> None:
    """``key`` per step with its interval (``low`` / ``high``) for every group, then all faces
    in black; rows without an interval are left out."""
    groups = [g for g in dict.fromkeys(r["group"] for r in rows) if g != ALL]
    colours = qualitative_colors(len(groups))
    for k, group in enumerate([*groups, ALL]):
        mine = [dict(r, low=r[low], high=r[high]) for r in rows
                if r["group"] == group and r.get(low) is not None]
        if mine:
            _line(ax, x, mine, key, f"{group} (n={mine[-1]['n']})",
                  "black" if group == ALL else colours[k], 2.2 if group == ALL else 1.4,
                  _dodge(k, len(groups) + 1))


def _absolute(ax: Axes, x: Steps, rows: list[dict[str, Any]], attribute: str) -> None:
    everyone = [r for r in rows if r["group"] == ALL and r.get("abs_change") is not None]
    ax.plot(x.of(everyone), [r["abs_change"] for r in everyone], "o-" if not x.named else "o",
            color="black", lw=2.2, label="along the edit")
    if everyone and "random_abs_change" in everyone[0]:
        ax.plot(x.of(everyone), [r["random_abs_change"] for r in everyone], "--", color="0.45",
                lw=1.6, label="random directions")
    x.axis(ax)
    ax.set_ylabel(f"mean absolute change of the {attribute} reading")
    ax.set_title("how far the reading moves, all faces", fontsize=9)
    _legend(ax)


def _identity(ax: Axes, x: Steps, identity: dict[str, Any]) -> None:
    """Similarity to the unedited decoding per step (all faces, 95 % band), the random
    directions' (dashed), and the levels of two different faces and of a face and its
    decoding (dotted)."""
    everyone = [r for r in identity["table"] if r["group"] == ALL and r["similarity"] is not None]
    _line(ax, x, everyone, "similarity", "along the edit", "black", 2.2)
    if everyone and everyone[0].get("random_similarity") is not None:
        ax.plot(x.of(everyone), [r["random_similarity"] for r in everyone], "--", color="0.45",
                lw=1.6, label="random directions")
    if identity["between"] is not None:
        ax.axhline(identity["between"], color="#c44e52", ls=":", lw=1.4,
                   label=f"different faces ({identity['between']:.2f})")
    if identity.get("reconstruction") is not None:
        ax.axhline(identity["reconstruction"], color="#4c72b0", ls=":", lw=1.4,
                   label=f"a face and its decoding ({identity['reconstruction']:.2f})")
    x.axis(ax)
    ax.set_ylabel(f"cosine similarity ({identity['embedder']})")
    ax.set_title("the person kept? similarity to the unedited face", fontsize=9)
    _legend(ax)


def _probabilities(ax: Axes, x: Steps, rows: list[dict[str, Any]], attribute: str) -> None:
    names = list(dict.fromkeys(r["class"] for r in rows))
    colours = qualitative_colors(len(names))
    for k, name in enumerate(names):
        _line(ax, x, [r for r in rows if r["class"] == name], "mean", name, colours[k],
              1.4, _dodge(k, len(names)))
    ax.set_ylim(-0.02, 1.02)
    x.axis(ax)
    ax.set_ylabel(f"mean probability ({attribute})")
    ax.set_title("the classifier's probabilities (95% intervals)", fontsize=9)
    _legend(ax)


def _legend(ax: Axes) -> None:
    """A panel's legend, in two columns past five entries."""
    handles, labels = legend_items(ax)
    ax.legend(handles, labels, fontsize=7, ncol=1 + (len(handles) > 5))


def _checks(ax: Axes, x: Steps, rows: list[dict[str, Any]], attribute: str,
            role: str | None) -> None:
    names = list(dict.fromkeys(r["class"] for r in rows))
    colours = (plt.get_cmap("viridis")(np.linspace(0, 1, len(names))) if len(names) > 10
               else qualitative_colors(len(names)))
    for k, name in enumerate(names):
        mine = [r for r in rows if r["class"] == name]
        if max(r["share"] for r in mine) == 0:
            continue
        ax.plot(x.of(mine), [r["share"] for r in mine], "o" if x.named else "o-", ms=4,
                color=colours[k], label=name)
    # shares fill the whole height (an edit drives its own attribute's share to 1, at the
    # top), so no corner is free of them: the legend has a band of its own above 1
    entries = len(legend_items(ax)[0])
    columns = max(1, min(entries, 5))
    legend_rows = -(-entries // columns)
    ax.set_ylim(-0.02, 1.06 + 0.09 * legend_rows)
    ax.set_yticks(np.linspace(0, 1, 6))
    x.axis(ax)
    ax.set_ylabel(f"share read as each class of {attribute}")
    ax.set_title(f"{role + ': ' if role else ''}{attribute} as a check reads it", fontsize=9)
    ax.legend(*legend_items(ax), fontsize=7, loc="upper center", ncol=columns, frameon=False,
              borderaxespad=0.2, columnspacing=1.2)


def _dodge(k: int, count: int) -> float:
    """Horizontal offset of series ``k`` of ``count`` at a class step, so points side by
    side do not hide each other."""
    return 0.12 * (k - (count - 1) / 2) if count > 1 else 0.0


def _line(ax: Axes, x: Steps, rows: list[dict[str, Any]], key: str, label: str, colour: Any,
          width: float, dodge: float = 0.0) -> None:
    """A value per step with its interval: a line and band over numeric steps, points with
    error bars over classes (moved ``dodge`` sideways)."""
    steps, mid = x.of(rows), np.array([r[key] for r in rows])
    low, high = np.array([r["low"] for r in rows]), np.array([r["high"] for r in rows])
    if x.named:
        ax.errorbar(steps + dodge, mid, yerr=[mid - low, high - mid], fmt="o",
                    ms=5 if width > 2 else 4,
                    color=colour, capsize=3, label=label)
        return
    ax.plot(steps, mid, "o-", ms=3, color=colour, lw=width, label=label)
    ax.fill_between(steps, low, high, color=colour, alpha=0.15, lw=0)


@drawn_as_written
def profile_figure(profile: dict[str, Any]) -> Figure:
    """Bars of :func:`~latentplay.audit.counterfactual_run.write_profile`'s rows, one per edit
    and end step (class, for a categorical condition): the share of faces whose class changed
    (or the reading's mean change) with its 95 % interval, the random directions' share (or
    mean absolute change) as a grey tick; for a reading, the edit's own mean absolute change
    as a black cross, the one to hold against the random directions'."""
    rows = profile["profile"]
    values = profile["kind"] == "values"
    key, low, high = ("change", "change_low", "change_high") if values else ("rate", "low",
                                                                             "high")
    fig, ax = plt.subplots(figsize=(8.5, 1.4 + 0.38 * len(rows)))
    y = np.arange(len(rows))
    edits = list(dict.fromkeys(r["edit"] for r in rows))
    colours = qualitative_colors(len(edits))
    mid = np.array([np.nan if r[key] is None else r[key] for r in rows], float)
    lo = np.array([m if r[low] is None else r[low] for m, r in zip(mid, rows, strict=True)])
    hi = np.array([m if r[high] is None else r[high] for m, r in zip(mid, rows, strict=True)])
    ax.barh(y, mid, xerr=[mid - lo, hi - mid], capsize=3, alpha=0.85,
            color=[colours[edits.index(r["edit"])] for r in rows])
    if values:  # the random directions' mean absolute change compares with the edit's, not
        # with the signed mean change of the bars
        ax.plot([np.nan if r["abs_change"] is None else r["abs_change"] for r in rows], y, "x",
                color="black", ms=9, mew=2, label="along the edit (mean absolute change)")
    base = "random_abs_change" if values else "random_rate"
    if rows and base in rows[0]:
        ax.plot([np.nan if r[base] is None else r[base] for r in rows], y, "|", color="0.3",
                ms=14, mew=2,
                label="random directions" + (" (mean absolute change)" if values else ""))
    if ax.get_legend_handles_labels()[0]:  # above the bars, hiding none of them
        ax.legend(fontsize=8, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2,
                  frameon=False)
    ax.set_yticks(y, [f"{r['label']}  (step {r['step']})" for r in rows], fontsize=8)
    ax.invert_yaxis()
    if values:
        ax.axvline(0, color="0.5", lw=0.8)
    ax.set_xlabel(f"mean change of the {profile['classifier']['attribute']} reading" if values
                  else "share of faces whose class changed")
    ax.set_title(wrap_title(f"{profile['classifier']['attribute']} read on {len(profile['rows'])} "
                            "faces under each edit (first and last step; a categorical condition: "
                            "each class)", fig.get_figwidth() - 1.5, 10), fontsize=10, pad=22)
    tight_layout(fig)
    return fig
