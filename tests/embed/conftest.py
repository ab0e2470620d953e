"""Stores generated for the embed tests: coloured blobs whose colour is the class."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from latentplay import store as st

COLORS = np.array([[220, 40, 40], [40, 200, 60], [50, 70, 230]], dtype=np.float32)


def blob_images(n: int, size: int = 24, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(n, size, size, 3)`` uint8 discs coloured by class, with brightness varying.

    Returns images, class codes ``(n,)`` (0..2) and brightness ``(n,)`` in [0, 1].
    """
    rng = np.random.default_rng(seed)
    classes = rng.integers(0, 3, n)
    bright = rng.uniform(0, 1, n).astype(np.float32)
    yy, xx = np.mgrid[:size, :size]
    images = np.zeros((n, size, size, 3), dtype=np.uint8)
    for i in range(n):
        cy, cx = rng.uniform(size * 0.35, size * 0.65, 2)
        disc = (yy - cy) ** 2 + (xx - cx) ** 2 < (size * 0.3) ** 2
        color = COLORS[classes[i]] * (0.4 + 0.6 * bright[i])
        images[i][disc] = color.astype(np.uint8)
        images[i] += rng.integers(0, 12, (size, size, 3), dtype=np.uint8)
    return images, classes, bright


def make_blob_store(path: Path, n: int = 120, size: int = 24, seed: int = 0,
                    images: np.ndarray | None = None) -> st.Store:
    """A store of ``n`` blobs with a categorical ``color`` and a continuous ``brightness``."""
    imgs, classes, bright = blob_images(n, size, seed)
    if images is not None:
        imgs = images
        n = len(images)
        classes, bright = classes[:n], bright[:n]
    schema = st.Schema(
        attributes=[
            st.Attribute("color", "categorical", names=["red", "green", "blue"]),
            st.Attribute("brightness", "continuous", range=(0.0, 1.0)),
            st.Attribute("constant", "categorical", names=["only", "never"]),
        ],
        provenance=st.Provenance(source="tests", converter="tests.embed.conftest"),
    )
    batch = {
        "image": [st.encode_png(im) for im in imgs],
        "color": classes.tolist(),
        "brightness": bright.tolist(),
        "constant": [0] * n,
    }
    return st.build([batch], schema, path)


@pytest.fixture
def blob_store(tmp_path: Path) -> Callable[..., st.Store]:
    """Factory: ``blob_store(n=120, size=24, seed=0, name="blobs")`` -> a saved store."""

    def make(n: int = 120, size: int = 24, seed: int = 0, name: str = "blobs",
             images: np.ndarray | None = None) -> st.Store:
        return make_blob_store(tmp_path / name, n, size, seed, images)

    return make


@pytest.fixture(scope="module")
def blob_store_once(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., st.Store]:
    """``blob_store`` for a module-scoped fixture: each store in a folder of its own."""

    def make(n: int = 120, size: int = 24, seed: int = 0, name: str = "blobs",
             images: np.ndarray | None = None) -> st.Store:
        return make_blob_store(tmp_path_factory.mktemp(name) / name, n, size, seed, images)

    return make
