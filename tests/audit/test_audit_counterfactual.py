"""Counterfactual sensitivity: flips counted by hand on a decoder whose images show their code,
the random baseline, the check reading, and the command on a trained VAE."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from latentplay import store as st
from latentplay.audit.annotate import Annotator
from latentplay.audit.counterfactual import (
    ALL,
    Edits,
    check_table,
    checked_steps,
    condition_edits,
    counterfactuals,
    direction_edits,
    flip_table,
    most_changed,
    probability_table,
    random_axes,
)
from latentplay.audit.distribution import wilson_interval
from latentplay.errors import UserError
from latentplay.store.io import store_digest


def show_code(z: np.ndarray, condition: np.ndarray | None) -> np.ndarray:
    """(m, 4, 4, 3) uint8 images whose channel c is 128 + 40 z[:, c] everywhere."""
    values = np.clip(128 + 40 * z[:, :3], 0, 255).round().astype(np.uint8)
    return np.broadcast_to(values[:, None, None, :], (len(z), 4, 4, 3)).copy()


class ChannelReader(Annotator):
    """Reads class ``high`` when channel ``channel`` is above 128 (sharp logistic)."""

    def __init__(self, channel: int, attribute: str = "thing") -> None:
        self.channel, self.attribute = channel, attribute
        self.classes, self.evaluation = ["low", "high"], None

    @property
    def description(self) -> dict:
        return {"kind": "test", "channel": self.channel}

    def predict_proba(self, images: np.ndarray) -> np.ndarray:
        x = np.asarray(images, np.float64)[:, 0, 0, self.channel] - 128
        high = 1 / (1 + np.exp(-x))
        return np.stack([1 - high, high], axis=1)


Z = np.array([[-1.5, 0.3, -0.2], [-0.5, -0.4, 0.6], [0.5, 0.8, 0.1], [1.5, -0.9, -0.5]])
AXIS = np.array([1.0, 0.0, 0.0])


def along(steps: list[float], unit: float = 1.0, random: int = 0, z: np.ndarray = Z,
          condition: np.ndarray | None = None) -> Edits:
    return direction_edits(z, condition, AXIS, unit, steps, random=random, seed=1)


def test_flips_counted_by_hand() -> None:
    edits = along([1, -1], random=4)
    assert edits.labels == ["-1", "0", "+1"] and edits.zero == 1
    assert edits.codes.shape == (4, 3, 3) and edits.random.shape == (4, 4, 3, 3)
    r = counterfactuals(show_code, edits, ChannelReader(0))
    assert r.reference.tolist() == [0, 0, 1, 1]
    # step -1: codes -2.5, -1.5, -0.5, 0.5 -> only the third face changes (high -> low);
    # step +1: -0.5, 0.5, 1.5, 2.5 -> only the second (low -> high)
    assert r.flips().tolist() == [[False, False, False], [False, False, True],
                                  [True, False, False], [False, False, False]]
    # random directions are orthogonal to channel 0, which alone the reader reads
    assert r.random.shape == (4, 4, 3)
    assert not r.random_flips().any()
    rows = flip_table(r, r.reference, r.classes, n_boot=200)
    every = {x["step"]: x for x in rows if x["group"] == "all faces"}
    assert every["+1"]["flips"] == 1 and every["+1"]["rate"] == 0.25
    assert every["+1"]["excess"] == 0.25 and every["+1"]["random_rate"] == 0
    assert (every["+1"]["low"], every["+1"]["high"]) == tuple(wilson_interval([1], 4)[0])
    assert every["+1"]["excess_low"] <= 0.25 <= every["+1"]["excess_high"]
    low = {x["step"]: x for x in rows if x["group"] == "low"}
    high = {x["step"]: x for x in rows if x["group"] == "high"}
    assert (low["+1"]["rate"], low["-1"]["rate"]) == (0.5, 0.0)
    assert (high["+1"]["rate"], high["-1"]["rate"]) == (0.0, 0.5)
    assert low["+1"]["n"] == high["+1"]["n"] == 2
    # p_reference: the mean probability of each face's unedited class, 1/2 at the boundary
    assert 0.5 < every["0"]["p_reference"] <= 1


class ThreeReader(ChannelReader):
    """Channel 0 below 88: ``low``, above 168: ``high``, else ``mid`` (softmax of a sharp
    piecewise score)."""

    def __init__(self) -> None:
        super().__init__(0)
        self.classes = ["low", "mid", "high"]

    def predict_proba(self, images: np.ndarray) -> np.ndarray:
        x = np.asarray(images, np.float64)[:, 0, 0, 0]
        logits = np.stack([88 - x, np.minimum(x - 88, 168 - x), x - 168], axis=1)
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)


def test_shift_along_ordered_classes_by_hand() -> None:
    """Channel 0 is 128 + 40 z0: codes -1.5, -0.5, 0.5, 1.5 read low, mid, mid, high; at +1
    they read mid, mid, high, high (shifts 1, 0, 1, 0); at -1 low, low, mid, mid (0, -1, 0,
    -1). With ``high`` outside the order, faces reading it at either step are left out."""
    r = counterfactuals(show_code, along([-1, 1]), ThreeReader())
    assert r.reference.tolist() == [0, 1, 1, 2]
    rows = flip_table(r, r.reference, r.classes, places=np.array([0, 1, 2]))
    every = {x["step"]: x for x in rows if x["group"] == "all faces"}
    assert every["+1"]["shift"] == 0.5 and every["-1"]["shift"] == -0.5
    half = 3.182446 * np.std([1, 0, 1, 0], ddof=1) / 2       # t(0.975, 3 dof), from the tables
    assert every["+1"]["shift_low"] == pytest.approx(0.5 - half)
    assert every["0"]["shift"] == 0
    mid = {x["step"]: x for x in rows if x["group"] == "mid"}
    assert mid["+1"]["shift"] == 0.5 and mid["-1"]["shift"] == -0.5
    partial = flip_table(r, r.reference, r.classes, places=np.array([0, 1, -1]))
    every = {x["step"]: x for x in partial if x["group"] == "all faces"}
    assert every["+1"]["shift"] == 0.5 and every["-1"]["shift"] == pytest.approx(-1 / 3)
    assert "shift" not in flip_table(r, r.reference, r.classes)[0]


def test_intervals_over_persons() -> None:
    """Each face shown twice: taken as 2n faces the intervals are Wilson's and too narrow;
    over the n persons they are as wide as for the n faces themselves."""
    from latentplay.resample import mean_intervals

    z = np.random.default_rng(3).standard_normal((40, 3))
    twice = np.repeat(z, 2, axis=0)
    once = counterfactuals(show_code, along([1], z=z, random=2), ChannelReader(0))
    both = counterfactuals(show_code, along([1], z=twice, random=2), ChannelReader(0))
    persons = np.repeat(np.arange(40), 2)

    def width(rows: list, key: str = "") -> float:
        r = next(x for x in rows if x["group"] == "all faces" and x["step"] == "+1")
        return r[f"{key}high"] - r[f"{key}low"]

    naive = flip_table(both, both.reference, both.classes, n_boot=2000)
    clustered = flip_table(both, both.reference, both.classes, n_boot=2000, persons=persons)
    alone = flip_table(once, once.reference, once.classes, n_boot=2000)
    assert width(naive) < 0.8 * width(clustered)
    assert width(clustered) == pytest.approx(width(alone), rel=0.3)
    assert width(clustered, "excess_") == pytest.approx(width(alone, "excess_"), rel=0.3)
    # faces as their own units: the plain bootstrap of the means
    values = np.random.default_rng(0).standard_normal((50, 2))
    ci = mean_intervals(values, np.arange(50), 4000, 0)
    half = 1.96 * values.std(0, ddof=1) / np.sqrt(50)
    np.testing.assert_allclose(ci[:, 1] - ci[:, 0], 2 * half, rtol=0.15)


def test_no_interval_from_one_person_or_face() -> None:
    """A bootstrap over one person (or one face) draws the same mean every time: its
    "interval" is a point. The shift of a group of one person shown twice, whose two faces
    move differently, and the change and excess of a value reader's group of one face read,
    get no interval instead; the line printed of a step with one face read has none."""
    from latentplay.audit.counterfactual import check_means
    from latentplay.audit.counterfactual_text import _change_text
    from latentplay.audit.counterfactual_values import change_table, value_counterfactuals

    z = np.random.default_rng(3).standard_normal((40, 3))
    r = counterfactuals(show_code, along([-1, 1], z=z, random=2), ThreeReader(),
                        checks=[ValueReader()])
    persons, groups = np.arange(40), np.full(40, 1)
    persons[1], groups[:2] = 0, 0                 # group "one": one person with two faces
    rows = flip_table(r, groups, ["one", "rest"], places=np.array([0, 1, 2]), persons=persons,
                      n_boot=200)
    one = {x["step"]: x for x in rows if x["group"] == "one"}
    assert r.flips()[0, 0] != r.flips()[1, 0]                  # the two faces differ
    assert one["-1"]["shift"] == -0.5 and one["-1"]["shift_low"] is None
    rest = {x["step"]: x for x in rows if x["group"] == "rest"}
    assert rest["-1"]["shift_low"] < rest["-1"]["shift"] < rest["-1"]["shift_high"]
    alone = check_means(r, np.zeros(40, int))                  # every face one person
    assert alone[0]["n"] > 2 and alone[0]["mean_low"] is None
    values = value_counterfactuals(show_code, along([-1, 2], random=3), ValueReader())
    b = {x["step"]: x for x in change_table(values, np.array([0, 0, 1, 1]), ["a", "b"],
                                            n_boot=200) if x["group"] == "b"}
    assert b["+2"]["n"] == 1 and b["+2"]["excess"] == pytest.approx(2, abs=0.05)
    assert b["+2"]["excess_low"] is None and b["+2"]["excess_high"] is None
    assert _change_text(b["+2"]).endswith("excess +2")


class Truth(ChannelReader):
    """Reads channel 0; the store's labels of its attribute are ``labels``."""

    def __init__(self, labels: np.ndarray) -> None:
        super().__init__(0)
        self.labels = labels

    def store_truth(self, store: object) -> np.ndarray:
        return self.labels


def test_every_interval_is_over_persons() -> None:
    """Each face shown twice: the class probabilities, a check's mean readings and the
    accuracy on faces and decodings get intervals as wide as for the faces once, not
    1/sqrt(2) as wide."""
    from types import SimpleNamespace

    from latentplay.audit.counterfactual import check_means
    from latentplay.audit.counterfactual_run import _label_accuracy

    z = np.random.default_rng(5).standard_normal((40, 3))
    twice, persons = np.repeat(z, 2, axis=0), np.repeat(np.arange(40), 2)
    truth = (z[:, 1] > 0).astype(int)          # right about half the time, on no pattern
    results = {}
    for name, codes, units, labels in (("once", z, None, truth),
                                       ("naive", twice, None, np.repeat(truth, 2)),
                                       ("persons", twice, persons, np.repeat(truth, 2))):
        reader = Truth(labels)
        r = counterfactuals(show_code, along([1], z=codes), reader, checks=[ValueReader()],
                            images=show_code(codes, None))
        faces = SimpleNamespace(
            store=SimpleNamespace(schema=SimpleNamespace(
                has_attribute=lambda a: True,
                attribute=lambda a: SimpleNamespace(kind="categorical"))),
            reader=reader, codes=SimpleNamespace(rows=np.arange(len(codes))), persons=units,
            seed=0)
        results[name] = (probability_table(r, units), check_means(r, units),
                         _label_accuracy(faces, r))

    def widths(name: str) -> list[float]:
        probs, means, acc = results[name]
        return [probs[0]["high"] - probs[0]["low"],
                means[-1]["mean_high"] - means[-1]["mean_low"],
                acc["faces"]["high"] - acc["faces"]["low"],
                acc["decodings"]["high"] - acc["decodings"]["low"]]

    for once, naive, clustered in zip(widths("once"), widths("naive"), widths("persons"),
                                      strict=True):
        assert naive < 0.8 * clustered
        assert clustered == pytest.approx(once, rel=0.3)
    assert results["persons"][2]["faces"]["accuracy"] == results["once"][2]["faces"]["accuracy"]


def test_steps_scale_by_the_unit() -> None:
    """A unit of 2 latent units moves twice as far: step +1 now crosses for both low faces."""
    r = counterfactuals(show_code, along([1], unit=2.0), ChannelReader(0))
    assert r.flips()[:, -1].tolist() == [True, True, False, False]
    assert r.random_flips() is None
    assert "random_rate" not in flip_table(r, r.reference, r.classes)[0]


def test_random_steps_are_sds_of_the_codes_along_them() -> None:
    z = np.random.default_rng(0).standard_normal((500, 3)) * [1.0, 3.0, 0.1]
    edits = along([2], z=z, random=6)
    moved = edits.random[:, :, -1] - z[None]          # (R, n, D): each a constant move
    lengths = np.linalg.norm(moved[:, 0], axis=1)
    axes = moved[:, 0] / lengths[:, None]
    assert np.allclose(axes @ AXIS, 0, atol=1e-5)  # float32 codes
    np.testing.assert_allclose(lengths, 2 * (z @ axes.T).std(axis=0, ddof=1), rtol=1e-4)


def test_random_directions_drawn_as_the_codes_vary() -> None:
    """Codes spread 10 along z1 and 0.01 along z2: random directions drawn as they vary lie
    along z1; drawn on the sphere they do not."""
    z = np.random.default_rng(0).standard_normal((2000, 3)) * [1.0, 10.0, 0.01]
    codes = direction_edits(z, None, AXIS, 1.0, [1], random=20, seed=1)
    sphere = direction_edits(z, None, AXIS, 1.0, [1], random=20, seed=1, baseline="sphere")

    def axes(edits: Edits) -> np.ndarray:
        moved = edits.random[:, 0, -1] - z[0]
        return moved / np.linalg.norm(moved, axis=1, keepdims=True)

    assert np.all(np.abs(axes(codes)[:, 1]) > 0.99)
    assert np.mean(np.abs(axes(sphere)[:, 1]) < 0.9) > 0.3
    with pytest.raises(UserError, match="baseline must be"):
        direction_edits(z, None, AXIS, 1.0, [1], baseline="faces")


def test_random_baseline_catches_an_unrelated_reader() -> None:
    """A reader of channel 1 never changes along channel 0, but does along random directions."""
    z = np.random.default_rng(0).standard_normal((300, 3))
    r = counterfactuals(show_code, along([-2, 2], z=z, random=5), ChannelReader(1))
    assert not r.flips().any()
    rows = [x for x in flip_table(r, r.reference, r.classes, n_boot=200)
            if x["group"] == "all faces" and x["step"] == "+2"]
    assert rows[0]["random_rate"] > 0.1
    assert rows[0]["excess_high"] < 0


def test_check_and_reconstruction() -> None:
    images = show_code(Z, None)
    images[1] = 255  # the second face as the model sees it reads high; decoded, low
    r = counterfactuals(show_code, along([2]), ChannelReader(1),
                        checks=[ChannelReader(0, "edited"), ChannelReader(2, "kept")],
                        images=images)
    edited, kept = r.checks
    assert (edited.attribute, edited.classes) == ("edited", ["low", "high"])
    assert edited.codes.tolist() == [[0, 1], [0, 1], [1, 1], [1, 1]]
    assert kept.codes[:, 0].tolist() == kept.codes[:, 1].tolist() == [0, 1, 1, 0]
    shares = {(x["attribute"], x["step"], x["class"]): x["share"] for x in check_table(r)}
    assert shares[("edited", "+2", "high")] == 1 and shares[("edited", "0", "high")] == 0.5
    assert shares[("kept", "+2", "high")] == shares[("kept", "0", "high")] == 0.5
    assert r.reconstruction_agreement() == 0.75
    probs = probability_table(r)
    assert len(probs) == 2 * 2
    assert all(p["low"] <= p["mean"] <= p["high"] for p in probs)


def conditioned(z: np.ndarray, cond: np.ndarray | None) -> np.ndarray:
    """Channel 0 shows the condition's first entry, channels 1-2 the one-hot's second class."""
    return show_code(np.stack([cond[:, 0], cond[:, 2], cond[:, 2]], axis=1), None)


def test_condition_edits_shift_or_set_the_condition() -> None:
    cond = np.array([[-1.5, 1, 0], [-0.5, 1, 0], [0.5, 0, 1], [1.5, 0, 1]], np.float32)
    shifted = condition_edits(Z, cond, 0, shifts=[1])
    assert shifted.labels == ["0", "+1"] and shifted.zero == 0 and len(shifted.random) == 0
    assert np.array_equal(shifted.codes[:, 1], Z.astype(np.float32))  # codes kept
    np.testing.assert_allclose(shifted.conditions[:, 1, 0], cond[:, 0] + 1)
    assert np.array_equal(shifted.conditions[:, :, 1:], np.repeat(cond[:, None, 1:], 2, 1))
    r = counterfactuals(conditioned, shifted, ChannelReader(0))
    assert r.flips()[:, 1].tolist() == [False, True, False, False]   # -0.5 + 1 crosses
    set_to = condition_edits(Z, cond, 1, classes=["a", "b"])
    assert set_to.labels == ["own", "a", "b"] and set_to.positions is None
    assert set_to.conditions[:, 1, 1:].tolist() == [[1, 0]] * 4
    assert set_to.conditions[:, 2, 1:].tolist() == [[0, 1]] * 4
    r = counterfactuals(conditioned, set_to, ChannelReader(1))
    # faces of class b read high unedited; set to a they read low, and the reverse
    assert r.reference.tolist() == [0, 0, 1, 1]
    assert r.flips().tolist() == [[False, False, True], [False, False, True],
                                  [False, True, False], [False, True, False]]


def test_conditions_reach_the_decoder() -> None:
    seen = []

    def decoder(z: np.ndarray, cond: np.ndarray | None) -> np.ndarray:
        seen.append(cond)
        return show_code(z, None)

    cond = np.arange(8, dtype=np.float32).reshape(4, 2)
    counterfactuals(decoder, along([1], random=1, condition=cond), ChannelReader(0))
    # faces x steps rows, each face's condition repeated for its 2 steps; random ones too
    assert len(seen) == 2 and all(c.shape == (8, 2) for c in seen)
    assert np.array_equal(seen[0][::2], cond) and np.array_equal(seen[0][1::2], cond)


def test_weak_directions() -> None:
    from latentplay.latent.directions import Direction

    def made(kind: str, score: float) -> Direction:
        return Direction(np.array([1.0, 0.0]), "a", kind, None, None,
                         "svm" if kind == "categorical" else "ridge", 0.0, score, 10)

    assert made("categorical", 0.55).weak and not made("categorical", 0.9).weak
    assert made("continuous", 0.05).weak and not made("continuous", 0.4).weak


def test_helpers_and_refusals() -> None:
    assert checked_steps([2, -1, 2]).tolist() == [-1, 0, 2]
    with pytest.raises(UserError, match="other than 0"):
        checked_steps([0])
    axes = random_axes(np.array([0.6, 0.8, 0.0]), 5, seed=0)
    assert np.allclose(np.linalg.norm(axes, axis=1), 1)
    assert np.allclose(axes @ np.array([0.6, 0.8, 0.0]), 0)
    with pytest.raises(UserError, match="at least 2 faces"):
        along([1], z=Z[:1])
    r = counterfactuals(show_code, along([-1, 1]), ChannelReader(0))
    assert set(most_changed(r, 2).tolist()) == {1, 2}


def test_steps_must_be_finite() -> None:
    """``--alphas=nan`` or ``inf`` parse as numbers; decoded, NaN or infinite codes give
    garbage images that the classifier still reads: refused in one line instead."""
    with pytest.raises(UserError, match="--alphas must be finite numbers, got 0, \\+1, \\+nan"):
        checked_steps([1, float("nan")])
    with pytest.raises(UserError, match="finite"):
        along([float("inf")])
    with pytest.raises(UserError, match="finite"):
        condition_edits(Z, np.zeros((4, 1)), 0, shifts=[-float("inf"), 1])


def test_command_on_a_trained_vae(cli, coded: Path, vae_run: Path, skin_annotator_file: Path,
                                  tmp_path: Path) -> None:
    """A skin-tone classifier is the positive control: moving faces along the skin-tone
    direction changes its answer far more often than random steps of the same size do."""
    out = tmp_path / "cf"
    r = cli("audit", "counterfactual", vae_run, "--data", coded, "--direction",
            coded.parent / "skin.json", "--classifier", skin_annotator_file, "--check",
            skin_annotator_file, "--n", "120", "--alphas=-2,2", "--by", "gender,eyeglasses",
            "--out", out)
    assert r.code == 0, r.err
    assert "random directions" in r.out and "by gender,eyeglasses" in r.out
    s = json.loads((out / "counterfactual.json").read_text())
    assert len(s["rows"]) == 120 and s["steps"] == ["-2", "0", "+2"]
    assert s["made_by"]["command"] == (
        f"latentplay audit counterfactual {vae_run} --data {coded} --direction {coded.parent / 'skin.json'} "
        f"--classifier {skin_annotator_file} --check {skin_annotator_file} --n 120 --alphas=-2,2 "
        f"--by gender,eyeglasses --out {out}")
    assert s["data_digest"] == store_digest(st.load(coded))
    assert s["edit"]["weak"] is False and s["edit"]["baseline"] == "codes"
    # the store labels skin tone: the classifier's accuracy on the faces and on decodings
    acc = s["accuracy"]
    assert acc["n"] == 120 and acc["faces"]["accuracy"] > 0.9
    assert acc["decodings"]["low"] <= acc["decodings"]["accuracy"] <= acc["decodings"]["high"]
    assert "right against the store's skin_tone labels on 120 faces" in " ".join(r.out.split())
    assert s["positions"] == [-2, 0, 2] and s["reference"] == "0"
    assert s["groups_by"] == "gender,eyeglasses" and s["classifier"]["attribute"] == "skin_tone"
    every = {x["step"]: x for x in s["flips"] if x["group"] == "all faces"}
    assert every["0"]["rate"] == 0
    # faces read monk_2 turn monk_8 going +, and the other way going -: both ends flip a lot
    assert every["+2"]["excess_low"] > 0.1 and every["-2"]["rate"] + every["+2"]["rate"] > 0.5
    shares = {(x["step"], x["class"]): x["share"] for x in s["check_shares"]}
    assert shares[("+2", "monk_8")] > shares[("0", "monk_8")] > shares[("-2", "monk_8")]
    groups = {x["group"] for x in s["flips"]} - {"all faces"}
    assert len(groups) >= 3 and all(" / " in g for g in groups)
    assert sum({x["group"]: x["n"] for x in s["flips"] if x["group"] in groups}.values()) == 120
    # each face in the group of its own store labels; decodings right as faces.csv reads them
    store = st.load(coded)
    named = {a: np.array(store.schema.attribute(a).names)[store.labels(a)[s["rows"]]]
             for a in ("gender", "eyeglasses", "skin_tone")}
    members = Counter(f"{g} / {e}" for g, e in zip(named["gender"], named["eyeglasses"], strict=True))
    assert {x["group"]: x["n"] for x in s["flips"] if x["step"] == "0" and x["group"] in groups} == \
        dict(members)
    with open(out / "faces.csv") as fh:
        read = {(int(x["row"]), x["step"]): x["predicted"] for x in csv.DictReader(fh)}
    assert acc["decodings"]["accuracy"] == pytest.approx(np.mean(
        [read[(row, "0")] == truth for row, truth in zip(s["rows"], named["skin_tone"], strict=True)]))
    # the shift counts places along the store's scale of ten tones: monk_2 to monk_8 is 6
    place = store.schema.attribute("skin_tone").names.index
    assert every["+2"]["shift"] == pytest.approx(
        np.mean([place(read[(row, "+2")]) - place(read[(row, "0")]) for row in s["rows"]]))
    # the skin tones are ordered: darker going +, lighter going -
    assert s["ordered"] and every["+2"]["shift"] > 0.3 and every["-2"]["shift"] < 0
    for name in ("flips.csv", "faces.csv", "counterfactual.png", "faces.png"):
        assert (out / name).stat().st_size > 0
    from latentplay.viz.counterfactual import sensitivity_figure
    from latentplay.viz.style import PAGE_WIDTH, SMALLEST_TEXT, printed_size

    figure = sensitivity_figure(s)  # four panels: two a row, readable on a page
    assert printed_size(figure, PAGE_WIDTH) >= SMALLEST_TEXT - 1e-9
    lines = (out / "faces.csv").read_text().splitlines()
    assert len(lines) == 1 + 120 * 3 and lines[0].startswith("row,step,predicted,p_")
    assert lines[0].endswith(",check_skin_tone")
    r = cli("report", out, "--out", tmp_path / "report.html")
    assert r.code == 0, r.err
    html = (tmp_path / "report.html").read_text()
    assert "Counterfactual: skin_tone under skin_tone: monk_8 vs rest" in html
    assert "random directions" in html and html.count("<img") >= 2


def test_command_refusals(cli, coded: Path, vae_run: Path, dcgan_run: Path,
                          skin_annotator_file: Path, tmp_path: Path) -> None:
    base = ["audit", "counterfactual", vae_run, "--data", coded, "--direction",
            coded.parent / "skin.json", "--out", tmp_path / "x"]
    r = cli(*base, "--classifier", "onnx:net.onnx")
    assert r.code == 2 and "needs --attribute" in r.err
    r = cli(*base, "--classifier", skin_annotator_file, "--by", "smile")
    assert r.code == 2 and "data bin" in r.err
    r = cli(*base, "--classifier", skin_annotator_file, "--attribute", "gender")
    assert r.code == 2 and "reads 'skin_tone'" in r.err
    r = cli(*base, "--classifier", skin_annotator_file, "--alphas", "0")
    assert r.code == 2 and "other than 0" in r.err
    r = cli(*base[:-1], tmp_path / "nan", "--classifier", skin_annotator_file, "--alphas=nan,1")
    assert r.code == 2 and "finite" in r.err and not (tmp_path / "nan").exists()
    r = cli(*base, "--classifier", skin_annotator_file, "--check",
            f"{skin_annotator_file},{skin_annotator_file}")
    assert r.code == 2 and "same attribute" in r.err
    r = cli(*base, "--classifier", skin_annotator_file, "--check", skin_annotator_file,
            "--random", "-1")
    assert r.code == 2 and "--random" in r.err
    r = cli("audit", "counterfactual", dcgan_run, "--data", coded, "--direction",
            coded.parent / "skin.json", "--classifier", skin_annotator_file, "--out",
            tmp_path / "gan")
    assert r.code == 2 and "fit it on codes of this run" in r.err
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "kept.txt").write_text("mine")
    r = cli("audit", "counterfactual", vae_run, "--data", coded, "--direction",
            coded.parent / "skin.json", "--classifier", skin_annotator_file, "--out",
            tmp_path / "full")
    assert r.code == 2 and (tmp_path / "full" / "kept.txt").read_text() == "mine"
    r = cli(*base, "--classifier", skin_annotator_file, "--baseline", "faces")
    assert r.code == 2 and "--baseline must be one of codes, sphere" in r.err
    r = cli(*base, "--classifier", skin_annotator_file, "--condition", "smile")
    assert r.code == 2 and "either --direction or --condition" in r.err
    r = cli("audit", "counterfactual", vae_run, "--data", coded, "--condition", "smile",
            "--classifier", skin_annotator_file, "--out", tmp_path / "y")
    assert r.code == 2 and "not conditional" in r.err


def test_command_changes_a_condition(cli, cvae_run: Path, faces_store: Path,
                                     gender_annotator_file: Path, tmp_path: Path) -> None:
    """A CVAE's gender condition set to each class (``own`` first), its smile shifted; a
    gender classifier (the session's, of the audit faces' pixels) under both."""
    gender = gender_annotator_file
    out = tmp_path / "cf"
    r = cli("audit", "counterfactual", cvae_run, "--data", faces_store, "--condition", "gender",
            "--classifier", gender, "--check", gender, "--n", "40", "--out", out)
    assert r.code == 0, r.err
    assert "with condition gender set to each class" in " ".join(r.out.split())
    s = json.loads((out / "counterfactual.json").read_text())
    assert s["steps"] == ["own", "female", "male"] and s["positions"] is None
    assert s["reference"] == "own" and s["edit"]["kind"] == "condition"
    assert s["accuracy"]["n"] == 40
    assert "random_rate" not in s["flips"][0]
    every = {x["step"]: x for x in s["flips"] if x["group"] == "all faces"}
    assert every["own"]["rate"] == 0 and every["female"]["n"] == 40
    # the check is the classifier itself: its share of 'male' where the classifier flips
    shares = {(x["step"], x["class"]): x["share"] for x in s["check_shares"]}
    assert shares[("own", "male")] + shares[("own", "female")] == pytest.approx(1)
    assert (out / "counterfactual.png").stat().st_size > 0
    r = cli("audit", "counterfactual", cvae_run, "--data", faces_store, "--condition",
            "eyeglasses", "--classifier", gender, "--out", tmp_path / "z")
    assert r.code == 2 and "not a condition of this model" in r.err
    # both conditions: each in its own folder, and a profile (each class of gender, the
    # first and last shift of smile)
    both = tmp_path / "both"
    r = cli("audit", "counterfactual", cvae_run, "--data", faces_store, "--condition",
            "gender,smile", "--alphas=-1,1", "--classifier", gender, "--n", "20", "--out", both)
    assert r.code == 0, r.err
    assert "under 2 edits" in " ".join(r.out.split())
    p = json.loads((both / "profile.json").read_text())
    assert p["edits"] == ["condition_gender", "condition_smile"]
    assert p["made_by"]["command"] == (f"latentplay audit counterfactual {cvae_run} --data {faces_store} "
                                       f"--condition gender,smile --alphas=-1,1 --classifier {gender} --n 20 "
                                       f"--out {both}")
    assert p["data_digest"] == store_digest(st.load(faces_store))
    assert [(x["edit"], x["step"]) for x in p["profile"]] == [
        ("condition_gender", "female"), ("condition_gender", "male"),
        ("condition_smile", "-1"), ("condition_smile", "+1")]
    # smile, a value condition, shifted from each face's own value
    s = json.loads((both / "condition_smile" / "counterfactual.json").read_text())
    assert s["steps"] == ["-1", "0", "+1"] and s["positions"] == [-1, 0, 1]
    assert s["edit"]["unit"] == "shift of the face's own value"


class ValueReader:
    """Reads channel 0 back as the code's first entry, (value - 128) / 40; NaN where channel
    1 is below 100 (no reading, as a detector that finds no face)."""

    attribute = "z0"

    def values(self, images: np.ndarray) -> np.ndarray:
        x = np.asarray(images, np.float64)[:, 0, 0]
        return np.where(x[:, 1] < 100, np.nan, (x[:, 0] - 128) / 40)


def test_value_changes_by_hand() -> None:
    from latentplay.audit.counterfactual_values import change_table, value_counterfactuals

    r = value_counterfactuals(show_code, along([-1, 2], random=3), ValueReader(),
                              images=show_code(Z, None))
    assert r.kind == "values" and r.readings.shape == (4, 3)
    np.testing.assert_allclose(r.changes()[:3], np.array([[-1, 0, 2]] * 3), atol=1 / 40)
    # face 4 (z1 = -0.9: channel 1 is 92) has no reading anywhere
    assert np.isnan(r.readings[3]).all() and not np.isnan(r.readings[:3]).any()
    rows = change_table(r, np.array([0, 0, 1, 1]), ["a", "b"], n_boot=200)
    every = {x["step"]: x for x in rows if x["group"] == "all faces"}
    assert every["+2"]["n"] == 3 and every["+2"]["change"] == pytest.approx(2, abs=1 / 40)
    assert every["+2"]["abs_change"] == pytest.approx(2, abs=1 / 40)
    # random directions are orthogonal to z0: the reading stays, so the excess is the change
    assert every["+2"]["random_abs_change"] == pytest.approx(0, abs=1 / 40)
    assert every["+2"]["excess"] == pytest.approx(2, abs=0.05)
    assert every["-1"]["change_low"] <= every["-1"]["change"] <= every["-1"]["change_high"]
    b = {x["step"]: x for x in rows if x["group"] == "b"}
    assert b["+2"]["n"] == 1 and b["+2"]["change_low"] is None
    tables = r.tables(np.array([0, 0, 1, 1]), ["a", "b"], None, 0)
    assert tables["reconstruction_difference"]["mean_absolute"] < 1 / 40
    assert r.most_changed(2).tolist() == [0, 1]   # ties keep the faces' order
    assert r.captions(0)[2].startswith("+2\nz0 ")
    assert r.face_rows(np.arange(4))[0] == {"row": 0, "step": "-1",
                                            "reading": pytest.approx(-2.5, abs=1 / 40)}


def test_value_changes_in_both_directions_by_hand() -> None:
    """Two faces read 1 and 2 unedited, 3 and 0 at +1 (changes +2 and -2); random directions
    move face 0 by 1 (its second direction unread) and face 1 by 1 and 2; the faces themselves
    read 1.5 and 2.5. Mean change 0, mean absolute change 2, random 1 and 1.5 (each face's
    mean over its read directions), excess ((2 - 1) + (2 - 1.5)) / 2, and reconstruction
    lowers each reading by 0.5."""
    from latentplay.audit.counterfactual_values import ValueCounterfactuals, change_table

    random = np.array([[[1.0, 2.0], [2.0, 3.0]], [[1.0, np.nan], [2.0, 4.0]]])   # (R, n, A)
    r = ValueCounterfactuals(["0", "+1"], np.array([0.0, 1.0]), 0, "v",
                             np.array([[1.0, 3.0], [2.0, 0.0]]), random,
                             original=np.array([1.5, 2.5]))
    np.testing.assert_allclose(r.random_changes(), [[0.0, 1.0], [0.0, 1.5]])
    row = next(x for x in change_table(r, np.zeros(2, int), ["a"], n_boot=50)
               if x["group"] == "all faces" and x["step"] == "+1")
    assert row["change"] == pytest.approx(0.0) and row["abs_change"] == pytest.approx(2.0)
    assert row["random_abs_change"] == pytest.approx(1.25)
    assert row["excess"] == pytest.approx(0.75)
    moved = r.tables(np.zeros(2, int), ["a"], None, 0)["reconstruction_difference"]
    assert moved == pytest.approx({"mean": -0.5, "mean_absolute": 0.5})


def test_value_profile_figure_shows_the_absolute_change() -> None:
    """The random directions' tick in a profile of readings is their mean absolute change: it
    is drawn beside the edit's own mean absolute change, not only the signed mean change (a
    reading that goes up for half the faces and down for the others has a mean change near 0
    yet moves far more than along random directions)."""
    import matplotlib.pyplot as plt

    from latentplay.viz.counterfactual import profile_figure

    rows = [{"edit": "skin", "label": "skin", "step": step, "n": 60, "change": change,
             "change_low": change - 0.4, "change_high": change + 0.4, "abs_change": absolute,
             "random_abs_change": 0.5, "excess": absolute - 0.5, "excess_low": 0.4,
             "excess_high": 1.2} for step, change, absolute in (("-2", 0.1, 1.4), ("+2", 0.0, 1.5))]
    fig = profile_figure({"profile": rows, "kind": "values", "classifier": {"attribute": "age"},
                          "rows": list(range(60))})
    (ax,) = fig.axes
    lines = {line.get_label(): np.asarray(line.get_xdata(), float).tolist()
             for line in ax.get_lines()}
    plt.close(fig)
    assert lines["along the edit (mean absolute change)"] == [1.4, 1.5]
    assert lines["random directions (mean absolute change)"] == [0.5, 0.5]


def test_a_long_profile_title_stays_inside_the_figure() -> None:
    """The profile's title ran past the right edge with a long attribute name."""
    import matplotlib.pyplot as plt

    from latentplay.viz.counterfactual import profile_figure

    rows = [{"edit": "skin", "label": "skin", "step": "+2", "n": 60, "rate": 0.3, "low": 0.2,
             "high": 0.4, "random_rate": 0.1, "excess": 0.2, "excess_low": 0.1, "excess_high": 0.3}]
    fig = profile_figure({"profile": rows, "kind": "classes", "rows": list(range(60)),
                          "classifier": {"attribute": "perceived_skin_tone_of_the_face"}})
    fig.canvas.draw()
    box, frame = fig.axes[0].title.get_window_extent(), fig.bbox
    plt.close(fig)
    assert box.x0 >= frame.x0 and box.x1 <= frame.x1


@pytest.fixture(scope="module")
def red_net(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An ONNX network with one output: 20 x the mean red channel of a 24 x 24 image in
    [0, 1] (read back by the head ``red:value*0.05``)."""
    import warnings

    import torch

    net = torch.nn.Sequential(torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(),
                              torch.nn.Linear(3, 1))
    with torch.no_grad():
        net[2].weight.copy_(torch.tensor([[20.0, 0.0, 0.0]]))
        net[2].bias.zero_()
    path = tmp_path_factory.mktemp("net") / "red.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(net.eval(), (torch.zeros(2, 3, 24, 24),), str(path), dynamo=False,
                          input_names=["image"], dynamic_axes={"image": {0: "n"}})
    return path


def test_a_check_of_values_by_hand() -> None:
    """A classifier of channel 0 with a check reading z0 back: the check's mean per step is
    the mean of the codes' first entries moved by the step (face 4 has no reading)."""
    from latentplay.audit.counterfactual import ValueReading, check_columns, check_means

    r = counterfactuals(show_code, along([-1, 2]), ChannelReader(0), checks=[ValueReader()])
    (check,) = r.checks
    assert isinstance(check, ValueReading) and check.values.shape == (4, 3)
    assert check_table(r) == []                        # no classes to share out
    means = {x["step"]: x for x in check_means(r)}
    assert means["+2"]["n"] == 3
    assert means["+2"]["mean"] == pytest.approx(Z[:3, 0].mean() + 2, abs=1 / 40)
    assert means["-1"]["mean_low"] <= means["-1"]["mean"] <= means["-1"]["mean_high"]
    assert check_columns(r.checks, 0, 2) == {"check_z0": pytest.approx(0.5, abs=1 / 40)}
    assert check_columns(r.checks, 3, 0) == {"check_z0": ""}


def test_value_head_under_skin_tone_edits(cli, coded: Path, vae_run: Path, red_net: Path,
                                         skin_annotator_file: Path, tmp_path: Path) -> None:
    """A network's value head (the mean red channel) read on faces moved along the skin-tone
    direction: darker skin, less red; each step's mean change is the mean of the faces'
    readings there minus their unedited ones (faces.csv); the report renders the changes."""
    out = tmp_path / "cf"
    r = cli("audit", "counterfactual", vae_run, "--data", coded, "--direction",
            coded.parent / "skin.json", "--classifier", f"onnx:{red_net}", "--heads",
            "red:value*0.05", "--attribute", "red", "-o", "align=none", "-o", "pixels=unit",
            "--check", skin_annotator_file, "--n", "60", "--alphas=-2,2", "--by", "gender",
            "--out", out)
    assert r.code == 0, r.err
    text = " ".join(r.out.split())
    assert "reading changed by" in text and "random directions" in text
    s = json.loads((out / "counterfactual.json").read_text())
    assert s["kind"] == "values" and s["classifier"]["kind"] == "network values"
    assert s["accuracy"] is None  # readings, not classes
    with open(out / "faces.csv") as fh:
        readings = {(int(row["row"]), row["step"]): float(row["reading"])
                    for row in csv.DictReader(fh)}
    every = {x["step"]: x for x in s["changes"] if x["group"] == "all faces"}
    for step in ("-2", "+2"):
        expected = np.mean([readings[(k, step)] - readings[(k, "0")] for k in s["rows"]])
        assert every[step]["change"] == pytest.approx(expected, abs=1e-5)
        assert every[step]["abs_change"] >= abs(every[step]["change"]) - 1e-9
    assert every["+2"]["change_high"] < 0 < every["-2"]["change_low"]
    assert every["+2"]["excess_low"] > 0
    assert every["0"]["change"] == 0 and (out / "changes.csv").exists()
    assert {x["group"] for x in s["changes"]} == {"female", "male", "all faces"}
    assert cli("report", out).code == 0
    html = (out / "report.html").read_text()
    assert "mean absolute change" in html and "decoding minus face" in html


def test_a_value_head_as_a_check(cli, coded: Path, vae_run: Path, red_net: Path,
                                 skin_annotator_file: Path, tmp_path: Path) -> None:
    """``--check red=onnx:NET``: a network's value head (the mean red channel) read beside a
    skin-tone classifier: darker faces read less red, and faces.csv holds every reading."""
    out = tmp_path / "cf"
    r = cli("audit", "counterfactual", vae_run, "--data", coded, "--direction",
            coded.parent / "skin.json", "--classifier", skin_annotator_file, "--check",
            f"red=onnx:{red_net}", "--heads", "red:value*0.05", "-o", "align=none", "-o",
            "pixels=unit", "--n", "40", "--alphas=-2,2", "--random", "1", "--out", out)
    assert r.code == 0, r.err
    assert "check red (mean reading) at steps -2 / 0 / +2:" in " ".join(r.out.split())
    s = json.loads((out / "counterfactual.json").read_text())
    assert s["checks"][0]["attribute"] == "red" and s["checks"][0]["classes"] is None
    means = {x["step"]: x for x in s["check_means"]}
    assert means["+2"]["mean"] < means["0"]["mean"] < means["-2"]["mean"]
    with open(out / "faces.csv") as fh:
        read = [(row["step"], float(row["check_red"])) for row in csv.DictReader(fh)]
    assert means["+2"]["mean"] == pytest.approx(np.mean([v for k, v in read if k == "+2"]),
                                                abs=1e-5)
    assert cli("report", out).code == 0
    assert "Checks that read values" in (out / "report.html").read_text()
    bad = cli("audit", "counterfactual", vae_run, "--data", coded, "--direction",
              coded.parent / "skin.json", "--classifier", skin_annotator_file, "--check",
              f"red={skin_annotator_file}", "--out", tmp_path / "bad")
    assert bad.code == 2 and "reads its own attribute" in bad.err


def test_a_profile_across_directions(cli, coded: Path, vae_run: Path,
                                     skin_annotator_file: Path, tmp_path: Path) -> None:
    """Several directions: each audited in its own folder on the same faces, and a profile; a
    skin-tone classifier changes its answer for more faces at +2 SDs of skin tone than at +2
    SDs of gender."""
    out = tmp_path / "profile"
    r = cli("audit", "counterfactual", vae_run, "--data", coded, "--direction",
            f"{coded.parent / 'skin.json'},{coded.parent / 'gender.json'}", "--classifier",
            skin_annotator_file, "--n", "60", "--alphas=-2,2", "--random", "1", "--out", out)
    assert r.code == 0, r.err
    assert "under 2 edits" in " ".join(r.out.split())
    p = json.loads((out / "profile.json").read_text())
    assert p["edits"] == ["skin", "gender"] and len(p["profile"]) == 4
    for name in ("skin", "gender"):
        s = json.loads((out / name / "counterfactual.json").read_text())
        assert s["rows"] == p["rows"]  # the same faces
    rate = {(x["edit"], x["step"]): x["rate"] for x in p["profile"]}
    assert rate[("skin", "+2")] > rate[("gender", "+2")]
    assert (out / "profile.csv").exists() and (out / "profile.png").stat().st_size > 0
    assert cli("report", out).code == 0
    html = (out / "report.html").read_text()
    assert "Profile: skin_tone across 2 edits" in html
    assert "Counterfactual: skin_tone under skin_tone: monk_8 vs rest" in html
    assert "Counterfactual: skin_tone under gender: male vs female" in html


def test_repeated_persons_are_resampled_whole(cli, coded: Path, vae_run: Path,
                                             skin_annotator_file: Path, tmp_path: Path) -> None:
    """Photos of few persons: the summary counts them and says the intervals are a bootstrap
    over persons."""
    from latentplay import sources

    persons = sources.make("synthfaces", tmp_path / "persons", n=90, seed=4,
                           overrides=["identities=15"])
    out = tmp_path / "cf"
    r = cli("audit", "counterfactual", vae_run, "--data", persons.path, "--direction",
            coded.parent / "skin.json", "--classifier", skin_annotator_file, "--n", "60",
            "--alphas=-2,2", "--random", "1", "--out", out)
    assert r.code == 0, r.err
    s = json.loads((out / "counterfactual.json").read_text())
    ids = np.asarray(persons.labels("identity"))[s["rows"]]
    assert s["persons"] == len(np.unique(ids)) <= 15
    assert "intervals are a bootstrap over persons" in " ".join(r.out.split())


def test_python_api_and_the_printed_lines(coded: Path, vae_run: Path,
                                          skin_annotator_file: Path, tmp_path: Path) -> None:
    """``audit_counterfactual`` called from Python returns the summary the command prints
    (``summary_lines``); the same direction file twice goes into two numbered folders."""
    from latentplay.audit.counterfactual_run import audit_counterfactual
    from latentplay.audit.counterfactual_text import profile_lines, summary_lines

    skin = coded.parent / "skin.json"
    s = audit_counterfactual(vae_run, coded, str(skin_annotator_file), tmp_path / "one",
                             direction=skin, n=30, steps=[-2, 2], random=1)
    lines = summary_lines(s)
    assert lines[0].startswith("skin_tone read on 30 faces moved along skin_tone: monk_8 vs "
                               "rest")
    every = {x["step"]: x for x in s["flips"] if x["group"] == "all faces"}
    assert f"  step +2: class changed in {every['+2']['rate']:.1%}" in "\n".join(lines)
    p = audit_counterfactual(vae_run, coded, str(skin_annotator_file), tmp_path / "two",
                             direction=[skin, skin], n=30, steps=[-2, 2], random=1)
    assert p["edits"] == ["skin_1", "skin_2"]
    assert (tmp_path / "two" / "skin_2" / "counterfactual.json").exists()
    assert profile_lines(p)[0] == ("skin_tone read on 30 faces under 2 edits "
                                   "(each in its own folder):")
    assert len(profile_lines(p)) == 1 + 4


def test_excess_interval_counts_the_spread_between_random_directions() -> None:
    """Three random directions flipping 20 % of the faces each, or one flipping 60 % and two
    none: each face's mean over the directions is the same, yet only the second baseline
    depends on which directions were drawn, so its excess interval is wider (a bootstrap over
    faces alone gives both the same)."""
    from latentplay.audit.counterfactual import Counterfactuals
    from latentplay.audit.counterfactual_values import ValueCounterfactuals, change_table

    n = 200
    proba = np.zeros((n, 2, 2))
    proba[:, :, 0] = 1
    proba[: n // 2, 1] = [0, 1]                         # the direction flips half the faces
    agree, differ = np.zeros((3, n, 2), int), np.zeros((3, n, 2), int)
    for d in range(3):
        agree[d, 40 * d:40 * (d + 1), 1] = 1            # disjoint 20 % each
    differ[0, :120, 1] = 1                              # 60 %, then none and none
    widths = []
    for random in (agree, differ):
        r = Counterfactuals(["0", "+1"], np.array([0.0, 1.0]), 0, ["a", "b"], proba, random)
        np.testing.assert_allclose(r.random_flips()[:, 1], np.repeat([1 / 3, 0], [120, 80]))
        row = next(x for x in flip_table(r, np.zeros(n, int), ["a"], n_boot=500)
                   if x["group"] == "all faces" and x["step"] == "+1")
        assert row["excess"] == pytest.approx(0.5 - 0.2)
        widths.append(row["excess_high"] - row["excess_low"])
        values = ValueCounterfactuals(["0", "+1"], np.array([0.0, 1.0]), 0, "v",
                                      proba[:, :, 1].copy(), random.astype(float))
        row = next(x for x in change_table(values, np.zeros(n, int), ["a"], n_boot=500)
                   if x["group"] == "all faces" and x["step"] == "+1")
        widths.append(row["excess_high"] - row["excess_low"])
    assert widths[2] > 2 * widths[0] and widths[3] > 2 * widths[1]
    assert widths[2] > 0.5 and widths[3] > 0.5     # the baseline ranges over 0 % to 60 %


@pytest.mark.parametrize("classes", [2, 10])
def test_a_check_panel_keeps_its_legend_off_the_shares(classes: int) -> None:
    """An edit drives its own attribute's share to 1: the legend (matplotlib's "best" place)
    sat over that line at the top. Now it has a band of its own above the shares."""
    import matplotlib.pyplot as plt

    from latentplay.viz.counterfactual import PANEL, Steps, _checks

    steps = ["-2", "-1", "0", "+1", "+2"]
    rows = [{"step": s, "class": f"class {k}", "share": 1.0 if k == 0 else (k % 5) / 5}
            for k in range(classes) for s in steps]
    fig, ax = plt.subplots(figsize=PANEL)
    _checks(ax, Steps(steps, [-2, -1, 0, 1, 2], "SDs"), rows, "gender", "the edit itself")
    fig.canvas.draw()
    legend = ax.get_legend().get_window_extent()
    points = np.vstack([ax.transData.transform(line.get_xydata()) for line in ax.get_lines()])
    assert not ((legend.x0 <= points[:, 0]) & (points[:, 0] <= legend.x1)
                & (legend.y0 <= points[:, 1]) & (points[:, 1] <= legend.y1 + 4)).any()
    assert legend.y1 <= ax.get_window_extent().y1 and ax.get_yticks().max() == 1
    plt.close(fig)


def test_tables_of_given_answers_by_hand() -> None:
    """Three faces' class-1 probabilities at steps -1, 0, +1 (0 the reference): the reference
    class's mean probability at each step, the agreement with the faces as the model sees
    them, the probability table and which faces changed most."""
    from scipy.stats import t as student

    from latentplay.audit.counterfactual import Counterfactuals

    high = np.array([[0.2, 0.3, 0.9], [0.98, 0.52, 0.98], [0.6, 0.4, 0.1]])
    proba = np.stack([1 - high, high], axis=2)
    r = Counterfactuals(["-1", "0", "+1"], np.array([-1.0, 0, 1]), 1, ["a", "b"], proba,
                        np.zeros((0, 3, 3), int), original=np.array([0, 1, 1]))
    assert r.reference.tolist() == [0, 1, 0]
    assert r.reconstruction_agreement() == pytest.approx(2 / 3)
    # the reference class's probability: face 0 0.8 0.7 0.1, face 1 0.98 0.52 0.98, face 2 0.4 0.6 0.9
    every = {x["step"]: x for x in flip_table(r, r.reference, r.classes, n_boot=50)
             if x["group"] == "all faces"}
    assert [every[s]["p_reference"] for s in ("-1", "0", "+1")] == pytest.approx(
        [2.18 / 3, 1.82 / 3, 1.98 / 3])
    table = {(x["step"], x["class"]): x for x in probability_table(r)}
    half = student.ppf(0.975, 2) * np.std([0.2, 0.98, 0.6], ddof=1) / np.sqrt(3)
    assert [table[("-1", "b")][k] for k in ("mean", "low", "high")] == pytest.approx(
        [1.78 / 3, 1.78 / 3 - half, 1.78 / 3 + half])
    # one flip each for faces 0 and 2 (total change 0.7 and 0.5), none for face 1 (0.92)
    assert most_changed(r, 3).tolist() == [0, 2, 1]


def test_value_tables_of_given_readings_by_hand() -> None:
    """Two faces read 1 then 3, and 2 then -1; two random directions move face 0 by 1 and 3
    (absolute) and leave face 1 unread at the edited step."""
    from latentplay.audit.counterfactual_values import ValueCounterfactuals, change_table

    random = np.array([[[1.0, 0.0], [2.0, np.nan]], [[1.0, 4.0], [2.0, np.nan]]])
    r = ValueCounterfactuals(["0", "+1"], np.array([0.0, 1]), 0, "v",
                             np.array([[1.0, 3.0], [2.0, -1.0]]), random)
    np.testing.assert_array_equal(r.random_changes(), [[0.0, 2.0], [0.0, np.nan]])
    assert r.most_changed(2).tolist() == [1, 0]        # |-3| beyond |+2|
    step = {x["step"]: x for x in change_table(r, np.full(2, -1), [], n_boot=50)}["+1"]
    # face 1 has no random reading there: left out on both sides
    assert (step["n"], step["change"], step["random_abs_change"]) == (1, 2.0, 2.0)


def test_random_directions_lean_on_the_codes_spread() -> None:
    """Drawn with covariance diag(100, 1, 1) and orthogonal to the third axis: the first
    coordinate is 10 times the second's in spread (the ratio of the two normals' |x1 / x2|
    has median 10)."""
    axes = random_axes(np.array([0.0, 0.0, 1.0]), 4000, 0, np.diag([100.0, 1.0, 1.0]))
    assert np.abs(axes[:, 2]).max() < 1e-12
    assert 9 <= np.median(np.abs(axes[:, 0] / axes[:, 1])) <= 11


def _flips(group: str, step: str, rate: float, shift: float | None, flips: int) -> dict:
    n = 4 if group == ALL else 2        # the faces of each group in the printouts below
    return {"group": group, "step": step, "n": n, "rate": rate, "low": rate / 2, "high": (1 + rate) / 2,
            "random_rate": 0.1, "excess": rate - 0.1, "excess_low": rate - 0.3,
            "excess_high": rate + 0.1, "shift": shift, "shift_low": None if shift is None else shift - 0.25,
            "shift_high": None if shift is None else shift + 0.25, "flips": flips}


def test_printed_lines_of_a_classifier_by_hand() -> None:
    """The printout of an edit read by a classifier: the ends' class changes with their
    intervals, the random baseline and shift along the order (none without a changed class),
    the share of the positive class in the edited attribute's check, each check class at the
    two ends and the reference, each group at the ends, the accuracy on faces and on
    decodings, and the identity check."""
    from latentplay.audit.counterfactual_text import summary_lines

    steps = ["-2", "0", "+2"]
    shares = {"light": [0.9, 0.6, 0.0], "dark": [0.1, 0.4, 1.0], "medium": [0.0, 0.0, 0.0]}
    s = {"edit": {"kind": "direction", "score_name": "AUC", "score": 0.9123, "text": "moved along skin",
                  "unit": "SDs", "caution": "fitted on another run's codes", "weak": True,
                  "attribute": "skin_tone", "positive": "dark"},
         "classifier": {"attribute": "skin_tone"}, "rows": [0, 1, 2, 3], "persons": 3,
         "kind": "classes", "image": {"size": 64}, "reconstruction_agreement": 0.75,
         "accuracy": {"n": 4, "faces": {"accuracy": 0.75, "low": 0.3, "high": 0.95},
                      "decodings": {"accuracy": 0.5, "low": 0.15, "high": 0.85}},
         "flips": [_flips(ALL, "-2", 0.25, -0.5, 1), _flips(ALL, "0", 0.0, 0.0, 0),
                   _flips(ALL, "+2", 0.5, 0.75, 2), _flips("f", "-2", 0.5, None, 1),
                   _flips("f", "0", 0.0, None, 0), _flips("f", "+2", 1.0, None, 2),
                   _flips("m", "-2", 0.0, None, 0), _flips("m", "0", 0.0, None, 0)],
         "check_shares": [{"attribute": name, "step": step, "class": c, "share": v[k]}
                          for name, classes in (("skin_tone", shares), ("hair", {"dark": [0.5] * 3}))
                          for c, v in classes.items() for k, step in enumerate(steps)],
         "check_means": [{"attribute": "age", "step": "-2", "mean": 30.0},
                         {"attribute": "age", "step": "0", "mean": None},
                         {"attribute": "age", "step": "+2", "mean": 41.3}],
         "steps": steps, "reference": "0", "positions": [-2, 0, 2], "groups_by": "gender",
         "identity": {"embedder": "dlib", "between": 0.2, "reconstruction": 0.8, "table": [
             {"group": ALL, "step": "-2", "similarity": 0.7, "low": 0.6, "high": 0.8, "kept": 0.625,
              "random_similarity": 0.9, "loss": -0.2, "loss_low": -0.3, "loss_high": -0.1,
              "not_found": 1},
             {"group": ALL, "step": "+2", "similarity": None}]}}
    assert summary_lines(s) == [
        "skin_tone read on 4 faces moved along skin (its AUC 0.912); steps: SDs",
        "  fitted on another run's codes",
        "  caution: the direction barely predicts skin_tone, so moving along it is no edit of that "
        "attribute; read the checks and faces.png",
        "  the faces show 3 persons, some several times: the intervals are a bootstrap over persons",
        "  the face as the model sees it (64 px) and its decoding get the same class in 75.0% of faces",
        "  right against the store's skin_tone labels on 4 faces: 75.0% [30.0%, 95.0%] as the model "
        "sees them, 50.0% [15.0%, 85.0%] decoded",
        "  step -2: class changed in 25.0% [12.5%, 62.5%], random directions 10.0%, excess +15.0% "
        "[-5.0%, +35.0%]; mean shift -0.50 classes [-0.75, -0.25]; check reads dark in 10%",
        "  step 0: class changed in 0.0% [0.0%, 50.0%], random directions 10.0%, excess -10.0% "
        "[-30.0%, +10.0%]; check reads dark in 40%",
        "  step +2: class changed in 50.0% [25.0%, 75.0%], random directions 10.0%, excess +40.0% "
        "[+20.0%, +60.0%]; mean shift +0.75 classes [+0.50, +1.00]; check reads dark in 100%",
        "  check skin_tone at steps -2 / 0 / +2: light 90% / 60% / 0%, dark 10% / 40% / 100%",
        "  check hair at steps -2 / 0 / +2: dark 50% / 50% / 50%",
        "  check age (mean reading) at steps -2 / 0 / +2: 30 / - / 41.3",
        "  class changed by gender at steps -2 / +2: f (2 faces) 50% / 100%, m (2 faces) 0% / -",
        "  identity (dlib; cosine similarity to the unedited decoding, 0.200 between different faces, "
        "0.800 between a face and its decoding):",
        "    step -2: 0.700 [0.600, 0.800], kept 62%; random directions 0.900, loss -0.200 "
        "[-0.300, -0.100] (1 decodings without a face found)",
        "    step +2: no face found"]


def test_printed_lines_of_a_reader_of_values_by_hand() -> None:
    """A reader of values under a condition set to each class: every class is an end step;
    the mean change with its interval, the mean absolute change, and how far reconstruction
    moves the reading; a step without readings says so."""
    from latentplay.audit.counterfactual_text import summary_lines

    def row(group: str, step: str, change: float | None, n: int) -> dict:
        return {"group": group, "step": step, "n": n, "change": change,
                "change_low": None if change is None else change - 1.5,
                "change_high": None if change is None else change + 1.5,
                "abs_change": None if change is None else abs(change) + 0.5}

    s = {"edit": {"kind": "condition", "text": "with condition gender set to each class", "unit": "class",
                  "attribute": "gender", "positive": None},
         "classifier": {"attribute": "age"}, "rows": list(range(5)), "kind": "values",
         "image": {"size": 64}, "reconstruction_difference": {"mean": -0.5, "mean_absolute": 1.25},
         "changes": [row(ALL, "own", 0.0, 5), row(ALL, "female", -2.5, 5), row(ALL, "male", None, 0),
                     row("young", "own", 0.0, 2), row("young", "female", 4.0, 2)],
         "check_shares": [], "steps": ["own", "female", "male"], "reference": "own",
         "positions": None, "groups_by": "age read unedited"}
    assert summary_lines(s) == [
        "age read on 5 faces with condition gender set to each class; steps: class",
        "  the decoding minus the face as the model sees it (64 px): -0.5 on average, 1.25 absolute",
        "  step own: reading changed by +0 on average [-1.5, +1.5], 0.5 absolute (5 faces)",
        "  step female: reading changed by -2.5 on average [-4, -1], 3 absolute (5 faces)",
        "  step male: no readings",
        "  mean change by age read unedited at steps female / male: young (2 faces) +4 / -"]


def test_printed_profile_lines_by_hand() -> None:
    from latentplay.audit.counterfactual_text import profile_lines

    rows = [{**_flips(ALL, step, rate, None, 1), "label": label, "caution": caution, "weak": weak,
             "identity_similarity": similarity, "identity_loss": loss}
            for label, step, rate, caution, weak, similarity, loss in (
                ("skin", "-2", 0.25, None, False, 0.8125, -0.1), ("skin", "+2", 0.5, None, False, None, None),
                ("smile", "+2", 0.0, "another run's", True, 0.9, None),
                ("age", "+2", 0.0, "another run's", True, None, None))]
    p = {"kind": "classes", "classifier": {"attribute": "skin_tone"}, "rows": [0, 1, 2],
         "edits": ["skin", "smile", "age"], "profile": rows}
    assert profile_lines(p) == [
        "skin_tone read on 3 faces under 3 edits (each in its own folder):",
        "  skin, step -2: class changed in 25.0% [12.5%, 62.5%], random directions 10.0%, excess "
        "+15.0% [-5.0%, +35.0%]; identity similarity 0.812 (loss -0.100)",
        "  skin, step +2: class changed in 50.0% [25.0%, 75.0%], random directions 10.0%, excess "
        "+40.0% [+20.0%, +60.0%]",
        "  smile, step +2: class changed in 0.0% [0.0%, 50.0%], random directions 10.0%, excess "
        "-10.0% [-30.0%, +10.0%]; identity similarity 0.900",
        "  age, step +2: class changed in 0.0% [0.0%, 50.0%], random directions 10.0%, excess "
        "-10.0% [-30.0%, +10.0%]",
        "  another run's",
        "  caution: age, smile barely predict(s) the attribute; moving along it is no edit of that "
        "attribute"]


def test_a_step_left_unread_is_left_out_of_the_random_baseline_too() -> None:
    """Face 1 has no reading at +1 (no face found there) though the random directions read it
    (moved by 3): the step's mean change, random baseline and excess are face 0's alone
    (change 2, random 1, excess 1), not a random mean of (1 + 3) / 2 beside it; face 1's
    group has no reading there at all, and a group without faces has no rows."""
    from latentplay.audit.counterfactual_values import ValueCounterfactuals, change_table

    r = ValueCounterfactuals(["0", "+1"], np.array([0.0, 1.0]), 0, "v",
                             np.array([[1.0, 3.0], [2.0, np.nan]]), np.array([[[1.0, 2.0], [2.0, 5.0]]]))
    rows = {(x["group"], x["step"]): x for x in change_table(r, np.array([0, 1]), ["a", "b", "c"], n_boot=50)}
    step = rows[(ALL, "+1")]
    assert (step["n"], step["change"], step["abs_change"]) == (1, 2.0, 2.0)
    assert (step["random_abs_change"], step["excess"]) == (1.0, 1.0)
    unread = rows[("b", "+1")]
    assert unread["n"] == 0 and {unread[k] for k in ("change", "abs_change", "random_abs_change",
                                                     "excess", "excess_low")} == {None}
    assert {group for group, _ in rows} == {"a", "b", ALL}


def test_random_rows_are_distinct_in_order_and_at_most_the_store(faces_store: Path) -> None:
    from latentplay.audit.counterfactual_run import _rows

    store = st.load(faces_store)
    picked = _rows(store, None, 20, seed=3)
    assert len(set(picked)) == 20 and picked == sorted(picked) and 0 <= picked[0] < picked[-1] < len(store)
    assert _rows(store, None, len(store) + 100, seed=0) == list(range(len(store)))  # --n beyond: every row
    assert _rows(store, [7, 2], 20, seed=0) == [7, 2]                              # rows as given
    with pytest.raises(UserError, match="--n must be at least 2"):
        _rows(store, None, 1, seed=0)


def test_persons_only_where_one_of_them_has_several_faces(tmp_path: Path) -> None:
    """Faces of distinct persons are independent (no bootstrap over persons, no count of
    them printed); one person twice among them makes the persons the units."""
    from latentplay import sources
    from latentplay.audit.counterfactual_run import _persons

    store = sources.make("synthfaces", tmp_path / "persons", n=30, seed=4, overrides=["identities=10"])
    ids = np.asarray(store.labels("identity"))
    first = np.array([np.flatnonzero(ids == k)[0] for k in np.unique(ids)])
    assert _persons(store, first) is None
    again = np.flatnonzero(ids == ids[first[0]])[1]
    np.testing.assert_array_equal(_persons(store, np.append(first, again)), ids[np.append(first, again)])
