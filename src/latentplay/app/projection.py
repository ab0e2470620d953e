"""The Projection tab: a 2-d map of a vector column coloured by an attribute (plotly).

PCA uses every row; t-SNE (openTSNE) and UMAP a seeded random sample (:data:`SAMPLE`), so a
map takes seconds on a CPU. Coordinates are kept in the playground per (column, method,
sample, seed), so colouring by another attribute costs only the drawing; the store on disk is
never written. Hovering a point shows its row and every attribute's value.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from latentplay.app.state import Playground
from latentplay.errors import UserError

METHODS = ("pca", "tsne", "umap")
SAMPLE = 2000
"""Rows projected by t-SNE and UMAP (a seeded sample)."""


def vector_columns(pg: Playground) -> list[str]:
    """Vector columns of the store (embeddings, latents; not cached 2-d projections,
    ``<method>__<column>...``, which their descriptions mark)."""
    return [v.name for v in pg.need_store().schema.vectors if not v.is_projection]


def coordinates(pg: Playground, column: str, method: str, sample: int | None = SAMPLE,
                seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``(coords (n, 2) float32, rows (n,))`` of ``column`` projected by ``method``; PCA
    ignores ``sample`` and maps every row with finite values."""
    from latentplay.embed.coordinates import projections

    if method not in METHODS:
        raise UserError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    if int(seed) < 0:
        raise UserError(f"seed must be 0 or more, got {int(seed)}")
    rows = None if method == "pca" else (int(sample) if sample else None)
    key = (column, method, rows, int(seed))
    if key not in pg.projections:
        if rows is not None:
            _check_sample(pg, column, method, rows, int(seed))
        params = [] if method == "pca" else [f"n_jobs={torch.get_num_threads()}"]
        _, (found,) = projections(pg.need_store(), [column], [method], params=params,
                                  sample=rows, seed=int(seed), cache=False)
        pg.projections[key] = (found.coords, found.rows)
    return pg.projections[key]


def _check_sample(pg: Playground, column: str, method: str, sample: int, seed: int) -> None:
    """A :class:`UserError` naming the page's sample box when the seeded ``sample`` of
    ``column`` holds too few rows with a vector for ``method`` (t-SNE, UMAP) at its default
    parameters (the command's own message names its ``--param`` options, which the page has
    not)."""
    from latentplay.embed.coordinates import PARAMS, TITLES, sample_rows
    from latentplay.store.columns import vectors

    store = pg.need_store()
    if sample < 1:
        raise UserError(f"sample (t-SNE, UMAP) must be at least 1, got {sample}")
    if column not in store.columns:
        return  # the projection says which columns there are
    asked = sample_rows(len(store), sample if sample < len(store) else None, seed)  # (n,)
    found = int(np.isfinite(vectors(store, column, asked)).all(axis=1).sum())
    need = PARAMS[method]().min_rows(found)
    if not 0 < found < need:  # none: the projection says the column has no vector
        return
    title = TITLES[method]
    total = found if len(asked) == len(store) else int(np.isfinite(vectors(store, column)).all(axis=1).sum())
    if total < need:
        raise UserError(f"{title} needs at least {need} rows with a vector; column {column!r} has "
                        f"{total}: use PCA")
    raise UserError(f"{title} needs at least {need} rows with a vector; the sample of {len(asked)} "
                    f"holds {found}: raise the sample (t-SNE, UMAP)"
                    + (f" to {need} or more" if found == len(asked) else ""))


def hover_lines(pg: Playground, rows: np.ndarray) -> list[str]:
    """Per row: ``row R<br>attribute: value<br>...`` over every attribute of the store."""
    from latentplay.embed.plots import store_labels

    store = pg.need_store()
    texts = [store_labels(store, a.name, rows).text() for a in store.schema.attributes]
    names = [a.name for a in store.schema.attributes]
    return ["<br>".join([f"<b>row {r}</b>"] + [f"{n}: {t[i]}" for n, t in
                                               zip(names, texts, strict=True)])
            for i, r in enumerate(rows)]


def _one_colour(n: int) -> Any:
    """Labels of ``n`` points in one class, ``all rows`` (a store without attributes)."""
    from latentplay.viz.projection import Labels

    return Labels("rows", np.zeros(n, np.int64), "categorical", ["all rows"])


def figure(pg: Playground, column: str, method: str, colour: str | None,
           sample: int | None = SAMPLE, seed: int = 0) -> Any:
    """A plotly scatter of ``column`` projected by ``method``, coloured by attribute
    ``colour`` (one colour when None); each point's hover text lists its row and all its
    attribute values, and the title says how many rows without a vector were left out; a PCA
    map's axes say how much of the column's variance they show."""
    from latentplay.embed.plots import left_out_note, pca_axis_labels, store_labels
    from latentplay.viz.projection import projection_figure

    coords, rows = coordinates(pg, column, method, sample, seed)
    store = pg.need_store()
    labels = store_labels(store, colour, rows) if colour else _one_colour(len(rows))
    titles = {"pca": "PCA", "tsne": "t-SNE", "umap": "UMAP"}
    asked = len(store) if method == "pca" or not sample else min(int(sample), len(store))
    note = left_out_note(column, asked, len(rows))
    fig = projection_figure(coords, [labels], f"{titles[method]} of {column} ({len(rows):,} rows"
                                              + (f"; {note})" if note else ")"))
    lines = np.asarray(hover_lines(pg, rows), dtype=object)
    for trace in fig.data:
        trace.text = lines[np.asarray(trace.customdata, dtype=np.int64)].tolist()
        trace.hovertemplate = "%{text}<extra></extra>"
    fig.update_layout(height=560, margin={"l": 10, "r": 10, "t": 60, "b": 10})
    if method == "pca":
        x_title, y_title = pca_axis_labels(store, column, rows)
        fig.update_xaxes(visible=True, showticklabels=False, title_text=x_title)
        fig.update_yaxes(visible=True, showticklabels=False, title_text=y_title)
    return fig
