"""Pieces shared by the playground's tabs: error messages, image display, condition controls."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import gradio as gr
import numpy as np

from latentplay.app import generate
from latentplay.app.state import Playground
from latentplay.errors import UserError

DISPLAY = 128
"""Images are enlarged (nearest neighbour) to at least this many pixels a side for display."""


def slider(minimum: float, maximum: float, **kwargs: Any) -> gr.Slider:
    """A ``gr.Slider`` whose values reach the handler as :func:`within` lets them."""
    return within(gr.Slider(minimum, maximum, **kwargs))


Limited = TypeVar("Limited", gr.Slider, gr.Number)


def within(made: Limited) -> Limited:
    """``made`` (a slider, or a number box with limits) with its preprocessing made to name it:
    an emptied number box reaches the handler as None, for :func:`number` to name it in a
    message (Gradio's own preprocessing refuses None before the handler runs: a bare "Error"
    in the page), and a value typed beyond the limits is a message naming the control and
    its limits (Gradio's says "Value 9 is greater than maximum value 4." and prints a
    traceback on the server). (The preprocessing is replaced on the instance: Gradio writes
    a ``.pyi`` stub beside the module of any subclass of a component.)"""
    checked = made.preprocess

    def preprocess(value: float | None) -> float | None:
        if value is None:
            return None
        try:
            return checked(value)
        except gr.Error:
            raise gr.Error(f"{made.label} must be {_limits(made.minimum, made.maximum)}, got "
                           f"{value:g}", print_exception=False) from None

    made.preprocess = preprocess  # type: ignore[method-assign]
    return made


def _limits(minimum: float | None, maximum: float | None) -> str:
    """The limits of a control in words: ``in -4..4``, ``10 or more``, ``at most 4``."""
    if minimum is None:
        return f"at most {maximum:g}"
    return f"{minimum:g} or more" if maximum is None else f"in {minimum:g}..{maximum:g}"


def settled(controls: Sequence[gr.components.Component]) -> list[Any]:
    """The event of each control that fires once the user has set it: a slider's release (its
    change fires at every step of a drag), another control's change."""
    return [c.release if isinstance(c, gr.Slider) else c.change for c in controls]


def guard(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` with a :class:`UserError` turned into a ``gr.Error`` message in the page."""

    @functools.wraps(fn)
    def run(*args: Any) -> Any:
        try:
            return fn(*args)
        except UserError as exc:
            raise gr.Error(str(exc), print_exception=False) from None

    return run


def number(value: float | None, name: str) -> float:
    """``value`` of a number box or slider as a float; a :class:`UserError` naming the control
    ``name`` when it is empty (a cleared box gives None), not a number (NaN) or infinite."""
    if value is None:
        raise UserError(f"{name} is empty: give a number")
    try:
        found = float(value)
    except (TypeError, ValueError):
        raise UserError(f"{name} must be a number, got {value!r}") from None
    if math.isnan(found):
        raise UserError(f"{name} is not a number (NaN): give a number")
    if not math.isfinite(found):
        raise UserError(f"{name} must be a finite number, got {found}")
    return found


def whole(value: float | None, name: str) -> int:
    """``value`` of a number box, slider or dropdown as an int (:func:`number`'s checks)."""
    return int(number(value, name))


def display(images: np.ndarray) -> np.ndarray:
    """``(..., S, S, C)`` uint8 enlarged to at least :data:`DISPLAY` pixels a side by an
    integer factor (crisp pixels), a gray channel dropped: ``(..., kS, kS[, 3])``."""
    k = max(1, math.ceil(DISPLAY / images.shape[-2]))
    big = np.repeat(np.repeat(images, k, axis=-3), k, axis=-2)
    return big[..., 0] if big.shape[-1] == 1 else big


def condition_controls(pg: Playground) -> list[gr.components.Component]:
    """One control per condition part: a slider (continuous, beyond the training range) or
    a dropdown of class names (categorical)."""
    controls: list[gr.components.Component] = []
    for part in pg.condition_parts:
        if part.kind == "continuous":
            lo, hi = generate.slider_span(part)
            trained = part.range or (-1.0, 1.0)
            controls.append(slider(lo, hi, value=(trained[0] + trained[1]) / 2, step=0.05,
                                      label=part.name,
                                      info=f"trained on {trained[0]:g}..{trained[1]:g}"))
        else:
            names = list(part.names or [str(k) for k in range(part.size)])
            controls.append(gr.Dropdown(names, value=names[0], label=part.name))
    return controls


def condition_values(pg: Playground, values: Sequence[Any]) -> dict[str, Any]:
    """``{attribute: value}`` of the condition controls' values (a continuous one's slider
    read with :func:`number`)."""
    return {p.name: number(v, p.name) if p.kind == "continuous" else v
            for p, v in zip(pg.condition_parts, values, strict=True)}
