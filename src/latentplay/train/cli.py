"""``latentplay train``: train a model preset on a store, or resume a run (the command function,
registered by the root app in :mod:`latentplay.cli`)."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import typer

from latentplay.cliargs import at_least
from latentplay.errors import UserError, full_disk, full_disk_line
from latentplay.outputs import refuse_nonempty, say, shell_word, warn


def train_command(
    model: str = typer.Argument(None, help="Model preset in configs/models (e.g. betavae, cvae, "
                                "dcgan) or a YAML file."),
    overrides: list[str] = typer.Argument(None, help="key=value config overrides, e.g. "
                                          "loss.terms=\\[betatcvae,dipvae_ii] data.size=32"),
    data: Path = typer.Option(None, "--data", help="Training store."),
    out: Path = typer.Option(None, "--out", help="New run directory."),
    resume: Path = typer.Option(None, "--resume", help="Run directory to continue."),
    epochs: int = typer.Option(None, "--epochs", help="Number of epochs (default: trainer.epochs); "
                               "with --resume the run's total, not epochs more."),
    max_steps: int = typer.Option(None, "--max-steps", help="Stop after this many steps (default: "
                                   "trainer.max_steps, 0: no limit)."),
    batch_size: int = typer.Option(None, "--batch-size",
                                   help="Images per step, per process (default: trainer.batch_size)."),
    seed: int = typer.Option(None, "--seed", help="Random seed (default: the config's seed, 0)."),
    device: str = typer.Option(None, "--device", help="cpu, cuda or auto (default: trainer.device, auto)."),
    list_presets: bool = typer.Option(False, "--list", help="List the model presets."),
) -> None:
    """Train MODEL on --data into --out, or continue a run with --resume RUN."""
    from latentplay.train import api
    from latentplay.train.config import preset_description, presets
    from latentplay.train.engine import Stopped
    from latentplay.train.export import stale_export
    from latentplay.train.summary import summary_lines

    if list_presets:
        given = [name for name, value in (("MODEL", model), ("--resume", resume), ("--data", data),
                                          ("--out", out), ("--epochs", epochs),
                                          ("--max-steps", max_steps), ("--batch-size", batch_size),
                                          ("--seed", seed), ("--device", device),
                                          ("key=value", overrides or None)) if value is not None]
        if given:
            raise UserError(f"--list takes nothing else (given {', '.join(given)})")
        names = presets()
        width = max(map(len, names))
        typer.echo("\n".join(f"{name:<{width}}  {preset_description(name)}".rstrip() for name in names))
        return
    for value, least, option in ((epochs, 1, "--epochs"), (max_steps, 0, "--max-steps"),
                                 (batch_size, 1, "--batch-size")):
        if value is not None:  # named as typed, not as the trainer.* key the option sets
            at_least(value, least, option)
    if resume is not None:
        if model is not None or overrides or data is not None or out is not None:
            raise UserError("--resume takes only a run directory (and --epochs/--max-steps)")
        if batch_size is not None or seed is not None or device is not None:
            raise UserError("--resume keeps the run's batch size, seed and device")
        start = partial(api.resume, resume, epochs=epochs, max_steps=max_steps)
    else:
        if model is None or data is None or out is None:
            raise UserError("usage: latentplay train MODEL --data STORE --out RUN [key=value ...]"
                            " or latentplay train --resume RUN")
        refuse_nonempty(out, None, runs_allowed=True)  # a run there: api.train says to resume it
        start = partial(api.train, model, data, out, epochs=epochs, max_steps=max_steps,
                        batch_size=batch_size, seed=seed, device=device,
                        overrides=list(overrides or []))
    try:
        run = start()
    except Stopped as exc:   # a signal: the state is saved at exc.step
        typer.echo(exc.cli_line, err=True)
        raise SystemExit(exc.code) from None
    except Exception as exc:
        _refuse_full_disk(exc, resume if resume is not None else out)
        raise
    typer.echo(f"run written to {run}")
    for line in summary_lines(run):
        say(f"  {line}")
    if resume is not None and (stale := stale_export(run)) is not None:
        warn(f"note: {stale} holds an export of the weights before this resume; "
             f"`latentplay export {shell_word(run)} --overwrite` exports these")


def export_command(
    run: Path = typer.Argument(..., help="Run directory."),
    out: Path = typer.Option(None, "--out", help="Directory for the ONNX files (default: "
                             "RUN/onnx)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace a previous export in --out."),
) -> None:
    """Export a trained run's networks to ONNX: encoder and decoder (or a GAN's generator),
    checked against PyTorch."""
    from latentplay.train.export import export_run

    target = out if out is not None else run / "onnx"
    info = export_run(run, target, overwrite=overwrite)
    for name, entry in info["files"].items():
        typer.echo(f"{target / name}: {', '.join(entry['inputs'])} -> {', '.join(entry['outputs'])}"
                   f" (largest difference from PyTorch {entry['max_abs_diff']:.1e})")
    if "encoder.onnx" in info["files"] and not info["condition"].get("parts"):
        crop = info["image"]["crop"]
        typer.echo(f"embed with it: latentplay embed STORE --with onnx:{target / 'encoder.onnx'} "
                   "--column COL -o align=none -o pixels=unit -o normalize=false"
                   + (f" -o crop={crop:g}" if crop != 1 else ""))


def import_command(
    kind: str = typer.Argument(..., help="What the checkpoint holds: stylegan2 or stylegan3."),
    checkpoint: Path = typer.Argument(..., help="The checkpoint file: NVIDIA's network pickle .pkl "
                                      "(G_ema), or for a StyleGAN2 also the PyTorch port's .pt "
                                      "(g_ema) or .safetensors."),
    out: Path = typer.Option(..., "--out", help="New run directory."),
    size: int = typer.Option(None, "--size", help="Decode to this side (the native resolution "
                             "divided by a power of two; default: native)."),
    space: str = typer.Option("w", "--space", help="Codes in w (whitened W) or z."),
    truncation: float = typer.Option(1.0, "--truncation", help="Truncation psi at every decoding."),
    truncation_cutoff: int = typer.Option(0, "--truncation-cutoff", help="Truncate only the first K "
                                          "synthesis layers' w (NVIDIA's truncation_cutoff; 0: all)."),
    w_samples: int = typer.Option(10_000, "--w-samples", help="Prior draws for W's mean and axes."),
    seed: int = typer.Option(0, "--seed", help="Seed of those draws and of samples.png."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace a non-empty --out."),
) -> None:
    """Import a pretrained generator as a run directory that every latent command reads
    (sample, invert, edit, interpolate, traverse; embed --with invert:RUN)."""
    from latentplay.train.checkpoint import read_meta
    from latentplay.train.pretrained import describe, import_generator

    run = import_generator(checkpoint, out, kind=kind, size=size, space=space, truncation=truncation,
                           truncation_cutoff=truncation_cutoff, w_samples=w_samples, seed=seed,
                           overwrite=overwrite)
    typer.echo(f"{describe(read_meta(run))}: run written to {run} (samples.png)")


def _refuse_full_disk(exc: BaseException, run_dir: Path) -> None:
    """A :class:`UserError` saying how to go on when a full disk or file-size limit stopped
    the run in ``run_dir`` after a checkpoint (before one, :func:`~latentplay.train.api.train`
    removed what it wrote: the same command starts it again); return otherwise."""
    from latentplay.train.checkpoint import STATE_FILE

    full = full_disk(exc)
    if full is not None and (run_dir / STATE_FILE).is_file():
        raise UserError(f"{full_disk_line(full)}; once there is room, `latentplay train --resume "
                        f"{shell_word(run_dir)}` continues from its last checkpoint") from None
