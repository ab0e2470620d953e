"""ArcFace's five-point alignment: the crop face-recognition networks of the ArcFace family expect.

InsightFace's recognition models (ArcFace, and most models trained on MS1MV2/3, Glint360K or
WebFace with their tools) read a ``112 x 112`` face whose eye centres, nose tip and mouth corners
sit at fixed template points; the crop is the similarity transform (rotation, uniform scale,
shift) that brings the detected points closest to the template in least squares. Here the five
points come from dlib's 68 landmarks:

    >>> points = five_points(models.landmarks68(image, box))   # (5, 2) x, y
    >>> chip = align_to_template(image, points, size=112)       # (112, 112, 3) uint8

InsightFace's attribute models (``genderage.onnx``) read an upright square around the face box
instead, :func:`box_crop`.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

# (x, y) in a 112 x 112 crop: left eye, right eye (as seen in the image), nose tip, left and
# right mouth corners; InsightFace's ``arcface_dst``
TEMPLATE_112 = np.array([
    [38.2946, 51.6963],
    [73.5318, 51.5014],
    [56.0252, 71.7366],
    [41.5493, 92.3655],
    [70.7299, 92.2041],
])


def template(size: int) -> np.ndarray:
    """The five template points for a ``size x size`` crop: ``(5, 2)`` float64.

    Multiples of 112 scale the 112 template; multiples of 128 scale it to 128 and shift it right
    by 8 (InsightFace's rule, so a 128 crop keeps the 112 face with a margin); other sizes
    scale it.
    """
    if size % 112 and not size % 128:
        ratio = size / 128
        return TEMPLATE_112 * ratio + [8 * ratio, 0]
    return TEMPLATE_112 * (size / 112)


def five_points(landmarks68: np.ndarray) -> np.ndarray:
    """The template's five points from the 68 iBUG landmarks: ``(68, 2)`` -> ``(5, 2)``.

    Eye centres are the means of each eye's six contour points (36-41, 42-47), the nose tip is
    point 30, the mouth corners 48 and 54.
    """
    pts = np.asarray(landmarks68, dtype=np.float64)
    return np.stack([pts[36:42].mean(0), pts[42:48].mean(0), pts[30], pts[48], pts[54]])


def similarity(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """The least-squares similarity transform taking ``src`` points onto ``dst`` (Umeyama, no
    reflection): ``(K, 2), (K, 2) -> (2, 3)`` matrix ``M`` with ``dst ~ M @ [x, y, 1]``."""
    src, dst = np.asarray(src, np.float64), np.asarray(dst, np.float64)
    mu_s, mu_d = src.mean(0), dst.mean(0)
    s, d = src - mu_s, dst - mu_d
    cov = d.T @ s / len(src)
    u, sig, vt = np.linalg.svd(cov)
    sign = np.ones(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        sign[-1] = -1
    rot = u @ np.diag(sign) @ vt
    scale = (sig * sign).sum() / s.var(0).sum()
    shift = mu_d - scale * rot @ mu_s
    return np.hstack([scale * rot, shift[:, None]])


def align_to_template(image: np.ndarray, points: np.ndarray, size: int = 112) -> np.ndarray:
    """Warp ``image`` so its five ``points`` land on the template: ``(H, W, C)`` uint8 and
    ``(5, 2)`` (x, y) -> ``(size, size, C)`` uint8 (bilinear; outside the image is black)."""
    return warp(image, similarity(points, template(size)), size)


def box_crop(image: np.ndarray, box: tuple[float, float, float, float], size: int,
             padding: float = 0.25) -> np.ndarray:
    """The upright square centred on face ``box`` (left, top, right, bottom), its side the
    box's longer side (at least a pixel: the whole-image box of a one-pixel image) times
    ``1 + 2 padding`` (0.25: InsightFace's 1.5), scaled to ``size``: ``(H, W, C)`` uint8 ->
    ``(size, size, C)`` uint8 (outside the image is black)."""
    left, top, right, bottom = box
    scale = size / (max(right - left, bottom - top, 1) * (1 + 2 * padding))
    centre = np.array([(left + right) / 2, (top + bottom) / 2])
    return warp(image, np.hstack([scale * np.eye(2), (size / 2 - scale * centre)[:, None]]), size)


def warp(image: np.ndarray, forward: np.ndarray, size: int) -> np.ndarray:
    """``image`` under the ``(2, 3)`` affine map ``forward`` (input pixel -> output pixel,
    pixel centres at integers), cut to ``size x size``: ``(H, W, C)`` uint8 -> ``(size, size,
    C)`` uint8 (bilinear; outside the image is black)."""
    inverse = np.linalg.inv(np.vstack([forward, [0, 0, 1]]))[:2]  # output -> input, as PIL asks
    # PIL puts pixel i's centre at i + 0.5; the points put it at i
    inverse[:, 2] += 0.5 - inverse[:, :2].sum(1) * 0.5
    squeeze = image.ndim == 3 and image.shape[-1] == 1
    pil = Image.fromarray(image[..., 0] if squeeze else image)
    out = np.asarray(pil.transform((size, size), Image.AFFINE, tuple(inverse.ravel()), Image.BILINEAR))
    return out[..., None] if squeeze else out
