"""Vectors computed elsewhere as a store's vector column.

Embeddings, latent codes or projections made outside latentplay (another model's features,
a paper's published latents, one ``.npy`` per image as GAN projectors write them) join the
store's images and labels:

- one ``.npy`` array ``(N, ...)`` whose rows follow the store's rows;
- or a folder of ``<name>.npy`` files, one per image, matched to each row by its image's file
  name without extension (the converted input's ``file`` column, else the stored image's
  name). Every row must find exactly one file; files that match no row are counted.

Each vector is flattened (a ``(18, 512)`` W+ code becomes 9,216 values, layer-major) and
stored as float32. The values must be real numbers (integers or floats; booleans are read as
0 and 1): complex numbers, dates, times and text are refused, as are vectors of no values,
values beyond float32's range (they would become infinite) and vectors holding no finite
value at all. NaN or infinite values in some rows are kept (such rows count as having no
vector where the store's commands read the column).

>>> faces = import_vectors(load("data/celeba"), "w", "latents/")   # latents/000001.npy, ...
>>> store.save(faces, faces.path)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath

import numpy as np
import pyarrow.compute as pc

from latentplay.errors import UserError, first_line
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
    column when the store has one, else the stored image's own name ("" when unknown). A
    backslash separates folders too, as in the paths of a label file written on Windows
    (``C:\\MORPH\\Album2\\003023_0M20.JPG`` -> ``003023_0M20``), as the converters read them."""
    if "file" in store.schema.text_columns:
        paths = store.dataset["file"]
    elif store.schema.image_column:
        cells = store.dataset.with_format("arrow", columns=[store.schema.image_column])[:]
        # the names alone: the image bytes stay in the memory-mapped table
        paths = [p or "" for p in pc.struct_field(cells[store.schema.image_column], "path").to_pylist()]
    else:
        paths = [""] * len(store)
    return [_stem(str(p)) if p else "" for p in paths]


def _stem(path: str) -> str:
    """The file name of ``path`` without its extension, backslashes separating folders."""
    return (PureWindowsPath(path) if "\\" in path else PurePosixPath(path)).stem


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
        one_each = (f"one number per row: give it as ({len(store)}, 1), or as an attribute"
                    if array.ndim == 1 and len(array) == len(store) else
                    f"the store has {len(store)} rows")
        raise UserError(f"{source} holds an array of shape {array.shape}; a vector column takes "
                        f"({len(store)}, D) vectors, a row each ({one_each})")
    if array.size == 0:
        raise UserError(f"{source} holds an array of shape {array.shape}: vectors of no values")
    vectors = as_float32(array, source).reshape(len(array), -1)
    some_finite(vectors, source)
    return Imported(vectors)


def as_float32(array: np.ndarray, path: Path) -> np.ndarray:
    """``array`` (read from ``path``) as float32; a :class:`UserError` naming ``path`` when its
    values are not real numbers (booleans pass as 0 and 1) or when finite values lie beyond
    float32's range (they would become infinite), with how many."""
    kind = array.dtype
    if not (np.issubdtype(kind, np.integer) or np.issubdtype(kind, np.floating) or kind == np.bool_):
        raise UserError(f"{path} holds {kind} values ({_kind_name(kind)}); give real numbers "
                        "(integers or floats)")
    with np.errstate(over="ignore"):
        out = array.astype(np.float32)
    beyond = int((np.isinf(out) & np.isfinite(array)).sum()) if np.issubdtype(kind, np.floating) else 0
    if beyond:
        top = float(np.finfo(np.float32).max)
        raise UserError(f"{path} holds {beyond:,} finite value{'s' if beyond > 1 else ''} beyond "
                        f"float32's range (magnitude over {top:.4g}), which would become infinite; "
                        "scale the vectors first")
    return out


def _kind_name(kind: np.dtype) -> str:
    """What a refused dtype holds, in words."""
    names = {"c": "complex numbers", "M": "dates and times", "m": "time spans", "U": "text",
             "S": "bytes", "O": "objects", "V": "records"}
    return names.get(kind.kind, "not numbers")


def some_finite(vectors: np.ndarray, source: Path) -> None:
    """A :class:`UserError` naming ``source`` when ``vectors`` hold no finite value at all
    (all NaN or infinite: a column no command could use)."""
    if not np.isfinite(vectors).any():
        raise UserError(f"{source} holds no finite value (every value is NaN or infinite)")


def load_array(path: Path) -> np.ndarray:
    """The NumPy array in ``path``; an unreadable one (missing, pickled, truncated, or a header
    declaring more elements than memory holds) is a :class:`UserError` naming it."""
    try:
        with open(path, "rb") as fh:
            if fh.read(6) != b"\x93NUMPY":  # numpy would call any other file pickled data
                raise UserError(f"{path} is not a .npy array (no NumPy header; np.save writes one)")
        return np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError, MemoryError) as exc:
        raise UserError(f"{path} is not a readable .npy array: {first_line(exc)}") from None


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
    if first.size == 0:
        raise UserError(f"{files[names[0]]} holds an empty array: a vector of no values")
    out = np.empty((len(store), first.size), np.float32)
    for i, name in enumerate(names):
        vector = load_array(files[name]).reshape(-1)
        if vector.size != first.size:
            raise UserError(f"{files[name]} holds {vector.size} values, {files[names[0]]} "
                            f"{first.size}: every file must hold a vector of the same size")
        out[i] = as_float32(vector, files[name])
    some_finite(out, folder)
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


def _held_otherwise(store: Store, name: str) -> str | None:
    """What ``name`` already names in ``store`` other than a vector column (an attribute, the
    image column, a text column), in words; None when it is free or a vector column."""
    if store.schema.has_attribute(name):
        return "an attribute"
    if name == store.schema.image_column:
        return "the image column"
    if name in store.schema.text_columns:
        return "a text column"
    if name in store.columns and not any(v.name == name for v in store.schema.vectors):
        return "a column"
    return None


def import_vectors(store: Store, column: str, source: PathLike, overwrite: bool = False,
                   codes_of: PathLike | None = None) -> tuple[Store, Imported]:
    """``store`` (not yet saved) with the vectors of ``source`` as vector column ``column``,
    recorded in its history, and what was read (:func:`read_vectors`). With ``codes_of`` (an
    imported StyleGAN2's run), the vectors are that generator's raw ``w`` (or W+) and are
    stored as its whitened codes (:func:`as_codes`), which its commands decode."""
    check_column_name(column)
    taken = _held_otherwise(store, column)
    if taken is not None:  # --overwrite would not help: it replaces a vector column only
        raise UserError(f"{column!r} is {taken} of {store.path} and cannot be a vector column; "
                        "choose another --column")
    if column in store.columns and not overwrite:
        raise UserError(f"{store.path} already has a column {column!r}; pass --overwrite (overwrite=True "
                        "in Python) to replace it")
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
