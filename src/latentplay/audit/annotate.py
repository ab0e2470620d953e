"""Annotators: label images with the classes of one attribute, and say how often they err.

Three kinds, one interface (:class:`Annotator`: ``predict_proba``, ``predict``, ``evaluation``):

- :class:`ClassifierAnnotator`: an image embedding (default ``pixels-pca`` fitted on the store;
  any embedder name of :mod:`latentplay.embed`) plus a scikit-learn logistic regression, trained
  on a labelled store. Fitting holds out a stratified split and measures the annotator's own
  accuracy and confusion matrix there. Saved as one ``.npz`` of plain arrays plus a JSON string
  (read with ``allow_pickle=False``: loading a file never runs code from it).
- :class:`ClipAnnotator`: CLIP zero-shot, a text prompt (or an ensemble of them) per class,
  weights from a local file (needs the optional ``open_clip``). Its confusion matrix is
  measured with :meth:`evaluate` on a labelled store.
- :class:`NetworkAnnotator`: one head of a classification network exported to ONNX (e.g.
  FairFace's race, gender and age classifier; :class:`latentplay.measure.predict.HeadNetwork`),
  its confusion measured with :meth:`evaluate` on a labelled store whose classes it shares.
- :class:`StoreLabels`: the labels a store of generated images already carries (measured with
  ``latentplay data measure``, or the conditions ``latentplay data generate`` wrote): no
  classifier, so no classifier error to correct.

No annotator has a class ``unknown``: a training row labelled ``unknown`` or not at all, and
a generated image a store's labels give no class, are no class (-1).

A network's value head (an age regressor's years) gives numbers, not classes:
:class:`NetworkValues` reads it on training and generated images alike, so the two samples are
compared as values with the same reader's error on both sides.

>>> ann = fit_classifier("data/faces", "skin_tone")
>>> ann.evaluation.accuracy, ann.evaluation.confusion       # held-out, (K, K)
>>> ann.save("skin_tone.npz"); ann = load_annotator("skin_tone.npz")
>>> codes = ann.predict(images)                              # (N,) indices into ann.classes
"""

from __future__ import annotations

import abc
import dataclasses
import json
import math
import os
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import confusion_matrix
from sklearn.model_selection import StratifiedGroupKFold, train_test_split
from sklearn.preprocessing import StandardScaler

from latentplay import store as st
from latentplay.audit.distribution import data_name
from latentplay.audit.goodness_of_fit import confusion_rates
from latentplay.clustered import share_spread
from latentplay.embed.base import Embedder, EmbedderSpec, Images, embed_images, embedder_class, make_embedder
from latentplay.embed.column import load_rows
from latentplay.errors import UserError
from latentplay.jsontext import parsed_json
from latentplay.names import name_list
from latentplay.outputs import replaced_whole
from latentplay.reprs import short_repr
from latentplay.store.bias import repeated_persons
from latentplay.store.io import opened
from latentplay.store.schema import UNKNOWN, check_file_safe, class_places
from latentplay.store.split import HELD_OUT, stored_part, stored_test_rows

FORMAT = "latentplay-annotator"
FORMAT_VERSION = 1
BATCH = 256
CLASS_ROWS = 50
"""Rows of a class an annotator's random calibration draw missed that :meth:`Annotator.evaluate`
adds, so that its confusion row is measured."""


def commonest_share(counts: Any) -> float:
    """The accuracy of naming the commonest true class every time, from an annotator's ``(K, K)``
    confusion counts (rows true): the chance level its accuracy is read against."""
    rows = [float(sum(row)) for row in counts]
    return max(rows) / max(sum(rows), 1.0)


def chance_text(counts: Any) -> str:
    """The chance level beside an annotator's accuracy, in the words every output uses:
    ``naming the commonest class every time: 0.500`` from its ``(K, K)`` confusion counts."""
    return f"naming the commonest class every time: {commonest_share(counts):.3f}"


@dataclass
class Evaluation:
    """How an annotator does on labelled images.

    Attributes:
        accuracy: share of images given their true class.
        confusion: ``(K, K)`` P(predicted = column | true = row); a row of a class absent from
            the evaluation images is NaN.
        counts: ``(K, K)`` int, the same as counts.
        n: number of images evaluated.
        confidence: mean probability of the class chosen, over those images (None when not
            known): an annotator much less sure of other images errs differently on them.
        persons: where some person has several of the images, how many persons they show;
            None when the images are independent.
        effective: with ``persons``, ``(K,)`` how many independent images each confusion row
            is worth: its images over the design effect of its readings across the persons
            (at least 1; a person's photos tend to be misread alike); None otherwise.
    """

    __repr__ = short_repr

    accuracy: float
    confusion: np.ndarray
    counts: np.ndarray
    n: int
    confidence: float | None = None
    persons: int | None = None
    effective: np.ndarray | None = None

    @classmethod
    def from_proba(cls, true: np.ndarray, proba: np.ndarray,
                   persons: np.ndarray | None = None) -> Evaluation:
        """From ``(n,)`` true class indices, ``(n, K)`` predicted probabilities and, where
        they repeat, the images' ``(n,)`` persons."""
        k = proba.shape[1]
        predicted = proba.argmax(axis=1)
        counts = confusion_matrix(true, predicted, labels=np.arange(k))
        out = cls(float(np.mean(true == predicted)), confusion_rates(counts), counts,
                  int(len(true)), float(proba.max(axis=1).mean()) if len(proba) else None)
        seen = None if persons is None else len(np.unique(persons))
        if seen is not None and seen < len(persons):
            out.persons = seen
            out.effective = row_effective_sizes(true, predicted, persons, k)
        return out

    @property
    def measured_counts(self) -> np.ndarray:
        """``(K, K)`` counts the confusion's measuring error is read from: :attr:`counts`,
        each row scaled to its :attr:`effective` size where persons repeat (then not whole
        numbers)."""
        if self.effective is None:
            return self.counts
        rows = self.counts.sum(axis=1)
        return self.counts * (self.effective / np.maximum(rows, 1))[:, None]

    def to_dict(self) -> dict[str, Any]:
        return {"accuracy": self.accuracy, "n": self.n, "confidence": self.confidence,
                "confusion": [[None if np.isnan(v) else float(v) for v in row]
                              for row in self.confusion],
                "counts": self.counts.tolist(), "persons": self.persons,
                "effective": None if self.effective is None else self.effective.tolist()}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Evaluation:
        """The :class:`Evaluation` of :meth:`to_dict`'s ``d``."""
        return cls(d["accuracy"], np.array(d["confusion"], dtype=float), np.array(d["counts"]),
                   d["n"], d.get("confidence"), d.get("persons"),
                   None if d.get("effective") is None else np.array(d["effective"], float))


def effective_text(rows: np.ndarray, effective: np.ndarray) -> str:
    """``"a person's photos tend to be misread alike: the rows' error counts as that of 41 of
    their 120 images"`` for ``(K,)`` held-out images per row and their
    :func:`row_effective_sizes`."""
    return (f"a person's photos tend to be misread alike: the rows' error counts as that of "
            f"{effective.sum():.0f} of their {rows.sum():.0f} images")


def row_effective_sizes(true: np.ndarray, predicted: np.ndarray, persons: np.ndarray,
                        k: int) -> np.ndarray:
    """``(K,)`` independent images each row of a confusion measured on ``(n,)`` ``true`` and
    ``predicted`` classes of the ``(n,)`` ``persons``' images is worth: the row's images over
    the design effect of its predicted shares across the persons
    (:func:`~latentplay.clustered.share_spread`), at least 1; a row read as one class alone, or
    from one person, keeps its images (its spread is not measured)."""
    out = np.bincount(true, minlength=k).astype(np.float64)
    for i in np.flatnonzero(out):
        mine = true == i
        spread = share_spread(predicted[mine], k, persons[mine])
        if spread is not None and spread.design_effect > 1:
            out[i] /= spread.design_effect
    return out


CONFIDENCE_DROP = 0.1  # a fall in mean confidence worth a caution


def confidence_shift(annotator: Mapping[str, Any],
                     doubt: str = "its errors on them, and the corrected shares, are uncertain"
                     ) -> str | None:
    """How sure an annotator was on the labelled images its confusion was measured on and on
    the audited ones (an ``annotator`` entry of ``audit compare``'s summary), with a caution
    when it is clearly less sure of the latter, or clearly surer (images unlike any it saw can
    do that too), ending in ``doubt``: what is uncertain then; None when either is unknown.
    A confidence unchanged is no proof of familiar ground (noise can be read as surely as
    faces)."""
    labelled = (annotator.get("evaluation") or {}).get("confidence")
    audited = annotator.get("confidence_generated")
    if labelled is None or audited is None:
        return None
    text = f"annotator confidence {labelled:.3f} on labelled images, {audited:.3f} on these"
    if labelled - audited >= CONFIDENCE_DROP:
        text += f"; they are unlike the images its confusion was measured on, so {doubt}"
    elif audited - labelled >= CONFIDENCE_DROP:   # a blank image read as one class at 1.000
        text += ("; it is surer of these than of the images it was measured on, which images "
                 "unlike those (blank, uniform, noise) can make a classifier: look at them "
                 f"before reading the shares; {doubt}")
    return text


def store_classes(store: st.Store, attribute: str) -> tuple[list[str], np.ndarray]:
    """Level names of a categorical or factor ``attribute`` and the ``(N,)`` int codes."""
    attr = store.schema.attribute_or_error(attribute)
    if attr.kind == "continuous":
        raise UserError(f"attribute {attr.name!r} is continuous; this needs a categorical "
                        f"attribute (bin it with `latentplay data bin STORE {attr.name}`)")
    return attr.level_names, np.asarray(store.labels(attr.name), dtype=np.int64)


def read_classes(proba: np.ndarray) -> np.ndarray:
    """``(N,)`` int classes of ``(N, K)`` class probabilities: the most probable, -1 where a
    row is all zeros (an annotator that gives the image no class)."""
    if not len(proba):
        return np.zeros(0, dtype=np.int64)
    return np.where(proba.max(axis=1) > 0, proba.argmax(axis=1), -1)


class Annotator(abc.ABC):
    """Labels images with ``classes`` of ``attribute``.

    Attributes:
        attribute: the attribute's name.
        classes: ``K`` class names; predictions are indices into this list.
        evaluation: accuracy and confusion on labelled images, or None when not measured.
    """

    attribute: str
    classes: list[str]
    evaluation: Evaluation | None

    def __repr__(self) -> str:
        """One line for a notebook: kind, attribute, classes (their number beyond ten) and the
        accuracy measured on labelled images."""
        classes = repr(self.classes) if len(self.classes) <= 10 else f"<{len(self.classes)} classes>"
        accuracy = "not measured" if self.evaluation is None else (
            f"{self.evaluation.accuracy:.3g} on {self.evaluation.n} images")
        return (f"{type(self).__name__}(kind={self.description.get('kind')!r}, "
                f"attribute={self.attribute!r}, classes={classes}, accuracy={accuracy})")

    @property
    @abc.abstractmethod
    def description(self) -> dict[str, Any]:
        """What the annotator is (kind, embedder or weights), for summaries."""

    @abc.abstractmethod
    def predict_proba(self, images: Images) -> np.ndarray:
        """``(N, K)`` class probabilities of ``(N, H, W, C)`` uint8 images (any size)."""

    def predict(self, images: Images) -> np.ndarray:
        """``(N,)`` int class indices (into :attr:`classes`) of ``images``; -1 for none."""
        return read_classes(self.predict_proba(images))

    def proba_store(self, store: st.Store, rows: np.ndarray) -> np.ndarray:
        """``(n, K)`` class probabilities of the images of store ``rows``, read a batch at a
        time."""
        out = [self.predict_proba(load_rows(store, rows[s:s + BATCH]))
               for s in range(0, len(rows), BATCH)]
        return np.concatenate(out) if out else np.zeros((0, len(self.classes)))

    def store_truth(self, store: st.Store) -> np.ndarray:
        """``(N,)`` int: each row's label of :attr:`attribute` in ``store`` as an index into
        :attr:`classes` (matched by name), -1 where the label is none of them or missing."""
        names, codes = store_classes(store, self.attribute)
        to_mine = np.array([self.classes.index(n) if n in self.classes else -1 for n in names]
                           + [-1])
        return to_mine[np.where((codes >= 0) & (codes < len(names)), codes, -1)]

    def evaluate(self, store: st.Store | str | os.PathLike[str], max_rows: int = 2000,
                 seed: int = 0) -> Evaluation:
        """Measure accuracy and confusion on up to ``max_rows`` random labelled rows of
        ``store`` (classes matched by name), plus up to :data:`CLASS_ROWS` rows of each class
        the random draw missed, so that every class with labelled rows has its confusion row
        measured (a missing row was taken as always read right); kept as :attr:`evaluation`
        and returned."""
        store = opened(store)
        mine = self.store_truth(store)
        rows = np.flatnonzero(mine >= 0)
        if not len(rows):
            raise UserError(f"no rows of {store.path} have a class the annotator knows")
        rng = np.random.default_rng(seed)
        drawn = rng.choice(rows, size=min(max_rows, len(rows)), replace=False)
        missed = [rng.choice(of, size=min(CLASS_ROWS, len(of)), replace=False)
                  for k in np.setdiff1d(np.unique(mine[rows]), mine[drawn])
                  if len(of := rows[mine[rows] == k])]
        rows = np.sort(np.concatenate([drawn, *missed]))
        persons = repeated_persons(store)
        self.evaluation = Evaluation.from_proba(mine[rows], self.proba_store(store, rows),
                                                None if persons is None else persons[rows])
        return self.evaluation


class ClassifierAnnotator(Annotator):
    """Embedder + standardisation + logistic regression, trained on a labelled store.

    Build it with :func:`fit_classifier`; save with :meth:`save`, load with
    :func:`load_annotator`.
    """

    def __init__(self, attribute: str, classes: list[str], embedder: Embedder,
                 scaler: StandardScaler, model: LogisticRegression,
                 evaluation: Evaluation | None, info: dict[str, Any]) -> None:
        self.attribute = attribute
        self.classes = classes
        self.embedder = embedder
        self.scaler = scaler
        self.model = model
        self.evaluation = evaluation
        self.info = info

    @property
    def description(self) -> dict[str, Any]:
        return {"kind": "classifier", **self.info}

    def embed(self, images: Images) -> np.ndarray:
        """``(N, dim)`` float32 embeddings of ``images`` (prepared for the embedder first)."""
        return embed_images(self.embedder, images, BATCH)[0]

    def embed_store(self, store: st.Store, rows: np.ndarray) -> np.ndarray:
        """``(n, dim)`` float32 embeddings of store ``rows``, read a batch at a time."""
        emb = self.embedder
        out = [emb.embed(load_rows(store, rows[s:s + BATCH], emb.image_size, emb.image_mode,
                                   emb.image_crop)) for s in range(0, len(rows), BATCH)]
        return np.concatenate(out) if out else np.zeros((0, emb.dim), np.float32)

    def predict_proba(self, images: Images) -> np.ndarray:
        return self.proba_of_embeddings(self.embed(images))

    def proba_of_embeddings(self, x: np.ndarray) -> np.ndarray:
        """``(N, K)`` class probabilities of ``(N, dim)`` embeddings."""
        if not len(x):
            return np.zeros((0, len(self.classes)))
        return self.model.predict_proba(self.scaler.transform(x))

    def save(self, path: str | os.PathLike[str], overwrite: bool = False) -> Path:
        """Write the annotator to ``path`` (one ``.npz``, no pickled objects); returns it.
        An existing file there is replaced only with ``overwrite`` (:func:`refuse_existing`)."""
        refuse_existing(path, overwrite)
        path = Path(path)
        meta = {"format": FORMAT, "version": FORMAT_VERSION, "attribute": self.attribute,
                "classes": self.classes, "info": self.info,
                "evaluation": None if self.evaluation is None else self.evaluation.to_dict()}
        arrays = {"meta": np.array(json.dumps(meta)),
                  "scaler_mean": self.scaler.mean_, "scaler_scale": self.scaler.scale_,
                  "coef": self.model.coef_, "intercept": self.model.intercept_,
                  **{f"embedder.{k}": v for k, v in _embedder_state(self.embedder).items()}}
        with replaced_whole(path) as tmp, open(tmp, "wb") as fh:
            np.savez(fh, **arrays)
        return path


def refuse_existing(path: str | os.PathLike[str], overwrite: bool) -> None:
    """Refuse to write an annotator file where one exists (a :class:`UserError`), unless
    ``overwrite``; a directory at ``path`` is refused either way."""
    path = Path(path)
    if path.is_dir():
        raise UserError(f"{path} is a directory; name the annotator file to write (.npz)")
    if path.exists() and not overwrite:
        raise UserError(f"{path} already exists; pass --overwrite (overwrite=True in Python) to replace it")


def _seeded(embedder: str, options: Sequence[str], seed: int) -> list[str]:
    """``options`` with ``seed=SEED`` first when the embedder takes a seed and they set none."""
    config = embedder_class(EmbedderSpec.parse(embedder).kind).config_type
    takes = any(f.name == "seed" for f in dataclasses.fields(config))
    if takes and not any(o.split("=", 1)[0].strip() == "seed" for o in options):
        return [f"seed={seed}", *options]
    return list(options)


def fit_classifier(
    store: st.Store | str | os.PathLike[str],
    attribute: str,
    *,
    embedder: str = "pixels-pca",
    options: Sequence[str] = (),
    test_size: float = 0.25,
    max_rows: int | None = 20000,
    c: float = 1.0,
    seed: int = 0,
    split: str = "auto",
) -> ClassifierAnnotator:
    """Train a classifier annotator of ``attribute`` on the labelled images of ``store``.

    Args:
        store: a store (or its path) with images and the categorical/factor ``attribute``.
        attribute: the attribute whose classes are predicted.
        embedder: embedder name (``pixels-pca``, ``clip:PATH``, ``vae:RUN``, ``dlib``).
        options: ``key=value`` options of the embedder.
        test_size: share of rows held out (stratified by class) to measure the annotator;
            whole persons when the store's ``identity`` (or ``person``) repeats them.
        max_rows: use at most this many random rows (None: all).
        c: inverse L2 strength of the logistic regression.
        seed: seeds the row sample, the split and the embedder.
        split: ``auto`` (``test_size`` as above), ``rows`` (random rows, persons or not),
            ``persons`` (whole persons, refused without them) or ``store``: the store's own
            test part (:func:`~latentplay.store.split.stored_test_rows`: a published split's,
            or ``data split``'s), ``test_size`` unread.

    Returns:
        The fitted annotator; ``evaluation`` holds its held-out accuracy and confusion.
        Its classes are the attribute's classes that occur in the store, ``unknown`` aside:
        rows without a value are neither trained nor tested on.
    """
    store = opened(store)
    names, codes = store_classes(store, attribute)
    if not 0 < test_size < 1:
        raise UserError(f"test_size (--test-fraction) must be in (0, 1), got {test_size}")
    if not 0 < c < math.inf:  # inf: scikit-learn fitted without regularisation
        raise UserError(f"c (--c, the inverse regularisation strength) must be a finite number above 0, "
                        f"got {c}")
    if max_rows is not None and max_rows < 1:
        raise UserError(f"max_rows (--max-rows) must be at least 1, got {max_rows}")
    rng = np.random.default_rng(seed)
    rows = np.flatnonzero(class_places(codes, names) >= 0)  # rows of a known class
    if max_rows is not None and len(rows) > max_rows:
        rows = np.sort(rng.choice(rows, size=max_rows, replace=False))
    present, y = np.unique(codes[rows], return_inverse=True)
    counts = np.bincount(y, minlength=len(present))
    if len(present) < 2:
        raise UserError(f"attribute {attribute!r} has fewer than two classes in the store "
                        f"({UNKNOWN} aside)")
    if counts.min() < 2:
        rare = names[int(present[counts.argmin()])]
        raise UserError(f"class {rare!r} of {attribute!r} has only {counts.min()} row; an "
                        "annotator needs at least 2 rows per class")
    if split not in HELD_OUT and split != "auto":
        raise UserError(f"--split must be one of auto, {', '.join(HELD_OUT)}; got {split!r}")
    persons = repeated_persons(store)
    if split == "persons" and persons is None:
        raise UserError("--split persons needs persons in several rows of the store's identity "
                        "(or the person attribute of data persons)")
    by_persons = None if persons is None or split == "rows" else persons[rows]
    stored = None
    if split == "store":
        stored = stored_test_rows(store.select(rows), len(rows), setting="--split ")
    train_rows, test_rows = _held_out(y, by_persons, test_size, seed,
                                      [names[int(p)] for p in present], stored)
    options = _seeded(embedder, options, seed)
    emb = make_embedder(embedder, options)
    if getattr(getattr(emb, "condition_spec", None), "dim", 0):
        raise UserError(f"{emb.name} is a conditional model: an annotator reads images without "
                        "knowing their condition; embed with an unconditional run, pixels-pca or "
                        "a face network")
    if emb.needs_fit:
        fit_rows = rows[train_rows[emb.fit_rows(len(train_rows))]]
        emb.fit(load_rows(store, fit_rows, emb.image_size, emb.image_mode, emb.image_crop))
    info = {"store": str(store.path) if store.path else None, "embedder": emb.name,
            "options": list(options), "test_size": test_size, "c": c, "seed": seed,
            "train_rows": int(len(train_rows)),
            "held_out": "store" if stored is not None else "rows" if by_persons is None
                        else "persons",
            "held_out_part": stored_part(store) if stored is not None else None,
            "ordered": store.schema.attribute(attribute).ordered,
            "class_counts": {names[int(p)]: int(k) for p, k in zip(present, counts, strict=True)}}
    annotator = ClassifierAnnotator(attribute, [names[int(p)] for p in present], emb,
                                    StandardScaler(), LogisticRegression(C=c, max_iter=2000),
                                    None, info)
    x = annotator.embed_store(store, rows)
    annotator.scaler.fit(x[train_rows])
    annotator.model.fit(annotator.scaler.transform(x[train_rows]), y[train_rows])
    annotator.evaluation = Evaluation.from_proba(
        y[test_rows], annotator.proba_of_embeddings(x[test_rows]),
        None if persons is None else persons[rows][test_rows])
    return annotator


def _held_out(y: np.ndarray, persons: np.ndarray | None, test_size: float, seed: int,
              names: list[str], stored: np.ndarray | None = None
              ) -> tuple[np.ndarray, np.ndarray]:
    """Train and test positions of ``(N,)`` class codes ``y`` (``0..K-1``, class ``k`` named
    ``names[k]``), stratified by class; with ``(N,)`` ``persons`` every person's photos on one
    side (about ``test_size`` of the rows held out: one of ``round(1 / test_size)`` folds), so
    the test accuracy is not that of recognising people seen in training; the sorted test
    positions ``stored`` (the store's own split) where given. A class missing from
    either side is refused by name: untested, its confusion row would be unmeasured."""
    if stored is not None:
        train, test = np.setdiff1d(np.arange(len(y)), stored), stored
    elif persons is None:
        try:
            train, test = train_test_split(np.arange(len(y)), test_size=test_size, stratify=y,
                                           random_state=seed)
        except ValueError as exc:
            raise UserError(f"cannot hold out a stratified test split: {exc}") from None
    else:
        folds = max(2, round(1 / test_size))
        if len(np.unique(persons)) < folds:
            raise UserError(f"the rows show {len(np.unique(persons))} persons: too few to hold "
                            "out whole persons")
        train, test = next(StratifiedGroupKFold(folds, shuffle=True, random_state=seed)
                           .split(np.zeros(len(y)), y, persons))
    unit, split = (("rows", "the store's split") if stored is not None else ("rows", "the split")
                   if persons is None else ("persons", "a split by person"))
    for side, part in (("training", train), ("test", test)):
        missing = sorted(set(range(len(names))) - set(y[part].tolist()))
        if missing:
            raise UserError(f"class {names[missing[0]]!r} has too few {unit} to be on both "
                            f"sides of {split}: none in the {side} part")
    return train, test


def _embedder_state(embedder: Embedder) -> dict[str, np.ndarray]:
    """The fitted arrays of ``embedder`` (only ``pixels-pca`` is fitted; others have none)."""
    if not embedder.needs_fit:
        return {}
    pca = getattr(embedder, "pca", None)
    if embedder.kind != "pixels-pca" or pca is None:
        raise UserError(f"cannot save the fitted state of embedder {embedder.kind!r}")
    return {"pca_mean": pca.mean_, "pca_components": pca.components_}


def _restore_embedder(name: str, options: Sequence[str], arrays: Mapping[str, np.ndarray]
                      ) -> Embedder:
    emb = make_embedder(name, options)
    if emb.needs_fit:
        components = arrays["embedder.pca_components"]
        pca = PCA(n_components=components.shape[0])
        pca.mean_, pca.components_ = arrays["embedder.pca_mean"], components
        pca.n_components_, pca.n_features_in_ = components.shape
        # not saved, and unused by an unwhitened transform, which reads it in scikit-learn < 1.9.1
        pca.explained_variance_ = np.full(components.shape[0], np.nan)
        emb.pca = pca  # type: ignore[attr-defined]
    return emb


def load_annotator(path: str | os.PathLike[str]) -> ClassifierAnnotator:
    """Read an annotator written by :meth:`ClassifierAnnotator.save`."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"no annotator file at {path}")
    try:
        data = np.load(path, allow_pickle=False)
        if not isinstance(data, np.lib.npyio.NpzFile):  # an .npy array, whatever its name
            raise ValueError("one array, not an archive")
        with data:
            arrays = {k: data[k] for k in data.files}
        meta = parsed_json(str(arrays["meta"]))
    # numpy's own words invite pickle; a MemoryError is a header declaring more than memory holds
    except (OSError, ValueError, KeyError, EOFError, MemoryError, zipfile.BadZipFile):
        raise UserError(f"{path} is not a latentplay annotator file (an .npz written by "
                        "latentplay audit annotator)") from None
    if meta.get("format") != FORMAT or meta.get("version") != FORMAT_VERSION:
        raise UserError(f"{path} is not a latentplay annotator file (version "
                        f"{FORMAT_VERSION} expected)")
    try:
        check_file_safe(meta["attribute"], "attribute")
        info = meta["info"]
        emb = _restore_embedder(info["embedder"], info["options"], arrays)
        scaler = StandardScaler()
        scaler.mean_, scaler.scale_ = arrays["scaler_mean"], arrays["scaler_scale"]
        scaler.var_ = scaler.scale_ ** 2
        scaler.n_features_in_ = len(scaler.mean_)
        model = LogisticRegression(C=info["c"])
        model.coef_, model.intercept_ = arrays["coef"], arrays["intercept"]
        model.classes_ = np.arange(len(meta["classes"]))
        model.n_features_in_ = model.coef_.shape[1]
        ev = meta["evaluation"]
        evaluation = None if ev is None else Evaluation.from_dict(ev)
        return ClassifierAnnotator(meta["attribute"], list(meta["classes"]), emb, scaler, model,
                                   evaluation, info)
    except KeyError as exc:
        raise UserError(f"{path} is an incomplete latentplay annotator file (no {exc})") from None
    except ValueError as exc:
        raise UserError(f"{path}: {exc}") from None


DEFAULT_TEMPLATE = "a photo of a {} person"
"""CLIP's prompt for a class of people when none is given."""


def class_prompts(classes: Sequence[str], template: str | Sequence[str] = DEFAULT_TEMPLATE,
                  prompts: Mapping[str, str | Sequence[str]] | None = None) -> list[list[str]]:
    """Each class's CLIP text prompts: ``prompts[class]`` (one or several) when given, else
    each ``template`` filled with the class name, underscores as spaces (``middle_aged`` -> ``a
    photo of a middle aged person``). A template is a :meth:`str.format` string with one
    ``{}``; several make a prompt ensemble (Radford et al. 2021): each class's text embedding
    is then its prompts' mean direction (:func:`ensembled`)."""
    templates = list(dict.fromkeys(name_list(template)))
    if not templates:
        raise UserError("give at least one prompt template")
    for one in templates:
        try:
            placed = "\0" in one.format("\0")
        except (IndexError, KeyError, ValueError, AttributeError):  # a second {}, {name}, a lone brace
            placed = False
        if not placed:
            raise UserError(f"prompt template {one!r} needs a {{}} where the class goes (one, "
                            "and no other braces: write {{ and }} for literal ones)")
    given = {c: name_list(p) for c, p in (prompts or {}).items()}
    unknown = sorted(set(given) - set(classes))
    if unknown:
        raise UserError(f"prompts given for unknown classes {', '.join(map(repr, unknown))}; classes: "
                        f"{', '.join(classes)}")
    if empty := [c for c, p in given.items() if not p]:
        raise UserError(f"no prompt given for the classes {empty}")
    return [given.get(c) or [t.format(c.replace("_", " ")) for t in templates] for c in classes]


def ensembled(vectors: Sequence[np.ndarray]) -> np.ndarray:
    """``(K, D)`` unit-length class embeddings from each class's ``(P_k, D)`` prompt
    embeddings: their unit vectors' mean, made unit length (one prompt: its unit vector)."""
    units = [v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12) for v in vectors]
    mean = np.stack([u.mean(axis=0) for u in units])
    return mean / np.maximum(np.linalg.norm(mean, axis=1, keepdims=True), 1e-12)


class ClipAnnotator(Annotator):
    """CLIP zero-shot: softmax over ``logit_scale x`` cosine similarity of the image and each
    class's prompt (or its prompts' mean direction, :func:`ensembled`).

    Args:
        weights: local open_clip weights file, or ``IMAGE.onnx@TEXT.npz``: CLIP's image encoder
            exported to ONNX (run by the ``onnx`` embedder: CLIP's preprocessing, the shorter
            side resized to its input and the centred square kept, CLIP's pixel statistics) and
            the prompts' text embeddings computed beforehand (:func:`read_text_embeddings`),
            for machines without open_clip.
        attribute: the attribute annotated.
        classes: its ``K`` class names (at least two distinct).
        template, prompts: see :func:`class_prompts`.
        model: open_clip architecture of the weights (``ViT-B-32-quickgelu`` for OpenAI's
            ViT-B/32 weights: see :class:`~latentplay.embed.clip.ClipConfig`).
        device: torch device.
        logit_scale: CLIP's temperature (100 for the released models).
    """

    def __init__(self, weights: str | os.PathLike[str], attribute: str, classes: Sequence[str],
                 template: str | Sequence[str] = DEFAULT_TEMPLATE,
                 prompts: Mapping[str, str | Sequence[str]] | None = None,
                 model: str = "ViT-B-32", device: str = "cpu", logit_scale: float = 100.0) -> None:
        self.attribute = attribute
        self.classes = list(classes)
        if len(set(self.classes)) < 2:  # one prompt would win every image, 100 % sure
            raise UserError(f"a CLIP zero-shot reading of {attribute!r} needs at least two "
                            f"distinct classes, got {self.classes}")
        if not logit_scale > 0:
            raise UserError(f"clip logit scale must be positive, got {logit_scale}")
        self.prompts = class_prompts(self.classes, template, prompts)   # (K,) lists
        self.evaluation = None
        self.logit_scale = logit_scale
        image, at, text = str(weights).partition("@")
        self.text_source: str | None = None  # the prompts' embeddings of an exported encoder
        if image.endswith(".onnx"):
            if not at:
                raise UserError(f"clip:{weights}: an ONNX image encoder needs its prompts' text "
                                "embeddings: clip:IMAGE.onnx@TEXT.npz")
            self.embedder = make_embedder(f"onnx:{image}", ["align=centre", "pixels=clip",
                                                          "normalize=true"])
            self.text_source = text
            self.text = prompt_embeddings(read_text_embeddings(text), self.prompts, text)
            if self.text.shape[1] != self.embedder.dim:
                raise UserError(f"{text} holds {self.text.shape[1]}-d text embeddings; {image} "
                                f"gives {self.embedder.dim}-d image embeddings")
        else:
            self.embedder = make_embedder(f"clip:{weights}", [f"model={model}", f"device={device}",
                                                              "normalize=true"])
            flat = list(dict.fromkeys(p for per_class in self.prompts for p in per_class))
            vectors = self.embedder.embed_text(flat)  # type: ignore[attr-defined]
            self.text = prompt_embeddings(dict(zip(flat, vectors, strict=True)), self.prompts,
                                          str(weights))

    @property
    def description(self) -> dict[str, Any]:
        return {"kind": "clip", "embedder": self.embedder.name, "prompts": self.prompts,
                **({"text_embeddings": self.text_source} if self.text_source else {})}

    def predict_proba(self, images: Images) -> np.ndarray:
        if not len(images):
            return np.zeros((0, len(self.classes)))
        x = np.concatenate([embed_images(self.embedder, images[s:s + BATCH])[0]
                            for s in range(0, len(images), BATCH)])
        logits = self.logit_scale * x.astype(np.float64) @ self.text.T.astype(np.float64)
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        return p / p.sum(axis=1, keepdims=True)


def read_text_embeddings(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """Prompt -> text embedding ``(D,)`` from an ``.npz`` of ``prompts`` ``(K,)`` (strings)
    and ``embeddings`` ``(K, D)``, as CLIP's text encoder gave them (read without pickle)."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"text embeddings file {path} does not exist")
    try:
        with np.load(path, allow_pickle=False) as data:
            prompts, vectors = data["prompts"], np.asarray(data["embeddings"], np.float64)
    except (KeyError, ValueError, OSError, EOFError, MemoryError, zipfile.BadZipFile) as err:
        raise UserError(f"{path} is not an .npz of 'prompts' and 'embeddings': {err}") from None
    if prompts.ndim != 1 or vectors.ndim != 2 or len(prompts) != len(vectors) or prompts.dtype.kind != "U":
        raise UserError(f"{path}: 'prompts' must be K strings and 'embeddings' K rows; got "
                        f"{prompts.shape} {prompts.dtype} and {vectors.shape}")
    return {str(p): v for p, v in zip(prompts, vectors, strict=True)}


def prompt_embeddings(table: Mapping[str, np.ndarray], prompts: Sequence[Sequence[str]],
                      source: str) -> np.ndarray:
    """The unit-length class embeddings ``(K, D)`` of each class's ``prompts`` from ``table``
    (:func:`ensembled`; a :class:`UserError` naming those ``source`` lacks)."""
    missing = [p for per_class in prompts for p in per_class if p not in table]
    if missing:
        raise UserError(f"{source} has no text embedding for the prompt(s) {missing}")
    return ensembled([np.stack([table[p] for p in per_class]) for per_class in prompts])


class NetworkAnnotator(Annotator):
    """One head of a classification network: its softmax over the head's classes.

    Args:
        network: a :class:`~latentplay.measure.predict.HeadNetwork` (shared by the annotators
            of its heads, so the network runs once per batch of images).
        name: the head, which is also the attribute annotated.
    """

    def __init__(self, network: Any, name: str) -> None:
        self.network = network
        self.head = network.head(name)
        if self.head.is_value:
            raise UserError(f"head {name!r} gives values, not classes; an annotator needs classes")
        if UNKNOWN in self.head.classes:
            raise UserError(f"head {name!r} has a class {UNKNOWN!r}: an audit counts images without a "
                            "class apart, not as a class; name that output otherwise in --heads")
        self.attribute = name
        self.classes = list(self.head.classes)
        self.evaluation = None

    @property
    def description(self) -> dict[str, Any]:
        return {"kind": "network", "embedder": self.network.embedder.name,
                "head": {"first_output": self.head.start, "classes": self.classes,
                         "sigmoid": self.head.sigmoid}}

    def predict_proba(self, images: Images) -> np.ndarray:
        if not len(images):
            return np.zeros((0, len(self.classes)))
        return self.network.probabilities(images, self.head)


class NetworkValues:
    """One value head of a network (e.g. InsightFace's age) read on images: ``values`` of the
    generated ones, ``training`` of a sample of the training store (:meth:`evaluate`), and,
    where the store labels the attribute with numbers, how far the readings are from them.

    Args:
        network: a :class:`~latentplay.measure.predict.HeadNetwork`.
        name: the value head, which is also the attribute read.
    """

    def __init__(self, network: Any, name: str) -> None:
        self.network = network
        self.head = network.head(name)
        if not self.head.is_value:
            raise UserError(f"head {name!r} gives classes; it is an annotator, not a value")
        self.attribute = name
        self.training: np.ndarray | None = None
        self.training_rows: np.ndarray | None = None   # the store rows they were read on
        self.error: dict[str, float] | None = None

    @property
    def description(self) -> dict[str, Any]:
        return {"kind": "network values", "embedder": self.network.embedder.name,
                "head": {"output": self.head.start, "scale": self.head.scale,
                         "offset": self.head.offset, "bins": self.head.bins},
                "training_rows": None if self.training is None else len(self.training),
                "error": self.error}

    def values(self, images: Images) -> np.ndarray:
        """``(N,)`` float64 readings of ``(N, H, W, C)`` uint8 images (or a list)."""
        from latentplay.measure.predict import head_values

        if not len(images):
            return np.zeros(0)
        return head_values(self.network.logits(images), self.head)

    def evaluate(self, store: st.Store | str | os.PathLike[str], max_rows: int = 2000,
                 seed: int = 0) -> NetworkValues:
        """Read up to ``max_rows`` random images of ``store`` into :attr:`training`; with a
        continuous label of the same name, :attr:`error` holds the mean absolute difference,
        the mean difference (reading minus label) and the correlation on them; with groups
        named as intervals (FairFace's ages), how often the readings fall in the labelled
        group (:func:`~latentplay.measure.predict.group_agreement`)."""
        from latentplay.measure.predict import group_agreement, reading_error

        store = opened(store)
        rng = np.random.default_rng(seed)
        rows = np.sort(rng.choice(len(store), size=min(max_rows, len(store)), replace=False))
        self.training_rows = rows
        self.training = np.concatenate([self.values(load_rows(store, rows[s:s + BATCH]))
                                        for s in range(0, len(rows), BATCH)])
        attr = store.schema.attribute(self.attribute) if store.schema.has_attribute(
            self.attribute) else None
        if attr is not None and attr.kind == "continuous":
            self.error = reading_error(self.training, store.labels(self.attribute)[rows])
        elif attr is not None and attr.kind == "categorical":
            self.error = group_agreement(self.training, store.labels(self.attribute)[rows],
                                         attr.level_names)
        return self


def requested_condition(store: st.Store, attribute: str) -> bool:
    """Whether ``attribute`` of ``store`` holds the conditions ``data generate`` decoded its
    images under (what was asked of the generator, not what the images show)."""
    from latentplay.sources import GENERATED, MADE_UNDER

    return (store.schema.provenance.converter == GENERATED
            and store.schema.attribute(attribute).description == MADE_UNDER)


class StoreLabels(Annotator):
    """The labels of ``attribute`` that a store of images already has, as an annotator.

    ``requested`` is whether the labels are the conditions a run's samples were generated under
    (``data generate --condition/--like``): what was asked of the generator, not what the
    images show. ``classes`` are ``reference``'s class names followed by any other class the
    store has,
    ``unknown`` aside, so both count over the same classes. A row labelled ``unknown`` (e.g.
    where a measure found no face) or without a label has no class (:attr:`codes` -1), as a
    training row without one has none. :meth:`predict_proba` takes the store's own images, in
    row order.
    """

    def __init__(self, store: st.Store, attribute: str, reference: st.Store) -> None:
        names, _ = store_classes(store, attribute)
        ref_names, _ = store_classes(reference, attribute)
        own, ref = ([n for n in x if n != UNKNOWN] for x in (names, ref_names))
        if own and ref and not set(own) & set(ref):
            raise UserError(f"{attribute!r} has no class in common between the images "
                            f"({', '.join(own)}) and {data_name(reference.path)} ({', '.join(ref)}): "
                            "the labels cannot be compared until the classes are named alike")
        self.attribute = attribute
        self.classes = list(dict.fromkeys(n for n in [*ref_names, *names] if n != UNKNOWN))
        self.codes = self.store_truth(store)
        self.store_path = store.path
        self.evaluation = None
        self.requested = requested_condition(store, attribute)

    @property
    def description(self) -> dict[str, Any]:
        return {"kind": "labels", "store": str(self.store_path), "attribute": self.attribute,
                "requested": self.requested}

    def predict_proba(self, images: Images) -> np.ndarray:
        """``(N, K)`` one-hot rows of the store's labels; all zeros for a row with no class."""
        if len(images) != len(self.codes):
            raise ValueError(f"{len(images)} images for a store of {len(self.codes)} rows")
        k = len(self.classes)
        return np.eye(k + 1, k, dtype=np.float32)[self.codes]    # code -1: the zero row k
