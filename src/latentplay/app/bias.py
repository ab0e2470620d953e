"""The Bias tab: how one attribute is distributed within the groups of another (the
dataset-bias chart of ``latentplay data bias``), with its chi-square and trend tests."""

from __future__ import annotations

import numpy as np

from latentplay.app.state import PYPLOT, Playground
from latentplay.errors import UserError
from latentplay.store.schema import UNKNOWN


def attributes(pg: Playground) -> list[str]:
    """Every attribute of the store (continuous ones are cut into bins)."""
    return [a.name for a in pg.need_store().schema.attributes]


def defaults(pg: Playground) -> tuple[str, str]:
    """The tab's first groups (by) and shares (of): the first two attributes with two values
    or more among the rows (one value gives nothing to compare, and the chart refuses it),
    else the first two attributes."""
    names = attributes(pg)
    varying = [n for n in names if _varies(pg, n)]
    first = (varying if len(varying) > 1 else names) + names
    return first[0], first[1]


def _varies(pg: Playground, name: str) -> bool:
    """Whether attribute ``name`` holds two values or more among the rows (classes other than
    ``unknown``; finite numbers for a continuous one)."""
    store = pg.need_store()
    attr = store.schema.attribute(name)
    values = np.asarray(store.labels(name))
    if attr.kind == "continuous":
        return len(np.unique(values[np.isfinite(values)])) > 1
    known = [k for k, level in enumerate(attr.level_names) if level != UNKNOWN]
    return len(np.intersect1d(np.unique(values), known)) > 1


def chart(pg: Playground, by: str, of: str, bins: int = 2) -> tuple[np.ndarray, str]:
    """The chart as an ``(H, W, 3)`` uint8 image, and one line per test; a :class:`UserError`
    naming the page's controls for two equal attributes or fewer than 2 bins."""
    from latentplay.store.bias import association
    from latentplay.viz.bias import association_bars
    from latentplay.viz.grid import figure_array

    if not by or not of:
        raise UserError("choose two attributes")
    if by == of:  # the page's controls named (association's message names the command's options)
        raise UserError(f"groups (by) and shares of (of) are both {by!r}: choose two different "
                        "attributes")
    if bins < 2:
        raise UserError(f"bins of a continuous attribute must be at least 2, got {bins}")
    found = association(pg.need_store(), by, of, bins=int(bins))
    with PYPLOT:
        image = figure_array(association_bars(found, "\n".join(found.test_lines)))
    return image, "\n\n".join([*found.test_lines, *found.notes])
