"""Fixtures of the audit tests: a skewed synthfaces store, its annotators and a tiny VAE.

The store has a plain white background and two skin tones (monk_2 : monk_8 = 3 : 1) so that a
VAE trained for a few seconds on one CPU thread encodes skin tone; gender is skewed 1 : 3.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from latentplay import sources, train
from latentplay import store as st
from latentplay.audit import ClassifierAnnotator, fit_classifier
from latentplay.latent.directions import fit_store_direction

torch.set_num_threads(1)

SKEWED = ["gender.weights=[1,3]", "background.weights=[1,0,0,0,0,0]",
          "skin_tone.weights=[0,3,0,0,0,0,0,1,0,0]"]
TINY = ["data.size=32", "model.width=16", "model.hidden=64", "model.latent_dim=8",
        "trainer.threads=1", "loss.betavae.beta=0.1", "optim.lr=2e-3", "log.figures_every=100"]


@pytest.fixture(scope="session")
def faces(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """600 synthfaces: gender 1:3 (female:male), skin tone monk_2:monk_8 3:1, white background."""
    path = tmp_path_factory.mktemp("audit") / "faces"
    sources.make("synthfaces", path, n=600, seed=0, overrides=SKEWED)
    return path


@pytest.fixture(scope="session")
def skin_annotator(faces: Path) -> ClassifierAnnotator:
    return fit_classifier(faces, "skin_tone")


@pytest.fixture(scope="session")
def skin_annotator_file(skin_annotator: ClassifierAnnotator,
                        tmp_path_factory: pytest.TempPathFactory) -> Path:
    return skin_annotator.save(tmp_path_factory.mktemp("ann") / "skin_tone.npz")


@pytest.fixture(scope="session")
def gender_annotator_file(faces: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A gender annotator of ``faces`` (8 principal components of pixels), saved."""
    return fit_classifier(faces, "gender", options=["dim=8"]).save(
        tmp_path_factory.mktemp("ann") / "gender.npz")


@pytest.fixture(scope="session")
def vae_run(tmp_path_factory: pytest.TempPathFactory, faces: Path) -> Path:
    """A VAE (8 latents, beta 0.1) trained for 10 epochs on ``faces`` (about 10 s)."""
    out = tmp_path_factory.mktemp("runs") / "vae"
    return train.train("vae", data=faces, out=out, epochs=10, batch_size=32, seed=0,
                       progress=False, overrides=TINY)


@pytest.fixture(scope="session")
def coded(faces: Path, vae_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store of ``faces``' images and labels; ``skin.json`` and ``gender.json`` beside it
    are the skin-tone and gender directions fitted on the VAE's encoder means."""
    copy = st.save(st.load(faces), tmp_path_factory.mktemp("cf") / "faces")
    z = train.encode(vae_run, st.load_images(copy, range(len(copy))))
    fit_store_direction(copy, z, "skin_tone", positive="monk_8").to_json(
        Path(copy.path).parent / "skin.json")
    fit_store_direction(copy, z, "gender", positive="male").to_json(
        Path(copy.path).parent / "gender.json")
    return Path(copy.path)
