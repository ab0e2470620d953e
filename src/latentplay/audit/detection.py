"""Who the face detector finds, at every cut: the share of images with a face found, per group,
as the detector's score threshold moves.

Every face pipeline starts with a detector, and its cut decides which faces a study keeps.
:func:`detection_sweep` runs dlib's HOG or CNN detector, or an SCRFD network, once per image
with a low cut and keeps the image's best window score; an image has a face at threshold ``T``
exactly when that score is at or above ``T``, as the detectors keep windows (dlib's
``detection_confidence >= adjust_threshold``, SCRFD's ``score >= threshold``; the best window
always survives non-maximum suppression), so one pass gives the share found in each group at
every threshold, with Wilson intervals. It reports each group at the detector's own cut (dlib's
0, InsightFace's 0.5 for SCRFD's probabilities) and the cut at which each group is found as
often as the best-found group is at that cut (None when no cut in the range gets there). Below
the cut the best window need not be a face: lower cuts find faces and false alarms alike, so
look at the boxes before trusting a low cut (on drawn faces the CNN's windows above -0.5 lay
where the faces are; HOG's lowest ones need not).

>>> sweep = detection_sweep("data/faces", "skin_tone", detector="cnn")
>>> sweep["groups"]["monk_10"]["at_cut"], sweep["groups"]["monk_10"]["matched_at"]
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from latentplay import store as st
from latentplay.embed.column import load_rows
from latentplay.embed.faces import (
    SCRFD_PREFIX,
    FaceModels,
    as_rgb,
    auto_upsample,
    check_detector,
    check_upsample,
    cnn_detections,
    detector_label,
    map_faces,
)
from latentplay.errors import UserError
from latentplay.intervals import wilson_interval
from latentplay.outputs import json_default, made_by, output_dir, staged_outputs
from latentplay.resample import mean_intervals
from latentplay.store.bias import repeated_persons
from latentplay.store.combine import group_codes
from latentplay.store.io import opened, store_digest

DETECTORS = ("hog", "cnn", "scrfd:PATH")


def detector_cut(detector: str) -> float:
    """The score threshold ``detector`` keeps faces above by default: 0 for dlib's HOG and CNN
    detectors, InsightFace's 0.5 for an SCRFD network (``scrfd:PATH[@SIDE]``); a
    :class:`UserError` for another detector."""
    if detector in ("hog", "cnn"):
        return 0.0
    if detector.startswith(SCRFD_PREFIX):
        from latentplay.embed.scrfd import THRESHOLD

        check_detector(detector)
        return THRESHOLD
    raise UserError(f"detector must be one of {', '.join(DETECTORS)}, got {detector!r}")


def best_scores(images: Sequence[np.ndarray], detector: str = "cnn", lowest: float = -1.0,
                upsample: int | None = None, device: str = "cpu") -> np.ndarray:
    """The best window score ``(N,)`` float64 of ``detector`` (dlib's ``hog`` or ``cnn``, or
    ``scrfd:PATH[@SIDE]``) in each of ``images`` (``(H, W, C)`` uint8), among windows scoring
    at or above ``lowest``; ``-inf`` where none does. ``upsample`` None: by image size, as everywhere
    dlib's detectors look."""
    detector_cut(detector)  # a known detector
    if detector == "cnn":
        return np.array([found.scores.max(initial=-np.inf)
                         for found in cnn_detections(images, upsample, device, lowest)], np.float64)
    if detector.startswith(SCRFD_PREFIX):
        from latentplay.embed.scrfd import load_detector, parse_spec

        network = load_detector(*parse_spec(detector[len(SCRFD_PREFIX):]))
        return np.array([network.detect(as_rgb(image), lowest).scores.max(initial=-np.inf)
                         for image in images], np.float64)

    def best(image: np.ndarray) -> float:
        img = as_rgb(image)
        up = auto_upsample(img) if upsample is None else upsample
        _, scores, _ = FaceModels.load().detector.run(img, up, lowest)
        return max(scores, default=-np.inf)

    return np.array(map_faces(best, list(images)), np.float64)


def detection_sweep(store: st.Store | str | os.PathLike[str], by: str, *, detector: str = "cnn",
                    lowest: float | None = None, highest: float | None = None, steps: int = 51,
                    upsample: int = -1, device: str = "cpu", batch_size: int = 64,
                    progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Shares of images with a face found, per class of ``by`` (or per intersection of several,
    ``"skin_tone,gender"``), at ``steps`` thresholds from ``lowest`` (default: -1 for dlib's
    detectors, 0.05 for SCRFD's probabilities) to ``highest`` (default: the best score seen),
    and at the detector's cut (see the module); ``upsample`` -1 (by image size) to 4.

    Returns:
        A JSON-ready dict: ``thresholds`` ``(T,)``; per group ``n``, ``found`` ``(T,)``,
        ``share``, ``low`` and ``high`` (95 %), ``at_cut`` (the share at the detector's
        ``cut``) with its ``at_cut_interval``, and ``matched_at``; the same for ``all``;
        ``unknown_rows`` left out; ``persons`` when rows repeat persons (the intervals then
        come from a bootstrap over them, each drawn with all of their photos).
    """
    store = opened(store)
    names, codes, ordered = group_codes(store, by)
    cut = detector_cut(detector)
    if lowest is None:
        lowest = cut - 1.0 if cut == 0 else 0.05
    for option, value in (("--lowest", lowest), ("--highest", highest)):
        if value is not None and not math.isfinite(value):  # an axis limit: a traceback after the pass
            raise UserError(f"{option} must be a finite score, got {value:g}")
    check_upsample(upsample)
    if steps < 2 or (highest is not None and not lowest < highest):
        raise UserError(f"give lowest < highest and at least 2 steps, got {lowest}, {highest}, {steps}")
    if lowest > cut or (highest is not None and highest < cut):
        raise UserError(f"the range of thresholds must hold the detector's own cut, {cut:g}")
    from latentplay.devices import resolve_device

    device = resolve_device(device, "--device")
    scores = np.empty(len(store))
    for start in range(0, len(store), batch_size):
        stop = min(start + batch_size, len(store))
        images = load_rows(store, slice(start, stop))
        scores[start:stop] = best_scores(list(images), detector, lowest,
                                         None if upsample < 0 else upsample, device)
        if progress is not None:
            progress(stop - start)
    if highest is None:
        seen = scores[np.isfinite(scores)]
        highest = max(float(np.ceil(seen.max() * 10) / 10) if len(seen) else cut, lowest + 0.1, cut)
    thresholds = np.union1d(np.linspace(lowest, highest, steps), [cut])
    known = [k for k in range(len(names)) if np.any(codes == k)]
    persons = repeated_persons(store)

    def curve(rows: np.ndarray) -> dict[str, Any]:
        return _curve(scores[rows], thresholds, cut, None if persons is None else persons[rows])

    groups = {names[k]: curve(codes == k) for k in known}
    best_at_cut = max(g["at_cut"] for g in groups.values()) if groups else 0.0
    for g in groups.values():
        reached = [float(t) for t, s in zip(thresholds, g["share"], strict=True) if s >= best_at_cut]
        g["matched_at"] = max(reached) if reached else None
    return {"store": str(store.path), "store_digest": store_digest(store), "by": by, "detector": detector,
            "label": detector_label(detector), "cut": cut, "ordered": ordered,
            "thresholds": thresholds.tolist(), "groups": groups, "all": curve(np.isin(codes, known)),
            "unknown_rows": int(np.sum(codes < 0)),
            "persons": None if persons is None else int(len(np.unique(persons[np.isin(codes, known)])))}


def _curve(scores: np.ndarray, thresholds: np.ndarray, cut: float, persons: np.ndarray | None
           ) -> dict[str, Any]:
    """The share of ``scores`` at or above each threshold and ``cut`` (where the detectors keep
    a window), with 95 % intervals:
    Wilson's, or with ``persons`` ``(n,)`` (several photos of one person) a bootstrap over the
    persons."""
    n = len(scores)
    hits = scores[:, None] >= thresholds[None, :]
    found = hits.sum(0)
    if persons is None or n == 0:
        bounds = np.array([wilson_interval(np.array([f]), n)[0] for f in found])
    else:
        bounds = mean_intervals(hits.astype(float), persons, 1000, 0)
    at = int(np.searchsorted(thresholds, cut))  # the cut is one of the thresholds
    return {"n": n, "found": found.tolist(), "share": (found / max(n, 1)).tolist(),
            "low": bounds[:, 0].tolist(), "high": bounds[:, 1].tolist(),
            "at_cut": float(found[at] / n) if n else 0.0,
            "at_cut_interval": [float(bounds[at, 0]), float(bounds[at, 1])] if n else [np.nan, np.nan]}


def write_sweep(sweep: dict[str, Any], out: str | os.PathLike[str], overwrite: bool = False) -> Path:
    """``detection.json`` and ``detection.png`` of ``sweep`` in the new directory ``out``."""
    from latentplay.viz.detection import plot_sweep

    directory = output_dir(out, overwrite)
    with staged_outputs(directory) as stage:   # moved in once both are written
        (stage / "detection.json").write_text(json.dumps({**sweep, "made_by": made_by()}, indent=1,
                                                                 default=json_default),
                                              encoding="utf-8")
        plot_sweep(sweep, stage / "detection.png")
    return directory
