"""Embeddings of a store's images, face alignment, and 2-d projections per attribute.

>>> from latentplay import embed
>>> s = embed.embed_store("data/faces", "dlib", "dlib")               # (N, 128) column
>>> embed.flagged_rows(s, "dlib")                                      # rows with no face
>>> p = embed.project(s, "dlib", method="tsne", sample=20000)          # cached in the store
>>> embed.plot_projections(s, ["dlib"], by=["gender", "skin_tone"], methods=["tsne", "umap"],
...                        out="figures")                              # PNG per attribute + HTML
>>> aligned = embed.align_store("data/photos", "data/photos-aligned", size=112)

Embedders (``make_embedder(name, options)``): ``pixels-pca``, ``dlib``, ``vae:RUN``, ``invert:RUN``,
``clip:PATH``, ``fisher:STORE``, ``onnx:PATH``. Names are resolved lazily, so importing this
package loads no model library.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from latentplay.lazy import lazy_exports

if TYPE_CHECKING:  # the exports as type checkers read them (py.typed); imported on first use below
    from latentplay.embed.align import align_faces as align_faces
    from latentplay.embed.align import align_store as align_store
    from latentplay.embed.base import Embedder as Embedder
    from latentplay.embed.base import available as available
    from latentplay.embed.base import make_embedder as make_embedder
    from latentplay.embed.column import embed_store as embed_store
    from latentplay.embed.column import flagged_rows as flagged_rows
    from latentplay.embed.column import load_rows as load_rows
    from latentplay.embed.coordinates import Projection as Projection
    from latentplay.embed.coordinates import compute as compute
    from latentplay.embed.coordinates import project as project
    from latentplay.embed.coordinates import projections as projections
    from latentplay.embed.faces import FaceModels as FaceModels
    from latentplay.embed.plots import plot_projections as plot_projections

_EXPORTS = {
    "Embedder": "latentplay.embed.base",
    "available": "latentplay.embed.base",
    "make_embedder": "latentplay.embed.base",
    "embed_store": "latentplay.embed.column",
    "flagged_rows": "latentplay.embed.column",
    "load_rows": "latentplay.embed.column",
    "FaceModels": "latentplay.embed.faces",
    "align_faces": "latentplay.embed.align",
    "align_store": "latentplay.embed.align",
    "Projection": "latentplay.embed.coordinates",
    "compute": "latentplay.embed.coordinates",
    "project": "latentplay.embed.coordinates",
    "projections": "latentplay.embed.coordinates",
    "plot_projections": "latentplay.embed.plots",
}
__all__ = sorted(_EXPORTS)
if not TYPE_CHECKING:  # type checkers read the imports above, which name every export
    __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
