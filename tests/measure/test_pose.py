"""Head pose from landmarks: the solver's known answers, and a real face flipped and rotated."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import pearsonr
from skimage import transform

from latentplay import store as st
from latentplay.measure import pose as pose_module
from latentplay.measure.pose import POSE_LANDMARKS, angles, fit_rotation, head_pose, project, rotation

# dlib's 68 points of a mirrored face: index k of the mirror image is point MIRROR[k] of the face
MIRROR = np.array([*range(16, -1, -1), *range(26, 16, -1), 27, 28, 29, 30, 35, 34, 33, 32, 31,
                   45, 44, 43, 42, 47, 46, 39, 38, 37, 36, 41, 40, 54, 53, 52, 51, 50, 49, 48,
                   59, 58, 57, 56, 55, 64, 63, 62, 61, 60, 67, 66, 65])


@pytest.mark.parametrize("pose", [(0, 0, 0), (35, 0, 0), (0, -25, 0), (0, 0, 20),
                                  (-40, 15, -10), (20, 30, 45)])
def test_projected_model_gives_back_its_angles(pose: tuple[float, float, float]) -> None:
    r = rotation(*pose)
    np.testing.assert_allclose(angles(r), pose, atol=1e-9)
    points = np.zeros((68, 2))
    points[list(POSE_LANDMARKS)] = project(r, scale=0.3, centre=(140.0, 90.0))
    np.testing.assert_allclose(head_pose(points), pose, atol=1e-6)


def test_noisy_points_still_fit_a_rotation() -> None:
    """Landmarks off the model (noise, another face's shape) fit no exact rotation: the fit is
    still one (orthonormal rows, determinant 1), so its angles are those of a head."""
    points = project(rotation(20, -10, 5), 2.0, (100.0, 100.0))
    points += np.random.default_rng(0).normal(0.0, 4.0, points.shape)
    r = fit_rotation(points)
    np.testing.assert_allclose(r @ r.T, np.eye(3), atol=1e-12)
    assert np.linalg.det(r) == pytest.approx(1.0)


def test_signs_follow_the_image() -> None:
    """Turning right moves the nose tip right of the eyes' midpoint; looking up moves it up;
    a counter-clockwise tilt lifts the image-right eye above the image-left one."""
    nose, left_eye, right_eye = (POSE_LANDMARKS.index(k) for k in (30, 36, 45))
    turned = project(rotation(30, 0, 0))
    assert turned[nose, 0] > turned[[left_eye, right_eye], 0].mean()
    up = project(rotation(0, 30, 0))
    level = project(rotation(0, 0, 0))
    assert up[nose, 1] - up[[left_eye, right_eye], 1].mean() < (
        level[nose, 1] - level[[left_eye, right_eye], 1].mean())
    tilted = project(rotation(0, 0, 20))
    assert tilted[right_eye, 1] < tilted[left_eye, 1]  # image y grows downward


def test_detection_score(models, astronaut: np.ndarray) -> None:
    face = models.find(astronaut)
    assert face.box == models.detect(astronaut) and face.score > 0.5 and face.points is None
    blurred = transform.rescale(astronaut, 0.25, channel_axis=-1)  # smaller, less clear
    small = models.find((blurred * 255).round().astype(np.uint8))
    assert small is not None and small.score < face.score


def _pose(models, image: np.ndarray) -> np.ndarray:
    box = models.detect(image)
    assert box is not None
    return head_pose(models.landmarks68(image, box))


def test_mirror_image_negates_yaw_and_roll(models, astronaut: np.ndarray) -> None:
    pose = _pose(models, astronaut)
    mirrored = _pose(models, np.ascontiguousarray(astronaut[:, ::-1]))
    assert abs(pose[0]) > 2  # she looks slightly aside: the test can tell a sign
    np.testing.assert_allclose(mirrored[[0, 2]], -pose[[0, 2]], atol=2.5)
    assert mirrored[1] == pytest.approx(pose[1], abs=2.5)
    # the mirrored landmarks, relabelled, are the same face: the solver is exactly antisymmetric
    points = models.landmarks68(astronaut, models.detect(astronaut))
    flipped = points * (-1, 1)
    np.testing.assert_allclose(head_pose(flipped[MIRROR]), pose * (-1, 1, -1), atol=1e-6)


@pytest.mark.parametrize("degrees", [-8.0, 12.0])  # HOG finds her face up to about 12 degrees
def test_rotating_the_photo_changes_roll_by_as_much(models, astronaut: np.ndarray,
                                                    degrees: float) -> None:
    base = _pose(models, astronaut)
    turned = transform.rotate(astronaut, degrees, center=(220, 130), mode="edge")  # counter-clockwise
    pose = _pose(models, (turned * 255).round().astype(np.uint8))
    assert pose[2] - base[2] == pytest.approx(degrees, abs=3.0)
    assert pose[0] == pytest.approx(base[0], abs=4.0)


def test_yaw_follows_the_drawn_head_turn(detected, turned_faces) -> None:
    rows, _, points = detected
    truth = st.load(turned_faces).labels("yaw")[rows]
    estimated = [head_pose(p)[0] for p in points]
    assert len(truth) > 40
    r, _ = pearsonr(truth, estimated)
    assert r > 0.5
    assert np.polyfit(truth, estimated, 1)[0] > 15  # degrees per unit of synthfaces' yaw (~40)


def _mean_face(pose: tuple[float, float, float], scale: float = 1.0) -> np.ndarray:
    """68 image points ``(68, 2)`` (x right, y down; zero off the pose landmarks): OpenFace's
    mean face as published (not mirror-symmetric) at this pose, seen orthographically."""
    points = np.zeros((68, 2))
    face = pose_module._OPENFACE_MEAN * (1.0, -1.0, 1.0)  # camera axes: y up
    seen = (rotation(*pose) @ face.T).T * scale
    points[[*range(27, 37), 39, 42, 45]] = seen[:, :2] * (1.0, -1.0)
    return points


@pytest.mark.parametrize("pose", [(25, 0, 0), (0, -20, 0), (0, 15, 0), (-30, 10, 15)])
def test_published_mean_face_gives_back_its_turn(pose: tuple[float, float, float]) -> None:
    """The published face, off mirror symmetry by about a unit, turned by a known rotation
    reads that rotation after its own frontal reading within 1.5 degrees."""
    frontal = fit_rotation(_mean_face((0, 0, 0))[list(POSE_LANDMARKS)])  # (3, 3)
    expected = angles(rotation(*pose) @ frontal)
    np.testing.assert_allclose(head_pose(_mean_face(pose, scale=2.5)), expected, atol=1.5)
    assert np.abs(angles(frontal)).max() < 3.0


@pytest.mark.parametrize("pose", [(0, 0, 0), (20, -15, 5)])
def test_a_smile_leaves_the_pose(pose: tuple[float, float, float]) -> None:
    """Mouth corners raised by 0.1 inter-ocular distances (a smile), and a chin dropped by 0.2
    (an open mouth), change no angle: the fit reads only the eyes and the nose (pose v1 read the
    smile as 10 degrees of looking down)."""
    points = _mean_face(pose)
    iod = np.linalg.norm(points[[36, 39]].mean(axis=0) - points[[42, 45]].mean(axis=0))
    points[[48, 54]] = points[[36, 45]] + (0.0, 1.2 * iod)
    points[8] = points[[36, 45]].mean(axis=0) + (0.0, 1.9 * iod)
    level = head_pose(points)
    smiling = points.copy()
    smiling[[48, 54], 1] -= 0.1 * iod  # image y grows downward
    smiling[8, 1] += 0.2 * iod
    np.testing.assert_allclose(head_pose(smiling), level, atol=1e-9)
