"""A figure's ``--out`` (its PNG and the JSON beside it) never goes among a run's or a store's
own files, nor replaces a JSON that is not an earlier figure's: ``latent sample RUN --out
RUN/model.png`` replaced the run's ``model.json``."""

from __future__ import annotations

from pathlib import Path

import pytest

from latentplay.cliargs import RUN_SIGNATURES, STORE_FILE, figure_out, is_run
from latentplay.errors import UserError
from latentplay.store import SCHEMA_FILE


def _run(path: Path, names: tuple[str, ...] = ("model.json", "model.safetensors")) -> Path:
    """A directory that reads as a run: ``names`` in it (no real weights: the check comes
    first), ``model.json`` holding ``{"family": "vae"}``."""
    path.mkdir()
    for name in names:
        (path / name).write_text('{"family": "vae"}')
    return path


def test_the_store_file_named_is_the_stores() -> None:
    assert STORE_FILE == SCHEMA_FILE
    assert ("config.yaml", "metrics.csv") in RUN_SIGNATURES  # a run still training
    assert ("model.json", "model.safetensors") in RUN_SIGNATURES  # trained or imported


@pytest.mark.parametrize("names", RUN_SIGNATURES)
def test_a_figure_inside_a_run_is_refused_before_any_work(cli, tmp_path: Path,
                                                          names: tuple[str, ...]) -> None:
    run = _run(tmp_path / "run", names)
    before = {name: (run / name).read_text() for name in names}
    r = cli("latent", "sample", run, "--out", run / "model.png", "--n", "4")
    assert r.code == 2 and len(r.err.strip().splitlines()) == 1, r.err
    assert f"is inside run {run}" in r.err and "model.png and model.json" in r.err
    assert {name: (run / name).read_text() for name in names} == before
    assert sorted(p.name for p in run.iterdir()) == sorted(names)


@pytest.mark.parametrize("names", [("config.yaml",), ("model.json",), ("config.yaml", "notes.txt"),
                                   ("metrics.csv",), ("model.safetensors",)])
def test_a_config_yaml_or_model_json_alone_is_not_a_run(tmp_path: Path,
                                                        names: tuple[str, ...]) -> None:
    """A project's root with Hydra's ``config.yaml`` (or any tool's lone ``model.json``) is no
    run of latentplay: a figure is written there (it was refused "inside run .")."""
    folder = _run(tmp_path / "proj", names)
    assert not is_run(folder)
    figure_out(folder / "sweep.png")  # no error


def test_a_run_still_training_is_a_run(tmp_path: Path) -> None:
    run = _run(tmp_path / "run", ("config.yaml", "metrics.csv"))
    with pytest.raises(UserError, match=f"is inside run {run}"):
        figure_out(run / "metrics.png")


def test_a_figure_inside_a_store_is_refused(cli, tmp_path: Path) -> None:
    store = tmp_path / "faces"
    store.mkdir()
    (store / SCHEMA_FILE).write_text("{}")
    (store / "state.json").write_text("{}")
    r = cli("latent", "interpolate", tmp_path / "nowhere", "--data", store, "--rows", "0,1",
            "--out", store / "state.png")
    assert r.code == 2 and f"is inside store {store}" in r.err, r.err
    assert (store / "state.json").read_text() == "{}" and not (store / "state.png").exists()


@pytest.mark.parametrize("command", ["sample", "histograms", "mix"])
def test_a_json_without_its_png_is_not_replaced(cli, tmp_path: Path, command: str) -> None:
    mine = tmp_path / "notes.json"
    mine.write_text('{"mine": true}')
    r = cli("latent", command, tmp_path / "nowhere", "--out", tmp_path / "notes.png")
    assert r.code == 2 and len(r.err.strip().splitlines()) == 1, r.err
    assert f"would replace {mine}, which is not an earlier output" in r.err
    assert mine.read_text() == '{"mine": true}' and not (tmp_path / "notes.png").exists()


def test_a_direction_into_a_run_is_refused(cli, tmp_path: Path) -> None:
    run = _run(tmp_path / "run")
    r = cli("latent", "direction", tmp_path / "nowhere", "--column", "z", "--attribute", "smile",
            "--out", run / "model.json")
    assert r.code == 2 and f"is inside run {run}" in r.err, r.err
    assert (run / "model.json").read_text() == '{"family": "vae"}'
    lone = tmp_path / "smile.png"  # a PNG not drawn beside a direction
    lone.write_bytes(b"png")
    r = cli("latent", "direction", tmp_path / "nowhere", "--column", "z", "--attribute", "smile",
            "--out", tmp_path / "smile.json")
    assert r.code == 2 and f"would replace {lone}" in r.err and lone.read_bytes() == b"png"


def test_an_earlier_pair_and_a_new_name_pass(tmp_path: Path) -> None:
    figure_out(tmp_path / "new" / "a.png")  # a folder yet to be made
    (tmp_path / "a.png").write_bytes(b"png")
    (tmp_path / "a.json").write_text("{}")
    figure_out(tmp_path / "a.png")  # an earlier figure's pair is replaced, as before
    (tmp_path / "b.json").mkdir()
    with pytest.raises(UserError, match="b.json, which is a directory"):
        figure_out(tmp_path / "b.png")
    with pytest.raises(UserError, match="--out must name a .png file, got c.jpg"):
        figure_out(tmp_path / "c.jpg")
    with pytest.raises(UserError, match="is a directory; name a .png file"):
        figure_out(tmp_path / "b.json")


def test_a_figure_of_a_trained_run_still_replaces_its_earlier_pair(cli, vae_run: Path,
                                                                   tmp_path: Path) -> None:
    out = tmp_path / "s.png"
    for _ in range(2):
        r = cli("latent", "sample", vae_run, "--out", out, "--n", "2")
        assert r.code == 0, r.err
    assert out.with_suffix(".json").exists()
