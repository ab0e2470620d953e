"""Head pose (yaw, pitch, roll in degrees) from 68 facial landmarks.

Six landmarks (nose tip, chin, the outer eye corners, the mouth corners) are matched to the
same points of a generic 3D face under a scaled orthographic camera: a least-squares affine
map from the centred 3D points to the centred image points, made a rotation by its closest
orthonormal rows (SVD). Faces are small against their distance to the camera, so the
orthographic model costs little; the generic face costs more: the angles are those of the
model's best fit, good for comparing faces of one collection (pitch carries an offset that
depends on how a population's faces differ from the model). The mouth corners are among the
six, so expression moves pitch: corners raised by 0.1 inter-ocular distances (a smile) read as
about 10 degrees of looking down.

Conventions (the image's own axes, as a viewer sees it): ``yaw`` > 0 when the face turns
toward the image's right, ``pitch`` > 0 when it looks up, ``roll`` > 0 when it tilts
counter-clockwise.

    >>> head_pose(points)            # points: (68, 2) x, y pixels
    array([ 3.9, -17.8, -2.3])
"""

from __future__ import annotations

import numpy as np

POSE_LANDMARKS = (30, 8, 36, 45, 48, 54)
"""0-based iBUG indices: nose tip, chin, outer corner of the image-left eye, outer corner of
the image-right eye, image-left and image-right mouth corners."""

MODEL_POINTS = np.array([
    (0.0, 0.0, 0.0),            # nose tip
    (0.0, -330.0, -65.0),       # chin
    (-225.0, 170.0, -135.0),    # image-left eye, outer corner
    (225.0, 170.0, -135.0),     # image-right eye, outer corner
    (-150.0, -150.0, -125.0),   # image-left mouth corner
    (150.0, -150.0, -125.0),    # image-right mouth corner
])
"""The generic face in model units: x toward the image's right, y up, z toward the camera."""


def rotation(yaw: float, pitch: float, roll: float) -> np.ndarray:
    """The ``(3, 3)`` rotation of a head at these angles (degrees): ``Rz(roll) Ry(yaw) Rx(-pitch)``
    in camera axes (x right, y up, z toward the viewer)."""
    y, p, r = np.radians([yaw, -pitch, roll])
    ry = np.array([[np.cos(y), 0, np.sin(y)], [0, 1, 0], [-np.sin(y), 0, np.cos(y)]])
    rx = np.array([[1, 0, 0], [0, np.cos(p), -np.sin(p)], [0, np.sin(p), np.cos(p)]])
    rz = np.array([[np.cos(r), -np.sin(r), 0], [np.sin(r), np.cos(r), 0], [0, 0, 1]])
    return rz @ ry @ rx


def angles(r: np.ndarray) -> np.ndarray:
    """``(3,)`` yaw, pitch, roll in degrees of a rotation made by :func:`rotation`."""
    yaw = np.arcsin(np.clip(-r[2, 0], -1.0, 1.0))
    pitch = -np.arctan2(r[2, 1], r[2, 2])
    roll = np.arctan2(r[1, 0], r[0, 0])
    return np.degrees([yaw, pitch, roll])


def project(r: np.ndarray, scale: float = 1.0, centre: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
    """Image points ``(6, 2)`` (x right, y down) of :data:`MODEL_POINTS` rotated by ``r`` and
    seen by a scaled orthographic camera: the inverse of :func:`head_pose`, for tests and plots."""
    p = (r @ MODEL_POINTS.T).T * scale
    return np.stack([centre[0] + p[:, 0], centre[1] - p[:, 1]], axis=1)


def fit_rotation(points: np.ndarray) -> np.ndarray:
    """The ``(3, 3)`` rotation that best maps :data:`MODEL_POINTS` onto ``points`` ``(6, 2)``
    (x right, y down) under a scaled orthographic camera."""
    x = np.asarray(points, dtype=np.float64) * (1.0, -1.0)
    x = x - x.mean(axis=0)
    model = MODEL_POINTS - MODEL_POINTS.mean(axis=0)
    affine = np.linalg.lstsq(model, x, rcond=None)[0].T  # (2, 3) = scale * first two rows of R
    u, _, vt = np.linalg.svd(affine, full_matrices=False)
    rows = u @ vt
    return np.vstack([rows, np.cross(rows[0], rows[1])])


def head_pose(landmarks: np.ndarray) -> np.ndarray:
    """Yaw, pitch and roll in degrees, ``(3,)``, of a face's 68 landmarks ``(68, 2)`` (x, y)."""
    return angles(fit_rotation(np.asarray(landmarks)[list(POSE_LANDMARKS)]))
