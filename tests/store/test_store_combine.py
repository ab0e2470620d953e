"""``latentplay data combine``: intersections of categorical attributes as one attribute."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from latentplay import store as st
from latentplay.errors import UserError
from latentplay.store import Attribute, Provenance, Schema
from latentplay.store.combine import combination_codes, combine_store

RACE = np.array([0, 1, 2, 1, 0, 2, 1, 0])
GENDER = np.array([0, 1, 1, 0, 1, 1, 0, 0])


def _store(path: Path) -> st.Store:
    schema = Schema(attributes=[Attribute("race", "categorical", names=["A", "B", "unknown"]),
                                Attribute("gender", "categorical", names=["f", "m"]),
                                Attribute("age", "continuous", range=(0, 100))],
                    provenance=Provenance(source="test", converter="unit"))
    rng = np.random.default_rng(0)
    batch = {"image": [st.encode_png(im) for im in rng.integers(0, 256, (8, 6, 6, 3), np.uint8)],
             "race": RACE, "gender": GENDER, "age": np.linspace(10, 80, 8)}
    return st.build([batch], schema, path)


def test_combination_codes_by_hand():
    codes, classes = combination_codes([RACE, GENDER], [["A", "B", "unknown"], ["f", "m"]])
    # present combinations in class order; race 'unknown' rows (2 and 5) are unknown
    assert classes == ["A / f", "A / m", "B / f", "B / m", "unknown"]
    assert codes.tolist() == [0, 3, 4, 2, 1, 4, 2, 0]
    codes, classes = combination_codes([np.array([0, -1, 1]), np.array([1, 0, 0])],
                                       [["x", "y"], ["p", "q"]])
    assert classes == ["x / q", "y / p", "unknown"] and codes.tolist() == [0, 2, 1]
    # a code past the last class is no class either
    codes, classes = combination_codes([np.array([0, 2, 1]), np.array([1, 0, 0])],
                                       [["x", "y"], ["p", "q"]])
    assert classes == ["x / q", "y / p", "unknown"] and codes.tolist() == [0, 2, 1]


def test_combine_store_in_place_and_refusals(tmp_path: Path, cli) -> None:
    _store(tmp_path / "s")
    r = cli("data", "combine", tmp_path / "s", "race,gender")
    assert r.code == 0, r.err
    assert "race_gender: 4 classes with rows; A / f 2, A / m 1, B / f 2, B / m 1, unknown 2" in r.out
    assert "warning" not in r.err
    again = st.load(tmp_path / "s")
    attr = again.schema.attribute("race_gender")
    assert attr.kind == "categorical" and attr.description == "combinations of race, gender"
    entry = again.schema.history[-1]
    assert entry["op"] == "combine" and entry["source"] == ["race", "gender"]
    # the combined attribute works wherever classes do
    r = cli("data", "bias", tmp_path / "s", "--by", "race_gender", "--of", "gender",
            "--out", tmp_path / "b.png")
    assert r.code == 0, r.err
    for attributes, message in [(["race"], "two or more"), (["race", "race"], "two or more"),
                                (["race", "age"], "continuous; cut it into groups first"),
                                (["race", "height"], "no attribute 'height'")]:
        with pytest.raises(UserError, match=message):
            combine_store(tmp_path / "s", attributes, name="x")
    with pytest.raises(UserError, match="already exists"):
        combine_store(tmp_path / "s", ["race", "gender"])
    assert len(combine_store(tmp_path / "s", ["gender", "race"], name="gr").schema
               .attribute("gr").names) == 5


def test_one_attribute_option_given_a_list_points_to_combine(tmp_path: Path, cli) -> None:
    """``data grid --by race,gender`` takes one attribute: its error names ``data combine``."""
    _store(tmp_path / "s")
    r = cli("data", "grid", tmp_path / "s", "--by", "race,gender", "--out", tmp_path / "g.png")
    assert r.code == 2
    assert "latentplay data combine STORE race,gender`, named race_gender" in r.err
    assert "attributes: race, gender" in r.err and "Traceback" not in r.err


def test_the_combine_hint_names_a_list_with_spaces_as_combine_would(tmp_path: Path) -> None:
    """``--by "race, gender"``: the hint's command and name are those ``data combine`` takes and
    makes (``race,gender``, ``race_gender``), not ``race, gender`` (two arguments) and
    ``race_ gender`` (not a name an attribute can have)."""
    s = _store(tmp_path / "s")
    with pytest.raises(UserError) as caught:
        s.schema.attribute_or_error("race, gender")
    assert "latentplay data combine STORE race,gender`, named race_gender)" in str(caught.value)


def test_a_combination_no_row_holds_is_warned_of(tmp_path: Path, cli) -> None:
    """Every row missing its race: "1 classes; unknown 8" and no word that nothing is left to
    compare."""
    schema = Schema(attributes=[Attribute("race", "categorical", names=["A", "unknown"]),
                                Attribute("gender", "categorical", names=["f", "m"])],
                    provenance=Provenance(source="test", converter="unit"), image_column=None)
    st.build([{"race": np.ones(8, np.int64), "gender": GENDER}], schema, tmp_path / "u")
    r = cli("data", "combine", tmp_path / "u", "race,gender")
    assert r.code == 0 and "race_gender: 0 classes with rows; unknown 8" in r.out
    assert "warning: race_gender has no class with rows besides unknown" in r.err


def test_a_store_of_no_rows_is_refused_in_one_line(tmp_path: Path, cli) -> None:
    """A store of no rows has no combinations: the attribute's empty class list failed with a
    ValueError traceback."""
    full = _store(tmp_path / "full")
    st.save(st.Store(full.dataset.select([]), full.schema), tmp_path / "empty")
    r = cli("data", "combine", tmp_path / "empty", "race,gender")
    assert r.code == 2 and r.err.strip().splitlines() == [
        f"error: {tmp_path / 'empty'} has no rows: there are no combinations of race, gender to name"]
    assert not st.load(tmp_path / "empty").schema.has_attribute("race_gender")
