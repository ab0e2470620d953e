"""``comparison.png`` of ``audit verify`` with several columns: accuracies that differ by
hundredths are marked by dots on a zoomed axis that says where it starts, not by bars."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest

from latentplay.viz.verification import column_bars, det_curves, score_histograms


def test_accuracy_panel_draws_dots_on_an_axis_that_says_its_start() -> None:
    accuracy = np.array([[0.985, 0.975, 1.0, np.nan], [0.99, 0.965, 0.995, np.nan]])
    sd = np.array([[0.01, 0.012, 0.0, np.nan], [0.008, 0.02, 0.005, np.nan]])
    fmr = np.array([[0.01, 0.02, 0.005, np.nan], [0.012, 0.008, 0.01, np.nan]])
    fig = column_bars(["a", "b", "c", "tiny"], ["x", "y"], accuracy, sd, fmr, fmr * 5, 0.01, 10)
    acc_ax, fmr_ax, _ = fig.axes[:3]
    assert not acc_ax.patches  # no bars whose length would start at the zoomed axis' edge
    start, end = acc_ax.get_xlim()
    assert 0 < start < 0.945 and end > 1  # every interval shown; a dot at 1 clears the frame
    assert f"axis starts at {start:.3g}" in acc_ax.get_title()
    assert fmr_ax.get_xlim()[0] == 0 and len(fmr_ax.patches) == 8  # rates: bars from 0
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["x", "y"]
    plt.close(fig)


def test_rate_panels_start_at_0_and_mark_groups_without_pairs() -> None:
    """Rates that are all 0 get an axis from 0 (no negative ticks); a group without impostor
    pairs gets no FMR bar (one of 0 would read as a true zero) but a note, and still its row;
    the accuracy title names the fold count."""
    accuracy = np.array([[0.985, 0.975, np.nan], [0.99, 0.965, np.nan]])
    sd = np.array([[0.01, 0.012, np.nan], [0.008, 0.02, np.nan]])
    fmr = np.array([[0.0, 0.0, np.nan], [0.0, 0.0, np.nan]])
    fig = column_bars(["a", "b", "lone"], ["x", "y"], accuracy, sd, fmr, np.zeros((2, 3)), None, 5)
    acc_ax, fmr_ax, fnmr_ax = fig.axes[:3]
    assert acc_ax.get_title().startswith("5-fold accuracy")
    fig.canvas.draw()
    for ax in (fmr_ax, fnmr_ax):
        low, high = ax.get_xlim()
        assert low == 0 < high and min(ax.get_xticks()) >= 0
    assert sorted(t.get_text() for t in fmr_ax.texts) == [" 0"] * 4 + ["no impostor pairs"]
    # FNMR 0 with genuine pairs is a measured zero: no bar to see, so each says 0, no note
    assert [t.get_text() for t in fnmr_ax.texts] == [" 0"] * 6
    assert all(np.isnan(b.get_width()) for b in fmr_ax.patches if b.get_y() > 1.5)
    assert acc_ax.get_ylim() == (2.5, -0.5)  # the group without bars keeps its row
    plt.close(fig)


def test_det_operating_points_on_the_edges_are_drawn_whole() -> None:
    """A group that misses every genuine pair sits at FNMR 1, the top of the axes; one with no
    error sits on the floor: neither marker may be cut in half by the axes' edge, and the
    axis still ends at 1."""
    same = np.r_[np.ones(10, bool), np.zeros(100, bool)]
    d = np.r_[np.full(10, 2.0), np.linspace(0.5, 1.5, 100)]
    fig = det_curves([("missed", d, same), ("perfect", np.where(same, 0.0, 3.0), same)], 1.0)
    ax = fig.axes[0]
    points = [line for line in ax.lines if line.get_marker() == "o" and len(line.get_ydata())]
    assert [float(p.get_ydata()[0]) for p in points] == [1.0, 0.5 / 10]  # half a genuine pair
    assert float(points[1].get_xdata()[0]) == 0.5 / 100  # FMR 0: half an impostor pair
    assert not any(p.get_clip_on() for p in points)
    assert ax.get_ylim()[1] == 1
    # the perfect group's zero rates sit at half a pair, drawn hollow (they read as a small
    # rate, filled like the others), and the legend says what hollow means
    from matplotlib.colors import same_color

    assert same_color(points[0].get_markerfacecolor(), points[0].get_color())
    assert same_color(points[1].get_markerfacecolor(), "white")
    assert "hollow: a rate of 0 there,\ndrawn at half a pair" in [
        t.get_text() for t in ax.get_legend().get_texts()]
    plt.close(fig)
    fig = det_curves([("missed", d, same)], 1.0)  # no zero rate: no hollow entry
    assert not any("hollow" in t.get_text() for t in fig.axes[0].get_legend().get_texts())
    plt.close(fig)


def test_det_floors_each_rate_at_half_a_pair_of_its_own_pairs() -> None:
    """A group with 4 impostor and 40 genuine pairs: its FNMR of 1/40 is drawn there, filled
    (the impostors' floor, 0.5/4, used to lift it to 0.125), and an FNMR of 0 at 0.5/40,
    hollow; its curve reaches down to 0.5/40."""
    same = np.r_[np.ones(40, bool), np.zeros(4, bool)]
    d = np.r_[np.linspace(0.0, 0.9, 39), 2.0, np.full(4, 0.5)]  # one genuine pair missed at 1
    for dist, fnmr, hollow in ((d, 1 / 40, False), (np.where(same, 0.1, d), 0.5 / 40, True)):
        fig = det_curves([("few impostors", dist, same)], 1.0)
        ax = fig.axes[0]
        point = next(line for line in ax.lines if line.get_marker() == "o" and len(line.get_xdata()))
        assert float(point.get_xdata()[0]) == 1.0 and float(point.get_ydata()[0]) == fnmr
        from matplotlib.colors import same_color

        assert same_color(point.get_markerfacecolor(), "white") == hollow
        curve = next(line for line in ax.lines if line.get_label() == "few impostors")
        assert min(curve.get_ydata()) == 0.5 / 40 and min(curve.get_xdata()) == 0.5 / 4
        assert ax.get_ylim()[0] <= 0.5 / 40
        plt.close(fig)


def test_rates_keep_the_row_of_a_last_group_without_rates() -> None:
    """rates.png: a last group without rates (NaN bars) used to fall off the bottom of the
    axis that invert_yaxis left ending at its label; it keeps its row and says why it has no
    bar."""
    from latentplay.viz.verification import rate_bars

    rows = [{"group": g, **{f"{k}{s}": v for k in ("fmr", "fnmr")
                            for s, v in (("", rate), ("_low", rate and rate / 2),
                                         ("_high", rate and rate * 2))}}
            for g, rate in (("a", 0.01), ("b", 0.02), ("lone", None))]
    fig = rate_bars(rows, 0.5)
    fig.canvas.draw()
    for ax, kind in zip(fig.axes[:2], ("impostor", "genuine"), strict=True):
        assert ax.get_ylim() == (2.5, -0.5)
        assert [t.get_text() for t in ax.texts] == [f"no {kind} pairs"]
    plt.close(fig)


def test_hardest_pairs_keep_every_label_on_the_figure() -> None:
    """With two groups the last row's distances used to fall below the figure's bottom (a
    fixed 2 % margin); names, headings, the note and every distance stay inside it, for few
    rows and many, and long names."""
    from latentplay.viz.verification import hardest_pairs

    face = np.zeros((8, 8, 3), np.uint8)
    for names, note in ((["female", "male"], None),
                        ([f"monk_{i} / female / 60-69" for i in range(12)],
                         "12 of 20 groups shown, the 12 groups with the highest errors; left "
                         "out: " + ", ".join(f"monk_{i} / male / 60-69" for i in range(8)))):
        pairs = [(face, face, 0.123 * i) for i in range(3)]
        fig = hardest_pairs([(name, pairs, pairs) for name in names], 0.2, note=note)
        fig.canvas.draw()
        box = fig.bbox
        texts = [*fig.texts, *(t for ax in fig.axes for t in ax.texts)]
        assert sum(t.get_text().startswith("d = ") for t in texts) == 6 * len(names)
        for t in texts:
            extent = t.get_window_extent()
            assert (extent.x0 >= box.x0 and extent.y0 >= box.y0 and extent.x1 <= box.x1
                    and extent.y1 <= box.y1), t.get_text()
        if note:
            assert any("left out: monk_0 / male" in t.get_text() for t in fig.texts)
        plt.close(fig)


@pytest.mark.parametrize("name", ["male", "monk_10 / female / 60-69"])
def test_hardest_pairs_are_readable_on_a_page_and_their_headings_apart(name: str) -> None:
    """Six pairs a row made a 15-inch figure whose 7 pt distances printed at 3 pt on a page:
    scaled to a page every text is 6 points or more, however long the group names, and the
    two headings neither touch each other nor the note above them."""
    from latentplay.viz.style import PAGE_WIDTH, SMALLEST_TEXT, printed_size
    from latentplay.viz.verification import hardest_pairs

    face = np.zeros((64, 64, 3), np.uint8)
    pairs = [(face, face, 0.123 * i) for i in range(3)]
    fig = hardest_pairs([(name, pairs, pairs)] * 2, 0.2, note="left out: " + ", ".join([name] * 6))
    assert printed_size(fig, PAGE_WIDTH) >= SMALLEST_TEXT - 1e-9
    fig.canvas.draw()
    boxes = [t.get_window_extent() for t in fig.texts]
    assert len(boxes) == 3
    assert not any(a.overlaps(b) for k, a in enumerate(boxes) for b in boxes[k + 1:])
    plt.close(fig)


def test_rates_and_det_curves_of_ten_groups_are_readable_on_a_page() -> None:
    """rates.png (9 inches) and a DET figure with its legend beside it (8.6 inches) printed
    their 7 pt text at 5.4-5.6 pt on a page; scaled to a page it is 6 points or more."""
    from latentplay.viz.style import PAGE_WIDTH, SMALLEST_TEXT, printed_size
    from latentplay.viz.verification import det_curves, rate_bars

    rows = [{"group": f"monk_{g}", **{f"{k}{s}": v for k in ("fmr", "fnmr")
                                      for s, v in (("", 0.0), ("_low", 0.0), ("_high", 0.05))}}
            for g in range(10)]
    same = np.r_[np.ones(20, bool), np.zeros(20, bool)]
    d = np.r_[np.linspace(0, 1, 20), np.linspace(0.5, 1.5, 20)]
    for fig in (rate_bars(rows, 0.5, "95 % interval over 30 persons"),
                det_curves([(f"monk_{g}", d, same) for g in range(10)], 0.7)):
        assert printed_size(fig, PAGE_WIDTH) >= SMALLEST_TEXT
        plt.close(fig)


def test_det_curves_and_histograms_carry_the_note_of_groups_left_out() -> None:
    same = np.r_[np.ones(20, bool), np.zeros(20, bool)]
    d = np.r_[np.linspace(0, 1, 20), np.linspace(0.5, 1.5, 20)]
    note = "not drawn, without both genuine and impostor pairs: b"
    for fig in (det_curves([("a", d, same)], 0.7, note), score_histograms([("a", d, same)], 0.7, "d", note)):
        assert [t.get_text() for t in fig.texts] == [note]
        fig.canvas.draw()
        text_top = fig.texts[0].get_window_extent().y1
        label_bottom = min(ax.xaxis.label.get_window_extent().y0 for ax in fig.axes if ax.get_xlabel())
        assert text_top < label_bottom  # under the axes' label, not over it
        plt.close(fig)
    bare = det_curves([("a", d, same)], 0.7)
    assert not bare.texts
    plt.close(bare)


def test_comparison_of_columns_is_readable_on_a_page_and_its_titles_and_ticks_apart() -> None:
    """comparison.png was 13 inches wide: its 7 pt text printed at 3.7 pt on a page. Scaled to
    a page every text is 6 points or more, the panels' titles (wrapped) stay on the figure
    without touching, and the rate axis' five-digit ticks do not run into each other."""
    from latentplay.viz.style import PAGE_WIDTH, SMALLEST_TEXT, printed_size

    rng = np.random.default_rng(0)
    accuracy, fmr = rng.uniform(0.4, 0.99, (2, 10)), rng.uniform(0, 0.0081, (2, 10))
    fig = column_bars([f"monk_{g}" for g in range(10)], ["arcface", "facenet"], accuracy,
                      np.full((2, 10), 0.03), fmr, rng.uniform(0, 1, (2, 10)), 0.001, 10)
    assert printed_size(fig, PAGE_WIDTH) >= SMALLEST_TEXT
    fig.canvas.draw()
    titles = [ax.title.get_window_extent() for ax in fig.axes[:3]]
    assert all(0 <= t.x0 and t.x1 <= fig.bbox.width and t.y1 <= fig.bbox.height for t in titles)
    assert not any(a.overlaps(b) for k, a in enumerate(titles) for b in titles[k + 1:])
    for ax in fig.axes[:3]:
        ticks = [t.get_window_extent() for t in ax.get_xticklabels() if t.get_text()]
        assert all(a.x1 < b.x0 for a, b in zip(ticks, ticks[1:], strict=False)), ax.get_title()
    plt.close(fig)


def test_each_groups_rates_stand_beside_its_own_name() -> None:
    """The FMR bar (the impostors' vermilion) and the FNMR bar (the genuine pairs' blue)
    beside a group's name are that group's rates."""
    from matplotlib.colors import to_rgb

    from latentplay.viz.verification import GENUINE, IMPOSTOR, rate_bars

    rows = [{"group": g, "fmr": f, "fmr_low": f / 2, "fmr_high": 2 * f, "fnmr": n,
             "fnmr_low": n / 2, "fnmr_high": 2 * n}
            for g, f, n in (("female", 0.01, 0.2), ("male", 0.03, 0.1), ("other", 0.02, 0.3))]
    fig = rate_bars(rows, 0.5)
    names = {round(t.get_position()[1]): t.get_text() for t in fig.axes[0].get_yticklabels()}
    for ax, key, colour in ((fig.axes[0], "fmr", IMPOSTOR), (fig.axes[1], "fnmr", GENUINE)):
        drawn = {names[round(p.get_y() + p.get_height() / 2)]: p.get_width() for p in ax.patches}
        assert drawn == pytest.approx({r["group"]: r[key] for r in rows})
        assert all(np.allclose(p.get_facecolor()[:3], to_rgb(colour)) for p in ax.patches)


def test_det_point_and_curve_are_the_groups_rates_at_the_threshold() -> None:
    """Impostors at 0.1, 0.5, 0.9, 1.3 and genuine pairs at 0.2, 1.0, 1.2, 1.4, threshold 1.0:
    3 of 4 impostors fall below it (FMR 0.75) and 3 of 4 genuine pairs do not (FNMR 0.75: a
    distance at the threshold is no match). The curve passes through the rates of a
    threshold between 0.2 and 0.5 (FMR 1/4, FNMR 3/4), 0.9 and 1.0 (3/4, 3/4), 1.3 and 1.4
    (1, 1/4) and above 1.4 (1, 0: drawn at half a genuine pair), and the FNMR never rises as
    the FMR grows."""
    same = np.r_[np.zeros(4, bool), np.ones(4, bool)]
    d = np.array([0.1, 0.5, 0.9, 1.3, 0.2, 1.0, 1.2, 1.4])
    fig = det_curves([("a", d, same)], 1.0)
    ax = fig.axes[0]
    (point,) = [line for line in ax.lines if line.get_marker() == "o" and len(line.get_xdata())]
    assert (float(point.get_xdata()[0]), float(point.get_ydata()[0])) == (0.75, 0.75)
    curve = next(line for line in ax.lines if line.get_label() == "a")
    x, y = np.asarray(curve.get_xdata()), np.asarray(curve.get_ydata())
    corners = set(zip(x.tolist(), y.tolist(), strict=True))
    assert {(0.25, 0.75), (0.75, 0.75), (1.0, 0.25), (1.0, 0.5 / 4)} <= corners
    assert np.all(np.diff(x) >= 0) and np.all(np.diff(y) <= 0)
    plt.close(fig)


def test_histograms_draw_each_kind_of_pair_and_the_threshold_where_they_are() -> None:
    """Genuine pairs near 0.2 (blue) and impostors near 1.5 (vermilion): each histogram's peak
    stands over its own pairs, both on the same bins, and the threshold line at the threshold."""
    from matplotlib.colors import same_color

    from latentplay.viz.verification import GENUINE, IMPOSTOR

    rng = np.random.default_rng(0)
    same = np.r_[np.ones(50, bool), np.zeros(50, bool)]
    d = np.r_[rng.normal(0.2, 0.05, 50), rng.normal(1.5, 0.05, 50)]
    fig = score_histograms([("a", d, same)], 0.8, "distance")
    ax = fig.axes[0]
    for patch, colour, centre in zip(ax.patches, (GENUINE, IMPOSTOR), (0.2, 1.5), strict=True):
        assert same_color(patch.get_facecolor()[:3], colour)
        vertices = patch.get_path().vertices
        assert vertices[np.argmax(vertices[:, 1]), 0] == pytest.approx(centre, abs=0.15)
        # on the same bins, from the least distance of either kind to the greatest
        assert (vertices[:, 0].min(), vertices[:, 0].max()) == pytest.approx((d.min(), d.max()))
    (line,) = ax.lines
    assert list(line.get_xdata()) == [0.8, 0.8]
    plt.close(fig)


def test_rate_error_bars_run_from_each_rows_low_to_its_high() -> None:
    """Each group's FMR interval is drawn from its low to its high, in its row; the title
    gives the threshold in four digits."""
    from latentplay.viz.verification import rate_bars

    rows = [{"group": g, "fmr": f, "fmr_low": lo, "fmr_high": hi, "fnmr": 0.2, "fnmr_low": 0.1,
             "fnmr_high": 0.4} for g, f, lo, hi in (("a", 0.02, 0.01, 0.05), ("b", 0.1, 0.03, 0.12),
                                         ("c", 0.0008, 0.0001, 0.003))]
    fig = rate_bars(rows, 0.4567)
    ax = fig.axes[0]
    segments = [s for c in ax.collections for s in c.get_segments()]
    spans = sorted((float(s[0][1]), float(s[0][0]), float(s[1][0])) for s in segments)
    assert np.allclose(spans, [(0.0, 0.01, 0.05), (1.0, 0.03, 0.12), (2.0, 0.0001, 0.003)])
    assert "at d < 0.4567" in ax.get_title()
    assert not ax.texts  # a small rate is a bar, not a written 0
    plt.close(fig)


def test_hardest_pairs_mark_the_errors_at_the_threshold_in_red() -> None:
    """Impostor pairs (left) are red and bold below the threshold, genuine pairs (right) at it
    or above (bold: red alone was the only cue, lost to a deuteranope or in print): at
    threshold 0.5, impostors at 0.312 and 0.5 and genuine pairs at 0.5 and 0.437."""
    from matplotlib.colors import same_color

    from latentplay.viz.verification import hardest_pairs

    face = np.zeros((8, 8, 3), np.uint8)
    impostor = [(face, face, 0.312), (face, face, 0.5)]
    genuine = [(face, face, 0.5), (face, face, 0.437)]
    fig = hardest_pairs([("g", impostor, genuine)], 0.5)
    texts = sorted((t for t in fig.axes[0].texts if t.get_text().startswith("d = ")),
                   key=lambda t: t.get_position()[0])
    shown = [(t.get_text(), same_color(t.get_color(), "tab:red"), t.get_fontweight()) for t in texts]
    assert shown == [("d = 0.312", True, "bold"), ("d = 0.5", False, "normal"),
                     ("d = 0.5", True, "bold"), ("d = 0.437", False, "normal")]
    plt.close(fig)


def test_column_panels_hold_each_columns_rates_and_the_target_on_the_fmr_panel() -> None:
    """Column c's FMR and FNMR of group g are the bars of its colour in g's row, the columns
    top to bottom in their order, the accuracy a dot with its ±1 SD, on an axis that starts
    just below the lowest of them; the target FMR is a line on the FMR panel only."""
    accuracy = np.array([[0.9, 0.8], [0.85, 0.95]])
    sd = np.full((2, 2), 0.01)
    fmr = np.array([[0.01, 0.02], [0.03, 0.04]])
    fnmr = np.array([[0.1, 0.2], [0.3, 0.4]])
    fig = column_bars(["g0", "g1"], ["x", "y"], accuracy, sd, fmr, fnmr, 0.025, 5)
    acc_ax, fmr_ax, fnmr_ax = fig.axes[:3]
    for ax, values in ((fmr_ax, fmr), (fnmr_ax, fnmr)):
        bars = sorted(ax.patches, key=lambda p: p.get_y())  # top of the axes first
        assert [p.get_width() for p in bars] == pytest.approx([values[0, 0], values[1, 0],
                                                               values[0, 1], values[1, 1]])
    assert [list(line.get_xdata()) for line in fmr_ax.lines] == [[0.025, 0.025]]
    assert not fnmr_ax.lines
    dots = sorted((float(y), float(x)) for line in acc_ax.lines if line.get_marker() == "o"
                  for x, y in zip(line.get_xdata(), line.get_ydata(), strict=True))
    assert [x for _, x in dots] == pytest.approx([0.9, 0.85, 0.8, 0.95])
    spans = sorted((float(s[0][1]), float(s[0][0]), float(s[1][0]))
                   for c in acc_ax.collections for s in c.get_segments())
    assert np.allclose([(lo, hi) for _, lo, hi in spans], [(0.89, 0.91), (0.84, 0.86), (0.79, 0.81),
                                                            (0.94, 0.96)])  # ± 1 SD
    start = acc_ax.get_xlim()[0]
    assert 0.79 - 0.1 * 0.21 - 0.002 < start < 0.79  # just below the lowest interval
    assert not acc_ax.texts  # every group has an accuracy
    plt.close(fig)
    accuracy[1, 1] = np.nan  # one column without it: still no "too few pairs"
    fig = column_bars(["g0", "g1"], ["x", "y"], accuracy, sd, fmr, fnmr, 0.025, 5)
    assert not fig.axes[0].texts


def test_det_curves_name_a_group_whose_name_starts_with_an_underscore() -> None:
    """A group ``_other`` (matplotlib leaves labels that start with ``_`` out of a legend) keeps
    its entry in its curve's colour, in the groups' order (before, the legend skipped it)."""
    same = np.r_[np.ones(10, bool), np.zeros(100, bool)]
    d = np.r_[np.full(10, 2.0), np.linspace(0.5, 1.5, 100)]
    fig = det_curves([("_other", d, same), ("women", d * 0.8, same)], 1.0)
    legend = fig.axes[0].get_legend()
    assert [t.get_text() for t in legend.get_texts()][:2] == ["_other", "women"]
    curves = [line for line in fig.axes[0].lines if line.get_drawstyle() == "steps-post"]
    assert [h.get_color() for h in legend.legend_handles[:2]] == [c.get_color() for c in curves]
    plt.close(fig)


def test_genuine_and_impostor_pairs_stay_apart_for_colour_blind_readers() -> None:
    """The overlaid histograms were green and red at 0.6 opacity: 4.6 CIEDE2000 apart to a
    deuteranope. Each histogram, and where they overlap, now stays more than 10 from the
    others for every vision."""
    from tests.viz.colour_vision import least_gaps, on_white

    same = np.r_[np.ones(20, bool), np.zeros(20, bool)]
    fig = score_histograms([("g", np.r_[np.linspace(0, 1, 20), np.linspace(0.5, 1.5, 20)], same)],
                           0.8, "distance")
    genuine, impostor = (p.get_facecolor() for p in fig.axes[0].patches)
    over = on_white(genuine[:3], genuine[3])
    gaps = least_gaps([over, on_white(impostor[:3], impostor[3]),
                       on_white(impostor[:3], impostor[3], under=over)])
    assert min(gaps.values()) > 10, gaps
    plt.close(fig)


def test_det_axes_are_labelled_in_numbers_not_raw_mathtext() -> None:
    """The DET curves' log axes were labelled ``$\\mathdefault{10^{-2}}$`` and the like, as
    written: figures are made with mathtext off (names are drawn as written), and matplotlib's
    log labels are mathtext. They read 0.001, 0.01, 0.1 and 1 now."""
    same = np.r_[np.ones(100, bool), np.zeros(1000, bool)]
    d = np.r_[np.linspace(0.0, 1.0, 100), np.linspace(0.5, 1.5, 1000)]
    fig = det_curves([("g", d, same)], 0.8)
    ax = fig.axes[0]
    fig.canvas.draw()
    for axis in (ax.xaxis, ax.yaxis):
        low, high = axis.get_view_interval()
        shown = [t.get_text() for t, at in zip(axis.get_ticklabels(), axis.get_majorticklocs(),
                                                strict=True) if low <= at <= high]
        expected = [f"{10.0 ** k:g}" for k in range(-6, 1) if low <= 10.0 ** k <= high]
        assert shown == expected and {"0.01", "0.1", "1"} <= set(shown)
        assert not [t for t in axis.get_ticklabels(minor=True) if t.get_text()]
    plt.close(fig)
