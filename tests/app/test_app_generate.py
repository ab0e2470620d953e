"""Sample and Traverse tabs: prior samples, traversals, latent sliders; opening runs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from latentplay.app import generate
from latentplay.app.state import Playground
from latentplay.errors import UserError
from latentplay.latent.traverse import run_latents
from latentplay.models.condition import ConditionPart
from latentplay.outputs import share_text

COND = {"smile": 0.0, "gender": "female"}


@pytest.fixture(scope="module")
def cvae(cvae_run: Path) -> Playground:
    return Playground.open(cvae_run)


@pytest.fixture(scope="module")
def dcgan(dcgan_run: Path) -> Playground:
    return Playground.open(dcgan_run)


def test_open_rejects_what_is_not_a_run(tmp_path: Path, faces_store: Path) -> None:
    with pytest.raises(UserError, match="not a directory"):
        Playground.open(tmp_path / "missing")
    with pytest.raises(UserError, match="not a run directory"):
        Playground.open(faces_store)  # a store, not a run
    with pytest.raises(UserError, match="not a latentplay store"):
        Playground.open(data=tmp_path)


def test_repr_is_one_line_without_the_model(cvae: Playground, cvae_run: Path, faces_store: Path) -> None:
    """The dataclass's repr printed the whole torch model, every layer (dozens of lines)."""
    assert repr(cvae) == (f"Playground(run={str(cvae_run)!r}, model=<cvae, 8 latents, conditioned on "
                          "smile, gender>, store=None, invert_steps=150)")
    only_store = Playground.open(data=faces_store)
    assert repr(only_store) == (f"Playground(run=None, model=None, store={only_store.store!r}, "
                                "invert_steps=150)")
    assert "\n" not in repr(only_store.store)


def test_sample_is_seeded_and_follows_the_condition(cvae: Playground) -> None:
    a = generate.sample(cvae, 6, 3, COND)
    assert a.shape == (6, 32, 32, 3) and a.dtype == np.uint8
    assert np.array_equal(a, generate.sample(cvae, 6, 3, COND))
    assert not np.array_equal(a, generate.sample(cvae, 6, 4, COND))
    smiling = generate.sample(cvae, 6, 3, {**COND, "smile": 2.5})
    male = generate.sample(cvae, 6, 3, {**COND, "gender": "male"})
    assert not np.array_equal(a, smiling) and not np.array_equal(a, male)
    with pytest.raises(UserError, match="needs a value"):
        generate.sample(cvae, 6, 3, {"smile": 0.0})
    with pytest.raises(UserError, match="count"):
        generate.sample(cvae, 0, 3, COND)
    with pytest.raises(UserError, match="count must be 1..256"):
        generate.sample(cvae, 257, 3, COND)
    with pytest.raises(UserError, match="seed must be 0 or more, got -1"):
        generate.sample(cvae, 6, -1, COND)
    assert len(generate.sample(cvae, 256, 3, COND)) == 256


def test_continuous_condition_slider_reaches_beyond_training(cvae: Playground) -> None:
    smile = next(p for p in cvae.condition_parts if p.name == "smile")
    lo, hi = generate.slider_span(smile)
    assert lo < smile.range[0] and hi > smile.range[1]
    constant = ConditionPart("measured", "continuous", 1, range=(2.5, 2.5))
    assert generate.slider_span(constant) == (1.5, 3.5)  # was (2.5, 2.5): a slider that cannot move


def test_axes_are_ranked_by_encoder_variance(cvae: Playground, cvae_run: Path) -> None:
    variance = run_latents(cvae_run).var(0)
    dims = [d for _, d in generate.axis_choices(cvae)]
    assert sorted(dims) == list(range(8))
    assert np.all(np.diff(variance[dims]) <= 0)
    labels = [label for label, _ in generate.axis_choices(cvae, "pca")]
    assert len(labels) == 8 and labels[0].startswith("PC0") and "of variance" in labels[0]
    codes = run_latents(cvae_run)
    power = np.linalg.svd(codes - codes.mean(0), compute_uv=False) ** 2   # each axis's variance
    assert labels == [f"PC{k}  {share_text(v)} of variance" for k, v in enumerate(power / power.sum())]


def test_traversal_and_sliders_agree_at_the_centre(cvae: Playground) -> None:
    dim = generate.axis_choices(cvae)[0][1]
    row = generate.traverse(cvae, dim, 3.0, 5, "latent", COND)
    assert row.shape == (5, 32, 32, 3)
    centre = generate.decode_sliders(cvae, [dim], [0.0], COND)
    assert np.array_equal(row[2], centre)  # value 0 of -3..3 in 5 steps
    moved = generate.decode_sliders(cvae, [dim], [3.0], COND)
    assert np.array_equal(row[4], moved) and not np.array_equal(moved, centre)
    assert generate.traverse(cvae, 0, 2.0, 4, "pca", COND).shape == (4, 32, 32, 3)
    with pytest.raises(UserError, match="out of range"):
        generate.traverse(cvae, 8, 3.0, 5, "latent", COND)
    with pytest.raises(UserError, match="at least 2 steps"):
        generate.traverse(cvae, dim, 3.0, 1, "latent", COND)


def test_a_start_seed_starts_at_the_sample_tabs_first_face(cvae: Playground,
                                                          dcgan: Playground) -> None:
    """Traversal and sliders from the first draw of a seed: their unmoved image is the first
    image the Sample tab draws with it; a GAN opens there (its centre is no face)."""
    dim = generate.axis_choices(cvae)[0][1]
    first = generate.sample(cvae, 3, 7, COND)[0]
    assert np.array_equal(generate.decode_sliders(cvae, [dim], [0.0], COND, start=7), first)
    row = generate.traverse(cvae, dim, 3.0, 5, "latent", COND, start=7)
    assert np.array_equal(row[2], first) and not np.array_equal(row[2], generate.traverse(
        cvae, dim, 3.0, 5, "latent", COND)[2])
    assert np.array_equal(generate.traverse(cvae, 0, 2.0, 3, "pca", COND, start=7)[1], first)
    with pytest.raises(UserError, match="seed must be 0 or more"):
        generate.traverse(cvae, dim, 3.0, 5, "latent", COND, start=-1)
    assert (generate.default_start(cvae), generate.default_start(dcgan)) == (None, 0)


def test_sliders_are_the_active_dimensions(cvae: Playground, cvae_run: Path) -> None:
    variance = run_latents(cvae_run).var(0)
    dims = generate.slider_axes(cvae)
    assert 1 <= len(dims) <= generate.MAX_SLIDERS
    chosen = [d for d, _ in dims]
    assert chosen == [int(d) for d in np.argsort(-variance, kind="stable")[:len(dims)]]
    active = variance > generate.ACTIVE_VARIANCE
    assert active.any()  # the fixture's code is used: the check below is not vacuous
    assert set(chosen) == set(np.flatnonzero(active)[:generate.MAX_SLIDERS].tolist())
    from types import SimpleNamespace

    two_active = SimpleNamespace(ranked=(np.array([2, 0, 1, 3]), np.array([0.5, 0.02, 0.001, 0.0])))
    assert generate.slider_axes(two_active) == [(2, 0.5), (0, 0.02)]    # the active ones only
    collapsed = SimpleNamespace(ranked=(np.array([3, 1, 0, 2]), np.full(4, 1e-3)))
    assert generate.slider_axes(collapsed) == [(3, 1e-3), (1, 1e-3), (0, 1e-3), (2, 1e-3)]  # none active: all


def test_an_autoencoder_draws_and_moves_in_sds_of_its_codes(ae_run: Path) -> None:
    """A plain autoencoder has no prior: its draws, traversals and sliders are in the mean and
    SD of its encoded images (latents.npy), not in units of z."""
    ae = Playground.open(ae_run)
    codes = run_latents(ae_run)
    centre, sd = codes.mean(0).astype(np.float32), codes.std(0).astype(np.float32)
    dim = generate.axis_choices(ae)[0][1]
    assert abs(sd[dim] - 1) > 0.1  # an SD tells itself from a unit of z here
    moved = centre.copy()
    moved[dim] = centre[dim] + np.float32(2.0) * sd[dim]
    want = ae.decode(moved[None], None)[0]
    assert np.array_equal(generate.traverse(ae, dim, 2.0, 3, "latent", {})[2], want)
    assert np.array_equal(generate.decode_sliders(ae, [dim], [2.0], {}), want)
    z = np.random.default_rng(4).standard_normal((2, len(centre)))
    drawn = (centre + 0.5 * z * sd).astype(np.float32)
    assert np.array_equal(generate.sample(ae, 2, 4, {}, 0.5), ae.decode(drawn, None))


def test_generator_has_no_variance_ranking_nor_principal_axes(dcgan: Playground) -> None:
    assert generate.axis_choices(dcgan)[:2] == [("z0", 0), ("z1", 1)]
    assert [d for d, _ in generate.slider_axes(dcgan)] == list(range(generate.MAX_SLIDERS))
    with pytest.raises(UserError, match="latents.npy"):
        generate.axis_choices(dcgan, "pca")
    images = generate.sample(dcgan, 4, 0, {})
    assert images.shape == (4, 32, 32, 3)
    one = generate.decode_sliders(dcgan, [0, 1], [2.0, -2.0], {})
    assert not np.array_equal(one, generate.decode_sliders(dcgan, [0, 1], [0.0, 0.0], {}))


@pytest.fixture(scope="module")
def stylegan2(tmp_path_factory: pytest.TempPathFactory) -> Playground:
    """A tiny imported StyleGAN2 (16 px, 16-d codes in whitened W)."""
    import torch

    from latentplay.models.stylegan2 import Generator, StyleGAN2Config
    from latentplay.train.pretrained import import_generator

    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("sg")
    torch.save({"g_ema": Generator(StyleGAN2Config(resolution=16, style_dim=16, n_mlp=2,
                                                   channel_max=16)).state_dict()}, folder / "g.pt")
    return Playground.open(import_generator(folder / "g.pt", folder / "run", w_samples=500, samples=0))


def test_a_stylegan2_traverses_its_sefa_directions(stylegan2: Playground, dcgan: Playground) -> None:
    from latentplay.latent.traverse import direction_traversal, sefa_axes

    assert generate.modes(stylegan2) == ["latent dimension", "SeFa direction"]
    assert generate.modes(dcgan) == ["latent dimension"]
    choices = generate.axis_choices(stylegan2, "sefa")
    axes = sefa_axes(stylegan2.model)
    assert len(choices) == 16 and choices[0] == (f"SeFa0  {axes.strength[0]:.0%} of the weights", 0)
    assert choices == [(f"SeFa{k}  {s:.0%} of the weights", k) for k, s in enumerate(axes.strength)]
    assert choices[0][0] != choices[-1][0].replace("SeFa15", "SeFa0")   # the shares differ
    row = generate.traverse(stylegan2, 2, 3.0, 5, "sefa", {})
    want = direction_traversal(stylegan2.model, np.zeros(16, np.float32), axes.steps[[2]],
                               np.linspace(-3, 3, 5))[0]
    np.testing.assert_array_equal(row, want)
    assert not np.array_equal(row[0], row[-1])
    with pytest.raises(UserError, match="out of range"):
        generate.traverse(stylegan2, 16, 3.0, 5, "sefa", {})
    with pytest.raises(UserError, match="imported StyleGAN2"):
        generate.axis_choices(dcgan, "sefa")


def test_temperature_pulls_draws_to_the_centre(cvae: Playground, stylegan2: Playground) -> None:
    import torch

    assert np.array_equal(generate.sample(cvae, 4, 3, COND, 1.0), generate.sample(cvae, 4, 3, COND))
    still = generate.sample(cvae, 4, 3, COND, 0.0)
    assert all(np.array_equal(still[0], image) for image in still[1:])  # every draw at the centre
    with pytest.raises(UserError, match="temperature"):
        generate.sample(cvae, 4, 3, COND, 3.0)
    # a StyleGAN2 with codes in W: temperature psi is the truncation trick with psi
    model = stylegan2.model
    z = np.random.default_rng(5).standard_normal((3, 16)).astype(np.float32)
    with torch.no_grad():
        model.config.truncation = 0.5
        truncated = model.decode(torch.from_numpy(z))
        model.config.truncation = 1.0
        scaled = model.decode(torch.from_numpy(0.5 * z))
    np.testing.assert_allclose(scaled.numpy(), truncated.numpy(), atol=1e-5)
    drawn = generate.sample(stylegan2, 3, 5, {}, 0.5).astype(int)  # the same draws, seed 5
    want = truncated.clamp(0, 1).mul(255).round().byte().permute(0, 2, 3, 1).numpy()
    assert np.abs(drawn - want).max() <= 1


def test_a_stylegan3_sample_moves_and_turns(tmp_path: Path, dcgan: Playground) -> None:
    import torch

    from latentplay.models.condition import ConditionSpec
    from latentplay.models.stylegan3 import StyleGAN3, StyleGAN3Config
    from latentplay.train.checkpoint import model_meta, save_model

    torch.manual_seed(0)
    config = StyleGAN3Config(resolution=16, style_dim=16, channel_base=512, channel_max=16, conv_clamp=0)
    model = StyleGAN3(config, 3, 16)
    run = tmp_path / "sg3"
    run.mkdir()
    save_model(run, model, model_meta("stylegan3", config, 3, 16, ConditionSpec(), 0, 0))
    pg = Playground.open(run)
    assert generate.can_move(pg) and not generate.can_move(dcgan)
    still = generate.sample(pg, 3, 4, {})
    moved = generate.sample(pg, 3, 4, {}, 1.0, (0.1, 0.0), 30.0)
    with pg.model.moved((0.1, 0.0), 30.0):
        want = generate.sample(pg, 3, 4, {})
    np.testing.assert_array_equal(moved, want)
    assert not np.array_equal(moved, still)
    np.testing.assert_array_equal(generate.sample(pg, 3, 4, {}), still)  # nothing kept moved
    with pytest.raises(UserError, match="only a StyleGAN3"):
        generate.sample(dcgan, 3, 4, {}, 1.0, (0.1, 0.0))


def _words(run: Path) -> tuple[str, str | None]:
    """The Sample and Traverse tabs' text (Markdown), and the temperature slider's info."""
    import gradio as gr

    from latentplay.app.ui import build_app

    blocks = list(build_app(run).blocks.values())
    text = " ".join(str(b.value) for b in blocks if isinstance(b, gr.Markdown))
    return text, next(b.info for b in blocks if isinstance(b, gr.Slider) and b.label == "temperature")


def test_the_sample_tab_words_the_draws_by_model_family(ae_run: Path, vae_run: Path) -> None:
    """A plain autoencoder has no prior: its draws are mean + T * SD * z of its encoded codes,
    not "prior draws z ~ N(0, I)" with "1: the prior"."""
    text, info = _words(ae_run)
    assert "prior draws" not in text and "the prior" not in info
    assert "mean + temperature × SD × z" in text and "SD" in info
    # the latent sliders say their unit (they said none)
    assert "in SDs of the codes; the image follows the sliders" in text
    text, info = _words(vae_run)
    assert "prior draws z ~ N(0, I)" in text and "1: the prior" in info
    assert "in prior units; the image follows the sliders" in text


def test_the_traverse_tab_says_which_rows_its_variances_are_over(cvae_run: Path, cvae: Playground
                                                                ) -> None:
    """The variances are over every row of latents.npy (training and held-out, as the run's
    active_units.json and `latent traverse` take them), which the text called the training set."""
    assert np.allclose(cvae.ranked[1], np.sort(run_latents(cvae_run).var(0))[::-1], rtol=1e-5)
    text, _ = _words(cvae_run)
    assert "over the training set" not in text
    assert "training and held-out rows" in text


def test_the_sliders_words_say_which_dimensions_they_move(cvae: Playground, dcgan: Playground) -> None:
    from types import SimpleNamespace

    assert generate.slider_words(cvae) == "the active ones, largest variance first"
    assert generate.slider_words(dcgan) == "the first latent dimensions"
    collapsed = SimpleNamespace(ranked=(np.arange(4), np.full(4, 1e-4)))   # a collapsed VAE
    assert generate.slider_words(collapsed).startswith("no dimension is active")
