"""Export a store as plain files: ``images/`` plus ``labels.csv`` (for people leaving the tool)."""

from __future__ import annotations

import csv
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from latentplay.errors import UserError
from latentplay.outputs import make_parents, refuse_nonempty, swap_into_place
from latentplay.store.io import Store

_FORMATS = {b"\x89PNG": ".png", b"\xff\xd8\xff": ".jpg", b"GIF8": ".gif", b"BM": ".bmp"}


def _extension(data: bytes) -> str:
    for magic, ext in _FORMATS.items():
        if data.startswith(magic):
            return ext
    return ".img"


def export_store(store: Store, to: str | os.PathLike[str], overwrite: bool = False) -> int:
    """Write every image with its original encoded bytes and one CSV row of labels per image.

    ``labels.csv`` has a ``file`` column (relative to ``to``) and one column per attribute:
    class names for categorical attributes, numbers for continuous ones, for factors both
    the level (``factor_<name>``) and its value (``<name>``), and the store's text columns
    (a converted input's path as ``source_file``). Both are written in a hidden folder inside
    ``to`` and moved into place when complete: ``overwrite`` replaces an earlier ``images/``
    (none of its files left behind) and ``labels.csv``, and an interrupted export leaves them
    as they were. Returns the number of images.
    """
    to = Path(to)
    if to.exists() and not to.is_dir():
        raise UserError(f"{to} exists and is not a directory")
    refuse_nonempty(to, overwrite)
    make_parents(to).mkdir(exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".export-", dir=to))
    try:
        _write(store, scratch)
        swap_into_place(scratch / "images", to / "images")
        os.replace(scratch / "labels.csv", to / "labels.csv")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return len(store)


def _write(store: Store, to: Path) -> None:
    """``images/`` and ``labels.csv`` of ``store`` (:func:`export_store`) into ``to``."""
    image_dir = to / "images"
    image_dir.mkdir()
    schema = store.schema
    columns: dict[str, np.ndarray | list[str]] = {}
    for attr in schema.attributes:
        values = store.labels(attr.name)
        if attr.kind == "categorical":
            names = list(attr.names or [])
            columns[attr.name] = [names[v] if v >= 0 else "" for v in values]
        elif attr.kind == "factor":
            columns[schema.column_of(attr)] = values
            levels = np.asarray(attr.values)
            columns[attr.name] = levels[values]
        else:
            columns[attr.name] = values
    for name in schema.text_columns:  # e.g. the converted input's path, as ``source_file``
        columns["source_file" if name == "file" else name] = store.dataset[name]
    width = max(6, len(str(len(store))))
    files: list[str] = []
    if schema.image_column:
        cells = store.dataset.with_format("arrow", columns=[schema.image_column])
        for start in range(0, len(store), 1000):
            batch = cells[start : start + 1000][schema.image_column].to_pylist()
            for offset, cell in enumerate(batch):
                data = cell["bytes"] or Path(cell["path"]).read_bytes()
                name = f"images/{start + offset:0{width}d}{_extension(data)}"
                (to / name).write_bytes(data)
                files.append(name)
    with open(to / "labels.csv", "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["file", *columns])
        for i in range(len(store)):
            row = [files[i] if files else ""]
            row += [_cell(col[i]) for col in columns.values()]
            writer.writerow(row)


def _cell(value: object) -> str:
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.6g}"
    return str(value)
