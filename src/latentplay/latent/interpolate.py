"""Paths between latent codes: linear and spherical interpolation, and blends of several.

For a Gaussian prior, points on the straight line between two codes have a smaller norm than
either end (a typical draw in D dimensions has norm about sqrt(D)), so their decodings drift
towards the average face; spherical interpolation keeps the norm (White, 2016, "Sampling
generative networks").
"""

from __future__ import annotations

import numpy as np

from latentplay.errors import UserError


def _pair(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.ndim != 1 or a.shape != b.shape:
        raise UserError(f"interpolation needs two codes of the same shape (D,), got "
                        f"{a.shape} and {b.shape}")
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise UserError("interpolation needs finite codes; a code holds NaN or infinite values")
    return a, b


def lerp(a: np.ndarray, b: np.ndarray, steps: int) -> np.ndarray:
    """``(steps, D)`` float32 codes evenly spaced on the segment from ``a`` to ``b``
    (both ``(D,)``), ends included."""
    a, b = _pair(a, b)
    t = np.linspace(0.0, 1.0, steps)[:, None]
    return ((1 - t) * a + t * b).astype(np.float32)


def slerp(a: np.ndarray, b: np.ndarray, steps: int) -> np.ndarray:
    """``(steps, D)`` float32 codes on the great-circle arc from ``a`` to ``b`` (both
    ``(D,)``), the norm interpolated linearly along it; ends included. Falls back to
    :func:`lerp` for (nearly) parallel codes, a zero code and opposite codes of one
    dimension. (Nearly) opposite codes lie on many great circles: the path takes the half
    circle through the unit vector orthogonal to ``a`` that :func:`_orthogonal_unit` picks,
    so it keeps the norm rather than passing through the zero code."""
    a, b = _pair(a, b)
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na == 0 or nb == 0:
        return lerp(a, b, steps)
    ua, ub = a / na, b / nb
    cos = float(np.clip(ua @ ub, -1.0, 1.0))
    omega = np.arccos(cos)
    t = np.linspace(0.0, 1.0, steps)[:, None]
    if np.sin(omega) >= 1e-6:
        direction = (np.sin((1 - t) * omega) * ua + np.sin(t * omega) * ub) / np.sin(omega)
    elif cos > 0 or len(a) == 1:
        return lerp(a, b, steps)
    else:
        direction = np.cos(t * np.pi) * ua + np.sin(t * np.pi) * _orthogonal_unit(ua)
        direction[-1] = ub
    return (direction * ((1 - t) * na + t * nb)).astype(np.float32)


def _orthogonal_unit(a: np.ndarray) -> np.ndarray:
    """``(D,)`` unit vector orthogonal to the non-zero ``(D,)`` ``a`` (``D >= 2``): the
    coordinate axis least aligned with ``a`` (the first of a tie) without its component
    along ``a``."""
    unit = a / np.linalg.norm(a)
    axis = np.zeros_like(unit)
    axis[np.argmin(np.abs(unit))] = 1.0
    away = axis - (axis @ unit) * unit
    return away / np.linalg.norm(away)


METHODS = ("slerp", "lerp")


def between(a: np.ndarray, b: np.ndarray, steps: int, method: str = "slerp",
            cond_a: np.ndarray | None = None, cond_b: np.ndarray | None = None
            ) -> tuple[np.ndarray, np.ndarray | None]:
    """Codes ``(steps, D)`` from ``a`` to ``b`` by ``method`` (:data:`METHODS`), ends
    included, and — for a conditional model — conditions ``(steps, K)`` moving linearly from
    ``cond_a`` to ``cond_b`` (None without them)."""
    if method not in METHODS:
        raise UserError(f"method must be slerp or lerp, got {method!r}")
    if steps < 2:
        raise UserError(f"an interpolation needs at least 2 steps, got {steps}")
    z = (slerp if method == "slerp" else lerp)(a, b, steps)
    if cond_a is None or cond_b is None:
        return z, None
    t = np.linspace(0.0, 1.0, steps)[:, None]
    return z, ((1 - t) * cond_a + t * cond_b).astype(np.float32)


def blend(codes: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """``(D,)`` float32 weighted mean of ``(M, D)`` codes (equal weights by default; weights
    are normalised to sum to 1)."""
    codes = np.asarray(codes, np.float64)
    if codes.ndim != 2 or len(codes) == 0:
        raise UserError(f"blend needs codes of shape (M, D) with M >= 1, got {codes.shape}")
    if not np.isfinite(codes).all():
        raise UserError("blend needs finite codes; a code holds NaN or infinite values")
    w = np.ones(len(codes)) if weights is None else np.asarray(weights, np.float64)
    if w.shape != (len(codes),) or not np.isfinite(w).all() or np.any(w < 0) or w.sum() <= 0:
        raise UserError(f"blend weights must be {len(codes)} finite non-negative numbers, not all 0")
    return ((w / w.sum()) @ codes).astype(np.float32)
