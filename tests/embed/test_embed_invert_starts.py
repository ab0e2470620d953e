"""``invert:RUN`` draws each row's random starts from the seed and the row: the column is the same
at any ``--batch-size`` (every batch drew the same starts, so at batch 10 rows 0 and 10 started
from one code, and the column changed with the batch size)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from latentplay import sources
from latentplay import store as st
from latentplay.embed.column import embed_store
from latentplay.errors import UserError
from latentplay.latent.invert import _random_draws


@pytest.fixture(scope="module")
def faces20(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return Path(sources.make("synthfaces", tmp_path_factory.mktemp("data") / "f20", n=20, seed=5).path)


def _column(store: Path, run: Path, batch_size: int, options: list[str]) -> np.ndarray:
    """The ``invert:run`` column of ``store`` embedded ``batch_size`` rows at a time."""
    out = embed_store(store, f"invert:{run}", "gz", options=options, batch_size=batch_size,
                      overwrite=True, progress=False)
    return st.vectors(out, "gz")


def test_the_starts_do_not_depend_on_the_batch_size(dcgan_run: Path, faces20: Path) -> None:
    starts = ["steps=0", "restarts=1"]  # the codes are the starts
    whole, tens = (_column(faces20, dcgan_run, b, starts) for b in (20, 10))
    np.testing.assert_array_equal(tens, whole)
    assert len(np.unique(whole, axis=0)) == 20  # no two rows share a start
    optimised = ["steps=3", "restarts=2"]
    whole, sevens = (_column(faces20, dcgan_run, b, optimised) for b in (20, 7))
    np.testing.assert_allclose(sevens, whole, rtol=1e-4, atol=1e-5)


def test_a_rows_draw_is_its_own() -> None:
    """Given row numbers, an image's starts are the same whichever images come with it; without,
    one draw for all of them, as before."""
    all_rows = _random_draws(3, 6, 4, seed=1, rows=np.arange(6))
    assert all_rows.shape == (3, 6, 4) and all_rows.dtype == torch.float32
    torch.testing.assert_close(_random_draws(3, 2, 4, seed=1, rows=[4, 1]), all_rows[:, [4, 1]])
    assert not torch.equal(_random_draws(3, 6, 4, seed=2, rows=np.arange(6)), all_rows)
    generator = torch.Generator().manual_seed(1)
    one_draw_each = torch.stack([torch.randn(6, 4, generator=generator) for _ in range(2)])
    torch.testing.assert_close(_random_draws(2, 6, 4, seed=1), one_draw_each)
    with pytest.raises(UserError, match="one row number"):
        _random_draws(1, 3, 4, seed=0, rows=[0, 1])
