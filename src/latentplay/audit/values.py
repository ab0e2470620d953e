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
        ks_persons: when the training values come as several photos of each person, the KS
            test again with the training side at its effective size (:func:`ks_over_persons`);
            None otherwise.
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
    ks_persons: dict[str, float] | None = None

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


def ks_over_persons(training: np.ndarray, generated: np.ndarray, persons: np.ndarray,
                    statistic: float) -> dict[str, float] | None:
    """The two-sample KS test of ``(N,)`` training values that are several photos of the
    ``(N,)`` ``persons`` against ``(M,)`` independent generated values: the KS ``statistic``
    referred to Kolmogorov's limit distribution at the training side's effective size, ``N``
    over the design effect of its empirical distribution function (the mean, over the
    training deciles, of the design effect of the share of values at or below each, at least
    1; :func:`~latentplay.clustered.share_spread`).

    Returns:
        ``{"p_value", "design_effect", "persons", "effective_n"}``, or None with fewer than
        two persons.
    """
    t = np.asarray(training, float)
    effects = []
    for cut in np.quantile(t, DECILES):
        spread = share_spread((t <= cut).astype(np.int64), 2, persons)
        if spread is None:
            return None
        if np.isfinite(spread.design_effect) and 0 < (t <= cut).mean() < 1:
            effects.append(spread.design_effect)
    effect = max(float(np.mean(effects)) if effects else 1.0, 1.0)
    n, m = len(t) / effect, len(generated)
    p_value = float(kstwobign.sf(statistic * np.sqrt(n * m / (n + m))))
    return {"p_value": p_value, "design_effect": effect,
            "persons": len(np.unique(persons)), "effective_n": n}


def compare_values(training: np.ndarray, generated: np.ndarray, attribute: str = "",
                   persons: np.ndarray | None = None) -> ValueComparison:
    """Compare ``(N,)`` training values with ``(M,)`` generated ones (NaN: no value); with
    the ``(N,)`` ``persons`` of the training values (several photos of each), the KS test is
    given over them too (:func:`ks_over_persons`)."""
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
        ks_persons=None if persons is None else ks_over_persons(
            t, g, np.asarray(persons)[np.isfinite(t_all)], float(ks.statistic)),
    )


def smd_text(smd: float | None) -> str:
    """``"+0.52"``, or ``"undefined (SD 0 on both sides)"`` for the NaN (or, read back from a
    summary, None) :func:`compare_values` gives two constant samples of different means."""
    return f"{smd:+.2f}" if smd is not None and np.isfinite(smd) else "undefined (SD 0 on both sides)"


def ks_persons_text(summary: dict[str, Any]) -> str | None:
    """``"KS over 100 reference persons (design effect 3.85): p 0.21"`` from a
    :meth:`ValueComparison.to_dict` summary; None without persons."""
    from latentplay.outputs import p_text

    test = summary.get("ks_persons")
    if not test:
        return None
    return (f"KS over {test['persons']} reference persons (design effect "
            f"{test['design_effect']:.2f}): p {p_text(test['p_value'], 3)}")
