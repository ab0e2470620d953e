"""The Gradio playground: sample, traverse, interpolate, edit and project, in a browser.

>>> from latentplay.app import build_app, launch
>>> demo = build_app(run="runs/cvae", data="data/faces")     # a gr.Blocks
>>> launch(demo, port=7860)                                   # http://127.0.0.1:7860

``latentplay app --run RUN --data STORE`` does the same. Gradio (the ``app`` extra) is
imported only when :func:`build_app` or :func:`launch` is first used, so the rest of
latentplay works without it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from latentplay.lazy import lazy_exports

if TYPE_CHECKING:  # the exports as type checkers read them (py.typed); imported on first use below
    from latentplay.app.ui import build_app as build_app
    from latentplay.app.ui import launch as launch

__all__ = ["build_app", "launch"]


if not TYPE_CHECKING:  # type checkers read the imports above, which name every export
    __getattr__, __dir__ = lazy_exports(__name__, dict.fromkeys(__all__, "ui"))
