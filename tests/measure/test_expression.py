"""Expression from landmarks: the mouth's lift and opening follow the drawn smile; a real smile."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import spearmanr

from latentplay import store as st
from latentplay.measure.expression import mouth


def test_a_drawn_mouth() -> None:
    """Corners 2 px above the lip centre, lips 3 px apart, eye centres 20 px apart."""
    p = np.zeros((68, 2))
    p[36:42] = (40, 50)
    p[42:48] = (60, 50)
    p[48], p[54] = (38, 78), (62, 78)
    p[62], p[66] = (50, 78.5), (50, 81.5)
    np.testing.assert_allclose(mouth(p), [(80.0 - 78.0) / 20, 3.0 / 20])
    frown = p.copy()
    frown[[48, 54], 1] = 84
    assert mouth(frown)[0] == pytest.approx(-4.0 / 20)
    closed = p.copy()
    closed[66] = (50, 78)  # lower inner lip above the upper one: read as closed
    assert mouth(closed)[1] == 0
    assert np.isnan(mouth(np.zeros((68, 2)))).all()  # no eye distance: no value


@pytest.mark.parametrize("degrees", [30.0, -45.0, 90.0])
def test_a_tilted_face_reads_as_upright(degrees: float) -> None:
    """Rotating a face's landmarks in the image (head roll) moves neither its lift nor its opening."""
    p = np.zeros((68, 2))
    p[36:42], p[42:48] = (40, 50), (60, 50)
    p[48], p[54] = (38, 78), (62, 78)
    p[62], p[66] = (50, 78.5), (50, 81.5)
    t = np.radians(degrees)
    turn = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
    tilted = (p - (50, 65)) @ turn.T + (50, 65)
    np.testing.assert_allclose(mouth(tilted), mouth(p), atol=1e-12)
    np.testing.assert_allclose(mouth(tilted), [2.0 / 20, 3.0 / 20], atol=1e-12)


def test_face_size_by_hand() -> None:
    from latentplay.measure.size import face_size

    p = np.zeros((68, 2))
    p[36:42] = (40, 50)
    p[42:48] = (64, 57)                              # eye centres 25 px apart
    np.testing.assert_allclose(face_size(p, (100, 200, 3)), [25.0, 0.25])
    np.testing.assert_allclose(face_size(p, (200, 100)), [25.0, 0.25])  # the shorter side
    p[[39, 45]] += (0, 12)                            # lower eye corners: the centres 2 px lower
    np.testing.assert_allclose(face_size(p, (100, 200, 3)), [25.0, 0.25])
    p[41] += (6, 0)                                   # one eye's centre 1 px right
    np.testing.assert_allclose(face_size(p, (100, 200, 3))[0], np.hypot(23, 7))


def test_a_smiling_photo_and_its_mirror(models, astronaut) -> None:
    points = models.landmarks68(astronaut, models.detect(astronaut))
    lift, opening = mouth(points)
    assert lift > 0.05 and opening > 0.05  # she smiles, teeth showing
    mirrored = np.ascontiguousarray(astronaut[:, ::-1])
    again = mouth(models.landmarks68(mirrored, models.detect(mirrored)))
    np.testing.assert_allclose(again, [lift, opening], atol=0.03)


def test_lift_and_opening_follow_the_drawn_smile(detected, turned_faces) -> None:
    rows, _, points = detected
    smile = st.load(turned_faces).labels("smile")[rows]
    values = np.array([mouth(p) for p in points])
    assert spearmanr(smile, values[:, 0])[0] > 0.5
    open_smile, frown = smile > 0.4, smile < -0.5  # synthfaces open the mouth above 0.4
    assert values[open_smile, 1].mean() > values[frown, 1].mean() + 0.03
    assert values[open_smile, 0].mean() > 0 > values[frown, 0].mean()


def neutral_face(depth: float) -> np.ndarray:
    """``(68, 3)`` x right, y up, z toward the viewer, in inter-ocular distances: a neutral mouth
    (inner lips level with the corners) whose inner lips sit ``depth`` in front of the corners."""
    p = np.zeros((68, 3))
    p[36:42], p[42:48] = (-0.5, 0.6, -0.3), (0.5, 0.6, -0.3)
    p[48], p[54] = (-0.45, -0.9, -0.4), (0.45, -0.9, -0.4)
    p[62], p[66] = (0.0, -0.9, -0.4 + depth), (0.0, -0.9, -0.4 + depth)
    return p


@pytest.mark.parametrize("yaw", [0.0, 30.0])
@pytest.mark.parametrize("pitch", [-20.0, -10.0, 10.0, 20.0])
def test_head_pitch_moves_the_lift_of_a_neutral_face(pitch: float, yaw: float) -> None:
    """The documented caution: a neutral face looking down reads as smiling, by
    ``depth sin(pitch) / cos(yaw)``: 0.05 per 10 degrees for OpenFace's mean face (depth 0.29)."""
    from latentplay.measure.pose import rotation

    face = neutral_face(0.29)
    seen = (rotation(yaw, pitch, 0.0) @ face.T).T[:, :2] * (1.0, -1.0)  # orthographic, y down
    assert mouth((rotation(yaw, 0.0, 0.0) @ face.T).T[:, :2] * (1.0, -1.0))[0] == pytest.approx(0.0)
    lift = mouth(seen)[0]
    assert lift == pytest.approx(-0.29 * np.sin(np.radians(pitch)) / np.cos(np.radians(yaw)))
    if yaw == 0 and abs(pitch) == 10:
        assert 0.045 < abs(lift) < 0.055 and np.sign(lift) == -np.sign(pitch)
