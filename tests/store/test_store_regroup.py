"""``latentplay data regroup``: coarser classes as a new attribute."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from latentplay import sources
from latentplay import store as st
from latentplay.errors import UserError
from latentplay.store.regroup import parse_groups, regroup_store

THREE = {"light": ["monk_1", "monk_2", "monk_3"],
         "medium": ["monk_4", "monk_5", "monk_6", "monk_7"],
         "dark": ["monk_8", "monk_9", "monk_10"]}


@pytest.fixture(scope="module")
def faces_once(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("regroup") / "faces"
    sources.make("synthfaces", path, n=200, seed=0)
    return path


@pytest.fixture()
def faces(faces_once: Path, tmp_path: Path) -> Path:
    """A copy of the 200 faces of this test's own (regrouping writes into the store)."""
    return shutil.copytree(faces_once, tmp_path / "faces")


def test_groups_of_classes(faces: Path) -> None:
    new = regroup_store(faces, "skin_tone", THREE, name="tone3")
    tone, grouped = new.labels("skin_tone"), new.labels("tone3")
    attr = new.schema.attribute("tone3")
    assert attr.names == ["light", "medium", "dark"] and attr.ordered
    expected = np.searchsorted([3, 7], tone, side="right")    # monk_1..3 -> 0, ...
    np.testing.assert_array_equal(grouped, expected)
    assert new.schema.history[-1]["op"] == "regroup"
    # classes in no group are unknown; groups of neighbours given dark first are put in the
    # source's order (they lost the order); groups with holes are not ordered
    ends = regroup_store(faces, "skin_tone", {"dark": ["monk_9", "monk_10"],
                                              "light": ["monk_1", "monk_2"]}, name="ends")
    names = ends.schema.attribute("ends").names
    assert names == ["light", "dark", "unknown"] and ends.schema.attribute("ends").ordered
    np.testing.assert_array_equal(ends.labels("ends"), np.select([tone <= 1, tone >= 8], [0, 1], 2))
    reversed_three = regroup_store(faces, "skin_tone", dict(reversed(THREE.items())), name="rev")
    assert reversed_three.schema.attribute("rev").names == list(THREE)
    np.testing.assert_array_equal(reversed_three.labels("rev"), grouped)
    holes = regroup_store(faces, "skin_tone", {"a": ["monk_1", "monk_3"], "b": ["monk_2"]},
                          name="holes")
    assert not holes.schema.attribute("holes").ordered
    in_order = regroup_store(faces, "skin_tone", {"a": ["monk_1", "monk_3"], "b": ["monk_4"]},
                             name="in_order")                 # a hole, the groups in order
    assert not in_order.schema.attribute("in_order").ordered
    unordered = regroup_store(faces, "hair_color", {"dark": ["black", "brown"],
                                                    "light": ["blond", "gray"]})
    assert not unordered.schema.attribute("hair_color_groups").ordered


@pytest.mark.parametrize(("groups", "message"), [
    ({"a": ["monk_1"]}, "two or more groups"),
    ({"a": ["monk_1"], "b": ["monk_1"]}, "in two groups"),
    ({"a": ["monk_1", "monk_1"], "b": ["monk_2"]}, "'monk_1' is named twice"),
    ({"a": ["monk_1"], "b": ["nobody"]}, "not a class"),
    ({"a": ["monk_1"], "unknown": ["monk_2"]}, "kept for rows without a group"),
])
def test_refusals(faces: Path, groups, message) -> None:
    with pytest.raises(UserError, match=message):
        regroup_store(faces, "skin_tone", groups)


def test_a_mistyped_class_is_named_before_the_count_of_groups(faces: Path, cli) -> None:  # noqa: ANN001
    """With one group, ``--into light=monk_1,monk_99`` asked for two or more groups and said
    nothing of monk_99 (it was named once a second group was given)."""
    r = cli("data", "regroup", faces, "skin_tone", "--into", "light=monk_1,monk_99")
    assert r.code == 2 and len(r.err.strip().splitlines()) == 1, r.err
    assert "'monk_99' is not a class of 'skin_tone'" in r.err and "two or more" not in r.err
    with pytest.raises(UserError, match="kept for rows without a group"):
        regroup_store(faces, "skin_tone", {"unknown": ["monk_99"]})
    with pytest.raises(UserError, match="two or more groups"):
        regroup_store(faces, "skin_tone", {"light": ["monk_1", "monk_2"]})


def test_unknown_rows_stay_unknown(faces: Path) -> None:
    """``unknown`` is outside every order and test; put in a group its rows would count there."""
    from latentplay.store.columns import add_attributes

    store = st.load(faces)
    side = st.Attribute("side", "categorical", names=["left", "right", "unknown"], ordered=True)
    codes = np.arange(len(store)) % 3
    store = st.save(add_attributes(store, {"side": (side, codes)}), faces)
    with pytest.raises(UserError, match="'unknown' rows have no class"):
        regroup_store(store, "side", {"a": ["left"], "b": ["right", "unknown"]})


def test_parse_and_command(faces: Path, cli) -> None:  # noqa: ANN001 - fixture
    assert parse_groups(["a=x, y", "b=z"]) == {"a": ["x", "y"], "b": ["z"]}
    with pytest.raises(UserError, match="group=class"):
        parse_groups(["a"])
    r = cli("data", "regroup", faces, "skin_tone", "--into", "light=monk_1,monk_2",
            "--into", "dark=monk_9,monk_10", "--name", "ends")
    assert r.code == 0, r.err
    assert "ends (ordered): light" in r.out and "in no group (unknown): monk_3" in r.out
    assert st.load(faces).schema.attribute("ends").names[-1] == "unknown"


def test_classes_whose_names_hold_commas_are_named_in_lists(faces: Path, cli) -> None:  # noqa: ANN001
    """`data bin`'s middle groups are named like ``[-0.2, 0.2)``: `--into` and `data order
    --classes` split them at their comma ("'[-0.2' is not a class"), as `--where` did not."""
    assert cli("data", "bin", faces, "yaw", "--edges=-0.2,0.2", "--name", "turn").code == 0
    assert st.load(faces).schema.attribute("turn").names[:3] == ["<-0.2", "[-0.2, 0.2)", ">=0.2"]
    r = cli("data", "regroup", faces, "turn", "--into", "a=<-0.2,[-0.2, 0.2)", "--into", "b=>=0.2")
    assert r.code == 0, r.err
    turn, grouped = st.load(faces).labels("turn"), st.load(faces).labels("turn_groups")
    np.testing.assert_array_equal(grouped, (turn == 2).astype(int))
    r = cli("data", "order", faces, "turn", "--classes", ">=0.2,[-0.2,0.2),<-0.2")
    assert r.code == 0, r.err
    assert st.load(faces).schema.attribute("turn").names[:3] == [">=0.2", "[-0.2, 0.2)", "<-0.2"]


def test_joined_classes_takes_the_longest_run_that_names_a_class() -> None:
    from latentplay.store.schema import joined_classes

    names = ["a", "a, b", "c"]
    assert joined_classes(["a", " b", "c"], names) == ["a, b", "c"]
    assert joined_classes(["c", "a"], names) == ["c", "a"]
    assert joined_classes(["x", " y"], names) == ["x", "y"]
