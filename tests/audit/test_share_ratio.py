"""Ratios of the audited to the training shares, with intervals that hold for all classes
together: a faithful generator seldom has any class called over- or under-drawn, where the
intervals read one class at a time call one most of the time."""

from __future__ import annotations

import numpy as np
import pytest

from latentplay.audit.distribution import compare
from latentplay.audit.share_ratio import ratio_interval, ratio_text
from latentplay.intervals import simultaneous_percentiles, wilson_interval


def test_intervals_widen_with_the_columns_that_move_apart() -> None:
    rng = np.random.default_rng(0)
    draws = rng.normal(size=(4000, 10))
    one, level = simultaneous_percentiles(draws[:, :1])
    assert level == pytest.approx(0.95, abs=0.002)
    assert one[0] == pytest.approx(np.percentile(draws[:, 0], [2.5, 97.5]), abs=0.05)
    ten, level_ten = simultaneous_percentiles(draws)
    inside = ((draws >= ten[:, 0]) & (draws <= ten[:, 1])).all(axis=1).mean()
    assert 0.95 <= inside < 0.96
    assert level_ten == pytest.approx(0.95 ** 0.1, abs=0.002)   # independent: Sidak's level
    _, level_same = simultaneous_percentiles(np.repeat(draws[:, :1], 10, axis=1))
    assert level_same == level                                 # one quantity ten times
    draws[:5, 3] = np.nan                                      # not estimated: left out
    holed, level_nine = simultaneous_percentiles(draws)
    assert np.isnan(holed[3]).all() and np.isfinite(np.delete(holed, 3, axis=0)).all()
    assert level_nine < level_ten


def test_a_faithful_generator_is_seldom_called_off_anywhere() -> None:
    rng = np.random.default_rng(5)
    k, runs = 14, 120
    p = rng.dirichlet(np.full(k, 2.0))
    together = one_by_one = 0
    for seed in range(runs):
        t, g = rng.multinomial(3000, p), rng.multinomial(600, p)
        ratios = compare(t, g, [f"c{i}" for i in range(k)], n_boot=10, seed=seed).ratios
        assert ratios is not None
        together += bool((ratios.more | ratios.less).any())
        cell = wilson_interval(g, 600) / (t / 3000)[:, None]     # the figure's former reading
        one_by_one += bool(((cell[:, 0] > 1) | (cell[:, 1] < 1)).any())
    assert together / runs <= 0.09 and one_by_one / runs >= 0.5
    assert ratios.pointwise > 0.99                              # each interval at ~99.6 %


def test_both_samples_persons_and_the_confusion_count() -> None:
    names = ["a", "b", "c", "d"]
    t, g = np.array([400, 300, 200, 100]), np.array([50, 60, 20, 70])
    rows = compare(t, g, names).ratios
    assert rows is not None
    assert rows.ratio == pytest.approx((g / 200) / (t / 1000))
    assert list(rows.more) == [False, False, False, True] and list(rows.less) == [True, False, True, False]
    # the training error counts: the same shares from 250 rows give wider intervals
    fewer = compare(t // 4, g, names).ratios
    assert (np.diff(fewer.interval).ravel() > np.diff(rows.interval).ravel()).all()
    # persons of 5 photos each: wider than the same rows taken as independent
    codes = np.repeat(np.arange(4), t)
    persons = np.repeat(np.arange(len(codes) // 5), 5)
    clustered = compare(t, g, names, training_persons=(codes, persons)).ratios
    assert (np.diff(clustered.interval).ravel() > np.diff(rows.interval).ravel()).all()
    # corrected shares: the ratio is theirs, and the confusion's measurement widens it
    confusion = np.array([[.9, .05, .05, 0], [.05, .9, .05, 0], [0, .1, .8, .1], [0, 0, .1, .9]])
    exact = compare(t, g, names, confusion=confusion)
    measured = compare(t, g, names, confusion=confusion, confusion_counts=confusion * 60)
    assert exact.ratios.corrected and exact.ratios.ratio == pytest.approx(exact.corrected / (t / 1000))
    assert (np.diff(measured.ratios.interval).ravel() > np.diff(exact.ratios.interval).ravel()).all()
    # a class the training set lacks has no ratio, and the others hold together without it
    absent = compare(np.array([400, 300, 0, 100]), g, names)
    assert np.isnan(absent.ratios.ratio[2]) and np.isnan(absent.ratios.interval[2]).all()
    assert absent.to_dict()["ratios"]["classes"] == 3
    assert absent.to_dict()["per_class"][2]["ratio"] is None


def test_the_printed_line_names_the_classes_beyond_their_intervals() -> None:
    t, names = np.array([400, 300, 200, 100]), list("abcd")
    both = ratio_text(compare(t, np.array([50, 60, 20, 70]), names).to_dict(), "faces", "gen")
    assert both is not None and both.startswith("gen shows more often than faces: d x3.50 (")
    assert "; less often: a x0.62 (" in both and "), c x0.50 (" in both
    assert "(ratios of shares, 95 % intervals for all 4 classes together, each at " in both
    fewer = ratio_text(compare(t, np.array([80, 70, 49, 1]), names).to_dict(), "faces", "gen")
    assert fewer is not None and fewer.startswith("gen shows less often than faces: d x0.05 (")
    same = compare(t, np.array([80, 62, 38, 20]), names).to_dict()
    alike = ratio_text(same, "faces", "gen")
    assert alike is not None and alike.startswith(
        "gen shows no class more or less often than faces has it: every interval spans 1")
    # 200 images cannot tell ratios near 1 from 1: the farthest bounds are said beside it
    low = min(row["ratio_low"] for row in same["per_class"])
    high = max(row["ratio_high"] for row in same["per_class"])
    assert low < 0.8 and high > 1.25       # d's 20 of 200 against 100 of 1,000: wide
    assert f", yet ratios as low as x{low:.2f} and as high as x{high:.2f} are not ruled out (" in alike
    assert ratio_interval({"ratio": 2.0, "ratio_low": 1.5, "ratio_high": None}) == "x2.00 (1.50-∞)"
    assert ratio_interval({"class": "a"}) == ""


def test_a_class_whose_corrected_share_is_unknown_has_no_ratio() -> None:
    """The readings said "female: unknown, not shown to be 0" and, in the same block, "less
    often: female x0.00 (0.00-0.00)": a share not known has no ratio."""
    names = ["a", "b", "c", "d"]
    t, g = np.array([400, 300, 200, 100]), np.array([0, 100, 50, 50])
    # a true b is read as a three times in ten, yet no image is read as a: the readings do
    # not fit the confusion in a
    confusion = np.array([[.5, .5, 0, 0], [.3, .7, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]])
    found = compare(t, g, names, confusion=confusion, confusion_counts=confusion * 200)
    assert found.pinned == ["a"]
    assert np.isnan(found.ratios.ratio[0]) and np.isnan(found.ratios.interval[0]).all()
    summary = found.to_dict()
    assert "a" not in summary["ratios"]["less"] + summary["ratios"]["more"]
    assert summary["ratios"]["classes"] == 3 and summary["per_class"][0]["ratio"] is None


def test_jeffreys_draws_centre_on_counts_plus_a_half() -> None:
    """Dirichlet(counts + 1/2): a class seen 0 times of 10 has posterior mean 0.5 / 11, not
    0 (a multinomial redraw) nor 1 / 12 (a uniform prior)."""
    from latentplay.audit.correction import jeffreys_draw

    draws = jeffreys_draw(np.array([0, 10]), np.random.default_rng(0), size=20000)
    assert draws.mean(axis=0) == pytest.approx([0.5 / 11, 10.5 / 11], abs=0.003)


def test_a_class_the_generator_never_drew_has_ratio_0_inside_its_interval() -> None:
    """Class d is in 100 training rows and none of 200 generated: its ratio is 0, and its
    interval reaches 0 (the draws of its share, Jeffreys', are all above 0)."""
    rows = compare(np.array([400, 300, 200, 100]), np.array([80, 70, 50, 0]), list("abcd")).ratios
    assert rows is not None and rows.ratio[3] == 0
    assert rows.interval[3, 0] == 0 < rows.interval[3, 1]
    assert (rows.interval[:, 0] <= rows.ratio).all() and (rows.ratio <= rows.interval[:, 1]).all()


def test_an_interval_holds_its_ratio_at_both_ends() -> None:
    # every generated image in class a, beside a training set so large that its shares hardly
    # move: the Jeffreys draws of a's share stay below 1, so every drawn ratio is below the
    # observed 2 and the upper bound is raised to it; b, drawn 0 times, has its lower bound at 0
    rows = compare(np.array([10**8, 10**8]), np.array([10, 0]), ["a", "b"], n_boot=10).ratios
    assert rows is not None and rows.ratio == pytest.approx([2.0, 0.0])
    assert rows.interval[0, 1] == pytest.approx(2.0, abs=1e-6) and rows.interval[0, 0] < 1.9
    assert rows.interval[1, 0] == 0 and 0 < rows.interval[1, 1] < 1
