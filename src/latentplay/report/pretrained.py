"""The report page of an imported generator (``latentplay import``): a run directory with
``model.json`` and no training history."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from latentplay.errors import UserError
from latentplay.report.files import read_json
from latentplay.report.images import file_figure
from latentplay.report.page import Facts, Figure, Page, Section, number
from latentplay.viz.plain import drawn_as_written

FORMATS = {"nvidia-pickle": "an NVIDIA network pickle, unpickled without running its code"}


def page(run: Path) -> Page:
    """The page of imported run ``run``: what was imported from where, and its samples."""
    from latentplay.train.pretrained import describe

    meta = read_json(run / "model.json")
    model, source = meta.get("model", {}), meta.get("source", {})
    items = [
        ("generator", describe(meta)),
        ("checkpoint", str(source.get("checkpoint", "?"))),
        ("read as", _read_as(source)),
        ("checkpoint SHA-256", str(source.get("sha256", "?"))),
        ("W statistics", _w_statistics(source)),
        ("codes", "whitened W: w = w_mean + c @ w_basis, c ~ N(0, I) the Gaussian fitted to W"
                  if model.get("space") == "w" else "z, the mapping network's input"),
        ("tensors", number(len(meta.get("tensors", {})))),
    ]
    sections = [Section("Imported generator", "run", [Facts(items)])]
    variance = w_variances(run)
    if variance is not None:
        sections.append(_spectrum_section(variance))
    if (run / "samples.png").exists():
        sections.append(Section("Images", "images", [file_figure(
            run / "samples.png", "Decodings of codes drawn from N(0, I) at import.")]))
    return Page("imported generator", f"Imported generator {run.name}", str(run), sections)


def w_variances(run: Path) -> np.ndarray | None:
    """``(D,)`` variances of W along its principal axes, largest first (the squared row norms
    of the import's whitening basis), or None when the run has no ``w_basis``."""
    from safetensors import SafetensorError, safe_open

    path = run / "model.safetensors"
    try:
        with safe_open(str(path), framework="numpy") as f:
            if "w_basis" not in f.keys():
                return None
            basis = f.get_tensor("w_basis").astype(np.float64)
    except (OSError, SafetensorError) as exc:
        raise UserError(f"{path} is not a readable safetensors file ({exc}); cannot report on "
                        "this imported generator") from None
    return np.sort(np.square(basis).sum(1))[::-1]


def axes_holding(variance: np.ndarray, share: float) -> int:
    """How many principal axes hold ``share`` of the total variance."""
    cumulative = np.cumsum(variance) / variance.sum()
    return int(np.searchsorted(cumulative, share - 1e-12) + 1)


@drawn_as_written
def _spectrum_section(variance: np.ndarray) -> Section:
    from latentplay.report.figures import spectrum

    facts = [(f"axes holding {share:.0%} of W's variance", f"{axes_holding(variance, share)} of "
              f"{len(variance)}") for share in (0.5, 0.9, 0.99)]
    caption = ("Variance of W along its principal axes (the whitened codes' coordinates, "
               "GANSpace's directions): how many of W's dimensions its faces really use.")
    return Section("W's principal axes", "w-axes", [Facts(facts), Figure(
        spectrum(variance, "W's variance by principal axis"), caption)])


def _read_as(source: dict[str, Any]) -> str:
    """How the import read its checkpoint: the format, and for the PyTorch port's files the
    entry whose tensors it took (runs imported before the entry was recorded name none)."""
    from latentplay.train.pretrained import unaveraged

    note = unaveraged(source)
    if source.get("format") != "stylegan2":
        read = FORMATS.get(source.get("format"), str(source.get("format", "?")))
        return read + (f" ({note})" if note else "")
    entry = note or source.get("entry", "entry read not recorded")
    if entry is None:
        entry = "a bare state dict or .safetensors"
    return f"a checkpoint of the PyTorch port ({entry}), tensors only"


def _w_statistics(source: dict[str, Any]) -> str:
    """Where the run's W mean and axes come from."""
    draws = f"{number(source.get('w_samples'))} mapped draws (seed {source.get('seed', '?')})"
    if source.get("w_mean") == "w_avg":
        return (f"principal axes of {draws}; mean: the average its training kept (w_avg), where "
                "NVIDIA's truncation centres")
    return f"mean and principal axes of {draws}"
