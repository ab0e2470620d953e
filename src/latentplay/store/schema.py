"""What the columns of a store mean: attribute kinds, class names, ranges, and provenance.

The schema is saved as ``latentplay.json`` inside the store directory (``datasets`` ignores it,
so ``datasets.load_from_disk`` still opens the store) and as JSON in ``info.description``.
"""

from __future__ import annotations

import datetime as _dt
import getpass
import platform
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np

from latentplay import __version__
from latentplay.errors import UserError
from latentplay.outputs import made_by

AttributeKind = Literal["categorical", "continuous", "factor"]
KINDS: tuple[str, ...] = ("categorical", "continuous", "factor")
UNKNOWN = "unknown"
"""The class of a row without a value (a face not found, an attribute not measured): plots
draw it grey, and groups built from attributes carry it over."""

PERSON_ATTRIBUTES = ("identity", "person")
"""Attributes that name each row's person, the first a store has: a dataset's identities, else
the persons ``latentplay data persons`` found by face vectors."""


def class_places(codes: np.ndarray, names: Sequence[str]) -> np.ndarray:
    """``(N,)`` int64 place of each row's class among ``names`` in their order, ``unknown``
    left out (0, 1, ...); -1 for ``unknown`` and for a code outside ``names`` (missing)."""
    order = [k for k, name in enumerate(names) if name != UNKNOWN]
    lookup = np.full(len(names) + 1, -1, dtype=np.int64)
    lookup[order] = np.arange(len(order))
    codes = np.asarray(codes, dtype=np.int64)
    return lookup[np.where((codes >= 0) & (codes < len(names)), codes, len(names))]


def group_places(names: Sequence[str], order: Sequence[str] | None = None) -> np.ndarray:
    """``(G,)`` int64 place of each group of ``names`` among the classes of ``order`` (those
    of an ordered attribute; default ``names`` themselves), ``unknown`` left out as
    :func:`class_places` leaves it, so a class without a group keeps its step; -1 for
    ``unknown`` and a name not in ``order``."""
    known = [name for name in (names if order is None else order) if name != UNKNOWN]
    place = first_places(known)
    return np.array([place.get(name, -1) for name in names], np.int64)


def first_places(names: Sequence[str]) -> dict[str, int]:
    """Each of ``names`` -> its first place among them (``names.index(name)``, in one pass)."""
    return {name: k for k, name in reversed(list(enumerate(names)))}


def trend_groups(order: Sequence[str], places: np.ndarray) -> dict[str, list[str]]:
    """The ``groups`` of ``order`` (classes, ``unknown`` left out) at the sorted ``(k,)``
    ``places`` a trend along them was fitted on, and the ``gaps``: the classes of the order
    between the first and the last without rows (or pairs); each gap still counts a step."""
    known = [name for name in order if name != UNKNOWN]
    fitted = set(np.asarray(places).tolist())
    return {"groups": [known[k] for k in places],
            "gaps": [known[k] for k in range(places[0], places[-1] + 1) if k not in fitted]}


def check_column_name(name: str, what: str = "column name") -> str:
    """``name`` when it is one a column made by a command may have (letters, digits, '_'),
    else a :class:`UserError` calling it ``what``."""
    if not name or not name.replace("_", "").isalnum():
        raise UserError(f"{what} {name!r}: use letters, digits and '_'")
    return name


def check_file_safe(name: Any, what: str) -> str:
    """``name`` when it can stand in a file name an output is given (``distribution_<name>.csv``,
    ``pca_<embedding>_<name>.png``): a string without ``/``, ``\\`` or NUL, and not ``.`` or
    ``..``; else a ``ValueError`` calling it ``what``. Names read from files (a schema, an
    annotator) are checked so: a downloaded file could name ``../../x`` and steer a write."""
    if not isinstance(name, str) or not name or name in (".", "..") or any(
            c in name for c in "/\\\0"):
        raise ValueError(f"{what} {name!r} cannot name a file (/, \\, NUL, . or ..)")
    return name


def joined_classes(pieces: Sequence[str], names: Sequence[str]) -> list[str]:
    """Comma-split ``pieces`` of a list of class names, with each run of them that names one
    of ``names`` joined back into it (``data bin``'s ``[0.1, 0.2)`` holds a comma): the longest
    run first, spaces around the commas ignored. Pieces that name no class stay as they are,
    stripped, for the caller to refuse."""
    def bare(text: str) -> str:
        return ",".join(part.strip() for part in text.split(","))

    known = {bare(n): n for n in names}
    widest = max((key.count(",") for key in known), default=0) + 1   # pieces in the longest name
    out, start = [], 0
    while start < len(pieces):
        stop = next((j for j in range(min(len(pieces), start + widest), start, -1)
                     if bare(",".join(pieces[start:j])) in known), start + 1)
        joined = bare(",".join(pieces[start:stop]))
        out.append(known.get(joined, joined))
        start = stop
    return out


def check_attribute_name(name: str, made_from: Sequence[str | None] = ()) -> str:
    """``name`` when it is one an attribute made by a command may have (letters, digits, '_')
    and not one of the attributes it is ``made_from`` (``--overwrite`` would replace its own
    source for good), else a :class:`UserError`."""
    if name in made_from:
        raise UserError(f"the new attribute {name!r} would replace the attribute it is made "
                        "from; give another --name")
    return check_column_name(name, "attribute name")


@dataclass
class Attribute:
    """One label column.

    ``categorical`` columns are ``ClassLabel`` with ``names``; ``continuous`` columns are
    ``float32`` inside ``range``; ``factor`` columns are ints ``0..len(values)-1`` named
    ``factor_<name>`` holding the ground-truth factors of synthetic data (``values`` gives the
    continuous value of each level, ``names`` optionally a name for each). A categorical
    attribute is ``ordered`` when its classes follow an order (Monk skin tones, age groups,
    groups of a binned value): plots colour it along a ramp and ``data bias`` tests for a trend
    along it. The class ``unknown`` is never part of the order. A factor's levels follow the
    order of their values unless it is ``nominal`` (dSprites' shape: square, ellipse, heart,
    whose values only number them); :attr:`has_order` says which.
    """

    name: str
    kind: AttributeKind
    names: list[str] | None = None
    range: tuple[float, float] | None = None
    values: list[float] | None = None
    description: str = ""
    ordered: bool = False
    nominal: bool = False

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"attribute {self.name!r}: kind must be one of {KINDS}")
        if self.kind == "categorical" and not self.names:
            raise ValueError(f"categorical attribute {self.name!r} needs class names")
        if self.kind == "factor" and not self.values:
            raise ValueError(f"factor attribute {self.name!r} needs its level values")
        if self.ordered and self.kind != "categorical":
            raise ValueError(f"only a categorical attribute is marked ordered, not {self.name!r}")
        if self.nominal and self.kind != "factor":
            raise ValueError(f"only a factor is marked nominal, not {self.name!r}")
        if self.kind == "factor" and self.names is not None and len(self.names) != len(self.values):
            raise ValueError(f"factor attribute {self.name!r}: {len(self.names)} names for "
                             f"{len(self.values)} levels")
        if self.range is not None:
            self.range = (float(self.range[0]), float(self.range[1]))

    @property
    def num_values(self) -> int | None:
        """Number of levels of a categorical or factor attribute; None for continuous."""
        if self.kind == "categorical":
            return len(self.names or [])
        if self.kind == "factor":
            return len(self.values or [])
        return None

    @property
    def has_order(self) -> bool:
        """Whether the levels follow an order: an ordered categorical attribute, or a factor
        that is not nominal."""
        return self.ordered or (self.kind == "factor" and not self.nominal)

    @property
    def level_names(self) -> list[str]:
        """Name of each level of a categorical (class names) or factor (its ``names``, else
        ``f"{value:g}"``) attribute, indexed by its code; empty for continuous."""
        if self.kind == "categorical" or (self.kind == "factor" and self.names):
            return list(self.names or [])
        return [f"{v:g}" for v in self.values or []]


@dataclass
class VectorColumn:
    """A fixed-length float32 vector column (embedding, latent, projection) of dimension ``dim``."""

    name: str
    dim: int
    description: str = ""

    @property
    def is_projection(self) -> bool:
        """Whether the column caches 2-d coordinates of another (``latentplay viz``'s
        ``tsne__<column>`` ...): its description is the JSON record of that projection."""
        return self.description.startswith('{"projection"')


@dataclass
class Provenance:
    """Where a store came from: enough to rebuild it."""

    source: str
    converter: str
    arguments: dict[str, Any] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    version: str = __version__
    created: str = field(
        default_factory=lambda: _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    )
    host: str = field(default_factory=lambda: f"{getpass.getuser()}@{platform.node()}")
    rejected: str | None = None
    made_by: dict[str, str] | None = field(default_factory=made_by)
    """The latentplay version and the command that made the store
    (:func:`~latentplay.outputs.made_by`); None in a store made before it was recorded."""


@dataclass
class Schema:
    """Attributes (label columns), vector columns and provenance of one store."""

    attributes: list[Attribute]
    provenance: Provenance
    image_column: str | None = "image"
    vectors: list[VectorColumn] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)
    text_columns: list[str] = field(default_factory=list)
    """Plain string columns, e.g. ``file``: each row's input path relative to the source."""

    def __repr__(self) -> str:
        """One line a notebook can show: each attribute with its kind, the vector columns with
        their size, the converter and the number of history entries (the dataclass's own repr
        printed every class name, option and history entry, kilobytes)."""
        attributes = ", ".join(f"{a.name} ({a.kind})" for a in self.attributes) or "none"
        vectors = ", ".join(f"{v.name} ({v.dim})" for v in self.vectors) or "none"
        return (f"Schema(attributes: {attributes}; vectors: {vectors}; image column: "
                f"{self.image_column}; converter: {self.provenance.converter}; "
                f"history entries: {len(self.history)})")

    def attribute(self, name: str) -> Attribute:
        """The attribute called ``name`` (``factor_`` prefix optional for factors)."""
        for attr in self.attributes:
            if attr.name == name or self.column_of(attr) == name:
                return attr
        raise KeyError(name)

    def attribute_or_error(self, name: str) -> Attribute:
        """Like :meth:`attribute` but a missing name is a :class:`UserError` listing the choices."""
        try:
            return self.attribute(name)
        except KeyError:
            choices = ", ".join(a.name for a in self.attributes) or "none"
            hint = ""
            if "," in name:
                parts = [part.strip() for part in name.split(",") if part.strip()]
                hint = (f" (this option takes one attribute; for the intersections make them one "
                        f"first: `latentplay data combine STORE {','.join(parts)}`, named "
                        f"{'_'.join(parts)})")
            raise UserError(f"no attribute {name!r}{hint}; attributes: {choices}") from None

    def has_attribute(self, name: str) -> bool:
        try:
            self.attribute(name)
        except KeyError:
            return False
        return True

    def vector(self, name: str) -> VectorColumn:
        for vec in self.vectors:
            if vec.name == name:
                return vec
        raise KeyError(name)

    @staticmethod
    def column_of(attr: Attribute) -> str:
        """Dataset column holding ``attr``: ``factor_<name>`` for factors, else the name."""
        return f"factor_{attr.name}" if attr.kind == "factor" else attr.name

    @property
    def factors(self) -> list[Attribute]:
        """Ground-truth factor attributes, in column order."""
        return [a for a in self.attributes if a.kind == "factor"]

    def to_dict(self) -> dict[str, Any]:
        return {"latentplay_schema": 1, **asdict(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Schema:
        version = data.get("latentplay_schema", 1)
        if version != 1:
            raise ValueError(f"schema version {version!r}: this latentplay reads version 1 "
                             "(a newer latentplay wrote it, or the file was edited)")
        attrs = [Attribute(**a) for a in data["attributes"]]
        vectors = [VectorColumn(**v) for v in data.get("vectors", [])]
        for item, what in [*((a, "attribute") for a in attrs), *((v, "vector column") for v in vectors)]:
            check_file_safe(item.name, what)
        provenance = Provenance(**{"made_by": None, **data["provenance"]})
        history = list(data.get("history", []))
        _flags_not_yet_saved(attrs, data["attributes"], provenance.converter, history)
        return cls(
            attributes=attrs,
            provenance=provenance,
            image_column=data.get("image_column", "image"),
            vectors=vectors,
            history=history,
            text_columns=list(data.get("text_columns", [])),
        )


LATER_FLAGS = ("ordered", "nominal")
"""Attribute fields a store's schema did not always save: a schema without one was written
before latentplay had it."""


def _flags_not_yet_saved(attrs: list[Attribute], saved: Sequence[dict[str, Any]],
                         converter: str, history: Sequence[dict[str, Any]] = ()) -> None:
    """Give each of ``attrs`` whose ``saved`` dict lacks a field of :data:`LATER_FLAGS` the
    value the store's built-in source gives that attribute today (same name, kind and number
    of levels; :func:`latentplay.sources.fixed_attributes`), in place; a categorical attribute
    that the store's ``history`` says ``data bin`` or ``data measure`` made gets the order
    those commands give it today (:func:`_made_ordered`). A store written before a flag
    existed could not set it: an older shapes store read with ``nominal`` false had a trend
    test and a regression direction along square, ellipse, heart; an older synthfaces store's
    Monk tones, and an older store's binned groups, were unordered."""
    missing = [(attr, keys) for attr, raw in zip(attrs, saved, strict=True)
               if (keys := [k for k in LATER_FLAGS if k not in raw])]
    if not missing:
        return
    from latentplay.sources import fixed_attributes

    today = {a.name: a for a in fixed_attributes(converter)}
    made_ordered = _made_ordered(history)
    for attr, keys in missing:
        now = today.get(attr.name)
        if now is not None and now.kind == attr.kind and now.num_values == attr.num_values:
            for key in keys:
                setattr(attr, key, getattr(now, key))
        elif "ordered" in keys and attr.kind == "categorical" and attr.name in made_ordered:
            attr.ordered = True


def _made_ordered(history: Sequence[dict[str, Any]]) -> set[str]:
    """Names of the attributes whose latest maker in a store's ``history`` makes ordered
    classes today: ``data bin``'s groups of a value and ``data measure``'s ITA skin groups."""
    ordered: dict[str, bool] = {}
    for entry in history:
        if not isinstance(entry, dict):
            continue
        op = entry.get("op")
        made = entry.get("attributes") if op == "measure" else [entry.get("column")]
        for name in made if isinstance(made, list) else []:
            if isinstance(name, str):
                ordered[name] = op == "bin" or (op == "measure" and name.endswith("skin_group"))
    return {name for name, flag in ordered.items() if flag}
