"""Concept-leakage tests (GlanceNets, Sec. 6): do learned concepts carry information they were
never meant to carry?

Protocol, for each concept model (``vae``, ``cbm``, ``glancenet``): train it on a *training
domain* with supervised concepts; freeze it; then on a *probe set* (inputs the concepts were
not designed for) fit a logistic regression from the concept activations alone to a *held-out
target*, and report its test accuracy. A leak-free model stays at chance: the accuracy of the
same probe without concepts (guessing the most frequent target of its training rows). GlanceNet
is also scored *with rejection*: its open-set recognition refuses unfamiliar inputs, a refused
input gets that guess, and the probe only ever sees accepted inputs.
``leakage = (accuracy - chance) / (1 - chance)``.

Experiments:

* ``dsprites``: ``dsprites_leakage`` from the ``shapes`` generator. Training domain: squares
  and ellipses, concepts scale, pos_x, pos_y (levels scaled to [0, 1]), task label the
  position quadrant. Probe: all three shapes (hearts never seen); held-out target: the shape.
* ``parity``: GlanceNets' MNIST parity test on scikit-learn's bundled 8x8 digits (upsampled to
  28x28). Training domain: digits 4 and 5, concepts "is 4" and "is 5", task the digit. Probe:
  the other eight digits; held-out target: even or odd.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image
from sklearn.linear_model import LogisticRegression

from latentplay.errors import UserError
from latentplay.metrics.concepts import ConceptData, TrainConfig, build, evaluate_outputs, fit, infer

if TYPE_CHECKING:
    from matplotlib.figure import Figure

EXPERIMENTS = ("dsprites", "parity")
ROWS = ("vae", "cbm", "glancenet", "glancenet+rejection")


# ---------------------------------------------------------------------- data
def shapes_data(n: int, seed: int, shapes: tuple[int, ...], size: int = 64) -> tuple[ConceptData, np.ndarray]:
    """``n`` random sprites of the given shape ids, as :class:`ConceptData` (concepts scale,
    pos_x, pos_y; label the quadrant) plus their ``(n,)`` shape ids. ``size`` 32 averages
    2x2 pixel blocks (a quarter of the compute on CPU)."""
    from latentplay.sources.shapes import FACTOR_SIZES, render

    rng = np.random.default_rng(seed)
    f = np.stack([rng.integers(0, s, n) for s in FACTOR_SIZES], axis=1)
    f[:, 0] = np.asarray(shapes)[rng.integers(0, len(shapes), n)]
    levels = f[:, [1, 3, 4]]
    concepts = levels / (np.array(FACTOR_SIZES)[[1, 3, 4]] - 1.0)
    labels = (f[:, 3] >= 16) * 2 + (f[:, 4] >= 16)
    images = render(f).astype(np.float32) * 255
    if size != 64:
        if size != 32:
            raise UserError(f"shapes images are 64 or 32 px, got {size}")
        images = images.reshape(n, 32, 2, 32, 2).mean(axis=(2, 4))
    images = np.rint(images)[..., None].astype(np.uint8)
    return ConceptData(images, concepts, labels, levels, ["scale", "pos_x", "pos_y"]), f[:, 0]


def digits_images(size: int = 28) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 1797 8x8 digits as ``(N, size, size, 1)`` uint8 (bilinear) and ``(N,)``
    labels."""
    from sklearn.datasets import load_digits

    d = load_digits()
    small = np.clip(d.images * (255.0 / 16.0), 0, 255).astype(np.uint8)
    big = [np.asarray(Image.fromarray(im).resize((size, size), Image.Resampling.BILINEAR)) for im in small]
    return np.stack(big)[..., None], d.target.astype(np.int64)


def parity_data(size: int = 28) -> tuple[ConceptData, np.ndarray, np.ndarray]:
    """Training domain (digits 4 and 5, concepts is-4/is-5) and the probe's images and parity."""
    images, digits = digits_images(size)
    inside = (digits == 4) | (digits == 5)
    onehot = np.stack([digits[inside] == 4, digits[inside] == 5], axis=1).astype(np.int64)
    domain = ConceptData(
        images[inside],
        onehot.astype(np.float64),
        (digits[inside] == 5).astype(np.int64),
        onehot,
        ["is_4", "is_5"],
    )
    return domain, images[~inside], digits[~inside] % 2


# ---------------------------------------------------------------------- probe
def probe(
    concepts: np.ndarray, target: np.ndarray, accepted: np.ndarray | None, seed: int
) -> dict[str, float]:
    """Held-out-target accuracy of a logistic regression on ``(N, k)`` concept activations,
    beside the accuracy of the same probe without concepts (``chance``).

    Half the probe rows (random) train it, half test it. With ``accepted`` (rejection on), only
    accepted rows train it, and a rejected test row gets the guess a probe without concepts
    makes (the training rows' most frequent target). ``chance`` is what the probe scores when
    the concepts carry nothing: the most frequent target of the rows it trains on, guessed for
    every accepted test row, rejected rows counted alike — so neither an unbalanced target nor
    a rejection that keeps more of one class than of another reads as leakage.
    """
    order = np.random.default_rng(seed).permutation(len(target))
    tr, te = order[: len(order) // 2], order[len(order) // 2 :]
    ok = np.ones(len(target), dtype=bool) if accepted is None else accepted
    tr_ok, te_ok, te_no = tr[ok[tr]], te[ok[te]], te[~ok[te]]
    guess = np.mean(target[te_no] == _most_frequent(target[tr])) if len(te_no) else 0.0
    base_ok = np.mean(target[te_ok] == _most_frequent(target[tr_ok])) if len(te_ok) and len(tr_ok) else 0.0
    if len(te_ok) == 0 or len(np.unique(target[tr_ok])) < 2:
        acc_ok = base_ok  # nothing (or one class) accepted: no probe can be trained
    else:
        clf = LogisticRegression(max_iter=1000).fit(concepts[tr_ok], target[tr_ok])
        acc_ok = float(np.mean(clf.predict(concepts[te_ok]) == target[te_ok]))
    rate = float(np.mean(ok[te]))
    accuracy = rate * acc_ok + (1.0 - rate) * guess
    chance = float(rate * base_ok + (1.0 - rate) * guess)
    return {
        "leak_accuracy": float(accuracy),
        "accepted": rate,
        "chance": chance,
        "leakage": (accuracy - chance) / (1.0 - chance) if chance < 1.0 else 0.0,
    }


def _most_frequent(labels: np.ndarray) -> int:
    """The most frequent of ``(n,)`` integer labels (the smallest among ties)."""
    values, counts = np.unique(labels, return_counts=True)
    return int(values[np.argmax(counts)])


# ---------------------------------------------------------------------- experiments
def run_experiment(
    experiment: str,
    train: TrainConfig,
    n_train: int = 6000,
    n_probe: int = 3000,
    progress: Callable[[str], None] | None = None,
    models: tuple[str, ...] = ("vae", "cbm", "glancenet"),
    size: int = 64,
) -> list[dict[str, float | str]]:
    """Train the concept models ``models`` on ``experiment``'s training domain and probe them.

    Returns one row per model (``glancenet`` twice: without and with rejection) with the task
    ``accuracy`` on held-out training-domain rows and the probe's
    ``leak_accuracy``, ``accepted`` rate, ``chance`` and ``leakage``. ``n_train``/``n_probe``
    size the dsprites experiment (``size`` its image side); the digits set their own.
    """
    if experiment == "dsprites":
        domain, _ = shapes_data(n_train + n_train // 5, train.seed, (0, 1), size)
        probe_data, probe_target = shapes_data(n_probe, train.seed + 1, (0, 1, 2), size)
        probe_images = probe_data.images
        n_classes = 4
    elif experiment == "parity":
        domain, probe_images, probe_target = parity_data()
        n_classes = 2
    else:
        raise UserError(f"unknown leakage experiment {experiment!r}; choose from {', '.join(EXPERIMENTS)}")
    split = np.random.default_rng(train.seed).permutation(len(domain))
    n_fit = int(len(domain) * (5 / 6 if experiment == "dsprites" else 0.8))
    fit_data, test_data = domain.subset(split[:n_fit]), domain.subset(split[n_fit:])
    rows: list[dict[str, float | str]] = []
    for kind in models:
        if progress is not None:
            progress(f"{experiment}: training {kind}")
        model = fit(build(kind, fit_data, n_classes, train), fit_data, train)
        scores = evaluate_outputs(infer(model, test_data.images), test_data, None, None)
        out = infer(model, probe_images)
        base = {"experiment": experiment, "accuracy": scores["accuracy"],
                "task_chance": 1.0 / n_classes}
        rows.append({**base, "model": kind, **probe(out["concepts"], probe_target, None, train.seed)})
        if kind == "glancenet":
            with_rej = probe(out["concepts"], probe_target, out["accepted"], train.seed)
            rows.append(
                {
                    **base,
                    "model": "glancenet+rejection",
                    **with_rej,
                    "domain_accepted": float(np.mean(infer(model, test_data.images)["accepted"])),
                }
            )
    return rows


def leakage_table(
    experiments: tuple[str, ...] = EXPERIMENTS,
    train: TrainConfig | None = None,
    out: str | os.PathLike[str] | None = None,
    n_train: int = 6000,
    n_probe: int = 3000,
    progress: Callable[[str], None] | None = None,
    models: tuple[str, ...] = ("vae", "cbm", "glancenet"),
    size: int = 64,
) -> list[dict[str, float | str]]:
    """Run the experiments for ``models``; with ``out``, write ``leakage.csv``, the bar chart
    ``leakage.png`` and ``leakage.json`` (the settings the table was measured with) there.
    Returns the table's rows."""
    train = train or TrainConfig()
    rows: list[dict[str, float | str]] = []
    used: dict[str, dict[str, Any]] = {}
    for experiment in experiments:
        # The digits domain is small (~290 images of 4 and 5): 3x the epochs in batches of at
        # most 16, so every model gets several hundred optimiser steps.
        t = (
            train
            if experiment == "dsprites"
            else replace(train, epochs=max(train.epochs, 1) * 3, batch_size=min(train.batch_size, 16))
        )
        used[experiment] = {"training": asdict(t), **(
            {"n_train": n_train, "n_probe": n_probe, "size": size} if experiment == "dsprites"
            else {"data": "scikit-learn's 1,797 digits at 28 px: 4 and 5 the domain (parity the "
                          "task), the other digits the probe"})}
        rows += run_experiment(experiment, t, n_train, n_probe, progress, models, size)
    if out is not None:
        out_dir = Path(out)
        out_dir.mkdir(parents=True, exist_ok=True)
        write_csv(rows, out_dir / "leakage.csv")
        bar_chart(rows, out_dir / "leakage.png")
        # what each experiment ran with (parity: its own digits, 3x the epochs, batches <= 16)
        settings = {"experiments": list(experiments), "models": list(models), "asked": {
            "training": asdict(train), "n_train": n_train, "n_probe": n_probe, "size": size},
            "used": used}
        (out_dir / "leakage.json").write_text(json.dumps(settings, indent=2) + "\n")
    return rows


def write_csv(rows: list[dict[str, float | str]], path: Path) -> None:
    """The table as CSV (one row per experiment and model)."""
    fields = [
        "experiment",
        "model",
        "accuracy",
        "leak_accuracy",
        "chance",
        "leakage",
        "accepted",
        "domain_accepted",
        "task_chance",
    ]
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: (f"{v:.4f}" if isinstance(v, float) else v) for k, v in row.items()})


def bar_chart(rows: list[dict[str, float | str]], path: Path) -> None:
    """:func:`leakage_figure` of ``rows`` saved as a PNG at ``path``."""
    import matplotlib.pyplot as plt

    fig = leakage_figure(rows)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def leakage_figure(rows: list[dict[str, float | str]]) -> Figure:
    """Grouped bars of leakage per model, one group per experiment, on the whole scale up to 1
    (the target read perfectly from the concepts), so small leakage looks small; a model not
    run on an experiment has no bar there."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    experiments = list(dict.fromkeys(str(r["experiment"]) for r in rows))
    models = [m for m in ROWS if any(r["model"] == m for r in rows)]
    fig, ax = plt.subplots(figsize=(3.8 + 2.0 * len(experiments), 3.6))
    width = 0.8 / len(models)
    colours = dict(zip(ROWS, ["#7f7f7f", "#d62728", "#1f77b4", "#2ca02c"], strict=True))
    for j, model in enumerate(models):
        vals = [
            next((float(r["leakage"]) for r in rows if r["experiment"] == e and r["model"] == model),
                 np.nan)
            for e in experiments
        ]
        xs = np.arange(len(experiments)) + (j - (len(models) - 1) / 2) * width
        bars = ax.bar(xs, vals, width, label=model, color=colours[model])
        ax.bar_label(bars, labels=[f"{v:.2f}" if np.isfinite(v) else "" for v in vals], fontsize=7,
                     padding=1)
    lowest = np.nanmin([float(r["leakage"]) for r in rows]) if rows else 0.0
    ax.set_ylim(min(0.0, lowest) - 0.05, 1.05)
    ax.set_xticks(np.arange(len(experiments)), experiments)
    ax.axhline(0.0, color="black", linewidth=0.8)
    ax.set_ylabel("leakage  (acc - chance) / (1 - chance)")
    ax.set_title("Concept leakage: held-out target predicted from concepts", fontsize=10)
    ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    return fig
