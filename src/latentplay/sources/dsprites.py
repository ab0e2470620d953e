"""dSprites (Matthey et al. 2017) from its published ``.npz``.

Layout read: ``dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz`` (SRC is the file or a folder
holding it) with ``imgs`` ``(737280, 64, 64)`` uint8 in {0, 1} and ``latents_classes``
``(737280, 6)`` int: color (1 value), shape (3), scale (6), orientation (40), posX (32),
posY (32). Every row is an input; rows whose classes fall outside those sizes are rejected.
The store has the same factors as :mod:`latentplay.sources.shapes` (``factor_shape`` ... with
dSprites' level values), images as 64x64 grey PNGs with values 0/255, rows in published order.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from latentplay.errors import UserError
from latentplay.sources.arrays import TruncatedArray, npz_array, npz_chunks, npz_header, npz_members
from latentplay.sources.convert import ConvertOptions, Plan, Record, Rejected, check_split, run
from latentplay.sources.shapes import FACTOR_NAMES, FACTOR_SIZES, FACTOR_VALUES, attributes
from latentplay.store.io import Store

FILE_NAME = "dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz"
LATENTS = ("color", "shape", "scale", "orientation", "posX", "posY")
SIZES = (1, *FACTOR_SIZES)
ROWS = 1024  # rows read from the archive at a time


def find_npz(root: Path, preferred: str, format: str, expected: str) -> Path:
    """The ``.npz`` SRC names: the file itself, ``preferred`` in the folder, or its only npz."""
    if root.is_file():
        return root
    if (root / preferred).is_file():
        return root / preferred
    found = sorted(root.glob("*.npz"))
    if len(found) == 1:
        return found[0]
    raise UserError(f"{format}: expected {expected} in {root}; found "
                    f"{len(found) or 'no'} .npz files")


def scan(root: Path, options: ConvertOptions) -> Plan:
    check_split("dsprites", options.split, ())
    path = find_npz(root, FILE_NAME, "dsprites", f"the published {FILE_NAME}")
    keys = npz_members(path)
    if "imgs" not in keys or "latents_classes" not in keys:
        raise UserError(f"dsprites: expected arrays imgs and latents_classes in {path}; "
                        f"found {', '.join(keys) or 'none'}")
    shape, _ = npz_header(path, "imgs")
    classes = npz_array(path, "latents_classes")
    if len(shape) != 3 or classes.ndim != 2 or classes.shape != (shape[0], len(SIZES)):
        raise UserError(f"dsprites: expected imgs (N, 64, 64) and latents_classes (N, 6) in "
                        f"{path}; found {shape} and {classes.shape}")
    name = path.name

    def check(row: np.ndarray) -> str | None:
        for latent, size, level in zip(LATENTS, SIZES, row, strict=True):
            if not 0 <= level < size:
                return f"{latent} class {level} outside the published 0-{size - 1}"
        return None

    def inputs() -> Iterator[Record | Rejected]:
        start = 0
        try:
            for chunk in npz_chunks(path, "imgs", ROWS):
                for offset, pixels in enumerate(chunk):
                    i = start + offset
                    source = f"{name}[{i}]"
                    reason = check(classes[i])
                    if reason:
                        yield Rejected(source, reason)
                        continue
                    labels: dict[str, Any] = {}
                    for k, factor in enumerate(FACTOR_NAMES):
                        level = int(classes[i, k + 1])
                        labels[f"factor_{factor}"] = level
                        labels[factor] = float(FACTOR_VALUES[factor][level])
                    yield Record(source, labels, pixels=(pixels > 0).astype(np.uint8) * 255)
                start += len(chunk)
        except TruncatedArray as exc:
            for i in range(exc.rows_read, shape[0]):
                yield Rejected(f"{name}[{i}]", "imgs array truncated in the archive")

    return Plan(attributes(), inputs(), total=shape[0], mode=None)


def convert(src: str | os.PathLike[str], out: str | os.PathLike[str], **options: Any) -> Store:
    """Convert the published dSprites ``.npz`` into a store (see ``ConvertOptions``)."""
    return run("dsprites", scan, src, out, ConvertOptions.of(options))
