"""folder: any image folder + CSV mapped with --columns (categorical and continuous)."""

from __future__ import annotations

from pathlib import Path

import pytest
from convert_helpers import (
    check_rejected,
    expected,
    face,
    rows,
    write_csv,
    write_image,
    write_not_image,
    write_truncated,
)

from latentplay.errors import UserError
from latentplay.sources import folder
from latentplay.sources.convert import parse_columns
from latentplay.store import info


def make_folder(root: Path) -> tuple[dict, list[str], dict]:
    good, order, lines = {}, [], []
    for i in range(10):
        rel = f"imgs/{'ab'[i % 2]}/{i}.png"
        write_image(root / rel, face(i))
        sex, smile = ["f", "m"][i % 2], round(-1 + i * 0.2, 3)
        lines.append([rel, sex, smile, i % 3])
        good[rel] = {"gender": sex, "smile": smile, "group": str(i % 3)}
        order.append(rel)
    bad = [["imgs/nope.png", "f", 0.5, 1], ["imgs/a/0.png", "", 0.1, 1],
           ["imgs/a/2.png", "m", "big", 1], ["", "m", 0.1, 1], ["imgs/b/3.png", "m", "inf", 1]]
    dirty = {"labels.csv:12 (imgs/nope.png)": "missing file", "labels.csv:13 (imgs/a/0.png)": "no gender",
             "labels.csv:14 (imgs/a/2.png)": "not a number", "labels.csv:15": "no image path",
             "labels.csv:16 (imgs/b/3.png)": "smile 'inf' is not a number"}
    write_csv(root / "labels.csv", ["path", "sex", "smiling", "grp"], lines + bad)
    return good, order, dirty


COLUMNS = "file=path,gender=sex,smile=smiling:continuous,group=grp"


def test_every_label_and_every_rejection(tmp_path: Path) -> None:
    good, order, dirty = make_folder(tmp_path / "src")
    store = folder.convert(tmp_path / "src", tmp_path / "out",
                           columns=parse_columns(COLUMNS), workers=2)
    got = rows(store)
    want = expected(good, order)
    assert [n for n, _ in got] == [n for n, _ in want]
    for (_, g), (_, w) in zip(got, want, strict=True):
        assert g["gender"] == w["gender"] and g["group"] == w["group"]
        assert g["smile"] == pytest.approx(w["smile"], abs=1e-6)
    check_rejected(store, dirty)
    smile = store.schema.attribute("smile")
    assert smile.kind == "continuous" and smile.range == (-1.0, 0.8)
    assert store.schema.attribute("gender").names == ["f", "m"]
    assert info(store)["crosstab"]["rows"] == "gender"
    # the provenance records what shapes the store, not how it was written (workers, overwrite)
    recorded = store.schema.provenance.arguments
    assert recorded["format"] == "folder" and recorded["columns"] == parse_columns(COLUMNS)
    assert "workers" not in recorded and "overwrite" not in recorded


def test_mapping_errors(tmp_path: Path) -> None:
    make_folder(tmp_path / "src")
    with pytest.raises(UserError, match="must name the image column"):
        folder.convert(tmp_path / "src", tmp_path / "o", columns={"gender": "sex"})
    with pytest.raises(UserError, match="kind 'int'"):
        folder.convert(tmp_path / "src", tmp_path / "o",
                       columns=parse_columns("file=path,gender=sex:int"))
    with pytest.raises(UserError, match="lacks column"):
        folder.convert(tmp_path / "src", tmp_path / "o",
                       columns=parse_columns("file=path,gender=gender"))
    with pytest.raises(UserError, match="not attribute=column"):
        parse_columns("file")
    # saved by a spreadsheet set to semicolons (or tabs): the one column is named, and why
    for sep, name in ((";", "semicolons"), ("\t", "tabs")):
        write_csv(tmp_path / "semi/labels.csv", [f"path{sep}sex"], [[f"imgs/0.png{sep}f"]])
        with pytest.raises(UserError, match=rf"lacks column\(s\) 'path', 'sex'; its columns: "
                                            rf"path{sep}sex; its fields are separated by {name}: "
                                            r"save it with commas between them$"):
            folder.convert(tmp_path / "semi", tmp_path / "o", columns=parse_columns("file=path,gender=sex"))
    # an attribute no other command could name (data bin --name refuses it)
    with pytest.raises(UserError, match="attribute name 'my attr': use letters, digits and '_'"):
        folder.convert(tmp_path / "src", tmp_path / "o", columns=parse_columns("file=path,my attr=sex"))
    # a column named twice: each row kept its last copy, silently
    (tmp_path / "dup").mkdir()
    (tmp_path / "dup" / "labels.csv").write_text("path,sex,sex\npics/0.png,F,M\n")
    with pytest.raises(UserError, match="the header names column 'sex' twice"):
        folder.convert(tmp_path / "dup" / "labels.csv", tmp_path / "o",
                       columns=parse_columns("file=path,gender=sex"))
    (tmp_path / "src" / "second.csv").write_text("a\n")
    with pytest.raises(UserError, match="expected one label CSV"):
        folder.convert(tmp_path / "src", tmp_path / "o", columns={"file": "path"})


def test_cli_columns(tmp_path: Path, cli) -> None:
    make_folder(tmp_path / "src")
    res = cli("data", "convert", "folder", tmp_path / "src" / "labels.csv", "--out",
              tmp_path / "out", "--columns", COLUMNS, "--resize", "32", "--workers", "1")
    assert res.code == 0, res.err
    assert "converted 10, rejected 5" in res.out
    # a side of 100,000 ran the workers out of memory (a traceback); 0 was refused already
    for size in ("100000", "0"):
        res = cli("data", "convert", "folder", tmp_path / "src" / "labels.csv", "--out",
                  tmp_path / "big", "--columns", COLUMNS, "--resize", size)
        assert res.code == 2
        assert res.err.strip() == f"error: --resize must be a size from 1 to 4096, got {size}"


def test_class_order_of_interval_groups_and_numbers(tmp_path: Path) -> None:
    """Age bins from a CSV come in the order of their bounds and are marked ordered; numeric
    classes sort by value; other names as text, with their digits as numbers."""
    ages = ["10-19", "3-9", "more than 70", "20-29", "0-2"]
    lines = []
    for i in range(10):
        rel = f"{i}.png"
        write_image(tmp_path / "src" / rel, face(i))
        lines.append([rel, ages[i % 5], [2, 10, 1][i % 3], "xyz"[i % 3], f"monk_{[10, 2, 1, 9, 3][i % 5]}"])
    write_csv(tmp_path / "src" / "labels.csv", ["path", "age", "level", "site", "tone"], lines)
    store = folder.convert(tmp_path / "src", tmp_path / "out",
                           columns=parse_columns("file=path,age=age,level=level,site=site,tone=tone"))
    age, level, site, tone = (store.schema.attribute(n) for n in ("age", "level", "site", "tone"))
    assert age.names == ["0-2", "3-9", "10-19", "20-29", "more than 70"] and age.ordered
    assert level.names == ["1", "2", "10"] and not level.ordered
    assert site.names == ["x", "y", "z"] and not site.ordered
    # the Monk scale's classes came as monk_1, monk_10, monk_2, ... (text order)
    assert tone.names == ["monk_1", "monk_2", "monk_3", "monk_9", "monk_10"] and not tone.ordered
    assert [age.names[c] for c in store.labels("age")] == [ages[i % 5] for i in range(10)]


def test_parenthesised_age_bins_are_ordered_intervals(tmp_path: Path) -> None:
    """Adience writes its age groups ``(0, 2)``, ``(4, 6)``, ...: ordered by their bounds."""
    ages = ["(38, 43)", "(4, 6)", "(0, 2)", "(15, 20)", "(60, 100)"]
    lines = []
    for i in range(10):
        write_image(tmp_path / "src" / f"{i}.png", face(i))
        lines.append([f"{i}.png", ages[i % 5]])
    write_csv(tmp_path / "src" / "labels.csv", ["path", "age"], lines)
    store = folder.convert(tmp_path / "src", tmp_path / "out", columns=parse_columns(
        "file=path,age=age"), workers=1)
    age = store.schema.attribute("age")
    assert age.names == ["(0, 2)", "(4, 6)", "(15, 20)", "(38, 43)", "(60, 100)"] and age.ordered
    assert [age.names[c] for c in store.labels("age")] == [ages[i % 5] for i in range(10)]


def test_classes_and_ranges_are_those_of_the_rows_converted(tmp_path: Path) -> None:
    """A row rejected for a missing image, a repeat of an image and an unreadable image add no
    class and widen no range; neither do rows beyond --limit."""
    src = tmp_path / "src"
    lines = []
    for i in range(4):
        write_image(src / f"imgs/{i}.png", face(i))
        lines.append([f"imgs/{i}.png", "fm"[i % 2], 20 + i])
    write_truncated(src / "imgs/broken.jpg", face(0))
    lines += [["imgs/none.png", "X", 999], ["imgs/0.png", "Y", 500], ["imgs/broken.jpg", "f", 777]]
    write_csv(src / "labels.csv", ["path", "sex", "age"], lines)
    columns = parse_columns("file=path,gender=sex,age=age:continuous")
    store = folder.convert(src, tmp_path / "out", columns=columns, workers=1)
    check_rejected(store, {"labels.csv:6 (imgs/none.png)": "missing file",
                           "labels.csv:7 (imgs/0.png)": "duplicate",
                           "labels.csv:8 (imgs/broken.jpg)": "truncated"})
    assert store.schema.attribute("gender").names == ["f", "m"]
    assert store.schema.attribute("age").range == (20.0, 23.0)
    store = folder.convert(src, tmp_path / "o2", columns=columns, workers=1, limit=3)
    assert store.schema.attribute("age").range == (20.0, 22.0)
    store = folder.convert(src, tmp_path / "o3", columns=columns, workers=1, limit=1)
    assert store.schema.attribute("gender").names == ["f"]


def test_windows_paths_are_found_and_a_missing_file_says_where_it_was_looked_for(
        tmp_path: Path, cli) -> None:
    src = tmp_path / "src"
    for i in range(2):
        write_image(src / f"imgs/{i}.png", face(i))
    write_csv(src / "labels.csv", ["path", "sex"],
              [["imgs\\0.png", "f"], ["D:\\photos\\imgs\\1.png", "m"]])
    store = folder.convert(src, tmp_path / "out", columns=parse_columns("file=path,gender=sex"),
                           workers=1)
    assert [(n, g["gender"]) for n, g in rows(store)] == [("imgs\\0.png", "f"),
                                                          ("D:\\photos\\imgs\\1.png", "m")]
    write_csv(src / "labels.csv", ["path", "sex"], [["pics\\9.png", "f"]])
    res = cli("data", "convert", "folder", src, "--out", tmp_path / "o2",
              "--columns", "file=path,gender=sex")
    assert res.code == 2 and len(res.err.strip().splitlines()) == 1
    assert f"looked for at {src / 'pics' / '9.png'}" in res.err


def test_a_label_file_kept_apart_from_its_images_says_where_they_are(tmp_path: Path, cli) -> None:
    """A CSV in a folder of its own (meta/labels.csv) naming imgs/0.png, which lies in a folder
    beside it or above it: the error named only where the image was looked for; it says where
    the image is and where the CSV belongs, and moved there, the CSV converts."""
    src = tmp_path.resolve()
    write_image(src / "photos/imgs/0.png", face(0))
    for csv_dir, belongs in [(src / "meta", src / "photos"), (src / "photos/meta", src / "photos")]:
        write_csv(csv_dir / "labels.csv", ["path", "sex"], [["imgs/0.png", "f"]])
        res = cli("data", "convert", "folder", csv_dir / "labels.csv", "--out", tmp_path / "out",
                  "--columns", "file=path,gender=sex")
        assert res.code == 2 and len(res.err.strip().splitlines()) == 1
        assert (f"looked for at {csv_dir}/imgs/0.png and is at {belongs}/imgs/0.png: its paths "
                f"are read from the folder of labels.csv; move labels.csv into {belongs};") in res.err
        (csv_dir / "labels.csv").unlink()
    write_csv(src / "photos/labels.csv", ["path", "sex"], [["imgs/0.png", "f"]])
    res = cli("data", "convert", "folder", src / "photos/labels.csv", "--out", tmp_path / "out",
              "--columns", "file=path,gender=sex")
    assert res.code == 0 and "converted 1, rejected 0" in res.out + res.err
    # none rejected: no pointer to the list, which holds its header alone
    assert "rejected.csv" not in res.out + res.err
    assert (tmp_path / "out" / "rejected.csv").read_text().strip() == "path,reason"


def test_a_repeated_columns_key_is_named(tmp_path: Path, cli) -> None:
    with pytest.raises(UserError, match=r"--columns maps file twice \(file=path and file=sex\)"):
        parse_columns("file=path,file=sex")
    make_folder(tmp_path / "src")
    res = cli("data", "convert", "folder", tmp_path / "src", "--out", tmp_path / "out",
              "--columns", "file=path,file=sex")
    assert res.code == 2 and "--columns maps file twice" in res.err
    res = cli("data", "convert", "folder", tmp_path / "src", "--out", tmp_path / "out",
              "--columns", COLUMNS, "--workers", "0")
    assert res.code == 2 and res.err == "error: --workers must be at least 1, got 0\n"


def test_a_label_file_cannot_pull_in_images_from_outside_its_folder(tmp_path: Path) -> None:
    """A downloaded CSV naming ``../outside/a.png`` or an absolute ``/home/.../b.png`` pulled
    those images into the store; they are looked for under the folder only (an absolute path
    by its last parts, as the README says): here each finds the folder's own file of that
    name, never the one outside it."""
    import numpy as np
    from PIL import Image

    from latentplay.embed.column import load_rows

    src, outside = tmp_path / "src", tmp_path / "outside"
    for k, name in enumerate("abc"):
        write_image(outside / f"{name}.png", face(k))
        write_image(src / f"{name}.png", face(k + 3))
    names = ["../outside/a.png", str(outside / "b.png"), "x/../../outside/c.png"]
    write_csv(src / "labels.csv", ["path", "sex"], [[n, "m"] for n in names])
    store = folder.convert(src, tmp_path / "out", columns=parse_columns("file=path,gender=sex"),
                           workers=1)
    assert store.dataset["file"] == names
    for image, name in zip(load_rows(store, np.arange(3)), "abc", strict=True):
        inside, private = (np.asarray(Image.open(folder_ / f"{name}.png").convert("RGB"))
                           for folder_ in (src, outside))
        np.testing.assert_array_equal(image, inside)
        assert not np.array_equal(image, private)


def test_a_continuous_range_is_the_lowest_to_the_highest_value_converted(tmp_path: Path) -> None:
    lines = []
    for i, smile in enumerate([0.5, -0.3, 0.9, 0.1]):
        write_image(tmp_path / "src" / f"{i}.png", face(i))
        lines.append([f"{i}.png", smile])
    write_csv(tmp_path / "src" / "labels.csv", ["path", "smiling"], lines)
    store = folder.convert(tmp_path / "src", tmp_path / "out",
                           columns=parse_columns("file=path,smile=smiling:continuous"), workers=1)
    assert store.schema.attribute("smile").range == pytest.approx((-0.3, 0.9))


def test_nothing_converted_names_the_three_commonest_reasons(tmp_path: Path) -> None:
    src = tmp_path / "src"
    write_truncated(src / "cut.png", face(0))
    write_not_image(src / "text.png")
    write_csv(src / "labels.csv", ["path", "sex"],
              [["nope1.png", "f"], ["nope2.png", "f"], ["text.png", "m"], ["cut.png", "f"],
               ["", "m"]])
    with pytest.raises(UserError) as caught:
        folder.convert(src, tmp_path / "out", columns=parse_columns("file=path,gender=sex"), workers=1)
    message = str(caught.value)
    assert message.startswith("nothing converted: all 5 inputs were rejected: missing file (2, e.g. ")
    assert message.count(", e.g. ") == 3 and "; 1 other reason;" in message
