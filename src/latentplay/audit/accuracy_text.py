"""What ``latentplay audit accuracy`` prints of its summary
(:func:`~latentplay.audit.accuracy.group_accuracy`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from latentplay.audit.calibration import calibration_lines
from latentplay.audit.parity import parity_lines
from latentplay.audit.standardize import adjusted_lines
from latentplay.contingency import sparse_reason
from latentplay.outputs import first_named, gaps_text, p_text


def accuracy_lines(s: dict[str, Any]) -> list[str]:
    """The lines of an accuracy summary: per group, across groups, and the parity,
    standardized errors and calibration where they were asked for."""
    by = s["by"]
    unnamed = s.get("unnamed")
    out = [f"{s['predicted']} against {s['truth']} ({s['kind']}), by {by}; {s['left_out']} "
           "rows without a label or a group left out"
           + ("" if not unnamed else f"; {unnamed['rows']} rows labelled "
              f"{', '.join(unnamed['classes'])}, which the predictions cannot name, left out")]
    if s["persons"]:
        tests = "" if s["kind"] == "values" else (
            "; the tests between groups take rows as independent (their p-values are too "
            "small) and are given again over persons (Rao-Scott)")
        out.append(f"the rows show {s['persons']} persons: intervals {s['intervals']}{tests}")
    for r in [*s["groups"], s["overall"]]:
        out.append(f"  {r['group']}: " + _group_text(r, s["kind"] == "values"))
    across = s["across"] or {}
    if "error_ratio" in across:
        ratio = (f"{across['error_ratio']:.2f}" if across["error_ratio"] is not None else
                 "- (no errors in " + _names(s["groups"], lambda r: r["correct"] == r["n"]) + ")")
        chi2 = across.get("chi2")
        persons = across.get("chance_gap_over_persons")
        out.append(f"  across groups: error ratio {ratio}, accuracy gap "
                   f"{across['accuracy_gap']:.3f} ({across['chance_gap']:.3f} by chance alone in "
                   "equally accurate groups of these sizes"
                   + ("" if persons is None else f"; {persons:.3f} over persons") + ")"
                   + (f", chi-square p {p_text(chi2['p_value'])}" if chi2 else "")
                   + _simulated(chi2) + _over_persons(chi2))
        seen = across["detectable_gap"]
        persons = ("" if seen.get("gap_over_persons") is None
                   else f" ({seen['gap_over_persons']:.3f} over persons)")
        out.append(f"  the smallest gap this audit sees (80 % power, 5 % test): "
                   f"{seen['gap']:.3f}{persons} between {seen['group']} and the rest; a smaller "
                   "one may go unnoticed")
    elif "mae_ratio" in across:
        ratio = (f"{across['mae_ratio']:.2f}" if across["mae_ratio"] is not None else
                 "- (no error in " + _names(s["groups"], lambda r: r["mae"] == 0) + ")")
        out.append(f"  across groups: MAE ratio {ratio}, MAE gap {across['mae_gap']:.3g}")
    trend = across.get("trend")
    along = "" if not trend else f"  along {by}{gaps_text(trend.get('gaps'))}:"
    if trend and "slope" in trend:
        out.append(f"{along} absolute error {trend['slope']:+.3g} per step "
                   f"[{trend['low']:+.3g}, {trend['high']:+.3g}]")
    elif trend:
        out.append(f"{along} errors trend r {trend['r']:+.3f} (+: more errors later in "
                   f"the order), M2 {trend['statistic']:.1f}, p {p_text(trend['p_value'])}"
                   + _over_persons(trend))
    if "parity" in s:
        out += parity_lines(s["parity"], by)
    if "adjusted" in s:
        out += adjusted_lines(s["adjusted"])
    if "calibration" in s:
        out += calibration_lines(s)
    return out


def _over_persons(test: dict[str, Any] | None) -> str:
    """``"; over 120 persons p 0.11 (design effect 3.41)"`` for a test with a Rao-Scott
    version, why there is none where it was tried (its ``persons_test`` None; its
    ``persons_refused`` where the table is too large for one), else nothing."""
    over = (test or {}).get("persons_test")
    if over is None and (test or {}).get("persons_refused"):
        return f"; no test over persons: {test['persons_refused']}"
    if "persons_test" in (test or {}) and over is None:
        return ("; no test over persons (a group all of one person's photos, both right and "
                "wrong, or all of one outcome's: how they split cannot be measured over "
                "persons; or persons that do not differ)")
    if not over:
        return ""
    return (f"; over {over['clusters']} persons p {p_text(over['p_value'])} "
            f"(design effect {over['design_effect']:.2f})")


NAMES_SHOWN = 10
"""At most this many groups without errors are named in the line of an undefined ratio."""


def _names(groups: list[dict[str, Any]], zero: Callable[[dict[str, Any]], bool]) -> str:
    """The names of the ``groups`` with rows for which ``zero`` holds (the groups without
    errors that leave a ratio of errors undefined), the first :data:`NAMES_SHOWN` of them and
    how many more (by person, thousands of groups made one line of 30,000 characters)."""
    return first_named([r["group"] for r in groups if r["n"] and zero(r)], NAMES_SHOWN)


def _group_text(r: dict[str, Any], values: bool) -> str:
    """One group's accuracy (classes) or error and bias (values)."""
    unread = "" if not r.get("no_reading") else f"; {r['no_reading']} without a reading left out"
    if not r["n"] or (values and r["mae"] is None):
        return ("no rows" if not r["n"] else f"too few rows ({r['n']})") + unread
    if values:
        def interval(low: float | None, high: float | None, sign: str = "") -> str:
            return "" if low is None else f" [{low:{sign}.3g}, {high:{sign}.3g}]"

        one = "" if r["mae_low"] is not None else "; one person: no interval"
        return (f"mean absolute error {r['mae']:.3g}{interval(r['mae_low'], r['mae_high'])}, "
                f"bias {r['bias']:+.3g}{interval(r['bias_low'], r['bias_high'], '+')} "
                f"({r['n']} rows{unread}{one})")
    steps = "" if r.get("within_one") is None else \
        f", within one class {r['within_one']:.3f}" + (
            "" if r["offset"] is None else f", {r['offset']:+.2f} classes on average")
    rest = ")" if not r["no_prediction"] else (
        f"; {r['no_prediction']} without a prediction, "
        + ("none" if r["accuracy_predicted"] is None else f"{r['accuracy_predicted']:.3f}")
        + " of the rest right)")
    return (f"accuracy {r['accuracy']:.3f} [{r['low']:.3f}, {r['high']:.3f}]{steps} "
            f"({r['correct']} of {r['n']}{rest}")


def _simulated(chi2: dict[str, Any] | None) -> str:
    """The simulated p-value of a sparse table's chi-square, said with why it is there."""
    if not chi2 or chi2.get("p_value_simulated") is None:
        return ""
    return (f" ({sparse_reason(chi2)}: p {p_text(chi2['p_value_simulated'])} simulated with "
            "the margins fixed)")
