"""MPI3D (Gondal et al. 2019; toy, realistic and real variants) from its published ``.npz``.

Layout read: ``mpi3d_toy.npz`` / ``mpi3d_realistic.npz`` / ``mpi3d_real.npz`` (SRC is the file or
a folder holding one ``.npz``) with ``images`` ``(1036800, 64, 64, 3)`` uint8, ordered as the
full factor grid with the last factor fastest: object_color 6, object_shape 6, object_size 2,
camera_height 3, background_color 3, horizontal_axis 40, vertical_axis 40. Factors are derived
from the row number. An archive that also holds a ``labels`` (or ``latents_classes``) array of
shape ``(N, 7)`` -- as prepared by GlanceNets' ``mpi_prepare_labels.py`` -- may hold any subset
of rows; then factors come from that array and rows with levels outside the grid are rejected.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from latentplay.errors import UserError
from latentplay.sources.arrays import TruncatedArray, npz_array, npz_chunks, npz_header, npz_members
from latentplay.sources.convert import ConvertOptions, Plan, Record, Rejected, check_split, run
from latentplay.sources.dsprites import find_npz
from latentplay.store.groundtruth import mixed_radix_index
from latentplay.store.io import Store
from latentplay.store.schema import Attribute

FACTORS: tuple[tuple[str, tuple[str, ...] | int], ...] = (
    ("object_color", ("white", "green", "red", "blue", "brown", "olive")),
    ("object_shape", ("cone", "cube", "cylinder", "hexagonal", "pyramid", "sphere")),
    ("object_size", ("small", "large")),
    ("camera_height", ("top", "center", "bottom")),
    ("background_color", ("purple", "sea green", "salmon")),
    ("horizontal_axis", 40),
    ("vertical_axis", 40),
)
NAMES = tuple(name for name, _ in FACTORS)
SIZES = tuple(len(v) if isinstance(v, tuple) else v for _, v in FACTORS)
NUM_IMAGES = int(np.prod(SIZES))
LABEL_KEYS = ("labels", "latents_classes")
ROWS = 512
NOMINAL = ("object_color", "object_shape", "background_color")
"""The factors whose levels have no order."""


def attributes() -> list[Attribute]:
    """One factor per MPI3D factor; level values are the level numbers 0..n-1, named where
    MPI3D names them (colours and shapes: nominal)."""
    out = []
    for name, levels in FACTORS:
        named = isinstance(levels, tuple)
        size = len(levels) if named else levels
        desc = ", ".join(f"{i}={v}" for i, v in enumerate(levels)) \
            if named else f"{size} positions of the robot arm"
        out.append(Attribute(name, "factor", names=list(levels) if named else None,
                             values=[float(v) for v in range(size)], description=desc,
                             nominal=name in NOMINAL))
    return out


def factors_of_rows(rows: np.ndarray) -> np.ndarray:
    """``(N,)`` grid rows -> ``(N, 7)`` factor levels (inverse of ``mixed_radix_index``)."""
    rest = np.asarray(rows, dtype=np.int64)
    out = np.empty((rest.size, len(SIZES)), dtype=np.int64)
    for k in range(len(SIZES) - 1, -1, -1):
        out[:, k] = rest % SIZES[k]
        rest = rest // SIZES[k]
    return out


def scan(root: Path, options: ConvertOptions) -> Plan:
    check_split("mpi3d", options.split, ())
    path = find_npz(root, "mpi3d_toy.npz", "mpi3d", "a published mpi3d_*.npz")
    keys = npz_members(path)
    if "images" not in keys:
        raise UserError(f"mpi3d: expected an images array in {path}; found "
                        f"{', '.join(keys) or 'none'}")
    shape, _ = npz_header(path, "images")
    if len(shape) != 4 or shape[1:] != (64, 64, 3):
        raise UserError(f"mpi3d: expected images of shape (N, 64, 64, 3) in {path}; found {shape}")
    label_key = next((k for k in LABEL_KEYS if k in keys), None)
    if label_key is not None:
        factors = npz_array(path, label_key).astype(np.int64)
        if factors.shape != (shape[0], len(SIZES)):
            raise UserError(f"mpi3d: {label_key} in {path} should be ({shape[0]}, 7); "
                            f"found {factors.shape}")
    elif shape[0] != NUM_IMAGES:
        raise UserError(f"mpi3d: {path} holds {shape[0]} images and no labels array; the "
                        f"published grid has {NUM_IMAGES} (6x6x2x3x3x40x40)")
    else:
        factors = None
    name = path.name

    def inputs() -> Iterator[Record | Rejected]:
        start = 0
        try:
            for chunk in npz_chunks(path, "images", ROWS):
                levels = factors[start:start + len(chunk)] if factors is not None \
                    else factors_of_rows(np.arange(start, start + len(chunk)))
                for offset, pixels in enumerate(chunk):
                    row = levels[offset]
                    bad = [(n, s, v) for n, s, v in zip(NAMES, SIZES, row, strict=True)
                           if not 0 <= v < s]
                    if bad:
                        n, s, v = bad[0]
                        yield Rejected(f"{name}[{start + offset}]",
                                       f"{n} level {v} outside the published 0-{s - 1}")
                        continue
                    labels: dict[str, Any] = {}
                    for factor, level in zip(NAMES, row, strict=True):
                        labels[f"factor_{factor}"] = int(level)
                        labels[factor] = float(level)
                    yield Record(f"{name}[{start + offset}]", labels, pixels=pixels)
                start += len(chunk)
        except TruncatedArray as exc:
            for i in range(exc.rows_read, shape[0]):
                yield Rejected(f"{name}[{i}]", "images array truncated in the archive")

    return Plan(attributes(), inputs(), total=shape[0], mode=None)


def grid_index(factors: np.ndarray) -> np.ndarray:
    """Row of the published archive holding each ``(N, 7)`` factor combination."""
    return mixed_radix_index(factors, list(SIZES))


def convert(src: str | os.PathLike[str], out: str | os.PathLike[str], **options: Any) -> Store:
    """Convert a published MPI3D ``.npz`` into a store (see ``ConvertOptions``)."""
    return run("mpi3d", scan, src, out, ConvertOptions.of(options))
