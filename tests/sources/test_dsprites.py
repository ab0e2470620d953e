"""dSprites: the published npz streamed in chunks; factors as in the shapes generator."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
from convert_helpers import check_rejected, image_bytes, rejected

from latentplay import store as st
from latentplay.errors import UserError
from latentplay.sources import dsprites, shapes
from latentplay.sources.convert import prepare_image


def make_npz(path: Path, n: int = 40) -> np.ndarray:
    """A dSprites-shaped npz of ``n`` rows drawn by the shapes renderer; returns the classes."""
    rng = np.random.default_rng(1)
    factors = np.stack([rng.integers(0, s, n) for s in shapes.FACTOR_SIZES], axis=1)
    classes = np.concatenate([np.zeros((n, 1), np.int64), factors], axis=1)
    classes[7, 1] = 3  # shape class outside 0-2
    classes[9, 0] = 1  # colour class outside 0
    classes[11, 4] = 32  # posX class outside 0-31 (posY's size too)
    values = np.zeros(classes.shape)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, imgs=shapes.render(factors), latents_classes=classes,
                        latents_values=values)
    return classes


def test_every_factor_and_rejection(tmp_path: Path) -> None:
    src = tmp_path / "src"
    classes = make_npz(src / dsprites.FILE_NAME)
    store = dsprites.convert(src, tmp_path / "out", workers=2)
    keep = [i for i in range(len(classes)) if i not in (7, 9, 11)]
    check_rejected(store, {f"{dsprites.FILE_NAME}[7]": "shape class 3",
                           f"{dsprites.FILE_NAME}[9]": "color class 1",
                           f"{dsprites.FILE_NAME}[11]": "posX class 32"})
    assert [a.name for a in store.schema.factors] == list(shapes.FACTOR_NAMES)
    for k, name in enumerate(shapes.FACTOR_NAMES):
        assert store.labels(name).tolist() == classes[keep, k + 1].tolist()
        col = store.dataset.with_format("numpy")[name]
        np.testing.assert_allclose(col, shapes.FACTOR_VALUES[name][classes[keep, k + 1]],
                                   rtol=1e-6)
    images = st.load_images(store)
    assert images.shape == (len(keep), 64, 64, 1)
    expected = shapes.render(classes[keep, 1:]) * 255
    np.testing.assert_array_equal(images[..., 0], expected)
    gt = st.StoreGroundTruth(store)
    assert gt.factors_num_values == list(shapes.FACTOR_SIZES)


def _npy(array_header: dict, payload: bytes) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, array_header)
    return buf.getvalue() + payload


def test_limit_truncated_archive_and_layout(tmp_path: Path) -> None:
    path = tmp_path / "d.npz"
    make_npz(path, n=2000)
    store = dsprites.convert(path, tmp_path / "out", limit=5, workers=1)
    assert store.schema.provenance.counts["inputs"] == 5 and len(store) == 5
    # an imgs member announcing 300 rows but holding 120: the rest is rejected, nothing lost
    cut = tmp_path / "cut.npz"
    classes = io.BytesIO()
    np.save(classes, np.zeros((300, 6), np.int64))
    with zipfile.ZipFile(cut, "w") as zf:
        zf.writestr("imgs.npy", _npy({"descr": "|u1", "fortran_order": False,
                                      "shape": (300, 64, 64)}, b"\x01" * (64 * 64 * 120)))
        zf.writestr("latents_classes.npy", classes.getvalue())
    store = dsprites.convert(cut, tmp_path / "o2", workers=1)
    assert len(store) == 120
    assert all(b[:4] == b"\x89PNG" for b in image_bytes(store))
    assert store.schema.provenance.counts == {"inputs": 300, "converted": 120, "rejected": 180}
    assert set(rejected(store)) == {f"cut.npz[{i}]" for i in range(120, 300)}
    np.savez(tmp_path / "other.npz", images=np.zeros((2, 64, 64), np.uint8))
    with pytest.raises(UserError, match="expected arrays imgs and latents_classes"):
        dsprites.convert(tmp_path / "other.npz", tmp_path / "o3")
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="expected the published dsprites_ndarray"):
        dsprites.convert(tmp_path / "empty", tmp_path / "o4")


def test_array_images_are_png() -> None:
    cell, reason = prepare_image("x[0]", None, np.full((64, 64), 255, np.uint8), resize=32,
                                 resample="box", mode=None)
    assert reason is None and cell["bytes"][:4] == b"\x89PNG"


def test_a_damaged_array_member_is_one_line(tmp_path: Path) -> None:
    """An imgs or latents_classes member that is not a .npy array is a UserError naming it."""
    classes = io.BytesIO()
    np.save(classes, np.zeros((3, 6), np.int64))
    imgs = io.BytesIO()
    np.save(imgs, np.zeros((3, 64, 64), np.uint8))
    for bad, match in (("imgs", "imgs is not a readable .npy array"),
                       ("latents_classes", "latents_classes is not a readable .npy array")):
        path = tmp_path / f"{bad}.npz"
        with zipfile.ZipFile(path, "w") as zf:
            for key, good in (("imgs", imgs), ("latents_classes", classes)):
                data = good.getvalue()
                zf.writestr(f"{key}.npy", data[:20] if key == bad else data)
        with pytest.raises(UserError, match=match):
            dsprites.convert(path, tmp_path / f"out_{bad}", workers=1)
