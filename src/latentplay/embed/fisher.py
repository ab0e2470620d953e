"""``fisher:STORE``: Fisherfaces, a face recogniser trained on the identities of another store.

Belhumeur, Hespanha & Kriegman (1997): the pixels are reduced by PCA, then projected on the
directions of linear discriminant analysis that best separate the training store's identities
— the directions along which photos of one person vary least relative to how persons differ.
Unlike ``pixels-pca`` it learns what to ignore (background, pose, smile) from photos of the same
person, so it verifies identities; unlike a deep recogniser it trains in seconds on the CPU, so
the effect of *whom* it was trained on (e.g. few dark-skinned persons) can be measured:
train on one store, embed another, ``latentplay audit verify`` the second.

>>> latentplay embed test_faces --with fisher:train_faces --column fisher -o dim=64
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
from sklearn.decomposition import PCA
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

from latentplay.embed.base import Embedder, Images, as_list
from latentplay.errors import UserError
from latentplay.store.schema import class_places

BATCH = 512  # training images read at a time


@dataclass
class FisherConfig:
    """Options of the ``fisher:STORE`` embedder.

    Attributes:
        store: the training store (images and an identity attribute), usually ``fisher:STORE``.
        identity: its attribute naming the person of each photo (rows of the class ``unknown``,
            no person named, are left out).
        size: images are resized to ``size x size`` (RGB, or gray with ``gray``).
        crop: centre crop kept before resizing (1 = the whole image).
        gray: convert to gray levels first (otherwise RGB).
        pca: principal components before the discriminant analysis.
        dim: discriminant directions kept (at most persons - 1 and ``pca``).
        max_rows: at most this many training photos (chosen with ``seed``).
        seed: seed of that choice and of the PCA's randomized solver.
    """

    store: str = ""
    identity: str = "identity"
    size: int = 32
    crop: float = 1.0
    gray: bool = False
    pca: int = 200
    dim: int = 64
    max_rows: int = 50_000
    seed: int = 0

    def validate(self) -> None:
        if not 4 <= self.size <= 128:
            raise UserError(f"fisher: size must be in [4, 128], got {self.size}")
        if not 0 < self.crop <= 1:
            raise UserError(f"fisher: crop must be in (0, 1], got {self.crop}")
        if not 1 <= self.dim <= self.pca:
            raise UserError(f"fisher: need 1 <= dim <= pca, got dim={self.dim}, pca={self.pca}")
        if self.max_rows < 2:
            raise UserError(f"fisher: max_rows must be at least 2, got {self.max_rows}")


class FisherEmbedder(Embedder):
    """``(N, dim)`` discriminant coordinates of PCA-reduced pixels, fitted on a store's
    identities when the embedder is made."""

    kind = "fisher"
    config_type = FisherConfig
    arg_field = "store"

    def __init__(self, config: FisherConfig) -> None:
        super().__init__(config)
        if not config.store:
            raise UserError("the fisher embedder needs a training store: --with fisher:STORE")
        self.pca, self.lda, self.persons, self._dim = self._fit()

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def image_size(self) -> int:
        return self.config.size

    @property
    def image_mode(self) -> str:
        return "L" if self.config.gray else "RGB"

    @property
    def image_crop(self) -> float:
        return self.config.crop

    def _fit(self) -> tuple[PCA, LinearDiscriminantAnalysis, int, int]:
        """PCA and LDA fitted on the training store's photos of persons with two or more; the
        number of persons and of discriminant directions."""
        from latentplay import store as st
        from latentplay.embed.column import load_rows

        data = st.load(self.config.store)
        attr = data.schema.attribute_or_error(self.config.identity)
        if attr.kind == "continuous":
            raise UserError(f"fisher: {self.config.identity} is continuous; it must name persons")
        # the class unknown (rows no person was named for: ``latentplay data persons``' rows
        # that matched no other) is no person; -1 like a row without a class
        ids = class_places(data.labels(self.config.identity), attr.level_names)
        _, inverse, counts = np.unique(ids, return_inverse=True, return_counts=True)
        usable = np.flatnonzero((ids >= 0) & (counts[inverse] >= 2))
        rng = np.random.default_rng(self.config.seed)
        rows = np.sort(rng.choice(usable, size=min(self.config.max_rows, len(usable)),
                                  replace=False))
        persons = len(np.unique(ids[rows]))
        if persons < 2:
            raise UserError(f"fisher: {self.config.store} has fewer than two persons with two or "
                            f"more photos ({self.config.identity})")
        dim = min(self.config.dim, persons - 1)
        mode = self.image_mode
        images = np.concatenate([
            load_rows(data, rows[s:s + BATCH], size=self.config.size, mode=mode,
                      crop=self.config.crop) for s in range(0, len(rows), BATCH)])
        x = self._flatten(images)
        n_pca = min(self.config.pca, len(rows) - persons, x.shape[1])
        if n_pca < dim:
            raise UserError(f"fisher: {len(rows)} photos of {persons} persons leave {n_pca} "
                            f"principal components, fewer than dim={dim}; "
                            f"pass dim={n_pca} or less (-o dim=N)")
        pca = PCA(n_components=n_pca, svd_solver="randomized", random_state=self.config.seed)
        lda = LinearDiscriminantAnalysis(n_components=dim)
        lda.fit(pca.fit_transform(x), ids[rows])
        return pca, lda, persons, dim

    @staticmethod
    def _flatten(images: Images) -> np.ndarray:
        """``(N, size*size*C)`` float32 pixels in [0, 1] (images already at ``size``)."""
        return np.stack([np.asarray(im, dtype=np.float32).reshape(-1) / 255.0
                         for im in as_list(images)])

    def embed(self, images: Images) -> np.ndarray:
        return self.lda.transform(self.pca.transform(self._flatten(images))).astype(np.float32)

    def state_digest(self) -> str:
        parts = np.concatenate([self.pca.components_.ravel(), self.lda.scalings_.ravel()])
        return hashlib.sha1(parts.astype(np.float64).tobytes()).hexdigest()[:16]

    def describe(self) -> dict[str, object]:
        return {**super().describe(), "persons": self.persons}


EMBEDDER = FisherEmbedder
