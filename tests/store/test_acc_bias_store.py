"""``data bias`` on values inside one bin of their declared range, and grouped by the persons
themselves."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from latentplay import store as st
from latentplay.errors import UserError
from latentplay.store.bias import association


def _store(path: Path, columns: dict[str, list], attrs: list[st.Attribute]) -> st.Store:
    schema = st.Schema(attributes=attrs, provenance=st.Provenance(source="tests", converter="tests"))
    image = st.encode_png(np.zeros((8, 8, 3), np.uint8))
    n = len(next(iter(columns.values())))
    return st.build([{"image": [image] * n, **columns}], schema, path)


def test_values_inside_one_bin_of_the_declared_range_say_which_bins_split_them(
        tmp_path: Path) -> None:
    """A confidence declared 0..1 whose values run 0.5-1: two bins put them all in one; the
    error gives the values' span and the bins that split them (three)."""
    rng = np.random.default_rng(0)
    s = _store(tmp_path / "p", {"gender": rng.integers(0, 2, 60).tolist(),
                                "p": (0.5 + 0.5 * rng.random(60)).tolist()},
               [st.Attribute("gender", "categorical", names=["female", "male"]),
                st.Attribute("p", "continuous", range=(0.0, 1.0))])
    with pytest.raises(UserError) as error:
        association(s, "gender", "p")
    text = str(error.value)
    assert "p has 1" in text and "span [0.5" in text and "of its declared range [0, 1]" in text
    assert "--bins 3" in text and "gender's" not in text
    assert association(s, "gender", "p", bins=3).levels == ["[0.333,0.667)", "[0.667,1]"]


def test_one_value_is_named(tmp_path: Path) -> None:
    s = _store(tmp_path / "one", {"gender": [0, 1] * 10, "p": [0.7] * 20},
               [st.Attribute("gender", "categorical", names=["female", "male"]),
                st.Attribute("p", "continuous", range=(0.0, 1.0))])
    with pytest.raises(UserError, match="every p is 0.7"):
        association(s, "gender", "p")


@pytest.mark.parametrize("person_side", ["by", "of"])
def test_grouped_by_the_persons_no_correction_over_them(tmp_path: Path,
                                                        person_side: str) -> None:
    """Four photos of each of 30 persons: grouped by identity, the groups are the persons,
    so no Rao-Scott test, no design effect and a note that says why; by another attribute
    the correction stays."""
    rng = np.random.default_rng(1)
    person = np.repeat(np.arange(30), 4)
    columns = {"identity": person.tolist(), "glasses": rng.integers(0, 2, 120).tolist(),
               "color": (person % 2).tolist()}
    s = _store(tmp_path / "persons", columns,
               [st.Attribute("identity", "categorical", names=[f"p{k}" for k in range(30)]),
                st.Attribute("glasses", "categorical", names=["no", "yes"]),
                st.Attribute("color", "categorical", names=["r", "g"])])
    by, of = ("identity", "glasses") if person_side == "by" else ("glasses", "identity")
    found = association(s, by, of)
    assert found.persons_test is None and found.design_effects is None
    assert found.person_groups == "identity" and found.to_dict()["person_groups"] == "identity"
    assert not any("over persons" in line for line in found.test_lines)
    notes = " ".join(found.notes)
    what = "groups" if person_side == "by" else "levels compared"   # identity the "of" side
    assert f"The {what} are the persons themselves (identity)" in notes
    assert "Rao-Scott) correct them" not in notes
    other = association(s, "color", "glasses")
    assert other.persons_test is not None and other.person_groups is None


def test_the_bins_named_split_the_values_where_more_would_not(tmp_path: Path) -> None:
    """Values 0.34-0.45 of a range 0..1: 5 equal-width bins split them, 6 put them in one
    again; the error names 5 bins without claiming that any larger number works."""
    s = _store(tmp_path / "q", {"gender": [0, 1] * 10, "p": [0.34, 0.45] * 10},
               [st.Attribute("gender", "categorical", names=["female", "male"]),
                st.Attribute("p", "continuous", range=(0.0, 1.0))])
    with pytest.raises(UserError) as error:
        association(s, "gender", "p")
    assert "5 bins split them (--bins 5)" in str(error.value)
    assert "use at least" not in str(error.value)
    with pytest.raises(UserError, match="p has 1"):
        association(s, "gender", "p", bins=6)
