"""Row labels of a store grid by a continuous attribute name the bins as values are put in them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from latentplay import store
from latentplay.store.summary import bin_codes


def test_continuous_grid_rows_are_half_open_like_their_bins(faces_store: Path, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch):
    """Each edge belongs to one bin only (``[a, b)``, the last ``[a, b]``), as ``bin_codes``
    assigns rows and as ``data info`` and ``data bias`` label them; closed labels on every row
    claimed each inner edge for two rows."""
    from latentplay.viz import grid

    seen: dict[str, list[str]] = {}

    def capture(rows, row_labels, **kwargs):  # noqa: ANN001, ANN003, ANN202
        seen["labels"] = list(row_labels)
        return grid.plt.figure()

    monkeypatch.setattr(grid, "image_grid", capture)
    faces = store.load(faces_store)
    grid.save_store_grid(faces, tmp_path / "g.png", by="smile", bins=5)
    names = [label.split("\n")[0] for label in seen["labels"]]
    assert names == ["[-1,-0.6)", "[-0.6,-0.2)", "[-0.2,0.2)", "[0.2,0.6)", "[0.6,1]"]
    codes, edges = bin_codes(faces.labels("smile"), (-1.0, 1.0), 5)
    counts = [int(label.split("n=")[1].rstrip(")")) for label in seen["labels"]]
    assert counts == np.bincount(codes[codes >= 0], minlength=5).tolist()


@pytest.mark.parametrize("by", ["smile", "gender"])
def test_the_grid_reads_the_labels_once(faces_store: Path, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch, by: str) -> None:
    """The attribute's column is read once over the whole store; a continuous one's captions
    are the values of the rows shown, in order."""
    from latentplay.viz import grid

    seen: dict[str, object] = {}

    def capture(rows, row_labels, captions=None, **kwargs):  # noqa: ANN001, ANN003, ANN202
        seen.update(rows=rows, captions=captions)
        return grid.plt.figure()

    faces = store.load(faces_store)
    values = faces.labels(by)
    reads: list[str] = []
    real_labels = store.Store.labels
    monkeypatch.setattr(store.Store, "labels", lambda self, name: (reads.append(name),
                                                                   real_labels(self, name))[1])
    monkeypatch.setattr(grid, "image_grid", capture)
    grid.save_store_grid(faces, tmp_path / "g.png", by=by, per_row=4, bins=3)
    assert reads == [by]
    if by == "smile":
        images = store.load_images(faces, np.arange(len(faces)))
        for row, texts in zip(seen["rows"], seen["captions"], strict=True):
            shown = [int(np.flatnonzero((images == im).all(axis=(1, 2, 3)))[0]) for im in row]
            assert texts == [f"{v:.2f}" for v in values[shown]]
            assert texts == sorted(texts, key=float)
    else:
        assert seen["captions"] is None


def test_images_of_equal_value_come_in_row_order(faces_store: Path, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """A continuous attribute of two values, each shared by eight of 16 faces, all drawn:
    the faces come by value, and those of one value in row order, on every machine (they came
    in the order drawn, which numpy's vectorised default sort, where it runs, reordered)."""
    from latentplay.viz import grid

    seen: dict = {}

    def capture(rows, row_labels, captions=None, **kwargs):  # noqa: ANN001, ANN003, ANN202
        seen.update(rows=rows, captions=captions)
        return grid.plt.figure()

    monkeypatch.setattr(grid, "image_grid", capture)
    faces = store.load(faces_store).select(range(16))
    value = np.tile([0.5, 0.2], 8)
    faces = store.add_attributes(faces, {"score": (store.Attribute("score", "continuous"), value)})
    grid.save_store_grid(faces, tmp_path / "g.png", by="score", per_row=16, bins=1)
    images = store.load_images(faces, np.arange(16))
    shown = [int(np.flatnonzero((images == im).all(axis=(1, 2, 3)))[0]) for im in seen["rows"][0]]
    assert shown == [*range(1, 16, 2), *range(0, 16, 2)]
    assert seen["captions"][0] == ["0.20"] * 8 + ["0.50"] * 8


def test_rows_without_a_value_get_a_row_of_their_own(faces_store: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A continuous grid dropped the rows without a value (400 of 700 after a concat) without
    a word; they are now the last row, ``unknown``, captioned "no value"."""
    from latentplay.viz import grid

    seen: dict = {}

    def capture(rows, row_labels, captions=None, **kwargs):  # noqa: ANN001, ANN003, ANN202
        seen.update(labels=list(row_labels), captions=captions)
        return grid.plt.figure()

    monkeypatch.setattr(grid, "image_grid", capture)
    faces = store.load(faces_store)
    smile = np.asarray(faces.labels("smile"), np.float32).copy()
    smile[::4] = np.nan
    holed = store.save(store.add_attributes(faces, {"smile": (
        faces.schema.attribute("smile"), smile)}, replace=True), tmp_path / "holed")
    grid.save_store_grid(holed, tmp_path / "g.png", by="smile", bins=5)
    assert seen["labels"][-1] == f"unknown\n(n={int(np.isnan(smile).sum())})"
    assert set(seen["captions"][-1]) == {"no value"}


def test_a_store_not_saved_draws_its_grid(faces_store: Path, tmp_path: Path) -> None:
    """A store built in Python and not saved has no path: its grid's title said
    ``store.path.name`` and raised AttributeError."""
    from latentplay.viz import grid

    faces = store.load(faces_store)
    unsaved = store.Store(faces.dataset, faces.schema, None)
    grid.save_store_grid(unsaved, tmp_path / "g.png", by="gender")
    grid.save_store_grid(unsaved, tmp_path / "all.png")
    assert (tmp_path / "g.png").read_bytes()[:4] == b"\x89PNG"
