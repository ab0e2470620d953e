"""LFW: persons' folders, View 2's pairs in their folds, Kumar et al.'s attribute scores,
stray and broken files."""

from __future__ import annotations

import csv
import math
import re
from pathlib import Path

import pytest
from convert_helpers import check_rejected, face, rejected, rows, write_image, write_truncated

from latentplay import store as st
from latentplay.errors import UserError
from latentplay.sources import lfw

PERSONS = ("Aaron_Eckhart", "Abba_Eban", "Zico")


def make_lfw(root: Path, folder: str = "lfw") -> tuple[dict[str, dict], dict[str, str]]:
    good: dict[str, dict] = {}
    k = 0
    for person in PERSONS:
        for n in (1, 2, 3):
            rel = f"{folder}/{person}/{person}_{n:04d}.jpg"
            write_image(root / rel, face(k))
            good[rel] = {"identity": person}
            k += 1
    # two folds of one matched and one mismatched pair; one pair names a missing image
    (root / "pairs.txt").write_text(
        "2\t1\n"
        "Aaron_Eckhart\t1\t2\nAaron_Eckhart\t3\tZico\t1\n"
        "Zico\t2\t9\nAbba_Eban\t1\tZico\t3\n")
    (root / "lfw_attributes.txt").write_text(
        "LFW attributes file version 0.9\n"
        "#\tperson\timagenum\tMale\tAsian\tBlack Hair\n"
        "Aaron Eckhart\t1\t1.5\t-0.5\t0.25\n"
        "Aaron Eckhart\t2\t1.25\t-1.0\t0.5\n"
        "Zico\t3\t-0.75\t0.5\t1.0\n")
    dirty = {f"{folder}/Zico/Zico_0004.jpg": "truncated",
             f"{folder}/Zico/notes.txt": "not <Name>/<Name>_<nnnn>.jpg",
             f"{folder}/stray.jpg": "not <Name>/<Name>_<nnnn>.jpg",
             f"{folder}/Zico/Abba_Eban_0004.jpg": "not <Name>/<Name>_<nnnn>.jpg",  # not Zico's
             f"{folder}/Zico/Zico_5.jpg": "not <Name>/<Name>_<nnnn>.jpg"}  # not four digits
    write_image(root / folder / "Zico" / "Abba_Eban_0004.jpg", face(2))
    write_image(root / folder / "Zico" / "Zico_5.jpg", face(3))
    write_truncated(root / folder / "Zico" / "Zico_0004.jpg", face(0))
    (root / folder / "Zico" / "notes.txt").write_text("x")
    write_image(root / folder / "stray.jpg", face(1))
    return good, dirty


def test_identities_attributes_pairs_and_rejections(tmp_path: Path) -> None:
    good, dirty = make_lfw(tmp_path / "LFW")
    store = lfw.convert(tmp_path / "LFW", tmp_path / "out", workers=2)
    check_rejected(store, dirty)
    got = dict(rows(store))
    assert set(got) == set(good)
    assert all(got[p]["identity"] == good[p]["identity"] for p in good)
    assert [a.name for a in store.schema.attributes] == ["identity", "male", "asian",
                                                         "black_hair"]
    aaron = got["lfw/Aaron_Eckhart/Aaron_Eckhart_0002.jpg"]
    assert (aaron["male"], aaron["asian"], aaron["black_hair"]) == (1.25, -1.0, 0.5)
    assert math.isnan(got["lfw/Abba_Eban/Abba_Eban_0001.jpg"]["male"])   # not scored
    with open(store.path / st.PAIRS_FILE, newline="") as fh:
        pairs = list(csv.DictReader(fh))
    assert [(p["fold"], p["same"]) for p in pairs] == [("0", "1"), ("0", "0"), ("1", "1"),
                                                       ("1", "0")]
    order = sorted(good)
    for p in pairs:
        for side in ("a", "b"):
            rel = f"lfw/{p['identity_' + side]}/{p['file_' + side]}"
            assert int(p["row_" + side]) == (order.index(rel) if rel in good else -1)
    assert pairs[2]["row_b"] == "-1"                # Zico_0009 is not in the folder


def test_nested_deep_funneled_copy_and_verification(tmp_path: Path) -> None:
    """Kaggle's copy nests lfw-deepfunneled/lfw-deepfunneled/; the pairs drive audit verify."""
    from latentplay import embed
    from latentplay.audit.verification import verify_store

    root = tmp_path / "LFW"
    make_lfw(root, "lfw-deepfunneled/lfw-deepfunneled")
    store = lfw.convert(root, tmp_path / "out", workers=1)
    assert len(store) == 9
    store = embed.embed_store(store.path, "pixels-pca", "pix", options=["dim=4"])
    s = verify_store(store, "pix", tmp_path / "v", threshold=1.0, folds=2, file_folds=True)
    assert s["pairs"]["unconverted"] == 1 and s["pairs"]["used"] == 3


def test_wrong_layout(tmp_path: Path) -> None:
    write_image(tmp_path / "src" / "a.jpg", face(0))
    with pytest.raises(UserError, match="lfw: expected lfw/"):
        lfw.convert(tmp_path / "src", tmp_path / "out")


def test_a_pairs_file_not_in_utf8_is_one_line(tmp_path: Path) -> None:
    """pairs.txt is read before the images: a non-UTF-8 byte in it is one UserError
    naming the file, and nothing is written to --out."""
    make_lfw(tmp_path / "LFW")
    pairs = tmp_path / "LFW" / "pairs.txt"
    pairs.write_bytes(pairs.read_bytes() + b"Jos\xe9\t1\t2\n")
    with pytest.raises(UserError, match=r"pairs\.txt is not UTF-8 text"):
        lfw.convert(tmp_path / "LFW", tmp_path / "out", workers=1)
    assert not (tmp_path / "out").exists()


def test_malformed_pairs_lines_are_rejected_and_keep_their_place(tmp_path: Path, cli) -> None:
    """A pairs.txt line of the wrong number of fields, a non-integer image number or a number
    for a name is listed in rejected.csv as pairs.txt:<line> and counted (they were skipped
    without a word); the header and blank lines are not; the summary counts the pairs whose
    image was not converted."""
    good, dirty = make_lfw(tmp_path / "LFW")
    (tmp_path / "LFW" / "pairs.txt").write_text(
        "2\t2\n"
        "Aaron_Eckhart\t1\t2\nAaron_Eckhart\tone\t2\nAaron_Eckhart\t3\tZico\t1\n"
        "Zico\t1\t2\t3\t4\n\n"
        "Zico\t2\t9\n12\t1\t2\nAbba_Eban\t1\tZico\n"
        "Abba_Eban\t1\tZico\t3\n")
    bad = {"pairs.txt:3": "image number 'one'", "pairs.txt:5": "found 5)",
           "pairs.txt:8": "identity '12'", "pairs.txt:9": "image number 'Zico'"}
    out = tmp_path / "out"
    res = cli("data", "convert", "lfw", tmp_path / "LFW", "--out", out, "--workers", "1")
    assert res.code == 0, res.err
    store = st.load(out)
    check_rejected(store, {**dirty, **bad})
    assert store.schema.provenance.counts["rejected_lines"] == len(bad)
    with open(out / st.PAIRS_FILE, newline="") as fh:
        pairs = list(csv.DictReader(fh))
    # four pairs lines a fold: the malformed ones keep their places
    assert [(p["fold"], p["same"]) for p in pairs] == [("0", "1"), ("0", "0"), ("1", "1"),
                                                       ("1", "0")]
    assert (f"converted {len(good)}, rejected {len(dirty) + len(bad)}, {len(bad)} of them "
            f"label-file lines (see {out.resolve()}/rejected.csv); 4 pairs (1 with an "
            f"unconverted image) in {out.resolve()}/pairs.csv") in res.out
    assert cli("data", "info", out).code == 0
    # --limit keeps them listed; --strict stops at the first
    store = lfw.convert(tmp_path / "LFW", tmp_path / "o2", workers=1, limit=2)
    assert set(bad) <= set(rejected(store)) and len(store) <= 2
    res = cli("data", "convert", "lfw", tmp_path / "LFW", "--out", tmp_path / "o3", "--strict")
    assert res.code == 2 and res.err.strip() == ("error: --strict: rejected pairs.txt:3: pairs "
                                                 "line has image number 'one', not a positive "
                                                 "integer")
    assert not (tmp_path / "o3").exists()


def test_pairs_dev_header_is_not_a_pairs_line(tmp_path: Path) -> None:
    """pairsDevTrain.txt's first line is one number, the pairs of each kind."""
    path = tmp_path / "pairs.txt"
    path.write_text("1\nZico\t1\t2\nZico\t1\tAbba_Eban\t2\n")
    pairs, bad = lfw.read_pairs(path, tmp_path)
    assert bad == [] and [p[0] for p in pairs] == ["0", "0"]


@pytest.mark.parametrize("header", ["10\t300\tx", "ten\t300", "2\tone", "abc", "0\t1", "2\t-1",
                                    "Zico\t1"])
def test_a_malformed_header_is_one_line_naming_it(tmp_path: Path, cli, header: str) -> None:
    """Only the header's second field was read: '10 300 x' and 'abc' became pairs lines of one
    fold, 'ten 300' passed silently. Now a header that is not one or two positive integers stops
    the conversion with one line naming pairs.txt:1; nothing is written."""
    make_lfw(tmp_path / "LFW")
    pairs = tmp_path / "LFW" / "pairs.txt"
    pairs.write_text(header + "\n" + pairs.read_text().split("\n", 1)[1])
    res = cli("data", "convert", "lfw", tmp_path / "LFW", "--out", tmp_path / "out")
    assert res.code == 2 and res.err.count("\n") == 1, res.err
    assert "pairs.txt:1: first line" in res.err and "neither a header" in res.err
    assert not (tmp_path / "out").exists()


def test_a_header_that_disagrees_with_the_lines_is_one_line(tmp_path: Path) -> None:
    """'2 1' promises two folds of one matched and one mismatched pair: a missing line would
    shift every later fold boundary, so it is refused."""
    path = tmp_path / "pairs.txt"
    path.write_text("2\t1\nZico\t1\t2\nZico\t1\tAbba_Eban\t2\nZico\t2\t3\n")
    with pytest.raises(UserError, match=r"pairs\.txt:1: the header gives 2 fold\(s\) of 1 "
                                        r"matched and 1 mismatched pairs \(4 lines\) but 3"):
        lfw.read_pairs(path, tmp_path)


def test_pairs_without_a_header_are_one_fold(tmp_path: Path) -> None:
    """A first line that is a pairs line (even a malformed one) starts a file of one fold."""
    path = tmp_path / "pairs.txt"
    path.write_text("Zico\tone\t2\nZico\t1\t2\nZico\t1\tAbba_Eban\t2\n")
    pairs, bad = lfw.read_pairs(path, tmp_path)
    assert [p[0] for p in pairs] == ["0", "0"]
    assert [b.source for b in bad] == ["pairs.txt:1"] and "image number 'one'" in bad[0].reason


def test_identities_are_those_of_the_inputs_converted(tmp_path: Path) -> None:
    """A folder holding no <Name>_<nnnn>.jpg image adds no identity."""
    good, dirty = make_lfw(tmp_path / "LFW")
    (tmp_path / "LFW/lfw/Nobody").mkdir()
    (tmp_path / "LFW/lfw/Nobody/readme.txt").write_text("x")
    dirty["lfw/Nobody/readme.txt"] = "not <Name>/<Name>_<nnnn>.jpg"
    store = lfw.convert(tmp_path / "LFW", tmp_path / "out", workers=1)
    check_rejected(store, dirty)
    assert store.schema.attribute("identity").names == list(PERSONS)


@pytest.mark.parametrize(("names", "why"), [
    ("Male\tMale", "'Male' (male) is named twice"),
    ("Identity\tMale", "'Identity' (identity) is a column of the store already"),
    ("???\tMale", "'???' (empty) names no attribute")])
def test_an_attributes_header_naming_no_column_is_one_line(tmp_path: Path, names: str,
                                                           why: str) -> None:
    """A repeated or reserved name ended in pyarrow's traceback; '???' made an attribute ''."""
    path = tmp_path / lfw.ATTRIBUTES
    path.write_text(f"# LFW attributes\n#\tperson\timagenum\t{names}\nA B\t1\t0.5\t0.2\n")
    with pytest.raises(UserError, match=re.escape(f"{lfw.ATTRIBUTES}, line 2: the attribute {why}")):
        lfw.read_attributes(path)


def test_attribute_lines_that_do_not_parse_are_listed(tmp_path: Path) -> None:
    """A score that is not a number, or a line cut short, was skipped without a word (its
    images silently unscored)."""
    make_lfw(tmp_path / "LFW")
    with open(tmp_path / "LFW" / lfw.ATTRIBUTES, "a") as fh:
        fh.write("Abba Eban\t1\tx\t0.5\t1.0\nZico\t1\t2\n\n")  # a blank line last: no line of scores
    store = lfw.convert(tmp_path / "LFW", tmp_path / "out", workers=1)
    listed = dict(csv.reader((store.path / st.REJECTED_FILE).read_text().splitlines()))
    assert listed[f"{lfw.ATTRIBUTES}:6"] == "an image number or score that is not a number"
    assert listed[f"{lfw.ATTRIBUTES}:7"] == "3 fields, not the 5 of person, image number and scores"
    assert f"{lfw.ATTRIBUTES}:8" not in listed
    assert math.isnan(dict(rows(store))["lfw/Abba_Eban/Abba_Eban_0001.jpg"]["male"])


def test_a_pair_of_four_fields_naming_one_person_is_a_match() -> None:
    """``Abel_Pacheco 1 Abel_Pacheco 2`` was written as a mismatched pair (same 0)."""
    from latentplay.sources.convert import pair_of

    assert pair_of(["Abel_Pacheco", "1", "Abel_Pacheco", "2"])[-1] == "1"
    assert pair_of(["Abel_Pacheco", "1", "Zico", "2"])[-1] == "0"
    assert pair_of(["Zico", "1", "2"]) == ["Zico", "Zico_0001.jpg", "Zico", "Zico_0002.jpg", "1"]
    with pytest.raises(ValueError, match="image number '0', not a positive integer"):
        pair_of(["Zico", "0", "2"])  # images are numbered from 1


def test_pairs_beside_the_person_folders_find_their_rows(tmp_path: Path) -> None:
    """SRC the images folder itself, pairs.txt in it: the pairs name the store's rows."""
    good, _ = make_lfw(tmp_path / "LFW")
    (tmp_path / "LFW" / "pairs.txt").rename(tmp_path / "LFW" / "lfw" / "pairs.txt")
    store = lfw.convert(tmp_path / "LFW" / "lfw", tmp_path / "out", workers=1)
    with open(store.path / st.PAIRS_FILE, newline="") as fh:
        pairs = list(csv.DictReader(fh))
    order = [name.removeprefix("lfw/") for name in sorted(good)]
    assert [(p["row_a"], p["row_b"]) for p in pairs] == [
        (str(order.index("Aaron_Eckhart/Aaron_Eckhart_0001.jpg")),
         str(order.index("Aaron_Eckhart/Aaron_Eckhart_0002.jpg"))),
        (str(order.index("Aaron_Eckhart/Aaron_Eckhart_0003.jpg")), str(order.index("Zico/Zico_0001.jpg"))),
        (str(order.index("Zico/Zico_0002.jpg")), "-1"),
        (str(order.index("Abba_Eban/Abba_Eban_0001.jpg")), str(order.index("Zico/Zico_0003.jpg")))]
