"""What every figure shares: the colour ramp of ordered classes, the grey of ``unknown`` and of
missing values, titles wrapped to the width a figure has for them, and axes of whole numbers
(epochs) ticked at whole numbers only.

Ordered classes (age groups, Monk skin tones, binned values, frown / neutral / smile) take
evenly spaced colours of one sequential map, :data:`ORDERED_MAP`, dark to light: its middle is
clearly coloured, so no class looks like the grey of ``unknown``. Rows without a value are grey
everywhere: :data:`UNKNOWN_GREY` for points and lines, and in bar charts a light grey hatched
bar (:func:`unknown_bar_style`)."""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.axis import Axis
from matplotlib.font_manager import FontProperties
from matplotlib.textpath import TextToPath
from matplotlib.ticker import MaxNLocator

ORDERED_MAP = "viridis"
"""The sequential colour map ordered classes are drawn along (see :func:`ordered_colors`)."""

ORDERED_SPAN = (0.0, 0.9)
"""The part of :data:`ORDERED_MAP` used: its palest yellow is left out, hard to see on white."""

UNKNOWN_GREY = (0.6, 0.6, 0.6, 1.0)
"""RGBA of points and lines of rows without a value (class ``unknown``, missing)."""

UNKNOWN_FILL = (0.92, 0.92, 0.92, 1.0)
"""RGBA of a bar of rows without a value; it is hatched (:func:`unknown_bar_style`)."""


def ordered_colors(n: int) -> np.ndarray:
    """``(n, 4)`` RGBA of ``n`` ordered classes, evenly spaced along :data:`ORDERED_MAP`
    (first class darkest); one class takes the ramp's start."""
    if n <= 0:
        return np.zeros((0, 4))
    return colormaps[ORDERED_MAP](np.linspace(*ORDERED_SPAN, n))


def unknown_bar_style() -> dict[str, Any]:
    """Keyword arguments of ``ax.bar``/``ax.barh`` for a bar of rows without a value: light
    grey, hatched, with a grey outline."""
    return {"color": UNKNOWN_FILL, "edgecolor": "0.55", "hatch": "///", "linewidth": 0.5}


def text_color(rgba: Any) -> str:
    """``"white"`` or ``"black"``: the one that reads better on a fill of colour ``rgba``."""
    r, g, b = (float(c) for c in tuple(rgba)[:3])
    return "white" if 0.2126 * r + 0.7152 * g + 0.0722 * b < 0.45 else "black"


def integer_ticks(axis: Axis) -> None:
    """Tick ``axis`` (of epochs, counts) at whole numbers only, 1, 2 or 5 times a power of ten
    apart and as many as fit; an axis around a single whole number gets that one tick."""
    axis.set_major_locator(MaxNLocator(nbins="auto", steps=[1, 2, 5, 10], integer=True,
                                       min_n_ticks=1))


def row_note(ax: Axes, y: float, text: str) -> None:
    """Write ``text`` in grey at the left edge of ``ax``, at data height ``y``: why a bar chart's
    row has no bar ("no value", "too few pairs", ...)."""
    ax.text(0.01, y, text, transform=ax.get_yaxis_transform(), va="center", fontsize=8, color="0.4")


_MEASURE = TextToPath()


def text_width(text: str, fontsize: float) -> float:
    """Width in inches of one line of ``text`` at ``fontsize`` points (the default font)."""
    width, _, _ = _MEASURE.get_text_width_height_descent(text, FontProperties(size=fontsize),
                                                          ismath=False)
    return float(width) / 72.0


def wrap_title(text: str, width: float, fontsize: float) -> str:
    """``text`` with each of its lines broken at spaces so that none is wider than ``width``
    inches at ``fontsize`` points (a word longer than that stays whole); a line that needs
    breaking is broken into lines of about equal width, not a full one and a last word."""
    out: list[str] = []
    for line in text.split("\n"):
        words = line.split(" ")
        lines = _greedy(words, width, fontsize)
        if len(lines) > 1:  # the narrowest width that still needs no more lines
            low, high = max(text_width(w, fontsize) for w in words), width
            for _ in range(12):
                middle = (low + high) / 2
                if len(_greedy(words, middle, fontsize)) <= len(lines):
                    high = middle
                else:
                    low = middle
            lines = _greedy(words, high, fontsize)
        out.extend(lines)
    return "\n".join(out)


def _greedy(words: list[str], width: float, fontsize: float) -> list[str]:
    """``words`` joined into lines, each as many words as fit in ``width`` inches."""
    lines: list[str] = []
    current = ""
    for word in words:
        trial = f"{current} {word}" if current else word
        if current and text_width(trial, fontsize) > width:
            lines.append(current)
            current = word
        else:
            current = trial
    lines.append(current)
    return lines
