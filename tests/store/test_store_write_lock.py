"""Two writers finishing together take turns: the check that the store was not written
meanwhile and the swap run under a lock beside the store, so the later one sees the earlier
one's write instead of dropping its column."""

from __future__ import annotations

import errno
import fcntl  # POSIX flock; it also imitates Windows' locks below
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from tiny_store import tiny_store

from latentplay import store as st
from latentplay.errors import UserError
from latentplay.store import io
from latentplay.store.io import StoreChanged


def test_a_writer_checking_while_another_swaps_waits_and_refuses(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first writer is held between its check and its swap; the second, started then,
    passed its own check (the store was not written yet) and both swapped: the column of the
    one swapping first was lost and both reported success."""
    tiny_store(tmp_path / "s")
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


def test_the_lock_file_lies_beside_the_store_while_it_is_written(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = tiny_store(tmp_path / "s")
    swap, seen = io.swap_into_place, []

    def noted_swap(tmp: Path, path: Path) -> None:
        seen.append(sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".s.tmp-")))
        with pytest.raises(OSError):  # held: another writer would wait
            with open(tmp_path / ".s.lock") as fh:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        assert len(st.load(tmp_path / "s")) == 6  # a reader is not blocked
        swap(tmp, path)

    monkeypatch.setattr(io, "swap_into_place", noted_swap)
    store = st.save(st.add_column(store, "a", np.ones((6, 2))), store.path)
    assert seen == [[".s.lock", "s"]]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s"]  # removed by its holder
    st.save(store, tmp_path / "s", overwrite=True)  # not inside: no folder the store did not write


def test_a_writer_waiting_on_a_removed_lock_file_locks_the_new_one(tmp_path: Path) -> None:
    """The holder removes the lock file before letting go: a writer that waited on it must not
    count that lock, or a third writer locking a new file would write at the same time."""
    (tmp_path / "s").mkdir()
    inside, got = threading.Event(), threading.Event()
    checked: list[bool] = []

    def second() -> None:
        with io.write_lock(tmp_path / "s"):
            got.set()
            held = (tmp_path / ".s.lock").stat()
            with open(tmp_path / ".s.lock") as fh:  # the file named so is the one held
                try:
                    fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    checked.append(False)
                except OSError:
                    checked.append(held.st_ino == (tmp_path / ".s.lock").stat().st_ino)

    with io.write_lock(tmp_path / "s"):
        waiter = threading.Thread(target=second)
        waiter.start()
        inside.wait(0.3)  # the waiter is blocked on the file about to be removed
        assert not got.is_set()
    waiter.join(10)
    assert checked == [True] and not (tmp_path / ".s.lock").exists()


def test_no_lock_file_is_left_where_flock_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """On a file system without flock (some NFS mounts) the write goes unlocked, and the lock
    file it created is removed: it stayed beside every store written."""
    tiny_store(tmp_path / "s")
    store = st.load(tmp_path / "s")

    def no_flock(fd: int, op: int) -> None:
        raise OSError(37, "No locks available")

    monkeypatch.setattr(fcntl, "flock", no_flock)
    st.save(st.add_column(store, "v", np.ones((len(store), 2), np.float32)), tmp_path / "s")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s"]
    assert "v" in st.load(tmp_path / "s").columns


class _Msvcrt:
    """Windows' ``msvcrt.locking`` of a file's first byte, imitated with ``flock``."""

    LK_NBLCK, LK_UNLCK = 2, 0

    @staticmethod
    def locking(fd: int, mode: int, nbytes: int) -> None:
        if mode == _Msvcrt.LK_UNLCK:
            fcntl.flock(fd, fcntl.LOCK_UN)
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise OSError(errno.EACCES, "Permission denied") from None


def test_writes_are_locked_where_there_is_no_flock(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Windows has no ``fcntl``: the package imports, and its writers lock with
    ``msvcrt.locking`` instead (they went unlocked: two embeds of one column shared their
    scratch files)."""
    imported = subprocess.run([sys.executable, "-c", "import sys; sys.modules['fcntl'] = None; "
                               "from latentplay.store import io; print(io.fcntl)"],
                              capture_output=True, text=True, timeout=120)
    assert imported.stdout.split() == ["None"], imported.stderr[-2000:]
    monkeypatch.setattr(io, "fcntl", None)
    monkeypatch.setattr(io, "msvcrt", _Msvcrt)
    with io.sole_writer(tmp_path / "scratch", "busy"):
        with pytest.raises(UserError, match="busy"), io.sole_writer(tmp_path / "scratch", "busy"):
            pass
    order: list[str] = []

    def second() -> None:
        with io.write_lock(tmp_path / "s"):
            order.append("second")

    with io.write_lock(tmp_path / "s"):
        waiter = threading.Thread(target=second)
        waiter.start()
        waiter.join(0.3)  # held: the other writer tries again until it is let go
        order.append("first")
    waiter.join(10)
    assert order == ["first", "second"]
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # each lock file removed by its holder
