"""UTKFace: labels from file names, dirty names and files, and the common converter options."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from convert_helpers import (
    check_rejected,
    expected,
    face,
    image_bytes,
    rejected,
    rows,
    write_image,
    write_not_image,
    write_truncated,
)
from PIL import Image, ImageOps

from latentplay import store as st
from latentplay.errors import UserError
from latentplay.sources import utkface
from latentplay.sources.convert import convert

RACES = ["White", "Black", "Asian", "Indian", "Others"]


def make_utkface(root: Path, n: int = 20) -> tuple[dict[str, dict], dict[str, str]]:
    """Aligned UTKFace layout: good images with their labels, and the dirty inputs."""
    good: dict[str, dict] = {}
    for i in range(n):
        age, gender, race = (i * 7) % 117, i % 2, i % 5
        name = f"UTKFace/{age}_{gender}_{race}_2017011617{i:07d}.jpg.chip.jpg"
        write_image(root / name, face(i))
        good[name] = {"age": float(age), "gender": ["male", "female"][gender],
                      "race": RACES[race]}
    write_image(root / "crop_part1/30_1_3_20170109150557335.jpg", face(1))  # in-the-wild name
    good["crop_part1/30_1_3_20170109150557335.jpg"] = {"age": 30.0, "gender": "female",
                                                         "race": "Indian"}
    write_image(root / "UTKFace/116_1_4_20170116174525200.jpg.chip.jpg", face(4))  # oldest published
    good["UTKFace/116_1_4_20170116174525200.jpg.chip.jpg"] = {"age": 116.0, "gender": "female",
                                                             "race": "Others"}
    dirty = {
        "UTKFace/39_1_20170116174525125.jpg.chip.jpg": "malformed",  # race field missing
        "UTKFace/61_2_2_20170109142408075.jpg.chip.jpg": "gender",  # gender code 2
        "UTKFace/25_0_5_20170109142408075.jpg.chip.jpg": "race",  # race code 5
        "UTKFace/117_0_1_20170109142408075.jpg.chip.jpg": "age",  # age above 116
        "UTKFace/22_0_1_20170109142408076.jpg.chip.jpg": "truncated",
        "UTKFace/23_1_0_20170109142408077.jpg.chip.jpg": "not an image",
        "UTKFace/Thumbs.db": "not a UTKFace image name",
    }
    for name in list(dirty)[:4]:
        write_image(root / name, face(2))
    write_truncated(root / list(dirty)[4], face(3))
    write_not_image(root / list(dirty)[5])
    write_not_image(root / list(dirty)[6])
    return good, dirty


@pytest.fixture
def utk(tmp_path: Path) -> tuple[Path, dict[str, dict], dict[str, str]]:
    good, dirty = make_utkface(tmp_path / "src")
    return tmp_path / "src", good, dirty


@pytest.mark.parametrize("workers", [1, 2])
def test_every_label_and_every_rejection(utk, tmp_path: Path, workers: int) -> None:
    src, good, dirty = utk
    store = utkface.convert(src, tmp_path / "out", workers=workers)
    assert rows(store) == expected(good)
    check_rejected(store, dirty)
    assert store.schema.attribute("race").names == RACES
    assert store.schema.attribute("gender").names == ["male", "female"]


def test_original_bytes_are_kept_without_resize(utk, tmp_path: Path) -> None:
    src, good, _ = utk
    store = utkface.convert(src, tmp_path / "out", workers=1)
    assert image_bytes(store) == [(src / name).read_bytes() for name in sorted(good)]


def test_resize_crops_to_a_square_png(tmp_path: Path) -> None:
    src = tmp_path / "src"
    wide = np.zeros((40, 80, 3), np.uint8)
    wide[:, 20:60] = 255  # the centre square is white, the sides black
    write_image(src / "20_0_0_20170109142408075.jpg", wide)
    store = utkface.convert(src, tmp_path / "out", resize=16, resample="box", workers=1)
    cell = store.dataset.with_format("arrow")[:]["image"].to_pylist()[0]
    image = Image.open(io.BytesIO(cell["bytes"]))
    assert image.format == "PNG" and image.size == (16, 16)
    assert np.asarray(image).min() > 200  # only the white centre square was kept
    assert store.schema.provenance.arguments["resize"] == 16
    assert store.schema.provenance.arguments["resample"] == "box"


def test_resize_scales_sixteen_bit_grey_to_eight_bits(tmp_path: Path) -> None:
    """A 16-bit grey PNG resized by the converter keeps its levels (/ 257): converting it to
    8 bits clipped every level above 255 to white."""
    src = tmp_path / "src"
    src.mkdir()
    levels = np.linspace(0, 65535, 32 * 32).reshape(32, 32).astype(np.uint16)
    Image.fromarray(levels).save(src / "20_0_0_20170109142408075.png")
    store = utkface.convert(src, tmp_path / "out", resize=16, resample="box", workers=1)
    image = st.load_images(store)[0].astype(float)
    expected = levels.reshape(16, 2, 16, 2).mean(axis=(1, 3)) / 257
    np.testing.assert_allclose(image[..., 0], expected, atol=1.5)


def test_provenance_and_limit(utk, tmp_path: Path) -> None:
    src, _, _ = utk
    store = utkface.convert(src, tmp_path / "out", limit=5, workers=1)
    prov = store.schema.provenance
    assert prov.counts == {"inputs": 5, "converted": len(store), "rejected": 5 - len(store),
                           "beyond_limit": 1}
    assert prov.source == str(src.resolve())
    assert prov.converter == "latentplay.sources.utkface"
    assert prov.arguments["format"] == "utkface" and prov.arguments["limit"] == 5
    assert prov.rejected == "rejected.csv"
    assert st.load(store.path).schema.provenance.counts == prov.counts
    # the schema also lives in the dataset's own description
    assert "latentplay.sources.utkface" in store.dataset.info.description


def test_strict_stops_without_writing(utk, tmp_path: Path) -> None:
    src, _, _ = utk
    with pytest.raises(UserError, match="--strict: rejected"):
        utkface.convert(src, tmp_path / "out", strict=True, workers=1)
    assert not (tmp_path / "out").exists()


def test_wrong_layout_is_one_clear_line(tmp_path: Path) -> None:
    src = tmp_path / "fairface"
    write_image(src / "train" / "1.jpg", face(0))
    with pytest.raises(UserError, match=r"expected images named \[age\]_\[gender\]"):
        utkface.convert(src, tmp_path / "out")
    with pytest.raises(UserError, match="does not exist"):
        utkface.convert(tmp_path / "nowhere", tmp_path / "out")
    with pytest.raises(UserError, match="no published splits"):
        utkface.convert(src, tmp_path / "out", split="train")


def test_registry_and_existing_target(utk, tmp_path: Path) -> None:
    src, good, _ = utk
    store = convert("utkface", src, tmp_path / "out", workers=1)
    assert len(store) == len(good)
    with pytest.raises(UserError, match="already exists"):
        convert("utkface", src, tmp_path / "out")
    assert len(convert("utkface", src, tmp_path / "out", overwrite=True, limit=3)) <= 3
    with pytest.raises(UserError, match="unknown format"):
        convert("utk", src, tmp_path / "x")


def test_cli_summary_strict_and_info(utk, tmp_path: Path, cli) -> None:
    src, good, dirty = utk
    out = tmp_path / "out"
    res = cli("data", "convert", "utkface", src, "--out", out, "--workers", "1")
    assert res.code == 0, res.err
    assert f"converted {len(good)}, rejected {len(dirty)} (see {out.resolve()}/rejected.csv)" \
        in res.out
    assert len(rejected(st.load(out))) == len(dirty)
    res = cli("data", "convert", "utkface", src, "--out", tmp_path / "o2", "--strict")
    assert res.code == 2 and res.err.startswith("error: --strict: rejected")
    assert len(res.err.strip().splitlines()) == 1
    res = cli("data", "convert", "mnist", src, "--out", tmp_path / "o3")
    assert res.code == 2 and "expected the IDX files" in res.err
    res = cli("data", "info", out)
    assert res.code == 0 and "female" in res.out and "White" in res.out


def test_nothing_converted_is_refused_and_the_previous_store_kept(utk, tmp_path: Path,
                                                                  cli) -> None:
    src, good, _ = utk
    out = tmp_path / "out"
    utkface.convert(src, out, workers=1)
    junk = tmp_path / "junk"
    write_not_image(junk / "UTKFace" / "20_0_0_20170116174525125.jpg.chip.jpg")
    with pytest.raises(UserError, match=r"nothing converted: the only input was rejected: "
                                        r"not an image \(1, e\.g\. UTKFace/20_0_0_"):
        utkface.convert(junk, out, overwrite=True, workers=1)
    assert len(st.load(out)) == len(good)
    listed = (tmp_path / "out.rejected.csv").read_text().splitlines()
    assert listed == ["path,reason", "UTKFace/20_0_0_20170116174525125.jpg.chip.jpg,not an image"]
    res = cli("data", "convert", "utkface", junk, "--out", tmp_path / "new", "--workers", "1")
    assert res.code == 2 and len(res.err.strip().splitlines()) == 1
    assert f"listed in {tmp_path / 'new.rejected.csv'}" in res.err
    assert not (tmp_path / "new").exists()
    # a later conversion that writes the store takes the stale list away
    utkface.convert(src, out, overwrite=True, workers=1)
    assert not (tmp_path / "out.rejected.csv").exists()


def test_the_list_of_all_rejected_inputs_is_written_whole_or_not_at_all(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, file_size_limit) -> None:
    """The list beside the target was written in place: a write that failed (a full disk) left
    an earlier run's list cut short to its first bytes."""
    import tempfile

    junk = tmp_path / "junk"
    for i in range(3):
        write_not_image(junk / "UTKFace" / f"20_0_0_2017011617452512{i}.jpg.chip.jpg")
    listed = tmp_path / "out.rejected.csv"
    earlier = "path,reason\r\n" + "UTKFace/an_earlier_input.jpg,not an image\r\n" * 3
    listed.write_bytes(earlier.encode())
    # the inputs' reasons are gathered in memory: only the list's own write meets the limit
    monkeypatch.setattr(tempfile, "TemporaryFile", lambda *args, **kwargs: io.StringIO(newline=""))
    file_size_limit(40)   # the new list takes about 200 bytes
    with pytest.raises(OSError, match="File too large"):
        utkface.convert(junk, tmp_path / "out", workers=1)
    assert listed.read_bytes() == earlier.encode()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["junk", "out.rejected.csv"]


def test_out_may_not_be_or_hold_src_nor_replace_other_folders(utk, tmp_path: Path) -> None:
    src, good, _ = utk
    inputs = sorted(p for p in src.rglob("*"))
    for out in (src, tmp_path, src / "UTKFace" / ".."):
        with pytest.raises(UserError, match="is SRC or holds it"):
            utkface.convert(src, out, overwrite=True, workers=1)
    assert sorted(p for p in src.rglob("*")) == inputs
    other = tmp_path / "photos"
    write_image(other / "mine.jpg", face(0))
    with pytest.raises(UserError, match="not a latentplay store"):
        utkface.convert(src, other, overwrite=True, workers=1)
    assert (other / "mine.jpg").is_file()
    (tmp_path / "empty").mkdir()
    assert len(utkface.convert(src, tmp_path / "empty", overwrite=True, workers=1)) == len(good)


def _turned_jpeg(path: Path) -> None:
    """A 64 x 32 JPEG, top half white, whose EXIF Orientation 6 shows it turned a quarter
    clockwise: upright it is 32 x 64, right half white."""
    pixels = np.zeros((32, 64, 3), np.uint8)
    pixels[:16] = 255
    exif = Image.Exif()
    exif[0x0112] = 6
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path, format="JPEG", quality=95, exif=exif)


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    src = tmp_path / "src"
    name = "UTKFace/20_0_0_20170109142408075.jpg.chip.jpg"
    _turned_jpeg(src / name)
    upright = np.asarray(ImageOps.exif_transpose(Image.open(src / name)))
    assert upright.shape == (64, 32, 3)
    store = utkface.convert(src, tmp_path / "out", workers=1)
    stored = Image.open(io.BytesIO(image_bytes(store)[0]))
    assert stored.format == "PNG" and stored.size == (32, 64)
    assert np.array_equal(st.load_images(store)[0], upright)
    assert np.array_equal(np.asarray(store.dataset[0]["image"]), upright)
    small = utkface.convert(src, tmp_path / "small", resize=16, resample="box", workers=1)
    square = st.load_images(small)[0].mean(axis=(0, 2))  # (16,) column means
    assert square[:6].max() < 40 and square[-6:].min() > 215  # left dark, right white


def test_every_image_is_stored_rgb(tmp_path: Path) -> None:
    """Grey and CMYK JPEGs and an RGBA PNG (accepted like .jpg) are stored as RGB PNGs; an
    RGB JPEG keeps its bytes."""
    src = tmp_path / "src" / "UTKFace"
    pixels = face(0)
    write_image(src / "20_0_0_20170109142408075.jpg.chip.jpg", pixels)
    for mode, name in [("L", "21_0_0_20170109142408076.jpg.chip.jpg"),
                       ("CMYK", "22_0_0_20170109142408077.jpg.chip.jpg"),
                       ("RGBA", "23_1_2_20170109142408078.png")]:
        Image.fromarray(pixels).convert(mode).save(src / name)
    store = utkface.convert(tmp_path / "src", tmp_path / "out", workers=1)
    check_rejected(store, {})
    files = sorted(src.iterdir())
    cells = image_bytes(store)
    assert cells[0] == files[0].read_bytes()
    for cell, file in zip(cells[1:], files[1:], strict=True):
        stored = Image.open(io.BytesIO(cell))
        assert stored.format == "PNG" and stored.mode == "RGB"
        assert np.array_equal(np.asarray(stored), np.asarray(Image.open(file).convert("RGB")))
    assert [r[1]["age"] for r in rows(store)] == [20.0, 21.0, 22.0, 23.0]
    assert st.load_images(store).shape == (4, 64, 64, 3)


def test_a_photograph_published_in_several_folders_is_converted_once(tmp_path: Path) -> None:
    src = tmp_path / "src"
    name = "20_1_2_20170109142408075"
    copies = [f"UTKFace/{name}.jpg.chip.jpg", f"crop_part1/{name}.jpg.chip.jpg",
              f"part1/{name}.jpg"]
    for k, copy in enumerate(copies):
        write_image(src / copy, face(k))
    write_image(src / "part1/20_1_2_20170109142408076.jpg", face(3))  # another photograph
    store = utkface.convert(src, tmp_path / "out", workers=1)
    assert [f for f, _ in rows(store)] == [copies[0], "part1/20_1_2_20170109142408076.jpg"]
    check_rejected(store, {copies[1]: f"same photograph as {copies[0]}",
                           copies[2]: f"same photograph as {copies[0]}"})


def test_a_damaged_first_copy_does_not_turn_the_good_one_away(tmp_path: Path) -> None:
    """The folder walked first holds a truncated copy: the next copy, which decodes, is kept."""
    src = tmp_path / "src"
    name = "30_0_1_20170101120000000"
    write_truncated(src / f"UTKFace/{name}.jpg.chip.jpg", face(0))
    write_image(src / f"part1/{name}.jpg", face(0))
    write_image(src / f"part2/{name}.jpg", face(0))
    store = utkface.convert(src, tmp_path / "out", workers=1)
    assert [f for f, _ in rows(store)] == [f"part1/{name}.jpg"]
    found = rejected(store)
    assert found[f"UTKFace/{name}.jpg.chip.jpg"].startswith("corrupt or truncated image")
    assert found[f"part2/{name}.jpg"].startswith(f"same photograph as part1/{name}.jpg")


def test_a_folder_that_cannot_be_read_is_listed_as_rejected(utk, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """A subfolder the converter may not list (permissions) cannot have its files listed one by
    one: rejected.csv names the folder instead of leaving its images out silently."""
    import os

    src, good, dirty = utk
    real = os.scandir

    def scandir(path):  # noqa: ANN001, ANN202
        if isinstance(path, str | os.PathLike) and Path(path).name == "crop_part1":
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    store = utkface.convert(src, tmp_path / "out", workers=1)
    assert any(name.startswith("crop_part1/") for name in good)
    assert rows(store) == expected({k: v for k, v in good.items() if not k.startswith("crop_part1/")})
    found = rejected(store)
    assert found["crop_part1/"] == "folder not readable (Permission denied)"
    assert not any(p.startswith("crop_part1/") and p != "crop_part1/" for p in found)
    assert store.schema.provenance.counts["rejected"] == len(found)


def test_a_file_or_other_folder_at_out_is_refused_at_once(utk, tmp_path: Path, cli) -> None:
    """--out naming a file or a folder of other files gets the final answer the first time
    (not 'pass --overwrite', which would then be refused too)."""
    src, _, _ = utk
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "f").write_text("mine")
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "a.jpg").write_bytes(b"x")
    for out, said in ((tmp_path / "d" / "f", "is a file, not a store"),
                      (tmp_path / "photos", "not a latentplay store")):
        for extra in ([], ["--overwrite"]):
            res = cli("data", "convert", "utkface", src, "--out", out, "--workers", "1", *extra)
            assert res.code == 2 and said in res.err and "pass --overwrite" not in res.err
            assert res.err.startswith("error: ") and len(res.err.strip().splitlines()) == 1
    assert (tmp_path / "d" / "f").read_text() == "mine"
    assert (tmp_path / "photos" / "a.jpg").read_bytes() == b"x"


def test_limit_says_it_is_the_first_inputs_not_a_random_sample(utk, tmp_path: Path, cli) -> None:
    """--limit keeps the first N in sorted order (UTKFace: the youngest ages first): the help
    and a note say so, and the note's data subset command gives a random subset instead."""
    import shlex

    src, good, dirty = utk
    assert "not a random sample" in " ".join(cli("data", "convert", "--help").out.split())
    res = cli("data", "convert", "utkface", src, "--out", tmp_path / "first", "--limit", "5",
              "--workers", "1")
    assert res.code == 0, res.err
    notes = [line for line in res.err.splitlines() if line.startswith("note: ")]
    assert len(notes) == 1 and "first 5 inputs" in notes[0] and "not a random sample" in notes[0]
    full = tmp_path / "full"
    res = cli("data", "convert", "utkface", src, "--out", full, "--limit", str(len(good) + len(dirty)),
              "--workers", "1")  # a limit of exactly the inputs cuts nothing: no note
    assert res.code == 0 and "note:" not in res.err and len(st.load(full)) == len(good)
    command = shlex.split(notes[0].split("then run ", 1)[1])
    assert command[:3] == ["latentplay", "data", "subset"]
    args = [str(full) if a == "STORE" else str(tmp_path / "random") if a == "PATH" else a
            for a in command[3:]]
    res = cli("data", "subset", *args)
    assert res.code == 0, res.err
    assert len(st.load(tmp_path / "random")) == 5


def test_out_inside_src_is_refused_with_one_line(utk, tmp_path: Path, cli) -> None:
    """A store inside SRC would be read as inputs (and rejected) by the next conversion."""
    src, _, _ = utk
    inputs = sorted(src.rglob("*"))
    res = cli("data", "convert", "utkface", src, "--out", src / "store", "--workers", "1")
    assert res.code == 2 and len(res.err.strip().splitlines()) == 1
    assert res.err.startswith(f"error: --out {src / 'store'} is inside SRC")
    assert sorted(src.rglob("*")) == inputs


def test_a_layout_problem_is_named_before_an_existing_out(utk, tmp_path: Path) -> None:
    src, _, _ = utk
    utkface.convert(src, tmp_path / "out", workers=1)
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="expected images named"):
        utkface.convert(tmp_path / "empty", tmp_path / "out")


def test_inputs_keep_their_order_over_many_chunks_of_work(utk, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Inputs go to the workers a few at a time, several batches in flight: rows and rejections
    come back in the inputs' order."""
    monkeypatch.setattr("latentplay.sources.convert.CHUNK", 3)
    src, good, dirty = utk
    store = utkface.convert(src, tmp_path / "out", workers=2)
    assert rows(store) == expected(good)
    check_rejected(store, dirty)
