"""Does an audited sample follow the reference's class distribution: Pearson's chi-square
through an annotator that errs, and its p-value simulated where the chi-square curve is a rough
guide.

:func:`chi_square` compares the audited images' annotated class counts with what the
annotator reads on the reference's shares (``C^T p``), counting the error of both samples, of
the measured confusion and, where the reference repeats persons, their clustering. Its p-value
is the chi-square curve's, a large-sample approximation, and it runs small in two places:
where more than a fifth of the classes expect under 5 images, or one under 1 (Cochran's
rule), as a single image of a rare class can add tens to the statistic; and where a row of the
annotator's confusion was measured on few held-out images (under :data:`FEW_HELD_OUT`, counted
at their effective size where persons repeat: :func:`fewest_held_out`), as the test's variance
is then estimated from a handful of misreads. :func:`simulated_p` simulates the statistic
under the null there: with labels on both sides and no persons, as Pearson's ``2 x K`` table
with both margins fixed (:func:`latentplay.contingency.simulated_p`, exact in the limit);
otherwise by a parametric bootstrap that takes the reference's shares and the annotator's
confusion as measured for the truth and draws every sample the test counts again (reference
labels or whole persons, audited images read through the confusion, held-out counts),
reading each drawn comparison with the same test.

>>> statistic, p, dof = chi_square(t, g, confusion=c, confusion_counts=held)
>>> simulated_p(t, g, statistic, confusion=c, confusion_counts=held)   # (p, how)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import chi2 as chi2_distribution

from latentplay import contingency
from latentplay.clustered import ShareSpread, spread_covariances
from latentplay.errors import UserError
from latentplay.reprs import short_repr
from latentplay.resample import DRAW_CELLS, distinct_rows

DRAWS = 2_000
"""Comparisons drawn for a simulated p-value (the smallest it can be is ``1 / (DRAWS + 1)``)."""

CHUNK = 256
"""Comparisons :func:`simulated_p` draws and tests at once (fewer where the reference's
persons take many distinct class counts, or the classes' ``(K, K)`` covariances of a chunk
would pass :data:`~latentplay.resample.DRAW_CELLS`: 1,000 classes took 2 GB per array)."""

MARGINS_FIXED = "the 2 x K table's margins fixed"
"""How :func:`simulated_p` drew, with labels on both sides and no persons."""

REFERENCE_TRUTH = "the reference shares and the confusion as measured taken for the truth"
"""How :func:`simulated_p` drew otherwise (a parametric bootstrap)."""

REFERENCE_SHARES = "the reference shares taken for the truth"
"""How :func:`simulated_p` drew with labels on both sides where the margins could not be
fixed (persons, or audited counts at their effective size)."""

FEW_HELD_OUT = 50
"""Held-out images under which a confusion row leaves the chi-square curve's p-value too small
(a faithful generator's 2,000 images of 3 classes through an 82 %-accurate annotator: rejected
at 5 % in 6.7-8.3 % of the sets with its confusion measured on 60 images, rows of about 12-30,
and in 5.0 % on 400, rows of 80-200: ``bench/coverage_intervals.py``'s ``annotator_few`` and
``generated_annotated``); :func:`simulated_p` is read there instead."""


def _multinomial(p: np.ndarray) -> np.ndarray:
    """``(..., K, K)`` covariance ``diag(p) - p p^T`` of one draw's class indicators, for
    ``(..., K)`` shares ``p``."""
    return p[..., None, :] * np.eye(p.shape[-1]) - p[..., :, None] * p[..., None, :]


@dataclass
class JointCounts:
    """How the confusion of two annotators read together was measured: each one's ``(K1,
    K1)`` and ``(K2, K2)`` held-out counts (``(D, K1, K1)`` and ``(D, K2, K2)`` for ``D``
    measurements drawn at once). The joint confusion over the ``K1 K2`` intersections (class
    ``(i, j)`` at ``i K2 + j``) is their Kronecker product: the two annotators' errors taken
    as independent given the true classes."""

    __repr__ = short_repr

    first: np.ndarray
    second: np.ndarray

    def confusion(self) -> np.ndarray:
        """``(..., K1 K2, K1 K2)`` joint confusion from the counts (unmeasured rows as
        identity)."""
        c1, c2 = (filled_confusion(confusion_rates(c)) for c in (self.first, self.second))
        k = c1.shape[-1] * c2.shape[-1]
        return np.einsum("...ij,...kl->...ikjl", c1, c2).reshape(c1.shape[:-2] + (k, k))


Counts = np.ndarray | JointCounts
"""How a confusion was measured: ``(K, K)`` held-out counts, or :class:`JointCounts`."""


def confusion_rates(counts: np.ndarray) -> np.ndarray:
    """``(..., K, K)`` confusion ``P(column | row)`` of ``(..., K, K)`` counts (NaN rows where
    a class has none)."""
    counts = np.asarray(counts, float)
    totals = counts.sum(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, counts / np.maximum(totals, 1), np.nan)


def _measuring_error(counts: Counts, c: np.ndarray, p: np.ndarray) -> np.ndarray:
    """``(..., K, K)`` covariance of ``C^T p`` that comes from measuring ``C`` (``c``, with
    unmeasured rows filled) on held-out images: ``sum_i p_i^2 (diag(C_i) - C_i C_i^T) / n_i``
    for one annotator; for two (``JointCounts``, ``p`` over their ``K1 K2`` intersections),
    the delta method's exact form ``sum_i A_i (x) m_i m_i^T + sum_j n_j n_j^T (x) B_j +
    sum_ij p_ij^2 A_i (x) B_j``, with ``A_i``, ``B_j`` each row's covariance, ``m_i = sum_j
    p_ij C2_j`` and ``n_j = sum_i p_ij C1_i``. Leading axes ``...`` hold draws made at once."""
    if not isinstance(counts, JointCounts):
        rows = np.asarray(counts, float).sum(axis=-1)
        return np.einsum("...i,...ixu->...xu", p**2, _row_covariances(c, rows))
    c1, c2 = (filled_confusion(confusion_rates(x)) for x in (counts.first, counts.second))
    a, b = (_row_covariances(ci, np.asarray(x, float).sum(axis=-1))
            for ci, x in ((c1, counts.first), (c2, counts.second)))  # (..., K1, K1, K1), ...
    joint = p.reshape(p.shape[:-1] + (c1.shape[-1], c2.shape[-1]))
    m, n = joint @ c2, np.swapaxes(joint, -1, -2) @ c1                    # (..., K1, K2), ...
    k = p.shape[-1]
    return (np.einsum("...ixu,...iy,...iv->...xyuv", a, m, m, optimize=True)
            + np.einsum("...jx,...ju,...jyv->...xyuv", n, n, b, optimize=True)
            + np.einsum("...ij,...ixu,...jyv->...xyuv", joint**2, a, b, optimize=True)
            ).reshape(p.shape[:-1] + (k, k))


def _row_covariances(c: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``(..., K, K, K)``: for each row ``C_i`` of ``(..., K, K)`` ``c`` measured on
    ``rows[..., i]`` images, the covariance ``(diag(C_i) - C_i C_i^T) / n_i`` of its
    measurement (0 where unmeasured)."""
    w = np.where(rows > 0, 1 / np.maximum(rows, 1), 0.0)[..., None, None]
    return w * _multinomial(c)


def measured_confusion(counts: Counts) -> np.ndarray:
    """The ``(..., K, K)`` confusion of held-out ``counts`` (:func:`confusion_rates`; for
    :class:`JointCounts`, the Kronecker product of the two)."""
    return counts.confusion() if isinstance(counts, JointCounts) else confusion_rates(counts)


def counts_draw(counts: Counts, rng: np.random.Generator, size: int | None = None) -> Counts:
    """Held-out counts as their measurement could have come out: each row drawn again from a
    multinomial of its measured rates and size (each annotator's, for :class:`JointCounts`;
    a class without held-out images stays without); with ``size``, that many measurements
    at once (a leading axis). Counts scaled to a row's effective size
    (:attr:`~latentplay.audit.annotate.Evaluation.measured_counts`) draw that many images,
    rounded, at least 1."""
    if isinstance(counts, JointCounts):
        return JointCounts(_rows_drawn(counts.first, rng, size),
                           _rows_drawn(counts.second, rng, size))
    return _rows_drawn(counts, rng, size)


def _rows_drawn(counts: np.ndarray, rng: np.random.Generator, size: int | None) -> np.ndarray:
    """``(K, K)`` counts (``(size, K, K)`` with ``size``), each row of ``(K, K)`` ``counts``
    drawn again (:func:`counts_draw`)."""
    counts = np.asarray(counts, dtype=np.float64)
    totals = counts.sum(axis=1)
    sizes = np.where(totals > 0, np.maximum(np.round(totals), 1), 0).astype(np.int64)
    return rng.multinomial(sizes, counts / np.where(totals > 0, totals, 1)[:, None],
                           size=None if size is None else (size, len(counts)))


def fewest_held_out(counts: Counts, reference: np.ndarray) -> float | None:
    """The fewest held-out images any measured row of ``counts`` rests on among the classes
    the ``(K,)`` ``reference`` counts hold (for :class:`JointCounts` over their ``K1 K2``
    intersections, each annotator's rows of the classes the reference's margins hold); rows
    scaled to their effective size count at it. None where no such row was measured (an
    unmeasured row is taken as exact, and no simulation changes that)."""
    reference = np.asarray(reference, np.float64)
    if isinstance(counts, JointCounts):
        joint = reference.reshape(len(counts.first), len(counts.second))
        found = [fewest_held_out(counts.first, joint.sum(axis=1)),
                 fewest_held_out(counts.second, joint.sum(axis=0))]
        return min((f for f in found if f is not None), default=None)
    rows = np.asarray(counts, np.float64).sum(axis=1)
    used = rows[(rows > 0) & (reference > 0)]
    return float(used.min()) if len(used) else None


def chi_square(
    training_counts: np.ndarray,
    generated_counts: np.ndarray,
    *,
    confusion: np.ndarray | None = None,
    confusion_counts: Counts | None = None,
    training_spread: ShareSpread | None = None,
) -> tuple[float, float, int]:
    """Chi-square test that the generated images' classes follow the training distribution,
    both sides sampled: ``(K,)`` training label counts ``t`` against ``(K,)`` generated counts
    ``g`` that an annotator read.

    An annotator that errs shifts the annotated shares even of a generator that reproduces the
    training distribution exactly (``q = C^T p``), so the generated shares are compared with
    what the annotator would read on the training distribution, ``C^T p_t``, not with ``p_t``:
    the Wald statistic ``d^T V^+ d`` of ``d = g / n_g - C^T p_t`` on the rank of ``V``, where
    ``V`` sums the generated shares' multinomial covariance under the null (``C^T p_t``), the
    training shares' (through ``C``) and, with ``confusion_counts``, the error of each row of
    ``C`` measured on ``n_i`` held-out images (``sum_i p_i^2 (diag(C_i) - C_i C_i^T) / n_i``;
    for two annotators read together, :func:`_measuring_error`).
    The null is the correction's assumption too: the annotator errs on generated images as on
    the held-out ones.

    Without ``confusion`` (labels on both sides) it is Pearson's test of homogeneity of the
    ``2 x K`` table (the covariances at the pooled shares). ``training_spread`` replaces the
    training shares' covariance by that of rows that come as several photos of a person
    (:func:`~latentplay.clustered.share_spread`).

    Returns:
        statistic, p-value and degrees of freedom; ``(inf, 0)`` when the generated images hold
        a class the null gives no chance, ``(nan, nan)`` when either side is empty.
    """
    k = np.shape(training_counts)
    if len(k) != 1 or np.shape(generated_counts) != k:
        raise UserError(f"training and generated counts must be (K,) arrays of the same classes, got "
                        f"shapes {k} and {np.shape(generated_counts)}")
    if confusion is not None and np.shape(confusion) != (k[0], k[0]):
        raise UserError(f"the confusion must be (K, K) = ({k[0]}, {k[0]}), got shape {np.shape(confusion)}")
    statistic, dof = _wald(training_counts, generated_counts, confusion, confusion_counts,
                           training_spread)
    if np.isnan(statistic):
        return statistic, float("nan"), dof
    return statistic, float(chi2_distribution.sf(statistic, dof)), dof


def _wald(training_counts: np.ndarray, generated_counts: np.ndarray,
          confusion: np.ndarray | None, confusion_counts: Counts | None,
          training_spread: ShareSpread | None) -> tuple[float, int]:
    """:func:`chi_square`'s statistic and degrees of freedom (``(nan, 0)`` where it has
    none)."""
    statistic, dof = _statistics(
        np.asarray(training_counts, float), np.asarray(generated_counts, float),
        None if confusion is None else filled_confusion(confusion),
        confusion_counts, None if training_spread is None else training_spread.covariance)
    return float(statistic), int(dof)


def _statistics(t: np.ndarray, g: np.ndarray, c: np.ndarray | None, counts: Counts | None,
                spread: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """:func:`chi_square`'s statistics and degrees of freedom of ``(..., K)`` training and
    generated counts ``t`` and ``g`` (leading axes: comparisons made at once), read through
    the ``(..., K, K)`` confusion ``c`` (unmeasured rows filled; None: labels on both sides),
    with the error of its measurement on held-out ``counts`` (None: taken as known) and the
    ``(..., K, K)`` covariance of the training shares over persons ``spread`` (None: the
    multinomial's). ``(nan, 0)`` where a side is empty or the test has no degrees of freedom;
    ``(inf, dof)`` where the generated shares lie where the null gives no chance."""
    nt, ng = t.sum(axis=-1, keepdims=True), g.sum(axis=-1, keepdims=True)          # (..., 1)
    empty = (nt[..., 0] == 0) | (ng[..., 0] == 0)
    nt, ng = np.where(nt > 0, nt, 1), np.where(ng > 0, ng, 1)
    pt = t / nt
    if c is None:
        c, null, counts = np.eye(t.shape[-1]), (t + g) / (nt + ng), None
    else:
        null = pt
    ct = np.swapaxes(c, -1, -2)
    covariance = _multinomial((ct @ null[..., None])[..., 0]) / ng[..., None] + ct @ (
        _multinomial(null) / nt[..., None] if spread is None else spread) @ c
    if counts is not None:
        covariance = covariance + _measuring_error(counts, c, pt)
    d = g / ng - (ct @ pt[..., None])[..., 0]
    values, vectors = np.linalg.eigh(covariance)
    kept = values > 1e-10 * np.maximum(values.max(axis=-1, keepdims=True), 1e-300)
    along = np.where(kept, (np.swapaxes(vectors, -1, -2) @ d[..., None])[..., 0], 0.0)
    dof = kept.sum(axis=-1)
    outside = np.abs(d - (vectors @ along[..., None])[..., 0]).max(axis=-1) > 1e-9
    statistic = (along**2 / np.where(kept, values, 1.0)).sum(axis=-1)
    statistic = np.where(outside, np.inf, np.where(dof == 0, np.nan, statistic))
    return np.where(empty, np.nan, statistic), np.where(empty, 0, dof)


def filled_confusion(confusion: np.ndarray) -> np.ndarray:
    """``(..., K, K)`` confusion with NaN rows (classes never measured) set to identity
    rows."""
    c = np.array(confusion, dtype=float)
    bad = np.isnan(c).any(axis=-1)
    c[bad] = np.broadcast_to(np.eye(c.shape[-1]), c.shape)[bad]
    return c


def simulated_p(
    training_counts: np.ndarray,
    generated_counts: np.ndarray,
    statistic: float,
    *,
    confusion: np.ndarray | None = None,
    confusion_counts: Counts | None = None,
    training_clusters: np.ndarray | None = None,
    draws: int = DRAWS,
    seed: int = 0,
) -> tuple[float, str]:
    """The p-value of :func:`chi_square`'s ``statistic`` of ``(K,)`` ``training_counts`` and
    ``generated_counts`` (both non-empty), simulated under its null, and how it was drawn
    (:data:`MARGINS_FIXED`, :data:`REFERENCE_TRUTH` or :data:`REFERENCE_SHARES`):
    ``(1 + #{X*² >= statistic}) / (draws + 1)`` over ``draws`` comparisons made as the observed
    one was (the same ``confusion``, ``confusion_counts`` and persons), a drawn comparison the
    test cannot read (no degrees of freedom) counting as less extreme.

    The parametric bootstrap draws, each time, the reference's counts at its shares ``p_t``
    (with ``training_clusters``, the ``(k, K)`` class counts of each reference person, ``k >=
    2`` persons drawn whole with replacement), the audited images at ``C^T p_t`` (as many as
    ``generated_counts`` sum to, rounded: counts at an effective size count as that many;
    whole counts without a confusion or persons are dealt with both margins fixed), and each
    row of ``confusion_counts`` at its measured rates (its confusion then measured from them);
    ``confusion`` without counts is taken as known in every draw. Persons with the same class
    counts are drawn as one kind, each kind as likely as it is common (the same draw, at a
    cost that grows with the kinds, not the persons)."""
    t = np.asarray(training_counts, np.float64)
    g = np.asarray(generated_counts, np.float64)
    if confusion is None and training_clusters is None and np.array_equal(g, np.round(g)):
        table = np.stack([t, g])
        return (contingency.simulated_p(table[:, table.sum(axis=0) > 0], statistic, draws, seed),
                MARGINS_FIXED)
    rng = np.random.default_rng([seed, 4])
    truth = t / t.sum()
    c = None if confusion is None else filled_confusion(confusion)
    read = np.clip((np.eye(len(t)) if c is None else c).T @ truth, 0, None)
    read /= read.sum()
    step = max(1, min(CHUNK, DRAW_CELLS // len(t) ** 2))
    if training_clusters is not None:   # persons with the same class counts are interchangeable
        rows, times = distinct_rows(np.asarray(training_clusters, np.float64))
        persons = int(times.sum())
        step = max(1, min(step, DRAW_CELLS // (len(rows) * len(t))))
    far = 0
    for start in range(0, draws, step):
        size = min(step, draws - start)
        spread = None
        if training_clusters is None:
            tb = rng.multinomial(int(t.sum()), truth, size=size)
        else:
            taken = rng.multinomial(persons, times / persons, size=size)   # (size, distinct)
            tb, spread = taken @ rows, spread_covariances(rows, taken)
        gb = rng.multinomial(round(g.sum()), read, size=size)   # effective counts: as many
        counts = (None if c is None or confusion_counts is None
                  else counts_draw(confusion_counts, rng, size))
        drawn = _statistics(tb.astype(np.float64), gb.astype(np.float64),
                            c if counts is None else filled_confusion(measured_confusion(counts)),
                            counts, spread)[0]
        far += int(np.count_nonzero(drawn >= statistic * (1 - 1e-9)))
    return (1 + far) / (draws + 1), REFERENCE_TRUTH if confusion is not None else REFERENCE_SHARES
