"""Static HTML reports of run directories and stores (jinja2 templates, no scripts).

>>> from latentplay.report import build_report
>>> build_report("runs/cvae")                 # -> runs/cvae/report.html
>>> build_report("data/faces")                # -> data/faces.report.html (beside the store)

One self-contained file per directory: inline CSS, images embedded as ``data:`` URIs, readable
offline. :func:`detect` tells the kinds apart: training run, match run, audit run, store.
"""

import importlib
from typing import Any

_EXPORTS = {"build_report": "build", "default_out": "build", "detect": "kinds"}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    """Names are imported on first use, so that ``latentplay report --help`` loads no library."""
    if name not in _EXPORTS:
        raise AttributeError(f"module 'latentplay.report' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"latentplay.report.{_EXPORTS[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
