"""Disentanglement metrics written by the engine during training (``log.dis_metrics``)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from latentplay import train
from latentplay.errors import UserError

METRICS = ["log.dis_metrics=[mig_fast,irs_fast]", "log.dis_metrics_every=1"]


def _rows(run: Path) -> list[dict[str, str]]:
    with (run / "dis_metrics.csv").open(newline="") as fh:
        return list(csv.DictReader(fh))


def test_engine_writes_dis_metrics_each_epoch_and_resume_gives_the_same_rows(
        shapes_store: Path, tiny: list[str], tmp_path: Path) -> None:
    """Rows at epochs 1 and 2 with disentanglement_lib's score names; a run stopped after
    epoch 1 and resumed writes the same rows, with the same values, as an uninterrupted one."""
    whole = train.train("vae", shapes_store, tmp_path / "whole", epochs=2, batch_size=32,
                        overrides=[*tiny, *METRICS], progress=False)
    rows = _rows(whole)
    assert [r["epoch"] for r in rows] == ["1", "2"]
    assert int(rows[1]["step"]) == 2 * int(rows[0]["step"]) > 0
    assert all(0.0 <= float(r["mig.discrete_mig"]) <= 1.0 and 0.0 <= float(r["irs.IRS"]) <= 1.0
               for r in rows)
    first = int(rows[0]["step"])
    part = train.train("vae", shapes_store, tmp_path / "part", epochs=2, max_steps=first,
                       batch_size=32, overrides=[*tiny, *METRICS], progress=False)
    assert [r["epoch"] for r in _rows(part)] == ["1"]
    train.resume(part, max_steps=0)
    assert _rows(part) == rows


def test_dis_metrics_config_errors(shapes_store: Path, tiny: list[str], tmp_path: Path) -> None:
    with pytest.raises(UserError, match="unknown metric"):
        train.train("vae", shapes_store, tmp_path / "a", epochs=1,
                    overrides=[*tiny, "log.dis_metrics=[nope]"], progress=False)
    with pytest.raises(UserError, match="encoder"):
        train.train("dcgan", shapes_store, tmp_path / "b", epochs=1,
                    overrides=["log.dis_metrics=[mig]"], progress=False)
