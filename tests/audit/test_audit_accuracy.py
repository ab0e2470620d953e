"""``latentplay audit accuracy``: predictions against labels, group by group."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import chi2_contingency

from latentplay import store as st
from latentplay.audit.accuracy import group_accuracy
from latentplay.audit.distribution import wilson_interval
from latentplay.errors import UserError
from latentplay.outputs import p_text
from latentplay.report import build_report
from latentplay.store import Attribute, Provenance, Schema
from latentplay.store.io import store_digest

# 3 ordered tones x 10 rows; predictions wrong in 1, 3 and 6 rows of each tone, and the last
# row of tone t2 without a prediction
TONE = np.repeat([0, 1, 2], 10)
GENDER = np.tile([0, 1], 15)
WRONG = np.zeros(30, bool)
WRONG[[0, 10, 11, 12, 20, 21, 22, 23, 24, 25]] = True


def _store(path: Path) -> st.Store:
    predicted = np.where(WRONG, 1 - GENDER, GENDER)
    predicted[29] = 2                                       # unknown
    age = np.linspace(5, 80, 30).astype(np.float32)
    read = age + np.where(TONE == 2, 8.0, 2.0) * np.tile([1, -1], 15)   # t2 read worse
    schema = Schema(attributes=[
        Attribute("tone", "categorical", names=["t0", "t1", "t2"], ordered=True),
        Attribute("gender", "categorical", names=["female", "male"]),
        Attribute("predicted_gender", "categorical", names=["female", "male", "unknown"]),
        Attribute("age", "continuous", range=(0, 100)),
        Attribute("predicted_age", "continuous"),
        Attribute("age_group", "categorical", names=["0-19", "20-39", "40-59", "60+"])],
        provenance=Provenance(source="test", converter="unit"))
    images = [st.encode_png(np.zeros((4, 4, 3), np.uint8))] * 30
    groups = np.searchsorted([20, 40, 60], age, side="right")
    return st.build([{"image": images, "tone": TONE, "gender": GENDER,
                      "predicted_gender": predicted, "age": age, "predicted_age": read,
                      "age_group": groups}], schema, path)


def test_classes_per_group_by_hand(tmp_path: Path) -> None:
    store = _store(tmp_path / "s")
    s = group_accuracy(store, "predicted_gender", "gender", "tone", tmp_path / "a")
    t0, t1, t2 = s["groups"]
    # t2: 6 wrong and the row without a prediction: 3 of 10 right
    assert [t0["correct"], t1["correct"], t2["correct"]] == [9, 7, 3]
    assert [t0["no_prediction"], t2["no_prediction"]] == [0, 1]
    assert "within_one" not in t0          # gender's classes have no order
    assert t2["accuracy_predicted"] == pytest.approx(3 / 9)
    low, high = wilson_interval(np.array([7]), 10)[0]
    assert (t1["low"], t1["high"]) == (pytest.approx(low), pytest.approx(high))
    assert s["overall"]["correct"] == 19 and s["overall"]["n"] == 30
    # recall of 'female' in t0: rows 0, 2, 4, 6, 8; row 0 wrong
    assert t0["recall"]["female"] == pytest.approx(0.8)
    across = s["across"]
    assert across["error_ratio"] == pytest.approx(0.7 / 0.1)
    assert across["accuracy_gap"] == pytest.approx(0.6)
    chi2 = chi2_contingency(np.array([[1, 9], [3, 7], [7, 3]]), correction=False)
    assert across["chi2"]["statistic"] == pytest.approx(chi2[0])
    assert across["trend"]["r"] > 0.4 and across["trend"]["p_value"] < 0.01
    with open(tmp_path / "a" / "confusion.csv", newline="") as fh:
        confusion = list(csv.DictReader(fh))
    assert {"group": "t2", "true": "male", "predicted": "unknown", "rows": "1"} in confusion
    assert sum(int(r["rows"]) for r in confusion) == 30
    assert (tmp_path / "a" / "accuracy.png").stat().st_size > 0


def test_values_per_group(tmp_path: Path) -> None:
    store = _store(tmp_path / "s")
    s = group_accuracy(store, "predicted_age", "age", "tone", tmp_path / "v")
    assert s["kind"] == "values"
    t0, _, t2 = s["groups"]
    assert t0["mae"] == pytest.approx(2.0) and t2["mae"] == pytest.approx(8.0)
    assert t0["bias"] == pytest.approx(0.0, abs=1e-5)
    assert s["across"]["mae_ratio"] == pytest.approx(4.0)
    trend = s["across"]["trend"]
    assert trend["slope"] == pytest.approx(3.0) and trend["low"] > 0


def test_the_mae_gap_is_the_highest_minus_the_lowest_whatever_the_order() -> None:
    """Two rows a group, the first group read 4 off and the second 1 off: the MAE gap is
    4 - 1 and the ratio 4 / 1, the worst group listed first."""
    from latentplay.audit.accuracy import _values

    s = _values(np.zeros(4), np.array([4.0, -4.0, 1.0, -1.0]), ["a", "b"],
                np.array([0, 0, 1, 1]), ordered=False)
    assert [r["mae"] for r in s["groups"]] == pytest.approx([4.0, 1.0])
    assert s["across"]["mae_gap"] == pytest.approx(3.0)
    assert s["across"]["mae_ratio"] == pytest.approx(4.0)


def test_the_chance_gap_widens_by_the_root_of_the_design_effect() -> None:
    """Two groups of 10000 at accuracy 0.5: their drawn accuracies differ by
    N(0, 2 pq / n) times the design effect, so the mean gap is sqrt(2 pq deff / n) sqrt(2 / pi)."""
    from latentplay.audit.accuracy import chance_gap

    counts = np.array([[5000, 5000], [5000, 5000]])
    for deff in (1.0, 4.0):
        expected = np.sqrt(2 * 0.25 * deff / 10000) * np.sqrt(2 / np.pi)
        assert chance_gap(counts, deff, draws=4000) == pytest.approx(expected, rel=0.05)


def test_readings_of_one_persons_photos_widen_the_value_intervals(tmp_path: Path) -> None:
    """12 persons of 10 photos in 3 ordered sites, each person read with an error of their
    own: the bias and MAE intervals, and the slope's, bootstrap over the 12 persons and are
    wider than the normal ones over 120 rows."""
    person = np.repeat(np.arange(12), 10)
    offset = np.random.default_rng(0).normal(0, 6, 12)[person]
    age = np.linspace(20, 60, 120).astype(np.float32)
    attributes = [Attribute("site", "categorical", names=["a", "b", "c"], ordered=True),
                  Attribute("age", "continuous", range=(0, 100)),
                  Attribute("predicted_age", "continuous")]
    images = [st.encode_png(np.zeros((4, 4, 3), np.uint8))] * 120
    columns = {"image": images, "site": person // 4, "age": age,
               "predicted_age": age + offset + np.tile([0.5, -0.5], 60)}
    summaries = []
    for name, extra in (("rows", {}), ("persons", {"identity": person})):
        names = [Attribute("identity", "categorical", names=[f"p{i}" for i in range(12)])] \
            if extra else []
        schema = Schema(attributes=[*names, *attributes],
                        provenance=Provenance(source="test", converter="unit"))
        store = st.build([{**columns, **extra}], schema, tmp_path / name)
        summaries.append(group_accuracy(store, "predicted_age", "age", "site", tmp_path / f"o{name}"))
    rows, persons = summaries
    assert (rows["intervals"], persons["intervals"]) == ("Student's t", "bootstrap over persons")
    for plain, over in zip(rows["groups"], persons["groups"], strict=True):
        assert over["bias"] == pytest.approx(plain["bias"])
        assert over["bias_high"] - over["bias_low"] > 2 * (plain["bias_high"] - plain["bias_low"])
    slope = [s["across"]["trend"] for s in summaries]
    assert slope[1]["slope"] == pytest.approx(slope[0]["slope"])
    assert slope[1]["high"] - slope[1]["low"] > 2 * (slope[0]["high"] - slope[0]["low"])


def test_value_intervals_need_two_persons() -> None:
    """A group of one person's photos has no interval over persons (every draw is that
    person: the bootstrap gave a point, printed as if certain); a group of many persons keeps
    its bootstrap interval, absolute errors in [0, 1] included."""
    from latentplay.audit.accuracy import _values
    from latentplay.audit.accuracy_text import _group_text

    rng = np.random.default_rng(0)
    truth = rng.uniform(0, 1, 60)
    predicted = truth + rng.normal(0, 0.01, 60)
    groups = np.r_[np.zeros(50, int), np.ones(10, int)]
    persons = np.r_[np.arange(50), np.full(10, 99)]     # b: ten photos of one person
    a, b = _values(predicted, truth, ["a", "b"], groups, ordered=False, persons=persons)["groups"]
    assert b["mae"] is not None and b["mae_low"] is b["bias_high"] is None
    assert "; one person: no interval" in _group_text(b, values=True)
    assert a["mae_low"] < a["mae"] < a["mae_high"] < 2 * a["mae"]


def test_readings_against_interval_groups(tmp_path: Path) -> None:
    store = _store(tmp_path / "s")
    s = group_accuracy(store, "predicted_age", "age_group", "tone", tmp_path / "g")
    assert s["kind"] == "interval groups"
    age = np.linspace(5, 80, 30)
    read = store.labels("predicted_age")
    true = np.searchsorted([20, 40, 60], age, side="right")
    got = np.searchsorted([20, 40, 60], read, side="right")
    assert s["overall"]["correct"] == int((true == got).sum())
    # ordered classes: how far off, and which way
    assert s["overall"]["within_one"] == 1.0
    assert s["overall"]["offset"] == pytest.approx((got - true).mean())


@pytest.mark.parametrize(("args", "message"), [
    (("gender", "gender", "tone"), "two different attributes"),
    (("predicted_age", "gender", "tone"), "compare classes with classes"),
    (("predicted_gender", "gender", "age"), "is continuous; cut it into groups"),
    (("predicted_gender", "gender", "mood"), "no attribute 'mood'"),
    # labels none of whose classes the predictions name: nothing to judge (drew no figure:
    # ZeroDivisionError with confidences)
    (("predicted_gender", "tone", "gender"), "no row to judge: none has a 'tone' label"),
])
def test_refusals(tmp_path: Path, args, message) -> None:
    store = _store(tmp_path / "s")
    with pytest.raises(UserError, match=message):
        group_accuracy(store, *args, tmp_path / "x")


def test_cli_and_report(tmp_path: Path, cli) -> None:  # noqa: ANN001 - fixture
    store = _store(tmp_path / "s")
    out = tmp_path / "a"
    r = cli("audit", "accuracy", store.path, "--predicted", "predicted_gender", "--truth",
            "gender", "--by", "tone", "--out", out)
    assert r.code == 0, r.err
    text = " ".join(r.out.split())
    assert "t2: accuracy 0.300" in text and "1 without a prediction, 0.333 of the rest" in text
    assert "along tone: errors trend r +0." in text
    saved = json.loads((out / "accuracy.json").read_text())
    assert saved["by"] == "tone"
    assert saved["made_by"]["command"] == (f"latentplay audit accuracy {store.path} --predicted "
                                           f"predicted_gender --truth gender --by tone --out {out}")
    assert saved["data_digest"] == store_digest(st.load(store.path))
    html = build_report(out).read_text()
    assert "Accuracy of predicted_gender by tone" in html and "accuracy where predicted" in html
    r = cli("audit", "accuracy", store.path, "--predicted", "predicted_gender", "--truth", "age",
            "--by", "tone", "--out", tmp_path / "b")
    assert r.code == 2 and r.err.startswith("error: ")


PERSON = np.repeat(np.arange(12), 10)
"""12 persons of 10 photos each; persons 0-5 at site a, 6-11 at site b."""


def _persons_store(path: Path, wrong: np.ndarray, site: np.ndarray | None = None) -> st.Store:
    """The 120 photos of :data:`PERSON`, label ``x`` everywhere, guessed ``y`` where ``wrong``;
    ``site`` ``(120,)`` 0 (a) or 1 (b), by default persons 6-11 at b."""
    schema = Schema(attributes=[
        Attribute("identity", "categorical", names=[f"p{i}" for i in range(12)]),
        Attribute("site", "categorical", names=["a", "b"]),
        Attribute("label", "categorical", names=["x", "y"]),
        Attribute("guess", "categorical", names=["x", "y"])],
        provenance=Provenance(source="test", converter="unit"))
    images = [st.encode_png(np.zeros((4, 4, 3), np.uint8))] * 120
    site = PERSON >= 6 if site is None else site
    return st.build([{"image": images, "identity": PERSON, "site": site.astype(int),
                      "label": np.zeros(120, np.int64), "guess": wrong.astype(np.int64)}],
                    schema, path)


def test_photos_of_one_person_widen_the_intervals(tmp_path: Path) -> None:
    """Ten photos of each of 12 persons, a person's photos all right or all wrong: the
    bootstrap over persons sees 12 draws, not 120, and its interval is wider than Wilson's."""
    store = _persons_store(tmp_path / "p", PERSON % 3 == 0)   # 4 persons always wrong
    s = group_accuracy(store, "guess", "label", "site", tmp_path / "a")
    assert s["persons"] == 12 and s["intervals"] == "bootstrap over persons"
    overall = s["overall"]
    wilson = wilson_interval(np.array([80]), 120)[0]
    assert overall["accuracy"] == pytest.approx(80 / 120)
    assert overall["high"] - overall["low"] > 1.5 * (wilson[1] - wilson[0])


def test_photos_of_one_person_weaken_the_tests_between_groups(cli, tmp_path: Path) -> None:
    """Ten photos of each of 12 persons, each person's all right or all wrong, 1 of 6 persons
    wrong at one site and 3 of 6 at the other: 120 rows make the gap look certain, 12 persons
    do not; the Rao-Scott test over persons says so."""
    store = _persons_store(tmp_path / "p", np.isin(PERSON, [0, 6, 7, 8]))
    s = group_accuracy(store, "guess", "label", "site", tmp_path / "a")
    chi2 = s["across"]["chi2"]
    over = chi2["persons_test"]
    assert chi2["p_value"] < 1e-3 and over["p_value"] > 0.05
    assert over["clusters"] == 12 and 5 < over["design_effect"] < 12
    # 12 persons see only a far larger gap than 120 independent rows would
    seen = s["across"]["detectable_gap"]
    assert seen["gap_over_persons"] > 2 * seen["gap"]
    r = cli("audit", "accuracy", store.path, "--predicted", "guess", "--truth", "label",
            "--by", "site", "--out", tmp_path / "b")
    assert r.code == 0, r.err
    assert f"over 12 persons p {p_text(over['p_value'])}" in " ".join(r.out.split())
    assert "chi-square over persons (Rao-Scott)" in build_report(tmp_path / "b").read_text()


def test_a_site_of_one_persons_photos_has_no_test_over_persons(cli, tmp_path: Path) -> None:
    """Site b is person 0's 10 photos, 3 of them misread; site a 110 photos of 11 persons,
    0 to 5 of each one's misread.
    How one person's photos split between right and wrong cannot be measured over persons
    (Rao-Scott's design effect came out 0.17, a test more certain than the rows'): no test
    over persons, and the printout says why. With person 6's photos the only wrong ones at a
    site of six persons, there is one (design effect above 1)."""
    wrong = np.arange(120) % 10 < np.repeat([3, 1, 5, 2, 4, 0] * 2, 10)
    store = _persons_store(tmp_path / "p", wrong, site=PERSON == 0)
    s = group_accuracy(store, "guess", "label", "site", tmp_path / "a")
    assert s["persons"] == 12 and s["across"]["chi2"]["persons_test"] is None
    r = cli("audit", "accuracy", store.path, "--predicted", "guess", "--truth", "label",
            "--by", "site", "--out", tmp_path / "b")
    assert r.code == 0, r.err
    assert "; no test over persons (a group all of one person's photos, both right and wrong" \
        in " ".join(r.out.split())
    one = group_accuracy(_persons_store(tmp_path / "q", PERSON == 6), "guess", "label", "site",
                         tmp_path / "c")
    assert one["across"]["chi2"]["persons_test"]["design_effect"] > 1


def test_accuracy_by_person_has_no_test_over_persons(cli, tmp_path: Path) -> None:
    """By identity, each of the 12 persons' photos all right or all wrong: 11 degrees of
    freedom for 12 persons leave none to measure the persons' design effect (a test was made,
    on 11 and 121 dof); the printout says so."""
    store = _persons_store(tmp_path / "p", PERSON % 3 == 0)
    s = group_accuracy(store, "guess", "label", "identity", tmp_path / "a")
    chi2 = s["across"]["chi2"]
    assert chi2["persons_test"] is None
    assert chi2["persons_refused"].startswith(
        "its 11 degrees of freedom are as many as the 12 persons less one")
    r = cli("audit", "accuracy", store.path, "--predicted", "guess", "--truth", "label",
            "--by", "identity", "--out", tmp_path / "b")
    assert r.code == 0, r.err
    assert "; no test over persons: its 11 degrees of freedom are as many as the 12 persons" \
        in " ".join(r.out.split())


def test_an_annotator_file_labels_a_store(cli, faces: Path, skin_annotator,  # noqa: ANN001
                                          skin_annotator_file: Path, tmp_path: Path) -> None:
    """data predict --with ANNOTATOR.npz writes the annotator's classes and probabilities,
    which audit accuracy then scores per group."""
    import shutil

    copy = tmp_path / "faces"
    shutil.copytree(faces, copy)
    r = cli("data", "predict", copy, "--with", skin_annotator_file)
    assert r.code == 0, r.err
    assert "predicted_skin_tone equals skin_tone in" in " ".join(r.out.split())
    labelled = st.load(copy)
    proba = skin_annotator.proba_store(labelled, np.arange(len(labelled)))
    names = labelled.schema.attribute("predicted_skin_tone").names
    assert names == skin_annotator.classes
    np.testing.assert_array_equal(labelled.labels("predicted_skin_tone"), proba.argmax(1))
    np.testing.assert_allclose(labelled.labels("predicted_skin_tone_p"), proba.max(1), atol=1e-5)
    s = group_accuracy(labelled, "predicted_skin_tone", "skin_tone", "gender", tmp_path / "a")
    assert s["overall"]["accuracy"] > 0.9
    # its probabilities are the confidences whose calibration is measured
    known = np.asarray(labelled.labels("skin_tone")) >= 0
    assert s["confidence"] == "predicted_skin_tone_p"
    assert s["calibration"]["overall"]["confidence"] == pytest.approx(
        proba.max(1)[known].mean(), abs=1e-5)
    bad = cli("data", "predict", copy, "--with", skin_annotator_file, "--heads", "x=a,b")
    assert bad.code == 2 and "takes no --heads" in bad.err
    bad = cli("data", "predict", copy, "--with", "onnx:net.onnx")
    assert bad.code == 2 and "--heads is needed" in bad.err


def test_the_smallest_gap_an_audit_sees() -> None:
    """50 faces against 950 at accuracy 0.9: a group that much less accurate (Fleiss'
    formula holds at the gap found) is told apart by the chi-square test about 80 % of the
    time."""
    from latentplay.audit.accuracy import detectable_gap

    counts = np.array([[5, 45], [95, 855]])
    seen = detectable_gap(["small", "large"], counts)
    d = seen["gap"]
    pbar = (50 * (0.9 - d) + 950 * 0.9) / 1000
    need = (1.959964 * np.sqrt(pbar * (1 - pbar) * (1 / 50 + 1 / 950))
            + 0.841621 * np.sqrt((0.9 - d) * (0.1 + d) / 50 + 0.09 / 950))
    assert seen["group"] == "small" and d == pytest.approx(need, abs=1e-9) and 0.1 < d < 0.2
    rng = np.random.default_rng(0)
    small = rng.binomial(50, 0.9 - seen["gap"], 2000)
    large = rng.binomial(950, 0.9, 2000)
    found = [chi2_contingency(np.array([[50 - a, a], [950 - b, b]]), correction=False)[1] < 0.05
             for a, b in zip(small, large, strict=True)]
    assert 0.75 < np.mean(found) < 0.85


def test_the_printed_lines(tmp_path: Path) -> None:
    """``accuracy_lines``: what the command prints of a summary, a group too small for an
    error included."""
    from latentplay.audit.accuracy import measure_accuracy
    from latentplay.audit.accuracy_text import accuracy_lines

    s, confusion = measure_accuracy(_store(tmp_path / "s"), "predicted_gender", "gender", "tone")
    lines = accuracy_lines(s)
    assert lines[0] == ("predicted_gender against gender (classes), by tone; 0 rows without a "
                        "label or a group left out")
    t2 = next(line for line in lines if line.startswith("  t2:"))
    assert t2.startswith("  t2: accuracy 0.300 [") and t2.endswith(
        "(3 of 10; 1 without a prediction, 0.333 of the rest right)")
    assert any(line.startswith("  the smallest gap this audit sees") for line in lines)
    assert sum(r["rows"] for r in confusion) == 30 and not (tmp_path / "a").exists()
    values, _ = measure_accuracy(_store(tmp_path / "v"), "predicted_age", "age", "tone")
    values["groups"][0] = {"group": "t0", "n": 1, "mae": None, "bias": None, "r": None}
    assert "  t0: too few rows (1)" in accuracy_lines(values)


def test_an_undefined_error_ratio_names_the_groups_without_errors(tmp_path: Path) -> None:
    """Tone t0 predicted without an error (its one wrong row put right): no ratio of errors,
    and the line says why."""
    from latentplay.audit.accuracy import measure_accuracy
    from latentplay.audit.accuracy_text import accuracy_lines

    store = _store(tmp_path / "s")
    predicted = np.asarray(store.labels("predicted_gender")).copy()
    predicted[0] = GENDER[0]
    names = ["female", "male", "unknown"]
    store = st.add_attributes(store, {"fixed": (Attribute("fixed", "categorical", names=names),
                                                predicted)})
    s, _ = measure_accuracy(store, "fixed", "gender", "tone")
    assert s["across"]["error_ratio"] is None
    across = next(line for line in accuracy_lines(s) if line.startswith("  across groups:"))
    assert across.startswith("  across groups: error ratio - (no errors in t0), accuracy gap ")
    read = np.asarray(store.labels("age"), np.float64)
    read[TONE == 1] = np.asarray(store.labels("predicted_age"))[TONE == 1]
    store = st.add_attributes(store, {"exact_age": (Attribute("exact_age", "continuous"), read)})
    values, _ = measure_accuracy(store, "exact_age", "age", "tone")
    assert "  across groups: MAE ratio - (no error in t0, t2), MAE gap " in "\n".join(
        accuracy_lines(values))
    many = [{**s["groups"][0], "group": f"p{i}"} for i in range(25)] + [s["groups"][1]]
    across = next(line for line in accuracy_lines({**s, "groups": many})
                  if line.startswith("  across groups:"))
    assert "(no errors in p0, p1, p2, p3, p4, p5, p6, p7, p8, p9 and 15 more)" in across


def _partly_read(path: Path, unread: slice, name: str) -> st.Store:
    """The test store with a continuous reading ``name``: ``predicted_age`` with the rows
    ``unread`` left without a value."""
    store = _store(path)
    read = np.asarray(store.labels("predicted_age"), np.float64)
    read[unread] = np.nan
    return st.add_attributes(store, {name: (Attribute(name, "continuous"), read)})


def test_a_group_with_one_reading_keeps_the_table_whole(tmp_path: Path) -> None:
    """Values: tone t0 keeps one reading (the rest have none), too few for an error; its
    row still has every column, so accuracy.csv keeps the others' intervals."""
    from latentplay.audit.accuracy import _write_table, measure_accuracy

    store = _partly_read(tmp_path / "s", slice(1, 10), "sparse_age")
    s, _ = measure_accuracy(store, "sparse_age", "age", "tone")
    t0, t1, _ = s["groups"]
    assert t0["n"] == 1 and t0["mae"] is None and t0.keys() == t1.keys()
    _write_table(tmp_path / "accuracy.csv", s)
    with open(tmp_path / "accuracy.csv", newline="") as fh:
        table = {r["group"]: r for r in csv.DictReader(fh)}
    assert float(table["t1"]["mae_low"]) == pytest.approx(t1["mae_low"])
    assert table["t0"]["mae_low"] == "" and float(table["all rows"]["bias_high"]) > 0


def test_the_gap_chance_alone_makes(tmp_path: Path) -> None:
    """The highest minus the lowest accuracy is biased upward: three equally accurate groups
    of 10 rows at the pooled 19/30 differ by the exact mean range of three Binomial(10, p)
    shares; over 12 persons of 10 photos the chance gap is wider still."""
    from scipy.stats import binom

    s = group_accuracy(_store(tmp_path / "s"), "predicted_gender", "gender", "tone", tmp_path / "a")
    x = np.arange(11) / 10
    below, upto = binom.cdf(np.arange(11) - 1, 10, 19 / 30), binom.cdf(np.arange(11), 10, 19 / 30)
    mean_max = float(x @ (upto ** 3 - below ** 3))
    mean_min = float(x @ ((1 - below) ** 3 - (1 - upto) ** 3))
    assert s["across"]["chance_gap"] == pytest.approx(mean_max - mean_min, abs=0.01)
    assert 0.2 < s["across"]["chance_gap"] < s["across"]["accuracy_gap"]
    persons = group_accuracy(_persons_store(tmp_path / "p", np.isin(PERSON, [0, 6, 7, 8])),
                             "guess", "label", "site", tmp_path / "b")["across"]
    assert persons["chance_gap_over_persons"] > 2 * persons["chance_gap"]


def test_a_sparse_table_gets_its_chi_square_p_by_simulation() -> None:
    """Three groups of 4 rows with 3 errors among them: every cell expects 1 or 3 rows, so the
    chi-square curve is a rough guide; the simulated p matches the exact one, counted over
    every way of dealing the 3 errors to the 12 rows."""
    from itertools import combinations

    from latentplay.audit.accuracy import _across
    from latentplay.contingency import simulated_p

    counts = np.array([[2, 2], [1, 3], [0, 4]])      # (wrong, right) per group
    statistic = chi2_contingency(counts, correction=False)[0]
    group = np.repeat(np.arange(3), 4)
    drawn = []
    for wrong in combinations(range(12), 3):
        w = np.bincount(group[list(wrong)], minlength=3)
        drawn.append(chi2_contingency(np.stack([w, 4 - w], axis=1), correction=False)[0])
    exact = float(np.mean(np.array(drawn) >= statistic - 1e-9))
    assert simulated_p(counts, statistic) == pytest.approx(exact, abs=0.015)
    scored = [{"group": g, "accuracy": r / 4} for g, r in zip("abc", counts[:, 1], strict=True)]
    test = _across(scored, counts, None, [r["group"] for r in scored])["chi2"]
    assert test["sparse"] == 1.0 and test["p_value_simulated"] == pytest.approx(exact, abs=0.015)
    assert abs(test["p_value"] - exact) > 0.05  # the chi-square curve is off here
    plenty = _across(scored, counts * 20, None, [r["group"] for r in scored])["chi2"]
    assert plenty["sparse"] == 0 and "p_value_simulated" not in plenty


def test_rows_without_a_reading_are_counted_in_their_group(tmp_path: Path) -> None:
    """Values: a regressor that reads no age for 6 of tone t2's 10 faces. They have a label
    and a group, so they are not 'left out without a label or a group': t2 says it lost
    them, and its error is over the 4 it read."""
    from latentplay.audit.accuracy import measure_accuracy
    from latentplay.audit.accuracy_text import accuracy_lines

    store = _partly_read(tmp_path / "s", slice(20, 26), "some_age")
    s, _ = measure_accuracy(store, "some_age", "age", "tone")
    t0, _, t2 = s["groups"]
    assert s["left_out"] == 0
    assert (t0["n"], t0["no_reading"], t2["n"], t2["no_reading"]) == (10, 0, 4, 6)
    assert (s["overall"]["n"], s["overall"]["no_reading"]) == (24, 6)
    assert "(4 rows; 6 without a reading left out)" in "\n".join(accuracy_lines(s))


def test_labels_the_predictions_cannot_name_are_told_apart(tmp_path: Path) -> None:
    """A gender classifier that knows female and male, audited against labels that also
    hold 'other' (rows 1 and 3): those rows cannot be predicted and are left out, said as
    such -- they have a label and a group, so they are not among the rows without one."""
    from latentplay.audit.accuracy import measure_accuracy
    from latentplay.audit.accuracy_text import accuracy_lines

    store = _store(tmp_path / "s")
    labels = np.asarray(store.labels("gender")).copy()
    labels[[1, 3]] = 2
    store = st.add_attributes(store, {"gender3": (
        Attribute("gender3", "categorical", names=["female", "male", "other"]), labels)})
    s, _ = measure_accuracy(store, "predicted_gender", "gender3", "tone")
    assert s["left_out"] == 0
    assert s["unnamed"] == {"rows": 2, "classes": ["other"]}
    assert s["groups"][0]["n"] == 8 and s["overall"]["n"] == 28
    assert "2 rows labelled other, which the predictions cannot name, left out" in \
        " ".join(accuracy_lines(s))


def test_values_without_a_reading_are_refused_for_that_reason(tmp_path: Path) -> None:
    """Values: no row read is no row to judge, and the refusal says so (not that the labels
    are ones the predictions cannot name)."""
    from latentplay.audit.accuracy import measure_accuracy

    store = _partly_read(tmp_path / "s", slice(None), "unread_age")
    with pytest.raises(UserError, match="no row to judge: none has an? 'unread_age' reading, an? "
                       "'age' value and a 'tone' group") as caught:
        measure_accuracy(store, "unread_age", "age", "tone")
    assert "can predict" not in str(caught.value)


def test_an_interrupted_audit_leaves_its_out_as_it_was(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """The files are written beside --out and moved in once all are: stopped while drawing
    its figures, an audit with --overwrite left its new tables beside the earlier run's
    figures, and one into a new --out left tables without a figure there."""
    from latentplay.viz import grid

    store = _store(tmp_path / "s")
    out = tmp_path / "a"
    group_accuracy(store, "predicted_gender", "gender", "tone", out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def killed(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(grid, "save_figure", killed)
    with pytest.raises(KeyboardInterrupt):
        group_accuracy(store, "predicted_gender", "gender", "tone", out, seed=1, overwrite=True)
    with pytest.raises(KeyboardInterrupt):
        group_accuracy(store, "predicted_gender", "gender", "tone", tmp_path / "new")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert not any((tmp_path / "new").iterdir())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "new", "s"]   # no scratch left


def test_overwrite_removes_the_tables_only_an_earlier_run_wrote(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    """With --overwrite, a run without --positive (no parity) or of values (no confusion) kept
    the earlier run's parity.csv and confusion.csv beside its own files; a file not the
    audit's own stays."""
    store = _store(tmp_path / "s")
    out = tmp_path / "a"
    group_accuracy(store, "predicted_gender", "gender", "tone", out, positive="female")
    assert {"parity.csv", "parity.png", "confusion.csv"} <= {p.name for p in out.iterdir()}
    (out / "notes.txt").write_text("mine")
    group_accuracy(store, "predicted_age", "age", "tone", out, overwrite=True)
    left = {p.name for p in out.iterdir()}
    assert not left & {"parity.csv", "parity.png", "confusion.csv"} and "notes.txt" in left
    assert "confusion.csv, parity.csv, parity.png" in capsys.readouterr().err


def test_trends_step_along_the_order_over_a_class_without_rows(tmp_path: Path) -> None:
    """Ten rows each of tones t0, t1 and t3 (t2 has none): errors rise by one wrong row, MAE by
    1 and over-confidence by 0.1 per step of the order, places 0, 1, 3. Numbered 0, 1, 2 among
    the tones with rows, the last step would count as one: slope 1.5, not 1."""
    from latentplay.audit.accuracy_text import accuracy_lines

    tone = np.repeat([0, 1, 3], 10)
    place = tone.astype(float)                       # t3 is two steps after t1
    gender = np.tile([0, 1], 15)
    wrong = np.zeros(30, bool)
    wrong[[0, 10, 11, 20, 21, 22, 23]] = True        # 1, 2 and 4 of 10 wrong: 0.1 + 0.1 * place
    age = np.linspace(5, 80, 30)
    schema = Schema(attributes=[
        Attribute("tone", "categorical", names=["t0", "t1", "t2", "t3"], ordered=True),
        Attribute("gender", "categorical", names=["female", "male"]),
        Attribute("predicted_gender", "categorical", names=["female", "male", "unknown"]),
        Attribute("predicted_gender_p", "continuous", range=(0, 1)),
        Attribute("age", "continuous", range=(0, 100)),
        Attribute("predicted_age", "continuous")],
        provenance=Provenance(source="test", converter="unit"))
    store = st.build([{"image": [st.encode_png(np.zeros((4, 4, 3), np.uint8))] * 30,
                       "tone": tone, "gender": gender,
                       "predicted_gender": np.where(wrong, 1 - gender, gender),
                       "predicted_gender_p": np.full(30, 0.9, np.float32),   # 0.9 - accuracy
                       "age": age, "predicted_age": age + (1 + place) * np.tile([1, -1], 15)}],
                     schema, tmp_path / "s")
    s = group_accuracy(store, "predicted_gender", "gender", "tone", tmp_path / "a")
    # linear-by-linear test over the rows: r of (place, wrong), M2 = (n - 1) r^2; sums
    # u w = 0 + 2 + 12 = 14, u = 40, u^2 = 100, w = 7 over n = 30
    cov, var_u, var_w = 14 / 30 - (40 / 30) * (7 / 30), 100 / 30 - (40 / 30) ** 2, 7 / 30 * 23 / 30
    r = cov / np.sqrt(var_u * var_w)
    trend = s["across"]["trend"]
    assert trend["r"] == pytest.approx(r) and trend["statistic"] == pytest.approx(29 * r * r)
    assert (trend["groups"], trend["gaps"]) == (["t0", "t1", "t3"], ["t2"])
    # over-confidence 0.9 - (0.9, 0.8, 0.6) = 0.1 per step of place (float32's 0.9 kept)
    cal = s["calibration"]["across"]["trend"]
    assert cal["slope"] == pytest.approx(0.1, abs=1e-6) and cal["gaps"] == ["t2"]
    text = " ".join(" ".join(accuracy_lines(s)).split())
    assert "along tone (no rows in t2): errors trend r" in text
    assert "along tone (no rows in t2): over-confidence +0.100 per step" in text
    assert "order (no rows in t2)" in build_report(tmp_path / "a").read_text()
    values = group_accuracy(store, "predicted_age", "age", "tone", tmp_path / "v")
    # |error| 1, 2, 4 at places 0, 1, 3: on the line 1 + place
    assert values["across"]["trend"]["slope"] == pytest.approx(1.0)
    assert values["across"]["trend"]["gaps"] == ["t2"]
    assert "along tone (no rows in t2): absolute error +1 per step" in \
        " ".join(" ".join(accuracy_lines(values)).split())
    # every tone with rows: no gaps, and the lines say none
    plain = group_accuracy(_store(tmp_path / "p"), "predicted_gender", "gender", "tone",
                           tmp_path / "b")
    assert plain["across"]["trend"]["gaps"] == [] and "no rows in" not in " ".join(accuracy_lines(plain))


def test_the_trend_over_persons_scores_the_order_s_places() -> None:
    """Photos of 15 persons in groups a, b and d of the order a..d (c without rows): the
    Rao-Scott trend over persons takes each row's place 0, 1 or 3, as the trend test does."""
    from latentplay.audit.accuracy import _classes_summary
    from latentplay.clustered import clustered_trend

    groups = np.repeat([0, 1, 2], 10)               # codes into the groups a, b, d
    place = np.repeat([0.0, 1.0, 3.0], 10)
    truth = np.tile([0, 1], 15)
    wrong = np.zeros(30, bool)
    wrong[[0, 1, 10, 11, 12, 20, 21, 22, 23, 24, 25]] = True
    pred = np.where(wrong, 1 - truth, truth)
    persons = np.repeat(np.arange(15), 2)
    s = _classes_summary(["f", "m"], ["f", "m", "unknown"], truth, pred, ~wrong,
                         np.ones(30, bool), ["a", "b", "d"], groups, True, False, persons,
                         order=["a", "b", "c", "d"])
    trend = s["across"]["trend"]
    r = np.corrcoef(place, wrong)[0, 1]
    assert trend["r"] == pytest.approx(r) and trend["gaps"] == ["c"]
    over = clustered_trend(place, ~wrong, persons, trend["statistic"])
    assert trend["persons_test"]["statistic"] == pytest.approx(over.statistic)
    assert trend["persons_test"]["statistic"] != pytest.approx(
        clustered_trend(np.repeat([0.0, 1.0, 2.0], 10), ~wrong, persons, trend["statistic"]).statistic)
