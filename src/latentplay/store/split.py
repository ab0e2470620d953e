"""Train / validation / test splits as an attribute: by rows, by persons, stratified.

A recogniser or an annotator is judged on faces it was not fitted on; a verification study
wants persons it never saw. ``split_store`` adds a categorical attribute ``split`` (``train``,
``val``, ``test``) in place, so ``data subset --where split=train`` writes each part:

    >>> split_store("data/persons", test=0.3, group="identity", stratify=["skin_tone"])

- ``group``: every row of one value (a person) goes to one split; rows without a value are
  groups of their own.
- ``stratify``: each class (or intersection of classes) of these attributes is split in the
  same proportions; with ``group``, a group counts in the class of its first row.
- Sizes are shares of the rows; a group that crosses a boundary goes to the side that holds
  most of it. What one stratum's rounding leaves over is carried to the next (the strata
  taken in random order), so the whole test part (and train and val together) is off by at
  most half a group, the val part, between two boundaries, by at most one; each stratum's
  test part (and its train part) by at most one group, its val part by at most two: ten
  classes of two rows give a 0.2 test part of four rows, not none.
  A part left without rows is refused.

A model tested on the store's own split (``data.split=store``, ``--split store``) holds out
its ``test`` part, or its ``val`` part where it has none (:func:`stored_test_rows`): the part a
converter took from the collection's published split (CelebA's, FairFace's) or this module wrote.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from latentplay import outputs
from latentplay.errors import UserError
from latentplay.outputs import shell_word
from latentplay.store.bias import person_attribute, repeated_persons
from latentplay.store.columns import add_attributes, with_history
from latentplay.store.combine import intersections
from latentplay.store.io import Store, save, saved
from latentplay.store.schema import UNKNOWN, Attribute, check_attribute_name

SPLITS = ("train", "val", "test")
HELD_OUT = {"rows": "random rows", "persons": "whole persons", "store": "the store's own split"}
"""How a model's test rows were chosen (``data.split``, ``--split``; ``auto`` resolved), in words."""


def split_codes(n: int, test: float, val: float = 0.0, groups: np.ndarray | None = None,
                strata: np.ndarray | None = None, seed: int = 0) -> np.ndarray:
    """``(n,)`` codes into :data:`SPLITS` for ``n`` rows: shares ``test`` and ``val`` of the
    rows in each stratum (``(n,)`` codes; one stratum when None), whole groups (``(n,)``
    codes, negative: a row of its own) kept together."""
    if not 0 < test < 1 or not 0 <= val < 1 or test + val >= 1:
        raise UserError(f"--test ({test:g}) must be a share of the rows above 0 and --val "
                        f"({val:g}) one of 0 or more, together below 1 (some rows left for "
                        "training)")
    groups = np.arange(n) if groups is None else np.where(
        np.asarray(groups) >= 0, np.asarray(groups), -1 - np.arange(n))
    units, unit_of, sizes = np.unique(groups, return_inverse=True, return_counts=True)
    first = np.full(len(units), n)
    np.minimum.at(first, unit_of, np.arange(n))
    stratum = (np.zeros(len(units), np.int64) if strata is None
               else np.asarray(strata, np.int64)[first])
    rng = np.random.default_rng(seed)
    assigned = np.zeros(len(units), np.int64)
    owed = np.zeros(2)       # test and val rows the strata so far fell short of their shares
    for s in rng.permutation(np.unique(stratum)):
        mine = rng.permutation(np.flatnonzero(stratum == s))
        middle = np.cumsum(sizes[mine]) - sizes[mine] / 2     # each unit's middle row
        wanted = np.array([test, val]) * sizes[mine].sum() + owed
        assigned[mine] = np.where(middle < wanted[0], 2, np.where(middle < wanted.sum(), 1, 0))
        owed = wanted - [sizes[mine][assigned[mine] == k].sum() for k in (2, 1)]
    parts = np.bincount(assigned, weights=sizes, minlength=3)
    empty = [SPLITS[k] for k in (0, 1, 2) if parts[k] == 0 and (k != 1 or val)]
    if empty:
        raise UserError(f"--test {test:g}" + (f" and --val {val:g}" if val else "")
                        + f" of {n} rows" + (f" in {len(units)} groups" if len(units) < n else "")
                        + f" leave no row in {' and '.join(empty)}; give other shares or more rows")
    return assigned[unit_of]


def split_store(store: Store | str | os.PathLike[str], test: float = 0.2, val: float = 0.0, *,
                group: str | None = None, stratify: Sequence[str] = (), seed: int = 0,
                name: str = "split", overwrite: bool = False) -> Store:
    """Add the split of each row as categorical attribute ``name``, in place (module
    docstring); ``val`` 0 makes two splits, train and test."""
    store = saved(store, "split it")
    check_attribute_name(name, [group, *stratify])
    groups = None
    if group is not None:
        attr = store.schema.attribute_or_error(group)
        if attr.kind == "continuous":
            raise UserError(f"--group {group} is continuous; give the attribute that names "
                            "each person (identity)")
        groups = np.asarray(store.labels(group), np.int64)
        if UNKNOWN in attr.level_names:      # rows without a person: each a group of its own
            groups = np.where(groups == attr.level_names.index(UNKNOWN), -1, groups)
    strata = intersections(store, stratify, "--stratify")[0] if stratify else None
    codes = split_codes(len(store), test, val, groups, strata, seed)
    classes = list(SPLITS) if val else [SPLITS[0], SPLITS[2]]
    codes = codes if val else np.where(codes == 2, 1, codes)
    described = Attribute(name, "categorical", names=classes, description=(
        f"split (test {test:g}" + (f", val {val:g}" if val else "") + ")"
        + (f", each {group} in one part" if group else "")
        + (f", stratified by {', '.join(stratify)}" if stratify else "") + f", seed {seed}"))
    new = add_attributes(store, {name: (described, codes)}, replace=overwrite)
    entry = {"op": "split", "column": name, "test": test, "val": val, "group": group,
             "stratify": list(stratify), "seed": seed, "rows": len(store)}
    return save(with_history(new, entry), store.path)


def unstratified(store: Store, split: str, stratify: Sequence[str]) -> list[str]:
    """A line for each class of a ``stratify`` attribute that the store holds but a part of
    attribute ``split`` does not (whole groups too few to share it out): a model trained on
    that part never sees the class, or is never tested on it."""
    codes = np.asarray(store.labels(split))
    parts = store.schema.attribute(split).level_names
    lines = []
    for name in stratify:
        names = store.schema.attribute(name).level_names
        values = np.asarray(store.labels(name))
        present = [c for c in np.unique(values[values >= 0]) if names[c] != UNKNOWN]
        for k, part in enumerate(parts):
            lacking = [names[c] for c in present if not (values[codes == k] == c).any()]
            if lacking:
                lines.append(f"the {part} part holds no row of {name} {', '.join(lacking)}: the "
                             "groups were too few to share every class out")
    return lines


def stored_test_rows(store: Store, n: int, warn: bool = True,
                     setting: str = "data.split=") -> np.ndarray:
    """Sorted rows among the first ``n`` of ``store`` that its own ``split`` attribute (a
    converter's published split, or ``data split``'s) puts in its ``test`` part, or in its
    ``val`` part where it has no ``test`` (FairFace's). With ``warn``, a line on standard error
    counts the persons the store's split puts on both sides (a published split need not keep
    them apart).

    Raises:
        UserError: no ``split`` attribute, none with a test or val class, or a part without rows.
    """
    where = f"{setting}store holds out the rows of the store's split attribute"
    if not store.schema.has_attribute("split"):
        raise UserError(f"{where}, and {store.path} has none: convert with the published "
                        f"split, or add one with latentplay data split {shell_word(store.path)}")
    attr = store.schema.attribute("split")
    part = stored_part(store)
    if part is None:
        raise UserError(f"{where} named test (or val); {store.path}'s split has classes "
                        f"{', '.join(attr.level_names)}")
    codes = np.asarray(store.labels("split"))[:n]
    test = np.flatnonzero(codes == attr.level_names.index(part))
    if len(test) in (0, n):
        raise UserError(f"{where}: its {part} part holds {len(test)} of the {n} rows read, leaving "
                        f"nothing to {'test' if len(test) == 0 else 'train'} on")
    persons = repeated_persons(store)
    if warn and persons is not None:
        held = np.zeros(n, dtype=bool)
        held[test] = True
        both = np.intersect1d(persons[:n][held], persons[:n][~held])  # rows without a person
        if len(both):                                                  # are persons of their own
            outputs.warn(f"warning: the store's split puts {len(both)} person(s) of "
                         f"{person_attribute(store)} on both sides: {part} reconstructions of them are "
                         "of faces also trained on")
    return test


def stored_part(store: Store) -> str | None:
    """``test`` or ``val``: the part of the store's ``split`` attribute a model is tested on;
    None without such an attribute or part."""
    if not store.schema.has_attribute("split"):
        return None
    names = store.schema.attribute("split").level_names
    return next((p for p in ("test", "val") if p in names), None)


def split_counts(store: Store, n: int) -> str:
    """``split: train 180, test 20`` over the first ``n`` rows."""
    names = store.schema.attribute("split").level_names
    counts = np.bincount(np.asarray(store.labels("split"))[:n], minlength=len(names))[:len(names)]
    return "split: " + ", ".join(f"{name} {c}" for name, c in zip(names, counts, strict=True) if c)
