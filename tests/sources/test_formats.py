"""``sources/formats.py``: the names ``latentplay data convert --help`` lists are the
converters and filters that exist."""

from __future__ import annotations

import importlib

from PIL import Image

from latentplay.sources import convert, formats


def test_converter_names_are_the_converters() -> None:
    assert list(convert.FORMATS) == list(formats.CONVERTERS)
    for name in formats.CONVERTERS:
        assert callable(importlib.import_module(f"latentplay.sources.{name}").scan), name


def test_resampling_names_are_pil_filters() -> None:
    assert list(convert.RESAMPLING) == list(formats.RESAMPLING_NAMES)
    assert convert.RESAMPLING["lanczos"] is Image.Resampling.LANCZOS
    assert len(set(convert.RESAMPLING.values())) == len(formats.RESAMPLING_NAMES)


def test_help_lists_every_name(cli) -> None:  # noqa: ANN001 - fixture
    r = cli("data", "convert", "--help")
    text = " ".join(r.out.split())
    for name in (*formats.CONVERTERS, *formats.RESAMPLING_NAMES):
        assert name in text, name
