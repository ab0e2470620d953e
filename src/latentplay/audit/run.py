"""Audit runs: write what ``latentplay audit compare`` and ``sample-groups`` produce.

``compare`` outputs in ``out``: ``summary.json``, and per attribute ``distribution_<attr>.csv``,
``distribution_<attr>.png`` (the ``--data`` store vs generated, raw and corrected) and
``samples_<attr>.png`` (generated images, one row per annotated class).
``sample-groups`` outputs: ``groups.png`` (one row per class) and ``groups.json``.
"""

from __future__ import annotations

import json
import os
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

from latentplay import store as st
from latentplay import train
from latentplay.audit.annotate import (
    CONFIDENCE_DROP,
    DEFAULT_TEMPLATE,
    Annotator,
    ClipAnnotator,
    NetworkAnnotator,
    NetworkValues,
    StoreLabels,
    chance_text,
    load_annotator,
    read_classes,
    requested_condition,
    store_classes,
)
from latentplay.audit.distribution import (
    MAX_CONDITION,
    REFERENCE,
    Comparison,
    audited_images,
    compare,
    data_name,
)
from latentplay.audit.goodness_of_fit import JointCounts
from latentplay.audit.values import ValueComparison, compare_values, ks_persons_text, smd_text
from latentplay.cliargs import at_least
from latentplay.errors import UserError
from latentplay.intervals import effective_wilson
from latentplay.outputs import (
    json_default,
    made_by,
    output_dir,
    p_text,
    refuse_nonempty,
    shell_word,
    staged_outputs,
    write_csv,
)
from latentplay.store.bias import repeated_persons
from latentplay.store.io import opened, store_digest
from latentplay.store.schema import UNKNOWN, class_places
from latentplay.viz.grid import image_grid, save_figure

if TYPE_CHECKING:
    import torch

PathLike = str | os.PathLike[str]
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp")
GRID_PER_ROW = 8
PER_ATTRIBUTE = ("distribution_*.csv", "distribution_*.png", "samples_*.png")
"""The files :func:`audit_images` writes per attribute (and per ``--joint`` pair): an earlier
run's of attributes this one does not write are removed from ``out`` (``--overwrite``)."""


def generate(run: PathLike | torch.nn.Module, n: int, seed: int = 0,
             condition: Mapping[str, Any] | None = None, temperature: float = 1.0,
             device: str = "cpu") -> np.ndarray:
    """``(n, S, S, C)`` uint8 images drawn from ``run``'s prior (a GAN's or a VAE's), under
    ``condition`` (``{attribute: value}``, required exactly for conditional runs), the draws
    scaled by ``temperature`` (:func:`latentplay.train.sample`), decoded on ``device``
    (``cpu``, ``cuda`` or ``auto``). ``run``: a run directory or its model loaded on that
    device."""
    import torch

    device = train.resolve_device(device)
    model = run if isinstance(run, torch.nn.Module) else train.load_model(run, device)
    where = getattr(model, "run_dir", "the run")  # load_model records it
    spec = model.condition_spec  # type: ignore[union-attr]
    names = [p.name for p in spec.parts]
    if names and not condition:
        example = ",".join(f"{p.name}={p.names[0] if p.names else 0}" for p in spec.parts)
        raise UserError(f"{where} is conditional on {', '.join(names)}; pass --condition {example}")
    if condition and not names:
        raise UserError(f"{where} is not conditional; drop --condition")
    return train.sample(model, n, seed=seed, condition=condition or None, temperature=temperature,
                        device=device)


class StoreImages(Sequence[np.ndarray]):
    """The images of a store, each decoded when indexed: what ``--annotator labels`` audits,
    which reads the store's labels and draws a few of its images (decoding all of them held
    every image in memory: 0.37 GB of pixels for 30,000 faces of 64 px, 15 GB for 100,000 of
    224 px)."""

    def __init__(self, store: st.Store) -> None:
        self.store = store

    def __len__(self) -> int:
        return len(self.store)

    def __getitem__(self, i: int) -> np.ndarray:  # type: ignore[override]
        """``(H, W, C)`` uint8 image of row ``i``."""
        from latentplay.embed.column import load_rows

        return load_rows(self.store, np.array([int(i)]))[0]


def read_images(path: PathLike) -> np.ndarray | list[np.ndarray]:
    """Every image of a store, or of the image files in a directory (sorted by name).

    Returns:
        ``(N, H, W, C)`` uint8, or a list of ``(H, W, C)`` when sizes differ.
    """
    from latentplay.embed.column import load_rows

    path = Path(path)
    if (path / st.SCHEMA_FILE).exists():
        store = st.load(path)
        return load_rows(store, np.arange(len(store)))
    if not path.is_dir():
        raise UserError(f"--images {path}: no such store or directory")
    files = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise UserError(f"--images {path}: no store and no image files ({', '.join(IMAGE_SUFFIXES)})")
    images = [_image_file(f) for f in files]
    return np.stack(images) if len({im.shape for im in images}) == 1 else images


def _image_file(path: Path) -> np.ndarray:
    """``(H, W, 3)`` uint8 of the image file ``path``; a :class:`UserError` naming it when it is
    damaged, not an image, or over Pillow's decompression-bomb limit."""
    try:
        with Image.open(path) as img:
            return np.asarray(img.convert("RGB"))
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError) as exc:
        raise UserError(f"--images {path} is not a readable image ({exc})") from None


def resolve_annotators(specs: Sequence[str], data: st.Store, attributes: Sequence[str],
                       clip_template: str | Sequence[str] = DEFAULT_TEMPLATE,
                       clip_model: str = "ViT-B-32",
                       calibrate: int = 2000, seed: int = 0, heads: str | None = None,
                       network_options: Sequence[str] = ()) -> list[Annotator | NetworkValues]:
    """One annotator per attribute from ``specs``: annotator files, ``clip:WEIGHTS`` or
    ``clip:IMAGE.onnx@TEXT.npz`` (zero-shot CLIP on every attribute's classes, ``unknown``
    aside: :class:`ClipAnnotator`)
    or ``onnx:PATH`` (a classification network whose ``heads`` are named like the attributes;
    :func:`latentplay.measure.predict.parse_heads`). Without
    ``attributes``, those of the files and the network's heads that ``data`` has are used.
    A CLIP or network annotator's confusion is measured on up to ``calibrate`` rows of
    ``data``; a network's value head is a :class:`NetworkValues` read on as many (its name need
    not be an attribute of ``data``). The labels an images store already has are
    :func:`label_annotators`."""
    if not specs:
        raise UserError("--annotator is required (a file from `latentplay audit annotator`, "
                        "clip:WEIGHTS, onnx:PATH with --heads, or labels)")
    clip = [s for s in specs if s.startswith("clip:")]
    networks = [s for s in specs if s.startswith("onnx:")]
    if len(networks) > 1:
        raise UserError("give one onnx: network (its heads name the attributes)")
    if networks and not heads:
        raise UserError(f"{networks[0]} needs --heads: the classes its outputs hold")
    if heads and not networks:
        raise UserError("--heads describes an onnx: network annotator; none was given")
    network = None
    if networks:
        from latentplay.measure.predict import HeadNetwork

        network = HeadNetwork(networks[0], heads or "", network_options)
    files = {}
    for spec in specs:
        if not spec.startswith(("clip:", "onnx:")):
            ann = load_annotator(spec)
            files[ann.attribute] = ann
    attributes = list(attributes) or list(files) + (
        [h.name for h in network.heads if data.schema.has_attribute(h.name)] if network else [])
    values = {h.name for h in network.heads if h.is_value} if network else set()
    if not attributes:
        raise UserError("--attribute is required with a clip: annotator"
                        if not network else "none of the network's heads is an attribute of "
                        f"{data.path}; name them with --attribute")
    out: list[Annotator | NetworkValues] = []
    for name in attributes:
        if name in values:
            out.append(NetworkValues(network, name).evaluate(data, max_rows=calibrate, seed=seed))
            continue
        data.schema.attribute_or_error(name)
        if name in files:
            out.append(files[name])
        elif network is not None and name in {h.name for h in network.heads}:
            ann = NetworkAnnotator(network, name)
            ann.evaluate(data, max_rows=calibrate, seed=seed)
            out.append(ann)
        elif clip:
            classes = [c for c in store_classes(data, name)[0] if c != UNKNOWN]
            ann = ClipAnnotator(clip[0][len("clip:"):], name, classes, template=clip_template,
                                model=clip_model)
            ann.evaluate(data, max_rows=calibrate, seed=seed)
            out.append(ann)
        else:
            have = ", ".join(f"{a} ({len(files[a].classes)} classes)" for a in files) or "none"
            raise UserError(f"no annotator for attribute {name!r}; the annotators given are "
                            f"for: {have}")
    return out


def label_hint(name: str, images: st.Store) -> str:
    """How ``images`` gets attribute ``name``: the measure that writes it, or an annotator's
    prediction, compared as ``predicted_<name>`` in both stores."""
    from latentplay.measure.run import FACE_COLUMNS, MEASURES

    what = next((w for w, names in MEASURES.items() if name in names), None)
    if name in FACE_COLUMNS:  # skin_group, face_found ...: written by a measure of the face
        what = FACE_COLUMNS[name] or "pose"
    where = shell_word(images.path)
    if what is not None:
        return f"measure it: latentplay data measure {where} --what {what}"
    return (f"no measure writes it: label both stores with an annotator, `latentplay data predict "
            f"{where} --with ANNOTATOR` (and --data's), then compare predicted_{name}")


def label_annotators(data: st.Store, attributes: Sequence[str], images: st.Store | None
                     ) -> tuple[list[Annotator], list[str]]:
    """``--annotator labels``: the labels the ``images`` store already has, compared with
    ``data``'s — a :class:`StoreLabels` per categorical attribute, and the names of the
    continuous ones (compared as values by :func:`audit_images`). Both stores must have every
    attribute."""
    if images is None:
        raise UserError("--annotator labels reads the labels of --images, which must be a store")
    if not attributes:
        raise UserError("--attribute is required with --annotator labels")
    for name in attributes:
        data.schema.attribute_or_error(name)
        if not images.schema.has_attribute(name):
            raise UserError(f"--images {images.path} has no attribute {name!r} ({label_hint(name, images)})")
    continuous = [n for n in attributes if data.schema.attribute(n).kind == "continuous"]
    return [StoreLabels(images, n, data) for n in attributes if n not in continuous], continuous


def training_counts(data: st.Store, annotator: Annotator) -> np.ndarray:
    """``(K,)`` counts of ``data``'s labels over the annotator's classes (matched by name;
    rows without a class, unlabelled or ``unknown``, are not counted: :func:`without_class`)."""
    names, codes = store_classes(data, annotator.attribute)
    present = np.unique(codes[class_places(codes, names) >= 0])
    unknown = [names[c] for c in present if names[c] not in annotator.classes]
    if unknown:
        raise UserError(f"the {annotator.attribute!r} annotator does not know class(es) "
                        f"{unknown} present in {data.path}; train it on this store")
    truth = annotator.store_truth(data)
    return np.bincount(truth[truth >= 0], minlength=len(annotator.classes))


def without_class(data: st.Store, annotator: Annotator) -> int:
    """How many of ``data``'s rows have no class of the annotator (unlabelled or
    ``unknown``)."""
    return int((annotator.store_truth(data) < 0).sum())


def audit_images(
    images: np.ndarray | Sequence[np.ndarray],
    data: st.Store | PathLike,
    annotators: Sequence[Annotator | NetworkValues],
    out: PathLike,
    *,
    seed: int = 0,
    overwrite: bool = False,
    source: Mapping[str, Any] | None = None,
    measured: st.Store | None = None,
    continuous: Sequence[str] = (),
    joint: Sequence[str] = (),
) -> dict[str, Any]:
    """Annotate generated ``images`` with each annotator, compare with ``data``'s labels and
    write every output to ``out``.

    Args:
        annotators: annotators of classes, and :class:`NetworkValues` whose readings of the
            images are compared with their readings of the images of ``data``.
        measured, continuous: continuous attributes that the store ``measured`` of the images
            already holds (``data measure``), each compared with ``data``'s values
            (:func:`~latentplay.audit.values.compare_values`). When ``measured``'s identity or
            person attribute repeats persons, each attribute's summary counts them
            (``generated_persons``, also in the figures' titles), and the comparisons of
            classes (and of their intersections) count them: the audited counts enter every
            test, interval and resample at their effective size (``chi2.generated_persons``
            and ``chi2.generated_design_effect``), as the KS test of a continuous value does
            (``ks_persons``).
        joint: two attributes of the annotators of classes whose intersections are compared
            too (:func:`joint_comparison`), as attribute ``"A,B"``.

    Returns:
        The summary (also ``out/summary.json``): per attribute the annotator (with its
        held-out accuracy and confusion) and the :class:`Comparison` (or the
        :class:`~latentplay.audit.values.ValueComparison`).
    """
    data = opened(data)
    with staged_outputs(output_dir(out, overwrite),
                        owned=PER_ATTRIBUTE) as out:   # moved in once all are written
        # the store's full path: audits run from other folders (audit versus) name one store alike
        where = data.path if data.path is None else data.path.resolve()
        summary: dict[str, Any] = {"source": dict(source or {}), "data": str(where),
                                   "data_digest": store_digest(data),
                                   "n_generated": len(images), "seed": seed, "attributes": {}}
        check_joint(annotators, joint)
        persons = repeated_persons(data)
        shown = None if measured is None else repeated_persons(measured)  # the images' persons
        repeated = None if shown is None else len(np.unique(shown))
        ref = data_name(data.path)
        audited = Audited.of(source)
        read: dict[str, tuple[Annotator, np.ndarray]] = {}    # annotator and classes, per attribute
        cautions: dict[str, str] = {}                          # confidence_note, per attribute
        for ann in annotators:
            if isinstance(ann, NetworkValues):
                assert ann.training is not None, "evaluate() reads the training images first"
                values = ann.values(images)
                read_persons = (None if persons is None or ann.training_rows is None
                                else persons[ann.training_rows])
                _write_values(out, summary, compare_values(ann.training, values, ann.attribute,
                                                           read_persons, shown),
                              ann.training, values, ann.description, ref, repeated, audited)
                continue
            proba = ann.predict_proba(images)
            predicted = read_classes(proba)
            ev = ann.evaluation
            attr = data.schema.attribute(ann.attribute)
            result = compare(training_counts(data, ann),
                             np.bincount(predicted[predicted >= 0], minlength=len(ann.classes)),
                             ann.classes,
                             attribute=ann.attribute, confusion=None if ev is None else ev.confusion,
                             confusion_counts=None if ev is None else ev.measured_counts, seed=seed,
                             ordered=attr.has_order,
                             training_persons=None if persons is None
                             else (ann.store_truth(data), persons),
                             generated_persons=None if shown is None else (predicted, shown),
                             without_class=(without_class(data, ann), int((predicted < 0).sum())))
            sure = None if ev is None or not len(proba) else float(proba.max(axis=1).mean())
            cautions[ann.attribute] = confidence_note(None if ev is None else ev.confidence, sure)
            write_csv(out / f"distribution_{ann.attribute}.csv", result.rows(), floats=".6g")
            _distribution_figure(out / f"distribution_{ann.attribute}.png", result, *_reading(ann), ref,
                                 audited, cautions[ann.attribute])
            read[ann.attribute] = (ann, predicted)
            _samples_figure(out / f"samples_{ann.attribute}.png", images, predicted, ann, audited)
            summary["attributes"][ann.attribute] = {
                "annotator": {**ann.description, "evaluation": None if ann.evaluation is None
                              else ann.evaluation.to_dict(),
                              "confidence_generated": sure},
                **result.to_dict(audited.name),
                **({} if repeated is None else {"generated_persons": repeated})}
        if joint:
            _write_joint(out, summary, data, [read[name] for name in joint], persons, seed, ref,
                         shown, audited, "\n".join(f"{name}: {cautions[name]}" for name in joint
                                                      if cautions[name]))
        if continuous and measured is None:
            raise ValueError("continuous attributes are compared with the store that measured them")
        for name in continuous:
            assert measured is not None
            train_values, values = data.labels(name), measured.labels(name)
            _write_values(out, summary, compare_values(train_values, values, attribute=name,
                                                       persons=persons, generated_persons=shown),
                          train_values, values, {"kind": "labels", "store": str(measured.path),
                                                 "attribute": name, "evaluation": None,
                                                 "requested": requested_condition(measured, name)},
                          ref, repeated, audited)
        (out / "summary.json").write_text(json.dumps({**summary, "made_by": made_by()}, indent=2,
                                                     default=json_default),
                                          encoding="utf-8")
        return summary


def _p_title(result: Comparison) -> str:
    """``chi-square p 0.041``, with ``(simulated: few images expected in some classes)`` (or
    why else, :attr:`Comparison.simulated_because`) where the p-value was simulated."""
    why = result.simulated_because
    return f"chi-square p {p_text(result.p_value)}" + ("" if why is None else f" (simulated: {why})")


def check_joint(annotators: Sequence[Annotator | NetworkValues], joint: Sequence[str]) -> None:
    """Raise a :class:`UserError` unless ``joint`` is empty or two different attributes that
    ``annotators`` read as classes."""
    classes = [a.attribute for a in annotators if not isinstance(a, NetworkValues)]
    if joint and (len(joint) != 2 or not set(joint) <= set(classes) or joint[0] == joint[1]):
        raise UserError(f"--joint takes two of the attributes annotated with classes "
                        f"({', '.join(classes) or 'none'}), got {','.join(joint)!r}")


def joint_comparison(data: st.Store, first: tuple[Annotator, np.ndarray],
                     second: tuple[Annotator, np.ndarray], persons: np.ndarray | None = None,
                     seed: int = 0, shown: np.ndarray | None = None) -> Comparison:
    """The intersections of two annotated attributes (``"female / monk_1"``, ...) compared
    between ``data``'s labels and the generated images' ``(M,)`` classes as each annotator
    read them (-1: none; a row or image without a class of either has no intersection): the
    joint confusion is the Kronecker product of the two annotators' (their errors taken as
    independent given the true classes: :class:`JointCounts`). ``persons``: ``data``'s rows'
    persons, ``shown``: the ``(M,)`` images', where they repeat (None: independent)."""
    (a, read_a), (b, read_b) = first, second
    k = len(b.classes)
    truth_a, truth_b = a.store_truth(data), b.store_truth(data)
    codes = np.where((truth_a >= 0) & (truth_b >= 0), truth_a * k + truth_b, -1)
    read = np.where((read_a >= 0) & (read_b >= 0), read_a * k + read_b, -1)
    names = [f"{x} / {y}" for x in a.classes for y in b.classes]
    measured = a.evaluation is not None and b.evaluation is not None
    counts = (JointCounts(a.evaluation.measured_counts,               # type: ignore[union-attr]
                          b.evaluation.measured_counts)                 # type: ignore[union-attr]
              if measured else None)
    return compare(np.bincount(codes[codes >= 0], minlength=len(names)),
                   np.bincount(read[read >= 0], minlength=len(names)), names,
                   attribute=f"{a.attribute},{b.attribute}",
                   confusion=None if counts is None else counts.confusion(),
                   confusion_counts=counts, seed=seed,
                   training_persons=None if persons is None else (codes, persons),
                   generated_persons=None if shown is None else (read, shown),
                   without_class=(int((codes < 0).sum()), int((read < 0).sum())))


def _write_joint(out: Path, summary: dict[str, Any], data: st.Store,
                 pair: list[tuple[Annotator, np.ndarray]], persons: np.ndarray | None,
                 seed: int, ref: str, shown: np.ndarray | None = None,
                 audited: Audited | None = None, caution: str = "") -> None:
    """The :func:`joint_comparison` of an annotated ``pair``: its CSV, figure and summary
    entry; ``ref`` labels ``data`` (:func:`~latentplay.audit.distribution.data_name`);
    ``shown``: the ``(M,)`` persons of the audited images where they repeat (None: not known
    to); ``audited``: what the figure calls the images (:class:`Audited`); ``caution``: the
    annotators' confidence notes, the figure title's last lines."""
    result = joint_comparison(data, pair[0], pair[1], persons, seed, shown)
    name = result.attribute
    how, measured = _reading(pair[0][0])[0], result.confusion_condition is not None
    write_csv(out / f"distribution_{name}.csv", result.rows(), floats=".6g")
    _joint_figure(out / f"distribution_{name}.png", result, pair, how, measured, ref,
                  audited, caution)
    summary["attributes"][name] = {
        "annotator": {"kind": "joint", "attributes": [ann.attribute for ann, _ in pair],
                      "evaluation": None, "independent_errors": measured,
                      "persons_counted": [ann.attribute for ann, _ in pair
                                          if ann.evaluation is not None
                                          and ann.evaluation.effective is not None]},
        **result.to_dict((audited or Audited()).name),
        **({} if shown is None else {"generated_persons": len(np.unique(shown))})}


def _joint_figure(path: Path, result: Comparison, pair: list[tuple[Annotator, np.ndarray]],
                  how: str, measured: bool, ref: str,
                  audited: Audited | None = None, caution: str = "") -> None:
    """Heatmaps of a :func:`joint_comparison`: the store compared with (labelled ``ref``),
    the audited images (corrected where they could be; named by ``audited``) and their ratio
    per intersection; ``caution``: the title's last lines (:func:`confidence_note` of each
    annotator)."""
    from latentplay.viz.distribution import intersection_heatmaps

    audited = audited or Audited()
    first, second = (ann for ann, _ in pair)
    shape = (len(first.classes), len(second.classes))
    training = result.training.reshape(shape)
    corrected = result.corrected is not None
    generated = (result.corrected if result.corrected is not None else result.generated
                 ).reshape(shape)
    ci = (result.corrected_ci if corrected and result.corrected_ci is not None
          else result.generated_ci).reshape(*shape, 2)
    ratio_ci = None if result.ratios is None else result.ratios.interval.reshape(*shape, 2)
    tv = result.corrected_tv if corrected else result.tv
    faithful = None if result.faithful is None else (
        result.faithful.corrected_tv if corrected else result.faithful.tv)
    title = (f"{first.attribute} x {second.attribute}"
             + (f"{_condition_note(audited.drawn, ref)}\n" if audited.drawn else ": ")
             + f"{'corrected ' if corrected else ''}TV "
             f"{tv:.3f}" + ("" if faithful is None else f" (a faithful generator {faithful:.3f})")
             + f", {_p_title(result)}"
             + ("\nthe two annotators' errors taken as independent" if measured else "")
             + _counted_note(result) + (f"\n{caution}" if caution else ""))
    label = f"{audited.label}, {'corrected' if corrected else how}"
    if shape[0] >= shape[1]:
        figure = intersection_heatmaps(first.classes, second.classes, training, generated,
                                       generated_label=label, reference_label=ref, title=title,
                                       generated_name=audited.name, generated_ci=ci,
                                       ratio_ci=ratio_ci)
    else:                                    # the attribute with more classes down the rows
        figure = intersection_heatmaps(second.classes, first.classes, training.T, generated.T,
                                       generated_label=label, reference_label=ref, title=title,
                                       generated_name=audited.name,
                                       generated_ci=ci.transpose(1, 0, 2),
                                       ratio_ci=None if ratio_ci is None
                                       else ratio_ci.transpose(1, 0, 2))
    save_figure(figure, path)


def sample_groups(
    run: PathLike,
    data: st.Store | PathLike,
    attribute: str,
    n: int,
    out: PathLike,
    *,
    annotator: Annotator | None = None,
    components: int | None = None,
    measure: int = 200,
    seed: int = 0,
    overwrite: bool = False,
    column: str | None = None,
    covariance: str = "full",
) -> dict[str, Any]:
    """Fit a latent mixture per class of ``attribute`` (to ``run``'s encoder means, or to the
    codes in vector ``column``; ``covariance``: ``full`` or ``diag`` per component), draw ``n``
    faces of each into ``out/groups.png`` and write ``out/groups.json``.

    With an ``annotator`` (of the same attribute), ``measure`` faces per group and as many prior
    samples are annotated: each group's ``share_annotated`` (of its own samples annotated as
    it) is reported beside its base rate in ``data``, its share among prior samples
    (``prior_share``) and the annotator's held-out recall of the class on real faces
    (``annotator_recall``, over ``annotator_recall_n`` of them: what samples that all show the
    group would score), and ``annotated`` gives the shares of every class among its samples.
    """
    from latentplay.audit.groups import fit_group_mixtures

    data = opened(data)
    at_least(n, 1, "--n")
    at_least(measure, 1, "--measure")
    if annotator is not None and annotator.attribute != attribute:
        raise UserError(f"the annotator is for {annotator.attribute!r}, not {attribute!r}")
    refuse_nonempty(Path(out), overwrite)  # before the fits; --out is made once input passes
    if covariance not in ("full", "diag"):
        raise UserError(f"covariance (--covariance) must be full or diag, got {covariance!r}")
    with warnings.catch_warnings():  # each group's note goes into groups.json instead
        warnings.filterwarnings("ignore", f"{re.escape(attribute)}: group ", UserWarning)
        gm = fit_group_mixtures(run, data, attribute, components=components, seed=seed,
                                column=column, covariance=covariance)
    unread = [] if annotator is None else [c for c in gm.classes if c not in annotator.classes]
    if unread:  # the group's share would read 0, whatever its samples show
        raise UserError(f"the annotator has no class {', '.join(map(repr, unread))} of "
                        f"{attribute!r} (its classes: {', '.join(annotator.classes)}); give one "
                        f"that reads every group, or keep the groups it reads with "
                        f"`latentplay data subset --where {attribute}=...`")
    with staged_outputs(output_dir(out, overwrite)) as out:   # moved in once all are written
        rows = [gm.images(k, n, seed + k) for k in range(len(gm.classes))]
        labels = [f"{c}\n(n={m}, k={g.n_components})"
                  for c, m, g in zip(gm.classes, gm.counts, gm.mixtures, strict=True)]
        save_figure(image_grid(rows, labels, title=f"{attribute}: faces drawn from each group's "
                               "latent mixture"), out / "groups.png")
        base = gm.counts / gm.counts.sum()
        groups = [{"class": c, "rows": int(m), "base_rate": float(b), "components": int(g.n_components),
                   "chosen_by": gm.chosen_by[c], "note": gm.notes.get(c)}
                  for c, m, b, g in zip(gm.classes, gm.counts, base, gm.mixtures, strict=True)]
        summary: dict[str, Any] = {"run": str(run), "data": str(data.path), "data_digest": store_digest(data),
                                   "attribute": attribute,
                                   "codes": f"column {column}" if column else "encoder means",
                                   "covariance": covariance, "components": components,
                                   "max_components": gm.max_components, "n": n, "seed": seed,
                                   "groups": groups, "skipped": gm.skipped,
                                   "rows_without_class": gm.unlabelled, "caution": gm.caution}
        if annotator is not None:
            prior = annotator.predict(train.sample(gm.model, measure, seed=seed + 10_000))
            for k, group in enumerate(groups):
                target = annotator.classes.index(group["class"])
                predicted = annotator.predict(gm.images(k, measure, seed + 1000 + k))
                hits = {"share_annotated": int(np.sum(predicted == target)),
                        "prior_share": int(np.sum(prior == target))}
                for key, count in hits.items():
                    group[key] = count / measure
                    group[f"{key}_low"], group[f"{key}_high"] = effective_wilson(count / measure,
                                                                                 measure)
                shares = np.bincount(predicted, minlength=len(annotator.classes)) / measure
                group["annotated"] = dict(zip(annotator.classes, shares.tolist(), strict=True))
                group["annotator_recall"], group["annotator_recall_n"] = _recall(annotator, target)
                group["annotator_recall_low"], group["annotator_recall_high"] = (
                    (None, None) if group["annotator_recall_n"] is None else effective_wilson(
                        group["annotator_recall"], group["annotator_recall_n"]))
            summary["annotator"] = {**annotator.description, "evaluation": None
                                    if annotator.evaluation is None else annotator.evaluation.to_dict()}
            summary["measure"] = measure
            _shares_figure(out / "groups_shares.png", attribute, groups, measure, gm.unlabelled)
        (out / "groups.json").write_text(json.dumps({**summary, "made_by": made_by()}, indent=2,
                                                    default=json_default),
                                         encoding="utf-8")
        return summary


def _recall(annotator: Annotator, target: int) -> tuple[float | None, int | None]:
    """The annotator's held-out recall of class ``target`` and the real faces it was measured
    on; None without a measured confusion or faces of the class."""
    ev = annotator.evaluation
    if ev is None or target < 0 or not ev.counts[target].sum():
        return None, None
    return float(ev.confusion[target, target]), int(ev.counts[target].sum())


def _shares_figure(path: Path, attribute: str, groups: list[dict[str, Any]], measure: int,
                   unlabelled: int) -> None:
    """Each group's base rate (grey, no interval; a share of the rows with a class, the
    ``unlabelled`` left out) beside the shares of prior and group-mixture samples annotated as
    it, with the Wilson 95 % intervals of :func:`sample_groups`."""
    from latentplay.viz.distribution import distribution_bars

    def series(key: str) -> tuple[np.ndarray, np.ndarray]:
        return (np.array([g[key] for g in groups]),
                np.array([[g[f"{key}_low"], g[f"{key}_high"]] for g in groups]))

    base = "base rate: share of the data's rows" + (
        f" with a class ({unlabelled} unknown left out)" if unlabelled else "")
    bars = {base: (np.array([g["base_rate"] for g in groups]), None),
            f"prior samples (n={measure})": series("prior_share"),
            f"the group's mixture samples (n={measure} each)": series("share_annotated")}
    if all(g.get("annotator_recall") is not None for g in groups):
        bars["real faces of the group (held-out recall)"] = series("annotator_recall")
    save_figure(distribution_bars([g["class"] for g in groups], bars,
                                  ylabel="base rate, or share annotated as the group",
                                  title=f"{attribute}: samples annotated as each group"), path)


def _write_values(out: Path, summary: dict[str, Any], result: ValueComparison,
                  train_values: np.ndarray, values: np.ndarray, annotator: dict[str, Any],
                  ref: str, generated_persons: int | None = None,
                  audited: Audited | None = None) -> None:
    """A value comparison's CSV, figure and summary entry (``annotator``: what read them;
    ``ref`` labels the store compared with; ``generated_persons``: the persons the audited
    images repeat, None where not known to; ``audited``: what the figure calls them)."""
    name = result.attribute
    write_csv(out / f"distribution_{name}.csv", result.rows(), floats=".6g")
    how = ("read by the network" if annotator.get("kind") == "network values"
           else "requested" if annotator.get("requested") else "labelled")
    _values_figure(out / f"distribution_{name}.png", result, train_values, values,
                   ref, how=how, audited=audited)
    summary["attributes"][name] = {
        "annotator": annotator, **result.to_dict(),
        **({} if generated_persons is None else {"generated_persons": generated_persons})}


REQUESTED = "the conditions the images were generated under, not read from them"
"""What a figure says of labels that are a ``data generate`` store's conditions."""


def _reading(annotator: Annotator) -> tuple[str, str]:
    """How an annotator's classes came about (``"labelled"`` or ``"annotated"``) and its
    accuracy in words, for a figure's title."""
    if isinstance(annotator, StoreLabels):
        if annotator.requested:
            return "requested", REQUESTED
        return "labelled", "labels of the images' store"
    if annotator.evaluation is None:
        return "annotated", "no held-out accuracy"
    ev = annotator.evaluation
    return "annotated", f"annotator's held-out accuracy {ev.accuracy:.3f} ({chance_text(ev.counts)})"


def drawn_under(condition: Mapping[str, Any] | None) -> str:
    """The condition a run's samples were drawn under, as ``skin_tone=monk_10, smile=0.5``;
    "" for none."""
    return ", ".join(f"{k}={v}" for k, v in (condition or {}).items())


@dataclass(frozen=True)
class Audited:
    """What an audit's figures call the images audited: a run's samples, drawn under the
    condition ``drawn`` (:func:`drawn_under`; "" for none), or the images of ``--images``,
    named by their folder (``images``; "" for a run's samples)."""

    drawn: str = ""
    images: str = ""

    @classmethod
    def of(cls, source: Mapping[str, Any] | None) -> Audited:
        """From an audit's ``source``: ``{"run": ..., "condition": ...}`` or ``{"images":
        PATH}``."""
        source = source or {}
        if source.get("images") and not source.get("run"):
            return cls(images=Path(source["images"]).name or "--images")
        return cls(drawn=drawn_under(source.get("condition")))

    @property
    def name(self) -> str:
        """Short, in a ratio or a difference: ``generated``, or the images' folder."""
        return self.images or "generated"

    @property
    def label(self) -> str:
        """In a legend: ``generated``, ``generated under skin_tone=monk_10``, ``images of
        dark``."""
        if self.images:
            return f"images of {self.images}"
        return f"generated under {self.drawn}" if self.drawn else "generated"

    @property
    def title(self) -> str:
        """In a title: ``generated images`` or ``images of dark``."""
        return f"images of {self.images}" if self.images else "generated images"


def _condition_note(drawn: str, ref: str) -> str:
    """A figure title's line when the samples were drawn under the condition ``drawn``: the
    store ``ref`` compared with holds all its rows' mix, so the distances to it show the
    condition at work, not a bias; "" without a condition."""
    if not drawn:
        return ""
    return (f"\nsamples drawn under {drawn}: their distances to {ref}, the mix of all its "
            "rows, are not a bias measure")


def _counted_note(result: Comparison) -> str:
    """A class figure's line on the audited images' persons, where they repeat: their tests
    and intervals count them (at the design effect said); "" otherwise."""
    spread, effect = result.generated_spread, result.generated_design_effect
    return ("" if spread is None or effect is None else f"\nthe audited images counted over their "
            f"{spread.clusters} persons (design effect {effect:.2f})")


def confidence_note(labelled: float | None, audited: float | None) -> str:
    """The short form, for a figure's title, of the caution ``audit compare`` prints
    (:func:`~latentplay.audit.annotate.confidence_shift`, on the same condition) when the
    annotator's mean confidence on the audited images is ``CONFIDENCE_DROP`` or more below (or
    above) its confidence on the ``labelled`` images its confusion was measured on; "" when
    neither holds or either is unknown. A saved figure travels without the console."""
    if labelled is None or audited is None:
        return ""
    both = f"(confidence {audited:.3f} here, {labelled:.3f} on labelled images)"
    if labelled - audited >= CONFIDENCE_DROP:
        return (f"annotator less sure here than on labelled images {both}:\nthese images may be "
                "unlike those its errors were measured on, so the shares and test are uncertain")
    if audited - labelled >= CONFIDENCE_DROP:
        return (f"annotator surer here than on labelled images {both}:\nimages unlike those "
                "(blank, uniform, noise) can do that; look at them before reading the shares")
    return ""


def _distribution_figure(path: Path, result: Comparison, how: str, acc: str, ref: str,
                         audited: Audited | None = None, caution: str = "") -> None:
    """The compared store's (labelled ``ref``), the audited images' and the corrected shares
    with intervals (each side's persons counted where they repeat: :func:`_counted_note`);
    ``how`` the audited images' classes came about, ``acc`` the reader's accuracy, both in
    words (:func:`_reading`); ``audited``: what the legend calls the images, and the condition
    they were drawn under, said under the legend (:func:`_condition_note`), as ``caution`` is
    (:func:`confidence_note`)."""
    from latentplay.viz.distribution import distribution_bars

    audited = audited or Audited()
    persons, shown = ("" if spread is None else f", {spread.clusters} persons"
                      for spread in (result.training_spread, result.generated_spread))
    left_out = [f", {k} without a class" if k else "" for k in result.without_class]
    series: dict[str, tuple[np.ndarray, np.ndarray | None]] = {
        f"{ref} (n={int(result.training_counts.sum())}{persons}{left_out[0]})":
            (result.training, result.training_ci),
        f"{audited.label}, {how} (n={int(result.generated_counts.sum())}{shown}{left_out[1]})":
            (result.generated, result.generated_ci)}
    if result.corrected is not None:
        series[f"{audited.label}, corrected for annotator error"] = (result.corrected,
                                                                     result.corrected_ci)
    faithful = "" if result.faithful is None else f" (a faithful generator {result.faithful.tv:.3f})"
    title = (f"{result.attribute}, {acc}\n{how}: TV "
             f"{result.tv:.3f}{faithful}, JS {result.js:.3f} bits")
    if result.corrected_tv is not None:
        faithful = ("" if result.faithful is None or result.faithful.corrected_tv is None
                    else f" (a faithful one {result.faithful.corrected_tv:.3f})")
        title += (f"\ncorrected: TV {result.corrected_tv:.3f}{faithful}, JS "
                  f"{result.corrected_js:.3f} bits "
                  f"(confusion condition number {result.confusion_condition:.3g})")
    elif result.confusion_condition is not None:
        title += (f"\nno correction: the annotator's confusion matrix is singular or nearly so "
                  f"(condition number {result.confusion_condition:.3g}, above {MAX_CONDITION:g})")
    title += f"\n{_p_title(result)}"
    if result.training_spread is not None:
        title += (f" over {result.training_spread.clusters} {REFERENCE} persons (design effect "
                  f"{result.training_spread.design_effect:.2f})")
    title += _counted_note(result)
    note = "\n".join(line for line in (_condition_note(audited.drawn, ref).strip(), caution) if line)
    save_figure(distribution_bars(result.classes, series, title=title, note=note), path)


def _values_figure(path: Path, result: ValueComparison, training: np.ndarray,
                   generated: np.ndarray, ref: str, how: str = "labelled",
                   audited: Audited | None = None) -> None:
    """Histograms of the two samples, ``training`` labelled ``ref``; ``how`` the images' values
    came about: ``"read by the network"`` (both sides were), ``"labelled"`` or ``"requested"``
    (the conditions of a ``data generate`` store, said in the title too); the KS test over
    either side's persons where they repeat; ``audited``: what the figure calls the images
    (:class:`Audited`)."""
    from latentplay.viz.distribution import value_histograms

    audited = audited or Audited()
    smd = (f"- {REFERENCE} = {smd_text(result.smd)} SD, " if np.isfinite(result.smd)
           else f"vs {REFERENCE}: SMD {smd_text(result.smd)}\n")
    title = (f"{result.attribute}: {audited.name} {smd}KS "
             f"{result.ks:.3f} (p {p_text(result.ks_p)}), Wasserstein {result.wasserstein:.3g}")
    if over := ks_persons_text({"ks_persons": result.ks_persons}, audited_images(audited.name)):
        title += f"\n{over}"
    if how == "requested":
        title += f"\n{how}: {REQUESTED}"
    title += _condition_note(audited.drawn, ref)
    read = how == "read by the network"
    samples = {f"{ref}, {how}" if read else ref: training[np.isfinite(training)],
               f"{audited.label}, {how}": generated[np.isfinite(generated)]}
    save_figure(value_histograms(samples, title=title, xlabel=result.attribute), path)


def _samples_figure(path: Path, images: np.ndarray | Sequence[np.ndarray], predicted: np.ndarray,
                    annotator: Annotator, audited: Audited | None = None) -> None:
    """Up to :data:`GRID_PER_ROW` of the images per class they were given (``audited``:
    what the title calls them)."""
    from latentplay.store.images import fitted_arrays

    rows, labels = [], []
    for k, name in enumerate(annotator.classes):
        idx = np.flatnonzero(predicted == k)
        if len(idx):
            rows.append(np.asarray(fitted_arrays([images[i] for i in idx[:GRID_PER_ROW]], 64,
                                                  "RGB")))
            labels.append(f"{name}\n(n={len(idx)})")
    how = "labelled" if isinstance(annotator, StoreLabels) else "annotated"
    audited = audited or Audited()
    drawn = f"\ndrawn under {audited.drawn}" if audited.drawn else ""
    save_figure(image_grid(rows, labels, title=f"{audited.title} by {how} "
                           f"{annotator.attribute}{drawn}"), path)
