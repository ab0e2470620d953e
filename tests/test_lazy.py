"""Packages that export their names lazily (:mod:`latentplay.lazy`)."""

from __future__ import annotations

import ast
import importlib
import inspect
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import latentplay

LAZY = ("app", "audit", "embed", "latent", "match", "measure", "report", "store", "train", "viz")


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


@pytest.mark.parametrize("package", LAZY)
def test_type_checkers_read_every_export_from_where_it_is_loaded(package: str) -> None:
    """py.typed: the ``if TYPE_CHECKING:`` imports of the package name every export, re-exported
    (``name as name``), from the module that defines the object it gets at run time (a strict
    checker takes no name a module only imports); a name they miss would be Any, or no
    attribute, to a user's type checker."""
    pkg = importlib.import_module(f"latentplay.{package}")
    tree = ast.parse(Path(pkg.__file__).read_text(encoding="utf-8"))
    block = [node for node in tree.body
             if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING"]
    assert len(block) == 1
    imported, modules = {}, {}
    for node in block[0].body:
        assert isinstance(node, ast.ImportFrom) and node.module
        for alias in node.names:
            assert alias.asname == alias.name
            imported[alias.name] = getattr(importlib.import_module(node.module), alias.name)
            modules[alias.name] = node.module
    assert sorted(imported) == sorted(pkg.__all__)
    for name, value in imported.items():
        assert getattr(pkg, name) is value
        if inspect.isfunction(value) or inspect.isclass(value):  # where strict checkers find it
            assert value.__module__ == modules[name], name


def test_a_plain_import_reaches_every_subpackage_and_loads_none() -> None:
    """``import latentplay`` then ``latentplay.store.load``: each subpackage on first use."""
    code = ("import sys, latentplay\n"
            "assert not [m for m in sys.modules if m.startswith('latentplay.')], 'loaded at import'\n"
            "assert 'numpy' not in sys.modules\n"
            "assert callable(latentplay.store.load) and callable(latentplay.train.train)\n"
            "print(' '.join(n for n in dir(latentplay) if not n.startswith('_')))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          env={**os.environ, "PYTHONPATH": str(Path(latentplay.__file__).parents[1])})
    assert done.stdout.split() == ["app", "audit", "embed", "errors", "latent", "match", "measure",
                                   "metrics", "models", "report", "sources", "store", "train", "viz"]
    for name in done.stdout.split():
        assert importlib.import_module(f"latentplay.{name}") is getattr(latentplay, name)
    with pytest.raises(AttributeError, match="module 'latentplay' has no attribute 'no_such_name'"):
        latentplay.no_such_name  # noqa: B018
