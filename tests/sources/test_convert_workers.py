"""The decoding workers of data convert end with their parent, even when it is killed."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from convert_helpers import face, write_image

# A conversion whose one chunk of images keeps a worker busy for a minute (the other waits on
# the task queue); with "watch" the workers cannot ask the kernel and look for their parent.
_CONVERTING = """
import sys, time
from latentplay.sources import convert, utkface

def slow(tasks, *args):
    print("busy", flush=True)
    time.sleep(60)
    return []

convert.prepare_many = slow
if sys.argv[3] == "watch":
    convert._kill_with_parent = lambda: False
utkface.convert(sys.argv[1], sys.argv[2], workers=2)
"""


def _parent_of(pid: int) -> int | None:
    """The parent of live process ``pid`` (None when it is gone or a zombie)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    state, parent = stat.rsplit(")", 1)[1].split()[:2]
    return None if state in ("Z", "X") else int(parent)


def _children(pid: int) -> list[int]:
    return [int(p.name) for p in Path("/proc").iterdir()
            if p.name.isdigit() and _parent_of(int(p.name)) == pid]


@pytest.mark.parametrize("how", ["kernel", "watch"])
def test_killing_a_conversion_ends_its_workers(tmp_path: Path, how: str) -> None:
    for i in range(3):
        write_image(tmp_path / "src" / f"{20 + i}_0_0_2017010915055733{i}.jpg", face(i))
    with subprocess.Popen([sys.executable, "-c", _CONVERTING, str(tmp_path / "src"),
                           str(tmp_path / "out"), how], stdout=subprocess.PIPE, text=True) as proc:
        try:
            ready, _, _ = select.select([proc.stdout], [], [], 120)
            assert ready and proc.stdout.readline().strip() == "busy", "no worker started"
            workers = _children(proc.pid)
            assert len(workers) >= 2
        finally:
            os.kill(proc.pid, signal.SIGKILL)
    deadline = time.time() + 5
    while time.time() < deadline and any(_parent_of(w) is not None for w in workers):
        time.sleep(0.05)
    left = [w for w in workers if _parent_of(w) is not None]
    for w in left:  # leave nothing behind, whatever the outcome
        os.kill(w, signal.SIGKILL)
    assert not left, f"workers {left} outlived their killed parent"


_CONVERT_SAYING_START = """
import multiprocessing, os, sys
from latentplay.sources import convert, utkface

{setup}
started = []

class Pool(convert.ProcessPoolExecutor):
    def __init__(self, *args, mp_context, **kwargs):
        started.append(mp_context.get_start_method())
        super().__init__(*args, mp_context=mp_context, **kwargs)

convert.ProcessPoolExecutor = Pool
print(len(utkface.convert(sys.argv[1], sys.argv[2], {options})), *started)
"""


def _start_method(tmp_path: Path, setup: str, options: str = "") -> list[str]:
    """A three-image conversion in a new process after ``setup`` (Python lines that make it
    look like another system), with ``options`` given to it: its printed row count and the
    start method of its worker pool."""
    for i in range(3):
        write_image(tmp_path / "src" / f"{20 + i}_0_0_2017010915055733{i}.jpg", face(i))
    script = _CONVERT_SAYING_START.format(setup=setup, options=options)
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path / "src"), str(tmp_path / "out")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.split()


def test_macos_workers_are_spawned_though_fork_is_offered(tmp_path: Path) -> None:
    """macOS offers fork, but a process forked after threads have started can crash there
    (its own default is spawn): the workers were forked wherever fork was offered."""
    setup = ('sys.platform = "darwin"   # fork offered, spawn the default\n'
             'multiprocessing.set_start_method("spawn", force=True)')
    assert _start_method(tmp_path, setup, "workers=2") == ["3", "spawn"]


def test_a_conversion_runs_where_workers_are_spawned_and_cores_counted_otherwise(tmp_path: Path) -> None:
    """Without ``os.sched_getaffinity`` (macOS, Windows) ``data convert`` without --workers
    ended in an AttributeError; its workers are started by spawn where fork is missing
    (Windows)."""
    setup = ('multiprocessing.get_all_start_methods = lambda: ["spawn"]\n'
             'multiprocessing.set_start_method("spawn", force=True)\n'
             'del os.sched_getaffinity')
    assert _start_method(tmp_path, setup) == ["3", "spawn"]
