"""Matching on arrays: choose the space, the caliper and the blocks, then match.

>>> from latentplay.match import match
>>> result = match(z, is_woman, method="propensity", caliper=0.2)
>>> result.treated_rows, result.control_rows          # unit numbers of each pair
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from latentplay.errors import UserError
from latentplay.match.greedy import ORDERS, Pairs, greedy_match
from latentplay.match.knn import INDEX_KINDS, ControlSearch, SecondCaliper, choose_index
from latentplay.match.optimal import optimal_match
from latentplay.match.propensity import Propensity, propensity_scores
from latentplay.match.replacement import match_with_replacement
from latentplay.match.space import matching_space
from latentplay.reprs import array_text

METHODS = ("nearest", "mahalanobis", "propensity", "optimal")
DISTANCES = ("euclidean", "mahalanobis", "propensity")
CALIPER_UNITS = ("sd", "abs")
SD_PAIRS = 20_000


@dataclass
class MatchResult:
    """Pairs and what was decided on the way.

    Attributes:
        treated_rows: ``(m,)`` unit (row of ``x``) of the treated side of each pair.
        control_rows: ``(m,)`` unit of the control side.
        distance: ``(m,)`` pair distance in the matching space (|logit difference| for
            propensity matching).
        propensity: the fitted scores of all units, when a propensity model was used.
        caliper: caliper in distance units (None: no caliper).
        unmatched_treated: ``(u,)`` treated units left without a control.
        caliper_drops: treated units the calipers left unmatched: their block still has
            controls available (unused, or any with replacement), but the nearest available one
            that the second caliper allows lies beyond the caliper, or none is allowed. Units
            left over because every control of their block was used are not counted.
        info: method, ``index`` (the kinds of search the matching ran: ``exact`` whenever an
            ``ivf`` or ``hnsw`` index had no more than ``knn.EXACT_BELOW`` controls left to
            search), dimensions, search statistics, per-block counts, ``fewer_than_ratio`` (treated
            units given some but fewer than ``ratio`` controls: ``treated`` in all, of which
            ``controls_ran_short`` had no control left to take and ``calipers`` had only
            controls the calipers did not allow), ``warnings``
            (lines about the input, e.g. a propensity model that separates the groups).
        points: ``(n, d')`` float32 units in the matching space (standardized, PCA'd or
            whitened covariates, or the propensity logit), as the distances were taken.
        second_caliper: the second caliper in its space's units (None: none).
        second_caliper_drops: the part of ``caliper_drops`` without any control in their block
            within the second caliper (the others lost theirs to other treated units, or had
            them beyond the caliper).
    """

    treated_rows: np.ndarray
    control_rows: np.ndarray
    distance: np.ndarray
    propensity: Propensity | None
    caliper: float | None
    unmatched_treated: np.ndarray
    caliper_drops: int
    info: dict = field(default_factory=dict)
    points: np.ndarray | None = None
    second_caliper: float | None = None
    second_caliper_drops: int = 0

    def __len__(self) -> int:
        return len(self.treated_rows)

    def __repr__(self) -> str:
        """One short line for a notebook: the counts, method, calipers and distances, and the
        arrays as their dtype and shape (the default repr printed every row, tens of kB)."""
        distance = np.asarray(self.distance, dtype=np.float64)
        parts = [f"pairs={len(self)}",
                 f"treated={len(np.unique(self.treated_rows))}",
                 f"controls={len(np.unique(self.control_rows))}",
                 f"unmatched_treated={len(self.unmatched_treated)}",
                 f"caliper_drops={self.caliper_drops}",
                 f"method={self.info.get('method')!r}"]
        if self.info.get("replace"):
            parts.append("replace=True")
        parts.append(f"caliper={_short(self.caliper)}")
        if self.second_caliper is not None:
            parts += [f"second_caliper={_short(self.second_caliper)}",
                      f"second_caliper_drops={self.second_caliper_drops}"]
        if len(distance):
            parts += [f"mean_distance={_short(float(distance.mean()))}",
                      f"max_distance={_short(float(distance.max()))}"]
        for name in ("treated_rows", "control_rows", "distance", "points"):
            value = getattr(self, name)
            if value is not None:
                parts.append(f"{name}={array_text(value)}")
        if self.propensity is not None:
            score = np.asarray(self.propensity.score)
            parts.append(f"propensity=<Propensity score, logit {score.dtype} {score.shape}>")
        if self.info.get("warnings"):
            parts.append(f"warnings={len(self.info['warnings'])}")
        return f"MatchResult({', '.join(parts)})"


def _short(value: float | None) -> str:
    """A number in 4 significant digits (None as None)."""
    return "None" if value is None else f"{value:.4g}"


def distance_sd(points_t: np.ndarray, points_c: np.ndarray, seed: int = 0) -> float:
    """SD of the distance between random treated-control pairs (a sample of ``SD_PAIRS``) of
    ``(n_t, d)`` and ``(n_c, d)`` points. The draws index each side's points in an order of
    their own (:func:`canonical_order`), so the pairs a seed draws, and the caliper's width,
    do not depend on the order of the rows."""
    rng = np.random.default_rng(seed)
    i = canonical_order(points_t)[rng.integers(0, len(points_t), SD_PAIRS)]
    j = canonical_order(points_c)[rng.integers(0, len(points_c), SD_PAIRS)]
    diff = points_t[i].astype(np.float64) - points_c[j]
    return float(np.sqrt(np.einsum("ij,ij->i", diff, diff)).std())


ORDER_CELLS = 1 << 22
"""Point coordinates :func:`canonical_order` holds in float64 at once (32 MiB)."""


def canonical_order(points: np.ndarray) -> np.ndarray:
    """``(n,)`` an order of ``(n, d)`` points that follows the points, not the order of their
    rows or columns nor their signs: by squared distance from their mean (rounded to 1e-9 of
    the largest, so that sums in another order of the columns tie as before), points as far
    from it by a fixed random projection, equal points in row order (interchangeable)."""
    mean = np.mean(points, axis=0, dtype=np.float64)
    direction = np.random.default_rng(0).standard_normal(len(mean))
    spread, key = np.empty(len(points)), np.empty(len(points))
    step = max(1, ORDER_CELLS // max(len(mean), 1))
    for start in range(0, len(points), step):
        centred = points[start:start + step] - mean                     # (chunk, d) float64
        spread[start:start + step] = np.einsum("ij,ij->i", centred, centred)
        key[start:start + step] = centred @ direction
    spread = np.round(spread / max(float(spread.max(initial=0.0)), 1e-300), 9)
    return np.lexsort((key, spread))


def logit_sd(logit: np.ndarray) -> float:
    """Sample SD (``ddof=1``, R's ``sd()``, as MatchIt's ``std.caliper``) of the ``(n,)``
    propensity logits of all units; a caliper in SDs of the logit is this many times wider."""
    return float(np.std(logit, ddof=1)) if len(logit) > 1 else 0.0


def match(
    x: np.ndarray,
    treated: np.ndarray,
    *,
    method: str = "nearest",
    distance: str | None = None,
    ratio: int = 1,
    replace: bool = False,
    caliper: float | None = None,
    caliper_units: str = "sd",
    order: str = "closest",
    index: str = "auto",
    exact: np.ndarray | None = None,
    scale: bool = True,
    pca: int | None = None,
    whiten: bool = False,
    propensity_c: float = 1.0,
    k: int = 16,
    seed: int = 0,
    partial: bool = False,
    second_on: np.ndarray | str | None = None,
    second_caliper: float | None = None,
    propensity_x: np.ndarray | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> MatchResult:
    """Match treated units to controls, without replacement unless ``replace``.

    Args:
        x: ``(n, p)`` covariates of all units (latents, embeddings, attributes).
        treated: ``(n,)`` bool, True for the treated group (or int 0/1, 1 treated); class
            codes, other numbers and strings are refused (compare them with one class:
            ``codes == k``).
        method: ``nearest`` (greedy, Euclidean), ``mahalanobis`` (greedy, Mahalanobis),
            ``propensity`` (greedy on the logit of a logistic propensity model) or
            ``optimal`` (minimum total distance).
        distance: the space ``optimal`` works in (``euclidean`` default, ``mahalanobis``,
            ``propensity``); other methods imply theirs.
        ratio: controls per treated unit.
        replace: let a control serve several treated units (each treated unit takes its
            ``ratio`` nearest controls; ``order`` and ``partial`` are then refused).
        caliper: largest pair distance, in SDs of the distance (``caliper_units="sd"``; for
            propensity the SD of the logit, else of the distance between random pairs) or in
            distance units (``"abs"``).
        order: greedy order, ``closest`` or ``random``.
        index: ``auto``, ``exact``, ``ivf`` or ``hnsw``.
        exact: ``(n,)`` int block code; units match only within their block.
        scale: standardize covariates before Euclidean distances (``False`` is refused with
            the propensity distance, whose model always standardizes).
        pca: keep this many principal components (distance space, or propensity model input).
        whiten: whiten the principal components (distance space only; refused with the
            propensity distance).
        propensity_c: inverse L2 strength of the propensity model.
        k: first number of candidates per treated unit.
        seed: seeds the random order, PCA, the SD sample and the IVF training.
        partial: allow fewer controls than ``ratio x treated`` (match as many as possible);
            without replacement only.
        second_on: the space of a second caliper: ``"propensity"`` (the logit of a propensity
            model on ``x``; with ``method="mahalanobis"`` this is MatchIt's ``mahvars``) or an
            ``(n, g)`` array (e.g. face descriptors). Greedy methods only.
        second_caliper: a pair is allowed only when its distance in ``second_on`` is at most
            this: SDs of the logit for ``"propensity"``, else absolute Euclidean distance.
        propensity_x: ``(n, q)`` covariates of that propensity model (default ``x``; MatchIt's
            main formula, ``x`` then being its ``mahvars``).
        progress: callback ``(done, total)`` of the first neighbour search.
    """
    x = np.asarray(x)
    treated = _treated_mask(treated)
    _check(x, treated, method, distance, order, index, caliper, caliper_units, ratio, replace,
           propensity_c)
    _check_second(x, method, second_on, second_caliper, propensity_x)
    _check_unused(method, distance, scale, whiten, replace, partial)
    n_t, n_c = int(treated.sum()), int((~treated).sum())
    if n_t == 0 or n_c == 0:
        raise UserError(f"the treatment needs two groups; found {n_t} treated and {n_c} controls")
    if ratio * n_t > n_c and not (partial or replace):
        raise UserError(
            f"only {n_c} controls for {n_t} treated units x ratio {ratio}: without replacement "
            "some treated units would stay unmatched. Swap the groups, lower ratio (--ratio), "
            "or pass partial=True (--partial) to match as many as possible"
        )
    space = distance or {"propensity": "propensity", "mahalanobis": "mahalanobis"}.get(
        method, "euclidean"
    )
    propensity = None
    if space == "propensity":
        propensity = propensity_scores(x, treated, c=propensity_c, pca=pca, seed=seed)
        points = propensity.logit[:, None].astype(np.float32)
    else:
        points = matching_space(x, treated, metric=space, scale=scale, pca=pca, whiten=whiten,
                                seed=seed)
    notes = [] if propensity is None else _separation(propensity, treated, "")
    notes += _all_alike(points)
    cal = None
    if caliper is not None:
        if caliper_units == "abs":
            cal = float(caliper)
        elif space == "propensity":
            cal = float(caliper * logit_sd(propensity.logit))
        else:
            cal = float(caliper * distance_sd(points[treated], points[~treated], seed))
    cal2 = np.inf if cal is None else cal * cal
    second_x, width = None, None
    if isinstance(second_on, str):  # the propensity logit, in SDs
        px = x if propensity_x is None else np.asarray(propensity_x)
        propensity = propensity_scores(px, treated, c=propensity_c, pca=pca, seed=seed)
        second_x = propensity.logit[:, None].astype(np.float64)
        notes += _separation(propensity, treated, "second caliper's ")
        width = float(second_caliper * logit_sd(propensity.logit))
    elif second_on is not None:
        second_x = np.asarray(second_on, dtype=np.float64).reshape(len(x), -1)
        width = float(second_caliper)
    blocks = np.zeros(len(x), np.int64) if exact is None else np.asarray(exact)
    rows_t, rows_c, dist, per_block, indexes, stats = [], [], [], [], set(), []
    dropped = [np.zeros(0, np.int64)]
    short = []  # per block: treated units left without a control because every control was used
    few = []  # per block: treated units given some but fewer than ratio controls, (ran short, calipers)
    for code in np.unique(blocks):
        in_block = blocks == code
        bt = np.flatnonzero(in_block & treated)
        bc = np.flatnonzero(in_block & ~treated)
        kind = choose_index(index, len(bt), len(bc), points.shape[1])
        caliper_left = 0  # treated units of the block the calipers left unmatched
        if len(bt) and len(bc):
            second = None if second_x is None else SecondCaliper(second_x[bt], second_x[bc], width)
            pairs = _match_block(points[bt], points[bc], method, ratio, replace, cal2, order,
                                 kind, k, seed, partial, second, progress)
            indexes.update(pairs.stats.get("index", ()))  # below EXACT_BELOW controls: exact
            stats.append(pairs.stats)
            if cal is not None or second is not None:
                left = np.setdiff1d(np.arange(len(bt)), pairs.treated)
                used = pairs.control[:0] if replace else pairs.control
                dropped.append(bt[_dropped(points[bt], points[bc], left, used, cal2, second,
                                           kind, k, seed)])
                caliper_left = len(dropped[-1])
        else:
            pairs = Pairs.empty()
        rows_t.append(bt[pairs.treated])
        rows_c.append(bc[pairs.control])
        dist.append(pairs.distance)
        matched = int(len(np.unique(pairs.treated)))
        per_block.append({"block": int(code), "treated": len(bt), "controls": len(bc),
                          "matched_treated": matched})
        short.append(len(bt) - matched - caliper_left)
        few.append(_fewer_than_ratio(pairs, len(bt), len(bc), ratio, replace))
    t_rows = np.concatenate(rows_t).astype(np.int64)
    c_rows = np.concatenate(rows_c).astype(np.int64)
    order_out = np.lexsort((np.concatenate(dist), t_rows))
    t_rows, c_rows, d = t_rows[order_out], c_rows[order_out], np.concatenate(dist)[order_out]
    unmatched = np.setdiff1d(np.flatnonzero(treated), t_rows)
    if exact is not None:
        notes += _short_blocks(np.asarray(short), len(per_block))
    few_by = np.asarray(few, dtype=np.int64).reshape(-1, 2)
    notes += _few_controls(few_by, None if exact is None else len(per_block), ratio,
                           _calipers_name(cal is not None, second_x is not None))
    info = {
        "method": method,
        "distance": space,
        "order": order if method != "optimal" and not replace else None,
        "replace": replace,
        "index": sorted(indexes),
        "dim": int(points.shape[1]),
        "blocks": per_block if exact is not None else None,
        "search": stats,
        "fewer_than_ratio": {"treated": int(few_by.sum()), "controls_ran_short": int(few_by[:, 0].sum()),
                             "calipers": int(few_by[:, 1].sum())},
        "warnings": notes,
    }
    dropped_rows = np.concatenate(dropped)
    second_drops = 0 if second_x is None else _no_allowed(second_x, width, dropped_rows, blocks,
                                                          treated)
    return MatchResult(t_rows, c_rows, d, propensity, cal, unmatched, len(dropped_rows), info,
                       points, second_caliper=width, second_caliper_drops=second_drops)


def _treated_mask(treated: np.ndarray) -> np.ndarray:
    """``treated`` as an ``(n,)`` bool array; a :class:`UserError` unless it holds booleans or
    the integers 0 and 1 (class codes, floats and strings do not say which units are treated)."""
    values = np.asarray(treated)
    if values.dtype == bool or values.size == 0:
        return values.astype(bool)
    hint = ""
    if np.issubdtype(values.dtype, np.integer):
        found = np.unique(values)
        if np.isin(found, (0, 1)).all():
            return values.astype(bool)
        got = f"values {found.min()}..{found.max()}"
        hint = " (class codes? compare them with one class: treated=codes == k)"
    elif np.issubdtype(values.dtype, np.floating):
        got = f"{values.dtype} values"
        hint = " (scores? threshold them: treated=score > t)"
    elif values.dtype.kind in "USO":
        got = f"{'strings' if values.dtype.kind in 'US' else 'objects'} such as {str(values.flat[0])!r}"
        hint = " (compare them with one value: treated=names == 'name')"
    else:
        got = f"dtype {values.dtype}"
    raise UserError(f"treated must be booleans or 0/1, got {got}{hint}")


def _short_blocks(short: np.ndarray, blocks: int) -> list[str]:
    """A warning when ``(B,)`` ``short`` counts (per exact-match block, its treated units left
    without any control because every control of the block was used, or it had none) are not
    all 0."""
    if not short.any():
        return []
    return [f"{int(short.sum())} treated units in {int((short > 0).sum())} of the {blocks} "
            "exact-match blocks found no control: their block ran out of controls (fewer than "
            "its treated units x ratio, or none)"]


def _fewer_than_ratio(pairs: Pairs, n_t: int, n_c: int, ratio: int, replace: bool
                     ) -> tuple[int, int]:
    """How many of a block's ``n_t`` treated units ``pairs`` gave at least one of its ``n_c``
    controls but fewer than ``ratio``, as ``(ran short, calipers)``: a unit with no control
    left that it could take (every one used, or, with ``replace``, all of the block's its own)
    ran short; one with some left got no more because the calipers allowed none of them
    (greedy and optimal matching take any allowed control left)."""
    per_unit = np.bincount(pairs.treated, minlength=n_t)
    few = (per_unit > 0) & (per_unit < ratio)
    left = n_c - per_unit if replace else np.full(n_t, n_c - len(np.unique(pairs.control)))
    return int((few & (left <= 0)).sum()), int((few & (left > 0)).sum())


def _calipers_name(caliper: bool, second: bool) -> str:
    """``the caliper``, ``the second caliper`` or ``the calipers`` (both given)."""
    return "the calipers" if caliper and second else "the second caliper" if second else "the caliper"


def _few_controls(few: np.ndarray, blocks: int | None, ratio: int, calipers: str) -> list[str]:
    """A warning when treated units got at least one control but fewer than ``ratio``, saying
    why.

    Args:
        few: ``(B, 2)`` per block (one without exact-match blocks), such units whose block ran
            short of controls (none left they could take) and those ``calipers`` allowed no
            other control left.
        blocks: the number of exact-match blocks (None: no ``--exact``).
        ratio: controls asked for per treated unit.
        calipers: what limited the pairs (:func:`_calipers_name`).
    """
    if not few.any():
        return []
    where = ("" if blocks is None else
             f" in {int((few.sum(axis=1) > 0).sum())} of the {blocks} exact-match blocks")
    causes = [(int(few[:, 0].sum()), "their block ran short of controls" if blocks is not None
               else "the controls ran short (every one was used)"),
              (int(few[:, 1].sum()), f"{calipers} allowed no other control left")]
    causes = [(n, why) for n, why in causes if n]
    why = (causes[0][1] if len(causes) == 1 else
           ", ".join(f"{n} because {why}" for n, why in causes))
    return [f"{int(few.sum())} treated units{where} got fewer than {ratio} controls (but at "
            f"least one): {why}"]


NEAR_SEPARATION = 0.1
"""The share of treated units scored beyond every control above which the groups are said to
barely overlap."""


def _separation(propensity: Propensity, treated: np.ndarray, which: str) -> list[str]:
    """A warning when the fitted ``propensity`` of the ``(n,)`` bool groups separates them, or
    leaves more than :data:`NEAR_SEPARATION` of the treated units beyond every control."""
    if propensity.separates(treated):
        return [f"the {which}propensity model separates the groups (every treated unit's score "
                "lies above every control's, or below): they do not overlap, so no pair compares "
                "like with like. Check for a covariate that gives the treatment away"]
    beyond = propensity.beyond_controls(treated)
    if beyond <= NEAR_SEPARATION:
        return []
    return [f"the {which}propensity model nearly separates the groups: {beyond:.0%} of the treated "
            "units score beyond every control, and are matched to the few controls at the edge, "
            "unlike them. A caliper drops them; fewer covariates (or --pca) or a smaller "
            "--propensity-c make the model smoother"]


def _all_alike(points: np.ndarray) -> list[str]:
    """A warning when every unit is the same point of the ``(n, q)`` matching space (a
    constant covariate column, a propensity model with nothing to fit): every pair is at
    distance 0, and which control a treated unit gets says nothing of the covariates."""
    if np.ptp(points, axis=0).any():
        return []
    return ["every unit has the same covariates in the matching space: every pair is at "
            "distance 0, and the controls are taken in no order the covariates give (exact "
            "blocks aside). Check the covariate columns"]


def _no_allowed(
    second_x: np.ndarray, width: float, units: np.ndarray, blocks: np.ndarray, treated: np.ndarray
) -> int:
    """How many treated ``units`` have a control in their block but none within ``width`` of
    them in the ``(n, g)`` second space ``second_x``."""
    n = 0
    for code in np.unique(blocks[units]):
        u = units[blocks[units] == code]
        bc = np.flatnonzero((blocks == code) & ~treated)
        if len(bc):
            cal = SecondCaliper(second_x[u], second_x[bc], width)
            found = ControlSearch(second_x[bc]).search(second_x[u], 1)
            n += int((cal.restrict(np.arange(len(u)), found).ids[:, 0] < 0).sum())
    return n


def _dropped(
    pt: np.ndarray,
    pc: np.ndarray,
    units: np.ndarray,
    used: np.ndarray,
    cal2: float,
    second: SecondCaliper | None,
    index: str,
    k: int,
    seed: int,
) -> np.ndarray:
    """The treated ``units`` (rows of the block's ``(n_t, d)`` ``pt``) that have no available
    control of the ``(n_c, d)`` ``pc`` (all but the ``used`` rows) within squared distance
    ``cal2`` that ``second`` allows; none when every control is used. Searched with ``index``,
    ``k`` candidates at first, doubled for units whose allowed candidates were all beyond the
    caliper while unseen controls might not be (without a caliper, in the second space: its
    nearest available control there decides)."""
    if len(units) == 0:
        return units
    alone = second is not None and not np.isfinite(cal2)
    search = ControlSearch(second.controls if alone else pc, "exact" if alone else index,
                           seed=seed)
    search.mark_used(used)
    if not search.available.any():
        return units[:0]
    if alone:
        found = second.restrict(units, search.search(second.treated[units], 1))
        return units[found.ids[:, 0] < 0]
    out = [units[:0]]
    while len(units):
        found = search.search(pt[units], k)
        if second is not None:
            found = second.restrict(units, found)
        near = (found.ids[:, 0] >= 0) & (found.d2[:, 0] <= cal2)
        settled = near | (found.bound > cal2) | np.isinf(found.bound)  # inf: all were returned
        out.append(units[settled & ~near])
        units = units[~settled]
        k *= 2
    return np.concatenate(out)


def _match_block(
    pt: np.ndarray,
    pc: np.ndarray,
    method: str,
    ratio: int,
    replace: bool,
    cal2: float,
    order: str,
    index: str,
    k: int,
    seed: int,
    partial: bool,
    second: SecondCaliper | None,
    progress: Callable[[int, int], None] | None,
) -> Pairs:
    if replace:
        return match_with_replacement(pt, pc, ratio=ratio, caliper2=cal2, index=index, seed=seed,
                                      second=second, progress=progress)
    if method == "optimal":
        if ratio * len(pt) > len(pc):
            if not partial:
                raise UserError(
                    f"an exact-match block has {len(pt)} treated but only {len(pc)} controls; "
                    "optimal matching needs enough controls in every block (or pass partial=True "
                    "(--partial) to use greedy matching there)"
                )
            return greedy_match(pt, pc, ratio=ratio, caliper2=cal2, order="closest",
                                index=index, k=k, seed=seed)
        return optimal_match(pt, pc, ratio=ratio, caliper2=cal2, index=index, k=k, seed=seed)
    return greedy_match(pt, pc, ratio=ratio, caliper2=cal2, order=order, index=index, k=k,
                        seed=seed, second=second, progress=progress)


def _check_second(
    x: np.ndarray,
    method: str,
    second_on: np.ndarray | str | None,
    second_caliper: float | None,
    propensity_x: np.ndarray | None,
) -> None:
    if (second_on is None) != (second_caliper is None):
        raise UserError("second_caliper and second_on (--second-caliper and --second-caliper-on) "
                        "go together; give both")
    if propensity_x is not None:
        if not isinstance(second_on, str):
            raise UserError("propensity_x (--propensity-covariates) applies to --second-caliper-on "
                            "propensity (second_on=\"propensity\") only")
        propensity_x = np.asarray(propensity_x)
        if propensity_x.ndim != 2 or len(propensity_x) != len(x):
            raise UserError(f"propensity_x (--propensity-covariates) must be (n, q) with n = {len(x)}, "
                            f"got {propensity_x.shape}")
        if not np.isfinite(propensity_x).all():
            raise UserError("the propensity covariates contain NaN or infinite values")
    if second_on is None:
        return
    if not second_caliper > 0:
        raise UserError(f"second_caliper (--second-caliper) must be positive, got {second_caliper}")
    if method == "optimal":
        raise UserError("a second caliper (second_caliper, --second-caliper) needs greedy matching "
                        "(method nearest, mahalanobis or propensity), not --method optimal "
                        "(method=\"optimal\")")
    if isinstance(second_on, str):
        if second_on != "propensity":
            raise UserError(f"second_on={second_on!r} (--second-caliper-on): give propensity or "
                            "columns (in Python \"propensity\" or an (n, g) array)")
        if method == "propensity":
            raise UserError("with method=\"propensity\" (--method propensity), a caliper on the "
                            "propensity score is caliper (--caliper); second_on=\"propensity\" "
                            "(--second-caliper-on propensity) is for the other methods")
        return
    second_on = np.asarray(second_on)
    if second_on.ndim not in (1, 2) or len(second_on) != len(x):
        raise UserError(f"second_on, the second caliper's space, must be (n, g) with n = {len(x)}, "
                        f"got {second_on.shape}")
    if not np.isfinite(second_on).all():
        raise UserError("second_on, the second caliper's space, contains NaN or infinite values")


def _check_unused(
    method: str, distance: str | None, scale: bool, whiten: bool, replace: bool, partial: bool
) -> None:
    """Refuse options the chosen matching would ignore: ``scale``/``whiten`` shape the distance
    space, which propensity matching does not use (its model standardizes the covariates
    itself) and that Mahalanobis distances do not change under (they are the same after any
    invertible linear map of the covariates, rescaling or whitening among them); ``partial``
    lets matching without replacement run short of controls, which matching with replacement
    never does (each treated unit takes its nearest controls)."""
    given = [flag for flag, on in (("whiten=True (--whiten)", whiten),
                                   ("scale=False (--no-scale)", not scale)) if on]
    verb, them = ("apply", "them") if len(given) > 1 else ("applies", "it")
    if given and "mahalanobis" in (method, distance):
        how = ("method=\"mahalanobis\" (--method mahalanobis)" if method == "mahalanobis"
               else "distance=\"mahalanobis\" (--distance mahalanobis)")
        raise UserError(f"{' and '.join(given)} {verb} to Euclidean distances only; with {how} "
                        "the distances are the same after any rescaling or whitening of the "
                        f"covariates: leave {them} out")
    if method == "propensity" or distance == "propensity":
        if given:
            how = ("method=\"propensity\" (--method propensity)" if method == "propensity"
                   else "distance=\"propensity\" (--distance propensity)")
            raise UserError(f"{' and '.join(given)} {verb} to distance matching only; with {how} "
                            "the units are matched on the propensity logit, whose model always "
                            f"standardizes the covariates: leave {them} out (--pca still applies, "
                            "to the model's input)")
    if replace and partial:
        raise UserError("partial=True (--partial) applies to matching without replacement; with "
                        "replace=True (--replace) every treated unit takes its ratio nearest "
                        "controls (as many as its block has, if fewer) anyway: leave --partial out")


def _check(
    x: np.ndarray,
    treated: np.ndarray,
    method: str,
    distance: str | None,
    order: str,
    index: str,
    caliper: float | None,
    caliper_units: str,
    ratio: int,
    replace: bool,
    propensity_c: float,
) -> None:
    if method not in METHODS:
        raise UserError(f"unknown method {method!r}; choose from {', '.join(METHODS)}")
    if distance is not None and distance not in DISTANCES:
        raise UserError(f"unknown distance {distance!r}; choose from {', '.join(DISTANCES)}")
    if distance is not None and method != "optimal":
        raise UserError(f"distance={distance!r} (--distance) applies to method=\"optimal\" "
                        f"(--method optimal) only, not method={method!r}")
    if replace and method == "optimal":
        raise UserError("optimal matching is without replacement; with replace=True (--replace) "
                        "use method nearest, mahalanobis or propensity (--method)")
    if order not in ORDERS:
        raise UserError(f"unknown order {order!r}; choose from {', '.join(ORDERS)}")
    if order != "closest" and (replace or method == "optimal"):
        raise UserError(f"order={order!r} (--order) is the order of greedy matching without "
                        "replacement; " + ("with replace=True (--replace) each treated unit takes "
                        "its nearest controls in no order" if replace else "method=\"optimal\" "
                        "(--method optimal) minimises the total distance in no order"))
    if index not in INDEX_KINDS:
        raise UserError(f"unknown index {index!r}; choose from {', '.join(INDEX_KINDS)}")
    if caliper_units not in CALIPER_UNITS:
        raise UserError(f"caliper_units (--caliper-units) must be one of {', '.join(CALIPER_UNITS)}, "
                        f"got {caliper_units!r}")
    if caliper is not None and not caliper > 0:
        raise UserError(f"caliper (--caliper) must be positive, got {caliper}")
    if ratio < 1:
        raise UserError(f"ratio (--ratio) must be at least 1, got {ratio}")
    if not 0 < propensity_c < math.inf:  # inf: scikit-learn fitted without regularisation
        raise UserError(f"propensity_c (--propensity-c) must be a finite number above 0, got {propensity_c}")
    if x.ndim != 2 or len(x) != len(treated):
        raise UserError(f"the covariates x must be (n, p) with n = {len(treated)} (the length of "
                        f"treated), got {x.shape}")
    if not np.isfinite(x).all():
        raise UserError("the covariates x contain NaN or infinite values")
