"""The training page says what its loss values measure, and writes the training time as a
reader reads it."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from latentplay.report import training
from latentplay.report.page import Facts, Figure, Table
from latentplay.train.fidelity import record


@pytest.mark.parametrize(("seconds", "text"), [(0.57589, "0.58 s"), (12.345, "12.3 s"),
                                               (192.4, "3 min 12 s"), (59.96, "1 min 0 s"),
                                               (7500.0, "2 h 05 min"), (9.999, "10.0 s"),
                                               (3599.7, "1 h 00 min")])
def test_duration(seconds: float, text: str) -> None:
    assert training.duration(seconds) == text


def _copy(run: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(run, tmp_path / run.name,
                                ignore=shutil.ignore_patterns("checkpoint.pt", "report.html")))


def test_losses_say_their_units_and_time_is_rounded(vae_run: Path, dcgan_run: Path) -> None:
    page = training.page(vae_run)
    facts = dict(next(b for b in page.sections[0].blocks if isinstance(b, Facts)).items)
    time = facts["training time"].split(";")[0]
    assert time.endswith(" s") and len(time.split(".")[-1]) <= 4  # "0.58 s", not "0.57589 s"
    losses = next(s for s in page.sections if s.anchor == "losses")
    caption = next(b for b in losses.blocks if isinstance(b, Figure)).caption
    final = next(b for b in next(s for s in page.sections if s.anchor == "final").blocks
                 if isinstance(b, Table)).caption
    for text in (caption, final):
        assert "per image" in text and "summed over its pixels" in text and "(nats)" in text
        # the betavae/kl panel is the weighted term, beside the unweighted kl
        assert "betavae/kl is beta x kl" in text
    assert training.loss_units({"family": "ae"}).count("weighted") == 1   # no KL term to weigh
    gan = training.page(dcgan_run)
    final = next(b for b in next(s for s in gan.sections if s.anchor == "final").blocks
                 if isinstance(b, Table)).caption
    assert "logistic" in final and "d_real" in final


def test_fidelity_caption_counts_from_the_table(vae_run: Path, tmp_path: Path) -> None:
    run = _copy(vae_run, tmp_path)
    record(run, {"precision": 0.5, "recall": 0.25, "density": 0.75, "coverage": 0.125,
                 "frechet_distance": 3.5, "n_samples": 96, "n_real": 96}, epoch=1, step=5)
    section = next(s for s in training.page(run).sections if s.anchor == "fidelity")
    table = next(b for b in section.blocks if isinstance(b, Table))
    assert table.caption.startswith("fidelity.csv: 96 prior samples against as many")


def test_rows_per_epoch_in_epoch_order_and_kl_in_dimension_order() -> None:
    """A resumed run rewrites epoch 2 after epoch 3's row: one row per epoch, the last written,
    in epoch order; ``kl_10`` is the eleventh dimension, after ``kl_9`` (not after ``kl_1``)."""
    rows = [{"epoch": "1", "loss": "9"}, {"epoch": "3", "loss": "7"}, {"epoch": "2", "loss": "8"},
            {"epoch": "2", "loss": "6"}]
    assert training.by_epoch(rows) == [rows[0], rows[3], rows[1]]
    row = {f"kl_{d}": str(d / 10) for d in range(12)} | {"epoch": "4", "kl": "6.6"}
    assert training.kl_per_dim(row).tolist() == pytest.approx([d / 10 for d in range(12)])


def test_loss_curves_draw_each_epochs_value_under_its_split(monkeypatch: pytest.MonkeyPatch) -> None:
    """The curves drawn are each term's values by epoch, training rows as ``train`` and the test
    split's as ``test``; an epoch without a value is left out, not shifted."""
    drawn: dict = {}
    monkeypatch.setattr(training.figures, "curves",
                        lambda panels, *args, **kwargs: drawn.update(panels) or "data:image/png;base64,")
    epochs = [{"epoch": "1", "step": "10", "loss": "9", "recon": "5"},
              {"epoch": "2", "step": "20", "loss": "", "recon": "4"},
              {"epoch": "3", "step": "30", "loss": "7", "recon": "3"}]
    test = [{"epoch": "1", "step": "10", "loss": "8.5", "recon": "4.5"},
            {"epoch": "3", "step": "30", "loss": "6.5", "recon": "2.5"}]
    assert training._losses(epochs, test, "") is not None
    assert drawn == {"loss": {"train": ([1, 3], [9.0, 7.0]), "test": ([1, 3], [8.5, 6.5])},
                     "recon": {"train": ([1, 2, 3], [5.0, 4.0, 3.0]), "test": ([1, 3], [4.5, 2.5])}}


def test_the_disentanglement_table_puts_each_value_under_its_header(tmp_path: Path) -> None:
    """dis_metrics.csv's rows: epoch, step and each score under the header naming it."""
    (tmp_path / "dis_metrics.csv").write_text("epoch,step,dci_disentanglement,mig\n"
                                              "1,50,0.25,0.125\n2,100,0.5,0.375\n")
    table = next(b for b in training._dis_metrics(tmp_path).blocks if isinstance(b, Table))
    assert [dict(zip(table.columns, (c.text for c in row), strict=True)) for row in table.rows] == [
        {"epoch": "1", "step": "50", "dci_disentanglement": "0.25", "mig": "0.125"},
        {"epoch": "2", "step": "100", "dci_disentanglement": "0.5", "mig": "0.375"}]


def test_the_fidelity_table_puts_each_value_under_its_header(tmp_path: Path) -> None:
    """fidelity.csv's evaluations and the held-out reference: each measure under its header."""
    import json

    names = ["precision", "recall", "density", "coverage", "authenticity", "frechet_distance",
             "kernel_distance", "kernel_distance_std"]
    record(tmp_path, {n: 0.125 * (k + 1) for k, n in enumerate(names)} | {"n_samples": 64, "n_real": 64},
           epoch=2, step=40)
    (tmp_path / "fidelity_reference.json").write_text(json.dumps(
        {n: 2.0 + k for k, n in enumerate(names)} | {"n": 30}))
    table = next(b for b in training._fidelity(tmp_path, {}).blocks if isinstance(b, Table))
    rows = [dict(zip(table.columns, (c.text for c in row), strict=True)) for row in table.rows]
    assert rows == [{"epoch": "2", "step": "40"} | {n: f"{0.125 * (k + 1):g}" for k, n in enumerate(names)},
                    {"epoch": "held-out (30)", "step": ""} | {n: f"{2 + k}" for k, n in enumerate(names)}]
    assert table.caption.startswith("fidelity.csv: 64 prior samples")


def _facts(run: Path, config: dict, rows: list[dict[str, str]], device: str | None = None) -> dict:
    epochs = training.by_epoch([r for r in rows if r.get("scope") == "epoch"])
    section = training._overview(run, config, rows, epochs, [], device)
    return dict(next(b for b in section.blocks if isinstance(b, Facts)).items)


def test_the_overview_facts_are_the_runs_own(tmp_path: Path) -> None:
    """A run planned for 3 epochs, logged to step 25 in epoch 3 after epochs of 30 s and
    45.5 s: 2 of 3 epochs done, 25 steps, stopped (not finished), 75.5 s of training at the
    last epoch's 120 images/s; the split seed and the device it ran on as recorded; and
    where a resume starts, from the checkpoint saved after batch 3 of epoch 3 (step 23)."""
    import torch

    config = {"family": "vae", "preset": "small", "seed": 3,
              "trainer": {"epochs": 3, "device": "auto", "devices": 1, "precision": "32",
                          "strategy": "auto"},
              "data": {"store": "faces", "size": 64, "crop": 0.8, "test_fraction": 0.1,
                       "split_seed": 7}, "model": {"latent_dim": 16}}
    rows = [{"scope": "step", "epoch": "1", "step": "5"},
            {"scope": "epoch", "epoch": "1", "step": "10", "epoch_seconds": "30", "images_per_s": "90"},
            {"scope": "epoch", "epoch": "2", "step": "20", "epoch_seconds": "45.5",
             "images_per_s": "120"},
            {"scope": "step", "epoch": "3", "step": "25"}]
    torch.save({"step": 23, "epoch": 2, "batch": 3, "model": {"w": torch.zeros(1)}},
               tmp_path / "checkpoint.pt")
    np.save(tmp_path / "latents.npy", np.zeros(5, [("mu", "f4", (2,)), ("logvar", "f4", (2,))]))
    facts = _facts(tmp_path, config, rows, device="cuda")
    assert facts["epochs"] == "2 of 3" and facts["steps"] == "25"
    assert facts["status"].startswith("stopped at step 25 (in epoch 3)")
    assert "continues from the checkpoint at step 23 (after batch 3 of epoch 3), repeating " \
           "steps 24 to 25" in facts["status"]
    assert facts["training time"] == "1 min 16 s; 120 images/s in the last epoch"
    assert facts["images"] == ("64 px, channels as stored, crop 0.8, test fraction 0.1 "
                               "(split seed 7)")
    assert facts["device"] == ("cuda (trainer.device auto) × 1, precision 32, strategy auto")
    assert facts["latents.npy"] == "5 rows: mu, logvar" and facts["latent dimensions"] == "16"
    torch.save({"step": 25, "epoch": 2, "batch": 5}, tmp_path / "checkpoint.pt")
    facts = _facts(tmp_path, config, rows)
    assert facts["status"].endswith("at step 25 (after batch 5 of epoch 3)")  # nothing repeated
    assert facts["device"].startswith("auto × 1")


def test_a_run_that_reached_its_max_steps_is_finished(tmp_path: Path) -> None:
    """trainer.max_steps 20 reached at the end of epoch 2 of 5: finished, not stopped; a run
    whose max_steps 25 came within epoch 3, that epoch's row not yet written, is not."""
    config = {"family": "vae", "trainer": {"epochs": 5, "max_steps": 20}}
    rows = [{"scope": "epoch", "epoch": "1", "step": "10"},
            {"scope": "epoch", "epoch": "2", "step": "20"}]
    facts = _facts(tmp_path, config, rows)
    assert facts["status"] == "finished" and facts["epochs"] == "2 of 5 (max_steps 20)"
    rows.append({"scope": "step", "epoch": "3", "step": "25"})
    config["trainer"]["max_steps"] = 25
    assert _facts(tmp_path, config, rows)["status"].startswith("stopped at step 25")


def test_a_trained_run_without_metrics_says_it_does_not_know_how_far_it_got(tmp_path: Path) -> None:
    """No metrics.csv rows but a saved model: its epochs and steps are unknown ("—"), not 0."""
    (tmp_path / "model.safetensors").write_bytes(b"")
    facts = _facts(tmp_path, {"family": "vae", "trainer": {"epochs": 3}}, [])
    assert facts["epochs"] == "— of 3" and facts["steps"] == "—"
    assert facts["status"].startswith("trained, but its metrics.csv is missing or empty")
