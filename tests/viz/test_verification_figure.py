"""``comparison.png`` of ``audit verify`` with several columns: accuracies that differ by
hundredths are marked by dots on a zoomed axis that says where it starts, not by bars."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from latentplay.viz.verification import column_bars


def test_accuracy_panel_draws_dots_on_an_axis_that_says_its_start() -> None:
    accuracy = np.array([[0.985, 0.975, 1.0, np.nan], [0.99, 0.965, 0.995, np.nan]])
    sd = np.array([[0.01, 0.012, 0.0, np.nan], [0.008, 0.02, 0.005, np.nan]])
    fmr = np.array([[0.01, 0.02, 0.005, np.nan], [0.012, 0.008, 0.01, np.nan]])
    fig = column_bars(["a", "b", "c", "tiny"], ["x", "y"], accuracy, sd, fmr, fmr * 5, 0.01)
    acc_ax, fmr_ax, _ = fig.axes[:3]
    assert not acc_ax.patches  # no bars whose length would start at the zoomed axis' edge
    start, end = acc_ax.get_xlim()
    assert 0 < start < 0.945 and end > 1  # every interval shown; a dot at 1 clears the frame
    assert f"axis starts at {start:.3g}" in acc_ax.get_title()
    assert fmr_ax.get_xlim()[0] == 0 and len(fmr_ax.patches) == 8  # rates: bars from 0
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["x", "y"]
    plt.close(fig)
