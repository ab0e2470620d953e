"""``latentplay data convert FORMAT SRC --out PATH``: a published dataset into a store."""

from __future__ import annotations

from pathlib import Path

import typer

from latentplay.outputs import warn
from latentplay.sources.formats import CONVERTERS, RESAMPLING_NAMES


def convert(
    format: str = typer.Argument(..., help=f"Dataset format: {', '.join(CONVERTERS)}."),
    src: Path = typer.Argument(..., help="The dataset as its authors publish it (folder or file)."),
    out: Path = typer.Option(..., "--out", help="Directory of the new store."),
    resize: int = typer.Option(
        None, "--resize",
        help="Centre-crop to a square and resize to N x N (stored as PNG). "
             "Without it the original encoded bytes are kept (an image turned by its EXIF "
             "orientation, or not RGB, is stored upright in RGB as PNG).",
    ),
    resample: str = typer.Option(
        "lanczos", "--resample", help=f"Resampling for --resize: {', '.join(RESAMPLING_NAMES)}."
    ),
    limit: int = typer.Option(
        None, "--limit",
        help="Convert only the first N inputs in the dataset's order (sorted paths, or the "
             "label file's rows): not a random sample; for one, use latentplay data subset --n.",
    ),
    split: str = typer.Option(None, "--split", help="Keep one published split (e.g. train)."),
    strict: bool = typer.Option(
        False, "--strict", help="Fail (exit status 2, nothing written) at the first rejected input."
    ),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing store."),
    columns: str = typer.Option(
        None, "--columns",
        help="morph/aiface/folder: attribute=CSV column pairs, comma-separated; folder also "
             "takes :categorical or :continuous, e.g. file=path,gender=sex,age=age:continuous.",
    ),
    workers: int = typer.Option(None, "--workers", help="Decoding processes (default: all cores)."),
) -> None:
    """Convert a published dataset (UTKFace, FairFace, RFW, LFW, MORPH, AI-Face, CelebA,
    dSprites, MPI3D, MNIST, or any image folder + CSV) into a store; rejected inputs go to
    rejected.csv."""
    from latentplay.sources.convert import convert as convert_dataset
    from latentplay.sources.convert import limit_note, parse_columns, summary

    store = convert_dataset(
        format, src, out, resize=resize, resample=resample, limit=limit, split=split,
        strict=strict, overwrite=overwrite, columns=parse_columns(columns), workers=workers,
    )
    typer.echo(summary(store))
    if note := limit_note(store, limit):
        warn(f"note: {note}")
