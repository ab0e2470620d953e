"""CelebA: attribute/partition/identity files (txt and Kaggle csv), and CelebA-HQ's file."""

from __future__ import annotations

import gc
import warnings
from pathlib import Path

import numpy as np
import pytest
from convert_helpers import check_rejected, expected, face, rows, write_image, write_truncated

from latentplay.errors import UserError
from latentplay.sources import celeba
from latentplay.store import info

ATTRS = celeba.ATTRIBUTES


def make_celeba(root: Path, n: int = 12, hq: bool = False, kaggle: bool = False):
    rng = np.random.default_rng(0)
    images = root / ("CelebA-HQ-img" if hq else "img_align_celeba")
    if kaggle:
        images = images / "img_align_celeba"
    good, order, dirty = {}, [], {}
    attr_file = ("CelebAMask-HQ-attribute-anno.txt" if hq else
                 "list_attr_celeba.csv" if kaggle else "list_attr_celeba.txt")
    attr_lines, part_lines, ident_lines = [], [], []
    for i in range(n + 4):
        name = f"{i}.jpg" if hq else f"{i + 1:06d}.jpg"
        values = rng.choice([-1, 1], size=40)
        split, ident = i % 3, (8, 9, 10, 11, 100)[i % 5]
        source = f"{images.relative_to(root).as_posix()}/{name}"
        listed = f"{attr_file}:{i + (2 if kaggle else 3)} ({source})"   # its line, its image
        fields = [str(v) for v in values]
        if i == n:  # value outside -1/1
            fields[7] = "0"
            dirty[listed] = "Big_Nose"
        if i == n + 1:  # a field missing
            fields = fields[:-1]
            dirty[listed] = "expected 41 fields"
        if i == n + 2:
            write_truncated(images / name, face(i))
            dirty[listed] = "truncated"
        elif i == n + 3:
            dirty[listed] = "missing file"
        else:
            write_image(images / name, face(i))
        if kaggle:
            attr_lines.append(",".join([name, *fields]))
            part_lines.append(f"{name},{split}")
        else:
            attr_lines.append(f"{name} " + "  ".join(fields))
            part_lines.append(f"{name} {split}")
        ident_lines.append(f"{name} {ident}")
        if listed not in dirty:
            labels = {a: "yes" if v == 1 else "no" for a, v in zip(ATTRS, values, strict=True)}
            if not hq:
                labels["split"] = celeba.SPLITS[split]
                if not kaggle:
                    labels["identity"] = str(ident)
            good[source] = labels
            order.append(source)
    if hq:
        (root / "CelebAMask-HQ-attribute-anno.txt").write_text(
            f"{n + 4}\n" + " ".join(ATTRS) + "\n" + "\n".join(attr_lines) + "\n")
    elif kaggle:
        (root / "list_attr_celeba.csv").write_text(
            ",".join(["image_id", *ATTRS]) + "\n" + "\n".join(attr_lines) + "\n")
        (root / "list_eval_partition.csv").write_text(
            "image_id,partition\n" + "\n".join(part_lines) + "\n")
    else:
        (root / "list_attr_celeba.txt").write_text(
            f"{n + 4}\n" + " ".join(ATTRS) + " \n" + "\n".join(attr_lines) + "\n")
        (root / "list_eval_partition.txt").write_text("\n".join(part_lines) + "\n")
        (root / "identity_CelebA.txt").write_text("\n".join(ident_lines) + "\n")
    return good, order, dirty


def _compare(store, good, order) -> None:
    got = rows(store)
    want = expected(good, order)
    assert [n for n, _ in got] == [n for n, _ in want]
    for (_, g), (_, w) in zip(got, want, strict=True):
        assert {k: g[k] for k in w} == w
        assert set(g) == set(w)


@pytest.mark.parametrize("variant", ["celeba", "kaggle", "hq"])
def test_every_label_and_every_rejection(tmp_path: Path, variant: str) -> None:
    good, order, dirty = make_celeba(tmp_path / "src", hq=variant == "hq",
                                     kaggle=variant == "kaggle")
    store = celeba.convert(tmp_path / "src", tmp_path / "out", workers=1)
    _compare(store, good, order)
    check_rejected(store, dirty)
    names = [a.name for a in store.schema.attributes]
    assert names[:2] == ["Male", "Smiling"] and set(ATTRS) <= set(names)
    if variant == "celeba":  # identity numbers ordered as numbers
        assert store.schema.attribute("identity").names == ["8", "9", "10", "11", "100"]
    summary = info(store)
    assert summary["crosstab"]["rows"] == "Male" and summary["crosstab"]["columns"] == "Smiling"
    assert sum(map(sum, summary["crosstab"]["counts"])) == len(store)


def test_split_and_wrong_header(tmp_path: Path) -> None:
    good, order, _ = make_celeba(tmp_path / "src")
    store = celeba.convert(tmp_path / "src", tmp_path / "out", split="test", workers=1)
    test = [s for s in order if good[s]["split"] == "test"]
    _compare(store, {s: good[s] for s in test}, test)
    attr = tmp_path / "src" / "list_attr_celeba.txt"
    attr.write_text(attr.read_text().replace("Smiling", "Smile"))
    with pytest.raises(UserError, match="40 published attributes"):
        celeba.convert(tmp_path / "src", tmp_path / "o2")
    with pytest.raises(UserError, match="expected list_attr_celeba.txt"):
        celeba.convert(tmp_path / "src" / "img_align_celeba", tmp_path / "o3")


def test_hq_has_no_split(tmp_path: Path) -> None:
    make_celeba(tmp_path / "src", hq=True)
    with pytest.raises(UserError, match="--split needs the partition file"):
        celeba.convert(tmp_path / "src", tmp_path / "out", split="train")


def test_a_refused_conversion_leaves_no_label_file_open(tmp_path: Path) -> None:
    """The attribute file stayed open past a refusal after its header (--split without a
    partition file, a partition file not in UTF-8) until the collector found it. Only a warning
    naming a file of the source counts: the collector also finds what earlier tests left."""
    make_celeba(tmp_path / "src", hq=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(UserError, match="--split needs the partition file"):
            celeba.convert(tmp_path / "src", tmp_path / "out", split="train")
        gc.collect()
    src = str(tmp_path / "src")
    assert not [w for w in caught if issubclass(w.category, ResourceWarning) and src in str(w.message)]


@pytest.mark.parametrize("split", [None, "train"])
def test_rows_without_a_file_name_are_listed(tmp_path: Path, split: str | None) -> None:
    """A Kaggle CSV row with an empty file name is rejected by its line number (blank lines
    are no rows); with --split, so is a row the partition file gives no split."""
    good, order, dirty = make_celeba(tmp_path / "src", kaggle=True)
    attr = tmp_path / "src" / "list_attr_celeba.csv"
    lines = attr.read_text().splitlines()
    nameless = "," + ",".join(["1"] * 40)
    unsplit = "099999.jpg," + ",".join(["1"] * 40)
    attr.write_text("\n".join([*lines[:3], nameless, "", *lines[3:], unsplit]) + "\n")
    store = celeba.convert(tmp_path / "src", tmp_path / "out", workers=1, split=split)
    shifted = {}                       # the nameless and the blank line push later rows down 2
    for listed, reason in dirty.items():
        where, image = listed.split(" ")
        file, line = where.split(":")
        if split is None or celeba.SPLITS[(int(Path(image[1:-1]).stem) - 1) % 3] == split:
            shifted[f"{file}:{int(line) + 2} {image}"] = reason   # image i (file i + 1): split i % 3
    dirty = shifted | {"list_attr_celeba.csv:4": "no file name",
                       "list_attr_celeba.csv:20 (img_align_celeba/img_align_celeba/099999.jpg)":
                       "no split"}
    check_rejected(store, dirty)
    kept = [s for s in order if split is None or good[s]["split"] == split]
    _compare(store, {s: good[s] for s in kept}, kept)


def test_label_files_not_in_utf8_are_one_line(tmp_path: Path) -> None:
    """A non-UTF-8 attribute file (failing on its header) or partition file is a UserError
    naming the file, not a UnicodeDecodeError."""
    make_celeba(tmp_path / "src")
    part = tmp_path / "src" / "list_eval_partition.txt"
    part.write_bytes(part.read_bytes() + b"\xff\xfe 0\n")
    with pytest.raises(UserError, match=r"list_eval_partition\.txt is not UTF-8 text"):
        celeba.convert(tmp_path / "src", tmp_path / "out", workers=1)
    attr = tmp_path / "src" / "list_attr_celeba.txt"
    attr.write_bytes(b"\xff\xfe" + attr.read_bytes())
    with pytest.raises(UserError, match=r"list_attr_celeba\.txt is not UTF-8 text"):
        celeba.convert(tmp_path / "src", tmp_path / "out", workers=1)
