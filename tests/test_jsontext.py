"""latentplay.jsontext: JSON parsed as json.loads does, a too-deep document a JSONDecodeError."""

import json

import pytest

from latentplay.jsontext import parsed_json


def test_plain_json_is_parsed_as_json_loads_parses_it() -> None:
    text = '{"a": [1, 2.5, null, "é"], "b": {"c": true}}'
    assert parsed_json(text) == json.loads(text)
    assert parsed_json(text.encode("utf-8")) == json.loads(text)


def test_json_nested_deeper_than_python_recurses_is_malformed_json() -> None:
    """json.loads raises RecursionError, which readers catching ValueError let through."""
    deep = "[" * 100_000 + "]" * 100_000
    with pytest.raises(RecursionError):
        json.loads(deep)
    with pytest.raises(json.JSONDecodeError, match="nested too deep") as err:
        parsed_json(deep)
    assert "char" not in str(err.value)  # no position: the depth, not a character, stopped it
    with pytest.raises(ValueError):
        parsed_json(deep.encode("ascii"))
