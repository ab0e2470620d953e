"""A conditional run beside a store that cannot give its faces their conditions: the Faces tab
is not offered and the header says why, and nothing fails when the page loads (the edit failed
with "no attribute 'smile'" as soon as the page opened)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np
import pytest

from latentplay import store
from latentplay.app import build_app


def _without(path: Path, names: set[str], out: Path) -> Path:
    """A copy of store ``path`` at ``out`` without attributes ``names``."""
    loaded = store.load(path)
    kept = [a for a in loaded.schema.attributes if a.name not in names]
    store.save(store.Store(dataset=loaded.dataset.remove_columns(sorted(names)), path=loaded.path,
                           schema=dataclasses.replace(loaded.schema, attributes=kept)), out)
    return out


def _loads(demo: gr.Blocks) -> list[Any]:
    """What every handler run when the page opens returns, called with the initial values."""
    return [f.fn(*(b.value for b in f.inputs)) for f in demo.fns.values()
            if any(event == "load" for _, event in f.targets)]


def _header(demo: gr.Blocks) -> str:
    return next(b.value for b in demo.blocks.values() if isinstance(b, gr.Markdown))


def _tabs(demo: gr.Blocks) -> list[str]:
    return [b.label for b in demo.blocks.values() if isinstance(b, gr.Tab)]


def test_a_store_without_the_condition_attributes_has_no_faces_tab(
        cvae_run: Path, coded_faces: Path, tmp_path: Path) -> None:
    demo = build_app(run=cvae_run, data=_without(coded_faces, {"smile", "gender"}, tmp_path / "s"))
    assert "Faces" not in _tabs(demo) and {"Sample", "Projection", "Bias"} <= set(_tabs(demo))
    assert r"**Faces** needs each face's condition (smile\, gender" in _header(demo)
    assert r"the store has no attributes smile\, gender" in _header(demo)  # names escaped
    assert len(_loads(demo)) >= 4  # the Sample, Traverse, sliders and Projection drawings


def test_rows_without_a_condition_class_have_no_faces_tab(cvae_run: Path, coded_faces: Path,
                                                          unknown_gender: Any) -> None:
    path, gender = unknown_gender(coded_faces)
    demo = build_app(run=cvae_run, data=path)
    assert "Faces" not in _tabs(demo)
    assert f"condition \\'gender\\' has no class in {(gender == 2).sum()} rows" in _header(demo)
    _loads(demo)


def test_a_store_without_attributes_draws_its_map_in_one_colour(coded_faces: Path,
                                                                tmp_path: Path) -> None:
    names = {a.name for a in store.load(coded_faces).schema.attributes}
    demo = build_app(data=_without(coded_faces, names, tmp_path / "bare"))
    assert _tabs(demo) == ["Projection"]
    (fig,) = _loads(demo)
    assert sum(len(t.x) for t in fig.data) == 400


def test_a_store_with_the_condition_attributes_keeps_the_tab(cvae_run: Path,
                                                             coded_faces: Path) -> None:
    demo = build_app(run=cvae_run, data=coded_faces)
    assert "Faces" in _tabs(demo) and "condition (" not in _header(demo)


def test_the_header_says_what_the_run_learned(cvae_run: Path, coded_faces: Path) -> None:
    """The finished run's summary.json, as latentplay train printed it."""
    from latentplay.app.faces import markdown_text
    from latentplay.train.summary import condition_text, held_text, read_summary, reconstruction_text

    summary = read_summary(cvae_run)
    assert summary is not None
    header = _header(build_app(run=cvae_run, data=coded_faces))
    lines = [reconstruction_text(summary["reconstruction"]), condition_text(summary["condition"]),
             *(held_text(found) for found in summary["condition_in_codes"])]
    assert "**Trained**\n\n" + "\n".join(f"- {markdown_text(line)}" for line in lines) in header


def test_cached_projections_are_no_vector_columns(coded_faces: Path, tmp_path: Path) -> None:
    """A cached projection (its description the projection's JSON record) is left out of the
    header's vector columns and the Projection tab's choices; a column of the user's named like
    one is not."""
    from latentplay.app import projection
    from latentplay.app.state import Playground

    loaded = store.load(coded_faces)
    xy = np.zeros((len(loaded), 2), np.float32)
    loaded = store.add_column(loaded, "tsne__vae_mu", xy, '{"projection": "tsne"}')
    store.save(store.add_column(loaded, "pca__mine", xy, "the user's own"), tmp_path / "s")
    demo = build_app(data=tmp_path / "s")
    assert r"vector columns vae\_mu (8), pca\_\_mine (2)" in _header(demo)
    assert projection.vector_columns(Playground.open(data=tmp_path / "s")) == ["vae_mu", "pca__mine"]


def test_condition_controls_open_at_the_middle_of_training_and_the_first_class(cvae_run: Path
                                                                              ) -> None:
    """A continuous condition's slider opens at the middle of the values trained on, and says
    them; a categorical one's dropdown at its first class."""
    from latentplay.app import widgets
    from latentplay.app.state import Playground
    from latentplay.errors import UserError

    pg = Playground.open(cvae_run)
    smile, gender = widgets.condition_controls(pg)
    low, high = next(p for p in pg.condition_parts if p.name == "smile").range
    assert smile.value == (low + high) / 2 and low < high
    assert smile.info == f"trained on {low:g}..{high:g}"
    assert gender.value == "female" and [c for c, _ in gender.choices] == ["female", "male"]
    assert widgets.condition_values(pg, [0.5, "male"]) == {"smile": 0.5, "gender": "male"}
    with pytest.raises(UserError, match="smile is empty: give a number"):   # an emptied slider
        widgets.condition_values(pg, [None, "male"])
