"""The factor ground truth of a store: row lookup by factor levels, and stores it refuses."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from latentplay import store as st
from latentplay.errors import UserError
from latentplay.store import Attribute, Provenance, Schema


def _grid_store(path: Path, levels: np.ndarray) -> st.Store:
    """A store of factors ``a`` (2 levels) and ``b`` (3 levels), one row per row of ``levels``
    ``(N, 2)``; each image is filled with its grid index ``3 a + b``."""
    schema = Schema(attributes=[Attribute("a", "factor", values=[0.0, 1.0]),
                                Attribute("b", "factor", values=[0.0, 0.5, 1.0])],
                    provenance=Provenance(source="test", converter="unit"))
    index = levels[:, 0] * 3 + levels[:, 1]
    batch = {"image": [st.encode_png(np.full((2, 2), k, np.uint8)) for k in index],
             "factor_a": levels[:, 0], "a": levels[:, 0].astype(np.float32),
             "factor_b": levels[:, 1], "b": (levels[:, 1] / 2).astype(np.float32)}
    return st.build([batch], schema, path)


def test_observations_are_the_rows_of_the_factors_asked_for(tmp_path: Path) -> None:
    grid = np.array([(a, b) for a in range(2) for b in range(3)], np.int64)[::-1]
    gt = st.StoreGroundTruth(_grid_store(tmp_path / "s", grid))
    assert gt.complete and gt.factors_num_values == [2, 3]
    factors = gt.sample_factors(50, np.random.default_rng(0))
    assert factors.shape == (50, 2) and set(map(tuple, factors.tolist())) == set(map(tuple, grid.tolist()))
    obs = gt.sample_observations_from_factors(factors, np.random.default_rng(0))
    np.testing.assert_allclose(obs[:, 0, 0, 0] * 255, factors[:, 0] * 3 + factors[:, 1])


def test_an_empty_store_is_refused_in_one_line(tmp_path: Path) -> None:
    empty = _grid_store(tmp_path / "e", np.zeros((0, 2), np.int64))
    with pytest.raises(UserError, match="no rows"):
        st.StoreGroundTruth(empty)


def test_a_partial_grid_is_sampled_by_its_rows_and_a_constant_factor_refused(tmp_path: Path) -> None:
    """Four of the six combinations: factors are drawn as whole rows (uniform levels would ask
    for combinations the store lacks); a factor of one value is refused."""
    rows = np.array([(0, 0), (0, 2), (1, 1), (1, 2)], np.int64)
    gt = st.StoreGroundTruth(_grid_store(tmp_path / "p", rows))
    assert not gt.complete and gt.combinations == 4
    factors = gt.sample_factors(200, np.random.default_rng(0))
    assert set(map(tuple, factors.tolist())) == set(map(tuple, rows.tolist()))
    gt.sample_observations_from_factors(factors, np.random.default_rng(0))  # every one is a row
    with pytest.raises(UserError, match="factor\\(s\\) a take one value only"):
        st.StoreGroundTruth(_grid_store(tmp_path / "c", np.array([(0, 0), (0, 1), (0, 2)])))
