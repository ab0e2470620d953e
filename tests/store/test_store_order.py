"""Ordered classes: the schema's flag, ``data order``, and the trend test of ``data bias``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from latentplay import sources
from latentplay import store as st
from latentplay.errors import UserError
from latentplay.store import Attribute, Provenance, Schema
from latentplay.store.bias import association, linear_trend
from latentplay.store.order import order_classes

# Agresti (2007), Table 2.7: infant malformation (absent, present) by the mother's alcohol
# consumption (0, <1, 1-2, 3-5, >=6 drinks a day). The book gives M2 = 6.57 (P = 0.010) with
# scores (0, 0.5, 1.5, 4.0, 7.0), r = 0.0142, and M2 = 1.83 (P = 0.18) with scores 1..5.
MALFORMATION = np.array([[17066, 48], [14464, 38], [788, 5], [126, 1], [37, 1]])


def test_linear_trend_matches_the_textbook():
    scored = linear_trend(MALFORMATION, row_scores=np.array([0, 0.5, 1.5, 4.0, 7.0]))
    assert scored.statistic == pytest.approx(6.57, abs=0.005)
    assert scored.p_value == pytest.approx(0.0104, abs=0.0005)
    assert scored.r == pytest.approx(0.0142, abs=0.00005)
    spaced = linear_trend(MALFORMATION)
    assert spaced.statistic == pytest.approx(1.83, abs=0.005)
    assert spaced.p_value == pytest.approx(0.18, abs=0.005)


def test_two_column_trend_is_cochran_armitage():
    counts = np.array([[30, 10], [25, 15], [18, 22], [9, 31]])
    t = np.arange(4.0)
    yes, total = counts[:, 1], counts.sum(1)
    n, p = total.sum(), yes.sum() / total.sum()
    # Cochran-Armitage's statistic from its own formula
    stat = (t @ (yes - total * p)) ** 2 / (p * (1 - p) * (total @ t**2 - (total @ t) ** 2 / n))
    found = linear_trend(counts)
    assert found.statistic * n / (n - 1) == pytest.approx(stat)
    assert found.r > 0  # later rows have the later column more often
    assert linear_trend(counts[::-1]).r == pytest.approx(-found.r)
    with pytest.raises(UserError, match="two groups"):
        linear_trend(np.array([[3, 4], [0, 0]])[:1])


def _store(path: Path, ages: list[str], codes: list[int]) -> st.Store:
    schema = Schema(attributes=[Attribute("age", "categorical", names=ages),
                                Attribute("score", "continuous", range=(0, 1))],
                    provenance=Provenance(source="test", converter="unit"))
    rng = np.random.default_rng(0)
    n = len(codes)
    batch = {"image": [st.encode_png(im) for im in rng.integers(0, 256, (n, 4, 4, 3), np.uint8)],
             "age": np.array(codes), "score": rng.random(n).astype(np.float32)}
    return st.build([batch], schema, path)


def test_order_classes_renumbers_and_keeps_each_rows_class(tmp_path: Path) -> None:
    names = ["10-19", "20-29", "3-9", "unknown"]  # a CSV's alphabetical order
    codes = [2, 0, 1, 3, 2, 1]
    before = _store(tmp_path / "s", names, codes)
    assert not before.schema.attribute("age").ordered
    new = order_classes(tmp_path / "s", "age", ["3-9", "10-19", "20-29"])
    attr = st.load(tmp_path / "s").schema.attribute("age")
    assert attr.ordered and attr.names == ["3-9", "10-19", "20-29", "unknown"]
    assert [attr.names[c] for c in new.labels("age")] == [names[c] for c in codes]
    assert [a.name for a in new.schema.attributes] == ["age", "score"]  # stays in place
    np.testing.assert_array_equal(new.labels("score"), before.labels("score"))
    assert new.schema.history[-1]["op"] == "order"
    unordered = order_classes(tmp_path / "s", "age", ordered=False)
    assert not unordered.schema.attribute("age").ordered
    assert unordered.schema.attribute("age").names == attr.names


def test_order_classes_takes_a_list_naming_unknown_too(tmp_path: Path) -> None:
    names = ["10-19", "unknown", "3-9"]
    codes = [2, 0, 1, 2]
    _store(tmp_path / "s", names, codes)
    new = order_classes(tmp_path / "s", "age", ["unknown", "3-9", "10-19"])
    attr = new.schema.attribute("age")
    assert attr.ordered and attr.names == ["3-9", "10-19", "unknown"]
    assert [attr.names[c] for c in new.labels("age")] == [names[c] for c in codes]


@pytest.mark.parametrize(("classes", "message"), [
    (["3-9", "10-19"], "missing 20-29"),
    (["3-9", "10-19", "20-29", "30-39"], "not classes of it 30-39"),
    (["3-9", "3-9", "10-19", "20-29"], "named twice"),
])
def test_order_classes_refuses_a_wrong_list(tmp_path: Path, classes, message) -> None:
    _store(tmp_path / "s", ["10-19", "20-29", "3-9"], [0, 1, 2])
    with pytest.raises(UserError, match=message):
        order_classes(tmp_path / "s", "age", classes)
    with pytest.raises(UserError, match="only a categorical"):
        order_classes(tmp_path / "s", "score")


def test_ordered_flag_round_trips_and_is_categorical_only(tmp_path: Path) -> None:
    schema = Schema([Attribute("tone", "categorical", names=["a", "b", "c"], ordered=True)],
                    Provenance(source="x", converter="y"))
    again = Schema.from_dict(json.loads(json.dumps(schema.to_dict())))
    assert again.attribute("tone").ordered
    old = schema.to_dict()
    del old["attributes"][0]["ordered"]  # a schema written before the flag existed
    assert not Schema.from_dict(old).attribute("tone").ordered
    with pytest.raises(ValueError, match="only a categorical"):
        Attribute("x", "continuous", ordered=True)


def test_sources_mark_their_ordered_classes(tmp_path: Path) -> None:
    faces = sources.make("synthfaces", tmp_path / "faces", n=30, seed=0)
    flags = {a.name: a.ordered for a in faces.schema.attributes}
    assert flags["skin_tone"] and flags["age_group"]
    assert not flags["gender"] and not flags["hair_color"]
    from latentplay.sources.fairface import attributes as fairface_attributes

    assert [a.name for a in fairface_attributes() if a.ordered] == ["age"]


def test_a_synthfaces_store_saved_before_the_flag_gets_its_order(tmp_path: Path) -> None:
    """An older synthfaces store (no 'ordered' saved) read its Monk tones and age groups as
    unordered: no ramp, no trend test, unlike the same store made today."""
    path = tmp_path / "faces"
    sources.make("synthfaces", path, n=30, seed=0)
    saved = json.loads((path / "latentplay.json").read_text())
    for attr in saved["attributes"]:
        del attr["ordered"], attr["nominal"]  # the schema as latentplay wrote it then
    (path / "latentplay.json").write_text(json.dumps(saved))
    flags = {a.name: a.ordered for a in st.load(path).schema.attributes}
    assert flags["skin_tone"] and flags["age_group"] and not flags["gender"]


def test_groups_binned_or_measured_before_the_flag_get_their_order(tmp_path: Path, cli) -> None:  # noqa: ANN001
    """A store saved before the flag read the groups its history says data bin made, and data
    measure's ITA skin groups, as unordered: data bias tested no trend along the bins (p 0.006
    along an older synthfaces store's smile groups). The latest command that made a column
    decides: groups binned, then replaced by data combine, stay unordered."""
    rng = np.random.default_rng(3)
    group = np.repeat(np.arange(3), 60)
    yes = (rng.random(180) < 0.2 + 0.3 * group).astype(np.int64)
    schema = Schema(attributes=[
        Attribute("age_bin", "categorical", names=["<20", "[20, 40)", ">=40"]),
        Attribute("skin_group", "categorical", names=["very_light", "light", "intermediate"]),
        Attribute("mix", "categorical", names=["a", "b", "c"]),
        Attribute("found", "categorical", names=["no", "yes"])],
        provenance=Provenance(source="test", converter="unit"))
    path = tmp_path / "s"
    images = [st.encode_png(np.zeros((4, 4, 3), np.uint8))] * 180
    st.build([{"image": images, "age_bin": group, "skin_group": group, "mix": group,
               "found": yes}], schema, path)
    saved = json.loads((path / "latentplay.json").read_text())
    for attr in saved["attributes"]:
        del attr["ordered"], attr["nominal"]  # the schema as latentplay wrote it then
    saved["history"] = [{"op": "bin", "column": "mix", "source": "age"},
                        {"op": "bin", "column": "age_bin", "source": "age"},
                        {"op": "measure", "attributes": ["skin_ita", "skin_group"]},
                        {"op": "combine", "column": "mix", "source": ["age_bin", "found"]}]
    (path / "latentplay.json").write_text(json.dumps(saved))
    flags = {a.name: a.ordered for a in st.load(path).schema.attributes}
    assert flags == {"age_bin": True, "skin_group": True, "mix": False, "found": False}
    res = cli("data", "bias", path, "--by", "age_bin", "--of", "found", "--out", tmp_path / "b.png")
    assert res.code == 0 and "trend along age_bin" in res.out


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Five ordered groups whose share of 'yes' rises 0.1, 0.3, 0.5, 0.7, 0.9, and an
    unordered attribute with the same rows."""
    rng = np.random.default_rng(5)
    group = np.repeat(np.arange(5), 100)
    yes = (rng.random(500) < 0.1 + 0.2 * group).astype(np.int64)
    schema = Schema(attributes=[
        Attribute("tone", "categorical", names=[f"t{k}" for k in range(5)], ordered=True),
        Attribute("region", "categorical", names=[f"r{k}" for k in range(5)]),
        Attribute("found", "categorical", names=["no", "yes"]),
        Attribute("colour", "categorical", names=["red", "green", "blue"])],
        provenance=Provenance(source="test", converter="unit"))
    images = [st.encode_png(np.zeros((4, 4, 3), np.uint8))] * 500
    path = tmp_path_factory.mktemp("trend") / "s"
    st.build([{"image": images, "tone": group, "region": group, "found": yes,
               "colour": rng.integers(0, 3, 500)}], schema, path)
    return path


def test_association_tests_a_trend_only_along_an_order(graded: Path) -> None:
    s = st.load(graded)
    found = association(s, "tone", "found")
    assert found.trend is not None and found.trend.r > 0.3 and found.trend.p_value < 1e-12
    assert found.to_dict()["trend"]["r"] == found.trend.r
    assert association(s, "region", "found").trend is None        # groups without an order
    assert association(s, "tone", "colour").trend is None         # three unordered levels
    assert association(s, "found", "tone").trend.r == pytest.approx(found.trend.r)


def test_bias_command_prints_the_trend(cli, graded: Path, tmp_path: Path) -> None:
    out = tmp_path / "bias.png"
    r = cli("data", "bias", graded, "--by", "tone", "--of", "found", "--out", out)
    assert r.code == 0, r.err
    assert "trend along tone: r +0." in r.out
    assert json.loads(out.with_suffix(".json").read_text())["trend"]["p_value"] < 1e-12


def test_order_command_and_info(cli, tmp_path: Path) -> None:
    _store(tmp_path / "s", ["10-19", "20-29", "3-9"], [0, 1, 2, 2])
    r = cli("data", "order", tmp_path / "s", "age", "--classes", "3-9,10-19,20-29")
    assert r.code == 0, r.err
    assert "age: ordered; 3-9 2, 10-19 1, 20-29 1" in r.out
    r = cli("data", "info", tmp_path / "s")
    assert "age (categorical, ordered)" in " ".join(r.out.split())
    r = cli("data", "order", tmp_path / "s", "age", "--classes", "3-9")
    assert r.code == 2 and r.err.startswith("error: --classes must name each class")
