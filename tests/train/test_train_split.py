"""The rows a training run holds out: random rows, or whole persons of the store's identity."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
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
