"""FFHQ's alignment: the crop a StyleGAN generator trained on FFHQ draws its faces in.

Photos projected into an FFHQ generator (``latent invert``, ``embed --with invert:RUN``) must
be cropped as FFHQ's faces were, or inversion spends its effort on pose and framing. FFHQ's
recipe (Karras et al. 2019, the dataset's ``recreate_aligned_images``) from dlib's 68
landmarks: with ``e`` the midpoint of the eye centres, ``m`` of the mouth corners,
``ee`` the vector between the eyes and ``em = m - e``,

- the crop's horizontal half-axis ``x`` points along ``ee - rot90(em)`` (the eye line tilted
  towards the face's vertical), of length ``max(2 |ee|, 1.8 |em|)``; the vertical one ``y`` is
  ``x`` turned 90 degrees;
- its centre is ``e + 0.1 em``;
- the photo is first shrunk by an integer factor ``k`` when the crop is over twice the output
  size (here pixel centres map to pixel centres; the recipe divides coordinates by ``k``,
  which shifts the crop by ``(k - 1) / 2`` of the photo's pixels);
- where the crop leaves the photo it is filled by reflecting the photo, blurred and pulled
  towards its median colour with the distance from the edge;
- the square is resampled (bilinear, at four times the output size, then a Lanczos reduction).

    >>> chip = ffhq_chip(image, models.landmarks68(image, box), size=256)   # (256, 256, 3)
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image
from scipy.ndimage import gaussian_filter

from latentplay.embed.arcface import warp

SUPERSAMPLE = 4  # resampled at this multiple of the output size, then reduced (FFHQ: 4096 -> 1024)


def ffhq_frame(landmarks68: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The crop's centre ``c`` and half-axes ``x`` (towards the crop's right) and ``y``
    (towards its bottom), each ``(2,)`` (x, y) pixels, from the 68 iBUG landmarks ``(68, 2)``;
    the crop is ``c + s x + t y`` for ``s, t`` in [-1, 1]."""
    pts = np.asarray(landmarks68, dtype=np.float64)
    eye_left, eye_right = pts[36:42].mean(0), pts[42:48].mean(0)
    eyes = (eye_left + eye_right) / 2
    eye_to_eye = eye_right - eye_left
    eye_to_mouth = (pts[48] + pts[54]) / 2 - eyes
    x = eye_to_eye - np.flipud(eye_to_mouth) * [-1, 1]
    x = x / np.hypot(*x) * max(np.hypot(*eye_to_eye) * 2.0, np.hypot(*eye_to_mouth) * 1.8)
    y = np.flipud(x) * [-1, 1]
    return eyes + eye_to_mouth * 0.1, x, y


def _padded(image: np.ndarray, corners: np.ndarray, side: float) -> tuple[np.ndarray, np.ndarray]:
    """``image`` ``(H, W, 3)`` uint8 cut to the crop's corners ``(4, 2)`` plus a border and,
    where they leave it, padded by reflection, blurred and pulled towards its median colour
    with the distance from the edge (``side``: the crop's side); returns the image and the
    shift its coordinates got ``(2,)``."""
    border = max(int(np.rint(side * 0.1)), 3)
    low, high = np.floor(corners.min(0)).astype(int), np.ceil(corners.max(0)).astype(int)
    h, w = image.shape[:2]
    x0, y0 = max(low[0] - border, 0), max(low[1] - border, 0)
    x1, y1 = min(high[0] + border, w), min(high[1] + border, h)
    image, shift = image[y0:y1, x0:x1], np.array([-x0, -y0], dtype=np.float64)
    low, high = low + shift.astype(int), high + shift.astype(int)
    h, w = image.shape[:2]
    pad = np.maximum([border - low[0], border - low[1], high[0] - w + border, high[1] - h + border], 0)
    if pad.max() <= border - 4:
        return image, shift
    pad = np.maximum(pad, max(int(np.rint(side * 0.3)), 1))
    img = np.pad(image.astype(np.float32), ((pad[1], pad[3]), (pad[0], pad[2]), (0, 0)), mode="reflect")
    h, w = img.shape[:2]
    yy, xx = np.ogrid[:h, :w]
    mask = np.maximum(1 - np.minimum(xx / pad[0], (w - 1 - xx) / pad[2]),
                      1 - np.minimum(yy / pad[1], (h - 1 - yy) / pad[3]))[..., None]
    blur = side * 0.02
    img += (gaussian_filter(img, [blur, blur, 0]) - img) * np.clip(mask * 3 + 1, 0, 1)
    img += (np.median(img, axis=(0, 1)) - img) * np.clip(mask, 0, 1)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8), shift + pad[:2]


def ffhq_chip(image: np.ndarray, landmarks68: np.ndarray, size: int = 1024) -> np.ndarray:
    """The face of ``landmarks68`` ``(68, 2)`` in ``image`` ``(H, W, 3)`` uint8, cut as FFHQ's
    faces are: ``(size, size, 3)`` uint8 (1024 is FFHQ's own size)."""
    centre, x, y = ffhq_frame(landmarks68)
    side = np.hypot(*x) * 2
    shrink = int(math.floor(side / size * 0.5))
    if shrink > 1:  # antialiasing for large faces, as FFHQ's recipe does
        h, w = image.shape[:2]
        small = (int(np.rint(w / shrink)), int(np.rint(h / shrink)))
        image = np.asarray(Image.fromarray(image).resize(small, Image.LANCZOS))
        scale = np.array(small) / (w, h)  # (x, y); pixel centres stay centres
        centre, x, y, side = (centre + 0.5) * scale - 0.5, x * scale, y * scale, side * scale.mean()
    corners = np.stack([centre - x - y, centre - x + y, centre + x + y, centre + x - y])
    image, shift = _padded(image, corners, side)
    centre = centre + shift
    big = size * SUPERSAMPLE
    # output pixel edges [0, big] span the crop; pixel centres (at integers) are 0.5 in
    inverse_axes = np.linalg.inv(np.column_stack([x, y]))
    scale = inverse_axes * (big / 2)
    forward = np.hstack([scale, (big / 2 - 0.5 - scale @ centre)[:, None]])
    sampled = warp(image, forward, big)
    return np.asarray(Image.fromarray(sampled).resize((size, size), Image.LANCZOS))
