"""Class order of a categorical attribute: put its classes in order and mark it ordered.

Age groups, Monk skin tones and binned values have an order that plots and tests use (a colour
ramp in projections, a trend test in ``data bias``). Converters that know the order mark it;
for a store whose classes came from a CSV in alphabetical order (``10-19`` before ``3-9``),
``order_classes`` renumbers them:

    >>> order_classes("data/ages", "age", ["0-2", "3-9", "10-19", "20-29", "30+"])

Row values are unchanged (each row keeps its class name); only the codes and the class list
change. The class ``unknown`` stays last and outside the order. The store is replaced
atomically, with a history entry. A factor's levels keep the order of their values; it is
marked nominal (levels without an order, dSprites' shape) or not, its codes unchanged.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence

import numpy as np

from latentplay.errors import UserError
from latentplay.store.columns import add_attributes, with_history
from latentplay.store.io import Store, save, saved
from latentplay.store.schema import UNKNOWN, Attribute, first_places, joined_classes


def order_classes(store: Store | str | os.PathLike[str], attribute: str,
                  classes: Sequence[str] | None = None, *, ordered: bool = True) -> Store:
    """Reorder the classes of categorical ``attribute`` and mark it (un)ordered, in place; or
    mark a factor nominal (``ordered`` False) or not, its levels in the order of their values.

    Args:
        store: a saved store or its path.
        attribute: a categorical attribute of the store.
        classes: every class name of the attribute in their order (``unknown`` may be left
            out; where named it still goes last); None keeps the present order.
        ordered: mark the attribute ordered (False: unordered classes).

    Returns:
        The store re-loaded, the attribute's codes renumbered to ``classes``.
    """
    store = saved(store, "order an attribute's classes")
    attr = store.schema.attribute_or_error(attribute)
    if attr.kind == "factor" and classes is None:
        return _mark_factor(store, attr, nominal=not ordered)
    if attr.kind == "factor":
        raise UserError(f"{attribute!r} is a factor, whose levels follow their values: give "
                        "no --classes (--unordered marks them nominal)")
    if attr.kind != "categorical":
        raise UserError(f"{attribute!r} is {attr.kind}; only a categorical attribute's classes "
                        "are ordered (cut a continuous one with `latentplay data bin`)")
    old = list(attr.names or [])
    # unknown stays last, unordered
    wanted = [c for c in (joined_classes(classes, old) if classes else old) if c != UNKNOWN]
    named = [c for c in old if c != UNKNOWN]
    distinct, classes_of_it = set(wanted), set(named)
    if sorted(wanted) != sorted(named) or len(distinct) != len(wanted):
        missing = [c for c in named if c not in distinct]
        extra = [c for c in wanted if c not in classes_of_it]
        detail = "; ".join(part for part in (
            f"missing {', '.join(missing)}" if missing else "",
            f"not classes of it {', '.join(extra)}" if extra else "",
            "a class named twice" if len(distinct) != len(wanted) else "") if part)
        raise UserError(f"--classes must name each class of {attribute!r} once ({detail}); "
                        f"its classes: {', '.join(named)}")
    codes = np.asarray(store.labels(attribute), dtype=np.int64)
    new_names = wanted + ([UNKNOWN] if UNKNOWN in old or (codes < 0).any() else [])
    place = first_places(new_names)
    renumber = np.array([place[c] for c in old] + [len(new_names) - 1], np.int64)
    new_codes = renumber[np.where(codes < 0, len(old), codes)]
    described = Attribute(attribute, "categorical", names=new_names, range=attr.range,
                          description=attr.description, ordered=ordered)
    new = _described_in_place(add_attributes(store, {attribute: (described, new_codes)},
                                             replace=True), store, described)
    entry = {"op": "order", "column": attribute, "classes": new_names, "ordered": ordered,
             "rows": len(store)}
    return save(with_history(new, entry), store.path)


def _mark_factor(store: Store, attr: Attribute, *, nominal: bool) -> Store:
    """``store`` with factor ``attr`` marked nominal (its levels without an order) or not."""
    new = _described_in_place(store, store, dataclasses.replace(attr, nominal=nominal))
    entry = {"op": "order", "column": attr.name, "ordered": not nominal, "rows": len(store)}
    return save(with_history(new, entry), store.path)


def _described_in_place(new: Store, store: Store, described: Attribute) -> Store:
    """``new`` with ``store``'s attributes in their order, ``described`` in place of the one of
    its name."""
    in_place = [described if a.name == described.name else a for a in store.schema.attributes]
    return dataclasses.replace(new, schema=dataclasses.replace(new.schema, attributes=in_place))
