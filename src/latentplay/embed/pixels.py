"""``pixels-pca``: principal components of downscaled pixels, the always-available baseline."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
from PIL import Image
from sklearn.decomposition import PCA

from latentplay.embed.base import Embedder, Images, as_list
from latentplay.errors import UserError
from latentplay.outputs import counted
from latentplay.store.images import uint8_image


@dataclass
class PixelsPCAConfig:
    """Options of the ``pixels-pca`` embedder.

    Attributes:
        size: images are resized to ``size x size`` before flattening.
        dim: number of principal components kept.
        gray: convert to gray levels first (otherwise RGB).
        fit_samples: at most this many images (chosen with ``seed``) fit the PCA.
        seed: seed for choosing the fit sample (the SVD itself is exact, without randomness).
        residual: add one coordinate after the ``dim`` components: the image's distance from
            the components' subspace (the norm of what they leave unexplained). Without it an
            image unlike every fitted one (noise, artefacts) has small components and sits
            near the mean, among the fitted images; with it, it sits far from all of them.
    """

    size: int = 16
    dim: int = 64
    gray: bool = False
    fit_samples: int = 5000
    seed: int = 0
    residual: bool = False

    def validate(self) -> None:
        if not 2 <= self.size <= 256:
            raise UserError(f"pixels-pca: size must be in [2, 256], got {self.size}")
        channels = 1 if self.gray else 3
        if not 1 <= self.dim <= self.size * self.size * channels:
            raise UserError(
                f"pixels-pca: dim must be in [1, {self.size * self.size * channels}], got {self.dim}"
            )
        if self.fit_samples < 2:
            raise UserError(f"pixels-pca: fit_samples must be at least 2, got {self.fit_samples}")


class PixelsPCA(Embedder):
    """PCA of ``size x size`` pixels scaled to [0, 1]; fit on a seeded sample of the store."""

    kind = "pixels-pca"
    config_type = PixelsPCAConfig
    needs_fit = True

    def __init__(self, config: PixelsPCAConfig) -> None:
        super().__init__(config)
        self.pca: PCA | None = None

    @property
    def dim(self) -> int:
        return self.config.dim + int(self.config.residual)

    @property
    def image_size(self) -> int:
        return self.config.size

    @property
    def image_mode(self) -> str:
        return "L" if self.config.gray else "RGB"

    def _flatten(self, images: Images) -> np.ndarray:
        """``(N, size*size*C)`` float32 in [0, 1] of uint8 images (another type is refused),
        resizing images that are not ``size`` yet."""
        size = self.config.size
        rows = []
        for im in map(uint8_image, as_list(images)):  # floats in [0, 1] would read as black
            if im.shape[0] != size or im.shape[1] != size:
                pil = Image.fromarray(im[..., 0] if im.shape[-1] == 1 else im)
                im = np.asarray(pil.resize((size, size), Image.Resampling.BILINEAR))
            rows.append(np.asarray(im, dtype=np.float32).reshape(-1) / 255.0)
        return np.stack(rows)

    def fit_rows(self, n: int) -> np.ndarray:
        """Up to ``fit_samples`` row indices of ``n``, sorted, chosen with ``seed``."""
        rng = np.random.default_rng(self.config.seed)
        k = min(n, self.config.fit_samples)
        return np.sort(rng.choice(n, size=k, replace=False))

    def fit(self, images: Images) -> PixelsPCA:
        """Fit the components on ``images`` (all of them: the caller picks the sample)."""
        x = self._flatten(images)
        if len(x) <= self.config.dim:  # N images, centred, span at most N - 1 directions
            raise UserError(
                f"pixels-pca: {self.config.dim} components need at least {self.config.dim + 1} "
                f"images to fit, got {len(x)}; pass dim={max(len(x) - 1, 1)} or less (-o dim=N)"
            )
        if not np.ptp(x, axis=0).any():
            raise UserError(f"pixels-pca: the {len(x)} images fitted on are all alike (no pixel "
                            "varies): there are no components to find")
        self.pca = PCA(n_components=self.config.dim, svd_solver="full").fit(x)
        varying = int((self.pca.explained_variance_ > 1e-12 * self.pca.explained_variance_[0]).sum())
        if varying < self.config.dim:  # copies of a few images: the rest would be zero columns
            raise UserError(f"pixels-pca: the images fitted on vary in {counted(varying, 'direction')} only "
                            f"(copies of a few images?); pass dim={varying} or less (-o dim=N)")
        return self

    def embed(self, images: Images) -> np.ndarray:
        """``(N, dim)`` float32: the principal components, then (``residual``) the distance
        from their subspace, in the same units (pixels in [0, 1])."""
        if self.pca is None:
            raise RuntimeError("pixels-pca: call fit() before embed()")
        x = self._flatten(images)
        z = self.pca.transform(x)
        if self.config.residual:
            unexplained = x - self.pca.inverse_transform(z)
            z = np.concatenate([z, np.linalg.norm(unexplained, axis=1, keepdims=True)], axis=1)
        return z.astype(np.float32)

    def state_digest(self) -> str:
        if self.pca is None:
            return ""
        parts = np.concatenate([self.pca.mean_, self.pca.components_.ravel()])
        return hashlib.sha1(parts.astype(np.float64).tobytes()).hexdigest()[:16]


EMBEDDER = PixelsPCA
