"""The held-out rows depend on data.split_seed alone: runs of different seeds are tested on
the same rows (the seed still drives initialisation and batch order), and a run saved before
the setting keeps the split its seed drew."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from omegaconf import OmegaConf
from safetensors.torch import load_file

from latentplay import store as st
from latentplay import train
from latentplay.report.training import page
from latentplay.train.config import load_run_config
from latentplay.train.data import held_out_rows


def _held_out(run: Path) -> np.ndarray:
    table = np.load(run / "latents.npy")
    return np.flatnonzero(table["split"])


def test_seeds_share_the_split_and_split_seed_changes_it(shapes_store: Path, tiny: list[str],
                                                         tmp_path: Path) -> None:
    runs = {name: train.train("vae", shapes_store, tmp_path / name, epochs=1, max_steps=1,
                              batch_size=32, seed=seed, progress=False,
                              overrides=[*tiny, f"data.split_seed={split}"])
            for name, seed, split in (("a", 0, 0), ("b", 5, 0), ("c", 0, 7))}
    a, b, c = (_held_out(runs[k]) for k in "abc")
    np.testing.assert_array_equal(a, b)
    assert len(a) == 32 and not np.array_equal(a, c)
    np.testing.assert_array_equal(a, held_out_rows(st.load(shapes_store), 320, 0.1, 0, "auto"))
    wa, wb = (load_file(str(runs[k] / "model.safetensors")) for k in "ab")
    assert any(not np.array_equal(wa[k].numpy(), wb[k].numpy()) for k in wa)  # the seed still counts
    facts = dict(page(runs["c"]).sections[0].blocks[0].items)
    assert facts["images"].endswith("test fraction 0.1 (split seed 7)")


def test_a_run_saved_before_split_seed_keeps_its_seeds_split(shapes_store: Path, tiny: list[str],
                                                            tmp_path: Path) -> None:
    run = train.train("vae", shapes_store, tmp_path / "old", epochs=1, max_steps=1, batch_size=32,
                      seed=3, progress=False, overrides=[*tiny, "data.split_seed=3"])
    config = OmegaConf.load(run / "config.yaml")
    del config.data["split_seed"]                    # as saved before the setting
    OmegaConf.save(config, run / "config.yaml")
    assert load_run_config(run / "config.yaml").data.split_seed == 3
    before = _held_out(run)
    train.resume(run, max_steps=2, progress=False)
    np.testing.assert_array_equal(_held_out(run), before)
    assert OmegaConf.load(run / "config.yaml").data.split_seed == 3
