"""MPI3D: factors from the row number of the published grid, or from a labels array."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
from convert_helpers import check_rejected, face

from latentplay import store as st
from latentplay.errors import UserError
from latentplay.sources import mpi3d


def test_grid_order_is_the_published_one() -> None:
    rows = np.array([0, 1, 40, 1600, mpi3d.NUM_IMAGES - 1])
    factors = mpi3d.factors_of_rows(rows)
    assert factors[1].tolist() == [0, 0, 0, 0, 0, 0, 1]  # vertical_axis is fastest
    assert factors[2].tolist() == [0, 0, 0, 0, 0, 1, 0]
    assert factors[3].tolist() == [0, 0, 0, 0, 1, 0, 0]
    assert factors[4].tolist() == [s - 1 for s in mpi3d.SIZES]
    assert mpi3d.grid_index(factors).tolist() == rows.tolist()
    assert mpi3d.SIZES == (6, 6, 2, 3, 3, 40, 40) and mpi3d.NUM_IMAGES == 1036800


def test_factor_names_are_the_published_ones() -> None:
    """Level names as MPI3D's README numbers them; colours and shapes have no order."""
    attrs = {a.name: a for a in mpi3d.attributes()}
    assert attrs["object_color"].names == ["white", "green", "red", "blue", "brown", "olive"]
    assert attrs["object_shape"].names == ["cone", "cube", "cylinder", "hexagonal", "pyramid",
                                           "sphere"]
    assert attrs["object_size"].names == ["small", "large"]
    assert attrs["camera_height"].names == ["top", "center", "bottom"]
    assert attrs["background_color"].names == ["purple", "sea green", "salmon"]
    assert [n for n, a in attrs.items() if a.nominal] == ["object_color", "object_shape",
                                                          "background_color"]


def _images(n: int) -> np.ndarray:
    return np.stack([face(i) for i in range(n)])


def test_full_grid_streamed_without_labels(tmp_path: Path) -> None:
    """An archive whose header announces the full grid; --limit reads only its first rows."""
    path = tmp_path / "mpi3d_toy.npz"
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buf, {"descr": "|u1", "fortran_order": False, "shape": (mpi3d.NUM_IMAGES, 64, 64, 3)})
    block = np.zeros((4096, 64, 64, 3), np.uint8)
    block[0], block[1601] = face(0), face(1)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("images.npy", buf.getvalue() + block.tobytes())
    store = mpi3d.convert(path, tmp_path / "out", limit=2000, workers=2)
    assert len(store) == 2000
    factors = np.stack([store.labels(n) for n in mpi3d.NAMES], axis=1)
    np.testing.assert_array_equal(factors, mpi3d.factors_of_rows(np.arange(2000)))
    images = st.load_images(store, indices=[0, 1601, 5])
    np.testing.assert_array_equal(images[0], face(0))
    np.testing.assert_array_equal(images[1], face(1))
    assert images[2].max() == 0
    assert [a.name for a in store.schema.factors] == list(mpi3d.NAMES)


@pytest.mark.parametrize("key", ["labels", "latents_classes"])
def test_labels_array_and_rejections(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     key: str) -> None:
    """Factors read from either array name, in the row order of the images, chunk after chunk."""
    monkeypatch.setattr(mpi3d, "ROWS", 8)
    factors = mpi3d.factors_of_rows(np.arange(0, 30 * 977, 977))
    factors[4, 0] = 6  # object_color outside 0-5
    (tmp_path / "src").mkdir()
    np.savez(tmp_path / "src" / "mpi3d_sub.npz", images=_images(30), **{key: factors})
    store = mpi3d.convert(tmp_path / "src", tmp_path / "out", workers=1)
    check_rejected(store, {"mpi3d_sub.npz[4]": "object_color level 6"})
    keep = [i for i in range(30) if i != 4]
    got = np.stack([store.labels(n) for n in mpi3d.NAMES], axis=1)
    np.testing.assert_array_equal(got, factors[keep])
    np.testing.assert_array_equal(st.load_images(store), _images(30)[keep])


def test_wrong_layout(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    np.savez(src / "a.npz", images=_images(3))
    with pytest.raises(UserError, match="no labels array; the published grid has 1036800"):
        mpi3d.convert(src / "a.npz", tmp_path / "out")
    np.savez(src / "b.npz", imgs=np.zeros((3, 64, 64), np.uint8))
    with pytest.raises(UserError, match="expected an images array"):
        mpi3d.convert(src / "b.npz", tmp_path / "out")
    with pytest.raises(UserError, match="found 2 .npz files"):
        mpi3d.convert(src, tmp_path / "out")


def test_an_archive_in_fortran_order_is_refused(tmp_path: Path) -> None:
    """Rows streamed from a Fortran-ordered member would mix pixels of different images."""
    np.savez(tmp_path / "f.npz", images=np.asfortranarray(_images(3)),
             labels=mpi3d.factors_of_rows(np.arange(3)))
    with pytest.raises(UserError, match="Fortran order; cannot stream it"):
        mpi3d.convert(tmp_path / "f.npz", tmp_path / "out", workers=1)
