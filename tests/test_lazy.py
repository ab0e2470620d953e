"""Packages that export their names lazily (:mod:`latentplay.lazy`)."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

LAZY = ("app", "audit", "embed", "match", "measure", "report", "store", "train")


@pytest.mark.parametrize("package", LAZY)
def test_every_export_resolves_and_no_module_shadows_one(package: str) -> None:
    pkg = importlib.import_module(f"latentplay.{package}")
    modules = {m.name for m in pkgutil.iter_modules(pkg.__path__)}
    assert not modules & set(pkg.__all__)  # importing such a module would hide the name
    for name in pkg.__all__:
        assert getattr(pkg, name) is not None
        assert name in dir(pkg)
    with pytest.raises(AttributeError, match="no attribute 'no_such_name'"):
        pkg.no_such_name  # noqa: B018
