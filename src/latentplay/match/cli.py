"""``latentplay match ...``: match units across an attribute and report balance."""

from __future__ import annotations

import math
from pathlib import Path

import typer

from latentplay.cliargs import at_least, split_names
from latentplay.errors import UserError
from latentplay.match import SMD_THRESHOLD
from latentplay.outputs import warn

app = typer.Typer(no_args_is_help=True, add_completion=False)


@app.command("run")
def run_cmd(
    store: Path = typer.Argument(..., help="Store directory."),
    treatment: str = typer.Option(..., help="Binary attribute, or two classes of one, the treated "
                                   "first: e.g. age_group=senior,youth."),
    covariates: str = typer.Option(..., help="Comma-separated vector columns and/or attributes."),
    out: Path = typer.Option(..., "--out", help="Directory for pairs, balance and figures."),
    exact: str = typer.Option(None, help="Comma-separated attributes to match exactly."),
    method: str = typer.Option("nearest", help="nearest | mahalanobis | propensity | optimal."),
    distance: str = typer.Option(None, help="optimal only: euclidean (default) | mahalanobis | propensity."),
    order: str = typer.Option("closest", help="Greedy order: closest (pair first) | random."),
    ratio: int = typer.Option(1, help="Controls per treated unit."),
    replace: bool = typer.Option(False, help="Let a control serve several treated units."),
    caliper: float = typer.Option(None, help="Largest pair distance, in --caliper-units."),
    caliper_units: str = typer.Option("sd", help="sd (SDs of the distance/logit) | abs."),
    second_caliper: float = typer.Option(
        None, help="Also forbid pairs farther apart than this on --second-caliper-on "
        "(SDs of the logit for propensity, else absolute distance)."),
    second_caliper_on: str = typer.Option(
        None, help="propensity, or comma-separated vector columns/attributes (e.g. dlib)."),
    propensity_covariates: str = typer.Option(
        None, help="Columns of the --second-caliper-on propensity model (default: --covariates)."),
    index: str = typer.Option("auto", help="auto | exact | ivf | hnsw."),
    scale: bool = typer.Option(True, help="Standardize covariates for the Euclidean distance "
                              "(the default; --no-scale: take them as they are)."),
    pca: int = typer.Option(None, help="Keep this many principal components."),
    whiten: bool = typer.Option(False, help="Whiten the principal components."),
    propensity_c: float = typer.Option(1.0, help="Inverse L2 strength of the propensity model."),
    outcome: str = typer.Option(None, help="Attribute whose difference in means to estimate."),
    bootstrap: int = typer.Option(1000, help="Bootstrap resamples for the interval (100 to 100,000)."),
    verify: bool = typer.Option(False, help="dlib face-verification distances of pairs."),
    verify_pairs: int = typer.Option(200, help="Pairs (and random pairs) to verify."),
    grid_pairs: int = typer.Option(16, help="Pairs drawn in pairs.png (0: none; at most 800)."),
    partial: bool = typer.Option(False, help="Allow fewer controls than treated x ratio."),
    seed: int = typer.Option(0, help="Seed of every random choice."),
    overwrite: bool = typer.Option(False, help="Write into a non-empty --out."),
) -> None:
    """Match each treated unit to control(s) alike in the covariates; write pairs.csv,
    balance.csv, summary.json, love plot, attribute-means chart and a grid of pairs."""
    from latentplay.config import resolve
    from latentplay.match import OBSERVED_ONLY
    from latentplay.match.pipeline import MatchConfig, run
    from latentplay.match.verify import SAME_PERSON
    from latentplay.outputs import progress_bar

    items = {
        "treatment": treatment, "method": method, "order": order, "ratio": ratio,
        "replace": replace,
        "caliper_units": caliper_units, "index": index, "scale": scale, "whiten": whiten,
        "propensity_c": propensity_c, "bootstrap": bootstrap, "verify": verify,
        "verify_pairs": verify_pairs, "grid_pairs": grid_pairs, "partial": partial, "seed": seed,
    }
    overrides = [f"{k}={v}" for k, v in items.items()]
    overrides += [f"covariates=[{','.join(split_names(covariates))}]",
                  f"exact=[{','.join(split_names(exact))}]",
                  f"second_caliper_on=[{','.join(split_names(second_caliper_on))}]",
                  f"propensity_covariates=[{','.join(split_names(propensity_covariates))}]"]
    if pca is not None:
        at_least(pca, 1, "--pca")  # scikit-learn's PCA failed with a traceback on a negative one
    for key, value in (("distance", distance), ("caliper", caliper), ("pca", pca),
                       ("outcome", outcome), ("second_caliper", second_caliper)):
        if value is not None:
            overrides.append(f"{key}={value}")
    config = resolve(MatchConfig, overrides)
    bar = progress_bar()
    task = bar.add_task("nearest-neighbour search", total=None, start=False)

    def progress(done: int, total: int) -> None:
        if not bar.live.is_started:
            bar.start()
        bar.update(task, completed=done, total=total)

    try:
        summary = run(store, config, out, overwrite=overwrite, progress=progress)
    finally:
        bar.stop()
    for note in summary["match"].get("warnings", []):
        warn(f"warning: {note}")
    c = summary["counts"]
    b = summary["balance"]
    print(f"matched {c['matched_treated']} of {c['treated']} {summary['treatment']['treated']} "
          f"units to {c['matched_controls']} {summary['treatment']['control']} units "
          f"(their effective sample size {c['controls_ess']:.0f}; {c['unmatched_treated']} unmatched, "
          f"{c['caliper_drops']} by the caliper"
          # caliper_drops counts both calipers' (a run with only a second caliper printed "by
          # the caliper" next to "with no control within the second caliper")
          + (f"s, {c['second_caliper_drops']} with no control within the second caliper)"
             if summary["second_caliper"] else ")"))
    on, rest = b.get("matched_on", b), b.get("not_matched_on")

    def smd(stats: dict) -> str:
        return (f"max |SMD| {_number(stats['before']['max_abs_smd'], '.3f')} before, "
                f"{_number(stats['after']['max_abs_smd'], '.3f')} after")

    print(f"{smd(on)} ({on['covariates']} covariates matched on; SMD = mean difference / "
          f"{b['smd_denominator']})")
    if caution := _imbalance_caution(on):
        warn(caution)
    if rest:   # an outcome left out of --outcome lands here, not in the headline
        print(f"  attributes not matched on (checked, not balanced by design): {smd(rest)} "
              f"({rest['covariates']})")
    gone = summary["rows_left_out"]
    if gone["rows"]:
        print(f"left out: {gone['rows']} of {gone['of']} compared rows without values (rows "
              "lacking each: " + ", ".join(f"{name} {n}" for name, n in gone["lacking"].items())
              + ")")
    if b["left_out"]:
        print("left out of the balance (their imbalance is the treatment's own): "
              + "; ".join(f"{name} ({why})" for name, why in b["left_out"].items()))
    if "effect" in summary:
        e = summary["effect"]
        # named as the report names them
        for key, name in (("naive", f"difference in {e['outcome']} before matching"),
                          ("matched", f"matched difference in {e['outcome']}")):
            r = e[key]
            what = f"; estimates the {r['estimand']}" if r.get("estimand") else ""
            print(f"{name}: {r['estimate']:.4g} {_interval(key, r)}{what}")
        print(f"  {OBSERVED_ONLY}")
        if e["matched"].get("score_taken_as_known"):
            print(f"propensity score taken as known: {e['matched']['score_taken_as_known']}")
    if "verification" in summary:
        v = summary["verification"]
        m, r = v["matched"], v["random"]
        print(f"face verification (dlib) of {m['pairs']} matched pairs: median distance "
              f"{_number(m['median'], '.3f')} against {_number(r['median'], '.3f')} for "
              f"{r['pairs']} random pairs; share below {SAME_PERSON} (what dlib's rule of thumb "
              "reads as one person): "
              f"{_number(m[f'share_below_{SAME_PERSON}'], '.1%')} against "
              f"{_number(r[f'share_below_{SAME_PERSON}'], '.1%')} (verification.csv)")
    print(f"wrote {out}")


def _interval(key: str, r: dict) -> str:
    """The interval of one estimate of ``summary.json``'s ``effect`` (``key``: naive or
    matched) with its level and kind: ``[low, high] (95% interval, <kind>, ...)``."""
    if r["ci_low"] is None:
        why = "fewer than 2 matched treated units" if key == "matched" else "a group of 1 unit"
        return f"no interval ({why})"
    how = [f"{r['level']:.0%} interval", r["interval"]]
    if r.get("persons") is not None:
        how.append(f"{r['persons']} persons, design effect {_number(r['design_effect'], '.2f')}")
    elif "bootstrap" in r["interval"]:
        how.append(f"{r['n_boot']} resamples")
    if r.get("se_score_known") is not None:
        how.append(f"SE {r['se']:.3g}; {r['se_score_known']:.3g} with the score taken as known")
    return f"[{r['ci_low']:.4g}, {r['ci_high']:.4g}] ({', '.join(how)})"


def _imbalance_caution(stats: dict) -> str | None:
    """A ``caution:`` line when covariates matched on stay over :data:`SMD_THRESHOLD` after
    matching (``stats``: :func:`latentplay.match.balance.summarize`'s); None when none does."""
    after = stats["after"]
    over = after.get(f"n_over_{SMD_THRESHOLD:g}")
    if not over:
        return None
    largest = _number(after["max_abs_smd"], ".3f").replace("—", "infinite")
    return (f"caution: {over} of {stats['covariates']} covariates matched on stay over |SMD| "
            f"{SMD_THRESHOLD:g} after matching (largest {largest}): the groups remain imbalanced on them")


def _number(value: float | None, spec: str) -> str:
    """``value`` in format ``spec``; ``—`` when it is missing (undefined or infinite)."""
    return "—" if value is None else format(value, spec)


@app.command()
def simulate(
    out: Path = typer.Option(..., "--out", help="Directory of the new store."),
    n: int = typer.Option(20000, help="Units."),
    relevant: int = typer.Option(5, help="Confounders (drive treatment and outcome)."),
    irrelevant: int = typer.Option(95, help="Noise dimensions of the latent."),
    effect: float = typer.Option(1.0, help="True treatment effect."),
    strength: float = typer.Option(1.0, help="How strongly confounders drive treatment."),
    seed: int = typer.Option(0, help="Random seed."),
    overwrite: bool = typer.Option(False, help="Replace an existing store."),
) -> None:
    """Write a confounded store with a known effect (vector z, group, outcome y) to try matching."""
    from latentplay.match.synthetic import confounded, make_store

    at_least(n, 10, "--n")
    at_least(relevant, 1, "--relevant")
    at_least(irrelevant, 0, "--irrelevant")
    for option, value in (("--effect", effect), ("--strength", strength)):
        if not math.isfinite(value):  # a NaN effect wrote a store whose outcome is all NaN
            raise UserError(f"{option} must be a finite number, got {value:g}")
    data = confounded(n, relevant=relevant, irrelevant=irrelevant, effect=effect,
                      strength=strength, seed=seed)
    store = make_store(out, data, overwrite=overwrite)
    print(f"wrote {len(store)} units ({int(data.treated.sum())} treated) to {store.path}; "
          f"true effect {effect:g}")
