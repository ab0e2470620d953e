"""Fixtures of the playground tests. The store and tiny runs (``faces_store``, ``vae_run``,
``cvae_run``, ``dcgan_run``) come from tests/conftest.py; ``coded_faces`` is a copy of the store
with the VAE's encoder means as vector column ``vae_mu`` (for directions and projections).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from latentplay import store, train

torch.set_num_threads(1)


@pytest.fixture(scope="session")
def coded_faces(tmp_path_factory: pytest.TempPathFactory, faces_store: Path,
                vae_run: Path) -> Path:
    """``faces_store`` plus vector column ``vae_mu`` (the VAE's encoder means, 8-d)."""
    loaded = store.load(faces_store)
    mu = train.encode(vae_run, store.load_images(loaded))
    path = tmp_path_factory.mktemp("data") / "coded"
    store.save(store.add_column(loaded, "vae_mu", mu, "vae encoder means"), path)
    return path
