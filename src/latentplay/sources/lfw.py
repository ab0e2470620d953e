"""LFW, Labeled Faces in the Wild (Huang et al. 2007): persons' folders, the 10-fold
verification pairs, and Kumar et al.'s attribute scores when present.

Layout read (SRC holds the images folder, or is it)::

    lfw/<Name>/<Name>_0001.jpg        (or lfw-deepfunneled/, lfw_funneled/, lfw-funneled/)
    pairs.txt                          (optional: View 2, "10 300" then the ten folds)
    lfw_attributes.txt                 (optional: Kumar et al. 2009, 73 attribute scores)

(``pairs.txt`` and ``lfw_attributes.txt`` in SRC or beside the images folder.)

Every file under the images folder is an input; one not named ``<Name>/<Name>_<nnnn>.<ext>``
is rejected. The store has ``identity`` (the folder name; the persons of the inputs converted)
and, with ``lfw_attributes.txt``, each attribute's classifier score as a continuous attribute in
snake case (``male``, ``asian``, ``white``, ``black``, ``indian``, ``youth``, ``senior``,
``smiling``, ``eyeglasses``, ...; above 0 means present; NaN for an image the file does not
score). Cut a score into classes with ``latentplay data bin STORE male --edges 0 --names female,male``.

The verification pairs become ``pairs.csv`` inside the store, as RFW's do: ``fold,
identity_a, file_a, identity_b, file_b, same, row_a, row_b``, in the file's order (each fold's
matched pairs, then its mismatched ones), so ``latentplay audit verify --file-folds`` scores
LFW's own ten folds. The first line is the header, ``<folds> <pairs of each kind per fold>``
(or one number, for a file of one fold); a header that is not one or two positive integers, or
whose folds x 2 x pairs disagrees with the number of pairs lines, stops the conversion with one
line naming ``pairs.txt:1`` (every fold hangs on it). Every line after it (blank lines aside) is
a pair; a malformed one (not ``identity n1 n2`` or ``identity_a n1 identity_b n2``, an image
number that is not a positive integer, a number where a name should be) is listed in
``rejected.csv`` as ``pairs.txt:<line>`` and keeps its place in its fold.
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
    NO_CLASS,
    PAIR_FORMS,
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
from latentplay.store.schema import Attribute

IMAGE_FOLDERS = ("lfw", "lfw-deepfunneled", "lfw_funneled", "lfw-funneled")
PAIRS = "pairs.txt"
ATTRIBUTES = "lfw_attributes.txt"
NAME = re.compile(r"^(.+)_(\d{4})\.(jpe?g|png)$", re.IGNORECASE)


def _images(root: Path) -> Path:
    """The folder of person folders: one of :data:`IMAGE_FOLDERS` under SRC (also nested
    once, as some copies are), or SRC itself."""
    for name in IMAGE_FOLDERS:
        for base in (root / name / name, root / name):
            if base.is_dir():
                return base
    if root.is_dir() and any(NAME.match(f.name) for d in root.iterdir() if d.is_dir()
                             for f in d.iterdir()):
        return root
    raise UserError(f"lfw: expected {'/ or '.join(IMAGE_FOLDERS)}/ with <Name>/<Name>_0001.jpg "
                    f"(and pairs.txt) under {root}; found none")


HEADER_FORMS = ("('<folds> <pairs of each kind per fold>', e.g. '10 300'; or one number for a "
                "file of one fold, e.g. '1100')")


def _fold_size(path: Path, number: int, first: list[str], pairs_lines: int) -> int | None:
    """Pairs lines per fold that the header ``first`` (the fields of line ``number``) gives,
    followed by ``pairs_lines`` lines; None when ``first`` is a pairs line (a file of one fold
    without a header). A first line of fewer than three fields, or whose first field is a number
    (no pairs line starts with one), is a header: it must be one or two positive integers whose
    folds x 2 x pairs per fold is the number of lines that follow, or a :class:`UserError` says
    why (the folds of the whole file hang on it)."""
    if len(first) >= 3 and not first[0].isdigit():
        return None
    where = f"{path}:{number}"
    if not 1 <= len(first) <= 2 or not all(f.isascii() and f.isdigit() and int(f) > 0
                                           for f in first):
        raise UserError(f"{where}: first line {' '.join(first)!r} is neither a header "
                        f"{HEADER_FORMS} nor a pairs line ({PAIR_FORMS})")
    folds, per_kind = (1, int(first[0])) if len(first) == 1 else (int(first[0]), int(first[1]))
    if folds * 2 * per_kind != pairs_lines:
        raise UserError(f"{where}: the header gives {folds} fold(s) of {per_kind} matched and "
                        f"{per_kind} mismatched pairs ({folds * 2 * per_kind} lines) but "
                        f"{pairs_lines} pairs lines follow; correct the header or the file")
    return 2 * per_kind


def read_pairs(path: Path, root: Path) -> tuple[list[list[str]], list[Rejected]]:
    """``[fold, identity_a, file_a, identity_b, file_b, same]`` rows of View 2's pairs file
    (its first line gives the folds and the pairs of each kind per fold: ``10 300``; one number,
    the pairs of each kind of a file of one fold, as pairsDevTrain.txt's ``1100``; a file whose
    first line is a pairs line is one fold), and a :class:`Rejected` (``path:line`` relative to
    ``root``) for each malformed pairs line, which keeps its place in its fold. A malformed
    header, or one that disagrees with the number of lines, is a :class:`UserError`."""
    with reading(path), open(path, encoding="utf-8") as fh:
        lines = [(n, line.split()) for n, line in enumerate(fh, 1) if line.strip()]
    if not lines:
        return [], []
    per_fold = _fold_size(path, *lines[0], len(lines) - 1)
    if per_fold is None:
        per_fold = len(lines)  # no header: one fold
    else:
        lines = lines[1:]
    rows: list[list[str]] = []
    rejected: list[Rejected] = []
    for k, (number, fields) in enumerate(lines):
        try:
            rows.append([str(k // per_fold), *pair_of(fields)])
        except ValueError as exc:
            rejected.append(Rejected(f"{relative(path, root)}:{number}", str(exc)))
    return rows, rejected


def snake(name: str) -> str:
    """``"Black Hair"`` -> ``"black_hair"``; ``"Mouth Slightly Open"`` ->
    ``"mouth_slightly_open"``."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


RESERVED = ("identity", "image", "file", "split")
"""Column names of an LFW store an attribute of ``lfw_attributes.txt`` may not take."""


def _check_names(names: list[str], given: list[str], where: str) -> None:
    """A :class:`UserError` naming the header's first attribute name that is empty once made
    a column name, taken by the store's own columns, or given twice."""
    for name, text in zip(names, given, strict=True):
        if not name or name in RESERVED or names.count(name) > 1:
            why = ("names no attribute" if not name else "is a column of the store already"
                   if name in RESERVED else "is named twice")
            raise UserError(f"{where}: the attribute {text.strip()!r} ({name or 'empty'}) {why}; "
                            "correct the header")


def read_attributes(path: Path, root: Path | None = None
                    ) -> tuple[list[str], dict[tuple[str, int], list[float]], list[Rejected]]:
    """The attribute names of ``lfw_attributes.txt``, each ``(identity, image number)``'s
    scores (names with spaces become folder names with underscores), and a :class:`Rejected`
    (``path:line``, relative to ``root`` when given) for each line of scores that does not
    parse: its images get no scores."""
    names: list[str] = []
    scores: dict[tuple[str, int], list[float]] = {}
    rejected: list[Rejected] = []
    where = path if root is None else relative(path, root)
    with reading(path), open(path, encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            fields = line.rstrip("\n").split("\t")
            if line.startswith("#"):
                if len(fields) > 3 and fields[1].strip().lower() == "person":
                    names = [snake(f) for f in fields[3:]]
                    _check_names(names, fields[3:], f"{path}, line {number}")
                continue
            if not names or not line.strip():
                continue
            if len(fields) != len(names) + 2:
                rejected.append(Rejected(f"{where}:{number}", f"{len(fields)} fields, not the "
                                         f"{len(names) + 2} of person, image number and scores"))
                continue
            try:
                scores[(fields[0].strip().replace(" ", "_"), int(fields[1]))] = \
                    [float(v) for v in fields[2:]]
            except ValueError:
                rejected.append(Rejected(f"{where}:{number}", "an image number or score that is "
                                         "not a number"))
    if not names:
        raise UserError(f"{path}: no header line '#\tperson\timagenum\t...' naming the attributes")
    return names, scores, rejected


def scan(root: Path, options: ConvertOptions) -> Plan:
    check_split("lfw", options.split, ())
    images = _images(root)
    beside = {name: next((p for p in (root / name, images.parent / name) if p.is_file()), None)
              for name in (PAIRS, ATTRIBUTES)}
    files, unreadable = walk_files(images, root)
    names, scores, bad_scores = (read_attributes(beside[ATTRIBUTES], root) if beside[ATTRIBUTES]
                                 else ([], {}, []))

    def checked() -> Iterator[Record | Rejected]:
        """Every input, its identity still named by its folder."""
        yield from unreadable
        for path in files:
            source = path.relative_to(root).as_posix()
            match = NAME.match(path.name)
            if path.parent == images or match is None or match.group(1) != path.parent.name:
                yield Rejected(source, "not <Name>/<Name>_<nnnn>.jpg")
                continue
            labels: dict[str, Any] = {"identity": path.parent.name}
            found = scores.get((path.parent.name, int(match.group(2))))
            for k, n in enumerate(names):
                labels[n] = found[k] if found else math.nan
            yield Record(source, labels, file=str(path))

    # identities must be known before the first row is written: those of the inputs converted
    identities = sorted({r.labels["identity"] for r in kept_records(checked(), options.limit)})
    attrs: list[Attribute] = [categorical("identity", identities or [NO_CLASS],
                                          "LFW person (folder name)")]
    attrs += [Attribute(n, "continuous", description=f"Kumar et al.'s '{n}' classifier score "
                        "(above 0: present)") for n in names]

    pairs, bad_lines = read_pairs(beside[PAIRS], root) if beside[PAIRS] else ([], [])

    def finish(rows: dict[str, int]) -> dict[str, str]:
        if beside[PAIRS] is None:
            return {}
        prefix = images.relative_to(root).as_posix()
        prefix = "" if prefix == "." else prefix + "/"
        return pairs_table("fold", pairs, rows,
                           lambda pair, side: f"{prefix}{pair[1 + 2 * side]}/{pair[2 + 2 * side]}")

    return Plan(attrs, coded(checked(), {"identity": code_of(identities)}),
                total=len(files) + len(unreadable), finish=finish,
                rejected_lines=[*bad_scores, *bad_lines])


def convert(src: str | os.PathLike[str], out: str | os.PathLike[str], **options: Any) -> Store:
    """Convert LFW (images, View 2 pairs, attribute scores) into a store (see
    ``ConvertOptions``)."""
    return run("lfw", scan, src, out, ConvertOptions.of(options))
