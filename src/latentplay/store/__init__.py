"""The store: a Hugging Face ``datasets`` dataset on disk plus what its columns mean.

>>> from latentplay import store
>>> s = store.load("data/synthfaces")            # memory-mapped
>>> z = store.vectors(s, "vae_mu")               # (N, D) float32
>>> s2 = store.add_column(s, "pca", coords)      # new store object, same rows
>>> store.save(s2, s.path)                        # atomic replace
"""

import importlib
from typing import Any

_EXPORTS = {
    "add_column": "columns", "vectors": "columns",
    "export_store": "export",
    "GroundTruthData": "groundtruth", "StoreGroundTruth": "groundtruth",
    "mixed_radix_index": "groundtruth",
    "encode_png": "images", "load_images": "images",
    "crosstab": "summary", "info": "summary",
    **dict.fromkeys(["REJECTED_FILE", "SCHEMA_FILE", "Store", "build", "features_for", "load",
                     "save"], "io"),
    **dict.fromkeys(["Attribute", "Provenance", "Schema", "VectorColumn"], "schema"),
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    """Names are imported on first use, so that ``latentplay data --help`` loads no library."""
    if name not in _EXPORTS:
        raise AttributeError(f"module 'latentplay.store' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"latentplay.store.{_EXPORTS[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
