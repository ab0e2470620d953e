"""The Faces tab's widgets (``latentplay.app.faces_tab``): what it offers for a store."""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from latentplay.app import faces, faces_tab
from latentplay.app.state import Playground


def _blocks(demo: gr.Blocks, kind: type) -> list:
    return [b for b in demo.blocks.values() if isinstance(b, kind)]


def test_faces_tab_defaults_and_endpoints(vae_run: Path, coded_faces: Path) -> None:
    pg = Playground.open(vae_run, coded_faces)
    # the first two-class attribute is the default, pointing to its second class
    assert faces_tab._default_attribute(pg) == "gender"
    assert faces_tab._classes(pg, "gender") == {"choices": ["female", "male"], "value": "male"}
    assert faces_tab._classes(pg, "smile") == {"choices": [], "value": None}
    # an ordered attribute of many classes is first offered along its order, which fit takes
    tones = faces_tab._classes(pg, "skin_tone")
    assert tones["choices"][0] == (faces_tab.ALONG_THE_ORDER, "") and tones["value"] == ""
    assert [c[1] for c in tones["choices"][1:]] == faces.class_names(pg, "skin_tone")
    along = faces.fit(pg, "vae_mu", "skin_tone", tones["value"])
    assert along.label == faces.fit(pg, "vae_mu", "skin_tone", None).label
    assert along.label != faces.fit(pg, "vae_mu", "skin_tone", "monk_2").label
    with gr.Blocks() as demo:
        faces_tab.faces_tab(pg, demo)
    assert [t.label for t in _blocks(demo, gr.Tab)] == ["Faces"]
    apis = {f.api_name for f in demo.fns.values() if f.api_name}
    assert {"face", "interpolate", "fit", "edit"} <= apis  # the tab's own endpoints only
    assert not {"sample", "traverse", "projection"} & apis
    codes = next(d for d in _blocks(demo, gr.Dropdown) if d.label == "codes")
    assert [c[0] for c in codes.choices] == ["(this run's codes)", "vae_mu"]
    assert codes.visible  # an encoder run can fit directions
    upload = _blocks(demo, gr.File)[0]
    assert not upload.visible  # the JSON upload shows only in "load JSON" mode


def test_generator_without_matching_columns_loads_directions(dcgan_run: Path,
                                                             coded_faces: Path) -> None:
    pg = Playground.open(dcgan_run, coded_faces)  # vae_mu has 8 dims, the generator 16
    with gr.Blocks() as demo:
        faces_tab.faces_tab(pg, demo)
    source = next(r for r in _blocks(demo, gr.Radio) if r.label == "direction")
    assert source.value == "load JSON"
    assert _blocks(demo, gr.File)[0].visible
