"""The StyleGAN3 generator: numerically NVIDIA's ``networks_stylegan3.py``.

``reference/stylegan3_{t,r}_nvidia.npz`` hold two small generators of NVIDIA's
``networks_stylegan3.py`` (run with its reference ``filtered_lrelu``, ``upfirdn2d`` and
``bias_act``): 16 px, style 16, mapping 2 layers, biases, affine weights and magnitude averages
perturbed. ``t``: config T (3x3 convolutions, separable filters, channels 512 / 2 / cutoff
capped at 16) with an activation clamp of 0.6, which changes its images; ``r``: config R (1x1
convolutions, radial filters, channel base 1024 capped at 24), no clamp. Each holds every
tensor as ``G.<name>``, the attributes NVIDIA's modules carry (``attributes``, JSON), and what
NVIDIA's code drew: ``images`` of codes ``z`` (``w`` their mapped points), ``plus_images`` of
per-layer codes ``ws_plus`` and, for ``t``, the same codes unclamped.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from latentplay.errors import UserError
from latentplay.models.stylegan3 import (
    FourierInput,
    Generator3,
    StyleGAN3,
    StyleGAN3Config,
    downsample,
    input_transform,
    lowpass,
    schedule,
    upsample,
)

REFERENCE = Path(__file__).parent / "reference"
CONFIGS = {"t": StyleGAN3Config(resolution=16, style_dim=16, channel_base=512, channel_max=16,
                                conv_clamp=0.6),
           "r": StyleGAN3Config(resolution=16, style_dim=16, channel_base=1024, channel_max=24,
                                conv_kernel=1, radial=True, conv_clamp=0)}


def reference(name: str) -> tuple[dict[str, torch.Tensor], dict[str, np.ndarray], dict]:
    """NVIDIA's tensors (names relative to ``G``), drawings and module attributes."""
    data = np.load(REFERENCE / f"stylegan3_{name}_nvidia.npz")
    tensors = {k[2:]: torch.from_numpy(data[k]) for k in data.files if k.startswith("G.")}
    drawn = {k: data[k] for k in data.files if not k.startswith("G.") and k != "attributes"}
    return tensors, drawn, json.loads(str(data["attributes"]))


@torch.no_grad()
@pytest.mark.parametrize("name", ["t", "r"])
def test_draws_nvidias_images(name: str) -> None:
    tensors, drawn, _ = reference(name)
    g = Generator3(CONFIGS[name]).eval()
    own = g.state_dict()
    filters = [k for k in own if k.endswith("_filter")]
    assert filters and all(torch.allclose(own[k], tensors[k], atol=1e-7) for k in filters)  # designed alike
    assert set(own) == set(tensors) - {"mapping.w_avg"}
    g.load_state_dict({k: v for k, v in tensors.items() if k != "mapping.w_avg"})
    w = g.mapping(torch.from_numpy(drawn["z"]))
    np.testing.assert_allclose(w, drawn["w"], atol=1e-6)
    images = g.synthesis(w[:, None].expand(-1, g.n_latent, -1))
    assert images.shape == (3, 3, 16, 16) and g.n_latent == 16
    np.testing.assert_allclose(images, drawn["images"], atol=1e-5)
    plus = g.synthesis(torch.from_numpy(drawn["ws_plus"]))
    np.testing.assert_allclose(plus, drawn["plus_images"], atol=1e-5)
    if name == "t":  # the clamp is part of what was matched
        assert np.abs(drawn["images"] - drawn["unclamped"]).max() > 0.3


@pytest.mark.parametrize("name", ["t", "r"])
def test_the_layer_schedule_is_nvidias(name: str) -> None:
    _, _, attributes = reference(name)
    source, plans = schedule(CONFIGS[name])
    stored = attributes["synthesis.input"]["attributes"]
    assert (source["channels"], source["size"]) == (stored["channels"], stored["size"]["ndarray"][0])
    assert (source["rate"], source["bandwidth"]) == (stored["sampling_rate"], stored["bandwidth"])
    g = Generator3(CONFIGS[name])
    assert g.synthesis.layer_names == attributes["synthesis"]["attributes"]["layer_names"]
    for plan in plans:
        theirs = attributes[f"synthesis.{plan.name}"]["attributes"]
        layer = getattr(g.synthesis, plan.name)
        sizes = theirs["in_size"]["ndarray"][0], theirs["out_size"]["ndarray"][0]
        assert (plan.in_size, plan.out_size) == sizes
        assert (plan.in_rate, plan.out_rate, plan.torgb, plan.critical) == (
            theirs["in_sampling_rate"], theirs["out_sampling_rate"], theirs["is_torgb"],
            theirs["is_critically_sampled"])
        np.testing.assert_allclose([plan.in_cutoff, plan.out_cutoff, plan.in_half_width, plan.out_half_width],
                                   [theirs["in_cutoff"], theirs["out_cutoff"], theirs["in_half_width"],
                                    theirs["out_half_width"]], rtol=1e-12)
        assert (layer.up, layer.down, list(layer.padding)) == (
            theirs["up_factor"], theirs["down_factor"], theirs["padding"])


def test_resampling_by_hand() -> None:
    x = torch.zeros(1, 2, 3, 3)
    x[0, :, 1, 1] = 1.0  # an impulse: the output is the filter itself
    f = torch.tensor([1.0, 2.0, 4.0])
    out = upsample(x, f, up=2, padding=(2, 2, 2, 2), gain=4, channels=2)
    assert out.shape == (1, 2, 8, 8)
    # zero-inserted, padded and convolved (not correlated): the filter lands unflipped
    expected = torch.zeros(8, 8)
    expected[2:5, 2:5] = f[:, None] * f[None] * 4
    np.testing.assert_allclose(out[0, 1], expected, atol=1e-6)
    # less padding before (negative: a crop) shifts the output back by as many pixels
    shifted = upsample(x, f, up=2, padding=(1, 3, -1, 5), gain=4, channels=2)
    assert shifted.shape == (1, 2, 8, 8)
    canvas = torch.nn.functional.pad(expected, (0, 4, 0, 4))
    np.testing.assert_allclose(shifted[0, 1], canvas[3:11, 1:9], atol=1e-6)
    y = torch.arange(64.0).reshape(1, 1, 8, 8)
    two_d = torch.tensor([[0.0, 1.0], [0.0, 0.0]])  # a 2-D filter: a one-pixel shift
    np.testing.assert_allclose(downsample(y, two_d, 1, 1), y[:, :, 1:, :-1])
    box = downsample(y, torch.tensor([0.5, 0.5]), 2, 1)  # 2x2 means of every second pair
    np.testing.assert_allclose(box, torch.nn.functional.avg_pool2d(y, 2))


def test_radial_filters_are_round_and_sum_to_one() -> None:
    f = lowpass(12, cutoff=4.0, width=6.0, rate=32, radial=True)
    assert f.shape == (12, 12) and float(f.sum()) == pytest.approx(1.0)
    np.testing.assert_allclose(f, f.T, atol=1e-7)
    np.testing.assert_allclose(f, f.flip([0, 1]), atol=1e-7)
    assert lowpass(1, 4.0, 6.0, 32) is None
    separable = lowpass(12, cutoff=4.0, width=6.0, rate=32)
    assert separable.shape == (12,) and float(separable.sum()) == pytest.approx(1.0)


def test_the_model_interface_and_bad_settings() -> None:
    tensors, drawn, _ = reference("t")
    model = StyleGAN3(StyleGAN3Config(**{**vars(CONFIGS["t"]), "space": "z"}), 3, 8).eval()
    model.generator.load_state_dict({k: v for k, v in tensors.items() if k != "mapping.w_avg"})
    with torch.no_grad():
        images = model.decode(torch.from_numpy(drawn["z"]))
    full = (torch.from_numpy(drawn["images"]) + 1) / 2
    np.testing.assert_allclose(images, torch.nn.functional.avg_pool2d(full, 2), atol=1e-5)  # averaged down
    assert model.code_dims == (16, 16 * 16) and model.family == "stylegan3"
    for change, match in (({"conv_kernel": 2}, "conv_kernel"), ({"resolution": 24}, "power of two"),
                          ({"num_critical": 14}, "num_critical"), ({"space": "s"}, "space")):
        with pytest.raises(UserError, match=match):
            StyleGAN3Config(**change).validate()
    with pytest.raises(UserError, match="native resolution"):
        StyleGAN3(CONFIGS["t"], 3, 5)


@torch.no_grad()
def test_moving_and_turning_the_input_signal() -> None:
    torch.manual_seed(0)
    source = FourierInput(8, 16, 36, 16.0, 2.0)  # 16 samples per image side, 10 of margin
    w = torch.randn(2, 8)
    base = source(w)
    source.transform.copy_(input_transform((2 / 16, 0)))  # two samples right
    np.testing.assert_allclose(source(w)[..., 2:], base[..., :-2], atol=1e-5)
    source.transform.copy_(input_transform((0, 1 / 16)))  # one sample down
    np.testing.assert_allclose(source(w)[..., 1:, :], base[..., :-1, :], atol=1e-5)
    source.transform.copy_(input_transform(angle=90))  # a quarter turn counter-clockwise
    np.testing.assert_allclose(source(w), torch.rot90(base, 1, (2, 3)), atol=1e-5)
    tensors, drawn, _ = reference("r")
    model = StyleGAN3(StyleGAN3Config(**{**vars(CONFIGS["r"]), "space": "z"}), 3, 16).eval()
    model.generator.load_state_dict({k: v for k, v in tensors.items() if k != "mapping.w_avg"})
    z = torch.from_numpy(drawn["z"])
    still = model.decode(z)
    with model.moved((0.25, 0), 30):
        turned = model.decode(z)
    assert (turned - still).abs().max() > 0.01
    np.testing.assert_array_equal(model.generator.synthesis.input.transform, torch.eye(3))  # restored
    np.testing.assert_array_equal(model.decode(z), still)
