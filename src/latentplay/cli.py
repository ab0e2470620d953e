"""The ``latentplay`` command: one Typer app; each command group lives with its package.

Mistakes a user can cause raise :class:`~latentplay.errors.UserError`; :func:`main` prints them
as one line on stderr and exits with status 2.
"""

from __future__ import annotations

import importlib
import sys

import typer

from latentplay.errors import UserError

# (group name, module holding a Typer ``app``, one-line help)
GROUPS: list[tuple[str, str, str]] = [
    ("data", "latentplay.store.cli", "Make, inspect, export and draw stores (datasets on disk)."),
    ("metrics", "latentplay.metrics.cli", "Disentanglement metrics (disentanglement_lib defaults)."),
    ("leakage", "latentplay.metrics.leakage_cli", "Concept-leakage tests of VAE, CBM and GlanceNet."),
    ("embed", "latentplay.embed.cli",
     "Add an embedding column: pixels-pca, dlib, vae:RUN, invert:RUN, clip:PATH."),
    ("viz", "latentplay.viz.cli", "Figures: t-SNE / UMAP / PCA projections per attribute."),
    ("match", "latentplay.match.cli", "Match units across an attribute; balance table, love plot."),
    ("audit", "latentplay.audit.cli", "Annotate generated faces, compare with training, sample groups."),
    ("latent", "latentplay.latent.cli",
     "Sample, sweep, traverse, force, interpolate, blend, edit and invert latent codes."),
]

app = typer.Typer(
    name="latentplay",
    help="Study what generative latent spaces learn about labelled image collections.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

for _name, _module, _help in GROUPS:
    app.add_typer(importlib.import_module(_module).app, name=_name, help=_help)

import latentplay.train.cli  # noqa: E402,F401  (registers the `latentplay train` command)
from latentplay.app.cli import app_command  # noqa: E402
from latentplay.report.cli import report_command  # noqa: E402

app.command("app")(app_command)
app.command("report")(report_command)


@app.command()
def quickstart(
    out: str = typer.Option("runs/quickstart", help="Directory for everything it makes."),
    n: int = typer.Option(2000, help="Number of synthetic faces."),
) -> None:
    """Build the default dataset (synthfaces), summarise it and draw it."""
    from latentplay.quickstart import run

    run(out=out, n=n)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: run the app, turning user errors into exit status 2."""
    try:
        app(args=argv, standalone_mode=True)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
