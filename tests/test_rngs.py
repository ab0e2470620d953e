"""latentplay.rngs: the random states ground truths of disentanglement metrics take."""

from __future__ import annotations

import numpy as np

from latentplay.rngs import EitherRandom, integers


def test_either_random_draws_the_generators_stream_under_both_names() -> None:
    """randint (RandomState's name, as disentanglement_lib's datasets call it) draws exactly
    what Generator.integers would: the metrics' streams, and so their scores, are unchanged."""
    plain, either = np.random.default_rng(7), EitherRandom(np.random.default_rng(7))
    assert np.array_equal(either.randint(0, 5, size=20), plain.integers(0, 5, 20))
    assert np.array_equal(either.integers(0, 9, 10), plain.integers(0, 9, 10))   # delegated
    assert np.array_equal(either.random_sample(3), plain.random(3))
    assert either.rand(2, 3).shape == (2, 3) and np.ndim(either.rand()) == 0


def test_integers_takes_a_generator_or_a_random_state() -> None:
    assert np.array_equal(integers(np.random.RandomState(0), 6, 8),
                          np.random.RandomState(0).randint(0, 6, 8))
    assert np.array_equal(integers(np.random.default_rng(0), 6, 8),
                          np.random.default_rng(0).integers(0, 6, 8))
