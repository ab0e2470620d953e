"""Lists of names given to the Python API: a single name may be given as a plain string."""

from __future__ import annotations

from collections.abc import Sequence


def name_list(names: str | Sequence[str]) -> list[str]:
    """``names`` as a list: a single ``str`` is one name (not its characters)."""
    return [names] if isinstance(names, str) else list(names)
