"""A store of no rows gets new columns like any other; a save whose data lacks a column its
schema names is refused before it replaces anything."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from latentplay import store as st
from latentplay.errors import UserError
from latentplay.store import Attribute, Provenance, Schema, VectorColumn


def _store(path: Path, n: int) -> st.Store:
    schema = Schema(attributes=[Attribute("gender", "categorical", names=["f", "m"]),
                                Attribute("smile", "continuous", range=(-1, 1))],
                    provenance=Provenance(source="test", converter="test"))
    rng = np.random.default_rng(0)
    batch = {"image": [st.encode_png(im) for im in rng.integers(0, 256, (n, 8, 8, 3), dtype=np.uint8)],
             "gender": np.arange(n) % 2, "smile": rng.uniform(-1, 1, n).astype(np.float32)}
    return st.build([batch], schema, path)


def _zero_rows(path: Path) -> st.Store:
    full = _store(path.with_name("full"), 6)
    return st.save(st.Store(full.dataset.select([]), full.schema), path)


def test_columns_added_to_a_store_of_no_rows_are_kept(tmp_path: Path) -> None:
    """``concatenate_datasets`` dropped the new column of an empty table: the saved schema named
    a column the data lacked and every command refused the store afterwards."""
    empty = _zero_rows(tmp_path / "zr")
    new = st.add_column(empty, "v", np.zeros((0, 3)))
    new = st.add_attributes(new, {"x": (Attribute("x", "continuous"), np.zeros(0))})
    assert {"v", "x"} <= set(new.columns)
    saved = st.save(new, empty.path)
    again = st.load(tmp_path / "zr")
    assert len(again) == 0 and {"v", "x", "gender"} <= set(again.columns)
    assert saved.dataset.features["v"].length == 3


def test_binning_a_store_of_no_rows_leaves_a_store_that_opens(tmp_path: Path,
                                                            cli: Callable[..., object]) -> None:
    _zero_rows(tmp_path / "zr")
    assert cli("data", "bin", tmp_path / "zr", "smile", "--edges", "0").code == 0
    assert "smile_group" in st.load(tmp_path / "zr").columns
    assert cli("data", "info", tmp_path / "zr").code == 0


def test_a_save_whose_data_lacks_a_schema_column_leaves_the_store_as_it_was(tmp_path: Path) -> None:
    store = _store(tmp_path / "s", 6)
    schema = dataclasses.replace(store.schema, vectors=[VectorColumn("ghost", 3)])
    with pytest.raises(UserError, match=r"^not saved to .*/s: the data lacks column\(s\) 'ghost' "
                       "that its schema names; what was there is left as it was$"):
        st.save(dataclasses.replace(store, schema=schema), store.path)
    assert [p.name for p in tmp_path.iterdir()] == ["s"]  # no scratch left beside it
    assert st.load(tmp_path / "s").schema.vectors == []


@pytest.mark.parametrize("command, doing", [
    (["data", "grid", "{s}", "--out", "{d}/g.png", "--by", "gender"], "draw"),
    (["data", "grid", "{s}", "--out", "{d}/g.png"], "draw"),
    (["viz", "projection", "{s}", "--embedding", "v", "--method", "pca", "--out", "{d}/p"], "project"),
    (["embed", "{s}", "--with", "pixels-pca", "--column", "w"], "embed"),
    (["train", "vae", "--data", "{s}", "--out", "{d}/run", "--max-steps", "1"], "train on"),
])
def test_commands_that_need_rows_refuse_a_store_of_none(tmp_path: Path, cli, command: list[str],
                                                        doing: str) -> None:
    """data grid drew an empty figure of 'n=0' rows and viz projection said the attribute had
    'only one value (none)': each now says the store has no rows, and writes nothing."""
    empty = _zero_rows(tmp_path / "zr")
    st.save(st.add_column(empty, "v", np.zeros((0, 3))), empty.path)
    result = cli(*[part.format(s=empty.path, d=tmp_path) for part in command])
    assert (result.code, result.err) == (2, f"error: store {empty.path} has no rows to {doing}\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["full", "zr"]
