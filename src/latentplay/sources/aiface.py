"""AI-Face (Lin et al., CVPR 2025): real and generated faces with demographic annotations.

Layout read: SRC is the unpacked dataset -- one folder per source or generator (``AttGAN/``,
``Latent_Diffusion/``, ``Palette/``, ``FFHQ/`` ...) -- holding the authors' annotation CSV
(``train.csv`` / ``test.csv``; name one with SRC=the CSV, or SRC holding one CSV). Image paths
in the CSV may be the authors' absolute paths: each is looked up under SRC by its tail.

Columns read (the first header present wins; rename with ``--columns field=CSV column``):

============  ===================================  =========================================
field         CSV column                           values
============  ===================================  =========================================
path          Image Path                           image file (required)
target        Target                               0 real, 1 fake (required)
generator     Specific / Generator, else the       any text
              SRC folder the image lies in
gender        Gender / Ground Truth Gender         0 female, 1 male
age_group     Age / Predicted Age                  child, youth, adult, middle_aged, senior:
                                                   0-4 (authors' code) or 0, 1, 3, 4, 5
                                                   (their README), see below
              Ground Truth Age (first release)     0 young, 1 middle_aged, 2 senior, 3 others
race          Ground Truth Race (first release)    0 Asian, 1 White, 2 Black, 3 Others
skin_tone     Skin Tone                            Monk skin tone 1-10, as monk_1 ... monk_10
                                                   (written 0-9 in a CSV holding a 0 and no 10)
intersection  Intersection                         0-5: (female, male) x skin tone group 1-3;
                                                   first release 0-7: (male, female) x race
============  ===================================  =========================================

The class names are synthfaces' (``age_group``, ``monk_1`` ...), so that what is fitted on the
one (an annotator, a direction) reads the other.

Every CSV row is an input; codes outside these sets are rejected, and so is a row whose
intersection class contradicts its gender (or, in the first release, its race) column: the
authors' README and their code disagree on the order of the intersection codes (their code,
read here, puts female first), so this check makes a wrong order reject rows, not mislabel them.
They disagree on the age codes too: the code numbers the five groups 0-4, the README 0, 1, 3, 4,
5 (no 2). The CSV tells which: one holding code 2 and no 5 is read as 0-4, one holding 5 and no
2 as 0, 1, 3, 4, 5; in any other CSV the codes whose group depends on the numbering (2-5) are
rejected rather than guessed.
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
    find_file,
    read_csv,
    require_columns,
    run,
)
from latentplay.sources.morph import find_csv
from latentplay.sources.synthfaces import AGE_GROUPS, SKIN_TONES
from latentplay.store.io import Store
from latentplay.store.schema import Attribute

CANDIDATES: dict[str, tuple[str, ...]] = {
    "path": ("Image Path",),
    "target": ("Target",),
    "generator": ("Specific", "Generator"),
    "gender": ("Gender", "Ground Truth Gender"),
    "age_group": ("Age", "Predicted Age", "Ground Truth Age"),
    "race": ("Ground Truth Race",),
    "skin_tone": ("Skin Tone",),
    "intersection": ("Intersection",),
}
REQUIRED = ("path", "target")
FIRST_RELEASE = "Ground Truth Gender"  # the first release's annotation columns
AGES = AGE_GROUPS  # synthfaces' names (the published "Young", "Middle-aged" ... as they are)
# the two published numberings of AGES: the authors' code (0-4) and their README (no 2)
AGE_CODES = {"code": (0, 1, 2, 3, 4), "README": (0, 1, 3, 4, 5)}
AGES_FIRST = ("young", "middle_aged", "senior", "others")
RACES = ("Asian", "White", "Black", "Others")
INTERSECTIONS = tuple(f"{g},skintone{t}" for g in ("female", "male") for t in (1, 2, 3))
INTERSECTIONS_FIRST = tuple(f"{g},{r}" for g in ("male", "female") for r in RACES)


def whole_number(text: str) -> int | None:
    """``text`` as a whole number ("1", or pandas' "1.0"), or None (not a number, 1.5, nan)."""
    try:
        number = float(text)
    except ValueError:
        return None
    return int(number) if number.is_integer() else None


def age_numbering(texts: set[str]) -> dict[int, int]:
    """Age code -> position in :data:`AGES` for a CSV whose age column holds ``texts``: the one
    published numbering (:data:`AGE_CODES`) that has every code of 0-5 found, else only the
    codes both numberings give the same group (0 child, 1 youth)."""
    code, readme = ({c: i for i, c in enumerate(n)} for n in AGE_CODES.values())
    found = {whole_number(t) for t in texts} & (code.keys() | readme.keys())
    fits = [m for m in (code, readme) if found <= m.keys()]
    return fits[0] if len(fits) == 1 else {c: i for c, i in code.items() if readme.get(c) == i}


def tone_numbering(codes: set[str]) -> int:
    """The code of Monk tone 1 in a CSV holding the skin-tone ``codes``: 1 (tones written
    1-10, as published), or 0 where the CSV holds a 0 and no 10 (tones written 0-9: read as
    1-10, every tone would be one too light and tone 10 rejected)."""
    numbers = {whole_number(c) for c in codes}
    return 0 if 0 in numbers and 10 not in numbers else 1


def _columns(header: list[str], given: dict[str, str]) -> dict[str, str]:
    unknown = [k for k in given if k not in CANDIDATES]
    if unknown:
        raise UserError(f"aiface: --columns names unknown field(s) {', '.join(unknown)}; "
                        f"fields: {', '.join(CANDIDATES)}")
    out = {}
    for field, names in CANDIDATES.items():
        column = given.get(field) or next((n for n in names if n in header), None)
        if column is not None:
            out[field] = column
    return out


def _classes(field: str, column: str, first_release: bool) -> tuple[str, ...]:
    if field == "gender":
        return ("female", "male")
    if field == "target":
        return ("real", "fake")
    if field == "age_group":
        return AGES_FIRST if column == "Ground Truth Age" else AGES
    if field == "race":
        return RACES
    if field == "skin_tone":
        return SKIN_TONES
    return INTERSECTIONS_FIRST if first_release else INTERSECTIONS


def scan(root: Path, options: ConvertOptions) -> Plan:
    check_split("aiface", options.split, ())
    csv_path = find_csv(root, "train.csv", "aiface", "AI-Face's annotation CSV (train.csv)")
    folder = csv_path.parent
    header, rows = read_csv(csv_path)
    cols = _columns(header, options.columns)
    require_columns("aiface", csv_path, header,
                    [cols.get(f, CANDIDATES[f][0]) for f in REQUIRED])
    first_release = FIRST_RELEASE in header
    coded = [f for f in ("target", "gender", "age_group", "race", "skin_tone", "intersection")
             if f in cols]
    classes = {f: _classes(f, cols[f], first_release) for f in coded}
    new_ages = classes.get("age_group") == AGES  # two published numberings: the CSV tells which
    found: dict[str, set[str]] = {f: set() for f in ("generator", "age_group", "skin_tone") if f in cols}
    if found:  # one light pass over the CSV before the first row
        _, first = read_csv(csv_path)
        for _, r in first:
            for f, values in found.items():
                values.add((r.get(cols[f]) or "").strip())
    if "generator" in cols:
        generators = sorted(found["generator"] - {""})
    else:
        generators = [*sorted(p.name for p in folder.iterdir() if p.is_dir()), "other"]
    age_of = age_numbering(found.get("age_group", set())) if new_ages else {}
    tone_offset = tone_numbering(found.get("skin_tone", set()))
    attrs: list[Attribute] = [categorical(f, classes[f], f"AI-Face {cols[f]!r}",
                                          ordered=classes[f] in (AGES, SKIN_TONES))
                              for f in coded if f != "target"]
    attrs.insert(0, categorical("target", classes["target"], "AI-Face 'Target' (real/fake)"))
    attrs.insert(1, categorical("generator", generators, "source dataset or generator"))
    gen_code = {g: i for i, g in enumerate(generators)}

    def code(field: str, raw: str | None) -> int | str:
        text = (raw or "").strip()
        value = whole_number(text)
        if value is None:  # text, 1.5, nan, inf: no class (1.0 is pandas' 1)
            return f"{field} {text!r} is not a whole-number code"
        if field == "age_group" and new_ages:  # the first release's codes are read as the others
            if value in age_of:
                return age_of[value]
            groups = [AGES[n.index(value)] if value in n else "no group" for n in AGE_CODES.values()]
            if groups != ["no group"] * 2:
                return (f"age code {value} is {groups[0]} in the authors' code but {groups[1]} in "
                        "their README, and the CSV does not tell which (it holds codes 2 and 5, "
                        "or neither)")
            return f"age code {value} outside the published set"
        offset = tone_offset if field == "skin_tone" else 0
        if not 0 <= value - offset < len(classes[field]):
            return f"{field} code {value} outside the published set"
        return value - offset

    def generator_of(row: dict[str, str], path: Path) -> str:
        if "generator" in cols:
            return (row.get(cols["generator"]) or "").strip()
        parts = path.relative_to(folder).parts if path.is_relative_to(folder) else ()
        return parts[0] if len(parts) > 1 and parts[0] in gen_code else "other"

    def disagreement(labels: dict[str, int]) -> str:
        """Why the row's intersection class contradicts its gender (or, first release, race)
        column -- the sign of a code order other than the one read -- or ""."""
        if "intersection" not in labels:
            return ""
        parts = classes["intersection"][labels["intersection"]].split(",")
        for field, part in (("gender", parts[0]), ("race", parts[1])):
            if field in labels and part in classes[field] and classes[field][labels[field]] != part:
                return (f"intersection {labels['intersection']} ({','.join(parts)}) contradicts "
                        f"{field} {labels[field]} ({classes[field][labels[field]]})")
        return ""

    def inputs() -> Iterator[Record | Rejected]:
        for line, row in rows:
            image = (row.get(cols["path"]) or "").strip()
            where = f"{csv_path.name}:{line}"
            source = f"{where} ({image})" if image else where
            labels: dict[str, Any] = {}
            reason = "" if image else "row has no image path"
            for field in coded:
                value = code(field, row.get(cols[field]))
                if isinstance(value, str):
                    reason = reason or value
                labels[field] = value
            reason = reason or disagreement(labels)
            path = find_file(folder, image) if not reason else None
            if not reason and path is None:
                reason = "missing file"
            if reason or path is None:
                yield Rejected(source, reason)
                continue
            gen = generator_of(row, path)
            if gen not in gen_code:
                yield Rejected(source, "no generator")
                continue
            labels["generator"] = gen_code[gen]
            yield Record(image, labels, file=str(path), where=where)

    return Plan(attrs, inputs())


def convert(src: str | os.PathLike[str], out: str | os.PathLike[str], **options: Any) -> Store:
    """Convert AI-Face (annotation CSV + generator folders) into a store (see ``ConvertOptions``)."""
    return run("aiface", scan, src, out, ConvertOptions.of(options))
