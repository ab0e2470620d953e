"""The rows a training run holds out: random rows, or whole persons of the store's identity."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from omegaconf import OmegaConf

from latentplay import sources, train
from latentplay import store as st
from latentplay.errors import UserError
from latentplay.train.config import load_run_config
from latentplay.train.data import held_out_rows


@pytest.fixture(scope="module")
def persons(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("split") / "persons"
    sources.make("synthfaces", path, n=200, seed=0, overrides=["identities=40"])
    return path


def test_rows_are_drawn_as_before(shapes_store: Path) -> None:
    """``rows`` (and ``auto`` without persons) keeps the seeded permutation earlier runs used."""
    store = st.load(shapes_store)
    earlier = np.sort(np.random.default_rng(3).permutation(320)[:32])
    for split in ("rows", "auto"):
        np.testing.assert_array_equal(held_out_rows(store, 320, 0.1, 3, split), earlier)
    with pytest.raises(UserError, match="identity"):
        held_out_rows(store, 320, 0.1, 3, "persons")


def test_whole_persons_are_held_out(persons: Path) -> None:
    store = st.load(persons)
    person = np.asarray(store.labels("identity"))
    for split in ("persons", "auto"):
        test = held_out_rows(store, 200, 0.2, 1, split)
        train_rows = np.setdiff1d(np.arange(200), test)
        assert not set(person[test]) & set(person[train_rows])
        assert 40 <= len(test) <= 40 + np.bincount(person).max()
    rows = held_out_rows(store, 200, 0.2, 1, "rows")
    assert set(person[rows]) & set(person[np.setdiff1d(np.arange(200), rows)])
    assert len(held_out_rows(store, 200, 0.0, 1, "persons")) == 0


def test_a_run_holds_out_persons_and_an_older_run_keeps_rows(persons: Path, tiny: list[str],
                                                             tmp_path: Path) -> None:
    run = train.train("vae", persons, tmp_path / "vae", epochs=1, batch_size=32,
                      overrides=list(tiny), progress=False)
    table = np.load(run / "latents.npy")
    person = np.asarray(st.load(persons).labels("identity"))
    held = table["split"].astype(bool)
    assert held.any() and not set(person[held]) & set(person[~held])
    assert load_run_config(run / "config.yaml").data.split == "auto"
    config = OmegaConf.load(run / "config.yaml")
    del config.data["split"]                         # a run saved before the setting existed
    OmegaConf.save(config, run / "config.yaml")
    assert load_run_config(run / "config.yaml").data.split == "rows"


# persons of 1 to 60 rows, 200 in all
UNEQUAL = [60, 40, 30, 20, 15, 10, 8, 6, 4, 3, 2, 1, 1]


def _with_persons(path: Path, sizes: list[int]) -> st.Store:
    """The store at ``path`` (200 rows) with its identity replaced by persons of ``sizes`` rows."""
    from latentplay.sources.convert import categorical
    from latentplay.store.columns import add_attributes

    ids = np.repeat(np.arange(len(sizes)), sizes)
    attr = categorical("identity", [f"p{i}" for i in range(len(sizes))])
    return add_attributes(st.load(path), {"identity": (attr, ids)}, replace=True)


def test_persons_of_unequal_size_hold_out_about_the_fraction(persons: Path,
                                                             capsys: pytest.CaptureFixture[str]
                                                             ) -> None:
    """Persons of 1 to 60 rows: the held-out rows are within 5 of 20 % (40) for every seed
    (version 1 took persons until they held 40 rows, running past by up to a 60-row person),
    the same per seed, persons on one side only, and nothing printed."""
    store = _with_persons(persons, UNEQUAL)
    person = np.asarray(store.labels("identity"))
    worst_old = 0
    for seed in range(20):
        test = held_out_rows(store, 200, 0.2, seed, "persons")
        assert abs(len(test) - 40) <= 5
        assert not set(person[test]) & set(person[np.setdiff1d(np.arange(200), test)])
        np.testing.assert_array_equal(test, held_out_rows(store, 200, 0.2, seed, "auto"))
        old = held_out_rows(store, 200, 0.2, seed, "persons", 1)
        assert len(old) >= 40  # version 1 takes persons until they hold the 40 rows
        worst_old = max(worst_old, len(old) - 40)
    assert worst_old > 10
    assert capsys.readouterr().err == ""


def test_a_target_whole_persons_cannot_meet_is_said(persons: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """Two persons of 100 rows and test_fraction 0.1: one person is held out (half the rows),
    with one line on standard error; one person alone is still refused."""
    store = _with_persons(persons, [100, 100])
    test = held_out_rows(store, 200, 0.1, 0, "persons")
    assert len(test) == 100
    err = capsys.readouterr().err
    assert "holds out 100 of 200 rows" in err and "test_fraction=0.1" in err and err.count("\n") == 1
    again = held_out_rows(store, 200, 0.1, 0, "persons", warn=False)  # the split drawn again
    np.testing.assert_array_equal(again, test)
    assert capsys.readouterr().err == ""
    with pytest.raises(UserError, match="every row"):
        held_out_rows(_with_persons(persons, [200]), 200, 0.1, 0, "persons")


def test_a_run_saved_before_split_version_2_keeps_its_persons(tmp_path: Path) -> None:
    """A config.yaml without data.split_version (saved before it) resumes with version 1."""
    config = OmegaConf.create({"family": "vae", "data": {"split": "persons"}})
    OmegaConf.save(config, tmp_path / "config.yaml")
    assert load_run_config(tmp_path / "config.yaml").data.split_version == 1
    config.data.split_version = 2
    OmegaConf.save(config, tmp_path / "config.yaml")
    assert load_run_config(tmp_path / "config.yaml").data.split_version == 2


def test_a_resumed_run_saved_before_split_version_2_holds_out_its_old_persons(
        persons: Path, tiny: list[str], tmp_path: Path) -> None:
    """The engine draws the split of the run's own version: a run whose config.yaml predates
    data.split_version resumes holding out version 1's persons (a new draw would test on
    faces it trained on)."""
    store = st.save(_with_persons(persons, UNEQUAL), tmp_path / "unequal")
    seed = next(s for s in range(50) if not np.array_equal(
        held_out_rows(store, 200, 0.2, s, "persons", 1), held_out_rows(store, 200, 0.2, s, "persons")))
    run = train.train("vae", store.path, tmp_path / "vae", epochs=1, batch_size=32, seed=seed,
                      overrides=[*tiny, "data.test_fraction=0.2"], progress=False)
    new = np.flatnonzero(np.load(run / "latents.npy")["split"])
    np.testing.assert_array_equal(new, held_out_rows(store, 200, 0.2, seed, "persons"))
    config = OmegaConf.load(run / "config.yaml")
    del config.data["split_version"]
    OmegaConf.save(config, run / "config.yaml")
    state = torch.load(run / "checkpoint.pt", weights_only=True)
    del state["data"], state["config"]   # nor did checkpoints record their settings then
    torch.save(state, run / "checkpoint.pt")
    train.resume(run, epochs=2, progress=False)
    old = np.flatnonzero(np.load(run / "latents.npy")["split"])
    np.testing.assert_array_equal(old, held_out_rows(store, 200, 0.2, seed, "persons", 1))


def test_exact_fits_are_taken_and_the_closest_person_ends_the_split() -> None:
    """Persons visited in order are taken while they fit ``target`` (one that fits exactly
    included), then the one left that brings the total closest, if it gets closer: by hand."""
    from latentplay.train.data import _closest_persons

    photos = np.array([30, 10, 8, 5])
    assert _closest_persons(photos, np.arange(4), 40).tolist() == [0, 1]         # 30 + 10
    assert _closest_persons(photos, np.array([0, 2, 1, 3]), 40).tolist() == [0, 2]  # 38 (43 is farther)
    assert _closest_persons(photos, np.array([0, 3, 1, 2]), 44).tolist() == [0, 2, 3]  # 30 + 5 + 8
    assert _closest_persons(np.array([30, 12]), np.array([0, 1]), 36).tolist() == [0]  # 42 ties 30: kept out
    assert _closest_persons(np.array([50, 60]), np.array([1, 0]), 10).tolist() == [0]  # none fits: closest


def test_a_fraction_of_the_rows_is_rounded_to_the_nearest_row(shapes_store: Path) -> None:
    """19 rows at 0.1 hold out 2 (1.9 rounded), 14 at 0.1 one (1.4)."""
    store = st.load(shapes_store)
    assert len(held_out_rows(store, 19, 0.1, 0, "rows")) == 2
    assert len(held_out_rows(store, 14, 0.1, 0, "rows")) == 1
