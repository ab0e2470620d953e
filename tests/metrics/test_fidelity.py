"""Fidelity metrics: PRDC against brute force and on mode dropping, Fréchet and kernel distances."""

from __future__ import annotations

import math
import tracemalloc

import numpy as np
import pytest
from scipy.linalg import sqrtm

from latentplay.errors import UserError
from latentplay.metrics.fidelity import PRDC, frechet_distance, kernel_distance, prdc


def brute_prdc(real: np.ndarray, fake: np.ndarray, k: int) -> dict[str, object]:
    """PRDC by explicit loops over pairs, following Kynkäänniemi et al. / Naeem et al."""
    def dist(a: np.ndarray, b: np.ndarray) -> float:
        return math.sqrt(sum((float(x) - float(y)) ** 2 for x, y in zip(a, b, strict=True)))

    def radius(points: np.ndarray, i: int) -> float:
        return sorted(dist(points[i], points[j]) for j in range(len(points)) if j != i)[k - 1]

    n, m = len(real), len(fake)
    r_rad = [radius(real, i) for i in range(n)]
    f_rad = [radius(fake, j) for j in range(m)]
    d = [[dist(real[i], fake[j]) for j in range(m)] for i in range(n)]
    fake_inside = [any(d[i][j] < r_rad[i] for i in range(n)) for j in range(m)]
    fake_density = [sum(d[i][j] < r_rad[i] for i in range(n)) / k for j in range(m)]
    real_recalled = [any(d[i][j] < f_rad[j] for j in range(m)) for i in range(n)]
    real_nearest = [min(d[i]) for i in range(n)]
    real_covered = [real_nearest[i] < r_rad[i] for i in range(n)]
    # a copy: closer to its nearest real point than that point's own nearest real neighbour
    nn1 = [sorted(dist(real[i], real[j]) for j in range(n) if j != i)[0] for i in range(n)]
    nearest_real = [min(range(n), key=lambda i, j=j: d[i][j]) for j in range(m)]
    fake_copy = [d[nearest_real[j]][j] <= nn1[nearest_real[j]] for j in range(m)]
    return {"precision": sum(fake_inside) / m, "recall": sum(real_recalled) / n,
            "density": sum(fake_density) / m, "coverage": sum(real_covered) / n,
            "authenticity": 1 - sum(fake_copy) / m, "fake_copy": fake_copy,
            "fake_nearest_real": nearest_real, "real_nn": nn1,
            "fake_inside": fake_inside, "fake_density": fake_density, "real_recalled": real_recalled,
            "real_nearest": real_nearest, "real_covered": real_covered, "real_radius": r_rad}


@pytest.mark.parametrize("chunk_elements", [7, 1, 2**24])
@pytest.mark.parametrize("k", [1, 3])
def test_prdc_matches_brute_force(chunk_elements: int, k: int) -> None:
    rng = np.random.default_rng(0)
    real = rng.normal(size=(12, 3)).astype(np.float32)
    fake = (rng.normal(size=(9, 3)) * 1.3 + 0.4).astype(np.float32)
    got = prdc(real, fake, k=k, chunk_elements=chunk_elements)
    want = brute_prdc(real, fake, k)
    for name in ("precision", "recall", "density", "coverage", "authenticity"):
        assert getattr(got, name) == pytest.approx(want[name], abs=1e-12), name
    for name in ("fake_inside", "real_recalled", "real_covered", "fake_copy",
                 "fake_nearest_real"):
        np.testing.assert_array_equal(getattr(got, name), np.array(want[name]), err_msg=name)
    for name in ("fake_density", "real_nearest", "real_radius", "real_nn"):
        np.testing.assert_allclose(getattr(got, name), np.array(want[name]), rtol=1e-9, err_msg=name)
    assert got.k == k
    # the scalars are neither all 0 nor all 1, so a wrong comparison would show
    assert 0 < got.precision < 1 or 0 < got.recall < 1 or 0 < got.coverage < 1
    assert got.to_dict() == {"precision": got.precision, "recall": got.recall, "density": got.density,
                             "coverage": got.coverage, "authenticity": got.authenticity, "k": k}
    assert isinstance(got, PRDC)


def test_prdc_holds_at_most_two_distance_blocks() -> None:
    """The distance blocks are computed in place and dropped before the next: 3,000 real and
    2,500 generated points with blocks of 2**20 entries (8 MiB) peaked at 5.4 blocks, chiefly
    the temporaries of the sum, the clip, the root and the partition; now about two (the
    block and the product it is made of), plus the points' small arrays."""
    rng = np.random.default_rng(0)
    real, fake = rng.normal(size=(3000, 65)), rng.normal(size=(2500, 65)) + 0.2
    block = 2**20 * 8
    tracemalloc.start()
    try:
        got = prdc(real, fake, k=5, chunk_elements=2**20)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    whole = prdc(real, fake, k=5, chunk_elements=len(real) * len(fake))  # one block of all pairs
    for name in ("real_radius", "real_nn", "real_nearest", "fake_nearest"):  # BLAS rounds by block
        np.testing.assert_allclose(getattr(got, name), getattr(whole, name), rtol=1e-12, err_msg=name)
    for name in ("fake_nearest_real", "fake_inside", "real_recalled"):
        np.testing.assert_array_equal(getattr(got, name), getattr(whole, name), err_msg=name)
    assert peak < 2.6 * block, f"peak {peak / block:.2f} blocks"


def test_prdc_duplicates_and_ties_by_hand() -> None:
    """Integer distances make ties exact: a point on a ball's boundary is outside (strict <)."""
    real = np.array([[0.0], [0.0], [1.0], [3.0], [7.0]])
    fake = np.array([[0.5], [2.0], [5.0], [0.0]])
    got = prdc(real, fake, k=1, chunk_elements=3)
    # a duplicate is a neighbour at distance 0, so the two zeros have radius 0
    np.testing.assert_array_equal(got.real_radius, [0.0, 0.0, 1.0, 2.0, 4.0])
    # 5 sits on the boundary of 3's ball (inside 7's); 0 is on the boundary of every ball it touches
    np.testing.assert_array_equal(got.fake_inside, [True, True, True, False])
    np.testing.assert_array_equal(got.fake_density, [1.0, 1.0, 1.0, 0.0])
    np.testing.assert_array_equal(got.real_covered, [False, False, True, True, True])
    np.testing.assert_array_equal(got.real_nearest, [0.0, 0.0, 0.5, 1.0, 2.0])
    # fake radii 0.5, 1.5, 3, 0.5: 1.0 is on 0.5's boundary but inside 2.0's ball
    np.testing.assert_array_equal(got.real_recalled, [True, True, True, True, True])
    assert (got.precision, got.recall, got.density, got.coverage) == (0.75, 1.0, 0.75, 0.6)
    # copies: no farther from the nearest real point than its own nearest neighbour (ties
    # count, as in Alaa et al.'s reference): 2 (1 from 1.0, whose neighbour is 1 away), 5, 0
    np.testing.assert_array_equal(got.fake_copy, [False, True, True, True])
    want = brute_prdc(real, fake, 1)
    scalars = ("precision", "recall", "density", "coverage", "authenticity")
    assert got.to_dict() == {key: want[key] for key in scalars} | {"k": 1}


def test_prdc_recall_uses_generated_radii_strictly() -> None:
    real = np.array([[0.0], [1.0], [10.0], [11.0]])
    fake = np.array([[2.0], [4.0], [13.0], [20.0]])  # k = 1 radii: 2, 2, 7, 7
    got = prdc(real, fake, k=1)
    # 0 lies on the boundary of 2's ball (distance 2 = radius 2): not recalled
    np.testing.assert_array_equal(got.real_recalled, [False, True, True, True])
    assert got.recall == 0.75 == brute_prdc(real, fake, 1)["recall"]


CENTRES = np.array([[0.0, 0.0], [20.0, 0.0], [0.0, 20.0], [20.0, 20.0]])


def blobs(rng: np.random.Generator, n: int, which: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points, equally from the Gaussian blobs ``which``; also each point's blob."""
    label = np.repeat(which, n // len(which))
    return CENTRES[label] + rng.normal(size=(len(label), 2)), label


def test_prdc_detects_dropped_modes() -> None:
    rng = np.random.default_rng(1)
    real, label = blobs(rng, 400, [0, 1, 2, 3])
    fake, _ = blobs(rng, 400, [0, 3])
    got = prdc(real, fake, k=5, chunk_elements=5000)
    assert got.precision > 0.9
    assert got.recall == pytest.approx(0.5, abs=0.1)
    assert got.coverage == pytest.approx(0.5, abs=0.1)
    kept = np.isin(label, [0, 3])
    assert got.real_covered[~kept].mean() < 0.02
    assert got.real_covered[kept].mean() > 0.85
    assert got.real_recalled[~kept].mean() < 0.02
    assert got.real_nearest[~kept].min() > 5


def test_prdc_same_distribution() -> None:
    rng = np.random.default_rng(2)
    real, _ = blobs(rng, 400, [0, 1, 2, 3])
    fake, _ = blobs(rng, 400, [0, 1, 2, 3])
    got = prdc(real, fake, k=5)
    assert got.precision > 0.8 and got.recall > 0.8 and got.coverage > 0.8
    assert got.density == pytest.approx(1.0, abs=0.25)


def random_cov(rng: np.random.Generator, d: int) -> np.ndarray:
    a = rng.normal(size=(d, d))
    return a @ a.T / d + 0.1 * np.eye(d)


def test_frechet_matches_sqrtm_closed_form() -> None:
    rng = np.random.default_rng(3)
    d = 6
    real = rng.multivariate_normal(np.zeros(d), random_cov(rng, d), size=300)
    fake = rng.multivariate_normal(np.ones(d) * 0.5, random_cov(rng, d), size=200)
    s_r, s_f = np.cov(real, rowvar=False), np.cov(fake, rowvar=False)
    assert not np.allclose(s_r @ s_f, s_f @ s_r, atol=1e-2)  # the covariances do not commute
    diff = real.mean(0) - fake.mean(0)
    cross = sqrtm(s_r @ s_f).real
    want = diff @ diff + np.trace(s_r + s_f - 2 * cross)
    got = frechet_distance(real.astype(np.float64), fake)
    assert got == pytest.approx(want, rel=1e-6)
    assert got > 1.0


def test_frechet_identical_and_shifted() -> None:
    rng = np.random.default_rng(4)
    x = rng.normal(size=(100, 5)) @ rng.normal(size=(5, 5)) * 3
    scale = float(np.trace(np.cov(x, rowvar=False)))
    assert abs(frechet_distance(x, x)) < 1e-8 * scale
    v = np.array([1.0, -2.0, 0.5, 3.0, 0.0])
    assert frechet_distance(x, x + v) == pytest.approx(v @ v, rel=1e-7)
    one_d = rng.normal(size=(50, 1))
    # 1-d: (mu - 2 mu)^2 + s + 4 s - 2 sqrt(4 s^2) = mu^2 + s
    want = one_d.mean() ** 2 + np.var(one_d, ddof=1)
    assert frechet_distance(one_d, one_d * 2) == pytest.approx(want, rel=1e-9)


def brute_mmd2(x: np.ndarray, y: np.ndarray) -> float:
    d = x.shape[1]

    def kern(a: np.ndarray, b: np.ndarray) -> float:
        return (sum(float(p) * float(q) for p, q in zip(a, b, strict=True)) / d + 1) ** 3

    m = len(x)
    xx = sum(kern(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(kern(y[i], y[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    xy = sum(kern(x[i], y[j]) for i in range(m) for j in range(m)) / (m * m)
    return xx + yy - 2 * xy


def test_kernel_distance_matches_hand_computation() -> None:
    rng = np.random.default_rng(5)
    x = rng.normal(size=(8, 3)).astype(np.float32)
    y = (rng.normal(size=(8, 3)) + 0.7).astype(np.float32)
    mean, std = kernel_distance(x, y, subset_size=50, subsets=1)
    assert mean == pytest.approx(brute_mmd2(x, y), rel=1e-9)
    assert std == 0.0
    # smaller subsets: real indices then generated indices, drawn from default_rng(seed)
    draw = np.random.default_rng(1)
    values = []
    for _ in range(3):
        xi, yi = draw.choice(8, 4, replace=False), draw.choice(8, 4, replace=False)
        values.append(brute_mmd2(x[xi], y[yi]))
    mean, std = kernel_distance(x, y, subset_size=4, subsets=3, seed=1)
    assert mean == pytest.approx(np.mean(values), rel=1e-9)
    assert std == pytest.approx(np.std(values), rel=1e-9) and std > 0
    # no subset size: half the smaller set below 2,000 points (12 and 8 points: subsets of 4)
    x12 = np.r_[x, x[:4] + 1]
    assert kernel_distance(x12, y, subsets=3) == kernel_distance(x12, y, subset_size=4, subsets=3)


def test_kernel_distance_same_and_shifted() -> None:
    rng = np.random.default_rng(6)
    real = rng.normal(size=(600, 8))
    same = rng.normal(size=(600, 8))
    mean, std = kernel_distance(real, same, subset_size=100, subsets=50)
    assert abs(mean) < 3 * std / math.sqrt(50) + 1e-12
    shifted = rng.normal(size=(600, 8)) + 0.5
    mean_s, std_s = kernel_distance(real, shifted, subset_size=100, subsets=50)
    assert mean_s > 10 * std_s / math.sqrt(50) and mean_s > 10 * abs(mean)
    assert kernel_distance(real, shifted, subset_size=100, subsets=5, seed=3) == \
        kernel_distance(real, shifted, subset_size=100, subsets=5, seed=3)


@pytest.mark.parametrize(("call", "message"), [
    (lambda r, f: prdc(r, f[:, :2]), "dimension"),
    (lambda r, f: prdc(r, f, k=10), "more than k"),
    (lambda r, f: prdc(r, f, k=0), "positive integer"),
    (lambda r, f: prdc(r[0], f), "2-d"),
    (lambda r, f: prdc(r, np.where(np.arange(30)[:, None] == 3, np.nan, f)), "NaN"),
    (lambda r, f: frechet_distance(r[:1], f), "at least 2"),
    (lambda r, f: frechet_distance(r, np.full_like(f, np.inf)), "NaN or infinite"),
    (lambda r, f: kernel_distance(r, f[:, :1]), "dimension"),
    (lambda r, f: kernel_distance(r, f, subsets=0), "subsets"),
    (lambda r, f: prdc(r[:, :0], f[:, :0]), "no dimensions"),
    (lambda r, f: frechet_distance(r[:, :0], f[:, :0]), "no dimensions"),
    (lambda r, f: kernel_distance(r[:, :0], f[:, :0]), "no dimensions"),
])
def test_bad_input_raises_user_error(call, message: str) -> None:
    rng = np.random.default_rng(7)
    real, fake = rng.normal(size=(10, 3)), rng.normal(size=(30, 3))
    with pytest.raises(UserError, match=message):
        call(real, fake)


def test_authenticity_of_copies_fresh_draws_and_held_out_points() -> None:
    rng = np.random.default_rng(3)
    real = rng.normal(size=(2000, 8))
    copies = real[:500] + rng.normal(size=(500, 8)) * 1e-3
    fresh = rng.normal(size=(500, 8))
    assert prdc(real, copies, k=5).authenticity == 0.0
    # independent draws are copies only by chance (mutual nearest neighbours): well above 0
    # and equal, within noise, to what held-out real points score
    held_out = rng.normal(size=(500, 8))
    a, b = prdc(real, fresh, k=5).authenticity, prdc(real, held_out, k=5).authenticity
    assert 0.3 < a < 0.9 and abs(a - b) < 0.08
    half = np.r_[copies[:250], fresh[:250]]
    assert prdc(real, half, k=5).authenticity == pytest.approx(a / 2, abs=0.06)
