"""The minimum size of each measure: a row under it gets no value, counted in the summary."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from latentplay import store as st
from latentplay.embed.column import load_rows
from latentplay.measure.run import MIN_IOD, MIN_SIDE, measure_store, too_small

ALL = ["quality", "pose", "skin", "expression", "size"]


def _shrunk(turned_faces: Path, side: int, out: Path, n: int = 12) -> Path:
    """The first ``n`` synthfaces (64 px) resized to ``side`` px, as a new store."""
    source = st.load(turned_faces)
    images = [np.asarray(Image.fromarray(im).resize((side, side), Image.Resampling.LANCZOS))
              for im in load_rows(source, slice(0, n))]
    schema = st.Schema(attributes=[], provenance=st.Provenance(source="test", converter="unit"))
    return st.build([{"image": [st.encode_png(im) for im in images]}], schema, out).path


def test_tiny_images_get_no_face_measures_or_sharpness(turned_faces, tmp_path) -> None:
    """8-px face crops: pose, expression, skin and sharpness have no value, each row counted in
    the history; brightness, contrast and the face's size (2 px between the eyes) still do."""
    out = measure_store(_shrunk(turned_faces, 8, tmp_path / "tiny"), ALL, detect=False,
                        progress=False)
    for name in ("sharpness", "pose_yaw", "pose_pitch", "pose_roll", "mouth_lift", "mouth_open",
                 "skin_ita"):
        assert np.isnan(out.labels(name)).all(), name
    for name in ("brightness", "contrast", "face_iod", "face_fill"):
        assert np.isfinite(out.labels(name)).all(), name
    assert (out.labels("face_iod") < MIN_IOD).all()
    under = out.schema.history[-1]["under_minimum"]
    assert under == {name: 12 for name in ("sharpness", "pose_yaw", "pose_pitch", "pose_roll",
                                           "skin_ita", "mouth_lift", "mouth_open")}


def test_full_size_synthfaces_keep_every_value(turned_faces, tmp_path) -> None:
    """The same crops at 64 px are over every minimum: nothing is left out for size."""
    out = measure_store(_shrunk(turned_faces, 64, tmp_path / "full"), ALL, detect=False,
                        progress=False)
    assert out.schema.history[-1]["under_minimum"] == {}
    for name in ("sharpness", "pose_yaw", "mouth_lift", "face_iod"):
        assert np.isfinite(out.labels(name)).all(), name


def test_minimum_of_each_measure() -> None:
    """Sharpness wants MIN_SIDE px on the shorter side; pose and expression MIN_IOD px between
    the eye centres; skin MIN_CHEEK pixels under the cheek polygons; size any face."""
    assert too_small("quality", np.zeros((MIN_SIDE - 1, 200, 3), np.uint8), None)
    assert not too_small("quality", np.zeros((MIN_SIDE, 200, 3), np.uint8), None)
    eyes = np.zeros((68, 2))
    eyes[42:48, 0] = MIN_IOD  # the eye centres MIN_IOD px apart
    assert not too_small("pose", np.zeros((64, 64, 3), np.uint8), eyes)
    eyes[42:48, 0] = MIN_IOD - 0.5
    assert too_small("pose", np.zeros((64, 64, 3), np.uint8), eyes)
    assert too_small("expression", np.zeros((64, 64, 3), np.uint8), eyes)
    assert not too_small("size", np.zeros((64, 64, 3), np.uint8), eyes)
    assert too_small("skin", np.zeros((64, 64, 3), np.uint8), eyes)  # cheeks of no area


@pytest.mark.parametrize("what", [["pose"], ["quality", "skin"]])
def test_measure_cli_says_why_values_are_missing(cli, turned_faces, tmp_path, what) -> None:
    path = _shrunk(turned_faces, 16, tmp_path / "small", n=6)
    result = cli("data", "measure", path, "--no-detect", "--what", ",".join(what))
    assert result.code == 0, result.err
    if "pose" in what:
        assert "pose_yaw: no value; 6 rows without a value (6 with a face under 8 px" in result.out
    else:
        assert "sharpness: no value; 6 rows without a value (6 with an image under 32 px" \
            in result.out
        assert "with under 64 pixels inside the cheek outlines" in result.out
