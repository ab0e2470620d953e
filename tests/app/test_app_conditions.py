"""A conditional run beside a store that cannot give its faces their conditions: the Faces tab
is not offered and the header says why, and nothing fails when the page loads (the edit failed
with "no attribute 'smile'" as soon as the page opened)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import gradio as gr

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
    assert "**Faces** needs each face's condition (smile, gender" in _header(demo)
    assert "the store has no attributes smile, gender" in _header(demo)
    assert len(_loads(demo)) >= 4  # the Sample, Traverse, sliders and Projection drawings


def test_rows_without_a_condition_class_have_no_faces_tab(cvae_run: Path, coded_faces: Path,
                                                          unknown_gender: Any) -> None:
    path, gender = unknown_gender(coded_faces)
    demo = build_app(run=cvae_run, data=path)
    assert "Faces" not in _tabs(demo)
    assert f"condition 'gender' has no class in {(gender == 2).sum()} rows" in _header(demo)
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
