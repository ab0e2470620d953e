"""What every figure shares: the colour ramp of ordered classes, the grey of ``unknown`` and of
missing values, titles wrapped to the width a figure has for them, and axes of whole numbers
(epochs) ticked at whole numbers only.

Ordered classes (age groups, binned values, frown / neutral / smile) take evenly spaced
colours of one sequential map, :data:`ORDERED_MAP`, dark to light: its middle is clearly
coloured, so no class looks like the grey of ``unknown``. Skin scales (an attribute whose name
holds ``skin``: Monk's ``skin_tone``, ITA's ``skin_group`` and ``skin_ita``) are drawn in skin
colours instead, :data:`SKIN_MAP`, so that the lightest skin is the lightest colour. Values of
both signs around a neutral 0 (a smile degree, a head turn) take :data:`SIGNED_MAP`. Classes
named after colours (synthfaces' ``background``, MPI3D's ``object_color``) take those colours
(:func:`named_colors`). Rows without a value are grey
everywhere: :data:`UNKNOWN_GREY` for points and lines, and in bar charts a light grey hatched
bar (:func:`unknown_bar_style`)."""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.axis import Axis
from matplotlib.colors import CSS4_COLORS, LinearSegmentedColormap, to_rgba
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.layout_engine import TightLayoutEngine
from matplotlib.textpath import TextToPath
from matplotlib.ticker import LogFormatter, MaxNLocator

ORDERED_MAP = "viridis"
"""The sequential colour map ordered classes are drawn along (see :func:`ordered_colors`)."""

ORDERED_SPAN = (0.0, 0.9)
"""The part of :data:`ORDERED_MAP` used: its palest yellow is left out, hard to see on white."""

SKIN_MAP = "copper"
"""The colour map of skin scales: black through brown to a light peach."""

SKIN_SPAN = (0.95, 0.25)
"""The part of :data:`SKIN_MAP` skin classes run along, first class (the lightest skin in Monk's
scale, Fitzpatrick's and ITA's groups) to last: its near-black end is left out."""

SIGNED_MAP = "latentplay_signed"
"""The colour map of values of both signs around a neutral 0: dark blue through a light khaki
at 0 to dark red. Its ends are its darkest, most saturated colours, so values far from 0 (a
broad smile, a frown) stand out on the white page; its middle is light but neither white nor
grey, so neutral points still show, apart from the grey of missing values (a white-centred
map hides them; a dark-centred one draws the eye to them and leaves the ends pale)."""

if SIGNED_MAP not in colormaps:
    colormaps.register(LinearSegmentedColormap.from_list(
        SIGNED_MAP, ["#08306b", "#3a7bbf", "#9dbcd9", "#cbbf8f", "#eba487", "#c23b2e", "#67000d"]))

UNKNOWN_GREY = (0.6, 0.6, 0.6, 1.0)
"""RGBA of points and lines of rows without a value (class ``unknown``, missing)."""

UNKNOWN_FILL = (0.92, 0.92, 0.92, 1.0)
"""RGBA of a bar of rows without a value; it is hatched (:func:`unknown_bar_style`)."""


LUMINANCE = np.array([0.2126, 0.7152, 0.0722])
"""Weights of R, G and B in a colour's relative luminance."""


CLASS_COLORS = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9")
"""Unordered classes up to five: Okabe and Ito's colour-blind-safe palette without its yellow
(faint on white), black (the colour of "all rows" lines) and reddish purple (near the grey of
``unknown`` to a deuteranope). Every pair is at least 12 CIEDE2000 apart, and every colour 10
from :data:`UNKNOWN_GREY`, for normal, deuteranope, protanope and tritanope vision (Machado
et al. 2009); tab10's orange and green were 1.3 apart to a protanope."""
COLOUR_ONLY = len(CLASS_COLORS)
"""Classes a figure tells apart by colour alone; past them it adds a second channel (marker
shapes, line styles, hatching), for readers who cannot tell every colour apart."""


def qualitative_colors(n: int) -> list[tuple[float, float, float, float]]:
    """``n`` RGBA colours for unordered classes: :data:`CLASS_COLORS` up to five; tab10 (up to
    nine) or tab20 (up to 18) without their greys, which are ``unknown``'s; past 18, turbo in a
    fixed shuffled order, so that classes with neighbouring codes (person 17, person 18) do
    not get near-identical colours. Past five classes a reader with a colour-vision
    deficiency cannot tell every pair apart: figures that must back colour with labels or
    markers."""
    if n <= len(CLASS_COLORS):
        return [to_rgba(c) for c in CLASS_COLORS[:n]]
    tab10, tab20 = ([c for c in colormaps[name].colors if len(set(c)) > 1]  # type: ignore[attr-defined]
                    for name in ("tab10", "tab20"))
    if n <= len(tab20):
        return [(*c, 1.0) for c in (tab10 if n <= len(tab10) else tab20)[:n]]
    shuffled = np.random.default_rng(0).permutation(n)
    return [tuple(colormaps["turbo"](x)) for x in np.linspace(0.0, 1.0, n)[shuffled]]


def is_skin(attribute: str | None) -> bool:
    """Whether ``attribute`` is a skin scale (its name holds ``skin``), drawn in skin colours."""
    return attribute is not None and "skin" in attribute.lower()


def ordered_colors(n: int, attribute: str | None = None) -> np.ndarray:
    """``(n, 4)`` RGBA of ``n`` ordered classes of ``attribute``, evenly spaced along
    :data:`ORDERED_MAP` (first class darkest), or for a skin scale (:func:`is_skin`) along
    :data:`SKIN_MAP` from light to dark (skin scales list the lightest skin first); one class
    takes the ramp's start."""
    if n <= 0:
        return np.zeros((0, 4))
    if is_skin(attribute):
        return colormaps[SKIN_MAP](np.linspace(*SKIN_SPAN, n))
    return colormaps[ORDERED_MAP](np.linspace(*ORDERED_SPAN, n))


NAMED_LIGHTEST = 0.8
"""The highest luminance a colour-named class is drawn at: ``white`` and ``ivory`` points would
vanish on the white page, so they are drawn as darker as needed to reach it."""

NAMED_APART = 0.15
"""The least RGB distance between colour-named classes, and from :data:`UNKNOWN_GREY`, for
their own colours to be used."""


COLOR_ALIASES = {"blond": "goldenrod", "blonde": "goldenrod"}
"""Colour words that are no CSS name (hair colours), with the CSS colour they are drawn in."""


def named_colors(names: Sequence[str], attribute: str | None = None) -> np.ndarray | None:
    """``(K, 4)`` RGBA of classes named after colours (``blue``, ``sea green``, ``Dark_Red``:
    CSS names, any case, spaces and underscores ignored; ``blond``), each drawn in its own colour, the
    palest darkened to luminance :data:`NAMED_LIGHTEST`; None, so that a palette is used,
    unless every class names a colour, one at least is not a grey, no two (nor one and the grey
    of ``unknown``) are closer than :data:`NAMED_APART`, and ``attribute`` is not a skin scale
    or a race or ethnicity (classes ``white`` and ``black`` of those are not colours)."""
    if not names or is_skin(attribute) or any(
            w in (attribute or "").lower() for w in ("race", "ethnic")):
        return None
    keys = [re.sub(r"[\s_-]", "", str(name)).lower() for name in names]
    keys = [COLOR_ALIASES.get(key, key) for key in keys]
    if not all(key in CSS4_COLORS for key in keys):
        return None
    rgba = np.array([to_rgba(CSS4_COLORS[key]) for key in keys])
    if (np.ptp(rgba[:, :3], axis=1) < 0.2).all():
        return None
    luminance = rgba[:, :3] @ LUMINANCE
    rgba[:, :3] *= np.minimum(1.0, NAMED_LIGHTEST / np.maximum(luminance, 1e-9))[:, None]
    points = np.vstack([rgba[:, :3], UNKNOWN_GREY[:3]])
    gaps = np.linalg.norm(points[:, None] - points[None], axis=-1) + np.eye(len(points))
    return rgba if gaps.min() >= NAMED_APART else None


def unknown_bar_style() -> dict[str, Any]:
    """Keyword arguments of ``ax.bar``/``ax.barh`` for a bar of rows without a value: light
    grey, hatched, with a grey outline."""
    return {"color": UNKNOWN_FILL, "edgecolor": "0.55", "hatch": "///", "linewidth": 0.5}


def text_color(rgba: Any) -> str:
    """``"white"`` or ``"black"``: the one of higher contrast (WCAG's ratio of relative
    luminances, of linear RGB) on a fill of colour ``rgba``: black on pure red (5.3:1, where
    white gives 4.0:1)."""
    srgb = np.asarray(tuple(rgba)[:3], float)
    linear = np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)
    lum = float(linear @ LUMINANCE)
    return "white" if (1.05 / (lum + 0.05)) > ((lum + 0.05) / 0.05) else "black"


def integer_ticks(axis: Axis) -> None:
    """Tick ``axis`` (of epochs, counts) at whole numbers only, 1, 2 or 5 times a power of ten
    apart and as many as fit; an axis around a single whole number gets that one tick."""
    axis.set_major_locator(MaxNLocator(nbins="auto", steps=[1, 2, 5, 10], integer=True,
                                       min_n_ticks=1))


class PlainLogFormatter(LogFormatter):
    """Tick labels of a log axis as plain numbers (``0.001``, ``20``, ``1e-05``) on the ticks
    matplotlib labels: its own are mathtext (``$\\mathdefault{10^{-3}}$``), which figures made
    with ``parse_math`` off (:func:`~latentplay.viz.plain.drawn_as_written`) showed as that
    very string."""

    def __call__(self, x: float, pos: int | None = None) -> str:
        return f"{x:g}" if super().__call__(x, pos) else ""


def log_axis(ax: Axes, which: str = "y") -> None:
    """Put ``ax``'s ``which`` axis (``"x"`` or ``"y"``) on a log scale, its ticks labelled by
    :class:`PlainLogFormatter` (the minor ones where matplotlib labels them: within about a
    decade)."""
    getattr(ax, f"set_{which}scale")("log")
    axis = getattr(ax, f"{which}axis")
    axis.set_major_formatter(PlainLogFormatter())
    axis.set_minor_formatter(PlainLogFormatter(labelOnlyBase=False))


COLUMN_WIDTH = 3.3
"""Inches of one column of a two-column paper: the width a one-panel chart is printed at."""

PAGE_WIDTH = 6.9
"""Inches of a two-column paper's full text width (about a slide's, too): the width a figure of
several panels or an image grid is printed at."""

SMALLEST_TEXT = 6.0
"""Points: the least size any text of a figure may have once the figure is scaled to the width
it is printed at (journals ask 6 to 7 points)."""


def readable_size(size: float, width: float, printed: float = PAGE_WIDTH) -> float:
    """Points at which to draw text meant at ``size`` points in a figure ``width`` inches wide, so
    that it is :data:`SMALLEST_TEXT` points or more once the figure is scaled to ``printed``
    inches: ``size``, or more in a wider figure."""
    return max(size, SMALLEST_TEXT * width / printed)


CHART_WIDTH = 4.0
"""Inches of a one-panel chart meant for a paper's column (:data:`COLUMN_WIDTH`) and a little
more, its legend under the axes: the bias chart, a projection's PNG, the love plot."""

CHART_TEXT = readable_size(7.0, CHART_WIDTH, COLUMN_WIDTH)
"""Points of such a chart's smallest text: 6 or more once printed a column wide."""

LABEL_MOST = 0.4 * CHART_WIDTH
"""Inches a chart's row label (a group's name and count, a covariate) takes at most, left of
its bars or points: a longer name is shortened in its middle (:func:`fitted`)."""


_PLACEHOLDER = re.compile(r"_child\d+|_container\d+|_nolegend_")
"""The labels matplotlib gives artists that are not to be in a legend."""


def legend_items(ax: Axes) -> tuple[list[Any], list[str]]:
    """The handles and labels of ``ax``'s labelled artists in the order drawn, as
    ``ax.get_legend_handles_labels()`` gives them but with labels that start with ``_`` too:
    matplotlib leaves those out of a legend, and a class named ``_other`` lost its entry (or
    the entries after it slid onto the wrong colours). Only matplotlib's own placeholders
    (``_child3``, ``_nolegend_``) are left out."""
    from matplotlib.legend import _get_legend_handles

    handles = [h for h in _get_legend_handles([ax])
               if h.get_label() and not _PLACEHOLDER.fullmatch(h.get_label())]
    return handles, [h.get_label() for h in handles]


def printed_size(fig: Figure, printed: float) -> float:
    """Points of the smallest visible text of ``fig`` once the figure is scaled to ``printed``
    inches wide (inf where it has no text)."""
    from matplotlib.text import Text

    sizes = [t.get_fontsize() for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]
    return min(sizes, default=float("inf")) * printed / float(fig.get_figwidth())


def row_note(ax: Axes, y: float, text: str) -> None:
    """Write ``text`` in grey at the left edge of ``ax``, at data height ``y``: why a bar chart's
    row has no bar ("no value", "too few pairs", ...)."""
    ax.text(0.01, y, text, transform=ax.get_yaxis_transform(), va="center", fontsize=8, color="0.4")


def tight_layout(fig: Figure, rect: tuple[float, float, float, float] | None = None) -> None:
    """Place ``fig``'s axes as ``fig.tight_layout(rect=rect)`` does, and leave no layout engine on
    it: one that ``fig.tight_layout`` leaves makes ``savefig`` lay the whole figure out a second
    time before drawing it. The same image, one pass fewer."""
    TightLayoutEngine(rect=rect).execute(fig)


_MEASURE = TextToPath()


@functools.lru_cache(maxsize=4096)
def text_width(text: str, fontsize: float) -> float:
    """Width in inches of one line of ``text`` at ``fontsize`` points (the default font)."""
    width, _, _ = _MEASURE.get_text_width_height_descent(text, FontProperties(size=fontsize),
                                                          ismath=False)
    return float(width) / 72.0


def fitted(name: str, width: float, fontsize: float, suffix: str = "") -> str:
    """``name + suffix`` (a class or group name a figure labels something with, and its count)
    with ``name`` shortened in its middle to ``head…tail`` so that the whole is at most
    ``width`` inches wide at ``fontsize`` points, or as it is when it fits: a 300-character
    name pushed the bars or the legend off the figure. Start and end both stay, so names
    that differ in either still read apart. A name of several lines is fitted line by line,
    ``suffix`` after its last."""
    if "\n" in name:
        *lines, last = name.split("\n")
        return "\n".join([fitted(line, width, fontsize) for line in lines]
                         + [fitted(last, width, fontsize, suffix)])
    if text_width(name + suffix, fontsize) <= width:
        return name + suffix
    low, high = 0, len(name)    # the most characters kept that fit lies in [low, high)
    while high - low > 1:
        middle = (low + high) // 2
        if text_width(_cut(name, middle) + suffix, fontsize) <= width:
            low = middle
        else:
            high = middle
    return _cut(name, low) + suffix


def _cut(name: str, keep: int) -> str:
    """``name`` with its first ``ceil(keep / 2)`` and last ``floor(keep / 2)`` characters either
    side of an ellipsis."""
    return name[:keep - keep // 2] + "…" + (name[len(name) - keep // 2:] if keep // 2 else "")


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
    """``words`` joined into lines, each as many words as fit in ``width`` inches. A line's width
    is its words' widths plus its spaces' (the default font's text layout does not kern)."""
    space = text_width(" ", fontsize)
    lines: list[list[str]] = []
    current: list[str] = []
    used = 0.0
    for word in words:
        extra = text_width(word, fontsize) + (space if current else 0.0)
        if current and used + extra > width:
            lines.append(current)
            current, used = [word], text_width(word, fontsize)
        else:
            current.append(word)
            used += extra
    lines.append(current)
    return [" ".join(line) for line in lines]
