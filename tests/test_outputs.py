"""What every command's outputs share: parents made, p-values as text."""

from __future__ import annotations

import ast
import json
import os
from pathlib import Path
from typing import Any

import pytest

from latentplay.errors import UserError
from latentplay.outputs import make_parents, output_dir, p_text, staged_outputs


def test_p_text():
    assert p_text(0.0123) == "0.012" and p_text(0.0123, 3) == "0.0123"
    assert p_text(0.0) == "< 1e-300"
    assert p_text(9.88e-324) == "< 1e-300"  # a subnormal's digits mean nothing
    assert p_text(2e-300) == "2e-300" and p_text(1e-300) == "1e-300"   # below it, "<"
    assert p_text(float("nan")) == p_text(None) == "n/a"  # no test made: was "< 1e-300"


def test_figure_and_share_texts() -> None:
    """A printed number keeps its decimals (not significant digits); a share of variance reads
    in whole percents but for one decimal under 1 % and over 99 %."""
    from latentplay.outputs import figure_text, share_text

    assert [figure_text(12.5, 1), figure_text(0.12345), figure_text(None)] == ["12.5", "0.123", "-"]
    assert [share_text(s) for s in (0.004, 0.3449, 0.996)] == ["0.4%", "34%", "99.6%"]


def test_parents_are_made_unless_a_file_is_in_the_way(tmp_path: Path):
    target = make_parents(tmp_path / "a" / "b" / "c.png")
    assert target.parent.is_dir() and not target.exists()
    assert output_dir(tmp_path / "x" / "y", overwrite=False).is_dir()
    (tmp_path / "file").write_text("")
    with pytest.raises(UserError, match="a file is in the way"):
        make_parents(tmp_path / "file" / "c.png")
    with pytest.raises(UserError, match="exists and is not empty"):
        output_dir(tmp_path / "a", overwrite=False)


def test_counted_says_one_row_and_many_rows() -> None:
    from latentplay.outputs import counted

    assert [counted(n, "row") for n in (0, 1, 2, 1200)] == ["0 rows", "1 row", "2 rows", "1,200 rows"]
    assert counted(1, "person", "persons") == "1 person" and counted(3, "ox", "oxen") == "3 oxen"


def test_measure_summary_counts_one_row_in_the_singular(tmp_path) -> None:  # noqa: ANN001
    """The measure summary said "1 rows without a value"."""
    import numpy as np

    from latentplay import store as st
    from latentplay.measure.run import summary_lines
    from latentplay.store import Attribute, Provenance, Schema

    schema = Schema(attributes=[Attribute("a", "continuous"), Attribute("b", "continuous")],
                    provenance=Provenance(source="x", converter="unit"))
    batch = {"image": [st.encode_png(np.zeros((4, 4, 3), np.uint8))] * 3,
             "a": np.array([1, np.nan, 2], np.float32), "b": np.array([np.nan, np.nan, 2], np.float32)}
    lines = summary_lines(st.build([batch], schema, tmp_path / "s"), ["a", "b"])
    assert lines[0].endswith("; 1 row without a value") and lines[1].endswith("; 2 rows without a value")


def test_an_output_directory_is_refused_as_a_file_or_among_files(tmp_path: Path) -> None:
    """One check for every command: a file is no directory even with --overwrite (output_dir
    failed with a traceback), a directory holding files needs --overwrite where the command
    has it and a new directory where it has not, and a run passes for training's resume."""
    from latentplay.outputs import refuse_nonempty

    (tmp_path / "file").write_text("")
    for overwrite in (True, False, None):
        with pytest.raises(UserError, match="file is a file; give a directory$"):
            refuse_nonempty(tmp_path / "file", overwrite)
    with pytest.raises(UserError, match="file is a file"):
        output_dir(tmp_path / "file", overwrite=True)
    full = tmp_path / "full"
    full.mkdir()
    (full / "a.txt").write_text("")
    with pytest.raises(UserError, match=r"not empty; pass --overwrite \(overwrite=True in Python\) "
                                        r"to write into it$"):
        refuse_nonempty(full, False)
    with pytest.raises(UserError, match="not empty; give a new or empty directory"):
        refuse_nonempty(full, None)
    refuse_nonempty(full, True)
    with pytest.raises(UserError, match="not empty"):
        refuse_nonempty(full, None, runs_allowed=True)
    (full / "config.yaml").write_text("")
    refuse_nonempty(full, None, runs_allowed=True)
    refuse_nonempty(tmp_path / "new", None)
    (tmp_path / "empty").mkdir()
    refuse_nonempty(tmp_path / "empty", False)


def test_swapping_over_a_link_leaves_no_link_moved_aside(tmp_path: Path):
    """The link moved aside was kept for good (rmtree refuses links), as ``.out.old-*``."""
    from latentplay.outputs import swap_into_place

    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "kept").write_text("x")
    (tmp_path / "out").symlink_to("real", target_is_directory=True)
    (tmp_path / "new").mkdir()
    swap_into_place(tmp_path / "new", tmp_path / "out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "real"]
    assert (tmp_path / "real" / "kept").is_file()


def test_dead_export_and_import_scratch_is_removed(tmp_path: Path):
    """A SIGKILLed ``latentplay export`` (``import``) left its hidden ``.OUT.export-*`` folder for
    good; one named with its writer's process id goes once that process is gone."""
    import os
    import subprocess
    import sys

    from latentplay.outputs import machine_tag, remove_dead_scratch, scratch_sibling

    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    dead, tag = proc.pid, machine_tag()
    stale = [tmp_path / f".out.export-{tag}-{dead}-0123abcd", tmp_path / f".out.import-{tag}-{dead}-0123abcd"]
    kept = [tmp_path / f".out.export-{tag}-{os.getppid()}-0123abcd",  # a running writer's
            tmp_path / f".out.export-{'0' * 8 if tag != '0' * 8 else 'f' * 8}-{dead}-0123abcd",
            tmp_path / ".out.export-0123abcd",  # no writer named: cannot be told
            tmp_path / f".other.import-{tag}-{dead}-0123abcd"]
    for folder in stale + kept:
        folder.mkdir()
        (folder / "encoder.onnx").write_bytes(b"half")
    assert sorted(remove_dead_scratch(tmp_path / "out")) == sorted(stale)
    assert all(folder.is_dir() for folder in kept) and not any(f.exists() for f in stale)
    mine = scratch_sibling(tmp_path / "out", "export")
    assert mine.name.startswith(f".out.export-{tag}-{os.getpid()}-")
    mine.mkdir()
    assert remove_dead_scratch(tmp_path / "out") == [] and mine.is_dir()


def test_progress_off_a_terminal_writes_a_plain_line_now_and_then(monkeypatch, capsys) -> None:
    """A batch job's log (standard error not a terminal) got nothing while a long step ran: it
    now gets a line per advancing task every LOG_EVERY seconds, and no bar."""
    from latentplay import outputs

    monkeypatch.setattr(outputs, "bar_drawn", lambda: False)
    monkeypatch.setattr(outputs, "LOG_EVERY", 0.0)
    with outputs.progress_bar() as bar:
        task = bar.add_task("decoding images", total=4000)
        bar.advance(task, 1000)
        bar.update(task, completed=3000)
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith("decoding images: 1,000 of 4,000 (25%), ")
    assert lines[1].startswith("decoding images: 3,000 of 4,000 (75%), ") and len(lines) == 2
    monkeypatch.setattr(outputs, "LOG_EVERY", 3600.0)       # not yet: nothing
    with outputs.progress_bar() as bar:
        bar.advance(bar.add_task("t", total=2), 1)
    with outputs.progress_bar(show=False) as bar:            # asked for none: none
        bar.advance(bar.add_task("t", total=2), 1)
    assert capsys.readouterr().err == ""


def test_staged_outputs_move_in_whole_or_not_at_all(tmp_path: Path) -> None:
    """Files and folders written in the stage replace those of their names in ``out`` once
    the block ends; an error leaves ``out`` as it was, and no stage behind."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "kept.txt").write_text("mine")
    (out / "a.json").write_text("old")
    with pytest.raises(KeyboardInterrupt), staged_outputs(out) as stage:
        (stage / "a.json").write_text("new")
        raise KeyboardInterrupt
    assert (out / "a.json").read_text() == "old"
    with staged_outputs(out) as stage:
        (stage / "a.json").write_text("new")
        (stage / "faces").mkdir()
        (stage / "faces" / "1.png").write_bytes(b"png")
    assert (out / "a.json").read_text() == "new" and (out / "kept.txt").read_text() == "mine"
    assert (out / "faces" / "1.png").read_bytes() == b"png"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_file_written_whole_or_not_at_all(tmp_path: Path) -> None:
    """A write stopped part-way (a figure, an array, a JSON file) left its file cut short, read
    later as whole; now the previous file stays as it was, with no temporary file beside it."""
    import matplotlib.pyplot as plt
    import numpy as np

    from latentplay.outputs import replaced_whole, save_array, write_atomic
    from latentplay.viz.grid import save_figure

    target = write_atomic(tmp_path / "sub" / "a.json", '{"a": 1}')
    with pytest.raises(KeyboardInterrupt), replaced_whole(target) as tmp:
        tmp.write_text('{"a": ')
        raise KeyboardInterrupt
    assert target.read_text() == '{"a": 1}'
    save_array(tmp_path / "x.npy", np.arange(3))
    assert np.load(tmp_path / "x.npy").tolist() == [0, 1, 2]
    fig = plt.figure()
    save_figure(fig, tmp_path / "f.png")
    assert (tmp_path / "f.png").read_bytes()[:4] == b"\x89PNG"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.png", "sub", "x.npy"]
    assert sorted(p.name for p in (tmp_path / "sub").iterdir()) == ["a.json"]


def test_a_killed_writers_temporary_file_goes_with_the_next_write(tmp_path: Path) -> None:
    """A SIGKILLed ``report`` left its hidden ``.report.html.tmp-*`` file for good; the next
    write of that file removes it (a running writer's is kept)."""
    import os
    import subprocess
    import sys

    from latentplay.outputs import machine_tag, write_atomic

    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    stale = tmp_path / f".report.html.tmp-{machine_tag()}-{proc.pid}-0123abcd"
    running = tmp_path / f".report.html.tmp-{machine_tag()}-{os.getppid()}-0123abcd"
    for path in (stale, running):
        path.write_text("<html>half")
    write_atomic(tmp_path / "report.html", "<html></html>")
    assert sorted(p.name for p in tmp_path.iterdir()) == [running.name, "report.html"]


def test_staged_outputs_remove_what_only_an_earlier_run_wrote(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    """Files of the command's own (``owned``) that this run does not write are removed as its
    files move in, and named; anything else in ``out`` is kept."""
    out = tmp_path / "out"
    out.mkdir()
    for name in ("a.json", "parity.csv", "calibration.csv", "notes.txt"):
        (out / name).write_text("old")
    with staged_outputs(out, owned=("parity.csv", "calibration.csv", "confusion.csv")) as stage:
        (stage / "a.json").write_text("new")
        (stage / "calibration.csv").write_text("new")
    assert {p.name: p.read_text() for p in out.iterdir()} == {"a.json": "new", "calibration.csv": "new",
                                                             "notes.txt": "old"}
    assert "parity.csv" in capsys.readouterr().err


def test_a_figure_stopped_while_saved_leaves_the_previous_one(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """save_figure wrote straight to its path: a stop part-way left a PNG cut short there."""
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    from latentplay.viz.grid import save_figure

    save_figure(plt.figure(), tmp_path / "f.png")
    before = (tmp_path / "f.png").read_bytes()

    def cut_short(self: Figure, path: Path, **kwargs: object) -> None:
        Path(path).write_bytes(before[:10])
        raise KeyboardInterrupt

    monkeypatch.setattr(Figure, "savefig", cut_short)
    with pytest.raises(KeyboardInterrupt):
        save_figure(plt.figure(), tmp_path / "f.png")
    assert (tmp_path / "f.png").read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["f.png"]


def test_warnings_notes_and_cautions_go_to_standard_error(capsys: pytest.CaptureFixture[str]) -> None:
    """Standard output keeps a command's results (a pipe, a file); a ``warning:``, ``note:`` or
    ``caution:`` line, indented or not, goes to standard error."""
    from latentplay.outputs import say, warn

    warn("note: a")
    for line in ("3 rows", "  caution: b", "warning: c", "notes: 4"):
        say(line)
    printed = capsys.readouterr()
    assert printed.out.splitlines() == ["3 rows", "notes: 4"]
    assert printed.err.splitlines() == ["note: a", "  caution: b", "warning: c"]


def test_no_command_prints_a_warning_on_standard_output() -> None:
    """No ``print``/``typer.echo``/``console.print`` in the sources is given a line that begins
    with ``warning:``, ``note:`` or ``caution:`` (they go through ``outputs.warn``)."""
    import re

    import latentplay

    begins = re.compile(r"\s*(warning|note|caution):")
    found = []
    for path in Path(latentplay.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Call) and node.args
                    and ast.unparse(node.func).split(".")[-1] in ("print", "echo")):
                continue
            first = node.args[0]
            if isinstance(first, ast.JoinedStr) and first.values:
                first = first.values[0]
            if isinstance(first, ast.Constant) and begins.match(str(first.value)):
                found.append(f"{path.name}:{node.lineno}")
    assert not found


def _text_without_encoding(call: ast.Call) -> bool:
    """Whether ``call`` opens, reads or writes a file as text (``open`` in a mode without
    ``b``, ``Path.open`` with a text mode or ``newline``, ``read_text``, ``write_text``) and
    gives no ``encoding``."""
    name = ast.unparse(call.func)
    method = name.split(".")[-1]
    keywords = {k.arg for k in call.keywords}
    if "encoding" in keywords or method not in ("open", "read_text", "write_text"):
        return False
    if method != "open":
        return True
    at = 1 if name == "open" else 0     # open(file, mode) or path.open(mode)
    mode = next((k.value for k in call.keywords if k.arg == "mode"),
                call.args[at] if len(call.args) > at else None)
    if mode is None:
        return name == "open" or "newline" in keywords
    return isinstance(mode, ast.Constant) and isinstance(mode.value, str) and "b" not in mode.value


def test_every_text_file_is_read_and_written_as_utf8() -> None:
    """Every text file the sources open gives ``encoding``: the default is the locale's
    (cp1252 on Windows, ASCII under a C locale), in which a class named Müller or 日本 is
    written as other bytes or ends the command with a UnicodeEncodeError."""
    import latentplay

    found = [f"{path.name}:{node.lineno}" for path in Path(latentplay.__file__).parent.rglob("*.py")
             for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
             if isinstance(node, ast.Call) and _text_without_encoding(node)]
    assert not found


def test_a_directory_that_another_writer_swapped_in_meanwhile_is_replaced_in_turn(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two commands writing one output folder at once (two exports of a run to one --out):
    the other's whole swap landed between this one's two renames, and this one stopped on
    'Directory not empty', its previous copy kept for good as ``.out.old-*``; now the later
    to finish replaces it, as with files, and no copy is left beside it."""
    from latentplay import outputs

    for name, text in (("out", "old"), ("mine", "mine"), ("other", "other")):
        (tmp_path / name).mkdir()
        (tmp_path / name / "f").write_text(text)
    replace = os.replace

    def other_swaps_between(src: object, dst: object) -> None:
        replace(src, dst)
        if Path(src) == tmp_path / "out" and (tmp_path / "other").exists():
            outputs.swap_into_place(tmp_path / "other", tmp_path / "out")

    monkeypatch.setattr(outputs.os, "replace", other_swaps_between)
    outputs.swap_into_place(tmp_path / "mine", tmp_path / "out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    assert (tmp_path / "out" / "f").read_text() == "mine"


def test_a_commands_figures_and_store_name_the_command_and_version(tmp_path: Path, cli: Any,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A figure copied away from its run named only matplotlib; a store's provenance and history,
    a figure's JSON and a report only the version and the time: now each names the command that
    made it, the folder it ran in and the latentplay version (nothing from Python names a
    command)."""
    from PIL import Image

    from latentplay import __version__
    from latentplay import store as st
    from latentplay.outputs import made_by

    monkeypatch.chdir(tmp_path)
    assert cli("data", "make", "synthfaces", "--out", "faces", "--n", "12").code == 0
    assert cli("data", "bin", "faces", "smile", "--edges", "0.5").code == 0
    assert cli("data", "grid", "faces", "--by", "gender", "--out", "g.png").code == 0
    assert cli("data", "bias", "faces", "--by", "gender", "--of", "age_group", "--out", "b.png").code == 0
    assert cli("report", "faces", "--out", "r.html").code == 0
    schema = st.load(tmp_path / "faces").schema
    folder = str(tmp_path)
    made = {"latentplay": __version__, "folder": folder}
    assert json.loads((tmp_path / "b.json").read_text())["made_by"] == {
        **made, "command": "latentplay data bias faces --by gender --of age_group --out b.png"}
    page = (tmp_path / "r.html").read_text()
    assert f"with <code>latentplay report faces --out r.html</code> in {folder}. This file" in page
    assert f"<dd>latentplay data make synthfaces --out faces --n 12 (in {folder})</dd>" in page
    assert schema.provenance.made_by == {**made,
                                         "command": "latentplay data make synthfaces --out faces --n 12"}
    assert schema.history[-1]["made_by"]["command"] == "latentplay data bin faces smile --edges 0.5"
    assert Image.open(tmp_path / "g.png").text == {
        "Software": f"latentplay {__version__}",
        "Source": f"latentplay {__version__}: latentplay data grid faces --by gender --out g.png "
                  f"(in {folder})"}
    assert made_by() == {"latentplay": __version__}


def test_a_command_run_in_a_folder_removed_meanwhile_still_writes_its_outputs(
        tmp_path: Path, cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The record of what made an output asked the system for the folder the command ran in:
    removed meanwhile, a command ended in FileNotFoundError after all its work; its outputs
    now name the command without a folder."""
    from PIL import Image

    faces = tmp_path / "faces"
    assert cli("data", "make", "synthfaces", "--out", faces, "--n", "12").code == 0
    gone = tmp_path / "gone"
    gone.mkdir()
    monkeypatch.chdir(gone)
    gone.rmdir()
    out = tmp_path / "b.png"
    r = cli("data", "bias", faces, "--by", "gender", "--of", "age_group", "--out", out)
    assert r.code == 0, r.err
    made = json.loads((tmp_path / "b.json").read_text())["made_by"]
    assert made["command"].startswith("latentplay data bias ") and "folder" not in made
    assert Image.open(out).text["Source"].endswith(f"--out {out}")
    assert cli("report", faces, "--out", tmp_path / "r.html").code == 0
    page = (tmp_path / "r.html").read_text()
    assert f"--out {tmp_path / 'r.html'}</code>. This file" in page


def test_a_gif_pdf_and_svg_name_the_version(tmp_path: Path) -> None:
    """An animation's GIF comment, a PDF's Creator and an SVG's creator name the latentplay
    version that drew them (matplotlib's own name was all a PDF or SVG held)."""
    import matplotlib.pyplot as plt
    import numpy as np
    from PIL import Image

    from latentplay import __version__
    from latentplay.viz.grid import save_figure, write_gif

    write_gif(np.zeros((2, 4, 4, 3), np.uint8), tmp_path / "a.gif")
    with Image.open(tmp_path / "a.gif") as gif:
        assert gif.info["comment"] == f"latentplay {__version__}".encode()
    save_figure(plt.figure(), tmp_path / "f.pdf")
    assert f"/Creator (latentplay {__version__})".encode() in (tmp_path / "f.pdf").read_bytes()
    save_figure(plt.figure(), tmp_path / "f.svg")
    assert f"<dc:title>latentplay {__version__}</dc:title>" in (tmp_path / "f.svg").read_text()
