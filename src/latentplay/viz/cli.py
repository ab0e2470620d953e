"""``latentplay viz ...``: figures of a store (projections of embeddings per attribute)."""

from __future__ import annotations

from pathlib import Path

import typer

from latentplay.cliargs import split_names
from latentplay.errors import UserError
from latentplay.outputs import warn

app = typer.Typer(no_args_is_help=True, add_completion=False)


@app.command()
def projection(
    store: Path = typer.Argument(..., help="Store directory."),
    embedding: str = typer.Option(..., "--column", "--embedding",
                                  help="Vector column(s) to project, comma-separated."),
    by: str = typer.Option(None, "--by", help="Attributes to colour by, comma-separated "
                           "(default: all)."),
    method: str = typer.Option("tsne", "--method", help="tsne, umap, pca; comma-separated for "
                               "several."),
    sample: int = typer.Option(None, "--sample", help="Project a random sample of N rows."),
    out: Path = typer.Option(..., "--out", help="Directory for METHOD_EMBEDDING_ATTRIBUTE.png "
                             "per attribute and METHOD_EMBEDDING_A+B.html switching between them, "
                             "named for its attributes: a later run with other --by adds files of "
                             "its own."),
    param: list[str] = typer.Option(None, "--param", "-p", help="Method parameter, e.g. "
                                    "tsne.perplexity=50 (repeatable). t-SNE: perplexity (30), "
                                    "exaggeration (1), n_iter (500), pca_dims (50); UMAP: "
                                    "n_neighbors (15), min_dist (0.1), metric (euclidean); PCA: "
                                    "whiten (false). A misspelt name lists them all."),
    seed: int = typer.Option(0, "--seed", help="Seed of the sample and the method."),
    ordered: str = typer.Option(None, "--ordered", help="Categorical attributes with ordered "
                                "classes (sequential colours), e.g. skin_tone,age_group."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Neither reuse nor keep "
                                  "coordinates in the store."),
    html_max: int = typer.Option(20000, "--html-max", help="Most points in the HTML."),
) -> None:
    """t-SNE / UMAP / PCA of embedding columns: one PNG per attribute and one interactive HTML
    of them all, per method and embedding."""
    from latentplay import store as st
    from latentplay.embed.plots import plot_projections, plottable_attributes

    loaded = st.load(store).require_rows("project")
    if not split_names(embedding):
        raise UserError("--column names no column; give the vector column(s) to project, e.g. "
                        "--column pixels")
    attributes, skipped = split_names(by), []
    if not attributes:
        attributes, skipped = plottable_attributes(loaded, sample, seed)
    written = plot_projections(
        loaded, split_names(embedding), by=attributes or None, methods=split_names(method) or ["tsne"],
        out=out, params=param or [], sample=sample, seed=seed, cache=not no_cache,
        ordered=split_names(ordered), html_max=html_max, say=lambda line: typer.echo(line, err=True),
    )
    if skipped:  # told once the options are known to be good: a bad --param ended in two lines
        warn(f"note: not colouring by {', '.join(skipped)}: one value at most")
    for path in written:
        typer.echo(str(path))
