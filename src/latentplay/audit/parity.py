"""Group fairness of a classifier for one positive class: who is selected, whose positives
are found, whose negatives are wrongly selected.

``latentplay audit accuracy --positive female`` treats one class as the outcome (a smile
detector's ``smile``, a gender classifier's ``female``) and reports per group of ``--by``
(Hardt, Price & Srebro 2016; the names are Fairlearn's):

- ``selection``: the share of the group predicted positive;
- ``base_rate``: the share truly positive (selection can differ for that reason alone);
- ``tpr``: the share of the group's positives predicted positive (recall, equal opportunity);
- ``fpr``: the share of its negatives predicted positive;

each with a 95 % interval (Wilson's, or a bootstrap over persons when photos repeat them). A
row without a prediction is not selected (and so a missed positive). Across groups:

- ``demographic_parity_difference`` (highest selection minus lowest) and ``_ratio`` (lowest
  over highest);
- ``equal_opportunity_difference`` (the range of the TPRs);
- ``equalized_odds_difference``: equal TPRs and equal FPRs; the largest over pairs of groups
  of ``max(|dTPR|, |dFPR|)``, which is the larger of the TPRs' and the FPRs' ranges;

each a range over the groups that have the rate (a group without positives has no TPR), and
none where fewer than two have it — one group's rate is no evidence of parity. Where only
one of the TPRs and the FPRs has a range, the equalized odds difference is that range alone,
and ``equalized_odds_basis`` says which (``"TPR and FPR"``, ``"FPR only"``, ``"TPR only"``;
the printout and the report say so beside the number). Each comes
with a bootstrap 95 % interval: groups are redrawn row by row (person by person), and every
two groups' difference gets an interval, all holding at once (:func:`range_interval`), so
the interval shows how much of a difference small groups make up by chance — a range over
groups is never below 0, and grows with their number and their noise — and reaches down
to 0 (1 for the ratio) where the groups may well be at parity.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from itertools import combinations
from typing import Any

import numpy as np
from scipy.stats import norm

from latentplay.intervals import proportion_interval
from latentplay.resample import cluster_sums, resampled, share_wilson

DIFFERENCES = ("demographic_parity_difference", "equal_opportunity_difference",
               "equalized_odds_difference")


def group_parity(positive_true: np.ndarray, positive_pred: np.ndarray, names: Sequence[str],
                 groups: np.ndarray, keep: np.ndarray, positive: str,
                 persons: np.ndarray | None = None, n_boot: int = 1000, seed: int = 0
                 ) -> dict[str, Any]:
    """Selection, base rate, TPR and FPR per group, and the parity differences (module
    docstring).

    Args:
        positive_true: ``(N,)`` bool: the row's label is the positive class.
        positive_pred: ``(N,)`` bool: the row is predicted as it.
        names, groups: the groups' names and each row's ``(N,)`` code (-1: in none).
        keep: ``(N,)`` rows with a label and a group.
        positive: the positive class's name.
        persons: ``(N,)`` persons behind repeated photos, or None.
    """
    y = np.asarray(positive_true, bool)
    p = np.asarray(positive_pred, bool)
    rows = [_row(name, keep & (groups == g), y, p, persons, seed)
            for g, name in enumerate(names)]
    overall = _row("all rows", keep, y, p, persons, seed)
    return {"positive": positive, "groups": rows, "overall": overall,
            "across": _across(rows, y, p, groups, keep, len(names), persons, n_boot, seed)}


def _row(name: str, rows: np.ndarray, y: np.ndarray, p: np.ndarray,
         persons: np.ndarray | None, seed: int) -> dict[str, Any]:
    """One group's rates with their intervals."""
    out: dict[str, Any] = {"group": name, "n": int(rows.sum()),
                           "positives": int((rows & y).sum()),
                           "negatives": int((rows & ~y).sum())}
    for key, among, hit in (("selection", rows, p), ("base_rate", rows, y),
                            ("tpr", rows & y, p), ("fpr", rows & ~y, p)):
        n = int(among.sum())
        if not n:
            out.update({key: None, f"{key}_low": None, f"{key}_high": None})
            continue
        low, high = proportion_interval(hit[among], None if persons is None
                                        else persons[among], seed)
        out.update({key: float(hit[among].mean()), f"{key}_low": low, f"{key}_high": high})
    return out


def _differences(selection: np.ndarray, tpr: np.ndarray, fpr: np.ndarray
                 ) -> dict[str, np.ndarray]:
    """The parity differences of ``(..., G)`` rates (NaN: a group without rows there): range
    over the groups that have a value; NaN where fewer than two have one (one group's rate
    is no evidence of parity)."""
    rates = {"selection": selection, "tpr": tpr, "fpr": fpr}
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)   # a draw where no group has a value
        spread = {k: np.where(np.isfinite(v).sum(axis=-1) >= 2,
                              np.nanmax(v, axis=-1) - np.nanmin(v, axis=-1), np.nan)
                  for k, v in rates.items()}
        ratio = np.where(np.isfinite(spread["selection"]),
                         np.nanmin(selection, axis=-1) / np.nanmax(selection, axis=-1), np.nan)
    return {"demographic_parity_difference": spread["selection"],
            "demographic_parity_ratio": ratio,
            "equal_opportunity_difference": spread["tpr"],
            "equalized_odds_difference": np.fmax(spread["tpr"], spread["fpr"])}


def _across(rows: list[dict[str, Any]], y: np.ndarray, p: np.ndarray, groups: np.ndarray,
            keep: np.ndarray, n_groups: int, persons: np.ndarray | None, n_boot: int,
            seed: int) -> dict[str, Any] | None:
    if sum(1 for r in rows if r["n"]) < 2:
        return None
    # per cluster and group: rows, selected, positives, found positives, negatives, selected
    # negatives -- every resample's rates are sums of these
    weights = []
    for k in range(n_groups):
        mine = groups == k                                      # rows left out drop below
        weights += [mine, mine & p, mine & y, mine & y & p, mine & ~y, mine & ~y & p]
    units = np.arange(len(y)) if persons is None else persons
    sums = cluster_sums(units[keep], [w[keep].astype(float) for w in weights])
    drawn = resampled(sums, n_boot, seed).reshape(n_boot, n_groups, 6)
    whole = sums.sum(axis=0).reshape(1, n_groups, 6)
    with np.errstate(invalid="ignore", divide="ignore"):
        point, boot = ([t[..., 1] / t[..., 0], t[..., 3] / t[..., 2], t[..., 5] / t[..., 4]]
                       for t in (whole[0], drawn))
        found = _differences(*point)
    among = [[keep & (groups == k) & part for k in range(n_groups)] for part in (True, y, ~y)]
    own = [_own_bounds(p, part, units) for part in among]        # selection, TPR, FPR
    floors = [own_spread(bounds) for bounds in own]
    with np.errstate(invalid="ignore", divide="ignore"):
        log_low, log_high = range_interval([np.log(point[0])], [np.log(boot[0])],  # of a rate
                                           [own_spread(own[0], np.log)])         # of 0: inf
    if found["demographic_parity_ratio"] == 0:   # a group never selected: its own interval's
        zero = point[0] == 0                     # top over the most selected one's bottom
        log_low = float(np.fmin(log_low, -np.log(own[0][zero, 1].max()
                                                 / own[0][np.nanargmax(point[0]), 0])))
    bounds = {"demographic_parity_difference": range_interval(point[:1], boot[:1], floors[:1]),
              "equal_opportunity_difference": range_interval(point[1:2], boot[1:2], floors[1:2]),
              "equalized_odds_difference": range_interval(point[1:], boot[1:], floors[1:]),
              "demographic_parity_ratio": (np.exp(-log_high), np.exp(-log_low))}
    out: dict[str, Any] = {}
    for key in (*DIFFERENCES, "demographic_parity_ratio"):
        value = float(found[key])
        low, high = bounds[key] if np.isfinite(value) else (np.nan, np.nan)
        high = min(high, 1.0)                                # no gap of rates is above 1
        out[key] = None if not np.isfinite(value) else value
        out[f"{key}_low"] = None if not np.isfinite(low) else float(low)
        out[f"{key}_high"] = None if not np.isfinite(high) else float(high)
    out["equalized_odds_basis"] = odds_basis(rows)
    return out


def _own_bounds(hits: np.ndarray, among: list[np.ndarray], units: np.ndarray) -> np.ndarray:
    """``(G, 2)`` Wilson's 95 % interval of the share of ``(N,)`` bool ``hits`` in each group's
    ``(N,)`` bool rows ``among``, at its effective rows over the ``(N,)`` ``units``; NaN for a
    group without rows."""
    return np.array([share_wilson(hits[rows].astype(float), units[rows])
                     if rows.any() else (np.nan, np.nan) for rows in among])


def own_spread(bounds: np.ndarray, scale: Callable[[np.ndarray], np.ndarray] = np.asarray
                ) -> np.ndarray:
    """``(G,)`` the standard deviation each group's rate has on ``scale`` (``np.log`` for
    ratios) by its ``(G, 2)`` 95 % interval :func:`_own_bounds`: its width over ``2 x 1.96``;
    inf on the log scale where the interval reaches 0."""
    with np.errstate(divide="ignore"):
        bounds = scale(bounds)
    return (bounds[:, 1] - bounds[:, 0]) / (2 * float(norm.ppf(0.975)))


def range_interval(points: list[np.ndarray], draws: list[np.ndarray],
                   floors: list[np.ndarray] | None = None, confidence: float = 0.95
                   ) -> tuple[float, float]:
    """95 % interval of the largest gap between two groups' rates, of any of the ``(G,)``
    ``points`` (NaN: a group without the rate), from their ``(B, G)`` bootstrap ``draws``
    (NaN: a group without it in that draw). A percentile interval of the largest gap itself
    never holds 0 (every draw's largest gap is above 0), so where the groups are at parity
    it never held the truth. Instead every pair of groups' signed difference gets an
    interval, all of them holding at once at ``confidence``: the difference plus or minus
    ``c`` of its bootstrap standard deviations, ``c`` the ``confidence`` quantile over the
    draws of the largest of the pairs' differences from their own estimates in those
    deviations (the bootstrap max-t band); each is folded into the interval of the gap's
    size (from 0 where it holds 0), and the largest gap lies between the largest of their
    low ends and the largest of their high ends. A pair whose estimate is infinite (the
    log of a rate of 0) has an interval of that alone. NaN without two groups of a rate.

    With ``floors`` (one ``(G,)`` array per point: each group's SD by its own interval, see
    :func:`own_spread`), a pair's SD is at least that of its two groups' together, and ``c``
    at least the normal quantile of ``confidence``: a group whose rate is 0 or 1 (or that is
    one person) never moves in the draws, which would make the gap look certain (a TPR of 0 of
    5 against 1,000 of 1,000 had the interval 1.000 to 1.000, the groups' own intervals
    allowing 0.57)."""
    pairs = [(point[g] - point[h], draw[:, g] - draw[:, h], np.hypot(floor[g], floor[h]))
             for point, draw, floor in zip(points, draws,
                                           floors or [np.zeros(len(p)) for p in points],
                                           strict=True)
             for g, h in combinations(np.flatnonzero(~np.isnan(point)), 2)]
    if not pairs:
        return float("nan"), float("nan")
    estimate = np.array([gap for gap, _, _ in pairs])                       # (P,)
    drawn = np.stack([gaps for _, gaps, _ in pairs], axis=1)                # (B, P)
    drawn = np.where(np.isfinite(drawn) & np.isfinite(estimate), drawn, np.nan)
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)   # a pair never drawn, a draw of none
        sd = np.nanstd(drawn, axis=0, ddof=1)
        scaled = np.abs(drawn - estimate) / np.where(sd > 0, sd, np.inf)
        c = float(np.nanpercentile(np.nanmax(scaled, axis=1), 100 * confidence))
    sd = np.nan_to_num(sd)
    if floors is not None:
        sd = np.fmax(sd, [floor for _, _, floor in pairs])
        c = float(np.fmax(c, norm.ppf(0.5 + confidence / 2)))
    half = np.where(np.isfinite(estimate), c * sd, 0.0)
    low, high = estimate - half, estimate + half
    folded_low = np.where((low <= 0) & (high >= 0), 0.0, np.fmin(np.abs(low), np.abs(high)))
    return float(np.max(folded_low)), float(np.max(np.fmax(np.abs(low), np.abs(high))))


def odds_basis(rows: list[dict[str, Any]]) -> str | None:
    """Which ranges the equalized odds difference of these groups' rows takes: ``"TPR and
    FPR"``, ``"FPR only"`` (under two groups have positives), ``"TPR only"`` (under two have
    negatives), or None (neither has a range)."""
    has = [sum(r[key] is not None for r in rows) >= 2 for key in ("tpr", "fpr")]
    return {(True, True): "TPR and FPR", (False, True): "FPR only",
            (True, False): "TPR only"}.get((has[0], has[1]))


def odds_caveat(across: dict[str, Any]) -> str:
    """`` (FPR only: under two groups have positives)`` where the equalized odds difference
    takes one range alone, else ``""``."""
    basis = across.get("equalized_odds_basis")
    why = {"FPR only": "positives", "TPR only": "negatives"}.get(basis or "")
    return f" ({basis}: under two groups have {why})" if why else ""


def parity_lines(parity: dict[str, Any], by: str) -> list[str]:
    """What ``audit accuracy`` prints of the parity for one positive class."""
    out = [f"parity for {parity['positive']!r} (selection: predicted {parity['positive']}; "
           f"TPR: of the {parity['positive']}, found; FPR: of the others, predicted "
           f"{parity['positive']}):"]
    for r in [*parity["groups"], parity["overall"]]:
        if not r["n"]:
            out.append(f"  {r['group']}: no rows")
            continue
        out.append(f"  {r['group']}: " + ", ".join(
            f"{label} {_rate(r, key)}" for key, label in (
                ("selection", "selection"), ("base_rate", "base rate"), ("tpr", "TPR"),
                ("fpr", "FPR"))))
    across = parity.get("across")
    if across:
        out.append(f"  across {by}: " + ", ".join(
            f"{key.replace('_', ' ')} {_difference(across, key)}"
            for key in ("demographic_parity_difference", "demographic_parity_ratio",
                        "equal_opportunity_difference", "equalized_odds_difference"))
            + odds_caveat(across))
    return out


def _rate(r: dict[str, Any], key: str) -> str:
    if r[key] is None:
        return "-"
    return f"{r[key]:.3f} [{r[f'{key}_low']:.3f}, {r[f'{key}_high']:.3f}]"


def _difference(across: dict[str, Any], key: str) -> str:
    if across[key] is None:
        return "-"
    interval = "" if across[f"{key}_low"] is None else \
        f" [{across[f'{key}_low']:.3f}, {across[f'{key}_high']:.3f}]"
    return f"{across[key]:.3f}{interval}"
