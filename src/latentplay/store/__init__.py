"""The store: a Hugging Face ``datasets`` dataset on disk plus what its columns mean.

>>> from latentplay import store
>>> s = store.load("data/synthfaces")            # memory-mapped
>>> z = store.vectors(s, "vae_mu")               # (N, D) float32
>>> s2 = store.add_column(s, "pca", coords)      # new store object, same rows
>>> store.save(s2, s.path)                        # atomic replace
"""

from latentplay.store.columns import add_column, vectors
from latentplay.store.export import export_store
from latentplay.store.groundtruth import GroundTruthData, StoreGroundTruth, mixed_radix_index
from latentplay.store.images import encode_png, load_images
from latentplay.store.info import crosstab, info
from latentplay.store.io import REJECTED_FILE, SCHEMA_FILE, Store, build, features_for, load, save
from latentplay.store.schema import Attribute, Provenance, Schema, VectorColumn

__all__ = [
    "REJECTED_FILE",
    "SCHEMA_FILE",
    "Attribute",
    "GroundTruthData",
    "Provenance",
    "Schema",
    "Store",
    "StoreGroundTruth",
    "VectorColumn",
    "add_column",
    "build",
    "crosstab",
    "encode_png",
    "export_store",
    "features_for",
    "info",
    "load",
    "load_images",
    "mixed_radix_index",
    "save",
    "vectors",
]
