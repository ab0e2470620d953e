"""Detecting directory kinds, atomic writes, bad input and the command."""

from __future__ import annotations

import shutil
import webbrowser
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from latentplay import outputs
from latentplay.errors import UserError
from latentplay.report import build_report, detect, render
from latentplay.report.cli import report_command


def test_detect_each_kind(faces: Path, vae_run: Path, match_run: Path, audit_run: Path) -> None:
    assert [detect(p) for p in (faces, vae_run, match_run, audit_run)] == [
        "store", "train", "match", "audit"]


def test_detect_takes_a_string_as_the_docs_show(faces: Path, tmp_path: Path) -> None:
    """docs/report.md calls ``detect("runs/cvae")``: a str path is told apart like a Path,
    and a missing one is a UserError, not an AttributeError."""
    assert detect(str(faces)) == "store"
    with pytest.raises(UserError, match="does not exist"):
        detect(str(tmp_path / "nope"))


def test_unknown_and_missing_paths(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(UserError, match="is not a training run .* nothing to report"):
        build_report(tmp_path)
    with pytest.raises(UserError, match="does not exist"):
        build_report(tmp_path / "nope")
    with pytest.raises(UserError, match="is not a directory"):
        build_report(tmp_path / "notes.txt")


def test_bad_out(vae_run: Path, tmp_path: Path) -> None:
    assert build_report(vae_run, tmp_path / "new" / "dir" / "r.html").is_file()  # made
    (tmp_path / "a_file").write_text("")
    with pytest.raises(UserError, match="a file is in the way"):
        build_report(vae_run, tmp_path / "a_file" / "r.html")
    with pytest.raises(UserError, match="is a directory"):
        build_report(vae_run, tmp_path)


def test_corrupt_summary_is_a_user_error(match_run: Path, tmp_path: Path) -> None:
    copy = Path(shutil.copytree(match_run, tmp_path / "m"))
    (copy / "summary.json").write_text('{"treatment": ')
    with pytest.raises(UserError, match="summary.json is not valid JSON"):
        build_report(copy)
    assert not (copy / "report.html").exists()


def test_balance_table_without_its_columns_is_a_user_error(match_run: Path,
                                                          tmp_path: Path) -> None:
    copy = Path(shutil.copytree(match_run, tmp_path / "m"))
    (copy / "balance.csv").write_text("a,b\n1,2\n")
    with pytest.raises(UserError, match=r"balance\.csv lacks the column.*'covariate'"):
        build_report(copy)
    (copy / "balance.csv").write_text((match_run / "balance.csv").read_text())
    (copy / "summary.json").write_text('{"treatment": "smile"}')
    with pytest.raises(UserError, match="summary.json or .* lacks or mangles"):
        build_report(copy)
    assert not (copy / "report.html").exists()


def test_failed_render_leaves_previous_report(match_run: Path, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    out = build_report(match_run, tmp_path / "r.html")
    before = out.read_bytes()

    def broken(page: object) -> str:
        raise RuntimeError("renderer failed")

    monkeypatch.setattr(render, "render", broken)
    with pytest.raises(RuntimeError, match="renderer failed"):
        build_report(match_run, out)
    assert out.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["r.html"]  # no temporary file left


def test_failed_write_leaves_previous_report(match_run: Path, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    out = build_report(match_run, tmp_path / "r.html")
    before = out.read_bytes()

    def replace_fails(src: object, dst: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(outputs.os, "replace", replace_fails)
    with pytest.raises(OSError, match="disk full"):
        build_report(match_run, out)
    assert out.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["r.html"]


def test_command(match_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[str] = []
    monkeypatch.setattr(webbrowser, "open", opened.append)
    app = typer.Typer()
    app.command("report")(report_command)
    app.command("other")(lambda: None)  # two commands, so `report` is a sub-command as in latentplay
    runner = CliRunner()
    out = tmp_path / "cli.html"
    result = runner.invoke(app, ["report", str(match_run), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert f"wrote {out}" in result.output and out.read_text(encoding="utf-8").startswith(
        "<!DOCTYPE html>")
    assert opened == []
    assert runner.invoke(app, ["report", str(match_run), "-o", str(out), "--open"]).exit_code == 0
    assert opened == [out.as_uri()]
    result = runner.invoke(app, ["report", str(tmp_path)])
    assert isinstance(result.exception, UserError)
    usage = " ".join(runner.invoke(app, ["report", "--help"], env={"COLUMNS": "200"}).output.split())
    assert all(k in usage for k in ("probe run", "imported generator", "concept model",
                                    "leakage test"))  # every kind detect() knows


def test_long_gifs_are_thinned_short_ones_kept(tmp_path: Path) -> None:
    import base64

    import imageio.v3 as iio
    import numpy as np

    from latentplay.report.images import MAX_GIF_FRAMES, file_figure

    frames = np.zeros((60, 16, 16, 3), np.uint8)
    frames[np.arange(60), :, :, 0] = np.arange(60)[:, None, None] * 4  # each frame its own red
    long, short = tmp_path / "long.gif", tmp_path / "short.gif"
    iio.imwrite(long, frames, extension=".gif", duration=300, loop=0)
    iio.imwrite(short, frames[:10], extension=".gif", duration=300, loop=0)
    fig = file_figure(long, "Reconstructions.")
    data = base64.b64decode(fig.uri.split(",", 1)[1])
    kept = iio.imread(data, index=None, extension=".gif")
    assert len(kept) == MAX_GIF_FRAMES and f"{MAX_GIF_FRAMES} of its 60 frames" in fig.caption
    reds = kept[:, 0, 0, 0].astype(int)
    assert reds[0] == 0 and reds[-1] == 59 * 4 and np.all(np.diff(reds) > 0)
    assert iio.immeta(data, extension=".gif")["duration"] == 300
    fig = file_figure(short, "Samples.")
    assert base64.b64decode(fig.uri.split(",", 1)[1]) == short.read_bytes()
    assert fig.caption == "Samples."


def test_unreadable_image_is_a_user_error(vae_run: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(vae_run, run)
    (run / "samples.png").write_bytes(b"not an image")
    with pytest.raises(UserError, match=r"samples\.png is not a readable image"):
        build_report(run)


def test_an_image_linked_from_elsewhere_is_not_embedded(vae_run: Path, tmp_path: Path) -> None:
    """A shared run whose samples.png is a link to a picture outside it: the report embedded
    that picture, which the user never named."""
    run = tmp_path / "run"
    shutil.copytree(vae_run, run)
    private = tmp_path / "private.png"
    shutil.copy(run / "samples.png", private)
    (run / "samples.png").unlink()
    (run / "samples.png").symlink_to(private)
    with pytest.raises(UserError, match=r"samples\.png leads outside .*run \(to .*private\.png\)"):
        build_report(run, tmp_path / "report.html")
    assert not (tmp_path / "report.html").exists()


def test_an_image_in_a_folder_linked_from_elsewhere_is_not_embedded(vae_run: Path,
                                                                     tmp_path: Path) -> None:
    """A run whose recon folder is a link to a folder outside it: the report embedded the
    epoch_*.png found there; a link that stays inside the run is followed."""
    run = tmp_path / "run"
    shutil.copytree(vae_run, run)
    assert list((run / "recon").glob("epoch_*.png"))
    shutil.move(run / "recon", tmp_path / "elsewhere")
    (run / "recon").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(UserError, match=r"recon/epoch_\d+\.png leads outside .*run \(to .*elsewhere/"):
        build_report(run, tmp_path / "report.html")
    assert not (tmp_path / "report.html").exists()
    (run / "recon").unlink()
    shutil.move(tmp_path / "elsewhere", run / "kept")
    (run / "recon").symlink_to(run / "kept")
    assert "Reconstructions of fixed test images, epoch_" in build_report(run).read_text()


def test_unreadable_weights_of_an_imported_generator_are_a_user_error(tmp_path: Path) -> None:
    from latentplay.report.pretrained import w_variances

    with pytest.raises(UserError, match=r"model\.safetensors is not a readable safetensors file"):
        w_variances(tmp_path)  # missing
    (tmp_path / "model.safetensors").write_bytes(b"junk")
    with pytest.raises(UserError, match=r"model\.safetensors is not a readable safetensors file"):
        w_variances(tmp_path)  # damaged


def test_every_contents_link_leads_to_its_own_section() -> None:
    """Sections sharing an anchor (each edit of a counterfactual profile) get distinct ids, and
    an anchor with spaces (a joint attribute pair) becomes a valid id: every link of the table
    of contents names exactly one section."""
    import re

    from latentplay.report.page import Page, Section, Text

    sections = [Section("Profile", "profile", [Text("p")]),
                Section("Edit a", "counterfactual", [Text("a")]),
                Section("Edit b", "counterfactual", [Text("b")]),
                Section("gender x smile", "attr-gender x smile", [Text("g")])]
    html = render.render(Page("audit run", "t", "/x", sections))
    ids = re.findall(r'<section id="([^"]*)"', html)
    links = re.findall(r'<a href="#([^"]*)"', html)
    assert len(set(ids)) == len(sections) and links == ids
    assert not any(re.search(r"\s", i) for i in ids)


def test_tables_say_what_their_headers_head_and_images_name_what_they_show() -> None:
    """Every <th> lacked ``scope`` and every <img> read "figure, described below": headers are
    column headers, and an image's alt is its caption's first clause without parenthetical
    remarks (cut at a word within 100 characters), an animation's marked as one."""
    from html.parser import HTMLParser

    from latentplay.report.page import Figure, Page, Section, Table

    class Tags(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.th: list[str | None] = []
            self.alts: list[str | None] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag == "th":
                self.th.append(dict(attrs).get("scope"))
            elif tag == "img":
                self.alts.append(dict(attrs).get("alt"))

    long = "Images " + "of a very long caption " * 8 + "end."
    figures = [Figure("data:image/png;base64,AA==", "Distribution of gender (n: 160 rows). Bars."),
               Figure("data:image/gif;base64,AA==", "Reconstructions, one frame per epoch."),
               Figure("data:image/png;base64,AA==", "Love plot: |SMD| before and after."),
               Figure("data:image/png;base64,AA==", long)]
    table = Table.of(["class", "rows"], [["a", 1], ["b", 2]])
    tags = Tags()
    tags.feed(render.render(Page("store", "t", "/x", [Section("S", "s", [table, *figures])])))
    assert tags.th == ["col", "col"]
    cut = ("Images " + "of a very long caption " * 4).rstrip() + "…"  # 7 + 4 * 23 - 1 + 1 chars
    assert len(cut) == 99
    assert tags.alts == ["Distribution of gender", "Animation: Reconstructions", "Love plot", cut]


def test_a_highlighted_cell_is_marked_by_more_than_its_colour() -> None:
    """A flagged cell (an |SMD| above 0.1) was told only by its pink fill and red text: lost
    to a reader who cannot tell the colours apart, to a screen reader, and on paper, which
    drops backgrounds. It now ends in a mark, an asterisk, read out as "highlighted"; other
    cells have none."""
    import re

    from latentplay.report.page import Cell, Page, Section, Table

    table = Table(["covariate", "SMD"], [[Cell("age"), Cell("0.25", numeric=True, flag=True)],
                                         [Cell("smile"), Cell("0.05", numeric=True)]])
    html = render.render(Page("match run", "t", "/x", [Section("S", "s", [table])]))
    assert re.findall(r'<td class="([^"]*)">', html) == ["num flag", "num"]
    css = html[html.index("<style>"):html.index("</style>")]
    rule = re.search(r"td\.flag::after \{([^}]*)\}", css)
    assert rule is not None
    contents = re.findall(r'content: "([^"]*)"(?: / "([^"]*)")?;', rule.group(1))
    assert contents[0][0].endswith("*") and contents[-1] == (contents[0][0], " highlighted")


def test_a_report_prints_whole_and_long_names_wrap() -> None:
    """Wide tables and figures sat in frames that scroll sideways, cut off on paper, and a
    300-character class name pushed every number of its table off the screen: a print style
    lets them out of their frames, and a table's first column (the names) wraps anywhere."""
    import re

    from latentplay.report.page import Page, Section, Text

    css = render.render(Page("store", "t", "/x", [Section("S", "s", [Text("x")])]))
    css = css[css.index("<style>"):css.index("</style>")]
    rules = dict(re.findall(r"([^{}]+)\{([^{}]*)\}", css.split("@media print", 1)[1]))
    printed = {selector.strip(): body for selector, body in rules.items()}
    assert "overflow: visible" in printed[".table-wrap, figure.wide"]
    assert "position: static" in printed["th"]
    assert "max-width: 100%" in printed["figure.wide img"]
    assert re.search(r"td:first-child:not\(\.num\) \{[^}]*overflow-wrap: anywhere", css)
