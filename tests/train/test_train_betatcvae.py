"""A beta-TCVAE run logs MI, TC and dimKL by minibatch stratified sampling (their sum
estimates the KL) and, optimising minibatch-weighted sampling, what MWS adds to them: the
logged terms still add up to the loss optimised."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from latentplay import train
from latentplay.report.training import loss_units, read_config


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.parametrize("estimator", ["mws", "mss"])
def test_logged_terms_add_up_to_the_loss(shapes_store: Path, tiny: list[str], tmp_path: Path,
                                         estimator: str) -> None:
    run = train.train("betatcvae", shapes_store, tmp_path / estimator, epochs=1, max_steps=2,
                      batch_size=16, progress=False,
                      overrides=[*tiny, f"loss.betatcvae.estimator={estimator}"])
    parts = ["betatcvae/mi", "betatcvae/tc", "betatcvae/dimkl"]
    extra = ["betatcvae/mws_minus_mss"] if estimator == "mws" else []
    for table in ("metrics.csv", "test_metrics.csv"):
        rows = _rows(run / table)
        assert rows and set(parts + extra) <= set(rows[0])
        assert ("betatcvae/mws_minus_mss" in rows[0]) == (estimator == "mws")
        for row in rows:
            total = float(row["recon"]) + sum(float(row[k]) for k in parts + extra)
            assert float(row["loss"]) == pytest.approx(total, rel=1e-5, abs=1e-3)
    text = loss_units(read_config(run / "config.yaml")[0])
    assert "minibatch stratified sampling" in text
    assert ("betatcvae/mws_minus_mss" in text) == (estimator == "mws")


def test_a_run_saved_before_the_setting_resumes_with_its_columns(shapes_store: Path, tiny: list[str],
                                                                 tmp_path: Path) -> None:
    """A run saved before loss.betatcvae.logged logged the MWS terms optimised: resumed, it
    keeps those columns (a new column would not fit its metrics.csv) and their meaning."""
    from omegaconf import OmegaConf

    from latentplay.train.config import load_run_config

    run = train.train("betatcvae", shapes_store, tmp_path / "old", epochs=1, max_steps=2,
                      batch_size=16, progress=False,
                      overrides=[*tiny, "loss.betatcvae.logged=objective"])
    config = OmegaConf.load(run / "config.yaml")
    for key in ("estimator", "logged"):               # as saved before the settings
        del config.loss.betatcvae[key]
    OmegaConf.save(config, run / "config.yaml")
    assert load_run_config(run / "config.yaml").loss.betatcvae.logged == "objective"
    assert "loss.betatcvae.logged=mss, the default since" in loss_units(read_config(run / "config.yaml")[0])
    train.resume(run, max_steps=4, progress=False)
    rows = _rows(run / "metrics.csv")
    assert "betatcvae/mws_minus_mss" not in rows[0] and int(rows[-1]["step"]) == 4
    for row in rows:
        total = float(row["recon"]) + sum(float(row[f"betatcvae/{k}"]) for k in ("mi", "tc", "dimkl"))
        assert float(row["loss"]) == pytest.approx(total, rel=1e-5, abs=1e-3)
