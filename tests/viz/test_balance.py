"""The attribute-means chart: side by side for a few attributes, stacked for many."""

from __future__ import annotations

import numpy as np
import pytest

from latentplay.viz.balance import attribute_means


@pytest.mark.parametrize(("p", "stacked"), [(5, False), (30, True)])
def test_layout_follows_the_number_of_attributes(p: int, stacked: bool) -> None:
    means = (np.linspace(0, 1, p), np.linspace(1, 0, p))
    fig = attribute_means([f"a{i}" for i in range(p)], means, means, groups=("m", "f"))
    before, after = fig.axes[:2]
    x0, y0 = before.get_position().x0, before.get_position().y0
    x1, y1 = after.get_position().x0, after.get_position().y0
    assert (y0 > y1 and x0 == pytest.approx(x1)) if stacked else (x1 > x0)
    assert [t.get_text() for t in after.get_xticklabels()] == [f"a{i}" for i in range(p)]
    assert fig.get_size_inches()[0] < 12 or not stacked
