"""SCRFD face detection from an ONNX file: boxes, scores and the five ArcFace points.

SCRFD (Guo et al., ICLR 2022) is the detector of InsightFace's model packs (``det_10g.onnx`` in
``buffalo_l``, ``det_500m.onnx`` in ``buffalo_s``, and the ``scrfd_*`` files). With it, the eye
centres, nose tip and mouth corners ArcFace's alignment needs come from the detector itself, as
in InsightFace's own pipeline, instead of from dlib's 68 landmarks. The file is given by path
(``--detector scrfd:PATH``); nothing is downloaded. Needs ``onnxruntime``.

    >>> found = load_detector("det_10g.onnx").detect(image)    # image: (H, W, 3) uint8 RGB
    >>> found.boxes, found.scores, found.points                # (K, 4), (K,), (K, 5, 2)

The image is scaled to fit the network's input (640 x 640 when the file leaves it open, or the
side given as ``scrfd:PATH@SIDE``, InsightFace's ``det_size``: 320 is four times faster and
enough for photos that are mostly face) and placed in its top-left corner; pixels become
(v - 127.5) / 128 in RGB order. The network's outputs are, per feature stride, the face probability
of every anchor, its box as distances (left, top, right, bottom) from the anchor's centre and
its five points as offsets from that centre, both in units of the stride; anchors sit on the
corners of each stride's grid, several per place. Detections over :data:`THRESHOLD` are kept,
overlaps over :data:`NMS_IOU` removed (greedy, highest score first, in the photo's pixels).
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from latentplay.errors import UserError

THRESHOLD = 0.5  # InsightFace's detection threshold
NMS_IOU = 0.4
DEFAULT_SIDE = 640  # input side for files whose input size is open (InsightFace's det_size)
# number of outputs -> (strides, anchors per place, has the five points)
LAYOUTS: dict[int, tuple[tuple[int, ...], int, bool]] = {
    6: ((8, 16, 32), 2, False),
    9: ((8, 16, 32), 2, True),
    10: ((8, 16, 32, 64, 128), 1, False),
    15: ((8, 16, 32, 64, 128), 1, True),
}


@dataclass(frozen=True)
class Detections:
    """Faces found in one image, highest score first: ``boxes`` ``(K, 4)`` (left, top, right,
    bottom) and ``points`` ``(K, 5, 2)`` (x, y: eye centres as seen, nose tip, mouth corners;
    None for a file without them) in the image's pixels, ``scores`` ``(K,)`` in [0, 1]."""

    boxes: np.ndarray
    scores: np.ndarray
    points: np.ndarray | None

    def largest(self) -> int | None:
        """Index of the face with the largest box, or None when there is none."""
        if not len(self.scores):
            return None
        b = self.boxes
        return int(np.argmax((b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])))


def anchor_centres(side: int, stride: int, anchors: int) -> np.ndarray:
    """Centres of one stride's anchors in a ``side x side`` input: ``(n, 2)`` (x, y), row by
    row, each place repeated ``anchors`` times."""
    cells = side // stride
    ys, xs = np.mgrid[:cells, :cells]
    centres = np.stack([xs.ravel(), ys.ravel()], axis=1).astype(np.float32) * stride
    return np.repeat(centres, anchors, axis=0)


def decode(outputs: list[np.ndarray], side: int, threshold: float = THRESHOLD
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Detections over ``threshold`` in a ``side x side`` input, before overlap removal:
    ``(K, 4)`` boxes, ``(K,)`` scores and ``(K, 5, 2)`` points (None without them).

    Args:
        outputs: the network's outputs in its order: the scores of every stride, then the box
            distances, then the point offsets (6, 9, 10 or 15 arrays; a leading batch axis of
            one is allowed).
    """
    if len(outputs) not in LAYOUTS:
        raise UserError(f"an SCRFD network has 6, 9, 10 or 15 outputs, this one has {len(outputs)}")
    strides, anchors, has_points = LAYOUTS[len(outputs)]
    levels = len(strides)
    boxes, scores, points = [], [], []
    for k, stride in enumerate(strides):
        centres = anchor_centres(side, stride, anchors)
        score = np.asarray(outputs[k], np.float32).reshape(-1)
        if len(score) != len(centres):
            raise UserError(f"SCRFD output {k} has {len(score)} scores; a {side}-px input has "
                            f"{len(centres)} anchors at stride {stride}")
        keep = np.flatnonzero(score >= threshold)
        dist = np.asarray(outputs[levels + k], np.float32).reshape(-1, 4)[keep] * stride
        c = centres[keep]
        boxes.append(np.concatenate([c - dist[:, :2], c + dist[:, 2:]], axis=1))
        scores.append(score[keep])
        if has_points:
            offsets = np.asarray(outputs[2 * levels + k], np.float32).reshape(-1, 5, 2)[keep]
            points.append(c[:, None, :] + offsets * stride)
    return (np.concatenate(boxes), np.concatenate(scores),
            np.concatenate(points) if has_points else None)


def non_maximum_suppression(boxes: np.ndarray, scores: np.ndarray, iou: float = NMS_IOU
                            ) -> np.ndarray:
    """Indices of the boxes kept, highest score first: each box removes the lower-scored ones
    overlapping it by more than ``iou`` (boxes ``(K, 4)`` in pixels, inclusive of both ends as
    InsightFace counts them)."""
    order = np.argsort(-scores, kind="stable")
    area = (boxes[:, 2] - boxes[:, 0] + 1) * (boxes[:, 3] - boxes[:, 1] + 1)
    kept: list[int] = []
    while len(order):
        i, rest = order[0], order[1:]
        kept.append(int(i))
        w = np.maximum(0.0, np.minimum(boxes[i, 2], boxes[rest, 2])
                       - np.maximum(boxes[i, 0], boxes[rest, 0]) + 1)
        h = np.maximum(0.0, np.minimum(boxes[i, 3], boxes[rest, 3])
                       - np.maximum(boxes[i, 1], boxes[rest, 1]) + 1)
        inter = w * h
        order = rest[inter / (area[i] + area[rest] - inter) <= iou]
    return np.array(kept, dtype=np.int64)


def parse_spec(spec: str) -> tuple[str, int]:
    """``PATH`` or ``PATH@SIDE`` (the text after ``scrfd:``) -> the file and the input side
    asked for (0: the file's, else :data:`DEFAULT_SIDE`)."""
    path, at, side = spec.rpartition("@")
    if at and side.isdigit() and not Path(spec).exists():
        return path, int(side)
    return spec, 0


class ScrfdDetector:
    """An SCRFD network (one ``.onnx`` file) run with onnxruntime on the CPU; thread-safe.
    ``side``: the input side for a file that leaves it open (0: :data:`DEFAULT_SIDE`)."""

    def __init__(self, path: str | os.PathLike[str], threads: int = 0, side: int = 0) -> None:
        from latentplay.embed.onnxnet import open_session

        self.path = str(path)
        self.session = open_session(self.path, threads)
        inputs, outputs = self.session.get_inputs(), self.session.get_outputs()
        if len(inputs) != 1 or len(outputs) not in LAYOUTS:
            raise UserError(f"{self.path} is not an SCRFD face detector: it has {len(inputs)} "
                            f"input(s) and {len(outputs)} outputs (SCRFD: 1 and 6, 9, 10 or 15)")
        shape = inputs[0].shape
        sides = {s for s in shape[2:4] if isinstance(s, int) and s > 0}
        if len(shape) != 4 or len(sides) > 1 or (len(sides) == 1 and None in shape[2:4]):
            raise UserError(f"{self.path}: SCRFD's input is (1, 3, side, side); this one is {shape}")
        self.input_name = inputs[0].name
        if sides and side and sides != {side}:
            raise UserError(f"{self.path} takes {sides.pop()}-px images, not @{side}")
        self.side = sides.pop() if sides else side or DEFAULT_SIDE
        strides, _, self.has_points = LAYOUTS[len(outputs)]
        if self.side % max(strides):
            raise UserError(f"{self.path}: the input side must be a multiple of {max(strides)} "
                            f"(its largest stride), got {self.side}")

    def letterbox(self, image: np.ndarray) -> tuple[np.ndarray, float]:
        """The network's input for ``(H, W, 3)`` uint8 RGB ``image``: ``(1, 3, side, side)``
        float32, and the scale from image pixels to input pixels."""
        h, w = image.shape[:2]
        if h > w:  # the longer side fills the input
            new_h, new_w = self.side, max(1, int(self.side * w / h))
        else:
            new_h, new_w = max(1, int(self.side * h / w)), self.side
        canvas = np.zeros((self.side, self.side, 3), np.float32)
        canvas[:new_h, :new_w] = np.asarray(
            Image.fromarray(image).resize((new_w, new_h), Image.BILINEAR), np.float32)
        blob = (canvas - 127.5) / 128.0
        return blob.transpose(2, 0, 1)[None], new_h / h

    def detect(self, image: np.ndarray, threshold: float = THRESHOLD) -> Detections:
        """The faces in ``(H, W, 3)`` uint8 RGB ``image`` (see :class:`Detections`)."""
        blob, scale = self.letterbox(image)
        outputs = self.session.run(None, {self.input_name: blob})
        boxes, scores, points = decode(outputs, self.side, threshold)
        boxes = boxes / scale  # overlaps are measured in the photo's pixels, as InsightFace does
        keep = non_maximum_suppression(boxes, scores)
        return Detections(boxes[keep], scores[keep], None if points is None else points[keep] / scale)


@functools.lru_cache(maxsize=4)
def load_detector(path: str, side: int = 0) -> ScrfdDetector:
    """The detector in ``path`` (at input ``side``), loaded once per process (onnxruntime
    sessions may be shared by threads); its intra-op threads share the cores with the face
    threads."""
    from latentplay.embed.faces import face_threads, usable_cores

    if not Path(path).is_file():
        raise UserError(f"SCRFD detector file {path} does not exist")
    return ScrfdDetector(path, threads=max(1, usable_cores() // face_threads()), side=side)
