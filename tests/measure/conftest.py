"""Faces for the measure tests: scikit-image's astronaut photo and generated synthfaces."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from skimage import data

from latentplay import sources
from latentplay import store as st
from latentplay.embed.column import load_rows
from latentplay.embed.faces import FaceModels


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    """``(512, 512, 3)`` uint8: one real, nearly frontal face."""
    return data.astronaut()


@pytest.fixture(scope="session")
def models() -> FaceModels:
    return FaceModels.load()


@pytest.fixture(scope="session")
def detected(models: FaceModels, turned_faces: Path) -> tuple[list[int], list[np.ndarray],
                                                              list[np.ndarray]]:
    """The ``turned_faces`` the HOG detector finds: their rows, images ``(64, 64, 3)`` and 68
    landmarks ``(68, 2)``."""
    store = st.load(turned_faces)
    rows, images, points = [], [], []
    for row, image in enumerate(load_rows(store, slice(0, len(store)))):
        box = models.detect(image)
        if box is not None:
            rows.append(row)
            images.append(image)
            points.append(models.landmarks68(image, box))
    return rows, images, points


@pytest.fixture(scope="session")
def turned_faces(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """300 synthfaces whose heads turn widely (yaw std 0.5)."""
    path = tmp_path_factory.mktemp("measure") / "faces"
    sources.make("synthfaces", path, n=300, seed=1, overrides=["yaw.std=0.5"])
    return path
