"""Coarser classes: groups of a categorical attribute's classes as a new attribute.

Ten Monk tones read as light, medium and dark; FairFace's seven races as its own four; nine
age bins as three. ``regroup_store`` adds the coarser attribute in place:

    >>> regroup_store("data/faces", "skin_tone", {"light": ["monk_1", "monk_2", "monk_3"],
    ...                                           "dark": ["monk_8", "monk_9", "monk_10"]},
    ...               name="tone3")

Classes named in no group give their rows ``unknown`` (said in the history and by the
command), as do rows without a class. The new attribute is ordered when the source is and
each group is a run of neighbouring classes in the source's order; its groups are then put in
that order, whatever order they were given in (dark, medium, light become light, medium, dark).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import numpy as np

from latentplay.errors import UserError
from latentplay.store.columns import add_attributes, with_history
from latentplay.store.io import Store, save, saved
from latentplay.store.schema import UNKNOWN, Attribute, check_attribute_name, joined_classes


def parse_groups(items: Sequence[str]) -> dict[str, list[str]]:
    """``["light=monk_1,monk_2", "dark=monk_9,monk_10"]`` -> ``{group: [classes]}``."""
    out: dict[str, list[str]] = {}
    for item in items:
        name, sep, classes = item.partition("=")
        names = [c.strip() for c in classes.split(",") if c.strip()]
        if not sep or not name.strip() or not names:
            raise UserError(f"--into {item!r}: write group=class[,class...]")
        if name.strip() in out:
            raise UserError(f"group {name.strip()!r} is named twice")
        out[name.strip()] = names
    return out


def regroup_store(store: Store | str | os.PathLike[str], attribute: str,
                  groups: Mapping[str, Sequence[str]], *, name: str | None = None,
                  overwrite: bool = False) -> Store:
    """Add the groups of ``attribute``'s classes as categorical attribute ``name`` (default
    ``ATTRIBUTE_groups``), in place (module docstring)."""
    store = saved(store, "regroup one of its attributes")
    attr = store.schema.attribute_or_error(attribute)
    if attr.kind == "continuous":
        raise UserError(f"{attribute!r} is continuous; cut it into groups with "
                        f"`latentplay data bin STORE {attribute}`")
    classes = attr.level_names
    groups = {group: joined_classes(members, classes) for group, members in groups.items()}
    if UNKNOWN in groups:
        raise UserError(f"{UNKNOWN!r} is kept for rows without a group; name the group otherwise")
    if attr.ordered:
        groups = _in_source_order(classes, groups)
    target = np.full(len(classes) + 1, -1)
    for g, members in enumerate(groups.values()):
        for c in members:
            if c not in classes:
                raise UserError(f"{c!r} is not a class of {attribute!r}; its classes: "
                                f"{', '.join(classes)}")
            if c == UNKNOWN:
                raise UserError(f"{UNKNOWN!r} rows have no class to group; they stay {UNKNOWN!r}")
            if target[classes.index(c)] >= 0:
                raise UserError(f"class {c!r} is named twice" if target[classes.index(c)] == g
                                else f"class {c!r} is in two groups")
            target[classes.index(c)] = g
    if len(groups) < 2:  # after the classes: a mistyped one is named first, however many groups
        raise UserError("give two or more groups, e.g. --into light=monk_1,monk_2 "
                        "--into dark=monk_9,monk_10")
    codes = np.asarray(store.labels(attribute), np.int64)
    new_codes = target[np.where((codes >= 0) & (codes < len(classes)), codes, len(classes))]
    names = list(groups)
    if (new_codes < 0).any():
        new_codes = np.where(new_codes < 0, len(names), new_codes)
        names.append(UNKNOWN)
    new_name = check_attribute_name(name or f"{attribute}_groups", [attribute])
    described = Attribute(new_name, "categorical", names=names,
                          ordered=attr.ordered and _runs_in_order(classes, groups),
                          description=f"groups of {attribute}: " + "; ".join(
                              f"{g} = {', '.join(m)}" for g, m in groups.items()))
    new = add_attributes(store, {new_name: (described, new_codes)}, replace=overwrite)
    left = [c for c, t in zip(classes, target, strict=False) if t < 0 and c != UNKNOWN]
    entry = {"op": "regroup", "column": new_name, "source": attribute,
             "groups": {g: list(m) for g, m in groups.items()}, "left_out": left,
             "rows": len(store)}
    return save(with_history(new, entry), store.path)


def _in_source_order(classes: Sequence[str], groups: Mapping[str, Sequence[str]]
                     ) -> Mapping[str, Sequence[str]]:
    """``groups`` sorted by the place of their first class when every group is a run of
    neighbouring ``classes`` (an order they keep); as given otherwise (or when a member is no
    class: refused by the caller)."""
    if any(c not in classes for members in groups.values() for c in members):
        return groups
    places = {g: sorted(classes.index(c) for c in set(members)) for g, members in groups.items()}
    if not all(p[-1] - p[0] == len(p) - 1 for p in places.values()):
        return groups
    return dict(sorted(groups.items(), key=lambda item: places[item[0]][0]))


def _runs_in_order(classes: Sequence[str], groups: Mapping[str, Sequence[str]]) -> bool:
    """Whether each group is a run of neighbouring ``classes`` and the groups follow their
    order."""
    places = [sorted(classes.index(c) for c in members) for members in groups.values()]
    runs = all(p[-1] - p[0] == len(p) - 1 for p in places)
    return runs and all(a[-1] < b[0] for a, b in zip(places, places[1:], strict=False))
