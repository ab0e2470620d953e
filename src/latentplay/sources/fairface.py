"""FairFace (Kärkkäinen & Joo 2021): two label CSVs beside the ``train/`` and ``val/`` folders.

Layout read (the image zip, e.g. ``fairface-img-margin025-trainval``, unpacked with the two label
files next to its folders)::

    SRC/fairface_label_train.csv   file,age,gender,race,service_test
    SRC/fairface_label_val.csv
    SRC/train/1.jpg ...  SRC/val/1.jpg ...

Every CSV row is an input; its ``file`` is relative to SRC. Published label sets: 9 age bins,
gender Male/Female, 7 races, ``service_test`` True/False (a row without one is rejected; label
files without the column, as early releases are, give a store without ``service_test``).
``rejected.csv`` names a rejected row by its label file and line, then its image:
``fairface_label_train.csv:7 (train/91.jpg)``.
"""

from __future__ import annotations

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
    code_of,
    read_csv,
    require_columns,
    run,
    split_attribute,
)
from latentplay.store.io import Store
from latentplay.store.schema import Attribute

AGES = ("0-2", "3-9", "10-19", "20-29", "30-39", "40-49", "50-59", "60-69", "more than 70")
GENDERS = ("Male", "Female")
RACES = ("White", "Black", "Latino_Hispanic", "East Asian", "Southeast Asian", "Indian",
         "Middle Eastern")
SPLITS = ("train", "val")
LABEL_FILES = {split: f"fairface_label_{split}.csv" for split in SPLITS}
COLUMNS = ("file", "age", "gender", "race")
BOOLS = {"true": 1, "false": 0}


def attributes(service: bool = True) -> list[Attribute]:
    """The store's attributes; ``service_test`` only when the label files have that column."""
    return [
        categorical("gender", GENDERS),
        categorical("race", RACES, "7 race groups as published"),
        categorical("age", AGES, "age bin as published", ordered=True),
        *([categorical("service_test", ("False", "True"),
                       "in the balanced subset the authors used to test commercial services")]
          if service else []),
        split_attribute(SPLITS),
    ]


_CODES = {"gender": code_of(GENDERS), "race": code_of(RACES), "age": code_of(AGES)}


def parse_row(row: dict[str, str | None], service: bool = True) -> dict[str, Any] | str:
    """Labels of one CSV row (without split; ``service_test`` when ``service``), or the reason
    it cannot be used."""
    labels: dict[str, Any] = {}
    for name, codes in _CODES.items():
        if row.get(name) is None:
            return f"row has no {name} (fewer fields than the header)"
        value = (row.get(name) or "").strip()
        if value not in codes:
            return f"{name} {value!r} not in the published set"
        labels[name] = codes[value]
    if service:
        if row.get("service_test") is None:
            return "row has no service_test (fewer fields than the header)"
        value = (row.get("service_test") or "").strip().lower()
        if value not in BOOLS:
            return f"service_test {value!r} is not True/False"
        labels["service_test"] = BOOLS[value]
    return labels


def scan(root: Path, options: ConvertOptions) -> Plan:
    check_split("fairface", options.split, SPLITS)
    found = {s: root / f for s, f in LABEL_FILES.items() if (root / f).is_file()}
    if not root.is_dir() or not found:
        raise UserError(
            f"fairface: expected {LABEL_FILES['train']} and {LABEL_FILES['val']} beside the "
            f"train/ and val/ image folders in {root}; found neither"
        )
    splits = [s for s in SPLITS if s in found and options.split in (None, s)]
    if options.split is not None and options.split not in found:
        raise UserError(f"fairface: {LABEL_FILES[options.split]} not found in {root}")
    readers = []
    service = True
    for split in splits:
        header, rows = read_csv(found[split])
        require_columns("fairface", found[split], header, COLUMNS)
        readers.append((split, found[split], rows))
        service = service and "service_test" in header

    def inputs() -> Iterator[Record | Rejected]:
        for split, csv_path, rows in readers:
            for line, row in rows:
                file = (row.get("file") or "").strip()
                where = f"{csv_path.name}:{line}"
                labels = parse_row(row, service)
                if not file:
                    yield Rejected(where, "row has no file")
                elif isinstance(labels, str):
                    yield Rejected(f"{where} ({file})", labels)
                else:
                    labels["split"] = SPLITS.index(split)
                    yield Record(file, labels, file=str(root / file), where=where)

    return Plan(attributes(service), inputs())


def convert(src: str | os.PathLike[str], out: str | os.PathLike[str], **options: Any) -> Store:
    """Convert FairFace (label CSVs + image folders) into a store (see ``ConvertOptions``)."""
    return run("fairface", scan, src, out, ConvertOptions.of(options))
