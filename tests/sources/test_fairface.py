"""FairFace: label CSVs + train/val folders; missing files, bad labels, splits."""

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

from latentplay import store as st
from latentplay.errors import UserError
from latentplay.sources import fairface

HEADER = ["file", "age", "gender", "race", "service_test"]


def make_fairface(root: Path) -> tuple[dict[str, dict], list[str], dict[str, str]]:
    good: dict[str, dict] = {}
    order: list[str] = []
    dirty: dict[str, str] = {}
    for split, n in (("train", 14), ("val", 7)):
        lines = []
        for i in range(n):
            file = f"{split}/{i + 1}.jpg"
            age, gender = fairface.AGES[i % 9], fairface.GENDERS[i % 2]
            race, service = fairface.RACES[i % 7], ["True", "False"][i % 2]
            write_image(root / file, face(i))
            lines.append([file, age, gender, race, service])
            good[file] = {"gender": gender, "race": race, "age": age,
                          "service_test": service, "split": split}
            order.append(file)
        bad = [
            [f"{split}/90.jpg", "20-29", "Male", "White", "False"],  # no such file
            [f"{split}/91.jpg", "70+", "Male", "White", "False"],  # age bin not published
            [f"{split}/92.jpg", "20-29", "male", "White", "False"],  # gender spelled otherwise
            [f"{split}/93.jpg", "20-29", "Female", "Hispanic", "False"],  # race not published
            [f"{split}/94.jpg", "20-29", "Female", "Indian", "False"],  # truncated
            [f"{split}/95.jpg", "20-29", "Female", "Indian", "False"],  # not an image
        ]
        for b in bad[1:4]:
            write_image(root / b[0], face(5))
        write_truncated(root / bad[4][0], face(6))
        write_not_image(root / bad[5][0])
        words = ("missing file", "age", "gender", "race", "truncated", "not an image")
        dirty.update({f"fairface_label_{split}.csv:{7 + j} ({b[0]})": word  # lines 2-6 are good
                      for j, (b, word) in enumerate(zip(bad, words, strict=True))})
        write_csv(root / f"fairface_label_{split}.csv", HEADER, lines[:5] + bad + lines[5:])
    return good, order, dirty


@pytest.fixture
def ff(tmp_path: Path):
    return (tmp_path / "src", *make_fairface(tmp_path / "src"))


def test_every_label_and_every_rejection(ff, tmp_path: Path) -> None:
    src, good, order, dirty = ff
    store = fairface.convert(src, tmp_path / "out", workers=2)
    got = rows(store)
    assert got == expected(good, order)
    check_rejected(store, dirty)
    # the published label sets, in published order
    assert store.schema.attribute("age").names == [
        "0-2", "3-9", "10-19", "20-29", "30-39", "40-49", "50-59", "60-69", "more than 70"]
    assert store.schema.attribute("race").names == [
        "White", "Black", "Latino_Hispanic", "East Asian", "Southeast Asian", "Indian",
        "Middle Eastern"]
    assert store.schema.attribute("gender").names == ["Male", "Female"]


def test_split(ff, tmp_path: Path) -> None:
    src, good, order, dirty = ff
    store = fairface.convert(src, tmp_path / "out", split="val", workers=1)
    val = [f for f in order if f.startswith("val/")]
    assert rows(store) == expected(good, val)
    check_rejected(store, {k: v for k, v in dirty.items() if "_val.csv" in k})
    with pytest.raises(UserError, match="unknown split 'test'"):
        fairface.convert(src, tmp_path / "o2", split="test")


def test_wrong_layout(tmp_path: Path) -> None:
    write_image(tmp_path / "src" / "train" / "1.jpg", face(0))
    with pytest.raises(UserError, match="expected fairface_label_train.csv"):
        fairface.convert(tmp_path / "src", tmp_path / "out")
    write_csv(tmp_path / "src" / "fairface_label_train.csv", ["name", "age"], [["a", "1"]])
    with pytest.raises(UserError, match="lacks column"):
        fairface.convert(tmp_path / "src", tmp_path / "out")


def test_an_image_listed_twice_is_stored_once(tmp_path: Path) -> None:
    src = tmp_path / "src"
    for i in (1, 2, 3):
        write_image(src / f"train/{i}.jpg", face(i))
    write_csv(src / "fairface_label_train.csv", HEADER, [
        ["train/1.jpg", "20-29", "Male", "White", "True"],
        ["train/2.jpg", "3-9", "Female", "Black", "False"],
        ["train/1.jpg", "60-69", "Female", "Indian", "False"],  # the same file again
        ["./train/2.jpg", "20-29", "Male", "White", "False"],  # ... by another spelling
        ["train/3.jpg", "0-2", "Male", "East Asian", "False"],
        ["train/../train/3.jpg", "0-2", "Male", "East Asian", "False"],  # ... through its own folder
    ])
    store = fairface.convert(src, tmp_path / "out", workers=1)
    assert [(f, g["age"], g["race"]) for f, g in rows(store)] == [
        ("train/1.jpg", "20-29", "White"), ("train/2.jpg", "3-9", "Black"),
        ("train/3.jpg", "0-2", "East Asian")]
    check_rejected(store, {"fairface_label_train.csv:4 (train/1.jpg)": "duplicate",
                           "fairface_label_train.csv:5 (./train/2.jpg)": "duplicate",
                           "fairface_label_train.csv:7 (train/../train/3.jpg)": "duplicate"})


def test_service_test_is_never_made_up(tmp_path: Path) -> None:
    """A row without service_test, or label files without the column, were stored as False."""
    src = tmp_path / "src"
    for i in (1, 2):
        write_image(src / f"train/{i}.jpg", face(i))
    write_csv(src / "fairface_label_train.csv", HEADER, [
        ["train/1.jpg", "20-29", "Male", "White", "True"],
        ["train/2.jpg", "3-9", "Female", "Black", ""],
    ])
    store = fairface.convert(src, tmp_path / "out", workers=1)
    assert [(f, g["service_test"]) for f, g in rows(store)] == [("train/1.jpg", "True")]
    check_rejected(store, {"fairface_label_train.csv:3 (train/2.jpg)": "service_test"})
    write_csv(src / "fairface_label_train.csv", HEADER[:4], [
        ["train/1.jpg", "20-29", "Male", "White"], ["train/2.jpg", "3-9", "Female", "Black"]])
    early = fairface.convert(src, tmp_path / "early", workers=1)
    assert len(early) == 2 and not early.schema.has_attribute("service_test")
    write_image(src / "val/1.jpg", face(3))
    write_csv(src / "fairface_label_val.csv", HEADER, [["val/1.jpg", "0-2", "Male", "Indian", "True"]])
    mixed = fairface.convert(src, tmp_path / "mixed", workers=1)  # only val has the column
    assert len(mixed) == 3 and not mixed.schema.has_attribute("service_test")


def test_a_label_file_not_in_utf8_is_one_line_and_keeps_the_store(ff, tmp_path: Path) -> None:
    """A non-UTF-8 byte past the first read buffer fails while the rows stream into the store:
    one UserError naming the file, and the store already at --out is left as it was."""
    src = ff[0]
    old = fairface.convert(src, tmp_path / "out", workers=1)
    before = rows(old)
    label = src / "fairface_label_val.csv"
    label.write_bytes(label.read_bytes() + b"\n".join(
        [b"val/1.jpg,20-29,Male,White,False"] * 1000 + [b"val/1.jpg,20-29,Male,Jos\xe9,False\n"]))
    with pytest.raises(UserError, match=r"fairface_label_val\.csv is not UTF-8 text"):
        fairface.convert(src, tmp_path / "out", workers=1, overwrite=True)
    assert rows(st.load(tmp_path / "out")) == before


def test_a_short_row_says_it_is_short(tmp_path: Path) -> None:
    """A row of fewer fields than the header was rejected as "gender '' not in the published
    set"; it now says the row lacks the field."""
    src = tmp_path / "src"
    for i in (1, 2, 3):
        write_image(src / f"train/{i}.jpg", face(i))
    write_csv(src / "fairface_label_train.csv", HEADER, [
        ["train/1.jpg", "20-29", "Male", "White", "True"], ["train/2.jpg", "20-29"],
        ["train/3.jpg", "20-29", "Male", "White"]])
    store = fairface.convert(src, tmp_path / "out", workers=1)
    check_rejected(store, {
        "fairface_label_train.csv:3 (train/2.jpg)": "row has no gender (fewer fields than the header)",
        "fairface_label_train.csv:4 (train/3.jpg)": "row has no service_test (fewer fields"})


def test_columns_is_refused_where_it_would_do_nothing(ff, tmp_path: Path, cli) -> None:
    """--columns was ignored without a word by the formats that read their published columns,
    and a missing FairFace column was answered with 'map them with --columns'."""
    res = cli("data", "convert", "fairface", ff[0], "--out", tmp_path / "out",
              "--columns", "gender=sex")
    assert res.code == 2 and res.err.strip() == (
        "error: --columns is for morph, aiface, folder; fairface reads the columns (or file "
        "names) its authors publish: leave it out")
    assert not (tmp_path / "out").exists()
    write_csv(ff[0] / "fairface_label_val.csv", ["file", "age"], [["val/1.jpg", "20-29"]])
    with pytest.raises(UserError, match=r"lacks column\(s\) 'gender', 'race'; its columns: "
                                        r"file, age$"):
        fairface.convert(ff[0], tmp_path / "out")


def test_images_unzipped_into_a_folder_of_their_own_are_pointed_at(tmp_path: Path, cli) -> None:
    """The image zip unpacked into fairface-img-margin025-trainval/ beside the label files:
    the error says where the images were looked for and where they are."""
    src = tmp_path / "ff"
    make_fairface(src / "fairface-img-margin025-trainval")
    for split in fairface.SPLITS:
        label = f"fairface_label_{split}.csv"
        (src / "fairface-img-margin025-trainval" / label).rename(src / label)
    res = cli("data", "convert", "fairface", src, "--out", tmp_path / "out", "--workers", "1")
    assert res.code == 2 and res.err.startswith("error: nothing converted")
    assert len(res.err.strip().splitlines()) == 1
    where = src.resolve()
    assert f"looked for at {where}/train/1.jpg and is one folder down, at {where}/" \
           f"fairface-img-margin025-trainval/train/1.jpg: move the contents of {where}/" \
           f"fairface-img-margin025-trainval up into {where};" in res.err
    (src / "fairface-img-margin025-trainval").rename(tmp_path / "elsewhere")
    res = cli("data", "convert", "fairface", src, "--out", tmp_path / "out", "--workers", "1")
    assert res.code == 2 and f"missing file was looked for at {where}/train/1.jpg;" in res.err
    assert "one folder down" not in res.err
