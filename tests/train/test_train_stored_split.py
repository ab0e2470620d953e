"""``data.split=store``: a run holds out the store's own test (or val) part."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from latentplay import sources, train
from latentplay import store as st
from latentplay.errors import UserError
from latentplay.sources.convert import categorical
from latentplay.store.columns import add_attributes
from latentplay.store.split import split_store
from latentplay.train.data import held_out_rows


@pytest.fixture(scope="module")
def faces(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("stored") / "faces"
    sources.make("synthfaces", path, n=120, seed=0, overrides=["identities=30"])
    return path


def _with_split(path: Path, names: list[str], codes: np.ndarray) -> st.Store:
    return add_attributes(st.load(path), {"split": (categorical("split", names), codes)},
                          replace=True)


def test_the_test_part_or_else_the_val_part_is_held_out(faces: Path) -> None:
    codes = np.arange(120) % 3                       # train, val, test in turn
    three = _with_split(faces, ["train", "val", "test"], codes)
    np.testing.assert_array_equal(held_out_rows(three, 120, 0.5, 7, "store", warn=False),
                                  np.flatnonzero(codes == 2))
    two = _with_split(faces, ["train", "val"], codes % 2)        # FairFace's parts
    np.testing.assert_array_equal(held_out_rows(two, 120, 0.5, 7, "store", warn=False),
                                  np.flatnonzero(codes % 2 == 1))
    # among the first rows only (data.limit)
    np.testing.assert_array_equal(held_out_rows(three, 10, 0.5, 7, "store", warn=False), [2, 5, 8])


def test_a_store_without_a_usable_split_is_refused(faces: Path) -> None:
    with pytest.raises(UserError, match="has none.*latentplay data split"):
        held_out_rows(st.load(faces), 120, 0.2, 0, "store")
    other = _with_split(faces, ["a", "b"], np.arange(120) % 2)
    with pytest.raises(UserError, match="split has classes a, b"):
        held_out_rows(other, 120, 0.2, 0, "store")
    train_only = _with_split(faces, ["train", "test"], np.zeros(120, np.int64))
    with pytest.raises(UserError, match="test part holds 0 of the 120 rows"):
        held_out_rows(train_only, 120, 0.2, 0, "store")
    with pytest.raises(UserError, match="--split store"):
        held_out_rows(train_only, 120, 0.2, 0, "store", names=("--split ", "--test-fraction "))


def test_persons_on_both_sides_and_an_unused_split_are_said(faces: Path,
                                                            capsys: pytest.CaptureFixture[str]
                                                            ) -> None:
    """A split of rows puts persons on both sides: one warning line; one of whole persons
    none; ``auto`` on a store with a split names data.split=store."""
    by_rows = _with_split(faces, ["train", "test"], np.arange(120) % 2)
    person = np.asarray(by_rows.labels("identity"))
    both = len(set(person[::2]) & set(person[1::2]))
    assert both > 0
    held_out_rows(by_rows, 120, 0.2, 0, "store")
    err = capsys.readouterr().err
    assert f"puts {both} person(s) of identity on both sides" in err and err.count("\n") == 1
    by_persons = _with_split(faces, ["train", "test"], (person < 6).astype(np.int64))
    held_out_rows(by_persons, 120, 0.2, 0, "store")
    assert capsys.readouterr().err == ""
    held_out_rows(by_persons, 120, 0.2, 0, "auto")
    err = capsys.readouterr().err
    assert "has a split of its own (split: train" in err and "data.split=store holds out its test" in err


def test_a_run_holds_out_the_store_split_and_resumes_with_it(faces: Path, tiny: list[str],
                                                             tmp_path: Path) -> None:
    """A run of data.split=store on a store split by ``data split`` marks exactly the test
    part held out in latents.npy, whatever data.test_fraction says."""
    store = st.save(st.load(faces), tmp_path / "faces")
    split_store(store.path, test=0.25, group="identity", seed=3)
    codes = np.asarray(st.load(store.path).labels("split"))
    run = train.train("vae", store.path, tmp_path / "vae", epochs=1, batch_size=32,
                      overrides=[*tiny, "data.split=store", "data.test_fraction=0.5"],
                      progress=False)
    held = np.load(run / "latents.npy")["split"].astype(bool)
    np.testing.assert_array_equal(held, codes == 1)
    train.resume(run, epochs=2, progress=False)
    np.testing.assert_array_equal(np.load(run / "latents.npy")["split"].astype(bool), codes == 1)
