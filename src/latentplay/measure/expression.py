"""Expression from 68 facial landmarks: how far the mouth corners rise, how far the lips part.

SmileCVAE's smile degree was a hand-made encoding (three people's quick smiley / not-smiley
answers); these two numbers give any face dataset a continuous, reproducible stand-in, in units
of the inter-ocular distance (the distance between the two eye centres), so faces of any size
and distance compare:

- ``mouth_lift``: the height of the inner lip centre above which the mouth corners sit (image
  y grows downward): > 0 when the corners rise above the lips' centre (a smile), < 0 when they
  fall below it (a frown);
- ``mouth_open``: the gap between the inner lips (0 for a closed mouth).

    >>> mouth(points)                 # points: (68, 2) x, y pixels
    array([0.149, 0.137])
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
    iod = inter_ocular(p)
    if iod <= 0:
        return np.full(2, np.nan)
    centre = (p[INNER_UPPER_LIP, 1] + p[INNER_LOWER_LIP, 1]) / 2
    lift = (centre - p[list(MOUTH_CORNERS), 1].mean()) / iod
    opening = (p[INNER_LOWER_LIP, 1] - p[INNER_UPPER_LIP, 1]) / iod
    return np.array([lift, max(opening, 0.0)])
