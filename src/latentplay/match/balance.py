"""Balance diagnostics as MatchIt reports them: means, standardized mean differences (SMD) and
variance ratios of every covariate, before and after matching.

* SMD = (weighted mean treated - weighted mean control) / SD, where the SD depends on the
  estimand, as MatchIt's ``s.d.denom``: the treated group's SD for the effect on the treated
  (``ATT``, what matching treated units to controls estimates; the default), the control
  group's for ``ATC``, the pooled ``sqrt((var_t + var_c) / 2)`` for ``ATE``. It is taken from
  the full (unmatched) groups and used both before and after matching, so the SMD changes only
  through the means. A 0/1 column's variance is ``p (1 - p)``; an SD of (nearly) zero falls
  back to the pooled SD; a group with fewer than two values leaves the SMD undefined (NaN).
* Variance ratio = weighted var treated / weighted var control (left empty for 0/1 columns).
* After matching, treated units weigh 1 and each control weighs the sum over its treated
  partners of 1 / (number of controls that partner has), as in MatchIt with ``ratio > 1``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from latentplay.errors import UserError
from latentplay.match import SMD_THRESHOLD
from latentplay.outputs import finite_or_none

ESTIMANDS = ("ATT", "ATC", "ATE")
SMD_DENOMINATORS = {
    "ATT": "SD of the treated group before matching",
    "ATC": "SD of the control group before matching",
    "ATE": "pooled SD sqrt((var_t + var_c) / 2) before matching",
}
"""What the SMD is divided by, for each estimand (stated in ``summary.json``). A 0/1 column's
SD is ``sqrt(p (1 - p))``, as MatchIt standardizes binary covariates (cobalt's default reports
their raw difference of shares instead)."""
TINY_SD = float(np.sqrt(np.finfo(np.float64).eps))
"""SDs below this fall back to the pooled SD (MatchIt's rule)."""

COLUMNS = (
    "covariate",
    "type",
    "mean_treated_before",
    "mean_control_before",
    "smd_before",
    "var_ratio_before",
    "mean_treated_after",
    "mean_control_after",
    "smd_after",
    "var_ratio_after",
)
"""The statistics of each row of :func:`balance_table` (the columns a report needs)."""
FILE_COLUMNS = (*COLUMNS[:2], "matched_on", *COLUMNS[2:])
"""The fields of each row of :func:`balance_table` and the columns of ``balance.csv``
(``latentplay match run``): :data:`COLUMNS` and, after the type, ``matched_on``: 1 for a column
the run matched on (``--covariates``, ``--exact``, ``--second-caliper-on``,
``--propensity-covariates``), 0 for an attribute only checked (not balanced by design)."""


def matching_weights(n: int, treated_rows: np.ndarray, control_rows: np.ndarray) -> np.ndarray:
    """``(n,)`` weights of the matched sample; 0 for unmatched units.

    Args:
        n: number of units.
        treated_rows: ``(m,)`` unit of the treated side of each pair.
        control_rows: ``(m,)`` unit of the control side of each pair.
    """
    treated_rows, control_rows = np.asarray(treated_rows), np.asarray(control_rows)
    if treated_rows.shape != control_rows.shape or treated_rows.ndim != 1:
        raise UserError(f"treated_rows and control_rows must be (m,) pairs, got shapes "
                        f"{treated_rows.shape} and {control_rows.shape}")
    pairs = np.concatenate([treated_rows, control_rows])
    if len(pairs) and (pairs.min() < 0 or pairs.max() >= n):
        raise UserError(f"pairs name units {pairs.min()}..{pairs.max()}, beyond the {n} units")
    w = np.zeros(n, dtype=np.float64)
    if len(treated_rows) == 0:
        return w
    partners = np.bincount(treated_rows, minlength=n).astype(np.float64)
    w[np.unique(treated_rows)] = 1.0
    np.add.at(w, control_rows, 1.0 / partners[treated_rows])
    return w


def effective_sample_size(weights: np.ndarray) -> float:
    """Kish's effective sample size ``(sum w)^2 / sum w^2`` of ``(n,)`` weights (0 if all zero).

    With matching without replacement it is the number of matched controls (for ``ratio`` 1);
    controls reused with replacement count less than their number of pairs.
    """
    total2 = float((weights**2).sum())
    return float(weights.sum() ** 2 / total2) if total2 > 0 else 0.0


def _wmean_var(x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weighted mean and (frequency-style, ddof-corrected) variance of each column of ``(n, p)``
    ``x``; a NaN value (a unit without one, e.g. no face found) weighs nothing in its column."""
    known = np.isfinite(x)
    wk = w[:, None] * known  # (n, p)
    values = np.where(known, x, 0.0)
    total = wk.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (wk * values).sum(axis=0) / total
        dev2 = (wk * (values - mean) ** 2).sum(axis=0)
        ddof = (wk**2).sum(axis=0) / total  # reliability weights: unbiased for equal weights
        var = np.where(total > ddof, dev2 / (total - ddof), np.nan)  # NaN for an empty column
    return mean, var


def balance_table(
    x: np.ndarray,
    names: list[str],
    treated: np.ndarray,
    weights: np.ndarray | None = None,
    *,
    estimand: str = "ATT",
    matched_on: bool | Sequence[bool] | np.ndarray = True,
) -> list[dict]:
    """One row per column of ``(n, p)`` ``x`` with the :data:`FILE_COLUMNS` fields, the columns
    of ``balance.csv``.

    Args:
        x: covariate values of all units (0/1 columns are detected as binary; NaN marks a
            unit without a value, left out of that column's means and variances).
        names: ``p`` column names.
        treated: ``(n,)`` bool group.
        weights: ``(n,)`` matching weights (see :func:`matching_weights`); None: no "after".
        estimand: ``ATT`` (SMDs in SDs of the treated group), ``ATC`` (of the control group)
            or ``ATE`` (pooled SD); see :data:`SMD_DENOMINATORS`.
        matched_on: whether the columns were matched on (each row's ``matched_on`` 1, else 0):
            one bool for all, or ``(p,)`` bools, one per column.

    Raises:
        UserError: ``x`` not 2-D, or ``names``, ``treated``, ``weights`` or ``matched_on`` of
            another length than its columns or rows.
    """
    _check_estimand(estimand)
    x = np.asarray(x, dtype=np.float64)
    treated = np.asarray(treated, dtype=bool)
    if x.ndim != 2:
        raise UserError(f"x must be an (n, p) array of covariates, one row per unit, got shape "
                        f"{x.shape}")
    names = list(names)
    if len(names) != x.shape[1]:
        raise UserError(f"x has {x.shape[1]} covariate columns but names has {len(names)} names; "
                        "give one name per column")
    if treated.shape != (len(x),):
        raise UserError(f"treated must be ({len(x)},), one group per row of x, got shape "
                        f"{treated.shape}")
    if weights is not None:
        weights = np.asarray(weights, dtype=np.float64)
        if weights.shape != (len(x),):
            raise UserError(f"weights must be ({len(x)},), one per row of x, got shape "
                            f"{weights.shape} (see matching_weights)")
    on = _matched_on(matched_on, len(names))
    ones = np.ones(len(x))
    mt, vt = _wmean_var(x[treated], ones[treated])
    mc, vc = _wmean_var(x[~treated], ones[~treated])
    binary = np.all((x == 0) | (x == 1) | np.isnan(x), axis=0)
    sd = _smd_denominator(mt, vt, mc, vc, binary, estimand)
    if weights is not None:
        at, avt = _wmean_var(x[treated], weights[treated])
        ac, avc = _wmean_var(x[~treated], weights[~treated])
    rows = []
    for j, name in enumerate(names):
        row = {
            "covariate": name,
            "type": "binary" if binary[j] else "continuous",
            "mean_treated_before": mt[j],
            "mean_control_before": mc[j],
            "smd_before": _smd(mt[j], mc[j], sd[j]),
            "var_ratio_before": np.nan if binary[j] else _ratio(vt[j], vc[j]),
        }
        if weights is not None:
            row.update(
                mean_treated_after=at[j],
                mean_control_after=ac[j],
                smd_after=_smd(at[j], ac[j], sd[j]),
                var_ratio_after=np.nan if binary[j] else _ratio(avt[j], avc[j]),
            )
        else:
            row.update({c: np.nan for c in COLUMNS[6:]})
        row = {k: (float(v) if not isinstance(v, str) else v) for k, v in row.items()}
        rows.append({c: int(on[j]) if c == "matched_on" else row[c] for c in FILE_COLUMNS})
    return rows


def _matched_on(matched_on: bool | Sequence[bool] | np.ndarray, p: int) -> np.ndarray:
    """``matched_on`` of :func:`balance_table` as ``(p,)`` bools."""
    on = np.asarray(matched_on)
    if on.ndim == 0:
        return np.full(p, bool(on))
    if on.shape != (p,):
        raise UserError(f"matched_on must be one bool or ({p},), one per column of x, got shape "
                        f"{on.shape}")
    return on.astype(bool)


def _check_estimand(estimand: str) -> None:
    if estimand not in ESTIMANDS:
        raise UserError(f"unknown estimand {estimand!r}; choose from {', '.join(ESTIMANDS)}")


def _smd_denominator(
    mt: np.ndarray, vt: np.ndarray, mc: np.ndarray, vc: np.ndarray, binary: np.ndarray,
    estimand: str,
) -> np.ndarray:
    """``(p,)`` SD each column's mean difference is divided by, from the ``(p,)`` means and
    variances of the full treated (``mt``, ``vt``) and control (``mc``, ``vc``) groups; NaN
    where a group it needs has fewer than two values."""
    var_t = np.where(binary & ~np.isnan(vt), mt * (1.0 - mt), vt)
    var_c = np.where(binary & ~np.isnan(vc), mc * (1.0 - mc), vc)
    pooled = np.sqrt((var_t + var_c) / 2.0)
    sd = {"ATT": np.sqrt(var_t), "ATC": np.sqrt(var_c), "ATE": pooled}[estimand]
    return np.where(sd < TINY_SD, pooled, sd)


def _smd(a: float, b: float, sd: float) -> float:
    """``(a - b) / sd``; NaN when any is NaN, 0 for equal means, +-inf for an SD of 0."""
    if np.isnan(a) or np.isnan(b) or np.isnan(sd):
        return np.nan
    if a == b:
        return 0.0
    return (a - b) / sd if sd > 0 else float(np.copysign(np.inf, a - b))


def _ratio(a: float, b: float) -> float:
    if np.isnan(a) or np.isnan(b) or b <= 0:
        return np.nan
    return a / b


def summarize(rows: list[dict], threshold: float = SMD_THRESHOLD, estimand: str = "ATT") -> dict:
    """Largest and mean |SMD| before/after (None when infinite or undefined), how many
    covariates exceed ``threshold`` (an infinite |SMD| counts) and what the SMD is divided by
    (``estimand`` as in :func:`balance_table`)."""
    _check_estimand(estimand)

    def stats(key: str) -> dict:
        values = np.abs([r[key] for r in rows], dtype=np.float64)
        values = values[~np.isnan(values)]
        if len(values) == 0:
            return {"max_abs_smd": None, "mean_abs_smd": None, f"n_over_{threshold:g}": None}
        return {
            "max_abs_smd": finite_or_none(values.max()),
            "mean_abs_smd": finite_or_none(values.mean()),
            f"n_over_{threshold:g}": int((values > threshold).sum()),
        }

    return {"covariates": len(rows), "estimand": estimand,
            "smd_denominator": SMD_DENOMINATORS[estimand],
            "before": stats("smd_before"), "after": stats("smd_after")}
