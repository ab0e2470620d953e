"""The report section of ``latentplay audit accuracy`` (``accuracy.json``): accuracy per
group, and where asked the parity for a positive class, errors standardized over measured
covariates and calibration within groups."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from latentplay.contingency import sparse_reason
from latentplay.errors import UserError
from latentplay.outputs import gaps_text
from latentplay.report.images import file_figure
from latentplay.report.page import (
    Block,
    Facts,
    Section,
    Table,
    cell,
    interval,
    number,
    p_is,
    share,
    share_interval,
)


def section(run: Path, a: dict[str, Any]) -> Section:
    """The section of ``accuracy.json`` (``latentplay audit accuracy``)."""
    if "groups" not in a or "overall" not in a:
        raise UserError(f"{run / 'accuracy.json'} is not the output of `latentplay audit "
                        "accuracy`")
    rows = [*a["groups"], a["overall"]]
    facts = [("store", str(a.get("data"))), ("predictions, labels",
                                             f"{a.get('predicted')}, {a.get('truth')} "
                                             f"({a.get('kind')})"),
             ("groups", str(a.get("by"))), ("left out", f"{number(a.get('left_out'))} rows "
                                                        "without a label or a group")]
    unnamed = a.get("unnamed")
    if unnamed:      # labelled and grouped, but with a class the predictions have no name for
        facts.append(("labels the predictions cannot name", f"{number(unnamed['rows'])} rows "
                      f"({', '.join(unnamed['classes'])}), left out"))
    if a.get("persons"):
        facts.append(("persons", f"{number(a['persons'])}: intervals {a.get('intervals')}"
                      + ("" if a.get("kind") == "values" else
                         "; the plain tests between groups take rows as independent, the "
                         "tests over persons (Rao-Scott) correct for them")))
    across = a.get("across") or {}
    if a.get("kind") == "values":
        unread = any(r.get("no_reading") for r in rows)  # labelled rows the errors leave out
        table = Table.of(["group", "rows", *(["without a reading"] if unread else []),
                          "mean absolute error", "interval", "bias", "interval", "correlation"],
                         [[r["group"], r["n"], *([r.get("no_reading")] if unread else []),
                           r.get("mae"), interval(r.get("mae_low"), r.get("mae_high")),
                           r.get("bias"), interval(r.get("bias_low"), r.get("bias_high")),
                           r.get("r")]
                          for r in rows],
                         "Reading minus label, per group, over the rows read; 95% intervals: "
                         f"{a.get('intervals', 'normal')}.")
        if "mae_ratio" in across:
            facts.append(("MAE ratio, gap", f"{number(across.get('mae_ratio'))}, "
                                            f"{number(across.get('mae_gap'))}"))
    else:
        steps = "within_one" in a["overall"]
        table = Table.of(["group", "rows", "correct", "accuracy", "95% interval",
                          "no prediction", "accuracy where predicted",
                          *(["within one class", "mean offset (classes)"] if steps else [])],
                         [[r["group"], r["n"], r["correct"], share(r.get("accuracy")),
                           share_interval(r.get("low"), r.get("high")), r["no_prediction"],
                           share(r.get("accuracy_predicted")),
                           *([share(r.get("within_one")), r.get("offset")] if steps else [])]
                          for r in rows],
                         "A row without a prediction counts as an error; 95% intervals: "
                         f"{a.get('intervals', 'Wilson')}."
                         + (" Ordered classes: the share predicted at most one class off, and "
                            "the mean predicted place minus the true one (+: later classes)."
                            if steps else ""))
        if "error_ratio" in across:
            chi2 = across.get("chi2") or {}
            facts.append(("error ratio, accuracy gap", f"{number(across.get('error_ratio'))}, "
                                                       f"{share(across.get('accuracy_gap'))}"
                          + _chance(across)))
            seen = across.get("detectable_gap")
            if seen:
                persons = ("" if seen.get("gap_over_persons") is None
                           else f" ({share(seen['gap_over_persons'])} over persons)")
                facts.append(("smallest gap it sees", f"{share(seen['gap'])}{persons} between "
                              f"{seen['group']} and the rest (80% power, 5% test)"))
            if chi2:
                facts.append(("chi-square of equal accuracy",
                              f"{number(chi2.get('statistic'))} on {number(chi2.get('dof'))} "
                              f"dof, {p_is(chi2.get('p_value'))}"
                              + ("" if chi2.get("p_value_simulated") is None else
                                 f"; {sparse_reason(chi2)}: "
                                 f"{p_is(chi2['p_value_simulated'])} simulated with the "
                                 "margins fixed")))
                facts += _over_persons("chi-square over persons", chi2)
    trend = across.get("trend")
    along = "" if not trend else f"along the groups' order{gaps_text(trend.get('gaps'))}"
    if trend and "slope" in trend:
        facts.append((along, f"absolute error {number(trend['slope'])} per "
                      f"step, 95% {interval(trend.get('low'), trend.get('high'))}"))
    elif trend:
        facts.append((along, f"errors r {number(trend['r'])} (+: more "
                      f"later in the order), M2 {number(trend['statistic'])}, "
                      f"{p_is(trend['p_value'])}"))
        facts += _over_persons("trend over persons", trend)
    blocks: list[Block] = [Facts(facts), table,
                           file_figure(run / "accuracy.png", "Accuracy per group.")]
    if a.get("adjusted"):
        blocks.append(_adjusted_table(a["adjusted"]))
    if a.get("parity"):
        blocks += _parity_blocks(run, a["parity"])
    if "calibration" in a:
        blocks += _calibration_blocks(run, a)
    return Section(f"Accuracy of {a.get('predicted')} by {a.get('by')}", "accuracy", blocks)


def _chance(across: dict[str, Any]) -> str:
    """`` (0.031 by chance alone ...; 0.052 over persons)``: the gap that equally accurate
    groups of these sizes show, when the summary has it."""
    if across.get("chance_gap") is None:
        return ""
    persons = across.get("chance_gap_over_persons")
    return (f" ({share(across['chance_gap'])} by chance alone in equally accurate groups of "
            "these sizes" + ("" if persons is None else f"; {share(persons)} over persons")
            + ")")


def _over_persons(name: str, test: dict[str, Any]) -> list[tuple[str, str]]:
    """A fact of ``test``'s Rao-Scott version over persons (:mod:`latentplay.clustered`),
    when the summary has one."""
    over = test.get("persons_test")
    if not over:
        return []
    return [(f"{name} (Rao-Scott)",
             f"F {number(over['statistic'])} on {number(over['ndf'])} and "
             f"{number(over['ddf'])} dof, {p_is(over['p_value'])}; {over['clusters']} persons, "
             f"design effect {number(over['design_effect'])}")]


def _parity_blocks(run: Path, parity: dict[str, Any]) -> list[Block]:
    """Selection, base rate, TPR and FPR per group for one positive class, and the parity
    differences (:mod:`latentplay.audit.parity`)."""
    from latentplay.audit.parity import odds_caveat

    positive = parity["positive"]
    rows = [r for r in [*parity["groups"], parity["overall"]] if r["n"]]
    table = Table.of(["group", "rows", f"selection ({positive})", "95% interval", "base rate",
                      "TPR", "95% interval", "FPR", "95% interval"],
                     [[r["group"], r["n"], share(r["selection"]),
                       share_interval(r["selection_low"], r["selection_high"]),
                       share(r["base_rate"]), share(r["tpr"]),
                       share_interval(r["tpr_low"], r["tpr_high"]), share(r["fpr"]),
                       share_interval(r["fpr_low"], r["fpr_high"])] for r in rows],
                     f"Selection: the share predicted {positive}; base rate: the share truly "
                     f"{positive}; TPR: of the {positive}, the share found; FPR: of the others, "
                     f"the share predicted {positive}. A row without a prediction is not "
                     "selected.")
    across = parity.get("across") or {}
    facts = [(key.replace("_", " "),
              f"{share(across[key])} {share_interval(across[f'{key}_low'], across[f'{key}_high'])}"
              + (odds_caveat(across) if key == "equalized_odds_difference" else ""))
             for key in ("demographic_parity_difference", "demographic_parity_ratio",
                         "equal_opportunity_difference", "equalized_odds_difference")
             if across.get(key) is not None]
    return [*([Facts(facts)] if facts else []), table,
            file_figure(run / "parity.png", f"Parity for {positive} per group.")]


def _adjusted_table(adjusted: dict[str, Any]) -> Table:
    """Each group's error, raw and standardized over strata of measured covariates; its
    ``sparse_weight`` highlighted where the printout cautions on it (— in outputs older than
    it)."""
    from latentplay.audit.standardize import SPARSE_PERSONS, SPARSE_UNITS, sparse_note, strata_heading

    measure = adjusted["measure"]
    rows = [[cell(r["group"]), cell(r["n"]), cell(r["error"]), cell(r["standardized"]),
             cell(interval(r["low"], r["high"])), cell(r["strata_without_rows"]),
             cell(r.get("sparse_weight"), flag=r["standardized"] is not None
                  and sparse_note(r.get("sparse_weight"), "rows") is not None)]
            for r in adjusted["groups"]]
    heading = strata_heading(adjusted, f"{adjusted['rows']} rows")
    return Table(["group", "rows", measure, f"standardized {measure}", "95% interval",
                  "strata without its rows", "sparse weight"], rows,
                 f"S{heading[1:]} each group's error as if its rows were spread over the strata "
                 "as all rows are. Ratio highest / lowest: "
                 f"{number(adjusted['error_ratio'])} raw, "
                 f"{number(adjusted['standardized_ratio'])} standardized; 95% intervals: "
                 f"bootstrap. Sparse weight: the share of all rows in strata where the group has "
                 f"under {SPARSE_UNITS} rows or rows of under {SPARSE_PERSONS} persons; "
                 "highlighted (*), its standardized error is only a rough guide and its interval too "
                 "narrow.")


def _calibration_blocks(run: Path, a: dict[str, Any]) -> list[Block]:
    """The calibration per group of ``accuracy.json`` (:mod:`latentplay.audit.calibration`)."""
    from latentplay.audit.calibration import ece_p_text

    cal = a["calibration"]
    rows = [r for r in [*cal["groups"], cal["overall"]] if r.get("n")]
    threshold = cal.get("threshold")
    shared = bool(cal.get("null_over_photos"))  # the draws were made again, sharing persons' answers
    table = Table.of(["group", "rows", "mean confidence", "accuracy", "over-confidence",
                      "95% interval", "ECE", "ECE by chance", "p"]
                     + (["by chance, shared", "p, shared"] if shared else []),
                     [[r["group"], r["n"], share(r["confidence"]), share(r["accuracy"]),
                       share(r["overconfidence"]), share_interval(r["low"], r["high"]),
                       share(r["ece"]), share(r["ece_null"]),
                       ece_p_text(r["ece_p"], cal["draws"])]
                      + ([share(r["ece_null_shared"]), ece_p_text(r["ece_p_shared"], cal["draws"])]
                         if shared else []) for r in rows],
                     f"Calibration of {a.get('confidence')}: over-confidence is the mean "
                     "confidence minus the accuracy (+: surer than right); ECE over "
                     f"{cal['bins']} {'equal-row' if cal.get('binning') == 'mass' else 'equal-width'}"
                     " bins beside the mean ECE of a calibrated "
                     "classifier with the same confidences, and its simulated p, (1 + the draws "
                     "at least as large) / (draws + 1)"
                     + ("; the draws take each photo alone, which repeated persons are not, "
                        "so that p is too small; \"shared\": the same with one draw per person "
                        "deciding all its photos' answers, as alike as calibrated answers can be: "
                        "read p as between the two." if shared else "."))
    tables = [table]
    if threshold is not None:
        tables.append(Table.of(
            ["group", "rows", f"answered at >= {threshold:g}", "their accuracy", "95% interval",
             "errors passed"],
            [[r["group"], r["n"], share(r["selective"]["coverage"]),
              share(r["selective"]["accuracy"]),
              share_interval(r["selective"]["low"], r["selective"]["high"]),
              share(r["selective"]["errors_passed"])] for r in rows],
            f"Answering only at confidence {threshold:g} or more: the share of each group "
            "answered, their accuracy (95% interval: Wilson's, or a bootstrap over persons) "
            "and the share of the group's errors among the answered."))
    facts = []
    across = cal.get("across") or {}
    if across:
        facts.append(("over-confidence gap, ECE gap", f"{share(across['overconfidence_gap'])}, "
                                                      f"{share(across['ece_gap'])}"))
    if across.get("coverage_gap") is not None:
        facts.append((f"at confidence >= {threshold:g}",
                      f"coverage gap {share(across['coverage_gap'])}, accuracy gap "
                      f"{share(across.get('selective_accuracy_gap'))}"))
    if across.get("trend"):
        t = across["trend"]
        facts.append((f"along the groups' order{gaps_text(t.get('gaps'))}",
                      f"over-confidence {number(t['slope'])} per step, 95% "
                      f"{interval(t['low'], t['high'])}"))
    if cal.get("without_confidence"):
        facts.append(("without a confidence", f"{number(cal['without_confidence'])} rows"))
    return [*([Facts(facts)] if facts else []), *tables,
            file_figure(run / "calibration.png", "Reliability per group and over-confidence.")]
