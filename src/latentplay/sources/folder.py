"""Any image folder plus a label CSV, mapped with ``--columns``.

SRC is the CSV file, or a folder holding exactly one CSV; image paths in the CSV are looked up
relative to the CSV's folder (or by their tail under it). ``--columns`` maps store attributes to
CSV columns, with an optional kind::

    --columns file=path,gender=sex,age=age_years:continuous,smile=smiling:categorical

``file`` (required) names the column holding the image path. Other attributes are
``categorical`` (the default; classes are the distinct values found, sorted — numbers by
value; groups named as intervals, such as ``3-9``, ``10-19``, ``more than 70`` or ``(0, 2)``,
``(4, 6)``, by their bounds and marked ordered) or ``continuous`` (numbers; the range is the
observed min..max). Every CSV row is an input; rows with an empty label, a non-numeric
continuous value, or a missing image are rejected.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from latentplay.errors import UserError
from latentplay.sources.convert import (
    ConvertOptions,
    Plan,
    Record,
    Rejected,
    categorical,
    check_split,
    find_file,
    read_csv,
    require_columns,
    run,
)
from latentplay.store.binning import interval_order
from latentplay.store.io import Store
from latentplay.store.schema import Attribute

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
    text."""
    numbers = {v: _number(v) for v in values}
    if all(n is not None for n in numbers.values()):
        return sorted(values, key=lambda v: (numbers[v], v))
    return sorted(values)


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
    # class names and ranges must be known before the first row is written: one pass
    values: dict[str, set[str]] = {a: set() for a, (_, k) in spec.items() if k == "categorical"}
    ranges: dict[str, list[float]] = {a: [] for a, (_, k) in spec.items() if k == "continuous"}
    _, first = read_csv(csv_path)
    for _, row in first:
        for name, (column, kind) in spec.items():
            if kind == "categorical":
                text = (row.get(column) or "").strip()
                if text:
                    values[name].add(text)
            elif (v := _number(row.get(column))) is not None:
                r = ranges[name]
                ranges[name] = [min(v, r[0]), max(v, r[1])] if r else [v, v]
    attrs: list[Attribute] = []
    for name, (column, kind) in spec.items():
        if kind == "categorical":
            intervals = interval_order(sorted(values[name]))
            attrs.append(categorical(name, intervals or _class_order(values[name]),
                                     f"CSV column {column!r}", ordered=intervals is not None))
        else:
            lo, hi = ranges[name] or [0.0, 0.0]
            attrs.append(Attribute(name, "continuous", range=(lo, hi),
                                   description=f"CSV column {column!r}"))
    codes = {name: {v: i for i, v in enumerate(a.names or [])}
             for name, a in zip(spec, attrs, strict=True) if a.kind == "categorical"}

    def parse(row: dict[str, str]) -> dict[str, Any] | str:
        labels: dict[str, Any] = {}
        for name, (column, kind) in spec.items():
            text = (row.get(column) or "").strip()
            if not text:
                return f"no {name} (column {column!r} is empty)"
            if kind == "categorical":
                labels[name] = codes[name][text]
            elif (number := _number(text)) is None:
                return f"{name} {text!r} is not a number"
            else:
                labels[name] = number
        return labels

    def inputs() -> Iterator[Record | Rejected]:
        for line, row in rows:
            image = (row.get(file_column) or "").strip()
            where = f"{csv_path.name}:{line}"
            source = f"{where} ({image})" if image else where
            labels = parse(row)
            if not image:
                yield Rejected(source, f"no image path (column {file_column!r} is empty)")
            elif isinstance(labels, str):
                yield Rejected(source, labels)
            elif (path := find_file(folder, image)) is None:
                yield Rejected(source, "missing file")
            else:
                yield Record(image, labels, file=str(path), where=where)

    return Plan(attrs, inputs())


def convert(src: str | os.PathLike[str], out: str | os.PathLike[str], **options: Any) -> Store:
    """Convert an image folder + label CSV mapped by ``columns`` (see ``ConvertOptions``)."""
    return run("folder", scan, src, out, ConvertOptions(**options))
