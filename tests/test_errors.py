"""One line of another library's exception for a :class:`UserError`."""

from __future__ import annotations

import pytest
import yaml

from latentplay.errors import first_line


@pytest.mark.parametrize(("exc", "line"), [
    (ValueError("bad value\nmore detail\n"), "bad value"),
    (RuntimeError("\n  \nthe cause  \nthe trace"), "the cause  "),
    (ValueError(""), "ValueError"),
    (OSError("   \n "), "OSError"),
    (KeyError("w"), "'w'"),
])
def test_first_line(exc: BaseException, line: str) -> None:
    assert first_line(exc) == line


def test_first_line_of_a_yaml_error() -> None:
    """A YAML parser's message spans lines (problem, then where); the first one is kept."""
    with pytest.raises(yaml.YAMLError) as info:
        yaml.safe_load("a: [1, 2\nb: 3")
    line = first_line(info.value)
    assert line and "\n" not in line and line == str(info.value).strip().splitlines()[0]
