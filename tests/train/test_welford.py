"""Welford / Chan et al.: the running per-dimension variance equals the variance of all rows."""

from __future__ import annotations

import numpy as np
import torch

from latentplay.train.welford import Welford


def test_batches_of_any_size_give_numpys_population_variance() -> None:
    """Unequal batches (one of a single row, one empty), far from zero in float32, and a merge of two
    accumulators (DDP ranks) give ``np.var(ddof=0)`` and ``np.mean`` of all rows."""
    rng = np.random.default_rng(0)
    rows = (1e4 + rng.standard_normal((203, 3)) * [1.0, 0.01, 3.0]).astype(np.float32)
    a, b = Welford(3), Welford(3)
    assert torch.equal(a.variance, torch.zeros(3))  # nothing seen yet
    for part in np.split(rows[:120], [1, 65, 65, 66]):  # one of them empty
        a.update(torch.from_numpy(part))
    for part in np.split(rows[120:], [50]):
        b.update(torch.from_numpy(part))
    a.merge(b.n, b.mean, b.m2)
    want = rows.astype(np.float64)
    assert int(a.n) == 203
    np.testing.assert_allclose(a.mean.numpy(), want.mean(0), rtol=1e-12)
    np.testing.assert_allclose(a.variance.numpy(), want.var(0), rtol=1e-9)
    restored = Welford(3)
    restored.load(a.state())
    np.testing.assert_array_equal(restored.variance.numpy(), a.variance.numpy())
