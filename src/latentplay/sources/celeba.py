"""CelebA (Liu et al. 2015) and CelebA-HQ's attribute file.

Layouts read (SRC is the folder holding them):

* CelebA as published: ``img_align_celeba/`` (or ``img_align_celeba/img_align_celeba/`` as on
  Kaggle), ``list_attr_celeba.txt`` (a count line, a line of the 40 attribute names, then
  ``000001.jpg -1 1 ...``), and when present ``list_eval_partition.txt`` (0 train, 1 val,
  2 test) and ``identity_CelebA.txt``. Kaggle's ``list_attr_celeba.csv`` /
  ``list_eval_partition.csv`` are read as well.
* CelebAMask-HQ: ``CelebA-HQ-img/`` and ``CelebAMask-HQ-attribute-anno.txt`` (same format).

Every non-blank row of the attribute file is an input (with ``--split``, every row the
partition file does not put in another split); a row without a file name (listed by its line
number), with a value other than -1/1, or without a split or identity where those files are
present is rejected. ``rejected.csv`` names a rejected row by its attribute-file line, then
its image: ``list_attr_celeba.txt:14 (img_align_celeba/000012.jpg)``. The 40 attributes are
stored as booleans
(``no``/``yes``; the files' -1/1), ``Male`` and ``Smiling`` first (so the default cross-tab of
``latentplay data info`` is Male x Smiling), the rest in published order.
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
    reading,
    run,
    split_attribute,
)
from latentplay.store.io import Store
from latentplay.store.schema import Attribute

ATTRIBUTES = (
    "5_o_Clock_Shadow", "Arched_Eyebrows", "Attractive", "Bags_Under_Eyes", "Bald", "Bangs",
    "Big_Lips", "Big_Nose", "Black_Hair", "Blond_Hair", "Blurry", "Brown_Hair", "Bushy_Eyebrows",
    "Chubby", "Double_Chin", "Eyeglasses", "Goatee", "Gray_Hair", "Heavy_Makeup",
    "High_Cheekbones", "Male", "Mouth_Slightly_Open", "Mustache", "Narrow_Eyes", "No_Beard",
    "Oval_Face", "Pale_Skin", "Pointy_Nose", "Receding_Hairline", "Rosy_Cheeks", "Sideburns",
    "Smiling", "Straight_Hair", "Wavy_Hair", "Wearing_Earrings", "Wearing_Hat",
    "Wearing_Lipstick", "Wearing_Necklace", "Wearing_Necktie", "Young",
)
FIRST = ("Male", "Smiling")
SPLITS = ("train", "val", "test")
BOOL = {"-1": 0, "1": 1}

# (attribute file, image folders tried in order, partition file, identity file)
LAYOUTS = (
    ("list_attr_celeba.txt", ("img_align_celeba/img_align_celeba", "img_align_celeba"),
     "list_eval_partition.txt", "identity_CelebA.txt"),
    ("list_attr_celeba.csv", ("img_align_celeba/img_align_celeba", "img_align_celeba"),
     "list_eval_partition.csv", "identity_CelebA.txt"),
    ("CelebAMask-HQ-attribute-anno.txt", ("CelebA-HQ-img",), None, None),
)


def _fields(line: str, csv: bool) -> list[str]:
    return [f.strip() for f in line.split(",")] if csv else line.split()


def _read_map(path: Path) -> dict[str, str]:
    """``file -> value`` of a two-column partition or identity file (txt or Kaggle csv)."""
    csv = path.suffix == ".csv"
    out: dict[str, str] = {}
    with reading(path), open(path, encoding="utf-8") as fh:
        if csv:
            next(fh, None)  # header
        for line in fh:
            fields = _fields(line, csv)
            if len(fields) == 2:
                out[fields[0]] = fields[1]
    return out


def scan(root: Path, options: ConvertOptions) -> Plan:
    layout = next((lay for lay in LAYOUTS if (root / lay[0]).is_file()), None)
    if layout is None or not root.is_dir():
        raise UserError(
            f"celeba: expected list_attr_celeba.txt and img_align_celeba/ (or CelebA-HQ's "
            f"CelebAMask-HQ-attribute-anno.txt and CelebA-HQ-img/) in {root}; found neither"
        )
    attr_name, image_dirs, part_name, ident_name = layout
    attr_file = root / attr_name
    image_dir = next((root / d for d in image_dirs if (root / d).is_dir()), root / image_dirs[-1])
    csv = attr_file.suffix == ".csv"
    first_row = 2 if csv else 3  # line number of the first image's row
    with reading(attr_file), open(attr_file, encoding="utf-8") as fh:
        if not csv:
            next(fh, None)  # the image count
        names = _fields(next(fh, ""), csv)
    names = names[1:] if csv else names  # Kaggle's header starts with image_id
    if tuple(names) != ATTRIBUTES:
        raise UserError(f"celeba: {attr_file} line 2 should name the 40 published attributes "
                        f"(5_o_Clock_Shadow ... Young); found {' '.join(names[:4])} ...")
    partition = _read_map(root / part_name) if part_name and (root / part_name).is_file() else None
    identity = _read_map(root / ident_name) if ident_name and (root / ident_name).is_file() \
        else None
    check_split("celeba", options.split, SPLITS)
    if options.split is not None and partition is None:
        needed = part_name or "list_eval_partition.txt"
        raise UserError(f"celeba: --split needs the partition file {needed} in {root}")
    ordered = [*FIRST, *(a for a in ATTRIBUTES if a not in FIRST)]
    attrs: list[Attribute] = [categorical(a, ("no", "yes"), f"CelebA's {a} (-1 no, 1 yes)")
                              for a in ordered]
    ident_names: list[str] = []
    if partition is not None:
        attrs.append(split_attribute(SPLITS))
    if identity is not None:
        ident_names = sorted(set(identity.values()), key=lambda v: (len(v), v))
        attrs.append(categorical("identity", ident_names, "CelebA identity number"))
    ident_code = {n: i for i, n in enumerate(ident_names)}
    wanted = None if options.split is None else str(SPLITS.index(options.split))

    def parse(fields: list[str]) -> dict[str, Any] | str:
        if len(fields) != len(ATTRIBUTES) + 1:
            return f"expected {len(ATTRIBUTES) + 1} fields, found {len(fields)}"
        labels: dict[str, Any] = {}
        for name, value in zip(ATTRIBUTES, fields[1:], strict=True):
            if value not in BOOL:
                return f"{name} value {value!r} not in the published -1/1"
            labels[name] = BOOL[value]
        file = fields[0]
        if partition is not None:
            part = partition.get(file)
            if part not in ("0", "1", "2"):
                return "no split in the partition file" if part is None \
                    else f"split {part!r} not in the published 0/1/2"
            labels["split"] = int(part)
        if identity is not None:
            if file not in identity:
                return "no identity in the identity file"
            labels["identity"] = ident_code[identity[file]]
        return labels

    def inputs() -> Iterator[Record | Rejected]:
        with reading(attr_file), open(attr_file, encoding="utf-8") as fh:
            for number, line in enumerate(fh, start=1):
                if number < first_row or not line.strip():
                    continue
                fields = _fields(line, csv)
                if not fields[0]:
                    yield Rejected(f"{attr_name}:{number}", "row has no file name")
                    continue
                part = (partition or {}).get(fields[0])
                if wanted is not None and part in ("0", "1", "2") and part != wanted:
                    continue  # another split's row (a row without a split is rejected)
                source = f"{image_dir.relative_to(root).as_posix()}/{fields[0]}"
                where = f"{attr_name}:{number}"
                labels = parse(fields)
                if isinstance(labels, str):
                    yield Rejected(f"{where} ({source})", labels)
                else:
                    yield Record(source, labels, file=str(image_dir / fields[0]), where=where)

    return Plan(attrs, inputs())


def convert(src: str | os.PathLike[str], out: str | os.PathLike[str], **options: Any) -> Store:
    """Convert CelebA (or CelebA-HQ's attribute file) into a store (see ``ConvertOptions``)."""
    return run("celeba", scan, src, out, ConvertOptions.of(options))
