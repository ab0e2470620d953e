"""A trainer setting out of range is named with its value."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from latentplay.errors import UserError
from latentplay.models.condition import ConditionPart, ConditionSpec
from latentplay.train.config import build_config


@pytest.mark.parametrize(("item", "message"), [
    ("trainer.epochs=0", "trainer.epochs must be at least 1, got 0"),
    ("trainer.batch_size=0", "trainer.batch_size must be at least 1, got 0"),
    ("trainer.log_every=0", "trainer.log_every must be at least 1, got 0"),
    ("trainer.max_steps=-1", "trainer.max_steps must be at least 0 (0: no limit), got -1"),
    ("trainer.nan_check_every=0", "trainer.nan_check_every must be at least 1, got 0"),
    ("trainer.checkpoint_every=-5", "trainer.checkpoint_every must be at least 0"),
    ("log.latents_max=-1", "log.latents_max must be at least 0 (0: every row), got -1"),
    ("log.samples=-3", "log.samples must be at least 0, got -3"),
    ("log.recon_images=-1", "log.recon_images must be at least 0, got -1"),
    ("seed=-1", "seed must be at least 0, got -1"),
])
def test_the_wrong_trainer_value_is_named(item: str, message: str) -> None:
    with pytest.raises(UserError) as err:
        build_config("vae", [item])
    assert str(err.value).startswith(message)


@pytest.mark.parametrize(("item", "message"), [
    ("optim.lr=-1", "optim.lr must be a finite number > 0, got -1.0"),
    ("optim.lr=0", "optim.lr must be a finite number > 0, got 0.0"),
    ("optim.lr=inf", "optim.lr must be a finite number > 0, got inf"),
    ("optim.lr=nan", "optim.lr must be a finite number > 0, got nan"),
    ("optim.betas=[0.5]", "optim.betas must be two numbers in [0, 1)"),
    ("optim.betas=[0.5,1.5]", "optim.betas must be two numbers in [0, 1)"),
    ("optim.betas=[nan,0.9]", "optim.betas must be two numbers in [0, 1)"),
    ("optim.weight_decay=-0.1", "optim.weight_decay must be a finite number >= 0, got -0.1"),
    ("optim.weight_decay=nan", "optim.weight_decay must be a finite number >= 0, got nan"),
    ("trainer.timeout_minutes=inf", "trainer.timeout_minutes must be a finite number > 0, got inf"),
    ("loss.betavae.beta=nan", "loss.betavae.beta must be a finite number >= 0, got nan"),
    ("loss.betavae.gamma=inf", "loss.betavae.gamma must be a finite number >= 0, got inf"),
    ("trainer.devices=0", "trainer.devices must be at least 1 (or -1: every GPU), got 0"),
    ("trainer.num_nodes=0", "trainer.num_nodes must be at least 1, got 0"),
    ("trainer.precision=bf17", "trainer.precision must be one of 32-true, 16-mixed, bf16-mixed"),
    ("trainer.strategy=dpp", "trainer.strategy must be one of auto, ddp"),
    # the choices were printed as a Python tuple, and the device given not at all
    ("trainer.device=tpu", "trainer.device must be one of auto, cpu, cuda, got 'tpu'"),
    ("data.split=halves", "data.split must be one of auto, rows, persons, store, got 'halves'"),
    ("data.size=48", "data.size must be one of 28, 32, 64, 128, got 48"),
    ("loss.terms=[foo]", "unknown loss term(s) 'foo'; choose from: betatcvae, betavae, dipvae_i, "
     "dipvae_ii, factorvae, infovae"),
    ("family=foo", "unknown model family 'foo'; choose from: ae, cvae, dcgan, stylegan2, stylegan3, vae"),
])
def test_adam_and_fabric_settings_are_checked(item: str, message: str) -> None:
    """Settings that Adam or Fabric would reject with a traceback (after the data were decoded)
    are one UserError naming the key; the valid ones pass."""
    with pytest.raises(UserError) as err:
        build_config("vae", [item])
    assert str(err.value).startswith(message)


def test_dis_metrics_of_a_conditional_model_are_refused_before_training() -> None:
    """The metrics encode observations without a condition: a CVAE with log.dis_metrics trained
    an epoch and then failed with the Python API's advice to pass condition=..."""
    with pytest.raises(UserError, match="log.dis_metrics encodes images without a condition; this "
                                        "cvae is conditioned on smile"):
        build_config("cvae", ["model.condition=[smile]", "log.dis_metrics=[mig_fast]"])
    assert build_config("vae", ["log.dis_metrics=[mig_fast]"]).log.dis_metrics == ["mig_fast"]


def test_valid_fabric_settings_pass() -> None:
    config = build_config("vae", ["trainer.precision=bf16-mixed", "trainer.strategy=DDP",
                                  "trainer.devices=-1", "optim.betas=[0.0,0.99]"])
    assert (config.trainer.precision, config.trainer.devices) == ("bf16-mixed", -1)


def test_cli_names_a_bad_learning_rate(cli, tmp_path) -> None:
    r = cli("train", "vae", "--data", tmp_path / "none", "--out", tmp_path / "run", "optim.lr=-1")
    assert r.code == 2 and r.err.strip() == "error: optim.lr must be a finite number > 0, got -1.0", r.err


@pytest.mark.parametrize(("args", "message"), [
    (["--epochs", "0"], "--epochs must be at least 1, got 0"),
    (["--batch-size", "-2"], "--batch-size must be at least 1, got -2"),
    (["--max-steps", "-1"], "--max-steps must be at least 0, got -1"),
    (["--seed", "-1"], "--seed must be at least 0, got -1"),
    (["trainer.epochs=0"], "trainer.epochs must be at least 1, got 0"),
])
def test_cli_names_the_option_typed(cli, tmp_path, args: list[str], message: str) -> None:  # noqa: ANN001
    """``--epochs 0`` was refused as "trainer.epochs must be ...", a key the user did not type;
    a ``key=value`` item is still named by its key."""
    r = cli("train", "vae", "--data", tmp_path / "none", "--out", tmp_path / "run", *args)
    assert r.code == 2 and r.err.strip() == f"error: {message}", r.err


def test_cli_names_the_option_typed_on_resume(cli, tmp_path) -> None:  # noqa: ANN001
    r = cli("train", "--resume", tmp_path / "run", "--epochs", "-1")
    assert r.code == 2 and r.err.strip() == "error: --epochs must be at least 1, got -1", r.err


def test_a_row_without_a_class_is_no_condition() -> None:
    """A ClassLabel column's -1 (no class) would index the last class; it is an error."""
    store = SimpleNamespace(labels=lambda name: np.array([0, 1, -1]),
                            schema=SimpleNamespace(attribute=lambda name: SimpleNamespace(
                                level_names=["f", "m"])))
    spec = ConditionSpec([ConditionPart("gender", "categorical", 2, names=["f", "m"])])
    with pytest.raises(UserError, match="'gender' has no class in 1 rows.*--where gender=f,m"):
        spec.encode_store(store)
    store.labels = lambda name: np.array([1, 0, 1])
    assert np.array_equal(spec.encode_store(store), [[0, 1], [1, 0], [0, 1]])


@pytest.mark.parametrize(("item", "key"), [
    ("trainer.epochs=abc", "trainer.epochs"), ("model.beta=[1]", "model.beta"),
    ("optim.betas=abc", "optim.betas")])
def test_a_value_of_the_wrong_type_names_its_key(item: str, key: str) -> None:
    """OmegaConf's message names the type, not the key ("Value 'abc' ... could not be
    converted to Integer"): the error line names the key given."""
    with pytest.raises(UserError, match=rf"bad config override \({key}\): "):
        build_config("vae", [item])


def test_an_unknown_key_lists_the_keys_of_its_section() -> None:
    """``model.width`` for a DCGAN said only that the key is not in DCGANConfig: the line now
    lists the keys that are."""
    with pytest.raises(UserError, match=r"Key 'width' not in 'DCGANConfig' \(its keys: latent_dim, "
                                        r"ngf, ndf, condition\)"):
        build_config("dcgan", ["model.width=16"])
