"""How many times as often the audited images show each class as the data compared with has
it: the ratio of the two shares, with 95 % intervals that hold for all classes together.

Read one class at a time, 95 % intervals of ``K`` ratios leave about ``0.05 K`` of them off
1 for a generator that follows the data (one or two of 35 intersections of two attributes).
Here the intervals are calibrated to hold together
(:func:`~latentplay.intervals.simultaneous_percentiles`), so a ratio whose interval leaves 1
says the generator draws that class more or less often than the data has it, even among many.
Both sides' sampling errors count: the training shares are redrawn (whole persons where
persons repeat), the audited shares drawn from their Jeffreys posterior, and, where the shares
are corrected for the annotator's confusion, the confusion measured again too.

>>> r = share_ratios(result, person_counts=None, confusion=C, confusion_counts=held_out)
>>> r.ratio, r.interval, r.pointwise          # (K,), (K, 2), e.g. 0.996
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from latentplay.audit.correction import corrected_draws, jeffreys_draw
from latentplay.audit.goodness_of_fit import Counts
from latentplay.intervals import simultaneous_percentiles
from latentplay.reprs import short_repr
from latentplay.resample import resampled

if TYPE_CHECKING:
    from latentplay.audit.distribution import Comparison

CONFIDENCE = 0.95
"""The share of resamples the intervals hold together."""

RATIO_DRAWS = 4_000
"""Resamples of both sides: enough that the calibrated quantiles of 35 intersections (each at
about 99.9 %) rest on a few draws beyond them, not on the extremes."""


@dataclass
class ShareRatios:
    """Audited share over training share per class (``K`` classes).

    Attributes:
        ratio: ``(K,)`` the audited (corrected, where they are) share over the training share;
            NaN where the training set has none of the class, or its corrected share is
            unknown (the readings do not fit the annotator's confusion there).
        interval: ``(K, 2)`` bounds that hold for all classes with a ratio together, at
            :data:`CONFIDENCE` (the upper bound may be inf: a class so rare in the training set
            that some of its redraws hold none); NaN where the ratio is.
        pointwise: the confidence each interval has on its own (above :data:`CONFIDENCE` with
            several classes: the price of holding together).
        corrected: the audited shares are corrected for the annotator's confusion.
    """

    __repr__ = short_repr

    ratio: np.ndarray
    interval: np.ndarray
    pointwise: float
    corrected: bool

    @property
    def more(self) -> np.ndarray:
        """``(K,)`` bool: classes drawn more often than the data has them (interval above 1)."""
        return self.interval[:, 0] > 1

    @property
    def less(self) -> np.ndarray:
        """``(K,)`` bool: classes drawn less often (interval below 1)."""
        return self.interval[:, 1] < 1

    def to_dict(self, classes: list[str]) -> dict[str, Any]:
        """JSON-ready: ``of`` (``corrected`` or ``annotated`` shares), ``confidence``,
        ``pointwise``, ``draws``, ``classes`` (how many hold together), ``more`` and ``less``
        (class names)."""
        return {"of": "corrected" if self.corrected else "annotated", "confidence": CONFIDENCE,
                "pointwise": self.pointwise, "draws": RATIO_DRAWS,
                "classes": int(np.isfinite(self.ratio).sum()),
                "more": [c for c, m in zip(classes, self.more, strict=True) if m],
                "less": [c for c, m in zip(classes, self.less, strict=True) if m]}


def share_ratios(result: Comparison, person_counts: np.ndarray | None,
                 confusion: np.ndarray | None, confusion_counts: Counts | None,
                 seed: int = 0) -> ShareRatios:
    """The :class:`ShareRatios` of a comparison with both sides non-empty.

    Args:
        result: the comparison (its counts, shares and, where made, corrected shares).
        person_counts: ``(P, K)`` training rows per person and class (persons with a class),
            where persons repeat: they are redrawn whole; None: rows are.
        confusion: ``(K, K)`` the annotator's confusion the shares were corrected with (None:
            not corrected).
        confusion_counts: the held-out counts it was measured from (None: taken as exact).
        seed: seeds the draws.
    """
    rng = np.random.default_rng([seed, 4])
    if person_counts is None:
        training = rng.multinomial(int(result.training_counts.sum()), result.training,
                                   size=RATIO_DRAWS)
    else:
        training = resampled(person_counts, RATIO_DRAWS, seed + 3, collapse_from=0)
    training = training / training.sum(axis=1, keepdims=True)
    corrected = result.corrected is not None and confusion is not None
    audited = jeffreys_draw(result.generated_effective, rng, size=RATIO_DRAWS)
    if corrected and confusion is not None:  # cut at 0, as the corrected shares' intervals are
        free, _ = corrected_draws(audited, confusion, confusion_counts, rng, non_negative=False)
        audited = np.clip(free, 0, None)
    shown = result.corrected if corrected else result.generated
    # a class whose corrected share is unknown (:attr:`Comparison.pinned`) has no ratio either
    unknown = np.isin(result.classes, result.pinned if corrected else [])   # (K,) bool
    present = (result.training > 0) & ~unknown
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(present, shown / np.where(present, result.training, 1), np.nan)
        draws = np.where(present, audited / training, np.nan)
    draws[np.isnan(draws) & present] = np.inf      # 0 / 0: a rare class drawn out of both
    interval, pointwise = simultaneous_percentiles(draws, CONFIDENCE)
    interval[present, 0] = np.minimum(interval[present, 0], ratio[present])   # holds its ratio
    interval[present, 1] = np.maximum(interval[present, 1], ratio[present])
    return ShareRatios(ratio, interval, pointwise, corrected)


def ratio_interval(row: dict[str, Any]) -> str:
    """A ``per_class`` row's ratio and interval for the printout and report: ``x1.34
    (1.12-1.58)``; ``""`` where it has none (an older summary, or a class the data lacks). An
    upper bound of None is unbounded (inf in the JSON summary's terms)."""
    if row.get("ratio") is None or row.get("ratio_low") is None:
        return ""
    high = row.get("ratio_high")
    return f"x{row['ratio']:.2f} ({row['ratio_low']:.2f}-{'∞' if high is None else f'{high:.2f}'})"


def not_ruled_out(rows: list[dict[str, Any]]) -> str:
    """``, yet ratios as low as x0.50 and as high as x1.70 are not ruled out``: the farthest
    bounds of the ``per_class`` rows' intervals, so that intervals spanning 1 do not read as
    ratios of 1 ("" where no row has an interval)."""
    bounded = [row for row in rows if row.get("ratio_low") is not None]
    if not bounded:
        return ""
    low = min(row["ratio_low"] for row in bounded)
    highs = [row.get("ratio_high") for row in bounded]
    high = "∞" if None in highs else f"{max(highs):.2f}"
    return f", yet ratios as low as x{low:.2f} and as high as x{high} are not ruled out"


def ratio_text(summary: dict[str, Any], reference: str, audited: str = "generated") -> str | None:
    """One line on the ratios of a :meth:`~latentplay.audit.distribution.Comparison.to_dict`
    summary (None without them): the classes the ``audited`` images show more and less often
    than ``reference`` has them, their intervals holding together: ``gen shows more often than
    faces: male x2.00 (1.62-2.61); less often: female x0.00 (0.00-0.05) (ratios of shares, 95 %
    intervals for all 2 classes together, each at 97.5 %)``."""
    r = summary.get("ratios")
    if not r:
        return None
    rows = {row["class"]: row for row in summary["per_class"]}
    basis = (f"ratios of {'corrected ' if r['of'] == 'corrected' else ''}shares, "
             f"{r['confidence']:.0%} intervals for all {r['classes']} classes together, each at "
             f"{r['pointwise']:.1%}").replace("%", " %")
    if not r["more"] and not r["less"]:
        return (f"{audited} shows no class more or less often than {reference} has it: every "
                f"interval spans 1{not_ruled_out(summary['per_class'])} ({basis})")

    def listed(key: str) -> str:
        return ", ".join(f"{c} {ratio_interval(rows[c])}" for c in r[key])

    parts = ([f"more often than {reference}: {listed('more')}"] if r["more"] else []) + (
        [f"less often{'' if r['more'] else f' than {reference}'}: {listed('less')}"]
        if r["less"] else [])
    return f"{audited} shows {'; '.join(parts)} ({basis})"
