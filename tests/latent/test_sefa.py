"""SeFa directions (Shen & Zhou 2021) of a small StyleGAN2 with hand-set modulation weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from latentplay.errors import UserError
from latentplay.latent.traverse import sefa_axes
from latentplay.models.stylegan2 import StyleGAN2, StyleGAN2Config


def _model(style_dim: int, weights: list[np.ndarray], basis: np.ndarray) -> StyleGAN2:
    """An 8-px StyleGAN2 in W (three styled convolutions of 4 channels) whose convolutions'
    modulation weights are ``weights`` (each ``(4, style_dim)``) and whose ``w_basis`` is ``basis``."""
    model = StyleGAN2(StyleGAN2Config(resolution=8, style_dim=style_dim, n_mlp=1, channel_max=4), 3, 8)
    convs = [layer.affine for layer in model.generator.style_affines() if not layer.rgb]
    assert len(convs) == len(weights)
    with torch.no_grad():
        for affine, w in zip(convs, weights, strict=True):
            affine.weight.copy_(torch.from_numpy(w))
        model.w_basis.copy_(torch.from_numpy(basis))
    return model


def test_each_channel_counts_once_whatever_its_weight_norm() -> None:
    # one channel reads w along e1 with a large weight, the eleven others along e2 with small
    # ones: unscaled, e1 carries 100 of 117.75 squared weight; scaled to unit rows, e2 carries
    # 11 of 12, so it is the first direction (W W^T of the authors' code = diag(1, 11))
    first = np.array([[10.0, 0.0], [0.0, 1.0], [0.0, -2.0], [0.0, 0.5]], np.float32)
    small = np.array([[0.0, 1.0], [0.0, 0.5], [0.0, -1.0], [0.0, 2.0]], np.float32)
    basis = np.array([[2.0, 0.0], [1.0, 3.0]])  # Cov of W = basis' basis
    axes = sefa_axes(_model(2, [first, small, small], basis))
    signs = np.sign(axes.directions[:, 1] + axes.directions[:, 0])
    np.testing.assert_allclose(axes.directions * signs[:, None], [[0, 1], [1, 0]], atol=1e-6)
    np.testing.assert_allclose(axes.strength, [11 / 12, 1 / 12], rtol=1e-6)
    # SD of W along n: |n basis'|: e2 -> |(0, 3)| = 3, e1 -> |(2, 1)| = sqrt(5)
    np.testing.assert_allclose(axes.std, [3.0, np.sqrt(5.0)], rtol=1e-6)
    # steps solve step @ basis = std * n: (-1/2, 1) @ basis = (0, 3); (sqrt(5)/2, 0) @ basis = (sqrt(5), 0)
    np.testing.assert_allclose(axes.steps * signs[:, None], [[-0.5, 1.0], [np.sqrt(5) / 2, 0.0]], atol=1e-6)


def test_directions_are_the_authors_eigenvectors() -> None:
    rng = np.random.default_rng(0)
    weights = [(rng.standard_normal((4, 5)) * rng.uniform(0.1, 10.0, (4, 1))).astype(np.float32)
               for _ in range(3)]
    axes = sefa_axes(_model(5, weights, np.eye(5)))
    # genforce/sefa factorize_weight: weight (z_dim, channels), columns scaled to unit norm,
    # eigenvectors of weight weight^T
    weight = np.concatenate([w.T for w in weights], axis=1).astype(np.float64)
    weight = weight / np.linalg.norm(weight, axis=0, keepdims=True)
    values, vectors = np.linalg.eigh(weight @ weight.T)
    order = np.argsort(-values)
    np.testing.assert_allclose(np.abs(np.sum(vectors[:, order].T * axes.directions, axis=1)), 1, atol=1e-5)
    np.testing.assert_allclose(axes.strength, values[order] / values.sum(), rtol=1e-5)


def test_steps_of_a_singular_basis_are_refused() -> None:
    rng = np.random.default_rng(0)
    weights = [rng.standard_normal((4, 3)).astype(np.float32) for _ in range(3)]
    basis = np.array([[1.0, 0.0, 0.0], [0.0, 2.0, 0.0], [0.0, 0.0, 3e-9]])  # one axis of rounding noise
    with pytest.raises(UserError, match="singular \\(rank 2 of 3\\)"):
        sefa_axes(_model(3, weights, basis))
