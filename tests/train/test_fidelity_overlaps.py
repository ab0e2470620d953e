"""``fidelity.png``: shares of equal values stay visible, and few points are said to be few."""

from __future__ import annotations

import numpy as np
from matplotlib.colors import to_rgb
from numpy.lib import recfunctions

from latentplay.train.fidelity import FLAT_COLOR, FLAT_LABEL, SHARES, fidelity_figure


def _table(n: int = 30) -> np.ndarray:
    """Two evaluations of noise: recall and authenticity both 0 at every epoch."""
    names = ["epoch", *SHARES, "frechet_distance", "n_samples", "n_real"]
    table = np.zeros(2, dtype=[(k, "f8") for k in names])
    table["epoch"] = [2, 4]
    table["precision"], table["density"], table["coverage"] = 1.0, [2.1, 1.9], [0.1, 0.2]
    table["frechet_distance"] = [800.0, 700.0]
    table["n_samples"] = table["n_real"] = n
    return table


def _pixels_of(color: str, n: int = 30, table: np.ndarray | None = None) -> int:
    """How many pixels inside the shares' panel are drawn in ``color``."""
    fig = fidelity_figure(_table(n) if table is None else table)
    fig.canvas.draw()
    image = np.asarray(fig.canvas.buffer_rgba())[..., :3].astype(float)
    box = fig.axes[0].get_window_extent()
    height = image.shape[0]
    panel = image[int(height - box.y1):int(height - box.y0), int(box.x0):int(box.x1)]
    return int((np.abs(panel - 255 * np.array(to_rgb(color))).max(axis=-1) < 40).sum())


def test_a_share_equal_to_a_later_one_is_not_hidden_beneath_it() -> None:
    """Recall 0 drawn under authenticity 0 (noise samples): it was invisible, the same line and
    marker exactly beneath another; now each share has a marker of its own shape and a wider
    line than those drawn after it, so recall shows around authenticity."""
    recall, authenticity = "C1", "C4"   # the colours of SHARES[1] and SHARES[4]
    assert _pixels_of(authenticity) > 100
    assert _pixels_of(recall) > 100
    lines = fidelity_figure(_table()).axes[0].get_lines()
    markers = [line.get_marker() for line in lines if line.get_label() in SHARES]
    assert len(set(markers)) == len(SHARES)


def test_the_share_of_flat_samples_is_drawn_where_there_are_any() -> None:
    """Blank or faint samples score near the data (precision 1 here): their share, recorded in
    ``fidelity.csv``'s ``flat`` column, is drawn beside the shares it qualifies; a run without
    flat samples (or a table from before the column) draws no such line."""
    flat = _table()
    flat = recfunctions.append_fields(flat, "flat", np.array([0.9, 0.4]), usemask=False)
    labels = [line.get_label() for line in fidelity_figure(flat).axes[0].get_lines()]
    assert FLAT_LABEL in labels
    assert _pixels_of(FLAT_COLOR, table=flat) > 20
    assert _pixels_of(FLAT_COLOR) == 0
    flat["flat"] = 0.0
    labels = [line.get_label() for line in fidelity_figure(flat).axes[0].get_lines()]
    assert FLAT_LABEL not in labels and fidelity_figure(_table()).axes[0].get_legend() is not None


def test_few_samples_are_said_to_be_too_few_in_the_figure() -> None:
    """30 noise samples against 30 training images scored precision 1 and density ~2 at every
    epoch, read as "as good as real": under FEW_POINTS the figure's title says the count is too
    few for the k-NN measures to be read closely; at 1,200 nothing is added."""
    from latentplay.train.fidelity import FEW_POINTS

    title = " ".join(fidelity_figure(_table(30)).get_suptitle().split())
    assert title.startswith("these 30 samples are too few for the measures to be read closely")
    assert f"under {FEW_POINTS} points" in title
    assert fidelity_figure(_table(1200)).get_suptitle() == ""
    assert fidelity_figure(_table(FEW_POINTS)).get_suptitle() == ""


def test_the_engine_line_says_once_that_the_count_is_too_few() -> None:
    """The line printed before the first evaluation: the count cut to the held-out rows, and
    the caution when it is under FEW_POINTS, also when nothing was cut."""
    from latentplay.train.fidelity import count_note

    cut = count_note(30, 1000, 270, None)
    assert cut.startswith("fidelity: 30 samples against 30 training images, not "
                          "log.fidelity_n=1000: the held-out reference has only 30 rows")
    assert cut.count("too few for the measures to be read closely") == 1
    assert count_note(100, 100, 5000, None) == (
        "fidelity: 100 samples against 100 training images; too few for the measures to be read "
        "closely (k-nearest neighbours among under 200 points: even noise can score a precision "
        "of 1)")
    assert count_note(234, 1000, 2100, None).endswith("compare only at one count")
    assert count_note(1000, 1000, 9000, None) == ""
    assert count_note(234, 1000, 2100, {"n": 234, "samples": 234}) == ""   # a resumed run
