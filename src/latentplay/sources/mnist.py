"""MNIST (LeCun et al. 1998) from its four IDX files.

Layout read: ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte`` (each possibly ``.gz``; the
``train-images.idx3-ubyte`` spelling too) in SRC, ``SRC/raw`` or ``SRC/MNIST/raw`` (torchvision's
folder). Every image is an input; labels outside 0-9 and images cut off by a truncated file
are rejected. Splits: train (60,000) and test (10,000).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from latentplay.errors import UserError
from latentplay.sources.arrays import TruncatedArray, idx_chunks, idx_header
from latentplay.sources.convert import (
    ConvertOptions,
    Plan,
    Record,
    Rejected,
    categorical,
    check_split,
    run,
    split_attribute,
)
from latentplay.store.io import Store
from latentplay.store.schema import Attribute

SPLITS = {"train": "train", "test": "t10k"}
FOLDERS = (".", "raw", "MNIST/raw")
ROWS = 4096


def attributes() -> list[Attribute]:
    return [categorical("digit", [str(d) for d in range(10)]), split_attribute(SPLITS)]


def _find(root: Path, prefix: str, kind: str) -> Path | None:
    dims = "idx3" if kind == "images" else "idx1"
    for folder in FOLDERS:
        for stem in (f"{prefix}-{kind}-{dims}-ubyte", f"{prefix}-{kind}.{dims}-ubyte"):
            for suffix in ("", ".gz"):
                path = root / folder / f"{stem}{suffix}"
                if path.is_file():
                    return path
    return None


def _labels(path: Path) -> np.ndarray:
    """All labels of an IDX label file as ``(n,)`` int64; fewer when the file is truncated."""
    parts = [np.zeros(0, np.int64)]
    try:
        parts.extend(chunk.astype(np.int64) for chunk in idx_chunks(path, 1 << 20))
    except TruncatedArray:
        pass
    return np.concatenate(parts)


def scan(root: Path, options: ConvertOptions) -> Plan:
    check_split("mnist", options.split, SPLITS)
    files: dict[str, tuple[Path, Path]] = {}
    for split, prefix in SPLITS.items():
        images, labels = _find(root, prefix, "images"), _find(root, prefix, "labels")
        if images is not None and labels is not None:
            files[split] = (images, labels)
    if not root.is_dir() or not files:
        raise UserError(
            f"mnist: expected the IDX files train-images-idx3-ubyte, train-labels-idx1-ubyte, "
            f"t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte (or .gz) in {root}; found none"
        )
    splits = [s for s in files if options.split in (None, s)]
    if not splits:
        raise UserError(f"mnist: the {options.split} IDX files are not in {root}")
    sizes: dict[str, int] = {}
    for split in splits:
        images, labels = files[split]
        shape, _ = idx_header(images)
        lshape, _ = idx_header(labels)
        if len(shape) != 3 or len(lshape) != 1 or lshape[0] != shape[0]:
            raise UserError(f"mnist: {images.name} {shape} and {labels.name} {lshape} do not "
                            f"hold matching images (N, 28, 28) and labels (N,)")
        sizes[split] = shape[0]

    def inputs() -> Iterator[Record | Rejected]:
        for split in splits:
            images, labels_file = files[split]
            digits = _labels(labels_file)
            i = 0
            try:
                for chunk in idx_chunks(images, ROWS):
                    for pixels in chunk:
                        source = f"{images.name}[{i}]"
                        if i >= len(digits):
                            yield Rejected(source, f"{labels_file.name} is truncated here")
                        elif not 0 <= digits[i] <= 9:
                            yield Rejected(source, f"label {digits[i]} outside 0-9")
                        else:
                            labels = {"digit": int(digits[i]),
                                      "split": list(SPLITS).index(split)}
                            yield Record(source, labels, pixels=np.ascontiguousarray(pixels))
                        i += 1
            except TruncatedArray:
                for j in range(i, sizes[split]):
                    yield Rejected(f"{images.name}[{j}]", "image file truncated")

    return Plan(attributes(), inputs(), total=sum(sizes.values()), mode=None)


def convert(src: str | os.PathLike[str], out: str | os.PathLike[str], **options: Any) -> Store:
    """Convert the four MNIST IDX files into a store (see ``ConvertOptions``)."""
    return run("mnist", scan, src, out, ConvertOptions.of(options))
