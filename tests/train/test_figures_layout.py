"""Layout of the latent-variance heatmap: its height stays readable for wide latents, its
dimension labels do not overlap, and long runs get their first and last epochs up close."""

from __future__ import annotations

from collections.abc import Iterator

import matplotlib.pyplot as plt
import numpy as np
import pytest

from latentplay.train.figures import latent_variance_figure


@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    yield
    plt.close("all")


@pytest.mark.parametrize(("epochs", "dims"), [(10, 128), (1000, 20), (3, 4), (10, 512)])
def test_latent_variance_height_and_dimension_labels(epochs: int, dims: int) -> None:
    variance = np.full((epochs, dims), 1e-4)
    variance[-1, 1::3] = 1.0  # a third of the dimensions are active
    fig = latent_variance_figure(variance)
    assert fig.get_figheight() <= 12
    ax = fig.axes[0]
    fig.canvas.draw()
    labels = [t for t in ax.get_yticklabels() if t.get_text()]
    boxes = [t.get_window_extent() for t in labels]
    assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])
    assert len(labels) >= min(dims, 8)  # still labelled, every k-th dimension when many
    for t in labels:  # each label names its row, starred when active
        d = round(t.get_position()[1])
        assert t.get_text() == f"{d}{' *' if d % 3 == 1 else ''}"
    # every active dimension is marked, labelled or not
    marked = {round(t) for t in ax.get_yticks(minor=True)} | {
        round(t.get_position()[1]) for t in labels if t.get_text().endswith("*")}
    assert marked == set(range(1, dims, 3))
    assert any(a.get_ylabel() == "log10 variance" for a in fig.axes)  # the colourbar


def test_long_runs_show_the_first_and_last_epochs_beside_the_full_view() -> None:
    epochs = 300
    variance = np.geomspace(1.0, 1e-5, epochs)[:, None] * np.ones((1, 6))
    fig = latent_variance_figure(variance)
    full, first, last = (a for a in fig.axes if a.images)
    assert list(full.images[0].get_extent()[:2]) == [0.5, epochs + 0.5]
    assert sorted(first.get_xlim()) == [0.5, 50.5]
    assert sorted(last.get_xlim()) == [epochs - 49.5, epochs + 0.5]
    # one colour scale for the three panels
    assert len({im.get_clim() for a in (full, first, last) for im in a.images}) == 1
    assert len(latent_variance_figure(variance[:100]).axes) == 2  # heatmap + colourbar


@pytest.mark.parametrize("epochs", [3, 40, 300])
def test_latent_variance_is_readable_on_a_page_and_its_title_on_the_figure(epochs: int) -> None:
    """A 40-epoch run's heatmap was 14 inches wide and a long run's 18, their 7 pt labels
    printed at 2.7-3.5 pt on a page: scaled to a page every text is 6 points or more, and the
    title stays on the figure, clear of the close-ups' titles."""
    from latentplay.viz.style import PAGE_WIDTH, SMALLEST_TEXT, printed_size

    variance = np.geomspace(1.0, 1e-5, epochs)[:, None] * np.ones((1, 64))
    fig = latent_variance_figure(variance)
    assert printed_size(fig, PAGE_WIDTH) >= SMALLEST_TEXT
    fig.canvas.draw()
    titles = [ax.title.get_window_extent() for ax in fig.axes if ax.get_title()]
    assert all(0 <= box.x0 and box.x1 <= fig.bbox.x1 for box in titles)
    assert not any(a.overlaps(b) for i, a in enumerate(titles) for b in titles[i + 1:])
