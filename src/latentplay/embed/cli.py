"""``latentplay embed STORE --with NAME --column COL``, and ``latentplay data align``."""

from __future__ import annotations

from pathlib import Path

import typer

from latentplay.cliargs import DETECTOR_DEVICE_HELP, DETECTOR_HELP, UPSAMPLE_HELP
from latentplay.errors import UserError

# One command, not a group: a callback that runs without a sub-command, with options allowed
# after the STORE argument.
app = typer.Typer(add_completion=False, invoke_without_command=True, no_args_is_help=True,
                  context_settings={"allow_interspersed_args": True})


@app.callback()
def embed(
    store: Path = typer.Argument(..., help="Store directory."),
    with_: str = typer.Option(..., "--with", help="Embedder: pixels-pca, dlib, vae:RUN, "
                              "invert:RUN, clip:PATH, fisher:STORE, onnx:PATH, concepts:DIR "
                              "(a concept model of metrics concepts)."),
    column: str = typer.Option(..., "--column", help="Name of the new vector column."),
    batch_size: int = typer.Option(256, "--batch-size", help="Images per batch."),
    option: list[str] = typer.Option(
        None, "--option", "-o", help="Embedder option key=value (repeatable), e.g. dim=32."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing column."),
) -> None:
    """Embed every image of STORE into a new vector column (resumable: run again to continue)."""
    import numpy as np

    from latentplay import store as st
    from latentplay.embed.column import embed_store, flagged_rows

    result = embed_store(store, with_, column, options=option or [], batch_size=batch_size,
                         overwrite=overwrite)
    dim = result.schema.vector(column).dim
    typer.echo(f"wrote column {column!r} ({len(result)} x {dim}) to {result.path}")
    missing = flagged_rows(result, column)
    if len(missing):
        shown = ", ".join(str(i) for i in missing[:20]) + (" ..." if len(missing) > 20 else "")
        nan = np.isnan(st.vectors(result, column)[missing]).all()
        typer.echo(f"{len(missing)} rows had no detectable face ("
                   + ("left as NaN" if nan else "embedded with the fallback")
                   + f"; listed in the store's history): rows {shown}")


def align(
    store: Path = typer.Argument(..., help="Store of face photos."),
    out: Path = typer.Option(..., "--out", help="Directory of the new, aligned store."),
    size: int = typer.Option(112, "--size", help="Side of the aligned crops: 64, 112, 128, 224, "
                             "256, 512 or 1024."),
    template: str = typer.Option("dlib", "--template", help="dlib (eyes level, whole head, "
                                 "--padding), arcface (five points on ArcFace's template) or ffhq "
                                 "(FFHQ's crop: for projecting photos into an FFHQ StyleGAN)."),
    padding: float = typer.Option(0.25, "--padding", help="Margin around the face (dlib's)."),
    upsample: int = typer.Option(-1, "--upsample", help=UPSAMPLE_HELP),
    detector: str = typer.Option("hog", "--detector", help=DETECTOR_HELP),
    device: str = typer.Option("cpu", "--device", help=DETECTOR_DEVICE_HELP),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing store."),
) -> None:
    """Detect, crop and align each face (dlib's, ArcFace's or FFHQ's template); list images with no
    face."""
    from latentplay import store as st
    from latentplay.embed.align import align_store

    if size not in (64, 112, 128, 224, 256, 512, 1024):
        raise UserError(f"--size must be 64, 112, 128, 224, 256, 512 or 1024, got {size}")
    result = align_store(store, out, size=size, padding=padding,
                         upsample=None if upsample < 0 else upsample, template=template,
                         detector=detector, device=device, overwrite=overwrite)
    counts = result.schema.provenance.counts
    line = f"aligned {counts['converted']} of {counts['inputs']} faces into {result.path}"
    if counts["rejected"]:
        line += (f"; {counts['rejected']} without a detectable face listed in "
                 f"{result.path / st.REJECTED_FILE}")
    typer.echo(line)
