"""Parsing of the small list arguments that several commands share, their help, and the
check of a number option's least value."""

from __future__ import annotations

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
        if key.strip() in out:   # the last one silently won
            raise UserError(f"condition {key.strip()!r} is given twice; give each attribute once")
        try:
            out[key.strip()] = float(value)
        except ValueError:
            out[key.strip()] = value.strip()
    return out
