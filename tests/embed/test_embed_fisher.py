"""``fisher:STORE``: a recogniser trained on one store's persons verifies another store's."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from latentplay import sources
from latentplay import store as st
from latentplay.embed import column as col
from latentplay.embed.base import make_embedder
from latentplay.errors import UserError
from latentplay.metrics.verification import pair_distances


@pytest.fixture(scope="module")
def persons(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A training store (60 persons x 8 photos) and a test store of other persons."""
    root = tmp_path_factory.mktemp("fisher")
    train = sources.make("synthfaces", root / "train", n=480, seed=1,
                         overrides=["identities=60"]).path
    test = sources.make("synthfaces", root / "test", n=240, seed=2,
                        overrides=["identities=30"]).path
    return train, test


def _pairs(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    a, b = np.triu_indices(len(ids), k=1)
    return a, b, ids[a] == ids[b]


def test_learns_what_to_ignore_and_verifies_new_persons(persons: tuple[Path, Path]) -> None:
    train, test = persons
    store = col.embed_store(test, f"fisher:{train}", "fisher", options=["dim=16", "size=16"],
                            progress=False)
    store = col.embed_store(store.path, "pixels-pca", "pix", options=["dim=16"],
                            progress=False)
    ids = store.labels("identity")
    a, b, same = _pairs(ids)

    def gap(column: str) -> float:
        """Mean impostor over mean genuine distance: how far apart persons are kept."""
        d = pair_distances(st.vectors(store, column), a, b, "cosine")
        return float(d[~same].mean() / d[same].mean())

    fisher, pixels = gap("fisher"), gap("pix")
    assert fisher > 3 and fisher > 2 * pixels  # photos of one person stay together
    entry = col.embed_entry(store, "fisher")
    assert entry["persons"] == 60 and entry["embedder"] == f"fisher:{train}"
    assert st.vectors(store, "fisher").shape == (240, 16)


def test_bad_training_stores(persons: tuple[Path, Path], tmp_path: Path) -> None:
    train, _ = persons
    lone = sources.make("synthfaces", tmp_path / "lone", n=20, overrides=["identities=20"])
    plain = sources.make("synthfaces", tmp_path / "plain", n=20)
    for name, options, message in (
            (f"fisher:{lone.path}", [], "fewer than two persons with two or more"),
            (f"fisher:{plain.path}", [], "no attribute 'identity'"),
            (f"fisher:{train}", ["identity=smile"], "continuous"),
            ("fisher", [], "needs a training store"),
            (f"fisher:{train}", ["dim=300", "pca=200"], "dim <= pca")):
        with pytest.raises(UserError, match=message):
            make_embedder(name, options)
