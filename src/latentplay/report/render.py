"""Rendering a :class:`~latentplay.report.page.Page` to HTML (jinja2, autoescaped) and writing
it atomically: a temporary sibling file renamed over the target, so a failed render or write
leaves the previous report as it was."""

from __future__ import annotations

import datetime as _dt
import os
import uuid
from pathlib import Path

import jinja2

from latentplay import __version__
from latentplay.report.page import Page

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
    """The whole HTML document of ``page`` (CSS inline, images as data URIs, no scripts)."""
    created = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    return environment().get_template(TEMPLATE).render(page=page, version=__version__,
                                                       created=created)


def write_atomic(text: str, out: Path) -> Path:
    """Write ``text`` (UTF-8) to ``out`` through a temporary sibling renamed into place."""
    tmp = out.with_name(f".{out.name}.tmp-{uuid.uuid4().hex[:8]}")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return out
