"""`metrics track --seeds` killed mid-way: the same command continues, keeping the finished
seed, resuming the stopped one from its checkpoint (the same final weights and scores as a run
never stopped), and another command is refused in that folder."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import torch
from safetensors.torch import load_file

from latentplay.metrics.runs import SEEDS_STARTED, train_with_metrics

METRICS = "mig_fast,sap_fast"


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def test_a_killed_track_over_seeds_continues(shapes_store: Path, tiny: list[str], tmp_path: Path,
                                             cli) -> None:
    out = tmp_path / "track"
    args = ["metrics", "track", "betavae", "--data", str(shapes_store), "--epochs", "2",
            "--every", "2", "--metrics", METRICS, "--seeds", "0-1", *tiny,
            "trainer.checkpoint_every=3", "optim.lr=2e-3"]
    steps = out / "seed_1" / "metrics.csv"
    with subprocess.Popen([sys.executable, "-c", "from latentplay.cli import main; main()", *args,
                           "--out", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) as proc:
        deadline = time.time() + 240
        while time.time() < deadline and proc.poll() is None:
            if steps.exists() and steps.read_text().count("\nstep,") >= 7:   # past 2 checkpoints
                os.kill(proc.pid, signal.SIGKILL)
                break
            time.sleep(0.02)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL, err.decode()[-2000:]
    assert (out / "seed_0" / "summary.json").exists() and not (out / "seed_1" / "summary.json").exists()
    kept = (out / "seed_0" / "model.safetensors").stat().st_mtime_ns

    result = cli(*args, "--out", out)
    assert result.code == 0, result.err
    said = result.out + result.err
    assert "seed 0: finished earlier, kept" in said
    assert "seed 1: resumed from its checkpoint at step" in said
    assert (out / "seed_0" / "model.safetensors").stat().st_mtime_ns == kept
    assert (out / "seeds.json").exists() and (out / SEEDS_STARTED).exists()

    never = train_with_metrics("betavae", shapes_store, tmp_path / "never", epochs=2, every=2,
                               names=METRICS, progress=False,
                               overrides=[*tiny, "trainer.checkpoint_every=3", "optim.lr=2e-3", "seed=1"])
    a, b = load_file(str(never / "model.safetensors")), load_file(str(out / "seed_1" / "model.safetensors"))
    for key in a:
        assert torch.equal(a[key], b[key]), key
    assert _rows(never / "dis_metrics.csv") == _rows(out / "seed_1" / "dis_metrics.csv")

    other = cli(*[a if a != "2" else "3" for a in args], "--out", out)   # --epochs 3 --every 3
    assert other.code == 2 and "other settings (training" in other.err


def test_a_seed_stopped_while_writing_its_final_outputs_is_resumed(
        shapes_store: Path, tiny: list[str], tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    """A seed whose checkpoint was saved as finished but whose ``summary.json`` was not yet
    written was kept as finished, without its final outputs; it is resumed to write them."""
    from latentplay import train
    from latentplay.metrics.runs import seed_run
    from latentplay.train import engine

    def killed(*args: object) -> None:
        raise KeyboardInterrupt

    folder = tmp_path / "seed_0"
    monkeypatch.setattr(engine, "write_summary", killed)
    try:
        train.train("vae", shapes_store, folder, epochs=1, batch_size=64, overrides=tiny, progress=False)
    except KeyboardInterrupt:
        pass
    monkeypatch.undo()
    said: list[str] = []
    seed_run(folder, lambda f: f, said.append)
    assert said == ["resumed from its checkpoint at step 4"]
    assert (folder / "summary.json").exists()
    assert seed_run(folder, lambda f: f, said.append) == folder and said[-1] == "finished earlier, kept"
