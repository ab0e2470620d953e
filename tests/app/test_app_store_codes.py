"""The Faces tab reads a generator's faces from the store's column of the run's inverted codes
(``latentplay embed STORE --with invert:RUN``), as ``latentplay latent edit`` does: it inverted
them afresh, so an edit did not start from the codes its direction was fitted on (and each new
face took seconds)."""

from __future__ import annotations

from pathlib import Path

import gradio as gr
import numpy as np
import pytest

from latentplay import sources
from latentplay import store as st
from latentplay.app import faces
from latentplay.app.state import Playground
from latentplay.app.ui import build_blocks


@pytest.fixture(scope="module")
def inverted(tmp_path_factory: pytest.TempPathFactory, dcgan_run: Path) -> Path:
    """20 synthfaces with the DCGAN's inverted codes in columns ``gz`` and, embedded later with
    other settings, ``gz2``."""
    from latentplay.embed.column import embed_store

    made = sources.make("synthfaces", tmp_path_factory.mktemp("data") / "small", n=20, seed=3)
    embed_store(made, f"invert:{dcgan_run}", "gz", options=["steps=3", "restarts=1"], progress=False)
    embed_store(st.load(made.path), f"invert:{dcgan_run}", "gz2", options=["steps=1", "restarts=1"],
                progress=False)
    return Path(made.path)


@pytest.fixture
def no_inversion(monkeypatch: pytest.MonkeyPatch) -> None:
    """Inverting a face fails the test: the codes must come from the store."""
    from latentplay.latent import invert

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the faces were inverted again")

    monkeypatch.setattr(invert, "invert", refuse)


def test_faces_come_from_the_latest_invert_column(dcgan_run: Path, inverted: Path,
                                                  no_inversion: None) -> None:
    pg = Playground.open(dcgan_run, inverted)
    codes = st.vectors(st.load(inverted), "gz2")
    z, cond = pg.codes([3, 0])
    assert cond is None and np.array_equal(z, codes[[3, 0]])
    assert np.array_equal(faces.reconstruct(pg, 3), pg.decode(codes[3:4], None)[0])
    assert np.array_equal(faces.interpolate(pg, 3, 0, 3, "lerp")[-1], pg.decode(codes[:1], None)[0])
    with gr.Blocks() as demo:
        build_blocks(pg)
    text = " ".join(b.value or "" for b in demo.blocks.values() if isinstance(b, gr.Markdown))
    assert "this run's codes in column `gz2`" in text and "by inversion" not in text


def test_an_edit_starts_from_the_column_its_direction_was_fitted_on(
        dcgan_run: Path, inverted: Path, no_inversion: None) -> None:
    pg = Playground.open(dcgan_run, inverted)
    older = st.vectors(st.load(inverted), "gz")
    direction = faces.fit(pg, "gz", "gender")
    start = pg.decode(older[5:6], None)[0]
    assert np.array_equal(faces.edit(pg, 5, direction, 0.0, "pattern"), start)
    assert np.array_equal(faces.reconstruct(pg, 5, direction.column), start)
    moved = faces.edit(pg, 5, direction, 2.0, "pattern")
    from latentplay.latent.directions import edit

    want = edit(older[5:6], direction, [2.0 * direction.sd_along("pattern")])[:, 0]
    assert np.array_equal(moved, pg.decode(want, None)[0])
