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
