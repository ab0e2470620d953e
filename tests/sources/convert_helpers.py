"""Helpers shared by the converter tests: face images, dirty files, reading a store back."""

from __future__ import annotations

import csv
import functools
import io
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from latentplay.config import resolve
from latentplay.sources import synthfaces
from latentplay.store import Store


@functools.lru_cache(maxsize=1)
def _faces() -> np.ndarray:
    _, images = next(synthfaces.generate(resolve(synthfaces.CONFIG, ["n=48", "seed=3"])))
    return images


def face(i: int) -> np.ndarray:
    """A ``(64, 64, 3)`` uint8 synthfaces image (48 distinct ones, then repeating)."""
    images = _faces()
    return images[i % len(images)]


def jpeg_bytes(image: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="JPEG", quality=90)
    return buf.getvalue()


def write_image(path: Path, image: np.ndarray) -> Path:
    """Write ``image`` as JPEG (or PNG for a .png name) at ``path``, creating folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".png":
        Image.fromarray(image).save(path)
    else:
        path.write_bytes(jpeg_bytes(image))
    return path


def write_truncated(path: Path, image: np.ndarray) -> Path:
    """A JPEG cut off half-way (its header still says JPEG)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = jpeg_bytes(image)
    path.write_bytes(data[: len(data) // 2])
    return path


def write_not_image(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("this is not an image\n")
    return path


def write_csv(path: Path, header: list[str], rows: list[list[Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def rejected(store: Store) -> dict[str, str]:
    """``path -> reason`` from the store's rejected.csv."""
    assert store.path is not None
    with open(Path(store.path) / "rejected.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    return {r["path"]: r["reason"] for r in rows}


def check_rejected(store: Store, expected: dict[str, str]) -> None:
    """rejected.csv lists exactly ``expected`` (path -> a word of the reason); counts add up."""
    found = rejected(store)
    assert set(found) == set(expected), (found, expected)
    for path, word in expected.items():
        assert word in found[path], (path, found[path], word)
    counts = store.schema.provenance.counts
    assert counts["converted"] == len(store)
    assert counts["rejected"] == len(found)
    assert counts["converted"] + counts["rejected"] == counts["inputs"]


def rows(store: Store) -> list[tuple[str, dict[str, Any]]]:
    """``(input path relative to SRC, {attribute: class name or value})`` of every row, in store order."""
    table = store.dataset.with_format("arrow")[:]
    names = table["file"].to_pylist()
    out: list[tuple[str, dict[str, Any]]] = [(n, {}) for n in names]
    for attr in store.schema.attributes:
        values = table[store.schema.column_of(attr)].to_pylist()
        for (_, labels), v in zip(out, values, strict=True):
            labels[attr.name] = attr.names[v] if attr.kind == "categorical" else v
    return out


def expected(good: dict[str, dict[str, Any]], order: list[str] | None = None
             ) -> list[tuple[str, dict[str, Any]]]:
    """What :func:`rows` should return for ``good`` (source path -> labels) in ``order``
    (default: sorted paths, the order of folder scans)."""
    return [(p, good[p]) for p in (order or sorted(good))]


def image_bytes(store: Store) -> list[bytes]:
    """Stored encoded bytes of every row, in store order."""
    return [c["bytes"] for c in store.dataset.with_format("arrow")[:]["image"].to_pylist()]
