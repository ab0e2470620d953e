"""The Faces tab's widgets (``latentplay.app.faces_tab``): what it offers for a store."""

from __future__ import annotations

from pathlib import Path

import gradio as gr
import numpy as np
import pytest

from latentplay import store as st
from latentplay.app import faces, faces_tab
from latentplay.app.state import Playground
from latentplay.errors import UserError


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
    # "fit" chosen anyway says how to get codes to fit on ("choose the codes", of none offered)
    with pytest.raises(gr.Error) as caught:
        _handler(demo, "fitted")(None, "gender", "male")
    assert caught.value.message == (
        f"the store has no vector column of this run's codes ({pg.latent_dim}-d) to fit a direction "
        "on: add one with `latentplay embed STORE --with invert:RUN --column z`, or load a direction JSON")


def _handler(demo: gr.Blocks, name: str):
    """The tab's Python function ``name`` as gradio calls it (guarded)."""
    return next(f.fn for f in demo.fns.values() if getattr(f.fn, "__name__", "") == name)


def test_the_tab_shows_the_cautions_latent_edit_prints(vae_run: Path, coded_faces: Path,
                                                      tmp_path: Path) -> None:
    """A direction fitted on codes of no known run that barely predicts its attribute: the tab
    shows both cautions ``latentplay latent edit`` prints for it, beside the edit; one of this
    run's own codes shows no caution of another run."""
    loaded = st.load(coded_faces)
    noise = np.random.default_rng(0).standard_normal((len(loaded), 8)).astype(np.float32)
    pg = Playground.open(vae_run, st.save(st.add_column(loaded, "noise", noise),
                                          tmp_path / "noisy").path)
    with gr.Blocks() as demo:
        faces_tab.faces_tab(pg, demo)
    found, _, caution = _handler(demo, "fitted")("noise", "gender", "male")
    assert found.weak and faces.markdown_text(found.weak_caution) in caution
    assert faces.markdown_text("fitted on column 'noise', which holds no known run's codes") in caution
    path = tmp_path / "noise.json"
    found.to_json(path)
    assert _handler(demo, "loaded")(str(path))[2] == caution
    own, _, text = _handler(demo, "fitted")(faces.RUN_CODES, "gender", "male")
    assert text == faces.markdown_text(own.weak_caution or "")  # no caution of another run


def test_fitting_on_another_runs_codes_is_refused(cli, vae_run: Path, cvae_run: Path,
                                                  faces_store: Path, tmp_path: Path) -> None:
    """A column of the CVAE's codes (8-d, as the VAE's) gave the VAE's faces a direction of
    another latent without a word; ``latent edit`` refuses such a direction, so does the tab."""
    copy = st.save(st.load(faces_store), tmp_path / "faces")
    assert cli("embed", copy.path, "--with", f"vae:{cvae_run}", "--column", "cmu").code == 0
    assert cli("embed", copy.path, "--with", f"vae:{vae_run}", "--column", "mu").code == 0
    pg = Playground.open(vae_run, copy.path)
    with pytest.raises(UserError, match="fit it on codes of this run"):
        faces.fit(pg, "cmu", "gender", "male")
    assert faces.cautions(pg, faces.fit(pg, "mu", "gender", "male")).count("was fitted on") == 0
    # the codes dropdown leaves out the column every fit refuses
    assert faces.direction_columns(pg) == [faces.RUN_CODES, "mu"]


def _loaded(demo: gr.Blocks) -> list[str]:
    """Names of the functions the page runs when it opens."""
    return [getattr(f.fn, "__name__", "") for f in demo.fns.values()
            if any(t[1] == "load" for t in f.targets)]


def test_a_slow_inversion_does_not_start_when_the_page_opens(dcgan_run: Path, vae_run: Path,
                                                              coded_faces: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """An imported StyleGAN3 took 65-90 s a face to invert, started by the page's opening, under
    "a few seconds per new face": the tab says the cost timed on this machine, and a face that
    takes longer than OPEN_SECONDS waits for a button."""
    pg = Playground.open(dcgan_run, coded_faces)
    assert pg.inverts and faces.inversion_seconds(pg) > 0
    for seconds, at_open in [(2.0, True), (600.0, False)]:
        monkeypatch.setattr(faces, "inversion_seconds", lambda _pg, s=seconds: s)
        with gr.Blocks() as demo:
            faces_tab.faces_tab(pg, demo)
        text = " ".join(str(b.value) for b in _blocks(demo, gr.Markdown))
        assert "a few seconds" not in text
        assert ("about 10 min 0 s per new face" in text) == (not at_open)
        assert ("move" in _loaded(demo)) == at_open
        # the interpolation, which inverts face B too, says what draws it (it opened empty, unsaid)
        assert "interpolate" not in _loaded(demo) and "Drawn when you press *Interpolate*" in text
        buttons = [b.value for b in _blocks(demo, gr.Button)]
        assert ("Reconstruct face A" in buttons) == (not at_open)
    encoded = Playground.open(vae_run, coded_faces)
    assert not encoded.inverts  # encoder means: the interpolation is drawn when the page opens
    with gr.Blocks() as demo:
        faces_tab.faces_tab(encoded, demo)
    assert "interpolate" in _loaded(demo)


def test_a_busy_machine_never_times_an_inversion_at_zero(dcgan_run: Path, coded_faces: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Where every call takes as long, however many steps (a busy machine's noise), the estimate
    is half a 2-step call per step, not 0 (which started slow inversions as the page opened)."""
    pg = Playground.open(dcgan_run, coded_faces)
    ticks = iter(np.arange(0.0, 100.0, 0.5))          # each call 0.5 s, steps or not
    monkeypatch.setattr(faces.time, "perf_counter", lambda: float(next(ticks)))
    assert faces.inversion_seconds(pg) == pytest.approx(pg.invert_steps * 0.25)


def test_an_inversion_is_timed_by_the_cost_of_a_step(dcgan_run: Path, coded_faces: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Calls of 0.1 s plus 0.05 s a step (the first, readying the model, 1 s more): a face's
    inversion takes about invert_steps x 0.05 s, half the difference of 2 steps and none."""
    import latentplay.latent.invert as inversion

    pg = Playground.open(dcgan_run, coded_faces)
    clock = [0.0]

    def timed(*_args: object, steps: int, **_kwargs: object) -> None:
        clock[0] += 0.1 + 0.05 * steps + (1.0 if clock[0] == 0 else 0.0)

    monkeypatch.setattr(faces.time, "perf_counter", lambda: clock[0])
    monkeypatch.setattr(inversion, "invert", timed)
    assert faces.inversion_seconds(pg) == pytest.approx(pg.invert_steps * 0.05)


def test_a_store_of_the_runs_own_samples_is_not_inverted(dcgan_run: Path, tmp_path: Path) -> None:
    """Its faces' codes are the draws they were decoded from: no inversion, no waiting."""
    from latentplay.sources.generated import generate_store

    drawn = generate_store(dcgan_run, tmp_path / "drawn", 4, seed=0)
    assert not Playground.open(dcgan_run, drawn.path).inverts
