"""The report of a match run directory (``latentplay match run``): treatment, method, counts
and effective sample size, the balance table before/after (|SMD| above 0.1 highlighted), the
effect estimate with its interval, face verification, and the figures."""

from __future__ import annotations

import csv
import json
import math
import re
from pathlib import Path
from typing import Any

from latentplay.errors import UserError
from latentplay.match import DISTANCE_LABELS, OBSERVED_ONLY, interval_kinds
from latentplay.match.balance import COLUMNS as BALANCE_COLUMNS
from latentplay.report.files import read_csv, read_json
from latentplay.report.images import file_figure
from latentplay.report.page import (
    SMD_THRESHOLD,
    Block,
    Cell,
    Code,
    Facts,
    Page,
    Section,
    Table,
    Text,
    cell,
    interval,
    number,
    to_float,
)

FIGURES = (
    ("love_plot.png", "Love plot: |standardized mean difference| of every covariate before "
                      "(hollow) and after (filled) matching, with the 0.1 line: the covariates "
                      "matched on above, the attributes only checked (not matched on, so not "
                      "balanced by design) in a grey panel below; with more than 40 rows the most "
                      "imbalanced, shared between the panels."),
    ("attribute_means.png", "Each group's means before and after matching: of the binary "
                            "attributes (or classes of categorical ones) not matched on, as "
                            "shares; where there are none, of up to 20 binary covariate columns, "
                            "else of the first 20 covariates (the y axis says which). The panel "
                            "titles give each group's number of units (after matching the "
                            "matched ones, with their total matching weight when it differs)."),
    ("propensity.png", "Fitted propensity score P(treated | covariates), treated up and controls "
                       "down on the same bins: all units before matching, the matched ones by "
                       "their matching weights after; each bar is a share of its group (legend: "
                       "group sizes). Scores one group has and the other lacks have no "
                       "comparable counterpart (no common support); after matching the two "
                       "sides should mirror each other."),
    ("pairs.png", "Matched pairs drawn at random, ordered by distance, each pair's distance in "
                  "the matching space under it."),
)


def page(run: Path) -> Page:
    """The report page of match output directory ``run``."""
    summary = read_json(run / "summary.json")
    balance = _balance_rows(run / "balance.csv")
    try:
        return _page(run, summary, balance)
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise UserError(f"{run / 'summary.json'} or {run / 'balance.csv'} lacks or mangles what "
                        f"the report reads ({type(exc).__name__}: {exc}); is {run} a directory "
                        "`latentplay match run` wrote?") from None


def _balance_rows(path: Path) -> list[dict[str, str]]:
    """The rows of balance table ``path``; a :class:`UserError` naming the columns of
    ``latentplay match run``'s table that its header lacks (even when it has no rows)."""
    rows = read_csv(path)
    with open(path, newline="", encoding="utf-8") as fh:
        header = next(csv.reader(fh), [])
    missing = [c for c in BALANCE_COLUMNS if c not in header]
    if missing:
        raise UserError(f"{path} lacks the column(s) {missing} the report reads; is {path.parent} "
                        "a directory `latentplay match run` wrote?")
    return rows


def _page(run: Path, summary: dict[str, Any], balance: list[dict[str, str]]) -> Page:
    """The page of a match run from its summary and the rows of its balance table."""
    treat = summary.get("treatment") or {}
    title = (f"Matching {treat.get('treated', '?')} with {treat.get('control', '?')} "
             f"on {treat.get('attribute', '?')}")
    sections = [_overview(summary), _balance(summary, balance)]
    if summary.get("effect"):
        sections.append(_effect(summary["effect"]))
    if summary.get("verification"):
        sections.append(_verification(summary["verification"]))
    shown = [file_figure(run / name, caption) for name, caption in FIGURES
             if (run / name).exists()]
    if shown:
        sections.append(Section("Figures", "figures", shown))
    sections.append(Section("Config", "config", [Code(json.dumps(summary.get("config", {}),
                                                                 indent=2), "matching config")]))
    return Page("match run", title, str(run), sections)


def _overview(summary: dict[str, Any]) -> Section:
    treat, config = summary.get("treatment") or {}, summary.get("config") or {}
    counts, distance = summary.get("counts") or {}, summary.get("distance") or {}
    info = summary.get("match") or {}
    method = f"{config.get('method', '?')} ({info.get('distance', config.get('distance'))} distance"
    method += f", 1:{config.get('ratio', 1)}" + (", with replacement" if config.get("replace") else "")
    method += ")"
    caliper = summary.get("caliper")
    space = info.get("distance", config.get("distance"))
    what = DISTANCE_LABELS.get(str(space), f"{space} distance")
    facts = [
        ("store", str(summary.get("store"))),
        ("treatment", f"{treat.get('attribute')}: {treat.get('treated')} (treated) vs "
                      f"{treat.get('control')} (control)"),
        ("covariates", ", ".join(config.get("covariates", [])) or "—"),
        ("exact", ", ".join(config.get("exact", [])) or "—"),
        ("method", method),
        ("caliper", "none" if not caliper else
         f"{number(caliper.get('value'))} {caliper.get('units')} = "
         f"{number(caliper.get('distance'))} in distance units"),
    ]
    left = summary.get("rows_left_out") or {}
    if left.get("rows"):
        lacking = ", ".join(f"{name} {n}" for name, n in (left.get("lacking") or {}).items())
        facts.append(("rows left out", f"{left['rows']} of {left.get('of')} compared rows lacked "
                                       f"values ({lacking})"))
    rows = [
        ["treated units", counts.get("treated")], ["control units", counts.get("controls")],
        ["pairs", counts.get("pairs")], ["matched treated", counts.get("matched_treated")],
        ["unmatched treated", counts.get("unmatched_treated")],
        ["dropped by the caliper", counts.get("caliper_drops")],
        ["distinct matched controls", counts.get("matched_controls")],
        ["effective sample size of the controls", counts.get("controls_ess")],
        *([f"pair distance ({what}): {stat}", distance.get(stat)]
          for stat in ("mean", "median", "max")),
    ]
    warnings = [Text(f"Warning: {note}.") for note in info.get("warnings", [])]
    return Section("Matching", "matching", [*warnings, Facts(facts),
                                            Table.of(["count", "value"], rows)])


def _balance(summary: dict[str, Any], rows: list[dict[str, str]]) -> Section:
    stats = summary.get("balance") or {}
    over = f"n_over_{SMD_THRESHOLD:g}"
    lines = [[when, (stats.get(when) or {}).get("max_abs_smd"),
              (stats.get(when) or {}).get("mean_abs_smd"), (stats.get(when) or {}).get(over)]
             for when in ("before", "after")]
    used = _matched_on(summary.get("config") or {})
    flags = _rows_matched_on(rows, used)
    on = [] if flags is None else [r for r, flag in zip(rows, flags, strict=True) if flag]
    names = sorted(used) or sorted({_source(r["covariate"]) for r in on})
    total = stats.get("covariates", len(rows))
    caption = f"{total} covariates."
    # the run's own summary of the rows matched on (full precision, like the lines above);
    # balance.csv's rounded values only for a summary written without it
    recorded = stats.get("matched_on") if isinstance(stats.get("matched_on"), dict) else {}
    n_on = recorded.get("covariates", len(on)) if recorded else len(on)
    if (recorded and n_on < total) or (flags is not None and len(on) < len(rows)):  # some only checked
        lines += [[f"{when}, matched on",
                   *([(recorded.get(when) or {}).get(k) for k in ("max_abs_smd", "mean_abs_smd", over)]
                     if recorded.get(when) else _smd_stats(on, when))]
                  for when in ("before", "after")]
        named = f" ({', '.join(names)})" if names else ""
        caption = (f"{total} covariates: {n_on} of the covariates matched on{named}, {total - n_on} "
                   "of attributes not matched on (checked, not balanced by design); the first two "
                   "lines take all of them, the last two the covariates matched on.")
    overview = Table.of(["", "max |SMD|", "mean |SMD|", f"covariates with |SMD| > {SMD_THRESHOLD:g}"],
                        lines, caption)
    columns = ["covariate", "type", *(["matched on"] if flags is not None else [])] + [
        f"{c} {when}" for when in ("before", "after") for c in ("treated", "control", "SMD", "VR")]
    table_rows = []
    for i, r in enumerate(rows):
        line: list[Cell] = [cell(r["covariate"]), cell(r["type"])]
        if flags is not None:
            line.append(cell(flags[i]))
        for when in ("before", "after"):
            smd = to_float(r.get(f"smd_{when}"))
            line += [cell(to_float(r.get(f"mean_treated_{when}"))),
                     cell(to_float(r.get(f"mean_control_{when}"))),
                     cell(smd, flag=smd is not None and abs(smd) > SMD_THRESHOLD),
                     cell(to_float(r.get(f"var_ratio_{when}")))]
        table_rows.append(line)
    divided = f": mean difference / {stats['smd_denominator']}" if stats.get("smd_denominator") else ""
    table = Table(columns, table_rows, "balance.csv: group means, standardized mean difference "
                  f"(SMD{divided}) and variance ratio (VR, continuous covariates) before and after "
                  f"matching. Highlighted (*): |SMD| > {SMD_THRESHOLD:g}, a rule of thumb for balance "
                  "(Austin 2009), not a test.")
    blocks: list[Block] = [overview, table]
    recorded_n = stats.get("covariates")
    if isinstance(recorded_n, int) and recorded_n != len(rows):
        blocks.insert(0, Text(f"Warning: balance.csv holds {len(rows)} row(s) but the run balanced "
                              f"{recorded_n} covariate(s) (summary.json); the file is incomplete or "
                              "was edited. The max and mean |SMD| lines are the run's own "
                              "(summary.json); the table shows only the rows the file holds."))
    return Section("Balance", "balance", blocks)


def _matched_on(config: dict[str, Any]) -> set[str]:
    """The attributes and vector columns the run matched on: ``--covariates``, ``--exact``,
    ``--propensity-covariates`` and ``--second-caliper-on`` (its ``propensity``, a model on the
    covariates, names no column; empty for a config without them)."""
    keys = ("covariates", "exact", "propensity_covariates")
    names = {str(name) for key in keys for name in (config.get(key) or [])}
    return names | {str(name) for name in (config.get("second_caliper_on") or [])
                    if name != "propensity"}


def _rows_matched_on(rows: list[dict[str, str]], used: set[str]) -> list[bool] | None:
    """Whether each row of balance.csv is of a column the run matched on: its ``matched_on``
    field (1 or 0); for a file written without that column, whether the attribute or vector
    column it comes from is among ``used`` (:func:`_matched_on`). None when neither tells
    (no such column, and a config naming no column)."""
    if rows and all("matched_on" in r for r in rows):
        return [(r["matched_on"] or "").strip().lower() in ("1", "true", "yes") for r in rows]
    return [_source(r["covariate"]) in used for r in rows] if used else None


def _source(covariate: str) -> str:
    """The attribute or vector column a balance.csv row comes from: ``gender`` of
    ``gender=male``, ``emb`` of ``emb[3]``."""
    name = covariate.split("=", 1)[0]
    return re.sub(r"\[\d+\]$", "", name)


def _smd_stats(rows: list[dict[str, str]], when: str) -> list[float | int | None]:
    """Max and mean |SMD| of ``rows`` ``before`` or ``after`` matching and how many exceed
    :data:`SMD_THRESHOLD` (None for the first two without a defined SMD)."""
    smd = [abs(v) for r in rows if (v := to_float(r.get(f"smd_{when}"))) is not None and math.isfinite(v)]
    if not smd:
        return [None, None, 0]
    return [max(smd), sum(smd) / len(smd), sum(v > SMD_THRESHOLD for v in smd)]


def _effect(effect: dict[str, Any]) -> Section:
    """The outcome's difference before and after matching, each with its interval's level and
    kind (``effect.<estimate>.interval``; for a summary written without them, the kinds its
    ``effect.intervals`` implies)."""
    rows = []
    overall = str(effect.get("intervals", "bootstrap"))
    kinds = interval_kinds(overall.startswith("abadie-imbens"), "persons" in overall)
    matched = (effect.get("matched") or {}).get("estimand", "effect on the treated")
    for name, label, kind in zip(("naive", "matched"),
                                 ("difference in means before matching",
                                  f"matched difference: {matched}"), kinds, strict=True):
        e = effect.get(name) or {}
        level = e.get("level")
        rows.append([label, e.get("estimate"), interval(e.get("ci_low"), e.get("ci_high")),
                     f"{level:.0%}" if isinstance(level, float) else "—",
                     e.get("interval", kind), e.get("n_treated"),
                     e.get("persons"), e.get("design_effect")])
    m = effect.get("matched") or {}
    score = (f" SE of the matched difference: {m['se']:.3g}, {m['se_score_known']:.3g} with the "
             "propensity score taken as known." if m.get("se_score_known") is not None else
             f" Propensity score taken as known: {m['score_taken_as_known']}."
             if m.get("score_taken_as_known") else "")
    table = Table.of(["estimate of", "value", "interval", "level", "kind of interval",
                      "treated units", "persons", "design effect"], rows,
                     f"Outcome: {effect.get('outcome')}; the matched difference is "
                     f"{OBSERVED_ONLY}.{score}")
    return Section(f"Effect on {effect.get('outcome')}", "effect", [table])


def _verification(ver: dict[str, Any]) -> Section:
    keys = [k for k in (ver.get("matched") or {}) if k != "pairs"]
    rows = [[name, (ver.get(name) or {}).get("pairs"), *((ver.get(name) or {}).get(k) for k in keys)]
            for name in ("matched", "random")]
    return Section("Face verification", "verification", [
        Text(f"Face-descriptor distances ({ver.get('descriptor')}) of matched pairs and of random "
             "pairs across the groups; below 0.6 dlib calls two faces the same person."),
        Table.of(["pairs", "count", *keys], rows)])
