"""The Sample and Traverse tabs: prior samples, traversals and latent sliders, as images.

Every function takes a :class:`~latentplay.app.state.Playground` with a run and returns
uint8 images ``(..., S, S, C)``; ``condition`` is ``{attribute: value}`` for a conditional
model and ignored (may be empty) otherwise.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from latentplay.app.state import Playground
from latentplay.errors import UserError
from latentplay.models.condition import ConditionPart
from latentplay.models.stylegan2 import in_w
from latentplay.models.stylegan3 import can_move as movable
from latentplay.models.stylegan3 import motion
from latentplay.outputs import share_text
from latentplay.train.api import framed_draws

MAX_SLIDERS = 10
"""Most latent sliders (the dimensions of largest encoder-mean variance)."""

ACTIVE_VARIANCE = 0.01
"""A dimension is active when the variance of its encoder means exceeds this (Burda et al.)."""


def slider_span(part: ConditionPart) -> tuple[float, float]:
    """Slider limits of a continuous condition: its training range widened by its width on
    each side (``[-1, 1]`` -> ``[-3, 3]``), so values outside training can be tried; a range
    of one value ``v`` (a measure constant over the rows trained on) gives ``[v - 1, v + 1]``,
    not a slider that cannot move."""
    lo, hi = part.range or (-1.0, 1.0)
    width = (hi - lo) or 1.0
    return lo - width, hi + width


def draw_words(pg: Playground) -> dict[str, str]:
    """The Sample tab's words for the run's draws (``intro``, and the ``temperature`` slider's
    info): prior draws for a model with a prior; for a plain autoencoder, which has none, draws
    around its encoded codes (:attr:`Playground.frame`)."""
    if pg.family == "ae":
        return {"intro": "A plain autoencoder has no prior: decodings of draws around its encoded "
                         "images (latents.npy), mean + temperature × SD × z per dimension with "
                         "z ~ N(0, I).",
                "temperature": "draws pulled towards the codes' mean (1: the codes' own SD)"}
    return {"intro": "Decodings of prior draws z ~ N(0, I).",
            "temperature": "draws pulled towards the centre (1: the prior)"}


def sample(pg: Playground, count: int, seed: int, condition: Mapping[str, Any],
           temperature: float = 1.0, translate: tuple[float, float] = (0.0, 0.0),
           angle: float = 0.0) -> np.ndarray:
    """``(count, S, S, C)`` decodings of ``count`` prior draws seeded by ``seed`` (the same
    draws at every condition; a plain autoencoder's: around its codes' mean in their SDs,
    :attr:`Playground.frame`), each draw's distance from the centre scaled by ``temperature``
    (1: the prior; below 1, typical faces: for a StyleGAN with codes in W exactly the
    truncation trick, ``w_mean + psi (w - w_mean)``, on top of the run's own). A StyleGAN3's
    content is moved by ``translate`` (image sides) and turned by ``angle`` degrees
    (:meth:`~latentplay.models.stylegan3.StyleGAN3.moved`)."""
    count, temperature = int(count), float(temperature)
    if not 1 <= count <= 256:
        raise UserError(f"count must be 1..256, got {count}")
    if not 0 <= temperature <= 2:
        raise UserError(f"temperature must be in [0, 2], got {temperature}")
    if int(seed) < 0:
        raise UserError(f"seed must be 0 or more, got {int(seed)}")
    codes = framed_draws(*pg.frame, np.random.default_rng(int(seed)), count, temperature)
    with motion(pg.model, translate, angle):
        return pg.decode(codes, pg.condition(condition))


def can_move(pg: Playground) -> bool:
    """Whether the playground's run can be moved and turned (an imported StyleGAN3)."""
    return movable(pg.model)


MODES = {"latent dimension": "latent", "principal axis": "pca", "SeFa direction": "sefa"}
"""Traverse-tab labels of the axis kinds: latent dimensions, principal axes of the run's
encoded images (latents.npy), and an imported StyleGAN2's or StyleGAN3's closed-form directions."""

SEFA_CHOICES = 32
"""SeFa directions offered (the strongest)."""


def mode_of(label: str | None) -> str:
    """The axis kind (``latent``, ``pca``, ``sefa``) of a "move along" label of :data:`MODES`;
    a :class:`UserError` for anything else (an unchosen radio gives None)."""
    if label not in MODES:
        raise UserError(f"move along one of: {', '.join(MODES)}; got {label!r}")
    return MODES[label]


def modes(pg: Playground) -> list[str]:
    """The kinds of axis this playground's run can be traversed along (labels of :data:`MODES`)."""
    return ["latent dimension"] + (["principal axis"] if pg.latents is not None else []) + (
        ["SeFa direction"] if in_w(pg.model) else [])


def range_unit(pg: Playground, mode: str = "latent") -> str:
    """What a traversal's range counts along an axis of kind ``mode``: prior units along a
    latent dimension (SDs of the codes for a plain autoencoder, which has no prior), SDs of the
    codes along a principal axis, SDs of W along a SeFa direction."""
    if mode == "pca":
        return "SDs of the codes along it"
    if mode == "sefa":
        return "SDs of W along it"
    return "prior units" if pg.family != "ae" else "SDs of the codes"


def axis_choices(pg: Playground, mode: str = "latent") -> list[tuple[str, int]]:
    """``(label, index)`` of the axes a traversal can move along (``mode``: ``latent``,
    ``pca`` or ``sefa``): latent dimensions by decreasing variance of the encoder means
    (``z3  var 1.42``), principal axes of the run's encoded images (``PC0  34% of variance``),
    or a StyleGAN's SeFa directions (``SeFa0  12% of the weights``)."""
    if mode == "pca":
        explained = pg.pca.explained
        return [(f"PC{k}  {share_text(explained[k])} of variance", k) for k in range(len(explained))]
    if mode == "sefa":
        strength = pg.need_sefa().strength
        return [(f"SeFa{k}  {strength[k]:.0%} of the weights", k)
                for k in range(min(SEFA_CHOICES, len(strength)))]
    order, variance = pg.ranked
    if variance is None:
        return [(f"z{d}", int(d)) for d in order]
    return [(f"z{d}  var {v:.3g}", int(d)) for d, v in zip(order, variance, strict=True)]


def start_code(pg: Playground, seed: int | None) -> np.ndarray:
    """``(D,)`` float32 code that traversals and the latent sliders start from: the centre of
    the codes (:attr:`Playground.frame`), or with ``seed`` its first prior draw, the first
    image :func:`sample` draws with that seed (a GAN's centre, ``z = 0``, is no typical draw:
    those lie about ``sqrt(D)`` from it)."""
    if seed is None:
        return pg.frame[0].astype(np.float32)
    if int(seed) < 0:
        raise UserError(f"the start's seed must be 0 or more, got {int(seed)}")
    return framed_draws(*pg.frame, np.random.default_rng(int(seed)), 1)[0]


def default_start(pg: Playground) -> int | None:
    """The start a page opens with: a GAN's first draw of seed 0 (its centre is no face),
    else the centre (None)."""
    return 0 if pg.family == "dcgan" else None


def traverse(pg: Playground, axis: int, span: float, steps: int, mode: str,
             condition: Mapping[str, Any], start: int | None = None) -> np.ndarray:
    """``(steps, S, S, C)`` decodings of the :func:`start_code` of ``start`` moved from
    ``-span`` to ``+span`` along latent dimension ``axis`` (``mode`` ``latent``: prior units;
    SDs for a plain autoencoder), principal axis ``axis`` (``pca``: SDs of the codes along it)
    or SeFa direction ``axis`` (``sefa``: SDs of W along it)."""
    from latentplay.latent.traverse import axis_traversal, direction_traversal, pca_traversal

    if int(steps) < 2 or not float(span) > 0:
        raise UserError("a traversal needs at least 2 steps and a range above 0")
    values = np.linspace(-float(span), float(span), int(steps))
    model, cond = pg.need_model(), pg.condition(condition)
    base = start_code(pg, start)
    if mode == "pca":
        frame = pg.pca if start is None else dataclasses.replace(pg.pca, mean=base)
        return pca_traversal(model, frame, [int(axis)], values, condition=cond)[0]
    if mode == "sefa":
        sefa = pg.need_sefa()
        if not 0 <= int(axis) < len(sefa.steps):
            raise UserError(f"SeFa direction {axis} out of range 0..{len(sefa.steps) - 1}")
        return direction_traversal(model, base, sefa.steps[[int(axis)]], values)[0]
    return axis_traversal(model, [int(axis)], values, base=base, scale=pg.frame[1],
                          condition=cond)[0]


def slider_axes(pg: Playground) -> list[tuple[int, float | None]]:
    """``(dimension, variance or None)`` of the latent sliders: the active dimensions with
    the largest encoder-mean variance (at most :data:`MAX_SLIDERS`; the top ones when none is
    active), or the first dimensions of a generator."""
    order, variance = pg.ranked
    if variance is None:
        return [(int(d), None) for d in order[:MAX_SLIDERS]]
    active = int((variance > ACTIVE_VARIANCE).sum())
    count = min(MAX_SLIDERS, active) if active else min(MAX_SLIDERS, len(order))
    return [(int(d), float(v)) for d, v in zip(order[:count], variance[:count], strict=True)]


def slider_words(pg: Playground) -> str:
    """Which dimensions the latent sliders move, in words: the active ones, largest variance
    first; the largest-variance ones where none is active; or a generator's first ones."""
    variance = pg.ranked[1]
    if variance is None:
        return "the first latent dimensions"
    if not (variance > ACTIVE_VARIANCE).any():
        return (f"no dimension is active (encoder-mean variance above {ACTIVE_VARIANCE:g}): "
                "those of largest variance")
    return "the active ones, largest variance first"


def decode_sliders(pg: Playground, dims: Sequence[int], values: Sequence[float],
                   condition: Mapping[str, Any], start: int | None = None) -> np.ndarray:
    """``(S, S, C)`` decoding of the :func:`start_code` of ``start`` with dimensions ``dims``
    moved by ``values`` (prior units; SDs for a plain autoencoder)."""
    if len(dims) != len(values):
        raise UserError(f"{len(values)} slider values for {len(dims)} dimensions")
    base, scale = start_code(pg, start), pg.frame[1]
    z = base.copy()
    for d, v in zip(dims, values, strict=True):
        z[int(d)] = base[int(d)] + float(v) * scale[int(d)]
    return pg.decode(z[None], pg.condition(condition))[0]
