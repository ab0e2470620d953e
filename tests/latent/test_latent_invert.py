"""Inversion: optimised latent codes that redraw given images (latentplay.latent.invert).

The shared ``vae_run`` / ``dcgan_run`` decode nearly the same image for every ``z`` (pixel std
across codes ~2e-4 after ~20 training steps), which leaves nothing to invert; the recovery
tests use the two runs below, trained with batch 16 so that their decoders follow ``z``
(pixel std ~0.02-0.03).
"""

from __future__ import annotations

import threading
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
import torch

from latentplay import store, train
from latentplay.errors import UserError
from latentplay.latent.invert import invert, loss_summary, mean_code, reconstruction_loss, start_of
from latentplay.train.forcing import to_uint8

torch.set_num_threads(1)

_SHARP = ["data.size=32", "trainer.threads=1", "trainer.batch_size=16", "log.samples=16",
          "log.figures_every=100"]  # figures after the last epoch only


@pytest.fixture(scope="module")
def sharp_vae_run(tmp_path_factory: pytest.TempPathFactory, faces_store: Path) -> Path:
    """A VAE (8 latents) trained for 4 epochs of batch 16 at lr 2e-3."""
    out = tmp_path_factory.mktemp("runs") / "sharp_vae"
    return train.train("vae", data=faces_store, out=out, epochs=4, seed=0, progress=False,
                       overrides=[*_SHARP, "model.width=16", "model.hidden=64",
                                  "model.latent_dim=8", "optim.lr=2e-3", "log.recon_images=8"])


@pytest.fixture(scope="module")
def sharp_dcgan_run(tmp_path_factory: pytest.TempPathFactory, faces_store: Path) -> Path:
    """A DCGAN (latent 16) trained for 3 epochs of batch 16 (batch-norm statistics settled)."""
    out = tmp_path_factory.mktemp("runs") / "sharp_dcgan"
    return train.train("dcgan", data=faces_store, out=out, epochs=3, seed=0, progress=False,
                       overrides=[*_SHARP, "model.latent_dim=16", "model.ngf=16", "model.ndf=16"])


def _decoded(model: torch.nn.Module, n: int, seed: int) -> tuple[np.ndarray, torch.Tensor]:
    """``n`` uint8 images ``(n, S, S, C)`` the decoder draws from known codes, and the codes."""
    z = torch.randn(n, model.latent_dim, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        return to_uint8(model.decode(z)), z


def _faces(faces_store: Path, n: int) -> np.ndarray:
    return store.load_images(store.load(faces_store), np.arange(n))


def test_dcgan_random_init_recovers_decoded_images(sharp_dcgan_run: Path) -> None:
    model = train.load_model(sharp_dcgan_run)
    images, _ = _decoded(model, 6, seed=1)
    inv = invert(model, images, steps=150)
    assert inv.z.shape == inv.init_z.shape == (6, 16) and inv.z.dtype == np.float32
    assert inv.loss.shape == inv.init_loss.shape == (6,)
    assert inv.reconstructions.shape == (6, 32, 32, 3) and inv.reconstructions.dtype == np.uint8
    assert np.all(inv.loss < 0.3 * inv.init_loss)
    error = np.abs(inv.reconstructions.astype(float) - images).mean()
    assert error < 0.5 * np.abs(to_uint8(model.decode(torch.from_numpy(inv.init_z)).detach())
                                .astype(float) - images).mean()


def test_vae_encoder_init_on_decoded_images(sharp_vae_run: Path) -> None:
    model = train.load_model(sharp_vae_run)
    images, _ = _decoded(model, 6, seed=2)
    inv = invert(model, images, steps=100, prior=0.0)
    assert np.allclose(inv.init_z, train.encode(model, images), atol=1e-6)
    assert np.all(inv.loss <= inv.init_loss)
    assert inv.loss.mean() < 0.6 * inv.init_loss.mean()
    overshot = invert(model, images, steps=5, lr=10.0, prior=0.0)  # the best iterate is kept
    assert np.all(overshot.loss <= overshot.init_loss)


def test_vae_improves_on_the_encoder_for_real_images(sharp_vae_run: Path, faces_store: Path) -> None:
    images = _faces(faces_store, 8)  # 64 px; the run's model sees 32 px
    inv = invert(sharp_vae_run, images, steps=100)
    assert inv.reconstructions.shape == (8, 32, 32, 3)
    assert np.allclose(inv.init_z, train.encode(sharp_vae_run, images), atol=1e-6)
    assert np.all(inv.loss < inv.init_loss)


def test_best_of_restarts_is_no_worse_than_the_first_start(sharp_dcgan_run: Path) -> None:
    model = train.load_model(sharp_dcgan_run)
    images, _ = _decoded(model, 6, seed=3)
    one = invert(model, images, steps=50, restarts=1, prior=0.0, seed=5)
    best = invert(model, images, steps=50, restarts=4, prior=0.0, seed=5)
    first = torch.randn(6, 16, generator=torch.Generator().manual_seed(5)).numpy()
    assert np.array_equal(one.init_z, first)
    assert np.all(best.loss <= one.loss * (1 + 1e-4))
    assert np.any(best.loss < 0.5 * one.loss)
    # the start reported is the kept restart's: with no steps its codes are the codes found
    start = invert(model, images, steps=0, restarts=4, prior=0.0, seed=5)
    generator = torch.Generator().manual_seed(5)
    draws = np.stack([torch.randn(6, 16, generator=generator).numpy() for _ in range(4)])
    kept = [next(r for r in range(4) if np.array_equal(start.z[i], draws[r, i])) for i in range(6)]
    assert any(kept)  # not every image keeps its first draw
    np.testing.assert_array_equal(start.init_z, start.z)
    np.testing.assert_array_equal(start.init_loss, start.loss)


def test_weights_unchanged_and_results_deterministic(sharp_dcgan_run: Path) -> None:
    model = train.load_model(sharp_dcgan_run).train()  # batch norm must not update its statistics
    before = {k: v.clone() for k, v in model.state_dict().items()}
    images, _ = _decoded(model.eval(), 4, seed=4)
    model.train()
    first = invert(model, images, steps=20, seed=7)
    for key, value in model.state_dict().items():
        assert torch.equal(value, before[key]), key
    assert model.training and all(p.requires_grad and p.grad is None for p in model.parameters())
    assert np.array_equal(invert(model, images, steps=20, seed=7).z, first.z)
    assert not np.allclose(invert(model, images, steps=20, seed=8).init_z, first.init_z)


def test_prior_pulls_codes_towards_the_origin(sharp_vae_run: Path, faces_store: Path) -> None:
    images = _faces(faces_store, 8)
    free = invert(sharp_vae_run, images, steps=100, prior=0.0)
    held = invert(sharp_vae_run, images, steps=100, prior=1e-3)
    assert np.linalg.norm(held.z, axis=1).mean() < 0.8 * np.linalg.norm(free.z, axis=1).mean()


def test_batches_are_independent_and_progress_counts_all_steps(sharp_vae_run: Path) -> None:
    model = train.load_model(sharp_vae_run)
    images, _ = _decoded(model, 5, seed=6)
    calls: list[tuple[int, int]] = []
    small = invert(model, images, steps=3, batch_size=2, progress=lambda *a: calls.append(a))
    assert calls == [(k, 9) for k in range(1, 10)]  # 3 batches x 3 steps
    assert np.allclose(small.z, invert(model, images, steps=3).z, atol=1e-5)
    start = invert(model, images, steps=0)
    assert np.array_equal(start.z, start.init_z) and np.array_equal(start.loss, start.init_loss)


def test_conditional_model_needs_its_condition(cvae_run: Path, faces_store: Path) -> None:
    images = _faces(faces_store, 4)
    condition = {"smile": 0.5, "gender": "female"}
    inv = invert(cvae_run, images, condition=condition, steps=20, prior=0.0)
    assert np.allclose(inv.init_z, train.encode(cvae_run, images, condition=condition), atol=1e-6)
    assert np.all(inv.loss <= inv.init_loss)
    other = invert(cvae_run, images, condition={"smile": -1.0, "gender": "male"}, steps=0)
    assert not np.allclose(other.init_z, inv.init_z)
    with pytest.raises(UserError, match="conditional"):
        invert(cvae_run, images, steps=5)


def test_the_identity_term_brings_the_person_closer(sharp_dcgan_run: Path, faces_store: Path) -> None:
    """With an identity weight the decodings' dlib descriptors end closer to the faces' (read
    the same way), the pixel MSE reported apart from it."""
    from latentplay.embed.dlib_resnet import chip_grids, dlib_resnet, sampled_chips
    from latentplay.train import model_input

    model = train.load_model(sharp_dcgan_run)
    faces = model_input(model, _faces(faces_store, 3))
    grids, net = chip_grids(faces), dlib_resnet()

    def distance(images: np.ndarray) -> np.ndarray:
        x = torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255
        return net(sampled_chips(x, grids)).numpy()

    target = distance(faces)

    def cosine_distance(inv: Any) -> float:
        found = distance(inv.reconstructions)
        cos = (found * target).sum(1) / np.linalg.norm(found, axis=1) / np.linalg.norm(target, axis=1)
        return float((1 - cos).mean())

    plain = invert(model, faces, steps=30, restarts=1, cropped=True)
    kept = invert(model, faces, steps=30, restarts=1, cropped=True, identity=1.0)
    assert cosine_distance(kept) < 0.8 * cosine_distance(plain)  # measured: 0.055 against 0.095
    assert np.allclose(invert(model, faces, steps=30, restarts=1, cropped=True, identity=0.0).z, plain.z)
    mse = ((kept.reconstructions / 255.0 - faces / 255.0) ** 2).mean((1, 2, 3))
    np.testing.assert_allclose(kept.loss, mse, atol=5e-3)  # the pixel MSE alone (of the float decoding)


def test_the_identity_term_with_an_onnx_recogniser(sharp_dcgan_run: Path, faces_store: Path,
                                                    tmp_path: Path) -> None:
    """An ArcFace-like network given as ONNX drives the term: its distance falls too."""
    from tests.embed.test_onnx_torch import arcface_like

    from latentplay.latent.identity_term import recogniser
    from latentplay.train import model_input

    spec = f"onnx:{arcface_like(tmp_path / 'arc.onnx')}"
    model = train.load_model(sharp_dcgan_run)
    faces = model_input(model, _faces(faces_store, 3))
    reader = recogniser(spec)
    grids = reader.grids(faces)
    target = reader.embed(torch.from_numpy(faces).permute(0, 3, 1, 2) / 255, grids)

    def distance(images: np.ndarray) -> float:
        found = reader.embed(torch.from_numpy(images).permute(0, 3, 1, 2) / 255, grids)
        return float((1 - torch.nn.functional.cosine_similarity(found, target)).mean())

    plain = invert(model, faces, steps=30, restarts=1, cropped=True)
    # random weights: every face embeds nearly alike (distances ~6e-4), so a large weight
    kept = invert(model, faces, steps=30, restarts=1, cropped=True, identity=100.0, identity_net=spec)
    assert distance(kept.reconstructions) < 0.95 * distance(plain.reconstructions)  # measured: 0.87x


def test_user_errors(sharp_dcgan_run: Path, faces_store: Path) -> None:
    model = train.load_model(sharp_dcgan_run)
    images = _faces(faces_store, 2)
    with pytest.raises(UserError, match="encoder"):
        invert(model, images, init="encoder")
    with pytest.raises(UserError, match="uint8"):
        invert(model, images.astype(np.float32))
    with pytest.raises(UserError, match="uint8"):
        invert(model, images[0, :, :, 0])
    for bad in ({"steps": -1}, {"restarts": 0}, {"init": "pca"}, {"lr": 0.0}, {"prior": -1.0},
                {"batch_size": 0}, {"identity": -0.1}):
        with pytest.raises(UserError):
            invert(model, images, **bad)  # type: ignore[arg-type]
    empty = invert(model, images[:0])
    assert empty.z.shape == (0, 16) and empty.reconstructions.shape == (0, 32, 32, 3)


def test_start_of_names_where_each_init_starts() -> None:
    """The one reading of ``init`` that ``invert`` and ``latent invert`` (its refusal of
    ``--restarts`` / ``--seed`` for a fixed start) share."""
    vae = SimpleNamespace(has_encoder=True, family="vae")  # all start_of reads of a model
    dcgan = SimpleNamespace(has_encoder=False, family="dcgan")
    assert [start_of(vae, i) for i in ("auto", "encoder", "random", "mean")] == \
        ["encoder", "encoder", "random", "mean"]
    assert [start_of(dcgan, i) for i in ("auto", "random", "mean")] == ["random", "random", "mean"]
    with pytest.raises(UserError, match="needs a model with an encoder"):
        start_of(dcgan, "encoder")
    with pytest.raises(UserError, match="init must be one of"):
        start_of(vae, "pca")
    # the command line's user is told its own option, not the Python argument
    with pytest.raises(UserError, match=r"^--init encoder needs a model with an encoder; a "
                                        r"dcgan has none, use --init random$"):
        start_of(dcgan, "encoder", "--init")
    with pytest.raises(UserError, match=r"^init='encoder' needs .* use init='random'$"):
        start_of(dcgan, "encoder")


def test_settings_that_are_not_numbers_are_refused(sharp_dcgan_run: Path, faces_store: Path) -> None:
    """A NaN or infinite weight makes every objective NaN or infinite: no iterate would ever
    count as better, and the start would come back with a reported loss of 0."""
    model = train.load_model(sharp_dcgan_run)
    images = _faces(faces_store, 1)
    for bad in ({"prior": float("nan")}, {"identity": float("nan")}, {"identity": float("inf")},
                {"prior": float("inf")}, {"lr": float("nan")}, {"lr": float("inf")}):
        with pytest.raises(UserError, match="finite"):
            invert(model, images, steps=2, restarts=1, **bad)  # type: ignore[arg-type]


def test_a_model_that_draws_nan_reports_nan_not_a_perfect_fit(dcgan_run: Path, faces_store: Path) -> None:
    """A diverged generator (NaN weights) gives NaN objectives: no iterate counts as better
    than another, and the reported loss must say NaN, not 0 (a perfect redrawing)."""
    model = train.load_model(dcgan_run)
    with torch.no_grad():
        next(model.parameters()).fill_(float("nan"))
    inv = invert(model, _faces(faces_store, 2), steps=2, restarts=2)
    assert np.isnan(inv.init_loss).all()
    assert np.isnan(inv.loss).all()
    assert inv.failed.all()  # no number: no inversion that worked


def test_loss_summary_by_hand() -> None:
    """Median and 90th percentile of the measured losses (a NaN: a row not measured, left out),
    the mean code's median over the same rows, and the rows above 0.8 of their mean code's."""
    loss = np.array([0.1, 0.2, 0.17, 0.4, np.nan])
    reference = np.array([1.0, 1.0, 0.2, 0.2, 9.0])
    summary = loss_summary(loss, reference)
    assert summary["n"] == 4 and summary["failed"] == 2  # 0.17 (0.85 of 0.2) and 0.4 > 0.16
    assert summary["median"] == pytest.approx(0.185)
    assert summary["p90"] == pytest.approx(0.34)  # 0.2 + 0.7 of the way to 0.4
    assert summary["mean_code_median"] == pytest.approx(0.6)  # of 1, 1, 0.2, 0.2: not the 9


def test_a_plain_autoencoders_mean_code_is_the_mean_of_its_training_codes(ae_run: Path) -> None:
    """An autoencoder has no prior whose mean is the zero code: its average face is drawn from
    the mean of its encoded training set."""
    from latentplay.latent.traverse import run_latents

    centre = mean_code(train.load_model(ae_run))
    np.testing.assert_allclose(centre, run_latents(ae_run).mean(0), rtol=1e-5)
    assert np.abs(centre).max() > 0.01


def test_inversions_in_two_threads_at_once_leave_the_model_as_it_was(sharp_dcgan_run: Path,
                                                                     overlap) -> None:
    """The playground inverts faces in the threads of its tabs: an inversion begun while another
    thread's is under way keeps the model frozen to its end, and the parameters have their
    gradients back once both are done (at once, the first to finish unfroze the model under the
    other, and the other left it frozen for good)."""
    model = train.load_model(sharp_dcgan_run)
    images, codes = _decoded(model, 2, seed=3)
    seen: list[bool] = []
    decode = model.decode

    def paused(*args: Any, **kwargs: Any) -> torch.Tensor:
        overlap.inside()
        if threading.current_thread().name == "second":
            seen.extend(p.requires_grad for p in model.parameters())
        return decode(*args, **kwargs)

    model.decode = paused
    overlap.run(lambda: reconstruction_loss(model, codes.numpy(), images),
                lambda: reconstruction_loss(model, codes.numpy(), images))
    assert seen and not any(seen)
    assert all(p.requires_grad for p in model.parameters())
