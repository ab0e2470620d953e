"""Skin tone as the Individual Typology Angle (ITA) of the cheeks.

``ITA = atan((L* - 50) / b*)`` in degrees, from the CIELAB lightness ``L*`` and yellow-blue
``b*`` of skin (Chardon et al. 1991). The cheeks are two polygons of the 68 landmarks (jaw,
mouth corner, nose wing, lower eyelid), away from hair, brows, eyes and lips; ``L*`` and ``b*``
are the medians over their pixels, so that a highlight or a shadow moves them little. The
usual reading (Del Bino and Bernerd 2013) groups the angle into six skin types, see
:data:`ITA_GROUPS`. Where ``b*`` is below :data:`MIN_YELLOW` (grey or bluish pixels: no skin
hue; the Monk scale's skin colours have ``b*`` from 3.5 to 27) the angle would only measure
noise, and NaN is returned.
"""

from __future__ import annotations

import numpy as np
from skimage.color import rgb2lab
from skimage.draw import polygon

CHEEKS = ((1, 2, 3, 4, 48, 31, 40, 41, 36), (15, 14, 13, 12, 54, 35, 47, 46, 45))
"""0-based iBUG landmark indices of the image-left and image-right cheek polygons."""

MIN_YELLOW = 1.0

ITA_GROUPS = ("very_light", "light", "intermediate", "tan", "brown", "dark")
ITA_EDGES = (55.0, 41.0, 28.0, 10.0, -30.0)
"""Lower ITA bound (degrees) of each group but the last: very light > 55 > light > 41 >
intermediate > 28 > tan > 10 > brown > -30 > dark."""


def cheek_mask(landmarks: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """``(H, W)`` bool mask of the two cheek polygons of ``landmarks`` ``(68, 2)`` (x, y)."""
    mask = np.zeros(shape, dtype=bool)
    for poly in CHEEKS:
        pts = landmarks[list(poly)]
        rr, cc = polygon(pts[:, 1], pts[:, 0], shape)
        mask[rr, cc] = True
    return mask


def ita(image: np.ndarray, mask: np.ndarray) -> float:
    """ITA in degrees of the pixels of ``image`` ``(H, W, 3)`` uint8 under ``mask`` ``(H, W)``;
    NaN when the image is not RGB (a grey one has no hue), the mask is empty or the median ``b*``
    is below :data:`MIN_YELLOW`."""
    if image.ndim != 3 or image.shape[-1] != 3 or not mask.any():
        return float("nan")
    lab = rgb2lab(image[mask][None])[0]
    lightness, yellow = float(np.median(lab[:, 0])), float(np.median(lab[:, 2]))
    if yellow < MIN_YELLOW:
        return float("nan")
    return float(np.degrees(np.arctan((lightness - 50.0) / yellow)))


def ita_group(values: np.ndarray) -> np.ndarray:
    """Codes into :data:`ITA_GROUPS` of ``(N,)`` ITA degrees; NaN gets ``len(ITA_GROUPS)``."""
    values = np.asarray(values, dtype=np.float64)
    codes = np.searchsorted(-np.asarray(ITA_EDGES), -values, side="right")
    return np.where(np.isnan(values), len(ITA_GROUPS), codes)
