"""Propensity scores: a regularised logistic model of the treatment on the covariates."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


@dataclass
class Propensity:
    """Fitted scores of all units.

    Attributes:
        score: ``(n,)`` estimated P(treated | covariates).
        logit: ``(n,)`` the linear predictor, log(score / (1 - score)); matching uses this.
        design: ``(n, k)`` float32 covariates as the model saw them (standardized, or their
            principal components), without the intercept; None for scores given otherwise.
        penalty: the L2 penalty on the ``k`` slopes, ``1 / C`` (the intercept has none): the
            model maximised the log-likelihood minus ``penalty / 2 * |slopes|^2``.
    """

    score: np.ndarray
    logit: np.ndarray
    design: np.ndarray | None = None
    penalty: float = 0.0

    def separates(self, treated: np.ndarray) -> bool:
        """Whether the ``(n,)`` bool groups do not overlap on the score: every treated unit's
        logit lies above every control's, or below (complete separation of the fitted model,
        or nearly: no treated unit has a control of its score to match)."""
        lt, lc = self.logit[treated], self.logit[~treated]
        if len(lt) == 0 or len(lc) == 0:
            return False
        return bool(lt.min() > lc.max() or lt.max() < lc.min())

    def beyond_controls(self, treated: np.ndarray) -> float:
        """The share of the ``(n,)`` bool group's treated units whose logit lies above every
        control's or below (0 without units in either group): they have no control of their
        score, and matching gives them the controls at the edge of the range."""
        lt, lc = self.logit[treated], self.logit[~treated]
        if len(lt) == 0 or len(lc) == 0:
            return 0.0
        return float(np.mean((lt > lc.max()) | (lt < lc.min())))


def propensity_scores(
    x: np.ndarray,
    treated: np.ndarray,
    *,
    c: float = 1.0,
    pca: int | None = None,
    seed: int = 0,
) -> Propensity:
    """Fit ``treated ~ x`` with L2-regularised logistic regression on standardized covariates.

    Args:
        x: ``(n, p)`` covariates (e.g. a VAE latent), all units of both groups.
        treated: ``(n,)`` bool.
        c: inverse regularisation strength (scikit-learn's ``C``); smaller is smoother.
        pca: fit on this many principal components instead of all covariates.
        seed: seeds the PCA solver.
    """
    steps: list = [StandardScaler()]
    if pca:
        steps.append(PCA(n_components=min(pca, *x.shape), random_state=seed))
    steps.append(LogisticRegression(C=c, max_iter=2000))
    model = make_pipeline(*steps)
    x = np.asarray(x, dtype=np.float64)
    model.fit(x, np.asarray(treated, dtype=int))
    design = model[:-1].transform(x)
    logit = model[-1].decision_function(design)
    return Propensity(score=expit(logit), logit=logit, design=design.astype(np.float32), penalty=1.0 / c)
