"""dlib's CNN face detector (MMOD) in PyTorch: dlib's boxes and confidences, faster on a CPU,
batched on a GPU.

``mmod_human_face_detector.dat`` (shipped by ``face-recognition-models``) is read without
dlib (:mod:`latentplay.embed.dlib_file`): its loss layer (the 80 x 80 sliding window and the
non-maximum suppression thresholds), the input's channel means and pyramid padding, and 7
convolutions with the batch norms between them (folded into a scale and a shift per channel,
as dlib's ``affine`` layer does). Detection follows dlib step by step:

- **pyramid**: the image, minus the channel means and divided by 256, and its copies each 5/6
  the size of the last (down to 5 rows, bilinear with aligned corners) tiled into one tensor:
  the image at the top left, the smaller copies down its side and back up a second column,
  10 pixels apart and 11 from the border (dlib's ``input_rgb_image_pyramid<pyramid_down<6>>``);
- **network**: three 5x5 convolutions of stride 2 (16, 32, 32 channels), three of stride 1
  (45 channels), each with its affine and a ReLU, and a 9x9 convolution to one score map;
- **boxes**: each score above 0 is the window centred on its place in the tiled tensor
  (``8 * position + 14``), mapped to the pyramid level whose tile is nearest and scaled back
  to the image (``x * 6/5 + 0.3`` per level), corners rounded;
- **suppression**: highest score first, a box is dropped when it overlaps a kept one more
  than the file's thresholds (intersection over the area of the rectangle enclosing both, or
  the share of either box covered);
- **upsampling** (``upsample=k``, for small faces): the image is first enlarged k times the
  way dlib's Python binding does (``pyramid_up`` with ``pyramid_down<2>``: 2W + 2 by 2H + 1
  pixels, bilinear) and the boxes brought back (``x / 2 - 1.25``, ``y / 2 - 0.75`` per time).

Checked against dlib's ``cnn_face_detection_model_v1`` (``tests/embed/test_dlib_mmod.py``):
the same boxes and confidences on photographs and drawn faces, with and without upsampling.

>>> detector = dlib_mmod()                   # cached; the file of face-recognition-models
>>> found = detector.detect([image], upsample=1)   # image: (H, W, 3) uint8
>>> found[0].boxes, found[0].scores           # (K, 4) left, top, right, bottom; (K,)
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from latentplay.embed.dlib_file import DlibStream, read_affine, read_con
from latentplay.embed.dlib_resnet import Affine, PathLike
from latentplay.errors import UserError
from latentplay.rngs import torch_state_kept

CONVOLUTIONS = ((3, 16, 5, 2), (16, 32, 5, 2), (32, 32, 5, 2), (32, 45, 5, 1), (45, 45, 5, 1),
                (45, 45, 5, 1), (45, 1, 9, 1))
"""The network's convolutions: (inputs, outputs, kernel, stride); all but the last are followed
by an affine and a ReLU. dlib pads half the kernel at stride 1 and nothing at stride 2."""
MIN_LEVEL_ROWS = 5  # dlib stops the pyramid before a level this short
MIN_INPUT = 29  # the tiled tensor's least side for one score (three 5x5 convolutions of stride 2)
BATCH_PIXELS = 2**21  # images per network call: at most this many pixels together (or one)


@dataclass(frozen=True)
class MMODOptions:
    """What the file says beyond the weights: the sliding window, the suppression thresholds,
    the input's channel means and the pyramid's padding (between tiles, around them)."""

    window: tuple[int, int]  # width, height
    nms_iou: float
    nms_covered: float
    means: tuple[float, float, float]
    padding: int = 10
    outer_padding: int = 11


@dataclass(frozen=True)
class Detections:
    """The faces found in one image: ``boxes`` ``(K, 4)`` int64 (left, top, right, bottom,
    inclusive, as dlib's rectangles) and ``scores`` ``(K,)`` float64, highest first."""

    boxes: np.ndarray
    scores: np.ndarray

    def largest(self) -> int | None:
        """The index of the largest box (the first of equals), None when there is none."""
        return int(np.argmax(_area(self.boxes))) if len(self.boxes) else None


class MMODNet(nn.Module):
    """The detector's network: a tiled pyramid ``(B, 3, H, W)`` (normalised as dlib's input
    layer does) -> score maps ``(B, 1, (H - 29) // 8 + 1, ...)``, one score per 8 pixels."""

    def __init__(self) -> None:
        super().__init__()
        self.convs = nn.ModuleList(nn.Conv2d(i, o, k, s, k // 2 if s == 1 else 0)
                                   for i, o, k, s in CONVOLUTIONS)
        self.affines = nn.ModuleList(Affine(o) for _, o, _, _ in CONVOLUTIONS[:-1])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for conv, affine in zip(self.convs, self.affines, strict=False):
            x = F.relu(affine(conv(x)))
        return self.convs[-1](x)

    def layers(self) -> list[tuple[str, nn.Module]]:
        """The parameter layers ``(name, module)`` in the order dlib stores them."""
        out: list[tuple[str, nn.Module]] = []
        for i, conv in enumerate(self.convs):
            out.append((f"convs.{i}", conv))
            if i < len(self.affines):
                out.append((f"affines.{i}", self.affines[i]))
        return out

    def output_to_input(self, points: np.ndarray) -> np.ndarray:
        """Score-map positions ``(..., 2)`` -> the tensor positions their windows are centred
        on (dlib's ``output_tensor_to_input_tensor``: ``p * stride - padding + kernel // 2``
        through each convolution, last first)."""
        for conv in reversed(self.convs):
            points = points * conv.stride[0] - conv.padding[0] + conv.kernel_size[0] // 2
        return points


_LAYER = re.compile(rb"\x01\x05con_4|\x01\x07bn_con2|\x01\x07affine_")


def read_dlib_mmod(path: PathLike) -> tuple[dict[str, torch.Tensor], MMODOptions]:
    """The state dict of :class:`MMODNet` and the options held by dlib's detector file
    ``path``: a :class:`UserError` unless it is an MMOD network of one window whose layers are
    the architecture's, in order."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such dlib network file")
    stream = DlibStream(path.read_bytes(), str(path))
    stream.integer()  # the network's version
    if stream.text() != "loss_mmod_" or stream.integer() != 1:
        raise UserError(f"{path} is not dlib's CNN face detector (an MMOD network of one window)")
    window = tuple(stream.integers(2))
    *_losses, nms_iou, nms_covered = (stream.real() for _ in range(5))  # false alarm, miss, match
    found = re.compile(rb"\x01\x17input_rgb_image_pyramid2?").search(stream.data, stream.at)
    if found is None:
        raise UserError(f"{path} is not dlib's CNN face detector: no RGB image pyramid input")
    stream.at = found.end()
    means = tuple(stream.real() for _ in range(3))
    padding = stream.integers(2) if found.group().endswith(b"2") else [10, 11]
    options = MMODOptions(window, nms_iou, nms_covered, means, *padding)  # type: ignore[arg-type]

    net, state = MMODNet(), {}
    for name, module in net.layers():
        kind = stream.next_layer(_LAYER)
        if kind is None:
            raise UserError(f"{path} is not dlib's CNN face detector: it ends before layer {name}")
        if isinstance(module, nn.Conv2d):
            tensors = read_con(stream, module) if kind == "con_4" else None
        else:
            tensors = read_affine(stream, kind, module.gamma.numel()) if kind != "con_4" else None
        if tensors is None:
            raise UserError(f"{path} is not dlib's CNN face detector: layer {name} is a {kind} "
                            "of another shape")
        state.update({f"{name}.{k}": torch.from_numpy(np.array(v, np.float32)) for k, v in tensors.items()})
    return state, options


@dataclass(frozen=True)
class PyramidLayout:
    """Where the pyramid's levels lie in the tiled tensor: ``tiles`` ``(L, 4)`` left, top,
    right, bottom (inclusive), of a ``rows x cols`` tensor."""

    tiles: np.ndarray
    rows: int
    cols: int


@functools.lru_cache(maxsize=64)
def tiled_layout(rows: int, cols: int, padding: int = 10, outer: int = 11) -> PyramidLayout:
    """dlib's ``compute_tiled_image_pyramid_details`` for ``pyramid_down<6>`` and an image of
    ``rows x cols``: level sizes ``floor(5/6 * size)`` until fewer than 5 rows; the first
    column goes down until the rest fit back up a second one, right-aligned beside it."""
    sizes = [(cols, rows)]
    while True:
        rows, cols = math.floor(5 / 6 * rows), math.floor(5 / 6 * cols)
        if rows * cols == 0 or rows < MIN_LEVEL_ROWS:
            break
        sizes.append((cols, rows))
    total = sum(h + padding for _, h in sizes) - 2 * padding
    first_w, first_h = sizes[0]
    height, previous_w = 0, 0
    for w, h in sizes:
        if w <= first_w - previous_w - padding and (height - first_h) * 2 >= total - first_h:
            break
        height += h + padding
        previous_w = w
    height -= padding
    tiles: list[tuple[int, int, int, int]] = []
    y = outer
    while y < height + outer and len(tiles) < len(sizes):
        w, h = sizes[len(tiles)]
        tiles.append((outer, y, outer + w - 1, y + h - 1))
        y += h + padding
    y -= padding
    while len(tiles) < len(sizes):
        w, h = sizes[len(tiles)]
        right, bottom = outer + first_w - 1, y - 1
        tile = (right - w + 1, bottom - h + 1, right, bottom)
        first = tiles[0]
        if tile[0] <= first[2] and tile[2] >= first[0] and tile[1] <= first[3] and tile[3] >= first[1]:
            break
        tiles.append(tile)
        y -= h + padding
    return PyramidLayout(np.array(tiles, np.int64), height + 2 * outer, first_w + 2 * outer)


def tiled_pyramid(images: torch.Tensor, layout: PyramidLayout, means: tuple[float, float, float]
                  ) -> torch.Tensor:
    """``images`` ``(B, 3, H, W)`` float in [0, 255] -> dlib's tiled pyramid
    ``(B, 3, layout.rows, layout.cols)``: ``(pixel - mean) / 256``, zero between the tiles,
    each level resized from the one before (bilinear, corners aligned)."""
    out = images.new_zeros(images.shape[0], 3, layout.rows, layout.cols)
    level = (images - images.new_tensor(means).view(1, 3, 1, 1)) / 256
    for i, (left, top, right, bottom) in enumerate(layout.tiles.tolist()):
        if i:
            level = F.interpolate(level, size=(bottom - top + 1, right - left + 1), mode="bilinear",
                                  align_corners=True)
        out[:, :, top:bottom + 1, left:right + 1] = level
    return out


def _boxes_in_image(centres: np.ndarray, window: tuple[int, int], tiles: np.ndarray) -> np.ndarray:
    """Windows centred on tensor positions ``centres`` ``(K, 2)`` (x, y) -> image boxes
    ``(K, 4)`` int64: each on the level whose tile holds its centre (else the nearest tile,
    the first of equals), moved to the tile's corner and scaled up level by level
    (``pyramid_down<6>::point_up``), corners rounded half up."""
    half = (np.array(window, np.float64) - 1) / 2
    inside = ((centres[:, None, 0] >= tiles[None, :, 0]) & (centres[:, None, 0] <= tiles[None, :, 2])
              & (centres[:, None, 1] >= tiles[None, :, 1]) & (centres[:, None, 1] <= tiles[None, :, 3]))
    nearest_x = np.clip(centres[:, None, 0], tiles[None, :, 0], tiles[None, :, 2])
    nearest_y = np.clip(centres[:, None, 1], tiles[None, :, 1], tiles[None, :, 3])
    distance = np.hypot(nearest_x - centres[:, None, 0], nearest_y - centres[:, None, 1])
    level = np.where(inside.any(1), inside.argmax(1), distance.argmin(1))
    corner = tiles[level, :2].astype(np.float64)
    boxes = np.concatenate([centres - half - corner, centres + half - corner], axis=1)
    for k in range(1, int(level.max(initial=0)) + 1):
        up = level >= k
        boxes[up] = boxes[up] * (6 / 5.0) + 0.3
    return np.floor(boxes + 0.5).astype(np.int64)


def _area(boxes: np.ndarray) -> np.ndarray:
    """Pixels of inclusive boxes ``(..., 4)`` (0 when empty)."""
    w = boxes[..., 2] - boxes[..., 0] + 1
    h = boxes[..., 3] - boxes[..., 1] + 1
    return np.where((w > 0) & (h > 0), w * h, 0)


def suppressed(boxes: np.ndarray, scores: np.ndarray, iou: float, covered: float) -> np.ndarray:
    """dlib's non-maximum suppression: the indices kept, highest score first. A box is dropped
    when it meets a kept one with intersection over the enclosing rectangle's area above
    ``iou``, or covering more than ``covered`` of either box."""
    order = np.argsort(-scores, kind="stable")
    kept: list[int] = []
    for i in order:
        if kept:
            others = boxes[kept]
            inner = np.concatenate([np.maximum(others[:, :2], boxes[i, :2]),
                                    np.minimum(others[:, 2:], boxes[i, 2:])], axis=1)
            shared = _area(inner).astype(np.float64)
            enclosing = np.concatenate([np.minimum(others[:, :2], boxes[i, :2]),
                                        np.maximum(others[:, 2:], boxes[i, 2:])], axis=1)
            with np.errstate(divide="ignore", invalid="ignore"):
                hit = (shared > 0) & ((shared / _area(enclosing) > iou) | (shared / _area(others) > covered)
                                      | (shared / _area(boxes[i]) > covered))
            if hit.any():
                continue
        kept.append(int(i))
    return np.array(kept, np.int64)


def upsampled(image: np.ndarray, times: int) -> np.ndarray:
    """``(H, W, 3)`` uint8 enlarged ``times`` times as dlib's ``pyramid_up`` with
    ``pyramid_down<2>`` does (each time ``2H + 1`` rows, ``2W + 2`` columns; dlib's bilinear
    ``resize_image``)."""
    import dlib

    for _ in range(times):
        rows, cols = image.shape[:2]
        image = dlib.resize_image(np.ascontiguousarray(image), 2 * rows + 1, 2 * cols + 2)
    return image


def _downsampled_boxes(boxes: np.ndarray, times: int) -> np.ndarray:
    """Boxes on an image upsampled ``times`` times -> on the original
    (``pyramid_down<2>::rect_down``: ``x / 2 - 1.25``, ``y / 2 - 0.75`` per time), rounded."""
    out = boxes.astype(np.float64)
    for _ in range(times):
        out = out / 2 - np.array([1.25, 0.75, 1.25, 0.75])
    return np.floor(out + 0.5).astype(np.int64)


class MMODDetector:
    """dlib's CNN face detector on ``device``: :meth:`detect` images of any sizes (those of one
    size go through the network together)."""

    def __init__(self, path: PathLike, device: str = "cpu") -> None:
        state, self.options = read_dlib_mmod(path)
        self.net = MMODNet()
        self.net.load_state_dict(state)
        self.net.eval().requires_grad_(False).to(device)
        self.device = torch.device(device)

    def detect(self, images: list[np.ndarray], upsample: int = 0, threshold: float = 0.0,
               batch_size: int = 8) -> list[Detections]:
        """The faces in each of ``images`` (``(H, W, 3)`` uint8), as dlib's
        ``cnn_face_detection_model_v1(image, upsample)`` finds them: windows scoring above
        ``threshold``, after suppression, highest first. Up to ``batch_size`` images of one
        size (and :data:`BATCH_PIXELS` pixels, once upsampled) go through the network
        together."""
        for image in images:
            if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
                raise UserError(f"the CNN face detector reads (H, W, 3) uint8 images, got {image.dtype} "
                                f"{image.shape}")
        enlarged = [upsampled(image, upsample) for image in images]
        found: list[Detections | None] = [None] * len(images)
        by_size: dict[tuple[int, int], list[int]] = {}
        for i, image in enumerate(enlarged):
            by_size.setdefault(image.shape[:2], []).append(i)
        for (rows, cols), members in by_size.items():
            layout = tiled_layout(rows, cols, self.options.padding, self.options.outer_padding)
            step = max(1, min(batch_size, BATCH_PIXELS // (rows * cols)))
            for s in range(0, len(members), step):
                batch = members[s:s + step]
                scores = self._scores(np.stack([enlarged[i] for i in batch]), layout)
                for i, score_map in zip(batch, scores, strict=True):
                    found[i] = self._detections(score_map, layout, threshold, upsample)
        return found  # type: ignore[return-value]

    def _scores(self, images: np.ndarray, layout: PyramidLayout) -> np.ndarray:
        """``(B, H, W, 3)`` uint8 -> score maps ``(B, rows, cols)``."""
        if len(layout.tiles) == 0 or min(layout.rows, layout.cols) < MIN_INPUT:
            return np.zeros((len(images), 0, 0), np.float32)
        with torch.inference_mode():
            x = torch.from_numpy(images).to(self.device).permute(0, 3, 1, 2).float()
            return self.net(tiled_pyramid(x, layout, self.options.means))[:, 0].cpu().numpy()

    def _detections(self, scores: np.ndarray, layout: PyramidLayout, threshold: float, upsample: int
                    ) -> Detections:
        """One image's score map ``(rows, cols)`` -> its faces on the original image."""
        rows, cols = np.nonzero(scores > threshold)
        if len(rows) == 0:
            return Detections(np.zeros((0, 4), np.int64), np.zeros(0))
        values = scores[rows, cols].astype(np.float64)
        centres = self.net.output_to_input(np.stack([cols, rows], axis=1))
        boxes = _boxes_in_image(centres, self.options.window, layout.tiles)
        kept = suppressed(boxes, values, self.options.nms_iou, self.options.nms_covered)
        return Detections(_downsampled_boxes(boxes[kept], upsample), values[kept])


@functools.lru_cache(maxsize=4)
def dlib_mmod(path: PathLike | None = None, device: str = "cpu") -> MMODDetector:
    """The detector of dlib's file ``path`` (default: the one of ``face-recognition-models``)
    on ``device``; cached. Building the layers leaves torch's random generator as it was (their
    first weights, replaced by the file's, are drawn from it)."""
    if path is None:
        from latentplay.embed.faces import CNN_DETECTOR_MODEL, model_dir

        path = model_dir() / CNN_DETECTOR_MODEL
    with torch_state_kept():
        return MMODDetector(path, device)
