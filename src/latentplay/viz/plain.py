"""Figures draw users' names as written: every function that makes a figure runs under
:data:`PLAIN_TEXT` (:func:`drawn_as_written`), without changing matplotlib's settings for
anything else. Importing this module loads no plotting library."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any, TypeVar

PLAIN_TEXT = {"text.parse_math": False}
"""The ``rcParams`` every latentplay figure is made under: labels, titles and legends are users'
names (a class ``$100``, ``a$b$c``, ``$\\frac$``), drawn as written and never read as mathtext
(which raised, or dropped the ``$`` and set the rest in italics)."""

Build = TypeVar("Build", bound=Callable[..., Any])

_SETTINGS = threading.RLock()
"""Held while a figure is made under :data:`PLAIN_TEXT`: matplotlib's settings are the whole
process's, so figures made in threads at once (a notebook's, a server's) take turns (one put
the settings back while another was still making its figure, which then read names as
mathtext, and the last to finish left ``parse_math`` off for good)."""


def drawn_as_written(build: Build) -> Build:
    """``build`` (a function that makes a figure) run under :data:`PLAIN_TEXT`: the texts it
    makes keep ``parse_math`` off when the figure is drawn or saved later, and matplotlib's
    settings are as they were once it returns (a notebook's own ``$\\alpha$`` stays mathtext).
    One thread at a time makes a figure (:data:`_SETTINGS`)."""

    @functools.wraps(build)
    def made(*args: Any, **kwargs: Any) -> Any:
        import matplotlib

        with _SETTINGS, matplotlib.rc_context(PLAIN_TEXT):
            return build(*args, **kwargs)

    return made  # type: ignore[return-value]
