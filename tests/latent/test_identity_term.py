"""The identity term's recognisers (latentplay.latent.identity_term): ArcFace's crop as a
sampling grid and an ONNX network read as the ``onnx`` embedder reads it (inversion with it:
``test_latent_invert.py``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from latentplay.errors import UserError
from latentplay.latent.identity_term import arcface_grids, recogniser


@pytest.fixture(scope="module")
def face() -> np.ndarray:
    from skimage import data

    return np.array(Image.fromarray(data.astronaut()[20:300, 100:380]).resize((160, 160)))


@pytest.fixture(scope="module")
def arcface(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.embed.test_onnx_torch import arcface_like

    return arcface_like(tmp_path_factory.mktemp("onnx") / "arc.onnx")


def test_the_arcface_grid_cuts_the_embedders_crop(face: np.ndarray, arcface: Path) -> None:
    from latentplay.embed.arcface import align_to_template, five_points
    from latentplay.embed.base import make_embedder
    from latentplay.embed.dlib_resnet import sampled_chips
    from latentplay.embed.faces import FaceModels

    models = FaceModels.load()
    theirs = align_to_template(face, five_points(models.landmarks68(face, models.detect(face))), 112)
    grid = arcface_grids(face[None])
    x = torch.from_numpy(face[None]).permute(0, 3, 1, 2).float() / 255
    ours = (sampled_chips(x, grid)[0].permute(1, 2, 0) * 255).numpy()
    assert np.abs(ours - theirs).mean() < 1.0  # the same crop, up to interpolation (measured 0.49)
    reader = recogniser(f"onnx:{arcface}")
    ours = reader.embed(x, grid).detach().numpy()[0]
    embedder = make_embedder(f"onnx:{arcface}", ["normalize=false"])
    theirs = embedder.embed(face[None])[0]
    cosine = ours @ theirs / np.linalg.norm(ours) / np.linalg.norm(theirs)
    assert cosine > 0.999  # the term reads the face as the onnx embedder does


def test_recogniser_refusals(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="identity network must be dlib or onnx:PATH"):
        recogniser("arcface")
    with pytest.raises(UserError, match="does not exist"):
        recogniser(f"onnx:{tmp_path / 'missing.onnx'}")


def test_a_faces_embedding_does_not_depend_on_its_batch() -> None:
    """A face the chip is several times smaller than is averaged down before sampling by its
    own scale, not by the smallest scale of the faces it is embedded with (inversion's targets
    are embedded a batch at a time, its decodings a chunk at a time)."""
    from skimage import data

    photo = data.astronaut()
    close = np.array(Image.fromarray(photo[40:260, 150:350]).resize((640, 640)))  # face ~2.5 px/chip px
    far = np.array(Image.fromarray(photo[:400, 50:450]).resize((640, 640)))  # face ~1.3 px/chip px
    reader = recogniser("dlib")
    grids = reader.grids(np.stack([close, far]))
    x = torch.from_numpy(np.stack([close, far])).permute(0, 3, 1, 2).float() / 255
    together = reader.embed(x, grids)
    alone = torch.cat([reader.embed(x[i:i + 1], grids[i:i + 1]) for i in range(2)])
    torch.testing.assert_close(together, alone, atol=1e-5, rtol=0)
