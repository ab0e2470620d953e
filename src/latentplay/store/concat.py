"""Several stores as one: their rows one after the other, with the store each row came from.

Training faces beside generated ones in one t-SNE, UTKFace beside FairFace in one bias chart,
real and synthetic faces matched across their ``source``: every command reads one store, and
this puts several into one.

>>> both = concat_stores(["data/faces", "data/generated"], "data/both", names=["real", "dcgan"])
>>> both.store.labels("source")       # (N,) 0 for the first store's rows, 1 for the next

What is kept, and what is left out (each with its reason, in ``left_out`` and the history):

- attributes of the same name and kind. A categorical one's classes are the union (in order
  of first appearance, matched by name), ordered when every store that has it has it ordered
  with the same classes; a store without it gives its rows ``unknown`` (NaN for a continuous one). A
  factor is kept when every store has it with the same levels. An attribute that is
  categorical in one store and continuous in another is left out (cut the continuous one
  with ``data bin`` first). The persons of a person attribute (``identity``, ``person``) are
  one only where the stores took them from one source (parts of one store, ``data subset``
  of it, its persons found before the parts were cut); otherwise ``person_00001`` of one
  store is not that of another, and each store's persons are kept apart, as
  ``<store name>/<person>`` (said in the notes);
- a vector column that every store has, made by the same embedder with the same options,
  when that embedder does not fit itself to each store's images (``pixels-pca`` does: its
  axes differ from store to store, so the vectors would not compare); rows whose face was not
  found stay flagged (cached projections, ``tsne__<column>`` ..., are not kept: ``viz``
  computes them again on the new store's rows);
- text columns (``file``), empty for a store without them;
- the verification pairs (``pairs.csv``, RFW's protocol) of every store that has them, their
  rows renumbered to the new store's; a store without pairs adds none (said in the notes:
  ``audit verify`` reads only the pairs table where a store has one).
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import datasets
import numpy as np

from latentplay.errors import UserError
from latentplay.outputs import same_folder, shell_word
from latentplay.store.columns import add_attributes
from latentplay.store.io import PAIRS_FILE, Store, opened, save
from latentplay.store.schema import (
    PERSON_ATTRIBUTES,
    UNKNOWN,
    Attribute,
    Provenance,
    Schema,
    VectorColumn,
    check_attribute_name,
)
from latentplay.store.subset import renumbered_pairs

PathLike = str | os.PathLike[str]


@dataclass
class Concatenated:
    """What :func:`concat_stores` made: the new store, each column it left out with why, and
    notes (images of different sizes)."""

    store: Store
    left_out: list[str]
    notes: list[str]


def concat_stores(stores: Sequence[Store | PathLike], out: PathLike, *,
                  names: Sequence[str] | None = None, source: str = "source",
                  overwrite: bool = False) -> Concatenated:
    """Write the rows of ``stores`` one after the other into a new store at ``out``.

    Args:
        stores: two or more stores (or their paths).
        out: the new store's directory.
        names: the class of each store's rows in the ``source`` attribute (default: the
            stores' directory names).
        source: the name of the attribute that says which store a row came from.
        overwrite: replace an existing store at ``out``.
    """
    loaded = [opened(s) for s in stores]
    if len(loaded) < 2:
        raise UserError("give two or more stores to put together")
    labels = list(names) if names else [Path(s.path).name if s.path else f"store_{k}"
                                        for k, s in enumerate(loaded)]
    check_attribute_name(source)
    if len(labels) != len(loaded) or len(set(labels)) != len(labels):
        raise UserError(f"give {len(loaded)} different names, one per store; got {labels}")
    if UNKNOWN in labels:   # every figure and test would take its rows for rows without a source
        raise UserError(f"{UNKNOWN!r} names the rows without a value; give the store another "
                        "name (--names)")
    if any(s.path is not None and same_folder(s.path, out) for s in loaded):
        raise UserError("--out is one of the stores; write the new store somewhere else")
    images = {s.schema.image_column for s in loaded}
    if len(images) > 1:
        raise UserError(f"the stores' image columns differ ({sorted(map(str, images))}); "
                        "put together stores that all have images, or none")
    left_out: list[str] = []
    notes = _size_notes(loaded, labels)
    prefixes = _person_prefixes(loaded, labels)
    apart = sorted({name for p in prefixes for name in p})
    notes += [f"{name}: the stores' persons come from different sources, so they are kept "
              f"apart, named <store>/<person> ({labels[0]}/...)" for name in apart]
    attributes = _attributes(loaded, source, left_out, prefixes, notes, out)
    vectors = _vectors(loaded, left_out)
    text = sorted({c for s in loaded for c in s.schema.text_columns})
    image = loaded[0].schema.image_column
    order = [*([image] if image else []), *text,
             *(c for a in attributes for c in dict.fromkeys((Schema.column_of(a), a.name))),
             *(v.name for v in vectors)]  # a factor's level column, then its value column
    parts = [_aligned(s, attributes, text, order, p) for s, p in zip(loaded, prefixes, strict=True)]
    dataset = datasets.concatenate_datasets(parts)
    offsets = np.cumsum([0, *(len(s) for s in loaded)])
    pairs, pairs_record = _pairs(loaded, labels, offsets, left_out, notes)
    origins = [str(Path(s.path).resolve()) if s.path is not None else str(None) for s in loaded]
    history: list[dict[str, Any]] = [
        {"op": "concat", "sources": origins, "names": labels,
         "rows": [len(s) for s in loaded], "left_out": left_out,
         "source_provenance": [asdict(s.schema.provenance) for s in loaded],
         **({"pairs": pairs_record} if pairs_record else {})},
        *(_embed_entry(loaded, v.name, offsets) for v in vectors)]
    provenance = Provenance(source=", ".join(origins), converter="concat",
                            arguments={"names": labels, "source": source},
                            counts={"rows": int(offsets[-1]),
                                    **{f"rows_{n}": len(s) for n, s in zip(labels, loaded,
                                                                            strict=True)}})
    schema = Schema(attributes=[_source(source, labels), *attributes], provenance=provenance,
                    image_column=image, vectors=vectors, history=history, text_columns=text)
    codes = np.repeat(np.arange(len(loaded)), [len(s) for s in loaded])
    store = add_attributes(Store(dataset, dataclasses.replace(schema, attributes=attributes)),
                           {source: (_source(source, labels), codes)})
    store = dataclasses.replace(store, schema=schema)
    return Concatenated(save(store, out, overwrite=overwrite, extra_files=pairs), left_out, notes)


def _pairs(stores: list[Store], labels: list[str], offsets: np.ndarray, left_out: list[str],
           notes: list[str]) -> tuple[dict[str, str], dict[str, int]]:
    """The stores' ``pairs.csv`` tables as one, each store's rows moved by its ``offsets``
    entry (``(S + 1,)`` first row of each store): the new store's extra file (none where no
    store has pairs) and the pairs kept per store. Tables of different columns are left out
    (``left_out``); stores without a table are named in ``notes``."""
    files = [Path(s.path) / PAIRS_FILE if s.path is not None else None for s in stores]
    having = [k for k, f in enumerate(files) if f is not None and f.is_file()]
    if not having:
        return {}, {}
    tables = {k: renumbered_pairs(files[k], np.arange(len(stores[k])) + offsets[k])
              for k in having}
    headers = {tables[k][0].splitlines()[0] for k in having}
    if len(headers) > 1:
        left_out.append(f"{PAIRS_FILE}: the stores' pairs tables have different columns "
                        f"({' | '.join(sorted(headers))})")
        return {}, {}
    without = [labels[k] for k in range(len(stores)) if k not in tables]
    if without:
        notes.append(f"{PAIRS_FILE} comes from {', '.join(labels[k] for k in having)}; "
                     f"{', '.join(without)} had none, so `audit verify`, which reads the pairs "
                     "table, pairs none of their rows")
    text = tables[having[0]][0] + "".join(tables[k][0].split("\n", 1)[1] for k in having[1:])
    return {PAIRS_FILE: text}, {labels[k]: tables[k][1] for k in having}


def _size_notes(stores: list[Store], labels: list[str]) -> list[str]:
    """A note when the stores' first images differ in size: a generator's 32-px face crops
    beside 64-px photos differ in every embedding for that reason alone."""
    if not stores[0].schema.image_column or not all(len(s) for s in stores):
        return []
    from latentplay.store.images import load_images

    shapes = [load_images(s, [0])[0].shape for s in stores]
    if len({shape[:2] for shape in shapes}) == 1:
        return []
    sizes = ", ".join(f"{n} {h}x{w}" for n, (h, w, *_) in zip(labels, shapes, strict=True))
    return [f"the images differ in size ({sizes}); embedders resize them to one size, which "
            "compares them only if they are framed alike (a run trained with data.crop draws "
            "crops)"]


def _source(name: str, labels: list[str]) -> Attribute:
    return Attribute(name, "categorical", names=labels, description="the store a row came from")


def _origin(store: Store, name: str) -> str:
    """Where the classes of ``store``'s attribute ``name`` come from, as comparable text: the
    provenance of the store ``data subset`` first cut it from (its own where none) and the
    history entry of the command that made the attribute, if any (``data persons``)."""
    history = store.schema.history
    root = next((h.get("source_provenance") for h in history if h.get("op") == "subset"),
                asdict(store.schema.provenance))
    made = [h for h in history if h.get("column") == name and h.get("op") != "embed"]
    return json.dumps([root, made[-1] if made else None], sort_keys=True, default=str)


def _person_prefixes(stores: list[Store], labels: list[str]) -> list[dict[str, str]]:
    """Per store, person attribute -> the prefix its classes take in the new store: where the
    stores' persons come from more than one source (:func:`_origin`), the name of the first
    store of each source; empty where they come from one."""
    prefixes: list[dict[str, str]] = [{} for _ in stores]
    for name in PERSON_ATTRIBUTES:
        having = [k for k, s in enumerate(stores) if s.schema.has_attribute(name)
                  and s.schema.attribute(name).kind == "categorical"]
        first: dict[str, str] = {}  # origin -> label of its first store
        own = {k: first.setdefault(_origin(stores[k], name), labels[k]) for k in having}
        if len(first) > 1:
            for k, label in own.items():
                prefixes[k][name] = label
    return prefixes


def _class_names(attr: Attribute, prefix: str | None) -> list[str]:
    """``attr``'s class names as the new store names them: ``<prefix>/<class>`` (``unknown``
    as it is) for a person attribute kept apart, else unchanged."""
    if prefix is None:
        return attr.level_names
    return [c if c == UNKNOWN else f"{prefix}/{c}" for c in attr.level_names]


def _attributes(stores: list[Store], source: str, left_out: list[str],
                prefixes: list[dict[str, str]], notes: list[str], out: PathLike) -> list[Attribute]:
    """The attributes of the new store (module docstring), in order of first appearance;
    ``prefixes`` from :func:`_person_prefixes`; an order the stores do not share is dropped
    with a line in ``notes`` (naming the command that gives store ``out`` one)."""
    by_name: dict[str, list[Attribute]] = {}
    named: dict[str, list[list[str]]] = {}  # attribute -> each store's class names in the new store
    unlabelled: set[str] = set()      # categorical attributes with rows without a class
    for s, prefix in zip(stores, prefixes, strict=True):
        for attr in s.schema.attributes:
            by_name.setdefault(attr.name, []).append(attr)
            named.setdefault(attr.name, []).append(_class_names(attr, prefix.get(attr.name)))
            if attr.kind == "categorical" and (s.labels(attr.name) < 0).any():
                unlabelled.add(attr.name)
    if source in by_name:
        raise UserError(f"the stores already have an attribute {source!r}; name the new one "
                        "with --source")
    kept = []
    for name, attrs in by_name.items():
        kinds = {a.kind for a in attrs}
        if len(kinds) > 1:
            left_out.append(f"{name}: {' in one store, '.join(sorted(kinds))} in another")
            continue
        kind = attrs[0].kind
        if kind == "factor":
            if len(attrs) < len(stores) or any(a.values != attrs[0].values for a in attrs):
                left_out.append(f"{name}: a factor that not every store has with the same levels")
                continue
            kept.append(attrs[0])
        elif kind == "continuous":
            ranges = [a.range for a in attrs]
            span = None if None in ranges else (min(r[0] for r in ranges),  # type: ignore[index]
                                                max(r[1] for r in ranges))  # type: ignore[index]
            kept.append(Attribute(name, "continuous", range=span,
                                  description=attrs[0].description))
        else:
            classes = list(dict.fromkeys(c for n in named[name] for c in n if c != UNKNOWN))
            complete = len(attrs) == len(stores)
            if not complete or name in unlabelled or any(UNKNOWN in n for n in named[name]):
                classes.append(UNKNOWN)
            known = [[c for c in n if c != UNKNOWN] for n in named[name]]
            ordered = all(a.ordered and k == known[0] for a, k in zip(attrs, known, strict=True))
            if not ordered and any(a.ordered for a in attrs):
                notes.append(f"{name}: ordered in {sum(a.ordered for a in attrs)} of the "
                             f"{len(stores)} stores, not in one order across them: kept unordered "
                             f"(give it one with `latentplay data order {shell_word(out)} {name} "
                             "--classes ...`)")
            kept.append(Attribute(name, "categorical", names=classes, ordered=ordered,
                                  description=attrs[0].description))
    return kept


def _vectors(stores: list[Store], left_out: list[str]) -> list[VectorColumn]:
    """The vector columns every store has from one embedder that does not fit itself."""
    from latentplay.embed.base import REGISTRY, embedder_class
    from latentplay.embed.column import embed_entry

    # cached projections are coordinates of one store's rows: recomputed on the new store
    names = list(dict.fromkeys(v.name for s in stores for v in s.schema.vectors if not v.is_projection))
    kept = []
    for name in names:
        columns = [next((v for v in s.schema.vectors if v.name == name), None) for s in stores]
        entries = [embed_entry(s, name) for s in stores]
        made = {(e or {}).get("embedder") for e in entries}
        if any(c is None for c in columns):
            left_out.append(f"{name}: not in every store")
        elif len({c.dim for c in columns if c}) > 1:
            left_out.append(f"{name}: of different lengths")
        elif any(_imported(s, name) for s in stores):
            left_out.append(f"{name}: imported (data import-vectors), so nothing says every "
                            "store's vectors come from one model; import them into the new store "
                            "(its rows are the stores' rows, one store after the other)")
        elif any(e is None for e in entries) or len(made) > 1 or any(
                e["config"] != entries[0]["config"] for e in entries if e):
            left_out.append(f"{name}: not made by one embedder with the same options")
        elif (kind := str(entries[0]["embedder"]).partition(":")[0]) in REGISTRY and \
                embedder_class(kind).needs_fit:  # before the states: theirs always differ
            left_out.append(f"{name}: {kind} fits itself to each store's images, so the "
                            "stores' vectors do not compare; embed the new store instead")
        elif len({e.get("state") for e in entries if e and e.get("state") is not None}) > 1:
            # columns made before the state was recorded are taken on their name and options
            left_out.append(f"{name}: made by {entries[0]['embedder']} with other weights or "
                            "fitted state in each store")
        else:
            kept.append(columns[0])  # type: ignore[arg-type]
    return kept


def _imported(store: Store, name: str) -> bool:
    """Whether vector column ``name`` of ``store`` was last written by ``data import-vectors``."""
    made = [h for h in store.schema.history if h.get("column") == name
            and (h.get("op") == "embed" or h.get("command") == "import-vectors")]
    return bool(made) and made[-1].get("command") == "import-vectors"


def _aligned(store: Store, attributes: list[Attribute], text: list[str], order: list[str],
             prefixes: dict[str, str]) -> datasets.Dataset:
    """``store``'s rows with the new store's columns: class codes renumbered by name (person
    classes with their ``prefixes``, :func:`_person_prefixes`), attributes it lacks as
    ``unknown`` or NaN, text columns it lacks empty."""
    own = {a.name: a for a in store.schema.attributes}
    columns: dict[str, tuple[Attribute, np.ndarray]] = {}
    for attr in attributes:
        if attr.kind == "factor":
            continue
        if attr.name not in own:
            filler = len(attr.level_names) - 1 if attr.kind == "categorical" else np.nan
            columns[attr.name] = (attr, np.full(len(store), filler))
        elif attr.kind == "categorical":
            names = _class_names(own[attr.name], prefixes.get(attr.name))
            place = {c: k for k, c in enumerate(attr.level_names)}  # a look-up, not a search per class
            renumber = np.array([place[c] for c in names] + [place.get(UNKNOWN, -1)])
            codes = np.asarray(store.labels(attr.name), np.int64)
            columns[attr.name] = (attr, renumber[np.where(codes < 0, len(names), codes)])
        else:
            columns[attr.name] = (attr, store.labels(attr.name))
    dataset = store.dataset
    for name in text:
        if name not in dataset.column_names:
            dataset = dataset.add_column(name, [""] * len(store))
    base = Store(dataset.select_columns([c for c in order if c in dataset.column_names]),
                 dataclasses.replace(store.schema, attributes=[
                     a for a in store.schema.attributes if a.name in columns]), None)
    return add_attributes(base, columns, replace=True).dataset.select_columns(order)


def _embed_entry(stores: list[Store], column: str, offsets: np.ndarray) -> dict[str, Any]:
    """The embed history entry of a kept vector column: the first store's, with every store's
    rows without a face, at their new row numbers."""
    from latentplay.embed.column import embed_entry

    entries = [embed_entry(s, column) or {} for s in stores]
    missing = [int(r) + int(offsets[k]) for k, e in enumerate(entries)
               for r in e.get("not_found", [])]
    return {**entries[0], "rows": int(offsets[-1]), "not_found": missing}
