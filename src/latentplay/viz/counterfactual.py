"""The figure of ``latentplay audit counterfactual``: a classifier's answers on faces moved
along an attribute's direction."""

from __future__ import annotations

from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

ALL = "all faces"


def sensitivity_figure(summary: dict[str, Any]) -> Figure:
    """Panels of :func:`~latentplay.audit.counterfactual.audit_counterfactual`'s summary
    against the step along the direction: the flip rate per group (all faces in black, Wilson
    95 % bands; the random directions' rate dashed grey), the mean probability of each class
    and, for each check annotator, the share of faces it reads as each of its classes."""
    shares = summary.get("check_shares") or []
    checked = list(dict.fromkeys(r["attribute"] for r in shares))
    panels = 2 + len(checked)
    cols = panels if panels <= 3 else 3 if panels > 4 else 2
    rows = -(-panels // cols)
    fig, grid = plt.subplots(rows, cols, figsize=(5.2 * cols, 0.3 + 4.1 * rows), squeeze=False)
    axes = grid.ravel()
    for ax in axes[panels:]:
        ax.set_visible(False)
    classified = summary["classifier"]["attribute"]
    _flips(axes[0], summary["flips"], summary["groups_by"])
    _probabilities(axes[1], summary["probabilities"], classified)
    roles = {summary["direction"]["attribute"]: "the edit itself",
             classified: "held? another reader"}
    for ax, name in zip(axes[2:], checked, strict=False):
        _checks(ax, [r for r in shares if r["attribute"] == name], name,
                roles.get(name, "held?"))
    direction = summary["direction"]
    n = len(summary["rows"])
    agreement = summary.get("reconstruction_agreement")
    sub = f"{n} faces, steps in SDs of the codes along the {direction['along']}"
    if agreement is not None:
        sub += f"; same class on the face and its decoding: {agreement:.0%}"
    fig.suptitle(f"{summary['classifier']['attribute']} read on faces moved along "
                 f"{direction['label']}\n{sub}", fontsize=10)
    fig.tight_layout()
    return fig


def _flips(ax: Axes, rows: list[dict[str, Any]], grouped: str) -> None:
    groups = list(dict.fromkeys(r["group"] for r in rows))
    colours = plt.get_cmap("tab10")
    for k, group in enumerate(g for g in groups if g != ALL):
        mine = [r for r in rows if r["group"] == group]
        _line(ax, mine, "rate", f"{group} (n={mine[0]['n']})", colours(k % 10), 1.4)
    everyone = [r for r in rows if r["group"] == ALL]
    _line(ax, everyone, "rate", f"{ALL} (n={everyone[0]['n']})", "black", 2.2)
    if "random_rate" in everyone[0]:
        ax.plot([r["step"] for r in everyone], [r["random_rate"] for r in everyone], "--",
                color="0.45", lw=1.6, label="random directions, all faces")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("step along the direction (SDs)")
    ax.set_ylabel("share of faces whose class changed")
    ax.set_title(f"class changes, by {grouped}", fontsize=9)
    ax.legend(fontsize=7)


def _probabilities(ax: Axes, rows: list[dict[str, Any]], attribute: str) -> None:
    colours = plt.get_cmap("tab10")
    for k, name in enumerate(dict.fromkeys(r["class"] for r in rows)):
        _line(ax, [r for r in rows if r["class"] == name], "mean", name, colours(k % 10), 1.4)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("step along the direction (SDs)")
    ax.set_ylabel(f"mean probability ({attribute})")
    ax.set_title("the classifier's probabilities (95% intervals)", fontsize=9)
    ax.legend(fontsize=7)


def _checks(ax: Axes, rows: list[dict[str, Any]], attribute: str, role: str) -> None:
    names = list(dict.fromkeys(r["class"] for r in rows))
    colours = plt.get_cmap("viridis" if len(names) > 10 else "tab10")
    for k, name in enumerate(names):
        mine = [r for r in rows if r["class"] == name]
        if max(r["share"] for r in mine) == 0:
            continue
        colour = colours(k / max(len(names) - 1, 1)) if len(names) > 10 else colours(k)
        ax.plot([r["step"] for r in mine], [r["share"] for r in mine], "o-", ms=3,
                color=colour, label=name)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("step along the direction (SDs)")
    ax.set_ylabel(f"share read as each class of {attribute}")
    ax.set_title(f"{role}: {attribute} as a check reads it", fontsize=9)
    ax.legend(fontsize=7)


def _line(ax: Axes, rows: list[dict[str, Any]], key: str, label: str, colour: Any,
          width: float) -> None:
    steps = np.array([r["step"] for r in rows])
    ax.plot(steps, [r[key] for r in rows], "o-", ms=3, color=colour, lw=width, label=label)
    ax.fill_between(steps, [r["low"] for r in rows], [r["high"] for r in rows], color=colour,
                    alpha=0.15, lw=0)
