"""A pretrained StyleGAN2 generator (Karras et al. 2020, config F), for study, not training.

"Matching in GAN-space" projects photos into StyleGAN2's latent space, edits them there and
matches faces across an attribute in it. latentplay runs such a generator from a local
checkpoint (:func:`latentplay.train.pretrained.import_generator`) as a model of family
``stylegan2``, so every latent command — sample, invert, edit, interpolate, traverse — and the
``invert:RUN`` embedder work on it as on a trained run.

The networks are written in plain PyTorch (no compiled operators) with the tensor names of the
widely used PyTorch port's ``g_ema`` state dict, so such checkpoints load as they are (NVIDIA's
network pickles are renamed to them by :mod:`latentplay.train.network_pickle`):

- mapping ``style``: pixel norm, then ``n_mlp`` equalized-learning-rate linear layers (learning
  rate multiplier 0.01) with a bias-and-leaky-ReLU activation scaled by sqrt(2);
- synthesis: a learned 4x4 constant, per resolution a modulated 3x3 convolution that doubles
  the size (transposed convolution, then a [1, 3, 3, 1] blur), a second modulated 3x3
  convolution, each followed by scaled noise and the activation, and a modulated 1x1 ``to_rgb``
  whose output is added to the upsampled sum of the earlier ones (skip architecture). Weights
  are demodulated (each output filter scaled to unit norm) except in ``to_rgb``. Generators
  trained by NVIDIA's PyTorch repositories also clamp every layer's output (``conv_clamp``). The noise
  images are the checkpoint's fixed ``noises.noise_<i>`` buffers, so decoding is deterministic.

Codes: with ``space="w"`` (the default) a code ``c`` ``(D,)`` is a whitened point of the
intermediate space W: ``w = w_mean + c @ w_basis``, where ``w_mean`` and ``w_basis`` (rows: the
principal axes of W scaled by their standard deviations, largest first) come from mapped prior
draws at import; ``w_mean`` is the W average NVIDIA's training keeps (a network pickle's
``w_avg``, where its truncation centres) when the file holds one, else the draws' mean.
``c ~ N(0, I)`` is then the Gaussian fitted to W (an approximation of W's
distribution; its first coordinates are GANSpace's principal directions), inversion optimises
``w`` (the usual space for projecting photos), and linear directions in ``c`` are linear in W.
With ``space="z"`` codes are the mapping network's inputs: exact prior samples, but inversion is
harder. ``truncation`` < 1 pulls every ``w`` towards ``w_mean`` (the truncation trick), or
only the first ``truncation_cutoff`` layers' ``w``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from latentplay.errors import UserError

SPACES = ("w", "z")
BLUR = (1.0, 3.0, 3.0, 1.0)
STYLE_FAMILIES = ("stylegan2", "stylegan3")
"""Families of imported style-based generators (one ``w`` per layer, mapping network)."""


@dataclass
class StyleGAN2Config:
    """Attributes:
        resolution: the generator's native image side (a power of two, 8..1024).
        style_dim: size of z and w (512 in config F).
        n_mlp: layers of the mapping network (8).
        channel_multiplier: 2 in config F (channels 512 up to 32 px, then 256*m at 64 px, ...).
        channel_max: a cap on those channels (0: none, as in config F; small generators).
        lr_mlp: the mapping network's learning-rate multiplier (0.01).
        conv_clamp: activations of every styled and RGB layer clamped to [-c, c] (0: none,
            as in the port; 256 in generators trained by NVIDIA's PyTorch repositories).
        space: ``w`` (whitened W) or ``z`` (the mapping network's input); see the module doc.
        truncation: psi of the truncation trick (1 = none).
        truncation_cutoff: truncate only the ``w`` of the first this many synthesis layers
            (NVIDIA's ``truncation_cutoff``: the coarse layers, e.g. 8 of 18 at 1024 px, as
            StyleGAN's figures did; 0 = every layer).
    """

    resolution: int = 1024
    style_dim: int = 512
    n_mlp: int = 8
    channel_multiplier: int = 2
    channel_max: int = 0
    lr_mlp: float = 0.01
    conv_clamp: float = 0.0
    space: str = "w"
    truncation: float = 1.0
    truncation_cutoff: int = 0

    def validate(self) -> None:
        check_import_settings(self.resolution, 8, self.conv_clamp, self.space, self.truncation,
                              self.truncation_cutoff)
        if self.style_dim < 1 or self.n_mlp < 1 or self.channel_multiplier < 1 or self.lr_mlp <= 0:
            raise UserError("model.style_dim, n_mlp, channel_multiplier and lr_mlp must be positive")
        if self.channel_max < 0:
            raise UserError(f"model.channel_max must be 0 (no cap) or positive, got {self.channel_max}")


def check_import_settings(resolution: int, smallest: int, conv_clamp: float, space: str,
                          truncation: float, truncation_cutoff: int = 0) -> None:
    """A :class:`UserError` for an imported generator's resolution (a power of two from
    ``smallest`` to 1024), clamp, code space, truncation or its cutoff out of range."""
    log = math.log2(resolution) if resolution > 0 else 0
    if log != int(log) or not math.log2(smallest) <= log <= 10:
        raise UserError(f"model.resolution must be a power of two from {smallest} to 1024, got {resolution}")
    if conv_clamp < 0:
        raise UserError(f"model.conv_clamp must be 0 (none) or positive, got {conv_clamp}")
    if space not in SPACES:
        raise UserError(f"model.space must be one of {SPACES}, got {space!r}")
    if not 0 <= truncation <= 1:
        raise UserError(f"model.truncation must be in [0, 1], got {truncation}")
    if truncation_cutoff < 0:
        raise UserError(f"model.truncation_cutoff must be 0 (every layer) or positive, "
                        f"got {truncation_cutoff}")


@dataclass
class StyleAffine:
    """One affine map from ``w`` to a layer's styles (StyleSpace's channels).

    Attributes:
        name: the layer's name.
        affine: the linear map ``(B, D) -> (B, channels)``.
        w_index: which of the synthesis network's ``w`` (W+ layer) it reads.
        rgb: whether it styles an RGB layer.
    """

    name: str
    affine: nn.Module
    w_index: int
    rgb: bool


def style_weights(generator: nn.Module) -> list[torch.Tensor | None]:
    """Per ``w`` of a StyleGAN2 or StyleGAN3 synthesis network the modulation weights
    ``(channels, D)`` of the convolution it styles; ``None`` where it styles none (a
    StyleGAN2's last ``w``, which only the last RGB layer reads; a StyleGAN3's first, the
    input's transform, and last, the RGB layer)."""
    weights: list[torch.Tensor | None] = [None] * generator.n_latent
    for layer in generator.style_affines():
        if not layer.rgb:
            weights[layer.w_index] = layer.affine.weight
    return weights


def code_steps(basis: torch.Tensor, moves: torch.Tensor) -> torch.Tensor:
    """Float64 changes ``c`` ``(B, D)`` of whitened codes that move ``w`` by ``moves`` ``(B, D)``
    (``c @ basis = moves``, ``basis`` a run's ``(D, D)`` ``w_basis``); a :class:`UserError` when
    the basis is singular: an import that mapped no more prior draws than W has dimensions
    (``--w-samples``) gives codes that reach only part of W. Singular values below ``1e-6`` of
    the largest count as zero (the float32 basis keeps rounding noise of about ``1e-8`` where
    the draws had no variance)."""
    basis = basis.double()
    rank = int(torch.linalg.matrix_rank(basis, rtol=1e-6))
    if rank < len(basis):
        raise UserError(f"this run's W basis is singular (rank {rank} of {len(basis)}): its import "
                        "mapped too few prior draws, so its codes reach only part of W; import the "
                        "generator again with more --w-samples")
    return torch.linalg.solve(basis.T, moves.double().T).T


def is_style_generator(model: nn.Module | None) -> bool:
    """Whether ``model`` is an imported StyleGAN2 or StyleGAN3."""
    return getattr(model, "family", "") in STYLE_FAMILIES


def in_w(model: nn.Module | None) -> bool:
    """Whether ``model`` is an imported StyleGAN2 or StyleGAN3 whose codes are whitened
    points of W (its code coordinates are W's principal axes; SeFa directions and truncation
    act on them)."""
    return is_style_generator(model) and model.config.space == "w"


def style_count(resolution: int) -> int:
    """How many ``w`` the synthesis network at ``resolution`` takes: two per resolution from
    4 px (the 4-px convolution and RGB layer, then each upsampling, convolution and RGB
    layer sharing one), ``2 log2(R) - 2``."""
    return 2 * int(math.log2(resolution)) - 2


def channels_at(resolution: int, multiplier: int, cap: int = 0) -> int:
    """Feature maps of the synthesis network at ``resolution``: config F's schedule, at most
    ``cap`` (0: no cap)."""
    channels = 512 if resolution <= 32 else 16384 * multiplier // resolution
    return min(channels, cap) if cap else channels


def blur_kernel(gain: float = 1.0) -> torch.Tensor:
    """``(4, 4)`` separable [1, 3, 3, 1] kernel normalized to sum ``gain``."""
    k = torch.tensor(BLUR)
    k = k[:, None] * k[None, :]
    return k / k.sum() * gain


def upfirdn2d(x: torch.Tensor, kernel: torch.Tensor, up: int = 1,
              pad: tuple[int, int] = (0, 0), channels: int | None = None) -> torch.Tensor:
    """Upsample ``x`` ``(B, C, H, W)`` by inserting ``up - 1`` zeros after every pixel, pad
    each side by ``pad`` (before, after) and convolve every channel with ``kernel`` ``(k, k)``:
    ``(B, C, H * up + sum(pad) - k + 1, ...)``. ``channels``: ``C`` when known in advance (a
    constant filter shape for ONNX export)."""
    b, h, w = x.shape[0], x.shape[2], x.shape[3]
    c = channels or x.shape[1]
    if up > 1:
        x = F.pad(x.reshape(b, c, h, 1, w, 1), [0, up - 1, 0, 0, 0, up - 1]).reshape(b, c, h * up, w * up)
    x = F.pad(x, [pad[0], pad[1], pad[0], pad[1]])
    # one filter per channel (a grouped convolution: on a CPU 4-20x faster than the same
    # filter over a batch of B * C one-channel images)
    weight = kernel.flip([0, 1]).to(x.dtype)[None, None].expand(c, 1, -1, -1)
    return F.conv2d(x, weight, groups=c)


def leaky_bias(x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """Add ``bias`` per channel (dim 1), leaky ReLU (slope 0.2), times sqrt(2)."""
    shape = (1, -1) + (1,) * (x.ndim - 2)
    return F.leaky_relu(x + bias.view(shape), 0.2) * math.sqrt(2)


class PixelNorm(nn.Module):
    """Each row ``(B, D)`` divided by its root mean square."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt(x.square().mean(1, keepdim=True) + 1e-8)


class EqualLinear(nn.Module):
    """Linear layer with runtime weight scale ``lr_mul / sqrt(in_dim)`` (equalized learning
    rate); ``activate`` adds the bias inside :func:`leaky_bias`."""

    def __init__(self, in_dim: int, out_dim: int, bias_init: float = 0.0, lr_mul: float = 1.0,
                 activate: bool = False) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_dim, in_dim) / lr_mul)
        self.bias = nn.Parameter(torch.full((out_dim,), float(bias_init)))
        self.scale, self.lr_mul, self.activate = lr_mul / math.sqrt(in_dim), lr_mul, activate

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.activate:
            return leaky_bias(F.linear(x, self.weight * self.scale), self.bias * self.lr_mul)
        return F.linear(x, self.weight * self.scale, self.bias * self.lr_mul)


class ModulatedConv2d(nn.Module):
    """Convolution whose input channels are scaled per sample by an affine map of ``w``
    (modulation) and, with ``demodulate``, whose output filters are rescaled to unit norm;
    ``upsample`` doubles the size (transposed convolution with stride 2, then a blur)."""

    def __init__(self, in_ch: int, out_ch: int, kernel: int, style_dim: int, demodulate: bool = True,
                 upsample: bool = False) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(1, out_ch, in_ch, kernel, kernel))
        self.modulation = EqualLinear(style_dim, in_ch, bias_init=1.0)
        self.scale = 1 / math.sqrt(in_ch * kernel * kernel)
        self.demodulate, self.upsample, self.kernel = demodulate, upsample, kernel
        if upsample:
            self.blur = Blur(gain=4.0, pad=(1, 1), channels=out_ch)

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        """``x`` ``(B, I, H, W)``, ``w`` ``(B, style_dim)`` -> ``(B, O, H', W')``.

        Computed as scaled activations through one shared convolution (the same numbers as
        per-sample modulated weights, with no batch-sized groups: any batch, and ONNX)."""
        style = self.modulation(w)  # (B, I)
        weight = self.scale * self.weight[0]  # (O, I, k, k)
        x = x * style[:, :, None, None]
        if self.upsample:
            out = self.blur(F.conv_transpose2d(x, weight.transpose(0, 1), stride=2))
        else:
            out = F.conv2d(x, weight, padding=self.kernel // 2)
        if self.demodulate:  # each sample's output filters scaled to unit norm
            norms = (weight.square().sum([2, 3])[None] * style[:, None].square()).sum(2)  # (B, O)
            out = out * torch.rsqrt(norms + 1e-8)[:, :, None, None]
        return out


class Blur(nn.Module):
    """:func:`upfirdn2d` of ``channels`` feature maps with the [1, 3, 3, 1] kernel (a buffer,
    as in the checkpoints)."""

    def __init__(self, gain: float, pad: tuple[int, int], channels: int, up: int = 1) -> None:
        super().__init__()
        self.register_buffer("kernel", blur_kernel(gain))
        self.pad, self.up, self.channels = pad, up, channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return upfirdn2d(x, self.kernel, self.up, self.pad, self.channels)


class NoiseInjection(nn.Module):
    """Adds ``weight * noise`` (one learned scalar)."""

    def __init__(self) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(1))

    def forward(self, x: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        return x + self.weight * noise


class FusedActivation(nn.Module):
    """:func:`leaky_bias` with a learned bias per channel."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return leaky_bias(x, self.bias)


def clamp(x: torch.Tensor, limit: float) -> torch.Tensor:
    """``x`` clamped to ``[-limit, limit]`` (unchanged when ``limit`` is 0)."""
    return x.clamp(-limit, limit) if limit else x


class StyledConv(nn.Module):
    """Modulated 3x3 convolution, noise, activation, optional clamp."""

    def __init__(self, in_ch: int, out_ch: int, style_dim: int, upsample: bool = False,
                 conv_clamp: float = 0.0) -> None:
        super().__init__()
        self.conv = ModulatedConv2d(in_ch, out_ch, 3, style_dim, upsample=upsample)
        self.noise = NoiseInjection()
        self.activate = FusedActivation(out_ch)
        self.conv_clamp = conv_clamp

    def forward(self, x: torch.Tensor, w: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        return clamp(self.activate(self.noise(self.conv(x, w), noise)), self.conv_clamp)


class ToRGB(nn.Module):
    """Modulated 1x1 convolution to RGB (not demodulated), optional clamp, plus the
    upsampled skip."""

    def __init__(self, in_ch: int, style_dim: int, upsample: bool = True, conv_clamp: float = 0.0) -> None:
        super().__init__()
        if upsample:
            self.upsample = Blur(gain=4.0, pad=(2, 1), channels=3, up=2)
        self.conv = ModulatedConv2d(in_ch, 3, 1, style_dim, demodulate=False)
        self.bias = nn.Parameter(torch.zeros(1, 3, 1, 1))
        self.conv_clamp = conv_clamp

    def forward(self, x: torch.Tensor, w: torch.Tensor, skip: torch.Tensor | None = None) -> torch.Tensor:
        out = clamp(self.conv(x, w) + self.bias, self.conv_clamp)
        return out if skip is None else out + self.upsample(skip)


class ConstantInput(nn.Module):
    """The learned ``(1, C, 4, 4)`` start of the synthesis network."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.input = nn.Parameter(torch.randn(1, channels, 4, 4))


class Generator(nn.Module):
    """StyleGAN2's mapping and synthesis networks with the checkpoints' tensor names."""

    def __init__(self, config: StyleGAN2Config) -> None:
        super().__init__()
        d = config.style_dim
        m, cap, limit = config.channel_multiplier, config.channel_max, config.conv_clamp
        self.log_size = int(math.log2(config.resolution))
        self.num_layers = (self.log_size - 2) * 2 + 1
        self.n_latent = style_count(config.resolution)
        self.style = nn.Sequential(PixelNorm(), *[
            EqualLinear(d, d, lr_mul=config.lr_mlp, activate=True) for _ in range(config.n_mlp)])
        self.input = ConstantInput(channels_at(4, m, cap))
        self.conv1 = StyledConv(channels_at(4, m, cap), channels_at(4, m, cap), d, conv_clamp=limit)
        self.to_rgb1 = ToRGB(channels_at(4, m, cap), d, upsample=False, conv_clamp=limit)
        self.convs, self.to_rgbs, self.noises = nn.ModuleList(), nn.ModuleList(), nn.Module()
        for layer in range(self.num_layers):
            side = 2 ** ((layer + 5) // 2)
            self.noises.register_buffer(f"noise_{layer}", torch.randn(1, 1, side, side))
        in_ch = channels_at(4, m, cap)
        for res in range(3, self.log_size + 1):
            out_ch = channels_at(2 ** res, m, cap)
            self.convs.append(StyledConv(in_ch, out_ch, d, upsample=True, conv_clamp=limit))
            self.convs.append(StyledConv(out_ch, out_ch, d, conv_clamp=limit))
            self.to_rgbs.append(ToRGB(out_ch, d, conv_clamp=limit))
            in_ch = out_ch

    def mapping(self, z: torch.Tensor) -> torch.Tensor:
        """``z`` ``(B, style_dim)`` -> ``w`` ``(B, style_dim)``."""
        return self.style(z)

    def style_affines(self) -> list[StyleAffine]:
        """The affine maps from ``w`` to styles, in synthesis order, named as NVIDIA's layers
        (``b4.conv1``, ``b4.torgb``, ``b8.conv0``, ...): ``w`` k styles the k-th convolution,
        and each RGB layer shares the ``w`` of the convolution after it."""
        found = [StyleAffine("b4.conv1", self.conv1.conv.modulation, 0, False),
                 StyleAffine("b4.torgb", self.to_rgb1.conv.modulation, 1, True)]
        for j, to_rgb in enumerate(self.to_rgbs):
            res = 2 ** (j + 3)
            found += [StyleAffine(f"b{res}.conv0", self.convs[2 * j].conv.modulation, 2 * j + 1, False),
                      StyleAffine(f"b{res}.conv1", self.convs[2 * j + 1].conv.modulation, 2 * j + 2, False),
                      StyleAffine(f"b{res}.torgb", to_rgb.conv.modulation, 2 * j + 3, True)]
        return found

    def synthesis(self, ws: torch.Tensor) -> torch.Tensor:
        """``ws`` ``(B, n_latent, style_dim)`` (one ``w`` per layer) -> images ``(B, 3, R, R)``
        in about [-1, 1]."""
        noise = [getattr(self.noises, f"noise_{i}") for i in range(self.num_layers)]
        x = self.input.input.expand(ws.shape[0], -1, -1, -1)
        x = self.conv1(x, ws[:, 0], noise[0])
        skip = self.to_rgb1(x, ws[:, 1])
        for j, to_rgb in enumerate(self.to_rgbs):
            x = self.convs[2 * j](x, ws[:, 2 * j + 1], noise[2 * j + 1])
            x = self.convs[2 * j + 1](x, ws[:, 2 * j + 2], noise[2 * j + 2])
            skip = to_rgb(x, ws[:, 2 * j + 3], skip)
        return skip


class StyleGAN2(nn.Module):
    """A pretrained generator behind latentplay's model interface: ``decode(c)`` -> images
    ``(B, 3, size, size)`` in [0, 1] (downsampled by area averaging when ``size`` is below the
    native resolution). Buffers ``w_mean`` ``(D,)`` (the centre of the codes and of truncation)
    and ``w_basis`` ``(D, D)`` hold the W statistics of the import."""

    family: ClassVar[str] = "stylegan2"
    variational: ClassVar[bool] = False
    has_encoder: ClassVar[bool] = False
    network: ClassVar[type[nn.Module]] = Generator
    max_batch_at_1024: ClassVar[int] = 2

    def __init__(self, config: StyleGAN2Config, channels: int, size: int, cond_dim: int = 0) -> None:
        super().__init__()
        config.validate()
        if channels != 3 or cond_dim:
            raise UserError(f"a {self.family} generator draws unconditional RGB images")
        factor = config.resolution // size if size >= 1 else 0
        if not factor or config.resolution % size or factor & (factor - 1):  # 1, 2, 4, ... only
            raise UserError(f"size must be the native resolution {config.resolution} divided by a "
                            f"power of two, got {size}")
        self.config, self.channels, self.size, self.cond_dim = config, channels, size, 0
        self.latent_dim = config.style_dim
        # codes decoded at once (StyleGAN2: 2 at 1024 px, 8 at 256 px): the last layers'
        # activations grow with the resolution (channels x pixels = 16384 m R; on a CPU 8
        # decodings at 256 px peak at 5 GB, 4 with gradients at 5.7 GB), so train.decode and
        # inversion split larger batches
        self.max_batch = max(1, self.max_batch_at_1024 * 1024 // config.resolution)
        self.generator = self.network(config)
        self.register_buffer("w_mean", torch.zeros(config.style_dim))
        self.register_buffer("w_basis", torch.eye(config.style_dim))

    def encode(self, x: torch.Tensor, cond: torch.Tensor | None = None) -> tuple[torch.Tensor, None]:
        raise UserError(f"a {self.family} generator has no encoder; project images with latent invert")

    def to_w(self, codes: torch.Tensor) -> torch.Tensor:
        """Codes ``(B, D)`` in the model's space -> ``w`` ``(B, D)`` (mapped or unwhitened;
        not truncated: :meth:`layer_ws` truncates)."""
        if self.config.space == "z":
            return self.generator.mapping(codes)
        return self.w_mean + codes @ self.w_basis

    def layer_ws(self, codes: torch.Tensor) -> torch.Tensor:
        """The ``w`` each synthesis layer reads, ``(B, n_layers, D)``, of codes ``(B, D)`` (one
        for every layer) or ``(B, n_layers, D)`` (one per layer), truncated as NVIDIA's mapping
        network truncates: ``w_mean + psi (w - w_mean)`` in the first ``truncation_cutoff``
        layers (every layer when 0)."""
        if codes.dim() == 2:  # one w per face, mapped once
            ws = self.to_w(codes)[:, None].expand(-1, self.n_layers, -1)
        else:
            b, layers, d = codes.shape
            ws = self.to_w(codes.reshape(b * layers, d)).view(b, layers, d)
        psi, cutoff = self.config.truncation, self.config.truncation_cutoff or ws.shape[1]
        if psi == 1:
            return ws
        return torch.cat([self.w_mean + psi * (ws[:, :cutoff] - self.w_mean), ws[:, cutoff:]], 1)

    @property
    def n_layers(self) -> int:
        """How many ``w`` the synthesis network takes (one per styled layer and RGB layer)."""
        return self.generator.n_latent

    @property
    def code_dims(self) -> tuple[int, int]:
        """Sizes of the codes :meth:`decode` takes: one code ``D`` for every layer, or one per
        layer flattened, ``n_layers * D`` (W+)."""
        return self.latent_dim, self.n_layers * self.latent_dim

    def from_w(self, w: torch.Tensor) -> torch.Tensor:
        """Whitened codes ``(B, D)`` of raw ``w`` vectors ``(B, D)`` (the inverse of
        :meth:`to_w`: ``(w - w_mean) @ inverse(w_basis)``)."""
        if self.config.space != "w":
            raise UserError("raw w vectors have codes only in a run imported with --space w")
        return code_steps(self.w_basis, w.double() - self.w_mean.double()).to(w.dtype)

    def decode(self, z: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        """Images ``(B, 3, size, size)`` in about [0, 1] for codes ``z`` ``(B, D)``, or per
        layer codes ``(B, n_layers * D)`` (W+, layer-major)."""
        if z.shape[1] == self.latent_dim:  # one w per face, at every layer
            return self._draw(self.layer_ws(z))
        return self.decode_layers(z.reshape(len(z), self.n_layers, self.latent_dim))

    def decode_layers(self, codes: torch.Tensor) -> torch.Tensor:
        """Images ``(B, 3, size, size)`` in about [0, 1] for one code per layer, ``(B,
        n_layers, D)`` (style mixing: coarse layers from one code, fine ones from another)."""
        return self._draw(self.layer_ws(codes))

    def _draw(self, ws: torch.Tensor) -> torch.Tensor:
        """Images in about [0, 1] of ``ws`` ``(B, n_layers, D)``, averaged down to ``size``."""
        images = self.generator.synthesis(ws)
        if self.size != self.config.resolution:
            images = F.avg_pool2d(images, self.config.resolution // self.size)
        return (images + 1) / 2
