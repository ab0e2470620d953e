"""Class shares corrected for an annotator's confusion: one solve, and many resampled at once.

An annotator that reads true class ``i`` as ``j`` with probability ``C[i, j]`` turns true
shares ``p`` into annotated shares ``q = C^T p``; :func:`correct_confusion` recovers ``p``
(black-box shift estimation, Lipton, Wang & Smola 2018). :func:`corrected_draws` does it for
``B`` resampled annotated shares, each with the confusion as its measurement could have come
out: the unconstrained solutions (what the intervals read) and the non-negative ones.

>>> p = correct_confusion(q, C)                                  # (K,)
>>> q_draws = jeffreys_draw(annotated_counts, rng, size=1000)    # (1000, K)
>>> free, kept = corrected_draws(q_draws, C, held_out, rng)      # (B, K) each
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import nnls

from latentplay.audit.goodness_of_fit import Counts, counts_draw, filled_confusion, measured_confusion
from latentplay.errors import UserError

CHUNK = 500
"""Confusions drawn at once (``CHUNK x K x K`` floats)."""


def correct_confusion(observed: np.ndarray, confusion: np.ndarray) -> np.ndarray:
    """True class proportions ``p`` ``(K,)`` from observed (annotated) proportions ``q`` ``(K,)``
    and the annotator's confusion ``C`` ``(K, K)`` (``C[i, j]`` = P(annotated j | true i)).

    Solves ``C^T p = q`` by non-negative least squares, then normalises ``p`` to sum to 1.
    Rows of ``C`` that are NaN (classes never seen when the annotator was measured) are
    treated as an annotator that is always right for that class.
    """
    observed = np.asarray(observed, dtype=float)
    if observed.ndim != 1 or np.shape(confusion) != (len(observed), len(observed)):
        raise UserError(f"observed shares (K,) and confusion (K, K) must name the same classes, got "
                        f"shapes {observed.shape} and {np.shape(confusion)}")
    p, _ = nnls(filled_confusion(confusion).T, observed)
    total = p.sum()
    return p / total if total > 0 else np.full(len(p), 1.0 / len(p))


def jeffreys_draw(counts: np.ndarray, rng: np.random.Generator, size: int | None = None
                  ) -> np.ndarray:
    """``(K,)`` class shares drawn from Dirichlet(``counts`` + 1/2), the Jeffreys posterior of
    a multinomial's shares (``(size, K)`` with ``size``): what resamples the generated images'
    shares. Unlike a multinomial redraw at the observed shares, a class seen 0 (or every) time
    still varies, so its interval is not a point (at 0 of 400 images it reaches about 0.006,
    as Jeffreys' interval does)."""
    return rng.dirichlet(np.asarray(counts, np.float64) + 0.5, size=size)


def corrected_draws(shares: np.ndarray, confusion: np.ndarray, counts: Counts | None,
                    rng: np.random.Generator, non_negative: bool = True
                    ) -> tuple[np.ndarray, np.ndarray | None]:
    """``(B, K)`` resampled annotated ``shares`` corrected for the ``(K, K)`` ``confusion``.

    With its held-out ``counts``, each draw is corrected with a confusion drawn as its
    measurement could have come out (:func:`~latentplay.audit.goodness_of_fit.counts_draw`);
    without, with ``confusion`` itself.

    Returns:
        ``(B, K)`` unconstrained solutions of ``C^T x = q`` (summing to 1 as ``q`` does; a
        share may fall below 0), and ``(B, K)`` :func:`correct_confusion`'s non-negative
        ones (the same where no share falls below 0, so only the others are solved again);
        None without ``non_negative`` (their solves cost most of the time where many draws
        have a share below 0).
    """
    shares = np.asarray(shares, np.float64)
    free, kept = np.empty_like(shares), np.empty_like(shares) if non_negative else None
    fixed = filled_confusion(confusion)
    for start in range(0, len(shares), CHUNK):
        q = shares[start:start + CHUNK]
        c = (np.broadcast_to(fixed, (len(q),) + fixed.shape) if counts is None else
             filled_confusion(measured_confusion(counts_draw(counts, rng, size=len(q)))))
        try:
            x = np.linalg.solve(np.swapaxes(c, -1, -2), q[..., None])[..., 0]
            again = (x < 0).any(axis=1)
        except np.linalg.LinAlgError:          # a singular confusion among the draws
            x = np.stack([np.linalg.lstsq(ci.T, qi, rcond=None)[0]
                          for ci, qi in zip(c, q, strict=True)])
            again = np.ones(len(q), bool)
        free[start:start + CHUNK] = x
        if kept is not None:
            kept[start:start + CHUNK] = x / x.sum(axis=1, keepdims=True)
            for i in np.flatnonzero(again):
                kept[start + i] = correct_confusion(q[i], c[i])
    return free, kept
