"""Valid but awkward inputs: nearly constant float32 codes, sorted rows, small test sets,
real-valued factors for SAP, and sample sizes the pair-sampling metrics cannot use."""

from __future__ import annotations

import numpy as np
import pytest

from latentplay import metrics
from latentplay.errors import UserError
from latentplay.metrics.information import histogram_discretize

from . import dlib_reference as ref
from .test_sampling_and_cli import FactorsAsObservations, identity


def make(n: int = 400, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Factors ``(n, 2)`` (3 and 4 levels) and noisy codes ``(n, 3)``."""
    rng = np.random.default_rng(seed)
    f = np.stack([rng.integers(0, 3, n), rng.integers(0, 4, n)], axis=1)
    codes = np.hstack([f + 0.3 * rng.normal(size=(n, 2)), rng.normal(size=(n, 1))])
    return f, codes


def test_a_float32_dimension_varying_by_a_few_ulps_is_binned_by_its_order() -> None:
    """np.histogram cannot make 20 float32 edges inside 5 ulps; the dimension is binned with
    the same equal-width rule in float64, so each level keeps its own bin."""
    f, codes = make()
    ulp = np.spacing(np.float32(1.0))
    tiny = np.float32(1.0) + f[:, 1].astype(np.float32) * ulp  # factor 1 in 4 float32 levels
    assert len(np.unique(tiny)) == 4
    binned = histogram_discretize(tiny[:, None])[:, 0]
    assert binned.min() == 1 and binned.max() == 20
    assert len(np.unique(binned)) == 4 and np.all(np.diff(binned[np.argsort(f[:, 1])]) >= 0)
    wide = codes.astype(np.float32)
    wide[:, 1] = f[:, 1]
    narrow = wide.copy()
    narrow[:, 1] = tiny
    assert metrics.score("mig", factors=f, codes=narrow) == metrics.score("mig", factors=f, codes=wide)
    mod = metrics.score("modularity", factors=f, codes=narrow, n_jobs=1)["modularity_score"]
    assert mod == metrics.score("modularity", factors=f, codes=wide, n_jobs=1)["modularity_score"]


@pytest.mark.parametrize("name", ["sap", "dci", "modularity"])
def test_a_factor_constant_in_the_training_split_is_refused(name: str) -> None:
    """Rows sorted by a rare class: the first 90% (the training split) hold one class only."""
    f, codes = make(200)
    f[:, 1] = 0
    f[-10:, 1] = 1
    with pytest.raises(UserError, match="factor column\\(s\\) 1 take one value in the first 180 rows"):
        metrics.score(name, factors=f, codes=codes, n_jobs=1)


@pytest.mark.parametrize("name", ["sap", "dci", "modularity"])
def test_rows_sorted_by_a_factor_are_refused_and_shuffled_ones_scored(name: str) -> None:
    """The same points in another order are the same data: sorted by factor 0 (as dSprites'
    file is), the last 10 % of the rows, the test split, hold its last level only and the
    scores are another's, so the sorted order is refused, in either direction."""
    f, codes = make(400)
    order = np.lexsort(f.T[::-1])
    for rows in (order, order[::-1]):
        with pytest.raises(UserError, match=r"sorted by factor column\(s\) 0: the last 40 rows"):
            metrics.score(name, factors=f[rows], codes=codes[rows], n_jobs=1)
    shuffled = np.random.default_rng(1).permutation(400)
    assert metrics.score(name, factors=f[shuffled], codes=codes[shuffled], n_jobs=1)


def test_explicitness_needs_two_test_classes_per_factor() -> None:
    f, codes = make()
    ft, ct = f[:40].copy(), codes[:40]
    ft[:, 0] = 2
    with pytest.raises(UserError, match="test rows of factor column\\(s\\) 0 take one value"):
        metrics.score("modularity", factors=f, codes=codes, factors_test=ft, codes_test=ct, n_jobs=1)
    ft[:20, 0] = 7  # two values, neither seen in training
    ft[20:, 0] = 8
    with pytest.raises(UserError, match="none seen in training"):
        metrics.score("modularity", factors=f, codes=codes, factors_test=ft, codes_test=ct, n_jobs=1)


def test_sap_takes_real_valued_factors_when_continuous() -> None:
    f, codes = make()
    real = f + np.random.default_rng(1).random(f.shape)  # e.g. an age in years
    ours = metrics.score("sap", factors=real, codes=codes, continuous_factors=True)
    n_train = int(np.ceil(len(f) * 0.9))
    theirs = ref.sap(codes[:n_train].T, real[:n_train].T, None, None, continuous_factors=True)
    assert ours["SAP_score"] == pytest.approx(theirs["SAP_score"], abs=1e-12)
    with pytest.raises(UserError, match="integer levels"):
        metrics.score("sap", factors=real, codes=codes)


def test_pair_sampling_metrics_refuse_unusable_sizes() -> None:
    gt = FactorsAsObservations()
    with pytest.raises(UserError, match="batch_size and num_variance_estimate must be at least 2"):
        metrics.score("factor_vae_fast", ground_truth=gt, represent=identity, batch_size=1)

    class OneFactor(FactorsAsObservations):
        num_factors = 1
        factors_num_values = [4]

    with pytest.raises(UserError, match="one fixed factor only"):
        metrics.score("beta_vae", ground_truth=OneFactor(), represent=lambda x: x, num_train=50, num_eval=20)


@pytest.mark.parametrize("name", ["irs", "factor_vae_fast", "beta_vae_fast"])
def test_non_finite_sampled_codes_are_refused(name: str) -> None:
    """IRS and FactorVAE used to drop a NaN dimension as inactive and score the rest."""

    def broken(x: np.ndarray) -> np.ndarray:
        codes = identity(x)
        codes[::7, 1] = np.nan
        return codes

    with pytest.raises(UserError, match="representation returned NaN or infinite codes"):
        metrics.score(name, ground_truth=FactorsAsObservations(), represent=broken, num_train=200)


@pytest.mark.parametrize(
    ("name", "option", "message"),
    [("mig", {"num_bins": 0}, "num_bins must be at least 1"),
     ("modularity", {"num_bins": -3}, "num_bins must be at least 1"),
     ("irs", {"diff_quantile": 99.0}, "diff_quantile must be in \\[0, 1\\]")],
)
def test_bad_options_are_one_line_errors(name: str, option: dict[str, float], message: str) -> None:
    f, codes = make()
    with pytest.raises(UserError, match=message):
        metrics.score(name, factors=f, codes=codes, **option)


@pytest.mark.parametrize("name", ["mig", "sap", "irs", "dci_fast", "modularity"])
@pytest.mark.parametrize("empty", ["factors", "codes"])
def test_arrays_without_columns_are_refused(name: str, empty: str) -> None:
    """IRS used to fail with a numpy traceback on (N, 0) factors and SAP to return NaN."""
    f, codes = make()
    arrays = {"factors": f, "codes": codes}
    arrays[empty] = arrays[empty][:, :0]
    with pytest.raises(UserError, match="at least one column each"):
        metrics.score(name, **arrays)


def test_factor_vae_ignores_a_constant_dimension_without_pruning() -> None:
    """With prune_threshold=0 a constant dimension's scaled variance was 0 / 0 = NaN, which
    argmin picked: it took every vote and a perfect representation scored about chance."""
    def with_constant(x: np.ndarray) -> np.ndarray:
        return np.hstack([np.zeros((len(x), 1)), identity(x)])

    scores = metrics.score("factor_vae", ground_truth=FactorsAsObservations(), represent=with_constant,
                           num_train=200, num_eval=100, num_variance_estimate=500, prune_threshold=0.0)
    assert scores["eval_accuracy"] == 1.0
    assert scores["num_active_dims"] == 4.0


@pytest.mark.parametrize(
    ("name", "sizes"),
    [("mig", {"num_train": 0}), ("irs", {"num_train": 0}), ("sap_fast", {"num_test": 0}),
     ("dci_fast", {"num_test": 0}), ("modularity_fast", {"num_test": 0})],
)
def test_a_sample_size_of_zero_is_a_one_line_error(name: str, sizes: dict[str, int]) -> None:
    """Sampling no points used to fail inside numpy ("need at least one array to concatenate")."""
    with pytest.raises(UserError, match="sample sizes .* must be at least 1, got 0"):
        metrics.score(name, ground_truth=FactorsAsObservations(), represent=identity, **sizes)


@pytest.mark.parametrize("name", ["mig", "factor_vae_fast", "beta_vae_fast"])
def test_transposed_codes_are_refused(name: str) -> None:
    """Codes returned as ``(D, n)`` for a batch of n were reshaped to ``(n, D)``: the values of
    different observations and dimensions were silently mixed and scored."""

    def transposed(x: np.ndarray) -> np.ndarray:
        return identity(x).T

    with pytest.raises(UserError, match="one row of codes per observation"):
        metrics.score(name, ground_truth=FactorsAsObservations(), represent=transposed, num_train=64)


def test_sap_says_when_no_svm_splits_a_factor(capsys: pytest.CaptureFixture[str]) -> None:
    """Codes that follow their factors closely, of SD 0.01: LinearSVC(C=0.01) on the codes as
    they are puts every test row in one class for every dimension, so every dimension scores
    the same accuracy and SAP is 0, and a note says why (with the codes' median SD) and what to
    do; the same codes times 100 score well above 0 without a note."""
    rng = np.random.default_rng(0)
    factors = np.column_stack([rng.integers(0, 4, 1000), rng.integers(0, 3, 1000)])
    codes = np.column_stack([factors + 0.3 * rng.standard_normal((1000, 2)),
                             rng.standard_normal((1000, 2))])
    small = metrics.score("sap", factors=factors, codes=codes * 0.01)["SAP_score"]
    note = " ".join(capsys.readouterr().err.split())
    assert small == 0
    assert "note: SAP: for factors 0, 1 no code dimension's SVM predicts more than one class" in note
    assert f"median SD is {np.median((codes * 0.01).std(axis=0)):.2g}" in note
    assert "multiply the codes by a constant" in note
    assert metrics.score("sap", factors=factors, codes=codes)["SAP_score"] > 0.3
    assert capsys.readouterr().err == ""
