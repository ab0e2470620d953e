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
from latentplay.sources import aiface

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
                        "gender": ["female", "male"][gender], "age": aiface.AGES[age],
                        "skin_tone": str(tone), "intersection": aiface.INTERSECTIONS[inter]}
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
    dirty = {"AttGAN/missing.png": "missing file", "AttGAN/b1.png": "target",
             "AttGAN/b2.png": "skin_tone", "AttGAN/b3.png": "age",
             "AttGAN/b4.png": "not an image"}
    write_csv(root / "test.csv", HEADER, lines[:7] + bad + lines[7:])
    return good, order, dirty


def test_every_label_and_every_rejection(tmp_path: Path) -> None:
    good, order, dirty = make_aiface(tmp_path / "src")
    store = aiface.convert(tmp_path / "src", tmp_path / "out", workers=2)
    assert rows(store) == expected(good, order)
    check_rejected(store, dirty)
    assert store.schema.attribute("generator").names == [*GENERATORS, "other"]
    assert [a.name for a in store.schema.attributes][:2] == ["target", "generator"]


def test_first_release_columns_and_mapping(tmp_path: Path) -> None:
    root = tmp_path / "src"
    header = ["Image Path", "Ground Truth Gender", "Ground Truth Age", "Ground Truth Race",
              "Intersection", "Target", "Specific"]
    lines = []
    for i in range(6):
        write_image(root / "x" / f"{i}.jpg", face(i))
        lines.append([f"x/{i}.jpg", i % 2, i % 4, (i + 1) % 4, i, i % 2, f"gen{i % 2}"])
    write_csv(root / "train.csv", header, lines)
    store = aiface.convert(root / "train.csv", tmp_path / "out", workers=1)
    got = rows(store)
    assert [g["age"] for _, g in got] == [aiface.AGES_FIRST[i % 4] for i in range(6)]
    assert [g["race"] for _, g in got] == [aiface.RACES[(i + 1) % 4] for i in range(6)]
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
    (tmp_path / "AttGAN").mkdir()
    with pytest.raises(UserError, match="expected AI-Face's annotation CSV"):
        aiface.convert(tmp_path, tmp_path / "out")
