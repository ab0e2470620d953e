"""Compare a continuous attribute of generated images with the training set's.

For values measured on both sides (``latentplay data measure``: sharpness, brightness, skin
ITA, pose): the mean, SD and quantiles of each side, the standardized mean difference (SMD,
pooled SD), the two-sample Kolmogorov-Smirnov statistic and p-value, and the Wasserstein-1
distance in the attribute's own units. Rows without a value (NaN) are counted and left out.

>>> cmp = compare_values(train_sharpness, generated_sharpness, attribute="sharpness")
>>> cmp.smd, cmp.ks, cmp.wasserstein
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from scipy.stats import ks_2samp, kstwobign, wasserstein_distance

from latentplay.clustered import share_spread
from latentplay.errors import UserError
from latentplay.outputs import finite_or_none

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


@dataclass
class ValueComparison:
    """Two samples of one continuous attribute.

    Attributes:
        n_training, n_generated: rows with a value; missing_*: rows without one.
        mean_*, sd_*: each side's mean and SD (ddof 1).
        quantiles: ``{q: (training, generated)}`` at :data:`QUANTILES`.
        smd: (generated mean - training mean) / sqrt((sd_t^2 + sd_g^2) / 2); with SD 0 on
            both sides (each side constant: its SD is exactly 0, not the rounding noise of
            ``std``), 0 when the means agree and NaN (undefined; None in :meth:`to_dict`)
            when they differ.
        ks, ks_p: two-sample Kolmogorov-Smirnov statistic (largest gap between the two
            cumulative distributions, 0 to 1) and its p-value.
        wasserstein: earth mover's distance between the two samples, in the attribute's units.
        ks_persons: when the training or the audited values come as several photos of each
            person, the KS test again with each such side at its effective size
            (:func:`ks_over_persons`); None otherwise.
    """

    attribute: str
    n_training: int
    n_generated: int
    missing_training: int
    missing_generated: int
    mean_training: float
    mean_generated: float
    sd_training: float
    sd_generated: float
    smd: float
    ks: float
    ks_p: float
    wasserstein: float
    quantiles: dict[float, tuple[float, float]] = field(default_factory=dict)
    ks_persons: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["kind"] = "continuous"
        out["smd"] = finite_or_none(self.smd)  # JSON has no NaN
        out["quantiles"] = self.rows()
        return out

    def rows(self) -> list[dict[str, float]]:
        """The quantile table: one row per quantile (for a CSV)."""
        return [{"quantile": q, "training": t, "generated": g}
                for q, (t, g) in self.quantiles.items()]


DECILES = np.arange(1, 10) / 10


def ks_over_persons(training: np.ndarray, generated: np.ndarray, statistic: float,
                    persons: np.ndarray | None = None,
                    generated_persons: np.ndarray | None = None) -> dict[str, Any] | None:
    """The two-sample KS test of ``(N,)`` training and ``(M,)`` generated values of which one
    side or both are several photos of each person (``(N,)`` ``persons``, ``(M,)``
    ``generated_persons``; None: independent values): the KS ``statistic`` referred to
    Kolmogorov's limit distribution at each side's effective size, its values over the design
    effect of its empirical distribution function (:func:`_edf_design_effect`, at the
    training deciles).

    Returns:
        ``{"p_value", "design_effect", "persons", "effective_n"}`` (the training side's: 1,
        None and ``N`` where it has no persons) and, where the generated values have persons,
        ``"generated_persons", "generated_design_effect", "effective_m"``; None where neither
        side has persons, or a side's persons are fewer than two.
    """
    t, g = np.asarray(training, float), np.asarray(generated, float)
    if persons is None and generated_persons is None:
        return None
    cuts = np.quantile(t, DECILES)
    effects = [1.0 if who is None else _edf_design_effect(values, who, cuts)
               for values, who in ((t, persons), (g, generated_persons))]
    if None in effects:
        return None
    n, m = len(t) / effects[0], len(g) / effects[1]
    out: dict[str, Any] = {"p_value": float(kstwobign.sf(statistic * np.sqrt(n * m / (n + m)))),
                           "design_effect": effects[0], "effective_n": n,
                           "persons": None if persons is None else len(np.unique(persons))}
    if generated_persons is not None:
        out.update(generated_persons=len(np.unique(generated_persons)),
                   generated_design_effect=effects[1], effective_m=m)
    return out


def _edf_design_effect(values: np.ndarray, persons: np.ndarray, cuts: np.ndarray) -> float | None:
    """The design effect of the empirical distribution function of ``(N,)`` ``values`` that
    are several photos of the ``(N,)`` ``persons``: the mean, over the ``cuts`` where the
    share of values at or below lies strictly between 0 and 1, of that share's design effect
    (:func:`~latentplay.clustered.share_spread`), at least 1; None with fewer than two
    persons."""
    effects = []
    for cut in cuts:
        below = values <= cut
        spread = share_spread(below.astype(np.int64), 2, persons)
        if spread is None:
            return None
        if np.isfinite(spread.design_effect) and 0 < below.mean() < 1:
            effects.append(spread.design_effect)
    return max(float(np.mean(effects)) if effects else 1.0, 1.0)


def compare_values(training: np.ndarray, generated: np.ndarray, attribute: str = "",
                   persons: np.ndarray | None = None,
                   generated_persons: np.ndarray | None = None) -> ValueComparison:
    """Compare ``(N,)`` training values with ``(M,)`` generated ones (NaN: no value); with
    the ``(N,)`` ``persons`` of the training values or the ``(M,)`` ``generated_persons`` of
    the generated ones (several photos of each), the KS test is given over them too
    (:func:`ks_over_persons`)."""
    t_all, g_all = np.asarray(training, float), np.asarray(generated, float)
    t, g = t_all[np.isfinite(t_all)], g_all[np.isfinite(g_all)]
    if len(t) < 2 or len(g) < 2:
        raise UserError(f"{attribute}: {len(t)} training and {len(g)} generated values; "
                        "comparing needs at least 2 on each side")
    sd_t, sd_g = (0.0 if x.min() == x.max() else float(x.std(ddof=1)) for x in (t, g))
    pooled = np.sqrt((sd_t**2 + sd_g**2) / 2)
    ks = ks_2samp(t, g)
    return ValueComparison(
        attribute=attribute, n_training=len(t), n_generated=len(g),
        missing_training=len(t_all) - len(t), missing_generated=len(g_all) - len(g),
        mean_training=float(t.mean()), mean_generated=float(g.mean()),
        sd_training=sd_t, sd_generated=sd_g,
        smd=(float((g.mean() - t.mean()) / pooled) if pooled > 0
             else 0.0 if g[0] == t[0] else float("nan")),    # both constant: same value?
        ks=float(ks.statistic), ks_p=float(ks.pvalue),
        wasserstein=float(wasserstein_distance(t, g)),
        quantiles={q: (float(np.quantile(t, q)), float(np.quantile(g, q))) for q in QUANTILES},
        ks_persons=ks_over_persons(
            t, g, float(ks.statistic),
            None if persons is None else np.asarray(persons)[np.isfinite(t_all)],
            None if generated_persons is None else np.asarray(generated_persons)[np.isfinite(g_all)]),
    )


def smd_text(smd: float | None) -> str:
    """``"+0.52"``, or ``"undefined (SD 0 on both sides)"`` for the NaN (or, read back from a
    summary, None) :func:`compare_values` gives two constant samples of different means."""
    return f"{smd:+.2f}" if smd is not None and np.isfinite(smd) else "undefined (SD 0 on both sides)"


def ks_persons_text(summary: dict[str, Any], audited: str = "audited images") -> str | None:
    """``"KS over 100 reference persons (design effect 3.85) and the 10 persons of the
    audited images (design effect 5.12): p 0.21"`` from a :meth:`ValueComparison.to_dict`
    summary (each side with persons named); None without persons."""
    from latentplay.outputs import p_text

    test = summary.get("ks_persons")
    if not test:
        return None
    sides = ([f"{test['persons']} reference persons (design effect {test['design_effect']:.2f})"]
             if test.get("persons") else [])
    if test.get("generated_persons"):
        sides.append(f"the {test['generated_persons']} persons of the {audited} "
                     f"(design effect {test['generated_design_effect']:.2f})")
    return f"KS over {' and '.join(sides)}: p {p_text(test['p_value'], 3)}"
