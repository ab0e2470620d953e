"""Pearson's chi-square of a contingency table, and its p-value simulated where cells are few.

The chi-square curve is a rough guide to the statistic's distribution when cells expect few
rows (Cochran's rule: more than a fifth under 5, or any under 1: one row in a cell that expects
0.02 alone adds about 50 to the statistic). There the p-value is also simulated with
both margins fixed, as R's ``chisq.test(simulate.p.value = TRUE)`` does: tables drawn at
random with the observed row and column totals, and the share of them at least as far from
independence as the observed one. It is exact in the limit however few rows a cell expects.

>>> test = chi_square(counts)        # counts: (G, K), no empty row or column
>>> test["p_value"], test.get("p_value_simulated"), read_p(test)
"""

from __future__ import annotations

import numpy as np
from scipy.stats import chi2_contingency

SPARSE = 0.2
"""Cochran's rule: above this share of cells expected to hold fewer than 5 rows, or with any
cell expected to hold fewer than 1, the chi-square curve is a rough guide to the statistic's
distribution."""

DRAWS = 10_000
"""Tables drawn for a sparse table's simulated p-value."""


def chi_square(counts: np.ndarray, seed: int = 0) -> dict[str, float]:
    """Pearson's chi-square (no continuity correction) of ``(G, K)`` ``counts`` without empty
    rows or columns: ``statistic``, ``dof``, ``p_value`` (the chi-square curve's), ``sparse``
    (the share of cells expected to hold fewer than 5 rows), ``min_expected`` and, above
    :data:`SPARSE` or where a cell expects fewer than 1 row, ``p_value_simulated``
    (:func:`simulated_p`; :func:`sparse_reason` says why)."""
    statistic, p_value, dof, expected = chi2_contingency(counts, correction=False)
    out = {"statistic": float(statistic), "dof": int(dof), "p_value": float(p_value),
           "sparse": float((expected < 5).mean()), "min_expected": float(expected.min())}
    if is_sparse(out):
        out["p_value_simulated"] = simulated_p(counts, float(statistic), seed=seed)
    return out


def is_sparse(test: dict[str, float]) -> bool:
    """Whether the chi-square curve is only a rough guide to a test with these ``sparse`` and
    ``min_expected`` (Cochran's rule: above :data:`SPARSE` of the cells expected to hold
    fewer than 5, or one fewer than 1)."""
    return test["sparse"] > SPARSE or test["min_expected"] < 1


def read_p(test: dict[str, float]) -> float:
    """The p-value a :func:`chi_square` test is read by: the simulated one of a sparse table,
    else the chi-square curve's."""
    return test.get("p_value_simulated", test["p_value"])


def sparse_reason(test: dict[str, float]) -> str:
    """Why :func:`chi_square` simulated the p-value of ``test``: ``"40% of cells expect under 5
    rows"``, or ``"a cell expects 0.3 rows"`` where the rule of a cell under 1 row applied."""
    if test["sparse"] > SPARSE or "min_expected" not in test:
        return f"{test['sparse']:.0%} of cells expect under 5 rows"
    return f"a cell expects {test['min_expected']:.2g} rows"


def simulated_note(test: dict[str, float]) -> str:
    """`` (simulated with the margins fixed: sparse cells)`` after the p-value of a
    :func:`chi_square` test that :func:`read_p` reads from the simulation (saying so where it
    is ``1 / (draws + 1)``, the smallest value the draws can give: the exact p-value may lie
    below or a little above it), else ``""``."""
    if "p_value_simulated" not in test:
        return ""
    floor = test["p_value_simulated"] <= 1.5 / (DRAWS + 1)
    return (" (simulated with the margins fixed: sparse cells"
            + (f"; no table of {DRAWS:,} drawn was as extreme: the smallest p-value they "
               "can give"
               if floor else "") + ")")


def simulated_p(counts: np.ndarray, statistic: float, draws: int = DRAWS, seed: int = 0) -> float:
    """The p-value of Pearson's chi-square ``statistic`` of ``(G, K)`` ``counts`` under
    independence, simulated with both margins fixed: ``draws`` tables whose rows take their
    rows from the pooled columns at random (hypergeometric, column after column), and
    ``(1 + #{X² >= statistic}) / (draws + 1)``. Each drawn row adds its terms to the drawn
    statistics as it is dealt: memory ``(draws, K)``, not ``(draws, G, K)`` (which took 14 GB
    for 6,000 persons by 10 classes)."""
    counts = np.asarray(counts, np.int64)
    rows, columns = counts.sum(axis=1), counts.sum(axis=0)
    expected = np.outer(rows, columns) / counts.sum()                # (G, K), all > 0
    rng = np.random.default_rng(seed)
    left = np.tile(columns, (draws, 1))                             # (draws, K) not dealt yet
    drawn_statistic = np.zeros(draws)
    row = np.zeros((draws, len(columns)))
    for g, n in enumerate(rows[:-1]):
        need = np.full(draws, n, np.int64)
        for c in range(len(columns) - 1):
            drawn = rng.hypergeometric(left[:, c], left[:, c + 1:].sum(axis=1), need)
            row[:, c], need = drawn, need - drawn
            left[:, c] -= drawn
        row[:, -1] = need
        left[:, -1] -= need
        drawn_statistic += ((row - expected[g]) ** 2 / expected[g]).sum(axis=1)
    drawn_statistic += ((left - expected[-1]) ** 2 / expected[-1]).sum(axis=1)  # the rest
    return float((1 + np.sum(drawn_statistic >= statistic * (1 - 1e-9))) / (draws + 1))
