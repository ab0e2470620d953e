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


def test_ks_over_persons_holds_its_level() -> None:
    """Training values of 100 persons x 6 photos that share most of their value (intraclass
    correlation 0.81), generated values of the same marginal: the KS test of photos rejects
    far more often than 5 %, the test at the persons' effective size does not; photos of
    their own give a design effect near 1."""
    rng = np.random.default_rng(0)
    persons = np.repeat(np.arange(100), 6)
    photos = over = 0
    for _ in range(200):
        training = np.repeat(rng.normal(size=100), 6) * 0.9 + rng.normal(size=600) * np.sqrt(0.19)
        cmp = compare_values(training, rng.normal(size=800), persons=persons)
        assert cmp.ks_persons is not None and cmp.ks_persons["persons"] == 100
        photos += cmp.ks_p < 0.05
        over += cmp.ks_persons["p_value"] < 0.05
    assert photos / 200 > 0.2 and over / 200 < 0.08
    assert cmp.ks_persons["design_effect"] > 2.5
    alone = compare_values(rng.normal(size=600), rng.normal(size=800), persons=np.arange(600))
    assert alone.ks_persons is not None and alone.ks_persons["design_effect"] < 1.2
    shifted = compare_values(training, rng.normal(1.0, 1.0, 800), persons=persons)
    assert shifted.ks_persons is not None and shifted.ks_persons["p_value"] < 1e-4
    assert compare_values(training, rng.normal(size=800)).ks_persons is None
