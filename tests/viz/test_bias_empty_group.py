"""A group of no rows keeps its place in the dataset-bias chart: an empty bar marked so, no
interval, and no NaN shares or warnings."""

from __future__ import annotations

import warnings

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.container import ErrorbarContainer

from latentplay.viz.bias import bias_bars


def test_a_group_of_no_rows_is_an_empty_bar_marked_no_rows() -> None:
    counts = np.array([[3, 4], [0, 0], [5, 1]])
    intervals = np.array([[0.4, 0.8], [0.2, 0.8], [np.nan, np.nan], [0.45, 0.97]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = bias_bars(["a", "b", "c"], ["no", "yes"], counts, "group", "answer",
                        intervals=intervals)
        fig.canvas.draw()
    ax = fig.axes[0]
    widths = np.array([[bar.get_width() for bar in c] for c in ax.containers
                       if not isinstance(c, ErrorbarContainer)])
    assert np.isfinite(widths).all()
    np.testing.assert_allclose(widths[:, 2], 0.0)          # group b: nothing drawn
    np.testing.assert_allclose(widths[:, 3], [5 / 6, 1 / 6])
    assert [t.get_text() for t in ax.texts if t.get_text() == "no rows"] == ["no rows"]
    assert "b (n=0)" in [t.get_text() for t in ax.get_yticklabels()]
    (whiskers,) = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    _, _, (lines,) = whiskers.lines
    assert len(lines.get_segments()) == 3                  # all rows, a and c
    plt.close(fig)


def test_no_rows_at_all_draws_empty_bars_without_warnings() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = bias_bars(["a", "b"], ["no", "yes"], np.zeros((2, 2), int), "group", "answer")
        fig.canvas.draw()
    assert sum(t.get_text() == "no rows" for t in fig.axes[0].texts) == 3
    plt.close(fig)


def test_counts_or_intervals_of_another_shape_are_refused() -> None:
    """Counts of the wrong shape failed in zip() ('argument 2 is longer')."""
    import pytest

    from latentplay.errors import UserError

    with pytest.raises(UserError, match=r"counts= must be \(R, C\) = \(3, 2\) .* got shape \(2, 2\)"):
        bias_bars(["a", "b", "c"], ["no", "yes"], np.array([[3, 4], [5, 1]]), "group", "answer")
    with pytest.raises(UserError, match=r"intervals= must be \(R \+ 1, 2\) = \(3, 2\)"):
        bias_bars(["a", "b"], ["no", "yes"], np.array([[3, 4], [5, 1]]), "group", "answer",
                  intervals=np.zeros((2, 2)))
