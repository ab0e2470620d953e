"""Continuous attributes compared between generated and training images (audit.values)."""

from __future__ import annotations

import numpy as np
import pytest

from latentplay.audit.values import QUANTILES, compare_values
from latentplay.errors import UserError


def test_a_shift_of_one_sd() -> None:
    rng = np.random.default_rng(0)
    training, generated = rng.normal(5.0, 2.0, 20000), rng.normal(7.0, 2.0, 20000)
    cmp = compare_values(training, generated, attribute="x")
    assert cmp.smd == pytest.approx(1.0, abs=0.03)
    assert cmp.wasserstein == pytest.approx(2.0, abs=0.06)  # a shift moves all mass by it
    assert cmp.ks == pytest.approx(0.383, abs=0.02)  # 2 * Phi(0.5) - 1 for two unit normals 1 SD apart
    assert cmp.ks_p < 1e-100
    median = dict(cmp.quantiles)[0.5]
    assert median == pytest.approx((5.0, 7.0), abs=0.05)


def test_the_same_sample_and_missing_values() -> None:
    values = np.arange(100, dtype=float)
    with_nan = np.concatenate([values, [np.nan] * 7])
    cmp = compare_values(values, with_nan)
    assert cmp.ks == 0 and cmp.wasserstein == 0 and cmp.smd == 0 and cmp.ks_p == 1
    assert (cmp.n_generated, cmp.missing_generated, cmp.missing_training) == (100, 7, 0)
    table = cmp.rows()
    assert [r["quantile"] for r in table] == list(QUANTILES)
    assert cmp.to_dict()["kind"] == "continuous"
    with pytest.raises(UserError, match="at least 2"):
        compare_values(values, np.array([1.0, np.nan]), attribute="x")
