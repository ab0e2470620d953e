"""`latentplay match run` options that the chosen matching would ignore or that spoil the effect
are refused with one line, and the printed effect says what kind of interval it shows."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from latentplay.errors import UserError
from latentplay.match import interval_kinds, match
from latentplay.report.matching import _effect


def _run(cli, sim: Path, tmp_path: Path, *args: str):
    return cli("match", "run", sim, "--treatment", "group", "--covariates", "z", "--out",
               tmp_path / "m", *args)


def _refused(r, *words: str) -> None:
    assert r.code == 2, r.err
    assert r.err.startswith("error: ") and r.err.count("\n") == 1, r.err
    for word in words:
        assert word in r.err, r.err


@pytest.mark.parametrize("flags", [["--whiten"], ["--no-scale"], ["--whiten", "--no-scale"]])
@pytest.mark.parametrize("method", [["--method", "propensity"],
                                    ["--method", "optimal", "--distance", "propensity"]])
def test_whiten_and_no_scale_are_refused_with_the_propensity_distance(
        cli, sim: Path, tmp_path: Path, flags: list[str], method: list[str]) -> None:
    """The propensity model standardizes the covariates itself: --whiten and --no-scale used
    to be accepted and do nothing."""
    r = _run(cli, sim, tmp_path, *method, *flags)
    _refused(r, *flags, "distance matching only")
    assert not (tmp_path / "m").exists()


@pytest.mark.parametrize("flags", [["--whiten"], ["--no-scale"], ["--whiten", "--no-scale"]])
@pytest.mark.parametrize("method", [["--method", "mahalanobis"],
                                    ["--method", "optimal", "--distance", "mahalanobis"]])
def test_whiten_and_no_scale_are_refused_with_mahalanobis_distances(
        cli, sim: Path, tmp_path: Path, flags: list[str], method: list[str]) -> None:
    """Mahalanobis distances are the same after any rescaling or whitening: the flags were
    accepted and changed nothing."""
    r = _run(cli, sim, tmp_path, *method, *flags)
    _refused(r, *flags, "Euclidean distances only", method[-1])
    assert not (tmp_path / "m").exists()


def test_mahalanobis_distances_do_not_change_under_scaling_or_whitening() -> None:
    """Why the refusal above holds: the distances with --whiten or without standardizing
    are the Mahalanobis distances as matched."""
    from scipy.spatial.distance import pdist

    from latentplay.match.space import matching_space

    rng = np.random.default_rng(0)
    x = rng.standard_normal((50, 3)) @ rng.standard_normal((3, 3)) * [1.0, 10.0, 100.0]
    treated = np.arange(50) < 20
    plain = pdist(matching_space(x, treated, metric="mahalanobis").astype(np.float64))
    for options in ({"whiten": True, "pca": 3}, {"whiten": True}, {"scale": False}):
        other = matching_space(x, treated, metric="mahalanobis", **options)
        assert pdist(other.astype(np.float64)) == pytest.approx(plain, rel=1e-3)


def test_whiten_and_no_scale_still_shape_the_distance_space() -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((60, 3)) * [1.0, 10.0, 100.0]
    treated = np.arange(60) < 20
    scaled = match(x, treated, scale=True)
    raw = match(x, treated, scale=False)
    assert not np.allclose(scaled.points, raw.points)
    assert match(x, treated, pca=2, whiten=True).points.std(axis=0) == pytest.approx(1.0, rel=0.05)
    with pytest.raises(UserError, match="whiten=True"):
        match(x, treated, method="propensity", whiten=True)


def test_partial_with_replace_is_refused(cli, sim: Path, tmp_path: Path) -> None:
    """With replacement every treated unit takes its nearest controls; --partial was accepted
    and changed nothing."""
    _refused(_run(cli, sim, tmp_path, "--replace", "--partial"), "--partial", "--replace")
    x = np.random.default_rng(1).standard_normal((30, 2))
    with pytest.raises(UserError, match="partial=True"):
        match(x, np.arange(30) < 10, replace=True, partial=True)


@pytest.mark.parametrize("flag", ["--covariates", "--exact", "--second-caliper-on",
                                  "--propensity-covariates"])
def test_outcome_matched_on_is_refused(cli, sim: Path, tmp_path: Path, flag: str) -> None:
    """Matching on the outcome makes the pairs alike in it: the effect means nothing."""
    args = {"--covariates": ["--covariates", "z,y"], "--exact": ["--exact", "y"],
            "--second-caliper-on": ["--second-caliper-on", "y", "--second-caliper", "0.5"],
            "--propensity-covariates": ["--second-caliper-on", "propensity", "--second-caliper",
                                        "0.5", "--propensity-covariates", "z,y"]}[flag]
    r = cli("match", "run", sim, "--treatment", "group", "--covariates", "z", *args,
            "--outcome", "y", "--out", tmp_path / "m")
    _refused(r, "--outcome 'y'", flag)


@pytest.mark.parametrize("replace", [False, True])
def test_printed_effect_names_its_interval(cli, sim: Path, tmp_path: Path, undrawn,
                                           replace: bool) -> None:
    """The printed lines said ``[low, high]`` without saying what interval (bootstrap over
    pairs or units, Abadie-Imbens, level); they now say as summary.json and the report do."""
    undrawn("love_plot", "attribute_means", "propensity_overlap")  # figures not looked at
    r = _run(cli, sim, tmp_path, "--outcome", "y", "--bootstrap", "100",
             *(["--replace"] if replace else []))
    assert r.code == 0, r.err
    effect = json.loads((tmp_path / "m" / "summary.json").read_text())["effect"]
    naive, matched = interval_kinds(replace, persons=False)
    assert (effect["naive"]["interval"], effect["matched"]["interval"]) == (naive, matched)
    lines = {("matched" if line.startswith("matched") else "naive"): line for line in r.out.splitlines()
             if line.startswith(("difference in y before matching:", "matched difference in y:"))}
    assert f"] (95% interval, {naive}, 100 resamples)" in lines["naive"]
    tail = "" if replace else ", 100 resamples"
    assert f"] (95% interval, {matched}{tail})" in lines["matched"]
    assert effect["matched"]["estimand"] == "effect on the treated (ATT)"  # no caliper: all matched
    assert lines["matched"].endswith("; estimates the effect on the treated (ATT)")
    # a matched difference is an effect only where the covariates hold every confounder
    below = r.out.splitlines()[r.out.splitlines().index(lines["matched"]) + 1]
    assert "only if the covariates hold every confounder" in below
    assert ("Abadie-Imbens" in matched) == replace and ("pair bootstrap" in matched) != replace
    table = _effect(effect).blocks[0]
    assert [row[4].text for row in table.rows] == [naive, matched]
    assert "only if the covariates hold every confounder" in table.caption


def test_a_caliper_that_drops_treated_units_names_the_estimand(cli, sim: Path, tmp_path: Path,
                                                               undrawn) -> None:
    """Treated units left without a control leave the ATT: the matched difference is called the
    effect on the units matched, in summary.json, the printed line and the report; matched with
    replacement on a propensity score, its Abadie-Imbens interval says the score is taken as
    known."""
    from latentplay.report import build_report

    undrawn("love_plot", "attribute_means", "propensity_overlap")
    r = _run(cli, sim, tmp_path, "--outcome", "y", "--bootstrap", "100", "--method", "propensity",
             "--replace", "--caliper", "0.01")
    assert r.code == 0, r.err
    summary = json.loads((tmp_path / "m" / "summary.json").read_text())
    c, matched = summary["counts"], summary["effect"]["matched"]
    assert 0 < c["matched_treated"] < c["treated"]
    assert matched["estimand"] == (f"effect on the {c['matched_treated']} of {c['treated']} treated units "
                                   "matched (not the ATT where the effect varies)")
    assert matched["interval"] == "Abadie-Imbens normal, propensity score taken as known"
    line = next(line for line in r.out.splitlines() if line.startswith("matched difference in y:"))
    assert line.endswith(f"; estimates the {matched['estimand']}") and matched["interval"] in line
    assert f"matched difference: {matched['estimand']}" in build_report(tmp_path / "m").read_text()
    assert matched["score"] == "known" and "left unmatched" in matched["score_taken_as_known"]
    assert f"propensity score taken as known: {matched['score_taken_as_known']}" in r.out
    assert f"Propensity score taken as known: {matched['score_taken_as_known']}." in build_report(
        tmp_path / "m").read_text()


def test_matching_on_an_estimated_score_counts_its_estimation(cli, sim: Path, tmp_path: Path,
                                                              undrawn) -> None:
    """Every treated unit matched with replacement on the fitted score: the interval has Abadie
    & Imbens' 2016 correction, and the run prints the SE with and without it."""
    from latentplay.report import build_report

    undrawn("love_plot", "attribute_means", "propensity_overlap")
    r = _run(cli, sim, tmp_path, "--outcome", "y", "--method", "propensity", "--replace")
    assert r.code == 0, r.err
    matched = json.loads((tmp_path / "m" / "summary.json").read_text())["effect"]["matched"]
    assert matched["score"] == "estimated" and "score_taken_as_known" not in matched
    assert matched["interval"] == interval_kinds(True, False, "estimated")[1]
    assert matched["interval"].endswith("with the 2016 correction for the estimated propensity score")
    assert matched["se"] > 0 and matched["se_score_known"] > 0 and matched["se"] != matched["se_score_known"]
    assert matched["ci_high"] - matched["ci_low"] == pytest.approx(2 * 1.959964 * matched["se"], rel=1e-5)
    line = next(line for line in r.out.splitlines() if line.startswith("matched difference in y:"))
    assert f"SE {matched['se']:.3g}; {matched['se_score_known']:.3g} with the score taken as known" in line
    page = build_report(tmp_path / "m").read_text()
    assert matched["interval"] in page
    assert (f"SE of the matched difference: {matched['se']:.3g}, {matched['se_score_known']:.3g} with "
            "the propensity score taken as known.") in page


def test_an_overwrite_run_leaves_no_figure_of_the_run_before(cli, sim: Path, tmp_path: Path,
                                                             undrawn) -> None:
    """propensity.png of a propensity run stayed beside a nearest run written over it with
    --overwrite, and the report showed it as the new run's."""
    undrawn("love_plot", "attribute_means", "propensity_overlap")  # figures not looked at
    assert _run(cli, sim, tmp_path, "--method", "propensity").code == 0
    assert (tmp_path / "m" / "propensity.png").exists()
    assert _run(cli, sim, tmp_path, "--method", "nearest", "--overwrite").code == 0
    assert not (tmp_path / "m" / "propensity.png").exists()


def test_an_attribute_not_matched_on_is_not_in_the_headline(cli, sim: Path, tmp_path: Path,
                                                            undrawn) -> None:
    """Without --outcome the simulated outcome y is an attribute checked, not matched on: its
    SMD (1.2) was the headline's max |SMD| after matching on z."""
    undrawn("love_plot", "attribute_means", "propensity_overlap")  # figures not looked at
    r = _run(cli, sim, tmp_path)
    assert r.code == 0, r.err
    lines = r.out.splitlines()
    assert "(20 covariates matched on; SMD" in lines[1]
    assert lines[2].startswith("  attributes not matched on (checked, not balanced by design)")
    balance = json.loads((tmp_path / "m" / "summary.json").read_text())["balance"]
    assert balance["matched_on"]["covariates"] == 20
    assert balance["not_matched_on"]["covariates"] == balance["covariates"] - 20
    assert balance["matched_on"]["after"]["max_abs_smd"] < balance["after"]["max_abs_smd"]


@pytest.mark.parametrize(("args", "words"), [
    (["--bootstrap", "1", "--outcome", "y"], "--bootstrap must be at least 100 for a 95% interval"),
    # 100,000,000 ran 15+ minutes without a word and left an empty --out behind
    (["--bootstrap", "100000001", "--outcome", "y"], "--bootstrap must be at most 100,000"),
    (["--covariates", "z,z"], "--covariates names z more than once"),
])
def test_settings_that_make_no_sense_are_refused(cli, sim: Path, tmp_path: Path,
                                                 args: list[str], words: str) -> None:
    r = cli("match", "run", sim, "--treatment", "group", "--covariates", "z", *args,
            "--out", tmp_path / "m")
    _refused(r, words)
    assert not (tmp_path / "m").exists()


def test_verify_without_images_is_refused_before_matching(cli, sim: Path, tmp_path: Path) -> None:
    """--verify on a store without images matched first, wrote half the outputs, then failed."""
    from latentplay import store as st

    assert not st.load(sim).schema.image_column
    _refused(_run(cli, sim, tmp_path, "--verify"), "--verify needs a store with images")
    assert not (tmp_path / "m").exists()
