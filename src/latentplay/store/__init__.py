"""The store: a Hugging Face ``datasets`` dataset on disk plus what its columns mean.

>>> from latentplay import store
>>> s = store.load("data/synthfaces")            # memory-mapped
>>> z = store.vectors(s, "vae_mu")               # (N, D) float32
>>> s2 = store.add_column(s, "pca", coords)      # new store object, same rows
>>> store.save(s2, s.path)                        # atomic replace
"""

from latentplay.lazy import lazy_exports

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
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
