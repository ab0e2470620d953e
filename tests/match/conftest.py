"""Shared fixture of the matching tests: a confounded simulated store."""

from __future__ import annotations

from pathlib import Path

import pytest

from latentplay.match.synthetic import confounded, make_store


@pytest.fixture(scope="session")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """1,500 units, 3 confounders and 17 noise dimensions in vector ``z``, group, outcome."""
    path = tmp_path_factory.mktemp("sim") / "store"
    make_store(path, confounded(1500, relevant=3, irrelevant=17, seed=1))
    return path
