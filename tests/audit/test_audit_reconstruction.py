"""`latentplay audit reconstruction`: whose faces a trained model redraws worse."""

from __future__ import annotations

import csv
import html
import json
import re
from pathlib import Path

import numpy as np
import pytest

from latentplay import sources, train
from latentplay import store as st
from latentplay.latent.invert import mean_code, reconstruction_loss
from latentplay.report import build_report
from latentplay.store.io import store_digest
from latentplay.viz.reconstruction import PANELS, reconstruction_bars


def test_each_group_is_its_photos_measured_again(cli, faces: Path, vae_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "rec"
    r = cli("audit", "reconstruction", vae_run, "--data", faces, "--by", "gender", "--n", "150",
            "--out", out)
    assert r.code == 0, r.err
    found = json.loads((out / "reconstruction.json").read_text())
    assert found["made_by"]["command"] == (f"latentplay audit reconstruction {vae_run} --data {faces} --by "
                                           f"gender --n 150 --out {out}")
    assert found["data_digest"] == store_digest(st.load(faces))
    assert found["photos"] == 150 == sum(g["n"] for g in found["groups"].values())
    assert list(found["groups"]) == ["female", "male"] and found["persons"] is None
    # the male photos measured by hand: encoder means decoded, against the photos as the model sees them
    store, model = st.load(faces), train.load_model(vae_run)
    rows = np.sort(np.random.default_rng(0).choice(len(store), 150, replace=False))
    male = rows[np.asarray(store.labels("gender"))[rows] == 1]
    images = st.load_images(store, male)
    mse = reconstruction_loss(model, train.encode(model, images), images)
    variance = (train.model_input(model, images).reshape(len(male), -1) / 255.0).var(axis=1)
    g = found["groups"]["male"]
    assert g["n"] == len(male)
    assert g["mse"] == pytest.approx(mse.mean(), rel=1e-5)
    assert g["unexplained"] == pytest.approx((mse / variance).mean(), rel=1e-5)
    average = reconstruction_loss(model, mean_code(model), images)
    assert g["failed"] == pytest.approx(np.mean(mse > 0.8 * average))
    for measure in ("mse", "unexplained"):
        assert g[f"{measure}_low"] < g[measure] < g[f"{measure}_high"]
        assert found["tests"][measure]["units"] == "photos" and found["tests"][measure]["dof"] == 1
    assert "kept" not in g and "kept" not in found["tests"]
    assert len(found["worst_rows"]["male"]) == 4 and set(found["worst_rows"]["male"]) <= set(male.tolist())
    with open(out / "reconstruction_gender.csv") as fh:
        assert [row["group"] for row in csv.DictReader(fh)] == ["female", "male", "all"]
    assert (out / "reconstruction_gender.png").stat().st_size > 5000
    assert (out / "worst_gender.png").stat().st_size > 5000
    assert "  male (n=" in r.out and "pixel MSE by group: Kruskal-Wallis" in r.out
    page = build_report(out).read_text(encoding="utf-8")
    assert "Reconstruction by gender" in page and "variance missed by group" in page
    # the figure's p-values read as the terminal's and the report's do
    labels = {ax.get_xlabel().split("\n")[0]: ax.get_xlabel() for ax in reconstruction_bars(found).axes}
    for measure, said in (("unexplained", "variance missed"), ("mse", "pixel MSE")):
        line = next(x for x in r.out.splitlines() if x.strip().startswith(f"{said} by group:"))
        printed = re.search(r", p (\S+); worst", line)
        assert printed and line.split("by group: ")[1] in html.unescape(page)
        assert labels[PANELS[measure].split("\n")[0]].endswith(f" p {printed[1]}"), (labels, line)


def test_photos_of_several_sizes_are_each_redrawn_as_the_model_sees_them(
        cli, faces: Path, vae_run: Path, tmp_path: Path) -> None:
    """A folder of photos converted without --resize holds images of several sizes: the audit
    failed with "images differ in size (...; give a size to resize them)", an option it lacks.
    Each photo is now fitted to the model as encoding it alone fits it."""
    from PIL import Image

    store, model = st.load(faces), train.load_model(vae_run)
    images = list(st.load_images(store, range(40)))
    images[1::2] = [np.asarray(Image.fromarray(im).resize((96, 96))) for im in images[1::2]]
    mixed = st.build([{"image": [st.encode_png(im) for im in images],
                       "gender": np.asarray(store.labels("gender"))[:40]}],
                     store.schema, tmp_path / "mixed")
    r = cli("audit", "reconstruction", vae_run, "--data", mixed.path, "--by", "gender",
            "--out", tmp_path / "rec")
    assert r.code == 0, r.err
    found = json.loads((tmp_path / "rec" / "reconstruction.json").read_text())
    mse = np.array([reconstruction_loss(model, train.encode(model, [im]), [im])[0] for im in images])
    assert found["all"]["n"] == 40 and found["all"]["mse"] == pytest.approx(mse.mean(), rel=1e-5)


def test_backgrounds_the_model_never_saw_are_redrawn_worse_counted_over_persons(
        cli, vae_run: Path, tmp_path: Path) -> None:
    """The VAE saw white backgrounds only; photos of 40 persons before six backgrounds: the
    white ones are redrawn best by both measures, the groups differ, and the persons count."""
    data = tmp_path / "persons"
    sources.make("synthfaces", data, n=240, seed=1, overrides=["identities=40"])
    r = cli("audit", "reconstruction", vae_run, "--data", data, "--by", "background",
            "--out", tmp_path / "rec")
    assert r.code == 0, r.err
    found = json.loads((tmp_path / "rec" / "reconstruction.json").read_text())
    assert found["persons"] == 40 and "bootstrap over them" in r.out
    background, person = (np.asarray(st.load(data).labels(name)) for name in ("background", "identity"))
    fewest = min(len(np.unique(person[background == k])) for k in np.unique(background))
    for measure in ("mse", "unexplained"):
        test = found["tests"][measure]
        assert test["units"] == "persons" and test["p_value"] < 1e-3 and test["best"] == "white"
        # a person is photographed before several backgrounds: their photos compared across
        # them by the cluster-robust test, not their means in each taken as independent
        assert test["test"] == "wald" and test["spanning"] == found["persons"]
        # on the persons of the background with fewest less one (a group's mean is only as
        # well measured as its own persons let the robust variance see)
        assert test["dof"] == 5 and test["ddf"] == fewest - 1 == 24
    assert "over persons (40 in several groups; cluster-robust test of equal means)" in r.out
    assert "the test compares each person's photos across the groups" in r.out
    # gender is a person's own: each person's mean in one group, ranked
    r = cli("audit", "reconstruction", vae_run, "--data", data, "--by", "gender",
            "--out", tmp_path / "by_gender")
    test = json.loads((tmp_path / "by_gender" / "reconstruction.json").read_text())["tests"]["mse"]
    assert test["test"] == "kruskal" and test["units"] == "persons" and "spanning" not in test
    assert "the test ranks each person's mean" in r.out


def test_bad_input_is_one_line(cli, faces: Path, vae_run: Path, dcgan_run: Path, tmp_path: Path) -> None:
    r = cli("audit", "reconstruction", dcgan_run, "--data", faces, "--by", "gender", "--out", tmp_path / "g")
    assert r.code == 2 and "has no encoder: give --column" in r.err and "--with invert:" in r.err
    r = cli("audit", "reconstruction", vae_run, "--data", faces, "--by", "nosuch", "--out", tmp_path / "a")
    assert r.code == 2 and "nosuch" in r.err and len(r.err.strip().splitlines()) == 1
    r = cli("audit", "reconstruction", vae_run, "--data", faces, "--by", "gender", "--n", "0",
            "--out", tmp_path / "b")
    assert r.code == 2 and "--n must be at least 1" in r.err
    r = cli("audit", "reconstruction", vae_run, "--data", faces, "--by", "gender", "--column", "z",
            "--out", tmp_path / "c")
    assert r.code == 2 and "'z'" in r.err
    assert not any((tmp_path / name).exists() for name in "abcg")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "notes.txt").write_text("kept")
    r = cli("audit", "reconstruction", vae_run, "--data", faces, "--by", "gender", "--out", tmp_path / "full")
    assert r.code == 2 and "--overwrite" in r.err and "redraws" not in r.out


def test_identity_kept_is_read_by_the_face_recogniser(cli, faces: Path, vae_run: Path,
                                                      tmp_path: Path) -> None:
    from latentplay.audit.identity import identity_embedder, reconstruction_identity

    r = cli("audit", "reconstruction", vae_run, "--data", faces, "--by", "gender", "--n", "24",
            "--identity", "dlib", "--seed", "3", "--out", tmp_path / "rec")
    assert r.code == 0, r.err
    found = json.loads((tmp_path / "rec" / "reconstruction.json").read_text())
    store, model = st.load(faces), train.load_model(vae_run)
    rows = np.sort(np.random.default_rng(3).choice(len(store), 24, replace=False))
    images = st.load_images(store, rows)
    read = reconstruction_identity(identity_embedder("dlib"), train.model_input(model, images),
                                   train.decode(model, train.encode(model, images)))
    kept = np.array([np.nan if v is None else v for v in read["kept"]])
    male = np.asarray(store.labels("gender"))[rows] == 1
    assert found["groups"]["male"]["kept"] == pytest.approx(np.nanmean(kept[male]), abs=1e-6)
    assert found["tests"]["kept"]["units"] == "photos" and ", kept " in r.out


def test_codes_from_a_column_are_the_encoder_s_and_a_column_of_no_run_is_cautioned(
        cli, faces: Path, vae_run: Path, tmp_path: Path) -> None:
    """A column of the run's encoder means (``embed --with vae:RUN``) gives the numbers the
    encoder gives; a column no run made (pixel features) is read with a caution, as imported
    codes are."""
    from latentplay.embed.column import embed_store

    data = tmp_path / "faces"
    store = st.save(st.load(faces), data)
    embed_store(store, f"vae:{vae_run}", "mu", progress=False)
    embed_store(data, "pixels-pca", "pix", options=["dim=8"], progress=False)
    found = {}
    for how, extra in (("encoder", []), ("mu", ["--column", "mu"])):
        r = cli("audit", "reconstruction", vae_run, "--data", data, "--by", "skin_tone", "--n", "60",
                *extra, "--out", tmp_path / how)
        assert r.code == 0, r.err
        found[how] = json.loads((tmp_path / how / "reconstruction.json").read_text())
    assert found["mu"]["codes"] == "mu" and "(mu codes)" in r.out
    for name, g in found["encoder"]["groups"].items():
        assert found["mu"]["groups"][name]["mse"] == pytest.approx(g["mse"], rel=1e-4)
    # skin tones are ordered: the two groups the faces have, monk_2 and monk_8, six steps of
    # the Monk scale apart (monk_3 .. monk_7 between them, without photos)
    groups, trend = found["encoder"]["groups"], found["encoder"]["tests"]["mse"]["trend"]
    assert trend["slope"] == pytest.approx((groups["monk_8"]["mse"] - groups["monk_2"]["mse"]) / 6)
    assert trend["gaps"] == [f"monk_{k}" for k in range(3, 8)]
    assert trend["low"] < trend["slope"] < trend["high"] and "along the order" in r.out
    r = cli("audit", "reconstruction", vae_run, "--data", data, "--by", "skin_tone", "--column", "pix",
            "--out", tmp_path / "pix")
    assert r.code == 0 and "caution: column 'pix' holds no known run's codes" in r.err


def test_a_run_that_redraws_no_photo_is_cautioned_and_its_shares_have_intervals(
        cli, faces: Path, vae_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every redrawing failed: each group read "failed 1.0000 [1.0000, 1.0000]" and the groups'
    differences read as a finding, without a word."""
    from latentplay.latent import invert

    monkeypatch.setattr(invert, "failed", lambda mse, reference: np.ones(len(mse), bool))
    out = tmp_path / "rec"
    r = cli("audit", "reconstruction", vae_run, "--data", faces, "--by", "gender", "--n", "60",
            "--out", out)
    assert r.code == 0, r.err
    assert "caution: 100 % of the photos are redrawn hardly better than by the run's average " \
           "face" in r.err
    found = json.loads((out / "reconstruction.json").read_text())
    for g in [*found["groups"].values(), found["all"]]:
        assert g["failed"] == 1.0 and 0.5 < g["failed_low"] < 0.99 and g["failed_high"] == 1.0
    assert found["caution"].startswith("caution: 100 %")


def test_the_trend_steps_along_the_order_over_a_class_without_photos() -> None:
    """Groups t0, t1, t3 of an order t0..t3 (t2 without photos), mean errors 1, 2 and 4: on
    the line 1 + place, so 1 per step (numbered 0, 1, 2 among the groups it would be 1.5)."""
    from latentplay.audit.reconstruction import _by_group, across_text

    group = np.repeat([0, 1, 2], 4)                      # codes into the groups present
    mse = np.repeat([1.0, 2.0, 4.0], 4) + np.tile([-0.5, 0.5], 6)
    found = _by_group({"mse": mse, "unexplained": mse, "failed": np.zeros(12)}, group,
                      ["t0", "t1", "t3"], np.arange(12), False, True, 0, ["t0", "t1", "t2", "t3"])
    trend = found["tests"]["mse"]["trend"]
    assert trend["slope"] == pytest.approx(1.0)
    assert (trend["groups"], trend["gaps"]) == (["t0", "t1", "t3"], ["t2"])
    assert "along the order (no rows in t2) +1 per step" in across_text(found["tests"]["mse"])


def test_worst_group_is_the_one_missing_most_and_keeping_least() -> None:
    """Group b's photos are redrawn with more pixel error and keep less of the person: b is
    the worst group by both (for ``kept`` the lowest mean is the worst)."""
    from latentplay.audit.reconstruction import _by_group

    mse = np.array([0.01, 0.02, 0.015, 0.05, 0.06, 0.055])
    values = {"mse": mse, "unexplained": 2 * mse, "failed": np.zeros(6),
              "kept": np.array([0.9, 0.8, 0.85, 0.2, 0.3, 0.25])}
    found = _by_group(values, np.array([0, 0, 0, 1, 1, 1]), ["a", "b"], np.arange(6), False,
                      False, 0)
    for measure in ("mse", "unexplained", "kept"):
        assert (found["tests"][measure]["worst"], found["tests"][measure]["best"]) == ("b", "a")
    assert found["groups"]["b"]["kept"] == pytest.approx(0.25)


def test_worst_photos_are_those_missing_most() -> None:
    """The four members whose redrawing misses the most, largest first; a photo without a
    measure last; non-members never."""
    from latentplay.audit.reconstruction import _worst

    missed = np.array([0.1, np.nan, 0.5, 0.3, 0.2, 0.9, 0.95])
    members = np.array([True, True, True, True, True, True, False])
    assert _worst(missed, members).tolist() == [5, 2, 3, 4]
    assert _worst(missed, np.array([True, True] + [False] * 5)).tolist() == [0, 1]


def test_worst_photos_tied_come_in_row_order() -> None:
    """Photos missing as much (a photo stored twice, photos without a measure) are listed in
    row order, on every machine: numpy's default sort listed the four at 0.7 below as rows
    7, 6, 5, 4 where its vectorised sort runs (AVX2, AVX-512) and 4, 5, 6, 7 elsewhere."""
    from latentplay.audit.reconstruction import _worst

    members = np.ones(12, bool)
    assert _worst(np.full(12, 0.5), members).tolist() == [0, 1, 2, 3]
    missed = np.r_[np.full(4, 0.3), np.full(4, 0.7), np.full(4, np.nan)]
    assert _worst(missed, members).tolist() == [4, 5, 6, 7]
    assert _worst(np.r_[0.9, np.full(11, np.nan)], members).tolist() == [0, 1, 2, 3]


def test_groups_compared_over_each_persons_mean() -> None:
    """Persons with several photos, each in one group: Kruskal-Wallis over the persons' means
    (0.1 and 0.2 against 0.3 and 0.4), not over the photos."""
    from scipy.stats import kruskal

    from latentplay.audit.reconstruction import _across

    found = _across([np.array([0.1, 0.1, 0.1, 0.1, 0.2]), np.array([0.3, 0.4])],
                    [np.array([1, 1, 1, 1, 2]), np.array([3, 4])], True)
    statistic, p = kruskal([0.1, 0.2], [0.3, 0.4])
    assert (found["test"], found["units"], found["dof"]) == ("kruskal", "persons", 1)
    assert (found["statistic"], found["p_value"]) == (pytest.approx(statistic), pytest.approx(p))


def test_a_group_of_one_persons_photos_says_why_it_has_no_test() -> None:
    """Persons 1 and 2 in group a; group b all of person 2's photos: a person spans the groups,
    so the photos are compared by the cluster-robust test, which cannot measure b's mean over
    one person; the line says so rather than leaving the measure out. With person 3 in b too
    the test is made."""
    from latentplay.audit.reconstruction import NO_TEST, _across, across_text

    values = [np.array([0.1, 0.2, 0.15, 0.3, 0.25]), np.array([0.4, 0.5, 0.45, 0.35])]
    a = np.array([1, 1, 2, 2, 2])
    assert _across(values, [a, np.array([2, 2, 3, 3])], True)["test"] == "wald"
    assert _across(values, [a, np.array([2, 2, 2, 2])], True) is None
    assert across_text(None) == NO_TEST and "a group all of one person's photos" in NO_TEST
    assert NO_TEST.endswith("or over 2,001 groups)")
