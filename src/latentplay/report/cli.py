"""``latentplay report PATH [--out FILE] [--open]``: the command function (registered by the
root app in :mod:`latentplay.cli`)."""

from __future__ import annotations

import webbrowser
from pathlib import Path

import typer


def report_command(
    path: Path = typer.Argument(..., help="A training run, match run, audit run, probe run, imported "
                              "generator (model.json), concept model (metrics concepts), leakage "
                              "test (leakage run) or store."),
    out: Path | None = typer.Option(None, "--out", "-o", help="HTML file to write, .html or .htm (default: "
                                    "PATH/report.html; for a store PATH.report.html beside it)."),
    open_browser: bool = typer.Option(False, "--open", help="Open the report in a web browser."),
) -> None:
    """Write one self-contained HTML report (figures embedded) of a run directory or store."""
    from latentplay.report.build import build_report

    written = build_report(path, out)
    size = written.stat().st_size / 1e6
    typer.echo(f"wrote {written} ({size:.1f} MB)")
    if open_browser:
        webbrowser.open(written.as_uri())
