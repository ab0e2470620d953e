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
    """

    score: np.ndarray
    logit: np.ndarray

    def separates(self, treated: np.ndarray) -> bool:
        """Whether the ``(n,)`` bool groups do not overlap on the score: every treated unit's
        logit lies above every control's, or below (complete separation of the fitted model,
        or nearly: no treated unit has a control of its score to match)."""
        lt, lc = self.logit[treated], self.logit[~treated]
        if len(lt) == 0 or len(lc) == 0:
            return False
        return bool(lt.min() > lc.max() or lt.max() < lc.min())


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
    model.fit(np.asarray(x, dtype=np.float64), np.asarray(treated, dtype=int))
    logit = model.decision_function(np.asarray(x, dtype=np.float64))
    return Propensity(score=expit(logit), logit=logit)
