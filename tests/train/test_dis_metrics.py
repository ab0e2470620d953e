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


def test_dis_metrics_on_a_store_without_factors_is_refused_before_the_run_is_written(
        faces_store: Path, tiny: list[str], tmp_path: Path) -> None:
    """The store's factors are checked at the start (training an epoch first, then failing at
    the first evaluation, left a run directory that had to be resumed or removed), and named as
    ``data info`` shows them (not as the store's factor_<name> columns)."""
    with pytest.raises(UserError, match=r"disentanglement metrics \(log.dis_metrics\) need ground-truth "
                                        r"factors, and .* has no factor attributes \(`latentplay data "
                                        r"info` lists them as '\(factor\)'\)"):
        train.train("vae", faces_store, tmp_path / "run", epochs=1,
                    overrides=[*tiny, "log.dis_metrics=[mig_fast]"], progress=False)
    assert not (tmp_path / "run").exists()


def test_training_says_what_its_metrics_cost(shapes_store: Path, tiny: list[str], tmp_path: Path,
                                             capfd: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Training is silent while the metrics encode their images: a line on standard error
    says how many, each time, and that full sizes are far costlier than the _fast ones. (The
    evaluation itself, 17,000 images, is left out: only its call is counted.)"""
    from latentplay.metrics import runs
    from latentplay.metrics.evaluate import images_to_encode

    evaluated: list[object] = []
    monkeypatch.setattr(runs, "log_run_metrics", lambda *args, **kw: evaluated.append(args))
    train.train("vae", shapes_store, tmp_path / "r", epochs=1, max_steps=1, batch_size=32,
                overrides=[*tiny, "log.dis_metrics=[mig_fast,sap]"], progress=True)
    assert len(evaluated) == 1
    err = capfd.readouterr().err
    total = images_to_encode("mig_fast") + images_to_encode("sap")
    assert f"disentanglement metrics every 1 epoch(s) and after the last: {total:,} images" in err
    assert "_fast names take a fifth to a twentieth" in err


def test_the_ground_truth_is_built_once_per_training(shapes_store: Path, tiny: list[str],
                                                     tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """``train`` builds the store's ground truth to check its factors and the engine evaluates
    every epoch on that one; a resumed run builds it at its first evaluation, then keeps it."""
    from latentplay.metrics import runs

    built: list[object] = []
    real = runs.ground_truth_of

    def counted(data: object) -> object:
        built.append(data)
        return real(data)

    monkeypatch.setattr(runs, "ground_truth_of", counted)
    one_metric = ["log.dis_metrics=[mig_fast]", "log.dis_metrics_every=1"]  # 2,000 images each time
    run = train.train("vae", shapes_store, tmp_path / "run", epochs=2, batch_size=64,
                      overrides=[*tiny, *one_metric], progress=False)
    assert len(built) == 1 and [r["epoch"] for r in _rows(run)] == ["1", "2"]
    train.resume(run, epochs=4, progress=False)
    assert len(built) == 2 and [r["epoch"] for r in _rows(run)] == ["1", "2", "3", "4"]
