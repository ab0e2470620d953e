"""Where stores come from: built-in generators (``shapes``, ``synthfaces``) and converters.

>>> from latentplay import sources
>>> faces = sources.make("synthfaces", "data/faces", n=5000,
...                      overrides=["confound.smile_gender=0.6"])
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from latentplay.errors import UserError

if TYPE_CHECKING:
    from latentplay.store.io import Store
    from latentplay.store.schema import Attribute

GENERATED = "generated"
"""The provenance converter of a store of a trained run's samples (``latentplay data generate``:
:mod:`latentplay.sources.generated`); here, so that telling such a store apart loads no model."""
MADE_UNDER = "the condition the image was generated under"
"""The description of such a store's attributes that hold the conditions its images were
decoded under (what was asked of the generator, not what the images show)."""

# name -> module providing ``CONFIG`` (a dataclass type) and ``make_store(config, path, overwrite)``
BUILTINS: dict[str, str] = {
    "shapes": "latentplay.sources.shapes",
    "synthfaces": "latentplay.sources.synthfaces",
}

FIXED_ATTRIBUTES: dict[str, str] = {
    "shapes": "latentplay.sources.shapes",
    "synthfaces": "latentplay.sources.synthfaces",
    "latentplay.sources.dsprites": "latentplay.sources.shapes",
    "latentplay.sources.mpi3d": "latentplay.sources.mpi3d",
    "latentplay.sources.fairface": "latentplay.sources.fairface",
}
"""Provenance converter -> module whose ``attributes()`` defines, by name, the attributes of
every store that converter writes."""


def fixed_attributes(converter: str) -> list[Attribute]:
    """The attributes a store written by ``converter`` has today (a built-in generator's, or a
    converter's whose attributes depend on no data); empty for any other converter."""
    module = FIXED_ATTRIBUTES.get(converter)
    return [] if module is None else importlib.import_module(module).attributes()


def make(
    name: str,
    out: str | os.PathLike[str],
    *,
    n: int | None = None,
    seed: int | None = None,
    overrides: str | Sequence[str] = (),
    preset: str | os.PathLike[str] | None = None,
    overwrite: bool = False,
) -> Store:
    """Generate built-in dataset ``name`` into a new store at ``out``.

    Args:
        name: ``shapes`` or ``synthfaces``.
        out: target directory (must not exist unless ``overwrite``).
        n: number of images (overrides the config's ``n``).
        seed: random seed (overrides the config's ``seed``).
        overrides: ``key=value`` items for the dataset's config (see its config dataclass).
        preset: YAML file of config values applied before ``overrides``
            (e.g. ``configs/datasets/synthfaces-smile-bias.yaml``).
        overwrite: replace an existing store at ``out``.
    """
    from latentplay.config import as_items, resolve

    if name not in BUILTINS:
        raise UserError(f"unknown dataset {name!r}; choose from: {', '.join(BUILTINS)}")
    if seed is not None and seed < 0:
        raise UserError(f"seed must be 0 or more, got {seed}")
    module = importlib.import_module(BUILTINS[name])
    items = as_items(overrides)
    for key, value in (("n", n), ("seed", seed)):
        if value is not None:
            if any(item.split("=", 1)[0].strip() == key for item in items):
                raise UserError(f"--{key} and the override {key}= both set {key}; give it once")
            items.append(f"{key}={value}")
    config = resolve(module.CONFIG, items,
                     preset=None if preset is None else dataset_preset(preset))
    return module.make_store(config, out, overwrite=overwrite)


DATASET_PRESETS = Path(__file__).resolve().parents[1] / "configs" / "datasets"  # package data


def dataset_preset(preset: str | os.PathLike[str]) -> Path:
    """The YAML file of a ``--preset``: the file itself when it exists, else the preset of that
    name shipped with latentplay (``synthfaces-aiface-skin`` or
    ``configs/datasets/synthfaces-aiface-skin.yaml``, as a checkout names it), so that a
    preset works from any folder."""
    path = Path(preset)
    if path.is_file():
        return path
    shipped = DATASET_PRESETS / (path.name if path.suffix in (".yaml", ".yml") else f"{path.name}.yaml")
    if shipped.is_file():
        return shipped
    names = ", ".join(sorted(p.stem for p in DATASET_PRESETS.glob("*.yaml")))
    raise UserError(f"preset {preset} does not exist; the presets shipped with latentplay: {names}")
