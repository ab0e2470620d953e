"""Where stores come from: built-in generators (``shapes``, ``synthfaces``) and converters.

>>> from latentplay import sources
>>> faces = sources.make("synthfaces", "data/faces", n=5000,
...                      overrides=["confound.smile_gender=0.6"])
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

from latentplay.errors import UserError

if TYPE_CHECKING:
    from latentplay.store.io import Store

# name -> module providing ``CONFIG`` (a dataclass type) and ``make_store(config, path, overwrite)``
BUILTINS: dict[str, str] = {
    "shapes": "latentplay.sources.shapes",
    "synthfaces": "latentplay.sources.synthfaces",
}


def make(
    name: str,
    out: str | os.PathLike[str],
    *,
    n: int | None = None,
    seed: int | None = None,
    overrides: Sequence[str] = (),
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
    from latentplay.config import resolve

    if name not in BUILTINS:
        raise UserError(f"unknown dataset {name!r}; choose from: {', '.join(BUILTINS)}")
    module = importlib.import_module(BUILTINS[name])
    items = list(overrides)
    if n is not None:
        items.append(f"n={n}")
    if seed is not None:
        items.append(f"seed={seed}")
    if preset is not None and not os.path.isfile(preset):
        raise UserError(f"preset {preset} does not exist")
    config = resolve(module.CONFIG, items, preset=preset)
    return module.make_store(config, out, overwrite=overwrite)
