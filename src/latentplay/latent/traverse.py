"""Latent traversals: decode codes moved along one latent axis or one principal axis.

SmileCVAE's probes of its latent space: fix every dimension but one, move that one over a
range and decode (:func:`axis_traversal`), choosing the axes by the variance of the encoder
means over ``latents.npy`` (as the run's ``active_units.json`` does, :func:`ranked_axes`); and
the same along the principal axes of the encoder means over ``latents.npy`` (training and
held-out rows; :func:`pca_axes`, :func:`pca_traversal`), whose
directions mix dimensions and are sometimes easier to read. For an imported StyleGAN2 also
along the closed-form directions of its weights (:func:`sefa_axes`).

Values are in units of the prior (``N(0, I)``: VAE family, DCGAN) or, for a plain autoencoder
that has no prior, in standard deviations of the axis over the encoded training set around its
mean (:func:`axis_frame`).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from omegaconf import OmegaConf

from latentplay.errors import UserError
from latentplay.models import FAMILIES
from latentplay.models.stylegan2 import code_steps, is_style_generator, style_weights
from latentplay.outputs import shell_word
from latentplay.reprs import short_repr
from latentplay.train.api import PathLike, as_model, decode


def latents_table(run_dir: str | os.PathLike[str]) -> np.ndarray:
    """The run's ``latents.npy``: ``(N,)`` structured rows (``index``, ``split``, ``mu``, ...)
    of its store images, training and test rows; a damaged file is a :class:`UserError`."""
    from latentplay.store.vector_files import load_array

    path = Path(run_dir) / "latents.npy"
    if not path.exists():
        raise UserError(_no_latents(Path(run_dir)))
    return load_array(path)


def _no_latents(run: Path) -> str:
    """Why ``run`` has no ``latents.npy`` (training writes it when it finishes, for encoder
    models only) and what gives it one."""
    if not run.is_dir():
        return f"{run}: no such run directory"
    family = _family(run)
    if family is None or not FAMILIES[family][1].has_encoder:
        return (f"{run} has no latents.npy: only training runs of encoder models (ae, vae, cvae) "
                f"write it{'' if family is None else f', and this is a {family}'}")
    return (f"{run} has no latents.npy because its training did not finish (it is written at the "
            f"end); `latentplay train --resume {shell_word(run)}` finishes it")


def _family(run: Path) -> str | None:
    """The model family named by the run's ``model.json`` or ``config.yaml``; None when neither
    names a known one."""
    for name, read in (("model.json", json.loads), ("config.yaml", OmegaConf.create)):
        try:
            family = read((run / name).read_text(encoding="utf-8")).get("family")
        except Exception:  # missing or unreadable: the other file, or no family
            continue
        if family in FAMILIES:
            return str(family)
    return None


def run_latents(run_dir: str | os.PathLike[str]) -> np.ndarray:
    """Encoder means ``(N, D)`` float32 of the run's store images, training and test rows
    (its ``latents.npy``)."""
    return np.asarray(latents_table(run_dir)["mu"], dtype=np.float32)


def ranked_axes(mu: np.ndarray) -> np.ndarray:
    """Latent dimensions ordered by decreasing variance of the ``(N, D)`` encoder means."""
    return np.argsort(-mu.var(0), kind="stable")


def axis_frame(model: torch.nn.Module, mu: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """``(centre (D,), scale (D,))`` of traversals: the prior's ``(0, 1)`` for models with a
    prior, the data mean and standard deviation of ``(N, D)`` encoder means ``mu`` for a
    plain autoencoder."""
    dim = int(model.latent_dim)
    if getattr(model, "family", "") != "ae":
        return np.zeros(dim, np.float32), np.ones(dim, np.float32)
    if mu is None:
        raise UserError("a plain autoencoder has no prior; traversals need its encoded "
                        "training set (latents.npy) for a centre and a scale")
    return mu.mean(0).astype(np.float32), mu.std(0).astype(np.float32)


def _decode_rows(model: torch.nn.Module, codes: np.ndarray, condition: np.ndarray | None,
                 device: str) -> np.ndarray:
    """``(A, V, D)`` codes -> ``(A, V, S, S, C)`` uint8 images (one condition for all)."""
    a, v, d = codes.shape
    cond = None if condition is None else np.repeat(condition[None], a * v, axis=0)
    images = decode(model, codes.reshape(a * v, d), condition=cond, device=device)
    return images.reshape(a, v, *images.shape[1:])


def axis_traversal(model: torch.nn.Module | PathLike, axes: np.ndarray | list[int], values: np.ndarray,
                   base: np.ndarray | None = None, scale: np.ndarray | None = None,
                   condition: np.ndarray | None = None, device: str = "cpu") -> np.ndarray:
    """Decode ``base`` with one dimension at a time set to ``base[a] + value * scale[a]``.

    Args:
        model: a model from :func:`latentplay.train.load_model`, or its run directory.
        axes: the ``A`` dimensions to move.
        values: ``(V,)`` positions, in units of ``scale``.
        base: ``(D,)`` starting code (default zeros: SmileCVAE fixed the others at 0).
        scale: ``(D,)`` unit of each dimension (default ones).
        condition: ``(K,)`` condition vector of a conditional model.

    Returns:
        ``(A, V, S, S, C)`` uint8 images, one row per axis.
    """
    model = as_model(model, device)
    dim = int(model.latent_dim)
    axes = [int(a) for a in axes]
    bad = [a for a in axes if not 0 <= a < dim]
    if bad:
        raise UserError(f"axes {bad} out of range; the latent has {dim} dimensions (0..{dim - 1})")
    base = np.zeros(dim, np.float32) if base is None else np.asarray(base, np.float32)
    scale = np.ones(dim, np.float32) if scale is None else np.asarray(scale, np.float32)
    values = np.asarray(values, np.float32)
    codes = np.repeat(np.repeat(base[None, None], len(axes), 0), len(values), 1)
    for row, a in enumerate(axes):
        codes[row, :, a] = base[a] + values * scale[a]
    return _decode_rows(model, codes, condition, device)


@dataclass
class PCAAxes:
    """Principal axes of encoder means.

    Attributes:
        mean: ``(D,)`` mean code.
        components: ``(K, D)`` unit principal directions, by decreasing variance.
        std: ``(K,)`` standard deviation of the codes along each direction.
        explained: ``(K,)`` fraction of the total variance along each direction.
    """

    __repr__ = short_repr

    mean: np.ndarray
    components: np.ndarray
    std: np.ndarray
    explained: np.ndarray


def pca_axes(mu: np.ndarray, k: int | None = None) -> PCAAxes:
    """The ``k`` (default all) principal axes of ``(N, D)`` encoder means ``mu`` (a run's:
    :func:`run_latents`)."""
    if isinstance(mu, (str, os.PathLike)):
        raise UserError(f"pca_axes takes codes, an (N, D) array, not a path: "
                        f"pca_axes(run_latents({str(mu)!r}))")
    mu = np.asarray(mu)
    if mu.ndim != 2 or len(mu) < 2:
        raise UserError(f"need at least 2 codes of shape (N, D), got {mu.shape}")
    if k is not None and k < 1:
        raise UserError(f"need at least 1 principal axis, got k={k}")
    if not np.ptp(mu, axis=0).any():
        raise UserError(f"all {len(mu)} codes are the same point; they have no principal axes")
    k = min(k or mu.shape[1], mu.shape[1], len(mu))
    from sklearn.decomposition import PCA  # scikit-learn takes a second to import

    pca = PCA(n_components=k, svd_solver="full").fit(mu)
    return PCAAxes(pca.mean_.astype(np.float32), pca.components_.astype(np.float32),
                   np.sqrt(pca.explained_variance_).astype(np.float32),
                   pca.explained_variance_ratio_.astype(np.float32))


def pca_traversal(model: torch.nn.Module | PathLike, axes: PCAAxes, components: list[int],
                  values: np.ndarray, condition: np.ndarray | None = None,
                  device: str = "cpu") -> np.ndarray:
    """Decode ``mean + value * std[c] * components[c]`` for each chosen component ``c``.

    Returns ``(len(components), V, S, S, C)`` uint8 images; ``values`` ``(V,)`` are in
    standard deviations along each component."""
    model = as_model(model, device)
    bad = [c for c in components if not 0 <= c < len(axes.components)]
    if bad:
        raise UserError(f"components {bad} out of range 0..{len(axes.components) - 1}")
    steps = axes.std[components, None] * axes.components[components]
    return direction_traversal(model, axes.mean, steps, values, condition, device)


def direction_traversal(model: torch.nn.Module | PathLike, base: np.ndarray, steps: np.ndarray,
                        values: np.ndarray, condition: np.ndarray | None = None,
                        device: str = "cpu") -> np.ndarray:
    """Decode ``base + value * steps[k]`` for each of ``K`` directions: ``base`` ``(D,)``,
    ``steps`` ``(K, D)`` (the code change of one unit), ``values`` ``(V,)``. Returns ``(K, V,
    S, S, C)`` uint8 images."""
    model = as_model(model, device)
    values = np.asarray(values, np.float32)
    codes = base[None, None] + values[None, :, None] * np.asarray(steps)[:, None, :]
    return _decode_rows(model, codes.astype(np.float32), condition, device)


@dataclass
class SefaAxes:
    """Closed-form semantic directions of a StyleGAN (Shen & Zhou 2021, "SeFa").

    Attributes:
        directions: ``(D, D)`` unit directions of W, rows by decreasing strength: the right
            singular vectors of the synthesis layers' modulation weights stacked
            ``(sum of input channels, D)``, each channel's weight vector scaled to unit length
            as the authors' code does (the eigenvectors of their ``W W^T``): the directions
            of ``w`` that change the layers' styles most. Signs are arbitrary.
        strength: ``(D,)`` share of the normalised stacked weights' squared singular values.
        std: ``(D,)`` standard deviation of W along each direction (from the import's W
            statistics).
        steps: ``(D, D)`` the code change that moves ``w`` one standard deviation along each
            direction (whitened codes: ``w = w_mean + c @ w_basis``).
    """

    __repr__ = short_repr

    directions: np.ndarray
    strength: np.ndarray
    std: np.ndarray
    steps: np.ndarray


def sefa_axes(model: torch.nn.Module | PathLike, layers: tuple[int, int] | None = None) -> SefaAxes:
    """:class:`SefaAxes` of an imported StyleGAN2 or StyleGAN3 whose codes are in W
    (``space="w"``).

    The modulation weights of every styled convolution (not the RGB layers, as in the
    authors' code) are stacked, each channel's row scaled to unit norm (so that channels with
    large weights do not outvote the others); their right singular vectors are the directions.
    With
    ``layers`` (``(start, stop)`` of the generator's styles), only the convolutions styled by
    those layers' codes are stacked (the authors' ``layer_idx``): directions of what those
    layers draw."""
    model = as_model(model)
    if not is_style_generator(model):
        raise UserError("SeFa directions come from a StyleGAN's modulation weights; this run "
                        f"is a {getattr(model, 'family', '?')}")
    if model.config.space != "w":
        raise UserError("SeFa directions live in W; import the generator with --space w")
    weights = style_weights(model.generator)  # per style; None: no styled convolution
    start, stop = (0, len(weights)) if layers is None else layers
    chosen = [w for w in weights[start:stop] if w is not None]
    if not chosen:
        raise UserError(f"styles {start}..{stop - 1} drive no styled convolution (only an RGB layer "
                        "or a StyleGAN3's input transform); choose other layers")
    with torch.no_grad():
        stacked = torch.cat(chosen).double()  # (channels, D)
        norms = stacked.norm(dim=1, keepdim=True).clamp_min(torch.finfo(stacked.dtype).tiny)
        stacked = stacked / norms  # unit rows; a channel of zero weights stays zero
        _, singular, vt = torch.linalg.svd(stacked, full_matrices=False)
        basis = model.w_basis.double().cpu()
        std = (vt @ basis.T).norm(dim=1)  # sqrt(n' Cov n), Cov = basis' basis
        steps = code_steps(basis, vt * std[:, None])  # dc @ basis = std * n
    share = singular.square() / singular.square().sum()
    return SefaAxes(vt.float().numpy(), share.float().numpy(), std.float().numpy(),
                    steps.float().numpy())


def traversal_summary(rows: np.ndarray) -> list[float]:
    """Per row of ``(A, V, S, S, C)`` uint8 traversal images: the RMS pixel change (pixels in
    [0, 1]) between its first and last image — how much the decoder responds to the axis."""
    first = rows[:, 0].astype(np.float64) / 255
    last = rows[:, -1].astype(np.float64) / 255
    return [float(v) for v in np.sqrt(((first - last) ** 2).reshape(len(rows), -1).mean(1))]
