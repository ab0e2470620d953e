"""Skin tone (ITA): the formula on known colours, the groups, the cheeks, and drawn skin tones."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import spearmanr
from skimage.color import lab2rgb, rgb2lab

from latentplay import store as st
from latentplay.measure.skin import ITA_GROUPS, cheek_mask, ita, ita_group
from latentplay.sources import synthfaces
from latentplay.sources.synthfaces import _SKIN_RGB, SynthfacesConfig


def _patch(lightness: float, a: float, b: float) -> np.ndarray:
    rgb = lab2rgb(np.array([[[lightness, a, b]]], dtype=np.float64))
    return np.repeat(np.repeat((rgb * 255).round().astype(np.uint8), 8, 0), 8, 1)


@pytest.mark.parametrize(("lab", "expected"), [((70, 10, 20), 45.0), ((50, 12, 18), 0.0),
                                               ((30, 15, 20), -45.0), ((80, 5, 10), 71.57)])
def test_ita_of_uniform_colours(lab: tuple[float, float, float], expected: float) -> None:
    image = _patch(*lab)
    assert ita(image, np.ones(image.shape[:2], bool)) == pytest.approx(expected, abs=1.0)


def test_no_skin_colour_or_no_pixels_gives_nan() -> None:
    for lab in ((60, 0, -20), (80, 0, 0), (70, 2, 0.5)):  # bluish, grey, nearly grey
        patch = _patch(*lab)
        assert np.isnan(ita(patch, np.ones(patch.shape[:2], bool)))
    assert np.isnan(ita(_patch(60, 10, 20), np.zeros((8, 8), bool)))
    assert np.isnan(ita(np.zeros((8, 8, 1), np.uint8), np.ones((8, 8), bool)))


def test_groups_follow_the_published_edges() -> None:
    values = np.array([60, 55, 50, 41, 30, 28, 20, 10, 0, -30, -40, np.nan])
    expected = [0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, len(ITA_GROUPS)]
    np.testing.assert_array_equal(ita_group(values), expected)
    above = np.array([55.5, 41.5, 28.5, 10.5, -29.5])  # just above each edge: the lighter group
    np.testing.assert_array_equal(ita_group(above), [0, 1, 2, 3, 4])


def test_a_highlight_moves_the_median_colour_little() -> None:
    """Ten white pixels of 64 (a highlight): the median L* and b* stay the skin's, ITA 45
    degrees (their means, L* 74.7 and b* 16.9, would read 55.6)."""
    image = _patch(70, 10, 20)
    image[:2, :5] = 255
    assert ita(image, np.ones(image.shape[:2], bool)) == pytest.approx(45.0, abs=1.0)


def test_cheeks_lie_in_the_face_on_both_sides_of_the_nose(models, astronaut) -> None:
    box = models.detect(astronaut)
    points = models.landmarks68(astronaut, box)
    mask = cheek_mask(points, astronaut.shape[:2])
    rows, cols = np.nonzero(mask)
    lo, hi = points.min(axis=0), points.max(axis=0)  # the face's landmarks span
    assert lo[0] <= cols.min() and cols.max() <= hi[0] + 1
    assert points[36:48, 1].min() <= rows.min() and rows.max() <= hi[1] + 1  # below the eyes' top
    nose_x = points[30, 0]
    assert (cols < nose_x - 5).sum() > 100 and (cols > nose_x + 5).sum() > 100
    assert 45 < ita(astronaut, mask) < 75  # light skin


def test_ita_orders_the_drawn_skin_tones(detected, turned_faces) -> None:
    rows, images, points = detected
    tone = st.load(turned_faces).labels("skin_tone")[rows]
    measured = [ita(image, cheek_mask(p, image.shape[:2])) for image, p in zip(images, points,
                                                                                strict=True)]
    measured = np.array(measured)
    assert spearmanr(tone, measured)[0] < -0.9
    drawn = rgb2lab(_SKIN_RGB[None] / 255.0)[0]
    truth = np.degrees(np.arctan((drawn[:, 0] - 50) / drawn[:, 2]))
    # tones of 5 faces or more: lighting and noise move a face's colour, not the median far.
    # HOG finds few faces darker than monk_5 (below: every tone on the same faces).
    tones = [k for k in np.unique(tone) if (tone == k).sum() >= 5]
    assert len(tones) >= 3
    for k in tones:
        assert np.median(measured[tone == k]) == pytest.approx(truth[k], abs=12)


def test_ita_reads_every_drawn_tone(models) -> None:
    """The same 40 faces (geometry, lighting, noise) drawn in each of the 10 tones, read with
    the landmarks found on their lightest copies: the median ITA is each tone's drawn ITA."""
    n = 40
    labels = synthfaces.sample_labels(SynthfacesConfig(n=n), np.random.default_rng(0), n)

    def drawn_in(tone: int) -> np.ndarray:
        """``(n, 64, 64, 3)`` the faces in skin tone ``tone``."""
        return synthfaces.render({**labels, "skin_tone": np.full(n, tone)}, np.random.default_rng(1))

    found = []
    for row, image in enumerate(drawn_in(0)):
        box = models.detect(image)
        if box is not None:
            found.append((row, models.landmarks68(image, box)))
    assert len(found) >= 10
    lab = rgb2lab(_SKIN_RGB[None] / 255.0)[0]
    truth = np.degrees(np.arctan((lab[:, 0] - 50) / lab[:, 2]))
    for tone in range(len(_SKIN_RGB)):
        images = drawn_in(tone)
        read = [ita(images[row], cheek_mask(points, images.shape[1:3])) for row, points in found]
        assert np.median(read) == pytest.approx(truth[tone], abs=12), tone
