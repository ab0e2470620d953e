"""AI-Face: generator folders + annotation CSV (both published column sets)."""

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
)

from latentplay.errors import UserError
from latentplay.sources import aiface, synthfaces

HEADER = ["Image Path", "Target", "Gender", "Age", "Skin Tone", "Intersection"]
GENERATORS = ["AttGAN", "FFHQ", "Latent_Diffusion"]


def make_aiface(root: Path) -> tuple[dict, list[str], dict]:
    good, order, lines = {}, [], []
    for i in range(15):
        gen = GENERATORS[i % 3]
        rel = f"{gen}/{i:05d}.png"
        write_image(root / rel, face(i))
        # the authors' CSVs carry their own absolute paths: looked up by their tail
        listed = f"/home/authors/AI-Face/{rel}" if i % 2 else rel
        target, gender, age, tone = int(gen != "FFHQ"), i % 2, i % 5, 1 + i % 10
        inter = 3 * gender + (tone - 1) * 3 // 10
        lines.append([listed, target, gender, age, tone, inter])
        good[listed] = {"target": ["real", "fake"][target], "generator": gen,
                        "gender": ["female", "male"][gender], "age_group": aiface.AGES[age],
                        "skin_tone": f"monk_{tone}", "intersection": aiface.INTERSECTIONS[inter]}
        order.append(listed)
    bad = [
        ["AttGAN/missing.png", 1, 0, 0, 1, 0],
        ["AttGAN/b1.png", 2, 0, 0, 1, 0],  # target 2
        ["AttGAN/b2.png", 1, 0, 0, 11, 0],  # skin tone 11
        ["AttGAN/b3.png", 1, 0, 7, 1, 0],  # age group 7
        ["AttGAN/b4.png", 1, 0, 0, 1, 0],  # not an image
    ]
    for b in bad[1:4]:
        write_image(root / b[0], face(0))
    write_not_image(root / bad[4][0])
    reasons = ["missing file", "target", "skin_tone", "age", "not an image"]
    dirty = {f"test.csv:{9 + i} ({b[0]})": reason  # header, 7 good rows, then the bad ones
             for i, (b, reason) in enumerate(zip(bad, reasons, strict=True))}
    write_csv(root / "test.csv", HEADER, lines[:7] + bad + lines[7:])
    return good, order, dirty


def test_every_label_and_every_rejection(tmp_path: Path) -> None:
    good, order, dirty = make_aiface(tmp_path / "src")
    store = aiface.convert(tmp_path / "src", tmp_path / "out", workers=2)
    assert rows(store) == expected(good, order)
    check_rejected(store, dirty)
    assert store.schema.attribute("generator").names == [*GENERATORS, "other"]
    assert [a.name for a in store.schema.attributes][:2] == ["target", "generator"]


def test_classes_are_named_as_synthfaces_names_them(tmp_path: Path) -> None:
    """An annotator fitted on synthfaces reads AI-Face's skin tones and age groups: the same
    attribute and class names, in the same order (they were 1..10 and young, middle-aged)."""
    make_aiface(tmp_path / "src")
    store = aiface.convert(tmp_path / "src", tmp_path / "out", workers=2)
    synth = {a.name: a for a in synthfaces.attributes()}
    for name in ("gender", "age_group", "skin_tone"):
        assert store.schema.attribute(name).names == synth[name].names
        assert store.schema.attribute(name).ordered == synth[name].ordered


def test_first_release_columns_and_mapping(tmp_path: Path) -> None:
    root = tmp_path / "src"
    header = ["Image Path", "Ground Truth Gender", "Ground Truth Age", "Ground Truth Race",
              "Intersection", "Target", "Specific"]
    lines = []
    for i in range(6):
        write_image(root / "x" / f"{i}.jpg", face(i))
        # intersection i is (male, female) x race: gender 1 (male) for i < 4, race i % 4
        lines.append([f"x/{i}.jpg", int(i < 4), i % 4, i % 4, i, i % 2, f"gen{i % 2}"])
    write_image(root / "x" / "6.jpg", face(6))
    lines.append(["x/6.jpg", 1, 4, 0, 0, 0, "gen0"])  # age code 4: the first release has 0-3
    write_csv(root / "train.csv", header, lines)
    store = aiface.convert(root / "train.csv", tmp_path / "out", workers=1)
    check_rejected(store, {"train.csv:8 (x/6.jpg)": "age_group code 4 outside the published set"})
    got = rows(store)
    # the first release's codes: age 0 young, 1 middle_aged, 2 senior, 3 others; race 0 Asian,
    # 1 White, 2 Black, 3 Others
    assert [g["age_group"] for _, g in got] == ["young", "middle_aged", "senior", "others", "young",
                                                "middle_aged"]
    assert [g["race"] for _, g in got] == ["Asian", "White", "Black", "Others", "Asian", "White"]
    assert [g["gender"] for _, g in got] == ["male"] * 4 + ["female"] * 2
    assert [g["intersection"] for _, g in got] == list(aiface.INTERSECTIONS_FIRST[:6])
    assert [g["generator"] for _, g in got] == [f"gen{i % 2}" for i in range(6)]
    renamed = root / "renamed.csv"
    write_csv(renamed, ["path", "fake", *header[1:5]],
              [[r[0], r[5], *r[1:5]] for r in lines])
    store = aiface.convert(renamed, tmp_path / "o2", workers=1,
                           columns={"path": "path", "target": "fake"})
    assert [g["target"] for _, g in rows(store)] == [["real", "fake"][i % 2] for i in range(6)]
    with pytest.raises(UserError, match="lacks column"):
        aiface.convert(renamed, tmp_path / "o3")


def test_wrong_layout(tmp_path: Path) -> None:
    (tmp_path / "src" / "AttGAN").mkdir(parents=True)
    with pytest.raises(UserError, match="expected AI-Face's annotation CSV"):
        aiface.convert(tmp_path / "src", tmp_path / "out")


def test_codes_that_are_no_class_are_rejected(tmp_path: Path) -> None:
    root = tmp_path / "src"
    codes = {"a": "1", "b": "1.0", "c": "1.5", "d": "inf", "e": "nan", "f": "-0.5"}
    for k in codes:
        write_image(root / "FFHQ" / f"{k}.png", face(0))
    write_csv(root / "test.csv", ["Image Path", "Target", "Gender"],
              [[f"FFHQ/{k}.png", 0, g] for k, g in codes.items()])
    store = aiface.convert(root, tmp_path / "out", workers=1)
    assert [(f, g["gender"]) for f, g in rows(store)] == [("FFHQ/a.png", "male"),
                                                          ("FFHQ/b.png", "male")]
    check_rejected(store, {f"test.csv:{4 + i} (FFHQ/{k}.png)": "not a whole-number code"
                           for i, k in enumerate("cdef")})


def test_an_intersection_contradicting_gender_is_rejected(tmp_path: Path) -> None:
    root = tmp_path / "src"
    # (image, gender, skin tone, intersection): codes 0-2 are female, 3-5 male
    lines = [("ok0", 0, 1, 0), ("ok1", 1, 10, 5), ("bad0", 1, 1, 0), ("bad1", 0, 10, 5)]
    for name, *_ in lines:
        write_image(root / "FFHQ" / f"{name}.png", face(0))
    write_csv(root / "test.csv", ["Image Path", "Target", "Gender", "Skin Tone", "Intersection"],
              [[f"FFHQ/{n}.png", 0, g, t, x] for n, g, t, x in lines])
    store = aiface.convert(root, tmp_path / "out", workers=1)
    assert [(f, g["gender"], g["intersection"]) for f, g in rows(store)] == [
        ("FFHQ/ok0.png", "female", "female,skintone1"), ("FFHQ/ok1.png", "male", "male,skintone3")]
    check_rejected(store, {"test.csv:4 (FFHQ/bad0.png)": "contradicts gender 1 (male)",
                           "test.csv:5 (FFHQ/bad1.png)": "contradicts gender 0 (female)"})
    # first release: codes 0-3 are male x (Asian, White, Black, Others), 4-7 female x the same
    first = [("ok2", 1, 2, 2), ("ok3", 0, 3, 7), ("bad2", 1, 1, 2), ("bad3", 1, 3, 7)]
    for name, *_ in first:
        write_image(root / "FFHQ" / f"{name}.png", face(0))
    write_csv(root / "train.csv", ["Image Path", "Target", "Ground Truth Gender",
                                   "Ground Truth Race", "Intersection"],
              [[f"FFHQ/{n}.png", 0, g, r, x] for n, g, r, x in first])
    store = aiface.convert(root / "train.csv", tmp_path / "o2", workers=1)
    assert [(f, g["intersection"]) for f, g in rows(store)] == [
        ("FFHQ/ok2.png", "male,Black"), ("FFHQ/ok3.png", "female,Others")]
    check_rejected(store, {"train.csv:4 (FFHQ/bad2.png)": "contradicts race 1 (White)",
                           "train.csv:5 (FFHQ/bad3.png)": "contradicts gender 1 (male)"})


@pytest.mark.parametrize(("column", "codes", "groups", "unclear"), [
    # code 2 and no 5: the authors' code's 0-4 (their code reads the column "Predicted Age")
    ("Age", (0, 1, 2, 3, 4), aiface.AGES, ()),
    ("Predicted Age", (0, 1, 2, 3, 4), aiface.AGES, ()),
    # code 5 and no 2: their README's 0, 1, 3, 4, 5 (3 is adult, not middle-aged)
    ("Age", (0, 1, 3, 4, 5), aiface.AGES, ()),
    # neither (or both): 3 and 4 (or 2-5) mean different groups in the two numberings
    ("Age", (0, 1, 3, 4), ("child", "youth"), (3, 4)),
    ("Age", (0, 1, 2, 5), ("child", "youth"), (2, 5)),
])
def test_the_csv_tells_which_published_age_numbering_it_uses(
        tmp_path: Path, column: str, codes: tuple[int, ...], groups: tuple[str, ...],
        unclear: tuple[int, ...]) -> None:
    root = tmp_path / "src"
    for c in codes:
        write_image(root / "FFHQ" / f"{c}.png", face(c))
    write_csv(root / "test.csv", ["Image Path", "Target", column],
              [[f"FFHQ/{c}.png", 0, c] for c in codes])
    store = aiface.convert(root, tmp_path / "out", workers=1)
    assert [g["age_group"] for _, g in rows(store)] == list(groups)
    check_rejected(store, {f"test.csv:{codes.index(c) + 2} (FFHQ/{c}.png)": "the CSV does not tell which"
                           for c in unclear})


@pytest.mark.parametrize(("codes", "tones", "rejected"), [
    ((1, 5, 10), ["monk_1", "monk_5", "monk_10"], ()),         # 1-10, as published
    ((0, 4, 9), ["monk_1", "monk_5", "monk_10"], ()),          # written 0-9: a 0 and no 10
    ((0, 5, 10), ["monk_5", "monk_10"], (0,)),            # both ends: as published, 0 outside it
])
def test_the_csv_tells_how_its_skin_tones_are_numbered(
        tmp_path: Path, codes: tuple[int, ...], tones: list[str], rejected: tuple[int, ...]) -> None:
    """Monk tones written 0-9 were read one tone too light, tone 10 rejected."""
    root = tmp_path / "src"
    for c in codes:
        write_image(root / "FFHQ" / f"{c}.png", face(c))
    write_csv(root / "test.csv", ["Image Path", "Target", "Skin Tone"],
              [[f"FFHQ/{c}.png", 0, c] for c in codes])
    store = aiface.convert(root, tmp_path / "out", workers=1)
    assert [g["skin_tone"] for _, g in rows(store)] == tones
    check_rejected(store, {f"test.csv:{codes.index(c) + 2} (FFHQ/{c}.png)": "outside the published set"
                           for c in rejected})
