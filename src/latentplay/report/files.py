"""Reading the files a report is made from: CSV tables and JSON, with one-line errors.

A file that is present but unreadable is a :class:`~latentplay.errors.UserError` naming it.
"""

from __future__ import annotations

import csv
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
    """The last file (by name) in ``folder`` matching ``pattern``; None when there is none."""
    found = sorted(folder.glob(pattern)) if folder.is_dir() else []
    return found[-1] if found else None
