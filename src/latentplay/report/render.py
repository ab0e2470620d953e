"""Rendering a :class:`~latentplay.report.page.Page` to HTML (jinja2, autoescaped) and writing
it atomically: a temporary sibling file renamed over the target, so a failed render or write
leaves the previous report as it was."""

from __future__ import annotations

import dataclasses
import datetime as _dt
import re
from collections.abc import Sequence

import jinja2

from latentplay import __version__
from latentplay.outputs import made_by
from latentplay.report.page import Page, Section

TEMPLATE = "report.html.j2"


def environment() -> jinja2.Environment:
    """The jinja2 environment of the packaged templates; every value is HTML-escaped."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("latentplay.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(page: Page) -> str:
    """The whole HTML document of ``page`` (CSS inline, images as data URIs, no scripts); its
    footer names the latentplay version, the time and the command that wrote it."""
    created = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    page = dataclasses.replace(page, sections=unique_anchors(page.sections))
    return environment().get_template(TEMPLATE).render(page=page, version=__version__,
                                                       created=created, made=made_by())


def unique_anchors(sections: Sequence[Section]) -> list[Section]:
    """``sections`` with ids a link can reach: whitespace in an anchor (made from a name with
    spaces) as ``-``, and a repeated anchor numbered (the edits of a counterfactual profile are
    all ``counterfactual``: ``counterfactual-2``, ...), so that each table-of-contents link
    leads to its own section."""
    seen: set[str] = set()
    out = []
    for section in sections:
        base = re.sub(r"\s+", "-", section.anchor.strip()) or "section"
        anchor, n = base, 1
        while anchor in seen:
            n += 1
            anchor = f"{base}-{n}"
        seen.add(anchor)
        out.append(dataclasses.replace(section, anchor=anchor))
    return out
