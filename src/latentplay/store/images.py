"""Encoding and decoding the image column."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator, Sequence

import numpy as np
from PIL import ExifTags, Image, ImageOps

from latentplay.errors import UserError
from latentplay.store.io import Store, opened
from latentplay.store.rows import row_numbers


def uint8_image(image: np.ndarray) -> np.ndarray:
    """``image`` when it is uint8 (0..255), as every image latentplay reads and writes is; a
    :class:`UserError` for another type (floats in [0, 1] would be read as 0 or 1 of 255, if
    PIL did not refuse them with a TypeError)."""
    image = np.asarray(image)
    if image.dtype != np.uint8:
        raise UserError(f"images must be uint8 (0..255), got {image.dtype}: for values in [0, 1] "
                        "pass (image * 255).round().astype(np.uint8)")
    return image


def encode_png(image: np.ndarray) -> dict[str, bytes | None]:
    """Encode one ``(H, W)`` or ``(H, W, C)`` uint8 image as an ``Image()`` cell (PNG bytes)."""
    buf = io.BytesIO()
    image = uint8_image(image)
    arr = image[..., 0] if image.ndim == 3 and image.shape[2] == 1 else image
    Image.fromarray(arr).save(buf, format="PNG", compress_level=1)
    return {"bytes": buf.getvalue(), "path": None}


def decode(cell: dict[str, bytes | str | None] | None, row: int | None = None) -> Image.Image:
    """Open one ``Image()`` cell from its bytes (never from the path a cell may name: a
    store's images are in it, :func:`~latentplay.store.io.load`), upright: turned
    as its EXIF orientation asks, as ``datasets.Image`` decodes it. A 16-bit grey image (PIL
    mode ``I;16`` or ``I``, as 16-bit PNGs open) comes back as 8-bit ``L`` (value / 257):
    as uint8 its values would wrap around. A cell that holds no readable image is a
    :class:`UserError` naming ``row`` (and the cell's path)."""
    where = "an image" if row is None else f"row {row}"
    path = (cell or {}).get("path")
    where += f" ({path})" if path else ""
    if not cell or not cell.get("bytes"):
        raise UserError(f"{where} has no image" + (" stored, only a path" if path else ""))
    try:
        img = Image.open(io.BytesIO(cell["bytes"]))  # type: ignore[arg-type]
        img.load()  # decodes the whole stream: a corrupt or truncated image fails here
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError) as exc:
        raise UserError(f"{where} is not a readable image ({exc})") from None
    return eight_bit(ImageOps.exif_transpose(img) if turned(img) else img)


def eight_bit(img: Image.Image) -> Image.Image:
    """``img`` with 16-bit grey levels (PIL mode ``I;16*`` or ``I``, as 16-bit PNGs open) scaled
    to 8-bit ``L`` (value / 257; converting would clip every level above 255 to white); any
    other image unchanged."""
    if img.mode != "I" and not img.mode.startswith("I;16"):
        return img
    grey = np.asarray(img).astype(np.float64) / 257.0
    return Image.fromarray(np.clip(np.round(grey), 0, 255).astype(np.uint8))


def turned(image: Image.Image) -> bool:
    """Whether ``image``'s EXIF Orientation tag asks for a rotation or a flip to show it
    upright (as photos taken with a turned camera do)."""
    return image.getexif().get(ExifTags.Base.Orientation, 1) in range(2, 9)


def fit_image(img: Image.Image, size: int | None, crop: float = 1.0) -> Image.Image:
    """Centre-crop ``img`` to a square of side ``crop`` x its shorter side, then resize it to
    ``size x size`` (bilinear) when ``size`` is given. ``crop=1`` keeps the whole image (a
    non-square image is then only resized)."""
    if crop < 1.0:
        w, h = img.size
        side = max(1, int(round(min(w, h) * crop)))
        left, top = (w - side) // 2, (h - side) // 2
        img = img.crop((left, top, left + side, top + side))
    if size is not None and img.size != (size, size):
        img = img.resize((size, size), Image.Resampling.BILINEAR)
    return img


def fitted_array(img: Image.Image, size: int | None = None, crop: float = 1.0) -> np.ndarray:
    """``(H, W, C)`` uint8 array of ``img`` after :func:`fit_image` (C = 1 for gray)."""
    arr = np.asarray(fit_image(img, size, crop), dtype=np.uint8)
    return arr[..., None] if arr.ndim == 2 else arr


MODES = ("L", "LA", "RGB", "RGBA", "CMYK", "YCbCr", "LAB", "HSV")
"""PIL modes an image may be converted to: those of 8 bits per channel (uint8 arrays)."""


def check_fit(size: int | None, mode: str | None, crop: float) -> None:
    """Refuse a ``size`` below 1, a ``mode`` PIL cannot convert to and a ``crop`` outside
    ``(0, 1]``, before any image is decoded (PIL failed on the first image, deep in a loop)."""
    if size is not None and int(size) < 1:
        raise UserError(f"size must be at least 1 pixel, got {size}")
    if mode is not None and mode not in MODES:
        raise UserError(f"mode {mode!r}: choose a PIL mode such as RGB or L ({', '.join(MODES)})")
    if not 0 < crop <= 1:
        raise UserError(f"crop must be in (0, 1] (the share of the shorter side kept), got {crop}")


def fitted_arrays(images: Sequence[np.ndarray] | np.ndarray, size: int | None = None,
                  mode: str | None = None, crop: float = 1.0) -> np.ndarray | list[np.ndarray]:
    """Each ``(H, W[, C])`` uint8 image converted to PIL ``mode`` (default: kept), centre-cropped
    to ``crop`` and resized to ``size`` (see :func:`fit_image`).

    Returns:
        ``(N, size, size, C)`` uint8 when all results agree in shape, else a list.
    """
    check_fit(size, mode, crop)
    out = []
    for im in images:
        im = uint8_image(im)
        img = Image.fromarray(im[..., 0] if im.ndim == 3 and im.shape[2] == 1 else im)
        if mode is not None and img.mode != mode:
            img = img.convert(mode)
        out.append(fitted_array(img, size, crop))
    return np.stack(out) if out and len({a.shape for a in out}) == 1 else out


def load_images(
    store: Store | str | os.PathLike[str],
    indices: Sequence[int] | np.ndarray | None = None,
    size: int | None = None,
    mode: str | None = None,
    crop: float = 1.0,
) -> np.ndarray:
    """Decode images of ``store`` into one uint8 array.

    Args:
        store: the store or its path.
        indices: rows to load: row numbers or an ``(N,)`` boolean mask (all rows when None).
        size: resize to ``size x size`` (bilinear) when given; images must otherwise agree.
        mode: PIL mode such as ``"RGB"`` or ``"L"``; default keeps the stored mode (CMYK
            becomes RGB, palette, 1-bit and 16-bit grey images 8-bit gray).
        crop: keep a centred square of this fraction of the shorter side before resizing
            (see :func:`fit_image`).

    Returns:
        ``(n, H, W, C)`` uint8 array (C = 1 for gray images).
    """
    store = opened(store)
    rows = _rows(store, indices, size, mode, crop)
    images = _decoded(store, rows, size, mode, crop)
    first = next(images, None)
    if first is None:
        return np.zeros((0, 0, 0, 0), dtype=np.uint8)
    # written straight into one array: a list of images beside its stacked copy held them twice
    out = np.empty((len(rows), *first.shape), dtype=np.uint8)
    out[0] = first
    for i, arr in enumerate(images, start=1):
        if arr.shape != first.shape:
            shapes = {first.shape, arr.shape} | {a.shape for a in images}
            raise UserError(f"images differ in {_difference(shapes)}")
        out[i] = arr
    return out


def load_image_list(
    store: Store,
    indices: Sequence[int] | np.ndarray | None = None,
    size: int | None = None,
    mode: str | None = None,
    crop: float = 1.0,
) -> list[np.ndarray]:
    """Decode images of ``store`` as :func:`load_images` does, each kept at its own shape.

    Returns:
        one ``(H, W, C)`` uint8 array per row (C = 1 for gray images); shapes may differ.
    """
    return list(_decoded(store, _rows(store, indices, size, mode, crop), size, mode, crop))


READ_CHUNK = 1024
"""Rows whose encoded images are held at a time while decoding (a whole column of bytes, as
Arrow cells and as Python bytes, took twice the store's size on disk)."""


def _rows(store: Store, indices: Sequence[int] | np.ndarray | None, size: int | None,
          mode: str | None, crop: float) -> np.ndarray:
    """``(k,)`` row numbers of ``indices`` (all rows when None), once the store is known to
    hold an image column and ``size``, ``mode`` and ``crop`` are valid (:func:`check_fit`)."""
    column = store.schema.image_column
    if not column or column not in store.columns:
        raise UserError("this store has no image column")
    check_fit(size, mode, crop)
    return np.arange(len(store)) if indices is None else row_numbers(indices, len(store))


def _decoded(store: Store, rows: np.ndarray, size: int | None, mode: str | None, crop: float
             ) -> Iterator[np.ndarray]:
    """Each ``(H, W, C)`` uint8 image of ``rows`` (C = 1 for gray), as :func:`load_images`
    converts and fits it, reading the encoded cells :data:`READ_CHUNK` rows at a time."""
    column = store.schema.image_column
    dataset = store.dataset.with_format("arrow", columns=[column])
    for start in range(0, len(rows), READ_CHUNK):
        part = rows[start:start + READ_CHUNK]
        for row, cell in zip(part, dataset[part][column].to_pylist(), strict=True):
            img = decode(cell, int(row))
            if mode is not None and img.mode != mode:
                img = img.convert(mode)
            elif img.mode in ("1", "P", "CMYK"):
                img = img.convert("RGB" if img.mode == "CMYK" else "L")
            yield fitted_array(img, size, crop)


def _difference(shapes: set[tuple[int, ...]]) -> str:
    """How images of ``(H, W, C)`` ``shapes`` differ, and what makes them agree."""
    parts = []
    sizes = sorted({shape[:2] for shape in shapes})
    channels = sorted({shape[2] for shape in shapes})
    if len(sizes) > 1:
        shown = ", ".join(f"{w}x{h}" for h, w in sizes[:3]) + (", ..." if len(sizes) > 3 else "")
        parts.append(f"size ({shown}; give a size to resize them, or make a store of one "
                     "size: latentplay data convert ... --resize N)")
    if len(channels) > 1:
        shown = ", ".join(map(str, channels))
        parts.append(f"channels ({shown}; give a mode such as RGB to convert them)")
    return " and in ".join(parts)
