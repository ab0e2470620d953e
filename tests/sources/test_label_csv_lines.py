"""Label CSVs: rejected rows named by file and line; a quote left open is one error line."""

from __future__ import annotations

import gc
import warnings
from pathlib import Path

import pytest
from convert_helpers import face, rejected, write_image

from latentplay.errors import UserError
from latentplay.sources import fairface
from latentplay.sources.convert import read_csv

HEADER = "file,age,gender,race,service_test\n"


def _fairface(src: Path, body: str) -> Path:
    for i in (1, 2, 3):
        write_image(src / f"train/{i}.jpg", face(i))
    (src / "fairface_label_train.csv").write_text(HEADER + body, encoding="utf-8")
    return src


def test_rejected_rows_name_the_label_file_and_line(tmp_path: Path) -> None:
    """Rejected FairFace rows were listed by image path alone; one fixing the CSV needs its
    line: ``fairface_label_train.csv:LINE (image)`` (a missing image too: the row names it)."""
    src = _fairface(tmp_path / "src", "train/1.jpg,20-29,Male,White,True\n"
                                      "train/2.jpg,70+,Male,White,True\n"
                                      ",20-29,Male,White,True\n"
                                      "train/9.jpg,20-29,Male,White,True\n")
    store = fairface.convert(src, tmp_path / "out", workers=1)
    assert rejected(store) == {
        "fairface_label_train.csv:3 (train/2.jpg)": "age '70+' not in the published set",
        "fairface_label_train.csv:4": "row has no file",
        "fairface_label_train.csv:5 (train/9.jpg)": "missing file",
    }


def test_an_unclosed_quote_at_the_end_names_its_line(tmp_path: Path, cli) -> None:
    """A quote left open read every later line into one field, silently."""
    src = _fairface(tmp_path / "src", 'train/1.jpg,20-29,Male,White,True\n'
                                      'train/2.jpg,"20-29,Male,White,True\n'
                                      'train/3.jpg,20-29,Male,White,True\n')
    res = cli("data", "convert", "fairface", src, "--out", tmp_path / "out")
    assert res.code == 2
    assert res.err.strip() == (
        f"error: {src / 'fairface_label_train.csv'}:3: a quote opened on this line is never "
        "closed (the file ends inside it); close the quote or remove it")
    assert not (tmp_path / "out").exists()


def test_an_unclosed_quote_closed_by_a_later_line_names_its_line(tmp_path: Path) -> None:
    """A later quote closing it merged the lines between into one row."""
    path = tmp_path / "labels.csv"
    path.write_text(HEADER + 'a.jpg,"20-29,Male,White,True\n'
                             'b.jpg,20-29,Male,White,True\n'
                             'c.jpg,20-29",Male,White,True\n', encoding="utf-8")
    header, rows = read_csv(path)
    assert header == ["file", "age", "gender", "race", "service_test"]
    with pytest.raises(UserError, match=r"labels\.csv:2: a quote opened on this line is not "
                                        r"closed before the line ends \(the lines up to 4"):
        list(rows)


def test_an_unclosed_quote_in_the_header_names_line_1(tmp_path: Path) -> None:
    path = tmp_path / "labels.csv"
    path.write_text('file,"age\nx.jpg,1\n', encoding="utf-8")
    with pytest.raises(UserError, match=r"labels\.csv:1: a quote opened on this line is never "):
        read_csv(path)


def test_rows_keep_their_line_numbers_and_short_and_long_rows(tmp_path: Path) -> None:
    """Blank lines are skipped but counted; quoted commas stay in their field; a short row has
    None for its missing fields and a long one lists the extra ones under None."""
    path = tmp_path / "labels.csv"
    path.write_text('a,b\n\n"1,5",2\n3\n4,5,6\n', encoding="utf-8")
    header, rows = read_csv(path)
    assert header == ["a", "b"]
    assert list(rows) == [(3, {"a": "1,5", "b": "2"}), (4, {"a": "3", "b": None}),
                          (5, {"a": "4", "b": "5", None: ["6"]})]
    path.write_text("file, age ,gender\nx.jpg,3,m\n", encoding="utf-8")  # spaces around names
    header, rows = read_csv(path)
    assert header == ["file", "age", "gender"]
    assert list(rows) == [(2, {"file": "x.jpg", "age": "3", "gender": "m"})]


def test_a_header_refused_before_any_row_leaves_no_file_open(tmp_path: Path) -> None:
    """A label file whose columns were refused (header read, no row) stayed open until the
    collector found it: a ResourceWarning per refused file. Only a warning naming this file
    counts: the collector also finds what earlier tests left (Gradio's event loops)."""
    path = tmp_path / "labels.csv"
    path.write_text(HEADER + "train/1.jpg,20-29,Male,White,True\n", encoding="utf-8")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        header, rows = read_csv(path)
        del rows
        gc.collect()
    assert header == HEADER.strip().split(",")
    assert not [w for w in caught if issubclass(w.category, ResourceWarning) and str(path) in str(w.message)]
