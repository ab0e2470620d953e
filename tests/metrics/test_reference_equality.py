"""latentplay's vectorised metrics equal disentanglement_lib's algorithms on the same arrays."""

from __future__ import annotations

import numpy as np
import pytest

from latentplay import metrics
from latentplay.metrics import beta_vae, dci, factor_vae, information

from . import dlib_reference as ref

SIZES = [3, 6, 4, 5]


def make_arrays(n: int, seed: int, dtype: type, sizes: list[int] = SIZES) -> tuple[np.ndarray, np.ndarray]:
    """Factors ``(n, K)`` and entangled, noisy, squashed codes ``(n, 6)``."""
    rng = np.random.default_rng(seed)
    factors = np.stack([rng.integers(0, s, n) for s in sizes], axis=1)
    mix = np.random.default_rng(100).normal(size=(len(sizes), 6))
    codes = np.tanh(factors @ mix / 3 + 0.5 * rng.normal(size=(n, 6)))
    return factors, codes.astype(dtype)


@pytest.fixture(params=[np.float32, np.float64], ids=["float32", "float64"])
def arrays(request: pytest.FixtureRequest) -> dict[str, np.ndarray]:
    f, c = make_arrays(1500, 1, request.param)
    ft, ct = make_arrays(600, 2, request.param)
    return {"factors": f, "codes": c, "factors_test": ft, "codes_test": ct}


def close(ours: dict[str, float], theirs: dict[str, float], tol: float = 1e-6) -> None:
    for key, value in theirs.items():
        assert ours[key] == pytest.approx(float(value), abs=tol), key


def test_information_matches_sklearn(arrays: dict[str, np.ndarray]) -> None:
    c, f = arrays["codes"], arrays["factors"]
    binned = information.histogram_discretize(c)
    assert np.array_equal(binned, ref.histogram_discretize(c.T).T.astype(np.int64))
    assert binned.min() == 1 and binned.max() == 20
    np.testing.assert_allclose(
        information.discrete_mutual_info(binned, f), ref.discrete_mutual_info(binned.T, f.T), atol=1e-12
    )
    np.testing.assert_allclose(information.discrete_entropy(f), ref.discrete_entropy(f.T), atol=1e-12)


def test_mig_equal(arrays: dict[str, np.ndarray]) -> None:
    ours = metrics.score("mig", factors=arrays["factors"], codes=arrays["codes"])
    close(ours, ref.mig(arrays["codes"].T, arrays["factors"].T))
    assert set(ours) == {"discrete_mig"}


@pytest.mark.parametrize("continuous", [False, True])
def test_sap_equal(arrays: dict[str, np.ndarray], continuous: bool) -> None:
    ours = metrics.score("sap_score", **arrays, continuous_factors=continuous, random_state=3)
    a = arrays
    theirs = ref.sap(a["codes"].T, a["factors"].T, a["codes_test"].T, a["factors_test"].T, continuous, seed=3)
    close(ours, theirs)
    assert set(ours) == {"SAP_score"}


@pytest.mark.parametrize("continuous", [False, True])
def test_sap_with_a_constant_dimension_equal(continuous: bool) -> None:
    """A code dimension that never moves scores 0 against every factor (disentanglement_lib
    scores a variance at or below 1e-12 as 0, not the 0 / 0 of its correlation)."""
    (f, c), (ft, ct) = make_arrays(800, 1, np.float64), make_arrays(300, 2, np.float64)
    c[:, 2], ct[:, 2] = 0.5, 0.5
    ours = metrics.score("sap_score", factors=f, codes=c, factors_test=ft, codes_test=ct,
                         continuous_factors=continuous, random_state=3)
    close(ours, ref.sap(c.T, f.T, ct.T, ft.T, continuous, seed=3))


def test_irs_equal(arrays: dict[str, np.ndarray]) -> None:
    ours = metrics.score("irs", factors=arrays["factors"], codes=arrays["codes"])
    close(ours, ref.irs(arrays["codes"].T, arrays["factors"].T))
    assert ours["num_active_dims"] == 6


def test_modularity_explicitness_equal(arrays: dict[str, np.ndarray]) -> None:
    ours = metrics.score("modularity_explicitness", **arrays)
    a = arrays
    close(
        ours,
        ref.modularity_explicitness(a["codes"].T, a["factors"].T, a["codes_test"].T, a["factors_test"].T),
    )


@pytest.mark.slow  # ~10 s: four scikit-learn seeds; DCI's known answers run by default
def test_dci_within_the_spread_of_scikit_learn_seeds() -> None:
    """The trees differ from scikit-learn's only in how exact ties are broken (see
    ``latentplay.metrics.boosting``), so every score lies within the range that four
    scikit-learn seeds give, widened by that range (disentanglement_lib leaves the seed unset)."""
    f, c = make_arrays(600, 1, np.float32, [2, 3, 4])
    ft, ct = make_arrays(300, 2, np.float32, [2, 3, 4])
    ours = metrics.score("dci", factors=f, codes=c, factors_test=ft, codes_test=ct, random_state=5)
    assert set(ours) == {"informativeness_train", "informativeness_test", "disentanglement", "completeness"}
    theirs = [ref.dci(c.T, f.T, ct.T, ft.T, seed=s) for s in range(4)]
    for key, value in ours.items():
        low, high = min(t[key] for t in theirs), max(t[key] for t in theirs)
        assert high > low or key == "informativeness_train"
        assert low - (high - low) - 1e-9 <= value <= high + (high - low) + 1e-9, key


def test_dci_entropy_formulas() -> None:
    rng = np.random.default_rng(0)
    for importance in (rng.random((7, 4)), np.eye(4)[:, :3], np.zeros((3, 2))):
        assert dci.disentanglement(importance) == pytest.approx(
            ref.dci_disentanglement(importance), abs=1e-9
        )
        assert dci.completeness(importance) == pytest.approx(
            ref.dci_completeness(importance), abs=1e-9
        )


def test_split_on_fixed_data_is_disentanglement_libs() -> None:
    """Without test arrays, the first ceil(0.9 N) rows train and the rest test."""
    f, c = make_arrays(300, 4, np.float64)
    split = metrics.score("sap", factors=f, codes=c, random_state=1)
    explicit = metrics.score(
        "sap", factors=f[:270], codes=c[:270], factors_test=f[270:], codes_test=c[270:], random_state=1
    )
    assert split == explicit


def test_beta_vae_and_factor_vae_cores_equal() -> None:
    rng = np.random.default_rng(7)
    codes1, codes2 = rng.normal(size=(2, 50, 64, 6))
    np.testing.assert_allclose(beta_vae.pair_features(codes1, codes2), ref.beta_vae_features(codes1, codes2))

    index = rng.integers(0, 4, 300)
    scale = np.array([1, 1, 1, 10, 0.1, 3])  # the votes compare variances of unlike scales
    codes = rng.normal(size=(300, 64, 6)) * scale
    fixed = index == 0
    codes[fixed, :, 0] = codes[fixed, :1, 0]  # a dimension that never moves in these batches
    variances = np.var(rng.normal(size=(1000, 6)) * scale, axis=0, ddof=1)
    active = np.sqrt(variances) >= 0.05
    active[2] = False
    ours = factor_vae.votes_from_codes(index, codes, variances, active, 4)
    theirs = ref.factor_vae_votes(index, codes, variances, active, 4)
    assert np.array_equal(ours, theirs)
    assert (ours.sum(axis=0) > 0).sum() >= 3  # the votes go to several dimensions
    # fewer evaluation votes than training votes: each accuracy over its own votes
    evals = factor_vae.votes_from_codes(index[:100], codes[:100], variances, active, 4)
    assert factor_vae.accuracy_from_votes(ours, evals) == pytest.approx(ref.factor_vae_accuracy(ours, evals))
