"""What a wheel ships: every file of the package that is not Python code (model presets, the
report's template) is package data, so ``pip install .`` (not only an editable install) trains."""

from __future__ import annotations

import tomllib
from pathlib import Path

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


def test_dataset_presets_are_found_from_any_folder(cli, tmp_path: Path, monkeypatch) -> None:
    """`data make --preset configs/datasets/X.yaml` (as the README writes it) or `--preset X`
    worked only inside a checkout: a wheel's user got "does not exist"."""
    from latentplay import store as st
    from latentplay.sources import DATASET_PRESETS

    assert DATASET_PRESETS.is_relative_to(Path(latentplay.__file__).resolve().parent)
    monkeypatch.chdir(tmp_path)   # no configs/ here
    for i, preset in enumerate(["configs/datasets/synthfaces-aiface-skin.yaml", "synthfaces-aiface-skin"]):
        r = cli("data", "make", "synthfaces", "--out", tmp_path / f"f{i}", "--n", "12", "--preset", preset)
        assert r.code == 0, r.err
    assert st.load(tmp_path / "f0").labels("skin_tone").tolist() == st.load(tmp_path / "f1").labels(
        "skin_tone").tolist()
    r = cli("data", "make", "synthfaces", "--out", tmp_path / "x", "--preset", "nosuch")
    assert r.code == 2 and "synthfaces-aiface-skin, synthfaces-smile-bias" in r.err
