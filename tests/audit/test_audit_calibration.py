"""Calibration within groups: ``audit accuracy`` with each prediction's confidence."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from latentplay import store as st
from latentplay.audit import calibration
from latentplay.audit.accuracy import group_accuracy
from latentplay.audit.calibration import (
    ece_p_text,
    expected_calibration_error,
    group_calibration,
    null_ece,
    reliability,
    selective,
    selective_curve,
)
from latentplay.errors import UserError
from latentplay.report import build_report
from latentplay.store import Attribute, Provenance, Schema


def test_ece_and_reliability_by_hand() -> None:
    confidence = np.array([0.55, 0.58, 0.92, 0.95, 1.0])
    correct = np.array([1, 0, 1, 1, 0], bool)
    # bin 5: (1 - 0.55) + (0 - 0.58) = -0.13; bin 9: 0.08 + 0.05 - 1.0 = -0.87
    assert expected_calibration_error(confidence, correct) == pytest.approx((0.13 + 0.87) / 5)
    points = reliability(confidence, correct)
    assert [(p["low"], p["n"]) for p in points] == [(0.5, 2), (0.9, 3)]
    assert points[1]["accuracy"] == pytest.approx(2 / 3)
    assert points[1]["confidence"] == pytest.approx((0.92 + 0.95 + 1.0) / 3)
    assert np.isnan(expected_calibration_error(np.array([]), np.array([], bool)))


def test_selective_accuracy_by_hand() -> None:
    """Answering only the most confident faces: accuracy over them, coverage, errors passed."""
    confidence = np.array([0.9, 0.8, 0.7, 0.6])
    correct = np.array([1, 0, 1, 1], bool)
    curve = selective_curve(confidence, correct, np.array([0.25, 0.5, 1.0]))
    assert [(p["coverage"], p["accuracy"]) for p in curve] == [(0.25, 1.0), (0.5, 0.5),
                                                               (1.0, 0.75)]
    seven = selective_curve(np.linspace(0.9, 0.3, 7), np.ones(7, bool), np.array([0.7]))
    assert seven[0]["coverage"] == pytest.approx(5 / 7)    # the nearest count: 4.9 -> 5 answers
    chosen = selective(confidence, correct, 0.75)
    assert (chosen["accepted"], chosen["coverage"], chosen["accuracy"]) == (2, 0.5, 0.5)
    assert chosen["errors_passed"] == 1.0                   # the one error is answered
    none = selective(confidence, correct, 0.95)
    assert none["accuracy"] is None and none["errors_passed"] == 0.0
    assert selective(confidence, np.ones(4, bool), 0.5)["errors_passed"] is None


def test_a_calibrated_classifiers_ece_by_chance(monkeypatch: pytest.MonkeyPatch) -> None:
    """All 100 confidences 0.8 (one bin): the ECE is |accuracy - 0.8|, whose mean over draws
    of a calibrated classifier is near sqrt(0.16 / 100) sqrt(2 / pi); the chunked draws are
    the same draws."""
    draws = null_ece(np.full(100, 0.8), 4000, seed=1)
    assert draws.mean() == pytest.approx(0.04 * np.sqrt(2 / np.pi), rel=0.08)
    assert (draws >= 0).all()
    confidence = np.random.default_rng(5).uniform(0.3, 1.0, 50)
    whole = null_ece(confidence, 30, seed=2)
    monkeypatch.setattr(calibration, "DRAW_CELLS", 50 * 7)
    np.testing.assert_allclose(null_ece(confidence, 30, seed=2), whole)


def test_chance_eces_bin_as_the_observed_one() -> None:
    """Each chance ECE is the ECE, in the same bins (equal-row ones too), of answers drawn
    right with their confidence: one uniform number per answer, in the draws' order."""
    confidence = np.linspace(0.9, 0.9999, 40)                 # ascending: the draws' order
    right = np.random.default_rng(4).random((20, 40)) < confidence
    for binning in ("width", "mass"):
        expected = [expected_calibration_error(confidence, r, 10, binning) for r in right]
        np.testing.assert_allclose(null_ece(confidence, 20, 4, 10, binning), expected)


def test_chance_eces_do_not_depend_on_the_rows_order() -> None:
    """A store's rows in another order (a shuffled copy, another concat order) give the same
    chance ECEs, photo by photo and shared by persons: a group's p-value is the same."""
    rng = np.random.default_rng(6)
    confidence = rng.uniform(0.5, 1.0, 60)
    persons = np.repeat(np.arange(20), 3)
    shuffled = rng.permutation(60)
    for binning in ("width", "mass"):
        np.testing.assert_allclose(null_ece(confidence[shuffled], 40, 1, 10, binning),
                                   null_ece(confidence, 40, 1, 10, binning), rtol=1e-12)
        np.testing.assert_allclose(
            null_ece(confidence[shuffled], 40, 1, 10, binning, persons[shuffled]),
            null_ece(confidence, 40, 1, 10, binning, persons), rtol=1e-12)


def _two_groups(n: int = 1500) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Three ordered groups: right as often as the confidence says (group 0), and 0.1 and
    0.2 less often (groups 1, 2)."""
    draw = np.random.default_rng(11)
    groups = np.repeat([0, 1, 2], n // 3)
    confidence = draw.uniform(0.6, 1.0, n)
    correct = np.random.default_rng(12).random(n) < confidence - 0.1 * groups
    return confidence, correct, groups


def test_an_overconfident_group_is_found() -> None:
    confidence, correct, groups = _two_groups()
    confidence[7] = np.nan                                   # no prediction: left out
    cal = group_calibration(confidence, correct, ["a", "b", "c"], groups,
                            np.ones(len(groups), bool), ordered=True, seed=3)
    a, b, c = cal["groups"]
    assert cal["without_confidence"] == 1 and a["n"] == 499
    rows = (groups == 1)
    assert b["overconfidence"] == pytest.approx(confidence[rows].mean() - correct[rows].mean())
    assert b["confidence"] == pytest.approx(confidence[rows].mean())
    for row, truth in [(a, 0.0), (b, 0.1), (c, 0.2)]:
        assert row["low"] < truth < row["high"]
    assert a["ece_p"] > 0.05 and a["ece"] < 2 * a["ece_null"]
    assert c["ece_p"] < 0.01 and c["ece"] > 0.15
    # a Monte Carlo p-value: (1 + k) / (draws + 1), never 0 (it was k / draws)
    assert c["ece_p"] == pytest.approx(1 / (cal["draws"] + 1))
    assert ece_p_text(c["ece_p"], cal["draws"]) == "<= 0.001"
    assert cal["across"]["overconfidence_gap"] == pytest.approx(c["overconfidence"]
                                                                - a["overconfidence"])
    trend = cal["across"]["trend"]
    assert 0.05 < trend["low"] < trend["slope"] < trend["high"] < 0.15


def test_the_ece_gap_is_the_highest_minus_the_lowest_whatever_the_order() -> None:
    """The most overconfident group listed first: the ECE gap is still the highest group's
    ECE minus the lowest, each the ECE of that group's rows alone."""
    confidence, correct, groups = _two_groups()
    cal = group_calibration(confidence, correct, ["c", "b", "a"], 2 - groups,
                            np.ones(len(groups), bool), ordered=False, seed=3, n_draws=50)
    eces = [expected_calibration_error(confidence[groups == g], correct[groups == g])
            for g in (2, 1, 0)]
    assert [r["ece"] for r in cal["groups"]] == pytest.approx(eces)
    assert eces[0] > eces[2]
    assert cal["across"]["ece_gap"] == pytest.approx(max(eces) - min(eces))


def test_photos_of_one_person_widen_the_interval() -> None:
    """20 persons of 10 photos, a person's photos all right or all wrong: the interval over
    persons is wider than the one over rows."""
    person = np.repeat(np.arange(20), 10)
    correct = person % 4 != 0
    confidence = np.full(200, 0.75)
    args = (confidence, correct, ["g"], np.zeros(200, np.int64), np.ones(200, bool), False)
    rows, persons = group_calibration(*args)["overall"], \
        group_calibration(*args, persons=person)["overall"]
    assert rows["overconfidence"] == persons["overconfidence"] == pytest.approx(0.0)
    assert persons["high"] - persons["low"] > 2 * (rows["high"] - rows["low"])
    wilson, drawn = (group_calibration(*args, persons=p, threshold=0.5)["overall"]["selective"]
                     for p in (None, person))
    assert wilson["accuracy"] == drawn["accuracy"] == pytest.approx(0.75)
    assert drawn["high"] - drawn["low"] > 2 * (wilson["high"] - wilson["low"])
    # the ECE's chance draws take photos alone: said where persons repeat, not elsewhere
    from latentplay.audit.calibration import calibration_lines

    said = [" ".join(calibration_lines({"calibration": group_calibration(*args, persons=p),
                                        "confidence": "p", "by": "g"})) for p in (person, None)]
    assert "reads p too small" in said[0] and "too small" not in said[1]
    assert "shared: chance" in said[0] and "shared" not in said[1]


def test_shared_draws_read_persons_who_are_answered_alike() -> None:
    """20 persons of 10 photos at confidence 0.75, 12 persons right in all their photos: an
    accuracy of 0.6 is five standard errors from 0.75 over 200 independent answers, but
    1.5 over 20 persons. The photo-by-photo p is at its floor; with each person's answers
    drawn as one it is not small."""
    person = np.repeat(np.arange(20), 10)
    correct = person < 12
    confidence = np.full(200, 0.75)
    cal = group_calibration(confidence, correct, ["g"], np.zeros(200, np.int64),
                            np.ones(200, bool), False, persons=person, seed=1)
    row = cal["overall"]
    assert row["ece"] == pytest.approx(0.15)
    assert row["ece_p"] < 0.005 and row["ece_p_shared"] > 0.05
    assert row["ece_null_shared"] > 2 * row["ece_null"]
    assert "ece_p_shared" not in group_calibration(
        confidence, correct, ["g"], np.zeros(200, np.int64), np.ones(200, bool), False)["overall"]


def _store(path: Path, confidence: np.ndarray | None = None) -> st.Store:
    confidence_, correct, groups = _two_groups(600)
    confidence = confidence_ if confidence is None else confidence
    gender = np.tile([0, 1], 300)
    predicted = np.where(correct, gender, 1 - gender)
    predicted[0] = 2                                          # unknown
    schema = Schema(attributes=[
        Attribute("tone", "categorical", names=["t0", "t1", "t2"], ordered=True),
        Attribute("gender", "categorical", names=["female", "male"]),
        Attribute("predicted_gender", "categorical", names=["female", "male", "unknown"]),
        Attribute("predicted_gender_p", "continuous")],
        provenance=Provenance(source="test", converter="unit"))
    images = [st.encode_png(np.zeros((4, 4, 3), np.uint8))] * 600
    return st.build([{"image": images, "tone": groups, "gender": gender,
                      "predicted_gender": predicted,
                      "predicted_gender_p": confidence.astype(np.float32)}], schema, path)


def test_accuracy_measures_calibration_when_the_store_has_confidences(tmp_path: Path) -> None:
    store = _store(tmp_path / "s")
    s = group_accuracy(store, "predicted_gender", "gender", "tone", tmp_path / "a")
    assert s["confidence"] == "predicted_gender_p"
    cal = s["calibration"]
    assert cal["without_confidence"] == 1                    # the row without a prediction
    confidence = np.asarray(store.labels("predicted_gender_p"), np.float64)
    rows = np.arange(1, 200)
    right = store.labels("predicted_gender")[rows] == store.labels("gender")[rows]
    assert cal["groups"][0]["overconfidence"] == pytest.approx(
        confidence[rows].mean() - right.mean(), abs=1e-6)
    assert cal["groups"][0]["accuracy"] * 199 == pytest.approx(s["groups"][0]["correct"])
    assert cal["across"]["trend"]["slope"] > 0
    out = tmp_path / "a"
    assert (out / "calibration.png").stat().st_size > 0
    lines = (out / "calibration.csv").read_text().splitlines()
    assert lines[0] == "group,bin_low,bin_high,rows,confidence,accuracy"
    assert sum(int(line.split(",")[3]) for line in lines[1:] if line.startswith("t")) == 599
    # bin edges written as people read them (0.6, not 0.6000000000000001), bins unchanged
    edges = [e for line in lines[1:] for e in line.split(",")[1:3]]
    assert all(e == format(float(e), ".6g") for e in edges), edges
    assert [float(e) for e in edges] == pytest.approx(
        [e for r in [*cal["groups"], cal["overall"]] for b in r["bins"] for e in (b["low"], b["high"])])
    none = group_accuracy(store, "predicted_gender", "gender", "tone", tmp_path / "b",
                          confidence=None)
    assert "calibration" not in none and not (tmp_path / "b" / "calibration.png").exists()


def test_a_threshold_answers_fewer_of_the_overconfident_group(tmp_path: Path) -> None:
    store = _store(tmp_path / "s")
    s = group_accuracy(store, "predicted_gender", "gender", "tone", tmp_path / "a",
                       threshold=0.9)
    cal = s["calibration"]
    confidence = np.asarray(store.labels("predicted_gender_p"), np.float64)
    rows = np.arange(400, 600)                               # t2, every row predicted
    right = store.labels("predicted_gender")[rows] == store.labels("gender")[rows]
    above = confidence[rows] >= np.float32(0.9)
    t2 = cal["groups"][2]["selective"]
    assert t2["coverage"] == pytest.approx(above.mean())
    assert t2["accuracy"] == pytest.approx(right[above].mean())
    assert t2["errors_passed"] == pytest.approx((above & ~right).sum() / (~right).sum())
    t0 = cal["groups"][0]["selective"]
    assert t0["accuracy"] > t2["accuracy"]
    assert cal["across"]["selective_accuracy_gap"] == pytest.approx(
        max(r["selective"]["accuracy"] for r in cal["groups"])
        - min(r["selective"]["accuracy"] for r in cal["groups"]))
    curve = cal["groups"][2]["curve"]
    assert curve[-1]["coverage"] == 1.0
    assert curve[-1]["accuracy"] == pytest.approx(right.mean())


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"confidence": "mood"}, "no attribute 'mood'"),
    ({"confidence": "tone"}, "is categorical: it must hold the probability"),
    ({"threshold": 1.5}, "--threshold must be in \\(0, 1\\]"),
    ({"threshold": 0.9, "confidence": None}, "--threshold needs each prediction's confidence"),
    ({"binning": "quantile"}, "^--binning must be width or mass, got 'quantile'$"),
])
def test_refusals(tmp_path: Path, kwargs: dict, message: str) -> None:
    store = _store(tmp_path / "s")
    with pytest.raises(UserError, match=message):
        group_accuracy(store, "predicted_gender", "gender", "tone", tmp_path / "x", **kwargs)
    assert not (tmp_path / "x").exists()


def test_confidences_outside_zero_one_are_refused(tmp_path: Path) -> None:
    store = _store(tmp_path / "s", confidence=np.linspace(0.5, 1.5, 600))
    with pytest.raises(UserError, match="values outside \\[0, 1\\]"):
        group_accuracy(store, "predicted_gender", "gender", "tone", tmp_path / "x")
    assert not (tmp_path / "x").exists()


def test_cli_and_report(tmp_path: Path, cli) -> None:  # noqa: ANN001 - fixture
    store = _store(tmp_path / "s")
    out = tmp_path / "a"
    r = cli("audit", "accuracy", store.path, "--predicted", "predicted_gender", "--truth",
            "gender", "--by", "tone", "--out", out)
    assert r.code == 0, r.err
    text = " ".join(r.out.split())
    assert "calibration (predicted_gender_p;" in text and "along tone: over-confidence +0." in text
    assert json.loads((out / "accuracy.json").read_text())["calibration"]["bins"] == 10
    html = build_report(out).read_text()
    assert "Calibration of predicted_gender_p" in html and "ECE by chance" in html
    r = cli("audit", "accuracy", store.path, "--predicted", "predicted_gender", "--truth",
            "gender", "--by", "tone", "--out", tmp_path / "b", "--confidence", "none")
    assert r.code == 0 and "calibration" not in r.out
    r = cli("audit", "accuracy", store.path, "--predicted", "predicted_gender", "--truth",
            "gender", "--by", "tone", "--out", tmp_path / "c", "--threshold", "0.9")
    assert r.code == 0, r.err
    assert "at >= 0.9:" in r.out and "at 0.9: coverage gap" in " ".join(r.out.split())
    assert "answered at &gt;= 0.9" in build_report(tmp_path / "c").read_text()
    r = cli("audit", "accuracy", store.path, "--predicted", "predicted_gender", "--truth",
            "gender", "--by", "tone", "--out", tmp_path / "d", "--threshold", "2")
    assert r.code == 2 and r.err.startswith("error: --threshold")


def test_a_group_of_one_row_has_no_interval() -> None:
    cal = group_calibration(np.array([0.9, 0.8, 0.7]), np.array([True, False, True]),
                            ["one", "two"], np.array([0, 1, 1]), np.ones(3, bool), False)
    one = cal["groups"][0]
    assert one["n"] == 1 and one["low"] is None and one["high"] is None
    assert one["overconfidence"] == pytest.approx(-0.1)
    # two rows, over-confidence 0.8 and -0.3: mean 0.25 +- t(0.975, 1 dof) sd / sqrt(2), the
    # tables' 12.706 (the normal's 1.96 would claim a 6.5 times narrower interval)
    two = cal["groups"][1]
    assert (two["low"], two["high"]) == pytest.approx((0.25 - 12.706 * 0.55, 0.25 + 12.706 * 0.55),
                                                      abs=1e-3)
    from latentplay.audit.calibration import calibration_lines
    from latentplay.viz.accuracy import calibration_figure

    summary = {"calibration": cal, "confidence": "p", "predicted": "x", "by": "g"}
    assert "one: confidence 0.900, accuracy 1.000, over-confidence -0.100, ECE" in "\n".join(
        calibration_lines(summary))
    calibration_figure(summary)


def test_a_group_answered_at_confidence_1_has_the_interval_of_its_error_share() -> None:
    """20 rows at confidence 1, all right: every gap is 0 and the t interval was 0 to 0; the
    gap is the share of wrong answers (0 of 20), whose Wilson interval reaches 0.161. With 3
    wrong the interval is at least Wilson's of 3 of 20."""
    from scipy.stats import binomtest

    groups = np.zeros(20, int)
    right = np.ones(20, bool)
    cal = group_calibration(np.ones(20), right, ["g"], groups, np.ones(20, bool), False)
    g = cal["groups"][0]
    assert g["overconfidence"] == 0 and g["low"] == 0
    assert g["high"] == pytest.approx(binomtest(0, 20).proportion_ci(method="wilson").high)
    assert g["high"] == pytest.approx(0.161, abs=1e-3)
    right[:3] = False
    g = group_calibration(np.ones(20), right, ["g"], groups, np.ones(20, bool), False)["groups"][0]
    wilson = binomtest(3, 20).proportion_ci(method="wilson")
    assert g["low"] <= wilson.low and g["high"] >= wilson.high


def test_only_kept_rows_count_as_without_confidence() -> None:
    """A row without a label or group (not kept) is no row of the audit, with a confidence or
    not; over two ordered groups there is no trend (one step)."""
    confidence = np.array([0.9, np.nan, 0.7, np.nan])
    cal = group_calibration(confidence, np.array([True, False, True, True]), ["a", "b"],
                            np.array([0, 0, 1, 1]), np.array([True, True, True, False]), True)
    assert cal["without_confidence"] == 1
    assert [r["n"] for r in cal["groups"]] == [1, 1] and "trend" not in cal["across"]


def test_the_trend_interval_agrees_with_the_bootstrap() -> None:
    """For independent rows the over-confidence trend's robust normal interval is about as
    wide as the bootstrap's of the same slope."""
    from latentplay.audit.calibration import slope_interval
    from latentplay.metrics.verification import rate_trend

    confidence, correct, groups = _two_groups(3000)
    signed = confidence - correct
    fast, boot = slope_interval(signed, groups), rate_trend(signed, groups, n_boot=2000)
    assert fast["slope"] == pytest.approx(boot["slope"])
    width, boot_width = fast["high"] - fast["low"], boot["high"] - boot["low"]
    assert 0.85 < width / boot_width < 1.15
    assert np.isnan(slope_interval(signed[:2], groups[:2])["slope"])


def test_equal_row_bins_by_hand() -> None:
    confidence = np.array([0.6, 0.7, 0.8, 0.9])
    correct = np.array([1, 0, 1, 1], bool)
    edges = calibration.bin_edges(confidence, 2, "mass")
    np.testing.assert_allclose(edges, [0.0, 0.75, 1.0])
    # {0.6, 0.7}: accuracy 0.5 vs 0.65; {0.8, 0.9}: 1.0 vs 0.85 -> (2 x 0.15 + 2 x 0.15) / 4
    assert expected_calibration_error(confidence, correct, 2, "mass") == pytest.approx(0.15)
    points = reliability(confidence, correct, 2, "mass")
    assert [(p["low"], p["high"], p["n"]) for p in points] == [(0.0, 0.75, 2), (0.75, 1.0, 2)]
    ones = np.ones(5)  # tied confidences merge the bins into one
    assert len(calibration.bin_edges(ones, 10, "mass")) == 2
    assert expected_calibration_error(ones, np.array([1, 1, 1, 0, 0], bool), 10, "mass") == \
        pytest.approx(0.4)
    spread = np.random.default_rng(0).random(1000)
    counts = np.bincount(calibration.bin_index(spread, calibration.bin_edges(spread, 10, "mass")))
    assert counts.min() >= 99 and counts.max() <= 101
    with pytest.raises(UserError, match="binning"):
        calibration.bin_edges(spread, 10, "log")


def test_equal_row_bins_see_miscalibration_crowded_near_one() -> None:
    # every confidence in [0.9, 1): sure of the easy half, over-sure of the hard half, right
    # on average -- ten equal-width bins put all of them in one bin and see nothing
    confidence = np.linspace(0.9, 0.9999, 2000)
    rng = np.random.default_rng(1)
    correct = np.where(confidence < 0.95, True, rng.random(2000) < 0.9)
    width = expected_calibration_error(confidence, correct, 10, "width")
    mass = expected_calibration_error(confidence, correct, 10, "mass")
    assert width < 0.01 and mass > 0.05
    assert np.mean(null_ece(confidence, 500, 0, 10, "width") >= width) > 0.05
    assert np.mean(null_ece(confidence, 500, 0, 10, "mass") >= mass) < 0.01


def test_cli_takes_equal_row_bins(tmp_path: Path, cli) -> None:  # noqa: ANN001 - fixture
    store = _store(tmp_path / "s")
    args = ["audit", "accuracy", store.path, "--predicted", "predicted_gender", "--truth",
            "gender", "--by", "tone"]
    r = cli(*args, "--out", tmp_path / "a", "--binning", "mass")
    assert r.code == 0, r.err
    assert "ECE over 10 equal-row bins" in " ".join(r.out.split())
    assert json.loads((tmp_path / "a" / "accuracy.json").read_text())["calibration"]["binning"] == "mass"
    assert "10 equal-row bins" in build_report(tmp_path / "a").read_text()
    r = cli(*args, "--out", tmp_path / "b", "--binning", "quantile")
    assert r.code == 2 and "binning" in r.err and not (tmp_path / "b").exists()


def test_bins_are_closed_on_the_right() -> None:
    """Bins ``(lo, hi]`` with 0 in the first, as Guo et al. (2017) bin: a confidence on an edge
    (0.3, 0.6, 0.7, 1.0) goes in the bin below it, 0 in the first."""
    edges = calibration.bin_edges(np.array([]), 10)
    assert calibration.bin_index(np.array([0.0, 0.05, 0.1, 0.3, 0.6, 0.7, 0.71, 1.0]),
                                 edges).tolist() == [0, 0, 0, 2, 5, 6, 7, 9]
    # all three in (0.2, 0.3]: accuracy 1/3 against confidence 0.85 / 3
    confidence, correct = np.array([0.3, 0.3, 0.25]), np.array([1, 0, 0], bool)
    assert expected_calibration_error(confidence, correct) == pytest.approx(abs(1 - 0.85) / 3)
    [point] = reliability(confidence, correct)
    assert (point["low"], point["high"], point["n"]) == (pytest.approx(0.2), pytest.approx(0.3), 3)
    assert expected_calibration_error(np.array([0.0, 1.0]), np.array([0, 1], bool)) == 0.0
    assert [p["n"] for p in reliability(np.array([0.0, 1.0, 1.0]), np.ones(3, bool))] == [1, 2]
    # equal-row bins: the median 0.5 is an edge; both rows on it go in the lower bin
    mass = np.array([0.2, 0.5, 0.5, 0.9])
    np.testing.assert_allclose(calibration.bin_edges(mass, 2, "mass"), [0.0, 0.5, 1.0])
    # {0.2, 0.5, 0.5}: 2 right against confidence 1.2; {0.9}: none right against 0.9
    assert expected_calibration_error(mass, np.array([0, 1, 1, 0], bool), 2, "mass") == \
        pytest.approx((0.8 + 0.9) / 4)


def test_stored_confidences_on_an_edge_go_in_the_bin_below(tmp_path: Path) -> None:
    """The store holds float32: a stored 0.3 reads 0.30000001, 0.6 0.60000002, 0.8
    0.80000001 -- above the float64 edges -- and must still count in the bin below, as 0.7
    (0.69999999) and 0.9 do."""
    edges = np.tile([0.3, 0.6, 0.7, 0.8, 0.9], 120)
    store = _store(tmp_path / "s", edges)
    s = group_accuracy(store, "predicted_gender", "gender", "tone", tmp_path / "a")
    bins = s["calibration"]["overall"]["bins"]
    assert [round(b["high"], 6) for b in bins] == [0.3, 0.6, 0.7, 0.8, 0.9]
    assert all(b["confidence"] == pytest.approx(b["high"]) for b in bins)


def test_the_selective_curve_does_not_hang_on_the_order_of_tied_confidences() -> None:
    """Half the answers at 1.0 (2 of 4 right), half at 0.5 (all right): the most confident
    quarter is a draw among the four at 1.0, right half of the time, whichever rows come
    first."""
    confidence = np.array([1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5])
    correct = np.array([0, 0, 1, 1, 1, 1, 1, 1], bool)
    coverages = np.array([0.25, 0.5, 0.75, 1.0])
    flip = np.array([3, 2, 1, 0, 7, 6, 5, 4])                 # the same rows, reordered
    first, flipped = (selective_curve(confidence[rows], correct[rows], coverages)
                      for rows in (np.arange(8), flip))
    assert first == flipped
    assert [p["accuracy"] for p in first] == pytest.approx([0.5, 0.5, 4 / 6, 0.75])


def test_a_stored_confidence_on_the_threshold_is_answered(tmp_path: Path) -> None:
    """``--threshold 0.9`` answers the faces at or above 0.9: a stored 0.9 reads 0.89999998
    and is one of them, as it counts in the bin (0.8, 0.9]."""
    confidence = np.array([0.9, 0.95, 0.5], np.float32).astype(np.float64)
    chosen = selective(confidence, np.array([1, 0, 1], bool), 0.9)
    assert (chosen["accepted"], chosen["accuracy"], chosen["errors_passed"]) == (2, 0.5, 1.0)
    store = _store(tmp_path / "s", np.tile([0.9, 0.7], 300))
    s = group_accuracy(store, "predicted_gender", "gender", "tone", tmp_path / "a", threshold=0.9)
    # row 0, at 0.9, has no prediction: 299 of the 599 rows with a confidence are at 0.9
    assert s["calibration"]["overall"]["selective"]["accepted"] == 299


def test_a_group_of_one_person_has_no_interval() -> None:
    """A bootstrap over one person draws the same photos every time: a point interval, which
    would read as over-confidence known exactly (+0.95 from one face). None instead, as for one
    row without persons; two persons get an interval around the mean."""
    confidence = np.array([0.9, 0.8, 0.7, 0.6, 0.95, 0.9, 0.8])
    correct = np.array([1, 0, 1, 1, 0, 1, 1], bool)
    groups = np.array([0, 0, 0, 0, 1, 2, 2])
    persons = np.array([0, 0, 0, 0, 1, 2, 3])
    cal = group_calibration(confidence, correct, ["four photos", "one photo", "two persons"],
                            groups, np.ones(7, bool), False, persons, n_draws=20)
    four, one, two = cal["groups"]
    assert (four["n"], four["low"], four["high"]) == (4, None, None)
    assert four["overconfidence"] == pytest.approx(0.0)
    assert (one["n"], one["low"], one["high"]) == (1, None, None)
    assert one["overconfidence"] == pytest.approx(0.95)
    assert two["overconfidence"] == pytest.approx(-0.15)
    assert two["low"] < two["overconfidence"] < two["high"]


def test_no_selective_accuracy_gap_when_one_group_is_answered() -> None:
    """At 0.95 only group a has answers (accuracy 1/2); b has none: there is no gap to take
    (0 would read as equal accuracy), while b's coverage of 0 still gives a coverage gap."""
    confidence = np.array([0.99, 0.97, 0.5, 0.9, 0.8, 0.6])
    correct = np.array([1, 0, 1, 1, 0, 1], bool)
    cal = group_calibration(confidence, correct, ["a", "b"], np.repeat([0, 1], 3),
                            np.ones(6, bool), False, n_draws=20, threshold=0.95)
    a, b = (r["selective"] for r in cal["groups"])
    assert (a["accuracy"], b["accuracy"]) == (0.5, None)
    assert cal["across"]["coverage_gap"] == pytest.approx(2 / 3)
    assert cal["across"]["selective_accuracy_gap"] is None
    from latentplay.audit.calibration import calibration_lines

    text = "\n".join(calibration_lines({"calibration": cal, "confidence": "p", "by": "g"}))
    assert "coverage gap 0.667" in text and "accuracy gap" not in text


def test_chance_eces_equal_to_the_observed_one_count_as_reaching_it() -> None:
    """Null ECEs 0.1, 0.1 and 0.0 beside an observed 0.1: the two ties count as reaching it,
    with the observed one as a draw: p = (1 + 2) / (3 + 1)."""
    assert calibration._simulated_p(0.1, np.array([0.1, 0.1, 0.0])) == pytest.approx(0.75)


@pytest.mark.parametrize("repeated", [False, True])
def test_the_trend_steps_along_the_order_over_a_group_without_rows(repeated: bool) -> None:
    """Groups a, b, c, d in order, c without rows: confidence 0.9 everywhere and 9, 8 and 6 of
    10 right in a, b and d make over-confidence 0, 0.1 and 0.3, on the line 0.1 per step at
    places 0, 1, 3 (numbered 0, 1, 2 the slope would be 0.15); c is the trend's gap."""
    groups = np.repeat([0, 1, 3], 10)
    correct = np.ones(30, bool)
    correct[[0, 10, 11, 20, 21, 22, 23]] = False
    persons = np.repeat(np.arange(15), 2) if repeated else None
    cal = group_calibration(np.full(30, 0.9), correct, ["a", "b", "c", "d"], groups,
                            np.ones(30, bool), ordered=True, persons=persons, n_draws=20)
    trend = cal["across"]["trend"]
    assert trend["slope"] == pytest.approx(0.1)
    assert (trend["groups"], trend["gaps"]) == (["a", "b", "d"], ["c"])
    lines = calibration.calibration_lines({"calibration": cal, "confidence": "p", "by": "g"})
    assert any(line.startswith("  along g (no rows in c): over-confidence +0.100") for line in lines)
