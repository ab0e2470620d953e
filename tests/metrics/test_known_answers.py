"""Metrics on representations whose answer is known, and the invariances the papers state."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import ortho_group

from latentplay import metrics
from latentplay.errors import UserError

SIZES = [3, 6, 10, 8, 8]


@pytest.fixture(scope="module")
def factors() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    train = np.stack([rng.integers(0, s, 3000) for s in SIZES], axis=1)
    test = np.stack([rng.integers(0, s, 1000) for s in SIZES], axis=1)
    return train, test


def perfect(f: np.ndarray) -> np.ndarray:
    """Codes = factors, permuted and rescaled per dimension (a perfect representation)."""
    return (f[:, [2, 0, 4, 1, 3]] * np.array([0.3, -2.0, 1.5, 7.0, 0.01]) + 5.0).astype(np.float64)


def rotate(c: np.ndarray) -> np.ndarray:
    z = (c - c.mean(axis=0)) / c.std(axis=0)
    return z @ ortho_group.rvs(c.shape[1], random_state=1)


def noise(n: int, d: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, d))


def test_mig_perfect_rotated_noise(factors: tuple[np.ndarray, np.ndarray]) -> None:
    f, _ = factors
    good = metrics.score("mig", factors=f, codes=perfect(f))["discrete_mig"]
    rotated = metrics.score("mig", factors=f, codes=rotate(perfect(f)))["discrete_mig"]
    random = metrics.score("mig", factors=f, codes=noise(len(f), 5, 1))["discrete_mig"]
    # Factors with <= 20 levels land in distinct bins: each factor's best code carries all of
    # its entropy; the runner-up only the small plug-in bias of independent variables.
    assert 0.98 < good <= 1.0
    assert rotated < 0.5 * good
    assert abs(random) < 0.02


def test_mig_invariant_to_permutation_and_monotone_rescaling(factors: tuple[np.ndarray, np.ndarray]) -> None:
    f, _ = factors
    codes = rotate(perfect(f))[:, :4] + 0.1 * noise(len(f), 4, 2)
    base = metrics.score("mig", factors=f, codes=codes)
    shuffled = metrics.score("mig", factors=f, codes=codes[:, [3, 1, 0, 2]] * 4.0 - 1.0)
    assert shuffled["discrete_mig"] == pytest.approx(base["discrete_mig"], abs=1e-12)


def test_sap_perfect_and_noise(factors: tuple[np.ndarray, np.ndarray]) -> None:
    f, ft = factors
    good = metrics.score("sap", factors=f, codes=perfect(f), factors_test=ft, codes_test=perfect(ft))
    bad = metrics.score(
        "sap", factors=f, codes=noise(len(f), 5, 3), factors_test=ft, codes_test=noise(len(ft), 5, 4)
    )
    cont = metrics.score("sap", factors=f, codes=perfect(f), continuous_factors=True)
    # One-dimensional linear SVMs separate few of a factor's many levels, so a perfect
    # representation scores far from 1 with discrete factors, but far above noise.
    assert good["SAP_score"] > 0.2
    assert abs(bad["SAP_score"]) < 0.03
    assert cont["SAP_score"] == pytest.approx(1.0, abs=1e-3)
    order = [3, 0, 4, 2, 1]  # SAP scores each dimension on its own: permutation-invariant
    permuted = metrics.score("sap", factors=f, codes=perfect(f)[:, order], factors_test=ft,
                             codes_test=perfect(ft)[:, order])  # fmt: skip
    assert permuted == good  # correlation 1 with its factor, ~0 others


def test_dci_perfect_rotated_duplicated(factors: tuple[np.ndarray, np.ndarray]) -> None:
    f, ft = factors
    c, ct = perfect(f)[:600, [1, 3, 0]], perfect(ft)[:300, [1, 3, 0]]
    f, ft = f[:600, :3], ft[:300, :3]  # 3 small factors keep the boosted trees quick
    good = metrics.score("dci", factors=f, codes=c, factors_test=ft, codes_test=ct)
    assert good["disentanglement"] > 0.9 and good["completeness"] > 0.9
    assert good["informativeness_test"] > 0.95

    rot = ortho_group.rvs(3, random_state=2)
    mean, std = c.mean(axis=0), c.std(axis=0)
    rotated = metrics.score(
        "dci",
        factors=f,
        codes=((c - mean) / std) @ rot,
        factors_test=ft,
        codes_test=((ct - mean) / std) @ rot,
    )
    assert rotated["disentanglement"] < good["disentanglement"] - 0.2

    dup = metrics.score(
        "dci", factors=f, codes=np.hstack([c, c]), factors_test=ft, codes_test=np.hstack([ct, ct])
    )
    assert dup["completeness"] < good["completeness"] - 0.1
    assert dup["disentanglement"] == pytest.approx(good["disentanglement"], abs=0.05)


def test_irs_perfect_and_noise(factors: tuple[np.ndarray, np.ndarray]) -> None:
    f, _ = factors
    good = metrics.score("irs", factors=f, codes=perfect(f))
    bad = metrics.score("irs", factors=f, codes=noise(len(f), 5, 5))
    assert good["IRS"] > 0.95
    assert bad["IRS"] < 0.3
    constant = metrics.score("irs", factors=f, codes=np.hstack([perfect(f), np.ones((len(f), 2))]))
    assert constant["num_active_dims"] == 5
    assert constant["IRS"] == pytest.approx(good["IRS"])


def test_modularity_explicitness(factors: tuple[np.ndarray, np.ndarray]) -> None:
    f, ft = factors
    good = metrics.score("modularity", factors=f, codes=perfect(f), factors_test=ft, codes_test=perfect(ft))
    bad = metrics.score(
        "modularity", factors=f, codes=noise(len(f), 5, 6), factors_test=ft, codes_test=noise(len(ft), 5, 7)
    )
    assert good["modularity_score"] == pytest.approx(1.0, abs=1e-3)
    assert good["explicitness_score_test"] > 0.9
    assert bad["explicitness_score_test"] < 0.56
    rotated = metrics.score("modularity", factors=f, codes=rotate(perfect(f)))
    assert rotated["modularity_score"] < good["modularity_score"] - 0.1


def test_fixed_seed_gives_identical_scores(factors: tuple[np.ndarray, np.ndarray]) -> None:
    f, _ = factors
    codes = rotate(perfect(f)) + noise(len(f), 5, 8)
    a = metrics.score("modularity", factors=f, codes=codes, random_state=3)
    b = metrics.score("modularity", factors=f, codes=codes, random_state=3)
    assert a == b


def test_constant_code_dimension_is_not_modular(factors: tuple[np.ndarray, np.ndarray]) -> None:
    """A dead dimension shares no information with any factor: modularity scores it 0."""
    f, _ = factors
    live = metrics.score("modularity", factors=f, codes=perfect(f))["modularity_score"]
    dead = metrics.score("modularity", factors=f, codes=np.hstack([perfect(f), np.ones((len(f), 1))]))
    assert dead["modularity_score"] == pytest.approx(live * 5 / 6, abs=1e-6)


def test_default_random_state_is_reproducible(factors: tuple[np.ndarray, np.ndarray]) -> None:
    f, _ = factors
    codes = np.round(rotate(perfect(f))[:600], 1)  # ties between equally good splits
    first = metrics.score("dci", factors=f[:600], codes=codes, random_state=None)
    assert metrics.score("dci", factors=f[:600], codes=codes, random_state=None) == first
    assert metrics.score("dci", factors=f[:600], codes=codes, random_state=0) == first


@pytest.mark.parametrize("name", ["mig", "sap", "dci", "irs", "modularity"])
def test_a_constant_factor_is_refused(name: str, factors: tuple[np.ndarray, np.ndarray]) -> None:
    f, _ = factors
    fixed = f.copy()
    fixed[:, 2] = 4
    with pytest.raises(UserError, match="factor column\\(s\\) 2 take one value"):
        metrics.score(name, factors=fixed, codes=perfect(f))


def test_one_factor_scores_are_defined(factors: tuple[np.ndarray, np.ndarray]) -> None:
    f, _ = factors
    one = f[:, [1]]
    codes = np.hstack([one.astype(np.float64), noise(len(f), 1, 9)])
    dci = metrics.score("dci", factors=one, codes=codes)
    assert dci["disentanglement"] == pytest.approx(1.0) and 0.5 < dci["completeness"] <= 1.0
    modularity = metrics.score("modularity", factors=one, codes=codes)["modularity_score"]
    assert modularity == pytest.approx(1.0)
    single = metrics.score("dci", factors=one, codes=one.astype(np.float64))
    assert single["completeness"] == pytest.approx(1.0) and single["disentanglement"] == pytest.approx(1.0)
