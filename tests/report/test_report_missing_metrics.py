"""A trained run whose metrics.csv is gone reads as such, not as a run that never started."""

from __future__ import annotations

import shutil
from pathlib import Path

from latentplay.report.training import page


def _status(run: Path) -> str:
    overview = page(run).sections[0]
    return next(value for block in overview.blocks for key, value in getattr(block, "items", [])
                if key == "status")


def test_a_trained_run_without_metrics_is_not_called_unstarted(vae_run: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(vae_run, run)
    assert _status(run) == "finished"
    (run / "metrics.csv").unlink()
    assert _status(run).startswith("trained, but its metrics.csv is missing")
    for name in ("model.safetensors", "checkpoint.pt"):
        (run / name).unlink()
    assert _status(run).startswith("not started")


def test_the_kl_figure_names_the_epoch_it_shows(tmp_path: Path) -> None:
    """A run stopped before its last epoch's test: the KL bars are of the last tested epoch."""
    from latentplay.report.training import _latents

    def row(epoch: int) -> dict[str, str]:
        return {"scope": "epoch", "epoch": str(epoch), "step": str(4 * epoch), "kl": "3",
                "kl_0": "2", "kl_1": "1"}

    stopped = _latents(tmp_path, [row(1), row(2)], [row(1)])
    assert stopped.blocks[0].caption.startswith("KL per latent dimension at epoch 1 (test split)")
    finished = _latents(tmp_path, [row(1), row(2)], [row(1), row(2)])
    assert finished.blocks[0].caption.startswith("KL per latent dimension at the last epoch")


def test_a_last_line_cut_short_is_left_out(tmp_path: Path) -> None:
    """A run killed while writing metrics.csv leaves a partial last line: it was read as a row
    (status 'finished', its epoch's time missing)."""
    from latentplay.report.training import read_metrics

    path = tmp_path / "metrics.csv"
    path.write_text("scope,epoch,step,loss,epoch_seconds\nepoch,1,4,2097.5,1.5\nepoch,2,8,20")
    assert [r["epoch"] for r in read_metrics(path)] == ["1"]
    path.write_text("scope,epoch,step,loss,epoch_seconds\nepoch,1,4,2097.5,1.5\nepoch,2,8,2095,1.4\n")
    assert [r["epoch"] for r in read_metrics(path)] == ["1", "2"]
