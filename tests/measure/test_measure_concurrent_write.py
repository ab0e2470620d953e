"""`data measure` / `data predict` finishing while another command wrote the store: the new
attributes go into the store as it is now (both writes kept) when its rows and images are the
ones measured; otherwise nothing is saved and the message says so. They refused with "run this
command again" in both cases."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from latentplay import sources
from latentplay import store as st
from latentplay.errors import UserError
from latentplay.measure.run import save_extended
from latentplay.store import Attribute
from latentplay.store import io as store_io


def _another_command(path: Path, change_images: bool = False) -> None:
    now = st.load(path)
    if change_images:
        now = st.Store(dataset=now.dataset.select(list(range(1, len(now))) + [0]), schema=now.schema,
                       path=now.path, read_as=now.read_as)
    st.save(st.add_column(now, "other", np.ones((len(now), 2), np.float32)), path)
    store_io._WRITTEN.pop(os.path.realpath(path), None)   # as if another process wrote it


def _columns(n: int) -> dict:
    return {"bright": (Attribute("bright", "continuous"), np.linspace(0, 1, n))}


def test_attributes_join_a_store_another_command_wrote_meanwhile(tmp_path: Path) -> None:
    store = sources.make("synthfaces", tmp_path / "s", n=12, seed=1)
    (tmp_path / "scratch").mkdir()
    _another_command(store.path)
    out = save_extended(store, _columns(12), False, store.path, {"op": "measure"}, tmp_path / "scratch")
    assert {"bright", "other"} <= set(out.columns) and {"bright", "other"} <= set(st.load(store.path).columns)
    assert not (tmp_path / "scratch").exists()


def test_nothing_is_saved_when_the_images_changed_meanwhile(tmp_path: Path) -> None:
    store = sources.make("synthfaces", tmp_path / "s", n=12, seed=1)
    (tmp_path / "scratch").mkdir()
    _another_command(store.path, change_images=True)
    with pytest.raises(UserError, match="rows or images changed: nothing was saved") as info:
        save_extended(store, _columns(12), False, store.path, {"op": "measure"}, tmp_path / "scratch")
    assert "\n" not in str(info.value)
    assert "bright" not in st.load(store.path).columns and "other" in st.load(store.path).columns
