"""A resume goes on only with what the run trained on and only when there is something left
to do: limits it has passed are refused whatever stopped it (its step limit, or a stop
signal), and so are another store or edited data settings (the held-out split was drawn again
and the epoch declared complete, silently)."""

from __future__ import annotations

import re
import signal
from pathlib import Path
from typing import Any

import pytest
import torch

from latentplay import sources, train
from latentplay.errors import UserError
from latentplay.train.checkpoint import read_meta
from latentplay.train.engine import Engine, Stopped


def _stop_at(monkeypatch: pytest.MonkeyPatch, step: int) -> None:
    """A stop signal (SIGTERM) received while the loop trains step ``step``."""
    original = Engine._train_batch

    def train_batch(self: Engine, *args: Any) -> None:
        original(self, *args)
        if self.step == step:
            self.stopped_by = signal.SIGTERM

    monkeypatch.setattr(Engine, "_train_batch", train_batch)


def _state(run: Path) -> dict[str, Any]:
    return torch.load(run / "checkpoint.pt", weights_only=True)


def test_limits_a_signal_stopped_run_has_passed_are_refused(shapes_store: Path, tiny: list[str],
                                                            tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Stopped by SIGTERM 2 steps into epoch 2, ``--resume --epochs 1`` finished the run with
    no step: latents and samples of the stopped weights, model.safetensors of epoch 1's end.
    The same run stopped there by its step limit was refused; now both are."""
    out = tmp_path / "r"
    _stop_at(monkeypatch, 11)   # 288 training rows: 9 batches of 32 an epoch
    with pytest.raises(Stopped):
        train.train("vae", shapes_store, out, epochs=3, batch_size=32, overrides=tiny, progress=False)
    monkeypatch.undo()
    state = _state(out)
    assert (state["step"], state["epoch"], state["batch"], state["finished"]) == (11, 1, 2, False)
    with pytest.raises(UserError, match="has trained 1 epoch and 2 steps of the next: pass --epochs "
                                        "above 1"):
        train.resume(out, epochs=1, progress=False)
    with pytest.raises(UserError, match="stopped at step 11 and trainer.max_steps is 10"):
        train.resume(out, max_steps=10, progress=False)
    config = (out / "config.yaml").read_text()   # edited by hand: the same refusal
    (out / "config.yaml").write_text(re.sub(r"epochs: 3", "epochs: 1", config))
    with pytest.raises(UserError, match="has trained 1 epoch and 2 steps of the next"):
        train.resume(out, progress=False)
    assert not (out / "latents.npy").exists()
    (out / "config.yaml").write_text(config)
    train.resume(out, epochs=2, progress=False)
    assert _state(out)["step"] == 18 and (out / "latents.npy").is_file()


def test_a_run_a_signal_stopped_at_its_step_limit_is_refused_as_when_the_limit_stopped_it(
        shapes_store: Path, tiny: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A stop signal during the last step a step limit allows saves before the epoch's end is
    logged; a resume then only finished (model.safetensors of the step before). It is refused
    as the finished run is, naming the limit."""
    out = tmp_path / "r"
    _stop_at(monkeypatch, 11)
    with pytest.raises(Stopped):
        train.train("vae", shapes_store, out, epochs=3, max_steps=11, batch_size=32, overrides=tiny,
                    progress=False)
    monkeypatch.undo()
    for limits in ({}, {"epochs": 5}, {"max_steps": 11}):
        with pytest.raises(UserError, match="stopped at step 11 and trainer.max_steps is 11: pass "
                                            "--max-steps above 11"):
            train.resume(out, progress=False, **limits)
    assert not (out / "latents.npy").exists()
    train.resume(out, max_steps=12, progress=False)
    assert read_meta(out)["step"] == 12


@pytest.fixture
def small_run(tmp_path: Path, tiny: list[str]) -> tuple[Path, Path]:
    """(run, store): a run of one step on a store of 150 shapes it may change."""
    store = tmp_path / "shapes"
    sources.make("shapes", store, n=150, seed=0)
    run = train.train("vae", store, tmp_path / "run", epochs=2, max_steps=1, batch_size=32,
                      overrides=tiny, progress=False)
    return run, store


def _edit(run: Path, old: str, new: str) -> str:
    """Replace ``old`` by ``new`` in the run's config.yaml; the text before."""
    text = (run / "config.yaml").read_text()
    assert old in text
    (run / "config.yaml").write_text(text.replace(old, new))
    return text


def test_resume_refuses_other_data_and_edited_data_settings(small_run: tuple[Path, Path],
                                                            shapes_store: Path) -> None:
    run, store = small_run
    config = _edit(run, f"store: {store}", f"store: {shapes_store}")
    with pytest.raises(UserError, match=rf"{shapes_store} has 320 rows to train on; {run} was trained on "
                                        r"150 rows"):
        train.resume(run, max_steps=0, progress=False)
    (run / "config.yaml").write_text(config)
    for old, new, key in (("test_fraction: 0.1", "test_fraction: 0.2", "data.test_fraction"),
                          ("batch_size: 32", "batch_size: 16", "trainer.batch_size"),
                          ("split_seed: 0", "split_seed: 3", "data.split_seed")):
        _edit(run, old, new)
        with pytest.raises(UserError, match=rf"config.yaml sets {key}=.* {run} was trained with {key}="):
            train.resume(run, max_steps=0, progress=False)
        (run / "config.yaml").write_text(config)
    sources.make("shapes", store, n=150, seed=5, overwrite=True)   # as many rows, other images
    with pytest.raises(UserError, match=f"the images of {store} differ from those {run} was trained on"):
        train.resume(run, max_steps=2, progress=False)
    assert _state(run)["step"] == 1


def test_a_checkpoint_without_the_data_record_still_resumes(small_run: tuple[Path, Path]) -> None:
    """Checkpoints saved before the record are resumed unchecked (and record the data then)."""
    run, store = small_run
    state = _state(run)
    del state["data"]
    torch.save(state, run / "checkpoint.pt")
    sources.make("shapes", store, n=150, seed=5, overwrite=True)
    train.resume(run, max_steps=2, progress=False)
    assert _state(run)["step"] == 2 and "data" in _state(run)


def test_resume_refuses_an_edited_setting_it_would_not_follow(small_run: tuple[Path, Path]) -> None:
    """An optim.lr edited in config.yaml was overwritten by the saved optimiser state on resume,
    while config.yaml (and the report) said it was used; --max-steps still changes."""
    run, _ = small_run
    config = _edit(run, "lr: 0.0005", "lr: 0.01")
    with pytest.raises(UserError, match=r"config.yaml differs from what the run trained with "
                                        r"\(optim.lr 0.0005 -> 0.01\): a resume continues"):
        train.resume(run, max_steps=2, progress=False)
    assert _state(run)["step"] == 1
    (run / "config.yaml").write_text(config)
    state = _state(run)      # a setting latentplay added since the checkpoint is no edit
    del state["config"]["optim"]["lr"]
    torch.save(state, run / "checkpoint.pt")
    train.resume(run, max_steps=2, progress=False)
    assert _state(run)["step"] == 2 and _state(run)["config"]["trainer"]["max_steps"] == 2


def test_a_second_train_or_resume_of_one_run_is_refused(shapes_store: Path, tiny: list[str],
                                                       tmp_path: Path) -> None:
    """Two `train --out R` at once both trained, their steps interleaved in metrics.csv and
    config.yaml of one beside summary.json of the other; two `--resume R` duplicated every
    row. While one holds the run's lock the other is refused; the first then goes on."""
    from latentplay.store.io import held_lock

    run = tmp_path / "r"
    lock = tmp_path / ".r.train.lock"
    with held_lock(lock):
        with pytest.raises(UserError, match=f"another latentplay train is writing {re.escape(str(run))}"):
            train.train("betavae", shapes_store, run, epochs=1, overrides=tiny, progress=False)
    assert not run.exists()
    train.train("betavae", shapes_store, run, epochs=1, overrides=tiny, progress=False)
    with held_lock(lock):
        with pytest.raises(UserError, match="another latentplay train is writing"):
            train.resume(run, epochs=2, progress=False)
    train.resume(run, epochs=2, progress=False)
    assert _state(run)["epoch"] == 2 and not lock.exists()
