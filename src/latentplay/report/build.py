"""Building a report: detect the directory's kind, build its page, render, write atomically."""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from pathlib import Path

from latentplay.cliargs import check_file_kind
from latentplay.errors import UserError
from latentplay.outputs import make_parents, write_atomic
from latentplay.report import render
from latentplay.report.images import reporting_on
from latentplay.report.kinds import Kind, detect
from latentplay.report.page import Page
from latentplay.store.io import Store, located

REPORT_SUFFIXES = (".html", ".htm")
"""What a report's ``out`` may be named: the page is HTML, whatever its name says."""

BUILDERS: dict[Kind, str] = {
    "train": "training.page",
    "match": "matching.page",
    "audit": "auditing.page",
    "probe": "probing.page",
    "store": "stores.page",
    "model": "pretrained.page",
    "seeds": "concepts.seeds_page",
    "concepts": "concepts.page",
    "leakage": "concepts.leakage_page",
}
"""The function of ``latentplay.report`` that builds each kind's page, as ``module.function``:
a module is imported only for its kind (an audit's page loads the audit package and torch)."""


def builder(kind: Kind) -> Callable[[Path], Page]:
    """The function that builds the page of a directory of ``kind`` (:data:`BUILDERS`)."""
    module, name = BUILDERS[kind].rsplit(".", 1)
    return getattr(importlib.import_module(f"latentplay.report.{module}"), name)


def default_out(path: Path, kind: Kind) -> Path:
    """Where a report goes by default: ``PATH/report.html`` for runs; for a store, beside it
    (``PATH.report.html``), since a store directory is replaced whole on every save."""
    return path.with_name(f"{path.name}.report.html") if kind == "store" else path / "report.html"


def build_report(path: str | os.PathLike[str] | Store, out: str | os.PathLike[str] | None = None) -> Path:
    """Write the self-contained HTML report of directory ``path`` (or of a saved
    :class:`~latentplay.store.Store`) and return its path.

    ``path`` is a training run (``latentplay train``), a match run (``latentplay match run``),
    an audit run (``latentplay audit compare`` / ``sample-groups`` / ``fidelity``), a probe run
    (``latentplay latent probe``), an imported generator (``latentplay import``), a concept
    model (``latentplay metrics concepts``; of several seeds: ``--seeds``), a leakage test
    (``latentplay leakage run``) or a store. The report is
    one HTML file with inline CSS and every image embedded as a ``data:`` URI (no scripts, no
    network); it is written to ``out`` (default: :func:`default_out`) through a temporary file,
    so a failure leaves an earlier report untouched.

    Raises:
        UserError: ``path`` is none of these kinds, a file the report needs is unreadable,
            ``out`` is a directory or not named ``.html``/``.htm`` (``--out report.pdf`` wrote an
            HTML page under a PDF's name; ``--out RUN/config.yaml`` replaced the run's config),
            inside the store reported on (whose next save removes it), or a file stands where
            ``out``'s missing parent directories (made as needed) would go.
    """
    path = located(path, "report on it").absolute()
    kind = detect(path)
    target = Path(out).absolute() if out is not None else default_out(path, kind)
    check_file_kind(target, REPORT_SUFFIXES)
    _refuse_inside_store(target, path, kind)
    make_parents(target)
    with reporting_on(path):
        page = builder(kind)(path)
    return write_atomic(target, render.render(page))


def _refuse_inside_store(target: Path, path: Path, kind: Kind) -> None:
    """A :class:`UserError` where ``target`` is a file inside store ``path``, which every save of
    the store replaces as a whole."""
    if kind == "store" and target.resolve().is_relative_to(path.resolve()):
        raise UserError(f"--out {target} is inside the store {path}, which is replaced as a whole "
                        "on every save; write the report beside it (the default, "
                        f"{default_out(path, kind)}) or elsewhere")
