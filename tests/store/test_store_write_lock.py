"""Two writers finishing together take turns: the check that the store was not written
meanwhile and the swap run under a lock beside the store, so the later one sees the earlier
one's write instead of dropping its column."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from latentplay import store as st
from latentplay.store import Attribute, Provenance, Schema, io
from latentplay.store.io import StoreChanged


def _store(path: Path, n: int = 6) -> st.Store:
    schema = Schema(attributes=[Attribute("gender", "categorical", names=["f", "m"])],
                    provenance=Provenance(source="test", converter="test"))
    images = np.random.default_rng(n).integers(0, 256, (n, 8, 8, 3), dtype=np.uint8)
    return st.build([{"image": [st.encode_png(im) for im in images], "gender": np.arange(n) % 2}],
                    schema, path)


def test_a_writer_checking_while_another_swaps_waits_and_refuses(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first writer is held between its check and its swap; the second, started then,
    passed its own check (the store was not written yet) and both swapped: the column of the
    one swapping first was lost and both reported success."""
    _store(tmp_path / "s")
    first, second = st.load(tmp_path / "s"), st.load(tmp_path / "s")
    swap, refuse = io.swap_into_place, io._refuse_changed
    first_checked, second_checked, go = threading.Event(), threading.Event(), threading.Event()

    def held_swap(tmp: Path, path: Path) -> None:
        if threading.current_thread().name == "first":
            first_checked.set()
            go.wait(10)
        swap(tmp, path)

    def noted_check(store: st.Store, path: Path) -> None:
        if threading.current_thread().name == "second":
            second_checked.set()
        refuse(store, path)

    monkeypatch.setattr(io, "swap_into_place", held_swap)
    monkeypatch.setattr(io, "_refuse_changed", noted_check)
    outcome: dict[str, str] = {}

    def write(store: st.Store, column: str) -> None:
        try:
            st.save(st.add_column(store, column, np.ones((6, 2))), store.path)
            outcome[column] = "saved"
        except StoreChanged:
            outcome[column] = "refused"

    one = threading.Thread(target=write, args=(first, "a"), name="first")
    one.start()
    assert first_checked.wait(30)
    two = threading.Thread(target=write, args=(second, "b"), name="second")
    two.start()
    try:
        second_checked.wait(0.5)  # set at once without the lock; with it, not before go
        assert not second_checked.is_set()
    finally:
        go.set()
        one.join(30)
        two.join(30)
    assert outcome == {"a": "saved", "b": "refused"}
    assert "a" in st.load(tmp_path / "s").columns


def test_the_lock_file_lies_beside_the_store(tmp_path: Path) -> None:
    store = _store(tmp_path / "s")
    store = st.save(st.add_column(store, "a", np.ones((6, 2))), store.path)
    assert (tmp_path / ".s.lock").is_file() and not (tmp_path / "s" / ".s.lock").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [".s.lock", "s"]
    st.save(store, tmp_path / "s", overwrite=True)  # no folder the store did not write
    with io.write_lock(tmp_path / "s"):  # a reader is not blocked
        assert "a" in st.load(tmp_path / "s").columns
