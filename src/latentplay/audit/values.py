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
from scipy.stats import ks_2samp, wasserstein_distance

from latentplay.errors import UserError

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


@dataclass
class ValueComparison:
    """Two samples of one continuous attribute.

    Attributes:
        n_training, n_generated: rows with a value; missing_*: rows without one.
        mean_*, sd_*: each side's mean and SD (ddof 1).
        quantiles: ``{q: (training, generated)}`` at :data:`QUANTILES`.
        smd: (generated mean - training mean) / sqrt((sd_t^2 + sd_g^2) / 2).
        ks, ks_p: two-sample Kolmogorov-Smirnov statistic (largest gap between the two
            cumulative distributions, 0 to 1) and its p-value.
        wasserstein: earth mover's distance between the two samples, in the attribute's units.
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

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["kind"] = "continuous"
        out["quantiles"] = self.rows()
        return out

    def rows(self) -> list[dict[str, float]]:
        """The quantile table: one row per quantile (for a CSV)."""
        return [{"quantile": q, "training": t, "generated": g}
                for q, (t, g) in self.quantiles.items()]


def compare_values(training: np.ndarray, generated: np.ndarray, attribute: str = ""
                   ) -> ValueComparison:
    """Compare ``(N,)`` training values with ``(M,)`` generated ones (NaN: no value)."""
    t_all, g_all = np.asarray(training, float), np.asarray(generated, float)
    t, g = t_all[np.isfinite(t_all)], g_all[np.isfinite(g_all)]
    if len(t) < 2 or len(g) < 2:
        raise UserError(f"{attribute}: {len(t)} training and {len(g)} generated values; "
                        "comparing needs at least 2 on each side")
    sd_t, sd_g = float(t.std(ddof=1)), float(g.std(ddof=1))
    pooled = np.sqrt((sd_t**2 + sd_g**2) / 2)
    ks = ks_2samp(t, g)
    return ValueComparison(
        attribute=attribute, n_training=len(t), n_generated=len(g),
        missing_training=len(t_all) - len(t), missing_generated=len(g_all) - len(g),
        mean_training=float(t.mean()), mean_generated=float(g.mean()),
        sd_training=sd_t, sd_generated=sd_g,
        smd=float((g.mean() - t.mean()) / pooled) if pooled > 0 else 0.0,
        ks=float(ks.statistic), ks_p=float(ks.pvalue),
        wasserstein=float(wasserstein_distance(t, g)),
        quantiles={q: (float(np.quantile(t, q)), float(np.quantile(g, q))) for q in QUANTILES},
    )
