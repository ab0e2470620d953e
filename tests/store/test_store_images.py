"""Decoding the image column: 16-bit grey images, and cells that hold no readable image."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from latentplay import store as st
from latentplay.errors import UserError
from latentplay.store import Attribute, Provenance, Schema


def _store(path: Path, cells: list[dict[str, bytes | None]]) -> st.Store:
    schema = Schema(attributes=[Attribute("group", "categorical", names=["a", "b"])],
                    provenance=Provenance(source="test", converter="unit"))
    batch = {"image": cells, "group": np.arange(len(cells)) % 2}
    return st.build([batch], schema, path)


def _png16(values: np.ndarray) -> dict[str, bytes | None]:
    buf = io.BytesIO()
    Image.fromarray(values.astype(np.uint16)).save(buf, format="PNG")
    return {"bytes": buf.getvalue(), "path": None}


def test_sixteen_bit_grey_images_are_scaled_to_eight_bits(tmp_path: Path) -> None:
    values = np.linspace(0, 65535, 16).reshape(4, 4)
    store = _store(tmp_path / "s", [_png16(values), _png16(values[::-1])])
    for mode in (None, "L"):
        images = st.load_images(store, mode=mode)
        assert images.shape == (2, 4, 4, 1) and images.dtype == np.uint8
        np.testing.assert_allclose(images[0, ..., 0], values / 257, atol=0.5)
        np.testing.assert_allclose(images[1, ..., 0], values[::-1] / 257, atol=0.5)


def test_a_corrupt_image_is_one_error_naming_its_row(tmp_path: Path) -> None:
    good = st.encode_png(np.zeros((4, 4, 3), np.uint8))
    truncated = {"bytes": good["bytes"][: len(good["bytes"]) // 2], "path": None}
    store = _store(tmp_path / "s", [good, good, truncated, {"bytes": b"not an image", "path": None}])
    assert st.load_images(store, [0, 1]).shape == (2, 4, 4, 3)
    with pytest.raises(UserError, match="row 2 is not a readable image"):
        st.load_images(store)
    with pytest.raises(UserError, match="row 3 is not a readable image"):
        st.load_images(store, [1, 3])


def test_a_mirrored_exif_orientation_a_one_bit_image_and_a_one_channel_array(tmp_path: Path) -> None:
    """EXIF orientation 2 (mirrored) is shown upright; a 1-bit image loads as 8-bit grey
    (one channel); an (H, W, 1) array encodes as that grey image."""
    image = np.zeros((4, 6, 3), np.uint8)
    image[:, :2] = 255                               # white on the left
    exif = Image.Exif()
    exif[0x0112] = 2                                 # Orientation: mirrored left to right
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="PNG", exif=exif)
    bits = io.BytesIO()
    Image.fromarray(np.eye(6, dtype=bool)).save(bits, format="PNG")
    grey = (np.arange(36, dtype=np.uint8) * 7).reshape(6, 6, 1)
    store = _store(tmp_path / "s", [{"bytes": buf.getvalue(), "path": None},
                                    {"bytes": bits.getvalue(), "path": None}, st.encode_png(grey)])
    mirrored = st.load_images(store, [0])[0]
    np.testing.assert_array_equal(mirrored, image[:, ::-1])
    ones = st.load_images(store, [1])[0]
    np.testing.assert_array_equal(ones, np.eye(6, dtype=np.uint8)[..., None] * 255)
    np.testing.assert_array_equal(st.load_images(store, [2])[0], grey)


def test_a_crop_keeps_the_rounded_share_of_the_shorter_side() -> None:
    """crop 0.87 of a 10-pixel side keeps 9 pixels (8.7 rounded), centred."""
    from latentplay.store.images import fit_image

    img = Image.fromarray(np.arange(100, dtype=np.uint8).reshape(10, 10))
    kept = np.asarray(fit_image(img, None, crop=0.87))
    np.testing.assert_array_equal(kept, np.arange(100, dtype=np.uint8).reshape(10, 10)[0:9, 0:9])
