"""The dataset-bias figure: the distribution of one attribute within each group of another."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from latentplay.store.schema import UNKNOWN  # noqa: E402


def bias_bars(groups: list[str], levels: list[str], counts: np.ndarray, by: str, of: str,
              subtitle: str = "", intervals: np.ndarray | None = None) -> Figure:
    """One horizontal bar per group of ``by`` (and one for all rows), split into the shares of
    the levels of ``of``; ``counts`` is ``(R, C)`` for the ``R`` groups and ``C`` levels. A
    level named ``unknown`` (a row without a value) is hatched grey, off the colour ramp.
    ``intervals`` ``(R + 1, 2)`` (all rows, then each group), given when ``of`` has two levels
    besides ``unknown``, bound the first of them's share and are drawn at the boundary between
    the two, so small groups show how little their share says."""
    shares = counts / counts.sum(1, keepdims=True)
    overall = counts.sum(0) / counts.sum()
    labels = [f"all (n={counts.sum()})"] + [f"{g} (n={n})" for g, n in zip(groups, counts.sum(1),
                                                                          strict=True)]
    table = np.vstack([overall, shares])
    known = [k for k, level in enumerate(levels) if level != UNKNOWN]
    colors = np.tile([0.92, 0.92, 0.92, 1.0], (len(levels), 1))
    colors[known] = plt.get_cmap("coolwarm" if len(known) <= 11 else "viridis")(
        np.linspace(0.05, 0.95, len(known)))
    fig, ax = plt.subplots(figsize=(8, 1.2 + 0.55 * len(labels)))
    left = np.zeros(len(labels))
    for k, level in enumerate(levels):
        unknown = level == UNKNOWN
        bars = ax.barh(labels, table[:, k], left=left, color=colors[k], label=level,
                       edgecolor="0.55" if unknown else "white", hatch="///" if unknown else None,
                       linewidth=0.5 if unknown else 1.0)
        for bar, share in zip(bars, table[:, k], strict=True):
            if share >= 0.06:
                ax.text(bar.get_x() + bar.get_width() / 2, bar.get_y() + bar.get_height() / 2,
                        f"{share:.0%}", ha="center", va="center", fontsize=8)
        left += table[:, k]
    if intervals is not None:
        first = known[0]
        before = table[:, :first].sum(1)     # the shares drawn left of the first known level
        mid = before + table[:, first]
        ax.errorbar(mid, np.arange(len(labels)), xerr=np.abs(intervals.T + before - mid),
                    fmt="none", ecolor="black", elinewidth=1, capsize=3)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel(f"share of {of}")
    ax.set_title(f"{of} within each {by}" + (f"\n{subtitle}" if subtitle else ""), fontsize=10)
    ax.legend(title=of, bbox_to_anchor=(1.01, 1), loc="upper left", fontsize=8, title_fontsize=8)
    fig.tight_layout()
    return fig
