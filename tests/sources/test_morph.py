"""MORPH II: CSV with mappable columns, image lookup, bad codes and missing photos."""

from __future__ import annotations

from pathlib import Path

import pytest
from convert_helpers import check_rejected, expected, face, rows, write_csv, write_image

from latentplay.errors import UserError
from latentplay.sources import morph

HEADER = ["id_num", "picture_num", "dob", "doa", "race", "gender", "age", "photo"]


def make_morph(root: Path, header: list[str] = HEADER) -> tuple[dict, list[str], dict]:
    good, order, lines = {}, [], []
    races = list(morph.RACES)
    for i in range(12):
        ident = f"{(i // 3) + 1:06d}"
        name = f"{ident}_{i:02d}M{20 + i}.JPG"
        # three layouts seen in the wild: as listed, Album2/<name>, Album2/<prefix>/<name>
        photo = [f"Album2/{name}", f"/data/morph/Album2/{name}", f"Album2/{name}"][i % 3]
        where = [f"Album2/{name}", f"Album2/{name}", f"Album2/{name[:3]}/{name}"][i % 3]
        write_image(root / where, face(i))
        race, gender, age = races[i % 6], "MF"[i % 2], 20 + i
        lines.append([ident, i, "1/1/1970", "1/1/2000", race, gender, age, photo])
        good[photo + f"#{i}"] = {"gender": morph.GENDERS[gender], "race": morph.RACES[race],
                                 "age": float(age), "identity": ident}
        order.append(photo + f"#{i}")
    bad = [
        ["000099", 0, "", "", "W", "M", 30, "Album2/000099_00M30.JPG"],  # photo missing
        ["000098", 0, "", "", "X", "M", 30, "Album2/000098_00M30.JPG"],  # race code X
        ["000097", 0, "", "", "W", "U", 30, "Album2/000097_00M30.JPG"],  # gender code U
        ["000096", 0, "", "", "W", "F", "n/a", "Album2/000096_00M30.JPG"],  # age not a number
        ["000095", 0, "", "", "W", "F", 30, ""],  # no photo
    ]
    for row in bad[1:4]:
        write_image(root / row[-1], face(0))
    csv = morph.CSV_NAME
    dirty = {f"{csv}:14 (Album2/000099_00M30.JPG)": "missing file",  # header, 12 good rows
             f"{csv}:15 (Album2/000098_00M30.JPG)": "race", f"{csv}:16 (Album2/000097_00M30.JPG)": "gender",
             f"{csv}:17 (Album2/000096_00M30.JPG)": "age", f"{csv}:18": "no photo"}
    write_csv(root / morph.CSV_NAME, header, lines + bad)
    return good, order, dirty


def _by_name(good: dict, order: list[str]) -> list:
    return expected({k.split("#")[0]: v for k, v in good.items()},
                    [k.split("#")[0] for k in order])


def test_every_label_and_every_rejection(tmp_path: Path) -> None:
    good, order, dirty = make_morph(tmp_path / "src")
    store = morph.convert(tmp_path / "src", tmp_path / "out", workers=2)
    assert rows(store) == _by_name(good, order)
    check_rejected(store, dirty)


def test_columns_mapping(tmp_path: Path) -> None:
    header = ["ID", "picture_num", "dob", "doa", "RACE", "SEX", "AGE", "PHOTO"]
    good, order, _ = make_morph(tmp_path / "src", header)
    cols = {"identity": "ID", "race": "RACE", "gender": "SEX", "age": "AGE", "photo": "PHOTO"}
    store = morph.convert(tmp_path / "src", tmp_path / "out", columns=cols, workers=1)
    assert rows(store) == _by_name(good, order)
    with pytest.raises(UserError, match="lacks column"):
        morph.convert(tmp_path / "src", tmp_path / "o2")
    with pytest.raises(UserError, match="unknown field"):
        morph.convert(tmp_path / "src", tmp_path / "o3", columns={"sex": "SEX"})


def test_wrong_layout(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    with pytest.raises(UserError, match="expected morph_2008_nonCommercial.csv"):
        morph.convert(tmp_path / "src", tmp_path / "out")


def test_identities_are_those_of_the_rows_converted_and_windows_paths_are_found(
        tmp_path: Path) -> None:
    """Rows rejected for their codes or a missing photo add no identity; a photo path written
    on Windows is found by its tail and as Album2/<name>."""
    good, order, dirty = make_morph(tmp_path / "src")
    name = "000005_00M40.JPG"
    write_image(tmp_path / "src" / "Album2" / name, face(5))
    with open(tmp_path / "src" / morph.CSV_NAME, "a", newline="") as fh:
        fh.write(f"000005,0,,,W,M,40,C:\\MORPH\\Album2\\{name}\n")
    store = morph.convert(tmp_path / "src", tmp_path / "out", workers=1)
    check_rejected(store, dirty)
    assert store.schema.attribute("identity").names == ["000001", "000002", "000003", "000004",
                                                        "000005"]
    assert rows(store)[-1] == (f"C:\\MORPH\\Album2\\{name}", {
        "gender": "male", "race": "White", "age": 40.0, "identity": "000005"})


def test_nothing_converted_says_where_the_photo_was_looked_for(tmp_path: Path) -> None:
    write_csv(tmp_path / "src" / morph.CSV_NAME, HEADER,
              [["000001", 0, "", "", "W", "M", 30, "Album2\\000001_00M30.JPG"]])
    with pytest.raises(UserError, match="nothing converted: the only input was rejected: missing "
                       "file .*; the first missing file was looked for at "
                       f"{tmp_path / 'src' / 'Album2' / '000001_00M30.JPG'}"):
        morph.convert(tmp_path / "src", tmp_path / "out", workers=1)


def test_published_codes_and_their_edges(tmp_path: Path) -> None:
    """M/F in either case, ages 0 and 120 kept and 121 refused, a row without a subject number
    refused; subject numbers ordered as numbers (9 before 10); codes male 0, female 1."""
    src = tmp_path / "src"
    table = [["9", "W", "f", 0, "a.JPG"], ["10", "B", "m", 120, "b.JPG"],
             ["11", "A", "M", 121, "c.JPG"], ["", "H", "F", 40, "d.JPG"]]
    for i, (_, _, _, _, name) in enumerate(table):
        write_image(src / "Album2" / name, face(i))
    write_csv(src / morph.CSV_NAME, HEADER, [[ident, 0, "", "", race, sex, age, f"Album2/{name}"]
                                             for ident, race, sex, age, name in table])
    store = morph.convert(src, tmp_path / "out", workers=1)
    assert rows(store) == [
        ("Album2/a.JPG", {"gender": "female", "race": "White", "age": 0.0, "identity": "9"}),
        ("Album2/b.JPG", {"gender": "male", "race": "Black", "age": 120.0, "identity": "10"})]
    check_rejected(store, {f"{morph.CSV_NAME}:4 (Album2/c.JPG)": "age 121 outside 0-120",
                           f"{morph.CSV_NAME}:5 (Album2/d.JPG)": "no identity"})
    assert store.schema.attribute("gender").names == ["male", "female"]
    assert store.schema.attribute("identity").names == ["9", "10"]


def test_two_label_csvs_are_refused_rather_than_one_guessed(tmp_path: Path) -> None:
    for name in ("labels_a.csv", "labels_b.csv"):
        write_csv(tmp_path / "src" / name, HEADER, [])
    with pytest.raises(UserError, match="found 2 CSV files"):
        morph.convert(tmp_path / "src", tmp_path / "out", workers=1)
