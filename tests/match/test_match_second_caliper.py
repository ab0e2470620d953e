"""A second caliper (a distance in another space a pair must also pass) equals its brute-force
definition; with the propensity score it is MatchIt's ``mahvars``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from match_reference import (
    dense_d2,
    greedy_reference,
    read_rows,
    replacement_reference,
    second_allowed,
)

from latentplay import store as st
from latentplay.errors import UserError
from latentplay.match import greedy_match, match
from latentplay.match.knn import SecondCaliper
from latentplay.match.propensity import propensity_scores
from latentplay.match.replacement import match_with_replacement
from latentplay.match.space import matching_space
from latentplay.match.synthetic import confounded


def _case(seed: int, d: int, g: int) -> tuple[np.ndarray, ...]:
    """Treated/control points ``(n, d)`` and their second-space points ``(n, g)``."""
    rng = np.random.default_rng(seed)
    n_t = int(rng.integers(10, 60))
    n_c = int(rng.integers(n_t // 2 + 1, 2 * n_t + 10))
    xt = rng.standard_normal((n_t, d)).astype(np.float32)
    xc = (rng.standard_normal((n_c, d)) * 1.3 + 0.5).astype(np.float32)
    st_ = rng.standard_normal((n_t, g))
    sc = rng.standard_normal((n_c, g)) + 0.3
    return xt, xc, st_, sc


def _pairs(p) -> set[tuple[int, int]]:
    return set(zip(p.treated.tolist(), p.control.tolist(), strict=True))


def _between(values: np.ndarray, share: float) -> float:
    """A value with about ``share`` of ``values`` below it, midway between two of them (no pair
    lies on it, where float rounding could decide)."""
    v = np.sort(values.ravel())
    i = max(1, int(share * len(v)))
    return float((v[i - 1] + v[i]) / 2)


def _width(st_: np.ndarray, sc: np.ndarray, share: float) -> float:
    """A second caliper that allows about ``share`` of all pairs."""
    return float(np.sqrt(_between(dense_d2(st_, sc), share)))


@pytest.mark.parametrize("order", ["closest", "random"])
@pytest.mark.parametrize(("d", "g"), [(1, 1), (4, 1), (3, 5)])
@pytest.mark.parametrize("ratio", [1, 2])
@pytest.mark.parametrize("seed", range(5))
def test_greedy_with_second_caliper_equals_brute_force(
    order: str, d: int, g: int, ratio: int, seed: int
) -> None:
    xt, xc, st_, sc = _case(1000 * seed + 10 * d + g, d, g)
    for share in (0.05, 0.3):
        width = _width(st_, sc, share)
        allowed = second_allowed(st_, sc, width)
        second = SecondCaliper(st_, sc, width)
        for caliper2 in (np.inf, _between(dense_d2(xt, xc).min(axis=1), 0.8)):
            ref = greedy_reference(xt, xc, ratio=ratio, caliper2=caliper2, order=order,
                                   seed=seed, allowed=allowed)
            # k=2: units run out of allowed candidates and are searched again, up to all controls
            got = greedy_match(xt, xc, ratio=ratio, caliper2=caliper2, order=order, k=2,
                               seed=seed, second=second)
            assert _pairs(got) == ref
            assert allowed[got.treated, got.control].all()
            assert len(set(got.control.tolist())) == len(got)


@pytest.mark.parametrize("seed", range(12))
def test_larger_cases_equal_brute_force(seed: int) -> None:
    """Hundreds of units, tight and loose second calipers, k from 1: many rounds of searches."""
    rng = np.random.default_rng(5000 + seed)
    n_t = int(rng.integers(100, 400))
    n_c = int(rng.integers(n_t // 2, 3 * n_t))
    d, g = int(rng.choice([1, 2, 8])), int(rng.choice([1, 3]))
    xt = rng.standard_normal((n_t, d)).astype(np.float32)
    xc = (rng.standard_normal((n_c, d)) * 1.2 + 0.4).astype(np.float32)
    st_, sc = rng.standard_normal((n_t, g)), rng.standard_normal((n_c, g)) + 0.5
    width = _width(st_, sc, float(rng.choice([0.01, 0.1, 0.5])))
    allowed, second = second_allowed(st_, sc, width), SecondCaliper(st_, sc, width)
    ratio, k = int(rng.integers(1, 4)), int(rng.choice([1, 2, 16]))
    caliper2 = np.inf if seed % 2 else _between(dense_d2(xt, xc).min(axis=1), 0.7)
    for order in ("closest", "random"):
        got = greedy_match(xt, xc, ratio=ratio, caliper2=caliper2, order=order, k=k, seed=seed,
                           second=second)
        assert _pairs(got) == greedy_reference(xt, xc, ratio=ratio, caliper2=caliper2,
                                               order=order, seed=seed, allowed=allowed)
    got = match_with_replacement(xt, xc, ratio=ratio, caliper2=caliper2, second=second)
    assert _pairs(got) == replacement_reference(xt, xc, ratio=ratio, caliper2=caliper2,
                                                allowed=allowed)


@pytest.mark.parametrize(("d", "g"), [(1, 1), (3, 4)])
@pytest.mark.parametrize("ratio", [1, 2, 3])
@pytest.mark.parametrize("seed", range(4))
def test_replacement_with_second_caliper_equals_brute_force(
    d: int, g: int, ratio: int, seed: int
) -> None:
    xt, xc, st_, sc = _case(7 + seed, d, g)
    for share in (0.05, 0.3):
        width = _width(st_, sc, share)
        allowed = second_allowed(st_, sc, width)
        for caliper2 in (np.inf, _between(dense_d2(xt, xc).min(axis=1), 0.8)):
            got = match_with_replacement(xt, xc, ratio=ratio, caliper2=caliper2,
                                         second=SecondCaliper(st_, sc, width))
            assert _pairs(got) == replacement_reference(xt, xc, ratio=ratio, caliper2=caliper2,
                                                        allowed=allowed)
            np.testing.assert_allclose(got.distance**2, dense_d2(xt, xc)[got.treated, got.control],
                                       rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("replace", [False, True])
def test_match_with_blocks_equals_brute_force(replace: bool) -> None:
    rng = np.random.default_rng(3)
    n = 300
    x = rng.standard_normal((n, 4))
    treated = rng.random(n) < 0.35
    blocks = rng.integers(0, 3, n)
    face = rng.standard_normal((n, 2))
    res = match(x, treated, method="nearest", replace=replace, exact=blocks, index="exact",
                second_on=face, second_caliper=0.6, k=2)
    points = matching_space(x, treated)
    expected = set()
    for b in range(3):
        bt = np.flatnonzero((blocks == b) & treated)
        bc = np.flatnonzero((blocks == b) & ~treated)
        allowed = second_allowed(face[bt], face[bc], 0.6)
        if replace:
            ref = replacement_reference(points[bt], points[bc], allowed=allowed)
        else:
            ref = greedy_reference(points[bt], points[bc], allowed=allowed)
        expected |= {(int(bt[t]), int(bc[c])) for t, c in ref}
    assert set(zip(res.treated_rows.tolist(), res.control_rows.tolist(), strict=True)) == expected
    gap = np.linalg.norm(face[res.treated_rows] - face[res.control_rows], axis=1)
    assert (gap <= 0.6).all()
    assert res.second_caliper == 0.6
    assert res.caliper_drops == len(res.unmatched_treated) > 0  # enough controls in each block
    no_allowed = sum(
        not second_allowed(face[[u]], face[(blocks == blocks[u]) & ~treated], 0.6).any()
        for u in res.unmatched_treated)
    assert res.second_caliper_drops == no_allowed > 0


@pytest.mark.parametrize("replace", [False, True])
def test_unit_without_allowed_control_stays_unmatched(replace: bool) -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((200, 3))
    treated = np.zeros(200, bool)
    treated[:40] = True
    face = rng.random((200, 1))
    face[7] = 100.0  # no control within 0.5 of treated unit 7
    res = match(x, treated, method="mahalanobis", replace=replace, index="exact",
                second_on=face, second_caliper=0.5)
    assert 7 in res.unmatched_treated and 7 not in res.treated_rows
    assert res.second_caliper_drops == 1
    assert len(res.treated_rows) == 39  # every other unit has allowed controls to spare


def test_propensity_caliper_on_mahalanobis_is_mahvars() -> None:
    data = confounded(1500, relevant=3, irrelevant=7, strength=1.5, seed=2)
    x, treated = data.x, data.treated
    logit = propensity_scores(x, treated).logit
    width = 0.2 * logit.std(ddof=1)  # R's sd(), as MatchIt

    def smd(res) -> float:
        a, b = logit[res.treated_rows], logit[res.control_rows]
        return abs(a.mean() - b.mean()) / np.sqrt((logit[treated].var() + logit[~treated].var()) / 2)

    plain = match(x, treated, method="mahalanobis", index="exact", partial=True)
    mahvars = match(x, treated, method="mahalanobis", index="exact", partial=True,
                    second_on="propensity", second_caliper=0.2)
    np.testing.assert_allclose(mahvars.propensity.logit, logit)
    assert mahvars.second_caliper == pytest.approx(width)
    gap = np.abs(logit[mahvars.treated_rows] - logit[mahvars.control_rows])
    assert (gap <= width * (1 + 1e-12)).all()
    assert smd(mahvars) < 0.5 * smd(plain)
    assert smd(mahvars) < 0.05  # measured: 0.032 (plain: 0.854)
    # MatchIt's general form: Mahalanobis on a few covariates, the propensity model on all
    few = match(x[:, :3], treated, method="mahalanobis", index="exact", partial=True,
                second_on="propensity", second_caliper=0.2, propensity_x=x)
    np.testing.assert_allclose(few.propensity.logit, logit)
    assert (np.abs(logit[few.treated_rows] - logit[few.control_rows]) <= width * 1.000001).all()
    assert smd(few) < 0.05  # measured: 0.018


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"second_caliper": 0.2}, "go together"),
        ({"second_on": "propensity"}, "go together"),
        ({"second_on": "propensity", "second_caliper": 0.0}, "must be positive"),
        ({"second_on": "propensity", "second_caliper": 0.2, "method": "optimal"}, "optimal"),
        ({"second_on": "propensity", "second_caliper": 0.2, "method": "propensity"},
         "is caliper (--caliper)"),
        ({"second_on": "logit", "second_caliper": 0.2}, "propensity or columns"),
        ({"second_on": np.zeros((5, 2)), "second_caliper": 0.2}, "(n, g)"),
        ({"second_on": np.zeros((40, 2)), "second_caliper": 0.2,
          "propensity_x": np.zeros((40, 2))}, "applies to --second-caliper-on propensity"),
    ],
)
def test_bad_arguments(kwargs: dict, message: str) -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((40, 3))
    treated = np.arange(40) < 15
    with pytest.raises(UserError, match=message.replace("(", r"\(").replace(")", r"\)")):
        match(x, treated, **kwargs)


def test_cli_mahvars_and_column_caliper(cli, sim: Path, tmp_path: Path, undrawn) -> None:
    undrawn("love_plot", "attribute_means", "propensity_overlap")  # figures not looked at
    out = tmp_path / "mahvars"
    r = cli("match", "run", sim, "--treatment", "group", "--covariates", "z",
            "--method", "mahalanobis", "--second-caliper-on", "propensity",
            "--second-caliper", "0.2", "--partial", "--out", out)
    assert r.code == 0, r.err
    assert "second caliper" in r.out
    # there is no --caliper here: the count is of units the calipers (here the second) dropped
    assert " by the calipers, " in r.out
    summary = json.loads((out / "summary.json").read_text())
    second = summary["second_caliper"]
    assert second["on"] == ["propensity"] and second["value"] == 0.2 and second["units"] == "sd"
    assert summary["config"]["second_caliper"] == 0.2
    assert summary["counts"]["second_caliper_drops"] >= 0
    pairs = read_rows(out / "pairs.csv")
    assert len(pairs) == summary["counts"]["pairs"] > 0
    p = np.array([[float(q["treated_propensity"]), float(q["control_propensity"])]
                  for q in pairs])
    gap = np.abs(np.diff(np.log(p / (1 - p)), axis=1))
    assert (gap <= second["distance"] * 1.001 + 1e-4).all()

    out = tmp_path / "few"  # Mahalanobis on the confounders, propensity model on z
    r = cli("match", "run", sim, "--treatment", "group", "--covariates", "x0,x1,x2",
            "--method", "mahalanobis", "--second-caliper-on", "propensity",
            "--propensity-covariates", "z", "--second-caliper", "0.2", "--partial", "--out", out)
    assert r.code == 0, r.err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["config"]["propensity_covariates"] == ["z"]
    assert summary["second_caliper"]["distance"] == pytest.approx(second["distance"])

    out = tmp_path / "x0"  # a caliper of 0.3 on attribute x0 (absolute units)
    r = cli("match", "run", sim, "--treatment", "group", "--covariates", "z",
            "--second-caliper-on", "x0", "--second-caliper", "0.3", "--partial", "--out", out)
    assert r.code == 0, r.err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["second_caliper"]["units"] == "abs"
    x0 = np.asarray(st.load(sim).labels("x0"))
    assert summary["counts"]["second_caliper_drops"] > 0  # tails of x0 without a partner
    pairs = read_rows(out / "pairs.csv")
    t = np.array([int(q["treated_index"]) for q in pairs])
    c = np.array([int(q["control_index"]) for q in pairs])
    assert (np.abs(x0[t] - x0[c]) <= 0.3 + 1e-6).all()


@pytest.mark.parametrize(
    "args",
    [["--second-caliper-on", "propensity", "--propensity-covariates", "z,x0"],
     ["--second-caliper-on", "z"]],
)
def test_cli_balance_reports_the_vector_columns_of_the_second_caliper(
    cli, sim: Path, tmp_path: Path, undrawn, args: list[str]
) -> None:
    """Matching on the confounders within a caliper on z (or on a propensity model of z): z
    is used, so balance.csv reports its 20 dimensions, once, after the covariates."""
    undrawn("love_plot", "attribute_means", "propensity_overlap")  # figures not looked at
    out = tmp_path / "m"
    r = cli("match", "run", sim, "--treatment", "group", "--covariates", "x0,x1",
            "--method", "mahalanobis", *args, "--second-caliper", "5", "--partial", "--out", out)
    assert r.code == 0, r.err
    names = [b["covariate"] for b in read_rows(out / "balance.csv")]
    assert names[:2 + 20] == ["x0", "x1"] + [f"z[{j}]" for j in range(20)]
    assert len(names) == len(set(names)) and "x2" in names
    summary = json.loads((out / "summary.json").read_text())
    assert summary["balance"]["covariates"] == len(names)


def test_cli_second_caliper_that_drops_everything(cli, sim: Path, tmp_path: Path, undrawn) -> None:
    undrawn("love_plot", "attribute_means", "propensity_overlap")  # figures not looked at
    out = tmp_path / "none"
    r = cli("match", "run", sim, "--treatment", "group", "--covariates", "z",
            "--second-caliper-on", "x0", "--second-caliper", "1e-12", "--out", out)
    assert r.code == 2 and "the second caliper" in r.err and "empty outputs" in r.err
    summary = json.loads((out / "summary.json").read_text())
    counts = summary["counts"]
    assert counts["pairs"] == 0
    assert counts["caliper_drops"] == counts["second_caliper_drops"] == counts["treated"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--second-caliper", "0.2"], "go together"),
        (["--second-caliper-on", "propensity"], "go together"),
        (["--second-caliper-on", "propensity", "--second-caliper", "-1"], "must be positive"),
        (["--second-caliper-on", "missing", "--second-caliper", "1"], "no column 'missing'"),
        (["--second-caliper-on", "propensity,z", "--second-caliper", "1"], "not both"),
        (["--second-caliper-on", "group", "--second-caliper", "1"], "cannot also be"),
        (["--second-caliper-on", "z", "--second-caliper", "1", "--method", "optimal"],
         "not --method optimal"),
        (["--second-caliper-on", "propensity", "--second-caliper", "1", "--method",
          "propensity"], "is caliper (--caliper)"),
        (["--propensity-covariates", "x0,x1"], "applies to --second-caliper-on propensity"),
    ],
)
def test_cli_bad_input_exits_2(cli, sim: Path, tmp_path: Path, args: list[str],
                               message: str) -> None:
    r = cli("match", "run", sim, "--treatment", "group", "--covariates", "z", *args,
            "--out", tmp_path / "bad")
    assert r.code == 2
    assert r.err.startswith("error: ") and message in r.err
    assert "Traceback" not in r.err
