"""Columns added to a saved store: fixed-length float32 vectors (embeddings, latents,
projection coordinates) and label attributes measured or predicted from the images."""

from __future__ import annotations

import dataclasses
import datetime as _dt
import os
import uuid
from typing import Any

import datasets
import numpy as np
import pyarrow as pa
from datasets.fingerprint import get_temporary_cache_files_directory

from latentplay.errors import UserError
from latentplay.outputs import made_by
from latentplay.store.io import Store, attribute_features, opened
from latentplay.store.rows import row_numbers
from latentplay.store.schema import Attribute, VectorColumn, check_column_name


def add_column(store: Store | str | os.PathLike[str], name: str, array: np.ndarray,
               description: str = "") -> Store:
    """Return a copy of ``store`` with ``array`` as vector column ``name`` (not yet saved).

    Args:
        store: the store to extend (left unchanged), or its path.
        name: new column name; an existing vector column of that name is replaced.
        array: ``(N, D)`` values, converted to float32; ``N`` must equal ``len(store)`` and
            ``D`` be at least 1.
        description: what the vectors are (embedder, run, ...), kept in the schema.

    Returns:
        A new :class:`Store` whose dataset has a ``List(float32, length=D)`` column. Save it
        with :func:`latentplay.store.save` (saving to ``store.path`` replaces it atomically).
    """
    store = opened(store)
    check_column_name(name)
    array = np.asarray(array)
    if array.ndim != 2 or array.shape[1] == 0:
        raise UserError(f"column {name!r}: expected an (N, D) array with D >= 1, got shape "
                        f"{array.shape}")
    if array.shape[0] != len(store):
        raise UserError(f"column {name!r} has {array.shape[0]} rows but the store has {len(store)}")
    if name in store.columns and not any(v.name == name for v in store.schema.vectors):
        raise UserError(f"column {name!r} already exists and is not a vector column")
    dim = int(array.shape[1])
    values = pa.array(np.ascontiguousarray(array, dtype=np.float32).reshape(-1))
    column = pa.FixedSizeListArray.from_arrays(values, dim)
    feature = datasets.List(datasets.Value("float32"), length=dim)
    dataset = store.dataset
    if name in dataset.column_names:
        dataset = dataset.remove_columns(name)
    dataset = _materialised(dataset)
    extra = datasets.Dataset(
        datasets.table.InMemoryTable(pa.table({name: column})),
        info=datasets.DatasetInfo(features=datasets.Features({name: feature})),
    )
    dataset = _beside(dataset, extra)
    vectors = [v for v in store.schema.vectors if v.name != name]
    vectors.append(VectorColumn(name=name, dim=dim, description=description))
    schema = dataclasses.replace(store.schema, vectors=vectors)
    return dataclasses.replace(store, dataset=dataset, schema=schema)  # path and read_as kept


def _materialised(dataset: datasets.Dataset) -> datasets.Dataset:
    """``dataset`` with the rows of a selection (``Dataset.select``) copied out, so that a
    column appended beside it lines up with them; the copy goes to a temporary file removed
    when the process ends (``datasets`` would write it into the store's own folder, beside
    its data: a stray copy there, and an error where that folder is read-only)."""
    if dataset._indices is None:
        return dataset
    scratch = get_temporary_cache_files_directory()
    return dataset.flatten_indices(cache_file_name=os.path.join(scratch, f"rows-{uuid.uuid4().hex}.arrow"))


def check_free_attribute(store: Store, name: str, replace: bool = False,
                         argument: str = "replace") -> None:
    """Refuse attribute ``name`` when ``store`` already has a column of that name, unless
    ``replace`` and the column is an attribute (what :func:`add_attributes` may replace);
    ``argument``: the caller's Python name for ``replace``, named in the error. A name that
    differs from a column's only in case is refused too: the files named after them
    (``distribution_<name>.png``) would be one file on macOS and Windows."""
    if name in store.columns and not (replace and store.schema.has_attribute(name)):
        hint = (f"; pass --overwrite ({argument}=True in Python) to replace it"
                if store.schema.has_attribute(name) else "")
        raise UserError(f"column {name!r} already exists in the store{hint}")
    alike = [c for c in store.columns if c != name and c.casefold() == name.casefold()]
    if alike:
        raise UserError(f"attribute {name!r} differs from the column {alike[0]!r} only in case, and "
                        "files named after them would be one file on macOS and Windows; give another name")


def add_attributes(store: Store | str | os.PathLike[str],
                   columns: dict[str, tuple[Attribute, np.ndarray]], replace: bool = False) -> Store:
    """Return a copy of ``store`` with new label attributes (not yet saved).

    Args:
        store: the store to extend (left unchanged), or its path.
        columns: ``name -> (attribute, values)``; ``values`` is ``(N,)``: class codes of a
            categorical attribute (``0..len(names)-1``) or floats of a continuous one (NaN
            where a row has no value).
        replace: replace attributes of the same names; otherwise an existing column is an error.

    Returns:
        A new :class:`Store` with the columns appended (``ClassLabel`` or ``float32``).
    """
    store = opened(store)
    dataset = store.dataset
    table: dict[str, pa.Array] = {}
    for name, (attr, values) in columns.items():
        check_column_name(name)
        values = np.asarray(values)
        if attr.name != name or attr.kind == "factor":
            raise UserError(f"attribute {name!r}: give a categorical or continuous Attribute "
                            f"of that name, got a {attr.kind} one named {attr.name!r}")
        if values.shape != (len(store),):
            raise UserError(f"attribute {name!r} has shape {values.shape}; the store has "
                            f"{len(store)} rows")
        check_free_attribute(store, name, replace)
        if attr.kind == "categorical":
            _check_codes(name, values)
            if values.size and not 0 <= values.min() <= values.max() < len(attr.names or []):
                raise UserError(f"attribute {name!r}: codes outside 0..{len(attr.names or []) - 1} "
                                f"(the classes {', '.join(attr.names or [])}), got "
                                f"{values.min()}..{values.max()}")
            table[name] = pa.array(values.astype(np.int64))
        else:
            table[name] = pa.array(values.astype(np.float32))
    # replaced columns go in one call: each call copies every column's feature, the class
    # names of every person included
    replaced = [name for name in columns if name in dataset.column_names]
    dataset = _materialised(dataset.remove_columns(replaced) if replaced else dataset)
    kept = [a for a in store.schema.attributes if a.name not in columns]
    added = [attr for attr, _ in columns.values()]
    schema = dataclasses.replace(store.schema, attributes=[*kept, *added])
    extra = datasets.Dataset(
        datasets.table.InMemoryTable(pa.table(table)),
        info=datasets.DatasetInfo(features=datasets.Features(attribute_features(added))),
    )
    dataset = _beside(dataset, extra)
    return dataclasses.replace(store, dataset=dataset, schema=schema)  # path and read_as kept


def _check_codes(name: str, values: np.ndarray) -> None:
    """Refuse class codes of attribute ``name`` that are not whole numbers (fractions, NaN,
    text): they would be truncated to a class without a word."""
    if values.dtype.kind in "iub":
        return
    whole = (np.isfinite(values) & (np.round(values) == values) if values.dtype.kind == "f"
             else np.zeros(values.shape, dtype=bool))
    if not whole.all():
        raise UserError(f"attribute {name!r}: class codes must be whole numbers, got "
                        f"{values[~whole][0].item()!r}")


def _beside(dataset: datasets.Dataset, extra: datasets.Dataset) -> datasets.Dataset:
    """``dataset`` with the columns of ``extra`` (as many rows) appended. A store of no rows
    gets them as a new empty table of both's features: ``concatenate_datasets`` drops the
    columns of an empty one without a word (and the schema would name a column the data lacks).
    A ``dataset`` left without columns (a store of labels only, every one replaced) counts no
    rows; ``extra`` is then the whole table."""
    if not dataset.column_names:
        return extra
    if len(dataset) == 0:
        features = datasets.Features({**dataset.features, **extra.features})
        return datasets.Dataset.from_dict({name: [] for name in features}, features=features)
    return datasets.concatenate_datasets([dataset, extra], axis=1)


def vectors(store: Store | str | os.PathLike[str], name: str,
            rows: np.ndarray | None = None) -> np.ndarray:
    """Vector column ``name`` as one writable ``(N, D)`` float32 array, without a Python loop
    over rows (only ``rows`` when given, row numbers or an ``(N,)`` boolean mask: ``(n, D)``)."""
    store = opened(store)
    if name not in store.columns:
        raise UserError(
            f"no column {name!r} in store; vector columns: "
            + (", ".join(v.name for v in store.schema.vectors if not v.is_projection) or "none")
        )
    feature = store.dataset.features[name]
    length = getattr(feature, "length", -1)
    if not isinstance(feature, datasets.List) or length is None or length < 1:
        raise UserError(f"column {name!r} is not a fixed-length vector column ({feature})")
    table = store.dataset.with_format("arrow", columns=[name])
    chunked = (table[:] if rows is None else table[row_numbers(rows, len(store))])[name]
    flat = chunked.combine_chunks() if isinstance(chunked, pa.ChunkedArray) else chunked
    values = flat.flatten().to_numpy(zero_copy_only=False)
    return np.array(values, dtype=np.float32).reshape(len(flat), length)  # a writable copy


def with_history(store: Store, entry: dict[str, Any]) -> Store:
    """A copy of ``store`` (not yet saved) whose schema's history ends with ``entry``,
    stamped with the time (UTC) and with the latentplay version and the command that made it
    (:func:`~latentplay.outputs.made_by`)."""
    entry = {**entry, "time": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
             "made_by": made_by()}
    return dataclasses.replace(store, schema=dataclasses.replace(
        store.schema, history=[*store.schema.history, entry]))
