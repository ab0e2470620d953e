"""summary.json and the lines ``latentplay train`` prints when a run finishes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from latentplay import sources, store, train
from latentplay.cli import app
from latentplay.latent.sampling import effect_line
from latentplay.metrics.evaluate import append_dis_metrics
from latentplay.models.condition import ConditionPart
from latentplay.train.fidelity import record, write_reference
from latentplay.train.summary import (
    _which,
    condition_in_codes,
    discriminator_wins,
    held_text,
    summary_lines,
    write_summary,
)


def _rms(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``(N,)`` RMS difference of ``(N, S, S, C)`` images, pixels in [0, 1]."""
    return np.sqrt(((a.astype(np.float64) - b.astype(np.float64)) ** 2).mean((1, 2, 3)))


def test_reconstruction_summary_matches_a_recomputation(shapes_store: Path, tiny: list[str],
                                                        tmp_path: Path) -> None:
    """The summary's RMS is the held-out images' distance from decode(E[z|x]), recomputed
    here from latents.npy through the public API; the baseline is the mean training image's."""
    run = train.train("vae", shapes_store, tmp_path / "run", epochs=2, batch_size=32,
                      overrides=tiny, progress=False)
    summary = json.loads((run / "summary.json").read_text())
    assert (summary["epochs"], summary["batch"]) == (2, 0) and summary["step"] > 0
    assert summary["condition"] is None
    rec = summary["reconstruction"]
    latents = np.load(run / "latents.npy")
    held, trained = latents[latents["split"] == 1], latents[latents["split"] == 0]
    assert rec["split"] == "test" and rec["images"] == len(held) > 0
    model = train.load_model(run)
    data = store.load(shapes_store)
    images = train.model_input(model, store.load_images(data, held["index"])) / 255.0
    redrawn = train.decode(model, held["mu"]) / 255.0
    assert rec["rms"] == pytest.approx(_rms(images, redrawn).mean(), abs=2e-3)  # decode rounds to uint8
    mean = (train.model_input(model, store.load_images(data, trained["index"])) / 255.0).mean(0)
    assert rec["mean_image_rms"] == pytest.approx(_rms(images, mean[None]).mean(), rel=1e-5)
    assert 0 < rec["rms"] < rec["mean_image_rms"] + 0.05


def test_conditional_run_summary_and_printed_lines(tiny: list[str], tmp_path: Path) -> None:
    faces = sources.make("synthfaces", tmp_path / "faces", n=64, seed=0).path
    result = CliRunner().invoke(app, ["train", "cvae", "--data", str(faces), "--out",
                                      str(tmp_path / "run"), "--epochs", "1", "--batch-size", "16",
                                      *tiny, "model.condition=[gender,smile]"])
    assert result.exit_code == 0, result.output
    effect = json.loads((tmp_path / "run" / "summary.json").read_text())["condition"]
    assert effect["attribute"] == "gender" and (effect["first"], effect["last"]) == ("female", "male")
    assert effect["change"] > 0 and effect["diversity"] > 0
    printed = result.output.splitlines()
    lines = printed[[k for k, line in enumerate(printed) if line.startswith("run written to ")][0] + 1:]
    assert lines == ["  " + line for line in summary_lines(tmp_path / "run")] and len(lines) == 8
    steps = json.loads((tmp_path / "run" / "summary.json").read_text())["step"]
    assert lines[0].startswith(f"  trained 1 epoch ({steps} steps) in ")
    assert lines[1].startswith("  test split after epoch 1: loss ")
    assert lines[2].startswith("  reconstructions of ") and "the mean training image by" in lines[2]
    assert lines[3].startswith("  active units: ") and " of 4" in lines[3]
    assert lines[4] == "  " + effect_line("gender", "female", "male", effect["change"],
                                          effect["diversity"]) + " (samples.png)"
    held = json.loads((tmp_path / "run" / "summary.json").read_text())["condition_in_codes"]
    assert [h["attribute"] for h in held] == ["gender", "smile"]
    assert lines[5:7] == ["  " + held_text(h) for h in held]
    assert lines[7].startswith("  look at samples.png, recon.gif, force_condition.png")


def test_a_run_stopped_within_an_epoch_says_its_evaluations_came_after_its_batches(
        shapes_store: Path, tmp_path: Path) -> None:
    """Stopped by max_steps after 2 batches of its first epoch, a run said "trained 0 epochs and
    2 batches" and then "samples after epoch 1", as if the epoch had ended."""
    run = train.train("dcgan", shapes_store, tmp_path / "run", max_steps=2, batch_size=16,
                      overrides=["data.size=32", "model.ngf=8", "model.ndf=8", "model.latent_dim=8",
                                 "trainer.threads=1", "log.recon_images=8", "log.samples=8",
                                 "log.fidelity_every=1"],
                      progress=False)
    lines = summary_lines(run)
    assert lines[0].startswith("trained 0 epochs and 2 batches (2 steps) in ")
    assert [line.split(":")[0] for line in lines if " after " in line] == [
        "test split after the 2 batches of epoch 1", "samples after the 2 batches of epoch 1"]


def test_gan_summary_has_no_reconstruction(shapes_store: Path, tmp_path: Path) -> None:
    run = train.train("dcgan", shapes_store, tmp_path / "run", max_steps=2, batch_size=16,
                      overrides=["data.size=32", "model.ngf=8", "model.ndf=8", "model.latent_dim=8",
                                 "trainer.threads=1", "log.recon_images=8", "log.samples=8"],
                      progress=False)
    assert "reconstruction" not in json.loads((run / "summary.json").read_text())
    lines = summary_lines(run)
    assert lines[0].startswith("trained 0 epochs and 2 batches (2 steps) in ")
    assert lines[1].startswith("test split after the 2 batches of epoch 1: loss_d ")  # not a whole one
    assert not any(line.startswith(("reconstructions", "active units")) for line in lines)
    assert lines[-2] == ("nothing above measures the samples (a GAN has no reconstructions): train "
                         f"with log.fidelity_every=N, or run latentplay audit fidelity {run} --data "
                         "STORE --out DIR")
    assert lines[-1].startswith("look at samples.png, samples.gif; ")


def test_active_units_name_the_fewer_side() -> None:
    assert _which([0, 11, 13], 20) == " (0, 11, 13)"
    assert _which([d for d in range(20) if d != 14], 20) == " (all but 14)"
    assert _which([], 20) == "" and _which(list(range(4)), 4) == ""


def test_a_run_without_summary_prints_nothing_more(tmp_path: Path) -> None:
    assert summary_lines(tmp_path) == []


def test_tracked_evaluations_end_the_lines(tmp_path: Path) -> None:
    """The last rows of dis_metrics.csv and fidelity.csv, the held-out reference in brackets."""
    write_summary(tmp_path, {"epochs": 2, "batch": 0, "step": 10})
    append_dis_metrics(tmp_path, {"mig.discrete_mig": 0.125}, 1, 5)
    append_dis_metrics(tmp_path, {"mig.discrete_mig": 0.25, "sap.sap_score": 0.0625}, 2, 10)
    values = {"precision": 0.5, "recall": 0.25, "density": 0.75, "coverage": 0.125,
              "authenticity": 0.875, "flat": 0.0, "frechet_distance": 3.5}
    write_reference(tmp_path, {**values, "coverage": 0.625}, n=30, samples=30)
    record(tmp_path, values, epoch=2, step=10)
    lines = summary_lines(tmp_path)
    assert lines[-1].startswith("look at fidelity.png; ")  # no flat samples: no flat share
    assert lines[-3] == ("disentanglement after epoch 2: mig.discrete_mig 0.25, sap.sap_score 0.0625 "
                         "(dis_metrics.csv)")
    assert lines[-2] == ("samples after epoch 2: precision 0.5 (0.5), recall 0.25 (0.25), density "
                         "0.75 (0.75), coverage 0.125 (0.625), authenticity 0.875 (0.875), "
                         "frechet_distance 3.5 (3.5) (fidelity.csv; in brackets the held-out images')")
    record(tmp_path, {**values, "flat": 0.25}, epoch=3, step=15)
    assert "authenticity 0.875 (0.875), flat 0.25 (0), frechet_distance 3.5" in summary_lines(tmp_path)[-2]


def test_condition_in_codes_reads_what_the_codes_hold() -> None:
    """A code dimension that is the smile holds it; noise holds nothing; a class too small
    for five folds is refused by name; persons keep their photos in one fold."""
    rng = np.random.default_rng(0)
    smile = rng.uniform(-1, 1, 400)
    gender = (np.arange(400) % 2).astype(np.float32)
    codes = np.column_stack([smile + 0.01 * rng.normal(size=400), rng.normal(size=(400, 3))])
    parts = [ConditionPart("smile", "continuous", 1), ConditionPart("gender", "categorical", 2,
                                                                    names=["female", "male"])]
    held = condition_in_codes(codes, {"smile": smile, "gender": gender}, parts, None, seed=0)
    assert held[0]["linear"] > 0.99 and held[0]["folds"] == "rows" and held[0]["n"] == 400
    assert held_text(held[0]).endswith(": the codes hold it as the condition does: a forced "
                                       "value contends with them")
    assert held[1]["chance"] == 0.5 and held[1]["linear"] < 0.65
    assert held_text(held[1]).endswith(": the codes do not hold it")
    persons = np.repeat(np.arange(100), 4)
    assert condition_in_codes(codes, {"smile": smile, "gender": gender}, parts[:1], persons,
                              seed=0)[0]["folds"] == "persons"
    few = np.where(np.arange(400) < 2, 1.0, 0.0)
    (refused,) = condition_in_codes(codes, {"gender": few}, parts[1:], None, seed=0)
    assert "fewer than the 5 folds" in refused["refused"]
    assert held_text(refused).startswith("codes alone hold gender: not measured ('gender': a class")


def test_reconstruction_little_better_than_the_mean_image_is_said() -> None:
    from latentplay.train.summary import reconstruction_text

    rec = {"rms": 0.141, "mean_image_rms": 0.143, "images": 500, "split": "test"}
    assert reconstruction_text(rec) == (
        "reconstructions of 500 held-out images differ from them by 0.141 (RMS, pixels 0-1); the "
        "mean training image by 0.143: the model redraws them little better than the mean image does")
    assert reconstruction_text({**rec, "rms": 0.098, "split": "train"}) == (
        "reconstructions of 500 training images (no test split) differ from them by 0.098 (RMS, "
        "pixels 0-1); the mean training image by 0.143")
    assert reconstruction_text({**rec, "rms": 0.278, "mean_image_rms": 0.273}).endswith(
        "the mean training image by 0.273: the model redraws them no better than the mean image does")


@pytest.mark.parametrize("real, fake, flagged", [(0.992, 0.013, True), (0.93, 0.02, False),
                                                 (0.99, 0.06, False), (0.75, 0.30, False)])
def test_a_gan_whose_discriminator_wins_outright_is_flagged(tmp_path: Path, real: float, fake: float,
                                                           flagged: bool) -> None:
    """Over the last epoch (not an earlier one), mean D(real) above 0.95 and D(fake) below 0.05."""
    rows = ["scope,epoch,step,loss_d,d_real,d_fake,loss_g",
            "step,1,1,1.8,0.7,0.7,1.8", "epoch,1,10,0.03,0.99,0.01,6.0",
            f"epoch,2,20,0.05,{real},{fake},6.1"]
    (tmp_path / "metrics.csv").write_text("\n".join(rows) + "\n")
    found = discriminator_wins(tmp_path)
    assert (found is not None) == flagged
    if flagged:
        assert f"D(real) {real:.3f}, D(fake) {fake:.3f} over epoch 2" in found
    write_summary(tmp_path, {"epochs": 2, "batch": 0, "step": 20, "device": "cpu"})
    assert any(line.startswith("caution: the discriminator") for line in summary_lines(tmp_path)) == flagged


def test_a_run_without_a_discriminator_is_not_flagged(vae_run: Path) -> None:
    assert discriminator_wins(vae_run) is None
