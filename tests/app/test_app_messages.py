"""The page's messages name the page's controls, not the command's options (t-SNE's "--param
tsne.perplexity=5", Bias's "--by and --of", "--bins"), and an emptied or NaN number is a
message naming its control, not a TypeError (a bare "Error" in the page)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gradio as gr
import pytest

from latentplay.app import build_app


@pytest.fixture(scope="module")
def demo(vae_run: Path, coded_faces: Path) -> gr.Blocks:
    return build_app(run=vae_run, data=coded_faces)


@pytest.fixture(scope="module")
def fns(demo: gr.Blocks) -> dict[str, Callable[..., Any]]:
    return {f.api_name: f.fn for f in demo.fns.values() if f.api_name}


@pytest.fixture(scope="module")
def served(demo: gr.Blocks) -> dict[str, Callable[..., Any]]:
    """The handlers as the served page runs them: each input preprocessed by its component
    (``Blocks.process_api``) before the handler is called."""
    def call(block_fn: Any) -> Callable[..., Any]:
        return lambda *inputs: asyncio.run(demo.process_api(block_fn, list(inputs), state=None))

    return {f.api_name: call(f) for f in demo.fns.values() if f.api_name}


def _message(fn: Callable[..., Any], *args: Any) -> str:
    with pytest.raises(gr.Error) as caught:
        fn(*args)
    assert "--" not in caught.value.message  # no option of a command
    return str(caught.value.message)


def test_too_small_a_sample_names_the_sample_box(fns: dict[str, Callable[..., Any]]) -> None:
    from latentplay.embed.coordinates import TSNEParams, UMAPParams

    tsne, umap = TSNEParams().min_rows(50), UMAPParams().min_rows(10)
    assert _message(fns["projection"], "vae_mu", "tsne", "gender", 50, 0) == (
        f"t-SNE needs at least {tsne} rows with a vector; the sample of 50 holds 50: raise the "
        f"sample (t-SNE, UMAP) to {tsne} or more")
    assert f"raise the sample (t-SNE, UMAP) to {umap}" in _message(
        fns["projection"], "vae_mu", "umap", "gender", 10, 0)
    assert fns["projection"]("vae_mu", "tsne", "gender", tsne, 0) is not None


def test_bias_names_its_dropdowns_and_slider(fns: dict[str, Callable[..., Any]]) -> None:
    assert _message(fns["bias"], "gender", "gender", 2) == (
        "groups (by) and shares of (of) are both 'gender': choose two different attributes")
    assert _message(fns["bias"], "gender", "smile", 1) == (
        "bins of a continuous attribute must be at least 2, got 1")


def test_emptied_sliders_are_messages(served: dict[str, Callable[..., Any]]) -> None:
    """Through the components' preprocessing, as the page sends an emptied slider (a Slider
    refused None there: a bare "Error" before the handler could name it)."""
    assert _message(served["sample"], 0, 4, None) == "temperature is empty: give a number"
    assert _message(served["edit"], 0, None, "pattern", None, None) == "step is empty: give a number"
    assert _message(served["traverse"], "latent dimension", 0, None, 5, None) == (
        "range is empty: give a number")
    blank = served["traverse"]("latent dimension", 0, 3, 5, None)  # a blank start: the centre
    assert len(blank["data"][0]) == 5
    assert _message(served["interpolate"], 0, 1, "slerp", None) == "steps is empty: give a number"
    assert _message(served["bias"], "gender", "smile", None) == "bins is empty: give a number"
    assert len(served["sample"](0, 4, 1.0)["data"][0]) == 4  # a value still reaches the handler


def test_an_emptied_latent_slider_is_a_message(demo: gr.Blocks,
                                               served: dict[str, Callable[..., Any]]) -> None:
    """The latent sliders' handler read each value with float(): a TypeError, a bare "Error"."""
    sliders = next(f for f in demo.fns.values() if f.api_name == "sliders").inputs
    name = sliders[0].label.split()[0]  # "z3  (var 1.42)" -> z3
    rest = [0.0] * (len(sliders) - 1)
    assert _message(served["sliders"], None, *rest) == f"{name} is empty: give a number"
    assert served["sliders"](0.5, *rest)["data"][0] is not None


def test_a_nan_number_is_not_called_empty(fns: dict[str, Callable[..., Any]]) -> None:
    assert _message(fns["sample"], float("nan"), 4, 1.0) == "seed is not a number (NaN): give a number"
    assert _message(fns["sample"], 0, 4, float("inf")) == "temperature must be a finite number, got inf"


def test_the_start_seed_box_shows_what_is_drawn(served: dict[str, Callable[..., Any]]) -> None:
    """A text box: blank is the centre (a number box showed it as 0), a seed as typed; other
    text is one message."""
    def drawn(start: Any) -> Any:
        return served["traverse"]("latent dimension", 0, 3, 5, start)["data"]

    centre = drawn("")
    assert centre == drawn(None) and drawn(" 7 ") == drawn("7") != centre
    assert _message(served["traverse"], "latent dimension", 0, 3, 5, "abc") == (
        "start seed must be a whole number or blank, got 'abc'")
    assert _message(served["traverse"], "latent dimension", 0, 3, 5, "2.5") == (
        "start seed must be a whole number or blank, got 2.5")


def test_a_refused_direction_file_leaves_none_in_use_and_says_why(
        fns: dict[str, Callable[..., Any]], tmp_path: Path) -> None:
    """The earlier direction stayed in use under a toast that went; the message named the
    server's copy of the upload."""
    bad = tmp_path / "bad.json"
    bad.write_text('{"not": "a direction"}')
    found, summary, caution = fns["load_direction"](str(bad))
    assert found is None and caution == ""
    assert summary.startswith("**Not loaded**: bad\\.json") and summary.endswith("No direction is in use.")
    assert str(tmp_path) not in summary


def test_the_faces_row_boxes_are_named(served: dict[str, Callable[..., Any]]) -> None:
    assert _message(served["interpolate"], None, 1, "slerp", 8) == "face A is empty: give a row number"
    far = _message(served["interpolate"], 0, 10**6, "slerp", 8)
    assert far.startswith("face B: row 1000000 out of range")
    assert _message(served["face"], None) == "face A is empty: give a row number"


def test_a_value_beyond_a_controls_limits_names_it(served: dict[str, Callable[..., Any]]) -> None:
    """Typed into a slider's box (or the sample box) beyond its limits, a value was refused as
    "Value 9 is greater than maximum value 4.", no control named, and the server printed a
    traceback."""
    with pytest.raises(gr.Error) as caught:
        served["edit"](0, None, "pattern", 9, None)
    assert caught.value.message == "step (SDs of the codes along it) must be in -4..4, got 9"
    assert not caught.value.print_exception
    assert _message(served["sample"], 0, 65, 1.0) == "count must be in 1..64, got 65"
    assert _message(served["sample"], 0, 4, -0.5) == "temperature must be in 0..1.5, got -0.5"
    assert _message(served["projection"], "vae_mu", "tsne", "gender", 5, 0) == (
        "sample (t-SNE, UMAP) must be 10 or more, got 5")
    assert len(served["sample"](0, 64, 1.5)["data"][0]) == 64  # the limits themselves are taken
