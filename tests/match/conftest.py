"""Shared fixture of the matching tests: a confounded simulated store."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from latentplay.match.synthetic import confounded, make_store


@pytest.fixture(scope="session")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """1,500 units, 3 confounders and 17 noise dimensions in vector ``z``, group, outcome."""
    path = tmp_path_factory.mktemp("sim") / "store"
    make_store(path, confounded(1500, relevant=3, irrelevant=17, seed=1))
    return path


@pytest.fixture
def undrawn(monkeypatch: pytest.MonkeyPatch) -> Callable[..., dict[str, list[dict[str, Any]]]]:
    """``undrawn("love_plot", "attribute_means", ...)``: those figure functions of
    ``latentplay.viz.balance`` (``pairs_grid``: of ``latentplay.viz.pairs``) draw a blank
    1-inch figure instead, for the tests that do not look at them (the figures are most of a
    run's time). Returns each name's calls as ``{"args": args, **kwargs}``."""

    def stub(*names: str) -> dict[str, list[dict[str, Any]]]:
        import matplotlib.pyplot as plt

        import latentplay.viz.balance as vb
        import latentplay.viz.pairs as vp

        calls: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
        for name in names:
            def blank(*args: Any, _name: str = name, **kwargs: Any) -> Any:
                calls[_name].append({"args": args, **kwargs})
                return plt.figure(figsize=(1, 1))

            monkeypatch.setattr(vp if name == "pairs_grid" else vb, name, blank)
        return calls

    return stub
