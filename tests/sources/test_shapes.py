from pathlib import Path

import numpy as np

from latentplay import sources
from latentplay import store as st
from latentplay.sources import shapes
from latentplay.sources.shapes import FACTOR_SIZES, ShapesConfig


def test_grid_order_is_dsprites_mixed_radix() -> None:
    # dSprites rows: shape slowest, then scale, orientation, pos_x, pos_y fastest
    steps = {
        1: [0, 0, 0, 0, 1],
        32: [0, 0, 0, 1, 0],
        32 * 32: [0, 0, 1, 0, 0],
        40 * 32 * 32: [0, 1, 0, 0, 0],
        6 * 40 * 32 * 32: [1, 0, 0, 0, 0],
    }
    for index, factors in steps.items():
        assert shapes.factors_of_indices(np.array([index]))[0].tolist() == factors
    assert shapes.NUM_IMAGES == 737_280
    rng = np.random.default_rng(0)
    idx = rng.integers(0, shapes.NUM_IMAGES, 1000)
    f = shapes.factors_of_indices(idx)
    assert np.array_equal(st.mixed_radix_index(f, list(FACTOR_SIZES)), idx)
    assert (f.max(axis=0) < np.array(FACTOR_SIZES)).all()


def test_full_grid_chunks_follow_the_order() -> None:
    config = ShapesConfig(full=True)
    factors, images = next(shapes.generate(config, chunk=64))
    assert np.array_equal(factors, shapes.factors_of_indices(np.arange(64)))
    assert images.shape == (64, 64, 64) and set(np.unique(images)) <= {0, 255}


def test_factors_change_the_pixels_as_named() -> None:
    base = np.array([[0, 5, 0, 16, 16]])

    def centroid(f: np.ndarray) -> tuple[float, float]:
        img = shapes.render(f)[0]
        ys, xs = np.nonzero(img)
        return xs.mean(), ys.mean()

    x0, y0 = centroid(base)
    x1, y1 = centroid(base + [[0, 0, 0, 10, 0]])
    x2, y2 = centroid(base + [[0, 0, 0, 0, 10]])
    assert x1 > x0 + 5 and abs(y1 - y0) < 1
    assert y2 > y0 + 5 and abs(x2 - x0) < 1
    areas = [shapes.render(np.array([[0, s, 0, 16, 16]]))[0].sum() for s in range(6)]
    assert all(a < b for a, b in zip(areas, areas[1:], strict=False))
    square, ellipse, heart = (shapes.render(np.array([[k, 5, 0, 16, 16]]))[0] for k in range(3))
    assert not np.array_equal(square, ellipse) and not np.array_equal(ellipse, heart)
    rotated = shapes.render(np.array([[0, 5, 5, 16, 16]]))[0]  # 45 degrees
    assert not np.array_equal(square, rotated)


def fill(image: np.ndarray) -> float:
    """The share of a sprite's bounding box it covers."""
    ys, xs = np.nonzero(image)
    return image.sum() / ((np.ptp(ys) + 1) * (np.ptp(xs) + 1))


def test_levels_are_dsprites_values_and_shapes_its_order() -> None:
    """dSprites' latents_values: shape 1 square, 2 ellipse, 3 heart; scale 0.5..1 in 6 steps;
    orientation 0..2 pi in 40 (both ends included); positions 0..1 in 32."""
    values = shapes.FACTOR_VALUES
    assert values["shape"].tolist() == [1.0, 2.0, 3.0] and shapes.SHAPE_NAMES[0] == "square"
    np.testing.assert_allclose(values["scale"], [0.5, 0.6, 0.7, 0.8, 0.9, 1.0])
    np.testing.assert_allclose(values["orientation"][[0, 1, -1]], [0, 2 * np.pi / 39, 2 * np.pi])
    np.testing.assert_allclose(values["pos_x"][[0, 1, -1]], [0, 1 / 31, 1])
    square, ellipse = (shapes.render(np.array([[k, 5, 0, 16, 16]]))[0] for k in range(2))
    assert fill(square) > 0.95 and fill(ellipse) < 0.85  # an upright square fills its box


def test_store_ground_truth_matches_renderer(tmp_path: Path) -> None:
    store = sources.make("shapes", tmp_path / "s", n=300, seed=3)
    again = [f for f, _ in shapes.generate(ShapesConfig(n=300, seed=3))]
    assert np.array_equal(
        np.concatenate(again), np.stack([store.labels(n) for n in shapes.FACTOR_NAMES], axis=1)
    )
    gt = st.StoreGroundTruth(store)
    assert gt.num_factors == 5 and gt.factors_num_values == list(FACTOR_SIZES)
    assert not gt.complete
    rng = np.random.default_rng(0)
    f = gt.sample_factors(16, rng)
    obs = gt.sample_observations_from_factors(f, rng)
    assert obs.shape == (16, 64, 64, 1) and obs.dtype == np.float32
    rendered = shapes.ShapesGroundTruth().sample_observations_from_factors(f, rng)
    assert np.array_equal(obs, rendered)
    values = store.labels("scale")
    assert np.allclose(store.dataset["scale"], shapes.FACTOR_VALUES["scale"][values])


def test_full_and_n_together_are_refused(cli, tmp_path: Path) -> None:
    """``--full --n 10`` ignored --n and began drawing all 737,280 images; without either, the
    default count."""
    from latentplay.sources.shapes import DEFAULT_N, NUM_IMAGES

    r = cli("data", "make", "shapes", "--out", tmp_path / "s", "--n", "10", "--full")
    assert r.code == 2 and r.err.strip() == (
        f"error: --full makes the whole {NUM_IMAGES:,}-image grid: drop --n 10 (n= in Python), "
        "or drop --full for that many random images") and not (tmp_path / "s").exists()
    assert ShapesConfig().count == DEFAULT_N and ShapesConfig(full=True).count == NUM_IMAGES
    assert ShapesConfig(n=7).count == 7
