"""Vectors computed elsewhere as a store's vector column.

Embeddings, latent codes or projections made outside latentplay (another model's features,
a paper's published latents, one ``.npy`` per image as GAN projectors write them) join the
store's images and labels:

- one ``.npy`` array ``(N, ...)`` whose rows follow the store's rows;
- or a folder of ``<name>.npy`` files, one per image, matched to each row by its image's file
  name without extension (the converted input's ``file`` column, else the stored image's
  name). Every row must find exactly one file; files that match no row are counted.

Each vector is flattened (a ``(18, 512)`` W+ code becomes 9,216 values, layer-major).

>>> faces = import_vectors(load("data/celeba"), "w", "latents/")   # latents/000001.npy, ...
>>> store.save(faces, faces.path)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow.compute as pc

from latentplay.errors import UserError
from latentplay.store.columns import add_column, with_history
from latentplay.store.io import Store
from latentplay.store.schema import check_column_name

PathLike = str | os.PathLike[str]


@dataclass
class Imported:
    """Vectors read for a store.

    Attributes:
        vectors: ``(N, D)`` float32, one row per store row.
        unused: files of a folder that matched no row (0 for an array).
    """

    vectors: np.ndarray
    unused: int = 0


def row_names(store: Store) -> list[str]:
    """Each row's image file name without its extension: the converted input's ``file``
    column when the store has one, else the stored image's own name ("" when unknown)."""
    if "file" in store.schema.text_columns:
        paths = store.dataset["file"]
    elif store.schema.image_column:
        cells = store.dataset.with_format("arrow", columns=[store.schema.image_column])[:]
        # the names alone: the image bytes stay in the memory-mapped table
        paths = [p or "" for p in pc.struct_field(cells[store.schema.image_column], "path").to_pylist()]
    else:
        paths = [""] * len(store)
    return [Path(str(p)).stem if p else "" for p in paths]


def read_vectors(store: Store, source: PathLike) -> Imported:
    """The vectors of ``source`` (an ``.npy`` array or a folder of ``.npy`` files) for every
    row of ``store``; a :class:`UserError` naming what does not fit."""
    source = Path(source)
    if source.is_dir():
        return _from_folder(store, source)
    if source.suffix != ".npy" or not source.is_file():
        raise UserError(f"{source}: give an .npy file of (N, ...) vectors or a folder of "
                        "<image name>.npy files")
    array = load_array(source)
    if array.ndim < 2 or len(array) != len(store):
        raise UserError(f"{source} holds an array of shape {array.shape}; the store has "
                        f"{len(store)} rows: expected ({len(store)}, ...)")
    return Imported(array.reshape(len(array), -1).astype(np.float32))


def load_array(path: Path) -> np.ndarray:
    """The NumPy array in ``path``; an unreadable one (missing, pickled, truncated) is a
    :class:`UserError` naming it."""
    try:
        return np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise UserError(f"{path} is not a readable .npy array: {exc}") from None


def _from_folder(store: Store, folder: Path) -> Imported:
    files: dict[str, Path] = {}
    for path in sorted(folder.rglob("*.npy")):
        if path.stem in files:
            raise UserError(f"two files named {path.stem}.npy: {files[path.stem]} and {path}")
        files[path.stem] = path
    names = row_names(store)
    if not any(names):
        raise UserError(f"the images of {store.path} carry no file names to match {folder}'s "
                        "files by; give an .npy array whose rows follow the store's")
    first_row: dict[str, int] = {}
    for i, name in enumerate(names):
        if name and first_row.setdefault(name, i) != i:
            raise UserError(f"rows {first_row[name]} and {i} both show an image named {name}: one "
                            f"{name}.npy cannot be matched to each; give an .npy array whose rows "
                            "follow the store's")
    missing = [n or f"row {i}" for i, n in enumerate(names) if n not in files]
    if missing:
        raise UserError(f"{len(missing)} of {len(store)} rows have no .npy in {folder} (e.g. "
                        f"{', '.join(missing[:5])}); files are matched by the image's name")
    first = load_array(files[names[0]]).reshape(-1)
    out = np.empty((len(store), first.size), np.float32)
    for i, name in enumerate(names):
        vector = load_array(files[name]).reshape(-1)
        if vector.size != first.size:
            raise UserError(f"{files[name]} holds {vector.size} values, {files[names[0]]} "
                            f"{first.size}: every file must hold a vector of the same size")
        out[i] = vector
    return Imported(out, unused=len(files) - len(set(names)))


def as_codes(vectors: np.ndarray, run: PathLike) -> np.ndarray:
    """Raw ``w`` vectors ``(N, k * D)`` (one ``w``, or one per layer) of the StyleGAN2 or
    StyleGAN3 imported as ``run`` -> its whitened codes, the same shape."""
    import torch

    from latentplay.models.stylegan2 import is_style_generator
    from latentplay.train import load_model

    model = load_model(run)
    d = model.latent_dim if is_style_generator(model) else 0
    if not d or vectors.shape[1] % d:
        raise UserError(f"{run} is not an imported StyleGAN2 or StyleGAN3 whose w has a size dividing "
                        f"{vectors.shape[1]}")
    w = torch.from_numpy(vectors.reshape(-1, d).astype(np.float32))
    with torch.no_grad():
        return model.from_w(w).numpy().reshape(vectors.shape)


def import_vectors(store: Store, column: str, source: PathLike, overwrite: bool = False,
                   codes_of: PathLike | None = None) -> tuple[Store, Imported]:
    """``store`` (not yet saved) with the vectors of ``source`` as vector column ``column``,
    recorded in its history, and what was read (:func:`read_vectors`). With ``codes_of`` (an
    imported StyleGAN2's run), the vectors are that generator's raw ``w`` (or W+) and are
    stored as its whitened codes (:func:`as_codes`), which its commands decode."""
    check_column_name(column)
    if column in store.columns and not overwrite:
        raise UserError(f"{store.path} already has a column {column!r}; pass --overwrite to "
                        "replace it")
    found = read_vectors(store, source)
    origin = str(Path(source).absolute())
    what = f"imported from {origin}"
    if codes_of is not None:
        found.vectors = as_codes(found.vectors, codes_of)
        what += f", as whitened codes of {Path(codes_of).absolute()}"
    made = add_column(store, column, found.vectors, description=what)
    made = with_history(made, {"command": "import-vectors", "column": column, "source": origin,
                               "dim": int(found.vectors.shape[1]),
                               "codes_of": None if codes_of is None else str(codes_of)})
    return made, found
