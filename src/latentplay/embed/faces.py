"""Faces: detection (dlib's HOG or CNN, or an SCRFD network), landmarks, aligned crops and dlib's
128-d ResNet descriptors.

The model files ship with the ``face-recognition-models`` package (installed by the ``faces``
extra); nothing is downloaded. That package's ``__init__`` needs ``pkg_resources``, so it is
never imported: its directory is found with ``importlib.util.find_spec``.

    >>> faces = FaceModels.load()
    >>> box = faces.detect(image)                  # dlib.rectangle or None
    >>> face = faces.find(image, detector="scrfd:det_10g.onnx")  # Face: box, score, 5 points
    >>> chip = faces.align(image, box, size=112)   # (112, 112, 3) uint8, eyes level

dlib's models are not thread-safe, but they release the GIL: :func:`map_faces` runs a function
over many images on a pool of threads (``LATENTPLAY_FACE_THREADS``, default: the cores, at most
8), each with its own models from :meth:`FaceModels.load`; results are the sequential ones.
"""

from __future__ import annotations

import functools
import importlib.util
import math
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from latentplay.embed.base import Embedder, Images, as_list, file_digest
from latentplay.errors import UserError

SHAPE_PREDICTOR = "shape_predictor_5_face_landmarks.dat"
RECOGNITION_MODEL = "dlib_face_recognition_resnet_model_v1.dat"
LANDMARKS_68_MODEL = "shape_predictor_68_face_landmarks.dat"  # iBUG 300-W points, 0-based
CNN_DETECTOR_MODEL = "mmod_human_face_detector.dat"  # dlib's max-margin object detection CNN
DETECTORS = ("hog", "cnn", "scrfd:PATH")  # dlib's two also as hog@T, cnn@T (a score threshold)
SCRFD_PREFIX = "scrfd:"
DESCRIPTOR_DIM = 128
MAX_THREADS = 8  # each thread holds its own models (~120 MB with the 68-point predictor)
CHIP_SIZE = 150  # the recognition network's input: dlib.get_face_chip's default
MIN_DETECT_SIDE = 400  # images smaller than this are upsampled before detection

_INSTALL_HINT = "install the faces extra: pip install 'latentplay[faces]'"


def _import_dlib() -> Any:
    try:
        import dlib
    except ImportError:
        raise UserError(f"dlib is not installed; {_INSTALL_HINT}") from None
    return dlib


def model_dir() -> Path:
    """Directory holding dlib's model files (from the ``face-recognition-models`` package)."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise UserError(f"face-recognition-models is not installed; {_INSTALL_HINT}")
    directory = Path(list(spec.submodule_search_locations)[0]) / "models"
    for name in (SHAPE_PREDICTOR, RECOGNITION_MODEL):
        if not (directory / name).is_file():
            raise UserError(f"dlib model file {name} is missing from {directory}")
    return directory


_LOCAL = threading.local()
_POOLS: dict[int, ThreadPoolExecutor] = {}  # by size; kept, so threads keep their models
if hasattr(os, "register_at_fork"):  # a forked child has none of the parent's threads
    os.register_at_fork(after_in_child=_POOLS.clear)
_POOL_NAME = "latentplay-faces"
T = TypeVar("T")
R = TypeVar("R")


def usable_cores() -> int:
    """The cores this process may run on."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, cores or 1)


def face_threads() -> int:
    """Threads :func:`map_faces` uses: ``LATENTPLAY_FACE_THREADS``, else the cores this
    process may run on (at most :data:`MAX_THREADS`)."""
    text = os.environ.get("LATENTPLAY_FACE_THREADS", "")
    if text:
        if not text.isdigit() or int(text) < 1:
            raise UserError(f"LATENTPLAY_FACE_THREADS must be a positive number, got {text!r}")
        return int(text)
    return min(usable_cores(), MAX_THREADS)


def map_faces(fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
    """``[fn(item) for item in items]``, on :func:`face_threads` threads when there are more
    than one. ``fn`` must take its models from :meth:`FaceModels.load` (its thread's). An
    exception (or an interrupt) stops the work not yet started and is raised here."""
    threads = face_threads()
    inside = threading.current_thread().name.startswith(_POOL_NAME)  # no waiting on itself
    if threads < 2 or len(items) < 2 or inside:
        return [fn(item) for item in items]
    if threads not in _POOLS:
        _POOLS[threads] = ThreadPoolExecutor(threads, thread_name_prefix=_POOL_NAME)
    futures = [_POOLS[threads].submit(fn, item) for item in items]
    try:
        return [f.result() for f in futures]
    except BaseException:
        for f in futures:
            f.cancel()
        raise


@dataclass(frozen=True)
class Face:
    """A face found in an image: its ``box`` (``dlib.rectangle``), the detector's ``score`` (NaN
    for a fallback box) and, from detectors that place them (SCRFD), its five ArcFace
    ``points``: ``(5, 2)`` (x, y) eye centres as seen, nose tip, mouth corners, and the box as
    found, before rounding to whole pixels (``corners``: left, top, right, bottom)."""

    box: Any
    score: float
    points: np.ndarray | None = None
    corners: tuple[float, float, float, float] | None = None

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """Left, top, right, bottom: the detector's own box where it gave one in fractions of a
        pixel, else ``box``'s."""
        if self.corners is not None:
            return self.corners
        return self.box.left(), self.box.top(), self.box.right(), self.box.bottom()


def face_chips(images: Images, chip: Callable[[FaceModels, np.ndarray, Face], np.ndarray], *,
               detect: bool = True, detector: str = "hog", upsample: int = -1,
               fallback: str = "whole", device: str = "cpu") -> tuple[list[np.ndarray | None], np.ndarray]:
    """The face crop of each image, made on :func:`map_faces`'s threads.

    Args:
        images: ``(N, H, W, C)`` uint8 or a list of ``(H, W, C)`` uint8.
        chip: ``chip(models, image, face) -> crop`` for the largest :class:`Face`.
        detect: look for the face; False takes each whole image as the face box.
        detector, upsample: see :meth:`FaceModels.find` (``upsample`` -1: automatic).
        fallback: a missed face's crop: ``whole`` (of the whole image) or ``nan`` (None).
        device: where dlib's CNN detector runs (it sees the images in batches first).

    Returns:
        ``N`` crops (None where a missed face gets none) and the ``(N,)`` bool mask of images
        whose face was found (all True when ``detect`` is False).
    """
    up = None if upsample < 0 else upsample
    items = as_list(images)
    faces = faces_first(items, detector, up, device) if detect else [None] * len(items)

    def one(item: tuple[np.ndarray, Any]) -> tuple[np.ndarray | None, bool]:
        image, face = item
        models = FaceModels.load()
        if face is LOOK_ON_THREADS:
            face = models.find(image, up, detector)
        found = face is not None or not detect
        if face is None:
            if detect and fallback == "nan":
                return None, False
            face = Face(models.whole_image_box(image), float("nan"))
        return chip(models, image, face), found

    results = map_faces(one, list(zip(items, faces, strict=True)))
    return [r[0] for r in results], np.array([r[1] for r in results], dtype=bool)


LOOK_ON_THREADS = object()
"""In :func:`faces_first`'s answer: this image's face is to be found on the threads
(:meth:`FaceModels.find`)."""


def faces_first(images: Sequence[np.ndarray], detector: str, upsample: int | None = None,
                device: str = "cpu") -> list[Any]:
    """Each image's largest :class:`Face` (None: none found) where ``detector`` runs over all
    ``images`` at once (dlib's CNN, in batches on ``device``: :func:`cnn_faces`); for the
    other detectors :data:`LOOK_ON_THREADS` for every image, found one at a time on
    :func:`map_faces`'s threads."""
    threshold = cnn_threshold(detector)
    if threshold is None:
        return [LOOK_ON_THREADS] * len(images)
    return cnn_faces(images, upsample, device, threshold)


def auto_upsample(image: np.ndarray) -> int:
    """dlib detectors' upsampling for ``image`` ``(H, W, C)``: doublings (at most 2) for the
    shorter side to reach :data:`MIN_DETECT_SIDE` pixels."""
    upsample = 0
    while min(image.shape[:2]) * 2**upsample < MIN_DETECT_SIDE and upsample < 2:
        upsample += 1
    return upsample


def cnn_detections(images: Sequence[np.ndarray], upsample: int | None = None, device: str = "cpu",
                   threshold: float = 0.0) -> list[Any]:
    """Every face dlib's CNN face detector (MMOD, run by PyTorch on ``device``:
    :mod:`latentplay.embed.dlib_mmod`) finds in each of ``images`` (``(H, W, C)`` uint8): a
    :class:`~latentplay.embed.dlib_mmod.Detections` per image; ``upsample`` None:
    :func:`auto_upsample` per image; windows scoring above ``threshold`` count (dlib's own: 0).
    Images of one size and upsampling go through the network together."""
    from latentplay.embed.dlib_mmod import dlib_mmod

    detector = dlib_mmod(device=device)
    rgb = [as_rgb(image) for image in images]
    times = [auto_upsample(image) if upsample is None else upsample for image in rgb]
    out: list[Any] = [None] * len(rgb)
    for up in sorted(set(times)):
        members = [i for i, t in enumerate(times) if t == up]
        for i, found in zip(members, detector.detect([rgb[i] for i in members], up, threshold), strict=True):
            out[i] = found
    return out


def cnn_faces(images: Sequence[np.ndarray], upsample: int | None = None, device: str = "cpu",
              threshold: float = 0.0) -> list[Face | None]:
    """The largest face of :func:`cnn_detections` in each image (same arguments), None where
    it finds none."""
    dlib = _import_dlib()
    out: list[Face | None] = []
    for found in cnn_detections(images, upsample, device, threshold):
        k = found.largest()
        out.append(None if k is None else Face(dlib.rectangle(*(int(v) for v in found.boxes[k])),
                                                float(found.scores[k])))
    return out


def dlib_threshold(detector: str, name: str) -> float | None:
    """The score threshold of dlib's detector ``name`` (``hog`` or ``cnn``) when ``detector``
    names it: ``name`` (0, dlib's own cut) or ``name@T``; None for another detector. A
    :class:`UserError` when ``T`` is not a number."""
    given, at, value = detector.partition("@")
    if given != name:
        return None
    try:
        threshold = float(value) if at else 0.0
    except ValueError:
        threshold = math.nan
    if not math.isfinite(threshold):
        raise UserError(f"detector {detector!r}: write {name}@THRESHOLD with a number (e.g. {name}@-0.5)")
    return threshold


def cnn_threshold(detector: str) -> float | None:
    """:func:`dlib_threshold` of dlib's CNN detector (``cnn[@T]``)."""
    return dlib_threshold(detector, "cnn")


def check_detector(detector: str) -> str:
    """``detector`` if it names one of :data:`DETECTORS` (an SCRFD file that exists), else a
    :class:`UserError`."""
    if cnn_threshold(detector) is not None or dlib_threshold(detector, "hog") is not None:
        return detector
    if detector.startswith(SCRFD_PREFIX):
        path, _ = _scrfd(detector)
        if not path or not Path(path).is_file():
            raise UserError(f"SCRFD detector file {path or '(none)'} does not exist "
                            "(--detector scrfd:PATH[@SIDE] names an SCRFD .onnx file)")
    else:
        raise UserError(f"detector must be one of {', '.join(DETECTORS)} (hog@T, cnn@T: with a "
                        f"score threshold T), got {detector!r}")
    return detector


def detector_label(detector: str) -> str:
    """How descriptions name ``detector``: "dlib's HOG face detector", "SCRFD (det_10g.onnx)"."""
    if detector.startswith(SCRFD_PREFIX):
        path, side = _scrfd(detector)
        return f"SCRFD ({Path(path).name}{f' at {side} px' if side else ''})"
    name = detector.partition("@")[0]
    threshold = dlib_threshold(detector, name) or 0.0
    return f"dlib's {name.upper()} face detector" + (f" (scores above {threshold:g})" if threshold else "")


def detector_digest(detector: str) -> str:
    """A digest of the detector's file ("" for dlib's): part of the state of what it found."""
    if detector.startswith(SCRFD_PREFIX):
        return file_digest(_scrfd(detector)[0])
    return ""


@functools.lru_cache(maxsize=16)
def _scrfd(detector: str) -> tuple[str, int]:
    """``scrfd:PATH[@SIDE]`` -> the file and the input side asked for (0: the default)."""
    from latentplay.embed.scrfd import parse_spec

    return parse_spec(detector[len(SCRFD_PREFIX):])


def check_upsample(upsample: int, kind: str = "") -> None:
    """A :class:`UserError` (its message led by ``kind``, where given) for dlib's detector
    upsampling outside -1..4 (-1: by image size; each step quadruples the pixels it reads, and
    2**8 times a side filled the memory)."""
    if not -1 <= upsample <= 4:
        lead = f"{kind}: " if kind else ""
        raise UserError(f"{lead}upsample (--upsample) must be in [-1, 4], got {upsample}")


def check_face_options(kind: str, detector: str, fallback: str, upsample: int) -> None:
    """The face-finding options an embedder (``kind``, for the messages) shares with
    :func:`face_chips`: a known detector, ``whole``/``nan`` fallback, upsampling -1..4."""
    check_detector(detector)
    if fallback not in ("whole", "nan"):
        raise UserError(f"{kind}: fallback must be 'whole' or 'nan', got {fallback!r}")
    check_upsample(upsample, kind)


def as_rgb(image: np.ndarray) -> np.ndarray:
    """``(H, W, C)`` or ``(H, W)`` uint8 -> contiguous ``(H, W, 3)`` uint8 (what dlib takes):
    gray (``C`` 1, or 2: gray and alpha) repeated, RGBA's alpha dropped."""
    if image.ndim == 2:
        image = image[..., None]
    if image.shape[-1] in (1, 2):
        image = np.repeat(image[..., :1], 3, axis=-1)
    elif image.shape[-1] == 4:
        image = image[..., :3]
    return np.ascontiguousarray(image, dtype=np.uint8)


class FaceModels:
    """dlib's HOG face detector (its CNN detector: :func:`cnn_faces`), 5-landmark shape
    predictor and face-recognition ResNet (run by PyTorch: :mod:`latentplay.embed.dlib_resnet`;
    dlib's own on first use, for jittered descriptors)."""

    def __init__(self, dlib: Any, directory: Path) -> None:
        self.dlib = dlib
        self.directory = directory
        self.detector = dlib.get_frontal_face_detector()
        self.predictor = dlib.shape_predictor(str(directory / SHAPE_PREDICTOR))

    @functools.cached_property
    def recognizer(self) -> Any:
        """dlib's own face-recognition model (loaded on first use)."""
        return self.dlib.face_recognition_model_v1(str(self.directory / RECOGNITION_MODEL))

    @classmethod
    def load(cls) -> FaceModels:
        """The models of the calling thread, loaded once per thread (dlib's objects must not
        be shared between threads)."""
        models = getattr(_LOCAL, "models", None)
        if models is None:
            models = _LOCAL.models = cls(_import_dlib(), model_dir())
        return models

    def detect(self, image: np.ndarray, upsample: int | None = None, detector: str = "hog"
               ) -> Any | None:
        """The largest face in ``image`` as a ``dlib.rectangle``, or None when none is found
        (arguments: :meth:`find`)."""
        face = self.find(image, upsample, detector)
        return None if face is None else face.box

    def find(self, image: np.ndarray, upsample: int | None = None, detector: str = "hog"
             ) -> Face | None:
        """The largest face in ``image``, or None when none is found.

        Args:
            image: ``(H, W, C)`` uint8.
            upsample: dlib's detectors: times the image is doubled first; by default enough
                for the shorter side to reach ``MIN_DETECT_SIDE`` pixels (HOG misses faces
                under ~80 px). SCRFD scales every image to its input size instead.
            detector: ``hog[@T]``, ``cnn[@T]`` or ``scrfd:PATH[@SIDE]`` (:data:`DETECTORS`;
                ``T``: dlib's score threshold, 0 as in dlib; ``SIDE``: SCRFD's input, 640 by
                default). The face's score is HOG's SVM margin or the CNN's confidence (faces
                are reported from ``T`` up) or SCRFD's probability (from 0.5 up); higher for a
                clearer, more frontal face.
        """
        img = as_rgb(image)
        if detector.startswith(SCRFD_PREFIX):  # the file is checked once, when it is loaded
            return self._find_scrfd(img, *_scrfd(detector))
        check_detector(detector)
        if upsample is None:
            upsample = auto_upsample(img)
        threshold = cnn_threshold(detector)
        if threshold is not None:
            return cnn_faces([img], upsample, threshold=threshold)[0]
        boxes, scores, _ = self.detector.run(img, upsample, dlib_threshold(detector, "hog"))
        if len(boxes) == 0:
            return None
        k = max(range(len(boxes)), key=lambda i: boxes[i].area())
        return Face(boxes[k], float(scores[k]))

    def _find_scrfd(self, image: np.ndarray, path: str, side: int) -> Face | None:
        """The largest face SCRFD (at input ``side``, 0: its default) finds in ``(H, W, 3)``
        uint8 ``image``, with its five points where the file gives them."""
        from latentplay.embed.scrfd import load_detector

        found = load_detector(path, side).detect(image)
        k = found.largest()
        if k is None:
            return None
        corners = tuple(float(v) for v in found.boxes[k])
        left, top, right, bottom = (int(round(v)) for v in corners)
        return Face(self.dlib.rectangle(left, top, right, bottom), float(found.scores[k]),
                    None if found.points is None else found.points[k].astype(np.float64),
                    corners)  # type: ignore[arg-type]

    def whole_image_box(self, image: np.ndarray) -> Any:
        """A ``dlib.rectangle`` covering ``image``: the face box of an already-cropped face."""
        h, w = image.shape[:2]
        return self.dlib.rectangle(0, 0, w - 1, h - 1)

    def landmarks(self, image: np.ndarray, box: Any) -> Any:
        """dlib's 5 landmarks (eye corners, nose) of the face in ``box``."""
        return self.predictor(as_rgb(image), box)

    @functools.cached_property
    def predictor68(self) -> Any:
        """dlib's 68-landmark shape predictor (loaded on first use: 95 MB)."""
        path = self.directory / LANDMARKS_68_MODEL
        if not path.is_file():
            raise UserError(f"dlib model file {LANDMARKS_68_MODEL} is missing from {self.directory}")
        return self.dlib.shape_predictor(str(path))

    def landmarks68(self, image: np.ndarray, box: Any) -> np.ndarray:
        """The 68 iBUG 300-W landmarks of the face in ``box``: ``(68, 2)`` float64 (x, y) pixels
        (0-16 jaw, 17-26 brows, 27-35 nose, 36-47 eyes, 48-67 mouth)."""
        shape = self.predictor68(as_rgb(image), box)
        return np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float64)

    def align(self, image: np.ndarray, box: Any, size: int = CHIP_SIZE, padding: float = 0.25
              ) -> np.ndarray:
        """The face in ``box`` rotated upright and scaled: ``(size, size, 3)`` uint8."""
        img = as_rgb(image)
        return self.dlib.get_face_chip(img, self.predictor(img, box), size=size, padding=padding)

    def chip(self, image: np.ndarray, face: Face, how: str, size: int, padding: float = 0.25
             ) -> np.ndarray:
        """The crop of ``face`` a network reads: ``how`` is ``arcface`` (:meth:`arcface_chip`,
        with the detector's five points where it gave them), ``box`` (:meth:`box_chip`),
        ``ffhq`` (:func:`latentplay.embed.ffhq.ffhq_chip`, on the 68 landmarks) or ``dlib``
        (:meth:`align`, with ``padding``): ``(size, size, 3)`` uint8."""
        if how == "arcface":
            return self.arcface_chip(image, face.box, size, face.points)
        if how == "ffhq":
            from latentplay.embed.ffhq import ffhq_chip

            img = as_rgb(image)
            return ffhq_chip(img, self.landmarks68(img, face.box), size)
        if how == "box":
            return self.box_chip(image, face, size, padding)
        return self.align(image, face.box, size, padding)

    def arcface_chip(self, image: np.ndarray, box: Any, size: int = 112,
                     points: np.ndarray | None = None) -> np.ndarray:
        """The face in ``box`` warped onto ArcFace's five-point template
        (:mod:`latentplay.embed.arcface`): ``(size, size, 3)`` uint8. The eye centres, nose tip
        and mouth corners are ``points`` (``(5, 2)``, e.g. SCRFD's) when given, else they come
        from the 68 landmarks."""
        from latentplay.embed.arcface import align_to_template, five_points

        img = as_rgb(image)
        if points is None:
            points = five_points(self.landmarks68(img, box))
        return align_to_template(img, points, size)

    def box_chip(self, image: np.ndarray, face: Face, size: int, padding: float = 0.25
                 ) -> np.ndarray:
        """The upright square around ``face``'s box (:func:`latentplay.embed.arcface.box_crop`;
        0.25: InsightFace's attribute crop): ``(size, size, 3)`` uint8."""
        from latentplay.embed.arcface import box_crop

        return box_crop(as_rgb(image), face.bounds, size, padding)

    def describe(self, chips: list[np.ndarray], jitters: int = 0, device: str = "cpu") -> np.ndarray:
        """128-d descriptors of aligned ``(150, 150, 3)`` chips: ``(N, 128)`` float32, by the
        network in PyTorch on ``device`` (dlib's own descriptors to 4e-7), or by dlib when
        ``jitters`` > 0 (its average over randomly jittered copies)."""
        if not chips:
            return np.zeros((0, DESCRIPTOR_DIM), dtype=np.float32)
        if not jitters:
            from latentplay.embed.dlib_resnet import describe_chips

            return describe_chips(np.stack([as_rgb(c) for c in chips]), device)
        vectors = self.recognizer.compute_face_descriptor(chips, jitters)
        return np.asarray([np.asarray(v) for v in vectors], dtype=np.float32)


@dataclass
class DlibConfig:
    """Options of the ``dlib`` embedder.

    Attributes:
        detect: look for the face; when False every image is taken to be a face crop already.
        detector: ``hog`` (fast), ``cnn`` (dlib's CNN, run by PyTorch: slower on a CPU, finds
            more faces) or ``scrfd:PATH`` (an SCRFD network: :mod:`latentplay.embed.scrfd`).
        fallback: what an image with no detected face gets: ``whole`` (the whole image is
            taken as the face box, then aligned) or ``nan`` (a row of NaN). Either way the row
            is listed in the column's record.
        upsample: detector upsampling (-1: automatic, by image size).
        jitters: dlib's ``num_jitters`` (averages randomly jittered copies, computed by dlib;
            0, the default, runs the network in PyTorch: 15 times faster on a CPU).
        device: where that network and dlib's CNN detector run (``cpu``, ``cuda`` or ``auto``).
    """

    detect: bool = True
    detector: str = "hog"
    fallback: str = "whole"
    upsample: int = -1
    jitters: int = 0
    device: str = "cpu"

    def validate(self) -> None:
        check_face_options("dlib", self.detector, self.fallback, self.upsample)
        if self.jitters < 0:
            raise UserError(f"dlib: jitters must be >= 0, got {self.jitters}")
        from latentplay.devices import resolve_device

        resolve_device(self.device, "dlib: device")


class DlibEmbedder(Embedder):
    """128-d dlib face descriptors: detect the largest face, align it on 5 landmarks, describe.

    :meth:`embed_rows` also says which rows had a detected face.
    """

    kind = "dlib"
    config_type = DlibConfig
    detects_faces = True

    def __init__(self, config: DlibConfig) -> None:
        from latentplay.devices import resolve_device

        super().__init__(config)
        FaceModels.load()  # a missing dlib fails here
        self.device = resolve_device(config.device, "dlib: device")

    @property
    def dim(self) -> int:
        return DESCRIPTOR_DIM

    def embed_rows(
        self, images: Images, rows: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """``(N, 128)`` float32 descriptors and an ``(N,)`` bool mask: face detected."""
        cfg = self.config
        chips, found = face_chips(images, lambda models, image, face: models.align(image, face.box),
                                  detect=cfg.detect, detector=cfg.detector,
                                  upsample=cfg.upsample, fallback=cfg.fallback, device=self.device)
        keep = np.array([c is not None for c in chips], dtype=bool)
        out = np.full((len(chips), DESCRIPTOR_DIM), np.nan, dtype=np.float32)
        if keep.any():  # described together after the threads' detection: batches
            out[keep] = FaceModels.load().describe([c for c in chips if c is not None],
                                                   cfg.jitters, self.device)
        return out, found

    def embed(self, images: Images) -> np.ndarray:
        return self.embed_rows(images)[0]

    def state_digest(self) -> str:
        return detector_digest(self.config.detector)


EMBEDDER = DlibEmbedder
