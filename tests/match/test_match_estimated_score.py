"""Abadie & Imbens' (2016) correction of the matched ATT's variance for an estimated score."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import expit

from latentplay.match import match, matched_difference_with_replacement, propensity_scores
from latentplay.match.estimated_score import score_correction
from latentplay.match.propensity import Propensity
from latentplay.match.synthetic import HETEROGENEOUS, heterogeneous


def _by_unit(y: np.ndarray, treated: np.ndarray, prop: Propensity, att: float, j: int,
             blocks: np.ndarray) -> float:
    """The correction's formula unit by unit: sets of the unit's block (of all blocks where it
    holds too few) found by sorting, covariances by np.cov, each neighbour's outcome moved to
    unit ``i`` by its group's least-squares line."""
    n = len(y)
    z = np.column_stack([np.ones(n), prop.design.astype(np.float64)])
    p = prop.score
    f = p * (1 - p)
    groups = [np.flatnonzero(~treated), np.flatnonzero(treated)]
    c, g = np.zeros(z.shape[1]), np.zeros(z.shape[1])
    for i in range(n):
        mean, cov = [0.0, 0.0], [np.zeros(z.shape[1]), np.zeros(z.shape[1])]
        for w, group in enumerate(groups):
            own = group[blocks[group] == blocks[i]]
            group = own if len(own) >= j + 1 else group
            near = group[np.argsort(np.abs(prop.logit[group] - prop.logit[i]))[: j + 1]]
            mean[w] = y[near].mean()
            cov[w] = np.array([np.cov(z[near, d], y[near])[0, 1] for d in range(z.shape[1])])
        other = groups[0] if treated[i] else groups[1]
        line = np.linalg.lstsq(z[other], y[other], rcond=None)[0]
        own = other[blocks[other] == blocks[i]]
        other = own if len(own) >= j else other
        near = other[np.argsort(np.linalg.norm(z[other, 1:] - z[i, 1:], axis=1))[:j]]
        tau = y[i] - np.mean([y[u] + (z[i] - z[u]) @ line for u in near])
        tau = tau if treated[i] else -tau
        c += z[i] * f[i] * (mean[1] - mean[0] - att) + f[i] * cov[1] + p[i] ** 2 * cov[0]
        g += z[i] * f[i] * (tau - att)
    n1 = treated.sum()
    c, g = c / n1, g / n1
    ridge = np.diag([0.0] + [prop.penalty] * (z.shape[1] - 1))
    h_inv = np.linalg.inv((z * f[:, None]).T @ z + ridge)
    return float(g @ h_inv @ g - c @ h_inv @ c)


@pytest.mark.parametrize("j", [1, 2])
@pytest.mark.parametrize("exact", [False, True])
def test_the_correction_equals_its_formula_unit_by_unit(j: int, exact: bool) -> None:
    """With ``exact``, three blocks, one of them holding a single treated unit (whose
    neighbours come from every block)."""
    rng = np.random.default_rng(j)
    x = rng.normal(size=(60, 3))
    treated = rng.random(60) < expit(x[:, 0] - 0.3)
    y = x[:, 1] + treated * (1 + x[:, 2]) + rng.normal(size=60)
    blocks = np.zeros(60, np.int64)
    if exact:
        blocks[30:] = 1
        blocks[np.flatnonzero(treated)[0]] = 2
    prop = propensity_scores(x, treated, c=0.5)
    got = score_correction(y, treated, prop, 0.7, neighbours=j, blocks=blocks if exact else None)
    assert got == pytest.approx(_by_unit(y, treated, prop, 0.7, j, blocks), rel=1e-6, abs=1e-12)
    assert got != 0.0
    if exact:
        assert got != pytest.approx(score_correction(y, treated, prop, 0.7, neighbours=j))


def test_the_model_penalty_is_its_l2_strength() -> None:
    """``penalty`` is what scikit-learn's fit made stationary: the log-likelihood's gradient in
    the slopes equals penalty * slopes (so the Hessian's ridge is right)."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 2))
    treated = rng.random(400) < expit(x[:, 0])
    prop = propensity_scores(x, treated, c=0.05)
    z = prop.design.astype(np.float64)
    slopes = np.linalg.lstsq(np.column_stack([np.ones(400), z]), prop.logit, rcond=None)[0][1:]
    gradient = z.T @ (treated - prop.score)
    assert gradient == pytest.approx(prop.penalty * slopes, rel=0.01)
    assert prop.penalty == pytest.approx(20.0)


def _spread(design: str, runs: int, n: int) -> tuple[float, float, float]:
    """The estimates' variance over ``runs`` draws, and the mean known-score and corrected
    variances."""
    estimates, known, corrected = [], [], []
    for seed in range(runs):
        d = heterogeneous(design, n, seed)
        r = match(d.x, d.treated, method="propensity", replace=True)
        m = matched_difference_with_replacement(d.y, r.points, d.treated, r.treated_rows,
                                                r.control_rows, propensity=r.propensity)
        assert m["score"] == "estimated"
        estimates.append(m["estimate"])
        known.append(m["se_score_known"] ** 2)
        corrected.append(m["se"] ** 2)
    return float(np.var(estimates)), float(np.mean(known)), float(np.mean(corrected))


def test_the_correction_narrows_where_the_known_score_interval_is_too_wide() -> None:
    spread, known, corrected = _spread("hidden-covariates", 150, 1000)
    assert known > 1.3 * spread
    assert corrected == pytest.approx(spread, rel=0.2)


def test_the_correction_widens_where_the_known_score_interval_is_too_narrow() -> None:
    spread, known, corrected = _spread("effect-within-score", 150, 1000)
    assert known < 0.9 * spread and corrected > 1.1 * known
    assert corrected == pytest.approx(spread, rel=0.2)


@pytest.mark.parametrize("design", HETEROGENEOUS)
def test_heterogeneous_designs_know_their_att(design: str) -> None:
    """The quadrature ATT equals the mean effect over the treated units of a large draw."""
    d = heterogeneous(design, 2_000_000, seed=1)
    x = d.x[d.treated]
    effect = {"abadie-imbens": lambda: 5 + 2 * x[:, 0] + 4 * x[:, 1],
              "hidden-covariates": lambda: 1 + 2 * x[:, 0] + 1.5 * x[:, 2],
              "effect-within-score": lambda: 1 + 4 * x[:, 1]}[design]()
    assert effect.mean() == pytest.approx(d.att, abs=0.01)


def test_where_the_correction_does_not_apply_the_score_is_taken_as_known() -> None:
    d = heterogeneous("effect-within-score", 600, 0)
    persons = np.arange(600) // 2
    r = match(d.x, d.treated, method="propensity", replace=True)
    for why, kwargs, rows in [
        ("share persons", {"persons": persons}, slice(None)),
        ("3 treated units were left unmatched", {}, slice(3, None)),
    ]:
        t_rows, c_rows = r.treated_rows[rows], r.control_rows[rows]
        m = matched_difference_with_replacement(d.y, r.points, d.treated, t_rows, c_rows,
                                                propensity=r.propensity, **kwargs)
        assert m["score"] == "known" and why in m["score_taken_as_known"]
        assert "se_score_known" not in m
    bare = Propensity(score=r.propensity.score, logit=r.propensity.logit)
    m = matched_difference_with_replacement(d.y, r.points, d.treated, r.treated_rows,
                                            r.control_rows, propensity=bare)
    assert m["score_taken_as_known"] == "the model's covariates were not kept"
    plain = matched_difference_with_replacement(d.y, r.points, d.treated, r.treated_rows,
                                                r.control_rows)
    assert m["se"] == plain["se"] and "score" not in plain


def test_an_approximate_covariate_search_gives_nearly_the_exact_correction(monkeypatch) -> None:
    """Above ``EXACT_MAX_WORK`` the effect at each unit's covariates takes its neighbours from
    an IVF index: nearly the same correction as the exact search's."""
    from latentplay.match import estimated_score
    from latentplay.match.knn import ControlSearch

    d = heterogeneous("effect-within-score", 3000, 0, irrelevant=5)
    r = match(d.x, d.treated, method="propensity", replace=True)
    exact = score_correction(d.y, d.treated, r.propensity, 1.0)
    kinds, original = [], ControlSearch.search

    def recording(self: ControlSearch, queries: np.ndarray, k: int):
        found = original(self, queries, k)
        kinds.append(set(self.used))
        return found

    monkeypatch.setattr(ControlSearch, "search", recording)
    monkeypatch.setattr(estimated_score, "EXACT_MAX_WORK", 0.0)
    approximate = score_correction(d.y, d.treated, r.propensity, 1.0)
    assert kinds.count({"ivf"}) == 2  # the covariate-space searches; those on the logit are exact
    assert approximate == pytest.approx(exact, rel=0.1) and approximate != exact


def test_matched_within_exact_blocks_the_correction_takes_their_neighbours() -> None:
    d = heterogeneous("hidden-covariates", 800, 0)
    blocks = (d.x[:, 1] > 0).astype(np.int64)
    r = match(d.x, d.treated, method="propensity", replace=True, exact=blocks)
    m = matched_difference_with_replacement(d.y, r.points, d.treated, r.treated_rows,
                                            r.control_rows, blocks=blocks, propensity=r.propensity)
    assert m["score"] == "estimated"
    change = score_correction(d.y, d.treated, r.propensity, m["estimate"], blocks=blocks)
    assert m["se"] ** 2 == pytest.approx(m["se_score_known"] ** 2 + change)
