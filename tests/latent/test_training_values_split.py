"""The training faces a sweep counts are the run's own training rows also for a run trained with
another --seed: the held-out rows follow data.split_seed, not the model's seed."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from latentplay import train
from latentplay.latent.sampling import training_values


def test_training_values_are_the_runs_training_rows_for_any_seed(faces_store: Path,
                                                                 tmp_path: Path) -> None:
    run = train.train("cvae", data=faces_store, out=tmp_path / "run", max_steps=1, batch_size=32,
                      seed=3, progress=False,
                      overrides=["data.size=32", "model.width=8", "model.hidden=32",
                                 "model.latent_dim=4", "model.condition=[smile]"])
    table = np.load(run / "latents.npy")
    trained = training_values(run, train.load_model(run).condition_spec.part("smile"))
    assert len(trained) == (table["split"] == 0).sum()
    np.testing.assert_allclose(np.sort(trained), np.sort(table[table["split"] == 0]["smile"]))
