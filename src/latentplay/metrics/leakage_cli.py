"""``latentplay leakage ...``: concept-leakage tests of VAE, CBM and GlanceNet."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from latentplay.cliargs import at_least
from latentplay.errors import UserError
from latentplay.metrics.seeds import SEEDS_OUTPUTS
from latentplay.outputs import console as table_console
from latentplay.outputs import output_dir, refuse_nonempty, staged_outputs, warn

app = typer.Typer(no_args_is_help=True, add_completion=False)


def _names(text: str, option: str, allowed: tuple[str, ...]) -> tuple[str, ...]:
    """The comma-separated names of ``option``; an unknown or repeated one is a UserError."""
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    unknown = [n for n in names if n not in allowed]
    if unknown or not names:
        raise UserError(f"{option}: unknown {', '.join(unknown) or 'empty list'}; choose from "
                        f"{', '.join(allowed)}")
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise UserError(f"{option} names {', '.join(twice)} twice")
    return names


@app.command()
def run(
    out: Path = typer.Option(..., "--out", help="Directory for leakage.csv, leakage.png and "
                             "leakage.json (the settings and each model's concept scores)."),
    experiments: str = typer.Option("dsprites,parity", "--experiments", help="dsprites, parity or both."),
    epochs: int = typer.Option(10, "--epochs", help="Training epochs (parity uses 3x, its set is small)."),
    n_train: int = typer.Option(
        None, "--n-train", help="dsprites: training-domain images, drawn from the 2,880 centred "
        "sprites (pos_x, pos_y in (0.48, 0.52)); default: all. A fifth are held out."),
    n_probe: int = typer.Option(
        5000, "--n-probe", help="dsprites: probe images, drawn from the 92,160 sprites in the "
        "corners pos_x, pos_y < 0.25 and > 0.75 (the held-out target)."),
    probe_splits: int = typer.Option(
        20, "--probe-splits", help="Stratified halvings of the probe images the probe is repeated "
        "over (mean and SD reported)."),
    batch_size: int = typer.Option(32, "--batch-size", help="Training batch size (parity: at most 16)."),
    lr: float = typer.Option(2e-3, "--lr", help="Adam learning rate of every model."),
    threads: int = typer.Option(
        1, "--threads", help="PyTorch CPU threads (0: PyTorch's default). One is the fastest for "
        "these small models on a busy machine: two were 13x slower on 2 shared cores."),
    seed: int = typer.Option(0, "--seed", help="Seed of the data, the training and the probe's halvings."),
    seeds: str = typer.Option(
        None, "--seeds", help="Run the table once per training seed (0,1,2 or 0-4) on the same "
        "data and probe halvings (drawn with the first) into OUT/seed_S, and give each "
        "leakage's mean and SD over them (seeds.json, seeds.csv, seeds.png)."),
    size: int = typer.Option(64, "--size", help="dsprites image side: 64, or 32 (4x cheaper)."),
    models: str = typer.Option("vae,cbm,glancenet", "--models", help="Concept models to compare."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Write into a non-empty --out."),
) -> None:
    """Train VAE, CBM and GlanceNet on each experiment's domain; write the leakage table and chart.

    dsprites is GlanceNets' dsprites_leakage: trained on centred sprites (concepts shape, scale,
    orientation; task the shape), probed on sprites in two opposite corners (target: which
    corner). parity: trained on digits 4 and 5, probed on the others (target: even or odd).
    The leakage of a store's attributes from a model of its faces: `latentplay metrics
    concepts KIND --data STORE --concepts ... --label ... --leak ATTR`.
    """
    from latentplay.metrics.concepts import KINDS, TrainConfig
    from latentplay.metrics.leakage import EXPERIMENTS, OUTPUTS, leakage_table
    from latentplay.metrics.seeds import training_seeds

    chosen = _names(experiments, "--experiments", EXPERIMENTS)
    kinds = _names(models, "--models", KINDS)
    at_least(epochs, 1, "--epochs")
    at_least(batch_size, 1, "--batch-size")
    at_least(seed, 0, "--seed")
    runs = training_seeds(seed, seeds)
    at_least(threads, 0, "--threads")
    if not 0 < lr < math.inf:  # inf trained until a loss became NaN
        raise UserError(f"--lr must be a finite number above 0, got {lr:g}")
    if n_train is not None:
        at_least(n_train, 5, "--n-train")  # a fifth of them are the held-out task rows
        if n_train > 2880:
            raise UserError(f"--n-train: the dsprites training domain holds 2,880 centred sprites, got "
                            f"{n_train}")
    at_least(n_probe, 4, "--n-probe")  # half train the probe, half test it, both corners in each
    if n_probe > 92160:
        raise UserError(f"--n-probe: the dsprites probe set holds 92,160 corner sprites, got {n_probe}")
    at_least(probe_splits, 1, "--probe-splits")
    if size not in (32, 64):
        raise UserError(f"--size must be 64 or 32, got {size}")
    refuse_nonempty(out, overwrite)  # before minutes of training
    err = Console(stderr=True, markup=False)   # paths as written: out[1]/ stays
    train = TrainConfig(epochs=epochs, batch_size=batch_size, lr=lr, seed=runs[0], threads=threads)
    per_seed = {}
    with staged_outputs(output_dir(out, overwrite), owned=(*OUTPUTS, *SEEDS_OUTPUTS)) as stage:
        for s in runs:
            folder = "" if seeds is None else f"seed_{s}"
            if seeds is not None:
                err.print(f"seed {s}", highlight=False)
            per_seed[s] = leakage_table(chosen, replace(train, seed=s), out=stage / folder,
                                        n_train=n_train, n_probe=n_probe,
                                        progress=lambda m: err.print(m), models=kinds, size=size,
                                        splits=probe_splits, data_seed=runs[0])
            _print_table(per_seed[s], probe_splits, err)
        if seeds is not None:
            _summarise_seeds(stage, per_seed, train, chosen, kinds, err)
    if seeds is None:  # said once the files are in --out
        err.print(f"wrote {out / 'leakage.csv'}, {out / 'leakage.png'} and {out / 'leakage.json'}")
    else:
        err.print(f"wrote {out / 'seeds.json'}, seeds.csv, seeds.png and each seed's seed_S folder "
                  "(leakage.csv, .png, .json)", highlight=False)


def _summarise_seeds(out: Path, per_seed: dict[int, list[dict[str, Any]]], train: Any,
                     experiments: tuple[str, ...], models: tuple[str, ...], err: Console) -> None:
    """``seeds.json``, ``seeds.csv`` and ``seeds.png`` of the tables ``per_seed`` (seed ->
    rows) written into ``out``, and each row's leakage and task accuracy over the seeds,
    printed."""
    from latentplay.metrics.seeds import leakage_scores, write_seed_summary

    scores = {s: {_row_name(r): {k: v for k, v in r.items() if k not in ("experiment", "model")}
                  for r in rows} for s, rows in per_seed.items()}
    flags = {s: "; ".join(f"{_row_name(r)}: {r['flag']}" for r in rows
                          if r.get("flag") and "+" not in str(r["model"]))
             for s, rows in per_seed.items()}
    flagged = Counter(_row_name(r) for rows in per_seed.values() for r in rows if r.get("flag"))
    training = {k: v for k, v in asdict(train).items() if k != "seed"}
    summary = write_seed_summary(out, scores, {"kind": "leakage", "experiments": list(experiments),
                                               "models": list(models), "training": training,
                                               "data_seed": train.seed},
                                 flags, leakage_scores)
    seeds = list(per_seed)
    table = Table("experiment", "model", "leakage", "task acc", "seeds flagged",
                  title=f"over {len(seeds)} seeds ({', '.join(map(str, seeds))}): mean ± SD")
    for row in per_seed[seeds[0]]:
        name = _row_name(row)
        table.add_row(str(row["experiment"]), str(row["model"]),
                      _mean_sd(summary.get(f"{name}.leakage")),
                      _mean_sd(summary.get(f"{name}.accuracy")), str(flagged[name]))
    table_console().print(table)


def _row_name(row: dict[str, Any]) -> str:
    """A leakage table row's name among the seeds' scores: ``dsprites glancenet``."""
    return f"{row['experiment']} {row['model']}"


def _mean_sd(score: dict[str, Any] | None) -> str:
    """``0.123 ± 0.045`` of a summarised score; ``-`` for none."""
    if not score or score.get("mean") is None:
        return "-"
    return f"{score['mean']:.3f} ± {score['sd']:.3f}" if score.get("sd") is not None \
        else f"{score['mean']:.3f}"


def _print_table(rows: list[dict[str, Any]], probe_splits: int, err: Console) -> None:
    """One leakage table, each flagged model warned of."""
    table = Table("experiment", "model", "task acc", "concepts", "leak acc", "chance",
                  "leakage ± SD", "accepted", "flag")
    for r in rows:
        table.add_row(
            str(r["experiment"]),
            str(r["model"]),
            f"{r['accuracy']:.3f}",
            _concept_cell(r),
            f"{r['leak_accuracy']:.3f}",
            f"{r['chance']:.3f}",
            f"{r['leakage']:.3f} ± {r['leakage_sd']:.3f}",
            f"{r['accepted']:.3f}",
            str(r.get("flag") or ""),
        )
    table_console().print(table)
    err.print(f"leakage: mean ± SD over {probe_splits} halvings of the probe images; training "
              "seeds (--seeds) move it more", highlight=False, soft_wrap=True)
    for r in rows:
        if r.get("flag") and "+" not in str(r["model"]):  # once per trained model
            warn(_warning(r))


def _concept_cell(row: dict[str, Any]) -> str:
    """The held-out concept scores in a cell: mean accuracy of the categorical concepts and mean
    R² of the continuous ones."""
    parts = []
    if row.get("concept_acc") is not None:
        parts.append(f"acc {row['concept_acc']:.2f}")
    if row.get("concept_r2") is not None:
        parts.append(f"R² {row['concept_r2']:.2f}")
    return ", ".join(parts)


def _warning(row: dict[str, Any]) -> str:
    """Why ``row``'s leakage says little, naming what its model did and did not learn."""
    from latentplay.metrics.concepts import concept_text, concepts_not_learned

    scores = row.get("concept_scores") or {}
    missing = concepts_not_learned(scores)
    detail = concept_text(scores)
    head = f"warning: {row['experiment']} {row['model']}: "
    if row["accuracy"] < row["task_chance"] + 0.1:
        head += (f"task accuracy {row['accuracy']:.3f} is near chance ({row['task_chance']:.3f}); it "
                 "has not learned its task")
        if not missing:
            return (head + f", though its concepts were learned ({detail}): its leakage still "
                    "measures what they carry, of a model whose classifier failed; train longer "
                    "(--epochs)")
        return (head + f", and not all its concepts either (not learned: {', '.join(missing)}; "
                f"{detail}), so its leakage says little: train longer (--epochs)")
    return (head + f"no concept learned ({detail}): its concept activations are free features, so "
            "its leakage says little of concept leakage: train longer (--epochs)")
