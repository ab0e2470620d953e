"""Fidelity of samples tracked by the engine during training (``log.fidelity_every``)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file

from latentplay import store as st
from latentplay import train
from latentplay.embed.column import load_rows
from latentplay.errors import UserError
from latentplay.train.fidelity import FidelityTracker

FIDELITY = ["log.fidelity_every=1", "log.fidelity_n=100"]


def _rows(run: Path) -> list[dict[str, str]]:
    with (run / "fidelity.csv").open(newline="") as fh:
        return list(csv.DictReader(fh))


def test_tracker_scores_real_images_above_noise(shapes_store: Path) -> None:
    images = load_rows(st.load(shapes_store), np.arange(200))
    tracker = FidelityTracker(images[:100], k=5, seed=0)
    same = tracker.measure(images[:100])
    held_out = tracker.measure(images[100:])
    noise = tracker.measure(np.random.default_rng(0).integers(0, 256, images[:100].shape,
                                                               dtype=np.uint8))
    assert same["precision"] == same["recall"] == same["coverage"] == 1.0
    assert same["authenticity"] == 0.0 < held_out["authenticity"]  # the images themselves: copies
    assert same["frechet_distance"] == pytest.approx(0.0, abs=1e-6)
    assert held_out["coverage"] > 0.5 > noise["coverage"]
    assert held_out["frechet_distance"] < noise["frechet_distance"]
    assert noise["kernel_distance"] > held_out["kernel_distance"] + 3 * noise["kernel_distance_std"]


def test_engine_tracks_fidelity_without_changing_training(shapes_store: Path, tiny: list[str],
                                                          tmp_path: Path, capsys) -> None:
    """One row per epoch and the figure; the weights equal those of a run without tracking
    (the evaluation leaves the training RNG alone); a resumed run writes the same rows."""
    plain = train.train("vae", shapes_store, tmp_path / "plain", epochs=2, batch_size=32,
                        overrides=tiny, progress=False)
    capsys.readouterr()
    tracked = train.train("vae", shapes_store, tmp_path / "tracked", epochs=2, batch_size=32,
                          overrides=[*tiny, *FIDELITY], progress=False)
    # at most 100 samples: the engine says once that so few are not to be read closely
    assert capsys.readouterr().err.count("too few for the measures to be read closely") == 1
    rows = _rows(tracked)
    assert [r["epoch"] for r in rows] == ["1", "2"]
    for r in rows:
        assert all(0.0 <= float(r[m]) <= 1.0 for m in ("precision", "recall", "coverage"))
        assert float(r["frechet_distance"]) > 0 and float(r["density"]) >= 0
    assert (tracked / "fidelity.png").stat().st_size > 10_000
    assert all(0.0 <= float(r["authenticity"]) <= 1.0 for r in rows)
    reference = json.loads((tracked / "fidelity_reference.json").read_text())
    assert reference["n"] > 5 and 0.0 < reference["authenticity"] <= 1.0
    assert reference["samples"] == min(100, reference["n"])  # the dashed line at the same count
    from latentplay.report import build_report

    page = build_report(tracked).read_text()
    assert f"held-out ({reference['n']})" in page and "authenticity" in page
    a, b = load_file(plain / "model.safetensors"), load_file(tracked / "model.safetensors")
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
    part = train.train("vae", shapes_store, tmp_path / "part", epochs=2,
                       max_steps=int(rows[0]["step"]), batch_size=32,
                       overrides=[*tiny, *FIDELITY], progress=False)
    assert [r["epoch"] for r in _rows(part)] == ["1"]
    train.resume(part, max_steps=0)
    assert _rows(part) == rows


def test_samples_are_measured_at_the_held_out_count() -> None:
    """Coverage and the Fréchet distance move with the number of points: the samples and
    training images go down to the held-out count the reference is measured at; a run whose
    reference predates the recorded count keeps its own."""
    from latentplay.train.fidelity import fidelity_count

    assert fidelity_count(1000, 2100, 234, 5, None) == 234
    assert fidelity_count(1000, 2100, 234, 5, {"n": 234, "samples": 234}) == 234
    assert fidelity_count(1000, 2100, 234, 5, {"n": 234}) == 1000  # started before: its count
    assert fidelity_count(1000, 9000, 1000, 5, None) == 1000
    assert fidelity_count(1000, 600, 5, 5, None) == 600  # no reference (k or fewer held out)


def test_gan_and_conditional_runs_track_fidelity(shapes_store: Path, tiny: list[str],
                                                 tmp_path: Path) -> None:
    gan = train.train("dcgan", shapes_store, tmp_path / "gan", epochs=1, batch_size=32,
                      overrides=["data.size=32", "model.ngf=16", "model.ndf=16", "trainer.threads=1",
                                 "log.samples=16", "log.figures_every=100", *FIDELITY], progress=False)
    cvae = train.train("cvae", shapes_store, tmp_path / "cvae", epochs=1, batch_size=32,
                       overrides=[*tiny, *FIDELITY, "model.condition=[shape]"], progress=False)
    assert len(_rows(gan)) == len(_rows(cvae)) == 1


def test_fidelity_config_errors(shapes_store: Path, tiny: list[str], tmp_path: Path) -> None:
    for bad, message in ((["log.fidelity_every=-1"], "fidelity_every"),
                         (["log.fidelity_every=1", "log.fidelity_n=5"], "must exceed")):
        with pytest.raises(UserError, match=message):
            train.train("vae", shapes_store, tmp_path / "x", epochs=1,
                        overrides=[*tiny, *bad], progress=False)


def test_the_legend_hides_no_line() -> None:
    """The shares' legend sits outside the panel (inside, it covered the lines that end high,
    the epochs that matter), and nothing of it is cut from the figure."""
    from latentplay.train.fidelity import SHARES, fidelity_figure

    names = ["epoch", *SHARES, "frechet_distance"]
    table = np.zeros(8, dtype=[(k, "f8") for k in names])
    table["epoch"] = np.arange(1, 9)
    for name in SHARES:
        table[name] = np.linspace(0.1, 1.0, 8)
    table["frechet_distance"] = np.linspace(90, 10, 8)
    fig = fidelity_figure(table)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    left = fig.axes[0]
    legend = left.get_legend().get_window_extent(renderer)
    assert not legend.overlaps(left.get_window_extent(renderer))
    assert legend.y0 >= 0 and legend.x0 >= 0 and legend.x1 <= fig.bbox.width


def test_log_frechet_panel_has_a_tick_beyond_its_points() -> None:
    """Distances from 4.3 to 43 on a log axis: the axis runs from tick 2 to tick 50 (it stopped
    at the data, 20 its top tick under a line at 43)."""
    from latentplay.train.fidelity import SHARES, fidelity_figure

    table = np.zeros(5, dtype=[(k, "f8") for k in ["epoch", *SHARES, "frechet_distance"]])
    table["epoch"] = np.arange(1, 6)
    table["frechet_distance"] = [43, 30, 12, 6, 4.3]
    right = fidelity_figure(table).axes[1]
    assert right.get_yscale() == "log" and right.get_ylim() == pytest.approx((2, 50))
    ticks = [t for t in right.get_yticks() if 2 <= t <= 50]
    assert max(ticks) == pytest.approx(50) and min(ticks) == pytest.approx(2)


def test_an_autoencoder_s_fidelity_samples_are_drawn_as_its_samples_are(
        shapes_store: Path, tiny: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A plain autoencoder has no prior: its fidelity samples decode codes at the mean and SD
    of each dimension of the epoch's encoded images (here made 5 and 0), as `latent sample`
    and the app draw them; N(0, I) draws scored images of codes it never makes."""
    import torch

    from latentplay.models.vae import AE
    from latentplay.train.engine import Engine
    from latentplay.train.welford import Welford

    def fixed(self: Engine) -> Welford:
        codes = Welford(self.model.latent_dim)
        codes.update(torch.full((2, self.model.latent_dim), 5.0))
        return codes

    seen: list[torch.Tensor] = []
    decode = AE.decode

    def recording(self: AE, z: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        seen.append(z.detach().clone())
        return decode(self, z, cond)

    monkeypatch.setattr(Engine, "_merged_welford", fixed)
    monkeypatch.setattr(AE, "decode", recording)
    train.train("ae", shapes_store, tmp_path / "ae", epochs=1, batch_size=32,
                overrides=[*tiny, *FIDELITY], progress=False)
    [row] = _rows(tmp_path / "ae")
    assert sum(len(z) for z in seen if (z == 5).all()) == int(row["n_samples"]) > 0
    from latentplay.report.page import Table
    from latentplay.report.training import page

    [caption] = [b.caption for s in page(tmp_path / "ae").sections for b in s.blocks
                 if isinstance(b, Table) and b.caption.startswith("fidelity.csv")]
    assert "an autoencoder has no prior" in caption and "prior samples" not in caption
