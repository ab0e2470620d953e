"""Measure every image of a store into new label attributes: pose, skin tone, expression,
quality.

``quality`` needs no face: ``brightness``, ``contrast``, ``sharpness``. ``pose`` (``pose_yaw``,
``pose_pitch``, ``pose_roll``, degrees), ``skin`` (``skin_ita`` in degrees and its six-way
``skin_group``), ``expression`` (``mouth_lift``, ``mouth_open``) and ``size`` (``face_iod``
pixels between the eyes, ``face_fill`` that over the image's side) read dlib's 68 landmarks of
the largest face the detector (dlib's HOG or CNN, or an SCRFD network) finds; ``face_found``
(no/yes) says for which rows it found one and ``face_score`` how sure it was (NaN where it
found none). The face attributes of a store (of one ``prefix``) all come from the same faces: a
run that finds them otherwise (another detector or upsampling, or none) is refused while it
would leave earlier ones in place. Pose, expression and size are read only from a detected face
(a box placed without seeing the face decides where the landmarks go, so the angles would be
the box's). Skin is also read where the detector missed the face, from the median face box of a
sample of the store's images (``fallback="median"``: right for aligned crops, where every face
sits in about the same place) or the whole image as the box (``fallback="whole"``);
``fallback="nan"`` leaves those rows without a value. With ``detect=False`` every image is
taken as a face crop and measured whole. The run is batched and resumable like ``latentplay
embed``; the store is replaced atomically once every row is measured.

    >>> store = measure_store("data/utkface", ["pose", "skin", "quality"])
    >>> store.labels("pose_yaw")                   # (N,) float32 degrees
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from latentplay import store as st
from latentplay.embed.base import Embedder, Images, as_list
from latentplay.embed.column import load_rows, run_embedder
from latentplay.embed.faces import (
    LOOK_ON_THREADS,
    SCRFD_PREFIX,
    Face,
    FaceModels,
    auto_upsample,
    check_detector,
    check_upsample,
    detector_digest,
    detector_label,
    faces_first,
    map_faces,
)
from latentplay.errors import UserError
from latentplay.measure.expression import inter_ocular, mouth
from latentplay.measure.pose import head_pose
from latentplay.measure.quality import QUALITY_NAMES, image_quality
from latentplay.measure.size import SIZE_NAMES, face_size
from latentplay.measure.skin import ITA_GROUPS, MIN_YELLOW, cheek_mask, ita, ita_group
from latentplay.names import name_list
from latentplay.outputs import counted
from latentplay.store.images import decode
from latentplay.store.io import opened, saved, sole_writer
from latentplay.store.schema import UNKNOWN, Attribute

MEASURES: dict[str, tuple[str, ...]] = {
    "quality": QUALITY_NAMES,
    "pose": ("pose_yaw", "pose_pitch", "pose_roll"),
    "skin": ("skin_ita",),
    "expression": ("mouth_lift", "mouth_open"),
    "size": SIZE_NAMES,
}
"""What each measure adds (continuous attributes; ``skin`` also adds ``skin_group``)."""
FACE_MEASURES = ("pose", "skin", "expression", "size")  # read from 68 landmarks
FALLBACK_MEASURES = ("skin",)  # also read in a fallback box where the detector missed the face
FACE_COLUMNS: dict[str, str | None] = {
    **{name: what for what in FACE_MEASURES for name in MEASURES[what]},
    "skin_group": "skin", "face_found": None, "face_score": None}
"""The attributes read from the faces found, each with the measure that writes it (None: any
measure, where the detector runs)."""

_RANGES: dict[str, tuple[float, float]] = {"brightness": (0.0, 100.0), "skin_ita": (-90.0, 90.0)}
"""Scales worth showing whole; the others' histograms span the values measured."""
_DESCRIPTIONS: dict[str, str] = {
    "brightness": "mean CIELAB L* of the image (0 black, 100 white)",
    "contrast": "standard deviation of the image's L* (RMS contrast)",
    "sharpness": ("log10 variance of the Laplacian of L* at 128 px on the shorter side (Lanczos; "
                  "blur lowers it)"),
    "pose_yaw": "head yaw in degrees, pose v2: eyes and nose (> 0: turned to the image's right)",
    "pose_pitch": "head pitch in degrees, pose v2: eyes and nose (> 0: looking up; mean-face offset)",
    "pose_roll": "head roll in degrees, pose v2: eyes and nose (> 0: tilted counter-clockwise)",
    "skin_ita": "Individual Typology Angle of the cheeks in degrees (high: light skin)",
    "face_score": "{detector}'s score of the face (higher: clearer, more frontal)",
    "mouth_lift": "mouth corners' rise above the inner lip centre, in inter-ocular distances "
                  "(> 0: smiling; about +0.05 per 10 degrees the head looks down)",
    "mouth_open": "gap between the inner lips, in inter-ocular distances",
    "face_iod": "inter-ocular distance in pixels (eye centre to eye centre): the face's "
                "resolution",
    "face_fill": "inter-ocular distance over the image's shorter side: how tightly the face "
                 "is framed",
    "skin_group": "skin type by ITA: > 55 very light, > 41 light, > 28 intermediate, > 10 tan, "
                  "> -30 brown, else dark",
    "face_found": "whether {detector} found a face (else {missed})",
}
_MISSED: dict[str, str] = {
    "median": "no face measure but the skin, read in the median face box",
    "whole": "no face measure but the skin, read with the whole image as the face box",
}
"""What a run reads from a face the detector missed, by fallback (when it reads skin)."""
_NOTES: dict[str, str] = {
    "mouth_lift": ("note: mouth_lift reads head pitch as well as a smile (a neutral face looking "
                   "down 10 degrees reads about +0.05, looking up -0.05), and pose_pitch can still "
                   "follow a smile through where the landmarks put the nose; compare smiles of faces "
                   "photographed at like elevation (docs/measure.md)"),
}
"""A caution printed after an attribute's summary line (by unprefixed name)."""
FALLBACKS = ("median", "whole", "nan")
MIN_SIDE = 32  # px on an image's shorter side for sharpness (a smaller one is mostly resampling)
MIN_IOD = 8.0  # px between the eye centres for pose and expression (landmarks are whole pixels)
MIN_CHEEK = 64  # pixels under the two cheek polygons for skin (their median is its colour)
MINIMUMS: dict[str, str] = {
    "sharpness": f"an image under {MIN_SIDE} px on its shorter side",
    **dict.fromkeys(MEASURES["pose"] + MEASURES["expression"],
                    f"a face under {MIN_IOD:g} px between the eye centres"),
    "skin_ita": f"under {MIN_CHEEK} pixels inside the cheek outlines",
}
"""The attributes with a minimum size (by unprefixed name), each with what is too small for it:
such a row gets no value. Brightness, contrast and size are read at any size (``face_iod`` says
why a face's other measures are missing)."""
FIT_SAMPLE = 200  # images searched for faces to place the median fallback box
MIN_FIT_FACES = 10  # faces found to place it (every image's, in a smaller sample)


@dataclass
class MeasureConfig:
    """Options of a measurement run.

    Attributes:
        what: measures to take, from :data:`MEASURES` (``quality``, ``pose``, ``skin``,
            ``expression``, ``size``).
        detect: look for the face with dlib's detector; False takes every image as a face
            crop (the whole image is the face box).
        detector: ``hog`` (fast), ``cnn`` (dlib's CNN: slower, finds more faces) or
            ``scrfd:PATH`` (an SCRFD network; the 68 landmarks are placed in its box).
        fallback: where the skin of a face the detector missed is read: ``median`` (the median
            box, relative to the image size, of the faces found in up to :data:`FIT_SAMPLE`
            evenly spaced images), ``whole`` (the whole image is the face box) or ``nan``
            (nowhere: no value). Pose, expression and size are never read
            from a fallback box.
        upsample: detector upsampling (-1: automatic, by image size).
        device: where dlib's CNN detector runs (``cpu``, ``cuda`` or ``auto``); it sees each
            batch of images at once.
    """

    what: list[str] = field(default_factory=lambda: ["quality", "pose", "skin", "expression"])
    detect: bool = True
    detector: str = "hog"
    fallback: str = "median"
    upsample: int = -1
    device: str = "cpu"

    def validate(self) -> None:
        check_detector(self.detector)
        from latentplay.devices import resolve_device

        resolve_device(self.device, "--device")
        unknown = [w for w in self.what if w not in MEASURES]
        if unknown or not self.what:
            raise UserError(f"unknown measure(s) {', '.join(unknown) or '(none)'}; choose from "
                            + ", ".join(MEASURES))
        if len(set(self.what)) != len(self.what):
            raise UserError(f"a measure is named twice in {', '.join(self.what)}")
        if self.fallback not in FALLBACKS:
            raise UserError(f"fallback (--fallback) must be one of {', '.join(FALLBACKS)}, "
                            f"got {self.fallback!r}")
        check_upsample(self.upsample)

    @property
    def names(self) -> list[str]:
        """The continuous values measured, in column order (``face_score`` last, where the
        detector runs)."""
        names = [name for w in self.what for name in MEASURES[w]]
        return names + ["face_score"] if self.detects else names

    @property
    def attribute_names(self) -> list[str]:
        """Every attribute a run adds: :attr:`names`, ``skin_group`` and ``face_found``."""
        return (self.names + (["skin_group"] if "skin" in self.what else [])
                + (["face_found"] if self.detects else []))

    @property
    def needs_face(self) -> bool:
        return any(w in FACE_MEASURES for w in self.what)

    @property
    def detects(self) -> bool:
        """Whether the run looks for faces (and so reports ``face_found`` / ``face_score``)."""
        return self.needs_face and self.detect

    @property
    def reads_fallback(self) -> bool:
        """Whether a face the detector missed is still read, in a fallback box."""
        return (not self.detect or self.fallback != "nan") and any(
            w in FALLBACK_MEASURES for w in self.what)


class Measurer(Embedder):
    """Measures one batch into ``(N, 1 + len(config.names))`` rows (:meth:`embed_rows`)."""

    kind = "measure"
    config_type = MeasureConfig
    detects_faces = True

    def __init__(self, config: MeasureConfig) -> None:
        from latentplay.devices import resolve_device

        config.validate()
        super().__init__(config)
        self.box: tuple[float, float, float, float] | None = None  # median fallback, relative
        self.device = resolve_device(config.device, "--device")
        if config.needs_face:
            FaceModels.load()  # a missing dlib fails here

    @property
    def name(self) -> str:
        return "measure:" + ",".join(self.config.what)

    @property
    def dim(self) -> int:
        return 1 + len(self.config.names)

    @property
    def needs_fit(self) -> bool:  # type: ignore[override]
        """Whether the median fallback box must first be found on sample images."""
        cfg = self.config
        return cfg.detects and cfg.reads_fallback and cfg.fallback == "median" and self.box is None

    def fit_rows(self, n: int) -> np.ndarray:
        return np.unique(np.linspace(0, n - 1, min(n, FIT_SAMPLE)).astype(np.int64))

    def fit(self, images: Images) -> Measurer:
        """Place the fallback box: the median of the detected face boxes of ``images``, each
        as (left, top, right, bottom) fractions of its image's width and height; refused with
        fewer than :data:`MIN_FIT_FACES` faces, unless every one of fewer images has one."""
        def relative_box(item: tuple[np.ndarray, Any]) -> tuple[float, float, float, float] | None:
            image, found = item
            if found is LOOK_ON_THREADS:
                found = self._detect(FaceModels.load(), image)
            if found is None:
                return None
            box, (h, w) = found.box, image.shape[:2]
            return box.left() / w, box.top() / h, box.right() / w, box.bottom() / h

        images = as_list(images)
        boxes = [b for b in map_faces(relative_box, self._with_faces(images)) if b is not None]
        if len(boxes) < min(MIN_FIT_FACES, len(images)):  # a smaller sample: every face found
            raise UserError(f"the face detector found {counted(len(boxes), 'face')} in "
                            f"{counted(len(images), 'sample image')}, too few to place a "
                            "fallback box (10, or every one in a smaller store); place it with "
                            "the faces of a larger store of like images (--box-from), or use "
                            "--fallback whole (face crops) or nan")
        self.box = tuple(float(v) for v in np.median(np.array(boxes), axis=0))  # type: ignore[assignment]
        return self

    def state_digest(self) -> str:
        box = "" if self.box is None else ",".join(f"{v:.6f}" for v in self.box)
        return box + detector_digest(self.config.detector)

    def embed_rows(self, images: Images, rows: np.ndarray | None = None
                   ) -> tuple[np.ndarray, np.ndarray]:
        """``(N, dim)`` float32 rows and an ``(N,)`` bool mask: face detected (all True when
        no face is needed or detection is off). A row is a bit mask of the measures (bit k:
        ``config.what[k]``) left without a value for being under their minimum size
        (:data:`MINIMUMS`), then the :attr:`MeasureConfig.names` values, NaN where there is
        none."""
        results = map_faces(self._measure, self._with_faces(as_list(images)))
        out = np.array([values for values, _ in results], dtype=np.float32).reshape(
            len(results), self.dim)
        return out, np.array([found for _, found in results], dtype=bool)

    def _with_faces(self, images: list[np.ndarray]) -> list[tuple[np.ndarray, Any]]:
        """Each image with its face (:func:`~latentplay.embed.faces.faces_first`: dlib's CNN
        detector looks at every image at once, on the config's device; the other detectors
        look on the threads), or with None where no face is looked for."""
        cfg = self.config
        if not (cfg.needs_face and cfg.detect):
            return [(image, None) for image in images]
        up = None if cfg.upsample < 0 else cfg.upsample
        return list(zip(images, faces_first(images, cfg.detector, up, self.device), strict=True))

    def _measure(self, item: tuple[np.ndarray, Any]) -> tuple[list[float], bool]:
        """One image's row of :meth:`embed_rows` (the measures left out for size, then
        :attr:`MeasureConfig.names`) and whether its face was found, from an image and its face
        (:meth:`_with_faces`); runs on :func:`~latentplay.embed.faces.map_faces`'s threads."""
        cfg = self.config
        image, detected = item
        values: list[float] = []
        below = 0
        score, face, found = float("nan"), None, True
        if cfg.needs_face:
            models = FaceModels.load()
            if detected is LOOK_ON_THREADS:
                detected = self._detect(models, image)
            found = detected is not None or not cfg.detect
            if detected is not None:
                score = detected.score
            face = self._face(models, image, None if detected is None else detected.box)
        for k, what in enumerate(cfg.what):
            read = what == "quality" or (face is not None
                                         and (what in FALLBACK_MEASURES or found))
            measured = _measured(what, image, face) if read else [np.nan] * len(MEASURES[what])
            if read and too_small(what, image, face):
                below |= 1 << k
                measured = [np.nan if name in MINIMUMS else v
                            for name, v in zip(MEASURES[what], measured, strict=True)]
            values.extend(measured)
        if cfg.detects:
            values.append(score)
        return [float(below), *values], found

    def _face(self, models: FaceModels, image: np.ndarray, box: Any) -> np.ndarray | None:
        """The 68 landmarks ``(68, 2)`` of the face in the detected ``box``, or of the fallback
        box when ``box`` is None; None when nothing is read from a missed face."""
        cfg = self.config
        if box is None and cfg.detect and not cfg.reads_fallback:
            return None
        if box is None and self.box is not None:
            h, w = image.shape[:2]
            left, top, right, bottom = self.box
            box = models.dlib.rectangle(round(left * w), round(top * h), round(right * w),
                                        round(bottom * h))
        elif box is None:
            box = models.whole_image_box(image)
        return models.landmarks68(image, box)

    def _detect(self, models: FaceModels, image: np.ndarray) -> Face | None:
        upsample = self.config.upsample
        return models.find(image, None if upsample < 0 else upsample, self.config.detector)

    def embed(self, images: Images) -> np.ndarray:
        return self.embed_rows(images)[0]


def too_small(what: str, image: np.ndarray, face: np.ndarray | None) -> bool:
    """Whether ``image`` ``(H, W[, C])`` or its face's 68 landmarks ``face`` ``(68, 2)`` are
    under the size measure ``what`` needs (:data:`MINIMUMS`)."""
    if what == "quality":
        return min(image.shape[:2]) < MIN_SIDE
    if face is None or what == "size":
        return False
    if what == "skin":
        return int(cheek_mask(face, image.shape[:2]).sum()) < MIN_CHEEK
    return inter_ocular(face) < MIN_IOD


def _measured(what: str, image: np.ndarray, face: np.ndarray | None) -> list[float]:
    """The values of measure ``what`` (:data:`MEASURES` order) of ``image`` ``(H, W[, C])``
    and its face's 68 landmarks ``face`` ``(68, 2)`` (None only for ``quality``)."""
    if what == "quality":
        return list(image_quality(image))
    assert face is not None
    if what == "pose":
        return list(head_pose(face))
    if what == "expression":
        return list(mouth(face))
    if what == "size":
        return list(face_size(face, image.shape))
    return [ita(image, cheek_mask(face, image.shape[:2]))]


def scratch_dir(store_path: str | os.PathLike[str]) -> Path:
    """Where a partial measurement lives: a hidden sibling of the store."""
    path = Path(store_path).absolute()
    return path.with_name(f".{path.name}.measure")


def store_to_extend(store: st.Store | str | os.PathLike[str], batch_size: int, prefix: str,
                    verb: str) -> st.Store:
    """``store`` loaded and checked before new attributes are written into it in place: it is
    saved and has rows, ``batch_size`` is positive and ``prefix`` makes names (``verb`` says
    what the caller does, for the messages)."""
    store = saved(store, f"{verb} it (the attributes are written in place)")
    if batch_size < 1:
        raise UserError(f"batch_size (--batch-size) must be at least 1, got {batch_size}")
    store.require_rows(verb)
    if prefix and not prefix.replace("_", "").isalnum():
        raise UserError(f"prefix {prefix!r}: use letters, digits and '_'")
    return store


def measure_store(store: st.Store | str | os.PathLike[str],
                  what: str | Sequence[str] = ("quality", "pose", "skin", "expression"), *,
                  detect: bool = True, detector: str = "hog", device: str = "cpu",
                  fallback: str = "median", upsample: int = -1,
                  box_from: st.Store | str | os.PathLike[str] | None = None,
                  prefix: str = "", batch_size: int = 64, overwrite: bool = False,
                  progress: bool = True) -> st.Store:
    """Measure every image of ``store`` into new attributes (see the module).

    Args:
        store: a saved store or its path; replaced atomically when every row is measured.
        what: measures from :data:`MEASURES` (a single one may be a plain string).
        detect, detector, device, fallback, upsample: see :class:`MeasureConfig`.
        box_from: place the median fallback box with the faces of this store's images instead
            (e.g. the training set of a store of generated faces the detector rarely finds).
        prefix: put before every new attribute's name (e.g. ``gen_`` to keep two sets apart).
        batch_size: images measured between two resume points.
        overwrite: replace attributes of the same names.
        progress: show a progress bar on stderr.

    Returns:
        The store re-loaded with the new attributes.
    """
    store = store_to_extend(store, batch_size, prefix, "measure")
    config = MeasureConfig(what=name_list(what), detect=detect, detector=detector, fallback=fallback,
                           upsample=upsample, device=device)
    config.validate()
    _check_same_faces(store, config, prefix)
    names = [prefix + n for n in config.attribute_names]
    remeasured = _detection_columns(store) & set(names)  # a later measure finds the same faces
    taken = [n for n in names if n in store.columns and n not in remeasured]
    if taken and not overwrite:
        raise UserError(f"the store already has {', '.join(taken)}; pass --overwrite (overwrite=True "
                        "in Python) to replace them or --prefix (prefix=) to keep both")
    measurer = Measurer(config)
    box_source = None
    if box_from is not None:
        if not measurer.needs_fit:
            raise UserError("--box-from places the median fallback box, used only to read skin "
                            "with --fallback median")
        source = opened(box_from)
        measurer.fit(load_rows(source, measurer.fit_rows(len(source))))
        box_source = str(source.path)
    scratch = scratch_dir(store.path)
    with sole_scratch_writer(scratch, store, "data measure"):
        rows, found = run_embedder(store, measurer, scratch, batch_size, progress, label="measuring")
        values = rows[:, 1:]
        columns = _columns(config, values, found, prefix, _kept_skin_fallback(store, config, prefix))
        entry = {
            "op": "measure",
            "what": config.what,
            "config": dataclasses.asdict(config),
            "attributes": list(columns),
            "rows": len(store),
            "faces_found": int(found.sum()) if config.detects else None,
            "under_minimum": _under_minimum(config, rows[:, 0].astype(np.int64), prefix),
            "fallback_box": measurer.box,
            "box_from": box_source,
        }
        return save_extended(store, columns, overwrite or bool(remeasured), store.path, entry, scratch)


def sole_scratch_writer(scratch: Path, store: st.Store, command: str) -> Any:
    """The lock of ``store``'s scratch folder ``scratch`` for ``command`` (``data measure``,
    ``data predict``; :func:`~latentplay.store.io.sole_writer`): a second one, which would
    share the scratch files, is refused instead of waited for."""
    return sole_writer(scratch, f"another {command} is running on {store.path}; wait for it or "
                       "stop it (two would share their scratch files)")


def _under_minimum(config: MeasureConfig, below: np.ndarray, prefix: str) -> dict[str, int]:
    """How many rows each attribute left without a value for being under its minimum size
    (:data:`MINIMUMS`), by (prefixed) name, from ``below`` ``(N,)``: :meth:`Measurer.embed_rows`'s
    bit masks. Attributes with no such row are left out."""
    counts = {}
    for k, what in enumerate(config.what):
        n = int(((below >> k) & 1).sum())
        counts.update({prefix + name: n for name in MEASURES[what] if n and name in MINIMUMS})
    return counts


def save_extended(store: st.Store, columns: dict[str, Any], replace: bool,
                  path: str | os.PathLike[str], entry: dict[str, Any],
                  scratch: Path | None) -> st.Store:
    """Save ``store`` with the new attribute ``columns`` (``{name: (Attribute, values)}``) at
    ``path``, with ``entry`` (stamped with the time) added to its history, then remove the
    partial results in ``scratch`` (None: a command that keeps none). When another command
    wrote the store since it was read
    (saving over it would drop what that command wrote), the attributes are added to the store
    as it is now instead, as long as its rows and images are the ones measured (tried
    :data:`~latentplay.embed.column.SAVE_TRIES` times); otherwise nothing is saved and the
    refusal says what a rerun does."""
    from latentplay.embed.column import SAVE_TRIES, images_digest
    from latentplay.store.io import StoreChanged

    measured: tuple[int, str | None] | None = None   # rows and images, read when needed only
    for _ in range(SAVE_TRIES):
        try:
            result = st.save(st.with_history(st.add_attributes(store, columns, replace=replace),
                                             entry), path)
            break
        except StoreChanged:
            measured = measured or (len(store), images_digest(store))
            store = st.load(path)
            if (len(store), images_digest(store)) != measured:
                raise UserError(f"{path} was written by another command while this one ran, and "
                                "its rows or images changed: nothing was saved; run the same "
                                "command again for the store as it is now") from None
    else:
        then = (": nothing was saved; run the same command again" if scratch is None else
                f"; the finished rows are kept in {scratch}: run the same command again to "
                "continue from them")
        raise UserError(f"{path} was written by other commands at each of {SAVE_TRIES} tries to "
                        f"save into it{then}")
    if scratch is not None:
        shutil.rmtree(scratch, ignore_errors=True)
    return result


def _detection_columns(store: st.Store) -> set[str]:
    """``face_found`` / ``face_score`` columns an earlier ``data measure`` wrote (they are
    rewritten by the next one, which runs the same detector)."""
    return {name for entry in store.schema.history if entry.get("op") == "measure"
            for name in entry.get("attributes", [])
            if name.endswith(("face_found", "face_score"))}


def _kept_skin_fallback(store: st.Store, config: MeasureConfig, prefix: str) -> str | None:
    """Where the skin of the faces missed was read by the earlier run whose ``skin_ita`` (of
    ``prefix``) a run with ``config`` keeps beside the ``face_found`` it rewrites (``median``
    or ``whole``), or None (this run reads skin itself, or none was read in a fallback box)."""
    if "skin" in config.what or prefix + "skin_ita" not in store.columns:
        return None
    made = [entry.get("config", {}) for entry in store.schema.history
            if entry.get("op") == "measure" and prefix + "skin_ita" in entry.get("attributes", [])]
    fallback = made[-1].get("fallback", "median") if made else None
    return fallback if fallback in _MISSED else None


def _faces_of(config: dict[str, Any]) -> tuple[str, int] | None:
    """Which faces a run with ``config`` (a :class:`MeasureConfig` as a dict) reads: its
    detector and upsampling (-1 for SCRFD, which scales every image itself), or None where
    every image is taken as a face crop."""
    if not config.get("detect", True):
        return None
    detector = config.get("detector", "hog")
    return detector, -1 if detector.startswith(SCRFD_PREFIX) else int(config.get("upsample", -1))


def _faces_text(faces: tuple[str, int] | None) -> str:
    """:func:`_faces_of`'s answer in words."""
    if faces is None:
        return "whole images taken as face crops"
    detector, upsample = faces
    return f"the faces of {detector_label(detector)}" + (
        f" (upsample {upsample})" if upsample >= 0 else "")


def _same_faces(a: tuple[str, int] | None, b: tuple[str, int] | None, store: st.Store) -> bool:
    """Whether two runs' :func:`_faces_of` find the same faces in ``store``: the same detector
    and upsampling, an upsampling of -1 (by image size) counting as the one it resolves to for
    every image of the store (``--upsample 2`` on 64-px faces is what -1 chose)."""
    if a == b:
        return True
    if a is None or b is None or a[0] != b[0] or min(a[1], b[1]) >= 0 or max(a[1], b[1]) < 0:
        return False
    fixed, column = max(a[1], b[1]), store.schema.image_column
    batches = store.dataset.with_format(None).select_columns([column]).iter(batch_size=1024)
    return all(auto_upsample(np.broadcast_to(np.uint8(0), _opened(cell).size[::-1])) == fixed
               for batch in batches for cell in batch[column])  # image headers only


def _opened(cell: Any) -> Any:
    """A store's image cell as a PIL image opened lazily (the Image feature gives one; a
    ``{bytes, path}`` cell is opened)."""
    return cell if hasattr(cell, "size") else decode(cell)


def _check_same_faces(store: st.Store, config: MeasureConfig, prefix: str) -> None:
    """Refuse a run that would leave face attributes of ``store`` (of ``prefix``) read from
    other faces than its own in place (another detector, upsampling, or none)."""
    if not config.needs_face:
        return
    made: dict[str, tuple[str, int] | None] = {}  # each column's latest measure run's faces
    for entry in store.schema.history:
        if entry.get("op") == "measure":
            made.update(dict.fromkeys(entry.get("attributes", []), _faces_of(entry.get("config", {}))))
    own = _faces_of(dataclasses.asdict(config))
    stale = {name: made[prefix + name] for name in FACE_COLUMNS
             if name not in config.attribute_names and prefix + name in store.columns
             and prefix + name in made and not _same_faces(made[prefix + name], own, store)}
    if not stale:
        return
    redo = [w for w in FACE_MEASURES if w in {FACE_COLUMNS[name] for name in stale}]
    advice = (f"measure them again with it (--what {','.join(config.what + redo)} --overwrite) or "
              if all(FACE_COLUMNS[name] for name in stale) else "")
    theirs = " / ".join(dict.fromkeys(_faces_text(faces) for faces in stale.values()))
    raise UserError(f"{', '.join(prefix + n for n in stale)} of {store.path} were measured on "
                    f"{theirs}, this run on {_faces_text(own)}: {advice}keep both with --prefix")


def _columns(config: MeasureConfig, values: np.ndarray, found: np.ndarray, prefix: str,
             kept_fallback: str | None = None) -> dict[str, tuple[Attribute, np.ndarray]]:
    """The new attributes: each measured value ``values[:, k]`` (``(N, len(config.names))``),
    ``skin_group`` and ``face_found`` (``found``: ``(N,)`` bool); ``kept_fallback``: the
    fallback of the skin an earlier run read, kept in the store (:func:`_kept_skin_fallback`),
    which ``face_found``'s description names when this run reads no skin."""
    columns: dict[str, tuple[Attribute, np.ndarray]] = {}
    fallback = config.fallback if config.reads_fallback else kept_fallback
    missed = _MISSED[fallback] if config.detects and fallback in _MISSED else "no face measure"
    describe = {name: text.format(detector=detector_label(config.detector), missed=missed)
                for name, text in _DESCRIPTIONS.items()}
    for k, name in enumerate(config.names):
        columns[prefix + name] = (Attribute(prefix + name, "continuous", range=_RANGES.get(name),
                                            description=describe[name]), values[:, k])
    if "skin" in config.what:
        codes = ita_group(values[:, config.names.index("skin_ita")])
        groups = list(ITA_GROUPS) + ([UNKNOWN] if (codes == len(ITA_GROUPS)).any() else [])
        columns[prefix + "skin_group"] = (Attribute(prefix + "skin_group", "categorical",
                                                    names=groups, ordered=True,
                                                    description=describe["skin_group"]), codes)
    if config.detects:
        columns[prefix + "face_found"] = (Attribute(prefix + "face_found", "categorical",
                                                    names=["no", "yes"],
                                                    description=describe["face_found"]),
                                          found.astype(np.int64))
    return columns


def summary_lines(store: st.Store, names: Sequence[str]) -> list[str]:
    """One line per attribute: median and 5-95 % range of a continuous one (and how many rows
    have no value), the count of each class of a categorical one; then any caution of
    :data:`_NOTES` for it."""
    lines = []
    for name in names:
        attr = store.schema.attribute(name)
        values = store.labels(name)
        if attr.kind == "continuous":
            finite = values[np.isfinite(values)]
            text = "no value"
            if finite.size:
                mid, low, high = np.median(finite), np.percentile(finite, 5), np.percentile(finite, 95)
                tiny = 1e-6 * max(np.abs(finite).max(), 1e-30)  # rounding noise reads 0, not -9.55e-15
                mid, low, high = (0.0 if abs(v) < tiny else v for v in (mid, low, high))
                text = f"median {mid:.3g}, 5-95% {low:.3g} to {high:.3g}"
            missing = len(values) - finite.size
            lines.append(f"{name}: {text}" + (f"; {counted(missing, 'row')} without a value"
                                              + _why_missing(store, name) if missing else ""))
        else:
            counts = np.bincount(values, minlength=len(attr.level_names))
            lines.append(f"{name}: " + ", ".join(f"{c} {k}" for c, k in
                                                 zip(attr.level_names, counts, strict=True))
                         + _found_by(store, name))
        lines.extend(note for base, note in _NOTES.items() if name.endswith(base))
    return lines


def _latest_measure(store: st.Store, name: str) -> dict[str, Any] | None:
    """The history entry of the latest measure run that wrote attribute ``name`` (None where
    none did)."""
    return next((e for e in reversed(store.schema.history)
                 if e.get("op") == "measure" and name in e.get("attributes", [])), None)


def _found_by(store: st.Store, name: str) -> str:
    """`` (dlib's HOG face detector)`` after the counts of ``face_found`` where the latest
    measure run that wrote it names its detector (other detectors find other faces: `audit
    detection` runs dlib's CNN); "" otherwise."""
    entry = _latest_measure(store, name) if name.endswith("face_found") else None
    detector = ((entry or {}).get("config") or {}).get("detector")
    return f" ({detector_label(detector)})" if detector else ""


def _why_missing(store: st.Store, name: str) -> str:
    """Why rows of attribute ``name`` have no value, as far as the latest measure run that
    wrote it tells: how many had no face found, how many were under the minimum size
    (:data:`MINIMUMS`); "" when it tells neither."""
    latest = _latest_measure(store, name)
    if latest is None:
        return ""
    found = next((n for n in latest["attributes"] if n.endswith("face_found")), None)
    config = latest.get("config", {})
    skin = name.endswith("skin_ita")
    # skin is read where the detector missed the face too, in a fallback box (unless --fallback
    # nan): no face found is then not why a row has no value
    read_missed = skin and config.get("fallback", "median") != "nan"
    absent = ~np.isfinite(store.labels(name))
    parts = []
    missed = 0
    if (found is not None and not read_missed
            and any(w and name.endswith(base) for base, w in FACE_COLUMNS.items())):
        missed = int((absent & (store.labels(found) == 0)).sum())
        parts += [f"{missed:,} with no face found"] if missed else []
    under = latest.get("under_minimum", {}).get(name, 0)
    reason = next((text for base, text in MINIMUMS.items() if name.endswith(base)), None)
    parts += [f"{under:,} with {reason}; docs/measure.md"] if under and reason else []
    hueless = int(absent.sum()) - missed - under if skin else 0
    parts += [f"{hueless:,} with no skin hue in the cheeks (median b* below {MIN_YELLOW:g}: grey "
              "or bluish pixels, or a grey image)"] if hueless > 0 else []
    return f" ({', '.join(parts)})" if parts else ""
