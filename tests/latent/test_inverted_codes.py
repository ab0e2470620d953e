"""``edit``, ``blend`` and ``interpolate`` on a generator (no encoder): they start from the
store's column of the run's inverted codes when it has one (they inverted the faces again, so
an edit did not start from the codes its direction was fitted on), and say how well the codes
redraw the faces (a failed inversion looked like a result)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from latentplay import sources
from latentplay import store as st
from latentplay.latent.directions import Direction


@pytest.fixture(scope="module")
def inverted(tmp_path_factory: pytest.TempPathFactory, dcgan_run: Path) -> Path:
    """30 synthfaces with the DCGAN's inverted codes in column ``gz`` (3 steps)."""
    from latentplay.embed.column import embed_store

    made = sources.make("synthfaces", tmp_path_factory.mktemp("data") / "small", n=30, seed=3)
    embed_store(made, f"invert:{dcgan_run}", "gz", options=["steps=3", "restarts=1"], progress=False)
    return Path(made.path)


@pytest.fixture
def drawn(monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    """The titles and captions of every image grid a command draws."""
    from latentplay.viz import grid

    seen: list[dict] = []
    original = grid.image_grid

    def record(rows, row_labels, captions=None, title=None, **kwargs):
        seen.append({"captions": captions, "title": title})
        return original(rows, row_labels, captions=captions, title=title, **kwargs)

    monkeypatch.setattr(grid, "image_grid", record)
    return seen


def _json(png: Path) -> dict:
    return json.loads(png.with_suffix(".json").read_text())


def test_edit_starts_from_the_codes_its_direction_was_fitted_on(cli, drawn: list[dict], dcgan_run: Path,
                                                                inverted: Path, tmp_path: Path) -> None:
    out, png = tmp_path / "gender.json", tmp_path / "edit.png"
    r = cli("latent", "direction", inverted, "--column", "gz", "--attribute", "gender", "--out", out)
    assert r.code == 0, r.err
    found = Direction.from_json(out)
    r = cli("latent", "edit", dcgan_run, "--data", inverted, "--direction", out, "--rows", "0:2",
            "--alphas=-1,1", "--out", png)
    assert r.code == 0, r.err
    numbers = _json(png)
    column = st.vectors(st.load(inverted), "gz")[:2]
    np.testing.assert_allclose(numbers["distance_before_sd"], found.project(column) / found.sd, rtol=1e-5)
    assert numbers["codes"] == {"source": "column", "column": "gz"}
    # the faces' reconstruction error beside the mean code's, in the JSON and under each original
    assert len(numbers["inversion_loss"]) == len(numbers["mean_code_loss"]) == 2
    assert numbers["inversion"]["n"] == 2
    first = drawn[-1]["captions"][0][0]
    assert first.startswith(f"original\ninverted, MSE {numbers['inversion_loss'][0]:.4f}\nmean code ")
    # the shared DCGAN draws about one image whatever the code: a failed inversion, said so
    assert numbers["inversion"]["failed"] == 2
    caution = [c for c in numbers["cautions"] if "failed inversions" in c]
    assert len(caution) == 1 and caution[0] in r.err and "(rows 0, 1)" in caution[0]
    assert "; inversion failed for 2 of 2 faces" in drawn[-1]["title"]
    # options of an inversion that does not happen are refused; --reinvert inverts again
    r = cli("latent", "edit", dcgan_run, "--data", inverted, "--direction", out, "--rows", "0:2",
            "--seed", "2", "--out", tmp_path / "x.png")
    assert r.code == 2 and "--seed sets the inversion of the faces, but their codes come from column 'gz'" \
        in r.err and len(r.err.strip().splitlines()) == 1
    r = cli("latent", "edit", dcgan_run, "--data", inverted, "--direction", out, "--rows", "0:2",
            "--reinvert", "--invert-steps", "2", "--restarts", "1", "--seed", "2", "--out", png)
    assert r.code == 0, r.err
    assert _json(png)["codes"] == {"source": "inverted", "column": None, "steps": 2, "restarts": 1, "seed": 2}


def test_blend_and_interpolate_record_and_show_the_inversion(cli, drawn: list[dict], dcgan_run: Path,
                                                             inverted: Path, tmp_path: Path) -> None:
    png = tmp_path / "blend.png"
    r = cli("latent", "blend", dcgan_run, "--data", inverted, "--rows", "0,1,2", "--out", png)
    assert r.code == 0, r.err
    numbers = _json(png)
    assert numbers["codes"]["source"] == "column" and len(numbers["inversion_loss"]) == 3
    assert all(c.startswith("inverted, MSE ") for c in drawn[-1]["captions"][1])
    assert "failed inversions" in r.err
    # a store without a column of the run's codes: inverted now, with the settings given
    bare = Path(sources.make("synthfaces", tmp_path / "bare", n=2, seed=3).path)
    png = tmp_path / "interp.png"
    r = cli("latent", "interpolate", dcgan_run, "--data", bare, "--rows", "0,1", "--steps", "3",
            "--invert-steps", "2", "--restarts", "1", "--out", png)
    assert r.code == 0, r.err
    numbers = _json(png)
    assert numbers["codes"] == {"source": "inverted", "column": None, "steps": 2, "restarts": 1, "seed": 0}
    assert len(numbers["inversion_loss"]) == len(numbers["mean_code_loss"]) == 2
    captions = drawn[-1]["captions"][0]
    assert captions[0].startswith("original\ninverted, MSE ")
    assert captions[-1].startswith("original\ninverted, MSE ")


def test_an_encoder_models_faces_take_no_inversion_options(cli, vae_run: Path, faces_store: Path,
                                                           tmp_path: Path) -> None:
    for args in (["--invert-steps", "5"], ["--restarts", "2"], ["--reinvert"]):
        r = cli("latent", "blend", vae_run, "--data", faces_store, "--rows", "0,1", *args,
                "--out", tmp_path / "b.png")
        assert r.code == 2 and "a vae encodes them, so leave it out" in r.err, r.err
    assert not (tmp_path / "b.png").exists()
