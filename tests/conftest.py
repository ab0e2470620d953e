"""Shared test helpers. Every fixture is generated here; nothing is downloaded.

The tiny trained runs (session scope, 32 px, one thread, a few seconds each) serve the tests of
every stage that starts from a trained model (latent, app).
"""

from __future__ import annotations

import os
import resource
import signal
import sys
import threading

if int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")) >= (os.cpu_count() or 1):
    # a worker per core: one thread each (torch's and BLAS's), not a pool per core in every worker
    for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_name, "1")
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from latentplay import sources, train
from latentplay.cli import main


@dataclass
class CliResult:
    code: int
    out: str
    err: str


@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    """Close the matplotlib figures a test kept (``projection_png`` returns its figure to the
    caller), so a worker does not hold every test's figures."""
    yield
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Callable[..., CliResult]:
    """Run ``latentplay ARGS...`` in-process; returns exit code, stdout and stderr. Help is laid
    out for 80 columns (rich reads ``COLUMNS``) whatever the terminal running the tests: at 40,
    option names were cut to ``--over…`` and the help tests failed."""
    monkeypatch.setenv("COLUMNS", "80")

    def run(*args: str) -> CliResult:
        capsys.readouterr()
        try:
            main([str(a) for a in args])
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        captured = capsys.readouterr()
        return CliResult(code=code, out=captured.out, err=captured.err)

    return run


@pytest.fixture
def file_size_limit() -> Iterator[Callable[[int], None]]:
    """``limit(n)``: until the test's call ends (:func:`pytest_runtest_call`), a file this
    process writes may grow to ``n`` bytes; a longer write fails with EFBIG ("File too large",
    SIGXFSZ ignored), as a write to a full disk fails with ENOSPC."""
    previous = signal.getsignal(signal.SIGXFSZ)

    def limit(size: int) -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))

    yield limit
    signal.signal(signal.SIGXFSZ, previous)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """A test's :func:`file_size_limit` ends with its call, before pytest reports the result: a
    report written to a file (``pytest > log``) already longer than the limit failed with
    "File too large" and stopped the whole session."""
    if "file_size_limit" not in item.fixturenames:
        return (yield)
    limits = resource.getrlimit(resource.RLIMIT_FSIZE)
    try:
        return (yield)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, limits)


class Overlap:
    """Two functions run in threads named ``first`` and ``second`` so that the second reaches
    the code under test while the first is inside it: that code calls :meth:`inside` (the first
    waits there up to 0.5 s for the second to arrive, as long as a lock may keep it out; the
    second then waits there until the first is done). Code that shares a process-wide setting
    without taking turns is caught with both inside at once."""

    def __init__(self) -> None:
        self.first_in, self.second_in, self.first_done = (threading.Event(), threading.Event(),
                                                          threading.Event())

    def inside(self) -> None:
        if threading.current_thread().name == "first":
            self.first_in.set()
            self.second_in.wait(0.5)
        else:
            self.second_in.set()
            self.first_done.wait(5)

    def run(self, first: Callable[[], object], second: Callable[[], object]) -> None:
        def run_first() -> None:
            try:
                first()
            finally:
                self.first_done.set()

        threads = [threading.Thread(target=run_first, name="first"),
                   threading.Thread(target=second, name="second")]
        threads[0].start()
        self.first_in.wait(5)
        threads[1].start()
        for thread in threads:
            thread.join()


@pytest.fixture
def overlap() -> Overlap:
    """An :class:`Overlap` of two threads."""
    return Overlap()


_TINY = ["data.size=32", "model.width=16", "model.hidden=64", "trainer.threads=1",
         "log.recon_images=8", "log.samples=16", "log.figures_every=100"]  # figures at the end only


@pytest.fixture(scope="session")
def faces_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """400 synthfaces (64 px RGB; attributes gender, smile, eyeglasses, ...)."""
    path = tmp_path_factory.mktemp("data") / "faces"
    sources.make("synthfaces", path, n=400, seed=0)
    return path


@pytest.fixture(scope="session")
def vae_run(tmp_path_factory: pytest.TempPathFactory, faces_store: Path) -> Path:
    """An unconditional VAE (8 latents, beta 0.1) trained for 8 epochs on ``faces_store``
    (about 14 s): long enough that its decoder uses the code (codes 2 SDs apart decode to
    images about 14 grey levels apart; after 3 epochs, under one), so edits and traversals
    change faces."""
    out = tmp_path_factory.mktemp("runs") / "vae"
    return train.train("vae", data=faces_store, out=out, epochs=8, batch_size=32, seed=0,
                       progress=False, overrides=[*_TINY, "model.latent_dim=8",
                                                  "loss.betavae.beta=0.1", "optim.lr=2e-3"])


@pytest.fixture(scope="session")
def cvae_run(tmp_path_factory: pytest.TempPathFactory, faces_store: Path) -> Path:
    """A CVAE conditioned on ``smile`` (continuous) and ``gender`` (categorical), trained as
    ``vae_run`` is (8 epochs, beta 0.1) so that its decoder uses the code and the condition."""
    out = tmp_path_factory.mktemp("runs") / "cvae"
    return train.train("cvae", data=faces_store, out=out, epochs=8, batch_size=32, seed=0,
                       progress=False, overrides=[*_TINY, "model.latent_dim=8",
                                                  "model.condition=[smile,gender]",
                                                  "loss.betavae.beta=0.1", "optim.lr=2e-3"])


@pytest.fixture(scope="session")
def ae_run(tmp_path_factory: pytest.TempPathFactory, faces_store: Path) -> Path:
    """A plain autoencoder (8 latents, no prior), 8 epochs on 128 rows of ``faces_store`` (about
    3 s): long enough that its decoder uses the code (codes 2 SDs either side of the mean decode
    to images about 25 grey levels apart; after one epoch on 64 rows, every code decoded to the
    same image)."""
    out = tmp_path_factory.mktemp("runs") / "ae"
    return train.train("ae", data=faces_store, out=out, epochs=8, batch_size=16, seed=0,
                       progress=False, overrides=["data.size=32", "data.limit=128", "model.width=16",
                                                  "model.latent_dim=8", "trainer.threads=1",
                                                  "optim.lr=2e-3", "log.recon_images=8",
                                                  "log.samples=16"])


@pytest.fixture(scope="session")
def dcgan_run(tmp_path_factory: pytest.TempPathFactory, faces_store: Path) -> Path:
    """An unconditional DCGAN (latent 16) trained for 1 epoch on ``faces_store``."""
    out = tmp_path_factory.mktemp("runs") / "dcgan"
    return train.train("dcgan", data=faces_store, out=out, epochs=1, seed=0, progress=False,
                       overrides=["data.size=32", "model.latent_dim=16", "model.ngf=16",
                                  "model.ndf=16", "trainer.threads=1", "log.samples=16"])
