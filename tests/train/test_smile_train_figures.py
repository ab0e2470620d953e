"""A training run's per-epoch outputs as a user sees them: the latent-variance heatmap's title
fits its figure, ``log.recon_images=0`` writes no empty grids, and ``latent_variance.csv``
holds the variance of the encoder means over each epoch's training batches."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from latentplay import train
from latentplay.train import steps
from latentplay.train.figures import latent_variance_figure, save_image_rows, save_recon_grid
from latentplay.train.forcing import force_condition_captions, save_force_condition


@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    yield
    plt.close("all")


@pytest.mark.parametrize(("epochs", "dims"), [(1, 20), (5, 128), (1, 1000), (10, 512), (150, 20)])
def test_latent_variance_title_inside_the_figure(epochs: int, dims: int) -> None:
    """A short run of a wide latent (labels thinned: the title's "* or red tick") was drawn
    4.5 inches wide and its title cut at both sides."""
    variance = np.full((epochs, dims), 1e-4)
    variance[-1, 1::3] = 1.0
    fig = latent_variance_figure(variance)
    fig.canvas.draw()
    title = fig.axes[0].title
    box, frame = title.get_window_extent(), fig.bbox
    assert frame.x0 <= box.x0 and box.x1 <= frame.x1 and box.y1 <= frame.y1, title.get_text()


def test_no_images_write_no_grid(tmp_path: Path) -> None:
    """``log.recon_images=0``: the reconstruction grid and ``force_condition.png`` of no image
    were empty axes with 0-1 ticks; now no file is written (and so no GIF frame)."""
    none = np.zeros((0, 8, 8, 3), np.uint8)
    save_recon_grid(none, none, tmp_path / "epoch_001.png", "reconstructions, epoch 1")
    save_image_rows([], [], tmp_path / "rows.png", "prior samples")
    values = [-1.0, 1.0]
    save_force_condition(np.zeros((0, 4, 8, 8, 3), np.uint8), np.zeros(0), "smile", values,
                         tmp_path / "force_condition.png")
    assert force_condition_captions(np.zeros(0), "smile", values) == []
    assert list(tmp_path.iterdir()) == []
    one = np.zeros((1, 8, 8, 3), np.uint8)
    save_recon_grid(one, one, tmp_path / "epoch_002.png", "reconstructions, epoch 2")
    assert (tmp_path / "epoch_002.png").is_file()


def test_force_condition_grid_is_readable_on_a_page() -> None:
    """The captions ``original (smile=-0.81)`` were as large as one line fits a cell: 5.5 pt
    on a page. Broken before ``(`` they grow: every text is 6 points or more on a page."""
    from latentplay.viz.grid import image_grid
    from latentplay.viz.style import PAGE_WIDTH, SMALLEST_TEXT, printed_size

    captions = force_condition_captions(np.array([-0.81, 0.25]), "smile", [-1.0, -0.5, 0.0, 0.5, 1.0])
    fig = image_grid([np.zeros((7, 8, 8, 3), np.uint8)] * 2, ["image 1", "image 2"],
                     captions=captions, title="smile forced on test images")
    assert printed_size(fig, PAGE_WIDTH) >= SMALLEST_TEXT - 1e-9


def test_latent_variance_csv_is_the_variance_of_each_epochs_encoder_means(
        shapes_store: Path, tiny: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Welford's running statistics per epoch equal ``np.var`` (ddof 0) of the posterior means
    ``mu`` of that epoch's training batches (not the mean of the posterior variances)."""
    codes: list[tuple[np.ndarray, np.ndarray]] = []
    original = steps.VAEStepper.train_step

    def recording(self: steps.VAEStepper, x: torch.Tensor, cond: torch.Tensor | None, step: int,
                  guard: steps.Guard) -> tuple[steps.Metrics, torch.Tensor]:
        with torch.no_grad():
            _, logvar = self.model.encode(x, cond)  # the posterior variances before the step
        metrics, mu = original(self, x, cond, step, guard)
        codes.append((mu.double().numpy(), logvar.exp().double().numpy()))
        return metrics, mu

    monkeypatch.setattr(steps.VAEStepper, "train_step", recording)
    run = train.train("vae", shapes_store, tmp_path / "run", epochs=2, batch_size=64,
                      overrides=tiny, progress=False)
    table = np.loadtxt(run / "latent_variance.csv", delimiter=",", skiprows=1)
    assert table[:, 0].tolist() == [1, 2]
    per_epoch = len(codes) // 2
    for e in range(2):
        mu = np.concatenate([m for m, _ in codes[e * per_epoch:(e + 1) * per_epoch]])
        posterior = np.concatenate([v for _, v in codes[e * per_epoch:(e + 1) * per_epoch]])
        np.testing.assert_allclose(table[e, 1:], mu.var(0), rtol=1e-5)
        assert not np.allclose(table[e, 1:], posterior.mean(0), rtol=0.1)


@pytest.mark.parametrize(("samples", "per_row"), [(12, 2), (64, 8), (5, 0)])
def test_conditional_sample_grid_draws_log_samples(shapes_store: Path, tiny: list[str],
                                                   tmp_path: Path, samples: int, per_row: int,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """``samples.png`` of a model conditioned on scale (6 classes) holds ``log.samples``
    images in all, at most 8 per class (it drew 8 per class whatever ``log.samples``); none
    when there is not one per class."""
    from latentplay.train import engine

    drawn: dict[str, list[int]] = {}
    real = engine.save_image_rows

    def spy(rows, labels, path, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        drawn[Path(path).name] = [len(r) for r in rows]
        drawn[Path(path).name + " labels"] = list(labels)
        return real(rows, labels, path, *args, **kwargs)

    monkeypatch.setattr(engine, "save_image_rows", spy)
    run = train.train("cvae", shapes_store, tmp_path / "cvae", epochs=1, max_steps=1, batch_size=16,
                      overrides=[*tiny, "model.condition=[scale]", f"log.samples={samples}"],
                      progress=False)
    if per_row:  # a row per class, then where the first class's faces change to the last's
        assert drawn["samples.png"] == [per_row] * 7
        labels = drawn["samples.png labels"]
        assert "change" not in labels[0] and all("\nchange 0." in label for label in labels[1:6])
        assert labels[6].startswith(f"where {labels[0]}\n-> {labels[5].split(chr(10))[0]}\nchanges them")
    else:
        assert "samples.png" not in drawn and not (run / "samples.png").exists()
