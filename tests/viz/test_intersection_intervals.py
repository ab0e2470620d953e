"""The --joint heatmaps write each audited share with its interval, and a ratio whose
interval (one that holds for all intersections together) spans 1 is left white: a corrected
share of 0 whose interval reaches 0.4 was drawn as a dark-blue "-inf", a certainty the audit
did not have."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.transforms import Bbox

from latentplay.viz.distribution import intersection_heatmaps


def test_an_undetermined_ratio_is_white_and_says_its_interval() -> None:
    training = np.array([[0.4, 0.1], [0.3, 0.2]])
    generated = np.array([[0.6, 0.0], [0.1, 0.3]])
    ci = np.array([[[0.5, 0.7], [0.0, 0.4]], [[0.05, 0.15], [0.1, 0.5]]])
    fig = intersection_heatmaps(["a", "b"], ["x", "y"], training, generated, generated_ci=ci,
                                ratio_ci=ci / training[..., None])
    ratio_panel = fig.axes[2]
    shown = ratio_panel.images[0].get_array()
    assert shown[0, 1] == 0 and shown[1, 1] == 0          # spans the data's share: white
    assert shown[0, 0] > 0 and shown[1, 0] < 0           # clearly above / below
    texts = [t.get_text() for t in ratio_panel.texts]
    assert "-∞\n[-∞, +2.0]" in texts and "+0.6\n[+0.3, +0.8]" in texts
    shares = [t.get_text() for t in fig.axes[1].texts]
    assert "0.000\n[0.00, 0.40]" in shares
    assert "white: its interval spans 0\n(95 % for all 4 together)" in ratio_panel.get_title()
    plt.close(fig)
    plain = intersection_heatmaps(["a", "b"], ["x", "y"], training, generated)
    assert plain.axes[2].images[0].get_array()[0, 1] == -3   # without intervals: the estimate
    plt.close(plain)


def test_shares_on_one_scale_and_an_intersection_the_data_lacks_hatched() -> None:
    """Both share panels on one grey scale up to the highest share of either; the ratio panel
    writes log2(generated / training) in each cell (twice the data's share: +1.0) and hatches
    the intersection the data lacks instead of a ratio."""
    training = np.array([[0.4, 0.0], [0.3, 0.3]])
    generated = np.array([[0.2, 0.1], [0.6, 0.1]])
    fig = intersection_heatmaps(["a", "b"], ["x", "y"], training, generated)
    assert [ax.images[0].get_clim() for ax in fig.axes[:2]] == [(0.0, 0.6), (0.0, 0.6)]
    ratio_panel = fig.axes[2]
    texts = sorted(t.get_text() for t in ratio_panel.texts)
    assert texts == ["+1.0", "-1.0", "-1.6"]     # log2 of 2, 1/2 and 1/3, by hand
    (hatched,) = [p for p in ratio_panel.patches if p.get_hatch()]
    assert hatched.get_xy() == (0.5, -0.5)        # column y, row a: no data to compare with
    plt.close(fig)


def test_every_cell_s_number_has_the_contrast_text_needs() -> None:
    """A ratio of log2 -1.82 (just past 0.6 of the scale's end) was written white on a mid
    blue, 3.5:1: each number now takes black or white, whichever stands out more on its
    cell's colour, 4.5:1 or more (WCAG's ratio of relative luminances)."""
    from tests.viz.colour_vision import contrast

    ratios = np.array([[-1.82, -1.5, -2.5, 1.82, 2.5, 0.0]])
    training = np.full((1, 6), 0.1)
    fig = intersection_heatmaps(["a"], list("uvwxyz"), training, training * 2.0 ** ratios)
    for ax in fig.axes[:3]:
        image = ax.images[0]
        for text in ax.texts:
            j, i = (round(v) for v in text.get_position())
            cell = image.cmap(image.norm(image.get_array()[i, j]))
            assert contrast(cell, text.get_color()) >= 4.5, text.get_text()
    plt.close(fig)


@pytest.mark.parametrize("columns", [2, 3, 5, 9])
def test_a_joint_audit_s_heatmaps_are_readable_on_a_page(columns: int) -> None:
    """Ten skin tones by two to nine classes, with intervals: the 9-inch figure wrote its
    numbers at 5 points, 3.8 once printed a page wide, and three panels side by side printed
    them at 5.2 points of three classes, 2.0 of nine. Every text now prints at 6 points or
    more a page wide: of two classes side by side, of more one panel above the other, apart.
    Each number stays within its cell and the title within the figure, above the panels."""
    from latentplay.viz.style import PAGE_WIDTH, SMALLEST_TEXT, printed_size

    shares = np.full((10, columns), 1 / (10 * columns))
    ci = np.stack([shares * 0.5, shares * 1.5], axis=-1)
    fig = intersection_heatmaps([f"monk_{k}" for k in range(1, 11)], [f"class_{k}" for k in range(columns)],
                                shares, shares * 1.1, generated_label="generated, corrected",
                                reference_label="faces", generated_ci=ci, ratio_ci=ci / shares[..., None],
                                title="skin_tone x gender: corrected TV 0.123 (a faithful generator "
                                      "0.045), chi-square p 0.0012 over 200 persons")
    assert printed_size(fig, PAGE_WIDTH) >= SMALLEST_TEXT - 1e-9
    fig.canvas.draw()
    boxes = [ax.get_window_extent() for ax in fig.axes]          # heatmaps and colour scales
    for ax in fig.axes[:3]:                                      # and the heatmaps' words
        boxes += [ax.title.get_window_extent()] + [t.get_window_extent() for t in ax.get_xticklabels()]
    for first, box in enumerate(boxes):
        for other in boxes[first + 1:]:
            common = Bbox.intersection(box, other)
            assert common is None or min(common.width, common.height) < 1e-6
    heatmaps = [ax.get_position() for ax in fig.axes[:3]]
    if columns == 2:                                             # side by side, as it fits
        assert heatmaps[0].x1 < heatmaps[1].x0 and heatmaps[1].x1 < heatmaps[2].x0
    else:                                                        # one above the other
        assert heatmaps[0].y0 > heatmaps[1].y1 and heatmaps[1].y0 > heatmaps[2].y1
    for ax in fig.axes[:3]:
        for text in ax.texts:
            box, (j, i) = text.get_window_extent(), text.get_position()
            (left, top), (right, bottom) = ax.transData.transform([(j - 0.5, i - 0.5), (j + 0.5, i + 0.5)])
            assert left <= box.x0 and box.x1 <= right, text.get_text()
            assert bottom <= box.y0 and box.y1 <= top, text.get_text()
    title = fig._suptitle.get_window_extent()
    assert 0 <= title.x0 and title.x1 <= fig.bbox.width
    assert all(title.y0 - box.y1 >= 3 * fig.dpi / 72 for box in boxes)     # 3 points apart or more
    plt.close(fig)
