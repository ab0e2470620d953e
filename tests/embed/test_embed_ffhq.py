"""FFHQ's alignment: the frame by hand, the warp by planted points, padding, and real faces."""

from __future__ import annotations

import numpy as np
import pytest
from skimage import data

from latentplay import store as st
from latentplay.embed.align import align_faces
from latentplay.embed.faces import FaceModels
from latentplay.embed.ffhq import ffhq_chip, ffhq_frame


def _landmarks(eyes: tuple, mouth: tuple) -> np.ndarray:
    """68 landmarks whose eye contours average to ``eyes`` ((x, y), (x, y)) and whose mouth
    corners (48, 54) are ``mouth``; the rest at the origin (unused by the frame)."""
    pts = np.zeros((68, 2))
    pts[36:42], pts[42:48] = eyes[0], eyes[1]
    pts[48], pts[54] = mouth
    return pts


def test_the_frame_by_hand() -> None:
    # eyes 60 px apart, mouth 70 px below them: x = (60, 0) - (-70, 0) -> along +x, of
    # length max(2 * 60, 1.8 * 70) = 126; centre 0.1 of the way to the mouth
    centre, x, y = ffhq_frame(_landmarks(((100, 100), (160, 100)), ((110, 170), (150, 170))))
    np.testing.assert_allclose(centre, [130, 107])
    np.testing.assert_allclose(x, [126, 0])
    np.testing.assert_allclose(y, [0, 126])
    # eyes 100 px apart and close to the mouth: the eyes set the size; a tilted face tilts it
    angle = np.deg2rad(30)
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    eyes = [rot @ p for p in ([-50, 0], [50, 0])]
    mouth = [rot @ p for p in ([-20, 40], [20, 40])]
    centre, x, y = ffhq_frame(_landmarks((eyes[0], eyes[1]), (mouth[0], mouth[1])))
    np.testing.assert_allclose(np.hypot(*x), 200)
    np.testing.assert_allclose(x / 200, rot @ [1, 0], atol=1e-12)
    np.testing.assert_allclose(centre, rot @ [0, 4], atol=1e-12)
    assert abs(x @ y) < 1e-9 and np.isclose(np.hypot(*y), 200)


def _dots(shape: tuple[int, int], points: np.ndarray) -> np.ndarray:
    """A mid-grey RGB image with a white 5x5 dot centred on each (x, y) point."""
    image = np.full((*shape, 3), 100, dtype=np.uint8)
    for x, y in np.rint(points).astype(int):
        image[y - 2:y + 3, x - 2:x + 3] = 255
    return image


def _found(chip: np.ndarray, near: np.ndarray, radius: int = 8) -> np.ndarray:
    """The brightness-weighted centre (x, y) of the bright pixels within ``radius`` of ``near``."""
    gray = chip.astype(float).mean(-1) - 100
    yy, xx = np.mgrid[:chip.shape[0], :chip.shape[1]]
    window = (np.hypot(xx - near[0], yy - near[1]) <= radius) & (gray > 20)
    weights = gray * window
    return np.array([(weights * xx).sum(), (weights * yy).sum()]) / weights.sum()


@pytest.mark.parametrize("offset", [(0, 0), (-95, -60)])  # in the photo; near its corner
def test_points_land_where_the_frame_puts_them(offset: tuple[int, int]) -> None:
    eyes, mouth = ((140, 130), (200, 130)), ((150, 200), (190, 200))
    shift = np.array(offset, dtype=float)
    lm = _landmarks(tuple(np.add(e, shift) for e in eyes), tuple(np.add(m, shift) for m in mouth))
    centre, x, y = ffhq_frame(lm)
    planted = np.array([lm[36], lm[42], lm[48], lm[54]])
    chip = ffhq_chip(_dots((300, 360), planted), lm, size=128)
    assert chip.shape == (128, 128, 3) and chip.dtype == np.uint8
    # a point c + s x + t y sits at pixel ((s + 1) / 2 * 128 - 0.5, (t + 1) / 2 * 128 - 0.5)
    for p in planted:
        s, t = np.linalg.solve(np.column_stack([x, y]), p - centre)
        want = (np.array([s, t]) + 1) / 2 * 128 - 0.5
        np.testing.assert_allclose(_found(chip, want), want, atol=0.5)
    if offset != (0, 0):  # the crop leaves the photo: filled from it, not black
        assert chip[:10, :10].min() > 60


@pytest.mark.parametrize("size", [64, 32])  # the crop is 180 px: shrunk first for 32
def test_every_pixel_samples_the_photo_where_the_frame_says(size: int) -> None:
    """On a photo whose red value is its pixels' coordinate along one axis and green the
    mirrored coordinate, the chip's values say where each chip pixel was sampled: the frame's
    ``c + s x + t y`` for its centre's ``s, t``. (PIL truncates resampled values, which lowers
    both channels alike; half their difference is free of that.)"""
    yy, xx = np.mgrid[:250, :250]
    lm = _landmarks(((100, 100), (140, 100)), ((110, 150), (130, 150)))  # crop side 180
    centre, x, y = ffhq_frame(lm)
    grid = (np.arange(size) + 0.5) / size * 2 - 1
    t, s = np.meshgrid(grid, grid, indexing="ij")
    want = centre + s[..., None] * x + t[..., None] * y  # (size, size, 2)
    inner = slice(2, -2)  # Lanczos reads past the crop's edge: the photo goes on there
    for axis, coordinate in enumerate((xx, yy)):
        photo = np.stack([coordinate, 249 - coordinate, np.zeros_like(xx)], -1).astype(np.uint8)
        chip = ffhq_chip(photo, lm, size=size).astype(float)[inner, inner]
        sampled = (chip[..., 0] - chip[..., 1] + 249) / 2
        error = sampled - want[inner, inner, axis]
        assert abs(error.mean()) < 0.05  # no shift
        assert np.abs(error).max() < 1.2  # whole values


def test_a_large_photo_is_shrunk_first_to_the_same_crop() -> None:
    eyes, mouth = ((140, 130), (200, 130)), ((150, 200), (190, 200))
    lm = _landmarks(eyes, mouth)
    image = _dots((300, 360), np.array([lm[36], lm[42], lm[48], lm[54]]))
    big = np.repeat(np.repeat(image, 4, 0), 4, 1)  # pixel (i, j) -> block at (4i + 1.5, 4j + 1.5)
    chip = ffhq_chip(image, lm, size=64)
    from_big = ffhq_chip(big, lm * 4 + 1.5, size=64)  # shrunk by 3 before the warp
    assert np.abs(chip.astype(int) - from_big).mean() < 3


def test_real_faces_come_out_upright_and_centred() -> None:
    models = FaceModels.load()
    astronaut = data.astronaut()
    chips, found = align_faces([astronaut, np.zeros((80, 80, 3), np.uint8)], size=128, template="ffhq")
    assert found.tolist() == [True, False] and chips.shape == (1, 128, 128, 3)
    lm = models.landmarks68(chips[0], models.detect(chips[0]) or models.whole_image_box(chips[0]))
    eyes = np.stack([lm[36:42].mean(0), lm[42:48].mean(0)])
    assert abs(eyes[0, 1] - eyes[1, 1]) < 3  # level
    # FFHQ's frame of the aligned face is the whole chip, centred
    centre, x, _ = ffhq_frame(lm)
    np.testing.assert_allclose(centre, [63.5, 63.5], atol=4)
    assert abs(np.hypot(*x) - 64) < 6


def test_the_cli_writes_ffhq_crops(blob_store, tmp_path, cli) -> None:
    photos = blob_store(images=[data.astronaut()[:256, 100:356]], name="photos")
    r = cli("data", "align", photos.path, "--out", tmp_path / "ffhq", "--template", "ffhq",
            "--size", "256")
    assert r.code == 0, r.err
    out = st.load(tmp_path / "ffhq")
    assert out.schema.provenance.arguments["template"] == "ffhq"
    assert st.load_images(out).shape == (1, 256, 256, 3)
