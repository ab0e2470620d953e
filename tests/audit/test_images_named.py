"""`audit compare --images STORE`: the figures and the report call the images by their folder
("images of dark"), not "generated" (they may be real photos); and `audit fidelity --help`
says a conditional run is sampled under the conditions of rows of --data (not "training
rows": --data need not be the training set)."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import matplotlib.pyplot as plt
import pytest
from PIL import Image

from latentplay import sources
from latentplay.audit import load_annotator
from latentplay.audit import run as audit_run
from latentplay.audit.cli import fidelity_cmd
from latentplay.errors import UserError
from latentplay.report import auditing


def test_images_are_named_by_their_folder(cli, faces: Path, skin_annotator_file: Path,
                                          gender_annotator_file: Path, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    dark = tmp_path / "dark"
    sources.make("synthfaces", dark, n=40, seed=2, overrides=["identities=8"])
    texts: dict[str, list[str]] = {}

    def save(figure: plt.Figure, path: Path) -> None:
        texts[Path(path).name] = [" ".join(t.get_text().split()) for t in figure.findobj(plt.Text)]
        plt.close(figure)
        Image.new("RGB", (2, 2)).save(path)     # for the report to show

    monkeypatch.setattr(audit_run, "save_figure", save)
    out = tmp_path / "cmp"
    r = cli("audit", "compare", "--images", dark, "--data", faces, "--annotator",
            f"{skin_annotator_file},{gender_annotator_file}", "--joint", "gender,skin_tone", "--out", out)
    assert r.code == 0, r.err
    assert re.search(r"monk_\d+: faces [\d.]+ \(\d+\), dark [\d.]+ \(\d+\)", r.out), r.out
    assert "generated" not in r.out, r.out
    assert "images of dark, annotated (n=40, 8 persons)" in texts["distribution_skin_tone.png"]
    assert "images of dark by annotated skin_tone" in texts["samples_skin_tone.png"]
    # the title's accuracy stands beside naming the commonest held-out class every time
    ev = load_annotator(skin_annotator_file).evaluation
    rows = ev.counts.sum(axis=1)
    title = " ".join(texts["distribution_skin_tone.png"])
    assert (f"annotator's held-out accuracy {ev.accuracy:.3f} (naming the commonest class every time: "
            f"{rows.max() / rows.sum():.3f})") in title
    joint = texts["distribution_gender,skin_tone.png"]
    assert any(t.startswith("log2(dark / faces)") for t in joint)
    assert any(t.startswith("images of dark, ") for t in joint)
    shown = [t for name in texts for t in texts[name]]
    assert not [t for t in shown if re.search(r"\bgenerated\b(?! one)", t)
                and "a faithful generator" not in t], shown

    r = cli("audit", "compare", "--images", dark, "--data", faces, "--annotator", "labels",
            "--attribute", "smile", "--out", tmp_path / "values")
    assert r.code == 0, r.err
    assert "smile: faces mean" in r.out and ", dark " in r.out and "generated" not in r.out, r.out
    values = texts["distribution_smile.png"]
    assert any(t.startswith("smile: dark - reference = ") for t in values), values
    assert any(t.startswith("images of dark, labelled (n=40)") for t in values), values
    assert any("KS over the 8 persons of the images of dark (design effect" in t for t in values)

    page = auditing.page(out)
    captions = [getattr(b, "caption", "") for s in page.sections for b in s.blocks]
    assert "Images of dark by annotated class." in captions
    assert "Shares of each intersection, faces' and the images of dark, and their ratio." in captions
    facts = [f for s in page.sections for b in s.blocks for f in getattr(b, "items", [])]
    assert ("images of", str(dark)) in facts
    assert any(k == "faces / dark" for k, _ in facts), facts
    heads = [c for s in page.sections for b in s.blocks for c in getattr(b, "columns", [])]
    assert "dark n" in heads and "dark" in heads, heads
    words = heads + captions + [k for k, _ in facts]
    assert not [w for w in words if re.search(r"\bgenerated\b", str(w))], words
    values_page = auditing.page(tmp_path / "values")
    heads = [c for s in values_page.sections for b in s.blocks for c in getattr(b, "columns", [])]
    assert "dark mean" in heads and "dark" in heads and "generated" not in " ".join(heads), heads


def test_fidelity_help_names_the_rows_conditions_are_drawn_from() -> None:
    help_text = inspect.signature(fidelity_cmd).parameters["condition"].default.help
    assert "random rows of --data" in help_text and "training" not in help_text


def test_a_damaged_or_bomb_image_in_the_folder_is_one_clear_error(tmp_path: Path) -> None:
    """A file of the folder that is no image, or whose header claims 30000 x 30000 pixels (over
    Pillow's decompression-bomb limit, 2 x 89.5 million), ended in a Pillow traceback."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 30000, 30000, 8, 0, 0, 0, 0)  # 8-bit grey
    bomb = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b""))
            + chunk(b"IEND", b""))
    for name, data, says in (("damaged", b"not an image", "cannot identify image file"),
                             ("bomb", bomb, "exceeds limit")):
        folder = tmp_path / name
        folder.mkdir()
        Image.new("RGB", (4, 4)).save(folder / "a.png")
        (folder / "b.png").write_bytes(data)
        with pytest.raises(UserError, match=rf"^--images {re.escape(str(folder / 'b.png'))} is not a "
                                            rf"readable image \(.*{says}"):
            audit_run.read_images(folder)
