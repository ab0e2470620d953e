"""Who the face detector finds at every cut (``latentplay audit detection``)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from latentplay import sources
from latentplay import store as st
from latentplay.audit.detection import best_scores, detection_sweep
from latentplay.embed.faces import FaceModels, cnn_faces
from latentplay.errors import UserError
from latentplay.intervals import wilson_interval
from latentplay.store.io import store_digest
from latentplay.store.subset import subset


@pytest.fixture(scope="module")
def drawn(tmp_path_factory: pytest.TempPathFactory) -> st.Store:
    return sources.make("synthfaces", tmp_path_factory.mktemp("drawn") / "faces", n=60, seed=5)


def test_best_scores_say_which_images_have_a_face(drawn: st.Store) -> None:
    images = list(st.load_images(drawn, range(12)))  # faces, misses and windows at neither cut
    cnn = best_scores(images, "cnn", lowest=-1.0)
    assert np.array_equal(cnn > 0, [f is not None for f in cnn_faces(images)])
    assert np.all(cnn[np.isfinite(cnn)] > -1.0) and np.any(cnn > 0)
    hog = best_scores(images, "hog", lowest=-0.5)
    models = FaceModels.load()
    assert np.array_equal(hog > 0, [models.find(im) is not None for im in images])
    with pytest.raises(UserError, match="detector must be one of hog, cnn"):
        best_scores(images[:1], "mtcnn")


def test_the_sweep_counts_faces_per_group_at_every_cut(drawn: st.Store, tmp_path: Path, cli) -> None:
    sweep = detection_sweep(drawn, "gender", detector="hog", lowest=-0.6, steps=13)
    t = np.array(sweep["thresholds"])
    assert t[0] == -0.6 and 0.0 in t and np.all(np.diff(t) > 0)
    groups = sweep["groups"]
    assert set(groups) == {"female", "male"} and sum(g["n"] for g in groups.values()) == 60
    for g in [*groups.values(), sweep["all"]]:
        found = np.array(g["found"])
        assert np.all(np.diff(found) <= 0)  # fewer faces as the cut rises
        assert np.all(np.array(g["low"]) <= np.array(g["share"]) + 1e-12)
        assert g["share"][list(t).index(0.0)] == g["at_cut"]
    np.testing.assert_array_equal(sweep["all"]["found"], np.sum([g["found"] for g in groups.values()], 0))
    crossed = detection_sweep(drawn, "gender,eyeglasses", detector="hog", lowest=-0.6, steps=13)
    assert all(" / " in name for name in crossed["groups"]) and len(crossed["groups"]) >= 3
    np.testing.assert_array_equal(crossed["all"]["found"], sweep["all"]["found"])
    models = FaceModels.load()
    images = st.load_images(drawn)
    assert sweep["cut"] == 0.0
    assert sweep["all"]["at_cut"] == np.mean([models.find(im) is not None for im in images])
    best = max(g["at_cut"] for g in groups.values())
    for g in groups.values():
        reached = t[np.array(g["share"]) >= best]   # the highest cut still finding as many
        assert g["matched_at"] == (reached.max() if len(reached) else None)
        if g["at_cut"] == best:                     # the best group matches itself at the cut
            assert g["matched_at"] is not None and g["matched_at"] >= sweep["cut"]
    few = subset(drawn, tmp_path / "few", np.arange(12))  # the CNN detector's sweep through the CLI
    r = cli("audit", "detection", few.path, "--by", "skin_tone", "--detector", "cnn", "--lowest",
            "-0.5", "--steps", "11", "--out", tmp_path / "sweep")
    assert r.code == 0, r.err
    assert "at the cut" in r.out and "false alarms count too" in r.out
    saved = json.loads((tmp_path / "sweep" / "detection.json").read_text())
    assert saved["made_by"]["command"] == (f"latentplay audit detection {few.path} --by skin_tone --detector "
                                           f"cnn --lowest -0.5 --steps 11 --out {tmp_path / 'sweep'}")
    assert saved["store_digest"] == store_digest(st.load(few.path))
    assert saved["detector"] == "cnn" and saved["ordered"] and (tmp_path / "sweep" / "detection.png").exists()
    r = cli("report", tmp_path / "sweep", "--out", tmp_path / "sweep.html")
    assert r.code == 0, r.err
    page = (tmp_path / "sweep.html").read_text()
    assert "Faces found by skin_tone" in page and "found at the cut" in page
    for args, message in ((["--by", "smile"], "continuous"), (["--by", "gender", "--lowest", "0.5"],
                                                                "the detector's own cut, 0"),
                          (["--by", "gender", "--detector", "scrfd"], "detector must be one of")):
        r = cli("audit", "detection", drawn.path, *args, "--out", tmp_path / "x", "--overwrite")
        assert r.code == 2 and message in r.err, r.err


def test_photos_of_one_person_widen_the_intervals(tmp_path: Path) -> None:
    persons = sources.make("synthfaces", tmp_path / "persons", n=60, seed=2, overrides=["identities=10"])
    sweep = detection_sweep(persons, "gender", detector="hog", lowest=-0.6, steps=13)
    assert sweep["persons"] == 10 and set(sweep["groups"]) == {"female", "male"}
    for g in sweep["groups"].values():
        share, low, high = (np.array(g[key]) for key in ("share", "low", "high"))
        assert np.all(low <= share + 1e-12) and np.all(share <= high + 1e-12)
        wilson = np.array([wilson_interval(np.array([f]), g["n"])[0] for f in g["found"]])
        inner = (share > 0) & (share < 1)
        # six photos a person: the bootstrap over persons is wider than Wilson's over rows
        assert np.mean((high - low)[inner]) > np.mean((wilson[:, 1] - wilson[:, 0])[inner])


def test_a_score_on_the_cut_is_a_face_found() -> None:
    """The detectors keep a window scoring at or above their cut (dlib's
    ``detection_confidence >= adjust_threshold``, SCRFD's ``score >= threshold``): a best score
    of exactly 0.5 is a face at SCRFD's cut 0.5, and at every threshold up to it."""
    from latentplay.audit.detection import _curve

    scores = np.array([0.5, 0.5, 0.3, -np.inf])
    curve = _curve(scores, np.array([0.0, 0.3, 0.5, 0.7]), 0.5, None)
    assert curve["found"] == [3, 3, 2, 0]
    assert _curve(np.array([0.6]), np.array([0.5, 0.7]), 0.5, None)["share"] == [1.0, 0.0]
    assert curve["at_cut"] == 0.5
    low, high = wilson_interval(np.array([2]), 4)[0]
    assert curve["at_cut_interval"] == [pytest.approx(low), pytest.approx(high)]


def test_persons_count_only_the_rows_in_a_group(tmp_path: Path) -> None:
    """``persons`` counts the persons behind the rows the curves are drawn over: persons whose
    photos have no class of ``--by`` are in no group and not counted."""
    from latentplay import store as st
    from latentplay.store import Attribute
    from latentplay.store.columns import add_attributes

    made = sources.make("synthfaces", tmp_path / "persons", n=60, seed=2, overrides=["identities=10"])
    identity = np.asarray(made.dataset["identity"])
    group = np.where(identity < 2, 2, identity % 2)  # persons 0 and 1: unknown
    half = Attribute("half", "categorical", names=["a", "b", "unknown"])
    marked = add_attributes(made, {"half": (half, group)})
    st.save(marked, tmp_path / "marked")
    sweep = detection_sweep(tmp_path / "marked", "half", detector="hog", lowest=-0.6, steps=5)
    assert sweep["unknown_rows"] == int(np.sum(identity < 2))
    assert sweep["persons"] == 8
    assert sweep["all"]["n"] == 60 - sweep["unknown_rows"]       # the rows of the groups alone


def test_the_default_range_runs_from_below_the_cut_to_the_best_score(drawn: st.Store) -> None:
    """dlib's scores: from one below the cut (0) to the best score seen, rounded up to a tenth,
    so that the top threshold finds no face above it."""
    sweep = detection_sweep(drawn, "gender", detector="hog", steps=5)
    best = best_scores(list(st.load_images(drawn)), "hog", lowest=-1.0).max()
    t = sweep["thresholds"]
    assert t[0] == -1.0 and best <= t[-1] < best + 0.1 + 1e-9
    assert detection_sweep(drawn, "gender", detector="hog", lowest=0.0, steps=3)["thresholds"][0] == 0.0


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"steps": 1}, "at least 2 steps"), ({"lowest": -0.5, "highest": -0.5}, "lowest < highest"),
    ({"lowest": -0.5, "highest": -0.1}, "must hold the detector's own cut, 0"),
    ({"lowest": 0.1}, "must hold the detector's own cut, 0"),
    # data align and data measure refuse these; the sweep read -2 as -1 and upsampled 5 times
    ({"upsample": -2}, r"upsample \(--upsample\) must be in \[-1, 4\], got -2"),
    ({"upsample": 5}, r"upsample \(--upsample\) must be in \[-1, 4\], got 5"),
    # NaN or infinite ends swept the images and then failed drawing the figure's axis
    ({"lowest": float("nan")}, "--lowest must be a finite score, got nan"),
    ({"lowest": -np.inf}, "--lowest must be a finite score, got -inf"),
    ({"highest": np.inf}, "--highest must be a finite score, got inf")])
def test_a_range_without_the_cut_or_steps_is_refused(drawn: st.Store, kwargs: dict,
                                                      message: str) -> None:
    with pytest.raises(UserError, match=message):
        detection_sweep(drawn, "gender", detector="hog", **kwargs)
