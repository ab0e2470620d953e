"""Static HTML reports of run directories and stores (jinja2 templates, no scripts).

>>> from latentplay.report import build_report
>>> build_report("runs/cvae")                 # -> runs/cvae/report.html
>>> build_report("data/faces")                # -> data/faces.report.html (beside the store)

One self-contained file per directory: inline CSS, images embedded as ``data:`` URIs, readable
offline. :func:`detect` tells the kinds apart: training run, match run, audit run, probe run,
imported generator, concept model, leakage test, store.
"""

from typing import TYPE_CHECKING

from latentplay.lazy import lazy_exports

if TYPE_CHECKING:  # the exports as type checkers read them (py.typed); imported on first use below
    from latentplay.report.build import build_report as build_report
    from latentplay.report.build import default_out as default_out
    from latentplay.report.kinds import detect as detect

_EXPORTS = {"build_report": "build", "default_out": "build", "detect": "kinds"}
__all__ = sorted(_EXPORTS)
if not TYPE_CHECKING:  # type checkers read the imports above, which name every export
    __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
