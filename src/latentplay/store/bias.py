"""How one attribute is distributed within the groups of another: the dataset-bias figure.

SmileCVAE found its CVAE drew "happy" faces more female-looking and traced it to its training
set: more non-smiling men than smiling men. :func:`association` measures that kind of
dependence between two attributes of a store — the share of each level of ``of`` within each
group of ``by``, a chi-square test of independence and Cramér's V (0: independent, 1: one
determines the other). Continuous attributes are cut into equal-width bins over their range
(two bins of smile: frown vs smile).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import chi2_contingency

from latentplay.errors import UserError
from latentplay.store.io import Store
from latentplay.store.summary import crosstab


@dataclass
class Association:
    """Two attributes cross-tabulated.

    Attributes:
        by, of: the grouping attribute and the attribute whose distribution is compared.
        groups: ``R`` level names of ``by`` that occur; levels: ``C`` level names of ``of``
            that occur (bins for a continuous one).
        counts: ``(R, C)`` int counts.
        chi2, dof, p_value: chi-square test of independence of the table.
        cramers_v: ``sqrt(chi2 / (n * (min(R, C) - 1)))``.
    """

    by: str
    of: str
    groups: list[str]
    levels: list[str]
    counts: np.ndarray
    chi2: float
    dof: int
    p_value: float
    cramers_v: float

    @property
    def shares(self) -> np.ndarray:
        """``(R, C)`` share of each level within each group (rows sum to 1)."""
        return self.counts / self.counts.sum(1, keepdims=True)

    @property
    def overall(self) -> np.ndarray:
        """``(C,)`` share of each level over the whole store."""
        return self.counts.sum(0) / self.counts.sum()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields, shares included."""
        return {"by": self.by, "of": self.of, "groups": self.groups, "levels": self.levels,
                "counts": self.counts.tolist(), "shares": self.shares.round(6).tolist(),
                "overall": self.overall.round(6).tolist(), "chi2": self.chi2, "dof": self.dof,
                "p_value": self.p_value, "cramers_v": self.cramers_v}


def association(store: Store, by: str, of: str, bins: int = 2) -> Association:
    """Cross-tabulate ``of`` within the groups of ``by`` (levels or rows that never occur are
    dropped) and test their independence."""
    if by == of:
        raise UserError("--by and --of must be two different attributes")
    if bins < 2:
        raise UserError(f"bins must be at least 2, got {bins}")
    table = crosstab(store, by, of, bins=bins)
    counts = np.asarray(table["counts"], dtype=np.int64)
    rows, cols = counts.sum(1) > 0, counts.sum(0) > 0
    counts = counts[rows][:, cols]
    groups = [n for n, keep in zip(table["row_names"], rows, strict=True) if keep]
    levels = [n for n, keep in zip(table["column_names"], cols, strict=True) if keep]
    if len(groups) < 2 or len(levels) < 2:
        raise UserError(f"need at least two values of each attribute; {by} has {len(groups)}, "
                        f"{of} has {len(levels)}")
    chi2, p_value, dof, _ = chi2_contingency(counts, correction=False)
    v = float(np.sqrt(chi2 / (counts.sum() * (min(counts.shape) - 1))))
    return Association(by, of, groups, levels, counts, float(chi2), int(dof), float(p_value), v)
