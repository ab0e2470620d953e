"""The embedder interface and the registry that builds embedders from names like ``vae:runs/x``.

An embedder maps a batch of images to fixed-length vectors::

    >>> emb = make_embedder("pixels-pca", ["dim=32"])
    >>> emb.fit(sample_images)              # only embedders with ``needs_fit``
    >>> z = emb.embed(images)               # (N, 32) float32

A name is ``KIND`` or ``KIND:ARG`` (``vae:runs/beta``, ``clip:weights.bin``); ``options`` are
``key=value`` items validated into the embedder's config dataclass (see each module).
"""

from __future__ import annotations

import abc
import dataclasses
import hashlib
import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from latentplay.config import resolve, to_dict
from latentplay.errors import UserError

# kind -> module defining an Embedder subclass named in its ``EMBEDDER`` attribute
REGISTRY: dict[str, str] = {
    "pixels-pca": "latentplay.embed.pixels",
    "dlib": "latentplay.embed.faces",
    "vae": "latentplay.embed.vae",
    "invert": "latentplay.embed.invert",
    "clip": "latentplay.embed.clip",
    "fisher": "latentplay.embed.fisher",
    "onnx": "latentplay.embed.onnxnet",
    "concepts": "latentplay.embed.concept_model",
}

Images = np.ndarray | Sequence[np.ndarray]
"""A batch of uint8 images: one ``(N, H, W, C)`` array, or a sequence of ``(H, W, C)`` arrays
whose sizes may differ (photos)."""


class Embedder(abc.ABC):
    """Maps images to ``(N, dim)`` float32 vectors.

    Class attributes:
        kind: registry name (``pixels-pca``, ``dlib``, ...).
        config_type: dataclass of the embedder's options.
        needs_fit: whether :meth:`fit` must see sample images before :meth:`embed`.
        image_size: side the store's images are resized to before :meth:`embed`, or None to
            pass them at their stored size.
        image_mode: PIL mode (``"RGB"``, ``"L"``) the images are converted to, or None.
        image_crop: fraction of the shorter side kept by a centred square crop before
            resizing (1 = the whole image).
        detects_faces: whether the embedder looks for a face and can fail to find one
            (:meth:`embed_rows` then flags the row).
    """

    kind: ClassVar[str]
    config_type: ClassVar[type]
    needs_fit: ClassVar[bool] = False
    detects_faces: ClassVar[bool] = False
    arg_field: ClassVar[str | None] = None  # config field filled from ``KIND:ARG``

    def __init__(self, config: Any) -> None:
        self.config = config

    def __repr__(self) -> str:
        """``PixelsPCA(kind='pixels-pca', config=PixelsPCAConfig(dim=4, ...))``: what it is and
        its options."""
        return f"{type(self).__name__}(kind={self.kind!r}, config={self.config!r})"

    @property
    def name(self) -> str:
        """``kind`` or ``kind:arg`` as the user wrote it."""
        arg = getattr(self.config, self.arg_field) if self.arg_field else None
        return f"{self.kind}:{arg}" if arg else self.kind

    @property
    @abc.abstractmethod
    def dim(self) -> int:
        """Length of one embedding vector."""

    @property
    def image_size(self) -> int | None:
        return None

    @property
    def image_mode(self) -> str | None:
        return "RGB"

    @property
    def image_crop(self) -> float:
        return 1.0

    def fit_rows(self, n: int) -> np.ndarray:
        """Which of ``n`` rows :meth:`fit` should see (all, unless the embedder samples)."""
        return np.arange(n)

    def fit(self, images: Images) -> Embedder:
        """Learn what the embedder needs from sample ``images`` (no-op unless ``needs_fit``)."""
        return self

    @abc.abstractmethod
    def embed(self, images: Images) -> np.ndarray:
        """Embed one batch: ``(N, H, W, C)`` uint8 (or a list of ``(H, W, C)``) -> ``(N, dim)``."""

    def bind(self, store: Any) -> None:
        """Called by :func:`~latentplay.embed.column.embed_store` before embedding ``store``
        (a :class:`latentplay.store.Store`): lets an embedder read per-row inputs other than
        the image, such as a conditional model's condition. No-op by default."""
        return None

    def embed_rows(
        self, images: Images, rows: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Embed one batch and say which rows were embedded as intended.

        Args:
            images: the batch.
            rows: ``(N,)`` store row numbers of the batch when embedding a bound store.

        Returns:
            ``(N, dim)`` float32 vectors and an ``(N,)`` bool mask; False marks a row that got
            a fallback (e.g. no face detected). All True unless the embedder overrides this.
        """
        vectors = self.embed(images)
        return vectors, np.ones(len(vectors), dtype=bool)

    def state_digest(self) -> str:
        """A short string that changes whenever the embedder would give different vectors.

        Used to refuse resuming a partial embedding made with another fitted state.
        """
        return ""

    def describe(self) -> dict[str, Any]:
        """What made the vectors: kind, name and config (kept with the column)."""
        return {"embedder": self.name, "config": to_dict(self.config)}

    def run_record(self) -> dict[str, Any]:
        """The trained run the vectors come from, for the column's history entry: empty for an
        embedder that reads none (a ``vae:RUN`` or ``invert:RUN`` embedder names ``run`` and
        its weights' ``run_sha256``). Kept out of the resume key, so that an embedding started
        before they were recorded still resumes."""
        return {}


def file_digest(path: str | Path) -> str:
    """A short digest of ``path``'s absolute name, size and modification time ("" when it
    does not exist): the :meth:`Embedder.state_digest` of an embedder whose weights a file
    holds."""
    path = Path(path)
    if not path.exists():
        return ""
    stat = path.stat()
    key = f"{path.absolute()}:{stat.st_size}:{stat.st_mtime_ns}"
    return hashlib.sha1(key.encode()).hexdigest()[:16]


def fit_embedder(embedder: Embedder, images: np.ndarray) -> Embedder:
    """Fit ``embedder`` (when it ``needs_fit``) on its :meth:`~Embedder.fit_rows` of
    ``(N, H, W, C)`` uint8 ``images``, each prepared as :func:`embed_images` prepares them."""
    from latentplay.store.images import fitted_arrays

    if embedder.needs_fit:
        rows = embedder.fit_rows(len(images))
        embedder.fit(fitted_arrays(images[rows], embedder.image_size, embedder.image_mode,
                                   embedder.image_crop))
    return embedder


def embed_images(embedder: Embedder, images: Images,
                 batch_size: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """Embed in-memory images (not a store's), each first cropped, resized and converted as
    the embedder asks (:attr:`~Embedder.image_size`, ``image_mode``, ``image_crop``).

    Args:
        embedder: a fitted embedder.
        images: ``(N, H, W, C)`` uint8, or a sequence of ``(H, W, C)`` of any sizes.

    Returns:
        ``(N, dim)`` float32 vectors and the ``(N,)`` bool mask of rows embedded as intended
        (False: e.g. no face found, see :meth:`~Embedder.embed_rows`).
    """
    from latentplay.store.images import fitted_arrays

    vectors, ok = [], []
    for start in range(0, len(images), batch_size):
        batch = fitted_arrays(images[start:start + batch_size], embedder.image_size,
                              embedder.image_mode, embedder.image_crop)
        v, m = embedder.embed_rows(batch)
        vectors.append(v)
        ok.append(m)
    if not vectors:
        return np.zeros((0, embedder.dim), np.float32), np.zeros(0, bool)
    return np.concatenate(vectors).astype(np.float32), np.concatenate(ok)


@dataclass(frozen=True)
class EmbedderSpec:
    """A parsed embedder name: ``kind`` plus the optional ``arg`` after the colon."""

    kind: str
    arg: str | None

    @classmethod
    def parse(cls, name: str) -> EmbedderSpec:
        kind, sep, arg = name.partition(":")
        kind = kind.strip()
        if kind not in REGISTRY:
            raise UserError(f"unknown embedder {kind!r}; choose from: {', '.join(REGISTRY)}")
        return cls(kind=kind, arg=arg if sep else None)


def embedder_class(kind: str) -> type[Embedder]:
    """The :class:`Embedder` subclass registered as ``kind``."""
    if kind not in REGISTRY:
        raise UserError(f"unknown embedder {kind!r}; choose from: {', '.join(REGISTRY)}")
    return importlib.import_module(REGISTRY[kind]).EMBEDDER


def make_embedder(name: str, options: str | Sequence[str] = ()) -> Embedder:
    """Build the embedder called ``name`` (``KIND`` or ``KIND:ARG``) with ``key=value`` options.

    Raises:
        UserError: unknown kind, bad option, missing argument, or a missing optional package.
    """
    spec = EmbedderSpec.parse(name)
    cls = embedder_class(spec.kind)
    if spec.arg is not None and cls.arg_field is None:
        raise UserError(f"embedder {spec.kind!r} takes no ':' argument (got {name!r})")
    config = resolve(cls.config_type, options)
    if spec.arg is not None:  # set directly: a path is not parsed as YAML
        config = dataclasses.replace(config, **{cls.arg_field: spec.arg})
        validate = getattr(config, "validate", None)
        if callable(validate):
            validate()
    return cls(config)


def available() -> list[str]:
    """Names of the registered embedder kinds."""
    return list(REGISTRY)


def as_list(images: Images) -> list[np.ndarray]:
    """``images`` as a list of ``(H, W, C)`` uint8 arrays."""
    return list(images) if not isinstance(images, np.ndarray) else [im for im in images]
