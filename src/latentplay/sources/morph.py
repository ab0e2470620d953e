"""MORPH II (Ricanek & Tesafaye 2006), academic release: a CSV plus an image folder.

Layout read: SRC holds the CSV (``morph_2008_nonCommercial.csv``, or the only ``*.csv``) and the
images, e.g. ``Album2/``. Columns read (rename with ``--columns field=CSV column``):

=========  ==========  ===============================================================
field      default     values
=========  ==========  ===============================================================
photo      ``photo``   image path; tried as given, under SRC, by its tail under SRC, as
                       ``Album2/<name>`` and ``Album2/<first 3 characters>/<name>``
identity   ``id_num``  subject number (any text)
age        ``age``     years, 0-120
gender     ``gender``  M / F
race       ``race``    B (Black), W (White), H (Hispanic), A (Asian), I (Indian), O (Other)
=========  ==========  ===============================================================

Every CSV row is an input. A photo path written on Windows (``C:\\MORPH\\Album2\\x.JPG``) is
split at its backslashes. The identities are those of the rows converted.
"""

from __future__ import annotations

import os
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
    mapped,
    path_parts,
    read_csv,
    require_columns,
    run,
)
from latentplay.store.io import Store
from latentplay.store.schema import Attribute

CSV_NAME = "morph_2008_nonCommercial.csv"
DEFAULTS = {"photo": "photo", "identity": "id_num", "age": "age", "gender": "gender",
            "race": "race"}
GENDERS = {"M": "male", "F": "female"}
RACES = {"B": "Black", "W": "White", "H": "Hispanic", "A": "Asian", "I": "Indian", "O": "Other"}
MAX_AGE = 120


def find_csv(root: Path, preferred: str, format: str, expected: str) -> Path:
    """The label CSV SRC names: the file itself, ``preferred`` in the folder, or its only CSV."""
    if root.is_file():
        return root
    if (root / preferred).is_file():
        return root / preferred
    found = sorted(root.glob("*.csv"))
    if len(found) == 1:
        return found[0]
    raise UserError(f"{format}: expected {expected} in {root}; found "
                    f"{len(found) or 'no'} CSV files")


def scan(root: Path, options: ConvertOptions) -> Plan:
    check_split("morph", options.split, ())
    csv_path = find_csv(root, CSV_NAME, "morph", f"{CSV_NAME} (MORPH II's label CSV)")
    folder = csv_path.parent
    cols = mapped(DEFAULTS, options.columns, "morph")
    header, rows = read_csv(csv_path)
    require_columns("morph", csv_path, header, cols.values())

    def parse(row: dict[str, str | None]) -> dict[str, Any] | str:
        """The row's labels (the identity as written), or why it is rejected."""
        gender = (row.get(cols["gender"]) or "").strip().upper()
        race = (row.get(cols["race"]) or "").strip().upper()
        ident = (row.get(cols["identity"]) or "").strip()
        try:
            age = float(row.get(cols["age"]) or "")
        except ValueError:
            return f"age {row.get(cols['age'])!r} is not a number"
        if gender not in GENDERS:
            return f"gender {gender!r} not in the published M/F"
        if race not in RACES:
            return f"race {race!r} not in the published {'/'.join(RACES)}"
        if not 0 <= age <= MAX_AGE:
            return f"age {age:g} outside 0-{MAX_AGE}"
        if not ident:
            return "no identity"
        return {"gender": list(GENDERS).index(gender), "race": list(RACES).index(race),
                "age": age, "identity": ident}

    def checked(read: Iterator[tuple[int, dict[str, str | None]]]) -> Iterator[Record | Rejected]:
        """Each row as an input, its identity still named as in the CSV."""
        for line, row in read:
            photo = (row.get(cols["photo"]) or "").strip()
            where = f"{csv_path.name}:{line}"
            source = f"{where} ({photo})" if photo else where
            labels = parse(row)
            if not photo:
                yield Rejected(source, "row has no photo")
            elif isinstance(labels, str):
                yield Rejected(source, labels)
            else:
                name = [photo, *path_parts(photo)][-1]
                path = find_file(folder, photo, (f"Album2/{name}", f"Album2/{name[:3]}/{name}"))
                if path is None:
                    yield Rejected(source, MISSING, file=looked_at(folder, photo))
                else:
                    yield Record(photo, labels, file=str(path), where=where)

    # identities must be known before the first row is written: a first pass over the CSV keeps
    # those of the rows that will be converted
    ids = sorted({r.labels["identity"] for r in kept_records(checked(read_csv(csv_path)[1]),
                                                              options.limit)},
                 key=lambda v: (len(v), v))
    attrs: list[Attribute] = [
        categorical("gender", GENDERS.values(), "M / F in the CSV"),
        categorical("race", RACES.values(), "B W H A I O in the CSV"),
        Attribute("age", "continuous", range=(0, MAX_AGE), description="age in years"),
        categorical("identity", ids or [NO_CLASS], "MORPH subject number (id_num)"),
    ]
    return Plan(attrs, coded(checked(rows), {"identity": code_of(ids)}))


def convert(src: str | os.PathLike[str], out: str | os.PathLike[str], **options: Any) -> Store:
    """Convert MORPH II (label CSV + images) into a store (see ``ConvertOptions``)."""
    return run("morph", scan, src, out, ConvertOptions.of(options))
