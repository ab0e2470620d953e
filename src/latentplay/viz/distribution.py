"""Class distributions side by side: grouped bars with interval whiskers (training vs generated)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

COLORS = ("tab:gray", "tab:blue", "tab:orange", "tab:green", "tab:purple")


def distribution_bars(
    classes: Sequence[str],
    series: Mapping[str, tuple[np.ndarray, np.ndarray | None]],
    *,
    title: str = "",
    ylabel: str = "proportion",
) -> Figure:
    """Grouped bars, one group per class and one bar per series, with interval whiskers.

    Args:
        classes: ``K`` class names (x axis).
        series: label -> (``(K,)`` proportions, ``(K, 2)`` interval bounds or None), drawn in
            order (e.g. training, generated, generated corrected).
        title: figure title.
        ylabel: y-axis label.
    """
    k = len(classes)
    m = max(len(series), 1)
    width = 0.8 / m
    fig, ax = plt.subplots(figsize=(max(6.5, 1.0 + 0.3 * k * m), 4.2))
    x = np.arange(k)
    for i, (label, (props, ci)) in enumerate(series.items()):
        pos = x - 0.4 + width * (i + 0.5)
        props = np.asarray(props, float)
        err = None
        if ci is not None:
            ci = np.asarray(ci, float)
            err = np.clip(np.stack([props - ci[:, 0], ci[:, 1] - props]), 0, None)
        ax.bar(pos, props, width, label=label, color=COLORS[i % len(COLORS)],
               yerr=err, capsize=2, error_kw={"lw": 0.8, "ecolor": "0.2"})
    ax.set_xticks(x, list(classes), rotation=30 if k > 4 else 0,
                  ha="right" if k > 4 else "center", fontsize=8)
    ax.set_ylabel(ylabel)
    ax.set_ylim(bottom=0)
    ax.grid(axis="y", alpha=0.3)
    if title:
        ax.set_title(title, fontsize=9)
    fig.legend(*ax.get_legend_handles_labels(), loc="lower center", ncol=m, fontsize=8,
               frameon=False)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    return fig
