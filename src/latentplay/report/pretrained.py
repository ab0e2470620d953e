"""The report page of an imported generator (``latentplay import``): a run directory with
``model.json`` and no training history."""

from __future__ import annotations

from pathlib import Path

from latentplay.report.files import read_json
from latentplay.report.images import file_figure
from latentplay.report.page import Facts, Page, Section, number

FORMATS = {"stylegan2": "a checkpoint of the PyTorch port (g_ema), tensors only",
           "nvidia-pickle": "an NVIDIA network pickle, unpickled without running its code"}


def page(run: Path) -> Page:
    """The page of imported run ``run``: what was imported from where, and its samples."""
    from latentplay.train.pretrained import describe

    meta = read_json(run / "model.json")
    model, source = meta.get("model", {}), meta.get("source", {})
    items = [
        ("generator", describe(meta)),
        ("checkpoint", str(source.get("checkpoint", "?"))),
        ("read as", FORMATS.get(source.get("format"), str(source.get("format", "?")))),
        ("checkpoint SHA-256", str(source.get("sha256", "?"))),
        ("W statistics", f"mean and principal axes of {number(source.get('w_samples'))} mapped "
                         f"draws (seed {source.get('seed', '?')})"),
        ("codes", "whitened W: w = w_mean + c @ w_basis, c ~ N(0, I) the Gaussian fitted to W"
                  if model.get("space") == "w" else "z, the mapping network's input"),
        ("tensors", number(len(meta.get("tensors", {})))),
    ]
    sections = [Section("Imported generator", "run", [Facts(items)])]
    if (run / "samples.png").exists():
        sections.append(Section("Images", "images", [file_figure(
            run / "samples.png", "Decodings of codes drawn from N(0, I) at import.")]))
    return Page("imported generator", f"Imported generator {run.name}", str(run), sections)
