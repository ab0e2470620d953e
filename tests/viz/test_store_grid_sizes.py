"""data grid on stores whose images differ in size (original bytes kept), and on attributes of
thousands of classes (identities)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from latentplay import store as st
from latentplay.store.schema import Attribute, Provenance, Schema


def _store(path: Path, shapes: list[tuple[int, ...]], identities: list[int] | None = None,
           names: list[str] | None = None) -> st.Store:
    """A store of one image per shape in ``shapes`` (``(H, W)`` grey or ``(H, W, 3)``), each a
    flat colour, with ``identity`` classes ``identities`` (default: two, alternating)."""
    rng = np.random.default_rng(0)
    n = len(shapes)
    codes = identities if identities is not None else [i % 2 for i in range(n)]
    names = names or [f"id{k}" for k in range(max(codes) + 1)]
    schema = Schema(attributes=[Attribute("identity", "categorical", names=names)],
                    provenance=Provenance(source="test", converter="test"))
    images = [np.full(shape, rng.integers(0, 256), np.uint8) for shape in shapes]
    return st.build([{"image": [st.encode_png(im) for im in images], "identity": codes}],
                    schema, path)


MIXED = [(40, 40, 3), (30, 50, 3), (64, 48, 3), (40, 40), (40, 40, 3), (30, 50, 3)]


@pytest.mark.parametrize("by", [[], ["--by", "identity"]])
def test_images_of_different_sizes_are_drawn(tmp_path: Path, cli, by: list[str]) -> None:
    """A store converted with the original bytes (in-the-wild photos, EXIF-turned ones) has
    images of several sizes, grey among colour: data grid (which had no size option) failed
    with "give a size to resize them"; now they are brought to one square size and it says so."""
    path = _store(tmp_path / "s", MIXED).path
    res = cli("data", "grid", path, "--out", tmp_path / "g.png", *by)
    assert res.code == 0, res.err
    assert "note: images differ in size (50x30, 40x40, 48x64): each is shown centre-cropped " \
           "to a square of 48x48 (--size N to choose)" in res.err
    with Image.open(tmp_path / "g.png") as grid:
        assert grid.size[0] > 100
    res = cli("data", "grid", path, "--out", tmp_path / "h.png", "--size", "32", *by)
    assert res.code == 0 and "note:" not in res.err
    res = cli("data", "grid", path, "--out", tmp_path / "h.png", "--size", "0")
    assert res.code == 2 and res.err.strip() == "error: --size must be at least 1, got 0"


def test_common_size_crops_to_the_centre_and_keeps_agreeing_images() -> None:
    from latentplay.viz.grid import AUTO_SIDE_MAX, common_size

    wide = np.zeros((20, 60, 3), np.uint8)
    wide[:, 20:40] = 255  # white centre square, black sides
    rows, note = common_size([[wide], [np.full((10, 10, 1), 7, np.uint8)]])
    assert [r.shape for r in rows] == [(1, 20, 20, 3), (1, 20, 20, 3)] and note is not None
    assert rows[0].min() == 255 and (rows[1] == 7).all()  # the centre kept; grey made RGB
    same = [np.zeros((20, 60, 3), np.uint8)] * 2
    rows, note = common_size([same])
    assert rows[0].shape == (2, 20, 60, 3) and note is None  # agreeing sizes are left alone
    rows, _ = common_size([[np.zeros((900, 1000, 3), np.uint8), wide]])
    assert rows[0].shape == (2, AUTO_SIDE_MAX, AUTO_SIDE_MAX, 3)
    rows, note = common_size([same], size=8)
    assert rows[0].shape == (2, 8, 8, 3) and note is None


def test_many_groups_are_capped_to_the_largest(tmp_path: Path, cli, monkeypatch) -> None:
    """--by identity on thousands of identities drew one row each (a 300 x 237,705 pixel PNG)
    without a word; now the largest groups are drawn, and the title and a note say how many
    were left out."""
    from latentplay.viz import grid

    identities = [k for k in range(60) for _ in range(1 + (k % 7 == 3))]  # id3, id10, ... twice
    path = _store(tmp_path / "s", [(8, 8, 3)] * len(identities), identities).path
    seen: dict = {}
    real = grid.image_grid

    def capture(rows, row_labels, **kwargs):  # noqa: ANN001, ANN003, ANN202
        seen.update(labels=list(row_labels), title=kwargs.get("title"))
        return real(rows, row_labels, **kwargs)

    monkeypatch.setattr(grid, "image_grid", capture)
    res = cli("data", "grid", path, "--out", tmp_path / "g.png", "--by", "identity",
              "--max-groups", "12")
    assert res.code == 0, res.err
    twice = [k for k in range(60) if k % 7 == 3]  # 9 groups of two rows, then the first singles
    shown = [label.split("\n")[0] for label in seen["labels"]]
    assert shown == [f"id{k}" for k in sorted([*twice, 0, 1, 2])]  # in the attribute's order
    assert seen["title"].endswith("(the 12 largest of 60 groups)")
    # named by the store's folder, not its converter's module (latentplay.sources.folder)
    assert seen["title"].startswith("s by identity")
    assert "note: showing the 12 largest of 60 identity groups; 48 smaller groups (48 rows) " \
           "left out (--max-groups)" in res.err
    res = cli("data", "grid", path, "--out", tmp_path / "g.png", "--by", "identity")
    assert res.code == 0 and len(seen["labels"]) == 40
    with Image.open(tmp_path / "g.png") as grid:
        height = grid.size[1]
    assert height < 40 * 1.2 * 120  # 40 rows, not 60


def test_a_chosen_size_is_drawn_at_its_pixels_up_to_a_limit(tmp_path: Path, cli) -> None:
    """--size 1024 drew into the same 0.9-inch cells as the default (a 1272-pixel PNG after
    8 s), and no size was too large: a chosen size now widens the cells to show its pixels,
    and is at most 512."""
    path = _store(tmp_path / "s", [(40, 40, 3)] * 4).path
    widths = {}
    for size in ("32", "300"):
        assert cli("data", "grid", path, "--out", tmp_path / f"{size}.png", "--size", size).code == 0
        with Image.open(tmp_path / f"{size}.png") as grid:
            widths[size] = grid.size[0]
    assert widths["300"] > 4 * 300 > widths["32"]          # four images a row, each 300 wide
    res = cli("data", "grid", path, "--out", tmp_path / "x.png", "--size", "513")
    assert res.code == 2 and res.err.strip() == "error: --size is at most 512 pixels, got 513"
    assert not (tmp_path / "x.png").exists()


def test_a_grid_of_random_images_says_so_and_labels_no_rows(tmp_path: Path, cli,
                                                           monkeypatch) -> None:
    from latentplay.viz import grid

    drawn = {}
    monkeypatch.setattr(grid, "image_grid", lambda rows, labels, **kw: drawn.update(
        labels=labels, **kw) or grid.plt.figure())
    path = _store(tmp_path / "s", [(8, 8, 3)] * 12).path
    assert cli("data", "grid", path, "--out", tmp_path / "g.png", "--per-row", "5").code == 0
    assert drawn["labels"] == ["", "", ""] and drawn["title"] == "s: 12 of its 12 images, drawn at random"
