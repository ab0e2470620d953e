"""The one-line result of ``data convert``: what it reads, and from where."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from test_lfw import make_lfw

from latentplay import store as st
from latentplay.sources import lfw
from latentplay.sources.convert import summary


def test_a_store_not_on_disk_reads_no_pairs_file_of_the_current_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A store without a path read ./pairs.csv of the current folder and pointed at
    ./rejected.csv; it now gives its counts alone."""
    make_lfw(tmp_path / "LFW")
    saved = lfw.convert(tmp_path / "LFW", tmp_path / "out", workers=1)
    assert "; 4 pairs (1 with an unconverted image)" in summary(saved)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / st.PAIRS_FILE).write_text("fold,identity_a,file_a,identity_b,file_b,same,"
                                           "row_a,row_b\n0,a,a.jpg,b,b.jpg,0,-1,-1\n")
    monkeypatch.chdir(elsewhere)
    counts = saved.schema.provenance.counts
    assert summary(dataclasses.replace(saved, path=None)) == \
        f"converted {counts['converted']}, rejected {counts['rejected']}"


TERMINATED = """
import os, signal, sys
from pathlib import Path
import numpy as np
from latentplay.sources.convert import ConvertOptions, Plan, Record, run
from latentplay.store.schema import Attribute

def inputs(pids):
    for k in range(400):
        if k == 300:
            import multiprocessing
            pids.write_text(" ".join(str(p.pid) for p in multiprocessing.active_children()))
            os.kill(os.getpid(), signal.SIGTERM)
        yield Record(str(k), {"n": float(k)}, pixels=np.full((8, 8, 3), k % 256, np.uint8))

src, out, pids = map(Path, sys.argv[1:])
plan = lambda root, options: Plan([Attribute("n", "continuous")], inputs(pids))
run("test", plan, src, out, ConvertOptions(workers=2, overwrite=True))
"""


def test_kill_leaves_the_previous_store_no_scratch_and_no_workers(tmp_path: Path) -> None:
    """``kill PID`` during a conversion left the worker processes running and the scratch
    folder beside --out; now the workers are shut down, the scratch removed (exit status 143)
    and the store already at --out kept as it was."""
    import os
    import signal
    import subprocess
    import sys
    import time

    make_lfw(tmp_path / "LFW")
    out = tmp_path / "store"
    before = lfw.convert(tmp_path / "LFW", out, workers=1)
    pids, log = tmp_path / "pids", tmp_path / "log"
    with open(log, "w") as fh:  # not a pipe: a worker left running would hold it open
        code = subprocess.run([sys.executable, "-c", TERMINATED, str(tmp_path / "LFW"),
                               str(out), str(pids)], stdout=fh, stderr=fh, timeout=120).returncode
    workers = [int(p) for p in pids.read_text().split()]
    time.sleep(0.5)
    alive = []
    for pid in workers:
        try:
            os.kill(pid, signal.SIGKILL)
            alive.append(pid)
        except ProcessLookupError:
            pass
    assert code == 143 and len(workers) == 2 and not alive, (code, workers, alive, log.read_text())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["LFW", "log", "pids", "store"]
    assert len(st.load(out)) == len(before)


def test_an_image_too_large_is_named_so_and_a_large_one_warns_of_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A valid 200-megapixel photo was rejected as "corrupt or truncated", and Pillow's warning
    for a 144-megapixel one was printed amid the progress (limits made small here)."""
    import warnings

    import numpy as np
    from PIL import Image

    from latentplay.sources.convert import prepare_image

    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    for side, name in ((12, "large.png"), (20, "huge.png")):   # 144 pixels warn, 400 refuse
        Image.fromarray(np.zeros((side, side, 3), np.uint8)).save(tmp_path / name)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cell, reason = prepare_image("large.png", str(tmp_path / "large.png"), None)
    assert reason is None and cell["bytes"]
    cell, reason = prepare_image("huge.png", str(tmp_path / "huge.png"), None)
    assert cell is None and reason == "image too large (over 200 pixels)"
