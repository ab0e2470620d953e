"""Expression from 68 facial landmarks: how far the mouth corners rise, how far the lips part.

SmileCVAE's smile degree was a hand-made encoding (three people's quick smiley / not-smiley
answers); these two numbers give any face dataset a continuous, reproducible stand-in, in units
of the inter-ocular distance (the distance between the two eye centres), so faces of any size
and distance compare. Heights are taken along the face's own vertical (perpendicular to the
line through the eye centres), so a tilted head reads as the same head upright:

- ``mouth_lift``: the height of the inner lip centre above which the mouth corners sit: > 0
  when the corners rise above the lips' centre (a smile), < 0 when they fall below it (a
  frown);
- ``mouth_open``: the gap between the inner lips (0 for a closed mouth).

Head pitch moves ``mouth_lift``: the inner lips sit in front of the mouth corners (0.29
inter-ocular distances in OpenFace's 68-point 3-D mean face), so in the image a neutral face
looking down by ``p`` degrees reads as smiling by about ``0.29 sin(p) / cos(yaw)`` (0.05 per 10
degrees), and looking up as frowning. The measured ``pose_pitch`` does not undo it: the pose
fit (v2) leaves out the mouth, but dlib's landmarks of a smiling face set the nose lower under
the eyes, so on the synthfaces pitch still follows the smile (docs/measure.md).

    >>> mouth(points)                 # points: (68, 2) x, y pixels
    array([0.148, 0.137])
"""

from __future__ import annotations

import numpy as np

LEFT_EYE, RIGHT_EYE = slice(36, 42), slice(42, 48)
MOUTH_CORNERS = (48, 54)
INNER_UPPER_LIP, INNER_LOWER_LIP = 62, 66


def inter_ocular(landmarks: np.ndarray) -> float:
    """The distance between the eye centres of 68 landmarks ``(68, 2)`` (x, y), in pixels."""
    p = np.asarray(landmarks, dtype=np.float64)
    return float(np.linalg.norm(p[LEFT_EYE].mean(axis=0) - p[RIGHT_EYE].mean(axis=0)))


def mouth(landmarks: np.ndarray) -> np.ndarray:
    """``(2,)`` mouth_lift and mouth_open of one face's 68 landmarks ``(68, 2)`` (x, y)."""
    p = np.asarray(landmarks, dtype=np.float64)
    across = p[RIGHT_EYE].mean(axis=0) - p[LEFT_EYE].mean(axis=0)  # image-left to image-right eye
    iod = float(np.linalg.norm(across))
    if iod <= 0:
        return np.full(2, np.nan)
    down = np.array([-across[1], across[0]]) / iod**2  # the face's downward axis, per iod
    centre = (p[INNER_UPPER_LIP] + p[INNER_LOWER_LIP]) / 2
    lift = float((centre - p[list(MOUTH_CORNERS)].mean(axis=0)) @ down)
    opening = float((p[INNER_LOWER_LIP] - p[INNER_UPPER_LIP]) @ down)
    return np.array([lift, max(opening, 0.0)])
