"""A figure's ``--out`` (its PNG and the JSON beside it) never goes among a run's or a store's
own files, nor replaces a JSON that is not an earlier figure's: ``latent sample RUN --out
RUN/model.png`` replaced the run's ``model.json``."""

from __future__ import annotations

import errno
import json
from pathlib import Path

import pytest

from latentplay.cliargs import DIRECTION_KEY, RUN_SIGNATURES, STORE_FILE, figure_out, is_run
from latentplay.errors import UserError
from latentplay.latent import directions
from latentplay.store import SCHEMA_FILE


def _run(path: Path, names: tuple[str, ...] = ("model.json", "model.safetensors")) -> Path:
    """A directory that reads as a run: ``names`` in it (no real weights: the check comes
    first), ``model.json`` holding ``{"family": "vae"}``."""
    path.mkdir()
    for name in names:
        (path / name).write_text('{"family": "vae"}')
    return path


def test_the_store_file_and_direction_key_named_are_the_libraries() -> None:
    assert STORE_FILE == SCHEMA_FILE and DIRECTION_KEY == directions._FORMAT_KEY
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


def _direction_file(path: Path) -> Path:
    path.write_text(json.dumps({DIRECTION_KEY: 1, "label": "smile", "vector": [1.0, 0.0]}))
    return path


def test_a_direction_beside_is_never_replaced_even_beside_its_png(tmp_path: Path) -> None:
    """``latent direction --out smile.json`` writes smile.png beside it; ``latent edit
    --direction smile.json --out smile.png`` then replaced the direction with its numbers."""
    smile = _direction_file(tmp_path / "smile.json")
    (tmp_path / "smile.png").write_bytes(b"png")  # the direction's own histogram
    with pytest.raises(UserError) as info:
        figure_out(tmp_path / "smile.png")
    assert str(info.value) == (f"--out {tmp_path / 'smile.png'} would replace {smile} beside it, a "
                               "latent direction (an input of latent edit); name the figure otherwise")
    (tmp_path / "smile.png").unlink()  # a direction alone: the same one line
    with pytest.raises(UserError, match="a latent direction"):
        figure_out(tmp_path / "smile.png")
    # latent direction itself may rewrite its own pair (a rerun)
    (tmp_path / "smile.png").write_bytes(b"png")
    figure_out(smile, ".json", ".png")


def test_latent_edit_refuses_its_direction_as_the_figures_json(cli, tmp_path: Path) -> None:
    smile = _direction_file(tmp_path / "smile.json")
    before = smile.read_text()
    (tmp_path / "smile.png").write_bytes(b"png")
    r = cli("latent", "edit", tmp_path / "nowhere", "--data", tmp_path / "nostore",
            "--direction", smile, "--out", tmp_path / "smile.png")
    assert r.code == 2 and len(r.err.strip().splitlines()) == 1, r.err
    assert "a latent direction (an input of latent edit); name the figure otherwise" in r.err
    assert smile.read_text() == before and (tmp_path / "smile.png").read_bytes() == b"png"


def test_a_direction_written_by_latentplay_is_refused_as_a_figures_json(tmp_path: Path) -> None:
    import numpy as np

    d = directions.Direction(vector=np.array([1.0, 0.0], np.float32), attribute="smile",
                             kind="continuous", positive=None, negative=None, method="ridge",
                             offset=0.0, score=0.9, n=10)
    d.to_json(tmp_path / "smile.json")
    (tmp_path / "smile.png").write_bytes(b"png")
    with pytest.raises(UserError, match="a latent direction"):
        figure_out(tmp_path / "smile.png")
    assert directions.Direction.from_json(tmp_path / "smile.json").attribute == "smile"


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
    with pytest.raises(UserError, match="--out must name a .png, .pdf or .svg file, got c.jpg"):
        figure_out(tmp_path / "c.jpg")
    with pytest.raises(UserError, match="is a directory; name a .png, .pdf or .svg file"):
        figure_out(tmp_path / "b.json")
    figure_out(tmp_path / "a.pdf")   # a paper's vector copy of the same figure replaces its JSON
    (tmp_path / "d.json").write_text("{}")
    with pytest.raises(UserError, match="would replace .*d.json, which is not an earlier output"):
        figure_out(tmp_path / "d.svg")


def test_a_figure_command_writes_pdf_and_svg(cli, tmp_path: Path) -> None:
    """A figure for a paper: --out F.pdf or F.svg writes vector files (only .png was taken)."""
    from latentplay import sources

    sources.make("synthfaces", tmp_path / "s", n=40)
    for name, head in (("b.pdf", b"%PDF"), ("b.svg", b"<?xml")):
        r = cli("data", "bias", tmp_path / "s", "--by", "gender", "--of", "smile", "--out",
                tmp_path / name)
        assert r.code == 0, r.err
        assert (tmp_path / name).read_bytes()[:5].startswith(head)


def test_a_figure_of_a_trained_run_still_replaces_its_earlier_pair(cli, vae_run: Path,
                                                                   tmp_path: Path) -> None:
    out = tmp_path / "s.png"
    for _ in range(2):
        r = cli("latent", "sample", vae_run, "--out", out, "--n", "2")
        assert r.code == 0, r.err
    assert out.with_suffix(".json").exists()


def test_a_full_disk_leaves_the_earlier_pair_as_it_was(cli, vae_run: Path, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """The figure was moved into place before its JSON was written: a disk full at the JSON
    left the new faces beside the earlier faces' numbers; now both are the earlier ones."""
    out = tmp_path / "s.png"
    assert cli("latent", "sample", vae_run, "--out", out, "--n", "2").code == 0
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}

    def full(*_: object, **__: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "write_text", full)
    r = cli("latent", "sample", vae_run, "--out", out, "--n", "4", "--seed", "1")
    assert (r.code, r.err) == (2, "error: cannot write the outputs: No space left on device\n")
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_an_audit_folders_record_is_not_replaced_by_a_figure_pair(tmp_path: Path) -> None:
    """``--out AUDIT/fidelity.png`` would have written over the audit's fidelity.json even
    with its fidelity.png there (a PNG + JSON pair like a figure's)."""
    audit = tmp_path / "fid"
    audit.mkdir()
    (audit / "fidelity.png").write_bytes(b"png")
    (audit / "fidelity.json").write_text('{"precision": 0.9}')
    with pytest.raises(UserError, match="the record another command wrote in that folder"):
        figure_out(audit / "fidelity.png")
    figure_out(audit / "sweep.png")  # a figure of its own name beside them is fine


def test_the_gif_of_a_traversal_replaces_only_an_earlier_one(cli, tmp_path: Path) -> None:
    gif = tmp_path / "walk.gif"
    gif.write_bytes(b"GIF89a mine")
    r = cli("latent", "traverse", tmp_path / "nowhere", "--out", tmp_path / "walk.png", "--gif")
    assert r.code == 2 and f"--gif would replace {gif}" in r.err, r.err
    assert gif.read_bytes() == b"GIF89a mine"


def test_a_grid_inside_a_store_is_refused(cli, tmp_path: Path) -> None:
    store = tmp_path / "faces"
    store.mkdir()
    (store / STORE_FILE).write_text("{}")
    r = cli("data", "grid", store, "--by", "smile", "--out", store / "grid.png")
    assert r.code == 2 and f"is inside store {store}" in r.err, r.err
    assert sorted(p.name for p in store.iterdir()) == [STORE_FILE]
