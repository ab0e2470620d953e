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


def test_a_second_measure_or_predict_on_one_store_is_refused(tmp_path: Path, cli) -> None:  # noqa: ANN001
    """Two `data measure` runs on one store shared `.S.measure/`: the second recreated it, the
    first then died with a traceback, or a resume took the other's numbers as its own. While
    one holds the scratch folder's lock another is refused in one line, and runs after it."""
    from latentplay.measure.run import scratch_dir

    store = sources.make("synthfaces", tmp_path / "s", n=12, seed=1)
    scratch = scratch_dir(store.path)
    with store_io.held_lock(scratch.with_name(f"{scratch.name}.lock")):
        r = cli("data", "measure", store.path, "--what", "quality")
    assert r.code == 2 and r.err.strip() == (
        f"error: another data measure is running on {store.path}; wait for it or stop it (two "
        "would share their scratch files)"), r.err
    assert cli("data", "measure", store.path, "--what", "quality").code == 0   # the lock let go


def test_annotator_labels_join_a_store_another_command_wrote_meanwhile(tmp_path: Path) -> None:
    """`data predict --with FILE.npz` refused ("changed on disk ... run this command again")
    when another command wrote the store during its pass, where `data measure` merged."""
    from latentplay.audit.annotate import fit_classifier
    from latentplay.measure.predict import annotate_store

    store = sources.make("synthfaces", tmp_path / "s", n=40, seed=1)
    annotator = fit_classifier(store.path, "gender", options=["dim=4"]).save(tmp_path / "g.npz")
    stale = st.load(store.path)
    _another_command(store.path)
    out = annotate_store(stale, annotator)
    assert {"predicted_gender", "other"} <= set(st.load(store.path).columns) == set(out.columns)
