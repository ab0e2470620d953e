"""``latentplay data bin``: a continuous attribute cut into groups at edges or quantiles."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from latentplay import store as st
from latentplay.errors import UserError
from latentplay.store import Attribute, Provenance, Schema
from latentplay.store.binning import bin_store, cut, group_names, quantile_edges

AGES = np.array([3, 19.5, 20, 25, 39.99, 40, 59, 60, 87, np.nan], np.float32)


def _store(path: Path) -> st.Store:
    schema = Schema(attributes=[Attribute("age", "continuous", range=(0, 116)),
                                Attribute("gender", "categorical", names=["female", "male"])],
                    provenance=Provenance(source="test", converter="unit"))
    rng = np.random.default_rng(0)
    batch = {"image": [st.encode_png(im) for im in rng.integers(0, 256, (10, 6, 6, 3), np.uint8)],
             "age": AGES, "gender": np.arange(10) % 2}
    return st.build([batch], schema, path)


def test_cut_includes_each_lower_edge():
    assert cut(AGES.astype(np.float64), [20, 40, 60]).tolist() == [0, 0, 1, 1, 1, 2, 2, 3, 3, 4]
    assert group_names([20, 40, 60]) == ["<20", "[20, 40)", "[40, 60)", ">=60"]
    # every edge written exactly: 47.3 would name a value of 47.28 in the group from 47.3
    assert group_names([-52.2008, 47.2712]) == ["<-52.2008", "[-52.2008, 47.2712)", ">=47.2712"]
    assert group_names([1.2341, 1.2349, 1234.5]) == ["<1.2341", "[1.2341, 1.2349)",
                                                    "[1.2349, 1234.5)", ">=1234.5"]


def test_large_edges_keep_their_whole_units():
    """12345 shown as 12300 would name values 12300..12344 in the group above."""
    assert group_names([12345.0, 23456.0]) == ["<12345", "[12345, 23456)", ">=23456"]


def test_a_value_equal_to_an_edge_starts_its_group(tmp_path: Path) -> None:
    """0.7 is held as float32 0.69999999; compared with the float64 edge 0.7 it fell below."""
    schema = Schema(attributes=[Attribute("score", "continuous", range=(0, 1))],
                    provenance=Provenance(source="test", converter="unit"))
    scores = np.array([0.1, 0.3, 0.69, 0.7, 0.7, 0.9], np.float32)
    rng = np.random.default_rng(0)
    batch = {"image": [st.encode_png(im) for im in rng.integers(0, 256, (6, 4, 4, 3), np.uint8)],
             "score": scores}
    st.build([batch], schema, tmp_path / "s")
    new = bin_store(tmp_path / "s", "score", edges=[0.3, 0.7])
    assert new.labels("score_group").tolist() == [0, 1, 1, 2, 2, 2]
    assert new.schema.history[-1]["edges"] == [0.3, 0.7]


def test_group_names_read_back_as_the_groups_binned(tmp_path: Path) -> None:
    """Readers of groups named as intervals (``audit accuracy`` of a value against them, a
    value head's group agreement) cut values by the bounds read from the names: every value
    binned at quantile edges of measured values, an edge itself too, is named in the group it
    is in, and read back into it."""
    from latentplay.store.binning import group_bounds, interval_codes

    schema = Schema(attributes=[Attribute("score", "continuous", range=(-100, 100))],
                    provenance=Provenance(source="test", converter="unit"))
    scores = np.array([-60.1234, -52.2008, -52.19, 0.7, 47.2712, 47.28, 47.31, 80.5],
                      np.float32)
    rng = np.random.default_rng(0)
    batch = {"image": [st.encode_png(im) for im in rng.integers(0, 256, (8, 4, 4, 3), np.uint8)],
             "score": scores}
    st.build([batch], schema, tmp_path / "s")
    for kwargs in ({"edges": [-52.2008, 47.2712]}, {"quantiles": 4}, {"edges": [0.7]}):
        new = bin_store(tmp_path / "s", "score", overwrite=True, **kwargs)
        binned = new.labels("score_group")
        bounds = group_bounds(new.schema.attribute("score_group").names)
        values = new.labels("score").astype(np.float64)
        assert interval_codes(values, bounds).tolist() == binned.tolist(), kwargs
        assert ((bounds[binned, 0] <= values) & (values < bounds[binned, 1])).all(), kwargs


def test_quantile_groups_have_equal_counts():
    values = np.random.default_rng(1).normal(size=1000)
    codes = cut(values, quantile_edges(values, 4))
    assert np.bincount(codes).tolist() == [250, 250, 250, 250]
    # ties merge edges: a variable with two values makes two groups, not four
    assert quantile_edges(np.array([0.0] * 50 + [1.0] * 50), 4).tolist() == [1.0]


def test_quantile_edges_are_short_and_cut_where_the_data_s_values_do():
    """An edge was the value starting its group (names like ``[-0.29440495, -0.088746026)``);
    it is now the shortest decimal between that value and the one below: the same rows on
    either side, at float32 as the store compares them."""
    from latentplay.store.binning import short_edge

    assert short_edge(-0.30001, -0.29440495) == -0.3 and short_edge(0.18, 0.19104) == 0.19
    edge = np.float32(40.75024)                             # next to the value below it:
    assert np.float32(short_edge(np.nextafter(edge, np.float32(0)), edge)) == edge   # itself
    for seed in range(6):
        rng = np.random.default_rng(seed)
        values = (rng.normal(size=2000) * 10.0 ** (seed - 3)).astype(np.float32).astype(np.float64)
        values = np.concatenate([values, values[:40]])                    # ties too
        edges = quantile_edges(values, 5)
        ordered = np.sort(values)
        own = ordered[np.ceil(np.arange(1, 5) * len(ordered) / 5).astype(np.int64)]
        assert np.array_equal(cut(values, edges.astype(np.float32)),
                              cut(values, own.astype(np.float32)))
        assert max(len(t) for t in group_names(edges)) < max(len(t) for t in group_names(own))


def test_a_quantile_edge_never_equals_the_value_below_it() -> None:
    """Values 1.0 and 1.5 cut in halves: 1 (the shortest decimal under 1.5) is the value below
    itself, and an edge there would put both values in the upper group."""
    values = np.array([1.0] * 50 + [1.5] * 50)
    edges = quantile_edges(values, 2)
    assert edges.tolist() == [1.5]
    assert np.bincount(cut(values, edges)).tolist() == [50, 50]


def test_bin_store_adds_a_categorical_attribute(tmp_path: Path) -> None:
    store = _store(tmp_path / "s")
    new = bin_store(store, "age", edges=[20, 40, 60])
    again = st.load(tmp_path / "s")
    attr = again.schema.attribute("age_group")
    assert attr.kind == "categorical"
    assert attr.names == ["<20", "[20, 40)", "[40, 60)", ">=60", "unknown"]
    assert again.labels("age_group").tolist() == [0, 0, 1, 1, 1, 2, 2, 3, 3, 4]
    assert "cut at 20, 40, 60" in attr.description
    entry = again.schema.history[-1]
    assert entry["op"] == "bin" and entry["source"] == "age" and entry["edges"] == [20, 40, 60]
    assert len(new) == 10 and again.labels("gender").tolist() == (np.arange(10) % 2).tolist()
    # groups of a value are ordered: plots colour them along a ramp
    from latentplay.embed.plots import store_labels

    rows = np.arange(10)
    assert store_labels(again, "age_group", rows).kind == "ordered"
    assert store_labels(again, "gender", rows).kind == "categorical"
    named = bin_store(tmp_path / "s", "age", quantiles=2, names=["younger", "older"],
                      name="age_half")
    assert named.schema.attribute("age_half").names == ["younger", "older", "unknown"]
    assert np.bincount(named.labels("age_half")).tolist() == [5, 4, 1]  # 9 ages, median 39.99


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"attribute": "gender", "edges": [1]}, "'gender' is categorical"),
    ({"attribute": "age"}, "either --edges or --quantiles"),
    ({"attribute": "age", "edges": [1], "quantiles": 2}, "either --edges or --quantiles"),
    ({"attribute": "age", "edges": [40, 20]}, "increasing"),
    ({"attribute": "age", "edges": [20, 20.0000001], "names": ["a", "b", "c"]}, "increasing"),
    ({"attribute": "age", "edges": [20], "names": ["a", "b", "c"]}, "2 groups"),
    ({"attribute": "age", "edges": [20], "names": ["a", "a"]}, "distinct"),
    ({"attribute": "age", "quantiles": 1}, "at least 2"),
    ({"attribute": "height", "edges": [1]}, "no attribute 'height'"),
    ({"attribute": "age", "edges": [1], "name": "age group"}, "use letters, digits"),
])
def test_refusals(tmp_path: Path, kwargs: dict, message: str) -> None:
    store = _store(tmp_path / "s")
    with pytest.raises(UserError, match=message):
        bin_store(store, **kwargs)
    assert "age_group" not in st.load(tmp_path / "s").columns


def test_cli_and_overwrite(cli, tmp_path: Path) -> None:
    _store(tmp_path / "s")
    r = cli("data", "bin", tmp_path / "s", "age", "--edges", "20,40,60")
    assert r.code == 0, r.err
    assert "age_group: <20 2, [20, 40) 3, [40, 60) 2, >=60 2, unknown 1" in r.out
    r = cli("data", "bin", tmp_path / "s", "age", "--edges", "50")
    assert r.code == 2 and "pass --overwrite" in r.err
    r = cli("data", "bin", tmp_path / "s", "age", "--edges", "50", "--overwrite")
    assert r.code == 0 and "age_group: <50 6, >=50 3, unknown 1" in r.out
    r = cli("data", "bin", tmp_path / "s", "age", "--edges", "young")
    assert r.code == 2 and len(r.err.strip().splitlines()) == 1 and "numbers" in r.err
    # the groups work wherever classes do
    r = cli("data", "info", tmp_path / "s", "--crosstab", "age_group,gender")
    assert r.code == 0, r.err


def test_class_names_with_brackets_print_as_written(cli, tmp_path: Path) -> None:
    _store(tmp_path / "s")
    assert cli("data", "bin", tmp_path / "s", "age", "--edges", "30", "--names",
               "[young],old").code == 0
    r = cli("data", "info", tmp_path / "s", "--crosstab", "age_group,gender")
    out = " ".join(r.out.split())
    assert r.code == 0 and "age_group (categorical, ordered): [young]: 4, old: 5, unknown: 1" in out
    assert "[young]" in r.out.split("age_group x gender")[1]  # the cross-tab's row too


def test_parenthesised_pairs_read_as_whole_year_ranges() -> None:
    from latentplay.store.binning import group_bounds, interval_order

    adience = ["(0, 2)", "(4, 6)", "(8, 12)", "(60, 100)"]
    assert group_bounds(adience).tolist() == [[0, 3], [4, 7], [8, 13], [60, 101]]
    assert interval_order(["(8, 12)", "(60, 100)", "(0, 2)", "(4, 6)"]) == adience
    assert group_bounds(["(0, 10)", "(5, 20)"]) is None  # overlapping


def test_an_edge_is_written_one_way_in_names_description_and_report(tmp_path: Path) -> None:
    """A quantile edge read -0.5817986 in the class names, -0.581799 in the description and
    -0.5818 in the report's history: the names' exact edge is written everywhere."""
    from latentplay.report.stores import page

    store = _store(tmp_path / "s")
    bin_store(store, "age", edges=[-0.5817986, 40.123456])
    again = st.load(tmp_path / "s")
    attr = again.schema.attribute("age_group")
    assert attr.names[:2] == ["<-0.5817986", "[-0.5817986, 40.123455)"]
    assert "cut at -0.5817986, 40.123455 (each" in attr.description
    rows = [[c.text for c in r] for s in page(again.path).sections for b in s.blocks
            for r in getattr(b, "rows", [])]
    assert any("age cut at -0.5817986, 40.123455" in cells for cells in rows), rows
