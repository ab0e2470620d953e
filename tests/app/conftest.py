"""Fixtures of the playground tests: a small store and tiny trained runs (session scope).

Each run trains for 3 epochs on 300 faces of 32 px with one PyTorch thread (a few seconds);
``coded_faces`` is a copy of the store with the VAE's encoder means as vector column
``vae_mu`` (for directions and projections).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from latentplay import sources, store, train

torch.set_num_threads(1)

TINY = ["data.size=32", "model.width=16", "model.hidden=64", "model.latent_dim=8",
        "trainer.threads=1"]


@pytest.fixture(scope="session")
def faces(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """300 synthfaces (64 px RGB; gender, smile, age_group, ...), no vector column."""
    path = tmp_path_factory.mktemp("data") / "faces"
    sources.make("synthfaces", path, n=300, seed=0)
    return path


def _train(tmp_path_factory: pytest.TempPathFactory, faces: Path, model: str,
           overrides: list[str]) -> Path:
    out = tmp_path_factory.mktemp("runs") / model
    return train.train(model, data=faces, out=out, epochs=3, seed=0, progress=False,
                       overrides=overrides)


@pytest.fixture(scope="session")
def vae_run(tmp_path_factory: pytest.TempPathFactory, faces: Path) -> Path:
    """An unconditional VAE, 8 latents."""
    return _train(tmp_path_factory, faces, "vae", TINY)


@pytest.fixture(scope="session")
def cvae_run(tmp_path_factory: pytest.TempPathFactory, faces: Path) -> Path:
    """A CVAE conditioned on smile (continuous, -1..1) and gender (categorical), 8 latents."""
    return _train(tmp_path_factory, faces, "cvae", [*TINY, "model.condition=[smile,gender]"])


@pytest.fixture(scope="session")
def dcgan_run(tmp_path_factory: pytest.TempPathFactory, faces: Path) -> Path:
    """An unconditional DCGAN, 16 latents (no encoder, no latents.npy)."""
    return _train(tmp_path_factory, faces, "dcgan",
                  ["data.size=32", "model.latent_dim=16", "model.ngf=16", "model.ndf=16",
                   "trainer.threads=1"])


@pytest.fixture(scope="session")
def coded_faces(tmp_path_factory: pytest.TempPathFactory, faces: Path, vae_run: Path) -> Path:
    """``faces`` plus vector column ``vae_mu`` (the VAE's encoder means, 8-d)."""
    loaded = store.load(faces)
    mu = train.encode(vae_run, store.load_images(loaded))
    path = tmp_path_factory.mktemp("data") / "coded"
    store.save(store.add_column(loaded, "vae_mu", mu, "vae encoder means"), path)
    return path
