"""The StyleGAN2 generator: numerically the PyTorch port's, piece by piece and as a whole.

``reference/stylegan2.npz`` holds images the PyTorch port (rosinality/stylegan2-pytorch,
its model.py with its pure-PyTorch ``upfirdn2d_native`` and CPU ``fused_leaky_relu``) drew
from generators whose tensors were filled by :func:`_fill` below; the tests fill latentplay's
generator the same way and must draw the same images.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from latentplay.errors import UserError
from latentplay.models import stylegan2
from latentplay.models.stylegan2 import Generator, StyleGAN2, StyleGAN2Config

REFERENCE = Path(__file__).parent / "reference" / "stylegan2.npz"
CONFIGS = {"A": StyleGAN2Config(resolution=32, style_dim=64, n_mlp=2, channel_multiplier=2),
           "B": StyleGAN2Config(resolution=64, style_dim=64, n_mlp=3, channel_multiplier=1)}


def _fill(generator: Generator) -> None:
    """Every tensor but the blur kernels: the ``i``-th name in sorted order gets
    ``0.5 * randn`` seeded ``1000 + i`` (noise strengths times 0.3, modulation biases plus 1,
    mapping weights and biases times 100 so that the mapping matters despite its 0.01
    learning-rate multiplier)."""
    state = generator.state_dict()
    for i, name in enumerate(sorted(state)):
        if name.endswith("kernel"):
            continue
        draw = torch.randn(tuple(state[name].shape), generator=torch.Generator().manual_seed(1000 + i)) * 0.5
        if name.startswith("style."):
            draw = draw * 100
        elif name.endswith("noise.weight"):
            draw = draw * 0.3
        elif name.endswith("modulation.bias"):
            draw = draw + 1
        state[name].copy_(draw)


@torch.no_grad()
@pytest.mark.parametrize("name", ["A", "B"])
def test_draws_the_reference_images(name: str) -> None:
    ref = np.load(REFERENCE)
    g = Generator(CONFIGS[name]).eval()
    _fill(g)
    w = g.mapping(torch.from_numpy(ref[f"{name}_z"]))
    assert w.std() > 0.1  # the mapping is exercised, not a constant
    images = g.synthesis(w[:, None].expand(-1, g.n_latent, -1))
    np.testing.assert_allclose(images.numpy(), ref[f"{name}_img_z"], atol=1e-4, rtol=1e-4)
    assert images.shape == (3, 3, CONFIGS[name].resolution, CONFIGS[name].resolution)
    if name == "A":  # the truncation trick towards the reference's mean w, psi 0.7
        mean = torch.from_numpy(ref["A_w_mean"])
        truncated = g.synthesis((mean + 0.7 * (w - mean))[:, None].expand(-1, g.n_latent, -1))
        np.testing.assert_allclose(truncated.numpy(), ref["A_img_trunc"], atol=1e-4, rtol=1e-4)
        assert np.abs(ref["A_img_trunc"] - ref["A_img_z"]).max() > 0.05


def test_config_f_has_the_published_parameter_count() -> None:
    with torch.device("meta"):
        g = Generator(StyleGAN2Config())  # FFHQ 1024, config F
    assert sum(p.numel() for p in g.parameters()) == 30_370_060
    assert g.n_latent == 18 and g.num_layers == 17
    channels = [stylegan2.channels_at(2 ** r, 2) for r in range(2, 11)]  # 4 .. 1024 px
    assert channels == [512, 512, 512, 512, 512, 256, 128, 64, 32]


def _upfirdn_loops(x: np.ndarray, k: np.ndarray, up: int, pad: tuple[int, int]) -> np.ndarray:
    """The definition, one output pixel at a time: zero-stuffed, padded, convolved."""
    n, c, h, w = x.shape
    big = np.zeros((n, c, h * up, w * up))
    big[:, :, ::up, ::up] = x
    big = np.pad(big, ((0, 0), (0, 0), pad, pad))
    kh = k.shape[0]
    out = np.zeros((n, c, big.shape[2] - kh + 1, big.shape[3] - kh + 1))
    for i in range(out.shape[2]):
        for j in range(out.shape[3]):
            # convolution: the kernel flipped against the window
            out[:, :, i, j] = (big[:, :, i:i + kh, j:j + kh] * k[::-1, ::-1]).sum((2, 3))
    return out


@pytest.mark.parametrize(("up", "pad"), [(1, (1, 1)), (2, (2, 1)), (2, (0, 0))])
def test_upfirdn2d_is_its_definition(up: int, pad: tuple[int, int]) -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 5, 5)).astype(np.float32)
    k = rng.standard_normal((4, 4)).astype(np.float32)  # not symmetric: the flip matters
    got = stylegan2.upfirdn2d(torch.from_numpy(x), torch.from_numpy(k), up, pad).numpy()
    np.testing.assert_allclose(got, _upfirdn_loops(x, k, up, pad), atol=1e-5)


@torch.no_grad()
@pytest.mark.parametrize("upsample", [False, True])
def test_modulated_conv_is_one_convolution_per_sample(upsample: bool) -> None:
    torch.manual_seed(0)
    conv = stylegan2.ModulatedConv2d(6, 5, 3, style_dim=4, upsample=upsample)
    x, w = torch.randn(3, 6, 8, 8), torch.randn(3, 4)
    out = conv(x, w)
    assert out.shape == (3, 5, 16 if upsample else 8, 16 if upsample else 8)
    for b in range(3):
        weight = conv.scale * conv.weight[0] * conv.modulation(w[b:b + 1]).view(1, 6, 1, 1)
        norms = weight.square().sum([1, 2, 3]).sqrt()
        weight = weight / norms.view(5, 1, 1, 1)  # demodulated: each filter of unit norm
        if upsample:
            one = conv.blur(F.conv_transpose2d(x[b:b + 1], weight.transpose(0, 1), stride=2))
        else:
            one = F.conv2d(x[b:b + 1], weight, padding=1)
        torch.testing.assert_close(out[b:b + 1], one, atol=1e-5, rtol=1e-4)


@torch.no_grad()
def test_decode_in_w_z_truncated_and_downsampled() -> None:
    config = StyleGAN2Config(resolution=16, style_dim=8, n_mlp=2, channel_max=8)
    model = StyleGAN2(config, 3, 16).eval()
    codes = torch.randn(4, 8)
    model.w_mean.normal_()
    model.w_basis.copy_(torch.randn(8, 8))
    w = model.w_mean + codes @ model.w_basis
    expected = (model.generator.synthesis(w[:, None].expand(-1, 6, -1)) + 1) / 2
    torch.testing.assert_close(model.decode(codes), expected)
    model.config.space = "z"
    w_z = model.generator.mapping(codes)
    torch.testing.assert_close(model.decode(codes), (model.generator.synthesis(
        w_z[:, None].expand(-1, 6, -1)) + 1) / 2)
    model.config.truncation = 0.0  # every code becomes the mean w: one image
    images = model.decode(codes)
    assert (images - images[:1]).abs().max() < 1e-6
    half = StyleGAN2(config, 3, 8)
    half.load_state_dict(model.state_dict())
    half.config.space = "z"
    torch.testing.assert_close(half.decode(codes), F.avg_pool2d(model.decode(codes) * 2 - 1, 2) / 2 + 0.5)


@torch.no_grad()
def test_truncation_cutoff_truncates_the_first_layers_w_only() -> None:
    config = StyleGAN2Config(resolution=16, style_dim=8, n_mlp=2, channel_max=8, truncation=0.5,
                             truncation_cutoff=2)
    model = StyleGAN2(config, 3, 16).eval()
    model.w_mean.normal_()
    model.w_basis.copy_(torch.randn(8, 8))
    codes, per_layer = torch.randn(3, 8), torch.randn(3, 6, 8)
    for given in (codes, per_layer):  # NVIDIA's ws[:, :cutoff] = w_avg.lerp(ws[:, :cutoff], psi)
        raw = model.w_mean + given @ model.w_basis
        ws = (raw[:, None] if given.dim() == 2 else raw).expand(-1, 6, -1).clone()
        ws[:, :2] = model.w_mean + 0.5 * (ws[:, :2] - model.w_mean)
        torch.testing.assert_close(model.layer_ws(given), ws)
        decoded = model.decode(given) if given.dim() == 2 else model.decode_layers(given)
        torch.testing.assert_close(decoded, (model.generator.synthesis(ws) + 1) / 2)
    model.config.truncation = 0.0  # the coarse layers all at the mean: faces differ in the fine ones
    coarse = model.layer_ws(codes)
    assert (coarse[:, :2] - model.w_mean).abs().max() == 0 and (coarse[:, 2:] - model.w_mean).abs().min() > 0
    model.config.truncation_cutoff = 6  # every layer, as no cutoff
    torch.testing.assert_close(model.layer_ws(codes), model.w_mean.expand(3, 6, -1))
    with pytest.raises(UserError, match="truncation_cutoff"):
        StyleGAN2Config(truncation_cutoff=-1).validate()


def test_bad_settings_are_refused() -> None:
    with pytest.raises(UserError, match="power of two"):
        StyleGAN2Config(resolution=48).validate()
    with pytest.raises(UserError, match="space"):
        StyleGAN2Config(space="w+").validate()
    with pytest.raises(UserError, match="truncation"):
        StyleGAN2Config(truncation=1.5).validate()
    with pytest.raises(UserError, match="divide"):
        StyleGAN2(StyleGAN2Config(resolution=16, style_dim=8, channel_max=8), 3, 12)
    with pytest.raises(UserError, match="no encoder"):
        tiny = StyleGAN2(StyleGAN2Config(resolution=8, style_dim=8, channel_max=8), 3, 8)
        tiny.encode(torch.zeros(1, 3, 8, 8))


@torch.no_grad()
@pytest.mark.parametrize("draws", [5, 15])
def test_a_basis_from_too_few_draws_is_refused_not_inverted(draws: int) -> None:
    from latentplay.train.pretrained import w_statistics

    torch.manual_seed(0)
    model = StyleGAN2(StyleGAN2Config(resolution=8, style_dim=16, n_mlp=2, channel_max=8), 3, 8)
    mean, basis = w_statistics(model, draws, seed=0)  # 5 or 15 draws span 4 or 14 of W's 16 dimensions
    model.w_mean.copy_(mean)
    model.w_basis.copy_(basis)
    with pytest.raises(UserError, match=f"singular \\(rank {draws - 1} of 16\\).*--w-samples"):
        model.from_w(torch.randn(2, 16))
    model.w_basis.copy_(w_statistics(model, 200, seed=0)[1])  # enough draws: codes round-trip
    codes = torch.randn(3, 16)
    torch.testing.assert_close(model.from_w(model.to_w(codes)), codes, atol=1e-4, rtol=1e-4)
