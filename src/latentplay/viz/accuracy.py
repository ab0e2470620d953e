"""The figure of ``latentplay audit accuracy``: how right the predictions are in each group."""

from __future__ import annotations

from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402


def accuracy_bars(summary: dict[str, Any]) -> Figure:
    """Horizontal bars, one per group, of :func:`~latentplay.audit.accuracy.group_accuracy`'s
    summary: the accuracy with its 95 % interval and, where rows have no prediction, the
    accuracy over the rest as a diamond (classes), or the mean absolute error and
    the bias with theirs (values); the value over all rows is a dashed line."""
    rows = [r for r in summary["groups"] if r.get("n")]
    labels = [f"{r['group']} (n={r['n']})" for r in rows]
    overall = summary["overall"]
    values = summary["kind"] == "values"
    panels = [("mae", "mean absolute error"), ("bias", "bias (reading - label)")] if values \
        else [("accuracy", "accuracy")]
    fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels) + 1.5,
                                                      1.3 + 0.42 * len(rows)), squeeze=False)
    y = np.arange(len(rows))
    for ax, (key, title) in zip(axes[0], panels, strict=True):
        low_key, high_key = ("low", "high") if key == "accuracy" else (f"{key}_low",
                                                                       f"{key}_high")
        mid = np.array([r[key] for r in rows], dtype=float)
        err = np.abs(np.array([[r[low_key] for r in rows], [r[high_key] for r in rows]]) - mid)
        ax.barh(y, mid, xerr=err, color="#4c72b0", alpha=0.85, capsize=3)
        if overall.get(key) is not None:
            ax.axvline(overall[key], color="black", ls="--", lw=1, label=f"all rows {overall[key]:.3f}")
        if key == "bias":
            ax.axvline(0, color="0.5", lw=0.8)
        if key == "accuracy" and any(r["no_prediction"] for r in rows):
            rest = [np.nan if r["accuracy_predicted"] is None else r["accuracy_predicted"]
                    for r in rows]
            ax.plot(rest, y, "D", color="#dd8452", mec="black", ms=6,
                    label="over rows with a prediction")
        if key == "accuracy":
            ax.set_xlim(min(0.5, float(np.nanmin(mid - err[0]))) - 0.02, 1.03)
        ax.set_yticks(y, labels if ax is axes[0][0] else [""] * len(rows))
        ax.invert_yaxis()
        ax.set_xlabel(title)
        ax.legend(loc="lower right", fontsize=8)
    across = summary.get("across") or {}
    note = ""
    if "chi2" in across:
        note = f"chi-square p {across['chi2']['p_value']:.2g}"
    trend = across.get("trend")
    if trend and "slope" in trend:
        note += f"; |error| {trend['slope']:+.3g} per group [{trend['low']:+.3g}, {trend['high']:+.3g}]"
    elif trend:
        note += f"; trend of errors r {trend['r']:+.3f}, p {trend['p_value']:.2g}"
    fig.suptitle(f"{summary['predicted']} against {summary['truth']} by {summary['by']}"
                 + (f"\n{note.lstrip('; ')}" if note else ""), fontsize=10)
    fig.tight_layout()
    return fig
