"""Ticks of the training figures: whole epochs counted from 1 on the latent-variance heatmap and
the fidelity curves, and Fréchet distances written as plain numbers, several to a panel."""

from __future__ import annotations

import re
from collections.abc import Iterator

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.axis import Axis

from latentplay.train.fidelity import SHARES, fidelity_figure
from latentplay.train.figures import latent_variance_figure


@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    yield
    plt.close("all")


PLAIN = re.compile(r"\d[\d,]*(\.\d+)?")  # 12, 2,000,000, 0.05: no exponent, no offset


def _shown_ticks(ax: Axes, axis: Axis) -> list[tuple[float, str]]:
    """``(position, label)`` of the major ticks of ``axis`` inside the view, as drawn."""
    ax.figure.canvas.draw()
    lo, hi = sorted(axis.get_view_interval())
    ticks = [(float(loc), label.get_text())
             for loc, label in zip(axis.get_majorticklocs(), axis.get_majorticklabels(), strict=True)]
    return [(loc, text) for loc, text in ticks if lo <= loc <= hi]


@pytest.mark.parametrize("epochs", [1, 3, 12, 150])
def test_latent_variance_ticks_whole_epochs_from_one(epochs: int) -> None:
    variance = np.full((epochs, 4), 1e-3)
    variance[-1, 2] = 1.0  # dimension 2 wakes up at the last epoch
    fig = latent_variance_figure(variance)
    ax = fig.axes[0]
    ticks = _shown_ticks(ax, ax.xaxis)
    assert 1 <= len(ticks) and (len(ticks) >= 3 or epochs < 3)
    assert all(loc == round(loc) and 1 <= loc <= epochs and text == str(round(loc))
               for loc, text in ticks), ticks
    # the column of epoch e is centred on x = e: the last epoch's bright cell at x = epochs
    image = ax.images[0]
    x0, x1 = image.get_extent()[:2]
    column = int(np.argmax(image.get_array()[2]))
    assert x0 + (column + 0.5) * (x1 - x0) / epochs == epochs
    # thinned: no two tick labels touch
    boxes = [t.get_window_extent() for t in ax.get_xticklabels() if t.get_text()]
    assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])


def _table(distances: list[float]) -> np.ndarray:
    """A ``fidelity.csv`` of one evaluation per epoch from 1, with ``distances`` as Fréchet."""
    table = np.zeros(len(distances), dtype=[("epoch", float), *[(n, float) for n in SHARES],
                                            ("frechet_distance", float)])
    table["epoch"] = np.arange(1, len(distances) + 1)
    for name in SHARES:
        table[name] = 0.5
    table["frechet_distance"] = distances
    return table


@pytest.mark.parametrize(("distances", "reference", "log"), [
    ([12.5067, 12.5052, 12.3602], 6.1, False),              # within a decade, with the reference
    ([12.51, 12.50, 12.36], None, False),                     # a narrow band, no reference
    (list(np.geomspace(900, 4, 20)), 3.0, True),            # over two decades
    (list(np.geomspace(3e6, 4e5, 10)), 2e5, True),          # large values
    ([42.0], 30.0, False),                                  # one evaluation so far
])
def test_frechet_panel_reads_plain_numbers(distances: list[float], reference: float | None,
                                           log: bool) -> None:
    fig = fidelity_figure(_table(distances),
                          None if reference is None else {"n": 50, "frechet_distance": reference})
    right = fig.axes[1]
    assert (right.get_yscale() == "log") == log
    ticks = _shown_ticks(right, right.yaxis)
    assert len(ticks) >= 3, ticks
    for loc, text in ticks:  # each label says the value its tick sits at
        assert PLAIN.fullmatch(text) and float(text.replace(",", "")) == pytest.approx(loc), ticks
    assert right.yaxis.get_offset_text().get_text() == ""
    for ax in fig.axes:
        epochs = _shown_ticks(ax, ax.xaxis)
        assert epochs and all(loc == round(loc) and text == str(round(loc)) for loc, text in epochs)
