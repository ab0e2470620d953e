"""A write cut off between the two renames of its swap: load names the old copy to restore,
and the old copies are removed once the path holds a store again."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from tiny_store import tiny_store

from latentplay import outputs
from latentplay import store as st
from latentplay.errors import UserError


def _store(path: Path, n: int = 6, overwrite: bool = False) -> st.Store:
    return tiny_store(path, n, overwrite)


def _cut_off_after_the_first_rename(monkeypatch: pytest.MonkeyPatch) -> None:
    """``os.replace`` in :func:`outputs.swap_into_place` moves the store aside, then fails (as a
    kill at that moment leaves things)."""
    replace = os.replace
    calls = []

    def first_only(src: object, dst: object) -> None:
        calls.append(src)
        if len(calls) > 1:
            raise RuntimeError("killed between the renames")
        replace(src, dst)

    monkeypatch.setattr(outputs.os, "replace", first_only)


def _old_copies(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.name.startswith(".s.old-"))


def test_a_store_moved_aside_by_a_cut_off_write_is_named_with_how_to_restore_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Callable[..., object]) -> None:
    """The store vanished ('no store at s: path does not exist') while a whole copy of it lay
    beside, hidden, and was never removed."""
    store = _store(tmp_path / "s")
    _cut_off_after_the_first_rename(monkeypatch)
    with pytest.raises(RuntimeError, match="killed"):
        st.save(st.add_column(store, "v", np.ones((6, 2))), store.path)
    monkeypatch.undo()
    assert not (tmp_path / "s").exists()
    (old,) = _old_copies(tmp_path)
    with pytest.raises(UserError, match=rf"^no store at {tmp_path / 's'}: a write to it was cut off "
                       rf"after it moved the old store aside, to {old}; restore it with: "
                       rf"mv {old} {tmp_path / 's'}$"):
        st.load(tmp_path / "s")
    result = cli("data", "info", tmp_path / "s")
    assert result.code == 2 and f"mv {old} {tmp_path / 's'}\n" in result.err
    os.rename(old, tmp_path / "s")
    assert len(st.load(tmp_path / "s")) == 6 and _old_copies(tmp_path) == []


def test_old_copies_are_removed_only_once_the_store_is_back(tmp_path: Path) -> None:
    store = _store(tmp_path / "s")
    old = tmp_path / ".s.old-0123abcd"
    shutil.copytree(store.path, old)
    shutil.rmtree(store.path)
    _store(tmp_path / "other")  # a write elsewhere leaves it
    assert _old_copies(tmp_path) == [old]
    with pytest.raises(UserError, match="holds no store, but a write to it was cut off"):
        _store(tmp_path / "s")  # no store at s: a new one is refused, the old copy kept
    assert _old_copies(tmp_path) == [old]
    shutil.copytree(old, tmp_path / "s")  # restored as a copy
    _store(tmp_path / "s", n=8, overwrite=True)  # s is there: the old copy is superseded
    assert _old_copies(tmp_path) == [] and len(st.load(tmp_path / "s")) == 8


def test_an_incomplete_old_copy_is_not_offered(tmp_path: Path) -> None:
    """A copy whose removal was cut short lacks data files: it is no store to restore."""
    store = _store(tmp_path / "s")
    old = tmp_path / ".s.old-0123abcd"
    shutil.copytree(store.path, old)
    shutil.rmtree(store.path)
    (old / "data-00000-of-00001.arrow").unlink()
    with pytest.raises(UserError, match=r": path does not exist$"):
        st.load(tmp_path / "s")


def test_an_old_copy_removed_while_it_is_looked_at_is_no_error(tmp_path: Path, monkeypatch) -> None:
    """A writer finishing its swap removes its old copy: a reader that had just found it
    complete got a FileNotFoundError traceback from the copy's stat."""
    from latentplay.store import io

    _store(tmp_path / "s")
    old = tmp_path / ".s.old-0123abcd"
    (tmp_path / "s").rename(old)
    complete = io._complete

    def then_gone(folder: Path) -> bool:
        found = complete(folder)
        shutil.rmtree(folder)   # the finishing writer's rmtree(old)
        return found

    monkeypatch.setattr(io, "_complete", then_gone)
    assert io.previous_copy(tmp_path / "s") is None
