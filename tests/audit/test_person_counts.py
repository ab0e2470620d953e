"""``persons`` in ``accuracy.json`` and ``verification.json`` mean the same: the persons behind
the rows (faces) the audit judged, a row without a person counted as one (the bootstrap and
the design effect draw it as a person of its own)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from latentplay import store as st
from latentplay.audit.accuracy import group_accuracy
from latentplay.audit.verification import verify_store
from latentplay.store import Attribute, Provenance, Schema

KNOWN = np.repeat(np.arange(8), 3)
"""24 photos of 8 persons, 3 each."""


def _store(path: Path) -> st.Store:
    """The 24 photos of :data:`KNOWN`, 4 photos of no person found (``unknown``), and 3 more
    photos of a ninth person, unlabelled (left out of the accuracy audit)."""
    person = np.r_[KNOWN, [9] * 4, [8] * 3]
    n = len(person)
    label = np.r_[np.zeros(28, np.int64), [2] * 3]
    schema = Schema(attributes=[
        Attribute("person", "categorical", names=[*(f"p{i}" for i in range(9)), "unknown"]),
        Attribute("site", "categorical", names=["a", "b"]),
        Attribute("label", "categorical", names=["x", "y", "unknown"]),
        Attribute("guess", "categorical", names=["x", "y"])],
        provenance=Provenance(source="test", converter="unit"))
    rng = np.random.default_rng(0)
    z = rng.normal(size=(10, 8))[person] + 0.05 * rng.normal(size=(n, 8))
    image = st.encode_png(np.zeros((4, 4, 3), np.uint8))
    store = st.build([{"image": [image] * n, "person": person, "site": np.arange(n) % 2,
                       "label": label, "guess": (np.arange(n) % 5 == 0).astype(np.int64)}],
                     schema, path)
    return st.save(st.add_column(store, "z", z.astype(np.float32)), path)


def test_accuracy_and_verification_count_the_same_persons(tmp_path: Path) -> None:
    """The 28 judged photos show 8 known persons and 4 of no person found: 12 persons in
    both outputs; the unlabelled ninth person, whom the accuracy audit does not judge, and
    who is in no pair, is in neither count."""
    store = _store(tmp_path / "s")
    accuracy = group_accuracy(store, "guess", "label", "site", tmp_path / "a")
    assert accuracy["overall"]["n"] == 28 and accuracy["persons"] == 12
    genuine = [(a, b) for a in range(24) for b in range(a + 1, 24) if KNOWN[a] == KNOWN[b]]
    impostor = [(i, (i + 3) % 28) for i in range(28)]
    lines = ["row_a,row_b,same", *(f"{a},{b},1" for a, b in genuine),
             *(f"{a},{b},0" for a, b in impostor)]
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("\n".join(lines) + "\n")
    verification = verify_store(st.load(store.path), "z", tmp_path / "v", pairs=pairs,
                                threshold=1.0, folds=2)
    assert verification["persons"] == accuracy["persons"]
