"""t-SNE's and UMAP's ``n_jobs=-1`` follow ``OMP_NUM_THREADS`` where it is set, as torch and the
BLAS libraries do: a test worker (or a job) given one thread per core no longer runs a pool of
every core inside each, whose threads wait on each other."""

from __future__ import annotations

import os

import pytest

from latentplay.embed.coordinates import _threads


def test_all_cores_unless_omp_num_threads_says_otherwise(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert _threads(-1) == 1
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert _threads(-1) == 3
    assert (_threads(2), _threads(0)) == (2, 1)          # what is asked for, at least one
    monkeypatch.delenv("OMP_NUM_THREADS")
    assert _threads(-1) == len(os.sched_getaffinity(0))
    monkeypatch.setenv("OMP_NUM_THREADS", "many")         # not a count: ignored
    assert _threads(-1) == len(os.sched_getaffinity(0))
