"""UTKFace (Zhang, Song & Qi 2017): labels live in the file names.

Layout read: any folder tree of images named ``[age]_[gender]_[race]_[datetime].jpg`` (or
``.jpeg``, ``.png``) -- the aligned-and-cropped ``UTKFace/`` folder (whose files end in
``.jpg.chip.jpg``), the ``crop_part1/`` folder, or the in-the-wild ``part1/``, ``part2/``,
``part3/`` folders.
Published labels: age 0..116, gender 0 = male / 1 = female, race 0..4 = White, Black, Asian,
Indian, Others. Every file under SRC is an input: files whose names do not follow the pattern
(a few published names miss the race field) or carry labels outside these sets are rejected.
The folders publish the same photographs (an aligned crop, a crop, the whole photo) under the
same ``[age]_[gender]_[race]_[datetime]``: only the first in path order is converted
(``UTKFace/`` before ``crop_part1/`` before ``part1/``), each other copy is rejected, so that no
face is counted twice.
"""

from __future__ import annotations

import os
import re
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
    prepare_image,
    relative,
    run,
    walk_files,
)
from latentplay.store.io import Store
from latentplay.store.schema import Attribute

GENDERS = ("male", "female")
RACES = ("White", "Black", "Asian", "Indian", "Others")
MAX_AGE = 116
NAME = re.compile(r"^(\d+)_(\d+)_(\d+)_(\d+)\.(?:jpe?g|png)(\.chip\.jpg)?$", re.IGNORECASE)
# the same shape with any field present: used to tell "malformed" from "no UTKFace name at all"
LOOSE = re.compile(r"^\d+(_[^_]*)*\.(jpe?g|png)(\.chip\.jpg)?$", re.IGNORECASE)


def attributes() -> list[Attribute]:
    return [
        categorical("gender", GENDERS, "0 = male, 1 = female in the file name"),
        categorical("race", RACES, "0..4 in the file name; Others: Hispanic, Latino, ..."),
        Attribute("age", "continuous", range=(0, MAX_AGE), description="age in years"),
    ]


def parse_name(name: str) -> dict[str, Any] | str:
    """Labels of one UTKFace file name, or the reason it cannot be used."""
    match = NAME.match(name)
    if match is None:
        if LOOSE.match(name):
            return "malformed UTKFace name (expected [age]_[gender]_[race]_[datetime].jpg)"
        return "not a UTKFace image name"
    age, gender, race = (int(g) for g in match.groups()[:3])
    if age > MAX_AGE:
        return f"age {age} outside the published 0-{MAX_AGE}"
    if gender >= len(GENDERS):
        return f"gender code {gender} outside the published 0 (male), 1 (female)"
    if race >= len(RACES):
        return f"race code {race} outside the published 0-4"
    return {"gender": gender, "race": race, "age": float(age)}


def _decodes(file: str) -> bool:
    """Whether the image ``file`` decodes whole (read again only where a photograph's name
    repeats, so that a damaged first copy does not turn a good one away)."""
    return prepare_image("", file, None, mode=None)[1] is None


def scan(root: Path, options: ConvertOptions) -> Plan:
    check_split("utkface", options.split, ())
    if not root.is_dir():
        raise UserError(f"utkface: expected a folder of [age]_[gender]_[race]_[datetime].jpg "
                        f"images at {root}, found a file")
    files, unreadable = walk_files(root, root)
    if not any(NAME.match(f.name) for f in files):
        raise UserError(
            f"utkface: expected images named [age]_[gender]_[race]_[datetime].jpg "
            f"(e.g. UTKFace/*.jpg.chip.jpg) under {root}; found none among {len(files)} files"
        )

    def inputs() -> Any:
        first: dict[str, tuple[str, str]] = {}  # [age]_[gender]_[race]_[datetime] -> source, file
        yield from unreadable
        for path in files:
            source = relative(path, root)
            labels = parse_name(path.name)
            if isinstance(labels, str):
                yield Rejected(source, labels)
                continue
            photo = path.name.split(".")[0]
            seen, seen_file = first.setdefault(photo, (source, str(path)))
            if seen != source and _decodes(seen_file):
                yield Rejected(source, f"same photograph as {seen} (same name in another folder)")
            else:  # the first copy, or the first that decodes (a damaged one is rejected as such)
                first[photo] = (source, str(path))
                yield Record(source, labels, file=str(path))

    return Plan(attributes(), inputs(), total=len(files) + len(unreadable))


def convert(src: str | os.PathLike[str], out: str | os.PathLike[str], **options: Any) -> Store:
    """Convert a UTKFace folder into a store (options: see ``ConvertOptions``)."""
    return run("utkface", scan, src, out, ConvertOptions.of(options))
