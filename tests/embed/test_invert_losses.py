"""``invert:RUN`` keeps each row's reconstruction error: printed in summary with the mean code's
beside it, recorded in the column's history (it was dropped: a failed inversion looked like a
result)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from latentplay import sources
from latentplay import store as st
from latentplay.embed.base import make_embedder
from latentplay.embed.column import embed_entry, load_rows
from latentplay.embed.invert import column_losses
from latentplay.latent.invert import FAILED_SHARE, invert, mean_code, reconstruction_loss
from latentplay.train import load_model


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return Path(sources.make("synthfaces", tmp_path_factory.mktemp("data") / "small", n=6, seed=3).path)


def test_embed_prints_and_records_each_rows_loss_beside_the_mean_codes(cli, dcgan_run: Path,
                                                                       small: Path, tmp_path: Path) -> None:
    """The shared DCGAN draws nearly one image whatever the code: its inversions redraw the
    faces no better than its mean code does, which the command now says."""
    small = shutil.copytree(small, tmp_path / "faces")  # the module's store stays unembedded
    r = cli("embed", small, "--with", f"invert:{dcgan_run}", "--column", "gz", "-o", "steps=3",
            "-o", "restarts=1")
    assert r.code == 0, r.err
    lines = r.out.splitlines()
    assert lines[0].startswith("inversion: pixel MSE median ") and "90th percentile" in lines[0]
    assert "over 6 rows; the run's mean code (its average face) redraws them at median" in lines[0]
    assert lines[1].startswith("wrote column 'gz' (6 x 16)")
    caution = r.err.splitlines()[-1]       # cautions go to standard error, the results to output
    assert caution.startswith("caution: the codes of ") and "failed inversions" in caution
    store = st.load(small)
    recorded = embed_entry(store, "gz")["inversion"]
    assert recorded["n"] == 6 and recorded["failed"] > 0 and recorded["failed_share"] == FAILED_SHARE
    found = column_losses(store, "gz")
    assert found is not None and found["loss"].shape == found["mean_code_loss"].shape == (6,)
    # the losses are those of the column's codes on the images as the embedder saw them
    model = load_model(dcgan_run)
    images = load_rows(store, slice(None), 32, "RGB", 1.0)
    np.testing.assert_allclose(found["loss"], reconstruction_loss(model, st.vectors(store, "gz"), images,
                                                                  cropped=True), rtol=2e-3)
    np.testing.assert_allclose(found["mean_code_loss"], reconstruction_loss(model, mean_code(model), images,
                                                                            cropped=True), rtol=2e-3)
    assert recorded["median"] == pytest.approx(np.median(found["loss"]), rel=2e-3)
    assert column_losses(store, "image") is None


def test_the_losses_do_not_change_the_key_a_partial_embedding_resumes_by(dcgan_run: Path,
                                                                        small: Path) -> None:
    """The history entry takes the embedder's description; so does the key of a partial
    embedding, made before any row is inverted. Rows inverted before a resume are said not to be
    measured."""
    embedder = make_embedder(f"invert:{dcgan_run}", ["steps=2", "restarts=1"])
    store = st.load(small)
    embedder.bind(store)
    before = embedder.describe()
    assert "inversion" not in before
    images = load_rows(store, slice(4, 6), 32, "RGB", 1.0)
    embedder.embed_rows(images, np.arange(4, 6))  # the last batch of a resumed embedding
    described = embedder.describe()
    assert {k: v for k, v in described.items() if k != "inversion"} == before
    assert described["inversion"]["n"] == 2 and described["inversion"]["loss"][:4] == [None] * 4
    assert "(4 rows inverted before the embedding was resumed not measured)" in embedder.report()[0]


def test_an_inversion_measures_the_mean_code_on_each_image(dcgan_run: Path, small: Path) -> None:
    model = load_model(dcgan_run)
    images = st.load_images(st.load(small), np.arange(3))
    found = invert(model, images, steps=2, restarts=1)
    np.testing.assert_allclose(found.reference_loss, reconstruction_loss(model, mean_code(model), images),
                               rtol=1e-5)
    assert found.failed.tolist() == (found.loss > FAILED_SHARE * found.reference_loss).tolist()


def test_a_vaes_recorded_losses_are_its_codes_to_four_digits(vae_run: Path, small: Path,
                                                             tmp_path: Path) -> None:
    """A VAE's inversions (from its encoder means) redraw some faces far better than its mean
    code: each row's recorded loss is its codes' pixel MSE, not the mean code's, rounded to 4
    significant digits."""
    from latentplay.embed.column import embed_store

    shutil.copytree(small, tmp_path / "faces")
    store = embed_store(tmp_path / "faces", f"invert:{vae_run}", "vz", options=["steps=3"],
                        progress=False)
    found = column_losses(store, "vz")
    assert (found["loss"] < 0.8 * found["mean_code_loss"]).sum() >= 3
    model = load_model(vae_run)
    images = load_rows(store, slice(None), model.size, "RGB", 1.0)
    codes = reconstruction_loss(model, st.vectors(store, "vz"), images, cropped=True)
    np.testing.assert_allclose(found["loss"], codes, rtol=1e-3)
    assert all(v == float(f"{v:.4g}") for v in found["loss"].tolist() + found["mean_code_loss"].tolist())
