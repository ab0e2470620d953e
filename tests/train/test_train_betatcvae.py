"""A beta-TCVAE run logs MI, TC and dimKL by minibatch stratified sampling (their sum
estimates the KL) and, optimising minibatch-weighted sampling, what MWS adds to them: the
logged terms still add up to the loss optimised."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from latentplay import train
from latentplay.report.training import loss_units


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
    config = {"family": "vae", "loss": {"terms": ["betatcvae"],
                                         "betatcvae": {"beta": 6.0, "estimator": estimator}}}
    text = loss_units(config)
    assert "minibatch stratified sampling" in text
    assert ("betatcvae/mws_minus_mss" in text) == (estimator == "mws")
