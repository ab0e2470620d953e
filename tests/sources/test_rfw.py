"""RFW: race/identity folders, the verification pairs table, stray and broken files."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from convert_helpers import check_rejected, expected, face, rows, write_image, write_truncated

from latentplay import store as st
from latentplay.errors import UserError
from latentplay.sources import rfw


def make_rfw(root: Path) -> tuple[dict[str, dict], dict[str, str]]:
    good: dict[str, dict] = {}
    k = 0
    for race in rfw.RACES:
        for ident in (f"m.0{race[:2].lower()}1", f"m.0{race[:2].lower()}2"):
            for n in (1, 2, 3):
                rel = f"test/data/{race}/{ident}/{ident}_{n:04d}.jpg"
                write_image(root / rel, face(k))
                good[rel] = {"race": race, "identity": ident}
                k += 1
        txt = root / "test" / "txts" / race / f"{race}_pairs.txt"
        txt.parent.mkdir(parents=True, exist_ok=True)
        a, b = f"m.0{race[:2].lower()}1", f"m.0{race[:2].lower()}2"
        txt.write_text(f"{a}\t1\t2\n{a}\t1\t{b}\t3\n{b}\t2\t9\n")
    dirty = {
        "test/data/African/m.0af1/m.0af1_0004.jpg": "truncated",
        "test/data/African/notes.txt": "not in data/",
    }
    write_truncated(root / "test/data/African/m.0af1/m.0af1_0004.jpg", face(0))
    (root / "test/data/African/notes.txt").write_text("x")
    return good, dirty


def test_every_label_rejection_and_pair(tmp_path: Path) -> None:
    good, dirty = make_rfw(tmp_path / "RFW")
    store = rfw.convert(tmp_path / "RFW", tmp_path / "out", workers=2)
    assert rows(store) == expected(good)
    check_rejected(store, dirty)
    with open(store.path / st.PAIRS_FILE, newline="") as fh:
        pairs = list(csv.DictReader(fh))
    assert len(pairs) == 12 and list(pairs[0])[:2] == ["fold", "race"]
    assert all(p["fold"] == "0" for p in pairs)  # three lines per race: all in the first fold
    order = sorted(good)
    for p in pairs:
        for side in ("a", "b"):
            rel = f"test/data/{p['race']}/{p['identity_' + side]}/{p['file_' + side]}"
            row = int(p["row_" + side])
            assert row == (order.index(rel) if rel in good else -1)
    same = [p for p in pairs if p["same"] == "1"]
    assert all(p["identity_a"] == p["identity_b"] for p in same) and len(same) == 8
    missing = [p for p in pairs if p["file_b"].endswith("_0009.jpg")]
    assert len(missing) == 4 and all(p["row_b"] == "-1" for p in missing)
    # SRC may also be test/ itself
    assert len(rfw.convert(tmp_path / "RFW" / "test", tmp_path / "o2", workers=1)) == len(good)


def test_pairs_lines_fall_in_folds_of_600(tmp_path: Path) -> None:
    """A race's pairs file lists RFW's folds one after the other, 600 pairs lines each (300
    matched, 300 mismatched); a malformed line is rejected (it was skipped without a word) and
    keeps its place; blank lines do not count."""
    path = tmp_path / "txts" / "Asian" / "Asian_pairs.txt"
    path.parent.mkdir(parents=True)
    lines = [f"m.0as1\t{k % 9 + 1}\t{k % 9 + 2}" if k % 600 < 300 else
             f"m.0as1\t1\tm.0as2\t{k % 9 + 1}" for k in range(1300)]
    lines[400] = "header?"
    path.write_text("\n".join(lines[:400] + [""] + lines[400:]) + "\n")
    pairs, bad = rfw.read_pairs(path, "Asian", tmp_path)
    assert [(r.source, r.reason) for r in bad] == [
        ("txts/Asian/Asian_pairs.txt:402", "pairs line is not 'identity n1 n2' or "
                                           "'identity_a n1 identity_b n2' (3 or 4 fields; "
                                           "found 1)")]
    assert len(pairs) == 1299 and {p[1] for p in pairs} == {"Asian"}
    folds = [int(p[0]) for p in pairs]
    assert folds == [k // 600 for k in range(1300) if k != 400]
    for fold in (0, 1):
        kinds = [p[6] for p, f in zip(pairs, folds, strict=True) if f == fold]
        assert kinds == ["1"] * 300 + ["0"] * (300 - (fold == 0))


def test_malformed_pairs_lines_are_rejected_and_counted(tmp_path: Path, cli) -> None:
    """Each malformed line of a race's pairs file is listed in rejected.csv as
    test/txts/<Race>/<Race>_pairs.txt:<line> and counted, and the summary counts the pairs whose
    image was not converted."""
    good, dirty = make_rfw(tmp_path / "RFW")
    txt = tmp_path / "RFW" / "test" / "txts" / "Indian" / "Indian_pairs.txt"
    txt.write_text(txt.read_text() + "m.0in1\t-1\t2\nm.0in1\t1\t2\t3\t4\n7\t1\tm.0in2\t2\n")
    where = "test/txts/Indian/Indian_pairs.txt"
    bad = {f"{where}:4": "image number '-1'", f"{where}:5": "found 5)",
           f"{where}:6": "identity '7'"}
    out = tmp_path / "out"
    res = cli("data", "convert", "rfw", tmp_path / "RFW", "--out", out, "--workers", "1")
    assert res.code == 0, res.err
    store = st.load(out)
    check_rejected(store, {**dirty, **bad})
    assert store.schema.provenance.counts["rejected_lines"] == len(bad)
    assert (f"converted {len(good)}, rejected {len(dirty) + len(bad)}, {len(bad)} of them "
            f"label-file lines (see {out.resolve()}/rejected.csv); 12 pairs (4 with an "
            f"unconverted image) in {out.resolve()}/pairs.csv") in res.out
    assert cli("data", "info", out).code == 0


def test_wrong_layout(tmp_path: Path) -> None:
    write_image(tmp_path / "src" / "African" / "x" / "a.jpg", face(0))
    with pytest.raises(UserError, match=r"expected test/data/<African\|Asian"):
        rfw.convert(tmp_path / "src", tmp_path / "out")


def test_pairs_survive_embedding_and_drive_verification(tmp_path: Path) -> None:
    """convert -> embed (the store is saved over itself) -> audit verify reads pairs.csv."""
    from latentplay import embed
    from latentplay.audit.verification import verify_store

    make_rfw(tmp_path / "RFW")
    store = rfw.convert(tmp_path / "RFW", tmp_path / "out", workers=1)
    store = embed.embed_store(store.path, "pixels-pca", "pix", options=["dim=4"])
    assert (store.path / st.PAIRS_FILE).is_file()
    s = verify_store(store, "pix", tmp_path / "v", by="race", threshold=1.0, folds=2)
    assert s["pairs"]["unconverted"] == 4 and s["pairs"]["used"] == 8
    assert [g["group"] for g in s["groups"]] == list(rfw.RACES)
    assert all(g["genuine"] == 1 and g["impostor"] == 1 for g in s["groups"])
    # the fold column names one fold: too few to score by
    with pytest.raises(UserError, match="names 1 fold; scoring needs two or more"):
        verify_store(store, "pix", tmp_path / "f", threshold=1.0, folds=2, file_folds=True)
    # pixels-pca looks for no face, so nothing is said of faces not found
    assert all(g["no_face_share"] is None for g in s["groups"])


def test_a_linked_race_folder_is_converted_and_a_loop_is_listed(tmp_path: Path) -> None:
    """A race folder that is a symbolic link (data kept on another disk) is read like any other;
    a link back to an ancestor is walked once and named in rejected.csv (it would loop)."""
    good, dirty = make_rfw(tmp_path / "RFW")
    data = tmp_path / "RFW" / "test" / "data"
    (data / "Caucasian").rename(tmp_path / "elsewhere")
    (data / "Caucasian").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    (data / "African" / "m.0af2" / "back").symlink_to(data, target_is_directory=True)
    store = rfw.convert(tmp_path / "RFW", tmp_path / "out", workers=2)
    assert any(p.startswith("test/data/Caucasian/") for p in good)
    assert rows(store) == expected(good)
    check_rejected(store, {**dirty, "test/data/African/m.0af2/back/": "the same folder (through "
                                                                      "a link) as test/data/"})


def test_identities_are_those_of_the_inputs_converted(tmp_path: Path) -> None:
    """A person's folder outside the four race folders is rejected and adds no identity."""
    good, dirty = make_rfw(tmp_path / "RFW")
    write_image(tmp_path / "RFW/test/data/Other/m.0zz9/m.0zz9_0001.jpg", face(0))
    dirty["test/data/Other/m.0zz9/m.0zz9_0001.jpg"] = "not in data/"
    store = rfw.convert(tmp_path / "RFW", tmp_path / "out", workers=1)
    check_rejected(store, dirty)
    assert store.schema.attribute("identity").names == sorted({g["identity"] for g in good.values()})
    first = sorted(good)[:4]  # African m.0af1's three images, then m.0af1_0004 (truncated)
    store = rfw.convert(tmp_path / "RFW", tmp_path / "o2", workers=1, limit=3)
    assert store.schema.attribute("identity").names == ["m.0af1"]
    assert [n for n, _ in rows(store)] == first[:3]
