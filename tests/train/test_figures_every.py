"""``log.figures_every``: the per-epoch figures every N epochs and after the last, the
latent-variance table every epoch, its heatmap with the GIF."""

from __future__ import annotations

from pathlib import Path

import imageio.v3 as iio
import pytest

from latentplay import train
from latentplay.errors import UserError
from latentplay.train.csvlog import read_table


def test_figures_every_two_epochs_and_after_the_last(shapes_store: Path, tiny: list[str],
                                                      tmp_path: Path) -> None:
    run = train.train("betavae", shapes_store, tmp_path / "run", epochs=3, batch_size=64,
                      overrides=[*tiny, "log.figures_every=2"], progress=False)
    assert sorted(p.name for p in (run / "recon").glob("*.png")) == ["epoch_002.png", "epoch_003.png"]
    assert iio.imread(run / "recon.gif").shape[0] == 2
    assert len(read_table(run / "latent_variance.csv")) == 3
    assert (run / "latent_variance.png").is_file()


def test_figures_every_below_one_is_refused(shapes_store: Path, tiny: list[str], tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"log.figures_every must be at least 1 .* got 0"):
        train.train("betavae", shapes_store, tmp_path / "run", epochs=1,
                    overrides=[*tiny, "log.figures_every=0"], progress=False)
    assert not (tmp_path / "run").exists()


def test_the_variance_heatmap_is_drawn_with_the_gif(shapes_store: Path, tiny: list[str], tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A grid every epoch, but the summaries over the epochs (the GIF and the variance
    heatmap, which took longer than a small store's epoch) about GIF_WRITES times a run."""
    from latentplay.train import engine

    drawn: list[int] = []
    original = engine.save_latent_variance

    def record(variance, path, threshold=0.01):  # noqa: ANN001, ANN202
        drawn.append(len(variance))
        return original(variance, path, threshold)

    monkeypatch.setattr(engine, "save_latent_variance", record)
    monkeypatch.setattr(engine, "GIF_WRITES", 2)  # 4 epochs: the summaries every 2
    run = train.train("betavae", shapes_store, tmp_path / "run", epochs=4, batch_size=64,
                      overrides=[*tiny, "log.figures_every=1"], progress=False)
    assert len(list((run / "recon").glob("*.png"))) == 4
    assert drawn == [2, 4] and iio.imread(run / "recon.gif").shape[0] == 4
