"""What a wheel ships: every file of the package that is not Python code (model presets, the
report's template) is package data, so ``pip install .`` (not only an editable install) trains."""

from __future__ import annotations

from pathlib import Path

import tomllib

import latentplay
from latentplay.train.config import PRESET_DIR, presets

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "latentplay"


def test_every_data_file_of_the_package_is_package_data() -> None:
    globs = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"]["latentplay"]
    shipped = {p for g in globs for p in PACKAGE.glob(g)}
    data = {p for p in PACKAGE.rglob("*") if p.is_file() and p.suffix not in (".py", ".pyc")
            and "__pycache__" not in p.parts}
    assert data and data <= shipped, sorted(str(p.relative_to(PACKAGE)) for p in data - shipped)


def test_presets_are_read_from_inside_the_package() -> None:
    assert PRESET_DIR.is_relative_to(Path(latentplay.__file__).resolve().parent)
    assert {"vae", "betavae", "cvae", "dcgan"} <= set(presets())
    assert (ROOT / "configs").resolve() == PRESET_DIR.parent  # the checkout's configs/: the same files
