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
