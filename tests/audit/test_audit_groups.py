"""Group sampling from per-group latent mixtures: of a tiny VAE's encoder means, or of codes in a column."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from audit_stores import unlabelled

from latentplay import store as st
from latentplay import train
from latentplay.audit import ClassifierAnnotator, balanced_sample, fit_group_mixtures
from latentplay.audit.groups import fit_mixture, mixture_sample
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
    assert fit_mixture(two)[0].n_components == 2
    assert fit_mixture(rng.normal(0, 1, (400, 2)))[0].n_components == 1
    assert fit_mixture(two, components=3)[1] is None
    assert fit_mixture(two, components=3)[0].n_components == 3
    # 3 codes of 4 per full covariance can hold no component: one shrunk one, said so
    gm, note, _ = fit_mixture(two[:3], components=4)
    assert gm.n_components == 1 and "Ledoit-Wolf" in note
    gm, note, _ = fit_mixture(two[:40], components=20)  # 40 codes: 10 components of 4
    assert gm.n_components == 10 and "support 10 full-covariance component(s)" in note
    assert fit_mixture(two[:40], components=20, covariance="diag")[0].n_components == 20
    with pytest.raises(UserError, match="too few to model"):
        fit_mixture(two[:1])
    # 7 codes in 2 dimensions hold one full covariance (4 codes each), not two: nothing to choose
    gm, note, chosen = fit_mixture(two[:7])
    assert (gm.n_components, note, chosen) == (1, None, "only")


def test_a_group_of_fewer_codes_than_dimensions_draws_new_codes() -> None:
    """5 codes in 32 dimensions: a full covariance of them spans only 4 directions (draws
    near copies of the 5); the shrunk covariance spreads draws over all 32 (as the codes'
    own spread, of SD 1 in every direction, does)."""
    rng = np.random.default_rng(0)
    z = rng.standard_normal((5, 32))
    gm, note, _ = fit_mixture(z)
    assert "5 codes in 32 dimensions are too few" in note
    draws = mixture_sample(gm, 2000, seed=1) - z.mean(0)
    span = np.linalg.svd(z - z.mean(0), full_matrices=False)[2][:4]  # (4, 32)
    outside = draws - draws @ span.T @ span
    assert outside.std() > 0.3 * draws.std()


def test_regularization_follows_the_scale_of_the_codes() -> None:
    """Codes 1000 times smaller give a mixture 1000 times smaller: the covariance is not
    swamped by a fixed regularization."""
    z = np.random.default_rng(0).normal(0, 1, (300, 3)) * [1.0, 0.5, 0.1]
    big, small = fit_mixture(z)[0], fit_mixture(z * 1e-3)[0]
    np.testing.assert_allclose(small.covariances_, big.covariances_ * 1e-6, rtol=1e-4, atol=1e-12)


def test_group_errors(vae_run: Path, faces: Path) -> None:
    with pytest.raises(UserError, match="continuous"):
        fit_group_mixtures(vae_run, faces, "smile")
    with pytest.raises(UserError, match="no group 'monk_5'"):
        fit_group_mixtures(vae_run, faces, "skin_tone", components=1).sample("monk_5", 2)
    gm = fit_group_mixtures(vae_run, faces, "skin_tone", components=1)
    for position in (2, -1):
        with pytest.raises(UserError, match=r"no group -?\d; groups are 0..1 \(monk_2, monk_8\)"):
            gm.sample(position, 2)


@pytest.mark.parametrize("covariance", ["full", "diag", "tied", "spherical"])
def test_mixture_draws_have_the_fitted_moments(covariance: str) -> None:
    """Draws of a one-component mixture have its mean and covariance, without NumPy's
    spurious warning for codes of large and small variance together."""
    import warnings

    from sklearn.mixture import GaussianMixture

    rng = np.random.default_rng(0)
    z = rng.standard_normal((3000, 3)) @ np.array([[300.0, 0, 0], [120.0, 40.0, 0],
                                                   [0, 0, 0.02]])
    gm = GaussianMixture(1, covariance_type=covariance, reg_covar=1e-4, random_state=0).fit(z)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        draws = mixture_sample(gm, 20000, seed=1)
    assert draws.shape == (20000, 3) and draws.dtype == np.float32
    np.testing.assert_allclose(draws.mean(0), gm.means_[0], atol=0.05 * draws.std(0).max())
    fitted = np.cov(z, rowvar=False, bias=True) + 1e-4 * np.eye(3)   # the fit, by hand
    fitted = {"full": fitted, "tied": fitted, "diag": np.diag(np.diag(fitted)),
              "spherical": np.eye(3) * np.diag(fitted).mean()}[covariance]
    drawn = np.cov(draws, rowvar=False)
    np.testing.assert_allclose(np.diag(drawn), np.diag(fitted), rtol=0.05)
    scale = np.sqrt(np.outer(np.diag(fitted), np.diag(fitted)))
    np.testing.assert_allclose(drawn / scale, fitted / scale, atol=0.03)  # correlations
    assert np.array_equal(mixture_sample(gm, 5, seed=2), mixture_sample(gm, 5, seed=2))


def test_mixtures_of_a_code_column_are_those_of_the_encoder(vae_run: Path, faces: Path,
                                                            tmp_path: Path) -> None:
    store = st.load(faces)
    z = train.encode(vae_run, st.load_images(store, range(len(store))))
    coded = st.save(st.add_column(store, "mu", z), tmp_path / "coded")
    encoded = fit_group_mixtures(vae_run, faces, "skin_tone", components=1)
    read = fit_group_mixtures(vae_run, coded.path, "skin_tone", components=1, column="mu")
    assert read.counts.tolist() == encoded.counts.tolist()
    for a, b in zip(read.mixtures, encoded.mixtures, strict=True):
        np.testing.assert_allclose(a.means_, b.means_, atol=1e-4)
        np.testing.assert_allclose(a.covariances_, b.covariances_, atol=1e-4)


@pytest.fixture(scope="module")
def generator_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny imported StyleGAN2 (8 px, 16-d codes): a run without an encoder."""
    import torch

    from latentplay.models.stylegan2 import Generator, StyleGAN2Config
    from latentplay.train.pretrained import import_generator

    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("sg")
    checkpoint = folder / "g.pt"
    torch.save({"g_ema": Generator(StyleGAN2Config(resolution=8, style_dim=16, n_mlp=2,
                                                   channel_max=16)).state_dict()}, checkpoint)
    return import_generator(checkpoint, folder / "run", w_samples=500, samples=0)


def test_a_generator_samples_groups_from_its_codes_in_a_column(generator_run: Path, faces: Path,
                                                               tmp_path: Path, cli) -> None:
    """Codes whose first coordinate is 3 higher for monk_8 than for monk_2 (as inverted
    codes of a group would sit apart): each group's draws sit where its codes do."""
    store = st.load(faces)
    labels = store.labels("skin_tone")
    rng = np.random.default_rng(0)
    codes = rng.standard_normal((len(store), 16)).astype(np.float32)
    codes[:, 0] += 3 * (labels == 7)
    codes[:5] = np.nan  # rows whose inversion failed: left out
    coded = st.save(st.add_column(store, "w", codes), tmp_path / "coded")
    gm = fit_group_mixtures(generator_run, coded.path, "skin_tone", column="w", components=1)
    kept = labels[5:]
    assert gm.counts.tolist() == [int((kept == 1).sum()), int((kept == 7).sum())]
    first = [gm.sample(k, 2000, seed=1)[:, 0].mean() for k in range(2)]
    assert abs(first[0]) < 0.15 and abs(first[1] - 3) < 0.15
    assert gm.images("monk_8", 4).shape == (4, 8, 8, 3)
    with pytest.raises(UserError, match="has no encoder; give the column"):
        fit_group_mixtures(generator_run, coded.path, "skin_tone")
    with pytest.raises(UserError, match="holds 8-d vectors; this run decodes codes of 16 or 64"):
        fit_group_mixtures(generator_run, st.save(st.add_column(store, "short", codes[:, :8]),
                                                  tmp_path / "short").path, "skin_tone", column="short")
    r = cli("audit", "sample-groups", generator_run, "--data", coded.path, "--attribute", "skin_tone",
            "--column", "w", "--covariance", "diag", "--n", "4", "--out", tmp_path / "groups")
    assert r.code == 0, r.err
    summary = json.loads((tmp_path / "groups" / "groups.json").read_text())
    assert summary["codes"] == "column w" and summary["covariance"] == "diag"
    assert (tmp_path / "groups" / "groups.png").stat().st_size > 1000
    # vectors of no known run: said on the console, in groups.json and in the report
    assert "caution: column 'w' holds no known run's codes" in r.err
    assert "holds no known run's codes" in summary["caution"]
    from latentplay.report import auditing

    facts = [f for s in auditing.page(tmp_path / "groups").sections for b in s.blocks
             for f in getattr(b, "items", [])]
    assert ("caution", summary["caution"]) in facts


def test_a_column_of_another_runs_codes_is_refused(vae_run: Path, faces: Path, tmp_path: Path) -> None:
    """Codes embedded with one run decoded by another (same code size, other weights) drew
    faces of nothing, with shares that looked plausible."""
    from latentplay.embed import embed_store
    other = train.train("vae", data=faces, out=tmp_path / "other", epochs=1, batch_size=64, seed=1,
                        progress=False, overrides=["data.size=32", "model.width=16", "model.hidden=64",
                                                   "model.latent_dim=8", "trainer.threads=1"])
    coded = embed_store(st.save(st.load(faces), tmp_path / "coded"), f"vae:{other}", "mu",
                        progress=False)
    with pytest.raises(UserError, match=f"column 'mu' holds codes of run .*other, whose weights are "
                                        f"not those of {vae_run}"):
        fit_group_mixtures(vae_run, coded.path, "skin_tone", column="mu", components=1)
    own = fit_group_mixtures(other, coded.path, "skin_tone", column="mu", components=1)
    assert own.caution is None


def test_unlabelled_faces_join_no_group(generator_run: Path, faces: Path, tmp_path: Path) -> None:
    """Rows without a skin tone are left out, not fitted as a group of their own."""
    store = st.load(faces)
    labels = store.labels("skin_tone")
    codes = np.random.default_rng(0).standard_normal((len(store), 16)).astype(np.float32)
    codes[:, 0] += 6 * (labels == 7)
    coded = unlabelled(st.add_column(store, "w", codes), "skin_tone", 4, tmp_path / "coded")
    gm = fit_group_mixtures(generator_run, coded.path, "skin_tone", column="w", components=1)
    kept = np.delete(labels, np.arange(0, len(labels), 4))
    assert gm.classes == ["monk_2", "monk_8"]
    assert gm.counts.tolist() == [int((kept == 1).sum()), int((kept == 7).sum())]
    assert gm.mixtures[1].means_[0, 0] == pytest.approx(6.0, abs=0.5)
    assert gm.unlabelled == len(labels) - len(kept)


def test_base_rates_say_they_leave_unknown_rows_out(cli, generator_run: Path, faces: Path,
                                                    tmp_path: Path) -> None:
    """A base rate is a share of the rows with a class; with a quarter of the rows unknown
    the printout, groups.json and the report said "share of the data's rows" without a word
    of the rows left out."""
    from latentplay.report import build_report

    store = st.load(faces)
    codes = np.random.default_rng(0).standard_normal((len(store), 16)).astype(np.float32)
    coded = unlabelled(st.add_column(store, "w", codes), "skin_tone", 4, tmp_path / "coded")
    unknown = int((st.load(coded.path).labels("skin_tone") < 0).sum())
    assert unknown > 0
    r = cli("audit", "sample-groups", generator_run, "--data", coded.path, "--attribute",
            "skin_tone", "--column", "w", "--n", "2", "--components", "1", "--out",
            tmp_path / "g")
    assert r.code == 0, r.err
    summary = json.loads((tmp_path / "g" / "groups.json").read_text())
    assert summary["rows_without_class"] == unknown
    labelled = sum(g["rows"] for g in summary["groups"])
    assert labelled + unknown == len(store)
    assert sum(g["base_rate"] for g in summary["groups"]) == pytest.approx(1.0)
    assert (f"{unknown} rows with an unknown skin_tone left out: the base rates are shares of "
            f"the {labelled} rows with a class") in " ".join(r.out.split())
    html = build_report(tmp_path / "g").read_text()
    assert "rows with an unknown skin_tone" in html


def test_small_groups_are_named(generator_run: Path, faces: Path, tmp_path: Path) -> None:
    """A group of 5 codes in 16 dimensions is fitted with a shrunk covariance and a note naming
    it; a group of 1 code stops the fit with one line naming it."""
    store = st.load(faces)
    labels = store.labels("skin_tone")
    codes = np.random.default_rng(0).standard_normal((len(store), 16)).astype(np.float32)
    dark = np.flatnonzero(labels == 7)
    five = codes.copy()
    five[dark[5:]] = np.nan
    coded = st.save(st.add_column(store, "w", five), tmp_path / "five")
    with pytest.warns(UserWarning, match="skin_tone: group 'monk_8': 5 codes in 16 dimensions"):
        gm = fit_group_mixtures(generator_run, coded.path, "skin_tone", column="w")
    assert gm.counts.tolist()[1] == 5 and list(gm.notes) == ["monk_8"]
    assert "Ledoit-Wolf" in gm.notes["monk_8"]
    one = codes.copy()
    one[dark[1:]] = np.nan
    coded = st.save(st.add_column(store, "w", one), tmp_path / "one")
    with pytest.raises(UserError, match=r"skin_tone: too few faces .* group\(s\) 'monk_8' \(1\)"):
        fit_group_mixtures(generator_run, coded.path, "skin_tone", column="w")


def test_an_annotator_without_a_group_is_refused(vae_run: Path, faces: Path,
                                                 skin_annotator: ClassifierAnnotator,
                                                 tmp_path: Path) -> None:
    """An annotator that has no class for a group (trained where the group was missing, or a
    network whose classes are named otherwise) cannot read that group's samples as it: an
    error naming the group, not a share of 0. It and the other refusals (a bad covariance, a
    missing column) leave no empty ``--out`` behind."""
    import copy

    from latentplay.audit import sample_groups

    other = copy.copy(skin_annotator)
    other.classes = ["monk_2", "dark"]
    with pytest.raises(UserError, match=r"the annotator has no class 'monk_8' of 'skin_tone' "
                                        r"\(its classes: monk_2, dark\)"):
        sample_groups(vae_run, faces, "skin_tone", 2, tmp_path / "g", annotator=other, measure=4)
    assert not (tmp_path / "g").exists()  # a refused command leaves no empty --out behind
    for bad in ({"covariance": "tied"}, {"column": "nope"}):
        with pytest.raises(UserError):
            sample_groups(vae_run, faces, "skin_tone", 2, tmp_path / "h", **bad)
        assert not (tmp_path / "h").exists()


def _two_clusters(n: int, apart: float, seed: int) -> np.ndarray:
    """``(n, 8)`` codes: two unit Gaussians ``apart`` SDs apart along a random axis."""
    rng = np.random.default_rng(seed)
    axis = rng.standard_normal(8)
    z = rng.standard_normal((n, 8))
    z[: n // 2] += apart * axis / np.linalg.norm(axis)
    return z


def _choices_follow_held_out_likelihood(single: int, split: int, large: int) -> None:
    """Fewer codes than the largest mixture's parameters: 25 codes of one Gaussian in 8
    dimensions keep one component for each of ``single`` seeds (BIC split about one group in six
    into near-singular components); 80 codes of two clusters 12 SD apart give 2 for at least 80 %
    of ``split`` seeds (a cap at the parameter count, 89 codes for 2 components, allowed one
    only); 200 codes of two clusters 8 SD apart, enough for BIC, give 2 for ``large`` seeds."""
    from latentplay.audit.groups import held_out_score

    for seed in range(single):
        rng = np.random.default_rng(seed)
        z = rng.standard_normal((25, 8)) @ rng.standard_normal((8, 8)).T
        assert fit_mixture(z, seed=0)[0].n_components == 1
    found = [fit_mixture(_two_clusters(80, 12, seed), seed=0)[0].n_components for seed in range(split)]
    assert found.count(2) >= 0.8 * split, found
    assert all(fit_mixture(_two_clusters(200, 8, seed), seed=0)[0].n_components == 2 for seed in range(large))
    z = _two_clusters(100, 8, 0)
    assert held_out_score(z, 2, "full", 1e-4, 0) > held_out_score(z, 1, "full", 1e-4, 0)


def test_small_groups_choose_components_by_held_out_likelihood() -> None:
    _choices_follow_held_out_likelihood(single=8, split=5, large=1)


@pytest.mark.slow
def test_small_groups_choose_components_by_held_out_likelihood_over_many_seeds() -> None:
    _choices_follow_held_out_likelihood(single=30, split=10, large=3)


@pytest.mark.parametrize("covariance", ["full", "diag", "tied", "spherical"])
def test_each_component_draws_with_its_own_covariance(covariance: str) -> None:
    """Two far clusters of variances (1, 4) and (9, 0.25): each component's draws have its
    cluster's variances (spherical: their mean, 2.5 and 4.625; tied: the clusters' average)."""
    from sklearn.mixture import GaussianMixture

    rng = np.random.default_rng(0)
    sds = np.array([[1.0, 2.0], [3.0, 0.5]])
    z = np.concatenate([rng.standard_normal((2000, 2)) * sds[0],
                        rng.standard_normal((2000, 2)) * sds[1] + 100.0])
    gm = GaussianMixture(2, covariance_type=covariance, random_state=0).fit(z)
    draws = mixture_sample(gm, 20000, seed=1)
    variances = sds ** 2
    expected = {"full": variances, "diag": variances, "tied": np.tile(variances.mean(0), (2, 1)),
                "spherical": np.tile(variances.mean(1, keepdims=True), (1, 2))}[covariance]
    for cluster, near in enumerate([draws[:, 0] < 50, draws[:, 0] >= 50]):
        np.testing.assert_allclose(draws[near].var(0), expected[cluster], rtol=0.1)


@pytest.mark.parametrize("covariance", ["full", "diag", "tied", "spherical"])
def test_free_parameters_are_counted_as_scikit_learn_does(covariance: str) -> None:
    from sklearn.mixture import GaussianMixture

    from latentplay.audit.groups import free_parameters

    z = np.random.default_rng(0).standard_normal((60, 5))
    gm = GaussianMixture(3, covariance_type=covariance, random_state=0).fit(z)
    assert free_parameters(3, 5, covariance) == gm._n_parameters()


def test_an_unknown_covariance_is_one_line() -> None:
    with pytest.raises(UserError, match=r"covariance \(--covariance\) must be one of full, tied, diag, "
                                        "spherical"):
        fit_mixture(np.zeros((30, 2)) + np.arange(30)[:, None], covariance="ful")


def test_mixture_draws_come_in_random_order() -> None:
    """Draws of a two-component mixture are not grouped by component: the first of a sample
    are not all of one of them."""
    rng = np.random.default_rng(0)
    gm = fit_mixture(np.concatenate([rng.normal(-4, 1, (200, 2)), rng.normal(4, 1, (200, 2))]))[0]
    side = mixture_sample(gm, 100, seed=1)[:, 0] > 0
    assert np.count_nonzero(side[1:] != side[:-1]) > 10
