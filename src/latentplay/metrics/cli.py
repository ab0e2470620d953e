"""``latentplay metrics ...``: disentanglement metrics of arrays or of a trained run."""

from __future__ import annotations

import csv
import dataclasses
import functools
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

from latentplay.cliargs import at_least
from latentplay.errors import UserError
from latentplay.outputs import console as table_console
from latentplay.outputs import (
    made_by,
    output_dir,
    refuse_nonempty,
    shell_word,
    staged_outputs,
    warn,
    write_atomic,
)

app = typer.Typer(no_args_is_help=True, add_completion=False)
console = Console(stderr=True, markup=False)   # paths and names as written: out[1]/ stays
FITTED = {"sap": "SAP", "dci": "DCI", "modularity": "explicitness"}
"""What the metrics that fit classifiers on training rows (registered with ``split``) fit for."""


def _load_npy(path: Path | None, what: str) -> np.ndarray | None:
    """The array of .npy file ``path`` (None when not given); a missing file, a file of another
    kind or an .npz archive is a one-line error naming option ``what``."""
    if path is None:
        return None
    if not path.exists():
        raise UserError(f"{what} file {path} does not exist")
    try:
        loaded = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError):  # EOFError: an empty file
        raise UserError(f"{what} {path} is not a .npy array of numbers (write one with numpy.save)") from None
    if not isinstance(loaded, np.ndarray):  # an .npz archive holds several arrays
        loaded.close()
        raise UserError(f"{what} {path} is an .npz archive; give one array saved with numpy.save (.npy)")
    return loaded


def _check_json(path: Path) -> None:
    """Refuse ``--json PATH`` before any metric runs, making nothing: a directory, a missing
    folder that cannot be made (a file in the way, no permission) or a file or folder that
    cannot be written. Its folder is made when the scores are written."""
    if path.is_dir():
        raise UserError(f"--json {path} is a directory; name the JSON file to write")
    existing = path.absolute().parent
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise UserError(f"--json {path}: cannot make its folder, a file is in the way ({existing})")
    if not os.access(existing, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise UserError(f"--json {path} cannot be written (permission denied)")


def _array_notes(names: str, factors: np.ndarray, codes: np.ndarray,
                 factors_test: np.ndarray | None, codes_test: np.ndarray | None) -> list[str]:
    """Check the arrays (the test ones against the training ones, whatever the metrics; without
    test arrays, the split of the metrics that fit classifiers) and return the notes to print
    before scoring: which asked metrics score the training rows only when test arrays are
    given, and when factors have more levels than half the training rows for the metrics that
    fit classifiers (SAP, DCI, explicitness)."""
    from latentplay.metrics.evaluate import parse_names
    from latentplay.metrics.registry import get
    from latentplay.metrics.sampling import check_arrays, train_test

    f, c = check_arrays(factors, codes)
    metrics = [get(n)[0] for n in parse_names(names)]
    metrics = [m for m in metrics if m.arrays is not None]
    notes = []
    if factors_test is not None:
        train_test(f, c, factors_test, codes_test)  # the shapes checked for every metric
        unsplit = [m.name for m in metrics if not m.split]
        if unsplit:
            unused = ("" if len(unsplit) < len(metrics)
                      else "; the --factors-test/--codes-test rows are not used")
            notes.append(f"note: {', '.join(unsplit)} score{'s' if len(unsplit) == 1 else ''} "
                         f"the --factors/--codes rows only{unused}")
    elif any(m.split for m in metrics):  # the training rows; a split refused before any metric
        f = train_test(f, c)[0]
    fitted = [FITTED.get(m.name, m.name) for m in metrics if m.split]
    few = _few_rows_note(f, "/".join(fitted)) if fitted else None
    return notes if few is None else [*notes, few]


def _few_rows_note(factors: np.ndarray, fitted: str) -> str | None:
    """The note to print when a column of ``factors`` ``(N, K)`` (the training rows' factor
    levels) takes more values than half the rows: too few rows for the classifiers ``fitted``
    names to be reliable (None otherwise)."""
    levels = max(len(np.unique(column)) for column in factors.T)
    if 2 * levels <= len(factors):
        return None
    return (f"note: {len(factors)} training rows for factors of up to {levels} levels: too few for "
            f"{fitted} to be reliable")


FLOORS = ("higher is better for every score but num_active_dims (a count); codes unrelated to "
          "the factors score about 0 on MIG, SAP and DCI's disentanglement and completeness, but "
          "not on the others: informativeness_test, BetaVAE and FactorVAE are accuracies (chance: 1 / "
          "a factor's levels, 1 / the factors), explicitness a ROC-AUC (0.5), IRS and modularity "
          "0.3 to 0.7, higher for factors of more levels (docs/metrics.md)")
"""What the scores table says beneath it: which scores start above 0 for codes that know
nothing (measured in docs/metrics.md, "What codes that know nothing score")."""


def _print_scores(done: list[tuple[str, dict[str, float]]]) -> None:
    """The table of ``(metric name as asked, e.g. mig_fast; {score: value})`` pairs, one row per
    score, in the order the metrics ran, and :data:`FLOORS` beneath it."""
    table = Table("metric", "score", "value")
    for metric, scores in done:
        for name, value in scores.items():
            table.add_row(metric, name, f"{value:.4f}")
    table_console().print(table)
    print(FLOORS)


def _duration(seconds: float) -> str:
    """``42 s``, ``3 min 05 s``, ``1 h 02 min``."""
    s = int(round(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"


class Progress:
    """Progress lines of ``metrics disentanglement --run``: what each metric will encode before
    it starts, the images encoded so far with the time left every ``every_s`` seconds, and the
    scores with the time taken when it ends."""

    def __init__(self, say: Callable[[str], None], every_s: float = 30.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.say, self.every_s, self.clock = say, every_s, clock
        self.name, self.total, self.encoded = "", 0, 0
        self.started = self.last = 0.0

    def start(self, name: str, images: int | None) -> None:
        self.name, self.total, self.encoded = name, images or 0, 0
        self.started = self.last = self.clock()
        if images:
            self.say(f"{name}: rendering and encoding {images:,} images ...")

    def encoded_more(self, n: int) -> None:
        self.encoded += n
        now = self.clock()
        if now - self.last < self.every_s or not self.total:
            return
        self.last = now
        spent = now - self.started
        share = min(self.encoded / self.total, 1.0)
        left = spent * (1.0 - share) / share if share > 0 else 0.0
        self.say(f"  {self.name}: {self.encoded:,} of {self.total:,} images ({share:.0%}), "
                 f"{_duration(spent)}, about {_duration(left)} left")

    def done(self, name: str, scores: dict[str, float]) -> None:
        took = f" ({_duration(self.clock() - self.started)})" if name == self.name else ""
        self.say(f"{name}: " + ", ".join(f"{k}={v:.4f}" for k, v in scores.items()) + took)


@app.command()
def disentanglement(
    run: Path = typer.Option(None, "--run", help="Run directory of a trained model (its encoder)."),
    data: Path = typer.Option(None, "--data", help="Store with factor attributes (with --run; "
                              "`latentplay data info` lists them as '(factor)')."),
    factors: Path = typer.Option(None, "--factors", help=".npy of (N, K) integer factor levels."),
    codes: Path = typer.Option(None, "--codes", help=".npy of (N, D) codes."),
    factors_test: Path = typer.Option(None, "--factors-test", help=".npy test factors (optional)."),
    codes_test: Path = typer.Option(None, "--codes-test", help=".npy test codes (optional)."),
    metrics: str = typer.Option(
        "all",
        "--metrics",
        help="Comma-separated, any of: beta_vae, factor_vae, mig, sap, dci, irs, modularity "
        "(add _fast for smaller samples with --run; arrays use every row either way).",
    ),
    seed: int = typer.Option(0, "--seed", help="Random seed of sampling and classifiers."),
    batch_size: int = typer.Option(256, "--batch-size", help="Images per encoder call (with --run)."),
    json_out: Path = typer.Option(None, "--json", help="Also write the scores, with the metrics "
                                  "asked, the seed and the inputs, to this JSON file."),
) -> None:
    """Disentanglement scores (disentanglement_lib's defaults and names) of a run or of arrays.

    With --factors/--codes the metrics use exactly those rows (split 90/10 into train and test
    when no test arrays are given); BetaVAE and FactorVAE need --run and --data, which sample
    observations from the store as disentanglement_lib does.

    With --run, each metric renders and encodes images: BetaVAE 1,920,000 and FactorVAE
    970,000 at disentanglement_lib's sizes (a batch of 64 per point), the others 10,000 to
    15,000; `_fast` sizes are a fifth to a twentieth. A line before each metric says how many,
    and one every 30 s how far it got and about how long it has left.
    """
    from latentplay.metrics.evaluate import (
        evaluate,
        images_to_encode,
        logged_scores,
        parse_names,
        sampling_only,
    )
    from latentplay.metrics.runs import check_encoder, check_grid, evaluate_run, ground_truth_of
    from latentplay.store import load

    arrays = factors is not None or codes is not None
    if arrays == (run is not None or data is not None):
        raise UserError("give either --run RUN --data STORE, or --factors F.npy --codes C.npy")
    at_least(seed, 0, "--seed")
    if json_out is not None:
        _check_json(json_out)

    progress = Progress(lambda line: console.print(line, highlight=False, soft_wrap=True))
    done: list[tuple[str, dict[str, float]]] = []
    inputs = ({"run": run, "data": data} if run is not None or data is not None else
              {"factors": factors, "codes": codes, "factors_test": factors_test,
               "codes_test": codes_test})

    def write_json(found: dict[str, float]) -> None:
        """``--json``: the scores and what made them (metrics as asked, seed, inputs)."""
        assert json_out is not None
        record = {"scores": found, "metrics": metrics, "seed": seed,
                  **{k: None if v is None else str(v) for k, v in inputs.items()}, "made_by": made_by()}
        write_atomic(json_out, json.dumps(record, indent=2) + "\n")

    def finished(name: str, metric_scores: dict[str, float]) -> None:
        done.append((name, metric_scores))
        progress.done(name, metric_scores)

    if arrays:
        if factors is None or codes is None:
            raise UserError("--factors and --codes go together")
        if (factors_test is None) != (codes_test is None):
            raise UserError("--factors-test and --codes-test go together")
        sampled = sampling_only(metrics)
        if sampled:
            raise UserError(
                f"--metrics {','.join(sampled)}: these sample pairs of batches with one factor held fixed, "
                "so they need --run RUN --data STORE, not --factors/--codes"
            )
        given = {"factors": _load_npy(factors, "--factors"), "codes": _load_npy(codes, "--codes"),
                 "factors_test": _load_npy(factors_test, "--factors-test"),
                 "codes_test": _load_npy(codes_test, "--codes-test")}
        for note in _array_notes(metrics, **given):
            warn(note)
        try:
            scores = evaluate(metrics, **given, random_state=seed, on_done=finished)
        except UserError as exc:   # one metric refused: the scores done are kept, then the line
            if not done:
                raise
            _print_scores(done)
            kept = {k: v for name, found in done for k, v in logged_scores(name, found).items()}
            if json_out is not None:
                write_json(kept)
            raise UserError(f"{exc} (the scores of {', '.join(n for n, _ in done)} are printed"
                            + (f" and written to {json_out}" if json_out is not None else "")
                            + ")") from None
        if metrics in (None, "", "all"):
            console.print("beta_vae and factor_vae left out: they sample pairs of batches with "
                          "one factor held fixed, so they need --run RUN --data STORE",
                          highlight=False, soft_wrap=True)
    else:
        if run is None or data is None:
            raise UserError("--run and --data go together")
        at_least(batch_size, 1, "--batch-size")
        # a missing store, one without factors, a directory without a model or a model without
        # an encoder (or needing a condition): the one line printed, not after the plan below
        ground_truth = ground_truth_of(load(data))
        check_grid(ground_truth, metrics)
        check_encoder(run)
        chosen = parse_names(metrics)
        total = sum(images_to_encode(name) for name in chosen)
        console.print(f"{len(chosen)} metric(s): {total:,} images to render and encode"
                      + ("" if all(n.endswith("_fast") for n in chosen)
                         else " (add _fast to a name for smaller samples)"), highlight=False, soft_wrap=True)
        scores = evaluate_run(run, ground_truth, metrics, random_state=seed, batch_size=batch_size,
                              on_done=finished, on_start=progress.start,
                              on_encoded=progress.encoded_more)
    _print_scores(done)
    if json_out is not None:
        write_json(scores)


@app.command()
def track(
    model: str = typer.Argument(..., help="Model preset (configs/models/<name>.yaml) or YAML path."),
    data: Path = typer.Option(..., "--data", help="Training store with factor attributes "
                              "(`latentplay data info` lists them as '(factor)')."),
    out: Path = typer.Option(..., "--out", help="New run directory."),
    epochs: int = typer.Option(10, "--epochs", help="Epochs to train."),
    every: int = typer.Option(1, "--every", help="Evaluate every this many epochs."),
    metrics: str = typer.Option("all", "--metrics", help="Metrics to log (see `disentanglement`)."),
    seed: int = typer.Option(0, "--seed", help="Random seed of the metrics."),
    seeds: str = typer.Option(
        None, "--seeds", help="Train one run per training seed (0,1,2 or 0-4; the config's "
        "seed) into OUT/seed_S, and give each metric's mean and SD at the last evaluation over "
        "them (seeds.json, seeds.csv, seeds.png): seeds move these scores as much as models do "
        "(Locatello et al. 2019). Stopped, the same command continues: finished seeds are "
        "kept, a stopped one resumes from its checkpoint."),
    overrides: list[str] = typer.Argument(None, help="Training config overrides key=value, as "
                                       "for latentplay train, e.g. model.latent_dim=6."),
) -> None:
    """Train a model and log disentanglement metrics to RUN/dis_metrics.csv every N epochs
    (the same as `latentplay train MODEL ... log.dis_metrics=[...] log.dis_metrics_every=N`);
    with --seeds, one run per training seed and each metric over them."""
    from latentplay.metrics.evaluate import DIS_METRICS_FILE
    from latentplay.metrics.runs import open_seeds, seed_run, train_with_metrics
    from latentplay.metrics.seeds import seed_list, write_seed_summary

    at_least(epochs, 1, "--epochs")
    at_least(every, 1, "--every")
    at_least(seed, 0, "--seed")
    runs = None if seeds is None else seed_list(seeds)
    given = [item for item in overrides or [] if item.split("=", 1)[0].strip() == "seed"]
    if runs is not None and given:
        raise UserError(f"{given[0]}: the training seed is set by --seeds")
    settings = {"kind": model, "store": str(Path(data).absolute()),
                "training": {"epochs": epochs, "every": every, "overrides": list(overrides or [])},
                "metrics": metrics, "metrics_seed": seed}
    if runs is None:
        refuse_nonempty(out, None, runs_allowed=True)  # checked before an epoch is trained
    else:
        open_seeds(out, {**settings, "seeds": runs})

    def evaluations(folder: Path, more: list[str], prefix: str = "", every_row: bool = True
                    ) -> dict[str, str]:
        """Train into ``folder`` (with --seeds: continue what it holds, :func:`seed_run`),
        print its dis_metrics.csv rows (``every_row``, else the last) and return the last."""
        train_it = functools.partial(train_with_metrics, model, data, epochs=epochs, every=every,
                                     names=metrics, overrides=[*(overrides or []), *more],
                                     random_state=seed)
        if runs is None:
            run = train_it(folder)
        else:
            run = seed_run(folder, train_it, lambda found: console.print(f"{prefix}{found}",
                                                                           highlight=False))
        with (run / DIS_METRICS_FILE).open(newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        for row in rows if every_row else rows[-1:]:
            scores = ", ".join(f"{key}={float(value):.3f}" for key, value in row.items()
                               if key not in ("epoch", "step") and value)
            console.print(f"{prefix}epoch {row['epoch']} (step {row['step']}): {scores}",
                          highlight=False, soft_wrap=True)   # a line per row, not cut mid-list
        console.print(f"wrote {run / DIS_METRICS_FILE}")
        return rows[-1]

    if runs is None:
        evaluations(out, [])
        return
    per_seed: dict[int, dict[str, Any]] = {}
    for s in runs:
        last = evaluations(out / f"seed_{s}", [f"seed={s}"], f"seed {s}: ", every_row=False)
        per_seed[s] = {k: float(v) if v else None for k, v in last.items()
                       if k not in ("epoch", "step")}
    summary = write_seed_summary(out, per_seed, settings, {}, list)
    _print_seed_summary(out, summary, runs)


@app.command("list")
def list_metrics() -> None:
    """Registered metrics, their aliases and disentanglement_lib defaults."""
    from latentplay.metrics.registry import REGISTRY, names
    table = Table("metric", "aliases", "defaults (sampling form)", "fast", "images encoded (--run)")
    for name in names():
        m = REGISTRY[name]
        defaults = ", ".join(f"{k}={v}" for k, v in m.defaults().items())
        fast = ", ".join(f"{k}={v}" for k, v in m.fast.items())
        images = f"{m.images_to_encode():,} / fast {m.images_to_encode(fast=True):,}"
        table.add_row(name, ", ".join(m.aliases), defaults, fast, images)
    table_console().print(table)


@app.command("compare-seeds")
def compare_seeds_cmd(
    first: Path = typer.Argument(..., help="A folder of --seeds (its seeds.json)."),
    second: Path = typer.Argument(..., help="Another, of the setting compared with it."),
    scores: str = typer.Option(None, "--scores", help="Only these scores, comma-separated "
                               "(default: all the two share)."),
    json_out: Path = typer.Option(None, "--json", help="Also write the table as JSON."),
) -> None:
    """Compare two settings trained over seeds: per score the difference, Welch's interval and
    p-value.

    FIRST and SECOND are folders of metrics concepts, leakage run or metrics track with
    --seeds. Per score they share: the two means, their difference (SECOND - FIRST), Welch's
    95 % interval and p-value (each side's seeds independent draws), and the seeds a side that
    would find a difference of this size four times in five. With three seeds a side, only a
    difference several times the seeds' spread is told apart from none."""
    from latentplay.cliargs import split_names
    from latentplay.metrics.seeds import compare_seeds
    from latentplay.outputs import figure_text, p_text, read_json

    summaries, data = [], []
    first, second = (path.parent if path.name == "seeds.json" else path for path in (first, second))
    if first.resolve() == second.resolve():
        raise UserError(f"{first} is given twice: compare two folders of --seeds")
    for folder in (first, second):
        if not (folder / "seeds.json").is_file():
            raise UserError(f"{folder} holds no seeds.json: give folders written with --seeds")
        summary = read_json(folder / "seeds.json")
        summaries.append(summary.get("scores") or {})
        data.append(summary.get("data"))
    rows = compare_seeds(*summaries)
    if not rows:
        raise UserError(f"{first} and {second} share no scores: they were written by different "
                        "commands (metrics concepts, leakage run, metrics track)")
    if data[0] != data[1]:
        keys = sorted(k for k in set(data[0] or {}) | set(data[1] or {})
                      if (data[0] or {}).get(k) != (data[1] or {}).get(k))
        named = ", ".join(keys[:4]) + (", ..." if len(keys) > 4 else "")
        warn(f"note: the two were measured on different data ({named or 'data'} "
             "differ): each difference includes the data's")
    wanted = split_names(scores)
    unknown = [n for n in wanted if n not in {r["score"] for r in rows}]
    if unknown:
        raise UserError(f"--scores: {', '.join(unknown)} not among the scores the two folders "
                        f"share (e.g. {', '.join(r['score'] for r in rows[:3])})")
    rows = [r for r in rows if not wanted or r["score"] in wanted]
    table = Table(title=f"{second} - {first}: mean difference over seeds, Welch 95 % interval")
    for column in ("score", "first", "second", "difference", "95 % interval", "p",
                   "seeds for 80 %"):
        table.add_column(column, justify="left" if column == "score" else "right")
    for r in rows:
        interval = ("-" if r["ci_low"] is None
                    else f"{figure_text(r['ci_low'])} to {figure_text(r['ci_high'])}")
        table.add_row(r["score"], f"{figure_text(r['mean_first'])} (n {r['n_first']})",
                      f"{figure_text(r['mean_second'])} (n {r['n_second']})",
                      figure_text(r["difference"]), interval, p_text(r["p"]),
                      "-" if r["seeds_for_80"] is None else str(r["seeds_for_80"]))
    table_console().print(table)
    if json_out is not None:
        write_atomic(json_out, json.dumps({"first": str(first), "second": str(second),
                                           "rows": rows, "made_by": made_by()}, indent=2) + "\n")
        console.print(f"wrote {json_out}", highlight=False)


@app.command()
def concepts(
    kind: str = typer.Argument(..., help="glancenet, vae (no conditional prior) or cbm."),
    overrides: list[str] = typer.Argument(
        None, help="key=value settings of the model, e.g. loss.terms=\\[betatcvae,dipvae_ii] "
        "loss.betatcvae.beta=6 concept_weight=50 (GlanceNets' --loss_terms; keys: the "
        "fields of GlanceNetConfig, a cbm's of CBMConfig, in latentplay.models)."),
    out: Path = typer.Option(
        ..., "--out",
        help="Directory for metrics.json, downstream.npy, latents.npy, concepts.npy, factors.npy, "
        "accepted.npy, model.pt, intervention.png and, for glancenet and vae, recon.png, "
        "traverse.png and traverse.gif (with --overwrite, an earlier run's files of these "
        "names, seed_* folders and seeds.* that this run does not write are removed).",
    ),
    data: Path = typer.Option(
        None, "--data", help="A store to train on (default: shapes drawn on the fly, concepts "
        "scale, pos_x, pos_y, task the position quadrant); then --concepts and --label."),
    concept_names: str = typer.Option(
        None, "--concepts", help="With --data: the attributes that are the concepts, e.g. "
        "smile,eyeglasses,yaw (two classes: one concept; more: one-hot; continuous: scaled to "
        "[0, 1])."),
    label: str = typer.Option(None, "--label", help="With --data: the categorical attribute "
                              "that is the task, e.g. gender."),
    leak: str = typer.Option(
        None, "--leak", help="With --data: attributes neither concept nor task, e.g. skin_tone: "
        "how much of each the test images' concept activations tell beyond their true concept "
        "values (metrics.json's leakage)."),
    masking_fact: float = typer.Option(
        100.0, "--masking-fact", help="Percent of rows whose concepts are used."
    ),
    n: int = typer.Option(
        None, "--n", help="Images to train on: shapes, default: 6,000 (a fifth more are the test "
        "set); --data, default: all its rows with a task value (--test-fraction of them held "
        "out)."),
    test_fraction: float = typer.Option(
        0.2, "--test-fraction", help="With --data: the share held out for the scores (whole "
        "persons where the store repeats them)."),
    split: str = typer.Option(
        "auto", "--split", help="With --data: how the test rows are chosen: auto (whole persons "
        "where the store repeats them, else rows), rows, persons, or store (the store's own "
        "split attribute's test part, or val where it has none; --test-fraction unread)."),
    epochs: int = typer.Option(10, "--epochs", help="Epochs to train each model."),
    batch_size: int = typer.Option(64, "--batch-size", help="Images per optimiser step."),
    seed: int = typer.Option(0, "--seed", help="Seed of the data drawn and of the training."),
    seeds: str = typer.Option(
        None, "--seeds", help="Train one model per seed (0,1,2 or 0-4) on the same data (drawn "
        "with the first) into OUT/seed_S, and give each score's mean and SD over them "
        "(seeds.json, seeds.csv, seeds.png): one seed's leakage is one draw."),
    size: int = typer.Option(64, "--size", help="Image side: shapes 64, or 32 (2x2-averaged, 4x "
                             "cheaper); --data 28, 32, 64 or 128."),
    crop: float = typer.Option(1.0, "--crop", help="With --data: keep a centred square of this "
                               "fraction of the shorter side before resizing (0.5: the face)."),
    latent_dim: int = typer.Option(
        None, "--latent-dim", help="glancenet and vae: latent dimensions, the first one per "
        "concept column (default: shapes 10; --data the concept columns + 16, for the rest of a "
        "face: with fewer the concept latents carry it, and leak it)."),
    threads: int = typer.Option(
        1, "--threads", help="PyTorch CPU threads (0: PyTorch's default). One is the fastest for "
        "these small models on a busy machine: two were 13x slower on 2 shared cores."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Write into a non-empty --out."),
) -> None:
    """Train a concept model and report task accuracy, held-out concept accuracy (MAE and R²
    per concept), concept alignment (DCI), explicitness and test-time intervention: on shapes
    (concepts scale, pos_x, pos_y; label: position quadrant), or on a store's images with its
    attributes as concepts and task (--data, --concepts, --label; --leak: concept leakage of
    other attributes). A
    model whose task accuracy is within 0.1 of chance, or that learned none of its concepts,
    is warned of and flagged (metrics.json's `flag`). With --seeds, a model per training seed
    on the same data and each score's mean and SD over them."""
    from latentplay.metrics.concepts import KINDS, OUTPUTS, TrainConfig
    from latentplay.metrics.seeds import SEEDS_OUTPUTS, training_seeds, write_seed_summary

    if kind not in KINDS:
        raise UserError(f"unknown concept model {kind!r}; choose from {', '.join(KINDS)}")
    if not 0.0 <= masking_fact <= 100.0:
        raise UserError(f"--masking-fact must be a percentage in [0, 100], got {masking_fact:g}")
    if n is not None:
        at_least(n, 2 if data is None else 10, "--n")
    at_least(epochs, 1, "--epochs")
    at_least(batch_size, 1, "--batch-size")
    at_least(seed, 0, "--seed")
    runs = training_seeds(seed, seeds)
    at_least(threads, 0, "--threads")
    if not 0.0 < crop <= 1.0:
        raise UserError(f"--crop must be in (0, 1], got {crop:g}")
    if latent_dim is not None:
        if kind == "cbm":
            raise UserError("--latent-dim: a cbm has no latent space besides its concepts")
        at_least(latent_dim, 1, "--latent-dim")
    model = _model_settings(kind, overrides or [])
    config = TrainConfig(epochs=epochs, batch_size=batch_size, seed=runs[0],
                         masking_fact=masking_fact, threads=threads)
    if data is None:
        given = [o for o, v in (("--concepts", concept_names), ("--label", label), ("--leak", leak),
                                ("--split", None if split == "auto" else split)) if v is not None]
        if given:
            raise UserError(f"{', '.join(given)} take{'s' if len(given) == 1 else ''} a store: "
                            "give it with --data")
        if size not in (32, 64):
            raise UserError(f"--size must be 64 or 32, got {size}")
        refuse_nonempty(out, overwrite)
        train_one, shared = _shapes_concepts(kind, config, 6000 if n is None else n, size,
                                             latent_dim, model)
    else:
        train_one, shared = _store_concepts(kind, out, config, data, concept_names, label, leak,
                                            n, (test_fraction, split), size, crop, latent_dim,
                                            model, overwrite)
    with staged_outputs(output_dir(out, overwrite), owned=(*OUTPUTS, *SEEDS_OUTPUTS)) as stage:
        if seeds is None:
            scores = train_one(config, stage)
        else:
            per_seed = _train_seeds(kind, train_one, config, runs, stage)
            training = {k: v for k, v in dataclasses.asdict(config).items() if k != "seed"}
            summary = write_seed_summary(stage, per_seed,
                                         {"kind": kind, **shared, "training": training,
                                          "model_settings": list(overrides or [])},
                                         {s: scores["flag"] for s, scores in per_seed.items()})
    if seeds is not None:
        _print_seed_summary(out, summary, runs)
        return
    from latentplay.metrics.concepts import concept_text

    for line in (_scores_line(scores), f"concepts (held out): {concept_text(scores['concept_scores'])}",
                 _intervention_line(scores["intervention"]),
                 f"wrote {out / 'metrics.json'} (every score); all of it on one page: "
                 f"latentplay report {shell_word(out)}"):
        table_console().print(line, highlight=False, soft_wrap=True, markup=False)
    if scores["flag"]:
        warn(_concept_warning(kind, scores))


def _train_seeds(kind: str, train_one: TrainOne, config: Any, runs: list[int],
                 stage: Path) -> dict[int, dict[str, Any]]:
    """A model per seed of ``runs`` trained into ``stage/seed_S`` (moved to ``out/seed_S``
    once all are written), each one's scores printed; returns the scores by seed."""
    per_seed = {}
    for s in runs:
        per_seed[s] = train_one(dataclasses.replace(config, seed=s), stage / f"seed_{s}")
        console.print(f"seed {s}: {_scores_line(per_seed[s])}", highlight=False, soft_wrap=True)
        if per_seed[s]["flag"]:
            warn(_concept_warning(kind, per_seed[s]))
    return per_seed


def _intervention_line(result: dict[str, Any]) -> str:
    """The test-time intervention on a line: task accuracy with no concept and with every
    concept set right, the concept that helps most alone, and a refit head's accuracy."""
    from latentplay.outputs import figure_text

    acc = result["accuracy"]
    best = max(result["single"].items(), key=lambda item: item[1])
    return (f"intervention: task accuracy {figure_text(acc[0])} as predicted, "
            f"{figure_text(acc[-1])} with all {len(acc) - 1} concept(s) set right; alone, "
            f"{best[0]} helps most ({figure_text(best[1])}); a head refit on the same "
            f"activations: {figure_text(result['refit_head'])}; intervention.png")


def _scores_line(scores: dict[str, Any]) -> str:
    """One seed's headline scores on a line: task accuracy, alignment, explicitness and each
    leakage beyond the concepts."""
    from latentplay.outputs import figure_text

    parts = [f"task accuracy {figure_text(scores['accuracy'])} (chance "
             f"{figure_text(scores['task_chance'])})"]
    if scores.get("kind") == "glancenet":   # its open-set rejection: the others accept all
        parts.append(f"accepted {figure_text(scores['accepted'])} of the test images (task "
                     f"accuracy on them {figure_text(scores.get('accuracy_accepted'))})")
    parts += [f"{key} {figure_text(scores.get(key))}" for key in ("alignment", "explicitness")
              if key in scores]
    parts += [f"{name} leak {figure_text(s['beyond'])}" for name, s in
              scores.get("leakage", {}).items() if "beyond" in s]
    return ", ".join(parts)


def _print_seed_summary(out: Path, summary: dict[str, dict[str, Any]], seeds: list[int]) -> None:
    """Each score's mean, SD, lowest and highest over ``seeds`` as a table, and where the
    summary was written."""
    from latentplay.outputs import figure_text

    table = Table(title=f"over {len(seeds)} seeds ({', '.join(map(str, seeds))})")
    for column in ("score", "mean", "sd", "min", "max", "seeds"):
        table.add_column(column, justify="left" if column == "score" else "right")
    for name, s in summary.items():
        table.add_row(name, *(figure_text(s[k]) for k in ("mean", "sd", "min", "max")),
                      str(s["n"]))
    table_console().print(table)
    console.print(f"wrote {out / 'seeds.json'}, seeds.csv, seeds.png and each seed's seed_S "
                  "folder", highlight=False, soft_wrap=True)


SET_BY_OPTIONS = {"conditional_prior": "the kind (glancenet: with it; vae: without)",
                  "masking_fact": "--masking-fact", "latent_dim": "--latent-dim"}
"""Model settings that ``metrics concepts`` takes from its kind and options, not ``key=value``."""


def _model_settings(kind: str, overrides: list[str]) -> dict[str, Any]:
    """The model config fields ``overrides`` (``key=value``) set for ``kind``, checked against
    its config (:class:`~latentplay.models.glancenet.GlanceNetConfig` or
    :class:`~latentplay.models.cbm.CBMConfig`) as a whole: ``{"loss": LossConfig(...), ...}``."""
    from dataclasses import fields

    from latentplay.config import resolve
    from latentplay.models.cbm import CBMConfig
    from latentplay.models.glancenet import GlanceNetConfig
    from latentplay.train.config import check_loss_items

    given = {item.split("=", 1)[0].split(".", 1)[0]: item for item in overrides}  # top-level keys
    for key, item in given.items():
        if key in SET_BY_OPTIONS:
            raise UserError(f"{item}: {key} is set by {SET_BY_OPTIONS[key]}")
    cfg = resolve(CBMConfig if kind == "cbm" else GlanceNetConfig, overrides)
    if kind != "cbm":   # GlanceNets' --loss_terms: a setting of a term not in them is refused
        check_loss_items(overrides, list(cfg.loss.terms), kind)
    return {f.name: getattr(cfg, f.name) for f in fields(cfg) if f.name in given}


def _latent_dim(kind: str, latent_dim: int | None, columns: int, default: int | None
                ) -> dict[str, int]:
    """The model's ``latent_dim`` override for ``columns`` concept columns: ``latent_dim``
    when given (at least ``columns``), else ``default`` (None: the model's own, 10); none for a
    cbm."""
    if kind == "cbm":
        return {}
    if latent_dim is not None and latent_dim < columns:
        raise UserError(f"--latent-dim {latent_dim} is fewer than the {columns} concept columns, "
                        "each of which takes a latent")
    chosen = latent_dim if latent_dim is not None else default
    return {} if chosen is None else {"latent_dim": chosen}


TrainOne = Callable[[Any, Path], dict[str, Any]]
"""Train a concept model with a :class:`~latentplay.metrics.concepts.TrainConfig` into a
directory and return its scores (the data drawn once, before)."""


def _shapes_concepts(kind: str, config: Any, n: int, size: int, latent_dim: int | None,
                     model: dict[str, Any]) -> tuple[TrainOne, dict[str, Any]]:
    """``metrics concepts`` on ``n`` shapes drawn on the fly with ``config.seed`` (and a fifth
    as many to test): the trainer, and what ``seeds.json`` records of the data."""
    from latentplay.metrics.concepts import run_concept_model
    from latentplay.metrics.leakage import shapes_data

    train_data, _ = shapes_data(n, config.seed, (0, 1, 2), size)
    test_data, _ = shapes_data(max(n // 5, 10), config.seed + 1, (0, 1, 2), size)
    few = _few_rows_note(train_data.levels, "DCI alignment/explicitness")
    if few is not None:
        warn(few)

    def train_one(train: Any, out: Path) -> dict[str, Any]:
        return run_concept_model(kind, train_data, test_data, out, train, n_classes=4,
                                 **_latent_dim(kind, latent_dim, len(train_data.names), None),
                                 **model)

    return train_one, {"data": {"shapes": n, "test": len(test_data.images), "size": size,
                                "seed": config.seed}}


def _store_concepts(kind: str, out: Path, config: Any, path: Path, concept_names: str | None,
                    label: str | None, leak: str | None, n: int | None,
                    held_out: tuple[float, str], size: int, crop: float, latent_dim: int | None,
                    model: dict[str, Any], overwrite: bool) -> tuple[TrainOne, dict[str, Any]]:
    """``metrics concepts --data``: the store's attributes as concepts and task
    (:mod:`latentplay.metrics.store_concepts`, drawn with ``config.seed``), ``held_out`` the
    test fraction and split; each ``--leak`` attribute's concept leakage is added to the
    scores and ``metrics.json``. The trainer, and what ``seeds.json`` records of the data."""
    from latentplay.cliargs import split_names
    from latentplay.metrics.concepts import run_concept_model
    from latentplay.metrics.store_concepts import (
        FREE_LATENTS,
        check_leak_targets,
        leakage_of,
        store_concept_data,
    )
    from latentplay.store import load
    from latentplay.store.split import HELD_OUT

    if not concept_names or not label:
        raise UserError("--data needs --concepts (the concept attributes) and --label (the task)")
    store = load(path)
    names = split_names(concept_names)
    targets = split_names(leak)
    check_leak_targets(store, targets, names, label)
    refuse_nonempty(out, overwrite)
    parts = store_concept_data(store, names, label, size=size, crop=crop,
                               test_fraction=held_out[0], seed=config.seed, limit=n,
                               split=held_out[1])
    console.print(f"{len(parts.rows_train):,} training and {len(parts.rows_test):,} test images "
                  f"({HELD_OUT[parts.split]} held out); "
                  f"{len(parts.train.names)} concept column(s): {', '.join(parts.train.names)}"
                  + (f"; {parts.left_out:,} rows without a value of the task left out"
                     if parts.left_out else "")
                  + (f"; {parts.unlabelled:,} without a value of some concept trained on without "
                     "concept supervision" if parts.unlabelled else ""),
                  highlight=False, soft_wrap=True)

    def leakage(test_out: dict[str, np.ndarray]) -> dict[str, Any]:
        return {"leakage": leakage_of(store, parts, test_out["concepts"], targets, config.seed)}

    record = parts.record(store, label, names, crop)

    def train_one(train: Any, run: Path) -> dict[str, Any]:
        scores = run_concept_model(kind, parts.train, parts.test, run, train,
                                   n_classes=len(parts.classes),
                                   data=record, extra=leakage if targets else None,
                                   **_latent_dim(kind, latent_dim, len(parts.train.names),
                                                 len(parts.train.names) + FREE_LATENTS), **model)
        for line in _leakage_lines(scores.get("leakage", {})):
            console.print(line, highlight=False, soft_wrap=True)
        return scores

    return train_one, {"data": record}


def _leakage_lines(leakage: dict[str, dict[str, Any]]) -> list[str]:
    """One line per ``--leak`` attribute: what the activations and the true concepts tell."""
    lines = []
    for name, s in leakage.items():
        if "skipped" in s:
            lines.append(f"leakage of {name}: not measured ({s['skipped']})")
            continue
        lines.append(
            f"{name} from the concept activations: accuracy {s['accuracy']:.3f}; from the true "
            f"concepts {s['truth_accuracy']:.3f}; chance {s['chance']:.3f} ({s['images']:,} test "
            f"images): leakage {s['leakage']:.3f} against chance, {s['beyond']:.3f} beyond the "
            "concepts")
    return lines


def _concept_warning(kind: str, scores: dict[str, Any]) -> str:
    """Why the scores of ``run_concept_model`` (its ``flag``) say little, naming what the model
    did and did not learn."""
    from latentplay.metrics.concepts import concept_text, concepts_not_learned

    missing = concepts_not_learned(scores["concept_scores"])
    detail = concept_text(scores["concept_scores"])
    accuracy, chance = scores["accuracy"], scores["task_chance"]
    if "task near chance" not in scores["flag"]:
        return (f"warning: {kind}: no concept learned ({detail}): its alignment and explicitness "
                "say little; train longer (--epochs) or on more images (--n)")
    head = (f"warning: {kind}: task accuracy {accuracy:.3f} is near chance ({chance:.3f}); it has "
            "not learned its task")
    learned = (f", though its concepts were learned ({detail})" if not missing
               else f", nor all its concepts (not learned: {', '.join(missing)}; {detail})")
    return head + learned + ": train longer (--epochs) or on more images (--n)"
