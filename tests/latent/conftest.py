"""Shared fixtures of the latent-space tests: small stores and tiny trained runs.

The runs are trained once per test process (session scope) on 32 px images with one
PyTorch thread; each takes a few seconds on a CPU core.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from latentplay import sources, train

torch.set_num_threads(1)

_TINY = ["data.size=32", "model.width=16", "model.hidden=64", "trainer.threads=1",
         "log.recon_images=8", "log.samples=16"]


@pytest.fixture(scope="session")
def faces_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """400 synthfaces (64 px RGB; attributes gender, smile, eyeglasses, ...)."""
    path = tmp_path_factory.mktemp("data") / "faces"
    sources.make("synthfaces", path, n=400, seed=0)
    return path


@pytest.fixture(scope="session")
def vae_run(tmp_path_factory: pytest.TempPathFactory, faces_store: Path) -> Path:
    """An unconditional VAE (8 latents) trained for 3 epochs on ``faces_store``."""
    out = tmp_path_factory.mktemp("runs") / "vae"
    return train.train("vae", data=faces_store, out=out, epochs=3, seed=0, progress=False,
                       overrides=[*_TINY, "model.latent_dim=8"])


@pytest.fixture(scope="session")
def cvae_run(tmp_path_factory: pytest.TempPathFactory, faces_store: Path) -> Path:
    """A CVAE conditioned on ``smile`` (continuous) and ``gender`` (categorical), 3 epochs."""
    out = tmp_path_factory.mktemp("runs") / "cvae"
    return train.train("cvae", data=faces_store, out=out, epochs=3, seed=0, progress=False,
                       overrides=[*_TINY, "model.latent_dim=8",
                                  "model.condition=[smile,gender]"])


@pytest.fixture(scope="session")
def dcgan_run(tmp_path_factory: pytest.TempPathFactory, faces_store: Path) -> Path:
    """An unconditional DCGAN (latent 16) trained for 1 epoch on ``faces_store``."""
    out = tmp_path_factory.mktemp("runs") / "dcgan"
    return train.train("dcgan", data=faces_store, out=out, epochs=1, seed=0, progress=False,
                       overrides=["data.size=32", "model.latent_dim=16", "model.ngf=16",
                                  "model.ndf=16", "trainer.threads=1", "log.samples=16"])
