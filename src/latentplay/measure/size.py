"""Face size from 68 facial landmarks: how many pixels the face spans, and how much of the
image it fills.

Recognition and attribute classifiers degrade on small faces, and datasets differ in how
tightly their photos are cropped, so face size confounds group comparisons the way pose and
lighting do (demographic evaluations of face recognition report it beside pose):

- ``face_iod``: the inter-ocular distance in pixels (eye centre to eye centre) of the stored
  image: the face's resolution;
- ``face_fill``: that distance over the image's shorter side: the framing (about 0.3-0.4 for a
  tight face crop, small for a scene).

    >>> face_size(points, (250, 250))        # points: (68, 2) x, y pixels
    array([62.1, 0.248])
"""

from __future__ import annotations

import numpy as np

from latentplay.measure.expression import inter_ocular

SIZE_NAMES = ("face_iod", "face_fill")


def face_size(landmarks: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``(2,)`` face_iod (pixels) and face_fill of one face's 68 landmarks ``(68, 2)`` (x, y)
    in an image of ``shape`` ``(H, W[, C])``."""
    iod = inter_ocular(landmarks)
    return np.array([iod, iod / min(shape[:2])])
