"""Sample quality and coverage of generated images, measured in a feature space.

Arrays in, numbers out: ``real`` is ``(N, D)`` features of training images, ``fake`` is
``(M, D)`` features of generated ones (any embedding: Inception, CLIP, a face descriptor).

* :func:`prdc` -- precision, recall, density and coverage from k-nearest-neighbour balls.
  Each point's ball has the radius of its distance to its ``k``-th nearest neighbour within its
  own set. *Precision* is the share of generated points inside some real ball (are samples
  realistic?); *recall* the share of real points inside some generated ball (is the real
  distribution's support reached?) -- Kynkäänniemi et al., "Improved Precision and Recall Metric
  for Assessing Generative Models", NeurIPS 2019. *Density* counts how many real balls hold each
  generated point, divided by ``k`` (about 1 when the two distributions match, robust to real
  outliers); *coverage* is the share of real points whose own ball holds a generated point
  (robust to generated outliers; it exposes dropped modes) -- Naeem et al., "Reliable Fidelity
  and Diversity Metrics for Generative Models", ICML 2020. Definitions, including the strict
  ``<``, follow the reference implementation ``clovaai/generative-evaluation-prdc``.
* *Authenticity* (also from :func:`prdc`): the share of generated points that are not copies
  of a training point. A generated point is a copy when it is no farther from its nearest real
  point than that point's nearest other real point is (ties count as copies; Alaa et al., "How
  Faithful is your Synthetic Data?", ICML 2022). Points drawn independently from the real
  distribution are such "copies" by chance too (mutual nearest neighbours): compare with the
  authenticity of held-out real points, not with 1.
* :func:`frechet_distance` -- the Fréchet (2-Wasserstein) distance between Gaussians fitted to
  the two sets: ``|mu_r - mu_f|^2 + Tr(S_r + S_f - 2 (S_r S_f)^(1/2))``; FID when the features
  are Inception's (Heusel et al., "GANs Trained by a Two Time-Scale Update Rule Converge to a
  Local Nash Equilibrium", NeurIPS 2017).
* :func:`kernel_distance` -- the unbiased squared MMD with the cubic polynomial kernel
  ``(x.y / D + 1)^3``, averaged over random subsets; KID when the features are Inception's
  (Bińkowski et al., "Demystifying MMD GANs", ICLR 2018). Unlike the Fréchet distance it has an
  unbiased estimator, so small sample sizes do not inflate it.

Distances are Euclidean, computed in float64 in blocks of at most ``chunk_elements`` entries:
memory is linear in ``N + M``, never ``N x M``.

>>> r = prdc(real_features, fake_features, k=5)
>>> r.precision, r.recall, r.density, r.coverage
>>> frechet_distance(real_features, fake_features)
>>> kid_mean, kid_std = kernel_distance(real_features, fake_features)
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from latentplay.errors import UserError
from latentplay.reprs import short_repr


@dataclass(frozen=True)
class PRDC:
    """Precision, recall, density and coverage (Kynkäänniemi et al. 2019; Naeem et al. 2020).

    ``N`` real points, ``M`` generated points; each per-point array is indexed like its input.
    """

    __repr__ = short_repr

    precision: float
    """Share of generated points inside at least one real point's k-NN ball."""
    recall: float
    """Share of real points inside at least one generated point's k-NN ball."""
    density: float
    """Mean over generated points of (number of real balls containing it) / k."""
    coverage: float
    """Share of real points whose k-NN ball contains at least one generated point."""
    k: int
    real_covered: np.ndarray
    """``(N,)`` bool: the real point's ball holds a generated point (coverage)."""
    real_recalled: np.ndarray
    """``(N,)`` bool: the real point lies inside some generated point's ball (recall)."""
    fake_inside: np.ndarray
    """``(M,)`` bool: the generated point lies inside some real ball (precision)."""
    fake_density: np.ndarray
    """``(M,)`` float: number of real balls containing the generated point, divided by k."""
    real_nearest: np.ndarray
    """``(N,)`` float: distance from each real point to its nearest generated point."""
    real_radius: np.ndarray
    """``(N,)`` float: each real point's k-NN radius (distance to its k-th nearest other real point)."""
    authenticity: float = float("nan")
    """Share of generated points that are not copies (see ``fake_copy``)."""
    fake_nearest: np.ndarray | None = None
    """``(M,)`` float: distance from each generated point to its nearest real point."""
    fake_nearest_real: np.ndarray | None = None
    """``(M,)`` int: index of that nearest real point."""
    fake_copy: np.ndarray | None = None
    """``(M,)`` bool: the generated point is no farther from its nearest real point than that
    point's nearest other real point is (Alaa et al. 2022's unauthentic sample: a copy of a
    training example)."""
    real_nn: np.ndarray | None = None
    """``(N,)`` float: distance from each real point to its nearest other real point."""

    def to_dict(self) -> dict[str, float | int]:
        """The six scalars: precision, recall, density, coverage, authenticity and k."""
        return {"precision": self.precision, "recall": self.recall, "density": self.density,
                "coverage": self.coverage, "authenticity": self.authenticity, "k": self.k}


def _check_pair(real: np.ndarray, fake: np.ndarray, min_rows: int, why: str) -> tuple[np.ndarray, np.ndarray]:
    """Both sets as float64 ``(N, D)`` and ``(M, D)``; :class:`UserError` unless each has >= min_rows rows."""
    real, fake = np.asarray(real), np.asarray(fake)
    for name, x in (("real", real), ("generated", fake)):
        if x.ndim != 2:
            raise UserError(f"{name} features must be a 2-d array (points x dimensions), got shape {x.shape}")
        if not np.issubdtype(x.dtype, np.number) or np.issubdtype(x.dtype, np.complexfloating):
            raise UserError(f"{name} features must be real numbers, got dtype {x.dtype}")
    if real.shape[1] != fake.shape[1]:
        raise UserError("real and generated features differ in dimension: "
                        f"{real.shape[1]} vs {fake.shape[1]}")
    if real.shape[1] == 0:
        raise UserError("features have no dimensions (shape (N, 0)): nothing to compare")
    for name, x in (("real", real), ("generated", fake)):
        if x.shape[0] < min_rows:
            raise UserError(f"{why}: {name} features have {x.shape[0]} points, need at least {min_rows}")
        if not np.isfinite(x).all():
            raise UserError(f"{name} features contain NaN or infinite values")
    return real.astype(np.float64), fake.astype(np.float64)


def _distances(a: np.ndarray, b: np.ndarray, b_sq: np.ndarray) -> np.ndarray:
    """Euclidean distances ``(len(a), len(b))`` in float64; ``b_sq`` is ``(b ** 2).sum(1)``.
    Computed in place: two ``(len(a), len(b))`` blocks at most (the sum and the clip and root
    each took a block of their own)."""
    sq = (a * a).sum(1)[:, None] + b_sq[None, :]
    product = a @ b.T
    product *= 2.0
    sq -= product
    del product
    np.maximum(sq, 0.0, out=sq)
    return np.sqrt(sq, out=sq)


def _chunks(n_rows: int, n_other: int, chunk_elements: int) -> Iterator[slice]:
    """Slices of ``range(n_rows)`` whose block against ``n_other`` points has <= chunk_elements entries
    (at least one row per block)."""
    step = max(1, chunk_elements // max(1, n_other))
    for start in range(0, n_rows, step):
        yield slice(start, min(start + step, n_rows))


def knn_radii(x: np.ndarray, k: int | tuple[int, ...],
              chunk_elements: int = 2**24) -> np.ndarray:
    """``(N,)`` distance from each row of ``x`` ``(N, D)`` to its k-th nearest other row; for a
    tuple of ``k`` values, ``(len(k), N)``, in one pass over the distances.

    The point itself is excluded by index, so an exact duplicate counts as a neighbour at
    distance 0. Requires ``N > max(k)``.
    """
    ks = (k,) if isinstance(k, int | np.integer) else tuple(k)
    x = np.asarray(x, dtype=np.float64)
    n = len(x)
    x_sq = (x * x).sum(1)
    radii = np.empty((len(ks), n))
    for rows in _chunks(n, n, chunk_elements):
        d = _distances(x[rows], x, x_sq)
        d[np.arange(d.shape[0]), np.arange(rows.start, rows.stop)] = np.inf  # drop the self-match
        d.partition([j - 1 for j in sorted(set(ks))], axis=1)  # in place: no copy of the block
        for i, j in enumerate(ks):
            radii[i, rows] = d[:, j - 1]
        del d  # before the next block is computed beside it
    return radii[0] if isinstance(k, int | np.integer) else radii


def prdc(real: np.ndarray, fake: np.ndarray, k: int = 5, chunk_elements: int = 2**24) -> PRDC:
    """Precision, recall, density and coverage of ``fake`` ``(M, D)`` against ``real`` ``(N, D)``.

    Args:
        real: features of real images, ``(N, D)``, ``N > k``.
        fake: features of generated images, ``(M, D)``, ``M > k``.
        k: neighbourhood size of the k-NN balls (5 in Naeem et al.).
        chunk_elements: the most entries of one distance block (float64; at most two blocks
            are held at a time; at least one row or column of a block is always processed).
    """
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise UserError(f"k must be a positive integer, got {k!r}")
    k = int(k)
    real, fake = _check_pair(real, fake, k + 1, f"k = {k} needs more than k points in each set")
    n, m = len(real), len(fake)
    real_radius, real_nn = knn_radii(real, (k, 1), chunk_elements)
    fake_radius = knn_radii(fake, k, chunk_elements)

    real_sq = (real * real).sum(1)
    fake_inside = np.empty(m, dtype=bool)
    fake_count = np.empty(m, dtype=np.int64)
    real_nearest = np.full(n, np.inf)
    real_recalled = np.zeros(n, dtype=bool)
    fake_nearest_real = np.empty(m, dtype=np.int64)
    for cols in _chunks(m, n, chunk_elements):
        d = _distances(fake[cols], real, real_sq).T  # (N, chunk)
        inside = d < real_radius[:, None]
        fake_inside[cols] = inside.any(0)
        fake_count[cols] = inside.sum(0)
        fake_nearest_real[cols] = d.argmin(0)
        np.minimum(real_nearest, d.min(1), out=real_nearest)
        real_recalled |= (d < fake_radius[None, cols]).any(1)
        del d, inside  # before the next block is computed beside them
    real_covered = real_nearest < real_radius
    fake_density = fake_count / k
    fake_nearest = np.sqrt(np.maximum(((fake - real[fake_nearest_real]) ** 2).sum(1), 0.0))
    fake_copy = fake_nearest <= real_nn[fake_nearest_real]
    return PRDC(precision=float(fake_inside.mean()), recall=float(real_recalled.mean()),
                density=float(fake_density.mean()), coverage=float(real_covered.mean()), k=k,
                real_covered=real_covered, real_recalled=real_recalled, fake_inside=fake_inside,
                fake_density=fake_density, real_nearest=real_nearest, real_radius=real_radius,
                authenticity=float(1 - fake_copy.mean()), fake_nearest=fake_nearest,
                fake_nearest_real=fake_nearest_real, fake_copy=fake_copy, real_nn=real_nn)


def frechet_distance(real: np.ndarray, fake: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to ``real`` ``(N, D)`` and ``fake`` ``(M, D)``.

    ``|mu_r - mu_f|^2 + Tr(S_r) + Tr(S_f) - 2 Tr((S_r S_f)^(1/2))`` with sample covariances
    (``ddof=1``). The last trace is the sum of the square roots of the eigenvalues of the
    symmetric PSD matrix ``S_r^(1/2) S_f S_r^(1/2)``, which has the same spectrum as ``S_r S_f``;
    this avoids a non-symmetric matrix square root. Needs ``N, M >= 2``.
    """
    real, fake = _check_pair(real, fake, 2, "a covariance needs 2 points")
    diff = real.mean(0) - fake.mean(0)
    s_r = np.atleast_2d(np.cov(real, rowvar=False, ddof=1))
    s_f = np.atleast_2d(np.cov(fake, rowvar=False, ddof=1))
    w, v = np.linalg.eigh(s_r)
    root_r = (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T
    inner = root_r @ s_f @ root_r
    eig = np.linalg.eigvalsh((inner + inner.T) / 2)
    tr_cross = np.sqrt(np.clip(eig, 0.0, None)).sum()
    value = diff @ diff + np.trace(s_r) + np.trace(s_f) - 2.0 * tr_cross
    return float(max(value, 0.0))


def _poly_kernel(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cubic polynomial kernel ``(a.b / D + 1)^3``, ``(len(a), len(b))``."""
    return (a @ b.T / a.shape[1] + 1.0) ** 3


def kernel_distance(real: np.ndarray, fake: np.ndarray, subset_size: int | None = None,
                    subsets: int = 100, seed: int = 0) -> tuple[float, float]:
    """Kernel (KID) distance of ``fake`` ``(M, D)`` from ``real`` ``(N, D)``: ``(mean, std)``.

    Each of ``subsets`` rounds draws ``m = min(subset_size, N, M)`` points without replacement
    from each set, real first, then generated, from ``numpy.random.default_rng(seed)``, and
    takes the unbiased MMD^2 estimate with the kernel ``(x.y / D + 1)^3``: the mean off-diagonal
    real-real kernel plus the mean off-diagonal generated-generated kernel minus twice the mean
    real-generated kernel. ``std`` is the standard deviation (``ddof=0``) over subsets.
    ``subset_size`` None means KID's usual 1000, or half the smaller set when that has fewer
    than 2000 points: subsets as large as a whole set would all be that set, and ``std`` 0.
    """
    if subsets < 1:
        raise UserError(f"subsets must be at least 1, got {subsets}")
    if subset_size is not None and subset_size < 2:
        raise UserError(f"subset_size must be at least 2, got {subset_size}")
    real, fake = _check_pair(real, fake, 2, "the unbiased kernel distance needs 2 points")
    if subset_size is None:
        subset_size = max(2, min(1000, min(len(real), len(fake)) // 2))
    m = min(subset_size, len(real), len(fake))
    rng = np.random.default_rng(seed)
    off_diag = m * (m - 1)
    values = np.empty(subsets)
    for s in range(subsets):
        x = real[rng.choice(len(real), m, replace=False)]
        y = fake[rng.choice(len(fake), m, replace=False)]
        k_xx, k_yy = _poly_kernel(x, x), _poly_kernel(y, y)
        values[s] = ((k_xx.sum() - np.trace(k_xx)) / off_diag + (k_yy.sum() - np.trace(k_yy)) / off_diag
                     - 2.0 * _poly_kernel(x, y).mean())
    return float(values.mean()), float(values.std())
