"""Fixtures shared by the latent tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from latentplay import store as st


@pytest.fixture
def coded_store(cli, faces_store: Path, vae_run: Path, tmp_path: Path) -> Path:  # noqa: ANN001
    """A copy of ``faces_store`` with the vae run's encoder means in column ``mu``."""
    copy = st.save(st.load(faces_store), tmp_path / "faces")
    r = cli("embed", copy.path, "--with", f"vae:{vae_run}", "--column", "mu")
    assert r.code == 0, r.err
    return Path(copy.path)


def synthfaces_labels(path: Path, n: int, seed: int = 0, overrides: tuple[str, ...] = ()) -> st.Store:
    """A store of the labels ``sources.make("synthfaces", path, n=n, seed=seed, ...)`` draws,
    without the images: for the tests that read labels only (drawing the faces is most of a
    store's cost)."""
    import numpy as np

    from latentplay.config import resolve
    from latentplay.sources import synthfaces as sf

    config = resolve(sf.SynthfacesConfig, [f"n={n}", f"seed={seed}", *overrides])
    labels = sf.sample_labels(config, np.random.default_rng([config.seed, 0]), config.n)
    schema = st.Schema(attributes=sf.attributes(config.identities), image_column=None,
                       provenance=st.Provenance(source="generated", converter="synthfaces"))
    return st.build([labels], schema, path)


@pytest.fixture
def labels_store(tmp_path: Path):  # noqa: ANN201 - a factory
    """Factory: ``labels_store(n, seed=0, overrides=())`` -> :func:`synthfaces_labels` under
    ``tmp_path``."""

    def make(n: int, seed: int = 0, overrides: tuple[str, ...] = ()) -> st.Store:
        return synthfaces_labels(tmp_path / f"labels_{n}_{seed}", n, seed, overrides)

    return make
