"""StyleSpace: channel-wise styles, the channels of an attribute, single-channel edits."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from latentplay import store as st
from latentplay.errors import UserError
from latentplay.latent.stylespace import (
    attribute_channels,
    channel_offset,
    channel_traversal,
    correlated_channels,
    styles,
)
from latentplay.models.stylegan2 import Generator, StyleGAN2Config
from latentplay.train import load_model
from latentplay.train.api import decode
from latentplay.train.pretrained import import_generator


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny imported StyleGAN2 (16 px, style 16, channels capped at 16): 6 ws, 8 style layers."""
    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("stylespace")
    generator = Generator(StyleGAN2Config(resolution=16, style_dim=16, n_mlp=2, channel_max=16))
    torch.save({"g_ema": generator.state_dict()}, folder / "g.pt")
    return import_generator(folder / "g.pt", folder / "run", w_samples=500, samples=0)


def _codes(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, 16)).astype(np.float32)


def test_styles_are_the_affine_maps_of_each_layers_w(run: Path) -> None:
    model = load_model(run)
    codes = _codes(5)
    s = styles(model, codes)
    layers = model.generator.style_affines()
    assert s.shape == (5, sum(int(a.affine.weight.shape[0]) for a in layers)) == (5, 8 * 16)
    with torch.no_grad():
        w = model.to_w(torch.from_numpy(codes))
        g = model.generator
        by_hand = torch.cat([g.to_rgb1.conv.modulation(w), g.convs[3].conv.modulation(w)], 1)
    np.testing.assert_allclose(s[:, 16:32], by_hand[:, :16].numpy(), atol=1e-6)  # b4.torgb, second
    np.testing.assert_allclose(s[:, 96:112], by_hand[:, 16:].numpy(), atol=1e-6)  # b16.conv1, seventh
    np.testing.assert_allclose(styles(model, np.tile(codes, (1, 6))), s, atol=1e-6)  # W+ of one w
    plus = np.tile(codes, (1, 6))
    plus[:, 16 * 4:16 * 5] = _codes(5, seed=1)  # w 4 styles b16.conv1 only
    moved = styles(model, plus) != s
    assert moved[:, 96:112].all() and not moved[:, :96].any() and not moved[:, 112:].any()
    with pytest.raises(UserError, match="W\\+"):
        styles(model, codes[:, :5])


def test_the_channel_an_attribute_was_planted_in_ranks_first(run: Path) -> None:
    model = load_model(run)
    codes = _codes(600, seed=2)
    s = styles(model, codes)
    planted = 54  # b8.conv1, channel 6
    positive = s[:, planted] > np.quantile(s[:, planted], 0.85)
    ranking = attribute_channels(model, codes, positive)
    assert ranking.order[0] == planted and ranking.label(planted) == "b8.conv1:6"
    assert ranking.shift[planted] > 1  # the positives lie above the mean
    assert ranking.score[planted] > 3 * ranking.chance  # far above what random groups reach
    chance = attribute_channels(model, codes, np.arange(600) % 7 == 0)  # a group unrelated to styles
    assert chance.score[chance.order[0]] < 2 * chance.chance and 0 < chance.chance < 1
    standardized = (s[positive, planted] - s[:, planted].mean()) / s[:, planted].std()
    assert ranking.score[planted] == pytest.approx(abs(standardized.mean()) / standardized.std(), rel=1e-4)
    assert np.isnan(ranking.score[ranking.rgb]).all() and not ranking.rgb[ranking.order].any()
    assert len(ranking.order) == 5 * 16  # the five convolutions' channels, not the RGB layers'
    # a group below the mean ranks by the size of its shift, not its sign
    below = attribute_channels(model, codes, s[:, planted] < np.quantile(s[:, planted], 0.15))
    assert below.order[0] == planted and below.shift[planted] < -1
    # standardized by the population's statistics: here the faces outside the group
    apart = attribute_channels(model, codes, positive, population=~positive)
    assert apart.mean[planted] == pytest.approx(s[~positive, planted].mean(), rel=1e-5)
    assert apart.std[planted] == pytest.approx(s[~positive, planted].std(), rel=1e-5)
    with pytest.raises(UserError, match="at least 2 positive"):
        attribute_channels(model, codes, np.arange(600) == 3)


def test_channels_that_follow_an_ordered_attribute(run: Path) -> None:
    from scipy.stats import spearmanr

    model = load_model(run)
    codes = _codes(500, seed=6)
    s = styles(model, codes)
    planted = 90  # b16.conv0, channel 10
    values = -s[:, planted] + np.random.default_rng(7).normal(0, s[:, planted].std(), 500)
    ranking = correlated_channels(model, codes, values)
    assert ranking.order[0] == planted and ranking.shift[planted] < 0  # falls as the values rise
    assert ranking.shift[planted] == pytest.approx(spearmanr(s[:, planted], values)[0], abs=1e-6)
    assert ranking.score[planted] > 3 * ranking.chance and np.isnan(ranking.score[ranking.rgb]).all()
    unrelated = correlated_channels(model, codes, np.random.default_rng(8).normal(size=500))
    assert unrelated.score[unrelated.order[0]] < 2 * unrelated.chance
    with pytest.raises(UserError, match="values differ"):
        correlated_channels(model, codes, np.ones(500))


def test_moving_one_channel(run: Path) -> None:
    model = load_model(run)
    codes = _codes(3, seed=3)
    ranking = attribute_channels(model, _codes(200, seed=4), np.arange(200) < 40)
    index = int(ranking.order[0])
    before = styles(model, codes)
    with channel_offset(model, ranking, index, 2.5):
        after = styles(model, codes)  # the hook acts on every use of the layer's affine map
    change = after - before
    assert change[:, index] == pytest.approx(2.5) and np.abs(np.delete(change, index, 1)).max() == 0
    np.testing.assert_array_equal(styles(model, codes), before)  # removed on leaving
    images = channel_traversal(model, codes, ranking, index, [-20, 0, 20])
    assert images.shape == (3, 3, 16, 16, 3)
    np.testing.assert_array_equal(images[:, 1], decode(model, codes))
    assert np.abs(images[:, 0].astype(int) - images[:, 2]).max() > 10
    with channel_offset(model, ranking, index, 20 * float(ranking.std[index])):  # alphas are SDs
        np.testing.assert_array_equal(images[:, 2], decode(model, codes))


def test_only_style_generators_have_a_stylespace(vae_run: Path) -> None:
    with pytest.raises(UserError, match="StyleSpace belongs to an imported StyleGAN2 or StyleGAN3"):
        styles(load_model(vae_run), _codes(2)[:, :8])


def test_cli(run: Path, faces_store: Path, tmp_path: Path, cli) -> None:
    store = st.load(faces_store)
    codes = _codes(len(store), seed=5)
    codes[7] = np.nan  # a face that was not inverted
    path = tmp_path / "faces"
    st.save(st.add_column(store, "w", codes, "codes of the test generator"), path)
    out = tmp_path / "ss.png"
    result = cli("latent", "stylespace", run, "--data", path, "--column", "w", "--attribute", "gender",
                 "--positive", "1", "--top", "3", "--steps", "3", "--out", out)
    assert result.code == 0, result.err
    import json

    numbers = json.loads(out.with_suffix(".json").read_text())
    assert len(numbers["channels"]) == 3 and numbers["n_compared"] == len(store) - 1
    assert numbers["positive"] == store.schema.attribute("gender").level_names[1]
    assert "no channel beats it" in result.out  # random codes: nothing to do with gender
    scores = [c["score"] for c in numbers["channels"]]
    assert scores == sorted(scores, reverse=True) and out.is_file()
    assert not st.load(path).labels("gender")[numbers["row"]] == 1  # a face of the other class is moved
    result = cli("latent", "stylespace", run, "--data", path, "--column", "w", "--attribute", "smile",
                 "--positive", "1", "--out", out)
    assert result.code == 2 and "categorical" in result.err
    result = cli("latent", "stylespace", run, "--data", path, "--column", "w", "--attribute", "smile",
                 "--top", "2", "--steps", "3", "--out", out)  # ordered: by rank correlation
    assert result.code == 0, result.err
    numbers = json.loads(out.with_suffix(".json").read_text())
    assert numbers["ranked_by"] == "Spearman rank correlation" and numbers["n"] == len(store) - 1
    assert "rho" in numbers["channels"][0] and "no channel beats it" in result.out
    result = cli("latent", "stylespace", run, "--data", path, "--column", "w", "--attribute", "gender",
                 "--out", out)
    assert result.code == 2 and "unordered categorical" in result.err
