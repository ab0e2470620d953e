"""Figures drawn when a report is built (matplotlib, returned as PNG data URIs): loss curves,
KL and variance per latent dimension, metric curves, and the bars of a store's attributes."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator

from latentplay.report.images import figure_uri
from latentplay.viz.plain import drawn_as_written
from latentplay.viz.style import PAGE_WIDTH, log_axis, tight_layout

Series = tuple[Sequence[float], Sequence[float]]  # (x values, y values)


@drawn_as_written
def curves(panels: Mapping[str, Mapping[str, Series]], xlabel: str, title: str,
           columns: int = 3, scale: tuple[float, float] | None = None) -> str:
    """One small panel per entry of ``panels`` (``{panel title: {line label: (x, y)}}``), lines
    with markers; panels whose values span several decades use a log y axis. With ``scale``
    (scores bounded in it, such as disentanglement metrics in [0, 1]) a panel whose values all
    lie in it spans the whole of it, so that noise of 0.01 does not fill the panel as a trend;
    a panel of whole numbers only (counts) has whole-number ticks."""
    n = max(len(panels), 1)
    cols = min(columns, n)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(2.4 * cols, 2.1 * rows + 0.5), squeeze=False)
    for ax, (name, lines) in zip(axes.flat, panels.items(), strict=False):
        values = []
        for label, (x, y) in lines.items():
            ax.plot(x, y, marker="o", markersize=3, linewidth=1.2, label=label)
            values += [v for v in y if math.isfinite(v)]
        positive = [v for v in values if v > 0]
        if scale is not None and values and scale[0] <= min(values) and max(values) <= scale[1]:
            pad = 0.03 * (scale[1] - scale[0])
            ax.set_ylim(scale[0] - pad, scale[1] + pad)
        elif positive and len(positive) == len(values) and max(positive) / min(positive) > 100:
            log_axis(ax)
        elif values and all(float(v).is_integer() for v in values):   # counts: whole ticks
            ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title(name, fontsize=9)
        ax.set_xlabel(xlabel, fontsize=8)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
        if len(lines) > 1:
            ax.legend(fontsize=7, frameon=False)
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    fig.suptitle(title, fontsize=10)
    tight_layout(fig)
    return figure_uri(fig)


@drawn_as_written
def latent_dimensions(kl: np.ndarray | None, variance: np.ndarray | None,
                      active: np.ndarray | None, threshold: float | None) -> str:
    """Bars per latent dimension: ``(D,)`` KL to the prior and/or ``(D,)`` variance of the
    encoder means (log scale where any is above 0, ``threshold`` line); ``(D,)`` bool
    ``active`` units in colour, inactive ones grey and hatched (in a panel of another length
    than ``active``'s, every bar is drawn in colour)."""
    panels = [p for p in (("KL(q(z|x) || p(z)) per dimension, nats", kl),
                          ("variance of E[z|x] per dimension", variance)) if p[1] is not None]
    fig, axes = plt.subplots(len(panels), 1, figsize=(7.5, 2.4 * len(panels) + 0.3), squeeze=False)
    for ax, (title, values) in zip(axes[:, 0], panels, strict=True):
        values = np.asarray(values, dtype=float)
        marked = active is not None and len(active) == len(values)
        inactive = [marked and not active[d] for d in range(len(values))]
        # hatched as well as grey: told from the active ones on paper and without colour vision
        ax.bar(np.arange(len(values)), values, color=["tab:gray" if i else "tab:blue" for i in inactive],
               hatch=["///" if i else "" for i in inactive], edgecolor="white", linewidth=0)
        if title.startswith("variance"):
            if (values > 0).any():   # one image trained on: every variance 0, no log scale
                log_axis(ax)
            if threshold is not None:
                ax.axhline(threshold, color="tab:red", linewidth=1, linestyle="--",
                           label=f"active threshold {threshold:g}")
                ax.legend(fontsize=7, frameon=False)
        ax.set_title(title, fontsize=9)
        ax.set_xticks(np.arange(len(values)))
        ax.tick_params(labelsize=7)
        ax.grid(axis="y", alpha=0.3)
    axes[-1, 0].set_xlabel("latent dimension (grey, hatched: inactive)" if active is not None
                           else "latent dimension", fontsize=8)
    tight_layout(fig)
    return figure_uri(fig)


def bars(labels: Sequence[str], counts: Sequence[float], title: str, xlabel: str = "") -> str:
    """Vertical bars of ``counts`` per label (a categorical attribute, ``unknown`` hatched grey,
    or histogram bins): :func:`latentplay.viz.distribution.count_bars` as a data URI."""
    from latentplay.viz.distribution import count_bars

    return figure_uri(count_bars(labels, counts, title, xlabel))


@drawn_as_written
def spectrum(variance: np.ndarray, title: str) -> str:
    """Share of the total variance along each principal axis (``(D,)`` variances, largest
    first; log scale) and its cumulative share."""
    share = np.asarray(variance, dtype=float) / max(float(np.sum(variance)), 1e-30)
    axis = np.arange(1, len(share) + 1)
    # a page wide: 8.5 inches printed its 7 pt ticks at 5.7 pt
    fig, (left, right) = plt.subplots(1, 2, figsize=(PAGE_WIDTH, 2.8))
    left.plot(axis, share, linewidth=1.2)
    log_axis(left)
    left.set_xlabel("principal axis", fontsize=8)
    left.set_ylabel("share of the variance", fontsize=8)
    right.plot(axis, np.cumsum(share), linewidth=1.2)
    for level in (0.5, 0.9, 0.99):
        right.axhline(level, color="tab:gray", linewidth=0.8, linestyle="--")
    log_axis(right, "x")
    right.set_xlabel("principal axes (log)", fontsize=8)
    right.set_ylabel("cumulative share", fontsize=8)
    for ax in (left, right):
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    fig.suptitle(title, fontsize=10)
    tight_layout(fig)
    return figure_uri(fig)
