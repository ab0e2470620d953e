"""Stores the audit tests derive from their fixtures."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from latentplay import store as st


def unlabelled(store: st.Store, attribute: str, every: int, out: Path) -> st.Store:
    """``store`` saved at ``out`` with every ``every``-th row's ``attribute`` missing (-1)."""
    labels = np.asarray(store.labels(attribute)).copy()
    labels[::every] = -1
    feature = store.dataset.features[attribute]
    dataset = store.dataset.remove_columns(attribute).add_column(attribute, labels.tolist(),
                                                                feature=feature)
    return st.save(st.Store(dataset, store.schema, None), out)
