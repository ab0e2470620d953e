"""The latent commands on an imported 16-px StyleGAN3: whose codes stylespace reads, what mix
--data shows of failed inversions, and refused values of sample's motion and of --layers."""

from __future__ import annotations

import json
import shutil
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from latentplay import sources
from latentplay.errors import UserError
from latentplay.latent.mixing import layer_range
from latentplay.train.pretrained import import_generator

REFERENCE = Path(__file__).parents[1] / "train"


def _nvidia_names(monkeypatch: pytest.MonkeyPatch) -> Any:
    """``tests/train/test_network_pickle.py`` with NVIDIA's module names registered, so that its
    helpers can pickle a generator as NVIDIA's persistence module does."""
    monkeypatch.syspath_prepend(str(REFERENCE))
    import test_network_pickle as pickles

    for name, attr, value in (("torch_utils.persistence", "_reconstruct_persistent_obj",
                               pickles._reconstruct_persistent_obj),
                              ("dnnlib.util", "EasyDict", pickles.EasyDict)):
        parts = name.split(".")
        for i in range(1, len(parts) + 1):
            path = ".".join(parts[:i])
            if path not in sys.modules:
                monkeypatch.setitem(sys.modules, path, types.ModuleType(path))
            if i > 1:
                monkeypatch.setattr(sys.modules[".".join(parts[:i - 1])], parts[i - 1], sys.modules[path],
                                    raising=False)
        monkeypatch.setattr(sys.modules[name], attr, value, raising=False)
    return pickles


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """StyleGAN3-T imported in W (``w``) and in z (``z``: the same weights, another code
    space), and StyleGAN3-R (``r``: other weights)."""
    folder = tmp_path_factory.mktemp("sg3")
    with pytest.MonkeyPatch.context() as mp:
        pickles = _nvidia_names(mp)
        t = pickles._write(folder / "t.pkl", pickles._stored3("t"))
        r = pickles._write(folder / "r.pkl", pickles._stored3("r"))
    made = {"w": (t, "w"), "z": (t, "z"), "r": (r, "w")}
    return {name: import_generator(pkl, folder / name, kind="stylegan3", space=space, w_samples=100,
                                   samples=0) for name, (pkl, space) in made.items()}


@pytest.fixture(scope="module")
def store(runs: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """12 synthfaces with run ``w``'s codes in column ``w``, left at its mean code (no
    inversion steps): every inversion failed."""
    from latentplay.cli import main

    path = tmp_path_factory.mktemp("faces") / "faces"
    sources.make("synthfaces", path, n=12, seed=0)
    try:
        main(["embed", str(path), "--with", f"invert:{runs['w']}", "--column", "w", "-o", "steps=0",
              "-o", "init=mean"])
    except SystemExit as exc:  # the CLI's own exit: 0 (or None) on success
        assert not exc.code
    return path


def test_stylespace_refuses_codes_of_another_run_or_space(runs: dict[str, Path], store: Path,
                                                        tmp_path: Path, cli) -> None:
    """A column of run w's codes was read by a z-space import of the same generator and by
    another generator alike (edit, mix and interpolate check where a column came from)."""
    args = ("--data", store, "--column", "w", "--attribute", "gender", "--positive", "female",
            "--top", "2", "--steps", "2")
    for other in ("z", "r"):
        result = cli("latent", "stylespace", runs[other], *args, "--out", tmp_path / f"{other}.png")
        assert result.code == 2 and result.err.count("\n") == 1, result.err
        assert f"holds codes of run {runs['w'].resolve()}" in result.err
        assert not (tmp_path / f"{other}.png").exists()
    result = cli("latent", "stylespace", runs["w"], *args, "--out", tmp_path / "w.png")
    assert result.code == 0 and "caution" not in result.err, result.err


def test_a_z_space_import_does_not_take_w_codes_of_a_column(runs: dict[str, Path], store: Path,
                                                            tmp_path: Path, cli) -> None:
    """Same weights, another space: the faces are inverted in z rather than read from W's column."""
    for name, source in (("w", "column"), ("z", "inverted")):
        out = tmp_path / f"{name}.png"
        result = cli("latent", "interpolate", runs[name], "--data", store, "--rows", "0,1", "--steps", 2,
                     *(("--invert-steps", 1, "--restarts", 1) if name == "z" else ()), "--out", out)
        assert result.code == 0, result.err
        assert json.loads(out.with_suffix(".json").read_text())["codes"]["source"] == source


def test_mix_data_shows_failed_inversions_as_interpolate_does(runs: dict[str, Path], store: Path,
                                                               tmp_path: Path, cli, monkeypatch) -> None:
    import latentplay.viz.grid as grid

    drawn: list[dict[str, Any]] = []
    original = grid.image_grid

    def spy(rows, labels, captions=None, title=None, **kw):  # noqa: ANN001, ANN003, ANN202
        drawn.append({"rows": rows, "labels": labels, "captions": captions, "title": title})
        return original(rows, labels, captions=captions, title=title, **kw)

    monkeypatch.setattr(grid, "image_grid", spy)
    results = {}
    for command, args in (("interpolate", ("--rows", "0,1", "--steps", 2)),
                          ("mix", ("--rows", "0:2", "--sources", "1:3"))):
        out = tmp_path / f"{command}.png"
        result = cli("latent", command, runs["w"], "--data", store, *args, "--out", out)
        assert result.code == 0, result.err
        results[command] = json.loads(out.with_suffix(".json").read_text()), drawn[-1], result.err
    numbers, figure, printed = results["mix"]
    assert numbers["rows"] == [0, 1, 2] and numbers["codes"]["source"] == "column"
    assert len(numbers["inversion_loss"]) == len(numbers["mean_code_loss"]) == 3
    assert numbers["inversion"]["n"] == 3 and numbers["inversion"]["failed"] == 3
    failed = "inversion failed for 3 of 3 faces"
    assert failed in figure["title"] and "inversion failed for 2 of 2" in results["interpolate"][1]["title"]
    assert numbers["cautions"] and numbers["cautions"][0] in printed
    captions = [c for row in figure["captions"] for c in row]
    assert sum("mean code" in c and c.endswith(": failed") for c in captions) == 4  # 2 sources, 2 rows
    assert figure["labels"][:2] == ["sources", "their codes"]
    assert [len(r) for r in figure["rows"]] == [4] * 4  # 2 sources; each row: its face, own decoding, mixes


def test_sample_refuses_non_finite_motion(runs: dict[str, Path], tmp_path: Path, cli) -> None:
    for args in (("--rotate", "nan"), ("--translate", "inf,0"), ("--rotate", "-inf"),
                 ("--translate", "0,nan")):
        result = cli("latent", "sample", runs["w"], "--n", 2, *args, "--out", tmp_path / "s.png")
        assert result.code == 2 and result.err.count("\n") == 1 and "finite" in result.err, (args, result.err)
        assert not (tmp_path / "s.png").exists()


def test_a_stop_past_the_last_layer_is_named(runs: dict[str, Path], tmp_path: Path, cli) -> None:
    with pytest.raises(UserError, match="STOP 99 is past the last layer, 15"):
        layer_range("3:99", 16)
    with pytest.raises(UserError, match="give no layers"):
        layer_range("5:5", 16)
    result = cli("latent", "traverse", runs["w"], "--sefa", "--layers", "3:99", "--out", tmp_path / "t.png")
    assert result.code == 2 and "past the last layer" in result.err and "give no layers" not in result.err
    for command in ("mix", "edit", "traverse"):
        help_text = " ".join(w for w in cli("latent", command, "--help").out.split() if w != "│")
        meaning = "in a StyleGAN3 (not at growing resolutions) its lowest to highest cutoffs"
        assert meaning in help_text, command


def test_a_direction_of_w_codes_does_not_edit_a_z_space_import(runs: dict[str, Path]) -> None:
    """A direction fitted on run w's codes edits run w's, refuses run z's (the same weights,
    another code space) and run r's (other weights)."""
    import numpy as np

    from latentplay.latent.directions import Direction, run_sha256

    found = Direction(vector=np.eye(4, dtype=np.float32)[0], attribute="gender", kind="categorical",
                      positive="female", negative="male", method="svm", offset=0.0, score=0.9, n=12,
                      column="w", run=str(runs["w"].resolve()), run_sha256=run_sha256(runs["w"]))
    assert found.check_run(runs["w"]) is None
    with pytest.raises(UserError, match="fitted on w codes of run .*decodes z codes of the same weights"):
        found.check_run(runs["z"])
    with pytest.raises(UserError, match="whose weights are not those of"):
        found.check_run(runs["r"])


def test_reconstruction_reads_codes_per_layer(runs: dict[str, Path], store: Path, tmp_path: Path,
                                              cli) -> None:
    """W+ codes (a code per layer) left at the mean code, and the plain W column also at it:
    the same redrawings, every one of them failed (no better than the average face). The
    column ``wp`` goes into a copy: the module's ``store`` is read by the other tests."""
    store = shutil.copytree(store, tmp_path / "faces")
    r = cli("embed", store, "--with", f"invert:{runs['w']}", "--column", "wp", "-o", "steps=0",
            "-o", "init=mean", "-o", "per_layer=true")
    assert r.code == 0, r.err
    found = {}
    for column in ("w", "wp"):
        r = cli("audit", "reconstruction", runs["w"], "--data", store, "--by", "gender", "--column",
                column, "--out", tmp_path / column)
        assert r.code == 0, r.err
        found[column] = json.loads((tmp_path / column / "reconstruction.json").read_text())
    assert found["wp"]["all"]["mse"] == pytest.approx(found["w"]["all"]["mse"], rel=1e-4)
    assert found["wp"]["all"]["failed"] == found["w"]["all"]["failed"] == 1.0
