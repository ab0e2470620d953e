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
