"""Subsets of a store: filtered by attribute values, balanced over a categorical attribute,
or a random sample — e.g. a training set with equal numbers of every skin tone, or one group
left out on purpose.

>>> rows = select_rows(store, where={"gender": ["female"]}, balance_by="skin_tone", seed=0)
>>> small = subset(store, "data/faces-female-balanced", rows=rows)

The new store keeps every column (images, labels, vector columns) of the chosen rows in their
original order. Its provenance names the source store and the selection; the source's own
provenance moves into the history, and embed history entries are renumbered to the new rows.
A verification pairs table (``pairs.csv``, RFW's protocol pairs) comes along with its rows
renumbered: the pairs with a face outside the subset are left out (counted in the history);
row -1, an image the converter rejected, stays -1.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from latentplay.errors import UserError
from latentplay.outputs import same_folder
from latentplay.store.io import PAIRS_FILE, Store, save
from latentplay.store.schema import UNKNOWN, Provenance, joined_classes

PathLike = str | os.PathLike[str]


def parse_where(items: Sequence[str]) -> dict[str, list[str]]:
    """``["gender=female", "skin_tone=monk_8,monk_9"]`` -> ``{attribute: [values]}``; a
    continuous attribute takes one ``low:high`` range (inclusive). Values are split at every
    comma; :func:`select_rows` joins pieces back that together name a class (``[20, 40)``)."""
    out: dict[str, list[str]] = {}
    for item in items:
        name, sep, values = item.partition("=")
        if not sep or not name.strip() or not values.strip():
            raise UserError(f"--where {item!r}: write attribute=value[,value...] (or "
                            "attribute=low:high for a continuous one)")
        if name.strip() in out:
            raise UserError(f"--where {name.strip()} is given twice; give all its values in "
                            "one (attribute=value,value: rows of any of them)")
        out[name.strip()] = values.split(",")
    return out


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _matches(store: Store, name: str, values: Sequence[str]) -> np.ndarray:
    """``(N,)`` bool: rows whose ``name`` is one of ``values`` (class names, comma-split pieces
    of one joined back; codes too where no class name is a number), or inside the
    ``low:high`` range of a continuous attribute (an end left empty: open)."""
    attr = store.schema.attribute_or_error(name)
    labels = np.asarray(store.labels(name))
    if attr.kind == "continuous":
        bounds = values[0].split(":") if len(values) == 1 else []
        try:   # an open end: no bound
            low, high = (float(b) if b.strip() else default
                         for b, default in zip(bounds, (-np.inf, np.inf), strict=True))
        except ValueError:  # not one range, not two bounds, or not numbers
            raise UserError(f"--where {name}: {name!r} is continuous; give one range "
                            "low:high, e.g. smile=0.5:1 (smile=0.5: from 0.5 up)") from None
        if np.isnan(low) or np.isnan(high):
            raise UserError(f"--where {name}={values[0]}: a bound is a number, not NaN")
        if not low <= high:
            raise UserError(f"--where {name}={values[0]}: the range's low bound is above its high "
                            f"one; give low:high, e.g. {name}={bounds[1]}:{bounds[0]}")
        return (labels >= low) & (labels <= high)
    names = attr.level_names
    numbered = any(_is_number(n) for n in names)     # "3" names a class, never code 3
    codes = []
    for v in joined_classes(values, names):
        if v in names:
            codes.append(names.index(v))
        elif not numbered and v.isdigit() and int(v) < len(names):
            codes.append(int(v))
        else:
            raise UserError(f"--where {name}: no value {v!r}; values: {', '.join(names)}")
    return np.isin(labels, codes)


def select_rows(store: Store, *, where: Mapping[str, Sequence[str]] | None = None,
                balance_by: str | None = None, per_class: int | None = None,
                n: int | None = None, seed: int = 0) -> np.ndarray:
    """Sorted row numbers of ``store``: the rows matching every ``where`` condition; then, with
    ``balance_by``, ``per_class`` random rows of each of that attribute's classes present (default:
    as many as the smallest has; ``n`` total gives ``n // classes`` each; rows of class
    ``unknown`` or without a class are left out); without it, ``n`` random rows (default: all).

    Returns:
        ``(k,)`` int64 row numbers in the store's order.
    """
    keep = np.ones(len(store), dtype=bool)
    for name, values in (where or {}).items():  # one value may be a plain string
        keep &= _matches(store, name, [values] if isinstance(values, str) else list(values))
    rows = np.flatnonzero(keep)
    if not len(rows):
        raise UserError("no row matches every --where condition")
    rng = np.random.default_rng(seed)
    if balance_by is None:
        if per_class is not None:
            raise UserError("--per-class needs --balance-by")
        if n is not None:
            if not 1 <= n <= len(rows):
                raise UserError(f"--n {n}: {len(rows)} rows match; give 1..{len(rows)}")
            rows = rng.choice(rows, size=n, replace=False)
        return np.sort(rows)
    attr = store.schema.attribute_or_error(balance_by)
    if attr.kind == "continuous":
        raise UserError(f"--balance-by {balance_by}: the attribute is continuous; give a "
                        f"categorical one (`latentplay data bin STORE {balance_by}` makes one)")
    labels = np.asarray(store.labels(balance_by))[rows]
    order = np.argsort(labels, kind="stable")   # each class's rows together, in the store's order
    rows, labels = rows[order], labels[order]
    sizes = np.bincount(labels[labels >= 0], minlength=len(attr.level_names))
    # ``unknown`` rows have no class to balance: they are left out, not balanced as one
    classes = [c for c, name in enumerate(attr.level_names) if name != UNKNOWN and sizes[c]]
    if not classes:
        raise UserError(f"--balance-by {balance_by}: no matching row has a class")
    counts = {c: int(sizes[c]) for c in classes}
    if per_class is not None and n is not None:
        raise UserError("give --per-class or --n, not both")
    if n is not None:
        per_class = n // len(classes)
    if per_class is None:
        per_class = min(counts.values())
    short = [f"{attr.level_names[c]} ({counts[c]})" for c in classes if counts[c] < per_class]
    if per_class < 1 or short:
        raise UserError(f"--balance-by {balance_by}: {per_class} rows per class wanted; "
                        + (f"too few in {', '.join(short)}" if short else "give at least 1"))
    first = np.searchsorted(labels, classes)
    chosen = [rng.choice(rows[f:f + counts[c]], size=per_class, replace=False)
              for c, f in zip(classes, first, strict=True)]
    return np.sort(np.concatenate(chosen))


def subset(store: Store, out: PathLike, rows: np.ndarray, *, overwrite: bool = False,
           selection: Mapping[str, Any] | None = None) -> Store:
    """Save ``rows`` of ``store`` (all columns) as a new store at ``out``, atomically.

    Args:
        store: the source (a saved store).
        out: the new store's directory.
        rows: ``(k,)`` sorted row numbers (see :func:`select_rows`).
        overwrite: replace an existing store at ``out``.
        selection: how the rows were chosen (recorded in the provenance).
    """
    if store.path is not None and same_folder(out, store.path):
        raise UserError("--out is the source store; write the subset somewhere else")
    rows = np.asarray(rows, dtype=np.int64)
    new_index = np.full(len(store), -1, dtype=np.int64)
    new_index[rows] = np.arange(len(rows))
    history = []
    for entry in store.schema.history:
        if entry.get("op") == "embed":
            found = new_index[np.asarray(entry.get("not_found", []), dtype=np.int64)]
            entry = {**entry, "rows": len(rows), "not_found": found[found >= 0].tolist()}
        history.append(entry)
    origin = str(Path(store.path).resolve()) if store.path is not None else None  # from anywhere
    history.append({"op": "subset", "source": origin,
                    "source_provenance": asdict(store.schema.provenance)})
    extra: dict[str, str] = {}
    pairs_file = None if store.path is None else Path(store.path) / PAIRS_FILE
    if pairs_file is not None and pairs_file.is_file():
        extra[PAIRS_FILE], kept, left = renumbered_pairs(pairs_file, new_index)
        history[-1]["pairs"] = {"kept": kept, "left_out": left}
    provenance = Provenance(source=str(origin), converter="subset",
                            arguments=dict(selection or {}),
                            counts={"rows": len(rows), "source_rows": len(store)})
    schema = dataclasses.replace(store.schema, provenance=provenance, history=history)
    new = Store(store.dataset.select(rows), schema, None)
    return save(new, out, overwrite=overwrite, extra_files=extra)


def renumbered_pairs(path: os.PathLike[str], new_index: np.ndarray) -> tuple[str, int, int]:
    """The pairs table at ``path`` (columns ``row_a``, ``row_b`` among others) with its rows
    renumbered by ``new_index`` (``(N,)`` new row of each source row, -1: not kept): the lines
    none of whose rows was left out; row -1 (an image the converter rejected) stays -1.
    Returns the table's text, the pairs of two rows kept and the pairs left out."""
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        if not {"row_a", "row_b"} <= set(reader.fieldnames or []):
            raise UserError(f"{path} has no columns row_a and row_b; it is not a pairs table")
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(reader.fieldnames or []))
        writer.writeheader()
        kept = left = 0
        for line in reader:
            try:
                ends = [int(line[c]) for c in ("row_a", "row_b")]
            except (TypeError, ValueError):
                raise UserError(f"{path}: row_a and row_b must be integers") from None
            if any(r >= len(new_index) or (r >= 0 and new_index[r] < 0) for r in ends):
                left += 1       # a face outside the subset
                continue
            row_a, row_b = (r if r < 0 else int(new_index[r]) for r in ends)
            line.update(row_a=str(row_a), row_b=str(row_b))
            kept += min(ends) >= 0
            writer.writerow(line)
    return out.getvalue(), kept, left
