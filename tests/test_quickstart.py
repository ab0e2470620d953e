from pathlib import Path

import datasets
import pytest

from latentplay import quickstart, sources


@pytest.fixture
def unreported(monkeypatch: pytest.MonkeyPatch) -> None:
    """Quickstart with one grid and no store report (its 8 bar charts take about 3 s), for
    tests of its store and bias chart."""
    monkeypatch.setattr(quickstart, "GRID_ATTRIBUTES", ("gender",))
    monkeypatch.setattr(quickstart, "build_report", lambda path: path.with_suffix(".report.html"))


def test_quickstart_builds_store_and_grids(cli, tmp_path: Path) -> None:
    out = tmp_path / "qs"
    result = cli("quickstart", "--out", out, "--n", "80")
    assert result.code == 0, result.err
    ds = datasets.load_from_disk(str(out / "synthfaces"))
    assert len(ds) == 80
    assert "gender" in result.out and "done" in result.out
    for attr in quickstart.GRID_ATTRIBUTES:
        assert (out / f"grid_{attr}.png").read_bytes()[:4] == b"\x89PNG"
    assert (out / "bias_gender_smile.png").read_bytes()[:4] == b"\x89PNG"
    report = (out / "synthfaces.report.html").read_text()
    assert "80" in report and "gender" in report
    assert "latentplay train cvae" in result.out  # what to run next


def test_the_bias_chart_bins_smile_as_the_printed_table(tmp_path: Path, monkeypatch,
                                                        unreported: None) -> None:
    """The chart cut smile in 2 bins beside a printed table (and report) of 4."""
    from latentplay import store as st
    from latentplay.viz import bias

    drawn, titles = [], []
    monkeypatch.setattr(quickstart, "association_bars", lambda found, title: (
        drawn.append(found), titles.append(title), bias.association_bars(found, title))[-1])
    quickstart.run(tmp_path, n=40)
    table = st.crosstab(st.load(tmp_path / "synthfaces"), "gender", "smile")
    assert list(drawn[0].levels) == table["column_names"] and len(table["column_names"]) == 4
    # the test lines `data bias --bins 4` puts under its chart (it gave Cramér's V alone)
    same = bias_test_lines(tmp_path / "synthfaces")
    assert titles == ["\n".join(same)] and "chi-square" in titles[0]


def bias_test_lines(path: Path) -> list[str]:
    from latentplay import store as st
    from latentplay.store.bias import association

    return association(st.load(path), "gender", "smile", bins=4).test_lines


def test_quickstart_replaces_its_own_store(tmp_path: Path, unreported: None) -> None:
    quickstart.run(tmp_path, n=20)
    quickstart.run(tmp_path, n=12)
    assert len(datasets.load_from_disk(str(tmp_path / "synthfaces"))) == 12


def test_quickstart_where_its_default_folder_cannot_be_made_says_so_in_one_line(
        cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The default --out (runs/quickstart) is not on the command line, so the system's refusal
    to make it was a traceback."""
    (tmp_path / "runs").write_text("a file where the folder would go")
    monkeypatch.chdir(tmp_path)
    result = cli("quickstart", "--n", "10")
    lines = result.err.strip().splitlines()
    assert result.code == 2 and len(lines) == 1, result.err
    assert "cannot make" in lines[0] and "runs/quickstart" in lines[0] and "--out" in lines[0]


def test_readme_names_every_file_quickstart_writes(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The README named the grids and the report but not the bias chart's file."""
    monkeypatch.setattr(quickstart, "GRID_ATTRIBUTES", ("gender",))
    quickstart.run(tmp_path, n=12)
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    for made in sorted(tmp_path.iterdir()):
        name = "grid_<attribute>.png" if made.name.startswith("grid_") else made.name
        assert f"runs/quickstart/{name}" in readme, made.name


def test_quickstart_keeps_a_store_with_added_columns(cli, tmp_path: Path, unreported: None) -> None:
    """Run again, quickstart remade its store and lost the columns its own "next:" commands
    add (data measure, bin ...); it now refuses unless --overwrite."""
    from latentplay import store as st

    quickstart.run(tmp_path, n=20)
    st.bin_store(tmp_path / "synthfaces", "yaw", edges=[0.0], names=["left", "right"],
                 name="yaw_side")
    r = cli("quickstart", "--out", tmp_path, "--n", "12")
    assert r.code == 2 and len(r.err.strip().splitlines()) == 1, r.err
    assert "has columns added since quickstart made it (yaw_side by bin)" in r.err
    assert len(st.load(tmp_path / "synthfaces")) == 20
    assert cli("quickstart", "--out", tmp_path, "--n", "12", "--overwrite").code == 0
    assert len(st.load(tmp_path / "synthfaces")) == 12


def test_quickstart_refuses_no_faces_before_making_anything(cli, tmp_path: Path) -> None:
    r = cli("quickstart", "--out", tmp_path / "z", "--n", "0")
    assert r.code == 2 and r.err.strip() == "error: --n must be at least 1, got 0"
    assert not (tmp_path / "z").exists() and "generating" not in r.out


def test_the_printed_commands_say_how_to_reach_this_environments_latentplay(monkeypatch) -> None:
    """make quickstart installs into .venv without activating it: the printed `latentplay ...`
    lines were "command not found" in a new shell. The note names the activate script."""
    import shutil
    import sys

    here = Path(sys.executable).parent / "latentplay"
    assert here.exists()   # the test environment's own console script
    monkeypatch.setattr(shutil, "which", lambda name: None)
    note = quickstart.path_note()
    assert note is not None and f"source {here.parent / 'activate'}" in note and str(here) in note
    monkeypatch.setattr(shutil, "which", lambda name: str(here))
    assert quickstart.path_note() is None


def test_quickstart_inside_a_store_is_refused_before_a_folder_is_made(cli, tmp_path: Path) -> None:
    """A refused --out inside a store once left its empty folder there, and the store, holding
    a folder that is no part of it, refused every later write."""
    store = sources.make("synthfaces", tmp_path / "faces", n=8)
    for out in (store.path / "inner", store.path):
        r = cli("quickstart", "--out", out, "--n", "8")
        assert r.code == 2 and "is inside the store" in r.err and "generating" not in r.out
    assert not (store.path / "inner").exists() and not (store.path / "synthfaces").exists()
    assert cli("data", "bin", store.path, "yaw", "--edges=0").code == 0


def test_the_printed_train_command_fits_a_small_store(tmp_path: Path, unreported: None,
                                                      capsys: pytest.CaptureFixture) -> None:
    """With --n 12 the printed `train cvae` asked for batches of 16 from 11 training images
    and was refused; it now names a batch that fits, and the command trains."""
    import shlex

    from latentplay.cli import main

    quickstart.run(tmp_path, n=12)
    line = next(s for s in capsys.readouterr().out.splitlines() if "latentplay train cvae" in s)
    words = shlex.split(line.split("latentplay ", 1)[1])
    assert words[words.index("--batch-size") + 1] == "8"
    words[words.index("--epochs") + 1] = "1"
    main(words)
    assert (tmp_path / "cvae" / "model.safetensors").exists()
    quickstart.run(tmp_path, n=40, overwrite=True)
    assert "--batch-size" not in capsys.readouterr().out
