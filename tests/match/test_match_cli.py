"""`latentplay match run/simulate`: outputs, images, face verification and bad input."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from match_reference import read_rows

from latentplay import store as st
from latentplay.sources import make


@pytest.fixture(scope="module")
def faces(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("faces") / "store"
    s = make("synthfaces", path, n=240, seed=0, overrides=["confound.smile_gender=0.6"])
    pixels = st.load_images(s, size=16).reshape(len(s), -1).astype(np.float32) / 255
    pixels -= pixels.mean(axis=0)
    _, _, vt = np.linalg.svd(pixels, full_matrices=False)
    s = st.add_column(s, "pix", pixels @ vt[:8].T, "pixel PCA for tests")
    st.save(s, path)
    return path


def test_run_writes_every_output(cli, sim: Path, tmp_path: Path) -> None:
    out = tmp_path / "m"
    r = cli("match", "run", sim, "--treatment", "group", "--covariates", "z",
            "--method", "propensity", "--caliper", "0.2", "--outcome", "y", "--out", out,
            "--bootstrap", "200")
    assert r.code == 0, r.err
    assert "max |SMD|" in r.out and "matched difference in y" in r.out
    assert "caution" not in r.err  # balanced: no covariate over |SMD| 0.1 after matching
    for name in ("pairs.csv", "balance.csv", "summary.json", "love_plot.png",
                 "attribute_means.png"):
        assert (out / name).stat().st_size > 0
    pairs = read_rows(out / "pairs.csv")
    summary = json.loads((out / "summary.json").read_text())
    assert len(pairs) == summary["counts"]["pairs"] == summary["counts"]["matched_treated"]
    assert set(pairs[0]) == {"treated_index", "control_index", "distance",
                             "treated_propensity", "control_propensity"}
    labels = st.load(sim).labels("group")
    assert all(labels[int(p["treated_index"])] == 1 and labels[int(p["control_index"])] == 0
               for p in pairs)
    assert len({p["control_index"] for p in pairs}) == len(pairs)
    balance = read_rows(out / "balance.csv")
    assert [b["covariate"] for b in balance][:2] == ["z[0]", "z[1]"]
    assert {"x0", "x1", "x2"} <= {b["covariate"] for b in balance}  # attributes too
    assert "y" not in {b["covariate"] for b in balance}  # the outcome is no covariate
    assert summary["balance"]["after"]["max_abs_smd"] < summary["balance"]["before"]["max_abs_smd"]
    assert summary["effect"]["matched"]["ci_low"] < 1.0 < summary["effect"]["matched"]["ci_high"]
    assert summary["config"]["caliper"] == 0.2 and summary["caliper"]["distance"] > 0


def test_faces_pairs_grid_exact_blocks_and_verification(cli, faces: Path, tmp_path: Path,
                                                        undrawn) -> None:
    undrawn("love_plot", "attribute_means")  # pairs.png is drawn
    out = tmp_path / "f"
    r = cli("match", "run", faces, "--treatment", "gender=male,female",
            "--covariates", "pix,smile,yaw", "--exact", "eyeglasses", "--method", "mahalanobis",
            "--verify", "--verify-pairs", "4", "--grid-pairs", "8", "--partial", "--out", out)
    assert r.code == 0, r.err
    assert (out / "pairs.png").stat().st_size > 10_000
    s = st.load(faces)
    glasses, gender = s.labels("eyeglasses"), s.labels("gender")
    pairs = read_rows(out / "pairs.csv")
    for p in pairs:
        t, c = int(p["treated_index"]), int(p["control_index"])
        assert glasses[t] == glasses[c] and gender[t] == 1 and gender[c] == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["treatment"] == {"attribute": "gender", "treated": "male", "control": "female"}
    v = summary["verification"]
    assert v["matched"]["pairs"] == 4 and v["random"]["pairs"] == 4
    assert len(read_rows(out / "verification.csv")) == 4
    median = f"{v['matched']['median']:.3f} against {v['random']['median']:.3f} for 4 random pairs"
    assert f"face verification (dlib) of 4 matched pairs: median distance {median}" in r.out
    # dlib's 0.6 is a rule of thumb for one person, not a finding that the pairs are one
    assert "share below 0.6 (what dlib's rule of thumb reads as one person): " in r.out
    assert len(summary["match"]["blocks"]) == 2


def test_optimal_and_ratio(cli, sim: Path, tmp_path: Path, undrawn) -> None:
    undrawn("love_plot", "attribute_means", "propensity_overlap", "pairs_grid")
    r = cli("match", "run", sim, "--treatment", "group", "--covariates", "x0,x1,x2",
            "--method", "optimal", "--ratio", "2", "--partial", "--out", tmp_path / "o")
    assert r.code == 0, r.err
    pairs = read_rows(tmp_path / "o" / "pairs.csv")
    counts = np.bincount([int(p["treated_index"]) for p in pairs])
    assert set(counts[counts > 0].tolist()) <= {1, 2}
    c = json.loads((tmp_path / "o" / "summary.json").read_text())["counts"]
    assert c["matched_treated"] == np.count_nonzero(counts) and c["pairs"] == len(pairs)
    assert c["unmatched_treated"] == c["treated"] - c["matched_treated"]


def test_replace(cli, sim: Path, tmp_path: Path, undrawn) -> None:
    undrawn("love_plot", "attribute_means", "propensity_overlap", "pairs_grid")
    r = cli("match", "run", sim, "--treatment", "group", "--covariates", "x0,x1,x2",
            "--replace", "--ratio", "2", "--outcome", "y", "--out", tmp_path / "r")
    assert r.code == 0, r.err
    pairs = read_rows(tmp_path / "r" / "pairs.csv")
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    # the effective sample size is the controls' (Σw)² / Σw², and the line says whose
    weights = np.bincount([int(p["control_index"]) for p in pairs]) / 2   # each treated: 2 controls
    weights = weights[weights > 0]
    ess = weights.sum() ** 2 / (weights ** 2).sum()
    assert f" control units (their effective sample size {ess:.0f}; " in r.out
    c = summary["counts"]
    assert len(pairs) == c["pairs"] == 2 * c["treated"]
    assert c["matched_controls"] < c["pairs"]  # controls reused
    assert 0 < c["controls_ess"] < c["matched_controls"]
    # Kish's (sum w)^2 / sum w^2 of the controls' weights: 1/2 a pair (two controls a unit)
    counts = np.unique([p["control_index"] for p in pairs], return_counts=True)[1]
    assert c["controls_ess"] == pytest.approx((counts / 2).sum() ** 2 / ((counts / 2) ** 2).sum())
    assert summary["match"]["replace"] is True and summary["config"]["replace"] is True
    e = summary["effect"]["matched"]
    assert e["variance"] == "abadie-imbens" and e["ci_low"] < e["estimate"] < e["ci_high"]
    r = cli("match", "run", sim, "--treatment", "group", "--covariates", "z", "--replace",
            "--method", "optimal", "--out", tmp_path / "o")
    assert r.code == 2 and "without replacement" in r.err


def test_simulate(cli, tmp_path: Path) -> None:
    r = cli("match", "simulate", "--out", tmp_path / "s", "--n", "500", "--irrelevant", "3")
    assert r.code == 0 and "true effect 1" in r.out
    s = st.load(tmp_path / "s")
    assert st.vectors(s, "z").shape == (500, 8)


@pytest.mark.parametrize("option", ["--effect", "--strength"])
@pytest.mark.parametrize("value", ["nan", "inf"])
def test_simulate_refuses_a_non_finite_effect_or_strength(cli, tmp_path: Path, option: str,
                                                          value: str) -> None:
    """``--effect nan`` wrote a store whose outcome was all NaN (exit 0, "true effect nan")."""
    r = cli("match", "simulate", "--out", tmp_path / "s", "--n", "50", option, value)
    assert r.code == 2 and r.err.strip() == f"error: {option} must be a finite number, got {value}", r.err
    assert not (tmp_path / "s").exists()


def test_simulate_with_a_huge_strength_warns_of_nothing() -> None:
    """P(treated) saturates at 0 or 1 without an overflow in exp: the units with a positive
    confounder score are all treated."""
    import warnings

    from latentplay.match.synthetic import confounded

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        data = confounded(200, relevant=2, irrelevant=0, strength=10_000.0, seed=0)
    score = data.x.astype(np.float64).sum(axis=1)
    np.testing.assert_array_equal(data.treated, score > 0)


def test_caliper_that_drops_everything_writes_empty_outputs(cli, sim: Path, tmp_path: Path) -> None:
    out = tmp_path / "e"
    r = cli("match", "run", sim, "--treatment", "group", "--covariates", "z",
            "--caliper", "1e-9", "--out", out)
    assert r.code == 2
    assert "dropped all" in r.err and "empty outputs" in r.err
    assert "--caliper-units abs" in r.err  # the way out for nearest matching in 100 dimensions
    assert r.err.count("\n") == 1
    assert read_rows(out / "pairs.csv") == []
    summary = json.loads((out / "summary.json").read_text())
    assert summary["counts"]["pairs"] == 0
    assert summary["counts"]["caliper_drops"] == summary["counts"]["treated"]
    assert (out / "love_plot.png").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--treatment", "x0"], "continuous"),
        (["--treatment", "nope"], "no attribute 'nope'"),
        (["--treatment", "group=treated,treated"], "two different values"),
        (["--treatment", "group=treated,other"], "no value 'other'"),
        (["--covariates", "missing"], "no column 'missing'"),
        (["--method", "magic"], "unknown method"),
        (["--caliper", "-1"], "must be positive"),
        (["--pca", "-1"], "--pca must be at least 1, got -1"),  # was scikit-learn's traceback
        (["--pca", "0"], "--pca must be at least 1, got 0"),
        # numpy's "negative dimensions are not allowed" traceback, after the outputs were written
        (["--grid-pairs", "-1"], "--grid-pairs must be at least 0, got -1"),
        (["--verify-pairs", "0"], "--verify-pairs must be at least 1, got 0"),
        (["--propensity-c", "inf"], "propensity_c (--propensity-c) must be a finite number above 0, got inf"),
        # pairs.png drawn 4 pairs a row: 100,000 pairs made an image 25,000 rows tall
        (["--grid-pairs", "801"],
         "--grid-pairs must be at most 800 (a figure shows at most 200 rows of 4 pairs), got 801"),
        (["--ratio", "5"], "--partial"),
        (["--exact", "y"], "continuous"),
        (["--outcome", "group"], "cannot also be the --outcome"),
        (["--treatment", "group=treated,control", "--outcome", "group"],
         "cannot also be the --outcome"),
    ],
)
def test_bad_input_exits_2(cli, sim: Path, tmp_path: Path, args: list[str], message: str) -> None:
    base = {"--treatment": "group", "--covariates": "z"}
    for k, v in zip(args[::2], args[1::2], strict=True):
        base[k] = v
    flat = [x for kv in base.items() for x in kv]
    r = cli("match", "run", sim, *flat, "--out", tmp_path / "bad")
    assert r.code == 2
    assert r.err.startswith("error: ") and message in r.err
    assert "Traceback" not in r.err


def test_one_group_many_groups_and_missing_measures(cli, faces: Path, tmp_path: Path,
                                                    undrawn) -> None:
    undrawn("love_plot", "attribute_means", "propensity_overlap", "pairs_grid")
    s = st.load(faces)
    r = cli("match", "run", faces, "--treatment", "hair_color", "--covariates", "pix",
            "--out", tmp_path / "a")
    assert r.code == 2 and "needs exactly two" in r.err
    one = st.Store(s.dataset.filter(lambda g: g == 0, input_columns="gender"), s.schema)
    one = st.save(one, tmp_path / "one")
    r = cli("match", "run", one.path, "--treatment", "gender", "--covariates", "pix",
            "--out", tmp_path / "b")
    assert r.code == 2 and "1 value(s)" in r.err
    # an attribute only reported in the balance table may lack values (a measure without a face)
    light = np.linspace(0, 100, len(s)).astype(np.float32)
    light[:5] = np.nan
    measured = st.save(st.add_attributes(s, {"light": (st.Attribute("light", "continuous"),
                                                       light)}), tmp_path / "measured")
    r = cli("match", "run", measured.path, "--treatment", "gender", "--covariates", "pix",
            "--partial", "--out", tmp_path / "m")
    assert r.code == 0, r.err
    row = next(r for r in csv.DictReader((tmp_path / "m" / "balance.csv").read_text().splitlines())
               if r["covariate"] == "light")
    assert np.isfinite(float(row["smd_before"])) and np.isfinite(float(row["smd_after"]))
    r = cli("match", "run", faces, "--treatment", "gender", "--covariates", "pix",
            "--out", tmp_path / "d", "--ratio", "3")
    assert r.code == 2 and "only" in r.err and "controls" in r.err


def test_the_effect_counts_the_persons_behind_the_photos(cli, tmp_path: Path, undrawn) -> None:
    """300 photos of 60 persons: the outcome's intervals are over the persons, with their
    design effect, in the summary, the printout and the report."""
    undrawn("love_plot", "attribute_means", "propensity_overlap", "pairs_grid")
    from latentplay.report import build_report

    path = tmp_path / "persons"
    make("synthfaces", path, n=300, seed=0, overrides=["identities=60"])
    out = tmp_path / "m"
    r = cli("match", "run", path, "--treatment", "gender=male,female", "--covariates",
            "smile,yaw", "--outcome", "skin_tone", "--partial", "--out", out)
    assert r.code == 0, r.err
    effect = json.loads((out / "summary.json").read_text())["effect"]
    assert effect["intervals"] == "Student's t over persons (sets sharing one)"
    matched = effect["matched"]
    assert matched["persons"] <= 60 and matched["design_effect"] > 2
    assert f"over persons: sets sharing one are dependent, {matched['persons']} persons, design effect" \
        in " ".join(r.out.split())
    assert "design effect" in build_report(out).read_text()
    r = cli("match", "run", path, "--treatment", "gender=male,female", "--covariates",
            "smile,yaw", "--outcome", "skin_tone", "--replace", "--out", tmp_path / "w")
    assert r.code == 0, r.err
    effect = json.loads((tmp_path / "w" / "summary.json").read_text())["effect"]
    assert effect["intervals"] == "abadie-imbens over persons (sets sharing one)"
    matched = effect["matched"]
    assert matched["persons"] <= 60 and matched["design_effect"] > 2
    assert f"over persons: sets sharing one are dependent, {matched['persons']} persons, design effect" \
        in " ".join(r.out.split())
    assert "as independent" not in r.out


def test_one_treated_unit_gives_valid_json_and_no_interval(cli, tmp_path: Path) -> None:
    """A single treated unit: its group has no SD (SMDs undefined, null in summary.json, never
    the non-JSON Infinity) and its one matched set no interval."""
    from dataclasses import replace

    from latentplay.match.synthetic import confounded, make_store

    data = confounded(60, relevant=2, irrelevant=1, seed=3)
    data = replace(data, treated=np.arange(60) == 0)
    make_store(tmp_path / "s", data)
    out = tmp_path / "one"
    r = cli("match", "run", tmp_path / "s", "--treatment", "group", "--covariates", "z",
            "--outcome", "y", "--bootstrap", "100", "--out", out)
    assert r.code == 0, r.err
    assert "max |SMD| — before, — after" in r.out
    assert "matched difference in y" in r.out and "no interval" in r.out

    def refuse(token: str) -> None:
        raise AssertionError(f"summary.json holds {token}")

    summary = json.loads((out / "summary.json").read_text(), parse_constant=refuse)
    assert summary["balance"]["before"]["max_abs_smd"] is None
    matched = summary["effect"]["matched"]
    assert matched["n_treated"] == 1 and matched["estimate"] is not None
    assert matched["ci_low"] is None and matched["ci_high"] is None
    assert all(b["smd_before"] == "" for b in read_rows(out / "balance.csv"))


def test_covariates_left_imbalanced_are_cautioned(cli, tmp_path: Path, undrawn) -> None:
    """Half the units treated, 1:1 without replacement: every control is used, so the
    balance after matching is the balance before; both dimensions of ``z`` stay over 0.1."""
    undrawn("love_plot", "attribute_means", "propensity_overlap", "pairs_grid")
    from latentplay.match.synthetic import confounded, make_store

    data = confounded(200, relevant=2, irrelevant=0, strength=2.0, treated_share=0.5, seed=0)
    assert data.treated.sum() == 100
    make_store(tmp_path / "s", data)
    out = tmp_path / "m"
    r = cli("match", "run", tmp_path / "s", "--treatment", "group", "--covariates", "z", "--out", out)
    assert r.code == 0, r.err
    rows = [b for b in read_rows(out / "balance.csv") if b["matched_on"] == "1"]
    assert [b["covariate"] for b in rows] == ["z[0]", "z[1]"]
    after = [abs(float(b["smd_after"])) for b in rows]
    assert after == pytest.approx([abs(float(b["smd_before"])) for b in rows])
    assert min(after) > 0.1
    assert (f"caution: 2 of 2 covariates matched on stay over |SMD| 0.1 after matching "
            f"(largest {max(after):.3f})") in r.err


@pytest.mark.parametrize(("method", "label"), [("mahalanobis", "Mahalanobis distance"),
                                               ("propensity", "|Δ propensity logit|"),
                                               ("nearest", "Euclidean distance")])
def test_pairs_png_names_the_distance_used(faces: Path, tmp_path: Path, undrawn, method: str,
                                           label: str) -> None:
    """Each pair of ``pairs.png`` was captioned ``d = 0.000168``; the caption names the space
    the distance was taken in, and the attribute-means chart of 0/1 attributes says shares
    (what the figures are given; they are drawn in the tests that look at them)."""
    from latentplay.match.pipeline import MatchConfig, run

    calls = undrawn("pairs_grid", "attribute_means", "love_plot", "propensity_overlap")
    run(faces, MatchConfig(treatment="gender=male,female", covariates=["pix", "smile", "yaw"],
                           method=method, partial=True, grid_pairs=4), tmp_path / "m")
    ((pairs,), (means,)) = calls["pairs_grid"], calls["attribute_means"]
    assert (pairs["value_label"], means["ylabel"]) == (label, "share (mean of 0/1)")


def test_grid_pairs_0_writes_no_pairs_png(faces: Path, tmp_path: Path, undrawn) -> None:
    """``--grid-pairs 0`` drew an empty figure titled "0 random matched pairs of N"."""
    from latentplay.match.pipeline import MatchConfig, run

    calls = undrawn("love_plot", "attribute_means", "propensity_overlap", "pairs_grid")

    run(faces, MatchConfig(treatment="gender=male,female", covariates=["pix"], partial=True,
                           grid_pairs=0), tmp_path / "m")
    assert (tmp_path / "m" / "love_plot.png").exists()
    assert not (tmp_path / "m" / "pairs.png").exists() and not calls["pairs_grid"]


def test_rows_without_a_vector_or_an_outcome_value_are_left_out_and_counted(cli, faces: Path,
                                                                            tmp_path: Path,
                                                                            undrawn) -> None:
    """A NaN row of a vector column matched on (an embedding that failed on a photo) was refused
    with a remedy (``data subset --where``) that cannot select by a vector column, and an
    outcome's NaN with no count: both rows are left out of matching, printed and counted."""
    undrawn("love_plot", "attribute_means", "propensity_overlap", "pairs_grid")
    s = st.load(faces)
    gender = np.asarray(s.labels("gender"))
    bad = st.vectors(s, "pix").copy()
    bad[3, 2] = np.nan
    light = np.linspace(0, 100, len(s)).astype(np.float32)
    light[[3, 5, 8]] = np.nan
    path = tmp_path / "nan"
    st.save(st.add_attributes(st.add_column(s, "pix_nan", bad),
                              {"light": (st.Attribute("light", "continuous"), light)}), path)
    out = tmp_path / "m"
    r = cli("match", "run", path, "--treatment", "gender", "--covariates", "pix_nan",
            "--outcome", "light", "--partial", "--bootstrap", "100", "--out", out)
    assert r.code == 0, r.err
    compared = int(np.isin(gender, [0, 1]).sum())
    gone = json.loads((out / "summary.json").read_text())["rows_left_out"]
    assert gone == {"rows": 3, "of": compared, "lacking": {"pix_nan": 1, "outcome light": 3}}
    assert (f"left out: 3 of {compared} compared rows without values (rows lacking each: "
            "pix_nan 1, outcome light 3)") in r.out
    used = {int(p[k]) for p in read_rows(out / "pairs.csv") for k in ("treated_index", "control_index")}
    assert not used & {3, 5, 8}
    summary = json.loads((out / "summary.json").read_text())
    assert summary["counts"]["treated"] + summary["counts"]["controls"] == compared - 3
    # every control without a value: nothing to match, one line
    none = np.where((gender == 0)[:, None], np.nan, bad)
    st.save(st.add_column(s, "pix_none", none.astype(np.float32)), tmp_path / "none")
    r = cli("match", "run", tmp_path / "none", "--treatment", "gender", "--covariates", "pix_none",
            "--out", tmp_path / "n")
    assert r.code == 2 and "Traceback" not in r.err
    assert "no gender = 'female' row has values in pix_none" in r.err, r.err


def test_the_love_plot_says_the_matching_saw_principal_components(cli, sim: Path, tmp_path: Path,
                                                                   monkeypatch) -> None:
    """With --pca the balance is still shown over the covariates, and the title says the
    matching saw them through that many components."""
    import latentplay.viz.balance as balance

    titles: list[str] = []
    drawn = balance.love_plot
    monkeypatch.setattr(balance, "love_plot", lambda *a, **k: titles.append(k["title"]) or drawn(*a, **k))
    r = cli("match", "run", sim, "--treatment", "group", "--covariates", "z", "--method",
            "nearest", "--pca", "2", "--whiten", "--out", tmp_path / "m", "--bootstrap", "200")
    assert r.code == 0, r.err
    assert titles[-1].endswith("through their first 2 principal components (whitened)")
    r = cli("match", "run", sim, "--treatment", "group", "--covariates", "z", "--method",
            "propensity", "--out", tmp_path / "n", "--bootstrap", "200")
    assert "principal" not in titles[-1]


def test_matched_sets_of_several_controls_are_drawn_a_set_a_row(cli, faces: Path, tmp_path: Path,
                                                                 undrawn, monkeypatch) -> None:
    """--ratio 3: pairs.png shows a treated face, then its 3 controls nearest first, each with
    its distance (Matching in GAN-space's grids), not pairs cut out of their sets."""
    import latentplay.viz.grid as grid

    undrawn("love_plot", "attribute_means")
    drawn: list[dict] = []
    original = grid.image_grid
    monkeypatch.setattr(grid, "image_grid", lambda rows, labels, **k: drawn.append(
        {"rows": rows, **k}) or original(rows, labels, **k))
    out = tmp_path / "sets"
    r = cli("match", "run", faces, "--treatment", "gender=female,male", "--covariates", "pix",
            "--ratio", "3", "--replace", "--grid-pairs", "6", "--out", out)
    assert r.code == 0, r.err
    assert (out / "pairs.png").stat().st_size > 10_000
    pairs = read_rows(out / "pairs.csv")
    (call,) = drawn
    assert len(call["rows"]) == 2 and all(len(row) == 4 for row in call["rows"])
    for caption in call["captions"]:
        assert caption[0] == "female"
        distances = [float(c) for c in caption[1:]]
        assert distances == sorted(distances)
        assert all(any(abs(float(p["distance"]) - d) < 5e-3 * max(d, 1) for p in pairs) for d in distances)
    assert "a female face, then its male matches, nearest first" in call["title"]

    # a ratio above what a row shows: its nearest controls, and the title says so
    import latentplay.match.pipeline as pipeline

    monkeypatch.setattr(pipeline, "SET_SHOWN", 2)
    drawn.clear()
    r = cli("match", "run", faces, "--treatment", "gender=female,male", "--covariates", "pix",
            "--ratio", "3", "--replace", "--grid-pairs", "6", "--out", tmp_path / "few")
    assert r.code == 0, r.err
    (call,) = drawn
    assert all(len(row) == 3 for row in call["rows"])
    assert "then the 2 nearest of its male matches (up to 3), nearest first" in call["title"]


def test_the_groups_keep_their_classes_colours(cli, faces: Path, tmp_path: Path, undrawn) -> None:
    """female and male in the colours projections and bias charts give them, whichever is treated."""
    from latentplay.viz.projection import class_colors

    calls = undrawn("love_plot", "attribute_means", "propensity_overlap", "pairs_grid")
    r = cli("match", "run", faces, "--treatment", "gender=male,female", "--covariates", "pix",
            "--method", "propensity", "--partial", "--out", tmp_path / "m")
    assert r.code == 0, r.err
    female, male = class_colors(2, False, ["female", "male"], "gender")
    for name in ("attribute_means", "propensity_overlap"):
        assert calls[name][0]["colors"] == (male, female)   # (treated, control)


def test_an_interrupted_run_leaves_its_out_as_it_was(cli, sim: Path, tmp_path: Path, undrawn,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Files are written beside --out and moved in once all are: stopped part-way, a run into
    a new --out left some files there (running it again was refused as "not empty"), and one
    with --overwrite a new pairs.csv beside the earlier run's summary.json."""
    from latentplay.match import pipeline

    undrawn("love_plot", "attribute_means", "propensity_overlap", "pairs_grid")
    args = ["match", "run", sim, "--treatment", "group", "--covariates", "x0,x1,x2"]
    real = pipeline._write_balance

    def killed(*a: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline, "_write_balance", killed)
    with pytest.raises(KeyboardInterrupt):
        pipeline.run(sim, pipeline.MatchConfig(treatment="group", covariates=["x0", "x1", "x2"]),
                     tmp_path / "new")
    assert not (tmp_path / "new").exists() or not any((tmp_path / "new").iterdir())
    monkeypatch.setattr(pipeline, "_write_balance", real)
    assert cli(*args, "--out", tmp_path / "new").code == 0   # no --overwrite needed
    before = {p.name: p.read_bytes() for p in (tmp_path / "new").iterdir()}
    monkeypatch.setattr(pipeline, "_write_balance", killed)
    with pytest.raises(KeyboardInterrupt):
        pipeline.run(sim, pipeline.MatchConfig(treatment="group", covariates=["x0", "x1", "x2"],
                                               method="optimal"), tmp_path / "new", overwrite=True)
    assert {p.name: p.read_bytes() for p in (tmp_path / "new").iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new"]   # no scratch folder left


def test_pairs_png_draws_each_pairs_own_faces_and_distance_nearest_first(faces: Path, tmp_path: Path,
                                                                         undrawn) -> None:
    """pairs.png is given 8 of pairs.csv's pairs, nearest first: each with its treated face,
    its control's face and its own distance."""
    from latentplay.match.pipeline import MatchConfig, run

    calls = undrawn("pairs_grid", "attribute_means", "love_plot")
    run(faces, MatchConfig(treatment="gender=male,female", covariates=["pix"], partial=True,
                           grid_pairs=8), tmp_path / "m")
    ((call,),) = (calls["pairs_grid"],)
    img_t, img_c, drawn = call["args"]
    pairs = read_rows(tmp_path / "m" / "pairs.csv")
    assert len(drawn) == 8 and list(drawn) == sorted(drawn)
    assert call["title"] == f"8 random matched pairs of {len(pairs)}, by distance"
    s = st.load(faces)
    for k, d in enumerate(drawn):
        (p,) = [p for p in pairs if abs(float(p["distance"]) - d) <= 1e-5 * max(d, 1e-9)]
        for shown, side in ((img_t, "treated_index"), (img_c, "control_index")):
            np.testing.assert_array_equal(shown[k], st.load_images(s, [int(p[side])], size=64)[0])


def test_verification_compares_each_matched_pair_and_random_pairs_across_the_groups(
        faces: Path, tmp_path: Path, undrawn, monkeypatch: pytest.MonkeyPatch) -> None:
    """--verify: verification.csv gives each verified pair's own face distance, and the random
    pairs it is compared with join a face of the treated group to one of the control group."""
    import latentplay.match.verify as ver
    from latentplay.match.pipeline import MatchConfig, run

    undrawn("pairs_grid", "attribute_means", "love_plot")
    seen: list[tuple[np.ndarray, np.ndarray]] = []
    real = ver.face_descriptors
    monkeypatch.setattr(ver, "face_descriptors",
                        lambda images: seen.append((images, real(images))) or seen[-1][1])
    summary = run(faces, MatchConfig(treatment="gender=male,female", covariates=["pix"],
                                     partial=True, verify=True, verify_pairs=3, grid_pairs=0),
                  tmp_path / "m")
    ((images, desc),) = seen
    rows = read_rows(tmp_path / "m" / "verification.csv")
    s = st.load(faces)
    m = len(rows)
    assert m == 3 and len(images) == 4 * m
    for k, row in enumerate(rows):
        t, c = int(row["treated_index"]), int(row["control_index"])
        np.testing.assert_array_equal(images[k], st.load_images(s, [t], mode="RGB")[0])
        np.testing.assert_array_equal(images[m + k], st.load_images(s, [c], mode="RGB")[0])
        assert float(row["face_distance"]) == pytest.approx(
            np.linalg.norm(desc[k] - desc[m + k].astype(np.float64)), rel=1e-5)
    gender = np.asarray(s.labels("gender"))
    groups = {name: st.load_images(s, np.flatnonzero(gender == s.schema.attribute("gender")
                                                     .level_names.index(name)), mode="RGB")
              for name in ("male", "female")}
    for part, name in ((images[2 * m:3 * m], "male"), (images[3 * m:], "female")):
        assert all((groups[name] == face).all(axis=(1, 2, 3)).any() for face in part)
    random = np.linalg.norm(desc[2 * m:3 * m].astype(np.float64) - desc[3 * m:], axis=1)
    assert summary["verification"]["random"]["median"] == pytest.approx(np.median(random), rel=1e-6)
