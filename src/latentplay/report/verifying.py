"""The report section of ``latentplay audit verify``: per group the verification measures,
the error rates at the common threshold with their intervals, the differentials between groups,
and the DET, distance and rate figures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from latentplay.errors import UserError
from latentplay.report.files import read_json
from latentplay.report.images import file_figure
from latentplay.report.page import Facts, Section, Table, cell, number

COMPARISON_FILE = "verification_comparison.json"  # written by audit.verification.verify_columns


def sections(run: Path, v: dict[str, Any]) -> list[Section]:
    """The sections of ``verification.json`` (already read as ``v``) of directory ``run``."""
    if "groups" not in v or "overall" not in v:
        raise UserError(f"{run / 'verification.json'} is not the output of `latentplay audit "
                        "verify`")
    pairs = v.get("pairs") or {}
    source = pairs.get("file") or (f"drawn from {pairs.get('identity')} (up to "
                                   f"{number(pairs.get('per_group'))} of each kind per group: "
                                   "a small group has fewer)")
    chosen = v.get("threshold_from") or {}
    how = (f"FMR {number(chosen['fmr'])} over all impostor pairs" if "fmr" in chosen
           else "given")
    facts = Facts([("store", str(v.get("data"))), ("column", str(v.get("column"))),
                   ("distance", str(v.get("metric"))), ("pairs", source),
                   ("pairs used", number(pairs.get("used"))),
                   ("left out: unconverted / no face found",
                    f"{number(pairs.get('unconverted'))} / {number(pairs.get('flagged_dropped'))}"),
                   ("common threshold", f"d < {number(v.get('threshold'))} ({how})"),
                   ("accuracy protocol", f"{number(v.get('folds'))}-fold, threshold chosen on "
                                         "the other folds"),
                   *(("note", str(note)) for note in v.get("notes") or []),
                   *([("caution", str(v["caution"]))] if v.get("caution") else [])])
    shown = [*v["groups"], v["overall"]] if v.get("by") else [v["overall"]]
    tar_keys = list((v["overall"].get("tar_at_fmr") or {}).keys())
    detects = any(r.get("no_face_share") is not None for r in shown)
    header = ["group", "faces", *(["no face found", "pairs left out"] if detects else []),
              "genuine pairs", "impostor pairs", "accuracy", "sd", "AUC", "EER",
              "FMR [95%]", "FNMR [95%]", *(f"TAR at FMR {k}" for k in tar_keys)]
    rows = []
    for r in shown:
        tars = r.get("tar_at_fmr") or {}
        rows.append([r.get("group"), r.get("faces"),
                     *([_share(r.get("no_face_share")), r.get("flagged_dropped")]
                       if detects else []),
                     r.get("genuine"), r.get("impostor"),
                     *(_short(r.get(k)) for k in ("accuracy", "accuracy_std", "auc", "eer")),
                     _rate(r, "fmr"), _rate(r, "fnmr"), *(_short(tars.get(k)) for k in tar_keys)])
    measure, unequal = v.get("accuracy_measure"), v.get("unbalanced")
    table = Table.of(
        header, rows,
        "Accuracy, AUC, EER and TAR are each group's own (its best thresholds)"
        + (f"; accuracy is {measure}" if measure else "")
        + (f" (unequal numbers in {', '.join(unequal)})" if unequal else "")
        + "; FMR and FNMR are at the common threshold, with 95% intervals: "
        f"{v.get('intervals', 'Wilson')}. TAR at an FMR needs at least 1/FMR impostor pairs.")
    blocks: list[Any] = [facts, table]
    diff = v.get("differentials")
    if diff:
        blocks.append(Table.of(
            ["mean accuracy", "accuracy sd", "skewed error ratio", "FMR ratio", "FNMR ratio"],
            [[diff.get("accuracy_mean"), diff.get("accuracy_std"),
              diff.get("skewed_error_ratio"), _rate(diff, "fmr_ratio"), _rate(diff, "fnmr_ratio")]],
            "Across groups: skewed error ratio = highest over lowest error (1 - accuracy); FMR "
            "and FNMR ratios = highest over lowest rate at the common threshold (— when the "
            "lowest is 0), each over the groups that have it, with a 95% interval that holds "
            "every two groups' ratio at once (from 1: the groups may well be equal)."
            + _left_out(diff)))
    trend = v.get("trend")
    if trend:
        steps = [trend.get(k) or {} for k in ("fmr", "fnmr")]
        blocks.append(Table.of(
            ["rate", "groups", "change per step", "95% interval", "pairs"],
            [[name, _groups_fitted(s, trend), _short(s.get("slope")),
              _interval([s.get("low"), s.get("high")]), s.get("pairs")]
             for name, s in zip(("FMR", "FNMR"), steps, strict=True)],
            f"Along the order of the groups ({' < '.join(trend.get('groups', []))}): the "
            "least-squares slope of the errors at the common threshold on the group's place, "
            f"per step of the order; 95% intervals: {trend.get('intervals')}."))
    adjusted = v.get("adjusted")
    if adjusted:
        blocks.append(_adjusted_table(adjusted))
    figures = (("det.png", "DET curve of each group; dots: the common threshold."),
               ("rates.png", "False match and non-match rates at the common threshold, 95% "
                             "intervals."),
               ("scores.png", "Distances of genuine and impostor pairs per group."),
               ("hardest.png", "Each group's closest impostor pairs and farthest genuine "
                               "pairs; red distances are errors at the common threshold."
                               + _left_out_of_hardest(v.get("hardest"))))
    blocks += [file_figure(run / name, caption) for name, caption in figures
               if (run / name).exists()]
    return [Section(f"Verification with {v.get('column')}", f"verification-{v.get('column')}",
                    blocks)]


def comparison_sections(run: Path, c: dict[str, Any]) -> list[Section]:
    """The comparison of several columns (``verification_comparison.json``, read as ``c``)
    and then each column's own sections (from ``run/<column>/``)."""
    columns = c.get("columns")
    if not isinstance(columns, list) or not isinstance(c.get("per_column"), dict):
        raise UserError(f"{run / COMPARISON_FILE} is not the output of "
                        "`latentplay audit verify --column A,B`")
    rows = []
    for column in columns:
        r = c["per_column"][column]
        diff = r.get("differentials") or {}
        rows.append([column, _short(r["overall"].get("accuracy")),
                     _short(r["overall"].get("auc")), _short(r["overall"].get("eer")),
                     _short(diff.get("accuracy_std")), _short(diff.get("skewed_error_ratio")),
                     _rate(diff, "fmr_ratio"), _rate(diff, "fnmr_ratio"),
                     r.get("threshold")])
    blocks: list[Any] = [
        Facts([("store", str(c.get("data"))), ("groups", str(c.get("by"))),
               ("pairs, the same for every column", number(c.get("pairs_used"))),
               ("thresholds", f"each column's own, at FMR {number(c.get('fmr'))} over all "
                              "impostor pairs")]),
        Table.of(["column", "accuracy", "AUC", "EER", "accuracy sd across groups",
                  "skewed error ratio", "FMR ratio", "FNMR ratio", "threshold"], rows,
                 "All pairs together, and the differentials between groups."
                 + _left_out(next((r.get("differentials") for r in c["per_column"].values()
                                   if (r.get("differentials") or {}).get("left_out")), None)))]
    if (run / "comparison.png").exists():
        blocks.append(file_figure(run / "comparison.png", "Accuracy, false match and false "
                                  "non-match rate of every group in every column."))
    sections = [Section("Columns compared", "comparison", blocks)]
    for column in columns:
        path = run / column / "verification.json"
        if path.exists():
            sections += sections_of(run / column)
    return sections


def sections_of(run: Path) -> list[Section]:
    """The sections of the verification directory ``run``."""
    return sections(run, read_json(run / "verification.json"))


def _groups_fitted(step: dict[str, Any], trend: dict[str, Any]) -> str:
    """``monk_1 .. monk_6 (no pairs in monk_3)``: the groups a rate's trend was fitted on
    (outputs older than its ``groups``: the trend's)."""
    groups = step.get("groups") or trend.get("groups") or []
    if not groups:
        return "—"
    gaps = step.get("gaps") or []
    return f"{groups[0]} .. {groups[-1]}" + (f" (no pairs in {', '.join(gaps)})" if gaps else "")


def _short(value: float | None) -> float | None:
    return None if value is None else float(f"{value:.3g}")


def _adjusted_table(adjusted: dict[str, Any]) -> Table:
    """Each group's FNMR, raw and standardized over strata of measured covariates; its
    ``sparse_weight`` highlighted where the printout cautions on it (— in outputs older than
    it)."""
    from latentplay.audit.standardize import sparse_note, strata_heading
    from latentplay.metrics.verification import SPARSE_PERSONS, SPARSE_UNITS

    rows = [[cell(g.get("group")), cell(g.get("genuine")), cell(_short(g.get("fnmr"))),
             cell(_short(g.get("standardized"))), cell(_interval(g.get("interval"))),
             cell(g.get("strata_without_pairs")),
             cell(g.get("sparse_weight"), flag=g.get("standardized") is not None
                  and sparse_note(g.get("sparse_weight"), "pairs") is not None)]
            for g in adjusted.get("groups", [])]
    rows.append([cell(v) for v in ("FNMR ratio", None, _short(adjusted.get("fnmr_ratio")),
                                   _short(adjusted.get("standardized_ratio")), None, None, None)])
    heading = strata_heading(adjusted, f"{number(adjusted.get('pairs'))} genuine pairs")
    return Table(["group", "genuine pairs", "FNMR", "standardized FNMR", "95% interval",
                  "strata without pairs", "sparse weight"], rows,
                 f"FNMR {heading} each group's FNMR as if its genuine pairs were spread over the "
                 "strata as all pairs are. A gap that shrinks was the photos'; what is left is the "
                 f"gap among comparable pairs. Sparse weight: the share of all pairs in strata "
                 f"where the group has under {SPARSE_UNITS} pairs or pairs of under "
                 f"{SPARSE_PERSONS} persons; highlighted (*), its standardized FNMR is only a rough "
                 "guide and its interval too narrow.")


def _left_out(diff: dict[str, Any] | None) -> str:
    """`` Note: monk_4 left out of the accuracy figures: too few pairs for the folds.`` where
    the differentials leave groups with pairs out (``left_out``), else nothing."""
    from latentplay.audit.verification import left_out_note

    note = left_out_note(diff)
    return f" Note: {note}." if note else ""


def _left_out_of_hardest(choice: dict[str, Any] | None) -> str:
    """`` N of M groups shown, ...; left out: a, b.`` where ``hardest.png`` leaves groups out
    (``hardest`` of ``verification.json``, every group named), and `` No pairs: c.`` for
    groups without a pair; else nothing."""
    from latentplay.audit.verification import hardest_notes

    return "".join(f" {note[0].upper()}{note[1:]}." for note in hardest_notes(choice or {}, None))


def _interval(bounds: list[float | None] | None) -> str:
    if not bounds or bounds[0] is None or bounds[1] is None:
        return "—"
    return f"[{bounds[0]:.2g}, {bounds[1]:.2g}]"


def _share(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f} %"


def _rate(r: dict[str, Any], key: str) -> str:
    """``rate [low, high]``: three significant digits, two for the bounds (the rate alone where
    it has none: a ratio of outputs older than its interval)."""
    if r.get(key) is None:
        return "—"
    low, high = r.get(f"{key}_low"), r.get(f"{key}_high")
    return f"{r[key]:.3g}" + ("" if low is None or high is None else f" [{low:.2g}, {high:.2g}]")
