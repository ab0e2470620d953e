"""Same-person pairs and clusters (latentplay.store.persons) on vectors of known persons."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from latentplay import sources
from latentplay import store as st
from latentplay.embed.base import Embedder
from latentplay.embed.column import embed_store
from latentplay.errors import UserError
from latentplay.store.persons import close_pairs, clusters, persons_store


def test_close_pairs_against_all_distances() -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((60, 5)).astype(np.float32)
    x[7] = np.nan  # left out
    for metric, threshold in (("euclidean", 1.6), ("cosine", 0.25)):
        pairs, distances = close_pairs(x, threshold, metric)
        unit = x / np.linalg.norm(x, axis=1, keepdims=True)
        full = (np.linalg.norm(x[:, None] - x[None], axis=2) if metric == "euclidean"
                else 1 - unit @ unit.T)
        i, j = np.triu_indices(60, 1)
        want = np.isfinite(full[i, j]) & (full[i, j] <= threshold)
        assert want.sum() > 5
        np.testing.assert_array_equal(pairs, np.stack([i[want], j[want]], 1))
        np.testing.assert_allclose(distances, full[i, j][want], atol=1e-5)
    with pytest.raises(UserError, match=r"metric \(--metric\) must be one of"):
        close_pairs(x, 1.0, "manhattan")


def test_a_pair_exactly_at_the_threshold_is_close() -> None:
    """Rows (0, 0) and (3, 4) are 5 apart: within a threshold of 5."""
    x = np.array([[0.0, 0.0], [3.0, 4.0], [10.0, 10.0]], np.float32)
    pairs, distances = close_pairs(x, 5.0)
    assert pairs.tolist() == [[0, 1]] and distances.tolist() == [5.0]


def test_clusters_are_connected_components_largest_first() -> None:
    pairs = np.array([[5, 6], [0, 1], [1, 2], [2, 8]])  # a chain 0-1-2-8 and a pair 5-6
    np.testing.assert_array_equal(clusters(10, pairs), [0, 0, 0, -1, -1, 1, 1, -1, 0, -1])
    np.testing.assert_array_equal(clusters(3, np.zeros((0, 2), np.int64)), [-1, -1, -1])


def test_persons_of_a_store_and_the_command(tmp_path: Path, cli) -> None:  # noqa: ANN001 - fixture
    """Photos of 30 persons, each row's vector its person's point plus noise well inside the
    threshold: the clusters are the persons, leakage across a split is counted, and a split by
    the found persons keeps each together."""
    path = tmp_path / "persons"
    store = sources.make("synthfaces", path, n=120, seed=0, overrides=["identities=30"])
    person = store.labels("identity")
    rng = np.random.default_rng(1)
    centres = rng.standard_normal((30, 16)) * 3
    x = (centres[person] + 0.05 * rng.standard_normal((120, 16))).astype(np.float32)
    x[5] = np.nan
    st.save(st.add_column(store, "face", x), path)
    st.split_store(path, test=0.5, seed=0)  # by rows: persons cross it
    found = persons_store(path, "face", threshold=0.6, truth="identity")
    s = found.summary
    assert s["persons"] == 30 and s["rows_without_vector"] == 1 and s["rows_in_persons"] == 119
    assert s["person_precision"] == 1.0 and s["person_recall"] == 1.0 and s["pairs"] == s["true_pairs"]
    assert s["pair_precision"] == 1.0 and s["pair_recall"] == 1.0 and s["identities_repeated"] == 30
    assert s["pairs_across_split"] > 0
    labels = st.load(path).labels("person")
    names = st.load(path).schema.attribute("person").names
    assert names[labels[5]] == "unknown"
    rows = np.flatnonzero(np.arange(120) != 5)
    assert all(len(np.unique(labels[rows][person[rows] == p])) == 1 for p in range(30))
    r = cli("data", "split", path, "--test", "0.3", "--group", "person", "--name", "fair", "--overwrite")
    assert r.code == 0, r.err
    fair = st.load(path).labels("fair")
    assert all(len(np.unique(fair[rows][person[rows] == p])) == 1 for p in range(30))
    r = cli("data", "persons", path, "--column", "face", "--threshold", "0.01", "--name", "tight",
            "--truth", "identity")
    assert r.code == 0, r.err
    assert "0 pairs within 0.01" in r.out and "warning" not in r.err
    assert "0 pairs of rows in one person, 0 of them one identity: precision -, recall 0.000" in r.out
    r = cli("data", "persons", path, "--column", "face", "--threshold", "100", "--name", "loose")
    assert r.code == 0 and "warning: one person holds 119 of the 119 rows with a face vector" in r.err
    r = cli("data", "persons", path, "--column", "face")
    assert r.code == 2 and "already exists" in r.err
    r = cli("data", "persons", path, "--column", "nope", "--name", "x")
    assert r.code == 2


def test_found_persons_are_the_persons_of_a_store_without_identities(tmp_path: Path) -> None:
    """A store without an identity: the persons `data persons` finds are the ones the audits
    count; a row without a vector ("unknown") is a person of its own."""
    from latentplay.store.bias import person_attribute, repeated_persons

    path = tmp_path / "anonymous"
    store = sources.make("synthfaces", path, n=90, seed=0)
    assert repeated_persons(store) is None
    person = np.arange(90) % 30
    rng = np.random.default_rng(2)
    x = (rng.standard_normal((30, 8))[person] * 3 + 0.05 * rng.standard_normal((90, 8)))
    x[7] = np.nan
    st.save(st.add_column(store, "face", x.astype(np.float32)), path)
    persons_store(path, "face", threshold=0.6)
    found = st.load(path)
    assert person_attribute(found) == "person"
    codes = repeated_persons(found)
    assert codes[7] < 0 and len(np.unique(codes)) == 31
    kept = np.arange(90) != 7
    assert all(len(np.unique(codes[kept][person[kept] == p])) == 1 for p in range(30))


@dataclass
class _NoOptions:
    """The test embedder's (empty) options."""


class _FacesOrPlaceholders(Embedder):
    """Gives each row its prepared ``(dim,)`` vector, except every fourth row, where it "finds
    no face": a zero placeholder (rows 0, 8, ...) or a whole-image vector that happens to lie on
    its person's (rows 4, 12, ...); those rows are flagged."""

    kind = "test-faces"
    config_type = _NoOptions
    detects_faces = True

    def __init__(self, points: np.ndarray) -> None:
        super().__init__(_NoOptions())
        self.points = points  # (N, dim)

    @property
    def dim(self) -> int:
        return self.points.shape[1]

    def embed(self, images: np.ndarray) -> np.ndarray:
        raise NotImplementedError("rows are needed: embed_rows")

    def embed_rows(self, images: np.ndarray, rows: np.ndarray | None = None
                   ) -> tuple[np.ndarray, np.ndarray]:
        assert rows is not None
        vectors = self.points[rows].copy()
        vectors[rows % 8 == 0] = 0.0
        return vectors, rows % 4 != 0


def test_rows_without_a_face_get_no_person(tmp_path: Path, cli) -> None:  # noqa: ANN001 - fixture
    """80 photos of 20 persons, every fourth without a face found: those rows are unknown and
    counted (their placeholders, all equal, would otherwise be one "person"), and each person's
    rows with a face are one cluster."""
    path = tmp_path / "faces"
    store = sources.make("synthfaces", path, n=80, seed=0, overrides=["identities=20"])
    person = store.labels("identity")
    rng = np.random.default_rng(3)
    points = (rng.standard_normal((20, 16)) * 3)[person] + 0.05 * rng.standard_normal((80, 16))
    embed_store(path, _FacesOrPlaceholders(points.astype(np.float32)), "face", progress=False)
    face = np.arange(80) % 4 != 0
    r = cli("data", "persons", path, "--column", "face", "--truth", "identity")
    assert r.code == 0, r.err
    found = st.load(path)
    names = found.schema.attribute("person").names
    labels = np.array(names)[found.labels("person")]
    assert (labels[~face] == "unknown").all()
    photos = np.bincount(person[face], minlength=20)  # photos with a face of each person
    for p in range(20):  # a person with two or more such photos is one cluster of them
        mine = labels[face & (person == p)]
        assert len(set(mine)) == 1 and (mine[0] == "unknown") == (photos[p] < 2)
    repeated = photos[photos >= 2]
    assert len(names) == len(repeated) + 1
    assert (f"{len(repeated)} persons with two or more rows hold {repeated.sum()} of 80 rows"
            in r.out)
    assert "20 rows without a face: no person" in r.out
    assert "over the 60 rows with a face vector" in r.out and "precision 1.000, recall 1.000" in r.out


def test_truth_rows_without_a_person_are_left_out(tmp_path: Path) -> None:
    """Rows whose true person is missing (class code -1) count in neither precision nor recall."""
    from latentplay.store import Attribute, Provenance, Schema, VectorColumn

    person = np.array([0, 0, 1, 1, -1, -1])
    x = np.array([[0, 0], [0, 0.1], [5, 5], [5, 5.1], [9, 0], [9, 0.1]], np.float32)
    schema = Schema(attributes=[Attribute("identity", "categorical", names=["p0", "p1"])],
                    provenance=Provenance(source="test", converter="unit"),
                    vectors=[VectorColumn("face", 2)])
    cells = [st.encode_png(np.zeros((4, 4, 3), np.uint8)) for _ in person]
    st.build([{"image": cells, "identity": person, "face": list(x)}], schema, tmp_path / "s")
    s = persons_store(tmp_path / "s", "face", threshold=0.5, truth="identity").summary
    assert s["pairs"] == 3 and s["true_pairs"] == 2 and s["found_true_pairs"] == 2
    assert s["pair_precision"] == 1.0 and s["pair_recall"] == 1.0 and s["rows_scored"] == 4
    assert s["pairs_in_persons"] == 2 and s["person_precision"] == 1.0 and s["person_recall"] == 1.0


def test_a_taken_name_is_refused_before_the_search(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The all-pairs search takes minutes on a large store: a name already in the store (an
    attribute without --overwrite, or any other column) is refused before it, not after."""
    from latentplay.store import persons

    path = tmp_path / "faces"
    store = sources.make("synthfaces", path, n=20, seed=0)
    st.save(st.add_column(store, "face", np.zeros((20, 4), np.float32)), path)

    def searched(*args: object, **kwargs: object) -> None:
        raise AssertionError("searched for pairs before refusing the name")

    monkeypatch.setattr(persons, "find_persons", searched)
    with pytest.raises(UserError, match="'gender' already exists.*--overwrite"):
        persons_store(path, "face", 0.6, name="gender")
    with pytest.raises(UserError, match="'face' already exists in the store$"):
        persons_store(path, "face", 0.6, name="face", overwrite=True)
    with pytest.raises(AssertionError, match="searched"):  # --overwrite of an attribute: searched
        persons_store(path, "face", 0.6, name="gender", overwrite=True)


def test_one_pair_among_three_rows_is_no_chained_cluster(tmp_path: Path, cli) -> None:  # noqa: ANN001 - fixture
    """Two photos of one person are a pair, whatever the store's size: no caution of chains."""
    from tests.store.tiny_store import tiny_store

    made = tiny_store(tmp_path / "three", n=3)
    face = np.array([[0.0, 0.0], [0.1, 0.0], [5.0, 5.0]], np.float32)
    st.save(st.add_column(made, "face", face), made.path)
    r = cli("data", "persons", made.path, "--column", "face")
    assert r.code == 0, r.err
    assert "1 pair within 0.6" in r.out and "warning" not in r.err
