"""Short ``repr`` of result objects for a notebook: arrays by dtype and shape, not every value."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

SHOWN_VALUES = 8
"""An array of at most this many values is shown by its values; a larger one by dtype and shape."""


def array_text(value: Any) -> str:
    """``<int64 (5564,)>``: an array by its dtype and shape."""
    value = np.asarray(value)
    return f"<{value.dtype} {value.shape}>"


def short_repr(self: Any) -> str:
    """A dataclass's repr (fields marked ``repr=False`` left out) with each array of more than
    :data:`SHOWN_VALUES` values given by :func:`array_text`: a ``(512,)`` direction or a batch
    of images is one line, not hundreds. Assign it as a dataclass's ``__repr__``."""
    parts = []
    for f in dataclasses.fields(self):
        if f.repr:
            value = getattr(self, f.name)
            large = isinstance(value, np.ndarray) and value.size > SHOWN_VALUES
            parts.append(f"{f.name}={array_text(value) if large else repr(value)}")
    return f"{type(self).__name__}({', '.join(parts)})"
