"""Groups of a continuous attribute: a new categorical attribute cut at edges or quantiles.

Every ``--by`` of the toolkit (``audit verify``, ``audit fidelity``, ``data bias``, ``match
--treatment``, training conditions) takes classes; ages in years (UTKFace, MORPH), measured
skin angles, head yaw or a detector's score become classes here:

    >>> bin_store("data/utkface", "age", edges=[20, 40, 60])   # age_group: <20, [20, 40), ...
    >>> bin_store("data/faces", "pose_yaw", quantiles=4, name="yaw_q")  # four equal-count groups

Each group holds the values from its lower edge up to, not including, the next edge; rows with
no value (NaN) get the class ``unknown``. The store is replaced atomically, with a history
entry naming the source attribute and the edges.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from decimal import ROUND_FLOOR, Decimal

import numpy as np

from latentplay.errors import UserError
from latentplay.store.columns import add_attributes, with_history
from latentplay.store.io import Store, save, saved
from latentplay.store.schema import UNKNOWN, Attribute, check_attribute_name

MIN_ROWS_PER_GROUP = 2
"""Quantiles are refused that leave fewer rows than this per group on average."""


def quantile_edges(values: np.ndarray, quantiles: int) -> np.ndarray:
    """Inner edges cutting ``(N,)`` ``values`` (NaN ignored) into ``quantiles`` groups of about
    equal counts: ``(quantiles - 1,)`` edges, fewer where ties would leave a group empty (tied
    values always share a group). Each edge is the shortest decimal between the value that
    starts its group and the value below it (:func:`short_edge`): the same rows either side
    as the data's own value, and a group name of ``[-0.3, -0.09)``, not ``[-0.29440495,
    -0.088746026)``. More groups than leave :data:`MIN_ROWS_PER_GROUP` rows each on average
    are refused."""
    if quantiles < 2:
        raise UserError(f"--quantiles must be at least 2, got {quantiles}")
    ordered = np.sort(values[np.isfinite(values)])
    if not len(ordered):
        raise UserError("the attribute has no values to cut into quantiles")
    if quantiles * MIN_ROWS_PER_GROUP > len(ordered):
        most = len(ordered) // MIN_ROWS_PER_GROUP
        raise UserError(f"--quantiles {quantiles} leaves fewer than {MIN_ROWS_PER_GROUP} rows per "
                        f"group: the attribute has a value in {len(ordered)} rows"
                        + (f"; give at most {most}" if most >= 2 else ""))
    # the k-th group starts at the ceil(k n / q)-th smallest value (0-based index)
    starts = np.ceil(np.arange(1, quantiles) * len(ordered) / quantiles).astype(np.int64)
    edges = np.unique(ordered[np.minimum(starts, len(ordered) - 1)])
    edges = edges[edges > ordered[0]]
    below = ordered[np.searchsorted(ordered, edges) - 1]          # the largest value under each
    return np.array([short_edge(b, e) for b, e in zip(below, edges, strict=True)])


def short_edge(below: float, edge: float) -> float:
    """The decimal of fewest significant digits in ``(below, edge]`` at float32 (the precision
    values are compared at): an edge cutting the data where ``edge`` does."""
    exact = Decimal(float(edge))
    for digits in range(1, 18):
        step = Decimal(1).scaleb(exact.adjusted() - digits + 1)   # a unit of the last digit
        candidate = float((exact / step).to_integral_value(ROUND_FLOOR) * step)
        if np.float32(below) < np.float32(candidate) <= np.float32(edge):
            return candidate
    return float(edge)


def edge_texts(edges: Sequence[float]) -> list[str]:
    """Each of the increasing ``edges`` as text: three significant digits, or as many more as
    keep them apart, never rounded to less than whole units (12345, not 12300)."""
    whole = [len(f"{abs(e):.0f}") if abs(e) >= 1 else 0 for e in edges]
    for digits in range(3, 18):
        text = [np.format_float_positional(e, precision=max(digits, w), fractional=False, trim="-")
                for e, w in zip(edges, whole, strict=True)]
        if len(set(text)) == len(text):
            break
    return text


def edge_text(edge: float) -> str:
    """An edge as :func:`group_names` writes it: the shortest decimal that reads back as the
    float32 edge the store's values are compared with."""
    return np.format_float_positional(np.float32(edge), unique=True, trim="-")


def group_names(edges: Sequence[float]) -> list[str]:
    """Names of the ``len(edges) + 1`` groups: ``<20``, ``[20, 40)``, ..., ``>=60``; each edge
    written exactly, as the shortest decimal that reads back as the float32 edge :func:`cut`
    compares the store's values with (``47.2712``, not ``47.3``, which would name a value of
    47.28 in the group from 47.3): a name states its group's bounds, and
    :func:`group_bounds` reads them back."""
    text = [edge_text(e) for e in edges]
    inner = [f"[{a}, {b})" for a, b in zip(text[:-1], text[1:], strict=True)]
    return [f"<{text[0]}", *inner, f">={text[-1]}"]


_NUMBER = r"(-?\d+(?:\.\d+)?)"
_BOUNDS = [  # (pattern, bounds of its numbers): the names data bin writes, and published ones
    (rf"<\s*{_NUMBER}|(?:under|less than|below)\s+{_NUMBER}", lambda a: (-np.inf, a)),
    (rf">=\s*{_NUMBER}|(?:more than|over|above)\s+{_NUMBER}|{_NUMBER}\s*\+",
     lambda a: (a, np.inf)),
    (rf"\[\s*{_NUMBER}\s*,\s*{_NUMBER}\s*\)", lambda a, b: (a, b)),
    (rf"{_NUMBER}\s*(?:-|to)\s*{_NUMBER}|\(\s*{_NUMBER}\s*,\s*{_NUMBER}\s*\)",
     lambda a, b: (a, b + 1 if a.is_integer() and b.is_integer() else b)),
]


def group_bounds(names: Sequence[str]) -> np.ndarray | None:
    """The value range of each group named like an interval: ``(K, 2)`` lower (included) and
    upper (excluded) bounds of ``names`` such as ``<20``, ``[20, 40)``, ``>=60`` (what
    :func:`group_names` writes), ``0-2``, ``3-9``, ``more than 70`` (FairFace's ages: a
    range of whole numbers includes its last year, ``0-2`` is ``[0, 3)``; ``more than 70``
    follows ``60-69`` and so starts at 70) or ``(0, 2)``, ``(4, 6)`` (Adience's ages, read as
    ``0-2``, ``4-6``). None unless every name reads as an interval and
    the intervals follow each other without overlapping. The bounds are float32 numbers (as
    float64), the precision the store holds values in and :func:`cut` compares them at: a
    value written as a bound (0.7) falls in the group it starts, as it was binned."""
    bounds = [_interval(name) for name in names]
    if not bounds or any(b is None for b in bounds):
        return None
    out = np.array(bounds, dtype=np.float32).astype(np.float64).reshape(-1, 2)
    if (out[:, 0] >= out[:, 1]).any() or (out[1:, 0] < out[:-1, 1]).any():
        return None
    return out


def interval_codes(values: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """``(N,)`` index of the group of :func:`group_bounds`' ``(K, 2)`` ``bounds`` each ``(N,)``
    value falls in (by lower bounds; a value beyond the outermost groups counts in them)."""
    found = np.searchsorted(bounds[:, 0], np.asarray(values, np.float64), side="right") - 1
    return np.clip(found, 0, len(bounds) - 1)


def interval_order(names: Sequence[str]) -> list[str] | None:
    """``names`` sorted by the intervals they name (``3-9`` before ``10-19``), when every one
    names an interval and none overlap (:func:`group_bounds`); else None."""
    bounds = [_interval(name) for name in names]
    if not bounds or any(b is None for b in bounds):
        return None
    ordered = [name for _, name in sorted(zip(bounds, names, strict=True))]
    return ordered if group_bounds(ordered) is not None else None


def _interval(name: str) -> tuple[float, float] | None:
    """The ``[lower, upper)`` bounds a group name states, or None."""
    text = name.strip().lower()
    for pattern, make in _BOUNDS:
        found = re.fullmatch(pattern, text)
        if found:
            return make(*(float(g) for g in found.groups() if g is not None))
    return None


def cut(values: np.ndarray, edges: Sequence[float]) -> np.ndarray:
    """Group codes of ``(N,)`` float ``values``: ``(N,)`` int64 in ``0..len(edges)``, each group
    from its lower edge up to the next; ``len(edges) + 1`` for NaN."""
    codes = np.searchsorted(np.asarray(edges, np.float64), values, side="right")
    return np.where(np.isnan(values), len(edges) + 1, codes).astype(np.int64)


def bin_store(store: Store | str | os.PathLike[str], attribute: str, *,
              edges: Sequence[float] | None = None, quantiles: int | None = None,
              names: Sequence[str] | None = None, name: str | None = None,
              overwrite: bool = False) -> Store:
    """Add the groups of continuous ``attribute`` as a categorical attribute, in place.

    Args:
        store: a saved store or its path.
        attribute: a continuous attribute of the store.
        edges: increasing inner edges (``k`` edges make ``k + 1`` groups); or
        quantiles: the number of equal-count groups (edges at the values' quantiles).
        names: the groups' names (default: :func:`group_names`).
        name: the new attribute's name (default: ``ATTRIBUTE_group``).
        overwrite: replace an attribute of that name.

    Returns:
        The store re-loaded with the new attribute.
    """
    store = saved(store, "bin one of its attributes")
    attr = store.schema.attribute_or_error(attribute)
    if attr.kind != "continuous":
        raise UserError(f"{attribute!r} is {attr.kind}; only a continuous attribute is cut into "
                        "groups")
    if (edges is None) == (quantiles is None):
        raise UserError("give either --edges or --quantiles")
    values = np.asarray(store.labels(attribute), np.float64)
    if edges is not None:
        cuts = np.asarray(list(edges), np.float64)
        if not len(cuts) or not np.isfinite(cuts).all() or \
                (np.diff(cuts.astype(np.float32)) <= 0).any():
            raise UserError(f"--edges must be increasing numbers, got {list(edges)}")
    else:
        cuts = quantile_edges(values, quantiles or 0)
        if not len(cuts):
            raise UserError(f"{attribute!r} takes one value; quantiles cannot cut it")
    classes = list(names) if names else group_names(cuts)
    if len(classes) != len(cuts) + 1 or len(set(classes)) != len(classes) or UNKNOWN in classes:
        raise UserError(f"{len(cuts)} edges make {len(cuts) + 1} groups; give as many distinct "
                        f"--names (not {UNKNOWN!r}), got {len(classes)}")
    # the store holds float32 values: edges compared at that precision, so that a value
    # written as an edge (0.7) falls in the group it starts, not the one below
    codes = cut(values, cuts.astype(np.float32))
    if np.isnan(values).any():
        classes.append(UNKNOWN)
    new_name = check_attribute_name(name or f"{attribute}_group", [attribute])
    described = Attribute(new_name, "categorical", names=classes, ordered=True,
                          description=f"{attribute} in groups cut at "
                                      f"{', '.join(map(edge_text, cuts))} (each from its "
                                      "lower edge)")
    new = add_attributes(store, {new_name: (described, codes)}, replace=overwrite)
    entry = {"op": "bin", "column": new_name, "source": attribute,
             "edges": [float(e) for e in cuts], "quantiles": quantiles, "names": classes,
             "rows": len(store)}
    return save(with_history(new, entry), store.path)
