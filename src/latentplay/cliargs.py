"""Parsing of the small list arguments that several commands share, their help, and the
checks of a number option's least value and of a new output directory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from latentplay.errors import UserError

DETECTOR_HELP = ("hog\\[@T] (fast), cnn\\[@T] (dlib's CNN, run by PyTorch: finds more faces; T: a "
                 "score threshold, 0 as dlib's) or scrfd:PATH\\[@SIDE] "
                 "(an SCRFD .onnx network, e.g. InsightFace's det_10g.onnx; SIDE: its input, "
                 "640).")
"""``--detector``'s help, wherever faces are found."""
DETECTOR_DEVICE_HELP = "Where dlib's CNN detector (--detector cnn) runs: cpu, cuda or auto."


def at_least(value: float, low: float, option: str) -> None:
    """Refuse an option value below ``low`` with a message naming the option."""
    if value < low:
        raise UserError(f"{option} must be at least {low:g}, got {value:g}")


def new_out_dir(out: Path, *, runs_allowed: bool = False, overwrite: bool | None = None) -> None:
    """Refuse an --out that is a file or a non-empty directory, before anything is computed (the
    command would write its files among what is there). ``runs_allowed``: a directory holding a
    run (config.yaml) passes, for the training code's own "resume it"; ``overwrite``: the
    command's --overwrite (True: no check; None: the command has none)."""
    if overwrite or not out.exists() or (runs_allowed and (out / "config.yaml").exists()):
        return
    if not out.is_dir():
        raise UserError(f"--out {out} is a file; give a directory")
    if any(out.iterdir()):
        hint = ("pass --overwrite to write into it" if overwrite is not None
                else "give a new or empty directory (its files would be written among what is there)")
        raise UserError(f"--out {out} exists and is not empty; {hint}")


def split_names(text: str | None) -> list[str]:
    """``"a, b,,c"`` -> ``["a", "b", "c"]`` (None or empty: ``[]``)."""
    return [p.strip() for p in (text or "").split(",") if p.strip()]


def parse_condition(text: str | None) -> dict[str, Any]:
    """``"smile=0.5,gender=female"`` -> ``{"smile": 0.5, "gender": "female"}``: numbers become
    floats, anything else stays a (class name) string; None or empty gives ``{}``."""
    out: dict[str, Any] = {}
    for item in split_names(text):
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise UserError(f"condition {item!r} is not of the form attribute=value")
        try:
            out[key.strip()] = float(value)
        except ValueError:
            out[key.strip()] = value.strip()
    return out
