"""``fisher:STORE``: a recogniser trained on one store's persons verifies another store's."""

from __future__ import annotations

import shutil
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


def test_learns_what_to_ignore_and_verifies_new_persons(persons: tuple[Path, Path],
                                                        tmp_path: Path) -> None:
    train, test = persons
    test = shutil.copytree(test, tmp_path / "test")  # the module's test store stays unembedded
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


def test_the_class_unknown_is_no_person(persons: tuple[Path, Path], tmp_path: Path) -> None:
    """The class ``unknown`` of a person attribute (``latentplay data persons``' photos that
    matched no other) is no one person: of 60 persons, 10 made unknown leave 50, and the
    recogniser is the one trained on the 50 persons' photos alone."""
    train, test = persons
    store = st.load(train)
    ids = np.asarray(store.labels("identity"))
    names = store.schema.attribute("identity").level_names
    person = st.Attribute("person", "categorical", names=[*names[:50], "unknown"])
    labelled = st.add_attributes(store, {"person": (person, np.minimum(ids, 50))})
    st.save(labelled, tmp_path / "named")
    named = make_embedder(f"fisher:{tmp_path / 'named'}", ["identity=person", "dim=8", "size=16"])
    assert named.persons == 50
    st.save(st.load(tmp_path / "named").select(ids < 50), tmp_path / "fifty")
    fifty = make_embedder(f"fisher:{tmp_path / 'fifty'}", ["identity=person", "dim=8", "size=16"])
    faces = col.load_rows(st.load(test), slice(0, 6), size=16, mode="RGB")
    np.testing.assert_allclose(named.embed(faces), fifty.embed(faces), rtol=1e-5, atol=1e-5)


def test_components_fit_the_persons_and_photos(persons: tuple[Path, Path], tmp_path: Path) -> None:
    """Belhumeur et al.'s sizes: at most N - c principal components (N photos of c persons),
    so that the within-person scatter is not singular, and at most c - 1 discriminant
    directions."""
    train, _ = persons
    few = make_embedder(f"fisher:{train}", ["max_rows=100", "size=16", "dim=8"])   # pca=200 asked
    assert few.pca.n_components_ == 100 - few.persons
    four = sources.make("synthfaces", tmp_path / "four", n=40, seed=4, overrides=["identities=4"])
    assert make_embedder(f"fisher:{four.path}", ["size=16"]).dim == 3   # dim=64 asked
