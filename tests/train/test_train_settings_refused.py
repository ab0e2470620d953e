"""Settings that would have no effect are refused in one line (exit 2): a loss term's setting
when the term is not in loss.terms (any for a family that takes none), and an option
contradicting a key=value item of the same setting (the item silently won). A preset's own
settings, and the same value given twice, are not refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from latentplay import train
from latentplay.errors import UserError
from latentplay.train.config import build_config, load_run_config, presets


@pytest.mark.parametrize(("model", "items", "message"), [
    ("vae", ["loss.betatcvae.beta=10"],
     "loss.betatcvae.beta=10 has no effect: betatcvae is not in loss.terms (this run's loss terms "
     "are betavae); add it to loss.terms or leave the setting out"),
    ("betatcvae", ["loss.terms=[betavae]", "loss.betatcvae.beta=3"], "betatcvae is not in loss.terms"),
    ("dipvae1", ["loss.dipvae_ii.lambda_d=5"], "terms are betavae, dipvae_i)"),
    ("vae", ["loss.factorvae={gamma: 10}"], "factorvae is not in loss.terms"),
    ("dcgan", ["loss.betavae.beta=2"], "(dcgan takes no loss terms); leave the setting out"),
    ("ae", ["loss.betavae.beta=2"], "(ae takes no loss terms)"),
    ("vae", ["trainer.epochs=3", "trainer.epochs=1"], "trainer.epochs is given twice, 3 and then 1"),
])
def test_a_setting_without_effect_is_refused(model: str, items: list[str], message: str) -> None:
    with pytest.raises(UserError) as err:
        build_config(model, items)
    assert message in str(err.value)


def test_the_settings_that_take_effect_still_pass() -> None:
    """Every preset with its own settings, a term's setting with the term in use, a preset's
    other terms' settings when loss.terms changes, and a value given twice alike."""
    for name in presets():
        build_config(name, [])
    assert build_config("vae", ["loss.terms=[betatcvae]", "loss.betatcvae.beta=10"]).loss.betatcvae.beta == 10
    assert build_config("betatcvae", ["loss.terms=[betavae]"]).loss.terms == ["betavae"]
    assert build_config("betatcvae", ["loss.betatcvae.estimator=mss"]).loss.betatcvae.estimator == "mss"
    assert build_config("vae", ["trainer.epochs=3", "trainer.epochs=3"]).trainer.epochs == 3
    assert build_config("vae", ["seed=2", "seed=02"]).seed == 2
    # common items, then one changing a value of theirs: not an option, so the last wins
    assert build_config("vae", ["log.samples=16", "log.samples=12"]).log.samples == 12


def test_the_command_refuses_an_option_contradicting_an_item(shapes_store: Path, tmp_path: Path,
                                                             cli) -> None:
    result = cli("train", "vae", "--data", shapes_store, "--out", tmp_path / "r", "--epochs", "3",
                 "trainer.epochs=1")
    assert result.code == 2 and not (tmp_path / "r").exists()
    assert result.err.strip().splitlines() == [
        "error: trainer.epochs is given twice, 3 and then 1 (--epochs sets it too; in Python "
        "epochs=): give it once"]
    for option, item in ((["--batch-size", "16"], "trainer.batch_size=32"),
                         (["--seed", "1"], "seed=2"), (["--max-steps", "5"], "trainer.max_steps=6")):
        result = cli("train", "vae", "--data", shapes_store, "--out", tmp_path / "r", *option, item)
        assert result.code == 2 and f"({option[0]} sets it too" in result.err
    result = cli("train", "dcgan", "--data", shapes_store, "--out", tmp_path / "r",
                 "loss.betavae.beta=2")
    assert result.code == 2 and result.err.startswith("error: loss.betavae.beta=2 has no effect")
    with pytest.raises(UserError, match=r"in Python epochs="):
        train.train("vae", shapes_store, tmp_path / "r", epochs=2, overrides=["trainer.epochs=1"])


def test_a_saved_config_resumes_whatever_terms_it_holds(shapes_store: Path, tmp_path: Path) -> None:
    """config.yaml holds every term's settings; reading it back is not refused."""
    run = train.train("dcgan", shapes_store, tmp_path / "gan", epochs=1, max_steps=1, batch_size=16,
                      progress=False, overrides=["data.size=32", "model.ngf=8", "model.ndf=8",
                                                 "model.latent_dim=8", "trainer.threads=1",
                                                 "log.recon_images=8", "log.samples=8"])
    assert load_run_config(run / "config.yaml").loss.terms == []
    build_config(str(run / "config.yaml"), [])  # a saved config as a preset file
