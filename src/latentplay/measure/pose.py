"""Head pose (yaw, pitch, roll in degrees) from 68 facial landmarks.

Pose v2 ("eyes and nose"): the thirteen landmarks that expression barely moves — the four eye
corners, the nose bridge and tip, the nostrils and subnasale — are matched to the same points
of OpenFace's 68-point 3D mean face under a scaled orthographic camera: a least-squares affine
map from the centred 3D points to the centred image points, made a rotation by its closest
orthonormal rows (SVD). Faces are small against their distance to the camera, so the
orthographic model costs little; the mean face costs more: the angles are those of the model's
best fit, good for comparing faces of one collection (pitch carries an offset that depends on
how a population's faces differ from the model). The mouth and chin are left out, so a smile
does not read as a nod (pose v1, until this version, fitted the nose tip, chin, outer eye
corners and mouth corners of a generic face, and read mouth corners raised by 0.1 inter-ocular
distances as about 10 degrees of looking down).

Conventions (the image's own axes, as a viewer sees it): ``yaw`` > 0 when the face turns
toward the image's right, ``pitch`` > 0 when it looks up, ``roll`` > 0 when it tilts
counter-clockwise.

    >>> head_pose(points)            # points: (68, 2) x, y pixels
    array([ 2. , -14.5, -2.6])
"""

from __future__ import annotations

import numpy as np

POSE_LANDMARKS = (27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 39, 42, 45)
"""0-based iBUG indices: the nose bridge (27-29) and tip (30), the nostrils and subnasale
(31-35, image-left to image-right), the image-left eye's outer and inner corners (36, 39) and
the image-right eye's inner and outer corners (42, 45)."""

MIRROR = (0, 1, 2, 3, 8, 7, 6, 5, 4, 12, 11, 10, 9)
"""Position in :data:`POSE_LANDMARKS` of each landmark's mirror image (left and right swapped)."""

_OPENFACE_MEAN = np.array([
    (0.65394, -42.19379, 13.380835),        # 27 nose bridge, top
    (0.804809, -30.993721, 21.150853),      # 28
    (0.992204, -19.944596, 29.284036),      # 29
    (1.226783, -8.414541, 36.94806),        # 30 nose tip
    (-14.772472, 2.598255, 20.132003),      # 31 image-left nostril
    (-7.180239, 4.751589, 23.536684),       # 32
    (0.55592, 6.5629, 25.944448),           # 33 subnasale
    (8.272499, 4.661005, 23.695741),        # 34
    (15.214351, 2.643046, 20.858157),       # 35 image-right nostril
    (-46.04729, -37.471411, -7.037989),     # 36 image-left eye, outer corner
    (-19.648268, -36.754742, 0.111088),     # 39 image-left eye, inner corner
    (19.265868, -37.032306, 0.665746),      # 42 image-right eye, inner corner
    (45.170805, -38.086515, -4.894163),     # 45 image-right eye, outer corner
])
"""These landmarks of OpenFace's 68-point mean face (the "in-the-wild aligned" point
distribution model learned from 300-W, OpenFace's ``pdm_68_aligned_wild``; Baltrusaitis et al.
2016, 2018) as published: x to the image's right, y down, z toward the camera (units about a
millimetre; inter-ocular distance 65)."""

_CAMERA = _OPENFACE_MEAN * (1.0, -1.0, 1.0)  # y up
MODEL_POINTS = (_CAMERA + _CAMERA[list(MIRROR)] * (-1.0, 1.0, 1.0)) / 2
"""``(13, 3)`` the mean face in camera axes (x toward the image's right, y up, z toward the
camera), made exactly mirror-symmetric (each point averaged with its partner's mirror image; the
published face is off by at most 1.2 units) so that a mirrored face reads exactly the negated
yaw and roll."""


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
    """Image points ``(13, 2)`` (x right, y down) of :data:`MODEL_POINTS` rotated by ``r`` and
    seen by a scaled orthographic camera: the inverse of :func:`head_pose`, for tests and plots."""
    p = (r @ MODEL_POINTS.T).T * scale
    return np.stack([centre[0] + p[:, 0], centre[1] - p[:, 1]], axis=1)


def fit_rotation(points: np.ndarray) -> np.ndarray:
    """The ``(3, 3)`` rotation that best maps :data:`MODEL_POINTS` onto ``points`` ``(13, 2)``
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
