"""``latentplay leakage ...``: concept-leakage tests of VAE, CBM and GlanceNet."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from latentplay.cliargs import at_least
from latentplay.errors import UserError
from latentplay.outputs import console as table_console
from latentplay.outputs import refuse_nonempty

app = typer.Typer(no_args_is_help=True, add_completion=False)


@app.command()
def run(
    out: Path = typer.Option(..., "--out", help="Directory for leakage.csv, leakage.png and "
                             "leakage.json (the settings)."),
    experiments: str = typer.Option("dsprites,parity", "--experiments", help="dsprites, parity or both."),
    epochs: int = typer.Option(10, "--epochs", help="Training epochs (parity uses 3x, its set is small)."),
    n_train: int = typer.Option(6000, "--n-train", help="dsprites: training-domain images."),
    n_probe: int = typer.Option(3000, "--n-probe", help="dsprites: probe images (all three shapes)."),
    batch_size: int = typer.Option(64, "--batch-size", help="Training batch size (parity: at most 16)."),
    seed: int = typer.Option(0, "--seed"),
    size: int = typer.Option(64, "--size", help="dsprites image side: 64, or 32 (4x cheaper)."),
    models: str = typer.Option("vae,cbm,glancenet", "--models", help="Concept models to compare."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Write into a non-empty --out."),
) -> None:
    """Train VAE, CBM and GlanceNet on each experiment's domain; write the leakage table and chart."""
    from latentplay.metrics.concepts import KINDS, TrainConfig
    from latentplay.metrics.leakage import EXPERIMENTS, leakage_table

    chosen = tuple(e.strip() for e in experiments.split(",") if e.strip())
    unknown = [e for e in chosen if e not in EXPERIMENTS]
    if unknown or not chosen:
        raise UserError(f"unknown experiment(s) {unknown}; choose from {', '.join(EXPERIMENTS)}")
    kinds = tuple(m.strip() for m in models.split(",") if m.strip())
    bad = [m for m in kinds if m not in KINDS]
    if bad or not kinds:
        raise UserError(f"unknown model(s) {bad}; choose from {', '.join(KINDS)}")
    at_least(epochs, 1, "--epochs")
    at_least(batch_size, 1, "--batch-size")
    at_least(seed, 0, "--seed")
    at_least(n_train, 5, "--n-train")  # a fifth more are the held-out task rows
    at_least(n_probe, 2, "--n-probe")  # half train the probe, half test it
    if size not in (32, 64):
        raise UserError(f"--size must be 64 or 32, got {size}")
    refuse_nonempty(out, overwrite)  # before minutes of training
    err = Console(stderr=True)
    rows = leakage_table(
        chosen,
        TrainConfig(epochs=epochs, batch_size=batch_size, seed=seed),
        out=out,
        n_train=n_train,
        n_probe=n_probe,
        progress=lambda m: err.print(m),
        models=kinds,
        size=size,
    )
    table = Table("experiment", "model", "task acc", "leak acc", "chance", "leakage", "accepted")
    for r in rows:
        table.add_row(
            str(r["experiment"]),
            str(r["model"]),
            f"{r['accuracy']:.3f}",
            f"{r['leak_accuracy']:.3f}",
            f"{r['chance']:.3f}",
            f"{r['leakage']:.3f}",
            f"{r['accepted']:.3f}",
        )
    table_console().print(table)
    for r in rows:  # a model that has not learned its task: its concepts say little of leakage
        if float(r["accuracy"]) < float(r["task_chance"]) + 0.1:
            err.print(f"warning: {r['experiment']} {r['model']}: task accuracy "
                      f"{r['accuracy']:.3f} is near chance ({r['task_chance']:.3f}); it has not "
                      "learned its task, so its leakage says little: train longer (--epochs)",
                      highlight=False, soft_wrap=True)
    err.print(f"wrote {out / 'leakage.csv'}, {out / 'leakage.png'} and {out / 'leakage.json'}")
