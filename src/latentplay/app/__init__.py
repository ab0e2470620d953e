"""The Gradio playground: sample, traverse, interpolate, edit and project, in a browser.

>>> from latentplay.app import build_app, launch
>>> demo = build_app(run="runs/cvae", data="data/faces")     # a gr.Blocks
>>> launch(demo, port=7860)                                   # http://127.0.0.1:7860

``latentplay app --run RUN --data STORE`` does the same. Gradio (the ``app`` extra) is
imported only when :func:`build_app` or :func:`launch` is first used, so the rest of
latentplay works without it.
"""

from __future__ import annotations

from typing import Any

__all__ = ["build_app", "launch"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from latentplay.app import ui

        return getattr(ui, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
