"""Test-time intervention (Koh et al. 2020): what the task gains when concepts are set right.

A concept-bottleneck model (and GlanceNet, whose classifier too reads only the concept
activations) lets a user correct a concept it got wrong and see the task follow. For the test
images with known concept labels, :func:`intervention` sets the activations of ``m`` concepts
(a categorical concept's one-hot columns together) right and reads the task accuracy off the
model's own classifier, for ``m = 0 .. K``, over random orders of the concepts (mean and SD
over the orders), and each concept set right alone. A model whose task follows its concepts
gains as they are set right; one whose classifier leans on what the activations carry besides
the concepts (leakage) gains little or loses.

"Right" is in the activations' own scale, as Koh et al. set a joint model's intervened
concepts: a class column to the 95th percentile of the training images' activations of that
column where the class is present and to the 5th where it is not; a continuous concept to the
training activation of the same rank as its true value among the training labels (quantile
mapping): the raw labels (0, 1, a value scaled to [0, 1]) would ask a jointly trained
classifier to read values it never saw. Where the classifier itself is the weak part (a head
trained too briefly), setting every concept right does not help, or hurts; beside the curve,
``refit_head`` is what a logistic regression fitted on the training images' activations
scores on the test images' — the task accuracy the concepts allow with a head that reads them
well.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from latentplay.viz.plain import drawn_as_written

if TYPE_CHECKING:
    import torch
    from matplotlib.figure import Figure

    from latentplay.metrics.concepts import ConceptData

ORDERS = 20
"""Random orders of the concepts the curve is averaged over."""


def concept_groups(data: ConceptData) -> dict[str, list[int]]:
    """Each concept's columns of ``data.concepts``: a categorical concept's one-hot columns
    together, every other column alone, in column order."""
    grouped = {j: name for name, cols in data.categorical.items() for j in cols}
    groups: dict[str, list[int]] = {}
    for j, name in enumerate(data.names):
        groups.setdefault(grouped.get(j, name), []).append(j)
    return groups


def intervention(model: torch.nn.Module, activations: np.ndarray, data: ConceptData,
                 train_activations: np.ndarray, train: ConceptData, orders: int = ORDERS,
                 seed: int = 0) -> dict[str, Any]:
    """Task accuracy of ``model``'s classifier on ``data`` (labelled test rows) from its
    ``(N, k)`` concept ``activations`` in [0, 1] (:func:`~latentplay.metrics.concepts.infer`'s
    ``concepts``) with ``m`` concepts set right (:func:`right_values`, from the labelled
    training rows ``train`` and their ``train_activations``): ``accuracy`` and
    ``accuracy_sd`` (sample SD) ``(K + 1,)`` over ``orders`` random orders (``m`` = 0 .. K), ``single``
    per concept set alone, ``concepts`` the concept names in column order, ``images``, and
    ``refit_head``: the test accuracy of a logistic regression fitted on the training
    activations (module docstring)."""
    from sklearn.linear_model import LogisticRegression

    from latentplay.metrics.concepts import classify

    groups = concept_groups(data)
    names = list(groups)
    right = right_values(data, train_activations, train)

    scored: dict[frozenset[str], float] = {}   # orders share their subsets: each run once

    def accuracy_right(chosen: list[str]) -> float:
        """The task accuracy with the concepts ``chosen`` set right."""
        key = frozenset(chosen)
        if key not in scored:
            values = activations.copy()
            for name in chosen:
                values[:, groups[name]] = right[:, groups[name]]
            scored[key] = float(np.mean(classify(model, values) == data.labels))
        return scored[key]

    head = LogisticRegression(max_iter=2000).fit(train_activations, train.labels)
    rng = np.random.default_rng(seed)
    curves = np.array([[accuracy_right([names[i] for i in order[:m]])
                        for m in range(len(names) + 1)]
                       for order in (rng.permutation(len(names)) for _ in range(orders))])
    spread = np.where(np.ptp(curves, axis=0) > 0, curves.std(axis=0, ddof=1), 0.0)  # not 1e-16
    return {"concepts": names, "images": int(len(data)), "orders": orders,
            "values": "training percentiles",
            "accuracy": curves.mean(axis=0).tolist(), "accuracy_sd": spread.tolist(),
            "single": {name: accuracy_right([name]) for name in names},
            "refit_head": float(head.score(activations, data.labels))}


def right_values(data: ConceptData, train_activations: np.ndarray, train: ConceptData
                 ) -> np.ndarray:
    """``(N, k)`` activations that say ``data``'s true concepts in the model's own scale
    (module docstring): a class column the 95th (present) or 5th (absent) percentile of its
    ``(N_train, k)`` training activations; a continuous column the training activation at the
    true value's mid-rank among the training labels ``train.concepts``."""
    classes = {j for cols in data.categorical.values() for j in cols}
    out = np.empty_like(data.concepts, dtype=np.float64)
    for j in range(data.concepts.shape[1]):
        act = train_activations[:, j]
        if j in classes:
            low, high = np.percentile(act, [5, 95])
            out[:, j] = np.where(data.concepts[:, j] > 0.5, high, low)
        else:
            labels = np.sort(train.concepts[:, j])
            rank = (np.searchsorted(labels, data.concepts[:, j], "left")
                    + np.searchsorted(labels, data.concepts[:, j], "right")) / 2
            out[:, j] = np.quantile(act, np.clip(rank / len(labels), 0.0, 1.0))
    return out


@drawn_as_written
def intervention_figure(result: dict[str, Any], chance: float | None = None,
                        kind: str = "") -> Figure:
    """Task accuracy against the number of concepts set to their true values: the mean over
    the random orders with ± one SD, each concept set alone as a labelled square at 1, a head
    refit on the activations as a dotted line, chance as a dashed one."""
    import matplotlib.pyplot as plt

    from latentplay.viz.style import tight_layout

    acc, sd = np.array(result["accuracy"]), np.array(result["accuracy_sd"])
    m = np.arange(len(acc))
    fig, ax = plt.subplots(figsize=(6.2, 4.0))
    ax.fill_between(m, acc - sd, acc + sd, color="#1f77b4", alpha=0.18, lw=0)
    ax.plot(m, acc, "o-", color="#1f77b4", label=f"random orders ({result['orders']}): mean ± SD")
    singles = sorted(result["single"].items(), key=lambda item: -item[1])
    placed = 1.05
    for j, (name, value) in enumerate(singles):   # labels stacked down, 0.05 apart, below 0.98
        placed = min(value, placed - 0.05, 0.98 - 0.05 * j)
        ax.scatter(1, value, marker="s", s=22, color="#d62728", zorder=3,
                   label="one concept set right" if j == 0 else None)
        ax.annotate(name, (1, value), xytext=(1.15, placed), textcoords="data", fontsize=7,
                    va="center", color="#d62728", zorder=4,
                    bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.85, "pad": 0.5},
                    arrowprops={"arrowstyle": "-", "color": "#d62728", "lw": 0.5})
    if result.get("refit_head") is not None:
        ax.axhline(result["refit_head"], color="#2ca02c", ls=":", lw=1.5,
                   label=f"a head refit on these activations {result['refit_head']:.2f}")
    if chance is not None:
        ax.axhline(chance, color="0.5", ls="--", lw=1, label=f"chance {chance:.2f}")
    ax.set_xticks(m)
    ax.set_xlabel("concepts set to their true values")
    ax.set_ylabel("task accuracy (test images)")
    ax.set_ylim(0, 1.02)
    ax.set_title(f"{kind + ': ' if kind else ''}test-time intervention, "
                 f"{result['images']:,} images", fontsize=10)
    ax.legend(loc="lower right", fontsize=8, frameon=False)
    ax.grid(alpha=0.3)
    tight_layout(fig)
    return fig
