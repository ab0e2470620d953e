"""Row selections given by a Python user: row numbers or a boolean mask, checked once."""

from __future__ import annotations

from typing import Any

import numpy as np

from latentplay.errors import UserError


def row_numbers(rows: Any, n: int) -> np.ndarray:
    """``rows`` of a store of ``n`` rows as ``(k,)`` int64 row numbers.

    Args:
        rows: row numbers (a sequence or 1-D array of integers in ``[0, n)``, repeats and any
            order allowed) or an ``(n,)`` boolean mask (``store.labels("gender") == 0``).

    Raises:
        UserError: a single number, a mask of another length, numbers that are not whole or
            outside ``[0, n)``, or an array of more than one dimension.
    """
    if np.isscalar(rows) or getattr(rows, "ndim", 1) == 0:
        raise UserError(f"rows {rows!r}: give a sequence of row numbers (e.g. [{rows}]) or a "
                        f"boolean mask of the {n} rows")
    array = np.asarray(rows)
    if array.ndim != 1:
        raise UserError(f"rows: give a 1-D sequence of row numbers or a boolean mask, not an "
                        f"array of shape {array.shape}")
    if array.dtype == bool:
        if len(array) != n:
            raise UserError(f"a boolean mask of {len(array)} values selects rows of a store of "
                            f"{n}; give one value per row")
        return np.flatnonzero(array)
    if len(array) == 0:
        return np.zeros(0, dtype=np.int64)
    if not np.issubdtype(array.dtype, np.number) or np.issubdtype(array.dtype, np.complexfloating):
        raise UserError(f"rows: give whole row numbers, not {array.dtype} values")
    whole = array.astype(np.int64)
    if not np.issubdtype(array.dtype, np.integer) and not np.array_equal(whole, array):
        bad = array[whole != array][0]
        raise UserError(f"rows: {bad} is not a whole row number")
    outside = whole[(whole < 0) | (whole >= n)]
    if len(outside):
        raise UserError(f"row {outside[0]} is outside the store's rows 0..{n - 1}")
    return whole
