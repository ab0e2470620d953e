"""Image-quality covariates: brightness, contrast and sharpness.

All three are read from the CIELAB lightness ``L*`` (0 black to 100 white) of the whole image:
``brightness`` its mean, ``contrast`` its standard deviation (RMS contrast), ``sharpness`` the
base-10 log of the variance of its Laplacian after resizing the image, both axes alike, to
:data:`SHARPNESS_SIDE` pixels on its shorter side, so that photos of that size or larger, of
any shape, compare (a smaller photo, enlarged, reads blurrier; blur lowers it; noise raises it
too). The resizing filter is Lanczos's, close to an ideal low-pass: a softer one (bilinear)
blurs every resized photo by itself, and a photo already of that size, left as it is, would
read sharper than the same photo at any other size.
"""

from __future__ import annotations

import numpy as np
from PIL import Image
from scipy.ndimage import laplace
from skimage.color import rgb2lab

QUALITY_NAMES = ("brightness", "contrast", "sharpness")
SHARPNESS_SIDE = 128


def lightness(image: np.ndarray) -> np.ndarray:
    """``L*`` of ``image`` ``(H, W, 3)`` or ``(H, W[, 1])`` uint8: ``(H, W)`` float in [0, 100]."""
    if image.ndim == 3 and image.shape[-1] == 3:
        return rgb2lab(image)[..., 0]
    gray = image.reshape(image.shape[:2])
    return rgb2lab(np.repeat(gray[..., None], 3, axis=-1))[..., 0]


def image_quality(image: np.ndarray) -> np.ndarray:
    """``(3,)`` brightness, contrast and sharpness (see the module) of one uint8 image."""
    light = lightness(image)
    scale = SHARPNESS_SIDE / min(light.shape)  # both axes alike: a wider photo is not squeezed
    side = (max(round(light.shape[1] * scale), 1), max(round(light.shape[0] * scale), 1))
    small = np.asarray(Image.fromarray(light.astype(np.float32)).resize(  # mode F: 32-bit floats
        side, Image.Resampling.LANCZOS), dtype=np.float64)
    spread = float(np.var(laplace(small)))
    return np.array([light.mean(), light.std(), np.log10(spread + 1e-6)])
