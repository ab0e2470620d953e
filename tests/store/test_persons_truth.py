"""``data persons --truth`` scores the persons it writes (single-link groups of the pairs), not
only the pairs within the threshold (latentplay.store.persons)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from latentplay import store as st
from latentplay.store import Attribute, Provenance, Schema, VectorColumn
from latentplay.store.persons import persons_store


def _line_store(path: Path) -> Path:
    """Six rows: a, b, c, d, e one apart on a line (a, b of person p0; c, d, e of p1), f far
    away (p2). With threshold 1.2 the pairs a-b, b-c, c-d, d-e are found and chain a..e into
    one person, whose pairs a-c, a-d, ... are never within the threshold."""
    x = np.array([[0, 0], [1, 0], [2, 0], [3, 0], [4, 0], [20, 0]], np.float32)
    identity = np.array([0, 0, 1, 1, 1, 2])
    schema = Schema(attributes=[Attribute("identity", "categorical", names=["p0", "p1", "p2"])],
                    provenance=Provenance(source="test", converter="unit"),
                    vectors=[VectorColumn("face", 2)])
    cells = [st.encode_png(np.zeros((4, 4, 3), np.uint8)) for _ in identity]
    st.build([{"image": cells, "identity": identity, "face": list(x)}], schema, path)
    return path


def test_truth_scores_the_chained_persons_written(tmp_path: Path, cli) -> None:  # noqa: ANN001 - fixture
    """By hand: true same-person pairs a-b, c-d, c-e, d-e (4). Pairs within the threshold: a-b,
    b-c, c-d, d-e, three of them one person (precision 3/4, recall 3/4). The person written,
    {a..e}, holds 10 pairs, 4 of them one person (precision 4/10, recall 4/4)."""
    path = _line_store(tmp_path / "s")
    s = persons_store(path, "face", threshold=1.2, truth="identity").summary
    assert s["pairs"] == 4 and s["persons"] == 1 and s["largest"] == 5
    assert s["rows_scored"] == 6 and s["identities"] == 3 and s["identities_repeated"] == 2
    assert s["true_pairs"] == 4
    assert s["pairs_in_persons"] == 10 and s["true_pairs_in_persons"] == 4
    assert s["person_precision"] == pytest.approx(0.4) and s["person_recall"] == 1.0
    assert s["pairs_scored"] == 4 and s["found_true_pairs"] == 3
    assert s["pair_precision"] == 0.75 and s["pair_recall"] == 0.75
    names = st.load(path).schema.attribute("person").names
    assert [names[c] for c in st.load(path).labels("person")] == ["person_0001"] * 5 + ["unknown"]

    r = cli("data", "persons", path, "--column", "face", "--threshold", "1.2", "--truth", "identity",
            "--name", "again")
    assert r.code == 0, r.err
    assert ("against identity, over the 6 rows with a face vector and a named identity: "
            "2 identities with two or more rows, 4 pairs of rows of one identity") in r.out
    assert ("persons written (1 person with two or more rows, joined by chains of pairs): "
            "10 pairs of rows in one person, 4 of them one identity: precision 0.400, recall 1.000"
            ) in r.out
    assert ("pairs within 1.2 (before chaining): 4, 3 of them one identity: "
            "precision 0.750, recall 0.750") in r.out


def test_grouped_pairs_equal_counting_every_pair() -> None:
    """The contingency counts give what a loop over all N (N - 1) / 2 pairs counts."""
    from latentplay.store.persons import grouped_pairs

    rng = np.random.default_rng(0)
    found = rng.integers(-1, 12, 300)   # -1: a group of its own
    truth = rng.integers(0, 20, 300)
    i, j = np.triu_indices(300, 1)
    together = (found[i] == found[j]) & (found[i] >= 0)
    same = truth[i] == truth[j]
    assert grouped_pairs(found, truth) == (int(together.sum()), int(same.sum()),
                                           int((together & same).sum()))
    assert grouped_pairs(np.full(3, -1), np.zeros(3, np.int64)) == (0, 3, 0)
    assert grouped_pairs(np.zeros(0, np.int64), np.zeros(0, np.int64)) == (0, 0, 0)


def test_a_truth_that_names_no_person_is_refused_before_the_search(tmp_path: Path, cli) -> None:  # noqa: ANN001
    """A missing or non-categorical --truth is one error line, before the all-pairs search and
    without adding the attribute."""
    path = _line_store(tmp_path / "s")
    before = (path / "latentplay.json").read_text()
    r = cli("data", "persons", path, "--column", "face", "--threshold", "1.2", "--truth", "nope")
    assert r.code == 2 and len(r.err.strip().splitlines()) == 1 and r.err.startswith("error:"), r.err
    assert (path / "latentplay.json").read_text() == before


def test_close_pairs_in_chunks_are_every_pair_within_the_threshold(monkeypatch) -> None:  # noqa: ANN001
    """The exact distances are computed a chunk of pairs at a time (all at once took 5 GB for
    4.5 million pairs of 64-d vectors): chunks of 7 find what a loop over every pair finds."""
    from latentplay.store import persons

    x = np.random.default_rng(0).normal(size=(60, 5)).astype(np.float32)
    x[3] = np.nan                                                      # in no pair
    monkeypatch.setattr(persons, "PAIR_CHUNK", 7)
    pairs, distances = persons.close_pairs(x, 2.0)
    want = [(i, j) for i in range(60) for j in range(i + 1, 60)
            if np.isfinite(x[[i, j]]).all() and np.linalg.norm(x[i].astype(float) - x[j]) <= 2.0]
    assert len(want) > 3 * 7 and [tuple(p) for p in pairs] == want
    np.testing.assert_allclose(distances, [np.linalg.norm(x[i].astype(float) - x[j]) for i, j in want])


def test_a_threshold_joining_a_tenth_of_all_pairs_is_warned_of(tmp_path: Path, cli) -> None:  # noqa: ANN001
    """1,000 rows in 10 tight clusters of 100: every cluster one "person" (largest 100, under
    half the rows, which the warning before needed), 9.9 % of all pairs within the threshold."""
    rng = np.random.default_rng(1)
    x = (np.repeat(np.arange(10), 100)[:, None] * 50 + rng.normal(size=(1000, 2))).astype(np.float32)
    schema = Schema(attributes=[], provenance=Provenance(source="test", converter="unit"),
                    vectors=[VectorColumn("face", 2)])
    cell = st.encode_png(np.zeros((4, 4, 3), np.uint8))
    st.build([{"image": [cell] * 1000, "face": list(x)}], schema, tmp_path / "s")
    r = cli("data", "persons", tmp_path / "s", "--column", "face", "--threshold", "10")
    assert r.code == 0, r.err
    assert "largest 100" in r.out and "warning: 9.9% of all pairs of rows are within 10" in r.err
    quiet = cli("data", "persons", tmp_path / "s", "--column", "face", "--threshold", "0.05",
                "--name", "close")
    assert quiet.code == 0 and "warning" not in quiet.err
