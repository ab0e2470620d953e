"""Face detection and alignment of a store of photos into a new store of aligned crops.

Each image's largest face is found (dlib's HOG or CNN detector, or an SCRFD network), its
landmarks placed, and the face rotated upright and scaled to ``size x size``: dlib's
``get_face_chip``, ArcFace's five-point template, or FFHQ's crop. Labels are kept;
images with no detectable face are listed in the new store's ``rejected.csv`` (``row``, ``path``,
``reason``) and ``converted + rejected == inputs``.

>>> chips, found = align_faces(images, size=112)
>>> aligned = align_store("data/photos", "data/photos-aligned", size=112)
"""

from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np

from latentplay import store as st
from latentplay.embed.base import Images
from latentplay.embed.column import load_rows
from latentplay.embed.faces import FaceModels, check_detector, check_upsample, face_chips
from latentplay.errors import UserError
from latentplay.outputs import same_folder
from latentplay.store.io import opened
from latentplay.store.schema import Provenance, Schema

TEMPLATES = ("dlib", "arcface", "ffhq")


def align_faces(images: Images, size: int = 112, padding: float = 0.25,
                upsample: int | None = None, template: str = "dlib", detector: str = "hog",
                device: str = "cpu") -> tuple[np.ndarray, np.ndarray]:
    """Aligned crops of the largest face of each image.

    Args:
        images: ``(N, H, W, C)`` uint8 or a list of ``(H, W, C)`` uint8 (sizes may differ).
        size: side of each crop.
        padding: ``dlib`` template: margin around the face, as a fraction of its size.
        upsample: detector upsampling; by default chosen from the image size.
        template: ``dlib`` (``get_face_chip`` on 5 landmarks: eyes level, the whole head) or
            ``arcface`` (eye centres, nose tip and mouth corners on ArcFace's template: the
            crop face-recognition networks of that family read) or ``ffhq`` (FFHQ's crop from
            the 68 landmarks, :mod:`latentplay.embed.ffhq`: what a StyleGAN trained on FFHQ
            draws, for projecting photos into it; ``padding`` unused).
        detector: ``hog``, ``cnn`` (dlib's CNN: slower, finds more faces) or ``scrfd:PATH``
            (an SCRFD network; with the ``arcface`` template its five points place the crop).
        device: where dlib's CNN detector runs (``cpu`` or ``cuda``).

    Returns:
        ``(k, size, size, 3)`` uint8 crops of the ``k`` images with a face, and an ``(N,)``
        bool mask saying which images those were.
    """
    check_settings(size, template, padding, upsample)
    crops, found = face_chips(
        images, lambda models, image, face: models.chip(image, face, template, size, padding),
        detector=detector, upsample=-1 if upsample is None else upsample, fallback="nan",
        device=device)
    chips = [c for c in crops if c is not None]
    if not chips:
        return np.zeros((0, size, size, 3), dtype=np.uint8), found
    return np.stack(chips), found


def check_settings(size: int, template: str, padding: float = 0.25, upsample: int | None = None) -> None:
    """A :class:`UserError` for a crop under 16 pixels, a template not in :data:`TEMPLATES`, a
    negative (or NaN) padding, which dlib's chip refuses with a traceback, an infinite one (a
    store of black squares), or upsampling outside
    -1..4 (-1 or None: automatic; each step quadruples the pixels the detector reads)."""
    if size < 16:
        raise UserError(f"size must be at least 16, got {size}")
    if template not in TEMPLATES:
        raise UserError(f"template (--template) must be one of {', '.join(TEMPLATES)}, got {template!r}")
    if not 0 <= padding < math.inf:
        raise UserError(f"padding (--padding) must be a finite number, at least 0, got {padding}")
    if upsample is not None:
        check_upsample(upsample)


def align_store(
    store: st.Store | str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    size: int = 112,
    padding: float = 0.25,
    upsample: int | None = None,
    template: str = "dlib",
    detector: str = "hog",
    device: str = "cpu",
    batch_size: int = 128,
    overwrite: bool = False,
) -> st.Store:
    """Write the aligned faces of ``store`` with their labels into a new store at ``out``.

    Vector columns are not carried over (they describe the unaligned images). Provenance counts
    ``inputs``, ``converted`` and ``rejected``; rejected images are listed in ``rejected.csv``.
    A store in which no face is found is refused, nothing written.
    ``out`` may not be ``store`` itself (the aligned store would replace it).
    """
    store = opened(store)
    _refuse_the_input_as_output(store, out)
    if not store.schema.image_column or store.schema.image_column not in store.columns:
        raise UserError("this store has no image column to align")
    check_settings(size, template, padding, upsample)
    check_detector(detector)
    from latentplay.devices import resolve_device

    device = resolve_device(device, "--device")
    FaceModels.load()  # a missing dlib fails here, before anything is written
    schema = Schema(
        attributes=list(store.schema.attributes),
        provenance=Provenance(
            source=str(store.path) if store.path else "<in-memory store>",
            converter="latentplay.embed.align",
            arguments={"size": size, "padding": padding, "upsample": upsample,
                       "template": template, "detector": detector},
            rejected=st.REJECTED_FILE,
        ),
        image_column="image",
    )
    label_columns = [c for c in st.features_for(schema, image=False) if c in store.columns]
    rejected = io.StringIO()
    writer = csv.writer(rejected)
    writer.writerow(["row", "path", "reason"])
    counts = {"inputs": len(store), "converted": 0, "rejected": 0}

    def batches() -> Iterator[dict[str, Any]]:
        image_col = store.schema.image_column
        arrow = store.dataset.with_format("arrow", columns=[image_col, *label_columns])
        for start in range(0, len(store), batch_size):
            stop = min(start + batch_size, len(store))
            chips, found = align_faces(load_rows(store, slice(start, stop)), size, padding,
                                       upsample, template, detector, device)
            table = arrow[start:stop]
            paths = [c.get("path") or "" for c in table[image_col].to_pylist()]
            for i in np.flatnonzero(~found):
                writer.writerow([start + int(i), paths[i], "no face detected"])
            counts["converted"] += int(found.sum())
            counts["rejected"] += int((~found).sum())
            keep = np.flatnonzero(found)
            batch: dict[str, Any] = {"image": [st.encode_png(c) for c in chips]}
            for col in label_columns:
                batch[col] = table[col].take(keep).to_pylist()
            yield batch
        if not counts["converted"]:   # an empty store, which every later command refuses
            raise UserError(f"no face was found in any of the {counts['inputs']} images of "
                            f"{store.path}; nothing written (--detector cnn finds more, and "
                            "--upsample 1 smaller faces)")
        schema.provenance.counts = dict(counts)  # written with the schema once rows are done

    files = _Lazy(lambda: {st.REJECTED_FILE: rejected.getvalue()})
    return st.build(batches(), schema, out, overwrite=overwrite, extra_files=files)


def _refuse_the_input_as_output(store: st.Store, out: str | os.PathLike[str]) -> None:
    """A :class:`UserError` when ``out`` is the folder of ``store`` once links and ``..`` are
    resolved: the aligned store, without the rows where no face is found and without the vector
    columns, would replace the photos."""
    if store.path is not None and same_folder(out, store.path):
        raise UserError(f"the output {out} is the store being aligned ({store.path}): the aligned "
                        "store would replace it, without its faceless rows and vector columns; "
                        "write it to another path")


class _Lazy(Mapping[str, str]):
    """A mapping computed when read: the rejected list is complete only after the last batch."""

    def __init__(self, make: Callable[[], dict[str, str]]) -> None:
        self.make = make

    def __getitem__(self, key: str) -> str:
        return self.make()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.make())

    def __len__(self) -> int:
        return len(self.make())
