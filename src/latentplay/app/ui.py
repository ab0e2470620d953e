"""The Gradio playground: one tab per way of looking at a run's latent space and a store.

:func:`build_app` opens a run and/or a store (:class:`~latentplay.app.state.Playground`) and
builds the ``gr.Blocks`` with the tabs that make sense for them:

- **Sample** (a run): prior draws at chosen condition values.
- **Traverse** (a run): one latent dimension, principal axis or (an imported StyleGAN's)
  SeFa direction moved at a time, and latent sliders that decode one code live.
- **Faces** (a run and a store, with the attributes a conditional run is conditioned on):
  interpolation between two faces, and edits along an attribute direction fitted on the fly
  or read from a JSON.
- **Projection** (a store with a vector column): PCA / t-SNE / UMAP maps coloured by an
  attribute.
- **Bias** (a store): one attribute's shares within the groups of another.
- **Accuracy** (a store with ``predicted_*`` attributes): a prediction against its label per
  group, with calibration and the parity for a positive class.

The tabs are built in :mod:`latentplay.app.tabs` and :mod:`latentplay.app.faces_tab`; their
handlers call the functions of :mod:`latentplay.app.generate`, :mod:`latentplay.app.faces`
and :mod:`latentplay.app.projection`, and a :class:`UserError` they raise is shown in the
page as an error message (``gr.Error``, :func:`latentplay.app.widgets.guard`), never as a
traceback.
"""

from __future__ import annotations

import os
from pathlib import Path

import gradio as gr

from latentplay.app import accuracy, projection
from latentplay.app.faces import markdown_text
from latentplay.app.faces_tab import faces_tab
from latentplay.app.state import Playground
from latentplay.app.tabs import accuracy_tab, bias_tab, projection_tab, sample_tab, traverse_tab
from latentplay.errors import UserError
from latentplay.store.io import Store
from latentplay.train.summary import condition_text, held_text, read_summary, reconstruction_text

GRADIO_MAJOR = 6
"""The Gradio the playground is written for, the ``app`` extra's floor: Gradio 5's ``launch()``
takes no ``css``, which Gradio 6 moved there from ``gr.Blocks``."""

NARROW_CSS = ("@media (max-width: 900px) { .grid-container { grid-template-columns: "
              "repeat(auto-fill, minmax(96px, 1fr)) !important; } }")
"""Galleries in a narrow window wrap their images into as many columns as fit (Gradio keeps
a gallery's columns at 100 px or more each, so that a row of 8 scrolled sideways)."""


def _trained(run: Path | None) -> list[str]:
    """Markdown lines of what the finished run learned (its ``summary.json``: the held-out
    reconstruction error, what its condition does, how much of it the codes hold), as
    ``latentplay train`` printed them;
    [] for a run without one (an imported generator, a run trained before it was written)."""
    summary = read_summary(run) if run is not None else None
    if not summary:
        return []
    parts = [text(summary[key]) for key, text in (("reconstruction", reconstruction_text),
                                                   ("condition", condition_text)) if summary.get(key)]
    parts += [held_text(found) for found in summary.get("condition_in_codes") or []]
    return ["**Trained**\n\n" + "\n".join(f"- {markdown_text(part)}" for part in parts)] if parts else []


def _header(pg: Playground) -> str:
    """Markdown: what is loaded, and which tabs are missing and why; the names the run and the
    store give escaped (:func:`~latentplay.app.faces.markdown_text`): a shared store's attribute
    ``![x](http:host)`` was an image the page fetched from that host as it opened."""
    lines = ["# latentplay playground"]
    cond = markdown_text(", ".join(p.name for p in pg.condition_parts))
    if pg.model is not None:
        m = pg.model
        lines.append(f"**Run** `{pg.run}`: {pg.family}, {m.latent_dim} latents, "
                     f"{m.size}x{m.size} {'gray' if m.channels == 1 else 'RGB'}"
                     + (f", conditional on {cond}" if cond else ""))
        lines += _trained(pg.run)
    if pg.store is not None:
        vecs = ", ".join(f"{markdown_text(v.name)} ({v.dim})" for v in pg.store.schema.vectors
                         if not v.is_projection) or "none"
        names = markdown_text(", ".join(a.name for a in pg.store.schema.attributes)) or "none"
        lines.append(f"**Store** `{pg.store.path}`: {len(pg.store):,} rows; attributes {names}; "
                     f"vector columns {vecs}")
    missing = []
    if pg.model is None:
        missing.append("**Sample** and **Traverse** need a run: start with `--run RUN`.")
    if pg.model is None or pg.store is None:
        missing.append("**Faces** needs a run and a store: start with `--run RUN --data STORE`.")
    elif pg.condition_problem:
        missing.append(f"**Faces** needs each face's condition ({cond}, which the run is "
                       f"conditioned on) from the store: {markdown_text(pg.condition_problem)}.")
    if pg.store is None:
        missing.append("**Projection**, **Bias** and **Accuracy** need a store: start with "
                       "`--data STORE`.")
    elif not projection.vector_columns(pg):
        missing.append("**Projection** needs a vector column in the store: add one with "
                       "`latentplay embed STORE --with pixels-pca --column pca64`.")
    if pg.store is not None and len(pg.store.schema.attributes) < 2:
        missing.append("**Bias** needs two attributes or more in the store.")
    if pg.store is not None and not accuracy.predictions(pg):
        missing.append("**Accuracy** needs predictions beside the labels: add them with "
                       "`latentplay data predict STORE --with ANNOTATOR.npz`.")
    elif pg.store is not None and not accuracy.labels(pg):
        missing.append("**Accuracy** needs labels beside the predictions: the store has "
                       "only `predicted_*` attributes.")
    if missing:
        lines.append("Not shown: " + " ".join(missing))
    return "\n\n".join(lines)


def build_app(run: str | os.PathLike[str] | None = None,
              data: Store | str | os.PathLike[str] | None = None) -> gr.Blocks:
    """The playground for run directory ``run`` and/or store ``data`` (a store or its path; unstarted; call
    ``.launch()``). A path that is not a run or a store is a :class:`UserError`."""
    return build_blocks(Playground.open(run, data))


def build_blocks(pg: Playground) -> gr.Blocks:
    """The ``gr.Blocks`` of an opened :class:`Playground`."""
    # Gradio sets matplotlib's backend around every handler (matplotlib.use), which raises while
    # another handler's thread is importing pyplot for its first chart: imported here, before any
    # handler runs (the Traverse row, drawn as the page opened beside the Bias chart, said Error)
    import matplotlib.pyplot  # noqa: F401

    with gr.Blocks(title="latentplay", analytics_enabled=False) as demo:
        gr.Markdown(_header(pg))
        with gr.Tabs():
            if pg.model is not None:
                sample_tab(pg, demo)
                traverse_tab(pg, demo)
                if pg.store is not None and not pg.condition_problem:
                    faces_tab(pg, demo)
            if pg.store is not None and projection.vector_columns(pg):
                projection_tab(pg, demo)
            if pg.store is not None and len(pg.store.schema.attributes) > 1:
                bias_tab(pg, demo)
                if accuracy.predictions(pg) and accuracy.labels(pg):
                    accuracy_tab(pg, demo)
    return demo


def launch(demo: gr.Blocks, host: str = "127.0.0.1", port: int = 7860, block: bool = True
           ) -> None:
    """Serve ``demo`` on ``host:port`` without any outside connection (no share link, no
    analytics, no server-side rendering); ``block=False`` returns once it is serving. A port
    in use is a :class:`UserError`."""
    if not 0 < port < 65536:
        raise UserError(f"--port must be in 1..65535, got {port}")
    try:
        demo.launch(server_name=host, server_port=port, share=False, inbrowser=False,
                    prevent_thread_lock=not block, ssr_mode=False, quiet=True, css=NARROW_CSS)
    except OSError:  # Gradio says "Cannot find empty port" for a bad host too
        raise UserError(f"cannot serve on {host}:{port}: the port is in use or {host} is not "
                        "an address of this machine; choose another --port (or --host)") from None
