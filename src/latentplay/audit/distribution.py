"""Compare the class distribution of generated images with the training set's.

For one attribute with ``K`` classes: counts and proportions with 95% Wilson intervals, a
chi-square test that the generated images follow the training distribution (:func:`chi_square`:
both sides sampled, the training persons counted, and the generated shares compared with what
the annotator reads on the training distribution), total variation distance and Jensen-Shannon
divergence. The generated proportions are measured through an annotator that errs; when its
confusion matrix ``C`` (rows true, columns predicted) is known, the observed proportions are
``q = C^T p`` and :func:`correct_confusion` recovers ``p`` (black-box shift estimation, Lipton,
Wang & Smola 2018), constrained to the simplex.

For classes with an order (Monk skin tones, age groups) the chi-square test says that the
generated distribution differs, not which way; :class:`Shift` says which way and how far: the
difference of the mean class positions (in classes; +: the generated images sit later in the
order) and Cliff's delta, ``P(generated later) - P(generated earlier)`` for a generated and a
training image drawn at random.

A generator may also reproduce the training set's imbalance more strongly than the set has it
(mode collapse onto the majority): :class:`Imbalance` measures each distribution's distance
from balance (:func:`fairness_discrepancy`, the L2 distance from uniform over the classes,
corrected for the upward bias sampling gives it: :func:`balance_distances`) and the
difference, generated minus training, with intervals over resamples of both, raw and corrected
for the annotator's confusion (the bias an annotator's errors put into that distance is what
Teo et al., 2023, correct for).

Rows without a class (unlabelled, ``unknown``, or read as none) are no class here: they enter
no share, test or distance, and :class:`Comparison` counts them (``without_class``).

>>> cmp = compare(train_counts, generated_counts, classes, confusion=ann.evaluation.confusion)
>>> cmp.tv, cmp.js, cmp.chi2_p, cmp.corrected
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.special import rel_entr

from latentplay.audit.correction import correct_confusion, corrected_draws, jeffreys_draw
from latentplay.audit.goodness_of_fit import (
    DRAWS,
    FEW_HELD_OUT,
    Counts,
    chi_square,
    fewest_held_out,
    filled_confusion,
    simulated_p,
)
from latentplay.audit.share_ratio import ShareRatios, share_ratios
from latentplay.clustered import ShareSpread, cluster_spread, share_spread
from latentplay.contingency import is_sparse as cochran_sparse
from latentplay.errors import UserError
from latentplay.intervals import degrees_adjusted_rows, effective_wilson, wilson_interval
from latentplay.outputs import counted, finite_or_none, p_text
from latentplay.reprs import short_repr
from latentplay.resample import cluster_sums, resampled
from latentplay.store.schema import UNKNOWN

MAX_CONDITION = 1e3
"""No correction is reported when the confusion matrix's condition number is above this: the
annotator cannot tell some classes apart, and ``C^T p = q`` has no unique answer."""

MIN_STEADY = 10.0
"""The corrected distance from balance is corrected for sampling bias only where the corrected
shares' resamples spread no wider than the shares of a sample of this many images
(:func:`effective_count`); below it they swing between classes the annotator confuses, and the
distance is read plainly (:func:`_imbalance`)."""

BALANCE_LABEL = "distance from balance (L2, sampling bias taken off)"
"""What the printout and the report call :func:`imbalance_text`'s distances: each is corrected for
sampling (:func:`balance_distances`), so shares near balance read 0, not their plain L2."""

PERCEIVED = ("The classes are perceived ones: a store's labels are annotators' judgements of how a "
             "face looks, not the persons' own identities, and the annotator learns those "
             "judgements (its confusion corrects its disagreement with the labels, not theirs).")
"""What the audit report says once of the classes it counts."""

REFERENCE = "reference"
"""What the store the generated images are compared with is called in sentences, and in labels
where its folder's name does not suit (:func:`data_name`): it need not be the training set."""


def possessive(name: str) -> str:
    """The possessive of a store's name: ``faces'``, ``reference's``."""
    return f"{name}'" if name.endswith("s") else f"{name}'s"


def data_name(path: str | os.PathLike[str] | None) -> str:
    """The label of the store the generated images are compared with (``audit compare
    --data``): its folder's name, or :data:`REFERENCE` where that is empty or a word that
    labels the other side (``generated``, ``corrected``)."""
    name = Path(path).name if path else ""
    return name if name and name not in ("generated", "corrected") else REFERENCE


def _two_distributions(p: np.ndarray, q: np.ndarray, what: str) -> tuple[np.ndarray, np.ndarray]:
    """``p`` and ``q`` as float arrays, refused (a :class:`UserError` naming ``what``) unless
    both are ``(K,)`` of one length with finite values none below 0."""
    p, q = np.asarray(p, float), np.asarray(q, float)
    if p.ndim != 1 or p.shape != q.shape:
        raise UserError(f"{what} compares two (K,) distributions of one length, got shapes "
                        f"{p.shape} and {q.shape}")
    for name, x in (("p", p), ("q", q)):
        if not np.isfinite(x).all() or (x < 0).any():
            raise UserError(f"{what}: {name} must hold counts or shares of 0 or more, got "
                            f"{x.tolist()}")
    return p, q


def total_variation(p: np.ndarray, q: np.ndarray) -> float:
    """Total variation distance ``0.5 * sum |p - q|`` of two ``(K,)`` distributions, in [0, 1].
    Counts are normalised to shares first, as :func:`js_divergence` and
    :func:`fairness_discrepancy` do (``[50, 50]`` against ``[100, 0]``: 0.5); a distribution
    with a value below 0 or none above 0 is refused (:class:`UserError`)."""
    p, q = _two_distributions(p, q, "total_variation")
    for name, x in (("p", p), ("q", q)):
        if not x.sum() > 0:
            raise UserError(f"total_variation: {name} is empty (all zero); a distance needs a "
                            "count or share above 0 on both sides")
    return _total_variation(p / p.sum(), q / q.sum())


def _total_variation(p: np.ndarray, q: np.ndarray) -> float:
    """``0.5 * sum |p - q|`` of two ``(K,)`` share vectors as they are (an empty side, all
    zero, counts as its shares)."""
    return float(0.5 * np.abs(np.asarray(p, float) - np.asarray(q, float)).sum())


def js_divergence(p: np.ndarray, q: np.ndarray) -> float:
    """Jensen-Shannon divergence of two ``(K,)`` distributions (counts or shares, normalised)
    in bits, in [0, 1] (NaN when either is empty; a value below 0 is refused). Summed directly,
    not squared from scipy's distance, whose square root of a rounding error below 0 is NaN for
    two equal distributions."""
    p, q = _two_distributions(p, q, "js_divergence")
    if not (p.sum() > 0 and q.sum() > 0):
        return float("nan")
    p, q = p / p.sum(), q / q.sum()
    m = 0.5 * (p + q)
    bits = 0.5 * float(rel_entr(p, m).sum() + rel_entr(q, m).sum()) / np.log(2)
    return float(np.clip(bits, 0.0, 1.0))


@dataclass
class Shift:
    """Where generated classes sit along an order relative to the training classes.

    Attributes:
        mean: generated mean class position minus the training one, in classes.
        low, high: its 95 % percentile interval over resamples: the training side's counts
            redrawn (multinomial; persons whole), the generated side's shares drawn from their
            Jeffreys posterior, Dirichlet(counts + 1/2).
        delta: Cliff's delta, ``P(g > t) - P(g < t)`` for class positions ``g`` of a
            generated and ``t`` of a training image (-1..1; 0: neither later nor earlier).
    """

    mean: float
    low: float
    high: float
    delta: float

    def to_dict(self) -> dict[str, float]:
        return {"mean": self.mean, "low": self.low, "high": self.high, "delta": self.delta}


def ordinal_shift(training: np.ndarray, generated: np.ndarray) -> tuple[float, float]:
    """The mean-position difference and Cliff's delta of two ``(K,)`` distributions over
    ordered classes (each renormalised; positions ``0..K-1``)."""
    t = np.asarray(training, float) / np.sum(training)
    g = np.asarray(generated, float) / np.sum(generated)
    positions = np.arange(len(t))
    later = np.sign(positions[:, None] - positions[None, :])   # (K, K): sign(i - j)
    return float(g @ positions - t @ positions), float(g @ later @ t)


def _shift(training: np.ndarray, generated: np.ndarray, resampled: Sequence[np.ndarray]
           ) -> Shift:
    """A :class:`Shift` of ``(K,)`` training and generated counts (or proportions), its
    interval from ``resampled`` pairs of them."""
    mean, delta = ordinal_shift(training, generated)
    means = [ordinal_shift(t, g)[0] for t, g in resampled]
    low, high = _holding(mean, np.percentile(means, [2.5, 97.5])) if means else (np.nan, np.nan)
    return Shift(mean, float(low), float(high), delta)


def _holding(estimate: float, interval: np.ndarray) -> tuple[float, float]:
    """A percentile ``interval`` ``(2,)`` widened to hold its ``estimate``: at a boundary (every
    image read as one class) the Jeffreys draws all fall on one side of it, and the interval
    reaches the boundary, as Jeffreys' interval for a proportion of 0 or 1 does."""
    return float(min(interval[0], estimate)), float(max(interval[1], estimate))


def fairness_discrepancy(distribution: np.ndarray) -> float:
    """L2 distance of a ``(K,)`` distribution (renormalised) from the uniform one over its
    ``K`` classes: the fairness discrepancy of Choi et al. (2020); 0 when balanced, at most
    ``sqrt(1 - 1/K)`` (every image in one class)."""
    p = np.asarray(distribution, float) / np.sum(distribution)
    return float(np.linalg.norm(p - 1 / len(p)))


@dataclass
class Imbalance:
    """How far the training and generated class distributions are from balance (uniform over
    the classes), and whether the generator amplifies the training set's imbalance.

    Attributes:
        training, generated: :func:`fairness_discrepancy` of each, corrected for sampling
            bias (:func:`balance_distances`).
        generated_low, generated_high: 95 % percentile interval of ``generated`` over
            resamples (the corrected resamples of :func:`balance_distances`: it reaches 0).
        amplification: ``generated - training`` (> 0: the generated images are less balanced
            than the training ones).
        low, high: its 95 % interval over resamples of both sides.
        unsteady_classes: the classes whose corrected shares swing between resamples (the
            annotator confuses them), when the generated shares' resamples spread as widely as
            those of a sample of under :data:`MIN_STEADY` images: ``generated`` is then the
            plain distance, not corrected for sampling bias, and its interval the resampled
            plain distances'; empty otherwise.
        unsteady_n: that sample's size (:func:`effective_count`); None where steady.
    """

    training: float
    generated: float
    generated_low: float
    generated_high: float
    amplification: float
    low: float
    high: float
    unsteady_classes: list[str] = dataclasses.field(default_factory=list)
    unsteady_n: float | None = None

    def to_dict(self) -> dict[str, float]:
        return dataclasses.asdict(self)


def _square_from_balance(shares: np.ndarray, spread: float = 0.0) -> np.ndarray:
    """Squared L2 distance of ``(..., K)`` shares from uniform, less ``spread``."""
    return ((np.asarray(shares, float) - 1 / np.shape(shares)[-1]) ** 2).sum(axis=-1) - spread


def _spread(draws: np.ndarray) -> float:
    """Trace of the covariance of ``(B, K)`` draws of shares (``B >= 2``)."""
    return float(np.asarray(draws, float).var(axis=0, ddof=1).sum())


def balance_distances(estimate: np.ndarray, draws: np.ndarray) -> tuple[float, np.ndarray]:
    """The distance from balance (:func:`fairness_discrepancy`) of ``(K,)`` counts (or shares)
    ``estimate`` and ``(B,)`` resamples of it, from its ``(B, K)`` resampled counts (or shares)
    ``draws`` (``B >= 2``), all corrected for the bias sampling gives a distance.

    The plug-in distance is biased upwards: ``E |p^ - u|^2 = |p - u|^2 + tr Cov(p^)``, so at
    balance (truth 0) every estimate lies above the truth, and a percentile interval of
    resampled distances (which add the bias again) excludes it. The squared distance of the
    estimate is corrected by taking off ``tr Cov``, the trace of the draws' covariance; the
    draws' squared distances are shifted to average the corrected one, and each is square-rooted
    at 0 or above. Their percentile interval then reaches 0 near balance (more than 95 % of the
    time there: the draws spread wider than the estimate does) and is the usual one away from
    it (95 %; simulated in ``tests/audit/test_audit_compare.py``).

    This holds where the draws scatter around the estimate as a sample's shares do, unbiased
    and narrow beside the simplex. Shares corrected for an annotator that confuses two classes
    need not: each resample may put nearly all the mass on one of them, draws nearly one-hot
    that differ in which class, not in imbalance, whose covariance is no sampling noise of the
    distance; :func:`_imbalance` reads those plainly (:func:`effective_count`).
    """
    estimate = np.asarray(estimate, float) / np.sum(estimate)
    draws = np.asarray(draws, float)
    draws = draws / draws.sum(axis=1, keepdims=True)
    squared = _square_from_balance(draws)
    corrected = float(_square_from_balance(estimate, _spread(draws)))
    resampled_squares = squared - squared.mean() + corrected
    most = 1 - 1 / estimate.size            # every image in one class: the largest distance
    return (float(np.sqrt(min(max(corrected, 0.0), most))),
            np.sqrt(np.clip(resampled_squares, 0, most)))


def effective_count(draws: np.ndarray) -> float:
    """The size of a multinomial sample whose shares would spread as the ``(B, K)`` draws of
    shares (or counts, normalised) do: ``(1 - |m|^2) / tr Cov`` with ``m`` their mean share
    (a sample's resampled shares: about its size; draws that jump between near one-hot
    vectors: about 1); inf where they do not spread."""
    draws = np.asarray(draws, float)
    draws = draws / draws.sum(axis=1, keepdims=True)
    spread, mean = _spread(draws), draws.mean(axis=0)
    return float((1 - mean @ mean) / spread) if spread > 0 else float("inf")


def swinging_classes(draws: np.ndarray, share: float = 0.9) -> np.ndarray:
    """Indices of the classes whose shares carry ``share`` of the spread of ``(B, K)`` draws
    of shares (each class's variance, largest first; at least two where any spread)."""
    variance = np.asarray(draws, float).var(axis=0, ddof=1)
    order = np.argsort(-variance, kind="stable")
    needed = int(np.searchsorted(np.cumsum(variance[order]), share * variance.sum())) + 1
    return order[:max(needed, 2 if variance.sum() > 0 else 0)]


def _imbalance(training: np.ndarray, generated: np.ndarray,
               resampled: Sequence[tuple[np.ndarray, np.ndarray]],
               classes: Sequence[str] | None = None) -> Imbalance:
    """An :class:`Imbalance` of ``(K,)`` training and generated counts (or proportions), its
    bias correction and intervals from ``resampled`` pairs of them (plug-in distances and NaN
    intervals with fewer than two). With the ``classes`` named (the generated side corrected
    for an annotator's confusion), generated draws that spread as a sample of under
    :data:`MIN_STEADY` images would are read plainly: the plug-in distance and the percentile
    interval of the draws' own (:func:`balance_distances` says why)."""
    if len(resampled) < 2:
        t, g = fairness_discrepancy(training), fairness_discrepancy(generated)
        return Imbalance(t, g, np.nan, np.nan, g - t, np.nan, np.nan)
    t, t_draws = balance_distances(training, [tb for tb, _ in resampled])
    shares = np.array([gb / np.sum(gb) for _, gb in resampled])
    steady = effective_count(shares)
    unsteady = classes is not None and steady < MIN_STEADY
    if unsteady:
        g, g_draws = fairness_discrepancy(generated), np.sqrt(_square_from_balance(shares))
    else:
        g, g_draws = balance_distances(generated, shares)
    g_low, g_high = _holding(g, np.percentile(g_draws, [2.5, 97.5]))
    low, high = _holding(g - t, np.percentile(g_draws - t_draws, [2.5, 97.5]))
    out = Imbalance(t, g, g_low, g_high, g - t, low, high)
    if unsteady and classes is not None:
        out.unsteady_classes = [classes[i] for i in sorted(swinging_classes(shares))]  # class order
        out.unsteady_n = steady
    return out


@dataclass
class Faithful:
    """The total variation a faithful generator scores in this comparison: one whose images
    follow the training distribution exactly, as many of them, read by the same annotator
    (its confusion as measured) and corrected the same way, against a training sample of the
    same size. A TV near these numbers is what sampling and the annotator's errors give alone.

    Attributes:
        tv, tv_high: mean and 95th percentile of the raw TV over simulated comparisons.
        corrected_tv, corrected_tv_high: the same of the corrected TV (None without a
            correction).
        amplification, corrected_amplification: ``{"mean", "low", "high"}``, the mean and
            95 % range of the raw (corrected) amplification of imbalance (:class:`Imbalance`,
            each distance corrected for its sampling bias over the simulated comparisons)
            such a generator shows; None with fewer than two classes (or no correction).
    """

    tv: float
    tv_high: float
    corrected_tv: float | None = None
    corrected_tv_high: float | None = None
    amplification: dict[str, float] | None = None
    corrected_amplification: dict[str, float] | None = None

    def to_dict(self) -> dict[str, float | None]:
        return dataclasses.asdict(self)


def _faithful(training: np.ndarray, trainings: Sequence[np.ndarray], ng: int,
              confusion: np.ndarray | None, counts: Counts | None, corrected: bool,
              seed: int) -> Faithful:
    """A :class:`Faithful` of ``(K,)`` training shares ``training`` from resamples of the
    training counts ``trainings`` (persons whole where they repeat): per resample, ``ng``
    images of the training shares read through ``confusion``."""
    rng = np.random.default_rng([seed, 3])
    c = np.eye(len(training)) if confusion is None else filled_confusion(confusion)
    annotated = np.clip(c.T @ training, 0, None)
    counts_drawn = np.array(trainings, np.float64)                                # (B, K)
    totals = counts_drawn.sum(axis=1)
    shares = counts_drawn / np.maximum(totals, 1)[:, None]
    drawn = {"raw": rng.multinomial(ng, annotated / annotated.sum(), size=len(shares)) / ng}
    if corrected:
        drawn["corrected"] = corrected_draws(drawn["raw"], c, counts, rng)[1]
    tvs = {kind: 0.5 * np.abs(shares - gb).sum(axis=1) for kind, gb in drawn.items()}
    classed = totals > 0

    def amplification(kind: str) -> dict[str, float] | None:
        """Mean and 95 % range of the amplification, each side's distance corrected by the
        spread of its shares over the simulated comparisons (the corrected generated side
        read plainly where it swings, as :func:`_imbalance` reads it)."""
        if len(training) < 2 or classed.sum() < 2:
            return None
        pts, gbs = shares[classed], drawn[kind][classed]
        plain = kind == "corrected" and effective_count(gbs) < MIN_STEADY   # as _imbalance
        values = (np.sqrt(np.clip(_square_from_balance(gbs, 0.0 if plain else _spread(gbs)), 0,
                                  None))
                  - np.sqrt(np.clip(_square_from_balance(pts, _spread(pts)), 0, None)))
        low, high = np.percentile(values, [2.5, 97.5])
        return {"mean": float(np.mean(values)), "low": float(low), "high": float(high)}

    out = Faithful(float(np.mean(tvs["raw"])), float(np.percentile(tvs["raw"], 95)),
                   amplification=amplification("raw"),
                   corrected_amplification=amplification("corrected") if corrected else None)
    if corrected:
        out.corrected_tv = float(np.mean(tvs["corrected"]))
        out.corrected_tv_high = float(np.percentile(tvs["corrected"], 95))
    return out


@dataclass
class Comparison:
    """Training vs generated class distribution of one attribute (``K`` classes).

    Attributes:
        attribute: attribute name.
        classes: ``K`` class names.
        training_counts, generated_counts: ``(K,)`` int.
        training, generated: ``(K,)`` proportions.
        training_ci, generated_ci: ``(K, 2)`` 95% Wilson intervals (each side's at its
            effective number of rows when its persons repeat: see ``training_spread`` and
            ``generated_spread``).
        chi2, chi2_p, chi2_dof: chi-square test that the generated images follow the training
            distribution (:func:`chi_square`), both sides sampled; ``chi2_p`` the chi-square
            curve's p-value.
        chi2_p_simulated, chi2_simulation: where many classes expect few generated images or
            the confusion rests on few held-out images (:func:`rough_curve`), the test's
            p-value simulated under its null and how it was
            drawn (:func:`~latentplay.audit.goodness_of_fit.simulated_p`); None otherwise.
            :attr:`p_value` is the one to read.
        fewest_held_out: with the confusion's counts, the fewest held-out images (effective,
            where persons repeat) of a row the test reads
            (:func:`~latentplay.audit.goodness_of_fit.fewest_held_out`); under
            :data:`~latentplay.audit.goodness_of_fit.FEW_HELD_OUT` the p-value is simulated.
        through_annotator: the test compared the generated shares with what the annotator
            reads on the training distribution (its confusion known).
        training_spread: the training shares' covariance over persons, when the training set
            holds several photos of a person (the test counts the persons); None otherwise.
        generated_spread: the same of the audited images, when they show persons in several
            photos: every test, interval and resample of the audited side then takes its
            counts at their effective size (:attr:`generated_effective`); None otherwise.
        faithful: the TVs a generator that follows the training distribution would score here
            (:class:`Faithful`); None when either side is empty.
        tv, js: total variation distance and Jensen-Shannon divergence (bits), raw.
        corrected: ``(K,)`` generated proportions corrected for the annotator's confusion, or
            None when no confusion matrix was given or it is (nearly) singular
            (``confusion_condition`` above :data:`MAX_CONDITION`).
        corrected_ci: ``(K, 2)`` percentile intervals of ``corrected`` over multinomial
            resamples of the generated counts and, when its counts were given, of each row of
            the confusion matrix.
        corrected_tv, corrected_js: distances of ``corrected`` from the training proportions.
        confusion_condition: condition number of the confusion matrix; the correction
            amplifies errors in the confusion estimate by up to this factor, so it is only
            trustworthy when it is small (an annotator that tells the classes apart).
        shift, corrected_shift: for ordered classes, where the generated (corrected) classes
            sit along the order relative to the training ones; None otherwise.
        imbalance, corrected_imbalance: distances of the training and generated (corrected)
            distributions from balance, and the amplification (:class:`Imbalance`); None with
            fewer than two classes.
        without_class: training rows and generated images with no class (unlabelled,
            ``unknown``, or read as none), left out of every share, test and distance.
        ratios: each class's audited (corrected, where they are) share over its training
            share, with 95 % intervals that hold for all classes together
            (:class:`~latentplay.audit.share_ratio.ShareRatios`); None where either side is
            empty or there is one class.
        expected: ``(K,)`` generated counts the test expects under its null (``n_g C^T p_t``;
            labels on both sides: the smaller side's share of the pooled counts); where many
            are small the p-value is simulated (``chi2_p_simulated``).
    """

    __repr__ = short_repr

    attribute: str
    classes: list[str]
    training_counts: np.ndarray
    generated_counts: np.ndarray
    training: np.ndarray
    generated: np.ndarray
    training_ci: np.ndarray
    generated_ci: np.ndarray
    chi2: float
    chi2_p: float
    chi2_dof: int
    tv: float
    js: float
    corrected: np.ndarray | None = None
    corrected_ci: np.ndarray | None = None
    corrected_tv: float | None = None
    corrected_js: float | None = None
    confusion_condition: float | None = None
    shift: Shift | None = None
    corrected_shift: Shift | None = None
    imbalance: Imbalance | None = None
    corrected_imbalance: Imbalance | None = None
    through_annotator: bool = False
    training_spread: ShareSpread | None = None
    generated_spread: ShareSpread | None = None
    faithful: Faithful | None = None
    without_class: tuple[int, int] = (0, 0)
    expected: np.ndarray | None = None
    chi2_p_simulated: float | None = None
    chi2_simulation: str | None = None
    fewest_held_out: float | None = None
    ratios: ShareRatios | None = None

    @property
    def generated_effective(self) -> np.ndarray:
        """``(K,)`` the audited counts at their effective size: over the mean design effect
        of their persons (at least 1; Rao & Scott's first-order correction) where they repeat
        persons, else as counted. The shares are the same."""
        return effective_counts(self.generated_counts, self.generated_spread)

    @property
    def generated_design_effect(self) -> float | None:
        """How many times fewer the audited images count for than their number where they
        repeat persons (:func:`applied_effect`); None where they do not."""
        if self.generated_spread is None:
            return None
        return applied_effect(self.generated_spread, float(self.generated_counts.sum()))

    @property
    def p_value(self) -> float:
        """The test's p-value to read: the simulated one where it was simulated, else the
        chi-square curve's."""
        return self.chi2_p if self.chi2_p_simulated is None else self.chi2_p_simulated

    @property
    def simulated_because(self) -> str | None:
        """Why the p-value was simulated, in a few words for a figure's title (``few images
        expected in some classes``, ``confusion measured on few images``, or both); None
        where it was not."""
        if self.chi2_p_simulated is None:
            return None
        return ", ".join(SHORT_REASONS[why] for why in rough_curve(self._reliability()))

    def _reliability(self) -> dict[str, float]:
        """The ``chi2`` fields :func:`rough_curve` reads: ``sparse``, ``min_expected``
        (:func:`_sparseness`) and ``fewest_held_out``, those it has."""
        return {**_sparseness(self.expected),
                **({} if self.fewest_held_out is None else
                   {"fewest_held_out": self.fewest_held_out})}

    @property
    def pinned(self) -> list[str]:
        """Classes whose corrected share is 0 with an interval of [0, 0]: at least 97.5 % of
        the resamples' unconstrained solutions were below 0, so the annotated counts do not fit
        the annotator's confusion there (images unlike those it was measured on); their
        corrected share is unknown, not shown to be nil."""
        if self.corrected is None or self.corrected_ci is None:
            return []
        return [c for c, e, high in zip(self.classes, self.corrected, self.corrected_ci[:, 1],
                                        strict=True) if e == 0 and high == 0]

    def rows(self) -> list[dict[str, Any]]:
        """One dict per class (the CSV rows)."""
        out = []
        for k, name in enumerate(self.classes):
            row = {"class": name,
                   "training_count": int(self.training_counts[k]),
                   "training": self.training[k], "training_low": self.training_ci[k, 0],
                   "training_high": self.training_ci[k, 1],
                   "generated_count": int(self.generated_counts[k]),
                   "generated": self.generated[k], "generated_low": self.generated_ci[k, 0],
                   "generated_high": self.generated_ci[k, 1]}
            if self.corrected is not None and self.corrected_ci is not None:
                row.update(corrected=self.corrected[k], corrected_low=self.corrected_ci[k, 0],
                           corrected_high=self.corrected_ci[k, 1])
            if self.ratios is not None:
                row.update(ratio=self.ratios.ratio[k], ratio_low=self.ratios.interval[k, 0],
                           ratio_high=self.ratios.interval[k, 1])
            out.append(row)
        return out

    def to_dict(self, audited: str = "generated") -> dict[str, Any]:
        """Plain JSON-ready summary; ``audited`` names the audited images in ``chi2.compares``
        (``generated``, or the ``--images`` folder: :func:`audited_images`)."""
        return {
            "attribute": self.attribute, "classes": self.classes,
            "n_training": int(self.training_counts.sum()),
            "n_generated": int(self.generated_counts.sum()),
            "without_class": {"training": self.without_class[0],
                              "generated": self.without_class[1]},
            "chi2": {"statistic": self.chi2, "p_value": self.chi2_p, "dof": self.chi2_dof,
                     **self._reliability(),
                     **({} if self.chi2_p_simulated is None else
                        {"p_value_simulated": self.chi2_p_simulated,
                         "simulation": self.chi2_simulation, "draws": DRAWS}),
                     "compares": chi_square_compares(self.through_annotator, audited),
                     "through_annotator": self.through_annotator,
                     "training_persons": (self.training_spread.clusters
                                          if self.training_spread else None),
                     "design_effect": (self.training_spread.design_effect
                                       if self.training_spread else None),
                     **({} if self.generated_spread is None else
                        {"generated_persons": self.generated_spread.clusters,
                         "generated_design_effect": self.generated_design_effect})},
            "tv": self.tv, "js": self.js,
            "corrected_tv": self.corrected_tv, "corrected_js": self.corrected_js,
            "corrected_pinned": self.pinned,
            "ratios": self.ratios.to_dict(self.classes) if self.ratios else None,
            "faithful": self.faithful.to_dict() if self.faithful else None,
            "confusion_condition": self.confusion_condition,
            "shift": self.shift.to_dict() if self.shift else None,
            "corrected_shift": self.corrected_shift.to_dict() if self.corrected_shift else None,
            "imbalance": self.imbalance.to_dict() if self.imbalance else None,
            "corrected_imbalance": (self.corrected_imbalance.to_dict()
                                    if self.corrected_imbalance else None),
            "per_class": [{k: (finite_or_none(v) if k.startswith("ratio")  # inf: unbounded
                               else float(v) if isinstance(v, np.floating) else v)
                           for k, v in row.items()} for row in self.rows()],
        }


def _whole_counts(counts: np.ndarray, name: str) -> np.ndarray:
    """``counts`` as int64; a :class:`UserError` naming the argument ``name`` unless every one
    is a whole number of 0 or more (shares would be truncated to counts of 0)."""
    given = np.asarray(counts)
    values = given.astype(np.float64)
    if not (np.isfinite(values) & (values >= 0)).all():
        raise UserError(f"{name} must be counts of 0 or more, got {given.tolist()}")
    if (values != np.round(values)).any():
        raise UserError(f"{name} must be counts of 0 or more, got {given.tolist()}: not whole "
                        "numbers (shares? give the counts they were taken from)")
    return values.astype(np.int64)


def compare(
    training_counts: np.ndarray,
    generated_counts: np.ndarray,
    classes: Sequence[str],
    *,
    attribute: str = "",
    confusion: np.ndarray | None = None,
    confusion_counts: Counts | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    ordered: bool = False,
    training_persons: tuple[np.ndarray, np.ndarray] | None = None,
    generated_persons: tuple[np.ndarray, np.ndarray] | None = None,
    without_class: tuple[int, int] = (0, 0),
) -> Comparison:
    """Compare ``(K,)`` generated (annotated) class counts with ``(K,)`` training counts.

    Args:
        training_counts: labels of the training set, counted per class (whole numbers of 0
            or more; shares are refused).
        generated_counts: annotated classes of the generated images, counted per class (as
            ``training_counts``).
        classes: the ``K`` class names.
        attribute: attribute name (for the record).
        confusion: ``(K, K)`` confusion of the annotator (rows true, columns predicted, rows
            summing to 1); when given, the corrected proportions are estimated too.
        confusion_counts: ``(K, K)`` counts ``confusion`` was measured from (or, for two
            annotators read together, :class:`JointCounts`); when given, the test and the
            intervals of the corrected proportions include its sampling error. Where the
            held-out images repeat persons, each row scaled to its effective size
            (:attr:`~latentplay.audit.annotate.Evaluation.measured_counts`).
        n_boot: resamples for the intervals of the corrected proportions, the shifts and the
            imbalances (training counts redrawn, generated shares drawn from their Jeffreys
            posterior).
        seed: seeds the resamples.
        ordered: the classes follow an order: measure the :class:`Shift` too.
        training_persons: ``(N,)`` class codes of the training rows (indices into
            ``classes``, -1 for none) and their ``(N,)`` persons, when persons come in several
            rows: the test and the intervals then count the training sample's persons (the
            shifts and imbalances resample persons, not rows).
        generated_persons: the same for the audited images (their ``(M,)`` annotated class
            codes and persons), when they show persons in several photos: the test, the
            intervals and the resamples of the audited side then take its counts at their
            effective size (over the mean design effect of their shares over the persons, at
            least 1), each class's Wilson interval at its own design effect, so that a
            person's photos read alike count as fewer images than their number.
        without_class: how many training rows and generated images have no class (for the
            record: they are in neither count). A class named ``unknown`` is refused: rows
            without a class are counted here, not compared as a class.
    """
    t = _whole_counts(training_counts, "training_counts")
    g = _whole_counts(generated_counts, "generated_counts")
    if t.shape != g.shape or t.shape != (len(classes),):
        raise ValueError(f"counts {t.shape} / {g.shape} do not match {len(classes)} classes")
    if UNKNOWN in classes:
        raise ValueError(f"class {UNKNOWN!r}: rows without a class are counted in without_class")
    nt, ng = int(t.sum()), int(g.sum())
    pt = t / max(nt, 1)
    pg = g / max(ng, 1)
    if confusion is not None:
        confusion = np.asarray(confusion, dtype=float)
        if confusion.shape != (len(classes), len(classes)):
            raise ValueError(f"confusion must be ({len(classes)}, {len(classes)}), "
                             f"got {confusion.shape}")
    spread, person_counts, classed = None, np.zeros((0, len(t))), None
    if training_persons is not None:
        codes, persons = (np.asarray(a) for a in training_persons)
        if not np.array_equal(np.bincount(codes[codes >= 0], minlength=len(t)), t):
            raise ValueError("training_persons' class codes do not count up to training_counts")
        person_counts = cluster_sums(persons, [codes == k for k in range(len(t))])  # (P, K)
        classed = person_counts[person_counts.sum(axis=1) > 0]      # the persons with a class
        spread = cluster_spread(classed)
    audited_spread = None
    if generated_persons is not None:
        read, shown = (np.asarray(a) for a in generated_persons)
        if not np.array_equal(np.bincount(read[read >= 0], minlength=len(g)), g):
            raise ValueError("generated_persons' class codes do not count up to generated_counts")
        audited_spread = share_spread(read, len(g), shown)
    ge = effective_counts(g, audited_spread)     # g, or g at its effective size over persons
    chi2, chi2_p, dof = chi_square(t, ge, confusion=confusion, confusion_counts=confusion_counts,
                                   training_spread=spread)
    result = Comparison(attribute, list(classes), t, g, pt, pg, _share_interval(t, spread),
                        _share_interval(g, audited_spread), chi2, chi2_p, dof,
                        _total_variation(pt, pg), js_divergence(pt, pg),
                        through_annotator=confusion is not None, training_spread=spread,
                        generated_spread=audited_spread,
                        without_class=(int(without_class[0]), int(without_class[1])),
                        expected=_expected(t, ge, confusion))
    if confusion is not None and confusion_counts is not None:
        result.fewest_held_out = fewest_held_out(confusion_counts, t)
    if rough_curve(result._reliability()) and np.isfinite(chi2) and dof:
        result.chi2_p_simulated, result.chi2_simulation = simulated_p(
            t, ge, chi2, confusion=confusion, confusion_counts=confusion_counts,
            training_clusters=None if spread is None else classed, seed=seed)
    rng = np.random.default_rng([seed, 1])
    if spread is None:       # the training counts drawn again, for the intervals
        redrawn = list(rng.multinomial(nt, pt, size=n_boot if nt else 0))
    else:                    # whole persons drawn
        redrawn = list(resampled(person_counts, n_boot, seed).round().astype(np.int64))
    comparable = bool(nt and ng and len(classes) > 1)
    if comparable:
        if ordered:
            result.shift = _shift(t, ge, [(tb, jeffreys_draw(ge, rng)) for tb in redrawn])
        again = np.random.default_rng([seed, 2])
        result.imbalance = _imbalance(t, ge, [(tb, jeffreys_draw(ge, again)) for tb in redrawn])
    if confusion is not None:
        result.confusion_condition = float(np.linalg.cond(filled_confusion(confusion)))
        if result.confusion_condition <= MAX_CONDITION:
            boots = _correct(result, confusion, confusion_counts, n_boot, seed)
            pairs = list(zip(redrawn, boots, strict=False))
            if comparable and result.corrected is not None:
                result.corrected_imbalance = _imbalance(t, result.corrected, pairs, classes)
            if result.shift is not None and result.corrected is not None:
                result.corrected_shift = _shift(t, result.corrected, pairs)
    if comparable:
        result.ratios = share_ratios(result, classed, confusion, confusion_counts, seed)
    if redrawn and ng:
        result.faithful = _faithful(pt, redrawn, max(round(float(ge.sum())), 1), confusion,
                                    confusion_counts,
                                    result.corrected is not None, seed)
    return result


def _expected(t: np.ndarray, g: np.ndarray, confusion: np.ndarray | None) -> np.ndarray:
    """``(K,)`` counts :func:`chi_square`'s null expects of the ``(K,)`` generated counts ``g``
    given the ``(K,)`` training counts ``t``: ``n_g C^T p_t`` through an annotator; labels on
    both sides, the smaller side's expected counts of Pearson's ``2 x K`` table (its smallest
    cells)."""
    nt, ng = t.sum(), g.sum()
    if not nt or not ng:
        return np.zeros(len(t))
    if confusion is None:
        return min(nt, ng) * (t + g) / (nt + ng)
    return ng * (filled_confusion(confusion).T @ (t / nt))


def _sparseness(expected: np.ndarray | None) -> dict[str, float]:
    """``sparse`` (share of the classes with any expected count that expect under 5) and
    ``min_expected`` of a :class:`Comparison`'s ``expected`` counts; empty without any."""
    if expected is None or not (expected > 0).any():
        return {}
    kept = expected[expected > 0]
    return {"sparse": float((kept < 5).mean()), "min_expected": float(kept.min())}


SHORT_REASONS = {"sparse": "few images expected in some classes",
                 "held_out": "confusion measured on few images"}
"""What a figure's title says of each of :func:`rough_curve`'s reasons."""


def rough_curve(test: Mapping[str, Any]) -> list[str]:
    """Why the chi-square curve is only a rough guide to a test with these ``chi2`` fields
    (:meth:`Comparison.to_dict`), so that its p-value is simulated: ``sparse`` where many
    classes expect few images (``sparse`` and ``min_expected`` by the rule
    :mod:`latentplay.contingency` simulates by, more than
    :data:`~latentplay.contingency.SPARSE` of the classes expecting under 5 images or one
    under 1), ``held_out`` where a row of the annotator's confusion rests on fewer than
    :data:`~latentplay.audit.goodness_of_fit.FEW_HELD_OUT` held-out images
    (``fewest_held_out``); empty where neither holds."""
    reasons = []
    if "sparse" in test and cochran_sparse(test):
        reasons.append("sparse")
    if test.get("fewest_held_out") is not None and test["fewest_held_out"] < FEW_HELD_OUT:
        reasons.append("held_out")
    return reasons


def simulated_text(test: dict[str, Any], audited: str = "generated") -> str | None:
    """What a summary's ``chi2`` (:meth:`Comparison.to_dict`) says where the chi-square curve
    is a rough guide (:func:`rough_curve`): that its p-value was simulated, why, and how; for
    a summary written before p-values were simulated, that the curve's p-value can be too
    small. None otherwise."""
    reasons = rough_curve(test)
    if not reasons:
        return None
    why = " and ".join(
        f"{test['sparse']:.0%} of the classes expect under 5 {audited_images(audited)} (the "
        f"fewest {test['min_expected']:.2g})" if reason == "sparse" else
        f"a row of the annotator's confusion rests on "
        f"{counted(round(test['fewest_held_out']), 'held-out image')} (under {FEW_HELD_OUT})"
        for reason in reasons)
    if "p_value_simulated" in test:
        floor = (f" (none scored as high: 1 / {test['draws'] + 1:,}, the smallest p they can give)"
                 if test["p_value_simulated"] * (test["draws"] + 1) < 1.5 else "")
        return (f"{why}: p simulated from {test['draws']:,} comparisons drawn with "
                f"{test['simulation']}{floor}, where the chi-square curve's (p "
                f"{p_text(test['p_value'], 3)}) can be too small")
    return (f"{why}: the chi-square curve's p-value is approximate there and can be too small "
            "(a generator that follows the reference rejected more often than the level)")


def effective_counts(counts: np.ndarray, spread: ShareSpread | None) -> np.ndarray:
    """``(K,)`` float ``counts`` over the design effect of their persons
    (:func:`applied_effect`), or as they are without a :class:`ShareSpread` of them: the
    independent images they are worth. The shares are the same."""
    counts = np.asarray(counts, np.float64)
    return counts if spread is None else counts / applied_effect(spread, counts.sum())


def applied_effect(spread: ShareSpread, n: float) -> float:
    """The design effect ``n`` rows' counts are divided by: the mean one of their shares over
    their persons (Rao & Scott's first-order correction), at least 1; where the shares do not
    vary over the persons at all (every row of one class) none can be measured, and each
    person counts as one row (``n`` over the persons)."""
    if not np.isfinite(spread.design_effect) or not spread.covariance.any():
        return max(n / spread.clusters, 1.0)
    return max(spread.design_effect, 1.0)


def _share_interval(counts: np.ndarray, spread: ShareSpread | None) -> np.ndarray:
    """``(K, 2)`` Wilson intervals of the shares of ``(K,)`` ``counts``; with a
    :class:`ShareSpread` of their persons, each at the rows over its class's design effect
    (a class of share 0 or 1, whose own is 0 / 0, at the mean one: :func:`applied_effect`;
    at least 1), adjusted for the persons' degrees of freedom
    (:func:`~latentplay.intervals.degrees_adjusted_rows`)."""
    n = int(counts.sum())
    if spread is None or n == 0:
        return wilson_interval(counts, n)
    share = counts / n
    binomial = share * (1 - share) / n
    effect = np.where(binomial > 0, np.diag(spread.covariance) / np.where(binomial > 0, binomial, 1),
                      applied_effect(spread, n))
    return np.array([effective_wilson(float(p), degrees_adjusted_rows(n / max(float(e), 1.0), n,
                                                                      spread.clusters))
                     for p, e in zip(share, effect, strict=True)])


def _correct(result: Comparison, confusion: np.ndarray, counts: Counts | None,
             n_boot: int, seed: int) -> list[np.ndarray]:
    """Fill the ``corrected*`` fields of ``result`` (see :func:`compare`); returns the
    resampled ``(K,)`` corrected proportions."""
    ng = int(result.generated_counts.sum())
    pg = result.generated
    rng = np.random.default_rng(seed)
    drawn = jeffreys_draw(result.generated_effective, rng, size=n_boot if ng else 0)
    free, kept = corrected_draws(drawn, confusion, counts, rng)
    boots = list(kept)
    result.corrected = correct_confusion(pg, confusion)
    # Each class's interval comes from the unconstrained solutions, cut to [0, 1]: the
    # non-negative ones pin a class near 0 at exactly 0 in every draw, an interval of [0, 0]
    # that claims a share known to be nil (the point estimate stays the non-negative one).
    result.corrected_ci = (np.array([_holding(e, ci) for e, ci in zip(
        result.corrected, np.clip(np.percentile(free, [2.5, 97.5], axis=0).T, 0, 1),
        strict=True)]) if boots else np.full((len(pg), 2), np.nan))
    result.corrected_tv = _total_variation(result.training, result.corrected)
    result.corrected_js = js_divergence(result.training, result.corrected)
    return boots


def audited_images(audited: str = "generated") -> str:
    """The audited images in a sentence: ``generated images``, or ``images of DIR`` for the
    ``--images`` folder ``audited`` (a folder named ``images`` is no "images images")."""
    return "generated images" if audited == "generated" else f"images of {audited}"


def chi_square_compares(through_annotator: bool, audited: str = "generated") -> str:
    """What the chi-square test compares (``chi2.compares`` in the summary): the ``audited``
    (generated, or the ``--images`` folder's: :func:`audited_images`) images' annotated class
    counts against what the annotator reads on the reference labels' shares (``C^T p``), or,
    with labels on both sides, against the reference labels' counts."""
    counts = "annotated class counts" if through_annotator else "class counts"
    counts = (f"the generated images' {counts}" if audited == "generated"
              else f"the {counts} of the {audited_images(audited)}")
    if through_annotator:
        return (f"{counts} against what the annotator reads on the {REFERENCE} labels' shares "
                "(C^T p)")
    return f"{counts} against the {REFERENCE} labels' counts (homogeneity of the 2 x K table)"


def chi_square_basis(summary: dict[str, Any], audited: str = "generated") -> str | None:
    """What the chi-square test of a :meth:`Comparison.to_dict` summary compared, when more
    than all rows' labels with labels: ``"the generated images' annotated class counts against
    what the annotator reads on the reference labels' shares (C^T p), over 200 reference persons
    (design effect 6.03), leaving out 40 reference rows and 0 generated images without a
    class"``; None otherwise. For two annotators read together
    it says that their errors were taken as independent, and for audited images of persons
    that repeat, over how many persons and at what design effect (or, in an audit written
    before they were counted, that the images were taken as independent); ``audited`` names
    the images (``generated`` or the ``--images`` folder). None too when no test was made (0 degrees of
    freedom: e.g. an annotator that reads both sides as one class)."""
    test = summary.get("chi2") or {}
    if test.get("dof") == 0:
        return None
    parts = []
    if test.get("through_annotator"):
        parts.append(chi_square_compares(True, audited))
    measured = (summary.get("annotator") or {}).get("evaluation") or {}
    if test.get("through_annotator") and measured.get("effective"):
        parts.append(f"the annotator's confusion measured on {measured['n']} images of "
                     f"{measured['persons']} persons, each row counted at its effective size "
                     f"({sum(measured['effective']):.0f} images in all: a person's photos tend "
                     "to be misread alike)")
    if (summary.get("annotator") or {}).get("independent_errors"):
        parts.append("the two annotators' errors taken as independent given the true classes")
    if test.get("through_annotator") and (counted := (summary.get("annotator") or {}).get(
            "persons_counted")):
        whose = ("annotator's confusion" if len(counted) == 1 else "annotators' confusions")
        parts.append(f"the {' and '.join(counted)} {whose} counted over the persons measured "
                     "on, each row at its effective size (a person's photos tend to be misread "
                     "alike)")
    if test.get("training_persons"):
        parts.append(f"over {test['training_persons']} {REFERENCE} persons (design effect "
                     f"{test['design_effect']:.2f})")
    if test.get("generated_design_effect") is not None:
        parts.append(f"over the {test['generated_persons']} persons of the "
                     f"{audited_images(audited)} (design effect {test['generated_design_effect']:.2f}: "
                     "the images counted as that many times fewer)")
    elif summary.get("generated_persons"):   # an audit written before the persons were counted
        parts.append(f"taking the {audited_images(audited)} as independent although they show "
                     f"{summary['generated_persons']} persons (the p-value and intervals are too "
                     "small where a person's photos agree)")
    if (simulated := simulated_text(test, audited)) is not None:
        parts.append(simulated)
    left_out = summary.get("without_class") or {}
    if any(left_out.values()):
        parts.append(f"leaving out {left_out['training']} {REFERENCE} rows and "
                     f"{left_out['generated']} {audited_images(audited)} without a class")
    return ", ".join(parts) or None


def faithful_text(summary: dict[str, Any]) -> str | None:
    """One line on what a faithful generator scores, from a :meth:`Comparison.to_dict`
    summary (None without it): ``"a generator that follows the reference distribution would
    score TV 0.031 here (95 % below 0.044); corrected 0.036 (below 0.052)"``."""
    f = summary.get("faithful")
    if not f:
        return None
    text = (f"a generator that follows the {REFERENCE} distribution would score TV {f['tv']:.3f} "
            f"here (95 % below {f['tv_high']:.3f})")
    if f.get("corrected_tv") is not None:
        text += f"; corrected {f['corrected_tv']:.3f} (below {f['corrected_tv_high']:.3f})"
    return text


def imbalance_text(summary: dict[str, Any], name: str = REFERENCE, audited: str = "generated"
                   ) -> str | None:
    """One line on the imbalances of a :meth:`Comparison.to_dict` summary (None without
    them), ``name`` labelling the store compared with (:func:`data_name`), ``audited`` the
    images audited (``generated`` or the ``--images`` folder): ``"distance from
    balance (L2, sampling bias taken off): reference 0.21, generated 0.30 [0.28, 0.33]; amplification +0.09
    [+0.06, +0.12] (+: less balanced than the reference set) (a faithful generator +0.004
    [-0.01, +0.02]); ..."``."""
    raw = summary.get("imbalance")
    if not raw:
        return None
    faithful = summary.get("faithful") or {}

    def part(d: dict[str, float], alone: dict[str, float] | None) -> str:
        text = (f"{audited} {d['generated']:.3f} [{d['generated_low']:.3f}, "
                f"{d['generated_high']:.3f}], amplification {d['amplification']:+.3f} "
                f"[{d['low']:+.3f}, {d['high']:+.3f}] (+: less balanced than the {REFERENCE} set)")
        if alone:
            text += (f" (a faithful generator {alone['mean']:+.3f} [{alone['low']:+.3f}, "
                     f"{alone['high']:+.3f}])")
        return text

    text = (f"{BALANCE_LABEL}: {name} {raw['training']:.3f}, "
            f"{part(raw, faithful.get('amplification'))}")
    corrected = summary.get("corrected_imbalance")
    if corrected:
        text += f"; corrected: {part(corrected, faithful.get('corrected_amplification'))}"
        if corrected.get("unsteady_classes"):
            text += f"; caution: {unsteady_text(corrected)}"
    return text


def unsteady_text(imbalance: dict[str, Any]) -> str:
    """What the printout and the report say of a corrected :class:`Imbalance` (as a dict) whose
    generated shares swing between the classes the annotator confuses."""
    return (f"the corrected shares of {', '.join(imbalance['unsteady_classes'])} swing from "
            f"resample to resample as the shares of a sample of {imbalance['unsteady_n']:.1f} "
            "images would (the annotator confuses these classes), so the corrected distance is "
            "the plain one, not corrected for sampling bias, its interval the resampled "
            "distances' own")


def pinned_text(classes: Sequence[str]) -> str:
    """What the printout and the report say of the classes of ``corrected_pinned``."""
    return (f"{', '.join(classes)}: 0 in at least 97.5 % of resamples, as the readings do not fit the "
            "annotator's confusion there (images unlike those it was measured on?): unknown, not "
            "shown to be 0")


def shift_text(summary: dict[str, Any], audited: str = "generated") -> str | None:
    """One line on the shifts of a :meth:`Comparison.to_dict` summary (None without them),
    ``audited`` naming the images audited (``generated`` or the ``--images`` folder):
    ``"generated -0.84 classes along the order (95 % -0.95 to -0.72), towards monk_1; ..."``."""
    shift = summary.get("shift")
    if not shift:
        return None
    order = [c for c in summary["classes"] if c != UNKNOWN]
    towards = ("no clear direction (the interval spans 0)" if shift["low"] <= 0 <= shift["high"]
               else f"towards {order[-1] if shift['mean'] > 0 else order[0]}")
    text = (f"{audited} {shift['mean']:+.2f} classes along the order (95 % {shift['low']:+.2f} "
            f"to {shift['high']:+.2f}), {towards}; Cliff's delta {shift['delta']:+.3f}")
    corrected = summary.get("corrected_shift")
    if corrected:
        text += (f"; corrected {corrected['mean']:+.2f} ({corrected['low']:+.2f} to "
                 f"{corrected['high']:+.2f}), Cliff's delta {corrected['delta']:+.3f}")
    return text
