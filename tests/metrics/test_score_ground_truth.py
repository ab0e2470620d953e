"""``metrics.score`` takes a store as its ground truth, and refuses what is neither."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from latentplay import metrics, sources
from latentplay.errors import UserError
from latentplay.metrics.runs import ground_truth_of


def _codes(observations: np.ndarray) -> np.ndarray:
    """``(B, H, W, C)`` -> ``(B, 3)``: mean intensity of three image bands (a crude encoder)."""
    bands = np.array_split(observations.reshape(len(observations), -1), 3, axis=1)
    return np.stack([b.mean(axis=1) for b in bands], axis=1)


def test_a_store_is_its_ground_truth(tmp_path: Path) -> None:
    """A store given as ``ground_truth`` scores as its :func:`ground_truth_of` does (it was an
    AttributeError traceback: a store has no ``factors_num_values``)."""
    shapes = sources.make("shapes", tmp_path / "shapes", n=200, seed=0)
    sizes = {"num_train": 40, "num_eval": 20, "batch_size": 4}
    given = metrics.score("beta_vae", ground_truth=shapes, represent=_codes, **sizes)
    wrapped = metrics.score("beta_vae", ground_truth=ground_truth_of(shapes), represent=_codes, **sizes)
    assert given == wrapped and set(given) == {"train_accuracy", "eval_accuracy"}


def test_a_ground_truth_without_the_interface_is_one_clear_error() -> None:
    with pytest.raises(UserError, match="neither a store nor an object with num_factors"):
        metrics.score("beta_vae", ground_truth=np.zeros((4, 2)), represent=_codes)
