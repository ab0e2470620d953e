"""Packages that export their public names lazily, so that importing a package (as
``latentplay GROUP --help`` does) loads no library until a name is used.

In a package ``__init__``, with each export also imported for type checkers (the package is
``py.typed``: a name they do not see would be ``Any`` to them)::

    if TYPE_CHECKING:
        from latentplay.metrics.fidelity import prdc as prdc
        from latentplay.store.io import load as load
    ...
    if not TYPE_CHECKING:
        __getattr__, __dir__ = lazy_exports(__name__, {"load": "io", "prdc": "latentplay.metrics.fidelity"})

A module of the package must not share its name with a name it exports: importing the module
sets the package attribute to the module, which would then shadow the exported function.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(package: str, exports: Mapping[str, str],
                 ) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package``: public ``name`` lives in module
    ``exports[name]`` — relative to the package, or absolute when it starts with
    ``latentplay.`` — is imported on first use and then kept in the package's namespace."""
    namespace = sys.modules[package].__dict__

    def module_getattr(name: str) -> Any:
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        where = exports[name]
        module = where if where.startswith("latentplay.") else f"{package}.{where}"
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    def module_dir() -> list[str]:
        return sorted({*namespace, *exports})

    return module_getattr, module_dir
