"""Other families and options: CVAE conditions, DCGAN, FactorVAE, term combos, CLI, loggers."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from latentplay import train
from latentplay.errors import UserError
from latentplay.store import load, load_images
from latentplay.train.config import build_config, presets
from latentplay.train.csvlog import read_table


def test_every_preset_resolves() -> None:
    names = presets()
    assert {"ae", "vae", "betavae", "betatcvae", "dipvae1", "dipvae2", "infovae", "factorvae",
            "cvae", "dcgan"} <= set(names)
    for name in names:
        cfg = build_config(name, ["data.store=x"])
        assert cfg.preset == name
    dcgan = build_config("dcgan")
    assert (dcgan.model.latent_dim, dcgan.optim.lr, dcgan.optim.betas[0],
            dcgan.trainer.batch_size) == (128, 2e-4, 0.5, 64)


def test_cvae_decodes_differently_for_different_conditions(shapes_store: Path, tiny: list[str],
                                                           tmp_path: Path) -> None:
    """Conditioned on sprite scale, the decoder draws bigger sprites for the larger scale."""
    run = train.train("cvae", shapes_store, tmp_path / "cvae", epochs=4, batch_size=32,
                      overrides=[*tiny, "model.condition=[scale]", "model.likelihood=bernoulli",
                                 "data.channels=1", "optim.lr=3e-3", "loss.betavae.beta=1"],
                      progress=False)
    z = np.zeros((4, 4), np.float32)
    small = train.decode(run, z, condition={"scale": 0})
    large = train.decode(run, z, condition={"scale": 5})
    assert large.astype(float).sum() > 1.3 * small.astype(float).sum()
    assert (run / "samples.png").is_file()
    with pytest.raises(UserError, match="conditional"):
        train.decode(run, z)


def test_dcgan_and_factorvae_and_term_combination_train(shapes_store: Path, tiny: list[str],
                                                        tmp_path: Path) -> None:
    gan = train.train("dcgan", shapes_store, tmp_path / "gan", epochs=1, max_steps=3,
                      batch_size=16, overrides=["data.size=32", "model.ngf=8", "model.ndf=8",
                                                "model.latent_dim=8", "trainer.threads=1",
                                                "log.recon_images=8", "log.samples=8"],
                      progress=False)
    assert {"loss_d", "loss_g", "d_real", "d_fake"} <= set(read_table(gan / "metrics.csv")[0])
    assert (gan / "samples.gif").is_file() and (gan / "samples.png").is_file()
    assert train.sample(gan, 2).shape == (2, 32, 32, 1)
    fv = train.train("factorvae", shapes_store, tmp_path / "fv", epochs=1, max_steps=3,
                     batch_size=16, overrides=[*tiny, "loss.factorvae.hidden=32"], progress=False)
    assert "factorvae/adversary" in read_table(fv / "metrics.csv")[0]
    combo = train.train("betatcvae", shapes_store, tmp_path / "combo", epochs=1, max_steps=3,
                        batch_size=16, overrides=[*tiny, "loss.terms=[betatcvae,dipvae_ii]"],
                        progress=False)
    header = set(read_table(combo / "metrics.csv")[0])
    assert {"betatcvae/tc", "dipvae_ii/offdiag", "dipvae_ii/diag"} <= header


def test_cli_train_and_resume(cli, shapes_store: Path, tiny: list[str], tmp_path: Path) -> None:
    out = tmp_path / "run"
    res = cli("train", "ae", "--data", shapes_store, "--out", out, "--max-steps", "2",
              "--batch-size", "16", *tiny)
    assert res.code == 0, res.err
    assert (out / "model.safetensors").is_file()
    res = cli("train", "--resume", out, "--max-steps", "4")
    assert res.code == 0, res.err
    steps = [int(r["step"]) for r in read_table(out / "metrics.csv") if r["scope"] == "step"]
    assert steps == [1, 2, 3, 4]
    # no progress bar in a log file: a line per (part of an) epoch, its numbers the tables'
    epoch = [r for r in read_table(out / "metrics.csv") if r["scope"] == "epoch"][-1]
    test = read_table(out / "test_metrics.csv")[-1]
    line = res.err.splitlines()[0]
    assert line.startswith("epoch 1/") and "stopped after 4 batches by --max-steps 4, step 4)" in line, line
    assert f"loss {float(epoch['loss']):.5g}, test loss {float(test['loss']):.5g};" in line
    # the decoder started at the training images' mean (3% of the pixels are on): 4 Adam
    # steps of lr 5e-4 move the bias by at most 2e-3 from logit(mean of the training rows)
    mean = load_images(load(shapes_store), size=32).mean() / 255  # all rows: close enough
    bias = train.load_model(out).decoder.deconv[-1].bias.item()
    assert bias == pytest.approx(np.log(mean / (1 - mean)), abs=0.1)  # PyTorch init: |b| < 0.25
    bad = cli("train", "vae", "--data", shapes_store, "--out", tmp_path / "b", "loss.terms=[x]")
    assert bad.code == 2 and bad.err.startswith("error: unknown loss term")
    assert cli("train", "--resume", tmp_path / "missing").code == 2


def test_tensorboard_and_wandb_loggers_write_offline(shapes_store: Path, tiny: list[str],
                                                     tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """TensorBoard event files, and, with no WANDB_API_KEY, a W&B offline run (config +
    metrics) in RUN/wandb with error reporting off; the W&B server address is unreachable, so
    any attempt to send would fail."""
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    monkeypatch.delenv("WANDB_MODE", raising=False)
    monkeypatch.setenv("WANDB_ERROR_REPORTING", "unset")  # restored (removed) after the test
    monkeypatch.delenv("WANDB_ERROR_REPORTING")
    monkeypatch.setenv("WANDB_SILENT", "true")
    monkeypatch.setenv("WANDB_BASE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("WANDB_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("WANDB_CACHE_DIR", str(tmp_path / "cache"))
    run = train.train("vae", shapes_store, tmp_path / "run", epochs=1, max_steps=2, batch_size=16,
                      overrides=[*tiny, "log.loggers=[tensorboard,wandb]"], progress=False)
    assert list((run / "tensorboard").rglob("events.out.tfevents.*"))
    runs = [p for p in (run / "wandb").glob("*run-*") if p.is_dir()]
    assert [p.name.startswith("offline-run-") for p in runs] == [True]
    log = next(runs[0].glob("run-*.wandb"))
    for _ in range(100):  # W&B's service writes the log from its own process
        data = log.read_bytes()
        if all(key in data for key in (b"epoch/loss", b"step/recon", b"latent_dim")):
            break
        time.sleep(0.2)
    assert b"epoch/loss" in data and b"step/recon" in data and b"latent_dim" in data, data[:80]
    core = (runs[0] / "logs" / "debug-core.log").read_text()
    assert '"disable-analytics":true' in core


def test_a_condition_array_with_nan_or_overflow_is_refused(cvae_run: Path) -> None:
    """An ``(N, K)`` condition given to :func:`train.decode` decodes only finite values: NaN,
    inf and a number beyond float32 (inf once cast) are one error, not faces of NaN."""
    model = train.load_model(cvae_run)
    good = train.condition_matrix(model.condition_spec, {"smile": [0.5, -0.5],
                                                         "gender": ["female", "male"]}, 2)
    z = np.zeros((2, 8), np.float32)
    assert train.decode(cvae_run, z, condition=good).shape[0] == 2
    for bad in (np.nan, np.inf, 1e300):
        cond = good.astype(np.float64)
        cond[1, 0] = bad
        with pytest.raises(UserError, match="condition holds 1 NaN or infinite value"):
            train.decode(cvae_run, z, condition=cond)
