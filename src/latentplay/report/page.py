"""What a report page is made of: sections holding facts, tables, figures, code and text.

The section builders (:mod:`~latentplay.report.training`, :mod:`~latentplay.report.matching`,
:mod:`~latentplay.report.auditing`, :mod:`~latentplay.report.stores`) return a :class:`Page`;
the template ``templates/report.html.j2`` draws each block by its ``kind``. Nothing here knows
HTML: every string stays plain text and is escaped when rendered.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import ClassVar

from latentplay.match import SMD_THRESHOLD as SMD_THRESHOLD  # the report highlights above it
from latentplay.outputs import p_text

ALT_CHARS = 100  # longest text alternative of a figure's image


def number(value: object) -> str:
    """A number as readers want it: ints exact with thousands separators, floats with five
    significant digits and no trailing zeros (scientific below 0.001), ``—`` for a missing value
    or NaN, ``yes``/``no`` for booleans; text is returned unchanged."""
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    x = float(value)  # type: ignore[arg-type]
    if math.isnan(x):
        return "—"
    if math.isinf(x):
        return "∞" if x > 0 else "−∞"
    if x == 0:
        return "0"
    if abs(x) < 1e-3:
        return f"{x:.2e}"
    decimals = max(0, 4 - math.floor(math.log10(abs(x))))
    text = f"{x:.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def to_float(text: str | None) -> float | None:
    """A CSV field as a float (None when empty or not a number)."""
    try:
        return float(text) if text not in (None, "") else None
    except ValueError:
        return None


def interval(low: object, high: object) -> str:
    """``[low, high]`` with :func:`number` formatting (``—`` when either bound is missing)."""
    if low is None or high is None:
        return "—"
    return f"[{number(low)}, {number(high)}]"


def share(value: float | None) -> str:
    """A share, rate or difference of shares in [0, 1] with three decimals, as the printouts
    give them (``—`` when missing or NaN)."""
    return "—" if value is None or math.isnan(value) else f"{value:.3f}"


def share_interval(low: float | None, high: float | None) -> str:
    """``[low, high]`` of a share with three decimals (``—`` when either bound is missing)."""
    if low is None or high is None:
        return "—"
    return f"[{share(low)}, {share(high)}]"


def p_value(p: float | None) -> str:
    """A p-value as text; one that underflowed to 0 reads ``< 1e-300``, a missing or NaN one
    (no test possible) ``—``."""
    return "—" if p is None or math.isnan(p) else p_text(p, 3)


def p_cell(p: float | None, simulated: bool = False) -> Cell:
    """A table cell of the p-value ``p`` (:func:`p_value`), right-aligned as numbers are,
    marked ``(simulated)`` where the test's p was simulated."""
    return Cell(p_value(p) + (" (simulated)" if simulated and p is not None else ""), numeric=True)


def p_is(p: float | None) -> str:
    """``p = 0.03``, or ``p < 1e-300`` for one that underflowed."""
    text = p_value(p)
    return f"p {text}" if text.startswith("<") else f"p = {text}"


@dataclass
class Cell:
    """One table cell: its text, whether it is a number (right-aligned), and whether it is
    flagged (highlighted, e.g. an |SMD| above :data:`SMD_THRESHOLD`)."""

    text: str
    numeric: bool = False
    flag: bool = False


def cell(value: object, flag: bool = False) -> Cell:
    """A :class:`Cell` of ``value``: ints and floats formatted with :func:`number` and
    right-aligned, text as it is, a :class:`Cell` itself."""
    if isinstance(value, Cell):
        return value
    numeric = isinstance(value, int | float) and not isinstance(value, bool)
    return Cell(number(value), numeric=numeric, flag=flag)


@dataclass
class Facts:
    """Label/value pairs drawn as a two-column list."""

    items: list[tuple[str, str]]
    kind: ClassVar[str] = "facts"


@dataclass
class Table:
    """A table: ``columns`` headers and ``rows`` of :class:`Cell` (one per column)."""

    columns: list[str]
    rows: list[list[Cell]]
    caption: str = ""
    kind: ClassVar[str] = "table"

    @classmethod
    def of(cls, columns: Sequence[str], rows: Sequence[Sequence[object]], caption: str = "") -> Table:
        """A table from raw values (see :func:`cell`)."""
        return cls(list(columns), [[cell(v) for v in row] for row in rows], caption)


@dataclass
class Figure:
    """An image embedded as a ``data:`` URI (PNG or GIF), with its caption; ``wide`` images
    keep their natural size in a horizontally scrolling frame instead of shrinking to the page."""

    uri: str
    caption: str
    wide: bool = False
    kind: ClassVar[str] = "figure"

    @property
    def alt(self) -> str:
        """A short text alternative naming what the image shows: the caption's first clause
        (its parenthetical remarks left out, at most :data:`ALT_CHARS` characters), the whole
        caption following in the figure's caption."""
        text = re.sub(r"\s*\([^()]*\)", "", self.caption)
        text = re.split(r"[.:;,](?:\s|$)", text, maxsplit=1)[0].strip()
        if len(text) > ALT_CHARS:
            text = text[:ALT_CHARS].rsplit(" ", 1)[0] + "…"
        return f"Animation: {text}" if self.uri.startswith("data:image/gif") else text


@dataclass
class Code:
    """Preformatted text (a config file) in a collapsible block titled ``summary``."""

    text: str
    summary: str
    kind: ClassVar[str] = "code"


@dataclass
class Text:
    """A paragraph of plain text."""

    text: str
    kind: ClassVar[str] = "text"


@dataclass
class Heading:
    """A sub-heading inside a section."""

    text: str
    kind: ClassVar[str] = "heading"


@dataclass
class Columns:
    """Blocks drawn side by side (wrapping on narrow screens), e.g. a table and its chart."""

    blocks: list[Facts | Table | Figure | Code | Text | Heading]
    kind: ClassVar[str] = "columns"


Block = Facts | Table | Figure | Code | Text | Heading | Columns


@dataclass
class Section:
    """A titled part of the page; ``anchor`` is its id for the table of contents."""

    title: str
    anchor: str
    blocks: list[Block] = field(default_factory=list)


@dataclass
class Page:
    """A whole report: what kind of directory it describes, its title and path, its sections."""

    kind: str
    title: str
    source: str
    sections: list[Section]
