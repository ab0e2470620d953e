"""Reading the files a report is made from: CSV tables and JSON, with one-line errors.

A file that is present but unreadable is a :class:`~latentplay.errors.UserError` naming it.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from latentplay.errors import UserError
from latentplay.train.csvlog import read_table


def read_csv(path: Path) -> list[dict[str, str]]:
    """Rows of the CSV table ``path`` as dicts of strings (header -> field)."""
    try:
        return read_table(path)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise UserError(f"{path} is not a readable CSV table: {exc}") from None


def read_json(path: Path) -> dict[str, Any]:
    """The JSON object in ``path``."""
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(f"{path} is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise UserError(f"{path} does not hold a JSON object")
    return data


def last_file(folder: Path, pattern: str) -> Path | None:
    """The last file (by name) in ``folder`` matching ``pattern``; None when there is none."""
    found = sorted(folder.glob(pattern)) if folder.is_dir() else []
    return found[-1] if found else None
