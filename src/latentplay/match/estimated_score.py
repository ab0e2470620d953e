"""The ATT's variance when matching with replacement on an *estimated* propensity score.

Abadie & Imbens' (2006) variance takes the score matched on as known. Estimated by a logistic
model, its error moves which controls are matched, and the ATT's large-sample variance
becomes (Abadie & Imbens 2016, Theorem 2)::

    V = V_known - c' H^-1 c + g' H^-1 g

with ``H`` the Hessian of the model's (penalised) log-likelihood over all ``n`` units and,
summing over every unit ``i`` of both groups (``N1`` treated, ``z_i`` its covariates as the
model saw them with a leading 1, ``p_i`` its score, ``f_i = p_i (1 - p_i)``)::

    c = 1/N1 sum_i [ z_i f_i (m1_i - m0_i - ATT) + f_i cov1_i + p_i^2 cov0_i ]
    g = 1/N1 sum_i z_i f_i (tau_i - ATT)

``m_w,i`` and ``cov_w,i`` are the mean outcome of group ``w`` and the covariance of ``z`` and
the outcome within it at ``i``'s score (``E[Y | W=w, p(X)=p_i]`` and ``cov(X, Y | W=w,
p(X)=p_i)``), estimated over the ``J + 1`` units of the group nearest to ``i`` on the logit
(``i`` among them when it is in the group); ``tau_i`` is the effect at ``i``'s covariates,
``E[Y(1) - Y(0) | X = x_i]``: ``i``'s outcome against the mean of its ``J`` nearest units of the
other group in the model's covariate space, each moved to ``x_i`` by that group's least-squares
line on ``z`` (Abadie & Imbens' 2011 bias correction: in many dimensions the nearest units are
far). Matched within exact blocks, the sets are of the unit's block. ``g`` is how the ATT
itself moves with the model's coefficients (the treated population is weighted by the score);
``c`` how the matched estimate moves with them. The correction is negative when the score's
error averages out covariate imbalance the true score would leave (the outcome depends on
covariates the score does not separate) and positive when the effect varies across covariates
of one score: the known-score interval can be too wide or too narrow. The L2 penalty of the
model enters ``H``, which tends to the unpenalised maximum-likelihood estimate's Hessian as
``n`` grows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from latentplay.match.propensity import Propensity

ROWS_AT_ONCE = 8192  # units whose neighbours' covariates are gathered at once
EXACT_MAX_WORK = 1e10
"""Query rows x group units x dimensions above which the covariate-space neighbours come from
an IVF index: they only estimate a conditional mean, which the least-squares line corrects."""


def score_correction(y: np.ndarray, treated: np.ndarray, propensity: Propensity, att: float,
                     neighbours: int = 2, blocks: np.ndarray | None = None) -> float:
    """``g' H^-1 g - c' H^-1 c``: what to add to the known-score variance of the ATT.

    Args:
        y: ``(n,)`` outcome of every unit.
        treated: ``(n,)`` bool.
        propensity: the fitted model, with its ``design`` (``(n, k)``) and ``penalty``.
        att: the matched estimate of the effect on the treated.
        neighbours: J (the neighbour sets hold J + 1 units; at most each group's size).
        blocks: ``(n,)`` exact-match block codes (None: one block): neighbours are of the
            unit's block (of any block where its block holds too few of the group).
    """
    treated = np.asarray(treated, bool)
    p = np.asarray(propensity.score, np.float64)
    z = np.column_stack([np.ones(len(p)), np.asarray(propensity.design, np.float64)])
    f = p * (1.0 - p)
    ridge = np.full(z.shape[1], propensity.penalty)
    ridge[0] = 0.0
    hessian = (z * f[:, None]).T @ z + np.diag(ridge)
    codes = np.zeros(len(p), np.int64) if blocks is None else np.asarray(blocks)
    means, covs = _within_score(y, treated, propensity.logit, z, neighbours, codes)
    c = (z.T @ (f * (means[:, 1] - means[:, 0] - att)) + f @ covs[:, 1] + (p**2) @ covs[:, 0])
    g = z.T @ (f * (_effect_at(y, treated, z, neighbours, codes) - att))
    n1 = np.count_nonzero(treated)
    c, g = c / n1, g / n1
    inverse = np.linalg.pinv(hessian)  # a constant covariate leaves it singular without a penalty
    return float(g @ inverse @ g - c @ inverse @ c)


def _nearest(points: np.ndarray, group: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    """``(len(queries), k)`` units of ``group`` nearest to each query row of ``points``: exact,
    or by an IVF index above :data:`EXACT_MAX_WORK` (rows it leaves short searched exactly)."""
    from latentplay.match.knn import ControlSearch

    work = float(len(queries)) * len(group) * points.shape[1]
    index = "ivf" if points.shape[1] > 1 and work > EXACT_MAX_WORK else "exact"
    ids = ControlSearch(points[group], index, exact_below=0).search(points[queries], k).ids
    short = np.flatnonzero((ids < 0).any(axis=1))
    if len(short):
        ids[short] = ControlSearch(points[group]).search(points[queries[short]], k).ids
    return group[ids]


def _nearest_in_block(points: np.ndarray, group: np.ndarray, queries: np.ndarray, k: int,
                      blocks: np.ndarray) -> np.ndarray:
    """:func:`_nearest` among the units of ``group`` in each query's block (``blocks``:
    ``(n,)`` codes), or of all ``group`` where the block holds fewer than ``k`` of them."""
    out = np.zeros((len(queries), k), np.int64)
    for code in np.unique(blocks[queries]):
        at = blocks[queries] == code
        members = group[blocks[group] == code]
        out[at] = _nearest(points, members if len(members) >= k else group, queries[at], k)
    return out


def _within_score(y: np.ndarray, treated: np.ndarray, logit: np.ndarray, z: np.ndarray,
                  neighbours: int, blocks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """At each unit's score, each group's mean outcome, ``(n, 2)``, and covariance of ``z``
    and the outcome, ``(n, 2, k + 1)`` (0 for a group of one unit), over the group's
    ``neighbours + 1`` units of the unit's block nearest on the logit (column 0: controls, 1:
    treated)."""
    n = len(y)
    points = np.asarray(logit, np.float32).reshape(n, 1)
    means, covs = np.zeros((n, 2)), np.zeros((n, 2, z.shape[1]))
    for w, group in enumerate((np.flatnonzero(~treated), np.flatnonzero(treated))):
        k = min(neighbours + 1, len(group))
        near = _nearest_in_block(points, group, np.arange(n), k, blocks)
        outcomes = y[near]
        means[:, w] = outcomes.mean(axis=1)
        if k == 1:
            continue
        centred = outcomes - means[:, w, None]
        for start in range(0, n, ROWS_AT_ONCE):  # z of every neighbour, a block of rows at once
            rows = slice(start, start + ROWS_AT_ONCE)
            covs[rows, w] = np.einsum("rj,rjd->rd", centred[rows], z[near[rows]]) / (k - 1)
    return means, covs


def _effect_at(y: np.ndarray, treated: np.ndarray, z: np.ndarray, neighbours: int,
               blocks: np.ndarray) -> np.ndarray:
    """``(n,)`` each unit's effect, treated minus control: its outcome against the mean of
    its ``neighbours`` nearest units of the other group (in its block) in the covariate space
    ``z[:, 1:]`` (``z``: ``(n, k + 1)``, a leading 1), each of theirs moved to its covariates by
    the other group's least-squares line on ``z`` (Abadie & Imbens' 2011 bias correction:
    nearest units in many dimensions are far)."""
    tau = np.zeros(len(y))
    points = np.asarray(z[:, 1:], np.float32)
    for units, others, sign in ((treated, ~treated, 1.0), (~treated, treated, -1.0)):
        units, others = np.flatnonzero(units), np.flatnonzero(others)
        line = np.linalg.lstsq(z[others], y[others], rcond=None)[0]
        near = _nearest_in_block(points, others, units, min(neighbours, len(others)), blocks)
        moved = y[near] + (z[units] @ line)[:, None] - z[near] @ line
        tau[units] = sign * (y[units] - moved.mean(axis=1))
    return tau
