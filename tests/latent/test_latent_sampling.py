"""Condition sweeps, traversals, interpolation and blends of latent codes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from latentplay import train
from latentplay.errors import UserError
from latentplay.latent import interpolate as ip
from latentplay.latent import traverse as tr
from latentplay.latent.sampling import (
    CHANGE_NOTE,
    DIVERSITY_NOTE,
    change_maps,
    condition_change,
    condition_sweep,
    effect_line,
    in_training_range,
    near_counts,
    pairwise_diversity,
)
from latentplay.models.condition import ConditionPart, ConditionSpec
from latentplay.viz.grid import heat_images


class _Pixels(torch.nn.Module):
    """Decodes code ``z`` (B, 4) (plus condition) to a 2x2 gray image of ``(z + 4) / 8``, so
    each pixel shows one latent entry."""

    family, latent_dim, channels, size, crop = "vae", 4, 1, 2, 1.0

    def __init__(self, spec: ConditionSpec | None = None) -> None:
        super().__init__()
        self.condition_spec = spec or ConditionSpec()

    def decode(self, z: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        shift = 0 if cond is None else cond.sum(1, keepdim=True)
        return ((z + shift + 4) / 8).reshape(-1, 1, 2, 2)


def _codes(images: np.ndarray) -> np.ndarray:
    """Invert :class:`_Pixels`: ``(..., 2, 2, 1)`` uint8 -> ``(..., 4)`` codes."""
    return images.reshape(*images.shape[:-3], 4).astype(np.float64) / 255 * 8 - 4


def test_interpolation_ends_norms_and_blend() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(64), rng.standard_normal(64)
    for path in (ip.lerp, ip.slerp):
        z = path(a, b, 7)
        assert z.shape == (7, 64)
        np.testing.assert_allclose(z[0], a, atol=1e-5)
        np.testing.assert_allclose(z[-1], b, atol=1e-5)
    norms = np.linalg.norm(ip.slerp(a, b, 7), axis=1)
    np.testing.assert_allclose(norms, np.linspace(np.linalg.norm(a), np.linalg.norm(b), 7),
                               rtol=1e-5)
    # the straight line cuts through the low-norm middle of the Gaussian shell
    assert np.linalg.norm(ip.lerp(a, b, 3)[1]) < 0.8 * min(np.linalg.norm(a), np.linalg.norm(b))
    # slerp's points stay in the plane of a and b
    z = ip.slerp(a, b, 5)[2]
    basis = np.linalg.qr(np.stack([a, b], 1))[0]
    np.testing.assert_allclose(basis @ (basis.T @ z), z, atol=1e-4)
    np.testing.assert_allclose(ip.slerp(a, 2 * a, 3)[1], 1.5 * a, rtol=1e-5)  # parallel codes
    codes = np.array([[0.0, 0.0], [4.0, 8.0]])
    np.testing.assert_allclose(ip.blend(codes), [2.0, 4.0])
    np.testing.assert_allclose(ip.blend(codes, np.array([3.0, 1.0])), [1.0, 2.0])
    for weights in ([1.0, -1.0], [2.0, -1.0], [1.0, np.nan], [1.0, np.inf]):  # NaN, inf: no NaN codes
        with pytest.raises(UserError, match="finite non-negative"):
            ip.blend(codes, np.array(weights))
    with pytest.raises(UserError):
        ip.lerp(a, b[:3], 4)
    with pytest.raises(UserError, match="at least 2 steps, got 1"):  # a path has both its ends
        ip.between(a, b, 1)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_interpolating_or_blending_a_code_that_is_not_finite_is_refused(bad: float) -> None:
    """A NaN or infinite entry would make every code of the path NaN (slerp's norm and angle),
    decoded silently as blank faces."""
    a, b = np.ones(4), np.arange(4.0)
    a[1] = bad
    for path in (ip.lerp, ip.slerp):
        for pair in ((a, b), (b, a)):
            with pytest.raises(UserError, match="finite"):
                path(*pair, 3)
    with pytest.raises(UserError, match="finite"):
        ip.blend(np.stack([a, b]))


@pytest.mark.parametrize("nudge", [0.0, 1e-7])
def test_slerp_between_opposite_codes_goes_round_the_sphere(nudge: float) -> None:
    """Codes ``a`` and (nearly) ``-a``: half a great circle through the unit vector orthogonal
    to ``a`` made from the axis least aligned with it (here the third), the norm kept."""
    a = np.array([3.0, -2.0, 0.5, 1.0])
    b = -a + np.array([0.0, nudge, 0.0, 0.0])
    z = ip.slerp(a, b, 5)
    np.testing.assert_allclose(np.linalg.norm(z, axis=1), np.linalg.norm(a), rtol=1e-6)
    np.testing.assert_allclose(z[0], a, rtol=1e-6)
    np.testing.assert_allclose(z[-1], b, rtol=1e-6)
    across = np.array([0.0, 0.0, 1.0, 0.0]) - 0.5 / (a @ a) * a
    np.testing.assert_allclose(z[2], np.linalg.norm(a) * across / np.linalg.norm(across),
                               rtol=1e-5)
    np.testing.assert_allclose(ip.slerp(np.r_[2.0], np.r_[-1.0], 4), [[2.0], [1.0], [0.0], [-1.0]],
                               atol=1e-6)  # one dimension: no circle, the segment


def test_slerp_steps_are_equal_angles() -> None:
    """Between orthogonal unit codes the four steps are 0, 30, 60 and 90 degrees from the
    first: equal angles, not the equal chords of a normalised straight line."""
    degrees = np.radians([0, 30, 60, 90])
    np.testing.assert_allclose(ip.slerp(np.r_[1.0, 0.0], np.r_[0.0, 1.0], 4),
                               np.stack([np.cos(degrees), np.sin(degrees)], 1), atol=1e-6)


def test_nearly_opposite_codes_at_a_clear_angle_keep_their_own_circle() -> None:
    """Codes 0.01 radians short of opposite lie on one great circle: the path stays in their
    plane (here of the first and third axes), not the half circle through the second axis
    taken for codes too close to opposite to tell a plane."""
    angle = np.pi - 0.01
    a, b = np.array([1.0, 0.0, 0.0]), np.array([np.cos(angle), 0.0, np.sin(angle)])
    z = ip.slerp(a, b, 3)
    np.testing.assert_allclose(z[1], [np.cos(angle / 2), 0.0, np.sin(angle / 2)], atol=1e-6)


def test_pairwise_diversity_by_hand() -> None:
    images = np.zeros((3, 2, 2, 1), np.uint8)
    images[1] = 255
    images[2, 0, 0] = 255  # one of 4 pixels differs from image 0
    # RMS distances: 0-1 = 1, 0-2 = 0.5, 1-2 = sqrt(3/4)
    assert pairwise_diversity(images) == pytest.approx((1 + 0.5 + np.sqrt(0.75)) / 3)
    assert pairwise_diversity(np.repeat(images[:1], 4, 0)) == pytest.approx(0.0, abs=1e-6)


def test_axis_traversal_moves_only_the_chosen_axis() -> None:
    model = _Pixels()
    base = np.array([0.5, -0.5, 1.0, 0.0], np.float32)
    scale = np.array([1.0, 2.0, 1.0, 0.5], np.float32)
    values = np.array([-1.0, 0.0, 1.0])
    rows = tr.axis_traversal(model, [1, 3], values, base=base, scale=scale)
    assert rows.shape == (2, 3, 2, 2, 1)
    codes = _codes(rows)
    tol = 8 / 255
    for r, axis in enumerate([1, 3]):
        expected = np.repeat(base[None], 3, 0)
        expected[:, axis] = base[axis] + values * scale[axis]
        np.testing.assert_allclose(codes[r], expected, atol=tol)
    assert tr.traversal_summary(rows)[0] > tr.traversal_summary(rows)[1] > 0
    ends = np.zeros((2, 2, 2, 2, 1), np.uint8)  # RMS change: every pixel 0 -> 1; half 0 -> 1
    ends[0, 1] = 255
    ends[1, 1, 0] = 255
    assert tr.traversal_summary(ends) == pytest.approx([1.0, np.sqrt(0.5)])
    with pytest.raises(UserError):
        tr.axis_traversal(model, [4], values)


def test_pca_traversal_follows_the_principal_axis() -> None:
    """The widest axis has SD 2 (variance 4), so a step of one SD moves the code by 2."""
    rng = np.random.default_rng(1)
    mu = rng.standard_normal((500, 4)) * np.array([0.1, 2.0, 0.05, 0.3])
    axes = tr.pca_axes(mu)
    assert axes.explained.sum() == pytest.approx(1.0, abs=1e-5)
    assert abs(axes.components[0, 1]) > 0.99  # the widest axis is dimension 1
    assert axes.std[0] == pytest.approx(mu[:, 1].std(ddof=1), rel=0.05)
    rows = tr.pca_traversal(_Pixels(), axes, [0], np.array([-1.0, 1.0]))
    moved = _codes(rows)[0, 1] - _codes(rows)[0, 0]
    assert abs(moved[1]) == pytest.approx(2 * axes.std[0], abs=0.1)
    assert np.abs(moved[[0, 2, 3]]).max() < 0.1
    assert list(tr.ranked_axes(mu.astype(np.float32))) == [1, 3, 0, 2]
    assert len(tr.pca_axes(mu, 2).components) == 2
    assert len(tr.pca_axes(mu[:3]).components) == 3  # 3 codes span at most 3 axes
    for k in (0, -1):  # no axes asked: one line, not all axes or scikit-learn's traceback
        with pytest.raises(UserError, match="at least 1 principal axis"):
            tr.pca_axes(mu, k)


def test_axis_frame_prior_or_data() -> None:
    mu = np.array([[1.0, 2.0], [3.0, 2.0]], np.float32)
    centre, scale = tr.axis_frame(_Pixels(), None)
    assert centre.tolist() == [0.0] * 4 and scale.tolist() == [1.0] * 4

    class _AE(_Pixels):
        family, latent_dim = "ae", 2

    centre, scale = tr.axis_frame(_AE(), mu)
    assert centre.tolist() == [2.0, 2.0] and scale.tolist() == [1.0, 0.0]
    with pytest.raises(UserError):
        tr.axis_frame(_AE(), None)


def test_condition_sweep_same_codes_across_values() -> None:
    spec = ConditionSpec([ConditionPart("smile", "continuous", 1, range=(-1.0, 1.0)),
                          ConditionPart("gender", "categorical", 2, names=["f", "m"])])
    model = _Pixels(spec)
    sweep = condition_sweep(model, "smile", [-1.0, 0.5, 2.0], per_value=3, fixed={"gender": "m"})
    assert sweep.images.shape == (3, 3, 2, 2, 1)
    assert sweep.in_range == [True, True, False]
    codes = _codes(sweep.images)  # z + smile + 1 (gender one-hot sums to 1)
    np.testing.assert_allclose(codes[1] - codes[0], 1.5, atol=0.07)  # same codes, smile +1.5
    assert "outside training" in sweep.captions()[2]
    # the same codes moved by smile +1.5: every pixel by 1.5 / 8 (uint8 rounding aside)
    assert sweep.change[0] == 0 and abs(sweep.change[1] - 1.5 / 8) < 0.005
    # the figure's row labels say what their numbers are (they read "div 0.003", unexplained)
    assert sweep.row_labels()[0] == f"{sweep.captions()[0]}\ndiversity {sweep.diversity[0]:.3f}"
    assert sweep.row_labels()[1] == (f"{sweep.captions()[1]}\ndiversity {sweep.diversity[1]:.3f}"
                                     f"\nchange {sweep.change[1]:.3f}")
    assert "diversity: mean RMS pixel difference" in DIVERSITY_NOTE
    assert "from the same code at the first value" in CHANGE_NOTE
    assert sweep.summary() == (f"smile -1 -> 2 changes a face by {sweep.change[2]:.3f} (RMS, pixels "
                               f"0-1); two faces of one smile differ by {sweep.diversity.mean():.3f}")
    one = condition_sweep(model, "smile", [0.0], per_value=1, fixed={"gender": "m"})
    assert one.row_labels() == ["smile=0\ndiversity n/a"] and one.summary() is None
    fresh = condition_sweep(model, "smile", [0.0, 0.0], per_value=3, fixed={"gender": "m"},
                            same_codes=False)
    assert not np.array_equal(fresh.images[0], fresh.images[1])
    # the first value decodes the seed's first draw either way (one seed, one first row)
    assert np.array_equal(fresh.images[0], condition_sweep(model, "smile", [0.0, 0.0], per_value=3,
                                                           fixed={"gender": "m"}).images[0])
    assert fresh.change is None and fresh.summary() is None  # new codes: no change to measure
    assert "change" not in fresh.row_labels()[1]
    classes = condition_sweep(model, "gender", None, per_value=2, fixed={"smile": 0.0})
    assert classes.values == ["f", "m"]
    with pytest.raises(UserError, match="gender"):
        condition_sweep(model, "smile", [0.0])
    with pytest.raises(UserError, match="not a condition"):
        condition_sweep(model, "age", [0.0], fixed={"gender": "m"})
    with pytest.raises(UserError, match="not conditional"):
        condition_sweep(_Pixels(), "smile", [0.0])
    with pytest.raises(UserError, match="'smile' takes a number, got 'wide'"):
        condition_sweep(model, "smile", [0.0, "wide"], fixed={"gender": "m"})


def test_a_sweep_says_when_its_condition_barely_shows() -> None:
    """A decoder that ignores its condition: no change, and the summary says so."""

    class _Deaf(_Pixels):
        def decode(self, z: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
            return super().decode(z, None if cond is None else cond * 0)

    spec = ConditionSpec([ConditionPart("smile", "continuous", 1, range=(-1.0, 1.0))])
    sweep = condition_sweep(_Deaf(spec), "smile", [-1.0, 1.0], per_value=4)
    assert sweep.change.tolist() == [0.0, 0.0]
    assert sweep.summary().endswith(": the condition barely shows")
    # the call-out is for a change under a tenth of the diversity
    assert effect_line("smile", "-1", "1", 0.09, 1.0).endswith(": the condition barely shows")
    assert effect_line("smile", "-1", "1", 0.15, 1.0).endswith("differ by 1.000")


def test_condition_change_and_where_it_changes() -> None:
    rng = np.random.default_rng(0)
    first = rng.integers(0, 200, (3, 4, 4, 3), dtype=np.uint8)
    last = first.copy()
    last[0, 1, 2, :] += 51  # code 0: one pixel, every channel, by 0.2
    last[2, 0, 0, 0] += 51  # code 2: one channel of one pixel
    images = np.stack([first, last])
    change = condition_change(images)
    np.testing.assert_allclose(change, [0.0, (np.sqrt(3 * 0.2 ** 2 / 48) + np.sqrt(0.2 ** 2 / 48)) / 3])
    maps = change_maps(first, last)
    assert maps.shape == (3, 4, 4)
    assert maps[0, 1, 2] == pytest.approx(0.2) and maps[2, 0, 0] == pytest.approx(0.2 / 3)
    assert maps.sum() == pytest.approx(0.2 + 0.2 / 3)
    heat = heat_images(maps, top=0.1)
    assert heat.shape == (3, 4, 4, 3) and heat.dtype == np.uint8
    darkest, brightest = heat_images(np.array([[[0.0, 1.0]]]), 1.0)[0, 0]
    assert (heat[1] == darkest).all()  # code 1 unchanged: all black
    np.testing.assert_array_equal(heat[0, 1, 2], brightest)  # 0.2, past the top 0.1
    assert (heat[2, 0, 0] != darkest).any() and (heat[2, 0, 0] != brightest).any()


def test_condition_sweep_on_a_trained_cvae(cvae_run: Path) -> None:
    model = train.load_model(cvae_run)
    sweep = condition_sweep(model, "smile", [-1.0, 1.0], per_value=4, fixed={"gender": "female"})
    assert sweep.images.shape == (2, 4, 32, 32, 3)
    assert not np.array_equal(sweep.images[0], sweep.images[1])  # the condition is used
    assert np.all(sweep.diversity > 0)


def test_near_counts_split_the_training_faces_between_the_swept_values() -> None:
    """Each value counts the faces within half the gap to its neighbours (the one gap at an
    end); a repeated value counts the same faces; a class counts its faces by name or code."""
    smile = ConditionPart("smile", "continuous", 1, range=(-1.0, 1.0))
    trained = np.array([-1.0, -0.6, -0.5, -0.2, 0.0, 0.49, 0.5, 0.9, 1.0, 1.6])
    counts, windows = near_counts(smile, [0.0, 1.0, 0.0, -3.0], trained)
    # distinct -3, 0, 1: gaps 3 and 1 -> [-4.5, -1.5), [-1.5, 0.5), [0.5, 1.5)
    assert windows == [[-1.5, 0.5], [0.5, 1.5], [-1.5, 0.5], [-4.5, -1.5]]
    assert counts == [6, 3, 6, 0]  # 1.6 lies beyond the last window
    assert near_counts(smile, [0.5, 0.5], trained) is None  # one value: no gap to count within
    gender = ConditionPart("gender", "categorical", 2, names=["f", "m"])
    codes = np.array([0, 1, 1, 1])
    assert near_counts(gender, ["m", "f", 1], codes) == ([3, 1, 3], None)


def test_in_training_range_allows_float32_rounding() -> None:
    """A face's float32 value plus a shift lands a unit in the last place past the end."""
    smile = ConditionPart("smile", "continuous", 1, range=(-1.0, 1.0))
    assert in_training_range(smile, float(np.nextafter(np.float32(1), np.float32(2))))
    assert not in_training_range(smile, 1.001) and not in_training_range(smile, -1.001)
    # a class is inside unless no training row held it (test_condition_edges)
    assert in_training_range(ConditionPart("g", "categorical", 2), 1)


def test_conditions_move_from_the_first_code_s_to_the_second_s() -> None:
    z, cond = ip.between(np.zeros(2), np.ones(2), 3, "lerp", cond_a=np.array([1.0, 0.0]),
                         cond_b=np.array([0.0, 1.0]))
    np.testing.assert_allclose(z[:, 0], [0.0, 0.5, 1.0])
    np.testing.assert_allclose(cond, [[1.0, 0.0], [0.5, 0.5], [0.0, 1.0]])
