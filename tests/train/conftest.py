"""Shared fixtures of the engine tests: a small shapes store and tiny model settings.

One PyTorch thread per test process: pytest-xdist already runs one worker per core.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from latentplay import sources

torch.set_num_threads(1)

# a small network on 32 px images: enough to learn, fast on one core
_TINY = ["data.size=32", "model.width=16", "model.hidden=64", "model.latent_dim=4",
        "trainer.threads=1", "log.recon_images=8", "log.samples=16",
        "log.figures_every=100"]  # the per-epoch figures after the last epoch only: tests of
                                  # the figures of every epoch set log.figures_every=1


@pytest.fixture(scope="session")
def shapes_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("data") / "shapes"
    sources.make("shapes", path, n=320, seed=0)
    return path


@pytest.fixture(scope="session")
def tiny() -> list[str]:
    """Overrides for a small, fast model (32 px, width 16, 4 latents, one thread)."""
    return list(_TINY)
