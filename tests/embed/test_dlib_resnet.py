"""dlib's face-recognition ResNet in PyTorch against dlib's own network."""

from __future__ import annotations

from pathlib import Path

import dlib
import numpy as np
import pytest
import torch

from latentplay.embed.dlib_resnet import (
    DlibResNet,
    chip_grid,
    chip_grids,
    describe_chips,
    dlib_resnet,
    read_dlib_resnet,
    sampled_chips,
)
from latentplay.embed.faces import RECOGNITION_MODEL, FaceModels, model_dir
from latentplay.errors import UserError


@pytest.fixture(scope="module")
def chips() -> np.ndarray:
    """dlib's chip of the astronaut's face, a darkened copy and two noise images: ``(4, 150, 150, 3)``."""
    from skimage import data

    faces = FaceModels.load()
    image = data.astronaut()
    chip = faces.align(image, faces.detect(image))
    noise = np.random.default_rng(0).integers(0, 256, (2, 150, 150, 3), dtype=np.uint8)
    return np.concatenate([chip[None], (chip[None] * 0.6).astype(np.uint8), noise])


def test_descriptors_are_dlibs(chips: np.ndarray) -> None:
    recognizer = dlib.face_recognition_model_v1(str(model_dir() / RECOGNITION_MODEL))
    theirs = np.array([np.array(v) for v in recognizer.compute_face_descriptor(list(chips))])
    ours = describe_chips(chips, batch_size=3)  # two batches, the second of one chip
    np.testing.assert_allclose(ours, theirs, atol=2e-6)
    assert np.linalg.norm(theirs[0] - theirs[2]) > 0.3  # the chips are told apart
    np.testing.assert_allclose(FaceModels.load().describe(list(chips)), theirs, atol=2e-6)


def test_the_network_is_differentiable_and_frozen(chips: np.ndarray) -> None:
    net = dlib_resnet()
    assert not any(p.requires_grad for p in net.parameters())
    x = torch.from_numpy(chips[:1]).permute(0, 3, 1, 2).float().div(255).requires_grad_()
    target = torch.from_numpy(describe_chips(chips[1:2]))
    distance = (net(x) - target).norm()
    distance.backward()
    step = x - 0.02 * x.grad / x.grad.abs().max()  # a step down the gradient brings it closer
    assert (net(step) - target).norm() < distance


def test_the_differentiable_chip_is_dlibs_chip() -> None:
    """The grid samples the image where dlib's ``extract_image_chip`` does (checked on images
    of the pixels' own coordinates), and the chip's descriptor is near dlib's chip's."""
    from PIL import Image
    from skimage import data

    face = np.array(Image.fromarray(data.astronaut()[20:300, 100:380]).resize((200, 200)))
    models = FaceModels.load()
    box = models.detect(face)
    assert box is not None
    details = dlib.get_face_chip_details(models.landmarks(face, box), 150, 0.25)
    grid = chip_grids(face[None])[0].double().numpy()
    where = (grid + 1) * 200 / 2 - 0.5  # pixel coordinates of every chip pixel
    xs = np.tile(np.arange(200, dtype=np.float32), (200, 1))
    for axis, ramp in enumerate((xs, np.ascontiguousarray(xs.T))):
        theirs = dlib.extract_image_chip(ramp, details)
        inside = (theirs > 1) & (theirs < 198)  # away from the zeros outside the image
        assert inside.mean() > 0.8
        np.testing.assert_allclose(where[..., axis][inside], theirs[inside], atol=1e-3)
    x = torch.from_numpy(face[None]).permute(0, 3, 1, 2).float() / 255
    chip = sampled_chips(x, chip_grids(face[None]))
    ours = dlib_resnet()(chip)[0].numpy()
    theirs = describe_chips(models.align(face, box)[None])[0]
    assert np.linalg.norm(ours - theirs) < 0.1  # same person: within 0.6


@pytest.mark.parametrize("size", [100, 101, 103])
def test_a_sampled_chip_keeps_its_scale_when_the_image_side_is_no_multiple_of_k(size: int) -> None:
    """On images of the pixels' own coordinates, every chip pixel reads the coordinate of the
    place its grid names, whether or not the averaging ``k`` divides the side; and a face's chip
    is the same cut alone or with a face of another scale."""
    ramp = torch.arange(size, dtype=torch.float32).expand(size, size)
    image = torch.stack([ramp, ramp.T, ramp])[None]
    u = np.arange(25)  # inside the image's last whole k x k block
    for scale in (2.5, 3.2):  # k = 2 and k = 3
        affine = np.array([[scale, 0, 4], [0, scale, 6]])
        chip = sampled_chips(image, chip_grid(affine, size, size, side=25)[None])[0]
        np.testing.assert_allclose(chip[0, 5].numpy(), scale * u + 4, atol=1e-3)
        np.testing.assert_allclose(chip[1, :, 5].numpy(), scale * u + 6, atol=1e-3)
    affines = [np.array([[s, 0, 4], [0, s, 6]]) for s in (3.2, 1.5)]
    grids = torch.stack([chip_grid(a, size, size, side=30) for a in affines])
    together = sampled_chips(image.expand(2, -1, -1, -1), grids)
    for row in range(2):
        torch.testing.assert_close(together[row], sampled_chips(image, grids[row:row + 1])[0])


def test_a_different_network_file_is_refused(tmp_path: Path) -> None:
    data = (model_dir() / RECOGNITION_MODEL).read_bytes()
    first = data.index(b"\x01\x05con_4")
    cut = tmp_path / "cut.dat"
    cut.write_bytes(data[:len(data) // 2])
    with pytest.raises(UserError, match="ends before layer|ends inside a layer|did not write"):
        read_dlib_resnet(cut)
    stride = bytearray(data)  # the stem's stride 2 -> 3: not the network built
    _, at = _skip_tensor(bytes(stride), first + 7)
    for _ in range(3):  # filters, rows, columns
        at += 1 + (stride[at] & 0x0F)
    assert stride[at:at + 2] == b"\x01\x02"
    stride[at + 1] = 3
    (tmp_path / "stride.dat").write_bytes(bytes(stride))
    with pytest.raises(UserError, match="layer stem is a con_4"):
        read_dlib_resnet(tmp_path / "stride.dat")
    with pytest.raises(UserError, match="no such dlib network file"):
        read_dlib_resnet(tmp_path / "missing.dat")
    # the file's convolutions and linear map
    assert sum(p.numel() for p in DlibResNet().parameters()) == 5_607_488


def _skip_tensor(data: bytes, at: int) -> tuple[int, int]:
    """The float count of the tensor serialized at ``at`` and where it ends."""
    dims = []
    for _ in range(5):
        size = data[at] & 0x0F
        dims.append(int.from_bytes(data[at + 1:at + 1 + size], "little"))
        at += 1 + size
    n = int(np.prod(dims[1:]))
    return n, at + 4 * n


def test_loading_the_network_leaves_torchs_generator_as_it_was() -> None:
    """Building the layers drew their first weights from torch's generator: the first face
    descriptors of a session changed the draws a notebook made after them."""
    torch.manual_seed(3)
    want = torch.rand(4)
    torch.manual_seed(3)
    dlib_resnet.__wrapped__()  # built afresh, not the cached network
    assert torch.equal(torch.rand(4), want)
