"""A store read while another command writes it: the read is tried again instead of reporting
the store damaged, missing or naming columns its data lacks; a store damaged for real is still
reported at once."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from tiny_store import tiny_store

from latentplay import store as st
from latentplay.errors import UserError
from latentplay.store import Schema, io


def _sleeps(monkeypatch: pytest.MonkeyPatch, then: object = None) -> list[float]:
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        if callable(then) and len(slept) == 1:
            then()

    monkeypatch.setattr(io.time, "sleep", sleep)
    return slept


def test_a_store_written_between_reading_its_data_and_its_schema_is_read_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The data came from the old store and the schema from the new one: 'latentplay.json names
    column(s) 'pca' that the data lacks'."""
    store = tiny_store(tmp_path / "s")
    read_schema = io.read_schema
    written = []

    def another_command_writes_first(schema_file: Path) -> Schema:
        if not written:
            written.append(schema_file)
            st.save(st.add_column(store, "pca", np.ones((6, 2))), store.path)
        return read_schema(schema_file)

    monkeypatch.setattr(io, "read_schema", another_command_writes_first)
    slept = _sleeps(monkeypatch)
    loaded = st.load(tmp_path / "s")
    assert "pca" in loaded.columns and "pca" in [v.name for v in loaded.schema.vectors]
    assert loaded.read_as == io.disk_stamp(tmp_path / "s") and len(slept) == 1


def test_a_store_between_the_renames_of_a_write_is_waited_for(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Read while a write had moved the old store aside and not yet renamed the new one in:
    'no store at s: a write to it was cut off ...'."""
    tiny_store(tmp_path / "s")
    old = tmp_path / ".s.old-0123abcd"
    os.rename(tmp_path / "s", old)
    slept = _sleeps(monkeypatch, then=lambda: os.rename(old, tmp_path / "s"))
    assert len(st.load(tmp_path / "s")) == 6 and len(slept) == 1


def test_a_damaged_store_is_reported_at_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tiny_store(tmp_path / "s")
    shard = next((tmp_path / "s").glob("*.arrow"))
    shard.write_bytes(shard.read_bytes()[:100])
    slept = _sleeps(monkeypatch)
    with pytest.raises(UserError, match=r" is damaged \(it could not be opened as a dataset\)"):
        st.load(tmp_path / "s")
    assert slept == []
    (tmp_path / ".s.tmp-00000000-1-abcdefgh").mkdir()  # a write seems under way: a short wait
    with pytest.raises(UserError, match=r" is damaged \(it could not be opened as a dataset\)"):
        st.load(tmp_path / "s")
    assert 0 < sum(slept) <= 2
