"""Fixtures of the playground tests. The store and tiny runs (``faces_store``, ``vae_run``,
``cvae_run``, ``dcgan_run``) come from tests/conftest.py; ``coded_faces`` is a copy of the store
with the VAE's encoder means as vector column ``vae_mu`` (for directions and projections).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
import torch

from latentplay import store, train

torch.set_num_threads(1)


@pytest.fixture(scope="session", autouse=True)
def _gradio_files(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Gradio's copies of the images the playground serves go under the session's temporary
    folder (by default they are kept in the system's ``<tmp>/gradio`` after every run)."""
    patch = pytest.MonkeyPatch()
    patch.setenv("GRADIO_TEMP_DIR", str(tmp_path_factory.mktemp("gradio")))
    yield
    patch.undo()


@pytest.fixture(scope="session")
def coded_faces(tmp_path_factory: pytest.TempPathFactory, faces_store: Path,
                vae_run: Path) -> Path:
    """``faces_store`` plus vector column ``vae_mu`` (the VAE's encoder means, 8-d)."""
    loaded = store.load(faces_store)
    mu = train.encode(vae_run, store.load_images(loaded))
    path = tmp_path_factory.mktemp("data") / "coded"
    store.save(store.add_column(loaded, "vae_mu", mu, "vae encoder means"), path)
    return path


@pytest.fixture
def unknown_gender(tmp_path: Path) -> Callable[[Path], tuple[Path, np.ndarray]]:
    """Copies a store (to ``tmp_path / "unknowns"``) with every fifth row's gender ``unknown``
    (code 2); gives the copy and its ``(N,)`` gender codes."""
    def make(path: Path) -> tuple[Path, np.ndarray]:
        loaded = store.load(path)
        gender = np.asarray(loaded.labels("gender"))
        gender[::5] = 2
        attr = store.Attribute("gender", "categorical", ["female", "male", "unknown"])
        out = tmp_path / "unknowns"
        store.save(store.add_attributes(loaded, {"gender": (attr, gender)}, replace=True), out)
        return out, gender

    return make


@pytest.fixture
def lock_spy(monkeypatch: pytest.MonkeyPatch) -> Callable[[object, str], list[bool]]:
    """``lock_spy(module, name)`` wraps the drawing function ``module.name`` so that each call
    records whether :data:`latentplay.app.state.PYPLOT` is held; returns the records."""
    from latentplay.app.state import PYPLOT

    def spy(module: object, name: str) -> list[bool]:
        held: list[bool] = []
        draw = getattr(module, name)

        def recording(*args: object, **kwargs: object) -> object:
            held.append(PYPLOT.locked())
            return draw(*args, **kwargs)

        monkeypatch.setattr(module, name, recording)
        return held

    return spy
