"""SIGTERM (a scheduler's preemption) and SIGINT (Ctrl-C) stop training after the batch under
way, save the state at that step and exit 143 / 130 with one line; a resume then ends with the
weights of a run never interrupted; Python callers get a KeyboardInterrupt that says how to
resume. The report says where a resume starts: the checkpoint, which may lag the last logged
step."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from latentplay import train
from latentplay.errors import UserError
from latentplay.report.training import page
from latentplay.train.csvlog import read_table

SETTINGS = ["--epochs", "2", "--batch-size", "32", "optim.lr=2e-3", "loss.betavae.beta=1"]


def _stopped(cmd: list[str], metrics: Path, after: int, sig: signal.Signals) -> tuple[int, str]:
    """Run ``latentplay train CMD`` and send ``sig`` once ``metrics`` logs ``after`` steps;
    returns its exit status and standard error."""
    proc = subprocess.Popen([sys.executable, "-m", "latentplay.train", *cmd], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if _steps_logged(metrics) >= after:
            os.kill(proc.pid, sig)
            break
        time.sleep(0.02)
    _, err = proc.communicate(timeout=120)
    return proc.returncode, err.decode()


def _steps_logged(metrics: Path) -> int:
    return metrics.read_text().count("\nstep,") if metrics.exists() else 0


@contextmanager
def _signal_self(metrics: Path, after: int, sig: signal.Signals) -> Iterator[None]:
    """Send ``sig`` to this process once ``metrics`` logs ``after`` steps (from a thread; Python
    runs the handler in the main thread), unless the block has ended by then."""
    done = threading.Event()

    def watch() -> None:
        while not done.wait(0.02):
            if _steps_logged(metrics) >= after:
                os.kill(os.getpid(), sig)
                return

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        yield
    finally:
        done.set()
        watcher.join()


def _status(run: Path) -> str:
    return dict(page(run).sections[0].blocks[0].items)["status"]


def test_sigterm_and_sigint_save_and_resume_equals_uninterrupted(shapes_store: Path,
                                                                 tiny: list[str],
                                                                 tmp_path: Path) -> None:
    whole = train.train("betavae", shapes_store, tmp_path / "whole", epochs=2, batch_size=32,
                        overrides=[*tiny, "optim.lr=2e-3", "loss.betavae.beta=1"], progress=False)
    out = tmp_path / "stopped"
    metrics = out / "metrics.csv"
    code, err = _stopped(["betavae", "--data", str(shapes_store), "--out", str(out), *SETTINGS,
                          *tiny], metrics, 3, signal.SIGTERM)
    assert code == 143, err[-2000:]
    state = torch.load(out / "checkpoint.pt", weights_only=True)
    step = state["step"]
    assert state["epoch"] == 0 and 3 <= step < 9 and state["batch"] == step  # within epoch 1
    assert err.strip().splitlines()[-1] == (f"stopped by SIGTERM at step {step}; latentplay train "
                                            f"--resume {out} continues from here")
    assert f"continues from the checkpoint at step {step} (after batch {step} of epoch 1)" in _status(out)
    # Ctrl-C in Python (a notebook's interrupt): a KeyboardInterrupt naming train.resume
    with _signal_self(metrics, step + 6, signal.SIGINT), pytest.raises(KeyboardInterrupt) as caught:
        train.resume(out, progress=False)
    assert type(caught.value).__name__ == "Stopped"
    assert str(caught.value).startswith("stopped by SIGINT at step ")
    assert str(caught.value).endswith(f"; train.resume({str(out)!r}) continues from here")
    assert torch.load(out / "checkpoint.pt", weights_only=True)["step"] > step
    train.resume(out, progress=False)
    a, b = load_file(str(whole / "model.safetensors")), load_file(str(out / "model.safetensors"))
    for key in a:
        assert torch.equal(a[key], b[key]), key
    steps = [int(r["step"]) for r in read_table(metrics) if r["scope"] == "step"]
    assert steps == list(range(1, 19))
    assert _status(out) == "finished"


def test_the_report_says_where_a_resume_starts(tmp_path: Path) -> None:
    """Logged to step 26, saved at the end of epoch 2 (step 16): a resume repeats 17 to 26."""
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.yaml").write_text("family: vae\ntrainer: {epochs: 5}\n")
    rows = ["scope,epoch,step,loss"] + [f"step,{(k - 1) // 8 + 1},{k},1.0" for k in range(1, 27)]
    (run / "metrics.csv").write_text("\n".join(rows) + "\n")
    assert "has nothing to continue from yet" in _status(run)
    torch.save({"step": 16, "epoch": 2, "batch": 0, "finished": False,
                "model": {"w": torch.zeros(3)}}, run / "checkpoint.pt")
    assert _status(run) == (
        f"stopped at step 26 (in epoch 4): still running, or interrupted; `latentplay train "
        f"--resume {run}` continues from the checkpoint at step 16 (at the end of epoch 2), "
        "repeating steps 17 to 26 (trainer.checkpoint_every=N saves every N steps)")
    (run / "checkpoint.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(UserError, match="checkpoint"):
        _status(run)


def test_sigterm_while_setting_up_leaves_out_free(cli, shapes_store: Path, tiny: list[str],  # noqa: ANN001
                                                  tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """SIGTERM while the images were decoded (before the loop's handlers) ended the process
    at once, silently, leaving a folder with only config.yaml that both --out and --resume
    refused: it is removed, as after Ctrl-C, with one line."""
    import latentplay.train.engine as engine

    load = engine.load_training_data

    def decode(*args: object, **kwargs: object) -> object:
        os.kill(os.getpid(), signal.SIGTERM)
        return load(*args, **kwargs)

    def unhandled(signum: int, frame: object) -> None:  # what would have ended the process
        raise AssertionError("SIGTERM while setting up was not handled")

    monkeypatch.setattr(engine, "load_training_data", decode)
    before = signal.signal(signal.SIGTERM, unhandled)
    out = tmp_path / "run"
    try:
        r = cli("train", "vae", "--data", shapes_store, "--out", out, *tiny)
    finally:
        signal.signal(signal.SIGTERM, before)
    assert r.code == 143, r.err[-2000:]
    assert r.err.strip().splitlines()[-1] == (
        f"stopped by SIGTERM before the first checkpoint: nothing to resume, and --out {out} is free "
        "to train into again")
    assert not out.exists()


def test_ctrl_c_while_setting_up_says_so(cli, shapes_store: Path, tiny: list[str], tmp_path: Path,  # noqa: ANN001
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C before the first checkpoint removed the folder, silently (exit 130)."""
    import latentplay.train.engine as engine

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(engine, "load_training_data", interrupted)
    out = tmp_path / "run"
    r = cli("train", "vae", "--data", shapes_store, "--out", out, *tiny)
    assert r.code == 130 and r.err.strip() == (
        f"stopped by SIGINT before the first checkpoint: nothing to resume, and --out {out} is free "
        "to train into again")
    assert not out.exists()
    with pytest.raises(KeyboardInterrupt, match="out='.*' is free to train into again"):
        train.train("vae", shapes_store, out, overrides=tiny, progress=False)
