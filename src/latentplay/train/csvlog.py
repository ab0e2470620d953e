"""CSV tables of a run that survive a resume.

:class:`CSVTable` (``metrics.csv``, ``test_metrics.csv``) is append-only: the header is fixed
when the first row is written; a checkpoint records how many rows each table had, and resuming
truncates rows written after that checkpoint, so no step appears twice. :func:`upsert_row`
(``dis_metrics.csv``, ``fidelity.csv``: occasional evaluations) replaces a row of the same step.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

from latentplay.outputs import replaced_whole


class CSVTable:
    """One CSV file with columns ``fields``; missing values are left empty."""

    def __init__(self, path: Path, fields: Sequence[str]) -> None:
        self.path, self.fields = path, list(fields)
        self.rows = 0
        if path.exists():
            with open(path, newline="", encoding="utf-8") as fh:
                self.rows = max(sum(1 for _ in fh) - 1, 0)

    def truncate(self, rows: int) -> None:
        """Keep the header and the first ``rows`` rows (rewritten through a temporary sibling,
        so an interruption leaves the table as it was)."""
        if not self.path.exists():
            self.rows = 0
            return
        with open(self.path, newline="", encoding="utf-8") as fh:
            lines = fh.readlines()[: rows + 1]
        with replaced_whole(self.path) as tmp, open(tmp, "w", newline="", encoding="utf-8") as fh:
            fh.writelines(lines)
        self.rows = max(len(lines) - 1, 0)

    def write(self, row: Mapping[str, object]) -> None:
        new = not self.path.exists() or self.path.stat().st_size == 0
        with open(self.path, "a", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=self.fields, extrasaction="ignore")
            if new:
                writer.writeheader()
            writer.writerow({k: _fmt(v) for k, v in row.items()})
        self.rows += 1


def upsert_row(path: Path, row: Mapping[str, object], key: str = "step") -> Path:
    """Add ``row`` to the CSV at ``path`` (header written, or widened, as needed); an earlier row
    with the same ``key`` value (an evaluation repeated after a resume) is replaced. The file is
    rewritten through a temporary sibling, so an interruption leaves the previous table."""
    rows: list[dict[str, object]] = []
    fields = list(row)
    if path.exists():
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            rows = [r for r in reader if r.get(key) != str(row[key])]
            old = list(reader.fieldnames or [])
        fields = old + [f for f in row if f not in old]
    rows.append({k: _fmt(v) for k, v in row.items()})
    with replaced_whole(path) as tmp, tmp.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    return path


def _fmt(value: object) -> object:
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else str(value)
    return value


def read_table(path: str | Path) -> list[dict[str, str]]:
    """Rows of a CSV table as dicts of strings."""
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))
