"""A pretrained StyleGAN3 generator (Karras et al. 2021, "alias-free"), for study, not training.

NVIDIA publishes StyleGAN3 generators (FFHQ, FFHQ-U, MetFaces, AFHQv2; configs T and R) as
network pickles; :func:`latentplay.train.pretrained.import_generator` reads them without
running their code and makes them runs of family ``stylegan3``, which every latent command
treats as it treats an imported StyleGAN2 (codes in whitened W or in Z, W+, style mixing,
SeFa directions, truncation; see :mod:`latentplay.models.stylegan2`).

The synthesis network, in plain PyTorch with the tensor names of NVIDIA's
``networks_stylegan3.py`` (so the pickle's tensors load unrenamed):

- ``input``: Fourier features of a 2-D grid — fixed random frequencies within the first
  cutoff, rotated and translated per image by an affine map of the first ``w`` — mixed by a
  learned matrix;
- ``num_layers`` synthesis layers ``L{i}_{size}_{channels}``: a modulated convolution
  (demodulated, the input scaled by the inverse square root of the training's mean input
  magnitude ``magnitude_ema``), then the *filtered leaky ReLU*: add the bias, upsample by
  ``up`` with a windowed-sinc low-pass filter, leaky ReLU, clamp, low-pass filter and
  downsample by ``down``. Each layer's cutoff, stopband, sampling rate and size follow the
  paper's geometric schedule from the first layer's cutoff to the image's Nyquist frequency;
  the last ``num_critical`` layers are critically sampled;
- a 1x1 modulated convolution to RGB (not demodulated, no activation), and the image scaled
  by ``output_scale``.

Config T uses 3x3 convolutions and separable Kaiser filters; config R 1x1 convolutions and
radially symmetric (jinc) downsampling filters in the layers that are not critically sampled.
The mapping network is StyleGAN2's (two layers in every published StyleGAN3).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.checkpoint import checkpoint

from latentplay.errors import UserError
from latentplay.models.stylegan2 import (
    EqualLinear,
    PixelNorm,
    StyleAffine,
    StyleGAN2,
    check_import_settings,
    clamp,
    style_count,
)


@dataclass
class StyleGAN3Config:
    """Attributes (NVIDIA's names in brackets; defaults are theirs, config T at 1024 px):
        resolution: image side (``img_resolution``).
        style_dim: size of z and w (512).
        n_mlp: mapping layers (2).
        channel_base: channels of a layer are ``channel_base / 2 / cutoff`` (32768; R: 65536).
        channel_max: at most this many channels (512; R: 1024).
        conv_kernel: 3 (T) or 1 (R).
        radial: radially symmetric downsampling filters (R).
        num_layers: synthesis layers besides the input and RGB layer (14).
        num_critical: critically sampled layers at the end (2).
        first_cutoff, first_stopband, last_stopband_rel: the filters' schedule (``2``,
            ``2 ** 2.1``, ``2 ** 0.3``).
        margin_size: pixels computed around the image in the layers before the last two (10).
        output_scale: the RGB layer's output times this (0.25).
        filter_size: filter taps per unit of the lower sampling rate (6).
        lrelu_upsampling: the activation runs at this times the layer's rate (2).
        lr_mlp: the mapping network's learning-rate multiplier (0.01).
        conv_clamp: activations clamped to [-c, c] (256; 0 none).
        space, truncation, truncation_cutoff: as in
            :class:`~latentplay.models.stylegan2.StyleGAN2Config`.
    """

    resolution: int = 1024
    style_dim: int = 512
    n_mlp: int = 2
    channel_base: int = 32768
    channel_max: int = 512
    conv_kernel: int = 3
    radial: bool = False
    num_layers: int = 14
    num_critical: int = 2
    first_cutoff: float = 2.0
    first_stopband: float = 2 ** 2.1
    last_stopband_rel: float = 2 ** 0.3
    margin_size: int = 10
    output_scale: float = 0.25
    filter_size: int = 6
    lrelu_upsampling: int = 2
    lr_mlp: float = 0.01
    conv_clamp: float = 256.0
    space: str = "w"
    truncation: float = 1.0
    truncation_cutoff: int = 0

    def validate(self) -> None:
        check_import_settings(self.resolution, 16, self.conv_clamp, self.space, self.truncation,
                              self.truncation_cutoff)
        if min(self.style_dim, self.n_mlp, self.channel_base, self.channel_max, self.filter_size,
               self.lrelu_upsampling) < 1 or self.lr_mlp <= 0:
            raise UserError("model.style_dim, n_mlp, channel_base, channel_max, filter_size, "
                            "lrelu_upsampling and lr_mlp must be positive")
        if self.conv_kernel not in (1, 3):
            raise UserError(f"model.conv_kernel must be 1 or 3, got {self.conv_kernel}")
        if not 0 <= self.num_critical < self.num_layers:
            raise UserError(f"model.num_critical must be in [0, num_layers), got {self.num_critical}")


@dataclass
class LayerPlan:
    """One synthesis layer's signal geometry (frequencies in cycles per image side's unit).

    Attributes:
        index: the layer's place, from 0.
        in_channels, out_channels: feature maps in and out.
        in_size, out_size: sides of the input and output feature maps (margins included).
        in_rate, out_rate: sampling rates.
        in_cutoff, out_cutoff: low-pass cutoffs.
        in_half_width, out_half_width: half widths of the filters' transition bands.
        torgb: the RGB layer (1x1, no activation, no resampling).
        critical: critically sampled (no radial filter).
    """

    index: int
    in_channels: int
    out_channels: int
    in_size: int
    out_size: int
    in_rate: int
    out_rate: int
    in_cutoff: float
    out_cutoff: float
    in_half_width: float
    out_half_width: float
    torgb: bool = False
    critical: bool = False

    @property
    def name(self) -> str:
        """NVIDIA's name of the layer, ``L{index}_{out_size}_{out_channels}``."""
        return f"L{self.index}_{self.out_size}_{self.out_channels}"


def schedule(config: StyleGAN3Config) -> tuple[dict[str, float], list[LayerPlan]]:
    """The Fourier input's ``channels``, ``size``, ``rate`` and ``bandwidth``, and the
    ``num_layers + 1`` layers' plans (the last the RGB layer): the paper's geometric
    progression of cutoffs and minimum stopbands from the first layer to the image's Nyquist
    frequency, sampling rates the next power of two above twice the stopband (at most the
    resolution), channels inversely proportional to the cutoff."""
    n, res = config.num_layers, config.resolution
    last_cutoff = res / 2
    exponents = np.minimum(np.arange(n + 1) / (n - config.num_critical), 1)
    cutoffs = config.first_cutoff * (last_cutoff / config.first_cutoff) ** exponents
    last_stopband = last_cutoff * config.last_stopband_rel
    stopbands = config.first_stopband * (last_stopband / config.first_stopband) ** exponents
    rates = np.exp2(np.ceil(np.log2(np.minimum(stopbands * 2, res))))
    half_widths = np.maximum(stopbands, rates / 2) - cutoffs
    sizes = rates + config.margin_size * 2
    sizes[-2:] = res
    channels = np.rint(np.minimum(config.channel_base / 2 / cutoffs, config.channel_max))
    channels[-1] = 3
    plans = []
    for i in range(n + 1):
        p = max(i - 1, 0)
        plans.append(LayerPlan(i, int(channels[p]), int(channels[i]), int(sizes[p]), int(sizes[i]),
                               int(rates[p]), int(rates[i]), float(cutoffs[p]), float(cutoffs[i]),
                               float(half_widths[p]), float(half_widths[i]), torgb=i == n,
                               critical=i >= n - config.num_critical))
    source = {"channels": int(channels[0]), "size": int(sizes[0]), "rate": float(rates[0]),
              "bandwidth": float(cutoffs[0])}
    return source, plans


def lowpass(taps: int, cutoff: float, width: float, rate: float, radial: bool = False) -> torch.Tensor | None:
    """A low-pass FIR filter: ``None`` for one tap (identity); else ``(taps,)`` Kaiser-windowed
    sinc (applied along rows and columns), or with ``radial`` a ``(taps, taps)`` Kaiser-windowed
    jinc normalized to sum 1."""
    import scipy.signal  # here: importing it takes a second, paid by every model-loading command
    import scipy.special

    if taps == 1:
        return None
    if not radial:
        return torch.as_tensor(scipy.signal.firwin(numtaps=taps, cutoff=cutoff, width=width, fs=rate),
                               dtype=torch.float32)
    x = (np.arange(taps) - (taps - 1) / 2) / rate  # taps are even: r is never 0
    r = np.hypot(*np.meshgrid(x, x))
    f = scipy.special.j1(2 * cutoff * (np.pi * r)) / (np.pi * r)
    beta = scipy.signal.kaiser_beta(scipy.signal.kaiser_atten(taps, width / (rate / 2)))
    window = np.kaiser(taps, beta)
    f *= np.outer(window, window)
    return torch.as_tensor(f / f.sum(), dtype=torch.float32)


def upsample(x: torch.Tensor, f: torch.Tensor, up: int, padding: tuple[int, int, int, int],
             gain: float, channels: int) -> torch.Tensor:
    """Upsample ``x`` ``(B, C, H, W)`` by inserting ``up - 1`` zeros after every pixel, pad
    (negative: crop) by ``padding`` = (left, right, top, bottom) and convolve every channel
    with the separable filter ``f`` ``(k,)`` times ``gain``:
    ``(B, C, H * up + top + bottom - k + 1, W * up + left + right - k + 1)``.

    Computed as two transposed convolutions of stride ``up`` (no zeros multiplied; on a CPU
    twice as fast), then the padding as a shift of their full output. ``channels``: ``C``
    (a constant filter shape for ONNX export)."""
    k = f.shape[0]
    f = f.to(x.dtype) * math.sqrt(gain)
    left, right, top, bottom = padding
    height = x.shape[2] * up + top + bottom - k + 1
    width = x.shape[3] * up + left + right - k + 1
    row = f[None, None, None].expand(channels, 1, 1, -1)  # (C, 1, 1, k); its transpose a column
    y = F.conv_transpose2d(x, row, stride=(1, up), groups=channels)
    y = F.conv_transpose2d(y, row.transpose(2, 3), stride=(up, 1), groups=channels)
    # output pixel i is pixel i + k - 1 - pad of the full convolution (zeros beyond it)
    dx, dy = k - 1 - left, k - 1 - top
    return F.pad(y, [-dx, dx + width - y.shape[3], -dy, dy + height - y.shape[2]])


def downsample(x: torch.Tensor, f: torch.Tensor, down: int, channels: int) -> torch.Tensor:
    """Convolve every channel of ``x`` ``(B, C, H, W)`` with ``f`` (``(k,)``: separably along
    rows and columns; ``(k, k)``) and keep every ``down``-th pixel of the valid part:
    ``(B, C, (H - k) // down + 1, (W - k) // down + 1)``. ``channels``: ``C``."""
    f = f.flip(list(range(f.ndim))).to(x.dtype)
    if f.ndim == 2:
        return F.conv2d(x, f[None, None].expand(channels, 1, -1, -1), stride=down, groups=channels)
    row = f[None, None, None].expand(channels, 1, 1, -1)
    x = F.conv2d(x, row, stride=(1, down), groups=channels)
    return F.conv2d(x, row.transpose(2, 3), stride=(down, 1), groups=channels)


class FourierInput(nn.Module):
    """The synthesis network's start: ``channels`` Fourier features on a ``size`` x ``size``
    grid, rotated and translated by an affine map of ``w``."""

    def __init__(self, style_dim: int, channels: int, size: int, rate: float, bandwidth: float) -> None:
        super().__init__()
        self.size, self.rate, self.bandwidth = size, rate, bandwidth
        freqs = torch.randn(channels, 2)
        radii = freqs.square().sum(1, keepdim=True).sqrt()
        self.register_buffer("freqs", freqs / (radii * radii.square().exp().pow(0.25)) * bandwidth)
        self.register_buffer("phases", torch.rand(channels) - 0.5)
        self.register_buffer("transform", torch.eye(3))
        self.weight = nn.Parameter(torch.randn(channels, channels))
        self.affine = EqualLinear(style_dim, 4)
        with torch.no_grad():  # the identity transform until weights are loaded
            self.affine.weight.zero_()
            self.affine.bias.copy_(torch.tensor([1.0, 0, 0, 0]))
        # the sampling grid (the same for every image; not in NVIDIA's tensors): pixel centres
        # of a size x size image spanning size / rate units, (1, S, S, 2) as (x, y)
        theta = torch.tensor([[[0.5 * size / rate, 0, 0], [0, 0.5 * size / rate, 0]]])
        self.register_buffer("grid", F.affine_grid(theta, [1, 1, size, size], align_corners=False),
                             persistent=False)

    def forward(self, w: torch.Tensor) -> torch.Tensor:
        """``w`` ``(B, D)`` -> features ``(B, channels, size, size)``."""
        t = self.affine(w)  # (cos, sin, tx, ty) of the inverse rotation and translation
        c, s, tx, ty = (t / t[:, :2].norm(dim=1, keepdim=True)).unbind(1)
        zero, one = torch.zeros_like(c), torch.ones_like(c)
        # rotate, then translate (both inverse, with respect to the image), then the stored transform
        rows = [[c, -s, s * ty - c * tx], [s, c, -s * tx - c * ty], [zero, zero, one]]
        moved = torch.stack([torch.stack(row, 1) for row in rows], 1) @ self.transform  # (B, 3, 3)
        phases = self.phases[None] + (self.freqs[None] @ moved[:, :2, 2:]).squeeze(2)  # (B, C)
        freqs = self.freqs[None] @ moved[:, :2, :2]  # (B, C, 2)
        amplitudes = (1 - (freqs.norm(dim=2) - self.bandwidth)
                      / (self.rate / 2 - self.bandwidth)).clamp(0, 1)  # out-of-band ones dampened
        x = (self.grid.unsqueeze(3) @ freqs.permute(0, 2, 1)[:, None, None]).squeeze(3)  # (B, S, S, C)
        x = torch.sin((x + phases[:, None, None]) * (2 * math.pi)) * amplitudes[:, None, None]
        x = x @ (self.weight / math.sqrt(self.weight.shape[0])).t()
        return x.permute(0, 3, 1, 2)


class SynthesisLayer(nn.Module):
    """A modulated convolution and the filtered leaky ReLU (see the module doc)."""

    def __init__(self, plan: LayerPlan, config: StyleGAN3Config) -> None:
        super().__init__()
        self.torgb = plan.torgb
        self.kernel = 1 if plan.torgb else config.conv_kernel
        self.conv_clamp = config.conv_clamp
        self.affine = EqualLinear(config.style_dim, plan.in_channels, bias_init=1.0)
        self.weight = nn.Parameter(torch.randn(plan.out_channels, plan.in_channels, self.kernel, self.kernel))
        self.bias = nn.Parameter(torch.zeros(plan.out_channels))
        self.register_buffer("magnitude_ema", torch.ones([]))
        rate = max(plan.in_rate, plan.out_rate) * (1 if plan.torgb else config.lrelu_upsampling)
        self.up, self.down = rate // plan.in_rate, rate // plan.out_rate
        up_taps = config.filter_size * self.up if self.up > 1 and not plan.torgb else 1
        down_taps = config.filter_size * self.down if self.down > 1 and not plan.torgb else 1
        self.register_buffer("up_filter", lowpass(up_taps, plan.in_cutoff, plan.in_half_width * 2, rate))
        self.register_buffer("down_filter", lowpass(down_taps, plan.out_cutoff, plan.out_half_width * 2, rate,
                                                    radial=config.radial and not plan.critical))
        # pad so that the output has out_size samples, centred (the paper's appendix C.3)
        total = ((plan.out_size - 1) * self.down + 1 - (plan.in_size + self.kernel - 1) * self.up
                 + up_taps + down_taps - 2)
        low = (total + self.up) // 2
        self.padding = (low, total - low, low, total - low)

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        """``x`` ``(B, I, in_size, in_size)``, ``w`` ``(B, D)`` -> ``(B, O, out_size, out_size)``."""
        styles = self.affine(w)  # (B, I)
        weight = self.weight
        if self.torgb:
            styles = styles / math.sqrt(weight.shape[1] * self.kernel ** 2)
        else:  # filters and styles pre-normalized (their scale cancels in the demodulation)
            weight = weight * weight.square().mean([1, 2, 3], keepdim=True).rsqrt()
            styles = styles * styles.square().mean(1, keepdim=True).rsqrt()
        # modulation as scaled activations through one shared convolution (as in StyleGAN2's port)
        out = F.conv2d(x * (styles * self.magnitude_ema.rsqrt())[:, :, None, None], weight,
                       padding=self.kernel - 1)
        if not self.torgb:  # each sample's output filters scaled to unit norm
            norms = (weight.square().sum([2, 3])[None] * styles[:, None].square()).sum(2)  # (B, O)
            out = out * torch.rsqrt(norms + 1e-8)[:, :, None, None]
        out = out + self.bias[None, :, None, None]
        if self.torgb:  # no resampling, no activation
            return clamp(out, self.conv_clamp)
        channels = self.weight.shape[0]
        out = upsample(out, self.up_filter, self.up, self.padding, self.up ** 2, channels)
        out = clamp(F.leaky_relu(out, 0.2) * math.sqrt(2), self.conv_clamp)
        return downsample(out, self.down_filter, self.down, channels)


class Mapping(nn.Module):
    """StyleGAN2's mapping network with NVIDIA's names (``fc0``, ``fc1``, ...)."""

    def __init__(self, config: StyleGAN3Config) -> None:
        super().__init__()
        self.norm = PixelNorm()
        self.n_mlp = config.n_mlp
        for i in range(config.n_mlp):
            setattr(self, f"fc{i}", EqualLinear(config.style_dim, config.style_dim, lr_mul=config.lr_mlp,
                                                activate=True))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """``z`` ``(B, D)`` -> ``w`` ``(B, D)``."""
        x = self.norm(z)
        for i in range(self.n_mlp):
            x = getattr(self, f"fc{i}")(x)
        return x


class Synthesis(nn.Module):
    """The Fourier input, the synthesis layers and the RGB layer."""

    def __init__(self, config: StyleGAN3Config) -> None:
        super().__init__()
        source, plans = schedule(config)
        self.input = FourierInput(config.style_dim, source["channels"], source["size"], source["rate"],
                                  source["bandwidth"])
        self.layer_names = [p.name for p in plans]
        for plan in plans:
            setattr(self, plan.name, SynthesisLayer(plan, config))
        self.output_scale = config.output_scale

    def forward(self, ws: torch.Tensor) -> torch.Tensor:
        """``ws`` ``(B, num_layers + 2, D)`` -> images ``(B, 3, R, R)`` in about [-1, 1].

        With gradients (inversion), each layer's intermediate images are recomputed in the
        backward pass instead of kept (gradient checkpointing): a 256-px code's gradient
        then needs a layer's worth of memory, not all fifteen layers' (8.1 GB in config T)."""
        x = self.input(ws[:, 0])
        for i, name in enumerate(self.layer_names):
            layer = getattr(self, name)
            if x.requires_grad:  # under gradients (a code being optimised)
                x = checkpoint(layer, x, ws[:, i + 1], use_reentrant=False)
            else:
                x = layer(x, ws[:, i + 1])
        return x * self.output_scale


class Generator3(nn.Module):
    """StyleGAN3's mapping and synthesis networks with NVIDIA's tensor names; the interface
    of :class:`latentplay.models.stylegan2.Generator` (``mapping``, ``synthesis``,
    ``n_latent``, ``style_affines``)."""

    def __init__(self, config: StyleGAN3Config) -> None:
        super().__init__()
        self.mapping = Mapping(config)
        self.synthesis = Synthesis(config)
        self.n_latent = config.num_layers + 2

    def style_affines(self) -> list[StyleAffine]:
        """The layers' affine maps from ``w`` to styles (``w`` i + 1 styles layer ``L{i}``;
        the input's transform, read from the first ``w``, is not a style)."""
        names = self.synthesis.layer_names
        return [StyleAffine(name, getattr(self.synthesis, name).affine, i + 1, i == len(names) - 1)
                for i, name in enumerate(names)]


def style_codes(family: str, config: dict) -> int:
    """How many ``w`` the synthesis network of an imported generator takes, from its family
    and the ``model`` entry of its ``model.json``: a StyleGAN2's two per resolution from 4 px
    (less one), a StyleGAN3's one per layer plus the input's and the RGB layer's."""
    if family == "stylegan3":
        return int(config["num_layers"]) + 2
    return style_count(int(config["resolution"]))


def input_transform(translate: tuple[float, float] = (0.0, 0.0), angle: float = 0.0) -> torch.Tensor:
    """The ``(3, 3)`` value of the Fourier input's ``transform`` buffer that moves the drawn
    content by ``translate`` (x right, y down; 1 = the image's side) and rotates it by ``angle``
    degrees counter-clockwise: the inverse of the transform NVIDIA's ``gen_images.py
    --translate --rotate`` builds."""
    c, s = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    forward = torch.tensor([[c, s, translate[0]], [-s, c, translate[1]], [0.0, 0.0, 1.0]],
                           dtype=torch.float64)
    return torch.linalg.inv(forward).float()


def motion(model: nn.Module, translate: tuple[float, float] = (0.0, 0.0), angle: float = 0.0,
           asked: bool | None = None) -> AbstractContextManager[None]:
    """A context in which ``model``'s decodings are moved and turned
    (:meth:`StyleGAN3.moved`); none when no motion is ``asked`` (default: when the motion is
    zero), a :class:`UserError` for motion asked of any model but a StyleGAN3."""
    if not (asked if asked is not None else tuple(translate) != (0, 0) or angle != 0):
        return nullcontext()
    if not can_move(model):
        raise UserError("only a StyleGAN3's content can be moved and turned (a StyleGAN3's input "
                        f"signal is continuous); this run is a {getattr(model, 'family', '?')}")
    return model.moved((float(translate[0]), float(translate[1])), float(angle))


def can_move(model: nn.Module | None) -> bool:
    """Whether ``model`` draws from a continuous input signal that can be moved and turned
    (an imported StyleGAN3)."""
    return getattr(model, "family", "") == "stylegan3"


class StyleGAN3(StyleGAN2):
    """A pretrained StyleGAN3 behind latentplay's model interface: everything as
    :class:`~latentplay.models.stylegan2.StyleGAN2` (``decode``, ``decode_layers``, ``layer_ws``, ``to_w``,
    ``from_w``, the W statistics ``w_mean`` and ``w_basis``), with StyleGAN3's networks."""

    family: ClassVar[str] = "stylegan3"
    network: ClassVar[type[nn.Module]] = Generator3
    # half StyleGAN2's: a 1024-px decoding of config R peaks at 9.1 GB on a CPU, four 256-px
    # decodings of config T at 4.4 GB (one code's gradient: 2.5 GB in T, 4.2 GB in R)
    max_batch_at_1024: ClassVar[int] = 1

    @contextmanager
    def moved(self, translate: tuple[float, float] = (0.0, 0.0), angle: float = 0.0) -> Iterator[None]:
        """While open, every decoding draws its content moved by ``translate`` and rotated by
        ``angle`` degrees (:func:`input_transform`; StyleGAN3's input is a continuous signal,
        so sub-pixel moves and any angle are drawn, not resampled)."""
        buffer = self.generator.synthesis.input.transform
        kept = buffer.clone()
        buffer.copy_(input_transform(translate, angle).to(buffer.device) @ kept)
        try:
            yield
        finally:
            buffer.copy_(kept)
