"""Group sampling from per-group latent mixtures of a tiny trained VAE."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from latentplay import store as st
from latentplay import train
from latentplay.audit import ClassifierAnnotator, balanced_sample, fit_group_mixtures
from latentplay.audit.groups import fit_mixture
from latentplay.errors import UserError


def test_group_samples_are_annotated_as_their_group(
    vae_run: Path, faces: Path, skin_annotator: ClassifierAnnotator
) -> None:
    gm = fit_group_mixtures(vae_run, faces, "skin_tone")
    assert gm.classes == ["monk_2", "monk_8"]
    labels = st.load(faces).labels("skin_tone")
    assert gm.counts.tolist() == [int((labels == 1).sum()), int((labels == 7).sum())]
    base = gm.counts / gm.counts.sum()
    assert base[1] < 0.3
    prior = skin_annotator.predict(train.sample(vae_run, 200, seed=5))
    images, groups = balanced_sample(vae_run, faces, "skin_tone", 100, mixtures=gm)
    assert images.shape == (200, 32, 32, 3) and groups.tolist() == [0] * 100 + [1] * 100
    predicted = skin_annotator.predict(images)
    share = [np.mean(predicted[groups == k] == k) for k in range(2)]
    # the minority group: far above its base rate and above its share among prior samples
    assert share[1] > 0.8 > base[1] + 0.5
    assert share[1] > np.mean(prior == 1) + 0.3
    assert share[0] > 0.8
    again, _ = balanced_sample(vae_run, faces, "skin_tone", 100, mixtures=gm)
    assert np.array_equal(again, images)  # seeded


def test_mixture_components_by_bic() -> None:
    rng = np.random.default_rng(0)
    two = np.concatenate([rng.normal(-4, 1, (200, 2)), rng.normal(4, 1, (200, 2))])
    assert fit_mixture(two).n_components == 2
    assert fit_mixture(rng.normal(0, 1, (400, 2))).n_components == 1
    assert fit_mixture(two, components=3).n_components == 3
    with pytest.raises(UserError, match="too few"):
        fit_mixture(two[:3], components=4)


def test_group_errors(vae_run: Path, faces: Path) -> None:
    with pytest.raises(UserError, match="continuous"):
        fit_group_mixtures(vae_run, faces, "smile")
    with pytest.raises(UserError, match="no group 'monk_5'"):
        fit_group_mixtures(vae_run, faces, "skin_tone", components=1).sample("monk_5", 2)


@pytest.mark.parametrize("covariance", ["full", "diag", "tied", "spherical"])
def test_mixture_draws_have_the_fitted_moments(covariance: str) -> None:
    """Draws of a one-component mixture have its mean and covariance, without NumPy's
    spurious warning for codes of large and small variance together."""
    import warnings

    from sklearn.mixture import GaussianMixture

    from latentplay.audit.groups import _covariance, mixture_sample

    rng = np.random.default_rng(0)
    z = rng.standard_normal((3000, 3)) @ np.array([[300.0, 0, 0], [120.0, 40.0, 0],
                                                   [0, 0, 0.02]])
    gm = GaussianMixture(1, covariance_type=covariance, reg_covar=1e-4, random_state=0).fit(z)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        draws = mixture_sample(gm, 20000, seed=1)
    assert draws.shape == (20000, 3) and draws.dtype == np.float32
    np.testing.assert_allclose(draws.mean(0), gm.means_[0], atol=0.05 * draws.std(0).max())
    fitted, drawn = _covariance(gm, 0), np.cov(draws, rowvar=False)
    np.testing.assert_allclose(np.diag(drawn), np.diag(fitted), rtol=0.05)
    scale = np.sqrt(np.outer(np.diag(fitted), np.diag(fitted)))
    np.testing.assert_allclose(drawn / scale, fitted / scale, atol=0.03)  # correlations
    assert np.array_equal(mixture_sample(gm, 5, seed=2), mixture_sample(gm, 5, seed=2))
