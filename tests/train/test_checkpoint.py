"""Checkpoint files: an interrupted save leaves the previous model loadable."""

from __future__ import annotations

import errno
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from latentplay.errors import UserError
from latentplay.models import build_model, family_config
from latentplay.models.condition import ConditionSpec
from latentplay.train import checkpoint as ckpt
from latentplay.train.csvlog import CSVTable, read_table

_TINY_RUN = ["data.size=32", "model.width=16", "model.hidden=64", "trainer.threads=1",
             "model.latent_dim=8", "log.recon_images=8", "log.samples=16"]


def _save(run_dir: Path, model: torch.nn.Module, epoch: int) -> None:
    meta = ckpt.model_meta("vae", model.config, 1, 28, ConditionSpec([]), epoch, 10 * epoch)
    ckpt.save_model(run_dir, model, meta)


def test_an_interrupted_model_save_keeps_the_previous_model(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """A save killed while writing ``model.json`` used to leave the new weights beside the old
    description, whose checksum refused them; now neither file is replaced until both are
    written, and the previous model loads."""
    cfg = family_config("vae")()
    cfg.latent_dim, cfg.width, cfg.hidden = 2, 4, 8
    torch.manual_seed(0)
    first = build_model("vae", cfg, 1, 28)
    _save(tmp_path, first, epoch=1)
    second = build_model("vae", cfg, 1, 28)

    def killed(*args: object, **kwargs: object) -> str:
        raise KeyboardInterrupt

    monkeypatch.setattr(ckpt.json, "dumps", killed)
    with pytest.raises(KeyboardInterrupt):
        _save(tmp_path, second, epoch=2)
    monkeypatch.undo()
    model, meta = ckpt.load_weights(tmp_path)
    assert meta["epoch"] == 1
    for name, tensor in model.state_dict().items():
        assert torch.equal(tensor, first.state_dict()[name]), name
    _save(tmp_path, second, epoch=2)  # an uninterrupted save replaces both
    model, meta = ckpt.load_weights(tmp_path)
    assert meta["epoch"] == 2
    assert all(torch.equal(t, second.state_dict()[k]) for k, t in model.state_dict().items())


def test_a_model_save_interrupted_between_its_two_files_keeps_the_previous_model(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Both files are flushed to disk before either is renamed: a save stopped while flushing
    ``model.json`` used to leave the new weights renamed into place beside the old description,
    whose checksum refused them."""
    cfg = family_config("vae")()
    cfg.latent_dim, cfg.width, cfg.hidden = 2, 4, 8
    torch.manual_seed(0)
    first = build_model("vae", cfg, 1, 28)
    _save(tmp_path, first, epoch=1)
    flushed = []

    def fsync(fd: int) -> None:
        flushed.append(fd)
        if len(flushed) == 2:  # the second file: model.json
            raise KeyboardInterrupt

    monkeypatch.setattr(ckpt.os, "fsync", fsync)
    with pytest.raises(KeyboardInterrupt):
        _save(tmp_path, build_model("vae", cfg, 1, 28), epoch=2)
    monkeypatch.undo()
    model, meta = ckpt.load_weights(tmp_path)
    assert meta["epoch"] == 1
    assert all(torch.equal(t, first.state_dict()[k]) for k, t in model.state_dict().items())


def _two_models() -> dict[int, torch.nn.Module]:
    """Two tiny VAEs of one config and different weights, by the epoch each is saved at."""
    cfg = family_config("vae")()
    cfg.latent_dim, cfg.width, cfg.hidden = 2, 4, 8
    torch.manual_seed(0)
    return {1: build_model("vae", cfg, 1, 28), 2: build_model("vae", cfg, 1, 28)}


def _same_weights(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    return all(torch.equal(t, b.state_dict()[k]) for k, t in a.state_dict().items())


@pytest.mark.parametrize(("during", "loaded"), [("read_meta", 2), ("build_model", 1)])
def test_a_model_saved_while_it_is_loaded_loads_one_epoch_s_weights_and_description(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, during: str, loaded: int) -> None:
    """A training run saves its model each epoch while another command may be loading it: a
    save right after ``model.json`` was read (its checksum then named the previous weights) was
    refused as a modified or corrupt file, and one while the model was being built loaded the
    new weights beside the previous epoch's description. Now the weights that the description's
    checksum names are loaded: those of epoch 2 after the first case, of epoch 1 in the second."""
    models = _two_models()
    _save(tmp_path, models[1], epoch=1)
    real = getattr(ckpt, during)
    saves = []

    def then_saved(*args: object, **kwargs: object) -> object:
        found = real(*args, **kwargs)
        if not saves:
            saves.append(_save(tmp_path, models[2], epoch=2))
        return found

    monkeypatch.setattr(ckpt, during, then_saved)
    model, meta = ckpt.load_weights(tmp_path)
    assert saves and meta["epoch"] == loaded
    assert _same_weights(model, models[loaded])


def test_a_model_read_between_a_save_s_two_renames_is_read_again_once_both_are_done(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Read between the save's two renames (the new weights in place, the new ``model.json``
    still a temporary file), the model is read again after a wait, once the description is in
    place too; it was refused as a modified or corrupt file."""
    models = _two_models()
    _save(tmp_path, models[2], epoch=2)
    new_meta = (tmp_path / ckpt.MODEL_META).read_text()
    _save(tmp_path, models[1], epoch=1)
    (tmp_path / f".{ckpt.MODEL_META}.tmp").write_text(new_meta)
    _save_weights_only(tmp_path, models[2])
    waits = []

    def sleep(seconds: float) -> None:       # the save's second rename, while the reader waits
        waits.append(seconds)
        (tmp_path / f".{ckpt.MODEL_META}.tmp").replace(tmp_path / ckpt.MODEL_META)

    monkeypatch.setattr(time, "sleep", sleep)
    model, meta = ckpt.load_weights(tmp_path)
    assert len(waits) == 1 and meta["epoch"] == 2
    assert _same_weights(model, models[2])


def _save_weights_only(run_dir: Path, model: torch.nn.Module) -> None:
    """``model``'s weights as ``model.safetensors``, ``model.json`` left as it is."""
    state = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    (run_dir / ckpt.MODEL_FILE).write_bytes(ckpt.safetensors_bytes(state))


def test_a_model_whose_weights_differ_from_its_checksum_is_refused_without_waiting(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Weights edited after the save (no save under way) are refused at once."""
    models = _two_models()
    _save(tmp_path, models[1], epoch=1)
    _save_weights_only(tmp_path, models[2])
    monkeypatch.setattr(time, "sleep", lambda seconds: pytest.fail("waited"))
    with pytest.raises(UserError, match="does not match the checksum in model.json"):
        ckpt.load_weights(tmp_path)


def test_a_full_disk_stops_a_model_save_with_an_os_error_and_keeps_the_previous_model(
        tmp_path: Path, file_size_limit) -> None:
    """safetensors met a full disk with an error of its own, in words alone ("I/O error: File
    too large (os error 27)"), which the command line printed as a traceback; the weights are
    now written by Python: an OSError, the previous model kept and no scratch file left."""
    models = _two_models()
    _save(tmp_path, models[1], epoch=1)
    file_size_limit((tmp_path / ckpt.MODEL_FILE).stat().st_size // 2)
    with pytest.raises(OSError) as caught:
        _save(tmp_path, models[2], epoch=2)
    assert caught.value.errno == errno.EFBIG
    model, meta = ckpt.load_weights(tmp_path)
    assert meta["epoch"] == 1
    assert _same_weights(model, models[1])
    assert sorted(p.name for p in tmp_path.iterdir()) == [ckpt.MODEL_META, ckpt.MODEL_FILE]


def test_a_full_disk_stops_a_state_save_with_an_os_error_and_keeps_the_previous_state(
        tmp_path: Path, file_size_limit) -> None:
    """torch.save to a path met a full disk with a RuntimeError ("unexpected pos 334336 vs
    334228") and left ``.checkpoint.pt.tmp`` in the run; now an OSError, the previous state
    kept, nothing left beside it."""
    ckpt.save_state(tmp_path, {"step": torch.tensor(1), "weights": torch.zeros(1000)})
    file_size_limit(2000)
    with pytest.raises(OSError) as caught:
        ckpt.save_state(tmp_path, {"step": torch.tensor(2), "weights": torch.ones(1000)})
    assert caught.value.errno == errno.EFBIG
    state = ckpt.load_plain(tmp_path / ckpt.STATE_FILE)
    assert int(state["step"]) == 1 and torch.equal(state["weights"], torch.zeros(1000))
    assert [p.name for p in tmp_path.iterdir()] == [ckpt.STATE_FILE]


def test_a_full_disk_at_the_first_checkpoint_is_one_line_and_leaves_out_free(
        cli, tmp_path: Path, faces_store: Path, file_size_limit) -> None:
    """Training whose first checkpoint met a full disk ended with a traceback; now one line,
    exit status 2, and no run left at --out (the same command trains there again)."""
    file_size_limit(500_000)  # the weights (250 kB) fit, the training state (770 kB) does not
    res = cli("train", "vae", "--data", faces_store, "--out", tmp_path / "run", "--epochs", "1",
              "--batch-size", "32", *_TINY_RUN)
    assert res.code == 2 and res.err.strip().splitlines()[-1] == (
        "error: cannot write the outputs: File too large (a file-size limit, ulimit -f, or the "
        "file system's largest file was reached)"), res.err
    assert "Traceback" not in res.err and list(tmp_path.iterdir()) == []


def test_a_full_disk_after_a_checkpoint_says_how_to_resume(cli, tmp_path: Path, faces_store: Path,
                                                          file_size_limit) -> None:
    """A resumed run whose next save met a full disk ended with a traceback; now one line that
    names the resume, the last checkpoint's weights kept."""
    run = tmp_path / "run"
    assert cli("train", "vae", "--data", faces_store, "--out", run, "--epochs", "1",
               "--batch-size", "32", *_TINY_RUN).code == 0
    file_size_limit(200_000)  # the weights take 250 kB
    res = cli("train", "--resume", run, "--epochs", "2")
    assert res.code == 2 and res.err.strip().splitlines()[-1].endswith(
        f"; once there is room, `latentplay train --resume {run}` continues from its last "
        "checkpoint"), res.err
    assert ckpt.read_meta(run)["epoch"] == 1


def test_an_interrupted_truncation_keeps_the_table(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Resuming cuts ``metrics.csv`` back to the checkpoint's rows; killed while rewriting, the
    table is left whole (it used to be rewritten in place, losing every row)."""
    path = tmp_path / "metrics.csv"
    table = CSVTable(path, ["epoch", "loss"])
    for epoch in range(1, 5):
        table.write({"epoch": epoch, "loss": 1.0 / epoch})
    before = path.read_bytes()
    real_open = open

    def killed_while_writing(file: object, mode: str = "r", *args: object, **kwargs: object) -> object:
        if "w" in mode:
            real_open(file, mode, *args, **kwargs).close()  # the file is emptied, then the kill
            raise KeyboardInterrupt
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr("builtins.open", killed_while_writing)  # open() and Path.write_text
    monkeypatch.setattr(Path, "write_text", lambda self, *a, **k: killed_while_writing(self, "w"))
    with pytest.raises(KeyboardInterrupt):
        CSVTable(path, ["epoch", "loss"]).truncate(2)
    monkeypatch.undo()
    assert path.read_bytes() == before
    resumed = CSVTable(path, ["epoch", "loss"])
    resumed.truncate(2)
    assert [row["epoch"] for row in read_table(path)] == ["1", "2"] and resumed.rows == 2


def test_a_killed_rewrite_of_a_table_leaves_no_temporary_file_for_good(tmp_path: Path) -> None:
    """Killed while rewriting ``dis_metrics.csv``, training left its ``dis_metrics.csv.tmp`` in
    the run folder for good; the temporary file of a writer no longer running is removed by the
    next rewrite."""
    import subprocess
    import sys

    from latentplay.outputs import machine_tag
    from latentplay.train.csvlog import upsert_row

    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    (tmp_path / f".dis_metrics.csv.tmp-{machine_tag()}-{proc.pid}-0123abcd").write_text("step,mig\n1,")
    upsert_row(tmp_path / "dis_metrics.csv", {"step": 1, "mig": 0.5})
    assert [p.name for p in tmp_path.iterdir()] == ["dis_metrics.csv"]


def test_an_evaluation_repeated_after_a_resume_replaces_its_row(tmp_path: Path) -> None:
    """A row of a step already in the table replaces it; a new column widens the header (the
    earlier rows' cells empty); scores are written exactly (the shortest text that reads back)."""
    from latentplay.train.csvlog import upsert_row

    path = tmp_path / "dis_metrics.csv"
    upsert_row(path, {"step": 1, "mig": 0.5})
    upsert_row(path, {"step": 2, "mig": 0.25})
    upsert_row(path, {"step": 1, "mig": 1 / 3, "dci": 0.1})
    upsert_row(path, {"step": 3, "mig": 0.2})  # a column it lacks stays in the header
    assert path.read_text().splitlines() == ["step,mig,dci", "2,0.25,", "1,0.3333333333333333,0.1",
                                             "3,0.2,"]


def test_epoch_frames_follow_the_epochs_past_999(tmp_path: Path) -> None:
    """By name ``epoch_1000.png`` sorts between 100 and 101: the GIF's frames go by number,
    and frames of epochs after ``last`` (a run resumed from an earlier checkpoint) stay out."""
    from latentplay.report.files import last_file
    from latentplay.train.figures import epoch_frames

    for e in (1, 2, 100, 101, 999, 1000, 1001):
        (tmp_path / f"epoch_{e:03d}.png").write_bytes(b"")
    frames = [int(p.stem.split("_")[1]) for p in epoch_frames(tmp_path, 1000)]
    assert frames == [1, 2, 100, 101, 999, 1000]
    assert last_file(tmp_path, "epoch_*.png").name == "epoch_1001.png"


@pytest.mark.parametrize("key", ["family", "condition"])
def test_a_model_json_missing_a_key_is_one_clear_error(tmp_path: Path, key: str) -> None:
    """A hand-edited ``model.json`` without ``family`` or ``condition`` used to give a
    ``KeyError`` traceback when the run was loaded; now a UserError names the file and key."""
    import json

    from latentplay.errors import UserError

    cfg = family_config("vae")()
    cfg.latent_dim, cfg.width, cfg.hidden = 2, 4, 8
    _save(tmp_path, build_model("vae", cfg, 1, 28), epoch=1)
    path = tmp_path / ckpt.MODEL_META
    meta = json.loads(path.read_text())
    del meta[key]
    path.write_text(json.dumps(meta))
    with pytest.raises(UserError, match=rf"model\.json lacks the key\(s\) {key}"):
        ckpt.load_weights(tmp_path)


def test_a_long_run_gif_keeps_at_most_its_frames_evenly(tmp_path: Path) -> None:
    """1,000 epochs made a GIF of 1,000 frames rewritten every epoch (hours of writing); it now
    shows at most GIF_FRAMES evenly spaced epochs, the first and the last among them."""
    from latentplay.train.figures import GIF_FRAMES, epoch_frames

    for e in range(1, 1001):
        (tmp_path / f"epoch_{e:03d}.png").write_bytes(b"")
    frames = [int(p.stem.split("_")[1]) for p in epoch_frames(tmp_path, 1000)]
    assert len(frames) == GIF_FRAMES and frames[0] == 1 and frames[-1] == 1000
    gaps = np.diff(frames)
    assert gaps.min() >= 9 and gaps.max() <= 11
