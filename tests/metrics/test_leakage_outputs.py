"""What ``latentplay metrics concepts`` leaves in its folder: an earlier run's files removed on
--overwrite, the decoder figures only for kinds with a decoder (in the folder and in the
report), the held-out concept scores, and latents named by concepts only when supervised."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from latentplay.metrics import concepts
from latentplay.metrics.concepts import TrainConfig, build, fit, infer, save_decoder_figures
from latentplay.metrics.leakage import shapes_data
from latentplay.report import build_report

SMALL = ["--n", "30", "--epochs", "1", "--size", "32", "--batch-size", "16"]


def test_overwrite_removes_an_earlier_runs_files_and_the_report_follows(cli, tmp_path: Path) -> None:
    out = tmp_path / "d"
    first = cli("metrics", "concepts", "glancenet", "--out", out, *SMALL)
    assert first.code == 0, first.err
    assert (out / "recon.png").exists() and (out / "traverse.png").exists()
    picture = (out / "recon.png").read_bytes()
    (out / "notes.txt").write_text("mine")  # not the command's: kept
    second = cli("metrics", "concepts", "cbm", "--out", out, "--overwrite", *SMALL)
    assert second.code == 0, second.err
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["metrics.json", "downstream.npy", "latents.npy", "concepts.npy", "factors.npy",
         "accepted.npy", "model.pt", "intervention.png", "notes.txt"])
    assert json.loads((out / "metrics.json").read_text())["kind"] == "cbm"
    printed = " ".join(second.out.split())    # the headline scores, then where all of them are
    assert "concepts (held out): scale R²" in printed and "; pos_x R²" in printed
    assert f"wrote {out / 'metrics.json'} (every score)" in printed
    # a picture put back by hand is still no CBM's: the report shows no decoder section
    (out / "recon.png").write_bytes(picture)
    page = build_report(out, tmp_path / "r.html").read_text(encoding="utf-8")
    assert 'id="decoder"' not in page and page.count("<img") == 1   # intervention.png only
    assert "concept pos_x: R² (levels scaled to [0, 1]" in page
    assert "concept pos_x: mean absolute error" in page


def _labels_of(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, supervised: bool) -> tuple[list[str], str]:
    """The row labels and title ``save_decoder_figures`` gives ``traverse.png``."""
    from latentplay.train import figures

    seen: dict[str, object] = {}

    def capture(rows, labels, path, title, captions=None):  # noqa: ANN001, ANN202
        seen["labels"], seen["title"] = labels, title

    monkeypatch.setattr(figures, "save_image_rows", capture)
    data, _ = shapes_data(24, 0, (0, 1), size=32)
    train = TrainConfig(epochs=1, masking_fact=100.0 if supervised else 0.0)
    model = fit(build("glancenet", data, 4, train, latent_dim=4, width=8, hidden=32), data, train)
    save_decoder_figures(model, data, infer(model, data.images)["latents"], tmp_path, supervised=supervised)
    return list(seen["labels"]), str(seen["title"])  # type: ignore[arg-type]


def test_traverse_names_latents_by_concept_only_when_concepts_were_supervised(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    named, _ = _labels_of(monkeypatch, tmp_path, supervised=True)
    assert named[0].startswith("z0 scale\nc ") and named[3].startswith("z3\nsd ")
    plain, title = _labels_of(monkeypatch, tmp_path, supervised=False)
    assert all(label.startswith(f"z{d}\nsd ") for d, label in enumerate(plain))
    assert "no concept label was used in training" in title


def test_masking_fact_zero_reaches_the_figures(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """run_concept_model tells the figures whether any concept was supervised."""
    asked: list[bool] = []
    monkeypatch.setattr(concepts, "save_decoder_figures",
                        lambda *a, supervised=True: asked.append(supervised))
    train_data, _ = shapes_data(30, 0, (0, 1), size=32)
    test_data, _ = shapes_data(10, 1, (0, 1), size=32)
    for fact in (0.0, 50.0):
        concepts.run_concept_model("vae", train_data, test_data, tmp_path / str(fact),
                                   TrainConfig(epochs=1, masking_fact=fact), n_classes=4,
                                   latent_dim=4, width=8, hidden=32)
    assert asked == [False, True]
    saved = json.loads((tmp_path / "0.0" / "metrics.json").read_text())
    assert np.isfinite(saved["concept_scores"]["scale"]["mae"])
