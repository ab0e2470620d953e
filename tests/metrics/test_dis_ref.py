"""Hand-computed MIG values, and disentanglement_lib's formulas on awkward arrays (a constant
code dimension, integer codes, an outlier, a 40-level factor that IRS bins into 20, negative
and non-contiguous factor levels)."""

from __future__ import annotations

import numpy as np
import pytest

from latentplay import metrics
from latentplay.metrics import information, modularity

from . import dlib_reference as ref


def test_mig_hand_computed() -> None:
    """Two balanced binary factors a, b: codes (a, b) score 1; (a, a + 2b) score 1/2 (a is read
    by both dimensions, gap 0; b by the second only, gap ln 2 / ln 2); (a, a, b, b) score 0."""
    a, b = np.array([0, 0, 1, 1] * 100), np.array([0, 1, 0, 1] * 100)
    f = np.stack([a, b], axis=1)
    cases = {1.0: [a, b], 0.5: [a, a + 2 * b], 0.0: [a, a, b, b]}
    for expected, columns in cases.items():
        codes = np.stack(columns, axis=1).astype(np.float64)
        score = metrics.score("mig", factors=f, codes=codes)["discrete_mig"]
        assert score == pytest.approx(expected, abs=1e-12)


def _awkward(dtype: type) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    n = 1200
    f = np.stack([rng.integers(0, 2, n), rng.integers(0, 40, n), rng.integers(0, 3, n) * 5 - 3], axis=1)
    c = np.stack(
        [
            f[:, 0] + 0.1 * rng.normal(size=n),
            np.sin(f[:, 1] / 7.0) + 0.05 * rng.normal(size=n),
            np.full(n, 7.0),
            f[:, 2] * 0.3 + rng.normal(size=n),
            rng.normal(size=n) ** 3,
        ],
        axis=1,
    )
    c[5, 4] = 50.0
    if dtype is np.int64:
        return f, np.round(c * 3).astype(np.int64)
    return f, c.astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64], ids=["float32", "float64", "int64"])
def test_awkward_arrays_score_as_disentanglement_lib(dtype: type) -> None:
    f, c = _awkward(dtype)
    n_train = 1080
    assert metrics.score("mig", factors=f, codes=c)["discrete_mig"] == pytest.approx(
        ref.mig(c.T, f.T)["discrete_mig"], abs=1e-12
    )
    irs = metrics.score("irs", factors=f, codes=c)
    assert irs["IRS"] == pytest.approx(ref.irs(c.T, f.T)["IRS"], abs=1e-12)
    assert irs["num_active_dims"] == 4  # the constant dimension is dropped
    split = {"factors_test": f[n_train:], "codes_test": c[n_train:]}
    for continuous in (False, True):
        ours = metrics.score(
            "sap", factors=f[:n_train], codes=c[:n_train], **split, random_state=3,
            continuous_factors=continuous,
        )["SAP_score"]
        theirs = ref.sap(c[:n_train].T, f[:n_train].T, c[n_train:].T, f[n_train:].T, continuous, seed=3)
        assert ours == pytest.approx(theirs["SAP_score"], abs=1e-12)
    # Modularity alone: disentanglement_lib's explicitness fails here (the 120 test rows miss
    # some of the 40 levels), which latentplay's explicitness scores over the levels present.
    mi = ref.discrete_mutual_info(ref.histogram_discretize(c[:n_train].T), f[:n_train].T)
    sq = np.square(mi)
    top = sq.max(axis=1)
    with np.errstate(invalid="ignore"):  # the constant dimension: 0 / 0, set to 0 below
        per_dim = 1.0 - (sq.sum(axis=1) - top) / (top * (sq.shape[1] - 1.0))
    per_dim[top == 0.0] = 0.0
    ours = modularity.modularity(
        information.discrete_mutual_info(information.histogram_discretize(c[:n_train]), f[:n_train])
    )
    assert ours == pytest.approx(np.mean(per_dim), abs=1e-12)
