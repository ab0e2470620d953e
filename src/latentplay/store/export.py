"""Export a store as plain files: ``images/`` plus ``labels.csv`` (for people leaving the tool)."""

from __future__ import annotations

import csv
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from latentplay.errors import UserError
from latentplay.outputs import make_parents, refuse_nonempty, swap_into_place, terminate_as_exit
from latentplay.store.io import Store, opened

_FORMATS = {b"\x89PNG": ".png", b"\xff\xd8\xff": ".jpg", b"GIF8": ".gif", b"BM": ".bmp"}


def _extension(data: bytes) -> str:
    for magic, ext in _FORMATS.items():
        if data.startswith(magic):
            return ext
    return ".img"


def export_store(store: Store | str | os.PathLike[str], to: str | os.PathLike[str],
                 overwrite: bool = False) -> int:
    """Write every image with its original encoded bytes and one CSV row of labels per image.

    ``labels.csv`` has a ``file`` column (relative to ``to``) and one column per attribute:
    class names for categorical attributes, numbers for continuous ones (exactly: the shortest
    text that reads back to the stored value), for factors both the level (``factor_<name>``)
    and its value (``<name>``), and the store's text columns (a converted input's path as
    ``source_file``). Both are written in a hidden folder inside ``to`` and moved into place
    when complete: ``overwrite`` replaces an earlier export's ``images/`` (none of its files
    left behind) and ``labels.csv``, but never an ``images/`` holding files its
    ``labels.csv`` does not list (the user's own); an interrupted export (Ctrl-C, SIGTERM)
    leaves them as they were, and the hidden folder of one killed outright is neither counted
    as content nor left behind by the next. Returns the number of images written (none for a
    store of labels only, whose ``images/`` stays empty and whose ``file`` cells are blank).
    """
    store = opened(store)
    to = Path(to)
    if to.exists() and not to.is_dir():
        raise UserError(f"{to} exists and is not a directory")
    if to.is_dir() and not overwrite and any(not _scratch(p) for p in to.iterdir()):
        refuse_nonempty(to, overwrite)
    if overwrite:
        _refuse_foreign_images(to)
    make_parents(to).mkdir(exist_ok=True)
    with terminate_as_exit():
        scratch = Path(tempfile.mkdtemp(prefix=SCRATCH, dir=to))
        try:
            _write(store, scratch)
            swap_into_place(scratch / "images", to / "images")
            os.replace(scratch / "labels.csv", to / "labels.csv")
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    for stale in filter(_scratch, to.iterdir()):   # of an export killed outright
        shutil.rmtree(stale, ignore_errors=True)
    return len(store) if store.schema.image_column else 0


SCRATCH = ".export-"
"""Prefix of the hidden folder an export is written in before it is moved into place."""


def _scratch(path: Path) -> bool:
    return path.is_dir() and path.name.startswith(SCRATCH)


def _refuse_foreign_images(to: Path) -> None:
    """A :class:`UserError` when ``to/images`` holds a file that ``to/labels.csv`` does not
    list: ``--overwrite`` replaces an earlier export's images, never files put there by hand."""
    images = to / "images"
    if not images.is_dir():
        return
    listed: set[str] = set()
    if (to / "labels.csv").is_file():
        with open(to / "labels.csv", newline="", encoding="utf-8", errors="replace") as fh:
            listed = {row.get("file", "") for row in csv.DictReader(fh)}
    foreign = sorted(p.relative_to(to).as_posix() for p in images.rglob("*")
                     if not p.is_dir() and p.relative_to(to).as_posix() not in listed)
    if foreign:
        raise UserError(f"{images} holds {len(foreign)} file(s) no earlier export wrote "
                        f"({foreign[0]}{', ...' if len(foreign) > 1 else ''}), which --overwrite "
                        "would delete; export to another directory or move them")


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
                data = cell["bytes"]            # load refuses a store whose images are paths
                name = f"images/{start + offset:0{width}d}{_extension(data)}"
                (to / name).write_bytes(data)
                files.append(name)
    with open(to / "labels.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["file", *columns])
        for i in range(len(store)):
            row = [files[i] if files else ""]
            row += [_cell(col[i]) for col in columns.values()]
            writer.writerow(row)


def _cell(value: object) -> str:
    """A label as ``labels.csv`` holds it: a float exactly (the shortest text that reads back
    to the stored value, so values cut at a group's edges stay on their side of them)."""
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    return str(value)
