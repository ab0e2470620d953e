"""Brightness, contrast and sharpness on images whose answer is known."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageFilter
from skimage.color import rgb2lab

from latentplay.measure.quality import image_quality


def test_flat_grey_image() -> None:
    image = np.full((40, 60, 3), 128, np.uint8)
    brightness, contrast, sharpness = image_quality(image)
    assert brightness == pytest.approx(rgb2lab(image[:1, :1])[0, 0, 0], abs=1e-6)
    assert contrast == pytest.approx(0, abs=1e-6)
    assert sharpness == pytest.approx(-6, abs=1e-3)  # log10 of the 1e-6 floor


def test_black_and_white_halves() -> None:
    image = np.zeros((50, 50), np.uint8)
    image[:, 25:] = 255
    brightness, contrast, _ = image_quality(image[..., None])
    assert brightness == pytest.approx(50, abs=0.01)
    assert contrast == pytest.approx(50, abs=0.01)


def test_blur_lowers_sharpness_and_light_raises_brightness(astronaut) -> None:
    base = image_quality(astronaut)
    blurred = [image_quality(np.asarray(Image.fromarray(astronaut).filter(
        ImageFilter.GaussianBlur(r)))) for r in (1, 2, 4)]
    assert base[2] > blurred[0][2] > blurred[1][2] > blurred[2][2]
    lighter = image_quality(np.clip(astronaut.astype(int) + 40, 0, 255).astype(np.uint8))
    assert lighter[0] > base[0] + 5


@pytest.mark.parametrize("side", [256, 160, 128])  # 128: the measuring size, left as it is
def test_sharpness_does_not_depend_on_the_photo_size(astronaut, side: int) -> None:
    smaller = np.asarray(Image.fromarray(astronaut).resize((side, side), Image.Resampling.LANCZOS))
    assert image_quality(smaller)[2] == pytest.approx(image_quality(astronaut)[2], abs=0.1)


def test_sharpness_does_not_depend_on_the_photo_shape(astronaut) -> None:
    """The photo beside or above its mirror image (2:1 and 1:2) and three photos in a row (3:1)
    are as sharp as the photo: every part of them is."""
    wide = np.concatenate([astronaut, astronaut[:, ::-1]], axis=1)
    tall = np.concatenate([astronaut, astronaut[::-1]], axis=0)
    row = np.concatenate([astronaut, astronaut[:, ::-1], astronaut], axis=1)
    base = image_quality(astronaut)[2]
    for image in (wide, tall, row):
        assert image_quality(image)[2] == pytest.approx(base, abs=0.05)


def test_sharpness_of_one_pixel_stripes_by_hand() -> None:
    """Rows alternately black (``L*`` 0) and white (100), 128 rows (the measuring size, left as it
    is) by 128 or 256 columns. The Laplacian ``[1, -2, 1]`` down the columns (flat along the rows) is
    +200 on the 63 inner black rows and -200 on the 63 inner white ones; the first row (black,
    its mirrored neighbour itself) reads +100 and the last (white) -100. Its mean is 0, so its
    variance is ``(126 * 200**2 + 2 * 100**2) / 128``."""
    want = np.log10((126 * 200.0**2 + 2 * 100.0**2) / 128)
    for width in (128, 256):
        image = np.zeros((128, width, 1), np.uint8)
        image[1::2] = 255
        assert image_quality(image)[2] == pytest.approx(want, abs=1e-4), width
