"""Any image folder plus a label CSV, mapped with ``--columns``.

SRC is the CSV file, or a folder holding exactly one CSV; image paths in the CSV are looked up
relative to the CSV's folder, or by their last parts under it (a backslash separates folders
too, as in CSVs written on Windows); subfolders are not searched. ``--columns`` maps store
attributes to CSV columns, with an optional kind::

    --columns file=path,gender=sex,age=age_years:continuous,smile=smiling:categorical

``file`` (required) names the column holding the image path. Other attributes are
``categorical`` (the default; classes are the distinct values of the rows converted, sorted --
numbers by value, digits within names too (``monk_2`` before ``monk_10``); groups named as
intervals, such as ``3-9``, ``10-19``, ``more than 70`` or ``(0, 2)``, ``(4, 6)``, by their
bounds and marked ordered) or ``continuous`` (numbers; the range is the min..max of the rows
converted). Every CSV row is an input; rows with an empty label, a non-numeric continuous
value, or a missing image are rejected, and give no class and no part of a range (the classes
are fixed before the images are read: a class whose only image turns out unreadable stays,
empty).
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from latentplay.errors import UserError
from latentplay.sources.convert import (
    MISSING,
    NO_CLASS,
    ConvertOptions,
    Plan,
    Record,
    Rejected,
    categorical,
    check_split,
    code_of,
    coded,
    find_file,
    kept_records,
    looked_at,
    read_csv,
    require_columns,
    run,
)
from latentplay.store.binning import interval_order
from latentplay.store.io import Store
from latentplay.store.schema import Attribute, check_column_name

KINDS = ("categorical", "continuous")


def parse_mapping(columns: dict[str, str]) -> tuple[str, dict[str, tuple[str, str]]]:
    """``--columns`` -> (image column, {attribute: (CSV column, kind)})."""
    if "file" not in columns:
        raise UserError("folder: --columns must name the image column, e.g. "
                        "--columns file=path,gender=sex,age=age:continuous")
    file_column = columns["file"]
    attrs: dict[str, tuple[str, str]] = {}
    for name, spec in columns.items():
        if name == "file":
            continue
        column, _, kind = spec.partition(":")
        kind = kind or "categorical"
        if kind not in KINDS:
            raise UserError(f"folder: kind {kind!r} of {name} is not one of {', '.join(KINDS)}")
        if name in ("image", "split") or name.startswith("factor_"):
            raise UserError(f"folder: {name!r} cannot be an attribute name")
        check_column_name(name, "folder: --columns attribute name")
        attrs[name] = (column, kind)
    if not attrs:
        raise UserError("folder: --columns maps no label column besides file")
    return file_column, attrs


def _number(text: str | None) -> float | None:
    try:
        value = float((text or "").strip())
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _class_order(values: set[str]) -> list[str]:
    """Class names sorted: by value when every one is a number (``2`` before ``10``), else as
    text whose runs of digits compare as numbers (``monk_2`` before ``monk_10``)."""
    numbers = {v: _number(v) for v in values}
    if all(n is not None for n in numbers.values()):
        return sorted(values, key=lambda v: (numbers[v], v))
    return sorted(values, key=lambda v: (_digits_as_numbers(v), v))


def _digits_as_numbers(text: str) -> list[tuple[int, int | str]]:
    """``text`` split into runs of digits (compared as numbers) and of other characters (as
    text), each run tagged so that a number and a word never meet in a comparison (a number
    first, as a digit comes before a letter in plain text order)."""
    parts = re.split(r"(\d+)", text)     # words at even places, runs of digits at odd ones
    return [(0, int(part)) if i % 2 else (1, part) for i, part in enumerate(parts) if part]


def scan(root: Path, options: ConvertOptions) -> Plan:
    check_split("folder", options.split, ())
    if root.is_file():
        csv_path = root
    else:
        found = sorted(root.glob("*.csv"))
        if len(found) != 1:
            raise UserError(f"folder: expected one label CSV in {root} (or SRC = the CSV); "
                            f"found {len(found) or 'none'}")
        csv_path = found[0]
    folder = csv_path.parent
    file_column, spec = parse_mapping(options.columns)
    header, rows = read_csv(csv_path)
    require_columns("folder", csv_path, header, [file_column, *(c for c, _ in spec.values())])

    def parse(row: dict[str, str | None]) -> dict[str, Any] | str:
        """The row's labels (class names as written, numbers), or why it is rejected."""
        labels: dict[str, Any] = {}
        for name, (column, kind) in spec.items():
            text = (row.get(column) or "").strip()
            if not text:
                return f"no {name} (column {column!r} is empty)"
            if kind == "categorical":
                labels[name] = text
            elif (number := _number(text)) is None:
                return f"{name} {text!r} is not a number"
            else:
                labels[name] = number
        return labels

    def checked(read: Iterator[tuple[int, dict[str, str | None]]]) -> Iterator[Record | Rejected]:
        """Each row as an input, its classes still named as in the CSV."""
        for line, row in read:
            image = (row.get(file_column) or "").strip()
            where = f"{csv_path.name}:{line}"
            source = f"{where} ({image})" if image else where
            labels = parse(row)
            if not image:
                yield Rejected(source, f"no image path (column {file_column!r} is empty)")
            elif isinstance(labels, str):
                yield Rejected(source, labels)
            elif (path := find_file(folder, image)) is None:
                yield Rejected(source, MISSING, file=looked_at(folder, image))
            else:
                yield Record(image, labels, file=str(path), where=where)

    # classes and ranges must be known before the first row is written: a first pass keeps
    # those of the rows that will be converted (within --limit, not a repeat of an image)
    classes: dict[str, set[str]] = {a: set() for a, (_, k) in spec.items() if k == "categorical"}
    ranges: dict[str, tuple[float, float]] = {}
    for record in kept_records(checked(read_csv(csv_path)[1]), options.limit):
        for name, value in record.labels.items():
            if name in classes:
                classes[name].add(value)
            else:
                low, high = ranges.get(name, (value, value))
                ranges[name] = (min(low, value), max(high, value))
    attrs: list[Attribute] = []
    for name, (column, kind) in spec.items():
        if kind == "categorical":
            intervals = interval_order(sorted(classes[name]))
            attrs.append(categorical(name, intervals or _class_order(classes[name]) or [NO_CLASS],
                                     f"CSV column {column!r}", ordered=intervals is not None))
        else:
            attrs.append(Attribute(name, "continuous", range=ranges.get(name, (0.0, 0.0)),
                                   description=f"CSV column {column!r}"))
    codes = {a.name: code_of(a.names) for a in attrs if a.names}
    return Plan(attrs, coded(checked(rows), codes),
                observed=[a for a, (_, k) in spec.items() if k == "continuous"])


def convert(src: str | os.PathLike[str], out: str | os.PathLike[str], **options: Any) -> Store:
    """Convert an image folder + label CSV mapped by ``columns`` (see ``ConvertOptions``)."""
    return run("folder", scan, src, out, ConvertOptions.of(options))
