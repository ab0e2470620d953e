"""``audit compare --psi``: the figure of shares against psi (the sweep itself runs on a
trained DCGAN in ``test_audit_cli.py``)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from latentplay.audit.truncation import share_figure


def test_shares_drawn_in_order_of_psi_whatever_the_order_given() -> None:
    """psi given as 0.5, 1, 0.2, 0.8: each line and band runs 1, 0.8, 0.5, 0.2, with the
    shares that belong to each value (unsorted, the lines would zig-zag between them)."""
    psi = [0.5, 1.0, 0.2, 0.8]
    shares = np.array([[0.3, 0.7], [0.25, 0.75], [0.1, 0.9], [0.27, 0.73]])
    entry = {"psi": psi, "classes": ["a", "b"], "generated": shares.tolist(),
             "generated_ci": np.stack([shares - 0.03, shares + 0.03], axis=-1).tolist(),
             "training": [0.25, 0.75]}
    fig = share_figure("tone", entry, 100)
    lines = [line for line in fig.axes[0].lines if line.get_label() in ("a", "b")]
    assert len(lines) == 2
    for k, line in enumerate(lines):
        np.testing.assert_array_equal(line.get_xdata(), [1.0, 0.8, 0.5, 0.2])
        np.testing.assert_allclose(line.get_ydata(), shares[[1, 3, 0, 2], k])
    plt.close(fig)
