"""Commands that read a run's latents.npy say why a run lacks it and what gives it one."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest


@pytest.fixture
def unfinished_run(vae_run: Path, tmp_path: Path) -> Path:
    """A copy of ``vae_run`` as a run interrupted before its end (no ``latents.npy``)."""
    run = tmp_path / "unfinished"
    shutil.copytree(vae_run, run)
    (run / "latents.npy").unlink()
    return run


@pytest.mark.parametrize("command", ["histograms", "traverse"])
def test_an_unfinished_run_points_to_resume(cli, unfinished_run: Path, tmp_path: Path,
                                            command: str) -> None:
    """It said ``latents.npy does not exist; only runs of encoder models write it`` of a VAE run,
    which is one: now that its training did not finish, and how to finish it."""
    result = cli("latent", command, unfinished_run, "--out", tmp_path / f"{command}.png")
    assert result.code == 2
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert "has no latents.npy because its training did not finish" in lines[0]
    assert f"`latentplay train --resume {unfinished_run}`" in lines[0]


def test_a_generator_run_is_told_only_encoders_write_it(cli, tmp_path: Path) -> None:
    run = tmp_path / "gan"
    run.mkdir()
    (run / "config.yaml").write_text("family: dcgan\nseed: 0\n")
    result = cli("latent", "histograms", run, "--out", tmp_path / "h.png")
    assert result.code == 2
    assert "only training runs of encoder models" in result.err and "this is a dcgan" in result.err
    assert "--resume" not in result.err


def test_a_missing_run_directory_is_named(cli, tmp_path: Path) -> None:
    result = cli("latent", "histograms", tmp_path / "nowhere", "--out", tmp_path / "h.png")
    assert result.code == 2
    assert "no such run directory" in result.err
