"""The Blocks for each combination of run and store, error messages, and the command."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import gradio as gr
import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from latentplay.app import build_app, widgets
from latentplay.app.cli import app_command
from latentplay.errors import UserError


def _tabs(demo: gr.Blocks) -> list[str]:
    return [b.label for b in demo.blocks.values() if isinstance(b, gr.Tab)]


def _apis(demo: gr.Blocks) -> set[str]:
    return {f.api_name for f in demo.fns.values() if f.api_name}


def _words(demo: gr.Blocks) -> str:
    return " ".join(str(b.value) for b in demo.blocks.values() if isinstance(b, gr.Markdown))


def _header(demo: gr.Blocks) -> str:
    return next(b.value for b in demo.blocks.values() if isinstance(b, gr.Markdown))


def test_run_only(vae_run: Path) -> None:
    demo = build_app(run=vae_run)
    assert _tabs(demo) == ["Sample", "Traverse"]
    assert {"sample", "traverse", "sliders"} <= _apis(demo)
    assert "**Faces** needs a run and a store" in _header(demo)
    # every tab not shown is named (Bias and Accuracy were not), and no condition where there is none
    assert "**Projection**, **Bias** and **Accuracy** need a store" in _header(demo)
    intro = [b.value for b in demo.blocks.values() if isinstance(b, gr.Markdown)][1]
    assert intro.endswith("The same seed gives the same draws at every temperature.")


def test_another_traverse_mode_redraws(vae_run: Path) -> None:
    """Choosing PCA axes after latent ones redraws the strip even when the new first axis has
    the old axis's number (the axis's value then does not change, so no .change fires)."""
    demo = build_app(run=vae_run)
    ids = {b.label: b._id for b in demo.blocks.values() if getattr(b, "label", None)}
    fns = list(demo.fns.values())
    offer = next(f for f in fns if (ids["move along"], "input") in f.targets)
    assert [o._id for o in offer.outputs] == [ids["axis"], ids["range (±)"]]
    # the range says what it counts along the new kind of axis (it said prior units for all)
    assert offer.fn("principal axis")[1]["info"] == "SDs of the codes along it"
    assert offer.fn("latent dimension")[1]["info"] == "prior units"
    drawn = [f for f in fns if f.trigger_after == offer._id]
    assert drawn and [o._id for o in drawn[0].outputs] == [ids["traversal"]]
    assert not [f for f in fns if (ids["axis"], "change") in f.targets]   # one drawing per choice


def _labelled(block: gr.blocks.Block) -> dict[str, int]:
    """``{label: id}`` of the labelled components inside ``block`` (a tab)."""
    found = {block.label: block._id} if getattr(block, "label", None) else {}
    for child in getattr(block, "children", []):
        found |= _labelled(child)
    return found


def test_a_drag_draws_where_it_ended(cvae_run: Path) -> None:
    """Dragging Sample's smile slider fired a drawing at every step, each refused while one ran
    (Gradio's "once"): the slider ended at 2.35 over samples drawn at smile 2.25. Traverse's
    range, steps and condition controls drew nothing until its button was pressed."""
    demo = build_app(run=cvae_run)
    fns = {f.api_name: f for f in demo.fns.values() if f.api_name}
    tabs = {b.label: b for b in demo.blocks.values() if isinstance(b, gr.Tab)}
    for name, sliders in [("sample", ["count", "temperature", "smile"]),
                          ("traverse", ["range (±)", "steps", "smile"])]:
        ids = _labelled(tabs[name.title()])
        events = {}
        for i, event in fns[name].targets:
            events.setdefault(i, set()).add(event)
        assert fns[name].trigger_mode == "always_last"
        assert {label: events.get(ids[label]) for label in [*sliders, "gender"]} == {
            **dict.fromkeys(sliders, {"release"}), "gender": {"change"}}


def test_pyplot_is_imported_before_any_handler_runs(faces_store: Path) -> None:
    """Gradio's matplotlib.use around each handler raised "partially initialized module
    'matplotlib.pyplot' has no attribute 'switch_backend'" while the Bias chart's handler was
    importing pyplot: a page whose building imported no pyplot (a CVAE beside a store without
    its conditions, three fresh starts of three) opened with Error for its Traverse row. A fresh
    interpreter, as this one imported pyplot long ago; a store alone, whose building imported
    none either."""

    import latentplay

    code = ("import sys; from latentplay.app import build_app; "
            f"build_app(data={str(faces_store)!r}); "
            "print('matplotlib.pyplot' in sys.modules)")
    source = str(Path(latentplay.__file__).parents[1])
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": source})
    assert done.stdout.strip() == "True", done.stderr[-2000:]


def test_run_and_store(vae_run: Path, coded_faces: Path) -> None:
    demo = build_app(run=vae_run, data=coded_faces)
    assert _tabs(demo) == ["Sample", "Traverse", "Faces", "Projection", "Bias"]
    assert {"interpolate", "fit", "edit", "projection"} <= _apis(demo)
    # every tab of a run and a store, but Accuracy, which needs predictions
    header = _header(demo)
    assert "Not shown: **Accuracy** needs predictions" in header and "**Faces**" not in header


def test_conditional_run_has_one_control_per_condition(cvae_run: Path, faces_store: Path) -> None:
    demo = build_app(run=cvae_run, data=faces_store)
    assert _tabs(demo) == ["Sample", "Traverse", "Faces", "Bias"]  # the store has no vector column
    assert "needs a vector column" in _header(demo)
    intro = [b.value for b in demo.blocks.values() if isinstance(b, gr.Markdown)][1]
    assert intro.endswith("The same seed gives the same draws at every condition.")
    smile = [b for b in demo.blocks.values() if isinstance(b, gr.Slider) and b.label == "smile"]
    gender = [b for b in demo.blocks.values()
              if isinstance(b, gr.Dropdown) and b.label == "gender"]
    assert len(smile) == 2 and len(gender) == 2  # Sample and Traverse tabs
    assert smile[0].minimum < -1 and smile[0].maximum > 1
    assert [c[0] for c in gender[0].choices] == ["female", "male"]


def test_dcgan_and_store(dcgan_run: Path, coded_faces: Path) -> None:
    demo = build_app(run=dcgan_run, data=coded_faces)
    assert _tabs(demo) == ["Sample", "Traverse", "Faces", "Projection", "Bias"]
    radios = [b for b in demo.blocks.values() if isinstance(b, gr.Radio)
              and b.label == "move along" and b.choices[0][0] == "latent dimension"]
    assert [c[0] for c in radios[0].choices] == ["latent dimension"]  # no principal axes
    words = _words(demo)
    # a GAN's dimensions were said to be ordered by "encoder means ... not available for this run"
    assert "A generator encodes no images: its latent dimensions are in order." in words
    assert "encoder means" not in words
    assert "inversion" in "".join(str(b.value) for b in demo.blocks.values()
                                  if isinstance(b, gr.Markdown))


def test_store_only_and_nothing(coded_faces: Path) -> None:
    assert _tabs(build_app(data=coded_faces)) == ["Projection", "Bias"]
    empty = build_app()
    assert _tabs(empty) == [] and "need a run" in _header(empty)


def test_user_errors_become_messages() -> None:
    def bad() -> None:
        raise UserError("row 999 out of range")

    with pytest.raises(gr.Error, match="row 999 out of range"):
        widgets.guard(bad)()


def test_display_enlarges_crisply() -> None:
    gray = np.arange(32 * 32, dtype=np.uint8).reshape(1, 32, 32, 1)
    big = widgets.display(gray)
    assert big.shape == (1, 128, 128) and np.array_equal(big[0, ::4, ::4], gray[0, ..., 0])
    odd = np.zeros((2, 48, 48, 3), np.uint8)      # 128 / 48 = 2.7: three times, at least 128
    assert widgets.display(odd).shape == (2, 144, 144, 3)
    assert widgets.display(np.zeros((200, 200, 3), np.uint8)).shape == (200, 200, 3)   # large already


def test_command_rejects_bad_paths(tmp_path: Path, faces_store: Path) -> None:
    with pytest.raises(UserError, match="--run RUN and/or --data STORE"):
        app_command(run=None, data=None, host="127.0.0.1", port=7860)
    with pytest.raises(UserError, match="not a run directory"):
        app_command(run=faces_store, data=None, host="127.0.0.1", port=7860)
    with pytest.raises(UserError, match="no store"):
        app_command(run=None, data=tmp_path / "nope", host="127.0.0.1", port=7860)


def test_command_registers_with_typer(faces_store: Path) -> None:
    app = typer.Typer()
    app.command("app")(app_command)
    runner = CliRunner()
    shown = runner.invoke(app, ["--help"], env={"COLUMNS": "120", "NO_COLOR": "1"})
    assert shown.exit_code == 0
    assert all(option in shown.output for option in ("--run", "--data", "--host", "--port"))
    failed = runner.invoke(app, ["--run", str(faces_store), "--port", "7999"])
    assert isinstance(failed.exception, UserError) and "not a run" in str(failed.exception)


def test_emptied_number_boxes_are_messages(vae_run: Path, coded_faces: Path) -> None:
    """A number box the user cleared reaches a handler as None: a message, not a TypeError
    (which the page would show as a bare "Error")."""
    demo = build_app(run=vae_run, data=coded_faces)
    fns = {f.api_name: f.fn for f in demo.fns.values() if f.api_name}
    with pytest.raises(gr.Error, match="seed is empty"):
        fns["sample"](None, 4, 1.0)
    with pytest.raises(gr.Error, match="axis is empty"):
        fns["traverse"]("latent dimension", None, 3, 5)
    with pytest.raises(gr.Error, match="sample is empty"):
        fns["projection"]("vae_mu", "tsne", "gender", None, 0)
    assert len(fns["sample"](3, 4, 1.0)) == 4


def test_negative_seeds_are_messages(vae_run: Path, coded_faces: Path) -> None:
    """A seed box below 0 is a message, not NumPy's ValueError (a bare "Error" in the page)."""
    demo = build_app(run=vae_run, data=coded_faces)
    fns = {f.api_name: f.fn for f in demo.fns.values() if f.api_name}
    with pytest.raises(gr.Error, match="seed must be 0 or more, got -5"):
        fns["sample"](-5, 4, 1.0)
    with pytest.raises(gr.Error, match="seed must be 0 or more, got -1"):
        fns["projection"]("vae_mu", "tsne", "gender", 100, -1)


def test_a_bad_port_is_refused_before_serving_is_announced(
        vae_run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(UserError, match="--port must be in 1..65535, got 70000"):
        app_command(run=vae_run, data=None, host="127.0.0.1", port=70000)
    assert "playground on" not in capsys.readouterr().out


def test_header_says_why_bias_is_missing(coded_faces: Path, tmp_path: Path) -> None:
    import dataclasses

    from latentplay import store

    loaded = store.load(coded_faces)
    names = [a.name for a in loaded.schema.attributes]
    one = store.Store(dataset=loaded.dataset.remove_columns(names[1:]), path=loaded.path,
                      schema=dataclasses.replace(loaded.schema,
                                                 attributes=loaded.schema.attributes[:1]))
    store.save(one, tmp_path / "one")
    demo = build_app(data=tmp_path / "one")
    assert _tabs(demo) == ["Projection"] and "**Bias** needs two attributes" in _header(demo)


def test_an_unchosen_traverse_mode_is_a_message(vae_run: Path) -> None:
    """The traverse API with no "move along" choice (a radio's None) is a message, not a
    KeyError (a bare "Error" in the page)."""
    fns = {f.api_name: f.fn for f in build_app(run=vae_run).fns.values() if f.api_name}
    with pytest.raises(gr.Error, match="move along one of: latent dimension"):
        fns["traverse"](None, 0, 3, 5)
    assert len(fns["traverse"]("latent dimension", 0, 3, 5)) == 5


def test_names_from_a_shared_store_render_as_text_not_as_remote_images(tmp_path: Path) -> None:
    """A store's attribute or class named ``![x](http:evil.example)``: the header showed an
    image that the browser fetched from that host as the page opened (names are escaped now,
    and render as written)."""
    from markdown_it import MarkdownIt

    from latentplay import store as st
    from latentplay.store import Attribute, Provenance, Schema

    evil = "![x](http:evil.example)"
    schema = Schema(attributes=[Attribute(evil, "categorical", names=["f", evil]),
                                Attribute("age", "categorical", names=["young", "old"])],
                    provenance=Provenance(source="test", converter="test"))
    images = np.zeros((8, 8, 8, 3), np.uint8)
    st.build([{"image": [st.encode_png(im) for im in images], evil: np.arange(8) % 2,
               "age": np.arange(8) // 4}], schema, tmp_path / "s")
    demo = build_app(data=tmp_path / "s")
    rendered = [MarkdownIt("commonmark").render(str(b.value)) for b in demo.blocks.values()
                if isinstance(b, gr.Markdown)]
    assert not any("<img" in page for page in rendered)
    assert f"attributes {evil}, age;" in rendered[0]


def test_headings_go_in_order_and_every_control_is_named(vae_run: Path, coded_faces: Path) -> None:
    """A screen reader moves by headings and names controls by their labels: under the page's
    h1 the tabs' headings (Latent sliders, Interpolation, Edit face A) were h3, a level
    skipped; they are h2, and every control, image and plot has a label."""
    import re

    demo = build_app(run=vae_run, data=coded_faces)
    levels = [len(h) for b in demo.blocks.values() if isinstance(b, gr.Markdown)
              for h in re.findall(r"^(#+) ", str(b.value or ""), flags=re.MULTILINE)]
    assert levels[0] == 1 and len(levels) >= 4 and set(levels[1:]) == {2}
    named = (gr.Slider, gr.Number, gr.Dropdown, gr.Radio, gr.Checkbox, gr.Textbox, gr.Image,
             gr.Gallery, gr.Plot)
    controls = [b for b in demo.blocks.values() if isinstance(b, named)]
    assert controls and all(str(b.label or "").strip() for b in controls)
    assert all(str(b.value).strip() for b in demo.blocks.values() if isinstance(b, gr.Button))
