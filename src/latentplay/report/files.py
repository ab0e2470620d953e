"""Reading the files a report is made from: CSV tables and JSON, with one-line errors.

A file that is present but unreadable is a :class:`~latentplay.errors.UserError` naming it.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

from latentplay.errors import UserError
from latentplay.outputs import read_json
from latentplay.train.csvlog import read_table

__all__ = ["read_csv", "read_json"]


def read_csv(path: Path) -> list[dict[str, str]]:
    """Rows of the CSV table ``path`` as dicts of strings (header -> field)."""
    try:
        return read_table(path)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise UserError(f"{path} is not a readable CSV table: {exc}") from None


def last_file(folder: Path, pattern: str) -> Path | None:
    """The last file in ``folder`` matching ``pattern``, names compared with their numbers
    as numbers (``epoch_1000`` after ``epoch_999``); None when there is none."""
    found = sorted(folder.glob(pattern), key=_natural) if folder.is_dir() else []
    return found[-1] if found else None


def _natural(path: Path) -> list[tuple[int, int | str]]:
    """Sort key of ``path``'s name: its runs of digits as numbers, the rest as text."""
    return [(0, int(part)) if part.isdigit() else (1, part)
            for part in re.split(r"(\d+)", path.name) if part]
