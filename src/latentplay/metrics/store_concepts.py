"""Concept models on a store's faces: a store's attributes as GlanceNet's concepts and task.

GlanceNets trained on CelebA with attributes as concepts; :func:`store_concept_data` makes the
same data of any latentplay store. Each concept attribute becomes concept columns in [0, 1]:

* a categorical attribute of two classes: one column, 1 for its second class
  (``eyeglasses=yes``, ``gender=male``);
* a categorical attribute of more classes: one-hot columns ``hair_color=black``, ... (a
  categorical concept, scored by which of its columns is largest);
* a continuous attribute: its value scaled to [0, 1] by the attribute's range (the training
  rows' minimum and maximum where the store records none), clipped; its levels for the
  alignment scores are 20 equal-width bins of the scaled value (disentanglement_lib's
  histogram discretisation);
* a factor (a shapes store's ``scale``, ...): its level over the number of levels less one.

The task label is a categorical (or factor) attribute. Rows without a value of the label
(``unknown``, missing) are left out; rows without a value of some concept are trained on
without concept supervision, as GlanceNets' unsupervised rows (``--masking-fact``) are, and
left out of the concept scores and of the leakage probe. The held-out rows are drawn as a training
run draws them (:func:`~latentplay.train.data.held_out_rows`; split ``auto``: whole persons
where the store shows persons in several rows, so that no person is in both parts), or are
the store's own test (or val) part (split ``store``).

:func:`concept_leakage` asks of the trained model what GlanceNets' leakage test asks: do the
concept activations carry an attribute they were not meant to carry? On faces that attribute
may truly go with the concepts (men smile less in a confounded collection), so the probe of
the activations is set beside the same probe of the *true* concept values: what the
activations tell beyond it is the leak.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from latentplay.errors import UserError
from latentplay.metrics.concepts import ConceptData
from latentplay.store import Store, load_images
from latentplay.store.bias import repeated_persons
from latentplay.store.io import store_digest
from latentplay.store.schema import UNKNOWN, Attribute
from latentplay.store.split import HELD_OUT

BINS = 20
"""Equal-width levels of a continuous concept for the alignment scores (disentanglement_lib's
``num_bins``)."""
FREE_LATENTS = 16
"""Latents beyond the concept columns a store's GlanceNet gets by default: the rest of a face
(background, skin, pose) must be drawn from somewhere, and with too few free latents the
concept latents carry it. GlanceNets on 4,000 synthfaces (8 concept columns, task gender x
eyeglasses, 40 epochs at 32 px, three training seeds on the same faces) leaked the background
beyond their concepts by 0.16 ± 0.16 with 2 free latents and 0.02 ± 0.01 with 16, their task
accuracy rising from 0.79 to 0.85; skin tone leaked in two seeds of three either way
(docs/metrics.md)."""
SIZES = (28, 32, 64, 128)
"""Image sides the concept models' networks take."""


@dataclass
class StoreConcepts:
    """A store's rows as concept data.

    Attributes:
        train / test: the two parts (images ``(N, S, S, C)`` uint8).
        classes: the task label's class names, indexed by the label codes of ``train`` and
            ``test`` (classes without a row left out).
        rows_train / rows_test: ``(N,)`` store rows of each part.
        left_out: rows without a value of the label.
        unlabelled: rows of the two parts without a value of some concept, trained on
            without concept supervision and left out of the concept scores.
        persons_test: ``(N_test,)`` person codes of the test rows where the store shows a
            person in several rows (:func:`~latentplay.store.bias.repeated_persons`), else None.
        split: how the test rows were chosen: ``rows``, ``persons`` or ``store`` (the
            store's own test or val part).
    """

    train: ConceptData
    test: ConceptData
    classes: list[str]
    rows_train: np.ndarray
    rows_test: np.ndarray
    left_out: int
    unlabelled: int
    persons_test: np.ndarray | None
    split: str

    def record(self, store: Store, label: str, attributes: Sequence[str], crop: float
               ) -> dict[str, Any]:
        """What ``metrics.json`` keeps of the data (``data``)."""
        return {"store": str(store.path), "store_digest": store_digest(store),
                "label": label, "classes": self.classes,
                "concept_attributes": list(attributes), "crop": crop,
                "rows_train": len(self.rows_train),
                "rows_test": len(self.rows_test), "left_out": self.left_out,
                "unlabelled": self.unlabelled, "split": self.split}


def known_rows(attr: Attribute, values: np.ndarray) -> np.ndarray:
    """``(N,)`` bool: rows of ``values`` (``store.labels`` of ``attr``) that hold a value."""
    known = np.isfinite(values.astype(np.float64))
    if attr.kind == "categorical":
        known &= values >= 0
        if UNKNOWN in attr.level_names:
            known &= values != attr.level_names.index(UNKNOWN)
    return known


def _columns(attr: Attribute, values: np.ndarray, known: np.ndarray, train: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray, list[str], bool]:
    """Concept columns ``(N, m)`` in [0, 1], their levels ``(N, m)`` int, their names and
    whether they are one categorical concept (one column of two values, or one-hot: a
    categorical attribute's or nominal factor's classes), from
    ``attr``'s ``(N,)`` ``values``, those of rows outside ``known`` ``(N,)`` bool giving
    columns 0 and levels -1 (``train``: ``(N,)`` bool, the rows a continuous range is taken
    from, with ``known``)."""
    if attr.kind == "factor" and not attr.nominal:
        levels = values.astype(np.int64)
        columns = levels / max(len(attr.values or []) - 1, 1)
        names, grouped = [attr.name], False
    elif attr.kind == "continuous":
        seen = values[train & known]
        low, high = attr.range if attr.range else (seen.min(), seen.max())
        columns = np.clip((np.where(known, values, low) - low) / max(high - low, 1e-12), 0.0, 1.0)
        levels = np.minimum((columns * BINS).astype(np.int64), BINS - 1)
        names, grouped = [attr.name], False
    else:
        classes = [n for n in attr.level_names if n != UNKNOWN]
        codes = values.astype(np.int64)
        if len(classes) == 2:
            classes = classes[1:]  # one column, 1 for the second class
        levels = np.stack([codes == attr.level_names.index(n) for n in classes], axis=1).astype(np.int64)
        columns, names, grouped = levels.astype(np.float64), [f"{attr.name}={n}" for n in classes], True
    columns = np.where(known[:, None], columns.reshape(len(values), -1), 0.0)
    return columns, np.where(known[:, None], levels.reshape(len(values), -1), -1), names, grouped


def _label_attribute(store: Store, label: str) -> Attribute:
    attr = store.schema.attribute_or_error(label)
    if attr.kind == "continuous":
        raise UserError(f"--label {label} is continuous; a concept model's task is a class: cut it "
                        f"into groups first (latentplay data bin STORE {label} --quantiles 4)")
    return attr


def store_concept_data(store: Store, concepts: Sequence[str], label: str, *, size: int = 64,
                       crop: float = 1.0, test_fraction: float = 0.2, seed: int = 0,
                       limit: int | None = None, split: str = "auto") -> StoreConcepts:
    """``store``'s images at ``size`` x ``size`` (a centred ``crop`` of the shorter side first),
    with attributes ``concepts`` as concept columns and ``label`` as the task (see the module
    docstring); ``limit`` random rows of those with a task value (default all); about
    ``test_fraction`` of them held out (seeded by ``seed``; ``split`` as
    :func:`~latentplay.train.data.held_out_rows` takes it: ``auto``, ``rows``, ``persons``, or
    ``store`` for the store's own test part, ``test_fraction`` unread). Rows without a value of some
    concept are trained on without concept supervision (``ConceptData.known``)."""
    if size not in SIZES:
        raise UserError(f"--size must be one of {', '.join(map(str, SIZES))}, got {size}")
    if not concepts:
        raise UserError("--concepts: name at least one attribute of the store")
    if label in concepts:
        raise UserError(f"--label {label} is also a concept: the task must be another attribute")
    twice = sorted({c for c in concepts if list(concepts).count(c) > 1})
    if twice:
        raise UserError(f"--concepts names {', '.join(twice)} twice")
    if not 0.0 < test_fraction < 1.0:
        raise UserError(f"--test-fraction must be between 0 and 1, got {test_fraction:g}")
    label_attr = _label_attribute(store, label)
    attrs = [store.schema.attribute_or_error(c) for c in concepts]
    values = {a.name: np.asarray(store.labels(a.name)) for a in [*attrs, label_attr]}
    labelled = known_rows(label_attr, values[label])
    rows = np.flatnonzero(labelled)
    if limit is not None and limit < len(rows):
        rows = np.sort(np.random.default_rng([seed, 4]).choice(rows, size=limit, replace=False))
    if len(rows) < 10:
        raise UserError(f"{len(rows)} rows of {store.path} hold a value of {label}; a concept "
                        "model needs at least 10")
    if split not in HELD_OUT and split != "auto":
        raise UserError(f"--split must be one of auto, {', '.join(HELD_OUT)}; got {split!r}")
    test = _held_out(store, rows, test_fraction, seed, split)
    train = ~test
    known = np.logical_and.reduce([known_rows(a, values[a.name][rows]) for a in attrs])
    if known[train].sum() < 2 or known[test].sum() < 2:
        raise UserError(f"{int(known[train].sum())} training and {int(known[test].sum())} test "
                        f"rows hold a value of every concept ({', '.join(concepts)}); the concept "
                        "scores need at least 2 of each")
    cols, levels, names, categorical = [], [], [], {}
    for a in attrs:
        c, lv, n, grouped = _columns(a, values[a.name][rows], known, train)
        if grouped:
            categorical[n[0] if len(n) == 1 else a.name] = list(range(len(names), len(names) + len(n)))
        cols.append(c)
        levels.append(lv)
        names += n
    codes = values[label][rows].astype(np.int64)
    present = np.unique(codes)
    if len(present) < 2:
        raise UserError(f"--label {label}: the rows with a value of it hold one class only")
    label_codes = np.searchsorted(present, codes)
    # the labels of all rows; each part's images are decoded on their own (the images of all
    # rows beside each part's copy of them held them twice)
    data = ConceptData(np.empty((len(rows), 0, 0, 0), np.uint8), np.concatenate(cols, axis=1),
                       label_codes, np.concatenate(levels, axis=1), names, categorical,
                       None if known.all() else known)

    def part(mask: np.ndarray) -> ConceptData:
        chosen = np.flatnonzero(mask)
        return replace(data.subset(chosen), images=_images(store, rows[chosen], size, crop))

    classes = [label_attr.level_names[c] for c in present]
    persons = repeated_persons(store)
    if split == "auto":  # as held_out_rows resolved it on these rows
        repeated = persons is not None and len(np.unique(persons[rows])) < len(rows)
        split = "persons" if repeated else "rows"
    return StoreConcepts(part(train), part(test),
                         classes, rows[train], rows[test], int(len(store) - labelled.sum()),
                         int((~known).sum()), None if persons is None else persons[rows[test]],
                         split)


def _held_out(store: Store, rows: np.ndarray, fraction: float, seed: int, split: str
              ) -> np.ndarray:
    """``(len(rows),)`` bool: the held-out ones of ``rows``
    (:func:`~latentplay.train.data.held_out_rows` on those rows, by ``split``)."""
    from latentplay.train.data import held_out_rows

    mask = np.zeros(len(rows), dtype=bool)
    mask[held_out_rows(store.select(rows), len(rows), fraction, seed, split,
                       names=("--split ", "--test-fraction "))] = True
    if mask.all() or not mask.any():
        raise UserError(f"holding out {fraction:g} of {len(rows)} rows leaves no "
                        f"{'training' if mask.all() else 'test'} row; change --test-fraction")
    return mask


def _images(store: Store, rows: np.ndarray, size: int, crop: float) -> np.ndarray:
    """``(N, size, size, C)`` uint8 images of ``rows``: gray stays gray (C 1), any other RGB."""
    stored = load_images(store, rows[:1]).shape[3]
    return load_images(store, rows, size=size, mode="L" if stored in (1, 2) else "RGB", crop=crop)


def concept_leakage(activations: np.ndarray, truth: np.ndarray, target: np.ndarray,
                    seed: int = 0, splits: int = 20, groups: np.ndarray | None = None
                    ) -> dict[str, float]:
    """How much of ``target`` ``(N,)`` (class codes) the concept activations ``(N, k)`` tell
    beyond the true concept values ``truth`` ``(N, k)``: :func:`~latentplay.metrics.leakage.probe`
    of each (a logistic regression over ``splits`` stratified halvings) and ``beyond`` =
    (accuracy from the activations - baseline) / (1 - baseline), the baseline being the
    accuracy from the truth or chance, whichever is higher (a probe of concepts that tell
    nothing of the target may overfit to under chance): 0 when the activations tell no more
    than the concepts do, 1 when they read the target perfectly where the concepts did not.
    ``groups`` ``(N,)`` (persons) halves whole persons, so that the probe cannot recognise
    them. Returns ``accuracy``, ``accuracy_sd``, ``truth_accuracy``,
    ``chance`` (the most frequent class guessed), ``leakage`` (GlanceNets': against chance)
    and ``beyond``."""
    from latentplay.metrics.leakage import probe

    learned = probe(activations, target, seed=seed, splits=splits, groups=groups)
    true = probe(truth, target, seed=seed, splits=splits, groups=groups)
    baseline = max(true["leak_accuracy"], learned["chance"])
    room = 1.0 - baseline
    gain = learned["leak_accuracy"] - baseline   # the same mean of halvings: 0, not -7e-17
    beyond = gain / room if room > 1e-12 and abs(gain) > 1e-12 else 0.0
    return {"accuracy": learned["leak_accuracy"], "accuracy_sd": learned["leak_accuracy_sd"],
            "truth_accuracy": true["leak_accuracy"], "chance": learned["chance"],
            "leakage": learned["leakage"], "beyond": beyond}


def check_leak_targets(store: Store, targets: Sequence[str], concepts: Sequence[str],
                       label: str) -> None:
    """Refuse a ``--leak`` target that is a concept, the task, continuous or not in ``store``."""
    for name in targets:
        if name in concepts or name == label:
            raise UserError(f"--leak {name} is a concept or the task; leakage is of other "
                            "attributes")
        if store.schema.attribute_or_error(name).kind == "continuous":
            raise UserError(f"--leak {name} is continuous; the leakage probe reads a class: cut it "
                            f"into groups first (latentplay data bin STORE {name} --quantiles 4)")


def leakage_of(store: Store, parts: StoreConcepts, activations: np.ndarray,
               targets: Sequence[str], seed: int = 0) -> dict[str, dict[str, Any]]:
    """:func:`concept_leakage` of each of ``targets`` from the test images' concept
    ``activations`` ``(N_test, k)``, on the test images with a value of it and of every concept
    whose class has at least two of them (``images``: how many), halving whole persons where
    the store repeats them (``halved``: ``persons`` or ``rows``); ``{"skipped": why}`` where
    fewer than two classes are left."""
    from latentplay.metrics.concepts import labelled_rows

    found: dict[str, dict[str, Any]] = {}
    for name in targets:
        values = np.asarray(store.labels(name))[parts.rows_test]
        rows = np.intersect1d(np.flatnonzero(known_rows(store.schema.attribute(name), values)),
                              labelled_rows(parts.test))
        classes, counts = np.unique(values[rows], return_counts=True)
        rows = rows[np.isin(values[rows], classes[counts >= 2])]
        if len(np.unique(values[rows])) < 2:
            found[name] = {"skipped": "fewer than two classes of two test images each"}
            continue
        groups = None if parts.persons_test is None else parts.persons_test[rows]
        found[name] = {**concept_leakage(activations[rows], parts.test.concepts[rows],
                                         values[rows].astype(np.int64), seed=seed, groups=groups),
                       "images": int(len(rows)),
                       "halved": "rows" if parts.persons_test is None else "persons"}
    return found
