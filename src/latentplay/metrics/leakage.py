"""Concept-leakage tests (GlanceNets, Sec. 6): do learned concepts carry information they were
never meant to carry?

Protocol, for each concept model (``vae``, ``cbm``, ``glancenet``): train it on a *training
domain* with supervised concepts; freeze it; then on a *probe set* (inputs the concepts were
not designed for) fit a logistic regression from the concept activations alone to a *held-out
target*, and report its test accuracy. The probe is trained on half the probe rows and tested
on the other half, over :data:`PROBE_SPLITS` stratified halvings (the same ones for every
model of an experiment); the tables give the mean and the standard deviation over them.

Every row of an experiment is scored against one *chance*: what the same probe scores without
concepts, the most frequent target of the halving's training rows guessed for every test row.
``leakage = (accuracy - chance) / (1 - chance)``: 0 leak-free, 1 the target read perfectly.

GlanceNet is also scored *with rejection*, as GlanceNets' leakage notebooks do: its open-set
recognition refuses unfamiliar inputs; the probe is trained on the accepted training rows, an
accepted test row gets its prediction, and a rejected test row a coin flip over the target's
values (counted at its expected accuracy, 1 / the number of values). Refusing every row thus
scores 1 / K, never above chance. Beside it, a control: the same model refusing the same
number of probe rows at random (``glancenet+random-rejection``), so rejection is seen against
rejection that knows nothing; and ``leakage_acceptance_only``, what the probe scores from the
acceptance alone (the same rejection, no concepts).

Experiments:

* ``dsprites``: GlanceNets' ``dsprites_leakage`` (their ``prepare_leakage_dsprites.py``), drawn
  by latentplay's ``shapes`` generator (dSprites' factors and levels, its own pixels). Training
  domain: the centred sprites, pos_x and pos_y both in (0.48, 0.52) (of dSprites' 32 position
  levels over [0, 1], the 2 x 2 central ones), every shape, scale and orientation: 2,880
  images, a fifth held out. Concepts: the shape (one-hot: is_square, is_ellipse, is_heart),
  scale and orientation (levels scaled to [0, 1]); task label: the shape (3 classes). Probe:
  sprites in two opposite corners, pos_x and pos_y both below 0.25 or both above 0.75 (8 x 8
  positions each, every shape, scale and orientation: 92,160 images, ``n_probe`` of them drawn
  without replacement); held-out target: the corner (0: low pos_x and pos_y, the top-left of
  latentplay's images, whose pos_y 0 is the top row; 1: high, the bottom-right).
* ``parity``: GlanceNets' MNIST parity test on scikit-learn's bundled 8x8 digits (upsampled to
  28x28). Training domain: digits 4 and 5, concepts "is 4" and "is 5" (one categorical
  concept, the digit), task the digit. Probe: the other eight digits; held-out target: even or
  odd.
"""

from __future__ import annotations

import csv
import itertools
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
from latentplay.metrics.concepts import (
    ConceptData,
    TrainConfig,
    build,
    concept_scores,
    concept_text,
    concepts_not_learned,
    evaluate_outputs,
    fit,
    flag_of,
    infer,
    task_chance,
)
from latentplay.outputs import made_by, make_parents, staged_outputs
from latentplay.viz.plain import drawn_as_written

if TYPE_CHECKING:
    from matplotlib.figure import Figure

EXPERIMENTS = ("dsprites", "parity")
OUTPUTS = ("leakage.csv", "leakage.png", "leakage.json")
"""The files :func:`leakage_table` writes."""
ROWS = ("vae", "cbm", "glancenet", "glancenet+rejection", "glancenet+random-rejection")
PROBE_SPLITS = 20
"""Stratified halvings of the probe rows the probe is repeated over."""
CENTRE = (0.48, 0.52)
"""dsprites training domain: pos_x and pos_y both strictly inside this interval."""
CORNERS = (0.25, 0.75)
"""dsprites probe: pos_x and pos_y both below the first (target 0) or both above the second (1)."""
DSPRITES_CONCEPTS = ["is_square", "is_ellipse", "is_heart", "scale", "orientation"]
HELD_OUT = 0.2
"""Share of the training domain held out for the task and concept scores (GlanceNets' 0.2)."""


# ---------------------------------------------------------------------- data
def _downsample(images: np.ndarray, size: int) -> np.ndarray:
    """``(N, 64, 64)`` {0, 1} sprites -> ``(N, size, size, 1)`` uint8; ``size`` 32 averages 2x2
    pixel blocks (:func:`halved`; a quarter of the compute on CPU)."""
    pixels = (images.astype(np.uint8) * 255)[..., None]
    if size == 64:
        return pixels
    if size != 32:
        raise UserError(f"shapes images are 64 or 32 px, got {size}")
    return halved(pixels)


def halved(images: np.ndarray) -> np.ndarray:
    """``(N, S, S, C)`` uint8 images averaged over 2x2 pixel blocks (rounded):
    ``(N, S/2, S/2, C)`` uint8, as shapes at 32 px are made of 64-px sprites."""
    n, side, _, channels = images.shape
    blocks = images.reshape(n, side // 2, 2, side // 2, 2, channels)
    return np.rint(blocks.mean(axis=(2, 4), dtype=np.float32)).astype(np.uint8)


def shapes_data(n: int, seed: int, shapes: tuple[int, ...], size: int = 64) -> tuple[ConceptData, np.ndarray]:
    """``n`` random sprites of the given shape ids, as :class:`ConceptData` (concepts scale,
    pos_x, pos_y; label the quadrant) plus their ``(n,)`` shape ids: the data of ``latentplay
    metrics concepts`` (not a leakage experiment). ``size`` 32 averages 2x2 pixel blocks."""
    from latentplay.sources.shapes import FACTOR_SIZES, render

    rng = np.random.default_rng(seed)
    f = np.stack([rng.integers(0, s, n) for s in FACTOR_SIZES], axis=1)
    f[:, 0] = np.asarray(shapes)[rng.integers(0, len(shapes), n)]
    levels = f[:, [1, 3, 4]]
    concepts = levels / (np.array(FACTOR_SIZES)[[1, 3, 4]] - 1.0)
    labels = (f[:, 3] >= 16) * 2 + (f[:, 4] >= 16)
    images = _downsample(render(f), size)
    return ConceptData(images, concepts, labels, levels, ["scale", "pos_x", "pos_y"]), f[:, 0]


def position_levels(low: float, high: float) -> np.ndarray:
    """The position levels (pos_x and pos_y share them) whose value lies strictly between
    ``low`` and ``high``."""
    from latentplay.sources.shapes import FACTOR_VALUES

    values = FACTOR_VALUES["pos_x"]
    return np.flatnonzero((values > low) & (values < high))


def dsprites_domain(size: int = 64, n: int | None = None, seed: int = 0) -> ConceptData:
    """The training domain of the ``dsprites`` experiment: every centred sprite (pos_x and pos_y
    in :data:`CENTRE`; 3 shapes x 6 scales x 40 orientations x 2 x 2 positions = 2,880), or
    ``n`` of them drawn without replacement. Concepts :data:`DSPRITES_CONCEPTS` (the shape
    one-hot, scale and orientation levels scaled to [0, 1]); label: the shape."""
    from latentplay.sources.shapes import FACTOR_SIZES, render

    centre = position_levels(*CENTRE)
    grid = np.array(list(itertools.product(range(FACTOR_SIZES[0]), range(FACTOR_SIZES[1]),
                                           range(FACTOR_SIZES[2]), centre, centre)), dtype=np.int64)
    if n is not None:
        if not 1 <= n <= len(grid):
            raise UserError(f"the dsprites training domain holds {len(grid):,} centred sprites; "
                            f"asked for {n:,}")
        grid = grid[np.sort(np.random.default_rng([seed, 2]).permutation(len(grid))[:n])]
    onehot = np.eye(FACTOR_SIZES[0], dtype=np.int64)[grid[:, 0]]
    scaled = grid[:, [1, 2]] / (np.array(FACTOR_SIZES[1:3]) - 1.0)
    return ConceptData(
        _downsample(render(grid), size),
        np.concatenate([onehot, scaled], axis=1),
        grid[:, 0].copy(),
        np.concatenate([onehot, grid[:, [1, 2]]], axis=1),
        list(DSPRITES_CONCEPTS),
        {"shape": [0, 1, 2]},
    )


def corner_grid() -> tuple[np.ndarray, np.ndarray]:
    """Every sprite of the ``dsprites`` probe as ``(92160, 5)`` factor levels, and its corner
    ``(92160,)``: 0 with pos_x and pos_y below :data:`CORNERS`' first value, 1 above its
    second."""
    from latentplay.sources.shapes import FACTOR_SIZES

    parts, corners = [], []
    for corner, levels in enumerate((position_levels(-np.inf, CORNERS[0]),
                                     position_levels(CORNERS[1], np.inf))):
        part = np.array(list(itertools.product(range(FACTOR_SIZES[0]), range(FACTOR_SIZES[1]),
                                               range(FACTOR_SIZES[2]), levels, levels)),
                        dtype=np.int64)
        parts.append(part)
        corners.append(np.full(len(part), corner, dtype=np.int64))
    return np.concatenate(parts), np.concatenate(corners)


def dsprites_probe(n: int, seed: int, size: int = 64) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``n`` sprites of :func:`corner_grid` drawn without replacement: ``(n, size, size, 1)``
    uint8 images, their corner ``(n,)`` (the held-out target) and factor levels ``(n, 5)``."""
    grid, corner = corner_grid()
    if not 1 <= n <= len(grid):
        raise UserError(f"the dsprites probe set holds {len(grid):,} corner sprites; asked for {n:,}")
    rows = np.random.default_rng([seed, 3]).permutation(len(grid))[:n]
    from latentplay.sources.shapes import render

    return _downsample(render(grid[rows]), size), corner[rows], grid[rows]


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
        {"digit": [0, 1]},
    )
    return domain, images[~inside], digits[~inside] % 2


# ---------------------------------------------------------------------- probe
def probe_splits(target: np.ndarray, splits: int, seed: int, groups: np.ndarray | None = None
                 ) -> list[tuple[np.ndarray, np.ndarray]]:
    """``splits`` stratified halvings of the probe rows, ``(training rows, test rows)``: each
    target value's rows shuffled and halved (an odd one out goes to the test half). With
    ``groups`` ``(N,)`` (persons) whole groups are halved instead, each counted under its most
    frequent target value, so that no person is on both sides (a probe would otherwise
    recognise persons)."""
    if groups is None:
        unit_of, value_of = np.arange(len(target)), np.asarray(target)
    else:
        _, unit_of = np.unique(groups, return_inverse=True)
        values, codes = np.unique(target, return_inverse=True)
        counts = np.zeros((unit_of.max() + 1, len(values)), dtype=np.int64)
        np.add.at(counts, (unit_of, codes), 1)
        value_of = values[counts.argmax(axis=1)]
    halves = []
    for s in range(splits):
        rng = np.random.default_rng([seed, s])
        tr, te = [], []
        for value in np.unique(value_of):
            chosen = rng.permutation(np.flatnonzero(value_of == value))
            tr.append(chosen[: len(chosen) // 2])
            te.append(chosen[len(chosen) // 2 :])
        halves.append((np.flatnonzero(np.isin(unit_of, np.concatenate(tr))),
                       np.flatnonzero(np.isin(unit_of, np.concatenate(te)))))
    return halves


def _split_accuracy(concepts: np.ndarray, target: np.ndarray, accepted: np.ndarray, tr: np.ndarray,
                    te: np.ndarray, n_values: int) -> float:
    """Probe accuracy on test rows ``te``, trained on the accepted rows of ``tr``: an accepted
    test row gets the probe's prediction, a rejected one a coin flip over the ``n_values``
    target values (its expected accuracy, 1 / ``n_values``). Accepted training rows of one
    value only: that value is predicted; none: accepted test rows get the coin flip too."""
    tr_ok, te_ok = tr[accepted[tr]], te[accepted[te]]
    classes = np.unique(target[tr_ok])
    if len(classes) == 0:
        right = len(te_ok) / n_values
    elif len(classes) == 1:
        right = float(np.sum(target[te_ok] == classes[0]))
    else:
        clf = LogisticRegression(max_iter=1000).fit(concepts[tr_ok], target[tr_ok])
        right = float(np.sum(clf.predict(concepts[te_ok]) == target[te_ok])) if len(te_ok) else 0.0
    return (right + (len(te) - len(te_ok)) / n_values) / len(te)


def random_rejection(accepted: np.ndarray, splits: int, seed: int) -> np.ndarray:
    """``(splits, N)`` bool: per halving, as many rows as ``accepted`` ``(N,)`` accepts, drawn
    uniformly at random (the control of rejection)."""
    kept = int(np.sum(accepted))
    masks = np.zeros((splits, len(accepted)), dtype=bool)
    for s in range(splits):
        masks[s, np.random.default_rng([seed, s, 1]).permutation(len(accepted))[:kept]] = True
    return masks


def probe(
    concepts: np.ndarray,
    target: np.ndarray,
    accepted: np.ndarray | None = None,
    seed: int = 0,
    splits: int = PROBE_SPLITS,
    groups: np.ndarray | None = None,
) -> dict[str, float]:
    """Held-out-target accuracy of a logistic regression on ``(N, k)`` concept activations over
    ``splits`` stratified halvings (:func:`probe_splits`), beside ``chance``: the same probe
    without concepts (the most frequent target of each halving's training rows, guessed for
    its test rows), the one baseline of every row.

    ``accepted`` (rejection on): ``(N,)`` bool, or ``(splits, N)`` one mask per halving (the
    random control); scored as :func:`_split_accuracy` does. ``groups`` ``(N,)``: halve whole
    persons (:func:`probe_splits`). Returns the means over halvings of
    ``leak_accuracy``, ``chance`` and ``leakage`` = (accuracy - chance) / (1 - chance), the
    standard deviations ``leak_accuracy_sd`` and ``leakage_sd``, the share of probe rows
    ``accepted`` and ``splits``.
    """
    n = len(target)
    masks = np.ones((splits, n), dtype=bool) if accepted is None else np.broadcast_to(
        np.asarray(accepted, dtype=bool), (splits, n))
    n_values = len(np.unique(target))
    halves = probe_splits(target, splits, seed, groups)
    acc = np.array([_split_accuracy(concepts, target, masks[s], tr, te, n_values)
                    for s, (tr, te) in enumerate(halves)])
    chance = np.array([np.mean(target[te] == _most_frequent(target[tr])) for tr, te in halves])
    leak = np.where(chance < 1.0, (acc - chance) / np.maximum(1.0 - chance, 1e-12), 0.0)
    return {
        "leak_accuracy": float(acc.mean()),
        "leak_accuracy_sd": _sd(acc),
        "chance": float(chance.mean()),
        "leakage": float(leak.mean()),
        "leakage_sd": _sd(leak),
        "accepted": float(masks.mean()),
        "splits": splits,
    }


def _sd(values: np.ndarray) -> float:
    """The sample standard deviation of ``values`` (0 for one value)."""
    return float(np.std(values, ddof=1)) if len(values) > 1 else 0.0


def _most_frequent(labels: np.ndarray) -> int:
    """The most frequent of ``(n,)`` integer labels (the smallest among ties)."""
    values, counts = np.unique(labels, return_counts=True)
    return int(values[np.argmax(counts)])


# ---------------------------------------------------------------------- experiments
def experiment_data(
    experiment: str, seed: int, n_train: int | None = None, n_probe: int = 5000, size: int = 64
) -> tuple[ConceptData, np.ndarray, np.ndarray, int]:
    """``experiment``'s training domain, probe images, held-out probe target and number of task
    classes."""
    if experiment == "dsprites":
        images, target, _ = dsprites_probe(n_probe, seed + 1, size)
        return dsprites_domain(size, n_train, seed), images, target, 3
    if experiment == "parity":
        domain, images, target = parity_data()
        return domain, images, target, 2
    raise UserError(f"unknown leakage experiment {experiment!r}; choose from {', '.join(EXPERIMENTS)}")


def run_experiment(
    experiment: str,
    train: TrainConfig,
    n_train: int | None = None,
    n_probe: int = 5000,
    progress: Callable[[str], None] | None = None,
    models: tuple[str, ...] = ("vae", "cbm", "glancenet"),
    size: int = 64,
    splits: int = PROBE_SPLITS,
    data_seed: int | None = None,
) -> list[dict[str, Any]]:
    """Train the concept models ``models`` on ``experiment``'s training domain and probe them.

    Returns one row per model (``glancenet`` three times: without rejection, with it, and the
    random-rejection control) with the task ``accuracy`` and the concept scores
    (``concept_scores``: :func:`~latentplay.metrics.concepts.concept_scores`; ``concept_acc``
    and ``concept_r2`` their means over categorical and continuous concepts) on the held-out
    training-domain rows, the probe's scores (:func:`probe`), ``flag`` (:func:`flag_of`) and,
    for rejection rows, ``leakage_acceptance_only``. ``n_train``/``n_probe`` size the dsprites
    experiment (``size`` its image side); the digits set their own. ``data_seed`` (default
    ``train.seed``) draws the images, the held-out rows, the probe's halvings and the random
    rejection; ``train.seed`` the models' initial weights and batches.
    """
    seed = train.seed if data_seed is None else data_seed
    domain, probe_images, probe_target, n_classes = experiment_data(
        experiment, seed, n_train, n_probe, size)
    split = np.random.default_rng(seed).permutation(len(domain))
    n_fit = int(round(len(domain) * (1 - HELD_OUT)))
    fit_data, test_data = domain.subset(split[:n_fit]), domain.subset(split[n_fit:])
    chance = task_chance(fit_data, test_data)
    rows: list[dict[str, Any]] = []
    nothing = np.zeros((len(probe_target), 1))
    for kind in models:
        if progress is not None:
            progress(f"{experiment}: training {kind}")
        model = fit(build(kind, fit_data, n_classes, train), fit_data, train)
        held_out = infer(model, test_data.images)
        scores = evaluate_outputs(held_out, test_data, None, None)
        learned = concept_scores(held_out["concepts"], test_data)
        categorical = [s["accuracy"] for s in learned.values() if "accuracy" in s]
        continuous = [s["r2"] for s in learned.values() if s.get("r2") is not None]
        base = {"experiment": experiment, "accuracy": scores["accuracy"], "task_chance": chance,
                "concept_acc": float(np.mean(categorical)) if categorical else None,
                "concept_r2": float(np.mean(continuous)) if continuous else None,
                "concept_scores": learned,
                "flag": flag_of(scores["accuracy"], chance, concepts_not_learned(learned),
                                len(learned))}
        out = infer(model, probe_images)
        rows.append({**base, "model": kind,
                     **probe(out["concepts"], probe_target, None, seed, splits)})
        if kind == "glancenet":
            control = random_rejection(out["accepted"], splits, seed)
            for name, accepted in (("glancenet+rejection", out["accepted"]),
                                   ("glancenet+random-rejection", control)):
                alone = probe(nothing, probe_target, accepted, seed, splits)["leakage"]
                rows.append({**base, "model": name,
                             **probe(out["concepts"], probe_target, accepted, seed, splits),
                             "leakage_acceptance_only": alone})
            rows[-2]["domain_accepted"] = float(np.mean(held_out["accepted"]))
    return rows


def experiment_settings(experiment: str, train: TrainConfig, n_train: int | None, n_probe: int, size: int,
                        splits: int) -> dict[str, Any]:
    """What ``experiment`` runs with (``leakage.json``'s ``used``)."""
    probe_text = (f"a logistic regression from the concept activations to the held-out target, "
                  f"trained on half the probe images and tested on the other half, over {splits} "
                  "stratified halvings")
    if experiment == "dsprites":
        domain = 2880 if n_train is None else n_train
        return {"training": asdict(train), "size": size, "probe_splits": splits,
                "data": "latentplay's shapes generator (dSprites' factors and levels, its own pixels)",
                "training_domain": {
                    "rows": "centred sprites: pos_x and pos_y both in (0.48, 0.52), i.e. the 2 x 2 "
                            "central position levels; every shape, scale and orientation",
                    "images": domain, "held_out": domain - int(round(domain * (1 - HELD_OUT))),
                    "concepts": DSPRITES_CONCEPTS, "concept_coding": "shape one-hot; scale and "
                    "orientation levels scaled to [0, 1]", "task": "shape (3 classes)"},
                "probe_set": {
                    "rows": "sprites with pos_x and pos_y both < 0.25 (target 0) or both > 0.75 "
                            "(target 1); every shape, scale and orientation (92,160 images)",
                    "images": n_probe, "target": "corner (0: low pos_x and pos_y, 1: high)",
                    "probe": probe_text}}
    return {"training": asdict(train), "probe_splits": splits,
            "data": "scikit-learn's 1,797 digits at 28 px",
            "training_domain": {"rows": "digits 4 and 5", "held_out_share": HELD_OUT,
                                "concepts": ["is_4", "is_5"], "task": "the digit (4 or 5)"},
            "probe_set": {"rows": "the other eight digits", "target": "parity (0 even, 1 odd)",
                          "probe": probe_text}}


def leakage_table(
    experiments: tuple[str, ...] = EXPERIMENTS,
    train: TrainConfig | None = None,
    out: str | os.PathLike[str] | None = None,
    n_train: int | None = None,
    n_probe: int = 5000,
    progress: Callable[[str], None] | None = None,
    models: tuple[str, ...] = ("vae", "cbm", "glancenet"),
    size: int = 64,
    splits: int = PROBE_SPLITS,
    data_seed: int | None = None,
) -> list[dict[str, Any]]:
    """Run the experiments for ``models``; with ``out``, write ``leakage.csv``, the bar chart
    ``leakage.png`` and ``leakage.json`` (the settings the table was measured with, and each
    row's concept scores) there. Returns the table's rows. ``data_seed``: as
    :func:`run_experiment` takes it."""
    if len(set(models)) != len(models):
        raise UserError(f"a model is named twice in {', '.join(models)}")
    train = train or TrainConfig()
    rows: list[dict[str, Any]] = []
    used: dict[str, dict[str, Any]] = {}
    for experiment in experiments:
        # The digits domain is small (~290 images of 4 and 5): 3x the epochs in batches of at
        # most 16, so every model gets several hundred optimiser steps.
        t = (
            train
            if experiment == "dsprites"
            else replace(train, epochs=max(train.epochs, 1) * 3, batch_size=min(train.batch_size, 16))
        )
        used[experiment] = experiment_settings(experiment, t, n_train, n_probe, size, splits)
        rows += run_experiment(experiment, t, n_train, n_probe, progress, models, size, splits,
                               data_seed)
    if out is None:
        return rows
    settings = {"experiments": list(experiments), "models": list(models), "asked": {
        "training": asdict(train), "n_train": n_train, "n_probe": n_probe, "size": size,
        "probe_splits": splits,
        "data_seed": train.seed if data_seed is None else data_seed}, "used": used,
        "concept_scores": [{"experiment": r["experiment"], "model": r["model"],
                            "concepts": r["concept_scores"]} for r in rows
                           if "+" not in str(r["model"])]}
    with staged_outputs(make_parents(out)) as out_dir:
        write_csv(rows, out_dir / "leakage.csv")
        bar_chart(rows, out_dir / "leakage.png")
        (out_dir / "leakage.json").write_text(json.dumps({**settings, "made_by": made_by()}, indent=2)
                                              + "\n", encoding="utf-8")
    return rows


CSV_FIELDS = ("experiment", "model", "accuracy", "leak_accuracy", "chance", "leakage", "accepted",
              "domain_accepted", "task_chance", "leakage_sd", "leak_accuracy_sd", "splits",
              "leakage_acceptance_only", "concept_acc", "concept_r2", "concepts", "flag")


def write_csv(rows: list[dict[str, Any]], path: Path) -> None:
    """The table as CSV (one row per experiment and model); ``concepts`` is
    :func:`~latentplay.metrics.concepts.concept_text` of the row's concept scores."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=CSV_FIELDS, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            cells = {k: (f"{v:.4f}" if isinstance(v, float) else "" if v is None else v)
                     for k, v in row.items()}
            if isinstance(row.get("concept_scores"), dict):
                cells["concepts"] = concept_text(row["concept_scores"])
            writer.writerow(cells)


def bar_chart(rows: list[dict[str, Any]], path: Path) -> None:
    """:func:`leakage_figure` of ``rows`` saved as a PNG at ``path``."""
    from latentplay.viz.grid import save_figure

    save_figure(leakage_figure(rows), path, dpi=120)


def _number(row: dict[str, Any] | None, key: str) -> float:
    """``row[key]`` as a float; NaN when there is no row, no such key or an empty cell."""
    value = None if row is None else row.get(key)
    return float("nan") if value is None or value == "" else float(value)


@drawn_as_written
def leakage_figure(rows: list[dict[str, Any]]) -> Figure:
    """Grouped bars of leakage per model, one group per experiment, on the whole scale up to 1
    (the target read perfectly from the concepts), so small leakage looks small. Error bars:
    ± one standard deviation over the probe's halvings; under a rejecting model's value, the
    share of probe images it accepted, and a diamond at what its acceptance alone scores
    (``leakage_acceptance_only``); hatched: a flagged model (:func:`flag_of`). A model not run
    on an experiment has no bar there. The models' colours: grey for the VAE, the others
    Okabe and Ito's (:data:`~latentplay.viz.style.CLASS_COLORS`), apart for colour-blind
    readers (tab10's red and green of cbm and glancenet+rejection were 4.6 CIEDE2000 apart
    to a deuteranope)."""
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.transforms import offset_copy

    from latentplay.viz.style import CLASS_COLORS, tight_layout, wrap_title

    colours = dict(zip(ROWS, ["0.4", *CLASS_COLORS[:4]], strict=True))
    experiments = list(dict.fromkeys(str(r["experiment"]) for r in rows))
    models = [m for m in ROWS if any(r["model"] == m for r in rows)]
    # the legend under the axes: two experiments make 7 inches, 6.5 points print at 6.4 on a page
    fig, ax = plt.subplots(figsize=(2.2 + 2.4 * len(experiments), 5.2))
    width = 0.84 / len(models)
    flagged_any = shown_alone = False
    for j, model in enumerate(models):
        found = [next((r for r in rows if r["experiment"] == e and r["model"] == model), None)
                 for e in experiments]
        vals = [_number(r, "leakage") for r in found]
        sds = [_number(r, "leakage_sd") for r in found]
        flagged = [bool(r is not None and r.get("flag")) for r in found]
        flagged_any |= any(flagged)
        xs = np.arange(len(experiments)) + (j - (len(models) - 1) / 2) * width
        bars = ax.bar(xs, vals, width, label=model, color=colours[model], edgecolor="white",
                      linewidth=0.5)
        for bar, flag in zip(bars, flagged, strict=True):
            if flag:
                bar.set_hatch("///")
                bar.set_edgecolor("black")
        errs = np.nan_to_num(np.asarray(sds, dtype=float))
        ax.errorbar(xs, vals, yerr=errs, fmt="none", ecolor="black", elinewidth=0.8, capsize=2)
        alone = [_number(r, "leakage_acceptance_only") for r in found]
        if "rejection" in model and np.isfinite(alone).any():
            shown_alone = True
            ax.scatter(xs, alone, marker="D", s=16, facecolor="white", edgecolor="black",
                       linewidth=0.8, zorder=3)
        for x, v, e, r in zip(xs, vals, errs, found, strict=True):
            if not np.isfinite(v):
                continue
            text = f"{v:.2f}".replace("-0.00", "0.00")
            if "rejection" in model and r is not None:
                text += f"\n{_number(r, 'accepted'):.0%} kept"
            if r is not None and r.get("flag") and abs(v) < 0.03:   # too short to show hatching
                text += "\nflagged"
            ax.text(x, max(v, 0.0) + e + 0.015, text, ha="center", va="bottom", fontsize=6.5)
    lows = [_number(r, "leakage") - np.nan_to_num(_number(r, "leakage_sd")) for r in rows]
    lowest = np.nanmin(lows) if np.isfinite(lows).any() else 0.0
    ax.set_ylim(min(0.0, lowest) - 0.05, 1.05)
    ax.set_xticks(np.arange(len(experiments)), experiments)
    ax.axhline(0.0, color="black", linewidth=0.8)
    ax.set_ylabel("leakage  (acc - chance) / (1 - chance)")
    ax.set_title(wrap_title("Concept leakage: held-out target predicted from concepts\n"
                            "mean ± SD over probe halvings; kept: probe images accepted",
                            fig.get_figwidth() - 1.0, 9), fontsize=9)  # the axes' width
    handles: list[Any] = [Patch(facecolor=colours[m], label=m) for m in models]
    if shown_alone:
        handles.append(Line2D([], [], marker="D", linestyle="none", markerfacecolor="white",
                              markeredgecolor="black", markersize=4,
                              label="the same rejection\nwithout concepts"))
    if flagged_any:
        handles.append(Patch(facecolor="white", edgecolor="black", hatch="///",
                             label="hatched (or flagged): task near\nchance or no concept learned"))
    ax.legend(handles=handles, fontsize=7.5, frameon=False, loc="upper center",
              bbox_to_anchor=(0.5, 0), ncol=2 if len(experiments) == 1 else 3,
              bbox_transform=offset_copy(ax.transAxes, fig, y=-18, units="points"))
    tight_layout(fig)
    return fig
