"""``help(latentplay)`` maps the subpackages; ``latentplay.latent`` and ``latentplay.viz`` say
what they hold and export their main functions lazily (importing them loads no library)."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys

import pytest

import latentplay


def test_the_package_docstring_maps_the_subpackages_and_entry_points() -> None:
    doc = latentplay.__doc__ or ""
    assert len(doc.splitlines()) > 20
    for name in ("sources", "store", "measure", "embed", "train", "models", "latent", "metrics",
                 "audit", "match", "viz", "report", "app"):
        assert f":mod:`latentplay.{name}`" in doc, name
    for entry in ("store.load", "train.train", "train.encode", "train.decode", "metrics.score",
                  "match.match", "embed.plot_projections"):
        assert f"``{entry}" in doc, entry
        package, name = entry.split(".")
        assert getattr(importlib.import_module(f"latentplay.{package}"), name) is not None


@pytest.mark.parametrize("package", ["latent", "viz"])
def test_latent_and_viz_export_their_main_functions(package: str) -> None:
    """Both exported nothing (``dir()`` showed no function)."""
    pkg = importlib.import_module(f"latentplay.{package}")
    assert len((pkg.__doc__ or "").splitlines()) > 10
    modules = {m.name for m in pkgutil.iter_modules(pkg.__path__)}
    assert not modules & set(pkg.__all__)      # importing such a module would hide the name
    assert len(pkg.__all__) >= 20
    for module in modules - {"cli", "style", "identity_term"}:    # every other module named
        assert f":mod:`~latentplay.{package}.{module}`" in pkg.__doc__, module
    for name in pkg.__all__:
        assert getattr(pkg, name) is not None and name in dir(pkg)
    with pytest.raises(AttributeError, match="no attribute 'no_such_name'"):
        pkg.no_such_name  # noqa: B018


def test_the_main_functions_are_there() -> None:
    from latentplay import latent, viz
    from latentplay.latent.directions import fit_store_direction
    from latentplay.viz.grid import image_grid

    assert latent.fit_store_direction is fit_store_direction and viz.image_grid is image_grid
    assert callable(latent.slerp) and callable(viz.projection_png) and callable(viz.love_plot)


def test_importing_them_loads_no_library() -> None:
    code = ("import sys, latentplay, latentplay.latent, latentplay.viz\n"
            "heavy = ['torch', 'datasets', 'sklearn', 'scipy', 'numpy', 'matplotlib', 'PIL']\n"
            "print(','.join(m for m in heavy if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
