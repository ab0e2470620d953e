"""RFW, Racial Faces in-the-Wild (Wang et al. 2019): four race folders of identities.

Layout read (SRC is the folder holding ``test/``, or ``test/`` itself)::

    test/data/<African|Asian|Caucasian|Indian>/<identity>/<identity>_0001.jpg
    test/txts/<Race>/<Race>_pairs.txt

Every file under ``test/data/<Race>/<identity>/`` is an input; files outside a race/identity
folder are rejected. The store has ``race`` and ``identity`` (the identities of the inputs
converted). The verification pairs become their own table, ``pairs.csv`` inside the store:
``fold, race, identity_a, file_a, identity_b, file_b, same, row_a, row_b`` in the files' order
(race by race), where ``row_*`` are the store rows of the two images (-1 when that image was not
converted). The pairs files have no header: every line (blank lines aside) is a pairs line,
``identity n1 n2`` (same person) or ``identity_a n1 identity_b n2`` (different people), ``n``
numbering ``<identity>_<n:04d>.jpg``; a malformed one (another number of fields, an image number that is
not a positive integer, a number where a name should be) is listed in ``rejected.csv`` as
``test/txts/<Race>/<Race>_pairs.txt:<line>``.

Each race's pairs file (6,000 pairs) lists RFW's ten folds of :data:`FOLD_PAIRS` pairs one
after the other, as LFW's does: ``fold`` is a pair's position among its race's pairs lines
(malformed ones included) divided by 600 (0-9), so ``latentplay audit verify --file-folds``
scores RFW's own folds (per race, and pooled over races for all pairs) whatever pairs are left
out.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from latentplay.errors import UserError
from latentplay.sources.convert import (
    NO_CLASS,
    ConvertOptions,
    Plan,
    Record,
    Rejected,
    categorical,
    check_split,
    code_of,
    coded,
    kept_records,
    pair_of,
    pairs_table,
    reading,
    relative,
    run,
    walk_files,
)
from latentplay.store.io import Store

RACES = ("African", "Asian", "Caucasian", "Indian")
FOLD_PAIRS = 600  # pairs lines per fold of a race's pairs file


def _base(root: Path) -> Path:
    for base in (root / "test", root):
        if (base / "data").is_dir() and any((base / "data" / r).is_dir() for r in RACES):
            return base
    raise UserError(
        f"rfw: expected test/data/<{'|'.join(RACES)}>/<identity>/*.jpg and "
        f"test/txts/<Race>/<Race>_pairs.txt under {root}; found no race folders"
    )


def read_pairs(path: Path, race: str, root: Path) -> tuple[list[list[str]], list[Rejected]]:
    """``[fold, race, identity_a, file_a, identity_b, file_b, same]`` rows of one pairs file,
    ``fold`` the pair's position among the file's pairs lines divided by :data:`FOLD_PAIRS`,
    and a :class:`Rejected` (``path:line`` relative to ``root``) for each malformed line, which
    keeps its place in its fold."""
    rows: list[list[str]] = []
    rejected: list[Rejected] = []
    with reading(path), open(path, encoding="utf-8") as fh:
        lines = [(n, line.split()) for n, line in enumerate(fh, 1) if line.strip()]
    for k, (number, fields) in enumerate(lines):
        try:
            rows.append([str(k // FOLD_PAIRS), race, *pair_of(fields)])
        except ValueError as exc:
            rejected.append(Rejected(f"{relative(path, root)}:{number}", str(exc)))
    return rows, rejected


def scan(root: Path, options: ConvertOptions) -> Plan:
    check_split("rfw", options.split, ())
    base = _base(root)
    data = base / "data"
    files, unreadable = walk_files(data, root)

    def checked() -> Iterator[Record | Rejected]:
        """Every input, its identity still named by its folder."""
        yield from unreadable
        for path in files:
            rel = path.relative_to(data).parts
            source = path.relative_to(root).as_posix()
            if len(rel) != 3 or rel[0] not in RACES:
                yield Rejected(source, f"not in data/<{'|'.join(RACES)}>/<identity>/")
            else:
                yield Record(source, {"race": RACES.index(rel[0]), "identity": rel[1]},
                             file=str(path))

    # identities must be known before the first row is written: those of the inputs converted
    identities = sorted({r.labels["identity"] for r in kept_records(checked(), options.limit)})
    attrs = [categorical("race", RACES, "RFW race folder"),
             categorical("identity", identities or [NO_CLASS],
                     "MS-Celeb-1M identity (RFW folder)")]

    pairs: list[list[str]] = []
    bad_lines: list[Rejected] = []
    for race in RACES:
        path = base / "txts" / race / f"{race}_pairs.txt"
        if path.is_file():
            found, bad = read_pairs(path, race, root)
            pairs += found
            bad_lines += bad

    def finish(rows: dict[str, int]) -> dict[str, str]:
        prefix = data.relative_to(root).as_posix()
        return pairs_table(("fold", "race"), pairs, rows, lambda pair, side:
                           f"{prefix}/{pair[1]}/{pair[2 + 2 * side]}/{pair[3 + 2 * side]}")

    return Plan(attrs, coded(checked(), {"identity": code_of(identities)}),
                total=len(files) + len(unreadable), finish=finish, rejected_lines=bad_lines)


def convert(src: str | os.PathLike[str], out: str | os.PathLike[str], **options: Any) -> Store:
    """Convert RFW's test set (images + pairs) into a store (see ``ConvertOptions``)."""
    return run("rfw", scan, src, out, ConvertOptions.of(options))
