"""Why skin_ita has no value: a face the detector missed is still read in the fallback box, so
a grey face is missing for its lack of hue, not for the missed face."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from latentplay import store as st
from latentplay.embed.column import load_rows
from latentplay.measure.run import measure_store, summary_lines


def _store(turned_faces: Path, out: Path, grey: bool, n: int = 12) -> Path:
    """The first ``n`` synthfaces, made grey (R = G = B, stored as RGB) when ``grey``."""
    images = list(load_rows(st.load(turned_faces), slice(0, n)))
    if grey:
        images = [np.repeat(im.mean(axis=2, keepdims=True).astype(np.uint8), 3, axis=2)
                  for im in images]
    schema = st.Schema(attributes=[], provenance=st.Provenance(source="test", converter="unit"))
    return st.build([{"image": [st.encode_png(im) for im in images]}], schema, out).path


def _line(store: st.Store, name: str) -> str:
    return next(line for line in summary_lines(store, [name]) if line.startswith(name + ":"))


def test_grey_faces_read_in_the_fallback_box_are_missing_for_their_hue(turned_faces, tmp_path):
    out = measure_store(_store(turned_faces, tmp_path / "grey", grey=True), ["skin"],
                        fallback="whole", progress=False)
    assert np.isnan(out.labels("skin_ita")).all()
    assert (out.labels("face_found") == 0).any()  # some faces were missed, read in the box
    line = _line(out, "skin_ita")
    assert "no face found" not in line, line
    assert "12 with no skin hue in the cheeks" in line, line


def test_faces_left_unread_by_fallback_nan_are_missing_for_the_missed_face(turned_faces, tmp_path):
    out = measure_store(_store(turned_faces, tmp_path / "colour", grey=False), ["skin"],
                        fallback="nan", progress=False)
    missed = int((out.labels("face_found") == 0).sum())
    assert missed and int(np.isnan(out.labels("skin_ita")).sum()) == missed
    line = _line(out, "skin_ita")
    assert f"({missed} with no face found)" in line, line
    assert "skin hue" not in line, line


def test_grey_faces_left_unread_by_fallback_nan_count_each_reason_once(turned_faces, tmp_path):
    """Grey faces with --fallback nan: the missed ones have no value for the missed face, the
    found ones for their lack of hue; neither is counted twice."""
    out = measure_store(_store(turned_faces, tmp_path / "grey", grey=True), ["skin"],
                        fallback="nan", progress=False)
    missed = int((out.labels("face_found") == 0).sum())
    assert 0 < missed < 12 and np.isnan(out.labels("skin_ita")).all()
    line = _line(out, "skin_ita")
    assert f"({missed} with no face found, {12 - missed} with no skin hue in the cheeks" in line, line
    again = measure_store(out.path, ["skin"], fallback="whole", overwrite=True, progress=False)
    line = _line(again, "skin_ita")  # the latest run's reasons: it read the missed faces too
    assert "no face found" not in line and "(12 with no skin hue in the cheeks" in line, line
