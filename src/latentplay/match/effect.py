"""Treatment-effect estimates: difference in outcome means, with bootstrap intervals.

After matching, the estimate is the average over matched treated units of (own outcome - mean
outcome of its matched controls), the effect on the treated (ATT). Its interval resamples
matched treated units together with their controls (the pair bootstrap of Austin & Small,
2014), percentile method. With replacement, pairs sharing a control are not independent and
that bootstrap is not valid (Abadie & Imbens, 2008); :func:`matched_difference_with_replacement`
uses Abadie & Imbens' (2006) variance instead, with their 2016 correction for the estimation of
a propensity score matched on (:mod:`latentplay.match.estimated_score`).

When the units are photos and a person appears in several of them (a store's ``identity``,
or ``person``), matched sets that share a person — as treated unit or as control — are not independent
either: given ``persons``, :func:`matched_difference` and :func:`naive_difference` give a
Student's t interval from the variance summed over every two units that share a person
(:func:`latentplay.clustered.shared_variance`), and its design effect: at the persons' degrees
of freedom, as for clustered data (Cameron & Miller 2015), so that few persons widen it.
:func:`matched_difference_with_replacement` adds the same products for the matched sets that
share a person through different photos to Abadie & Imbens' variance.

An outcome of 0s and 1s (a two-class attribute: a difference of shares) whose share is 0 or
1 on one side never varies there, in the resamples or the variance; each interval then
reaches at least as far as Newcombe's (1998) hybrid score interval of the two shares (from
each side's Wilson interval), where 12 treated faces all of a class against 12 controls all
of the other read 1 to 1 by the bootstrap alone (:func:`share_floor`).

With fewer than two matched treated units there is no spread to estimate: the matched
estimates then give no interval (``ci_low``, ``ci_high`` and ``se`` are None); nor does the
difference before matching when a group has fewer than two units.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy.stats import norm
from scipy.stats import t as student_t

from latentplay.clustered import shared_variance
from latentplay.errors import UserError
from latentplay.intervals import effective_wilson, mover_difference
from latentplay.match.estimated_score import score_correction

if TYPE_CHECKING:
    from latentplay.match.propensity import Propensity

CHUNK_DRAWS = 4_000_000  # resampled values held at once


def _outcome(y: np.ndarray, n: int | None = None, **rows: np.ndarray) -> np.ndarray:
    """``y`` as an ``(n,)`` float64 array of one outcome per unit; a :class:`UserError` for
    another shape (a 2-D ``y`` failed deep in NumPy), for ``n`` other units than the group
    array has, for any of ``rows`` (pair units) beyond its units, or for a unit without a
    finite outcome (NaN: its mean would be NaN)."""
    y = np.asarray(y, dtype=np.float64)
    if y.ndim != 1:
        raise UserError(f"y must hold one outcome per unit, shape (n,), got shape {y.shape}; "
                        "estimate one outcome at a time (e.g. y[:, 0])")
    missing = int((~np.isfinite(y)).sum())
    if missing:
        raise UserError(f"y has no finite outcome for {missing} of its {len(y)} units; leave them "
                        "out before matching (as `match run --outcome` does)")
    if n is not None and n != len(y):
        raise UserError(f"y holds {len(y)} units but treated holds {n}")
    for name, units in rows.items():
        units = np.asarray(units)
        if len(units) and (units.min() < 0 or units.max() >= len(y)):
            raise UserError(f"{name} holds units from {units.min()} to {units.max()}, beyond the "
                            f"{len(y)} units of y")
    return y


def share_floor(out: dict, treated: np.ndarray, control: np.ndarray) -> dict:
    """``out`` (an estimate with ``ci_low``, ``ci_high`` and ``level``) with its interval
    widened to Newcombe's (1998) hybrid score interval of the difference of the shares of
    ``(n1,)`` ``treated`` and ``(n2,)`` ``control`` values, from each share's Wilson
    interval (:func:`~latentplay.intervals.mover_difference`), where the values are
    all 0 or 1 (a control side of matched sets: each set's controls' mean, in [0, 1]) and a
    side's share is 0 or 1: that side never varies in a bootstrap or a variance, so they
    alone make the difference look more certain than its shares are. Else ``out`` as is."""
    if out["ci_low"] is None or not (np.isin(treated, (0.0, 1.0)).all()
                                     and ((control >= 0) & (control <= 1)).all()):
        return out
    p1, p2 = float(treated.mean()), float(control.mean())
    if not {p1, p2} & {0.0, 1.0}:
        return out
    low, high = mover_difference(*((p, *effective_wilson(p, len(v), out["level"]))
                                   for p, v in ((p1, treated), (p2, control))))
    return {**out, "ci_low": min(out["ci_low"], low), "ci_high": max(out["ci_high"], high)}


def _percentile_interval(draws: np.ndarray, level: float) -> tuple[float, float]:
    alpha = (1.0 - level) / 2.0
    lo, hi = np.quantile(draws, [alpha, 1.0 - alpha])
    return float(lo), float(hi)


def matched_difference(
    y: np.ndarray,
    treated_rows: np.ndarray,
    control_rows: np.ndarray,
    *,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
    persons: np.ndarray | None = None,
) -> dict:
    """ATT from matched pairs with a pair-bootstrap percentile interval, or with ``persons``
    a Student's t interval over the persons each matched set shows, at one degree of freedom
    fewer than the persons of its smaller side (the treated photos' persons, the controls'):
    each matched set joins one of each, so the fewer limit what the variance learns.

    Args:
        y: ``(n,)`` outcome of every unit.
        treated_rows, control_rows: ``(m,)`` units of each pair (1:k pairs share a treated row).
        n_boot: bootstrap resamples.
        level: interval coverage.
        seed: bootstrap seed.
        persons: ``(n,)`` person of every unit, or None (units independent).

    Returns:
        ``{"estimate", "ci_low", "ci_high", "level", "n_treated", "n_boot"}``; with persons
        ``"se"``, ``"design_effect"`` and ``"persons"`` in place of ``"n_boot"``. The interval
        (and ``se``) is None with fewer than two matched treated units, the estimate too
        without any.

    Raises:
        UserError: ``y`` not ``(n,)`` or not finite, or pair units beyond it.
    """
    y = _outcome(y, treated_rows=treated_rows, control_rows=control_rows)
    if len(treated_rows) == 0:
        return {"estimate": None, "ci_low": None, "ci_high": None, "level": level,
                "n_treated": 0, "n_boot": n_boot}
    units, inverse = np.unique(treated_rows, return_inverse=True)
    control_mean = np.bincount(inverse, weights=y[control_rows]) / np.bincount(inverse)
    diff = y[units] - control_mean
    if len(units) < 2:
        shown = np.concatenate([units, np.asarray(control_rows)])
        extra = ({"se": None, "design_effect": None,
                  "persons": int(len(np.unique(np.asarray(persons)[shown])))}
                 if persons is not None else {"n_boot": n_boot})
        return {"estimate": float(diff.mean()), "ci_low": None, "ci_high": None, "level": level,
                "n_treated": 1, **extra}
    if persons is not None:
        persons = np.asarray(persons)
        sets = _matched_sets(persons, units, inverse, np.asarray(control_rows))
        return share_floor({**_t_over_persons(diff - diff.mean(), float(diff.mean()), sets,
                                              level, freedom=_sides(persons, units,
                                                                    control_rows) - 1),
                            "n_treated": int(len(units))}, y[units], control_mean)
    rng = np.random.default_rng(seed)
    draws = np.empty(n_boot)
    step = max(1, CHUNK_DRAWS // len(diff))
    for s in range(0, n_boot, step):
        b = min(step, n_boot - s)
        draws[s : s + b] = diff[rng.integers(0, len(diff), size=(b, len(diff)))].mean(axis=1)
    lo, hi = _percentile_interval(draws, level)
    return share_floor({"estimate": float(diff.mean()), "ci_low": lo, "ci_high": hi,
                        "level": level, "n_treated": int(len(units)), "n_boot": n_boot},
                       y[units], control_mean)


def _matched_sets(persons: np.ndarray, units: np.ndarray, inverse: np.ndarray,
                  control_rows: np.ndarray) -> np.ndarray:
    """``(T, k + 1)`` the persons of each matched set: its treated unit's, then its controls'
    (a set with fewer than ``k`` controls repeats the treated unit's person)."""
    counts = np.bincount(inverse)
    sets = np.repeat(persons[units][:, None], counts.max() + 1, axis=1)
    order = np.argsort(inverse, kind="stable")
    place = np.empty(len(inverse), np.int64)
    place[order] = np.arange(len(inverse)) - np.repeat(np.cumsum(counts) - counts, counts)
    sets[inverse, 1 + place] = persons[control_rows]
    return sets


def _sides(persons: np.ndarray, units: np.ndarray, control_rows: np.ndarray) -> int:
    """The persons of the smaller side of the matched sets: of the ``(T,)`` treated ``units``,
    or of the ``(m,)`` ``control_rows``, of the ``(n,)`` units' ``persons``."""
    persons = np.asarray(persons)
    return min(len(np.unique(persons[units])), len(np.unique(persons[control_rows])))


def _t_over_persons(centred: np.ndarray, estimate: float, persons: np.ndarray, level: float,
                    scale: np.ndarray | float | None = None, *, freedom: int) -> dict:
    """A Student's t interval of ``estimate`` at ``freedom`` degrees of freedom (at least 1),
    ``estimate`` a weighted sum of ``(N,)`` ``centred`` unit values (weights ``scale``; None:
    their mean), whose units involve the ``(N, ...)`` ``persons``;
    the design effect is its variance over the one of independent units, taken as at least 1
    (a person treated in one set and a control in another adds a negative product, which can
    make the summed variance small or negative), as
    :func:`latentplay.clustered.pair_rate_interval` takes it."""
    weight = 1 / len(centred) if scale is None else scale
    independent = float(np.sum((centred * weight) ** 2))
    variance = shared_variance(centred * weight, persons)
    if np.isfinite(variance):
        variance = max(variance, independent)
    se = float(np.sqrt(variance))
    q = float(student_t.ppf(0.5 + level / 2, max(freedom, 1)))
    return {"estimate": estimate, "ci_low": estimate - q * se, "ci_high": estimate + q * se,
            "level": level, "se": se,
            "design_effect": variance / independent if independent > 0 else None,
            "persons": int(len(np.unique(persons)))}


def naive_difference(
    y: np.ndarray, treated: np.ndarray, *, n_boot: int = 1000, level: float = 0.95, seed: int = 0,
    persons: np.ndarray | None = None,
) -> dict:
    """Difference of group means before matching, bootstrapping each group separately, or
    with ``(n,)`` ``persons`` a Student's t interval over them, at two degrees of freedom
    fewer than the persons (two means).

    Args:
        y: ``(n,)`` outcome of every unit.
        treated: ``(n,)`` bool (or 0/1), the treated group.
        n_boot, level, seed: as in :func:`matched_difference`.
        persons: ``(n,)`` person of every unit, or None (units independent).

    Returns:
        As :func:`matched_difference`; the interval (and ``se``) is None when a group has fewer
        than two units (its mean has no spread to estimate).

    Raises:
        UserError: a group without units, ``y`` not ``(n,)`` or not finite, or ``treated`` of another length.
    """
    treated = np.asarray(treated, dtype=bool)
    y = _outcome(y, len(treated))
    yt, yc = y[treated], y[~treated]
    if len(yt) == 0 or len(yc) == 0:
        raise UserError(f"a difference of means needs both groups; found {len(yt)} treated and "
                        f"{len(yc)} control units")
    if min(len(yt), len(yc)) < 2:
        extra = ({"se": None, "design_effect": None, "persons": int(len(np.unique(persons)))}
                 if persons is not None else {"n_boot": n_boot})
        return {"estimate": float(yt.mean() - yc.mean()), "ci_low": None, "ci_high": None,
                "level": level, "n_treated": int(len(yt)), **extra}
    if persons is not None:
        centred = np.where(treated, y - yt.mean(), y - yc.mean())
        scale = np.where(treated, 1 / len(yt), -1 / len(yc))
        return share_floor({**_t_over_persons(centred, float(yt.mean() - yc.mean()),
                                              np.asarray(persons), level, scale,
                                              freedom=len(np.unique(persons)) - 2),
                            "n_treated": int(len(yt))}, yt, yc)
    rng = np.random.default_rng(seed)
    draws = np.empty(n_boot)
    step = max(1, CHUNK_DRAWS // len(y))
    for s in range(0, n_boot, step):
        b = min(step, n_boot - s)
        mt = yt[rng.integers(0, len(yt), size=(b, len(yt)))].mean(axis=1)
        mc = yc[rng.integers(0, len(yc), size=(b, len(yc)))].mean(axis=1)
        draws[s : s + b] = mt - mc
    lo, hi = _percentile_interval(draws, level)
    return share_floor({"estimate": float(yt.mean() - yc.mean()), "ci_low": lo, "ci_high": hi,
                        "level": level, "n_treated": int(len(yt)), "n_boot": n_boot}, yt, yc)


def matched_difference_with_replacement(
    y: np.ndarray,
    points: np.ndarray,
    treated: np.ndarray,
    treated_rows: np.ndarray,
    control_rows: np.ndarray,
    *,
    blocks: np.ndarray | None = None,
    level: float = 0.95,
    neighbours: int = 2,
    persons: np.ndarray | None = None,
    propensity: Propensity | None = None,
) -> dict:
    """ATT from matching with replacement, with Abadie & Imbens' (2006) variance, counting the
    persons behind the photos when ``persons`` is given, or the estimation of the propensity
    score matched on when ``propensity`` is.

    Resampling pairs treats pairs that share a control as independent and understates the
    variance. With ``w_j`` the weight of control ``j`` in the estimate (the sum over its treated
    partners of 1 / their number of controls) and ``q_j`` the sum of the squares of those
    shares, the variance is::

        V = (sum_t (d_t - ATT)^2 + sum_j (w_j^2 - q_j) s2_j) / N1^2

    where ``d_t`` is a treated unit's own outcome minus its controls' mean and ``s2_j`` the
    outcome's conditional variance at control ``j``, estimated from its ``neighbours`` nearest
    other controls (same block, or any block for a block's only control; matching space):
    ``J / (J + 1) (y_j - mean of theirs)^2``. The
    second sum is zero without reuse (w_j^2 = q_j). Interval: ATT +- z sqrt(V).

    With ``persons``, V also gets the cluster-robust covariance of the matched sets that share
    a person through different photos (the person's own outcome level enters each of them)::

        V += sum over t != u sharing a person but no photo of (d_t - ATT)(d_u - ATT) / N1^2

    (the dyadic-robust sum of :func:`latentplay.clustered.shared_variance`, without its
    ``K / (K - 1)``); sets linked through a reused photo keep Abadie & Imbens' term for it, so
    with every photo a person of its own V is theirs. A person treated in one set and a
    control in another adds a negative product, which can make the sum noisy or negative,
    so V is taken as at least Abadie & Imbens' (the design effect as at least 1), as
    :func:`latentplay.clustered.pair_rate_interval` does; and z is then Student's t at one
    degree of freedom fewer than the persons of the smaller side (the treated photos'
    persons, the controls'), as in :func:`matched_difference`: over 8 treated and 8 control
    persons of 10 photos the normal interval held the effect in 88 % of simulated sets
    (``bench/coverage_means.py``, ``replace``), Student's t in 94 %. A bootstrap over persons is no
    alternative: it re-matches every resample, which fails with replacement for the reason
    the unit bootstrap does (Abadie & Imbens 2008).

    With ``propensity``, the model whose logit ``points`` holds, V gets Abadie & Imbens' (2016)
    correction for the score's estimation (:mod:`latentplay.match.estimated_score`), which
    can widen or narrow the interval (its neighbour sets are of each unit's ``blocks``). It is
    derived for the ATT of all treated units, of independent units: with treated units left
    unmatched or ``persons`` the score is taken as known, and ``"score_taken_as_known"`` says
    why (as it does when the corrected V is not positive).

    Args:
        y: ``(n,)`` outcome of every unit.
        points: ``(n, d)`` units in the matching space.
        treated: ``(n,)`` bool, the treated group.
        treated_rows, control_rows: ``(m,)`` units of each pair.
        blocks: ``(n,)`` exact-match block codes (None: one block).
        level: interval coverage.
        neighbours: J, the controls used for each reused control's conditional variance.
        persons: ``(n,)`` person of every unit, or None (units independent).
        propensity: the propensity model matched on (its logit is ``points``), or None.

    Returns:
        ``{"estimate", "ci_low", "ci_high", "level", "n_treated", "se", "variance"}``, with
        persons also ``"design_effect"`` (V over Abadie & Imbens' V, at least 1) and
        ``"persons"`` (in the matched sets); with ``propensity`` also ``"score"``:
        ``"estimated"`` (corrected; ``"se_score_known"`` is the SE before the correction) or
        ``"known"`` (``"score_taken_as_known"``: why). The interval, ``se`` and design effect
        are None with fewer than two matched treated units.

    Raises:
        UserError: ``y`` not ``(n,)`` or not finite, ``treated`` of another length, or pair units beyond it.
    """
    y = _outcome(y, len(np.asarray(treated)), treated_rows=treated_rows, control_rows=control_rows)
    if len(treated_rows) == 0:
        return {"estimate": None, "ci_low": None, "ci_high": None, "level": level,
                "n_treated": 0, "se": None, "variance": "abadie-imbens"}
    units, inverse = np.unique(treated_rows, return_inverse=True)
    per_unit = np.bincount(inverse)
    diff = y[units] - np.bincount(inverse, weights=y[control_rows]) / per_unit
    att = float(diff.mean())
    sets = None if persons is None else _matched_sets(np.asarray(persons), units, inverse, control_rows)
    shown = {} if sets is None else {"design_effect": None, "persons": int(len(np.unique(sets)))}
    if len(units) < 2:
        return {"estimate": att, "ci_low": None, "ci_high": None, "level": level,
                "n_treated": 1, "se": None, "variance": "abadie-imbens", **shown}
    share = 1.0 / per_unit[inverse]
    w = np.bincount(control_rows, weights=share, minlength=len(y))
    q = np.bincount(control_rows, weights=share**2, minlength=len(y))
    reused = np.flatnonzero(w**2 - q > 1e-12)
    s2 = _conditional_variance(y, points, ~np.asarray(treated, bool), reused, blocks, neighbours)
    variance = (float(((diff - att) ** 2).sum()) + float(((w**2 - q)[reused] * s2).sum()))
    if propensity is not None:
        variance, scored = _estimated_score(y, treated, propensity, att, variance, len(units),
                                            blocks, persons, neighbours)
        shown.update(scored)
    if sets is not None and variance > 0:
        photos = _matched_sets(np.arange(len(y)), units, inverse, control_rows)
        linked = _sharing_sum(diff - att, sets) - _sharing_sum(diff - att, photos)
        shown["design_effect"] = max(1.0 + linked / variance, 1.0)
        variance *= shown["design_effect"]
    se = float(np.sqrt(variance)) / len(units)
    z = float(norm.ppf(0.5 + level / 2) if sets is None else
              student_t.ppf(0.5 + level / 2, max(_sides(persons, units, control_rows) - 1, 1)))
    return share_floor({"estimate": att, "ci_low": att - z * se, "ci_high": att + z * se,
                        "level": level, "n_treated": int(len(units)), "se": se,
                        "variance": "abadie-imbens", **shown},
                       y[units], y[units] - diff)


def _estimated_score(
    y: np.ndarray, treated: np.ndarray, propensity: Propensity, att: float, variance: float,
    matched: int, blocks: np.ndarray | None, persons: np.ndarray | None, neighbours: int,
) -> tuple[float, dict]:
    """``variance`` (N1^2 V) with Abadie & Imbens' (2016) correction for the estimation of the
    score matched on, and what :func:`matched_difference_with_replacement` reports of it; the
    variance as given, with the reason, where the correction does not apply."""
    treated = np.asarray(treated, bool)
    unmatched = np.count_nonzero(treated) - matched
    why = ("the model's covariates were not kept" if propensity.design is None else
           "matched sets share persons (the correction is for independent units)"
           if persons is not None else
           f"{unmatched} treated units were left unmatched (the correction is for the effect on "
           "all treated units)" if unmatched else None)
    if why is None:
        change = score_correction(y, treated, propensity, att, neighbours, blocks)
        corrected = variance + change * matched**2
        if corrected > 0:
            return corrected, {"score": "estimated",
                               "se_score_known": float(np.sqrt(variance)) / matched}
        why = ("the corrected variance was not positive (its large-sample terms fail here: few units, "
               "or groups whose scores barely overlap)")
    return variance, {"score": "known", "score_taken_as_known": why}


def _sharing_sum(values: np.ndarray, sets: np.ndarray) -> float:
    """The sum of ``values[t] * values[u]`` over every two rows ``t, u`` (``t = u`` included) of
    the ``(T, m)`` ``sets`` that share an entry (a person, or a photo):
    :func:`latentplay.clustered.shared_variance` without its ``K / (K - 1)``."""
    k = len(np.unique(sets))
    return shared_variance(values, sets) * (k - 1) / k


def _conditional_variance(
    y: np.ndarray, points: np.ndarray, pool: np.ndarray, rows: np.ndarray,
    blocks: np.ndarray | None, neighbours: int,
) -> np.ndarray:
    """``(len(rows),)`` outcome variance at each of ``rows`` from its nearest other units of
    ``pool`` (``(n,)`` bool) in its block, or of all ``pool`` when it is its block's only one
    (left at 0 rather than this would drop its reuse from the variance)."""
    from latentplay.match.knn import ControlSearch

    codes = np.zeros(len(y), np.int64) if blocks is None else np.asarray(blocks)
    out = np.zeros(len(rows))
    for code in np.unique(codes[rows]):
        members = np.flatnonzero(pool & (codes == code))
        if len(members) < 2:  # its block's only control: compare it with the nearest of all
            members = np.flatnonzero(pool)
        j = min(neighbours, len(members) - 1)
        if j < 1:
            continue  # the only control: nothing to compare it with
        at = np.flatnonzero(codes[rows] == code)
        ids = ControlSearch(points[members]).search(points[rows[at]], j + 1).ids
        own = members[ids] == rows[at][:, None]
        # drop the unit itself (or, when a tie hid it, the farthest of the j + 1)
        keep = np.where(own.any(axis=1)[:, None], ~own, np.arange(j + 1) < j)
        near = y[members[ids[keep].reshape(len(at), j)]].mean(axis=1)
        out[at] = j / (j + 1) * (y[rows[at]] - near) ** 2
    return out
