"""Faces for the measure tests: scikit-image's astronaut photo and generated synthfaces."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from skimage import data

from latentplay import sources
from latentplay.embed.faces import FaceModels


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    """``(512, 512, 3)`` uint8: one real, nearly frontal face."""
    return data.astronaut()


@pytest.fixture(scope="session")
def models() -> FaceModels:
    return FaceModels.load()


@pytest.fixture(scope="session")
def turned_faces(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """300 synthfaces whose heads turn widely (yaw std 0.5)."""
    path = tmp_path_factory.mktemp("measure") / "faces"
    sources.make("synthfaces", path, n=300, seed=1, overrides=["yaw.std=0.5"])
    return path
