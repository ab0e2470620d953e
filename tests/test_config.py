"""Config overrides: a text value that YAML reads as structure is one clear line."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from latentplay.config import resolve
from latentplay.errors import UserError


@dataclass
class _Named:
    name: str = "hog"


@pytest.mark.parametrize(("item", "what"), [("name=scrfd:", "mapping"), ("name=[a]", "list")])
def test_text_read_as_yaml_structure_says_to_quote_it(item: str, what: str) -> None:
    with pytest.raises(UserError, match=rf"^bad config override \(name\): the value was read as "
                                        rf"a YAML {what}, not text: .*quote it"):
        resolve(_Named, [item])


def test_quoted_text_is_text() -> None:
    assert resolve(_Named, ['name="scrfd:"']).name == "scrfd:"
    assert resolve(_Named, ["name='[a]'"]).name == "[a]"


@dataclass
class _Listed:
    condition: list[str] | None = None


def test_a_list_given_one_bare_item_says_how_to_write_the_list() -> None:
    """``model.condition=smile`` said "AnyNode is not a ListConfig, TupleConfig, list, or tuple";
    it now shows the list to write."""
    with pytest.raises(UserError, match=r"^bad config override \(condition\): a list is expected: "
                                        r"write condition=\[smile\]"):
        resolve(_Listed, ["condition=smile"])
    assert resolve(_Listed, ["condition=[smile]"]).condition == ["smile"]
