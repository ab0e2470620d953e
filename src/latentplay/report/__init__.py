"""Static HTML reports of run directories and stores (jinja2 templates, no scripts).

>>> from latentplay.report import build_report
>>> build_report("runs/cvae")                 # -> runs/cvae/report.html
>>> build_report("data/faces")                # -> data/faces.report.html (beside the store)

One self-contained file per directory: inline CSS, images embedded as ``data:`` URIs, readable
offline. :func:`detect` tells the kinds apart: training run, match run, audit run, store.
"""

from latentplay.report.build import build_report, default_out
from latentplay.report.detect import detect

__all__ = ["build_report", "default_out", "detect"]
