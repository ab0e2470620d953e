"""How often the 95 % intervals of means over few persons hold the truth: simulated data.

Prints one JSON line per scenario and number of persons (8, 15 and 40 persons of 10 photos
each; ``bias_shares`` 8, 16 and 40, ``parity_*`` 20 and 80; ``verify_*`` 20, 40 and 80
persons): the share of ``--runs`` datasets whose 95 %
interval holds the true value (should be 95 %) and the intervals' mean width, for the
bootstrap over persons the commands report (``reported``:
:func:`latentplay.resample.mean_intervals`,
:func:`~latentplay.resample.difference_intervals`, at the expanded percentiles of
:func:`~latentplay.resample.expanded_tail`), the same bootstrap at the plain 2.5 and 97.5
percentiles (``plain_percentile``), Student's t over the photos taken as independent (what
the commands give where no person repeats) and, for values, Student's t over each person's
mean.

- ``bias``: a signed error, each person's own (normal, sd 1) plus each photo's (normal, sd 1):
  ``audit accuracy``'s bias, ``audit calibration``'s over-confidence.
- ``mae``: the absolute value of the same (skewed): ``audit accuracy``'s mean absolute error,
  ``audit reconstruction``'s means.
- ``accuracy``: right or wrong, each person right with a propensity of their own (Beta(4, 1),
  80 % on average): ``audit accuracy``, ``audit detection``, ``audit counterfactual``'s shares.
- ``flips``: the share of faces an edit changes minus the share a random edit of the same size
  changes, read on the same faces, each person's propensity ``p`` ~ Beta(1, 4) for the edit
  and ``p / 2`` for the random one (a difference of 0.1): ``audit counterfactual``'s excess.
- ``excess``: the same edit against 3 random directions drawn afresh for each dataset, each
  with a strength of its own (direction ``r`` changes a face with propensity ``p d_r``,
  ``d_r`` uniform on 0.2-0.8; a difference of 0.1 over the directions one might draw):
  ``audit counterfactual``'s excess as it gives it (the wider of the bootstrap over persons
  of the paired differences and the two-level bootstrap over persons and directions), each
  alone (``paired``: :func:`latentplay.resample.difference_intervals`, ``two_level``:
  :func:`latentplay.audit.counterfactual.excess_intervals`).
  ``excess_spread``: the same where the directions differ far more and faces change more
  often (``d_r`` uniform on 0-1, ``p`` ~ Beta(2, 2): a difference of 0.25, most of its
  uncertainty which 3 directions were drawn). A candidate beside them (``components_t``):
  Student's t at Satterthwaite's degrees of freedom with the variance over persons of the
  paired differences plus the directions' variance over their number (``K - 1`` and
  ``R - 1`` degrees of freedom).
- ``trend_r``: the correlation of rows' places along two ordered attributes, a person's group
  (4 levels, as many persons in each on average) and a photo's level 0-2 (Binomial(2, p), each
  person's ``p`` Beta around 0.2 + 0.15 x their group, concentration 4; a correlation of
  0.422): ``data bias``'s trend ``r`` and its interval over persons (rows taken as
  independent: Fisher's z interval of the photos).
- ``slope``: a value along ordered groups, each person in one of 4 (as many persons in each on
  average), the value 0.1 x the group's place plus each person's own (normal, sd 1) and each
  photo's (normal, sd 1): the slope 0.1 and its interval over persons
  (:func:`latentplay.metrics.verification.rate_trend`: ``audit accuracy``'s, ``calibration``'s,
  ``reconstruction``'s and ``fidelity``'s trends; rows taken as independent: the robust normal
  interval of :func:`~latentplay.metrics.verification.slope_interval`).
- ``shares``: audited photos of 3 classes, each photo of its person's own class (drawn 0.5 /
  0.3 / 0.2) 7 times in 10, else of any (true shares 0.45, 0.31, 0.24): ``audit compare``'s
  intervals of the shares over the persons (``generated_ci``: Wilson's at the photos over
  each class's design effect, adjusted for the persons' degrees of freedom:
  :func:`latentplay.intervals.degrees_adjusted_rows`), the same unadjusted
  (``design_effect_alone``), and Wilson's over the photos; ``held_truth`` per class.
- ``bias_shares``: a level each person shows in some of their photos (each person's
  propensity Beta of mean 0.1 in one group, 0.3 in the other, concentration 4; 8, 16 and
  40 persons, half in each group): ``data bias``'s interval of its share over all rows and
  in each group (Wilson's at the photos over the design effect, adjusted for the degrees of
  freedom of the persons in each: :attr:`latentplay.store.bias.Association.intervals`), the
  same unadjusted (``design_effect_alone``) and Wilson's over the photos; ``held_truth``
  all rows first.
- ``matched`` / ``naive``: as many treated as control persons (8, 15, 40), an outcome each
  person's own (normal, sd 1) plus each photo's (normal, sd 1) plus 0.5 for the treated, each
  treated photo matched to a control photo at random: ``match run --outcome``'s effect over
  persons after matching and before it (:func:`latentplay.match.effect.matched_difference`,
  :func:`~latentplay.match.effect.naive_difference` with ``persons``: Student's t at the
  persons' degrees of freedom), the normal interval at the same standard error, and the pair
  bootstrap (matched) or each group's bootstrap (naive) of the photos.
- ``replace``: the same persons and outcome, each treated photo matched with replacement to
  the nearest control photo on a covariate half each person's own (normal, sd 0.5) and half
  each photo's (sd 1) that does not move the outcome: ``match run --replace``'s Abadie-Imbens
  interval over persons (:func:`latentplay.match.effect.matched_difference_with_replacement`
  with ``persons``: Student's t with one degree of freedom fewer than the persons of the
  smaller side), the normal interval at the same standard error, and Abadie-Imbens' of the
  photos.
- ``parity_equal`` / ``parity_gap``: 4 groups of 5 or 20 persons (person ``j`` in group
  ``j % 4``) of 10 photos, each photo selected on its own at its group's rate (0.5 in all;
  0.4, 0.5, 0.5, 0.6): ``audit accuracy --positive``'s demographic parity difference (the
  largest gap, 0 and 0.2) and its interval over persons
  (:func:`latentplay.audit.parity.range_interval`: the bootstrap max-t band of the pairs'
  differences, each pair's SD never below its groups' own Wilson intervals'), against the
  percentile interval of the resampled largest gap itself (``plain_percentile``).
- ``verify_slope``: 3,000 impostor pairs of two persons of one group (20, 40 or 80 persons in
  4 ordered groups), a pair a false match with the mean of its two persons' propensities (each
  Beta of mean 0.02 + 0.01 x the group's place, concentration 2: a few persons match far
  more than others): ``audit verify``'s FMR slope (0.01) and its dyadic-robust normal
  interval (:func:`latentplay.metrics.verification.slope_interval`, never narrower than the
  independent pairs'), the same without that floor (``dyadic_alone``; none where its
  variance comes out negative), the robust interval of the pairs taken as independent, and
  a candidate: the jackknife over persons (each left out with every pair that shows them;
  Student's t at ``K - 1`` degrees of freedom, never narrower than the independent pairs').
  ``verify_plain``: the same where persons do not matter (a pair a false match at its
  group's rate alone).

    python bench/coverage_means.py [--runs 500] [--seed 0] [--only NAME]
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
from scipy.stats import t as student_t

from latentplay import resample
from latentplay.audit import counterfactual, distribution, parity
from latentplay.clustered import shared_variance
from latentplay.intervals import t_interval, wilson_interval
from latentplay.match import effect
from latentplay.metrics import verification
from latentplay.resample import cluster_sums, resampled
from latentplay.store import bias

PHOTOS = 10
PERSONS = (8, 15, 40)
SCENARIOS = ("bias", "mae", "accuracy", "flips", "excess", "excess_spread", "trend_r", "slope",
             "shares", "bias_shares", "matched", "naive", "replace", "parity_equal", "parity_gap",
             "verify_slope", "verify_plain")
SIZES = {"verify_slope": (20, 40, 80), "verify_plain": (20, 40, 80), "bias_shares": (8, 16, 40),
         "parity_equal": (20, 80), "parity_gap": (20, 80)}
"""Persons of the scenarios that do not take :data:`PERSONS`."""
SHARES = np.array([0.5, 0.3, 0.2])
"""``shares``' classes of the persons themselves."""
DIRECTIONS = 3
"""``excess``'s random directions."""
CONCENTRATION = 4.0
"""``trend_r``'s Beta concentration ``a + b`` of each person's propensity."""


def trend_r_truth() -> float:
    """``trend_r``'s correlation of group ``u`` (uniform over 0-3) and level ``v`` ~
    Binomial(2, p), ``p`` ~ Beta of mean ``m = 0.2 + 0.15 u``: cov(u, v) = 2 x 0.15 var(u);
    var(v) = E[var(v | p)] + var(2 p) = E[2 p (1 - p)] + 4 var(p), with var(p | u) =
    m (1 - m) / (c + 1) and E[p (1 - p) | u] = m (1 - m) - var(p | u)."""
    u = np.arange(4.0)
    m = 0.2 + 0.15 * u
    var_p = m * (1 - m) / (CONCENTRATION + 1)
    var_v = np.mean(2 * (m * (1 - m) - var_p) + 4 * var_p) + np.var(2 * m)
    return float(2 * 0.15 * np.var(u) / np.sqrt(np.var(u) * var_v))


TRUTH = {"bias": 0.0, "mae": 2 / np.sqrt(np.pi), "accuracy": 0.8, "flips": 0.1, "excess": 0.1,
         "excess_spread": 0.25,
         "trend_r": trend_r_truth(), "slope": 0.1, "shares": 0.7 * SHARES + 0.1,
         "bias_shares": np.array([0.2, 0.1, 0.3]), "matched": 0.5,
         "naive": 0.5, "replace": 0.5, "parity_equal": 0.0, "parity_gap": 0.2,
         "verify_slope": 0.01, "verify_plain": 0.01}
"""The true values: 0; E|N(0, 2)| = sqrt(2) sqrt(2 / pi); Beta(4, 1)'s mean; E[p] / 2 of
Beta(1, 4) (``excess``, ``excess_spread``: E[p] (1 - E[d])); :func:`trend_r_truth`; the slope drawn; the
shares of photos of their person's class 7 times in 10; the groups' mean propensities (all
rows: their mean); the effect drawn; the largest gap between the groups' rates; the FMR's
slope drawn."""


@contextmanager
def plain_percentiles() -> Iterator[None]:
    """The bootstrap over persons as it was: the 2.5 and 97.5 percentiles whatever the number
    of persons."""
    modules = (resample, bias, verification)
    kept = [module.expanded_tail for module in modules]
    for module in modules:
        module.expanded_tail = lambda k, confidence=0.95: (1 - confidence) / 2
    try:
        yield
    finally:
        for module, tail in zip(modules, kept, strict=True):
            module.expanded_tail = tail


def draw(name: str, k: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray | None]:
    """``(k * PHOTOS,)`` values of scenario ``name`` over ``k`` persons (``2 k`` for
    ``matched`` and ``naive``, the first ``k`` treated) and what goes with them: the random
    edit's changes on the same faces (``flips``), each photo's level (``trend_r``) or group's
    place (``slope``, ``bias_shares``), the control photo of each treated one (``matched``, ``naive``); None
    otherwise."""
    if name in ("bias", "mae"):
        error = np.repeat(rng.normal(size=k), PHOTOS) + rng.normal(size=k * PHOTOS)
        return (error if name == "bias" else np.abs(error)), None
    if name == "accuracy":
        return (rng.random(k * PHOTOS) < np.repeat(rng.beta(4, 1, k), PHOTOS)).astype(float), None
    if name == "trend_r":
        group = rng.integers(0, 4, k)
        m = 0.2 + 0.15 * group
        p = np.repeat(rng.beta(m * CONCENTRATION, (1 - m) * CONCENTRATION), PHOTOS)
        return np.repeat(group, PHOTOS).astype(float), rng.binomial(2, p).astype(float)
    if name in ("matched", "naive", "replace"):     # k treated persons, then k control persons
        treated = np.arange(2 * k * PHOTOS) < k * PHOTOS
        value = (np.repeat(rng.normal(size=2 * k), PHOTOS) + rng.normal(size=2 * k * PHOTOS)
                 + 0.5 * treated)
        if name == "replace":
            return value, (np.repeat(rng.normal(0, 0.5, 2 * k), PHOTOS)
                           + rng.normal(size=2 * k * PHOTOS))
        return value, rng.permutation(np.flatnonzero(~treated))
    if name in ("verify_slope", "verify_plain"):     # person j is in group j % 4
        group = rng.integers(0, 4, 3000)
        first = rng.integers(0, k // 4, 3000)
        second = (first + rng.integers(1, k // 4, 3000)) % (k // 4)
        pairs = group[:, None] + 4 * np.column_stack([first, second])
        mean = 0.02 + 0.01 * (np.arange(k) % 4)
        own = rng.beta(2 * mean, 2 * (1 - mean)) if name == "verify_slope" else mean
        wrong = rng.random(3000) < own[pairs].mean(1)
        return wrong.astype(float), np.column_stack([group, pairs]).astype(float)
    if name in ("parity_equal", "parity_gap"):     # person j is in group j % 4
        group = np.repeat(np.arange(k) % 4, PHOTOS)
        rate = np.array([0.5] * 4 if name == "parity_equal" else [0.4, 0.5, 0.5, 0.6])
        return (rng.random(k * PHOTOS) < rate[group]).astype(float), group.astype(float)
    if name == "bias_shares":     # person j is in group j % 2
        mean = np.where(np.arange(k) % 2, 0.3, 0.1)
        p = np.repeat(rng.beta(mean * CONCENTRATION, (1 - mean) * CONCENTRATION), PHOTOS)
        return (rng.random(k * PHOTOS) < p).astype(float), np.repeat(np.arange(k) % 2.0, PHOTOS)
    if name == "shares":
        own = np.repeat(rng.choice(3, k, p=SHARES), PHOTOS)
        return np.where(rng.random(k * PHOTOS) < 0.7, own, rng.integers(0, 3, k * PHOTOS)), None
    if name == "slope":
        group = np.repeat(rng.integers(0, 4, k), PHOTOS).astype(float)
        value = (0.1 * group + np.repeat(rng.normal(size=k), PHOTOS)
                 + rng.normal(size=k * PHOTOS))
        return value, group
    spread = name == "excess_spread"
    p = np.repeat(rng.beta(2, 2, k) if spread else rng.beta(1, 4, k), PHOTOS)
    if name in ("excess", "excess_spread"):
        d = rng.uniform(0.0 if spread else 0.2, 1.0 if spread else 0.8, DIRECTIONS)
        return ((rng.random(k * PHOTOS) < p).astype(float),
                (rng.random((DIRECTIONS, k * PHOTOS)) < d[:, None] * p).astype(float))
    return ((rng.random(k * PHOTOS) < p).astype(float),
            (rng.random(k * PHOTOS) < p / 2).astype(float))


def intervals(name: str, x: np.ndarray, reference: np.ndarray | None, persons: np.ndarray,
              seed: int) -> dict[str, tuple[float, float]] | dict[str, np.ndarray]:
    """Each method's ``(low, high)`` for one dataset (``(3, 2)`` of them for ``shares``)."""
    if name == "trend_r":
        return correlation_intervals(x, reference, persons)
    if name == "slope":
        return slope_intervals(x, reference, persons, seed)
    if name == "shares":
        return share_intervals(x, persons)
    if name == "bias_shares":
        return bias_share_intervals(x.astype(bool), reference.astype(int), persons)
    if name in ("matched", "naive"):
        return effect_intervals(name, x, reference, seed)
    if name == "replace":
        return replacement_intervals(x, reference)
    if name in ("parity_equal", "parity_gap"):
        return parity_intervals(x.astype(bool), reference.astype(int), persons, seed)
    if name in ("excess", "excess_spread"):
        return random_excess_intervals(x, reference, persons, seed)
    if name in ("verify_slope", "verify_plain"):
        return dyadic_intervals(x, reference[:, 0], reference[:, 1:].astype(int))

    def bootstrap() -> tuple[float, float]:
        if reference is not None:
            return tuple(resample.difference_intervals(x[:, None], reference[:, None], persons,
                                                       1000, seed)[0])
        return tuple(resample.mean_intervals(x[:, None], persons, 1000, seed,
                                             proportion=name == "accuracy")[0])

    rows = x if reference is None else x - reference
    found: dict[str, tuple[float, float]] = {"reported": bootstrap()}
    with plain_percentiles():
        found["plain_percentile"] = bootstrap()
    found["t_photos"] = tuple(t_interval(rows)[1:])
    if name in ("bias", "mae"):
        found["t_person_means"] = tuple(t_interval(rows.reshape(-1, PHOTOS).mean(1))[1:])
    return found


def random_excess_intervals(edited: np.ndarray, random: np.ndarray, persons: np.ndarray,
                            seed: int) -> dict[str, tuple[float, float]]:
    """The excess of ``(n,)`` changes along an edit over those along ``(R, n)`` random
    directions, over ``persons``: as ``audit counterfactual`` gives it and each of its two
    parts."""
    paired = resample.difference_intervals(edited[:, None], random.mean(0)[:, None], persons,
                                           1000, seed)[0]
    both = counterfactual.excess_intervals(edited[:, None], random[:, :, None], persons, 1000,
                                           seed)[0]
    return {"reported": (min(paired[0], both[0]), max(paired[1], both[1])),
            "paired": tuple(paired), "two_level": tuple(both),
            "components_t": components_t(edited, random, persons)}


def components_t(edited: np.ndarray, random: np.ndarray, persons: np.ndarray
                 ) -> tuple[float, float]:
    """Student's t interval of the excess of ``(n,)`` ``edited`` over ``(R, n)`` ``random``
    at the variance over the ``K`` ``persons`` of each face's difference (``K / (K - 1)``
    times the sum of their squared centred sums) plus the variance of the directions' means
    over ``R``, at Satterthwaite's degrees of freedom."""
    k, (r, n) = len(np.unique(persons)), random.shape
    difference = edited - random.mean(0)
    excess = difference.mean()
    sums = np.bincount(persons, difference - excess)
    over_persons = k / (k - 1) * float(sums @ sums) / n**2
    over_directions = float(np.var(random.mean(1), ddof=1)) / r
    total = over_persons + over_directions
    freedom = total**2 / (over_persons**2 / (k - 1) + over_directions**2 / (r - 1))
    half = float(student_t.ppf(0.975, freedom)) * np.sqrt(total)
    return excess - half, excess + half


def correlation_intervals(u: np.ndarray, v: np.ndarray, persons: np.ndarray
                          ) -> dict[str, tuple[float, float]]:
    """``data bias``'s interval of the correlation of ``(n,)`` places ``u`` and ``v`` over
    ``persons``, as it is and as it was, and Fisher's z interval of the rows."""
    found = {"reported": bias._person_interval(u, v, persons)}
    with plain_percentiles():
        found["plain_percentile"] = bias._person_interval(u, v, persons)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.arctanh(np.corrcoef(u, v)[0, 1])
        half = 1.96 / np.sqrt(len(u) - 3)
    found["fisher_photos"] = (float(np.tanh(z - half)), float(np.tanh(z + half)))
    return found


def slope_intervals(value: np.ndarray, group: np.ndarray, persons: np.ndarray, seed: int
                    ) -> dict[str, tuple[float, float]]:
    """The trends' interval of the slope of ``(n,)`` values on their group's place over
    ``persons``, as it is and at the plain percentiles, and the robust normal one of rows."""
    def over_persons() -> tuple[float, float]:
        found = verification.rate_trend(value, group, persons, seed=seed)
        return found["low"], found["high"]

    out = {"reported": over_persons()}
    with plain_percentiles():
        out["plain_percentile"] = over_persons()
    rows = verification.slope_interval(value, group)
    out["robust_photos"] = (rows["low"], rows["high"])
    return out


@contextmanager
def unadjusted_rows() -> Iterator[None]:
    """``compare``'s and ``data bias``'s shares at the photos over their design effect, with
    no adjustment for the persons' degrees of freedom."""
    modules = (distribution, bias)
    kept = [module.degrees_adjusted_rows for module in modules]
    for module in modules:
        module.degrees_adjusted_rows = lambda effective, n, clusters, confidence=0.95: effective
    try:
        yield
    finally:
        for module, adjusted in zip(modules, kept, strict=True):
            module.degrees_adjusted_rows = adjusted


def share_intervals(codes: np.ndarray, persons: np.ndarray) -> dict[str, np.ndarray]:
    """``(3, 2)`` intervals of the shares of ``(n,)`` class codes over ``persons``: as
    ``compare`` gives them, unadjusted, and Wilson's over the photos."""
    counts = np.bincount(codes, minlength=3)

    def over_persons() -> np.ndarray:
        return distribution.compare(np.array([500, 300, 200]), counts, list("abc"), n_boot=10,
                                    seed=0, generated_persons=(codes, persons)).generated_ci

    found = {"reported": over_persons()}
    with unadjusted_rows():
        found["design_effect_alone"] = over_persons()
    found["wilson_photos"] = wilson_interval(counts, len(codes))
    return found


def bias_share_intervals(hits: np.ndarray, group: np.ndarray, persons: np.ndarray
                         ) -> dict[str, np.ndarray]:
    """``(3, 2)`` intervals of the share of ``(n,)`` ``hits`` over all rows and in each of
    the two groups of ``(n,)`` codes ``group`` over ``persons``: as ``data bias`` gives them,
    unadjusted, and Wilson's over the photos."""
    bars = [np.ones(len(hits), bool), group == 0, group == 1]
    counts = np.array([[np.sum(hits & b), np.sum(~hits & b)] for b in bars[1:]])
    found = bias.Association("group", "level", ["a", "b"], ["yes", "no"], counts, 0.0, 1, 1.0,
                             0.0, persons=len(np.unique(persons)))
    found.design_effects, found.bar_persons = bias.bar_spread(hits, bars, persons)
    out = {"reported": found.intervals}
    with unadjusted_rows():
        out["design_effect_alone"] = found.intervals
    out["wilson_photos"] = np.array([wilson_interval(np.array([hits[b].sum()]), int(b.sum()))[0]
                                     for b in bars])
    return out


def effect_intervals(name: str, y: np.ndarray, controls: np.ndarray, seed: int
                     ) -> dict[str, tuple[float, float]]:
    """The effect's interval over persons of ``(2 n,)`` outcomes, the first ``n`` treated
    (each photo matched to its control in ``(n,)`` ``controls``), the normal one at its
    standard error, and the bootstrap of the photos."""
    persons = np.repeat(np.arange(len(y) // PHOTOS), PHOTOS)
    treated = np.arange(len(y)) < len(controls)
    if name == "matched":
        rows = np.flatnonzero(treated)
        over = effect.matched_difference(y, rows, controls, persons=persons)
        photos = effect.matched_difference(y, rows, controls, n_boot=1000, seed=seed)
    else:
        over = effect.naive_difference(y, treated, persons=persons)
        photos = effect.naive_difference(y, treated, n_boot=1000, seed=seed)
    half = 1.959964 * over["se"]
    return {"reported": (over["ci_low"], over["ci_high"]),
            "normal": (over["estimate"] - half, over["estimate"] + half),
            "bootstrap_photos": (photos["ci_low"], photos["ci_high"])}


def replacement_intervals(y: np.ndarray, covariate: np.ndarray) -> dict[str, tuple[float, float]]:
    """The effect's interval over persons of ``(2 n,)`` outcomes, the first ``n`` treated, each
    treated photo matched with replacement to the control photo of the nearest ``(2 n,)``
    ``covariate``: as ``match run --replace`` gives it, the normal one at its standard error,
    and Abadie-Imbens' of the photos."""
    persons = np.repeat(np.arange(len(y) // PHOTOS), PHOTOS)
    treated = np.arange(len(y)) < len(y) // 2
    rows, pool = np.flatnonzero(treated), np.flatnonzero(~treated)
    controls = pool[np.abs(covariate[rows, None] - covariate[pool]).argmin(1)]
    points = covariate[:, None]
    over = effect.matched_difference_with_replacement(y, points, treated, rows, controls,
                                                      persons=persons)
    photos = effect.matched_difference_with_replacement(y, points, treated, rows, controls)
    half = 1.959964 * over["se"]
    return {"reported": (over["ci_low"], over["ci_high"]),
            "normal": (over["estimate"] - half, over["estimate"] + half),
            "abadie_imbens_photos": (photos["ci_low"], photos["ci_high"])}


def parity_intervals(selected: np.ndarray, group: np.ndarray, persons: np.ndarray, seed: int
                     ) -> dict[str, tuple[float, float]]:
    """The demographic parity difference's interval over ``persons`` of ``(n,)`` bool
    ``selected`` in ``(n,)`` groups 0-3, from one bootstrap over the persons as ``audit
    accuracy --positive`` draws it: as it gives it (:func:`latentplay.audit.parity.range_interval`),
    and the percentile interval of the resampled largest gap."""
    sums = cluster_sums(persons, [w for g in range(4) for w in (group == g, (group == g) & selected)])
    drawn = resampled(sums, 1000, seed).reshape(1000, 4, 2)
    whole = sums.sum(axis=0).reshape(4, 2)
    with np.errstate(invalid="ignore"):     # a draw without a group's persons
        rates = drawn[..., 1] / drawn[..., 0]
    gaps = parity._differences(rates, rates, rates)["demographic_parity_difference"]
    floors = [parity._own_spread(parity._own_bounds(selected, [group == g for g in range(4)], persons))]
    return {"reported": parity.range_interval([whole[:, 1] / whole[:, 0]], [rates], floors),
            "plain_percentile": tuple(np.nanpercentile(gaps, [2.5, 97.5]))}


def dyadic_intervals(wrong: np.ndarray, group: np.ndarray, pairs: np.ndarray
                     ) -> dict[str, tuple[float, float]]:
    """The FMR slope's interval over the ``(n, 2)`` persons of ``pairs`` as ``audit verify``
    gives it, without its floor at the independent pairs' variance, and of the pairs taken
    as independent."""
    found = verification.slope_interval(wrong, group, pairs)
    x = group - group.mean()
    residual = wrong - wrong.mean() - found["slope"] * x
    with np.errstate(invalid="ignore"):
        half = 1.959964 * np.sqrt(shared_variance(x * residual / (x @ x), pairs))
    rows = verification.slope_interval(wrong, group)
    left_out = person_jackknife(wrong, group, pairs)
    k = len(left_out)
    jackknife = max((k - 1) / k * float(((left_out - left_out.mean()) ** 2).sum()),
                    ((rows["high"] - rows["slope"]) / 1.959964) ** 2)
    half_jack = float(student_t.ppf(0.975, k - 1)) * np.sqrt(jackknife)
    return {"reported": (found["low"], found["high"]),
            "dyadic_alone": (found["slope"] - half, found["slope"] + half),
            "robust_pairs": (rows["low"], rows["high"]),
            "person_jackknife": (found["slope"] - half_jack, found["slope"] + half_jack)}


def person_jackknife(e: np.ndarray, x: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """``(K,)`` least-squares slopes of ``(n,)`` values ``e`` on ``(n,)`` places ``x``, each
    with one of the ``K`` persons of the ``(n, 2)`` impostor ``pairs`` left out with every
    pair that shows them (from each person's sums of 1, x, x^2, e and x e)."""
    _, codes = np.unique(pairs, return_inverse=True)
    codes = codes.reshape(pairs.shape)
    sums = np.stack([np.ones_like(x), x, x * x, e, x * e])              # (5, n)
    k = codes.max() + 1
    mine = np.stack([np.bincount(codes[:, 0], row, minlength=k) + np.bincount(codes[:, 1], row, minlength=k)
                     for row in sums])                                   # (5, K)
    n, sx, sxx, se, sxe = sums.sum(axis=1)[:, None] - mine
    return (n * sxe - sx * se) / (n * sxx - sx * sx)


def scenario(name: str, k: int, runs: int, rng: np.random.Generator) -> dict[str, object]:
    """``name``'s held truth and mean widths over ``runs`` datasets of ``k`` persons (and
    ``k`` more controls for ``matched`` and ``naive``)."""
    persons = np.repeat(np.arange(k), PHOTOS)
    held: dict[str, list[bool]] = {}
    width: dict[str, list[float]] = {}
    for run in range(runs):
        x, reference = draw(name, k, rng)
        for key, found in intervals(name, x, reference, persons, run).items():
            low, high = np.asarray(found, np.float64).T
            held.setdefault(key, []).append((low <= TRUTH[name]) & (TRUTH[name] <= high))
            width.setdefault(key, []).append(high - low)
    return {"scenario": name, "persons": k, "photos_each": None if name.startswith("verify") else PHOTOS,
            "runs": runs,
            "truth": np.round(TRUTH[name], 4).tolist(),
            "held_truth": {key: np.mean(v, 0).round(3).tolist() for key, v in held.items()},
            "mean_width": {key: np.nanmean(v, 0).round(4).tolist() for key, v in width.items()},
            "no_interval": {key: np.mean(~np.isfinite(v), 0).round(3).tolist()
                            for key, v in width.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", choices=SCENARIOS, help="run this scenario alone")
    args = parser.parse_args()
    for name in SCENARIOS:
        if args.only in (None, name):   # each scenario draws its own data, alone or not
            rng = np.random.default_rng([args.seed, SCENARIOS.index(name)])
            for k in SIZES.get(name, PERSONS):
                print(json.dumps(scenario(name, k, args.runs, rng)), flush=True)


if __name__ == "__main__":
    main()
