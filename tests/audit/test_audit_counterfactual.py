"""Counterfactual sensitivity: flips counted by hand on a decoder whose images show their code,
the random baseline, the check reading, and the command on a trained VAE."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from latentplay import store as st
from latentplay.audit.annotate import Annotator
from latentplay.audit.counterfactual import (
    check_table,
    checked_steps,
    counterfactuals,
    flip_table,
    most_changed,
    probability_table,
    random_axes,
)
from latentplay.audit.distribution import wilson_interval
from latentplay.errors import UserError
from latentplay.latent.directions import fit_store_direction
from latentplay.train import encode


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


def test_flips_counted_by_hand() -> None:
    r = counterfactuals(show_code, Z, None, AXIS, 1.0, [1, -1], ChannelReader(0), random=4,
                        seed=1)
    assert r.steps.tolist() == [-1, 0, 1]
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
    assert every[1.0]["flips"] == 1 and every[1.0]["rate"] == 0.25
    assert every[1.0]["excess"] == 0.25 and every[1.0]["random_rate"] == 0
    assert (every[1.0]["low"], every[1.0]["high"]) == tuple(wilson_interval([1], 4)[0])
    assert every[1.0]["excess_low"] <= 0.25 <= every[1.0]["excess_high"]
    low = {x["step"]: x for x in rows if x["group"] == "low"}
    high = {x["step"]: x for x in rows if x["group"] == "high"}
    assert (low[1.0]["rate"], low[-1.0]["rate"]) == (0.5, 0.0)
    assert (high[1.0]["rate"], high[-1.0]["rate"]) == (0.0, 0.5)
    assert low[1.0]["n"] == high[1.0]["n"] == 2
    # p_reference: the mean probability of each face's step-0 class, 1/2 at the boundary
    assert 0.5 < every[0.0]["p_reference"] <= 1


def test_steps_scale_by_the_unit() -> None:
    """A unit of 2 latent units moves twice as far: step +1 now crosses for both low faces."""
    r = counterfactuals(show_code, Z, None, AXIS, 2.0, [1], ChannelReader(0), random=0)
    assert r.flips()[:, -1].tolist() == [True, True, False, False]
    assert r.random_flips() is None
    assert "random_rate" not in flip_table(r, r.reference, r.classes)[0]


def test_random_baseline_catches_an_unrelated_reader() -> None:
    """A reader of channel 1 never changes along channel 0, but does along random directions."""
    z = np.random.default_rng(0).standard_normal((300, 3))
    r = counterfactuals(show_code, z, None, AXIS, 1.0, [-2, 2], ChannelReader(1), random=5)
    assert not r.flips().any()
    rows = [x for x in flip_table(r, r.reference, r.classes, n_boot=200)
            if x["group"] == "all faces" and x["step"] == 2.0]
    assert rows[0]["random_rate"] > 0.1
    assert rows[0]["excess_high"] < 0


def test_check_and_reconstruction() -> None:
    images = show_code(Z, None)
    images[1] = 255  # the second face as the model sees it reads high; decoded, low
    r = counterfactuals(show_code, Z, None, AXIS, 1.0, [2], ChannelReader(1),
                        checks=[ChannelReader(0, "edited"), ChannelReader(2, "kept")],
                        images=images, random=0)
    edited, kept = r.checks
    assert (edited.attribute, edited.classes) == ("edited", ["low", "high"])
    assert edited.codes.tolist() == [[0, 1], [0, 1], [1, 1], [1, 1]]
    assert kept.codes[:, 0].tolist() == kept.codes[:, 1].tolist() == [0, 1, 1, 0]
    shares = {(x["attribute"], x["step"], x["class"]): x["share"] for x in check_table(r)}
    assert shares[("edited", 2.0, "high")] == 1 and shares[("edited", 0.0, "high")] == 0.5
    assert shares[("kept", 2.0, "high")] == shares[("kept", 0.0, "high")] == 0.5
    assert r.reconstruction_agreement() == 0.75
    probs = probability_table(r)
    assert len(probs) == 2 * 2
    assert all(p["low"] <= p["mean"] <= p["high"] for p in probs)


def test_conditions_reach_the_decoder() -> None:
    seen = []

    def decoder(z: np.ndarray, cond: np.ndarray | None) -> np.ndarray:
        seen.append(cond)
        return show_code(z, None)

    cond = np.arange(8, dtype=np.float32).reshape(4, 2)
    counterfactuals(decoder, Z, cond, AXIS, 1.0, [1], ChannelReader(0), random=1)
    # faces x steps rows, each face's condition repeated for its 2 steps
    assert all(c.shape == (8, 2) for c in seen)
    assert np.array_equal(seen[0][::2], cond) and np.array_equal(seen[0][1::2], cond)


def test_helpers_and_refusals() -> None:
    assert checked_steps([2, -1, 2]).tolist() == [-1, 0, 2]
    with pytest.raises(UserError, match="other than 0"):
        checked_steps([0])
    axes = random_axes(np.array([0.6, 0.8, 0.0]), 5, seed=0)
    assert np.allclose(np.linalg.norm(axes, axis=1), 1)
    assert np.allclose(axes @ np.array([0.6, 0.8, 0.0]), 0)
    with pytest.raises(UserError, match="at least 2 faces"):
        counterfactuals(show_code, Z[:1], None, AXIS, 1.0, [1], ChannelReader(0))
    r = counterfactuals(show_code, Z, None, AXIS, 1.0, [-1, 1], ChannelReader(0), random=0)
    assert set(most_changed(r, 2).tolist()) == {1, 2}


@pytest.fixture(scope="module")
def coded(faces: Path, vae_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store of ``faces``' images and labels; ``skin.json`` beside it is the skin-tone
    direction fitted on the VAE's encoder means."""
    copy = st.save(st.load(faces), tmp_path_factory.mktemp("cf") / "faces")
    z = encode(vae_run, st.load_images(copy, range(len(copy))))
    fit_store_direction(copy, z, "skin_tone", positive="monk_8").to_json(
        Path(copy.path).parent / "skin.json")
    return Path(copy.path)


def test_command_on_a_trained_vae(cli, coded: Path, vae_run: Path, skin_annotator_file: Path,
                                  tmp_path: Path) -> None:
    """A skin-tone classifier is the positive control: moving faces along the skin-tone
    direction changes its answer far more often than random steps of the same size do."""
    out = tmp_path / "cf"
    r = cli("audit", "counterfactual", vae_run, "--data", coded, "--direction",
            coded.parent / "skin.json", "--classifier", skin_annotator_file, "--check",
            skin_annotator_file, "--n", "120", "--steps=-2,2", "--by", "gender", "--out", out)
    assert r.code == 0, r.err
    assert "random directions" in r.out and "by gender" in r.out
    s = json.loads((out / "counterfactual.json").read_text())
    assert len(s["rows"]) == 120 and s["steps"] == [-2, 0, 2]
    assert s["groups_by"] == "gender" and s["classifier"]["attribute"] == "skin_tone"
    every = {x["step"]: x for x in s["flips"] if x["group"] == "all faces"}
    assert every[0.0]["rate"] == 0
    # faces read monk_2 turn monk_8 going +, and the other way going -: both ends flip a lot
    assert every[2.0]["excess_low"] > 0.1 and every[-2.0]["rate"] + every[2.0]["rate"] > 0.5
    shares = {(x["step"], x["class"]): x["share"] for x in s["check_shares"]}
    assert shares[(2.0, "monk_8")] > shares[(0.0, "monk_8")] > shares[(-2.0, "monk_8")]
    assert {x["group"] for x in s["flips"]} == {"female", "male", "all faces"}
    for name in ("flips.csv", "faces.csv", "counterfactual.png", "faces.png"):
        assert (out / name).stat().st_size > 0
    lines = (out / "faces.csv").read_text().splitlines()
    assert len(lines) == 1 + 120 * 3 and lines[0].startswith("row,step,predicted,p_")
    assert lines[0].endswith(",check_skin_tone")
    r = cli("report", out, "--out", tmp_path / "report.html")
    assert r.code == 0, r.err
    html = (tmp_path / "report.html").read_text()
    assert "Counterfactual: skin_tone along skin_tone: monk_8 vs rest" in html
    assert "random directions" in html and html.count("<img") >= 2


def test_command_refusals(cli, coded: Path, vae_run: Path, skin_annotator_file: Path,
                          tmp_path: Path) -> None:
    base = ["audit", "counterfactual", vae_run, "--data", coded, "--direction",
            coded.parent / "skin.json", "--out", tmp_path / "x"]
    r = cli(*base, "--classifier", "onnx:net.onnx")
    assert r.code == 2 and "needs --attribute" in r.err
    r = cli(*base, "--classifier", skin_annotator_file, "--by", "smile")
    assert r.code == 2 and "data bin" in r.err
    r = cli(*base, "--classifier", skin_annotator_file, "--attribute", "gender")
    assert r.code == 2 and "reads 'skin_tone'" in r.err
    r = cli(*base, "--classifier", skin_annotator_file, "--steps", "0")
    assert r.code == 2 and "other than 0" in r.err
    r = cli(*base, "--classifier", skin_annotator_file, "--check",
            f"{skin_annotator_file},{skin_annotator_file}")
    assert r.code == 2 and "same attribute" in r.err
    r = cli(*base, "--classifier", skin_annotator_file, "--check", skin_annotator_file,
            "--random", "-1")
    assert r.code == 2 and "--random" in r.err
