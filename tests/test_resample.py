"""The cluster bootstrap's draws: from many clusters of few distinct totals, drawn over the
distinct totals, with the distribution of drawing the clusters themselves."""

from __future__ import annotations

import numpy as np

from latentplay import resample


def test_many_clusters_are_drawn_over_their_distinct_totals() -> None:
    """30,000 rows in 3 kinds (shares 0.5, 0.3, 0.2): each draw's count of a kind is
    Binomial(30,000, share) whichever way the draws are made, and the collapsed way is used."""
    kinds = np.repeat([0, 1, 2], [15000, 9000, 6000])
    sums = np.eye(3)[kinds]
    drawn = resample.resampled(sums, 2000, seed=1)
    share = np.array([0.5, 0.3, 0.2])
    np.testing.assert_allclose(drawn.mean(axis=0), 30000 * share, rtol=0.002)
    np.testing.assert_allclose(drawn.std(axis=0), np.sqrt(30000 * share * (1 - share)),
                               rtol=0.06)
    assert (drawn.sum(axis=1) == 30000).all()
    # the collapsed way was taken: its draws are not the direct way's under the same seed
    direct = np.random.default_rng(1).multinomial(30000, np.full(30000, 1 / 30000),
                                                  size=3) @ sums
    assert not np.array_equal(resample.resampled(sums, 3, seed=1), direct)
    # below the threshold the clusters themselves are drawn: the same seed, the same draws
    small = sums[::2]
    direct = np.random.default_rng(3).multinomial(len(small), np.full(len(small), 1 / len(small)),
                                                  size=5) @ small
    np.testing.assert_array_equal(resample.resampled(small, 5, seed=3), direct)


def test_continuous_totals_are_drawn_directly() -> None:
    """Totals that are all distinct gain nothing from collapsing: drawn as clusters."""
    values = np.random.default_rng(0).random((25000, 1))
    direct = np.random.default_rng(4).multinomial(25000, np.full(25000, 1 / 25000),
                                                  size=3) @ values
    np.testing.assert_allclose(resample.resampled(values, 3, seed=4), direct)
