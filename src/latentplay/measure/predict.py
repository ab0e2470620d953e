"""Predicted labels: a classification network's classes for every image of a store.

Matching in GAN-space's tables carry *predicted* race and gender (FairFace's classifier) beside the
annotations; generated faces have no annotations at all. ``predict_store`` runs an ONNX
classifier (:mod:`latentplay.embed.onnxnet`) over a store and writes, for each of its heads, a
categorical attribute (the most probable class) and a continuous one (its probability). A
head is a run of the network's outputs (logits) with one class per output, read with a
softmax, or one output read with a sigmoid (a yes/no attribute); a value head is one output
taken as a number (an age regressor's years), written as a continuous attribute, and an
expected-bin head is K outputs read with a softmax as the expected bin number (DEX's ages from
101 bins, Hopenet's angles from 66 bins of 3 degrees), both optionally scaled and shifted:

    race=White,Black,Asian          outputs 0-2 (heads follow one another)
    gender@7=Male,Female            outputs 7-8 (``@`` gives the first output)
    Smiling@31:sigmoid              output 31: no / yes
    glasses:sigmoid=without,with    the next output, with its two classes named
    age@2:value*100                 output 2 times 100
    age:expect101                   sum of k * softmax(outputs)[k], k = 0..100
    yaw:expect66*3-99               the same over 66 outputs, times 3, minus 99 (degrees)

Heads are separated by ``;``. ``fairface7`` and ``fairface4`` name the layouts of FairFace's
published ResNet-34 classifiers (18 outputs: race, gender at 7, age at 9; with the class names
of the FairFace converter, so predictions and labels compare class by class), and bring the
preprocessing those classifiers were trained with (dlib's CNN detector and face chip, ImageNet
statistics).
``celeba40`` is the usual layout of CelebA attribute classifiers: 40 sigmoid outputs in the
order of ``list_attr_celeba.txt``, named like the CelebA converter's attributes.
``insightface_genderage`` reads InsightFace's ``genderage.onnx`` (gender female / male, age in
years as output 2 times 100) from the square crop 1.5 times the face box InsightFace takes.

>>> s = predict_store("data/faces", "onnx:res34_fair_align_multi_7.onnx", "fairface7")
>>> s.labels("predicted_race"), s.labels("predicted_race_p")      # (N,) codes, (N,) floats
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy.special import expit, softmax

from latentplay import store as st
from latentplay.embed.base import Embedder, Images, as_list, embed_images, make_embedder
from latentplay.embed.column import run_embedder
from latentplay.errors import UserError
from latentplay.measure.run import save_extended, sole_scratch_writer, store_to_extend
from latentplay.sources.celeba import ATTRIBUTES as _CELEBA
from latentplay.store.binning import group_bounds, interval_codes
from latentplay.store.schema import UNKNOWN, Attribute, class_places

if TYPE_CHECKING:
    from latentplay.audit.annotate import Annotator

_FAIRFACE_GENDER = "gender@7=Male,Female"
_FAIRFACE_AGE = "age@9=0-2,3-9,10-19,20-29,30-39,40-49,50-59,60-69,more than 70"
PRESETS: dict[str, str] = {
    "fairface7": "race=White,Black,Latino_Hispanic,East Asian,Southeast Asian,Indian,"
                 f"Middle Eastern;{_FAIRFACE_GENDER};{_FAIRFACE_AGE}",
    "fairface4": f"race=White,Black,Asian,Indian;{_FAIRFACE_GENDER};{_FAIRFACE_AGE}",
    "celeba40": ";".join(f"{name}:sigmoid" for name in _CELEBA),
    "insightface_genderage": "gender=female,male;age:value*100",
}
# embedder options a preset's network was trained with (the user's -o options come after)
PRESET_OPTIONS: dict[str, list[str]] = {  # FairFace's predict.py: dlib's CNN detector too
    **{name: ["align=dlib", "detector=cnn", "pixels=imagenet", "normalize=false"]
       for name in ("fairface7", "fairface4")},
    # InsightFace's attribute models: the face box's centre, 1.5 x its longer side, no rotation
    "insightface_genderage": ["align=box", "padding=0.25", "pixels=auto", "normalize=false"]}
SIGMOID = ("no", "yes")  # the classes of a sigmoid head unless named


@dataclass(frozen=True)
class Head:
    """One head: ``classes`` read from outputs ``start .. start + K - 1`` with a softmax;
    when ``sigmoid``, two classes (absent, present) from output ``start``; when ``scale`` is
    set, no classes but a value, ``scale * x + offset`` where ``x`` is output ``start``, or
    with ``bins`` > 0 the expected bin of outputs ``start .. start + bins - 1`` (softmax)."""

    name: str
    start: int
    classes: tuple[str, ...]
    sigmoid: bool = False
    scale: float | None = None
    offset: float = 0.0
    bins: int = 0

    @property
    def stop(self) -> int:
        if self.bins:
            return self.start + self.bins
        return self.start + (1 if self.sigmoid or self.is_value else len(self.classes))

    @property
    def reading(self) -> str:
        """How a value head reads its outputs, in words ("output 2 times 100")."""
        read = (f"the expected bin of outputs {self.start}-{self.stop - 1}" if self.bins
                else f"output {self.start}")
        times = "" if self.scale in (None, 1) else f" times {self.scale:g}"
        shift = "" if not self.offset else f" {'plus' if self.offset > 0 else 'minus'} {abs(self.offset):g}"
        return read + times + shift

    @property
    def is_value(self) -> bool:
        """Whether the head gives a number rather than classes."""
        return self.scale is not None


def parse_heads(spec: str) -> list[Head]:
    """Heads from ``NAME[@START]=CLASS,CLASS,...``, ``NAME[@START]:sigmoid[=NO,YES]``,
    ``NAME[@START]:value[*SCALE][+-OFFSET]`` and ``NAME[@START]:expectK[*SCALE][+-OFFSET]``
    items separated by ``;``, or a preset name (see the module).

    Raises:
        UserError: a malformed head, fewer than two classes (or a sigmoid head with other
            than two), a repeated name or class, or overlapping heads.
    """
    text = PRESETS.get(spec.strip(), spec)
    heads: list[Head] = []
    start = 0
    for part in (p.strip() for p in text.split(";")):
        if not part:
            continue
        left, sep, right = part.partition("=")
        left, colon, kind = left.partition(":")
        name, at, first = left.strip().partition("@")
        name, kind = name.strip(), kind.strip()
        sigmoid = kind == "sigmoid"
        value = kind.startswith("value") or kind.startswith("expect")
        if (not sep and not sigmoid and not value) or (colon and not (sigmoid or value)) \
                or (value and sep) or not name.replace("_", "").isalnum():
            raise UserError(f"head {part!r}: write NAME[@FIRST]=CLASS,CLASS,..., "
                            "NAME[@FIRST]:sigmoid, NAME[@FIRST]:value[*SCALE][+-OFFSET] or "
                            f"NAME[@FIRST]:expectK[*SCALE][+-OFFSET] (or a preset: {', '.join(PRESETS)})")
        if at:
            if not first.strip().isdigit():
                raise UserError(f"head {name!r}: the first output after '@' must be a number")
            start = int(first)
        if value:
            heads.append(_value_head(name, start, kind))
            start = heads[-1].stop
            continue
        classes = tuple(c.strip() for c in right.split(",")) if sep else SIGMOID
        if len(classes) < 2 or any(not c for c in classes) or len(set(classes)) < len(classes):
            raise UserError(f"head {name!r}: give two or more distinct, non-empty classes")
        if sigmoid and len(classes) != 2:
            raise UserError(f"head {name!r}: a sigmoid head has two classes (absent, present)")
        heads.append(Head(name, start, classes, sigmoid))
        start = heads[-1].stop
    if not heads:
        raise UserError("give at least one head: NAME=CLASS,CLASS,...")
    names = [h.name for h in heads]
    if len(set(names)) < len(names):
        raise UserError(f"heads {', '.join(names)}: names must differ")
    spans = sorted((h.start, h.stop, h.name) for h in heads)
    for (_, stop, a), (begin, _, b) in zip(spans, spans[1:], strict=False):
        if begin < stop:
            raise UserError(f"heads {a!r} and {b!r} read the same outputs")
    return heads


_NUMBER = r"(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?"  # unsigned, scientific notation allowed
_VALUE = re.compile(rf"(value|expect(?P<bins>\d+))(\*(?P<scale>[+-]?{_NUMBER}))?(?P<offset>[+-]{_NUMBER})?")


def _value_head(name: str, start: int, kind: str) -> Head:
    """A value or expected-bin head from the text after ``:`` (``value*100``, ``expect66*3-99``)."""
    found = _VALUE.fullmatch(kind)
    try:
        if found is None:
            raise ValueError(kind)
        bins = int(found["bins"] or 0)
        scale = float(found["scale"]) if found["scale"] else 1.0
        offset = float(found["offset"]) if found["offset"] else 0.0
    except ValueError:
        raise UserError(f"head {name!r}: write :value[*SCALE][+-OFFSET] (e.g. age:value*100) or "
                        ":expectK[*SCALE][+-OFFSET] (e.g. yaw:expect66*3-99)") from None
    if found["bins"] is not None and bins < 2:
        raise UserError(f"head {name!r}: an expected-bin head reads two or more outputs")
    return Head(name, start, (), scale=scale, offset=offset, bins=bins)


def head_probabilities(logits: np.ndarray, heads: Sequence[Head]) -> list[np.ndarray]:
    """Each head's class probabilities: ``(N, D)`` logits -> ``(N, K_h)`` per head, by softmax,
    or ``(1 - p, p)`` with ``p`` the sigmoid of a sigmoid head's output (NaN rows stay NaN).
    A value head has none: :func:`head_values`."""
    out = []
    for head in heads:
        if head.is_value:
            raise UserError(f"head {head.name!r} gives values, not classes")
        z = logits[:, head.start:head.stop].astype(np.float64)
        if head.sigmoid:
            p = expit(z)
            out.append(np.hstack([1 - p, p]))
            continue
        out.append(softmax(z, axis=1))
    return out


def head_values(logits: np.ndarray, head: Head) -> np.ndarray:
    """A value head's numbers: ``(N, D)`` outputs -> ``(N,)`` float64 (NaN rows stay NaN):
    ``scale * x + offset``, ``x`` the head's output or, for an expected-bin head, the mean bin
    number under the softmax of its outputs."""
    if head.bins:
        x = softmax(logits[:, head.start:head.stop].astype(np.float64), axis=1) @ np.arange(head.bins)
    else:
        x = logits[:, head.start].astype(np.float64)
    return x * (head.scale or 1.0) + head.offset


def classifier(network: str, heads: str, options: Sequence[str] = ()
               ) -> tuple[Embedder, list[Head]]:
    """The ``onnx:PATH`` embedder of a classification network whose outputs are the logits
    of ``heads`` (a spec or preset, whose preprocessing options come first; logits are never
    scaled to unit length), and the parsed heads.

    Raises:
        UserError: not an ``onnx:`` network, ``normalize=true``, or fewer outputs than the
            heads read.
    """
    if not network.startswith("onnx:"):
        raise UserError(f"{network!r}: give a classification network as onnx:PATH")
    parsed = parse_heads(heads)
    embedder = make_embedder(network, [*PRESET_OPTIONS.get(heads.strip(), []),
                                       "normalize=false", *options])
    if embedder.config.normalize:
        raise UserError("a classifier's logits are not scaled to unit length: drop "
                        "-o normalize=true")
    needed = max(h.stop for h in parsed)
    if embedder.dim < needed:
        raise UserError(f"{network} gives {embedder.dim} outputs; the heads read {needed}")
    return embedder, parsed


class HeadNetwork:
    """A classification network's heads on in-memory images (each fitted to the network's
    input as :func:`~latentplay.embed.base.embed_images` fits it). The logits of the last
    ``cache`` batches are kept, so several heads read one pass of the network.

    >>> net = HeadNetwork("onnx:fairface.onnx", "fairface7")
    >>> net.probabilities(images, net.heads[0])     # (N, 7) race probabilities
    """

    def __init__(self, network: str, heads: str, options: Sequence[str] = (),
                 cache: int = 64) -> None:
        self.embedder, self.heads = classifier(network, heads, options)
        if self.embedder.config.fallback == "nan":
            raise UserError("an annotator labels every image: drop -o fallback=nan")
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._size = cache

    def logits(self, images: Images) -> np.ndarray:
        """``(N, D)`` float32 logits of ``(N, H, W, C)`` uint8 images (or a list)."""
        key = hashlib.blake2b(digest_size=16)
        for image in as_list(images):
            key.update(str(image.shape).encode())
            key.update(np.ascontiguousarray(image).data)
        digest = key.hexdigest()
        if digest not in self._cache:
            self._cache[digest] = embed_images(self.embedder, images)[0]
            if len(self._cache) > self._size:
                self._cache.popitem(last=False)
        self._cache.move_to_end(digest)
        return self._cache[digest]

    def probabilities(self, images: Images, head: Head) -> np.ndarray:
        """``(N, K)`` probabilities of ``head``'s classes (:func:`head_probabilities`)."""
        return head_probabilities(self.logits(images), [head])[0]

    def head(self, name: str) -> Head:
        """The head called ``name``."""
        for head in self.heads:
            if head.name == name:
                return head
        raise UserError(f"the network has no head {name!r}; its heads: "
                        + ", ".join(h.name for h in self.heads))


def scratch_dir(store_path: str | os.PathLike[str]) -> Path:
    """Where a partial prediction lives: a hidden sibling of the store."""
    path = Path(store_path).absolute()
    return path.with_name(f".{path.name}.predict")


def predict_store(store: st.Store | str | os.PathLike[str], network: str, heads: str, *,
                  options: Sequence[str] = (), prefix: str = "predicted_",
                  batch_size: int = 64, overwrite: bool = False,
                  progress: bool = True) -> st.Store:
    """Classify every image of ``store`` into new attributes ``{prefix}{head}`` (class) and
    ``{prefix}{head}_p`` (its probability), or ``{prefix}{head}`` (a value head's number),
    resumably; the store is replaced atomically.

    Args:
        store: a saved store or its path.
        network: an ``onnx:PATH`` embedder name whose (first, or ``-o output=``) output holds
            the logits.
        heads: a head spec or preset (:func:`parse_heads`).
        options: embedder options (``key=value``) after a preset's own (``normalize`` is
            false: logits are kept as they are).
        prefix: put before every new attribute's name.
        batch_size: images between two resume points.
        overwrite: replace attributes of the same names.
        progress: show a progress bar on stderr.

    Returns:
        The store re-loaded with the new attributes. A row whose face was not found, with
        ``fallback=nan``, gets the class ``unknown`` and no probability.
    """
    store = store_to_extend(store, batch_size, prefix, "classify")
    embedder, parsed = classifier(network, heads, options)
    _check_free(store, parsed, prefix, overwrite)
    scratch = scratch_dir(store.path)
    with sole_scratch_writer(scratch, store, "data predict"):
        logits, found = run_embedder(store, embedder, scratch, batch_size, progress,
                                     label="classifying")
        columns = head_columns(parsed, logits, prefix, network)
        entry = {
            "op": "predict",
            **embedder.describe(),
            "heads": [dataclasses.asdict(h) for h in parsed],
            "attributes": list(columns),
            "rows": len(store),
            "not_found": np.flatnonzero(~found).tolist() if embedder.detects_faces else [],
        }
        return save_extended(store, columns, overwrite, store.path, entry, scratch)


def annotate_store(store: st.Store | str | os.PathLike[str], annotator: str | os.PathLike[str],
                   *, prefix: str = "predicted_", overwrite: bool = False) -> st.Store:
    """Label every image of ``store`` with an annotator file (``latentplay audit annotator``):
    attribute ``{prefix}{attribute}`` (its classes) and ``{prefix}{attribute}_p`` (the
    probability of the chosen class), in place. Annotate rows the annotator was not fitted on
    (``data split``) to judge it, e.g. per group with ``latentplay audit accuracy``."""
    from latentplay.audit.annotate import load_annotator

    return label_store(store, [load_annotator(annotator)], str(annotator), prefix=prefix,
                       overwrite=overwrite)


def clip_store(store: st.Store | str | os.PathLike[str], weights: str, heads: str, *,
               template: str | Sequence[str] | None = None, model: str = "ViT-B-32",
               device: str = "cpu", prefix: str = "predicted_", overwrite: bool = False
               ) -> st.Store:
    """Label every image of ``store`` by CLIP zero-shot, a prompt per class, for each class
    head of ``heads`` (``NAME=CLASS,CLASS,...`` items separated by ``;``, or a preset), as
    :func:`annotate_store` labels with a file: ``{prefix}{name}`` and its probability, in
    place (FairFace Generator's CLIP labels of generated faces, a CSV with ``data export``).

    Args:
        weights: local open_clip weights, or ``IMAGE.onnx@TEXT.npz`` (CLIP exported; see
            :class:`~latentplay.audit.annotate.ClipAnnotator`).
        template: each class's prompt, ``{}`` standing for the class name; several make a
            prompt ensemble (:func:`~latentplay.audit.annotate.class_prompts`); None: CLIP's
            default (:data:`~latentplay.audit.annotate.DEFAULT_TEMPLATE`).
        model, device: open_clip architecture and torch device of ``weights``.
    """
    from latentplay.audit.annotate import DEFAULT_TEMPLATE, ClipAnnotator

    parsed = parse_heads(heads)
    if odd := [h.name for h in parsed if h.sigmoid or h.is_value]:
        raise UserError(f"clip: reads classes, one prompt each: give the heads {', '.join(odd)} "
                        "as NAME=CLASS,CLASS,...")
    annotators = [ClipAnnotator(weights, h.name, h.classes, model=model, device=device,
                                template=DEFAULT_TEMPLATE if template is None else template)
                  for h in parsed]
    return label_store(store, annotators, f"clip:{weights}", prefix=prefix, overwrite=overwrite)


def label_store(store: st.Store | str | os.PathLike[str], annotators: Sequence[Annotator],
                source: str, *, prefix: str, overwrite: bool) -> st.Store:
    """Every image of ``store`` labelled by each of ``annotators`` (``source`` names them in
    the store's history), in one write: ``{prefix}{attribute}`` and its ``_p``."""
    store = store_to_extend(store, 1, prefix, "annotate")
    heads = [Head(a.attribute, 0, tuple(a.classes)) for a in annotators]
    _check_free(store, heads, prefix, overwrite)
    columns: dict[str, tuple[Attribute, np.ndarray]] = {}
    confidence = []
    for ann, head in zip(annotators, heads, strict=True):
        proba = ann.proba_store(store, np.arange(len(store)))
        logits = np.log(np.clip(proba, 1e-12, 1.0)).astype(np.float32)  # softmax gives proba back
        found = head_columns([head], logits, prefix, source)
        if ann.description.get("ordered"):      # Monk tones: the labels' order, for shifts and trends
            attr, codes = found[prefix + head.name]
            found[prefix + head.name] = (dataclasses.replace(attr, ordered=True), codes)
        columns.update(found)
        confidence.append(float(proba.max(axis=1).mean()) if len(proba) else None)
    # one annotator (a file) keeps its description, held-out measure and confidence as such
    # (annotator_line reads them); several (CLIP's heads) a list of each, and no held-out measure
    held_out = annotators[0].evaluation if len(annotators) == 1 else None
    entry = {"op": "predict", "annotator": source,
             "description": annotators[0].description if len(annotators) == 1
             else [a.description for a in annotators],
             "heads": [dataclasses.asdict(head) for head in heads], "attributes": list(columns),
             "rows": len(store), "not_found": [],
             "held_out": None if held_out is None else {
                 "accuracy": held_out.accuracy, "n": held_out.n,
                 "confidence": held_out.confidence},
             "confidence": confidence[0] if len(confidence) == 1 else confidence}
    # into the store as it is now when another command wrote it meanwhile (a CLIP pass is long)
    return save_extended(store, columns, overwrite, store.path, entry, None)


def _check_free(store: st.Store, heads: Sequence[Head], prefix: str, overwrite: bool) -> None:
    """Refuse to write ``heads``' attributes over the store's own unless ``overwrite``."""
    names = [n for h in heads
             for n in (prefix + h.name, *([] if h.is_value else [f"{prefix}{h.name}_p"]))]
    taken = [n for n in names if n in store.columns]
    if taken and not overwrite:
        raise UserError(f"the store already has {', '.join(taken)}; pass --overwrite (overwrite=True "
                        "in Python) to replace them or --prefix (prefix=) to keep both")


def head_columns(heads: Sequence[Head], logits: np.ndarray, prefix: str, network: str
                 ) -> dict[str, tuple[Attribute, np.ndarray]]:
    """The attributes of ``heads`` from ``(N, D)`` logits: class codes (``unknown`` for a row
    without logits; ordered when the classes name increasing intervals, as age groups do)
    and the chosen class's probability; a value head's numbers."""
    columns: dict[str, tuple[Attribute, np.ndarray]] = {}
    for head in heads:
        name = prefix + head.name
        if head.is_value:
            columns[name] = (Attribute(name, "continuous", description=(
                f"{head.name} predicted by {network} ({head.reading})")),
                head_values(logits, head))
            continue
        probs = head_probabilities(logits, [head])[0]
        missing = np.isnan(probs).any(axis=1)
        codes = np.where(missing, len(head.classes), np.nan_to_num(probs).argmax(axis=1))
        classes = list(head.classes) + ([UNKNOWN] if missing.any() else [])
        p = np.where(missing, np.nan, np.nan_to_num(probs).max(axis=1))
        ordered = group_bounds(head.classes) is not None   # age groups: 0-2, 3-9, ...
        columns[name] = (Attribute(name, "categorical", names=classes, ordered=ordered,
                                   description=f"{head.name} predicted by {network}"), codes)
        columns[f"{name}_p"] = (Attribute(f"{name}_p", "continuous", range=(0.0, 1.0),
                                          description=f"probability of {name}"), p)
    return columns


def reading_error(readings: np.ndarray, labels: np.ndarray) -> dict[str, float] | None:
    """How far a value head's ``(N,)`` readings are from ``(N,)`` numeric labels, over the rows
    with both: ``n``, mean absolute difference ``mae``, mean difference ``bias`` (reading minus
    label) and correlation ``r``; None with fewer than three such rows."""
    readings, labels = np.asarray(readings, np.float64), np.asarray(labels, np.float64)
    both = np.isfinite(readings) & np.isfinite(labels)
    if both.sum() < 3:
        return None
    diff = readings[both] - labels[both]
    return {"n": int(both.sum()), "mae": float(np.abs(diff).mean()), "bias": float(diff.mean()),
            "r": float(np.corrcoef(readings[both], labels[both])[0, 1])}


def group_agreement(readings: np.ndarray, codes: np.ndarray, names: Sequence[str]
                    ) -> dict[str, float] | None:
    """How well a value head's ``(N,)`` readings fall in the groups of ``(N,)`` class codes whose
    ``names`` are intervals (FairFace's ``0-2 .. more than 70``, ``data bin``'s ``<20 ..
    >=60``; :func:`~latentplay.store.binning.group_bounds`), over the rows with a reading and
    a group: ``n``, the share inside the labelled group ``in_group``, the share at most one
    group off ``within_one``, and the mean group offset ``offset`` (reading's group minus
    the label's; a reading beyond the outermost groups counts in them). None when the names
    are not intervals or fewer than three rows count."""
    known = [k for k, name in enumerate(names) if name != UNKNOWN]
    bounds = group_bounds([names[k] for k in known])
    if bounds is None:
        return None
    readings = np.asarray(readings, np.float64)
    label = class_places(codes, names)
    rows = np.isfinite(readings) & (label >= 0)
    if rows.sum() < 3:
        return None
    value, label = readings[rows], label[rows]
    group = interval_codes(value, bounds)
    inside = (bounds[label, 0] <= value) & (value < bounds[label, 1])
    return {"n": int(rows.sum()), "in_group": float(inside.mean()),
            "within_one": float((np.abs(group - label) <= 1).mean()),
            "offset": float((group - label).mean())}


def error_text(error: dict[str, float]) -> str:
    """One phrase for :func:`reading_error`'s or :func:`group_agreement`'s result."""
    if "in_group" in error:
        return (f"inside the labelled group for {error['in_group']:.3f}, at most one group off "
                f"for {error['within_one']:.3f}, {error['offset']:+.2f} groups on average")
    return (f"mean absolute difference {error['mae']:.3g}, bias {error['bias']:+.3g}, "
            f"correlation {error['r']:.3f}")


def annotator_line(entry: dict[str, Any], agreed: bool) -> str | None:
    """What an annotator file's own measurement says beside its labels of a store (``entry``:
    the store's history entry of ``annotate_store``): its held-out accuracy (beside an
    agreement with the store's labels, ``agreed``: a warning that rows it was trained on agree
    more often), and how sure it was there and on these rows, with
    :func:`~latentplay.audit.annotate.confidence_shift`'s caution; None for a network's
    prediction or an annotator file without a measurement."""
    from latentplay.audit.annotate import confidence_shift

    held_out = entry.get("held_out")
    if "annotator" not in entry or not held_out:
        return None
    line = f"the annotator's held-out accuracy: {held_out['accuracy']:.3f} on {held_out['n']} images"
    if agreed:
        line += " (rows it was trained on agree more often)"
    shift = confidence_shift({"evaluation": held_out, "confidence_generated": entry["confidence"]},
                             "its labels of them may be wrong more often than its held-out "
                             "accuracy says")
    return line if shift is None else f"{line}; {shift}"


def agreement_lines(store: st.Store, heads: Sequence[Head], prefix: str) -> list[str]:
    """For each head whose name is also a labelled attribute of ``store``: how often the
    prediction equals the label, over the rows whose label is one of the head's classes; for
    a value head and a continuous label, the mean absolute difference and the correlation;
    for a value head and groups named as intervals (FairFace's ages), how often the reading
    falls in the labelled group. After labels from an annotator file (the store's last history
    entry), its held-out accuracy and confidence (:func:`annotator_line`)."""
    lines = []
    for head in heads:
        if not store.schema.has_attribute(head.name) or head.name == prefix + head.name:
            continue
        attr = store.schema.attribute(head.name)
        if head.is_value and attr.kind == "continuous":
            error = reading_error(store.labels(prefix + head.name), store.labels(head.name))
            if error is not None:
                lines.append(f"{prefix}{head.name} differs from {head.name} by "
                             f"{error['mae']:.3g} on average (correlation {error['r']:.3f}) "
                             f"over {error['n']} rows")
            continue
        if head.is_value and attr.kind == "categorical":
            found = group_agreement(store.labels(prefix + head.name), store.labels(head.name),
                                    attr.level_names)
            if found is not None:
                lines.append(f"{prefix}{head.name} against the groups of {head.name} over "
                             f"{found['n']} rows: {error_text(found)}")
            continue
        if attr.kind != "categorical" or head.is_value:
            continue
        truth = np.asarray(attr.level_names, dtype=object)[store.labels(head.name)]
        pred_attr = store.schema.attribute(prefix + head.name)
        pred = np.asarray(pred_attr.level_names, dtype=object)[store.labels(prefix + head.name)]
        comparable = np.isin(truth, head.classes)
        if comparable.any():
            acc = float((truth[comparable] == pred[comparable]).mean())
            lines.append(f"{prefix}{head.name} equals {head.name} in {acc:.3f} of "
                         f"{int(comparable.sum())} rows whose label is one of the head's classes")
    history = store.schema.history
    held_out = annotator_line(history[-1], bool(lines)) if history else None
    return lines if held_out is None else [*lines, held_out]
