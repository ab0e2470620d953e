"""Tests and intervals for rows that come in clusters: several photos of one person, and pairs
of faces that share persons.

Pearson's chi-square test and the linear trend test take every row as an independent draw.
When a dataset holds many photos of each person (MORPH, RFW, a store with an ``identity``
attribute), the photos of one person agree with each other — same skin tone, same age, often
the same expression — and the tests see far more evidence than there is: their p-values come
out too small. Rao & Scott's correction (Rao & Scott 1984, *Ann. Statist.* 12, 46-60; Thomas
& Rao 1987, *JASA* 82, 630-636) divides the statistic by how much the clusters inflate it,
measured from the data:

- the design variance ``V`` of the table's cell shares is estimated from the persons' totals
  (the linearisation estimator of one-stage cluster sampling, ``K / (K - 1)`` times the sum of
  the squared per-person deviations), and compared with the variance the independent-rows
  test assumes under independence;
- on the ``(R - 1)(C - 1)`` interaction contrasts of the log-linear model this gives the
  generalised design effects ``delta`` (the eigenvalues of ``Delta``, each taken as at least 1:
  photos never count for more than independent rows); their mean is the
  *design effect* reported (1: the persons cost nothing; 4: each photo counts for about a
  quarter of an independent one);
- the second-order statistic ``F = X2 / trace(Delta)`` is referred to an F distribution with
  ``d = trace(Delta)^2 / trace(Delta^2)`` and ``d (K - 1)`` degrees of freedom (``K``
  persons), as the survey literature recommends and R's ``survey::svychisq`` computes by
  default.

:func:`share_spread` gives the same design covariance for the class shares of one sample
(the training side of ``audit compare``'s test).

Pairs of faces (face verification) share persons in a second way: an impostor pair shows two
persons, and one person who resembles many others (a "wolf") makes false matches in every pair
they are in, whichever face is theirs. :func:`shared_variance` is the dyadic-robust variance of a
mean over pairs (Fafchamps & Gubert 2007; Aronow, Samii & Assenova 2015): the products of the
pairs' deviations summed over every two pairs that share a person. Unlike a bootstrap that
draws persons and weights each impostor pair by the product of its persons' draws (which
triples the variance of each pair's own noise, and so widens intervals about 1.7 times even
when no person matters), it gives the binomial variance when no pairs share a person.
:func:`pair_rate_interval` turns it into Wilson's interval at the effective number of pairs.

>>> test = rao_scott(group_codes, level_codes, persons)         # (N,) each
>>> test.p_value, test.design_effect
>>> trend = clustered_trend(u, v, persons, statistic=m2)        # the 1-dof trend test
>>> low, high, deff = pair_rate_interval(false_match, pair_persons)   # (P,), (P, 2)
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np
from scipy import sparse
from scipy.stats import f as f_distribution

from latentplay.intervals import effective_wilson
from latentplay.resample import clusters

SUBSET_FACES = 6
""":func:`shared_variance` goes through every subset of a unit's persons up to this many faces
per unit (63 subsets); above it, through the units that share a person."""

MAX_CONTRASTS = 2000
""":func:`rao_scott` builds ``(R C, dof)`` and ``(dof, dof)`` matrices over the table's ``dof``
interaction contrasts: 2,000 groups by 2 levels took 0.45 GB and 9-18 s, 8,000 groups several GB
and 16,000 over 17 GB. Above this many it makes no test (:func:`persons_refusal`)."""

SPREAD_CELLS = 1 << 22
"""Per-person contrast values held at once (32 MiB of float64): persons come in chunks."""


@dataclass
class ClusteredTest:
    """A test statistic corrected for clustered rows (module docstring).

    Attributes:
        statistic: ``F``, the independent-rows statistic divided by ``trace(Delta)``.
        ndf, ddf: its F distribution's degrees of freedom (``d`` and ``d (K - 1)``).
        p_value: its upper tail.
        design_effect: the mean generalised design effect (``trace(Delta) / dof``, each of
            ``Delta``'s eigenvalues taken as at least 1).
        clusters: ``K``, the persons.
    """

    statistic: float
    ndf: float
    ddf: float
    p_value: float
    design_effect: float
    clusters: int

    def text(self) -> str:
        """``"over 120 persons (design effect 3.4): F 2.31 on 1.7 and 201 dof, p 0.11"``."""
        from latentplay.outputs import p_text

        return (f"over {self.clusters} persons (design effect {self.design_effect:.2f}): "
                f"F {self.statistic:.2f} on {self.ndf:.1f} and {self.ddf:.0f} dof, "
                f"p {p_text(self.p_value)}")

    def to_dict(self) -> dict[str, float | int]:
        return {"statistic": self.statistic, "ndf": self.ndf, "ddf": self.ddf,
                "p_value": self.p_value, "design_effect": self.design_effect,
                "clusters": self.clusters}


def rao_scott(rows: np.ndarray, cols: np.ndarray, units: np.ndarray) -> ClusteredTest | None:
    """Rao-Scott's second-order test of independence of the table of ``(N,)`` row codes
    ``rows`` and column codes ``cols`` (``0..R-1``, ``0..C-1``; codes that never occur are
    dropped) when row ``i`` belongs to cluster ``units[i]`` (a person).

    Returns:
        The test, or None when it cannot be made: fewer than two clusters, a table with one
        row or one column, a row (or column) all of whose rows are one cluster's and fall in
        two columns or more (rows) — how they split there cannot be measured over clusters:
        the estimate sees no spread at all (a group of one person's 10 photos of random
        classes had a design effect of 0.005 and p 1e-18) — or clusters that do not differ at
        all (no design variance).
    """
    rows, cols, units = (np.asarray(a) for a in (rows, cols, units))
    _, rows = np.unique(rows, return_inverse=True)
    _, cols = np.unique(cols, return_inverse=True)
    n_rows, n_cols = int(rows.max(initial=-1)) + 1, int(cols.max(initial=-1)) + 1
    cluster, k = clusters(units)
    if (k < 2 or n_rows < 2 or n_cols < 2 or _one_cluster_split(rows, cols, cluster)
            or _one_cluster_split(cols, rows, cluster)
            or _contrasts_refusal((n_rows - 1) * (n_cols - 1), k)):
        return None
    n, cells, cell = len(rows), n_rows * n_cols, rows * n_cols + cols
    per_cluster = sparse.csr_matrix((np.ones(n), (cluster, cell)), shape=(k, cells))  # (K, RC)
    sizes = np.bincount(cluster, minlength=k).astype(np.float64)
    share = np.bincount(cell, minlength=cells) / n
    expected = np.outer(share.reshape(n_rows, n_cols).sum(1), share.reshape(n_rows, n_cols).sum(0))
    pearson = float(n * ((share - expected.ravel()) ** 2 / expected.ravel()).sum())
    inverse = np.divide(1.0, share, out=np.zeros_like(share), where=share > 0)
    scaled = _interaction_contrasts(n_rows, n_cols) * inverse[:, None]           # (RC, dof)
    centre = share @ scaled
    design = np.zeros((scaled.shape[1], scaled.shape[1]))
    step = max(1, SPREAD_CELLS // scaled.shape[1])
    for start in range(0, k, step):      # each person's deviation from their size's share
        spread = (per_cluster[start:start + step] @ scaled
                  - sizes[start:start + step, None] * centre) / n              # (chunk, dof)
        design += spread.T @ spread
    independent = scaled.T @ (scaled * share[:, None]) / n
    return _corrected(pearson, _design_effects(independent, k / (k - 1) * design), k)


def persons_refusal(rows: np.ndarray, cols: np.ndarray, units: np.ndarray) -> str | None:
    """Why :func:`rao_scott` makes no test of the ``(N,)`` ``rows`` and ``cols`` codes over the
    ``(N,)`` ``units`` for the size of their table, as one clause; None where the size allows
    one (it may still fail for another reason)."""
    n_rows, n_cols = len(np.unique(rows)), len(np.unique(cols))
    return _contrasts_refusal(max(n_rows - 1, 0) * max(n_cols - 1, 0), clusters(np.asarray(units))[1])


def _contrasts_refusal(dof: int, k: int) -> str | None:
    """Why no test over ``k`` clusters is made of a table of ``dof`` interaction contrasts.

    With ``dof >= k - 1`` the design covariance, a sum over the ``k`` clusters' deviations
    (rank at most ``k - 1``), cannot estimate the ``dof`` design effects: the test has no
    residual degrees of freedom (the groups are, or nearly are, the persons themselves), and
    the second-order ``d`` and ``d (k - 1)`` only echo the table's size (500 groups of one
    person each gave "F 1.00 on 498.4 and 248681 dof" whatever the data). Above
    :data:`MAX_CONTRASTS` the matrices are too large to build. (Fewer than two clusters have
    no test for a reason of their own.)"""
    if 2 <= k <= dof + 1:
        return (f"its {dof} degrees of freedom are as many as the {k} persons less one or more, "
                "so the persons leave none to measure how much they inflate it")
    if dof > MAX_CONTRASTS:
        return (f"its {dof} degrees of freedom are over the {MAX_CONTRASTS} whose "
                "correction is computed, its matrices growing as their square")
    return None


def _distinct(codes: np.ndarray, other: np.ndarray) -> np.ndarray:
    """``(R,)`` how many distinct values of the ``(N,)`` ``other`` codes each level of the
    ``(N,)`` ``codes`` (``0..R-1``, each occurring) holds."""
    pairs = np.unique(np.column_stack([codes, other]), axis=0)
    return np.bincount(pairs[:, 0])


def _one_cluster_split(codes: np.ndarray, other: np.ndarray, cluster: np.ndarray) -> bool:
    """Whether a level of the ``(N,)`` ``codes`` holds the rows of one cluster only, and they
    fall in two levels or more of the ``(N,)`` ``other`` codes (``cluster``: ``(N,)``)."""
    return bool(((_distinct(codes, cluster) == 1) & (_distinct(codes, other) > 1)).any())


def clustered_trend(u: np.ndarray, v: np.ndarray, units: np.ndarray, statistic: float
                    ) -> ClusteredTest | None:
    """Rao-Scott's correction of the linear trend test's ``statistic`` (``M2 = (n - 1) r^2``
    over the ``(N,)`` row and column scores ``u`` and ``v``): the cluster variance of the
    scores' covariance over the variance it has when rows are independent, ``var(du dv) / n``
    (``du``, ``dv`` the centred scores), both at the observed table as :func:`rao_scott`'s
    are: with every row its own cluster the design effect is ``n / (n - 1)`` however strong
    the trend. (Under independence ``var(du dv)`` is ``var(u) var(v)``, the variance ``M2``
    is scaled by; a strong trend makes them differ.)

    Returns:
        The test, or None with fewer than two clusters or no variance.
    """
    u, v = np.asarray(u, np.float64), np.asarray(v, np.float64)
    cluster, k = clusters(np.asarray(units))
    if k < 2:
        return None
    n = len(u)
    products = (u - u.mean()) * (v - v.mean())
    independent = products.var() / n
    if not independent > 0:
        return None
    per_cluster = np.bincount(cluster, weights=products - products.mean(), minlength=k) / n
    design = k / (k - 1) * float(per_cluster @ per_cluster)
    return _corrected(statistic, np.array([design / independent]), k)


def clustered_means_test(values: np.ndarray, group: np.ndarray, units: np.ndarray
                         ) -> dict[str, float | int] | None:
    """Wald test that groups' means are equal when rows come in clusters that may fall in
    several groups (a person photographed at several ages, in several poses).

    A rank test over each person's mean in each group takes a person's means in two groups as
    independent; they agree, so the test is conservative and misses what the person's own
    photos compare. Here the ``K`` group means' covariance is the cluster-robust (CR1) one: the
    sums of each cluster's residuals per group, ``C / (C - 1) (n - 1) / (n - K)`` times their
    cross-products over the group sizes; ``W`` of the ``K - 1`` differences from the first
    group, ``F = W / q`` (``q`` the rank of their covariance) on ``q`` and ``P - 1`` dof, ``P``
    the clusters of the group with fewest: ``C - 1`` where every cluster is in every group, as
    Stata's ``regress, vce(cluster)`` tests, but a group's mean is only as well measured as its
    own clusters let the robust variance see (its clusters' residuals sum to nothing within
    it): with 2 persons of 10 photos in one group of 20, ``C - 1`` dof rejected 32 % of 300
    datasets with equal means at 5 %, ``P - 1`` none (3 persons: 19 % and 2 %; 10: 7 % and
    4 %), and with a single person there the test cannot be made.

    Args:
        values: ``(n,)`` finite values.
        group: ``(n,)`` group codes (any integers).
        units: ``(n,)`` the cluster (person) of each row.

    Returns:
        ``statistic`` (F), ``ndf`` (q), ``ddf`` (P - 1), ``p_value`` and ``clusters`` (C);
        None with fewer than two groups, a group of a single cluster, no variance within
        them, or over :data:`MAX_CONTRASTS` groups less one (its ``(K, K)`` covariance and
        its pseudo-inverse: 2,000 groups took 66 s and 0.57 GB, and they grow as the cube
        and the square).
    """
    g, k = clusters(group)
    c, n_clusters = clusters(units)
    n = len(values)
    if k < 2 or n <= k or k - 1 > MAX_CONTRASTS:
        return None
    ddf = int(_distinct(g, c).min()) - 1   # the clusters of the group with fewest, less one
    if ddf < 1:
        return None
    sizes = np.bincount(g, minlength=k).astype(np.float64)
    means = np.bincount(g, weights=values, minlength=k) / sizes
    scores = np.bincount(c * k + g, weights=values - means[g],      # (C, K) residual sums
                         minlength=n_clusters * k).reshape(n_clusters, k)
    scaled = scores / sizes
    cov = scaled.T @ scaled * n_clusters / (n_clusters - 1) * (n - 1) / (n - k)   # (K, K)
    contrasts = np.hstack([-np.ones((k - 1, 1)), np.eye(k - 1)])                  # (K-1, K)
    spread = contrasts @ cov @ contrasts.T
    rank = int(np.linalg.matrix_rank(spread))
    if rank == 0:
        return None
    diff = contrasts @ means
    f_value = float(diff @ np.linalg.pinv(spread) @ diff) / rank
    return {"statistic": f_value, "ndf": rank, "ddf": ddf,
            "p_value": float(f_distribution.sf(f_value, rank, ddf)), "clusters": n_clusters}


def _design_effects(independent: np.ndarray, design: np.ndarray) -> np.ndarray:
    """``(dof,)`` generalised design effects: the eigenvalues of ``pinv(independent) @ design``
    for symmetric ``(dof, dof)`` covariances, ``independent`` positive semi-definite. With
    ``independent = U L U^T`` and ``S = pinv(L)^(1/2)`` they are those of the symmetric
    ``S U^T design U S`` (``AB`` and ``BA`` share their eigenvalues), which symmetric solvers
    find in less time than a pseudo-inverse and a general solver on the product took (10
    groups by 200 classes, 1,791 dof: the whole test 2.0 s of one core, from 4.3 s)."""
    values, vectors = np.linalg.eigh(independent)
    keep = np.abs(values) > 1e-15 * np.abs(values).max(initial=0.0)   # as pinv's cutoff
    root = np.zeros_like(values)
    root[keep] = 1.0 / np.sqrt(np.abs(values[keep]))
    scaled = vectors * root                                            # U S
    return np.linalg.eigvalsh(scaled.T @ design @ scaled)


def _corrected(statistic: float, effects: np.ndarray, k: int) -> ClusteredTest | None:
    """The second-order correction of an independent-rows chi-square ``statistic`` by the
    ``(dof,)`` generalised design ``effects`` over ``k`` clusters (:func:`_design_effects`),
    taken as at least 1: photos of one person never count for
    more than independent rows. (The estimate falls below 1 where a group or level is held by
    few persons, their deviations from its own share summing to nothing: on 10 independent
    photos of 2 persons in one group it came out about 0.25, and the test rejected at 5 % in
    46 % of tables with no association.)"""
    if not effects.sum() > 1e-9 * len(effects):   # no design variance to speak of
        return None
    effects = np.maximum(effects, 1.0)
    trace, square = float(effects.sum()), float(effects @ effects)
    ndf = trace * trace / square
    f_value = statistic / trace
    return ClusteredTest(f_value, ndf, ndf * (k - 1),
                         float(f_distribution.sf(f_value, ndf, ndf * (k - 1))),
                         trace / len(effects), k)


def _interaction_contrasts(n_rows: int, n_cols: int) -> np.ndarray:
    """``(R C, (R - 1)(C - 1))`` the log-linear model's row-by-column interaction columns over
    the cells (row-major), with the main effects (intercept, rows, columns) projected out:
    the column of row ``i`` and column ``j`` (from 1) is the cell indicator of ``(i, j)``
    centred over the rows and over the columns, ``(e_i - 1/R) (x) (e_j - 1/C)``, the projector
    off the main effects being ``(I - J/R) (x) (I - J/C)``."""
    def centred(m: int) -> np.ndarray:
        return (np.eye(m) - 1.0 / m)[:, 1:]                               # (m, m - 1)

    return np.kron(centred(n_rows), centred(n_cols))


@dataclass
class ShareSpread:
    """How far the ``K`` class shares of rows that come in clusters may stray.

    Attributes:
        covariance: ``(K, K)`` design covariance of the shares, from the clusters' totals.
        clusters: the clusters (persons).
        design_effect: its mean ratio to the covariance of independent rows (over the
            ``K - 1`` free directions of the shares; 1: the clusters cost nothing).
    """

    covariance: np.ndarray
    clusters: int
    design_effect: float


def share_spread(codes: np.ndarray, n_classes: int, units: np.ndarray) -> ShareSpread | None:
    """The :class:`ShareSpread` of the shares of ``(N,)`` class codes ``codes``
    (``0..K-1``; negative codes, rows without a class, left out) when row ``i`` belongs to
    cluster ``units[i]`` (:func:`cluster_spread` of the clusters' class counts). None with
    fewer than two clusters."""
    codes, units = np.asarray(codes), np.asarray(units)
    keep = codes >= 0
    cluster, k = clusters(units[keep])
    counts = sparse.csr_matrix((np.ones(int(keep.sum())), (cluster, codes[keep])),
                               shape=(k, n_classes))
    return cluster_spread(counts)


def cluster_spread(counts: np.ndarray | sparse.csr_matrix, drawn: np.ndarray | None = None
                   ) -> ShareSpread | None:
    """The :class:`ShareSpread` of the class shares of ``(k, K)`` per-cluster class
    ``counts`` (dense or sparse), each cluster taken ``drawn[c]`` times (a resample of the
    clusters; once each by default): :func:`spread_covariances`' estimator. None with fewer
    than two clusters taken."""
    w = np.ones(counts.shape[0]) if drawn is None else np.asarray(drawn, np.float64)
    k = float(w.sum())
    if k < 2:
        return None
    covariance = spread_covariances(counts, w[None])[0]
    n = float(w @ np.asarray(counts.sum(axis=1), np.float64).ravel())
    share = np.asarray(counts.T @ w).ravel() / n                     # (K,)
    independent = (np.diag(share) - np.outer(share, share)) / n
    rank = max(int(np.count_nonzero(share)) - 1, 1)
    effect = float(np.trace(np.linalg.pinv(independent) @ covariance)) / rank
    return ShareSpread(covariance, int(round(k)), effect)


def spread_covariances(counts: np.ndarray | sparse.csr_matrix, drawn: np.ndarray) -> np.ndarray:
    """``(D, K, K)`` covariances of the class shares of ``(k, K)`` per-cluster class
    ``counts`` (dense or sparse) in ``D`` resamples of the clusters, resample ``d`` taking
    cluster ``c`` ``drawn[d, c]`` times (``(D, k)``, at least two in all): ``k' / (k' - 1)``
    over the ``k'`` clusters taken times the sum over them of the outer products of their
    deviations ``(z_c - m_c p) / n`` (``z_c`` their ``(K,)`` counts, ``m_c`` their rows), the
    linearisation estimator :func:`rao_scott` uses."""
    w = np.asarray(drawn, np.float64)                                # (D, k)
    taken = w.sum(axis=1)                                            # (D,) k'
    sizes = np.asarray(counts.sum(axis=1), np.float64).ravel()      # (k,) m_c
    n = w @ sizes                                                    # (D,)
    share = np.asarray(counts.T @ w.T).T / n[:, None]                # (D, K)
    weighted = np.asarray(counts.T @ (w * sizes).T).T                # (D, K) sum_c w_c m_c z_c
    if sparse.issparse(counts):                                      # (D, K, K) sum_c w_c z_c z_c^T
        z = np.stack([(counts.T @ sparse.diags(row) @ counts).toarray() for row in w])
    else:
        z = np.swapaxes(w[:, :, None] * counts, 1, 2) @ counts

    def outer(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a[:, :, None] * b[:, None, :]

    return ((taken / (taken - 1) / n**2)[:, None, None]
            * (z - outer(share, weighted) - outer(weighted, share)
               + (w @ sizes**2)[:, None, None] * outer(share, share)))


def shared_variance(values: np.ndarray, persons: np.ndarray) -> float:
    """The variance of a sum of ``(N,)`` per-unit ``values`` (each unit's centred
    contribution, e.g. ``(e - mean) / N`` for a mean) when unit ``i`` involves the persons
    ``persons[i]`` (``(N, m)``: a pair's two faces, a matched set's treated and control
    faces; repeats within a row are one person): the sum of ``values[i] * values[j]`` over
    every two units ``i, j`` that share a person (``i = j`` included), times ``K / (K - 1)``
    over ``K`` persons — the dyadic-robust variance for pairs, and the same for larger sets.

    Computed without the ``N x N`` sharing matrix: "share at least one person" is, by
    inclusion-exclusion over the persons two units share, the signed sum over every set ``S``
    of persons of the squared sum of the values of the units involving all of ``S``."""
    values = np.asarray(values, np.float64)
    persons = np.asarray(persons)
    persons = persons.reshape(len(persons), -1)
    _, codes = np.unique(persons, return_inverse=True)
    k = int(codes.max()) + 1 if codes.size else 0
    if k < 2:
        return float("nan")
    codes = np.sort(codes.reshape(persons.shape), axis=1)
    codes[:, 1:][codes[:, 1:] == codes[:, :-1]] = -1          # a person counted once per unit
    if codes.shape[1] > SUBSET_FACES:                         # 2^m subsets: count the sharing
        unit = np.repeat(np.arange(len(codes)), codes.shape[1])[codes.ravel() >= 0]
        incidence = sparse.csr_matrix((np.ones(len(unit)), (unit, codes[codes >= 0])),
                                      shape=(len(codes), k))
        sharing = incidence @ incidence.T                     # (N, N) persons two units share
        sharing.data[:] = 1.0
        return k / (k - 1) * float(values @ (sharing @ values))
    total = 0.0
    for size in range(1, codes.shape[1] + 1):
        keys = np.concatenate([codes[:, list(chosen)]
                               for chosen in combinations(range(codes.shape[1]), size)])
        weights = np.tile(values, len(keys) // len(values))
        real = (keys >= 0).all(axis=1)
        if not real.any():
            break
        _, group = np.unique(keys[real], axis=0, return_inverse=True)
        sums = np.bincount(group.ravel(), weights[real])
        total += (-1) ** (size + 1) * float(sums @ sums)
    return k / (k - 1) * total


def pair_rate_interval(errors: np.ndarray, persons: np.ndarray, confidence: float = 0.95
                       ) -> tuple[float, float, float]:
    """95 % interval of the rate of ``(P,)`` bool ``errors`` over pairs whose persons are
    ``(P, 2)`` ``persons``: Wilson's at ``P`` over the design effect, the
    :func:`shared_variance` of the rate over its binomial variance (taken as at least 1, so
    never narrower than the interval of independent pairs; 1 when the rate is 0 or 1).

    Returns:
        ``(low, high, design_effect)``; NaN without pairs.
    """
    e = np.asarray(errors, np.float64)
    n = len(e)
    if not n:
        return float("nan"), float("nan"), float("nan")
    rate = float(e.mean())
    binomial = rate * (1 - rate) / n
    variance = shared_variance((e - rate) / n, persons) if binomial > 0 else float("nan")
    effect = max(variance / binomial, 1.0) if binomial > 0 and np.isfinite(variance) else 1.0
    return (*effective_wilson(rate, n / effect, confidence), effect)
