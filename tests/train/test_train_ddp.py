"""Two-process DDP on CPU (gloo) through Lightning Fabric."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest

from latentplay import train
from latentplay.errors import UserError
from latentplay.train.config import build_config
from latentplay.train.csvlog import read_table
from latentplay.train.engine import make_fabric


@pytest.mark.parametrize("strategy", ["ddp", "DDP", "ddp_spawn", "ddp_find_unused_parameters_true", "auto"])
def test_the_process_group_waits_as_long_as_trainer_timeout_minutes(strategy: str) -> None:
    """Process 0 alone evaluates (figures, log.dis_metrics, fidelity) while the others wait at
    a barrier: the process group's timeout is trainer.timeout_minutes, not torch's 30 min, and
    each strategy name keeps its own settings."""
    config = build_config("vae", ["trainer.device=cpu", "trainer.devices=2",
                                  f"trainer.strategy={strategy}", "trainer.timeout_minutes=95"])
    fabric = make_fabric(config.trainer, [])
    assert fabric.strategy._timeout == timedelta(minutes=95)
    assert fabric.strategy._start_method == ("spawn" if strategy == "ddp_spawn" else "popen")
    unused = fabric.strategy._ddp_kwargs.get("find_unused_parameters", False)
    assert unused is (strategy == "ddp_find_unused_parameters_true")
    default = build_config("vae", ["trainer.device=cpu", "trainer.devices=2", "trainer.strategy=ddp"])
    assert make_fabric(default.trainer, []).strategy._timeout >= timedelta(hours=2)


def test_a_timeout_that_is_not_positive_is_named() -> None:
    with pytest.raises(UserError, match="trainer.timeout_minutes must be a finite number > 0, got 0"):
        build_config("vae", ["trainer.timeout_minutes=0"])


@pytest.mark.slow
def test_two_process_ddp_on_cpu(shapes_store: Path, tiny: list[str], tmp_path: Path) -> None:
    out = tmp_path / "ddp"
    cmd = [sys.executable, "-m", "latentplay.train", "vae", "--data", str(shapes_store),
           "--out", str(out), "--epochs", "2", "--batch-size", "16", "--device", "cpu", *tiny,
           "trainer.devices=2", "trainer.strategy=ddp"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = read_table(out / "metrics.csv")
    steps = [r for r in rows if r["scope"] == "step"]
    assert len(steps) == 2 * (288 // (16 * 2))  # each process sees half of every epoch
    epochs = [float(r["loss"]) for r in rows if r["scope"] == "epoch"]
    assert len(epochs) == 2 and epochs[1] < epochs[0]
    table = np.load(out / "latents.npy")
    assert table["mu"].shape == (320, 4)
    assert train.encode(out, np.zeros((2, 64, 64, 1), np.uint8)).shape == (2, 4)


@pytest.mark.slow
def test_a_ddp_run_stopped_mid_epoch_is_not_resumed_by_one_process(
        shapes_store: Path, tiny: list[str], tmp_path: Path) -> None:
    """Two processes stopped part-way through an epoch, resumed by one (config.yaml edited):
    going on from the same batch number would train on some of the epoch's images twice, so it
    is refused in one line naming the saved number of processes."""
    out = tmp_path / "ddp"
    run = [sys.executable, "-m", "latentplay.train"]
    cmd = [*run, "vae", "--data", str(shapes_store), "--out", str(out), "--epochs", "1",
           "--max-steps", "3", "--batch-size", "16", "--device", "cpu", *tiny,
           "trainer.devices=2", "trainer.strategy=ddp"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    config = (out / "config.yaml").read_text()
    assert "  devices: 2\n" in config
    (out / "config.yaml").write_text(config.replace("  devices: 2\n", "  devices: 1\n"))
    proc = subprocess.run([*run, "--resume", str(out), "--max-steps", "0"], capture_output=True,
                          text=True, timeout=600)
    last = proc.stderr.strip().splitlines()[-1]  # after Lightning's lines on the process group
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr[-3000:]
    assert last.startswith("error: ") and "saved by 2 process(es) part-way through epoch 1 " \
        "(batch 3); this run has 1" in last
