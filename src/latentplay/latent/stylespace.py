"""StyleSpace: the channel-wise styles of a StyleGAN2 or StyleGAN3, and the channels that carry
an attribute (Wu, Lischinski & Shechtman 2021, "StyleSpace Analysis").

Every styled layer scales its input channels by an affine map of its ``w``; the concatenated
outputs of those maps, one number per channel and layer (9,088 in a 1024-px config-F StyleGAN2,
RGB layers included), are StyleSpace, where single channels control single, localized
attributes. Wu et al. find the channels of an attribute from a few positive examples: each
channel's styles are standardized by the population's mean and standard deviation, and a
channel scores ``|mean| / std`` of the positives' standardized values — high when the
positives agree on an unusual value (RGB layers left out). Moving one channel by ``alpha``
population standard deviations then edits that attribute.

Here the population is the labelled rows of a store's code column (a generator's inverted
codes: the faces studied, not prior draws), so a channel's score says how consistently a
demographic group's faces sit away from the rest in that channel.

>>> from latentplay.latent.stylespace import attribute_channels, channel_traversal
>>> ranking = attribute_channels(model, codes, positive)   # codes (N, D), positive (N,) bool
>>> images = channel_traversal(model, codes[:1], ranking, ranking.order[0], [-10, 0, 10])
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import scipy.stats
import torch

from latentplay.errors import UserError
from latentplay.models.stylegan2 import StyleAffine, is_style_generator
from latentplay.reprs import short_repr
from latentplay.train.api import PathLike, as_model, decode


@dataclass
class StyleRanking:
    """StyleSpace channels ranked for an attribute (``C`` channels in all).

    Attributes:
        layers: name of each channel's layer ``(C,)``.
        channels: each channel's index within its layer ``(C,)``.
        rgb: whether each channel styles an RGB layer ``(C,)`` (not ranked).
        mean, std: ``(C,)`` the population's style mean and standard deviation per channel.
        score: ``(C,)`` ``|mean| / std`` of the positives' standardized styles, or for
            :func:`correlated_channels` ``|rho|`` (NaN for RGB channels and constant ones).
        shift: ``(C,)`` the positives' mean standardized style (its sign: which way they lie);
            for :func:`correlated_channels` the signed rank correlation.
        order: ``(C',)`` ranked channel indices, highest score first (RGB channels left out).
        chance: the 95th percentile of the top score of random groups of the positives' size
            drawn from all the faces used (or of shuffled values): scores below it are what
            chance reaches.
    """

    __repr__ = short_repr

    layers: list[str]
    channels: np.ndarray
    rgb: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    score: np.ndarray
    shift: np.ndarray
    order: np.ndarray
    chance: float

    def label(self, index: int) -> str:
        """``layer:channel`` of flat channel ``index``."""
        return f"{self.layers[index]}:{int(self.channels[index])}"


def affines(model: torch.nn.Module) -> list[StyleAffine]:
    """The style affine maps of an imported StyleGAN2 or StyleGAN3; a :class:`UserError` for
    any other model."""
    if not is_style_generator(model):
        raise UserError("StyleSpace belongs to an imported StyleGAN2 or StyleGAN3; this run is a "
                        f"{getattr(model, 'family', '?')}")
    return model.generator.style_affines()


@torch.no_grad()
def styles(model: torch.nn.Module | PathLike, codes: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """StyleSpace coordinates ``(N, C)`` float32 of codes ``(N, D)`` (one for every layer) or
    ``(N, n_layers * D)`` (W+): each layer's affine map of its ``w`` (the truncated ``w`` the
    model decodes), concatenated in synthesis order."""
    model = as_model(model)
    layers, d = affines(model), int(model.latent_dim)
    codes = np.asarray(codes, np.float32)
    if codes.ndim != 2 or codes.shape[1] not in (d, model.n_layers * d):
        raise UserError(f"codes of shape {codes.shape}: this generator takes {d} (W) or "
                        f"{model.n_layers * d} (W+) values per face")
    device = next(model.parameters()).device
    out = []
    for s in range(0, len(codes), batch_size):
        part = torch.from_numpy(codes[s:s + batch_size]).to(device)
        ws = model.layer_ws(part if part.shape[1] == d else part.reshape(len(part), -1, d))
        out.append(torch.cat([layer.affine(ws[:, layer.w_index]) for layer in layers], 1).cpu())
    width = sum(int(layer.affine.weight.shape[0]) for layer in layers)
    return torch.cat(out).numpy() if out else np.zeros((0, width), np.float32)


def attribute_channels(model: torch.nn.Module | PathLike, codes: np.ndarray, positive: np.ndarray,
                       population: np.ndarray | None = None, groups: int = 100,
                       seed: int = 0) -> StyleRanking:
    """Rank StyleSpace channels by how consistently the ``positive`` faces differ from the
    population (Wu et al.'s score, see the module doc).

    Args:
        model: an imported StyleGAN2 or StyleGAN3 (or its run directory).
        codes: ``(N, D)`` or W+ ``(N, n_layers * D)`` codes of the faces.
        positive: ``(N,)`` bool, the faces with the attribute (at least 2).
        population: ``(N,)`` bool, the faces whose style statistics standardize (default all).
        groups: random groups drawn for the chance level; seed: their seed.
    """
    model = as_model(model)
    positive = np.asarray(positive, bool)
    population = np.ones(len(positive), bool) if population is None else np.asarray(population, bool)
    if len(positive) != len(codes) or len(population) != len(codes):
        raise UserError(f"{len(codes)} codes but {len(positive)} positive and {len(population)} "
                        "population flags")
    if positive.sum() < 2 or population.sum() < 2:
        raise UserError(f"need at least 2 positive faces and 2 of the population, got "
                        f"{int(positive.sum())} and {int(population.sum())}")
    s = styles(model, codes).astype(np.float64)
    mean, std = s[population].mean(0), s[population].std(0)
    standardized = (s - mean) / np.where(std > 0, std, np.nan)
    layers, channels, rgb_arr = _layout(model)
    shift, score = _scores(standardized[positive], rgb_arr)
    used = np.flatnonzero(positive | population)
    draws = np.random.default_rng(seed)
    tops = [np.nanmax(_scores(standardized[draws.choice(used, int(positive.sum()), replace=False)],
                              rgb_arr)[1], initial=0.0) for _ in range(groups)]
    ranked = np.flatnonzero(np.isfinite(score))
    order = ranked[np.argsort(-score[ranked], kind="stable")]
    return StyleRanking(layers, channels, rgb_arr, mean.astype(np.float32),
                        std.astype(np.float32), score.astype(np.float32), shift.astype(np.float32), order,
                        float(np.percentile(tops, 95)) if tops else float("nan"))


def _scores(group: np.ndarray, rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A group's mean standardized style ``(C,)`` and Wu et al.'s score ``|mean| / std``
    ``(C,)`` (NaN for RGB channels and constant ones) from its standardized styles ``(n, C)``."""
    with np.errstate(invalid="ignore", divide="ignore"):
        shift = group.mean(0)
        score = np.abs(shift) / group.std(0)
    score[rgb] = np.nan
    return shift, score


def correlated_channels(model: torch.nn.Module | PathLike, codes: np.ndarray, values: np.ndarray,
                        groups: int = 100, seed: int = 0) -> StyleRanking:
    """Rank StyleSpace channels by how monotonically their styles follow an ordered attribute:
    ``|rho|``, Spearman's rank correlation of each channel with ``values`` ``(N,)`` (skin-tone
    places, ages). ``shift`` holds the signed rho (positive: the channel grows with the
    attribute), ``chance`` the 95th percentile of the top ``|rho|`` when the values are
    shuffled ``groups`` times; ``mean`` and ``std`` are the faces' style statistics."""
    model = as_model(model)
    values = np.asarray(values, np.float64)
    if len(values) != len(codes):
        raise UserError(f"{len(codes)} codes but {len(values)} values")
    if len(values) < 3 or np.ptp(values) == 0:
        raise UserError("need at least 3 faces whose values differ")
    s = styles(model, codes).astype(np.float64)
    ranked = _standardized(scipy.stats.rankdata(s, axis=0))
    order_values = _standardized(scipy.stats.rankdata(values))
    with np.errstate(invalid="ignore"):
        rho = order_values @ ranked / len(values)  # (C,): NaN for constant channels
    layers, channels, rgb = _layout(model)
    rho[rgb] = np.nan
    draws = np.random.default_rng(seed)
    tops = [np.nanmax(np.abs(draws.permutation(order_values) @ ranked / len(values))[~rgb], initial=0.0)
            for _ in range(groups)]
    score = np.abs(rho)
    kept = np.flatnonzero(np.isfinite(score))
    return StyleRanking(layers, channels, rgb, s.mean(0).astype(np.float32), s.std(0).astype(np.float32),
                        score.astype(np.float32), rho.astype(np.float32),
                        kept[np.argsort(-score[kept], kind="stable")],
                        float(np.percentile(tops, 95)) if tops else float("nan"))


def _standardized(x: np.ndarray) -> np.ndarray:
    """Columns (or a vector) centred and scaled to unit SD (constant ones become NaN)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return (x - x.mean(0)) / x.std(0)


def _layout(model: torch.nn.Module) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Per StyleSpace channel its layer's name, its index in the layer and whether the layer
    is an RGB layer."""
    layers, channels, rgb = [], [], []
    for layer in affines(model):
        size = int(layer.affine.weight.shape[0])
        layers += [layer.name] * size
        channels.append(np.arange(size))
        rgb += [layer.rgb] * size
    return layers, np.concatenate(channels), np.array(rgb)


@contextmanager
def channel_offset(model: torch.nn.Module, ranking: StyleRanking, index: int,
                   amount: float) -> Iterator[None]:
    """While open, every decoding of ``model`` adds ``amount`` to StyleSpace channel
    ``index``."""
    layer = next(a for a in affines(model) if a.name == ranking.layers[index])
    channel = int(ranking.channels[index])

    def shifted(_module: torch.nn.Module, _inputs: tuple, output: torch.Tensor) -> torch.Tensor:
        output = output.clone()
        output[:, channel] += amount
        return output

    handle = layer.affine.register_forward_hook(shifted)
    try:
        yield
    finally:
        handle.remove()


def channel_traversal(model: torch.nn.Module | PathLike, codes: np.ndarray, ranking: StyleRanking, index: int,
                      alphas: Sequence[float] | np.ndarray, device: str = "cpu") -> np.ndarray:
    """``(N, V, S, S, 3)`` uint8 images of the faces ``codes`` ``(N, D or n_layers * D)`` with
    StyleSpace channel ``index`` moved by each of ``alphas`` ``(V,)`` population standard
    deviations (Wu et al.'s single-channel edit)."""
    model = as_model(model, device)
    codes = np.asarray(codes, np.float32)
    out = []
    for alpha in alphas:
        with channel_offset(model, ranking, index, float(alpha) * float(ranking.std[index])):
            out.append(decode(model, codes, device=device))
    return np.stack(out, 1)
