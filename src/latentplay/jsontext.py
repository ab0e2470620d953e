"""JSON text parsed as :func:`json.loads` parses it, with one difference: a document nested
deeper than Python's recursion reaches (a file of 100,000 ``[``) is malformed JSON like any
other, a :class:`json.JSONDecodeError` (so a :class:`ValueError`), not a ``RecursionError``
that readers catching malformed JSON let through as a traceback."""

from __future__ import annotations

import json
from typing import Any


class NestedTooDeep(json.JSONDecodeError):
    """JSON nested deeper than Python's recursion reaches; it names no position (there is
    none to name: the parser gave up on the depth, not at a character)."""

    def __str__(self) -> str:
        return self.msg


def parsed_json(text: str | bytes) -> Any:
    """The value ``text`` holds; :class:`json.JSONDecodeError` where it is not JSON or nests
    too deep to parse (:class:`NestedTooDeep`)."""
    try:
        return json.loads(text)
    except RecursionError:
        raise NestedTooDeep("nested too deep to read (deeper than Python's recursion limit)",
                            "", 0) from None
