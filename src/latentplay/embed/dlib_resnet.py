"""dlib's face-recognition ResNet in PyTorch: dlib's 128-d descriptors, batched, on any device,
differentiable.

``dlib_face_recognition_resnet_model_v1.dat`` (shipped by ``face-recognition-models``) is read
without dlib: the file is dlib's serialization of its network, layer by layer from the input
up, and each parameter tensor is stored as its four dimensions followed by little-endian
float32 values. :func:`read_dlib_resnet` walks the layers and checks them against the
architecture :class:`DlibResNet` builds (a refused file names the first layer that differs):

- input: a ``150 x 150`` RGB face chip minus dlib's channel means (122.782, 117.001, 104.298),
  divided by 256;
- stem: 7x7 convolution of stride 2 to 32 channels, affine (a batch norm folded into a scale
  and a shift per channel), ReLU, 3x3 max pooling of stride 2;
- 14 residual blocks (two 3x3 convolutions, each followed by an affine, a ReLU between them):
  3 at 32 channels, then 4 at 64, 3 at 128, 3 at 256 and 1 at 256, the first of each group
  halving the size (its first convolution of stride 2 without padding, its shortcut a 2x2
  average pooling). dlib adds a block to its shortcut over the larger of the two shapes,
  the missing channels and rows taken as zeros (the shortcut has fewer channels; at 8 px and
  3 px the convolution's output is a row smaller); then ReLU;
- head: the mean over positions and a 256 -> 128 linear map without bias.

Checked against dlib: the same descriptors of the same chips to 4e-7
(``tests/embed/test_dlib_resnet.py``), and on 2 cores 13 to 18 times faster than dlib's own
``compute_face_descriptor`` (``bench/bench_dlib.py``), which runs one chip at a time.

For an identity loss the chip is cut differentiably: :func:`chip_grids` finds each face's
chip as dlib does (5 landmarks, ``get_face_chip_details``, padding 0.25) and returns the
sampling grid, which :func:`sampled_chips` applies to any images of the same faces (a
generator's decodings) with ``grid_sample``.

>>> net = dlib_resnet()                       # cached; the file of face-recognition-models
>>> net(chips)                                # (B, 3, 150, 150) in [0, 1] -> (B, 128)
>>> grids = chip_grids(photos)                # photos: (B, S, S, 3) uint8 face crops
>>> net(sampled_chips(decodings, grids))      # decodings: (B, 3, S, S) in [0, 1]
"""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from latentplay.embed.dlib_file import DlibStream, read_affine, read_con
from latentplay.errors import UserError
from latentplay.rngs import torch_state_kept

PathLike = str | os.PathLike[str]
CHIP = 150
MEANS = (122.782, 117.001, 104.298)  # dlib's input_rgb_image channel means
GROUPS = ((32, 3, False), (64, 4, True), (128, 3, True), (256, 3, True), (256, 1, True))
"""Residual blocks: (channels, blocks, whether the first halves the size)."""


class Affine(nn.Module):
    """dlib's ``affine`` layer: ``x * gamma + beta`` per channel (a batch norm folded)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.register_buffer("gamma", torch.ones(channels))
        self.register_buffer("beta", torch.zeros(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gamma[:, None, None] + self.beta[:, None, None]


def _conv(cin: int, cout: int, kernel: int, stride: int) -> nn.Conv2d:
    """dlib's ``con``: padding half the kernel at stride 1, none at stride 2."""
    return nn.Conv2d(cin, cout, kernel, stride, kernel // 2 if stride == 1 else 0)


def _add(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """dlib's ``add_prev``: ``a + b`` ``(B, C, H, W)`` over the larger of the two shapes, what
    one lacks taken as zeros."""
    shape = [max(p, q) for p, q in zip(a.shape[1:], b.shape[1:], strict=True)]

    def grown(t: torch.Tensor) -> torch.Tensor:
        c, h, w = (s - n for s, n in zip(shape, t.shape[1:], strict=True))
        return F.pad(t, (0, w, 0, h, 0, c)) if c or h or w else t

    return grown(a) + grown(b)


class Block(nn.Module):
    """A residual block: conv, affine, ReLU, conv, affine, plus the shortcut (2x2 average
    pooled when ``down``), ReLU."""

    def __init__(self, cin: int, cout: int, down: bool) -> None:
        super().__init__()
        self.down = down
        self.conv1, self.affine1 = _conv(cin, cout, 3, 2 if down else 1), Affine(cout)
        self.conv2, self.affine2 = _conv(cout, cout, 3, 1), Affine(cout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.affine2(self.conv2(F.relu(self.affine1(self.conv1(x)))))
        return F.relu(_add(y, F.avg_pool2d(x, 2) if self.down else x))


class DlibResNet(nn.Module):
    """dlib's face-recognition network: chips ``(B, 3, 150, 150)`` RGB in [0, 1] (dlib's
    aligned face chips: :meth:`latentplay.embed.faces.FaceModels.align`) -> descriptors
    ``(B, 128)``; faces of one person lie within about 0.6 of each other (Euclidean)."""

    def __init__(self) -> None:
        super().__init__()
        self.stem, self.stem_affine = _conv(3, 32, 7, 2), Affine(32)
        blocks, cin = [], 32
        for cout, count, down in GROUPS:
            blocks += [Block(cin if k == 0 else cout, cout, down and k == 0) for k in range(count)]
            cin = cout
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(256, 128, bias=False)
        self.register_buffer("means", torch.tensor(MEANS).view(1, 3, 1, 1), persistent=False)

    def forward(self, chips: torch.Tensor) -> torch.Tensor:
        x = (chips * 255 - self.means) / 256
        x = F.max_pool2d(F.relu(self.stem_affine(self.stem(x))), 3, 2)
        return self.fc(self.blocks(x).mean((2, 3)))

    def layers(self) -> list[tuple[str, nn.Module]]:
        """The parameter layers ``(name, module)`` in the order dlib stores them."""
        out: list[tuple[str, nn.Module]] = [("stem", self.stem), ("stem_affine", self.stem_affine)]
        for i, block in enumerate(self.blocks):
            out += [(f"blocks.{i}.{n}", getattr(block, n)) for n in ("conv1", "affine1", "conv2", "affine2")]
        return out + [("fc", self.fc)]


_LAYER = re.compile(rb"\x01\x05con_4|\x01\x07affine_|\x01\x04fc_2")


def read_dlib_resnet(path: PathLike) -> dict[str, torch.Tensor]:
    """The state dict of :class:`DlibResNet` held by dlib's network file ``path``: a
    :class:`UserError` unless its convolutions, affines and linear map are, in order, the
    architecture's (channels, kernels, strides, padding)."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such dlib network file")
    stream = DlibStream(path.read_bytes(), str(path))
    expected = DlibResNet().layers()
    state: dict[str, torch.Tensor] = {}
    for name, module in expected:
        kind = stream.next_layer(_LAYER)
        if kind is None:
            raise UserError(f"{path} is not dlib's face-recognition ResNet: it ends before layer {name}")
        if isinstance(module, nn.Conv2d) and kind == "con_4":
            tensors = read_con(stream, module)
        elif isinstance(module, Affine) and kind == "affine_":
            tensors = read_affine(stream, kind, module.gamma.numel())
        elif isinstance(module, nn.Linear) and kind == "fc_2":
            stream.integers(2)  # its outputs and inputs first
            params = stream.tensor()
            ok = tuple(params.shape[:2]) == tuple(module.weight.shape[::-1])  # (inputs, outputs)
            tensors = {"weight": params.reshape(params.shape[:2]).T} if ok else None
        else:
            tensors = None
        if tensors is None:
            raise UserError(f"{path} is not dlib's face-recognition ResNet: layer {name} is a {kind} "
                            "of another shape")
        state.update({f"{name}.{k}": torch.from_numpy(np.array(v, np.float32)) for k, v in tensors.items()})
    return state


@functools.lru_cache(maxsize=4)
def dlib_resnet(path: PathLike | None = None, device: str = "cpu") -> DlibResNet:
    """The network of dlib's file ``path`` (default: the one of ``face-recognition-models``) on
    ``device``, in eval mode with frozen weights; cached. Building the layers leaves torch's
    random generator as it was (their first weights, replaced by the file's, are drawn from it)."""
    if path is None:
        from latentplay.embed.faces import RECOGNITION_MODEL, model_dir

        path = model_dir() / RECOGNITION_MODEL
    with torch_state_kept():
        net = DlibResNet()
        net.load_state_dict(read_dlib_resnet(path))
    return net.eval().requires_grad_(False).to(device)


def describe_chips(chips: np.ndarray, device: str = "cpu", batch_size: int = 64) -> np.ndarray:
    """dlib's descriptors of aligned chips ``(N, 150, 150, 3)`` uint8: ``(N, 128)`` float32."""
    net = dlib_resnet(device=device)
    out = []
    with torch.inference_mode():
        for s in range(0, len(chips), batch_size):
            x = torch.from_numpy(np.ascontiguousarray(chips[s:s + batch_size])).to(device)
            out.append(net(x.permute(0, 3, 1, 2).float() / 255).cpu())
    return torch.cat(out).numpy() if out else np.zeros((0, 128), np.float32)


def chip_grids(images: np.ndarray) -> torch.Tensor:
    """Where dlib's aligned chip of each face lies: ``images`` ``(N, S, S, C)`` uint8 ->
    sampling grids ``(N, 150, 150, 2)`` for ``grid_sample(align_corners=False)``. The face box
    is the largest face dlib's HOG detector finds, else the whole image (a tight face crop),
    as the ``dlib`` embedder takes it (:func:`latentplay.embed.faces.face_chips`); the chip is
    dlib's (``get_face_chip_details`` of the 5 landmarks, padding 0.25): chip pixel ``(u, v)``
    lies at the rectangle's corners turned by its angle, as dlib's ``extract_image_chip`` maps
    it."""
    from latentplay.embed.faces import Face, FaceModels, face_chips

    def grid(models: FaceModels, image: np.ndarray, face: Face) -> np.ndarray:
        details = models.dlib.get_face_chip_details(models.landmarks(image, face.box), CHIP, 0.25)
        return chip_grid(_chip_to_image(details), image.shape[1], image.shape[0]).numpy()

    return stacked_grids(face_chips(images, grid)[0], CHIP)


def stacked_grids(grids: list[np.ndarray | None], side: int) -> torch.Tensor:
    """``(N, side, side, 2)`` of ``N`` grids (none: an empty stack)."""
    return torch.from_numpy(np.stack(grids)) if grids else torch.zeros(0, side, side, 2)


def _chip_to_image(details: object) -> np.ndarray:
    """The affine map ``(2, 3)`` from chip pixels to image pixels of dlib's chip ``details``:
    chip corners (0, 0), (cols - 1, 0), (cols - 1, rows - 1) to the rectangle's top-left,
    top-right and bottom-right corners turned by ``angle`` about its centre."""
    rect, angle = details.rect, details.angle  # type: ignore[attr-defined]
    centre = np.array([(rect.left() + rect.right()) / 2, (rect.top() + rect.bottom()) / 2])
    turn = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    corners = np.array([[rect.left(), rect.top()], [rect.right(), rect.top()], [rect.right(), rect.bottom()]])
    image = (corners - centre) @ turn.T + centre
    cols, rows = details.cols - 1, details.rows - 1  # type: ignore[attr-defined]
    chip = np.array([[0, 0, 1], [cols, 0, 1], [cols, rows, 1]], dtype=np.float64)
    return np.linalg.solve(chip, image).T


def chip_grid(affine: np.ndarray, width: int, height: int, side: int = CHIP) -> torch.Tensor:
    """``(side, side, 2)`` normalized (x, y) of every chip pixel's place in a ``width`` x
    ``height`` image (-1 and 1 at the image's edges) under ``affine`` ``(2, 3)``, chip pixel
    -> image pixel (pixel centres at integers)."""
    v, u = np.mgrid[0:side, 0:side].astype(np.float64)
    xy = np.stack([u, v, np.ones_like(u)], -1) @ affine.T
    return torch.from_numpy(((2 * xy + 1) / np.array([width, height]) - 1).astype(np.float32))


def sampled_chips(images: torch.Tensor, grids: torch.Tensor) -> torch.Tensor:
    """The chips ``(B, 3, side, side)`` that ``grids`` ``(B, side, side, 2)``
    (:func:`chip_grids`, :func:`chip_grid`) cut out of square
    ``images`` ``(B, C, S, S)`` in [0, 1] (gray repeated to RGB), bilinearly, after averaging
    ``k x k`` pixels where the chip is ``k`` or more times smaller than the face (no
    aliasing), ``k`` each face's own: a chip does not depend on the faces cut with it;
    differentiable."""
    if images.shape[1] == 1:
        images = images.expand(-1, 3, -1, -1)
    grids = grids.to(images.device)
    spread = (grids[:, 0, -1] - grids[:, 0, 0]).norm(dim=1) * images.shape[-1] / 2 / (grids.shape[2] - 1)
    scales = spread.clamp(min=1).int()  # image pixels per chip pixel, whole
    ks = scales.unique().tolist() or [1]
    if len(ks) == 1:
        return _sampled(images, grids, ks[0])
    groups = [torch.nonzero(scales == k).flatten() for k in ks]
    chips = torch.cat([_sampled(images[rows], grids[rows], k) for k, rows in zip(ks, groups, strict=True)])
    return chips[torch.argsort(torch.cat(groups))]


def _sampled(images: torch.Tensor, grids: torch.Tensor, k: int) -> torch.Tensor:
    """:func:`sampled_chips` of ``images`` ``(B, 3, S, S)`` averaged ``k x k``. The pooled image
    ``(B, 3, ceil(S / k), ceil(S / k))`` spans ``k * ceil(S / k)`` pixels, more than ``S`` where
    ``k`` does not divide ``S``: the grids are rescaled to it, so that the chip keeps its scale."""
    if k > 1:
        size = images.shape[-1]
        images = F.avg_pool2d(images, k, ceil_mode=True)
        grids = (grids + 1) * (size / (k * images.shape[-1])) - 1
    return F.grid_sample(images, grids, mode="bilinear", padding_mode="zeros", align_corners=False)
