"""The store: a Hugging Face ``datasets`` dataset on disk plus what its columns mean.

>>> from latentplay import store
>>> s = store.load("data/synthfaces")            # memory-mapped
>>> z = store.vectors(s, "vae_mu")               # (N, D) float32
>>> s2 = store.add_column(s, "pca", coords)      # new store object, same rows
>>> store.save(s2, s.path)                        # atomic replace
"""

from typing import TYPE_CHECKING

from latentplay.lazy import lazy_exports

if TYPE_CHECKING:  # the exports as type checkers read them (py.typed); imported on first use below
    from latentplay.store.binning import bin_store as bin_store
    from latentplay.store.columns import add_attributes as add_attributes
    from latentplay.store.columns import add_column as add_column
    from latentplay.store.columns import vectors as vectors
    from latentplay.store.columns import with_history as with_history
    from latentplay.store.combine import combine_store as combine_store
    from latentplay.store.concat import concat_stores as concat_stores
    from latentplay.store.export import export_store as export_store
    from latentplay.store.groundtruth import GroundTruthData as GroundTruthData
    from latentplay.store.groundtruth import StoreGroundTruth as StoreGroundTruth
    from latentplay.store.groundtruth import mixed_radix_index as mixed_radix_index
    from latentplay.store.images import encode_png as encode_png
    from latentplay.store.images import load_images as load_images
    from latentplay.store.io import PAIRS_FILE as PAIRS_FILE
    from latentplay.store.io import REJECTED_FILE as REJECTED_FILE
    from latentplay.store.io import SCHEMA_FILE as SCHEMA_FILE
    from latentplay.store.io import Store as Store
    from latentplay.store.io import build as build
    from latentplay.store.io import features_for as features_for
    from latentplay.store.io import load as load
    from latentplay.store.io import save as save
    from latentplay.store.order import order_classes as order_classes
    from latentplay.store.regroup import regroup_store as regroup_store
    from latentplay.store.schema import Attribute as Attribute
    from latentplay.store.schema import Provenance as Provenance
    from latentplay.store.schema import Schema as Schema
    from latentplay.store.schema import VectorColumn as VectorColumn
    from latentplay.store.split import split_store as split_store
    from latentplay.store.summary import crosstab as crosstab
    from latentplay.store.summary import info as info

_EXPORTS = {
    "add_attributes": "columns", "add_column": "columns", "vectors": "columns",
    "with_history": "columns", "bin_store": "binning", "combine_store": "combine",
    "concat_stores": "concat",
    "order_classes": "order", "split_store": "split", "regroup_store": "regroup",
    "export_store": "export",
    "GroundTruthData": "groundtruth", "StoreGroundTruth": "groundtruth",
    "mixed_radix_index": "groundtruth",
    "encode_png": "images", "load_images": "images",
    "crosstab": "summary", "info": "summary",
    **dict.fromkeys(["PAIRS_FILE", "REJECTED_FILE", "SCHEMA_FILE", "Store", "build",
                     "features_for", "load", "save"], "io"),
    **dict.fromkeys(["Attribute", "Provenance", "Schema", "VectorColumn"], "schema"),
}
__all__ = sorted(_EXPORTS)
if not TYPE_CHECKING:  # type checkers read the imports above, which name every export
    __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
