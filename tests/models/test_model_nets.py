"""Network shapes for every family, size and channel count; condition vectors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from latentplay.errors import UserError
from latentplay.models import ConditionPart, ConditionSpec, build_model, family_config
from latentplay.models.nets import downsampling_plan


@pytest.mark.parametrize("family", ["ae", "vae", "cvae", "dcgan"])
@pytest.mark.parametrize("size", [28, 32, 64, 128])
@torch.no_grad()
def test_shapes(family: str, size: int) -> None:
    for channels in (1, 3):
        cfg = family_config(family)()
        model = build_model(family, cfg, channels, size, cond_dim=3)
        z = torch.randn(2, model.latent_dim)
        cond = torch.randn(2, 3)
        images = model.decode(z, cond)
        assert images.shape == (2, channels, size, size)
        assert float(images.min()) >= 0 and float(images.max()) <= 1
        if family == "dcgan":
            assert model.discriminator(images * 2 - 1, cond).shape == (2,)
            with pytest.raises(UserError):
                model.encode(images, cond)
        else:
            mu, logvar = model.encode(images, cond)
            assert mu.shape == (2, model.latent_dim)
            assert (logvar is None) == (family == "ae")


def test_burgess_reference_network_at_64() -> None:
    model = build_model("vae", family_config("vae")(), 1, 64)
    convs = [m for m in model.encoder.conv if isinstance(m, torch.nn.Conv2d)]
    assert [(c.out_channels, c.kernel_size, c.stride) for c in convs] == [(32, (4, 4), (2, 2))] * 4
    assert downsampling_plan(64) == (4, 4) and downsampling_plan(28) == (2, 7)
    with pytest.raises(UserError):
        downsampling_plan(50)


def test_condition_spec_vectors() -> None:
    spec = ConditionSpec([ConditionPart("smile", "continuous", 1, range=(-1.0, 1.0)),
                          ConditionPart("gender", "categorical", 2, names=["female", "male"])])
    assert spec.dim == 3
    assert np.array_equal(spec.vector({"smile": 0.5, "gender": "male"}), [0.5, 0.0, 1.0])
    assert np.array_equal(spec.vector({"smile": -1, "gender": 0}), [-1.0, 1.0, 0.0])
    assert ConditionSpec.from_dict(spec.to_dict()) == spec
    with pytest.raises(UserError):
        spec.vector({"smile": 0.0, "gender": "other"})
    with pytest.raises(UserError):
        spec.vector({"smile": 0.0})
