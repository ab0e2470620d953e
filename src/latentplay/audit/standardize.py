"""Is a gap between groups explained by how their photos were taken? Errors standardized over
strata of measured covariates.

A group whose photos are more often turned, dark or blurred is misread more often for that
reason alone. ``latentplay audit accuracy --adjust face_score,pose_yaw`` cuts each covariate
(a continuous attribute measured per row: ``data measure``, or a dataset's own) into quantile
strata, combines them, and gives each group the error it would have if its rows were spread
over the strata as all rows are (direct standardization,
:func:`~latentplay.metrics.verification.standardized_rate`). What the strata explain leaves
the gap; what remains is the gap among comparable photos. ``audit verify --adjust`` asks the
same of a verifier's non-matches.

Adjust only for what is not part of the group itself: standardizing a skin-tone gap over
image brightness, which skin tone sets, removes the very difference under audit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from latentplay import store as st
from latentplay.errors import UserError
from latentplay.metrics.verification import (
    SPARSE_PERSONS,
    SPARSE_UNITS,
    combined_strata,
    ratio,
    standardized_rate,
)
from latentplay.outputs import finite_or_none


def covariates(store: st.Store, names: Sequence[str], n_strata: int) -> np.ndarray:
    """``(N, C)`` float64 values of the continuous attributes ``names`` of ``store`` (NaN: not
    measured); a :class:`UserError` for a missing or categorical one, or ``n_strata`` outside
    2..20."""
    if not 2 <= n_strata <= 20:
        raise UserError(f"--strata must be in 2..20, got {n_strata}")
    out = []
    for name in names:
        attribute = store.schema.attribute_or_error(name)
        if attribute.kind != "continuous":
            raise UserError(f"--adjust {name} is {attribute.kind}; give measured (continuous) "
                            "attributes, e.g. face_score, pose_yaw, sharpness")
        out.append(np.asarray(store.labels(name), np.float64))
    return np.stack(out, axis=1)


def standardized_errors(errors: np.ndarray, groups: np.ndarray, names: Sequence[str],
                        values: np.ndarray, covariate_names: Sequence[str], n_strata: int,
                        measure: str, persons: np.ndarray | None = None, seed: int = 0
                        ) -> dict[str, Any]:
    """Each group's error, raw and standardized over the combined quantile strata of the
    covariates.

    Args:
        errors: ``(N,)`` per row: bool wrong, or an absolute error (NaN: no error known).
        groups: ``(N,)`` group codes into ``names`` (-1: in none).
        values: ``(N, C)`` covariate values (:func:`covariates`).
        measure: what ``errors`` are, for the output (``error rate``, ``mean absolute error``).
        persons: ``(N,)`` persons behind repeated photos (the bootstrap draws them whole).

    Returns:
        ``{"covariates", "strata", "strata_used", "cells", "cells_filled", "rows", "left_out",
        "measure", "groups": [{"group", "n", "error", "standardized", "low", "high",
        "strata_without_rows", "sparse_weight"}], "error_ratio", "standardized_ratio"}``;
        ``strata_used`` the strata of each covariate that hold rows (fewer than ``strata``
        where ties merge quantiles), ``cells_filled`` the cells that hold rows of ``cells``
        (``strata ** C``); ``strata_without_rows`` counts the cells other groups fill and the
        group does not (a cell empty for all has no weight and costs nothing);
        ``sparse_weight`` the share of all rows in cells where the group has 1 to 4 rows (its
        standardized error leans that much on a handful of rows).
    """
    errors = np.asarray(errors, np.float64)
    groups = np.asarray(groups)
    found = stratified_rates(errors, (groups >= 0) & np.isfinite(errors), groups, len(names),
                             values, n_strata, persons, seed, "rows")
    rows = [{"group": name, "n": g["n"], "error": g["rate"], "standardized": g["standardized"],
             "low": g["low"], "high": g["high"], "strata_without_rows": g["missing"],
             "sparse_weight": g["sparse"]}
            for name, g in zip(names, found["groups"], strict=True)]
    return {"covariates": list(covariate_names), **strata_frame(found), "rows": found["units"],
            "left_out": found["left_out"], "measure": measure, "groups": rows,
            "error_ratio": found["rate_ratio"], "standardized_ratio": found["standardized_ratio"]}


def stratified_rates(errors: np.ndarray, scored: np.ndarray, groups: np.ndarray, n_groups: int,
                     values: np.ndarray, n_strata: int, persons: np.ndarray | None, seed: int,
                     units: str) -> dict[str, Any]:
    """The standardization that ``audit accuracy --adjust`` and ``audit verify --adjust`` share,
    over the units (rows, genuine pairs) that are ``scored`` and have a value of every
    covariate.

    Args:
        errors: ``(U,)`` per unit: bool wrong, or an absolute error.
        scored: ``(U,)`` bool: the unit is in a group and has an error.
        groups: ``(U,)`` group codes ``0..n_groups-1`` (-1: in none).
        n_groups: the number of groups.
        values: ``(U, C)`` covariate values (NaN: none).
        n_strata: quantile strata per covariate; the cells are their ``n_strata ** C``
            combinations.
        persons: ``(U,)`` person of each unit (the bootstrap draws them whole); None:
            independent units.
        seed: seed of the bootstrap.
        units: what a unit is, for the error on too few (``rows``, ``genuine pairs``).

    Returns:
        ``{"strata", "strata_used", "cells_filled", "cells", "units", "left_out", "groups":
        [{"n", "rate", "standardized", "low", "high", "missing", "sparse"}], "rate_ratio",
        "standardized_ratio"}``: ``units`` those stratified, ``left_out`` the scored ones
        without a value of some covariate (``strata_used``, ``cells_filled``:
        :func:`filled_strata`); per group (in code order) as
        :func:`~latentplay.metrics.verification.standardized_rate`'s ``counts`` (summed),
        ``rate``, ``standardized``, ``interval``, ``missing`` and ``sparse``; the ratios
        highest over lowest among the groups with a rate, the standardized one None unless
        each of them has one (:func:`complete_ratio`).
    """
    keep = scored & np.isfinite(values).all(axis=1)
    if keep.sum() < 2 * n_strata:
        raise UserError(f"--adjust: {int(keep.sum())} {units} have a value of every covariate; "
                        "too few to stratify")
    codes, cells = combined_strata(values[keep], n_strata)
    found = standardized_rate(errors[keep], groups[keep], codes, n_groups, cells,
                              None if persons is None else persons[keep], seed=seed)
    rows = [{"n": int(found["counts"][g].sum()), "rate": finite_or_none(found["rate"][g]),
             "standardized": finite_or_none(found["standardized"][g]),
             "low": finite_or_none(found["interval"][g, 0]),
             "high": finite_or_none(found["interval"][g, 1]),
             "missing": int(found["missing"][g]), "sparse": float(found["sparse"][g])}
            for g in range(n_groups)]
    known = [r for r in rows if r["rate"] is not None]
    return {"strata": n_strata, **filled_strata(codes, n_strata, values.shape[1]), "cells": cells,
            "units": int(keep.sum()), "left_out": int((scored & ~keep).sum()), "groups": rows,
            "rate_ratio": ratio([r["rate"] for r in known]),
            "standardized_ratio": complete_ratio([r["standardized"] for r in known])}


def strata_frame(found: dict[str, Any]) -> dict[str, Any]:
    """The strata and cells of :func:`stratified_rates`, as both outputs state them."""
    return {key: found[key] for key in ("strata", "strata_used", "cells_filled", "cells")}


def filled_strata(codes: np.ndarray, n_strata: int, n_covariates: int) -> dict[str, Any]:
    """``{"strata_used", "cells_filled"}`` of ``(P,)`` codes of
    :func:`~latentplay.metrics.verification.combined_strata` over ``n_covariates`` covariates:
    per covariate the strata that hold units (fewer than ``n_strata`` where ties merge
    quantiles), and the cells that do."""
    digits = codes[:, None] // n_strata ** np.arange(n_covariates)[::-1] % n_strata  # (P, C)
    return {"strata_used": [len(np.unique(column)) for column in digits.T],
            "cells_filled": len(np.unique(codes))}


def strata_heading(adjusted: dict[str, Any], units: str) -> str:
    """``standardized over 4 quantile strata of frontal (ties leave 2 strata of frontal; 2 of 4
    cells filled, 200 rows; 3 without a value left out):``, ``units`` the count of units (``200
    rows``); ties and empty cells are said only where they leave fewer, and outputs older than
    ``strata_used`` / ``cells_filled`` read as all filled."""
    a = adjusted
    used = a.get("strata_used") or [a["strata"]] * len(a["covariates"])
    merged = [f"{n} strata of {name}" for name, n in zip(a["covariates"], used, strict=True)
              if n < a["strata"]]
    filled = a.get("cells_filled", a["cells"])
    cells = f"{a['cells']} cells" if filled == a["cells"] else f"{filled} of {a['cells']} cells filled"
    return (f"standardized over {a['strata']} quantile strata of {', '.join(a['covariates'])} "
            + (f"(ties leave {', '.join(merged)}; " if merged else "(") + f"{cells}, {units}"
            + (f"; {a['left_out']} without a value left out" if a["left_out"] else "") + "):")


def sparse_note(weight: float | None, units: str) -> str | None:
    """The caution on a standardized rate with ``weight`` (``sparse_weight``) of the pooled
    weight on strata where the group has under ``SPARSE_UNITS`` ``units`` or ``units`` of
    under ``SPARSE_PERSONS`` persons
    (:func:`~latentplay.metrics.verification.standardized_rate`); None below 0.5 %."""
    if not weight or not round(weight, 2):
        return None
    return (f"{weight:.0%} of the weight on strata where it has under {SPARSE_UNITS} {units} or "
            f"{units} of under {SPARSE_PERSONS} persons: only a rough guide, its interval too "
            "narrow")


def complete_ratio(values: list[float | None]) -> float | None:
    """Highest over lowest, None unless every group has a value: a ratio over the groups
    that could be standardized would hide the ones that could not."""
    return None if any(v is None for v in values) else ratio(values)  # type: ignore[arg-type]


def adjusted_lines(adjusted: dict[str, Any]) -> list[str]:
    """What ``audit accuracy`` prints of the standardized errors: an error rate with 3
    decimals, as the accuracies above it, a mean absolute error with 3 significant digits;
    raw, standardized and bounds alike."""
    a = adjusted
    out = [strata_heading(a, f"{a['rows']} rows")]
    form = ".3g" if a["measure"] == "mean absolute error" else ".3f"
    for r in a["groups"]:
        if r["error"] is None:
            out.append(f"  {r['group']}: no rows")
            continue
        std = "-" if r["standardized"] is None else (
            f"{r['standardized']:{form}} [{_bound(r['low'], form)}, {_bound(r['high'], form)}]")
        notes = []
        if r["strata_without_rows"]:
            notes.append(f"{r['strata_without_rows']} strata without its rows")
        sparse = sparse_note(r.get("sparse_weight"), "rows")
        if r["standardized"] is not None and sparse:
            notes.append(sparse)
        out.append(f"  {r['group']}: {a['measure']} {r['error']:{form}}, standardized {std}"
                   + (f" ({'; '.join(notes)})" if notes else ""))
    out.append(f"  ratio highest / lowest: {_ratio(a['error_ratio'])} raw, "
               f"{_ratio(a['standardized_ratio'])} standardized")
    return out


def _bound(x: float | None, form: str) -> str:
    """An interval bound in format ``form``; ``-`` where no bootstrap draw filled every stratum
    the group's rate uses (a small group with single rows in many cells)."""
    return "-" if x is None else f"{x:{form}}"


def _ratio(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}"
