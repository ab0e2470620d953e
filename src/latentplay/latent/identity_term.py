"""Differentiable face recognisers for inversion's identity term.

:func:`recogniser` gives what the term needs of a face-recognition network: where it reads
each photo's face (a sampling grid, found once on the photo and applied to every decoding of
it) and the network itself as a differentiable PyTorch function of those chips.

- ``dlib`` (the default): dlib's ResNet (:mod:`latentplay.embed.dlib_resnet`) on dlib's 150-px
  chip (HOG's face box, else the whole image; 5 landmarks; padding 0.25).
- ``onnx:PATH``: an ArcFace-family network given as ONNX (InsightFace's ``w600k_r50.onnx``,
  ...), run by PyTorch (:class:`latentplay.embed.onnx_torch.OnnxGraph`) on ArcFace's
  five-point crop (eye centres, nose tip and mouth corners from dlib's 68 landmarks,
  :mod:`latentplay.embed.arcface`), pixels as the ``onnx`` embedder's ``pixels=auto`` feeds
  them (``(v - 127.5) / 127.5``, or raw 0-255 values for a file that normalises itself), in
  RGB order to an ``(N, 3, side, side)`` input.

>>> reader = recogniser("onnx:w600k_r50.onnx")
>>> grids = reader.grids(photos)          # (N, S, S, 3) uint8 -> (N, 112, 112, 2)
>>> reader.embed(decodings, grids)        # (N, 3, S, S) in [0, 1] -> (N, 512), differentiable
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from latentplay.embed.dlib_resnet import chip_grid, chip_grids, dlib_resnet, sampled_chips, stacked_grids
from latentplay.errors import UserError

ONNX_PREFIX = "onnx:"


@dataclass
class Recogniser:
    """A face recogniser as the identity term uses it.

    Attributes:
        name: ``dlib`` or ``onnx:PATH``.
        grids: photos ``(N, S, S, C)`` uint8 -> sampling grids ``(N, side, side, 2)``.
        network: chips ``(B, 3, side, side)`` in [0, 1] -> embeddings ``(B, D)``.
    """

    name: str
    grids: Callable[[np.ndarray], torch.Tensor]
    network: Callable[[torch.Tensor], torch.Tensor]

    def embed(self, images: torch.Tensor, grids: torch.Tensor) -> torch.Tensor:
        """Embeddings ``(B, D)`` of the faces ``grids`` ``(B, side, side, 2)`` place in
        ``images`` ``(B, C, S, S)`` in [0, 1]; differentiable. Each face is averaged down by its
        own scale (:func:`sampled_chips`): its embedding does not depend on the faces it comes
        with."""
        return self.network(sampled_chips(images, grids))


def recogniser(spec: str = "dlib", device: str = "cpu") -> Recogniser:
    """The recogniser ``spec`` (``dlib`` or ``onnx:PATH``) with its network on ``device``."""
    if spec == "dlib":
        return Recogniser("dlib", chip_grids, dlib_resnet(device=device))
    if spec.startswith(ONNX_PREFIX):
        side, network = _onnx_network(spec[len(ONNX_PREFIX):], device)
        return Recogniser(spec, functools.partial(arcface_grids, side=side), network)
    raise UserError(f"identity network must be dlib or onnx:PATH, got {spec!r}")


def _onnx_network(path: str, device: str) -> tuple[int, Callable[[torch.Tensor], torch.Tensor]]:
    """The input side of the ONNX network in ``path`` and the network as a function chips ->
    embeddings (pixels scaled as the ``onnx`` embedder's ``pixels=auto`` does)."""
    from latentplay.embed.onnx_torch import OnnxGraph

    if not Path(path).is_file():
        raise UserError(f"onnx network file {path} does not exist")
    net = OnnxGraph(path).to(device).eval()
    dims = net.input_dims
    if len(dims) != 4 or dims[1] != 3 or dims[2] != dims[3] or dims[2] <= 0:
        raise UserError(f"{path}: the identity term feeds (N, 3, side, side) images; the network's "
                        f"input is {dims}")
    raw = net.normalises_itself

    def network(chips: torch.Tensor) -> torch.Tensor:
        x = chips * 255 if raw else chips * 2 - 1  # (v - 127.5) / 127.5 of 0-255 values
        return net(x).reshape(len(chips), -1)

    return dims[2], network


def arcface_grids(images: np.ndarray, side: int = 112) -> torch.Tensor:
    """Sampling grids ``(N, side, side, 2)`` of ArcFace's five-point crop of each photo
    ``(N, S, S, C)`` uint8: the similarity transform that brings its eye centres, nose tip and
    mouth corners (from dlib's 68 landmarks of HOG's face box, else the whole image) onto the
    template, as the ``onnx`` embedder's ``align=arcface`` warps photos."""
    from latentplay.embed.arcface import five_points, similarity, template
    from latentplay.embed.faces import Face, FaceModels, face_chips

    def grid(models: FaceModels, image: np.ndarray, face: Face) -> np.ndarray:
        points = five_points(models.landmarks68(image, face.box))
        forward = np.vstack([similarity(points, template(side)), [0, 0, 1]])  # image -> chip
        return chip_grid(np.linalg.inv(forward)[:2], image.shape[1], image.shape[0], side).numpy()

    return stacked_grids(face_chips(images, grid)[0], side)
