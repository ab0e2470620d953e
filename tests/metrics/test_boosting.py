"""The compiled boosted trees grow scikit-learn's GradientBoostingClassifier's trees."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble import GradientBoostingClassifier

from latentplay.metrics.boosting import fit_boosted_trees


def make_data(n: int, d: int, classes: int, seed: int, kind: str = "continuous") -> tuple[np.ndarray, ...]:
    """Codes ``(n, d)`` and ``(n // 2, d)`` with labels from a noisy nonlinear score."""
    rng = np.random.default_rng(seed)
    x, x_test = rng.normal(size=(n, d)), rng.normal(size=(n // 2, d))
    if kind == "rounded":  # many equal values: split points must skip them
        x, x_test = np.round(x, 1), np.round(x_test, 1)
    if kind == "constant":
        x[:, 1], x_test[:, 1] = 0.5, 0.5
    score = 2 * x[:, 0] + np.sin(3 * x[:, 2]) + rng.normal(scale=0.5, size=n)
    y = np.digitize(score, np.quantile(score, np.linspace(0, 1, classes + 1)[1:-1]))
    return x, y, x_test


@pytest.mark.parametrize("classes", [2, 5])
@pytest.mark.parametrize("kind", ["continuous", "rounded", "constant"])
def test_trees_without_ties_are_scikit_learns(classes: int, kind: str) -> None:
    """With nodes too large for two features to split them alike, everything is identical."""
    x, y, x_test = make_data(1500, 5, classes, 0, kind)
    ours = fit_boosted_trees(x, y, n_estimators=10, max_depth=2)
    theirs = GradientBoostingClassifier(n_estimators=10, max_depth=2, random_state=0).fit(x, y)
    np.testing.assert_allclose(ours.feature_importances, theirs.feature_importances_, rtol=0, atol=1e-12)
    for data in (x, x_test):
        raw = theirs.decision_function(data).reshape(len(data), -1)
        np.testing.assert_allclose(ours.raw(data), raw, rtol=0, atol=1e-12)
        assert np.array_equal(ours.predict(data), theirs.predict(data))
    if kind == "constant":
        assert ours.feature_importances[1] == 0.0


@pytest.mark.parametrize("classes", [2, pytest.param(6, marks=pytest.mark.slow)])  # 6: ~9 s
def test_full_ensemble_within_scikit_learns_seed_spread(classes: int) -> None:
    """Default settings (depth 3, 100 stages): small nodes tie, and only their feature differs.

    Tied splits put the same training rows on each side, so training scores stay identical;
    importances and test predictions differ as much as between two scikit-learn seeds.
    """
    x, y, x_test = make_data(1200, 6, classes, 1)
    theirs = [GradientBoostingClassifier(random_state=s).fit(x, y) for s in range(3)]
    ours = fit_boosted_trees(x, y, random_state=0)
    raw = theirs[0].decision_function(x).reshape(len(x), -1)
    np.testing.assert_allclose(ours.raw(x), raw, rtol=0, atol=1e-9)
    reference = theirs[0].feature_importances_
    spread = max(np.abs(t.feature_importances_ - reference).max() for t in theirs[1:])
    assert spread > 0  # ties really occur, so this comparison means something
    assert np.abs(ours.feature_importances - reference).max() <= 3 * spread
    assert ours.feature_importances.sum() == pytest.approx(1.0)
    seed_agreement = min(np.mean(t.predict(x_test) == theirs[0].predict(x_test)) for t in theirs[1:])
    assert np.mean(ours.predict(x_test) == theirs[0].predict(x_test)) >= seed_agreement - 0.01


def test_labels_and_errors() -> None:
    x, y, _ = make_data(300, 3, 3, 2)
    names = np.array(["a", "b", "c"])[y]
    model = fit_boosted_trees(x, names, n_estimators=5)
    assert set(model.predict(x)) <= {"a", "b", "c"}
    assert list(model.classes) == ["a", "b", "c"]
    with pytest.raises(ValueError, match="at least two classes"):
        fit_boosted_trees(x, np.zeros(len(x), dtype=int))


def test_seed_only_breaks_ties() -> None:
    """Two random seeds give the same model on codes where no two splits tie."""
    x, y, _ = make_data(1000, 4, 3, 3)
    a = fit_boosted_trees(x, y, n_estimators=2, random_state=0)
    b = fit_boosted_trees(x, y, n_estimators=2, random_state=1)
    assert np.array_equal(a.feature, b.feature) and np.array_equal(a.threshold, b.threshold)
