"""store.add_attributes, and how summaries treat rows without a value (NaN)."""

from __future__ import annotations

from pathlib import Path

import datasets
import numpy as np
import pytest

from latentplay import store as st
from latentplay.errors import UserError
from latentplay.store import Attribute, Provenance, Schema
from latentplay.store.summary import bin_codes


def _store(path: Path, n: int = 20) -> st.Store:
    schema = Schema(attributes=[Attribute("gender", "categorical", names=["female", "male"])],
                    provenance=Provenance(source="test", converter="unit"))
    rng = np.random.default_rng(0)
    batch = {"image": [st.encode_png(im) for im in rng.integers(0, 256, (n, 6, 6, 3), np.uint8)],
             "gender": np.arange(n) % 2}
    return st.build([batch], schema, path)


def test_added_attributes_are_saved_typed_and_readable_without_latentplay(tmp_path: Path) -> None:
    store = _store(tmp_path / "s")
    lightness = np.linspace(0, 100, 20).astype(np.float32)
    lightness[3] = np.nan
    new = st.add_attributes(store, {
        "light": (Attribute("light", "continuous", range=(0, 100)), lightness),
        "tone": (Attribute("tone", "categorical", names=["pale", "deep"]), np.arange(20) // 10),
    })
    assert "light" not in store.columns  # the original is untouched
    saved = st.save(new, store.path)
    again = st.load(saved.path)
    assert [a.name for a in again.schema.attributes] == ["gender", "light", "tone"]
    np.testing.assert_array_equal(again.labels("light"), lightness)
    plain = datasets.load_from_disk(str(saved.path))
    assert plain.features["tone"].names == ["pale", "deep"]
    assert plain.features["light"].dtype == "float32"
    assert plain[12]["tone"] == 1 and plain[0]["gender"] == 0


def test_replacing_and_refusing(tmp_path: Path) -> None:
    store = _store(tmp_path / "s")
    light = Attribute("light", "continuous")
    once = st.add_attributes(store, {"light": (light, np.zeros(20))})
    with pytest.raises(UserError, match="already exists in the store; pass --overwrite"):
        st.add_attributes(once, {"light": (light, np.ones(20))})
    twice = st.add_attributes(once, {"light": (light, np.ones(20))}, replace=True)
    assert twice.labels("light").tolist() == [1.0] * 20
    assert [a.name for a in twice.schema.attributes] == ["gender", "light"]
    with pytest.raises(UserError, match="already exists"):  # an image column is no attribute
        st.add_attributes(store, {"image": (Attribute("image", "continuous"), np.zeros(20))},
                          replace=True)
    with pytest.raises(UserError, match="has shape"):
        st.add_attributes(store, {"x": (Attribute("x", "continuous"), np.zeros(19))})
    with pytest.raises(UserError, match=r"codes outside 0..0 \(the classes a\), got 1.0..1.0"):
        st.add_attributes(store, {"c": (Attribute("c", "categorical", names=["a"]), np.ones(20))})
    with pytest.raises(UserError, match="attribute 'c': give a categorical or continuous Attribute "
                                        "of that name, got a continuous one named 'd'"):
        st.add_attributes(store, {"c": (Attribute("d", "continuous"), np.ones(20))})


def test_a_name_differing_from_a_column_only_in_case_is_refused(tmp_path: Path) -> None:
    """An attribute ``Gender`` beside ``gender`` was added; their outputs
    (``distribution_Gender.png``, ``distribution_gender.png``) overwrite each other on the
    case-insensitive file systems of macOS and Windows."""
    store = _store(tmp_path / "s")
    with pytest.raises(UserError, match="'Gender' differs from the column 'gender' only in case"):
        st.add_attributes(store, {"Gender": (Attribute("Gender", "continuous"), np.zeros(20))})


def test_a_vector_column_of_no_dimensions_is_refused(tmp_path: Path) -> None:
    """pyarrow refused the width-0 list with ArrowInvalid."""
    with pytest.raises(UserError, match=r"'x': expected an \(N, D\) array with D >= 1, got shape \(20, 0\)"):
        st.add_column(_store(tmp_path / "s"), "x", np.zeros((20, 0)))


def test_bin_codes_mark_nan_and_clip_outside_values() -> None:
    codes, edges = bin_codes(np.array([0.0, 0.49, 0.5, 1.0, np.nan, -3.0, 7.0]), (0.0, 1.0), 2)
    assert codes.tolist() == [0, 0, 1, 1, -1, 0, 1]
    assert edges.tolist() == [0.0, 0.5, 1.0]
    codes, edges = bin_codes(np.array([2.0, np.nan, 4.0]), None, 2)  # span of the finite values
    assert codes.tolist() == [0, -1, 1] and edges.tolist() == [2.0, 3.0, 4.0]


def test_rows_without_a_value_are_left_out_of_summaries(tmp_path: Path) -> None:
    store = _store(tmp_path / "s")
    light = np.linspace(0, 100, 20).astype(np.float32)
    light[[0, 1, 2]] = np.nan  # three women (rows 0, 2) and one man (row 1) without a value
    light[3] = 0.0  # still the lowest bin, but the values' mean is no longer their median
    store = st.save(st.add_attributes(store, {
        "light": (Attribute("light", "continuous", range=(0, 100)), light)}), store.path)
    summary = st.info(store, crosstab_of=("gender", "light"), bins=4)
    assert sum(summary["attributes"]["light"]["histogram"]["counts"]) == 17
    known = light[3:].astype(np.float64)  # the column's own mean and (population) SD
    light_summary = summary["attributes"]["light"]
    assert light_summary["mean"] == pytest.approx(known.mean(), rel=1e-6)
    assert light_summary["std"] == pytest.approx(np.sqrt(((known - known.mean()) ** 2).mean()), rel=1e-6)
    table = np.array(summary["crosstab"]["counts"])
    assert table.sum() == 17 and table.sum(axis=1).tolist() == [8, 9]
    assert table[:, -1].sum() == 5  # NaN no longer lands in the top bin
    assert summary["crosstab"]["left_out"] == 3   # counted, and said under the printed table


def test_an_attribute_without_any_value_is_summarised(tmp_path: Path) -> None:
    store = _store(tmp_path / "s")
    store = st.save(st.add_attributes(store, {
        "light": (Attribute("light", "continuous"), np.full(20, np.nan))}), store.path)
    summary = st.info(store, crosstab_of=("gender", "light"))["attributes"]["light"]
    assert summary["missing"] == 20 and sum(summary["histogram"]["counts"]) == 0
    # no mean to give: null in JSON (NaN is no JSON), "no value" in the text
    assert summary["mean"] is None and summary["std"] is None
    codes, _ = bin_codes(store.labels("light"), None, 3)
    assert (codes == -1).all()


def test_vectors_of_some_rows(tmp_path: Path) -> None:
    store = _store(tmp_path / "s")
    z = np.arange(60, dtype=np.float32).reshape(20, 3)
    store = st.save(st.add_column(store, "z", z), store.path)
    np.testing.assert_array_equal(st.vectors(store, "z", np.array([7, 2, 7])), z[[7, 2, 7]])
    assert st.vectors(store, "z", np.array([], dtype=np.int64)).shape == (0, 3)


def test_measured_values_are_binned_at_round_numbers(tmp_path: Path) -> None:
    from latentplay.store.summary import round_edges

    np.testing.assert_allclose(round_edges(-51.948, 46.496, 10), np.arange(-60, 51, 10))
    np.testing.assert_allclose(round_edges(-10.6, 21.9, 10), np.arange(-15, 26, 5))
    np.testing.assert_allclose(round_edges(0.123, 0.987, 10), np.arange(1, 11) / 10)
    store = _store(tmp_path / "s")
    yaw = np.linspace(-51.948, 46.496, 20).astype(np.float32)
    saved = st.save(st.add_attributes(store, {"yaw": (Attribute("yaw", "continuous"), yaw)}),
                    store.path)
    hist = st.info(saved)["attributes"]["yaw"]["histogram"]
    assert hist["edges"][0] == -60 and hist["edges"][-1] == 50 and sum(hist["counts"]) == 20


def test_columns_added_to_a_selection_leave_the_source_folder_alone(tmp_path: Path) -> None:
    """A selection's rows are copied out to line up with the new column: not into the source
    store's folder (a stray copy of the rows there, an error where it is read-only)."""
    store = _store(tmp_path / "s")
    before = sorted(p.name for p in store.path.iterdir())
    view = st.Store(store.dataset.select([5, 2, 2]), store.schema, store.path)
    light = np.array([0.5, 0.25, 0.75], np.float32)
    new = st.add_attributes(view, {"light": (Attribute("light", "continuous"), light)})
    added = st.add_column(view, "v", np.arange(6.0).reshape(3, 2))
    assert sorted(p.name for p in store.path.iterdir()) == before
    assert new.labels("gender").tolist() == [1, 0, 0] and new.labels("light").tolist() == light.tolist()
    np.testing.assert_array_equal(st.vectors(added, "v"), np.arange(6.0).reshape(3, 2))
    assert st.load_images(new, [0]).tolist() == st.load_images(store, [5]).tolist()
    saved = st.save(new, tmp_path / "copy")
    assert len(saved) == 3 and len(st.load(store.path)) == 20


def test_info_counts_the_unknown_rows_of_a_categorical_attribute(tmp_path: Path) -> None:
    """``data info --json`` said ``"missing": 0`` of a regrouped attribute with rows in
    ``unknown``; it now gives their number as ``unknown``."""
    store = _store(tmp_path / "s")
    store = st.save(st.add_attributes(store, {"tone": (
        Attribute("tone", "categorical", names=["light", "dark", "unknown"]),
        np.arange(20) % 3)}), store.path)
    summary = st.info(store)["attributes"]
    assert summary["tone"]["unknown"] == int((np.arange(20) % 3 == 2).sum())
    assert summary["tone"]["missing"] == 0 and summary["gender"]["unknown"] == 0
