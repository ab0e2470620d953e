"""Greedy nearest-neighbour matching without replacement, exact, in memory linear in n.

Two orders, as in MatchIt:

* ``closest`` (the Matching-in-GAN-space procedure): repeatedly take the closest remaining
  (treated, control) pair over all units. With ``ratio = k`` a treated unit stays in the game
  until it has ``k`` controls. Equivalently: walk all pairs by increasing distance (ties by
  treated then control row) and keep a pair when its control is free and its treated unit has
  fewer than ``k`` controls.
* ``random``: treated units in a seeded random order each take their nearest available control;
  with ``ratio = k`` this is repeated for ``k`` rounds (MatchIt's order of rounds).

A caliper (squared distance ``caliper2``) forbids pairs farther apart; a treated unit with no
available control within it stays unmatched. A second caliper
(:class:`~latentplay.match.knn.SecondCaliper`, a distance in another space) forbids more pairs:
the greedy then walks only the allowed pairs, as if the others did not exist.

Instead of all ``n_t x n_c`` distances, each treated unit holds its ``k`` nearest controls from
:class:`~latentplay.match.knn.ControlSearch`. When all of them have been taken, the unit waits
with the search's bound (no unseen control is nearer than that) and is searched again, with a
doubled ``k``, among the controls still available, before any pair at that distance or farther is
decided. With the exact index the result is therefore exactly the brute-force greedy matching.

With a second caliper every searched row keeps only the unit's allowed controls (the bound still
holds for the controls not returned), so the same argument applies to the allowed pairs: a unit
whose candidates are all taken *or disallowed* waits and is searched again with a doubled ``k``.
A search whose row held every available control (bound ``inf``) finishes the unit, so the loop
ends. The cost grows with how far a unit must look past disallowed controls: about
``log2(j / k)`` searches when its nearest allowed available control is its ``j``-th nearest
available one, and up to ``k`` = all available controls (``O(n_c d)`` each) for a unit that has
none left: when most units' nearest controls are disallowed, the cost approaches brute force.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from latentplay.match.knn import Candidates, ControlSearch, SecondCaliper
from latentplay.reprs import short_repr

ORDERS = ("closest", "random")
LOOKAHEAD = 4096
LOOKAHEAD_DISTANCE = 0.1
"""When units wait for new candidates, units whose bound lies within this factor (of squared
distance) past the waiting ones are searched again with them, at most ``LOOKAHEAD_UNITS``
times as many as are waiting."""
LOOKAHEAD_UNITS = 4


@dataclass
class Pairs:
    """Matched pairs (one row per treated-control pair).

    Attributes:
        treated: ``(m,)`` int64 row numbers into the treated array.
        control: ``(m,)`` int64 row numbers into the control array.
        distance: ``(m,)`` float64 Euclidean distance in the matching space.
    """

    __repr__ = short_repr

    treated: np.ndarray
    control: np.ndarray
    distance: np.ndarray
    stats: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.treated)

    @classmethod
    def empty(cls) -> Pairs:
        return cls(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float64))

    def sorted(self) -> Pairs:
        """The same pairs ordered by treated row, then distance."""
        order = np.lexsort((self.distance, self.treated))
        return Pairs(self.treated[order], self.control[order], self.distance[order], self.stats)


class _Rows:
    """Candidate rows of every treated unit: the first search in two arrays, later ones in a dict."""

    def __init__(self, first: Candidates) -> None:
        self.k = first.ids.shape[1]
        self.ids = memoryview(np.ascontiguousarray(first.ids).reshape(-1))
        self.d2 = memoryview(np.ascontiguousarray(first.d2).reshape(-1))
        self.bound = first.bound.tolist()
        self.extra: dict[int, tuple[list[int], list[float]]] = {}
        self.kused: dict[int, int] = {}

    def get(self, t: int) -> tuple[object, object, int, int]:
        """(ids, d2, offset, length) of unit ``t``'s candidate row."""
        row = self.extra.get(t)
        if row is None:
            return self.ids, self.d2, t * self.k, self.k
        return row[0], row[1], 0, len(row[0])

    def replace(self, units: list[int], found: Candidates, k: int) -> None:
        """New rows for a few ``units``, searched with ``k``."""
        for t, ids, d2, bound in zip(
            units, found.ids.tolist(), found.d2.tolist(), found.bound.tolist(), strict=True
        ):
            self.extra[t] = (ids, d2)
            self.bound[t] = bound
            self.kused[t] = k


def greedy_match(
    treated: np.ndarray,
    controls: np.ndarray,
    *,
    ratio: int = 1,
    caliper2: float = np.inf,
    order: str = "closest",
    index: str = "exact",
    k: int = 16,
    seed: int = 0,
    second: SecondCaliper | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Pairs:
    """Greedy 1:``ratio`` matching of ``(n_t, d)`` treated to ``(n_c, d)`` control points.

    Args:
        treated: treated units in the matching space.
        controls: control units in the same space.
        ratio: controls per treated unit.
        caliper2: largest allowed squared distance of a pair (``inf``: no caliper).
        order: ``closest`` (closest pair first) or ``random`` (seeded random treated order).
        index: ``exact``, ``ivf`` or ``hnsw`` (see :class:`ControlSearch`).
        k: candidates fetched per unit at first (doubled for units that run out).
        seed: seeds the random order and the IVF training sample.
        second: a second caliper pairs must also pass (its rows: ``treated``, ``controls``).
        progress: callback ``(done, total)`` during the first search.

    Returns:
        :class:`Pairs`; ``stats`` holds the number of searches and of units searched again.
    """
    if order not in ORDERS:
        raise ValueError(f"order must be one of {ORDERS}, got {order!r}")
    if ratio < 1:
        raise ValueError("ratio must be >= 1")
    treated = np.ascontiguousarray(treated, dtype=np.float32)
    if len(treated) == 0 or len(controls) == 0:
        return Pairs.empty()
    search = ControlSearch(controls, index, seed=seed, progress=progress)
    k = max(1, min(k, len(controls)))
    if order == "random":
        k = max(k, ratio)
    first = search.search(treated, k)
    if second is not None:
        first = second.restrict(np.arange(len(treated)), first)
    rows = _Rows(first)
    search.progress = None
    state = _Greedy(search, treated, rows, ratio, float(caliper2), second)
    if order == "closest":
        state.closest_first()
    else:
        state.random_order(np.random.default_rng(seed).permutation(len(treated)))
    t = np.asarray(state.out_t, dtype=np.int64)
    c = np.asarray(state.out_c, dtype=np.int64)
    d = np.sqrt(np.asarray(state.out_d2, dtype=np.float64))
    stats = {
        "searches": search.searches,
        "units_searched_again": state.researched,
        "exact_distance_evaluations": search.distances,
        "index": sorted(search.used),
    }
    return Pairs(t, c, d, stats)


class _Greedy:
    """Mutable state of one greedy run (kept in plain Python objects for a fast inner loop)."""

    def __init__(
        self,
        search: ControlSearch,
        treated: np.ndarray,
        rows: _Rows,
        ratio: int,
        cal2: float,
        second: SecondCaliper | None,
    ) -> None:
        self.search = search
        self.second = second
        self.treated = treated
        self.rows = rows
        self.ratio = ratio
        self.cal2 = cal2
        self.avail = search.available
        self.ptr = [0] * len(treated)
        self.count = [0] * len(treated)
        self.out_t: list[int] = []
        self.out_c: list[int] = []
        self.out_d2: list[float] = []
        self.researched = 0

    def _research(self, units: list[int], grow: bool = True) -> None:
        """Search ``units`` again among available controls (``k`` doubled when ``grow``)."""
        if not units:
            return
        self.researched += len(units)
        by_k: dict[int, list[int]] = {}
        for t in units:
            by_k.setdefault((2 if grow else 1) * self.rows.kused.get(t, self.rows.k), []).append(t)
        for k, group in sorted(by_k.items()):
            found = self.search.search(self.treated[np.asarray(group)], k)
            if self.second is not None:
                found = self.second.restrict(np.asarray(group), found)
            self.rows.replace(group, found, k)
            for t in group:
                self.ptr[t] = 0

    def _next_usable(self, t: int, p: int) -> tuple[int, float | None]:
        """First position >= ``p`` in ``t``'s row holding an available (allowed) control, and its
        d2."""
        ids, d2, off, length = self.rows.get(t)
        avail = self.avail
        while p < length:
            c = ids[off + p]
            if c < 0:
                break
            if avail[c]:
                return p, d2[off + p]
            p += 1
        return p, None

    # -- closest pair first -------------------------------------------------------------------
    def closest_first(self) -> None:
        n_t = len(self.treated)
        heap: list[tuple[float, int, int]] = []  # (d2 of next candidate, unit, version)
        by_bound: list[tuple[float, int, int]] = []  # (bound, unit, version): who runs dry next
        version = [0] * n_t
        done = [False] * n_t
        pending: list[int] = []
        limit = np.inf

        def settle(t: int, p: int) -> None:
            """Queue ``t``'s next candidate, park it until it is searched again, or finish it."""
            nonlocal limit
            p, d = self._next_usable(t, p)
            self.ptr[t] = p
            bound = self.rows.bound[t]
            if d is not None and d < bound:
                if d <= self.cal2:
                    heapq.heappush(heap, (d, t, version[t]))
                    return
                if bound > self.cal2:
                    done[t] = True  # nearest available control is beyond the caliper
                    return
            elif bound > self.cal2 or bound == np.inf:
                done[t] = True  # nothing usable seen, and nothing unseen within the caliper
                return
            pending.append(t)  # unseen controls may come first: search again before deciding
            limit = min(limit, bound)

        def fresh(units: list[int]) -> None:
            for t in units:
                version[t] += 1
                if np.isfinite(self.rows.bound[t]):
                    heapq.heappush(by_bound, (self.rows.bound[t], t, version[t]))
                settle(t, 0)

        fresh(list(range(n_t)))
        avail, out_t, out_c, out_d2, count = self.avail, self.out_t, self.out_c, self.out_d2, self.count
        ratio, ptr, get = self.ratio, self.ptr, self.rows.get
        while True:
            while heap and heap[0][0] < limit:
                d, t, v = heapq.heappop(heap)
                if v != version[t]:
                    continue  # searched again since: its new row has its own entry
                ids, _, off, _ = get(t)
                p = ptr[t]
                c = ids[off + p]
                if avail[c]:
                    avail[c] = False
                    out_t.append(t)
                    out_c.append(c)
                    out_d2.append(d)
                    count[t] += 1
                    if count[t] >= ratio:
                        done[t] = True
                        continue
                settle(t, p + 1)
            if not pending or not avail.any():
                break
            # Search the waiting units again, and with them the units likely to run dry next
            # (bound just past the waiting ones), so that fewer, larger searches are needed.
            starved = set(pending)
            ahead: set[int] = set()
            horizon = limit * (1.0 + LOOKAHEAD_DISTANCE)
            most = LOOKAHEAD_UNITS * len(starved)
            while by_bound and by_bound[0][0] <= horizon and len(ahead) < most:
                _, t, v = heapq.heappop(by_bound)
                if v == version[t] and not done[t] and t not in starved:
                    ahead.add(t)
            pending.clear()
            limit = np.inf
            self._research(sorted(starved), grow=True)
            self._research(sorted(ahead), grow=False)
            fresh(sorted(starved | ahead))

    # -- random order ---------------------------------------------------------------------------
    def random_order(self, order: np.ndarray) -> None:
        for r in range(self.ratio):
            active = [int(t) for t in order if self.count[t] == r]
            i = 0
            while i < len(active):
                t = active[i]
                p, d = self._next_usable(t, self.ptr[t])
                self.ptr[t] = p
                bound = self.rows.bound[t]
                if d is not None and d < bound:
                    if d <= self.cal2:
                        ids, _, off, _ = self.rows.get(t)
                        c = ids[off + p]
                        self.avail[c] = False
                        self.out_t.append(t)
                        self.out_c.append(c)
                        self.out_d2.append(d)
                        self.count[t] += 1
                        self.ptr[t] = p + 1
                    i += 1
                elif bound > self.cal2 or bound == np.inf or not self.avail.any():
                    i += 1  # no available (allowed) control within the caliper
                else:
                    self._research(self._starved(active[i : i + LOOKAHEAD]))

    def _starved(self, units: list[int]) -> list[int]:
        """``units[0]`` plus the others in ``units`` that have no available candidate left."""
        out = [units[0]]
        for t in units[1:]:
            p, d = self._next_usable(t, self.ptr[t])
            self.ptr[t] = p
            if d is None and self.rows.bound[t] <= self.cal2 and self.rows.bound[t] < np.inf:
                out.append(t)
        return out
