"""Reading a report back in the tests: sections, images, URLs and table cells (stdlib
``html.parser``), and checks that embedded images decode."""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from PIL import Image


@dataclass
class Parsed:
    """What the tests read back from a report."""

    sections: list[str] = field(default_factory=list)  # ids of <section>
    images: list[str] = field(default_factory=list)  # src of every <img>
    urls: list[str] = field(default_factory=list)  # every href/src/action attribute
    tags: set[str] = field(default_factory=set)
    # section id -> tables -> rows -> cell texts
    tables: dict[str, list[list[list[str]]]] = field(default_factory=dict)


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.out = Parsed()
        self.section = ""
        self.cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.out.tags.add(tag)
        self.out.urls += [v for k, v in attrs if k in ("href", "src", "action") and v]
        if tag == "section":
            self.section = a.get("id") or ""
            self.out.sections.append(self.section)
        elif tag == "img":
            self.out.images.append(a.get("src") or "")
        elif tag == "table":
            self.out.tables.setdefault(self.section, []).append([])
        elif tag == "tr":
            self.out.tables[self.section][-1].append([])
        elif tag in ("td", "th"):
            self.cell = []

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self.cell is not None:
            self.out.tables[self.section][-1][-1].append("".join(self.cell).strip())
            self.cell = None


def parse(path: Path) -> Parsed:
    parser = _Parser()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser.out


def decode_image(uri: str) -> Image.Image:
    """The image of a ``data:image/...;base64,`` URI (fails unless it is a valid PNG/GIF)."""
    head, _, data = uri.partition(",")
    assert head in ("data:image/png;base64", "data:image/gif;base64"), head[:40]
    img = Image.open(io.BytesIO(base64.b64decode(data, validate=True)))
    img.load()
    assert img.format == ("PNG" if "png" in head else "GIF")
    return img


def image_size(path: Path) -> tuple[int, int]:
    """``(width, height)`` in pixels of the image file ``path`` (closed once read)."""
    with Image.open(path) as img:
        return img.size


def value(text: str) -> float:
    """A number as the report prints it (thousands separators, unicode minus)."""
    return float(text.replace(",", "").replace("−", "-"))


def row_of(table: list[list[str]], first: str) -> list[str]:
    """The row whose first cell is ``first``."""
    return next(r for r in table if r and r[0] == first)


def assert_self_contained(path: Path) -> Parsed:
    """Parse ``path`` and check that it loads nothing: no scripts, stylesheets, frames or
    fonts, every URL a ``data:`` URI or an in-page anchor, every image a valid PNG/GIF."""
    text = path.read_text(encoding="utf-8")
    parsed = parse(path)
    assert not parsed.tags & {"script", "link", "iframe", "object", "embed"}
    assert all(u.startswith(("data:image/", "#")) for u in parsed.urls), \
        [u[:60] for u in parsed.urls if not u.startswith(("data:image/", "#"))]
    assert "@import" not in text and "url(" not in text and "@font-face" not in text
    for src in parsed.images:
        decode_image(src)
    return parsed
