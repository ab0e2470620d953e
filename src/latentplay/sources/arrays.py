"""Reading big published arrays in row chunks: one member of an ``.npz``, or an IDX file.

dSprites (737,280 x 64 x 64) and MPI3D (1,036,800 x 64 x 64 x 3, 12 GB) do not fit in memory
once decompressed, and ``np.load`` of an ``.npz`` member reads it whole. These readers parse
the array header and then read only ``rows`` rows at a time from the (possibly compressed)
stream.
"""

from __future__ import annotations

import gzip
import struct
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import numpy as np

from latentplay.errors import UserError

_UNREADABLE = (ValueError, OSError, EOFError, zipfile.BadZipFile)
"""What reading a damaged ``.npy`` member raises (turned into a :class:`UserError`)."""


class TruncatedArray(Exception):
    """The stream ended before all the rows its header announced."""

    def __init__(self, rows_read: int) -> None:
        super().__init__(f"stream ended after {rows_read} rows")
        self.rows_read = rows_read


def npz_members(path: Path) -> list[str]:
    """Array names stored in the ``.npz`` at ``path`` (without the ``.npy`` suffix)."""
    try:
        with zipfile.ZipFile(path) as zf:
            return [n.removesuffix(".npy") for n in zf.namelist() if n.endswith(".npy")]
    except (zipfile.BadZipFile, OSError) as exc:
        raise UserError(f"{path} is not a readable .npz archive ({exc})") from None


def npz_header(path: Path, key: str) -> tuple[tuple[int, ...], np.dtype]:
    """Shape and dtype of array ``key`` in an ``.npz`` without reading its data."""
    with zipfile.ZipFile(path) as zf, zf.open(f"{key}.npy") as fh:
        shape, _, dtype = _npy_header(fh, f"{path}:{key}")
    return shape, dtype


def npz_array(path: Path, key: str) -> np.ndarray:
    """Array ``key`` of the ``.npz`` at ``path``, read whole; a damaged member is a
    :class:`UserError`."""
    try:
        with np.load(path) as npz:
            array = npz[key]
    except _UNREADABLE as exc:
        raise UserError(f"{path}:{key} is not a readable .npy array ({exc})") from None
    if not isinstance(array, np.ndarray):  # np.load hands back the raw bytes of a non-.npy member
        raise UserError(f"{path}:{key} is not a .npy array")
    return array


def npz_chunks(path: Path, key: str, rows: int) -> Iterator[np.ndarray]:
    """Yield array ``key`` of the ``.npz`` at ``path`` in chunks of ``rows`` leading rows.

    Raises :class:`TruncatedArray` if the member ends early.
    """
    with zipfile.ZipFile(path) as zf, zf.open(f"{key}.npy") as fh:
        shape, fortran, dtype = _npy_header(fh, f"{path}:{key}")
        if fortran and len(shape) > 1:
            raise UserError(f"{path}:{key} is stored in Fortran order; cannot stream it")
        yield from _chunks(fh, shape, dtype, rows)


def _npy_header(fh: IO[bytes], where: str) -> tuple[tuple[int, ...], bool, np.dtype]:
    """Shape, Fortran order and dtype of the ``.npy`` stream ``fh`` (``where`` names it)."""
    try:
        version = np.lib.format.read_magic(fh)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(fh)
        else:
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(fh)
    except _UNREADABLE as exc:
        raise UserError(f"{where} is not a readable .npy array ({exc})") from None
    if dtype.hasobject:
        raise UserError(f"{where}: cannot stream an array of Python objects")
    return tuple(shape), bool(fortran), dtype


def _chunks(fh: IO[bytes], shape: tuple[int, ...], dtype: np.dtype,
            rows: int) -> Iterator[np.ndarray]:
    row_shape = shape[1:]
    row_bytes = int(np.prod(row_shape, dtype=np.int64)) * dtype.itemsize
    done = 0
    while done < shape[0]:
        n = min(rows, shape[0] - done)
        data = _read_exactly(fh, n * row_bytes)
        whole = len(data) // row_bytes
        if whole:
            yield np.frombuffer(data[: whole * row_bytes], dtype=dtype).reshape(whole, *row_shape)
        done += whole
        if whole < n:
            raise TruncatedArray(done)


def _read_exactly(fh: IO[bytes], size: int) -> bytes:
    parts: list[bytes] = []
    got = 0
    while got < size:
        try:
            part = fh.read(size - got)
        except (EOFError, zipfile.BadZipFile, OSError):
            break
        if not part:
            break
        parts.append(part)
        got += len(part)
    return b"".join(parts)


# IDX (LeCun's MNIST format): magic 0x0000 <type> <ndim>, then ndim big-endian int32 sizes.
_IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
              0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}


def _open(path: Path) -> IO[bytes]:
    return gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")  # noqa: SIM115


def idx_header(path: Path) -> tuple[tuple[int, ...], np.dtype]:
    """Shape and dtype announced by the IDX file at ``path`` (``.gz`` read transparently)."""
    with _open(path) as fh:
        return _idx_header(fh, path)


def _idx_header(fh: IO[bytes], path: Path) -> tuple[tuple[int, ...], np.dtype]:
    try:
        head = fh.read(4)
        zero, kind, ndim = struct.unpack(">HBB", head)
        shape = struct.unpack(f">{ndim}I", fh.read(4 * ndim))
    except (struct.error, OSError, EOFError) as exc:
        raise UserError(f"{path} is not an IDX file ({exc})") from None
    if zero != 0 or kind not in _IDX_TYPES or ndim == 0:
        raise UserError(f"{path} is not an IDX file (bad magic number)")
    return tuple(shape), np.dtype(_IDX_TYPES[kind])


def idx_chunks(path: Path, rows: int) -> Iterator[np.ndarray]:
    """Yield the IDX array at ``path`` in chunks of ``rows``; :class:`TruncatedArray` if short."""
    with _open(path) as fh:
        shape, dtype = _idx_header(fh, path)
        yield from _chunks(fh, shape, dtype, rows)
