"""The balance figures: the love plot, and the attribute-means chart (side by side for a few
attributes, stacked for many)."""

from __future__ import annotations

import numpy as np
import pytest

from latentplay.viz.balance import attribute_means, love_plot


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


@pytest.mark.parametrize("pairs", [True, False])
def test_love_plot_without_pairs_has_no_after_entry_and_says_so(pairs: bool) -> None:
    """60 covariates (20 left out); no pairs (a caliper dropped every unit): every SMD after
    is NaN, so no "after" legend entry, no "nan" in the title, and the title says why."""
    before = np.linspace(0.5, 0.01, 60)
    after = before / 10 if pairs else np.full(60, np.nan)
    fig = love_plot([f"c{i}" for i in range(60)], before, after)
    ax = fig.axes[0]
    labels = ax.get_legend_handles_labels()[1]
    title = ax.get_title().replace("\n", " ")
    assert labels == (["before", "after"] if pairs else ["before"])
    assert ("no matched pairs" in title) != pairs
    assert "nan" not in title and "20 less imbalanced covariates not shown" in title


@pytest.mark.parametrize("pairs", [True, False])
def test_attribute_means_without_pairs_say_so(pairs: bool) -> None:
    """No pairs (a caliper dropped every unit): every mean after is NaN; the "after" panel
    used to be left empty without a word, now it says there are no matched pairs."""
    means = (np.linspace(0.1, 1, 5), np.linspace(1, 0.1, 5))
    after = means if pairs else (np.full(5, np.nan), np.full(5, np.nan))
    fig = attribute_means([f"a{i}" for i in range(5)], means, after)
    said = [t.get_text().replace("\n", " ") for t in fig.axes[1].texts]
    assert said == ([] if pairs else ["no matched pairs: nothing to show after matching"])
    assert not fig.axes[0].texts
