"""Latent traversals: decode codes moved along one latent axis or one principal axis.

SmileCVAE's probes of its latent space: fix every dimension but one, move that one over a
range and decode (:func:`axis_traversal`), choosing the axes by the variance of the encoder
means (the Welford heatmap's active units, :func:`ranked_axes`); and the same along the
principal axes of the encoded training set (:func:`pca_axes`, :func:`pca_traversal`), whose
directions mix dimensions and are sometimes easier to read.

Values are in units of the prior (``N(0, I)``: VAE family, DCGAN) or, for a plain autoencoder
that has no prior, in standard deviations of the axis over the encoded training set around its
mean (:func:`axis_frame`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from sklearn.decomposition import PCA

from latentplay.errors import UserError
from latentplay.train.api import decode


def run_latents(run_dir: str | os.PathLike[str]) -> np.ndarray:
    """Encoder means ``(N, D)`` float32 of the run's training images (its ``latents.npy``)."""
    path = Path(run_dir) / "latents.npy"
    if not path.exists():
        raise UserError(f"{path} does not exist; only runs of encoder models (ae, vae, cvae "
                        "...) write it, at the end of training")
    return np.asarray(np.load(path, allow_pickle=False)["mu"], dtype=np.float32)


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


def axis_traversal(model: torch.nn.Module, axes: np.ndarray | list[int], values: np.ndarray,
                   base: np.ndarray | None = None, scale: np.ndarray | None = None,
                   condition: np.ndarray | None = None, device: str = "cpu") -> np.ndarray:
    """Decode ``base`` with one dimension at a time set to ``base[a] + value * scale[a]``.

    Args:
        model: a model from :func:`latentplay.train.load_model`.
        axes: the ``A`` dimensions to move.
        values: ``(V,)`` positions, in units of ``scale``.
        base: ``(D,)`` starting code (default zeros: SmileCVAE fixed the others at 0).
        scale: ``(D,)`` unit of each dimension (default ones).
        condition: ``(K,)`` condition vector of a conditional model.

    Returns:
        ``(A, V, S, S, C)`` uint8 images, one row per axis.
    """
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

    mean: np.ndarray
    components: np.ndarray
    std: np.ndarray
    explained: np.ndarray


def pca_axes(mu: np.ndarray, k: int | None = None) -> PCAAxes:
    """The ``k`` (default all) principal axes of ``(N, D)`` encoder means ``mu``."""
    if mu.ndim != 2 or len(mu) < 2:
        raise UserError(f"need at least 2 codes of shape (N, D), got {mu.shape}")
    k = min(k or mu.shape[1], mu.shape[1], len(mu))
    pca = PCA(n_components=k, svd_solver="full").fit(mu)
    return PCAAxes(pca.mean_.astype(np.float32), pca.components_.astype(np.float32),
                   np.sqrt(pca.explained_variance_).astype(np.float32),
                   pca.explained_variance_ratio_.astype(np.float32))


def pca_traversal(model: torch.nn.Module, axes: PCAAxes, components: list[int],
                  values: np.ndarray, condition: np.ndarray | None = None,
                  device: str = "cpu") -> np.ndarray:
    """Decode ``mean + value * std[c] * components[c]`` for each chosen component ``c``.

    Returns ``(len(components), V, S, S, C)`` uint8 images; ``values`` ``(V,)`` are in
    standard deviations along each component."""
    bad = [c for c in components if not 0 <= c < len(axes.components)]
    if bad:
        raise UserError(f"components {bad} out of range 0..{len(axes.components) - 1}")
    values = np.asarray(values, np.float32)
    codes = np.stack([axes.mean[None] + values[:, None] * axes.std[c] * axes.components[c][None]
                      for c in components]).astype(np.float32)
    return _decode_rows(model, codes, condition, device)


def traversal_summary(rows: np.ndarray) -> list[float]:
    """Per row of ``(A, V, S, S, C)`` uint8 traversal images: the RMS pixel change (pixels in
    [0, 1]) between its first and last image — how much the decoder responds to the axis."""
    first = rows[:, 0].astype(np.float64) / 255
    last = rows[:, -1].astype(np.float64) / 255
    return [float(v) for v in np.sqrt(((first - last) ** 2).reshape(len(rows), -1).mean(1))]
