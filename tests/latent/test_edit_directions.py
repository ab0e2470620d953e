"""``latentplay latent edit`` with several ``--direction``: one block of rows per direction (typer
kept only the last of a repeated option, so the figure silently showed one edit)."""

from __future__ import annotations

import json
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest

from latentplay import store as st
from latentplay.latent.directions import Direction


@pytest.fixture
def drawn(monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    """The row labels, captions and title of every image grid a command draws (still drawn)."""
    from latentplay.viz import grid

    seen: list[dict] = []
    original = grid.image_grid

    def record(rows, row_labels, captions=None, title=None, **kwargs):
        seen.append({"rows": len(rows), "labels": list(row_labels), "captions": captions,
                     "title": title})
        return original(rows, row_labels, captions=captions, title=title, **kwargs)

    monkeypatch.setattr(grid, "image_grid", record)
    return seen


def _direction(cli, store: Path, attribute: str, out: Path, column: str = "mu") -> Direction:
    r = cli("latent", "direction", store, "--column", column, "--attribute", attribute, "--out", out)
    assert r.code == 0, r.err
    return Direction.from_json(out)


def test_edit_draws_one_block_of_rows_per_direction(cli, drawn: list[dict], coded_store: Path,
                                                    vae_run: Path, tmp_path: Path) -> None:
    gender_json, smile_json, png = tmp_path / "gender.json", tmp_path / "smile.json", tmp_path / "e.png"
    gender = _direction(cli, coded_store, "gender", gender_json)
    smile = _direction(cli, coded_store, "smile", smile_json)
    r = cli("latent", "edit", vae_run, "--data", coded_store, "--direction", gender_json,
            "--direction", smile_json, "--rows", "0:2", "--alphas=-1,1", "--out", png)
    assert r.code == 0, r.err
    assert iio.imread(png).std() > 5
    numbers = json.loads(png.with_suffix(".json").read_text())
    mu = st.vectors(st.load(coded_store), "mu")[:2]  # (2, 8) the faces' codes
    entries = numbers["directions"]
    assert [e["direction"] for e in entries] == [gender.label, smile.label]
    assert [e["file"] for e in entries] == [str(gender_json), str(smile_json)]
    for entry, found in zip(entries, (gender, smile), strict=True):
        np.testing.assert_allclose(entry["alphas_latent"], np.array([-1, 1]) * found.pattern_sd,
                                   rtol=1e-5)
        np.testing.assert_allclose(entry["distance_before_sd"], found.project(mu) / found.sd,
                                   rtol=1e-5)
    assert "direction" not in numbers and "alphas_latent" not in numbers  # no one direction's
    assert numbers["alphas_sd"] == [-1, 1] and numbers["rows"] == [0, 1]
    figure = drawn[-1]
    assert figure["rows"] == 4 and len(figure["captions"]) == 4  # 2 faces x 2 directions
    assert [label.split("\n")[:2] for label in figure["labels"]] == [
        [gender.label, "row 0"], [gender.label, "row 1"], [smile.label, "row 0"], [smile.label, "row 1"]]
    assert figure["captions"][2] == ["original", "a=-1", "a=+1"]
    assert figure["title"].startswith("2 directions, one block of rows each: z + a pattern")
    assert f"(SDs; + on the {gender.positive} side for gender, the " in figure["title"]
    # one direction: the figure and JSON as before
    r = cli("latent", "edit", vae_run, "--data", coded_store, "--direction", smile_json,
            "--rows", "0:2", "--alphas=-1,1", "--out", png)
    assert r.code == 0, r.err
    numbers = json.loads(png.with_suffix(".json").read_text())
    assert numbers["direction"] == smile.label and len(numbers["directions"]) == 1
    assert drawn[-1]["labels"][0].startswith("row 0\nd ")
    assert drawn[-1]["title"].startswith(f"{smile.label}: z + a pattern")


def test_edit_refuses_any_direction_of_another_run(cli, coded_store: Path, vae_run: Path,
                                                   cvae_run: Path, tmp_path: Path) -> None:
    assert cli("embed", coded_store, "--with", f"vae:{cvae_run}", "--column", "cmu").code == 0
    mine, theirs, png = tmp_path / "mine.json", tmp_path / "theirs.json", tmp_path / "e.png"
    _direction(cli, coded_store, "gender", mine)
    _direction(cli, coded_store, "smile", theirs, column="cmu")
    r = cli("latent", "edit", vae_run, "--data", coded_store, "--direction", theirs,
            "--direction", mine, "--rows", "0:2", "--out", png)
    assert r.code == 2 and f"fitted on codes of run {cvae_run.resolve()} (column 'cmu')" in r.err
    assert len(r.err.strip().splitlines()) == 1 and not png.exists()  # not only the last checked


def test_edit_refuses_directions_of_different_code_sizes(cli, coded_store: Path, vae_run: Path,
                                                         tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """A StyleGAN's W and W+ directions need different codes of each face: refused in one line."""
    import latentplay.train.api as api

    small, png = tmp_path / "g.json", tmp_path / "e.png"
    _direction(cli, coded_store, "gender", small)
    wide = dict(json.loads(small.read_text()), column=None, run=None, run_sha256=None)
    unit = np.ones(16) / 4.0  # (16,) unit vector: a code per layer of a 2-layer StyleGAN
    wide.update(vector=unit.tolist(), pattern=unit.tolist())
    (tmp_path / "wide.json").write_text(json.dumps(wide))
    monkeypatch.setattr(api, "code_sizes", lambda model: (8, 16))
    r = cli("latent", "edit", vae_run, "--data", coded_store, "--direction", small,
            "--direction", tmp_path / "wide.json", "--rows", "0:2", "--out", png)
    assert r.code == 2 and r.err.startswith("error: direction ") and "has 16 dimensions" in r.err
    assert len(r.err.strip().splitlines()) == 1 and not png.exists()
