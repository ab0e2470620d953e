"""Intersectional groups: one categorical attribute whose classes are the combinations of others.

Demographic gaps often live in intersections (dark-skinned women, older Asian men) that no single
attribute shows. ``combine_store`` adds a categorical attribute whose classes are the
combinations the rows have, so every ``--by`` of the toolkit (``data bias``, ``audit compare
--annotator labels``, ``audit fidelity``, ``viz projection``, ``match run --exact``) takes them:

    >>> combine_store("data/fairface", ["race", "gender"])    # race_gender: "Black / Female", ...

Classes are ordered as the attributes' own classes are (the first attribute slowest); a row
whose value is missing or ``unknown`` in any of them gets ``unknown``. The store is replaced
atomically, with a history entry.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from latentplay.errors import UserError
from latentplay.store.columns import add_attributes, with_history
from latentplay.store.io import Store, save, saved
from latentplay.store.schema import UNKNOWN, Attribute, check_attribute_name

SEPARATOR = " / "


def combination_codes(codes: Sequence[np.ndarray], names: Sequence[Sequence[str]]
                      ) -> tuple[np.ndarray, list[str]]:
    """The combined class of each row: ``K`` arrays of ``(N,)`` codes into ``names[k]`` ->
    ``(N,)`` codes into the returned class names (the combinations present, in the order of
    the attributes' classes, then ``unknown`` if any row has a missing or ``unknown`` part)."""
    n = len(codes[0])
    flat = np.zeros(n, dtype=np.int64)
    missing = np.zeros(n, dtype=bool)
    for code, levels in zip(codes, names, strict=True):
        code = np.asarray(code, dtype=np.int64)
        bad = (code < 0) | (code >= len(levels))
        if UNKNOWN in levels:
            bad |= code == list(levels).index(UNKNOWN)
        missing |= bad
        flat = flat * len(levels) + np.where(bad, 0, code)
    present = np.unique(flat[~missing])
    classes = []
    for value in present:
        parts, rest = [], int(value)
        for levels in reversed(names):
            parts.append(levels[rest % len(levels)])
            rest //= len(levels)
        classes.append(SEPARATOR.join(reversed(parts)))
    out = np.searchsorted(present, flat)
    if missing.any():
        classes.append(UNKNOWN)
        out = np.where(missing, len(classes) - 1, out)
    return out.astype(np.int64), classes


def intersections(store: Store, attributes: Sequence[str], option: str
                  ) -> tuple[np.ndarray, list[str]]:
    """:func:`combination_codes` of categorical ``attributes`` of ``store`` (factors too);
    a continuous one is refused, naming the command's ``option``."""
    attrs = [store.schema.attribute_or_error(name) for name in attributes]
    for attr in attrs:
        if attr.kind == "continuous":
            raise UserError(f"{option} {attr.name} is continuous; cut it into groups first "
                            f"with `latentplay data bin STORE {attr.name}`")
    return combination_codes([store.labels(a.name) for a in attrs],
                             [a.level_names for a in attrs])


def group_codes(store: Store, by: str, option: str = "--by"
                ) -> tuple[list[str], np.ndarray, bool]:
    """The groups of ``by`` (one attribute, or several comma-separated for their
    intersections; :func:`intersections`) that rows have, in the attributes' class order,
    ``(N,)`` each row's group (-1: missing or ``unknown``) and whether the groups follow an
    order (one ordered attribute, or a factor)."""
    parts = [n.strip() for n in by.split(",") if n.strip()]
    if not parts:
        raise UserError(f"{option} names no attribute")
    codes, names = intersections(store, parts, option)
    attrs = [store.schema.attribute(n) for n in parts]
    if UNKNOWN in names:
        codes = np.where(codes == names.index(UNKNOWN), -1, codes)
        names = names[:names.index(UNKNOWN)]
    ordered = len(attrs) == 1 and attrs[0].has_order
    return names, codes, ordered


def group_order(store: Store, by: str) -> list[str]:
    """The classes of the first attribute of ``by``, ``unknown`` left out: the order that
    :func:`group_codes`' groups of one ordered attribute (those of its classes that rows
    have) follow, each group at its class's place in it."""
    first = next(n.strip() for n in by.split(",") if n.strip())
    return [name for name in store.schema.attribute_or_error(first).level_names if name != UNKNOWN]


def combine_store(store: Store | str | os.PathLike[str], attributes: Sequence[str], *,
                  name: str | None = None, overwrite: bool = False) -> Store:
    """Add the combinations of categorical ``attributes`` as one attribute, in place.

    Args:
        store: a saved store or its path.
        attributes: two or more categorical attributes (factors too).
        name: the new attribute's name (default: the names joined by ``_``).
        overwrite: replace an attribute of that name.

    Returns:
        The store re-loaded with the new attribute.
    """
    store = saved(store, "combine its attributes")
    if len(attributes) < 2 or len(set(attributes)) < len(attributes):
        raise UserError("give two or more different attributes to combine, e.g. race,gender")
    combined, classes = intersections(store, attributes, "combine:")
    if not classes:   # no rows (rows without a class of some attribute make ``unknown``)
        raise UserError(f"{store.path} has no rows: there are no combinations of "
                        f"{', '.join(attributes)} to name")
    new_name = check_attribute_name(name or "_".join(attributes), attributes)
    described = Attribute(new_name, "categorical", names=classes,
                          description="combinations of " + ", ".join(attributes))
    new = add_attributes(store, {new_name: (described, combined)}, replace=overwrite)
    entry = {"op": "combine", "column": new_name, "source": list(attributes),
             "classes": len(classes), "rows": len(store)}
    return save(with_history(new, entry), store.path)
