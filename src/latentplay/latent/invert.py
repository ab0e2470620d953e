"""Projecting images into a trained model's latent space (GAN inversion).

"Matching in GAN-space" projects photos into StyleGAN2's latent space by starting from an
encoder's code and optimising it until the generator redraws the photo. :func:`invert` does
the same for latentplay's own models. Each image's code ``z`` starts at the encoder mean
(autoencoders) or at the best of ``restarts`` draws from ``N(0, I)`` (a DCGAN, which has no
encoder) and is optimised with Adam, the model's weights held fixed, to minimise

    mean((decode(z, condition) - x) ** 2) + prior * mean(z ** 2)
        [+ identity * (1 - cos(net(chip(decode(z, condition))), net(chip(x))))]

with pixels ``x`` in [0, 1]. The second term keeps codes where the prior puts its mass. The
third (``identity`` > 0) keeps the person, as the identity losses of face projectors (pSp,
e4e) do: the cosine distance between a face recogniser's embeddings of the decoding and of
the photo (dlib's network, or an ArcFace given as ONNX), both read from the crop where the
photo's face is found (:mod:`latentplay.latent.identity_term`, differentiable). All images of
a batch and all their restarts are optimised together as one tensor of codes; the objective is
a sum over codes, so an image's result does not depend on its batch.

>>> from latentplay.latent.invert import invert
>>> inv = invert("runs/vae", images)            # (N, H, W, C) uint8
>>> inv.z.shape, inv.loss.mean(), inv.init_loss.mean()
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from latentplay.cliargs import at_least
from latentplay.errors import UserError
from latentplay.latent.identity_term import Recogniser, recogniser
from latentplay.reprs import short_repr
from latentplay.train.api import PathLike, _conditions, load_model, model_input
from latentplay.train.forcing import to_uint8

INITS = ("auto", "encoder", "random", "mean")
START_TEXT = {"encoder": "encoder means", "mean": "zero code", "random": "random draw"}
"""What the codes of each start of :func:`start_of` are, in the words the inversion figure uses."""

Progress = Callable[[int, int], None]


@dataclass
class Inversion:
    """Codes found by :func:`invert` for ``N`` images (``D`` latents, ``S`` x ``S`` pixels,
    ``C`` channels). Losses are mean squared errors over pixels in [0, 1] between the float
    decoding of a code and the image as the model sees it (cropped, resized); they leave out
    the prior term.

    Attributes:
        z: ``(N, D)`` float32 codes (``(N, n_layers * D)`` with ``per_layer``: W+): per
            image, the iterate of lowest objective (normally the last one; Adam may overshoot).
        init_z: starting codes of the same shape: encoder means, or for a random start the
            draw of the restart that was kept.
        loss: ``(N,)`` float32 pixel MSE of ``z`` (NaN when no iterate had a finite objective).
        init_loss: ``(N,)`` float32 pixel MSE of ``init_z``.
        reconstructions: ``(N, S, S, C)`` uint8 decodings of ``z``.
        reference_loss: ``(N,)`` float32 pixel MSE of the run's mean code (:func:`mean_code`)
            on each image: what redrawing it as the generator's average face gives. A
            ``loss`` near it is a failed inversion (:func:`failed`).
    """

    __repr__ = short_repr

    z: np.ndarray
    init_z: np.ndarray
    loss: np.ndarray
    init_loss: np.ndarray
    reconstructions: np.ndarray
    reference_loss: np.ndarray | None = None

    @property
    def failed(self) -> np.ndarray:
        """``(N,)`` bool: images whose codes redraw them hardly better than the mean code
        (:func:`failed`)."""
        return failed(self.loss, self.reference_loss)


def invert(
    run_or_model: PathLike | nn.Module,
    images: np.ndarray | Sequence[np.ndarray],
    *,
    condition: Any = None,
    init: str = "auto",
    steps: int = 300,
    lr: float = 0.05,
    restarts: int = 4,
    prior: float = 1e-3,
    batch_size: int = 64,
    seed: int = 0,
    device: str = "cpu",
    cropped: bool = False,
    per_layer: bool = False,
    identity: float = 0.0,
    identity_net: str = "dlib",
    progress: Progress | None = None,
    rows: Sequence[int] | np.ndarray | None = None,
) -> Inversion:
    """Latent codes whose decodings reproduce ``images``.

    Args:
        run_or_model: a run directory, or a model from :func:`latentplay.train.load_model`
            (already on ``device``); its weights are not changed.
        images: ``(N, H, W, C)`` uint8, or a list of ``(H, W, C)`` uint8 of any sizes; they are
            centre-cropped to the run's ``data.crop`` (unless ``cropped=True``: already cut
            that way), resized and converted to gray/RGB as in training.
        condition: for a conditional model, ``{attribute: value(s)}`` or an ``(N, K)`` array;
            held fixed while the codes are optimised.
        init: ``"encoder"`` (start from the encoder means; autoencoders only), ``"random"``
            (``restarts`` draws from ``N(0, I)`` per image, the best one kept), ``"mean"``
            (the zero code, the prior's mean: for a StyleGAN2 in W the mean ``w``, where its
            usual projector starts) or ``"auto"`` (the encoder when the model has one, else
            random).
        steps: Adam steps per batch; 0 returns the starting codes.
        lr: Adam's learning rate.
        restarts: random starts per image (``"random"``, or ``"auto"`` without an encoder);
            restart ``r`` of image ``i`` starts at row ``i`` of the ``r``-th ``(N, D)``
            standard normal draw of a ``torch.Generator`` seeded with ``seed`` (given
            ``rows``, at row ``r`` of image ``i``'s own draw, see ``rows``).
        prior: weight of ``mean(z ** 2)`` in the objective; 0 disables it.
        batch_size: images optimised together (times ``restarts`` codes); fewer for a model
            with a ``max_batch`` (a large StyleGAN): a quarter of it in codes, at least one
            image, whose codes are then decoded and differentiated a quarter of ``max_batch``
            at a time (their gradients summed: the same step, less memory).
        seed: seed of the random starts; the result is deterministic given it (on a CPU).
        device: where the codes are optimised (and a run directory's model is loaded).
        per_layer: optimise one code per layer of a StyleGAN2 or StyleGAN3 (W+: codes ``(N, n_layers *
            D)``, each layer starting at the image's start): closer reconstructions, codes
            off the generator's own distribution.
        identity: weight of the identity term (0: none; the images must be faces, RGB or
            gray, and dlib installed).
        identity_net: the term's face recogniser: ``dlib`` or ``onnx:PATH`` (an ArcFace-family
            network; :mod:`latentplay.latent.identity_term`).
        progress: called after every Adam step with ``(steps done, steps in all)``, counted
            over all batches.
        rows: ``(N,)`` numbers of the images in a larger set (a store's rows), when they are
            inverted a part at a time: image ``i``'s random starts are then a ``(restarts, D)``
            standard normal draw seeded with ``(seed, rows[i])`` alone, so that they do not
            depend on which images are inverted with it. None: one draw for all ``N`` images.

    Returns:
        An :class:`Inversion` of the ``N`` images.
    """
    check_settings(steps, lr, restarts, prior, batch_size, identity)
    model = run_or_model if isinstance(run_or_model, nn.Module) else load_model(run_or_model, device)
    layers = codes_per_image(model, per_layer)
    start = start_of(model, init)
    x_all = model_input(model, images, cropped)
    cond_all = _conditions(model, condition, len(x_all))
    reader = recogniser(identity_net, str(device)) if identity else None
    grids_all = None if reader is None else reader.grids(x_all)
    draws = None  # (R, N, D) starts (R: restarts, 1 for the zero code), or None: the encoder's means
    if start == "mean":
        draws = torch.zeros(1, len(x_all), model.latent_dim)
    elif start == "random":
        draws = _random_draws(restarts, len(x_all), model.latent_dim, seed, rows)
    codes_each = 1 if draws is None else len(draws)
    chunk = None  # codes decoded and differentiated at once (None: a batch's all)
    if hasattr(model, "max_batch"):  # gradients keep every activation: a quarter of decoding's
        chunk = max(1, model.max_batch // 4)
        batch_size = min(batch_size, max(1, chunk // codes_each))
    total = steps * -(-len(x_all) // batch_size)
    centre = torch.from_numpy(np.tile(mean_code(model), layers)).to(device)
    parts = []
    with _frozen(model):
        for s in range(0, len(x_all), batch_size):
            x = torch.from_numpy(x_all[s:s + batch_size]).to(device).permute(0, 3, 1, 2).float() / 255
            cond = None if cond_all is None else cond_all[s:s + batch_size].to(device)
            with torch.no_grad():
                z0 = draws[:, s:s + batch_size] if draws is not None else model.encode(x, cond)[0][None]
            z0 = z0.repeat(1, 1, layers)  # W+: the start at every layer
            done = s // batch_size * steps
            tick = None if progress is None else (lambda k, done=done: progress(done + k, total))
            person = None if reader is None else _Person.of(x, grids_all[s:s + batch_size], identity, reader)
            found = _invert_batch(model, x, cond, z0.to(device).float(), steps, lr, prior, tick, chunk,
                                  person)
            found["reference_loss"] = _mse(model, centre.expand(len(x), -1), x, cond, chunk)
            parts.append(found)
    return _collect(parts, model, model.latent_dim * layers)


FAILED_SHARE = 0.8
"""An inversion whose pixel MSE is above this share of the mean code's (:func:`mean_code`) on
the same image has failed: its code redraws the face hardly better than the generator's average
face does (a barely trained DCGAN's inversions of real faces end at 0.86-0.99 of it; a trained
VAE's at 0.05-0.73)."""


def failed(loss: np.ndarray, reference: np.ndarray | None) -> np.ndarray:
    """``(N,)`` bool: images whose inversion MSE ``loss`` ``(N,)`` is above :data:`FAILED_SHARE`
    of the mean code's ``reference`` ``(N,)`` on them (or not a number); all False without a
    reference."""
    loss = np.asarray(loss, np.float64)
    if reference is None:
        return np.zeros(len(loss), bool)
    with np.errstate(invalid="ignore"):
        return ~(loss <= FAILED_SHARE * np.asarray(reference, np.float64))


def mean_code(model: nn.Module) -> np.ndarray:
    """``(D,)`` float32 centre of the run's codes, the reference an inversion is measured
    against: the zero code (the prior's mean; a StyleGAN's mean ``w`` in W) for every model with
    a prior, and for a plain autoencoder, which has none, the mean of its encoded training set
    (the run's ``latents.npy``) when it has one, else the zero code."""
    centre = np.zeros(int(model.latent_dim), np.float32)
    run_dir = getattr(model, "run_dir", None)
    if getattr(model, "family", "") == "ae" and run_dir is not None:
        from latentplay.latent.traverse import run_latents

        try:
            centre = run_latents(run_dir).mean(0).astype(np.float32)
        except UserError:  # no latents.npy: the zero code
            pass
    return centre


def reconstruction_loss(model: nn.Module, z: np.ndarray, images: np.ndarray | Sequence[np.ndarray],
                        condition: Any = None, cropped: bool = False, device: str = "cpu") -> np.ndarray:
    """``(N,)`` float32 pixel MSE of the decodings of codes ``z`` ``(N, D)`` (or W+) on
    ``images`` as the model sees them (see :func:`invert`'s ``cropped``): the :attr:`Inversion.loss`
    of codes found elsewhere (a store's ``invert:RUN`` column). ``z`` may be one ``(D,)`` code
    for every image (e.g. :func:`mean_code`)."""
    x_all = model_input(model, images, cropped)
    cond_all = _conditions(model, condition, len(x_all))
    codes = torch.as_tensor(np.asarray(z, np.float32))
    if codes.ndim == 1:
        codes = codes.expand(len(x_all), -1)
    step = min(64, getattr(model, "max_batch", 64))
    out = []
    with _frozen(model):
        for s in range(0, len(x_all), step):
            x = torch.from_numpy(x_all[s:s + step]).to(device).permute(0, 3, 1, 2).float() / 255
            cond = None if cond_all is None else cond_all[s:s + step].to(device)
            out.append(_mse(model, codes[s:s + step].to(device), x, cond, None))
    return np.concatenate(out) if out else np.zeros(0, np.float32)


def _mse(model: nn.Module, z: torch.Tensor, x: torch.Tensor, cond: torch.Tensor | None,
         chunk: int | None) -> np.ndarray:
    """``(M,)`` float32 pixel MSE of codes ``z`` ``(M, D)`` on images ``x`` ``(M, C, S, S)``,
    ``chunk`` codes decoded at a time (None: all), without gradients."""
    step = chunk or len(z)
    with torch.no_grad():
        parts = [(model.decode(z[s:s + step], None if cond is None else cond[s:s + step])
                  - x[s:s + step]).square().flatten(1).mean(1) for s in range(0, len(z), step)]
    return torch.cat(parts).float().cpu().numpy() if parts else np.zeros(0, np.float32)


def codes_per_image(model: nn.Module, per_layer: bool) -> int:
    """How many ``D``-sized codes an image gets: one, or with ``per_layer`` one per layer of a
    StyleGAN2 or StyleGAN3 (W+); a :class:`UserError` for per-layer codes of any other model."""
    layers = int(getattr(model, "n_layers", 0)) if per_layer else 1
    if not layers:
        raise UserError(f"per-layer codes (W+) need a StyleGAN2 or StyleGAN3; this run is a {model.family}")
    return layers


def check_settings(steps: int, lr: float, restarts: int, prior: float, batch_size: int = 1,
                   identity: float = 0.0, names: dict[str, str] | None = None) -> None:
    """UserError for a setting out of its range (a NaN or infinite weight or rate included: every
    objective would be NaN or infinite, so no iterate would count as better than the start),
    naming it as :func:`invert` does or, where ``names`` maps it, as that (a command's option:
    ``{"lr": "--lr"}``)."""
    def named(name: str) -> str:
        return (names or {}).get(name, name)

    for name, value in (("lr", lr), ("prior", prior), ("identity", identity)):
        if not np.isfinite(value):
            raise UserError(f"{named(name)} must be a finite number, got {value}")
    for name, value, low in (("identity", identity, 0), ("steps", steps, 0), ("restarts", restarts, 1),
                             ("prior", prior, 0), ("batch_size", batch_size, 1)):
        at_least(value, low, named(name))
    if lr <= 0:
        raise UserError(f"{named('lr')} must be positive, got {lr:g}")


def start_of(model: nn.Module, init: str, option: str = "init") -> str:
    """Where ``init`` starts ``model``'s codes: ``"encoder"`` (its means), ``"mean"`` (the zero
    code) or ``"random"`` (draws from ``N(0, I)``: ``init="random"``, or ``"auto"`` for a
    model without an encoder, a DCGAN). Only ``"random"`` uses ``restarts`` and ``seed``; a
    :class:`UserError` for an unknown ``init`` or ``"encoder"`` on a model without one, naming
    the setting as ``option`` (``"init"``: ``init='random'``; ``"--init"``: ``--init random``)."""
    def said(value: str) -> str:
        return f"{option} {value}" if option.startswith("--") else f"{option}={value!r}"

    if init not in INITS:
        raise UserError(f"{option} must be one of {', '.join(INITS)}; got {init!r}")
    has_encoder = bool(model.has_encoder)
    if init == "encoder" and not has_encoder:
        raise UserError(f"{said('encoder')} needs a model with an encoder; a {model.family} has "
                        f"none, use {said('random')}")
    if init == "auto":
        return "encoder" if has_encoder else "random"
    return init


def _random_draws(restarts: int, n: int, dim: int, seed: int,
                  rows: Sequence[int] | np.ndarray | None = None) -> torch.Tensor:
    """``(restarts, n, dim)`` float32 starts: one ``(n, dim)`` standard normal draw per restart
    from ``seed``, or, given ``rows`` ``(n,)``, image ``i``'s ``(restarts, dim)`` drawn from
    ``(seed, rows[i])``."""
    if rows is None:
        generator = torch.Generator().manual_seed(seed)
        return torch.stack([torch.randn(n, dim, generator=generator) for _ in range(restarts)])
    rows = np.asarray(rows, np.int64)
    if rows.shape != (n,) or (rows < 0).any():
        raise UserError(f"rows must hold one row number (>= 0) per image, {n} in all")
    starts = [np.random.default_rng([seed % 2**64, int(row)]).standard_normal((restarts, dim), np.float32)
              for row in rows]
    return torch.from_numpy(np.stack(starts, axis=1)) if n else torch.zeros(restarts, 0, dim)


_FREEZING = threading.RLock()
"""Held while a model is :func:`_frozen`: inversions in threads at once (the playground's tabs)
take turns (the first to finish gave the model's parameters their gradients back under the
other, and the last left them without for good)."""


@contextmanager
def _frozen(model: nn.Module) -> Iterator[None]:
    """``model`` in eval mode (batch-norm statistics fixed) without gradients on its
    parameters; both restored afterwards. One thread at a time (:data:`_FREEZING`)."""
    with _FREEZING:
        flags = [p.requires_grad for p in model.parameters()]
        training = model.training
        model.eval().requires_grad_(False)
        try:
            yield
        finally:
            for p, flag in zip(model.parameters(), flags, strict=True):
                p.requires_grad_(flag)
            model.train(training)


@dataclass
class _Person:
    """The identity term of some codes' images: chip grids ``(M, side, side, 2)``, the photos'
    embeddings ``(M, E)``, the term's weight and its recogniser."""

    grids: torch.Tensor
    target: torch.Tensor
    weight: float
    reader: Recogniser

    @classmethod
    def of(cls, x: torch.Tensor, grids: torch.Tensor, weight: float, reader: Recogniser) -> _Person:
        """The term for photos ``x`` ``(B, C, S, S)`` in [0, 1] cut by ``grids``."""
        grids = grids.to(x.device)
        with torch.no_grad():
            target = reader.embed(x, grids)
        return cls(grids, target, weight, reader)

    def __getitem__(self, rows: slice) -> _Person:
        return _Person(self.grids[rows], self.target[rows], self.weight, self.reader)

    def repeat(self, r: int) -> _Person:
        return _Person(self.grids.repeat(r, 1, 1, 1), self.target.repeat(r, 1), self.weight, self.reader)

    def distance(self, decoded: torch.Tensor) -> torch.Tensor:
        """``(M,)`` cosine distance between the embeddings of ``decoded`` and the photos'."""
        found = self.reader.embed(decoded, self.grids)
        return 1 - torch.nn.functional.cosine_similarity(found, self.target, dim=1)


def _objective(model: nn.Module, z: torch.Tensor, x: torch.Tensor, cond: torch.Tensor | None,
               prior: float, person: _Person | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Pixel MSE ``(M,)`` of codes ``z`` ``(M, D)`` against images ``x`` ``(M, C, S, S)``, and
    the objective ``(M,)``: that MSE plus ``prior * mean(z ** 2)`` (plus the identity term)."""
    decoded = model.decode(z, cond)
    mse = (decoded - x).square().flatten(1).mean(1)
    objective = mse + prior * z.square().mean(1)
    if person is not None:
        objective = objective + person.weight * person.distance(decoded)
    return mse, objective


def _evaluate(model: nn.Module, z: torch.Tensor, x: torch.Tensor, cond: torch.Tensor | None,
              prior: float, chunk: int | None, backward: bool,
              person: _Person | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`_objective` of all codes ``z`` (a leaf), ``chunk`` codes at a time (all: None),
    each chunk's objective sum back-propagated into ``z.grad`` when ``backward``: as the sum
    over all codes is, since each code's objective depends on its own code only. Returns the
    detached MSE and objective ``(M,)``."""
    step = chunk or len(z)
    mses, objectives = [], []
    with torch.set_grad_enabled(backward):
        for s in range(0, len(z), step):
            part = slice(s, s + step)
            mse, obj = _objective(model, z[part], x[part], None if cond is None else cond[part], prior,
                                  None if person is None else person[part])
            if backward:
                obj.sum().backward()
            mses.append(mse.detach())
            objectives.append(obj.detach())
    return torch.cat(mses), torch.cat(objectives)


def _invert_batch(model: nn.Module, x: torch.Tensor, cond: torch.Tensor | None, z0: torch.Tensor,
                  steps: int, lr: float, prior: float, tick: Callable[[int], None] | None,
                  chunk: int | None = None, person: _Person | None = None) -> dict[str, np.ndarray]:
    """Optimise the ``R`` starts ``z0`` ``(R, B, D)`` of the ``B`` images ``x`` ``(B, C, S, S)``
    (``chunk`` codes decoded at a time; None: all) and keep each image's best restart: the
    fields of :class:`Inversion` for the batch."""
    r, b, d = z0.shape
    xs = x.repeat(r, 1, 1, 1)
    cs = None if cond is None else cond.repeat(r, 1)
    people = None if person is None else person.repeat(r)
    z = z0.reshape(r * b, d).clone().requires_grad_(True)
    optimizer = torch.optim.Adam([z], lr=lr)
    best_z = z.detach().clone()
    best_obj = torch.full((r * b,), torch.inf, device=z.device)
    best_mse = torch.full_like(best_obj, torch.nan)  # NaN until an iterate has a finite objective
    for step in range(steps + 1):
        optimizer.zero_grad()
        mse, obj = _evaluate(model, z, xs, cs, prior, chunk, step < steps, people)
        if step == 0:
            init_mse = mse
        better = obj < best_obj
        best_z = torch.where(better[:, None], z.detach(), best_z)
        best_obj = torch.where(better, obj, best_obj)
        best_mse = torch.where(better, mse, best_mse)
        if step == steps:
            break
        optimizer.step()
        if tick is not None:
            tick(step + 1)
    pick = best_obj.view(r, b).argmin(0), torch.arange(b, device=z.device)
    found = best_z.view(r, b, d)[pick]
    with torch.no_grad():
        reconstructions = to_uint8(model.decode(found, cond))
    fields = {"z": found, "init_z": z0[pick], "loss": best_mse.view(r, b)[pick],
              "init_loss": init_mse.view(r, b)[pick]}
    return {"reconstructions": reconstructions, **{k: v.float().cpu().numpy() for k, v in fields.items()}}


def _collect(parts: list[dict[str, np.ndarray]], model: nn.Module, dim: int) -> Inversion:
    """The :class:`Inversion` of all batches (empty arrays of the right shapes for none)."""
    if not parts:
        codes = np.zeros((0, dim), np.float32)
        return Inversion(codes, codes.copy(), np.zeros(0, np.float32), np.zeros(0, np.float32),
                         np.zeros((0, model.size, model.size, model.channels), np.uint8),
                         np.zeros(0, np.float32))
    return Inversion(**{k: np.concatenate([p[k] for p in parts]) for k in parts[0]})


def loss_summary(loss: np.ndarray, reference: np.ndarray | None) -> dict[str, Any]:
    """The median and 90th percentile of inversion MSEs ``loss`` ``(N,)`` (NaNs, images not
    measured, left out), the median of the mean code's MSEs ``reference`` ``(N,)`` on the same
    images, and how many of them :func:`failed`: JSON-ready (None for no number)."""
    loss = np.asarray(loss, np.float64)
    measured = np.isfinite(loss)
    ref = None if reference is None else np.asarray(reference, np.float64)

    def number(values: np.ndarray, q: float) -> float | None:
        values = values[np.isfinite(values)]
        return float(np.percentile(values, q)) if len(values) else None

    return {"n": int(measured.sum()), "median": number(loss, 50), "p90": number(loss, 90),
            "mean_code_median": None if ref is None else number(ref[measured], 50),
            "failed": int(failed(loss[measured], None if ref is None else ref[measured]).sum()),
            "failed_share": FAILED_SHARE}


def loss_lines(summary: dict[str, Any], what: str = "faces") -> list[str]:
    """The line that reports a :func:`loss_summary` and, when some inversions failed, a
    caution line; ``what`` names the images (``faces``, ``rows``)."""
    def text(value: float | None) -> str:
        return "-" if value is None else f"{value:.4f}"

    if not summary["n"]:
        return []
    lines = [f"inversion: pixel MSE median {text(summary['median'])}, 90th percentile "
             f"{text(summary['p90'])} over {summary['n']} {what}; the run's mean code (its "
             f"average face) redraws them at median {text(summary['mean_code_median'])}"]
    if summary["failed"]:
        lines.append(f"caution: the codes of {summary['failed']} of {summary['n']} {what} redraw them "
                     f"hardly better than the run's mean code does (pixel MSE above "
                     f"{summary['failed_share']:.0%} of its): failed inversions, codes that do not "
                     "draw those faces")
    return lines


def loss_caption(loss: float, reference: float | None) -> str:
    """A figure's caption of one face's inversion: ``inverted, MSE 0.0710`` and, under it, the
    mean code's MSE (``mean code 0.0750``), marked ``failed`` when :func:`failed`."""
    bad = bool(failed(np.array([loss]), None if reference is None else np.array([reference]))[0])
    return f"inverted, MSE {loss:.4f}" + ("" if reference is None else
                                            f"\nmean code {reference:.4f}" + (": failed" if bad else ""))
