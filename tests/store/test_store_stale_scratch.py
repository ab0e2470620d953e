"""Scratch folders a killed writer leaves beside a store are removed by the next write there."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np

from latentplay import store as st
from latentplay.outputs import machine_tag
from latentplay.store import Attribute, Provenance, Schema, io

_KILLED_BUILD = """
import sys, time, numpy as np
from latentplay import store as st
from latentplay.store import Attribute, Provenance, Schema

def batches():
    yield {"image": [st.encode_png(np.zeros((8, 8, 3), np.uint8))], "gender": [0]}
    print("writing", flush=True)
    time.sleep(600)

schema = Schema(attributes=[Attribute("gender", "categorical", names=["f", "m"])],
                provenance=Provenance(source="test", converter="test"))
st.build(batches(), schema, sys.argv[1], overwrite=True)
"""


def _schema() -> Schema:
    return Schema(attributes=[Attribute("gender", "categorical", names=["f", "m"])],
                  provenance=Provenance(source="test", converter="test"))


def _store(path: Path, n: int, overwrite: bool = False) -> st.Store:
    images = np.random.default_rng(n).integers(0, 256, (n, 8, 8, 3), dtype=np.uint8)
    batch = {"image": [st.encode_png(im) for im in images], "gender": np.arange(n) % 2}
    return st.build([batch], _schema(), path, overwrite=overwrite)


def _scratch(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".s."))


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_killed_build_leaves_scratch_the_next_build_removes(tmp_path: Path) -> None:
    """After a SIGKILL mid-build the hidden ``.s.build-*`` folder stayed beside the store for
    good; the next build into the same path now removes it and the store is still intact."""
    before = st.load_images(_store(tmp_path / "s", 4))
    with subprocess.Popen([sys.executable, "-c", _KILLED_BUILD, str(tmp_path / "s")],
                          stdout=subprocess.PIPE, text=True) as proc:
        try:
            assert proc.stdout is not None and proc.stdout.readline() == "writing\n"
        finally:
            os.kill(proc.pid, signal.SIGKILL)
    tag = machine_tag()
    assert [n.startswith(f".s.build-{tag}-{proc.pid}-") for n in _scratch(tmp_path)] == [True]
    assert np.array_equal(st.load_images(st.load(tmp_path / "s")), before)
    again = _store(tmp_path / "s", 6, overwrite=True)
    assert _scratch(tmp_path) == [] and len(again) == 6


def test_only_a_dead_writers_scratch_is_removed(tmp_path: Path) -> None:
    """Scratch folders named as a killed writer on this machine leaves them (its process id in
    the name) go at the next save to that path; a running writer's, another path's and the store
    stay."""
    store = _store(tmp_path / "s", 4)
    before = st.load_images(store)
    dead, tag = _dead_pid(), machine_tag()
    stale = [tmp_path / f".s.build-{tag}-{dead}-k2j4x9a1", tmp_path / f".s.tmp-{tag}-{dead}-0f3a9b2c"]
    for folder in stale:
        folder.mkdir()
        (folder / "rows.arrow").write_bytes(b"half written")
    running = tmp_path / f".s.tmp-{tag}-{os.getppid()}-1234abcd"
    other = tmp_path / f".s2.tmp-{tag}-{dead}-1234abcd"
    for folder in (running, other):
        folder.mkdir()
    saved = st.save(st.add_column(store, "extra", np.ones((4, 2), np.float32)), store.path)
    assert not any(f.exists() for f in stale)
    assert running.is_dir() and other.is_dir()
    assert "extra" in saved.columns
    assert np.array_equal(st.load_images(st.load(tmp_path / "s")), before)


def test_scratch_of_another_machine_or_path_is_kept(tmp_path: Path) -> None:
    """A process id means something only on the machine (PID namespace) that wrote it: a
    scratch folder another host writes into a shared folder was removed while that writer still
    ran, as no process of its id ran here; so were a live writer's scratch of another path whose
    name extends this one's (``s.build-5-x``) and, with an id too large for a process id, the
    write failed with OverflowError. All of these now stay, and the write succeeds."""
    dead, tag = _dead_pid(), machine_tag()
    elsewhere = "0" * 8 if tag != "0" * 8 else "f" * 8
    kept = [tmp_path / f".s.tmp-{elsewhere}-{dead}-1234abcd",
            tmp_path / f".s.build-{dead}-x.tmp-{tag}-{os.getppid()}-1234abcd",
            tmp_path / f".s.tmp-{tag}-99999999999-1234abcd",
            tmp_path / f".s.tmp-{tag}-9999999999-1234abcd",
            tmp_path / f".s.tmp-{dead}-1234abcd"]
    for folder in kept:
        folder.mkdir()
    assert io.remove_stale_scratch(tmp_path / "s") == []
    assert len(_store(tmp_path / "s", 3)) == 3
    assert all(folder.is_dir() for folder in kept)


def test_a_stale_scratch_link_is_not_followed(tmp_path: Path) -> None:
    """A link named like a dead writer's scratch folder is left, and so is what it points to."""
    target = tmp_path / "keep"
    target.mkdir()
    (target / "data").write_bytes(b"x")
    link = tmp_path / f".s.tmp-{machine_tag()}-{_dead_pid()}-1234abcd"
    link.symlink_to(target, target_is_directory=True)
    assert io.remove_stale_scratch(tmp_path / "s") == []
    assert link.is_symlink() and (target / "data").is_file()
