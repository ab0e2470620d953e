"""Nearest-neighbour matching with replacement: every treated unit takes its ``ratio`` nearest
controls, and a control may serve several treated units (MatchIt's ``replace = TRUE``).

Without the need to share controls out, the result does not depend on an order: it is one
k-nearest-neighbour search of the treated units among all controls, minus the pairs beyond the
caliper. Where controls are scarce in some region (few smiling men for many smiling women), this
matches each treated unit as closely as the data allow, at the price of reusing those controls
(see the effective sample size in the run's summary).

With a second caliper each unit takes its ``ratio`` nearest *allowed* controls: units whose
search returned fewer are searched again with a doubled ``k`` until it did, no unseen control is
within the caliper, or the search returned every control.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from latentplay.match.greedy import Pairs
from latentplay.match.knn import ControlSearch, SecondCaliper


def match_with_replacement(
    treated: np.ndarray,
    controls: np.ndarray,
    *,
    ratio: int = 1,
    caliper2: float = np.inf,
    index: str = "exact",
    seed: int = 0,
    second: SecondCaliper | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Pairs:
    """The ``ratio`` nearest ``(n_c, d)`` controls of each ``(n_t, d)`` treated point.

    Args:
        treated: treated units in the matching space.
        controls: control units in the same space.
        ratio: controls per treated unit (fewer when the block has fewer controls).
        caliper2: largest allowed squared distance of a pair (``inf``: no caliper).
        index: ``exact``, ``ivf`` or ``hnsw`` (see :class:`ControlSearch`).
        seed: seeds the IVF training sample.
        second: a second caliper pairs must also pass (its rows: ``treated``, ``controls``).
        progress: callback ``(done, total)`` during the search.

    Returns:
        :class:`Pairs` ordered by treated row, nearest control first.
    """
    if ratio < 1:
        raise ValueError("ratio must be >= 1")
    if len(treated) == 0 or len(controls) == 0:
        return Pairs.empty()
    treated = np.ascontiguousarray(treated, dtype=np.float32)
    search = ControlSearch(controls, index, seed=seed, progress=progress)
    ids = np.full((len(treated), ratio), -1, dtype=np.int64)
    d2 = np.full((len(treated), ratio), np.inf)
    units, k = np.arange(len(treated)), ratio
    while len(units):
        found = search.search(treated[units], k)
        search.progress = None
        if second is not None:
            found = second.restrict(units, found)
        w = min(ratio, found.ids.shape[1])
        ids[units, :w], d2[units, :w] = found.ids[:, :w], found.d2[:, :w]
        full = ids[units, -1] >= 0
        units = units[~full & (found.bound <= caliper2) & (found.bound < np.inf)]
        k *= 2
    keep = (ids >= 0) & (d2 <= caliper2)
    rows = np.broadcast_to(np.arange(len(treated))[:, None], keep.shape)
    stats = {"searches": search.searches, "exact_distance_evaluations": search.distances,
             "index": sorted(search.used)}
    return Pairs(rows[keep].astype(np.int64), ids[keep], np.sqrt(d2[keep]), stats)
