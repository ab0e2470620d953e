"""`latentplay audit verify`: faces whose identity is ``unknown`` are each a person of their
own, never one person together."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from latentplay import store as st
from latentplay.audit.verification import verify_store
from latentplay.store import Attribute, Provenance, Schema

PEOPLE, PHOTOS, UNKNOWNS = 10, 4, 12


def _store(path: Path) -> st.Store:
    """``PEOPLE`` people with ``PHOTOS`` photos each, then ``UNKNOWNS`` photos whose identity is
    ``unknown``; each photo's embedding is its person's vector plus a little noise."""
    rng = np.random.default_rng(0)
    known = np.repeat(np.arange(PEOPLE), PHOTOS)
    identity = np.concatenate([known, np.full(UNKNOWNS, PEOPLE)])
    n = len(identity)
    z = rng.normal(size=(PEOPLE + UNKNOWNS, 8))[np.concatenate([known, PEOPLE + np.arange(UNKNOWNS)])]
    z += 0.05 * rng.normal(size=(n, 8))
    schema = Schema(
        attributes=[Attribute("identity", "categorical",
                              names=[*(f"p{i}" for i in range(PEOPLE)), "unknown"])],
        provenance=Provenance(source="test", converter="unit", arguments={}, counts={}))
    image = st.encode_png(np.zeros((4, 4, 3), np.uint8))
    store = st.build([{"image": [image] * n, "identity": identity}], schema, path)
    return st.save(st.add_column(store, "z", z.astype(np.float32)), path)


def test_unknown_identities_form_no_genuine_pairs(tmp_path: Path) -> None:
    store = _store(tmp_path / "s")
    verify_store(store, "z", tmp_path / "v", n_pairs=1000, threshold=0.5, folds=2)
    with open(tmp_path / "v" / "scores.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    first_unknown = PEOPLE * PHOTOS
    genuine = [r for r in rows if r["same"] == "1"]
    assert len(genuine) == PEOPLE * PHOTOS * (PHOTOS - 1) // 2
    assert all(int(r["row_a"]) < first_unknown and int(r["row_b"]) < first_unknown
               for r in genuine)


def test_unknown_identities_are_persons_of_their_own(tmp_path: Path) -> None:
    """Impostor pairs of each unknown face with a known one: the unknown faces count as
    ``UNKNOWNS`` persons, not one."""
    store = _store(tmp_path / "s")
    first_unknown = PEOPLE * PHOTOS
    lines = ["row_a,row_b,same"]
    lines += [f"{p * PHOTOS},{p * PHOTOS + 1},1" for p in range(PEOPLE)]
    lines += [f"{k % PEOPLE * PHOTOS + 2},{first_unknown + k},0" for k in range(UNKNOWNS)]
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("\n".join(lines) + "\n")
    s = verify_store(store, "z", tmp_path / "v", pairs=pairs, identity="identity",
                     threshold=0.5, folds=2)
    assert s["persons"] == PEOPLE + UNKNOWNS
