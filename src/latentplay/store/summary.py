"""Summaries of a store: row count, per-attribute counts or histograms, one cross-tab."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from latentplay.store.binning import edge_texts
from latentplay.store.io import Store, opened
from latentplay.store.schema import UNKNOWN, Attribute

MAX_LISTED = 30
"""Categorical attributes with more classes (identities: CelebA, MORPH, RFW) are summarised by
their rows per class rather than listed class by class, and left out of the default cross-tab.
Factors (dSprites' 40 orientations) are levels of a quantity and stay listed."""


def many_classes(attr: Attribute) -> bool:
    """Whether ``attr`` is categorical with more than :data:`MAX_LISTED` classes."""
    return attr.kind == "categorical" and (attr.num_values or 0) > MAX_LISTED


def finite_span(values: np.ndarray) -> tuple[float, float] | None:
    """Smallest and largest finite value of ``(N,)`` values, or None when none is finite."""
    finite = np.asarray(values, dtype=np.float64)
    finite = finite[np.isfinite(finite)]
    return (float(finite.min()), float(finite.max())) if finite.size else None


def round_edges(lo: float, hi: float, bins: int) -> np.ndarray:
    """About ``bins`` equal bins covering ``[lo, hi]`` whose edges are round numbers: a width
    of 1, 2, 2.5 or 5 times a power of ten, edges at its multiples (``hi > lo``). The outer
    edges are at least as far out as ``lo`` and ``hi`` (a width such as 0.05 is no exact double:
    its multiple can fall an ulp inside them, leaving the extreme value in no bin)."""
    raw = (hi - lo) / bins
    power = 10.0 ** np.floor(np.log10(raw))
    width = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw * (1 - 1e-9))
    start, stop = np.floor(lo / width) * width, np.ceil(hi / width) * width
    edges = start + width * np.arange(round((stop - start) / width) + 1)
    edges[0], edges[-1] = min(edges[0], lo), max(edges[-1], hi)
    return edges


def _summary(store: Store, attr: Attribute, bins: int) -> dict[str, Any]:
    values = store.labels(attr.name)
    if attr.kind == "continuous":
        finite = values[np.isfinite(values)]
        lo, hi = attr.range or finite_span(finite) or (0.0, 1.0)
        # a declared range is cut evenly; a measured one at round numbers around its values
        cuts = bins if attr.range or hi <= lo else round_edges(lo, hi, bins)
        counts, edges = np.histogram(finite, bins=cuts, range=(lo, hi) if attr.range else None)
        span = finite_span(finite)
        return {
            "kind": "continuous",
            "range": [lo, hi],
            "mean": float(finite.mean()) if finite.size else None,   # None: no value (JSON null)
            "std": float(finite.std()) if finite.size else None,
            "missing": int(len(values) - finite.size),
            "histogram": {"edges": edges.round(6).tolist(), "counts": counts.tolist()},
            # values outside a declared range fall in no bin: counted, with the values' span
            "outside": int(finite.size - counts.sum()),
            "span": list(span) if span else None,
        }
    names = attr.level_names
    counts = np.bincount(values[values >= 0], minlength=len(names))
    # ``missing``: rows with no code at all; ``unknown``: rows in the class ``unknown`` (both
    # without a value: the first is rare, the second how converters and regroup mark them)
    out: dict[str, Any] = {"kind": attr.kind, "ordered": attr.ordered,
                           "counts": dict(zip(names, counts.tolist(), strict=True)),
                           "missing": int((values < 0).sum()),
                           "unknown": int(counts[names.index(UNKNOWN)]) if UNKNOWN in names else 0}
    if many_classes(attr):
        # ``unknown`` (rows matched to no person) is not a class: its rows are counted apart
        known = np.array([n != UNKNOWN for n in names])
        sizes = counts[known]
        largest = np.flatnonzero(known)[np.argsort(-sizes, kind="stable")[:5]]
        out["per_class"] = {
            "classes": int(known.sum()), "min": int(sizes.min()),
            "median": float(np.median(sizes)), "max": int(sizes.max()),
            "empty": int((sizes == 0).sum()), "single": int((sizes == 1).sum()),
            "largest": {names[i]: int(counts[i]) for i in largest},
            "unknown": int(counts[~known].sum())}
    return out


def bin_codes(values: np.ndarray, value_range: tuple[float, float] | None, bins: int
              ) -> tuple[np.ndarray, np.ndarray]:
    """Equal-width bins of ``(N,)`` continuous values over ``value_range`` (the finite values'
    span when None): ``(N,)`` int codes in ``0..bins-1`` (-1 for NaN) and the ``(bins + 1,)``
    edges. Values outside the range go to the first or last bin."""
    value_range = value_range or finite_span(values) or (0.0, 1.0)
    edges = np.linspace(value_range[0], value_range[1], bins + 1)
    codes = np.clip(np.digitize(values, edges[1:-1]), 0, bins - 1)
    return np.where(np.isfinite(values), codes, -1), edges


def level_codes(store: Store, attr: Attribute, bins: int) -> tuple[np.ndarray, list[str]]:
    """Integer codes (-1: no value) and level names of an attribute (continuous ones binned)."""
    values = store.labels(attr.name)
    if attr.kind != "continuous":
        return values.astype(np.int64), attr.level_names
    codes, edges = bin_codes(values, attr.range, bins)
    text = edge_texts(edges)
    names = [f"[{a},{b})" for a, b in zip(text[:-1], text[1:], strict=True)]
    names[-1] = names[-1][:-1] + "]"  # the last bin includes the top of the range
    return codes, names


CROSSTAB_BINS = 4
"""Equal-width bins of a continuous attribute in a cross-tabulation (``data info``'s, the
report's, and the quickstart's bias chart of the same table)."""


def crosstab(store: Store | str | os.PathLike[str], row: str, col: str,
             bins: int = CROSSTAB_BINS) -> dict[str, Any]:
    """Counts of each (row value, column value) pair; continuous attributes are binned and rows
    without a value of either attribute (NaN, or a missing class) are left out."""
    store = opened(store)
    ra, ca = (store.schema.attribute_or_error(n) for n in (row, col))
    rc, rn = level_codes(store, ra, bins)
    cc, cn = level_codes(store, ca, bins)
    keep = (rc >= 0) & (cc >= 0)
    table = np.zeros((len(rn), len(cn)), dtype=np.int64)
    np.add.at(table, (rc[keep], cc[keep]), 1)
    return {"rows": row, "columns": col, "row_names": rn, "column_names": cn, "counts": table.tolist(),
            "left_out": int((~keep).sum())}


def info(store: Store | str | os.PathLike[str], crosstab_of: tuple[str, str] | None = None,
         bins: int = 10) -> dict[str, Any]:
    """A JSON-ready summary of ``store``.

    Args:
        store: the store or its path.
        crosstab_of: two attribute names to cross-tabulate; by default the first two
            categorical attributes of at most :data:`MAX_LISTED` classes (none when the store
            has fewer).
        bins: histogram bins for continuous attributes.

    Per attribute, ``missing`` counts rows without a value; a categorical one also gives
    ``unknown``, its rows in the class ``unknown`` (how converters, ``regroup`` and ``concat``
    mark rows without a value), which ``counts`` lists too.
    """
    store = opened(store)
    attrs = store.schema.attributes
    if crosstab_of is None:
        cats = [a.name for a in attrs if a.kind == "categorical" and not many_classes(a)]
        crosstab_of = (cats[0], cats[1]) if len(cats) >= 2 else None
    prov = store.schema.provenance
    return {
        "path": str(store.path) if store.path else None,
        "rows": len(store),
        "source": prov.source,
        "converter": prov.converter,
        "created": prov.created,
        "counts": prov.counts,
        "image_column": store.schema.image_column,
        "vectors": {v.name: v.dim for v in store.schema.vectors if not v.is_projection},
        "vector_descriptions": {v.name: v.description for v in store.schema.vectors
                                if not v.is_projection and v.description},
        "projections": [v.name for v in store.schema.vectors if v.is_projection],
        "attributes": {a.name: _summary(store, a, bins) for a in attrs},
        "crosstab": crosstab(store, *crosstab_of) if crosstab_of else None,
    }
