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

from latentplay.lazy import lazy_exports

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
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
