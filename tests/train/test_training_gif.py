"""The training GIF: each epoch's figure is read and reduced to a palette once, however often
the GIF is rewritten, and the rewritten GIF is the one a fresh writer makes."""

from __future__ import annotations

from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest

from latentplay.train import figures
from latentplay.train.figures import GifFrames


def _frames(folder: Path, n: int) -> list[Path]:
    """``n`` PNGs of 40 x 60 RGB noise, each different."""
    rng = np.random.default_rng(0)
    paths = []
    for k in range(n):
        path = folder / f"epoch_{k + 1:03d}.png"
        iio.imwrite(path, rng.integers(0, 256, (40, 60, 3), dtype=np.uint8))
        paths.append(path)
    return paths


def test_each_frame_is_reduced_once_and_the_gif_equals_a_fresh_ones(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    paths = _frames(tmp_path, 4)
    read: list[Path] = []
    palette_image = figures._palette_image
    monkeypatch.setattr(figures, "_palette_image", lambda p: read.append(p) or palette_image(p))
    gif = GifFrames()
    for last in range(1, 5):  # rewritten after every epoch
        gif.save(paths[:last], tmp_path / "run.gif")
    assert read == paths
    gif.save(paths[::3], tmp_path / "run.gif")  # a long run's evenly spaced selection
    assert read == paths
    fresh = tmp_path / "fresh.gif"
    GifFrames().save(paths[::3], fresh)
    shown = iio.imread(tmp_path / "run.gif")
    assert shown.shape == (2, 40, 60, 3)
    np.testing.assert_array_equal(shown, iio.imread(fresh))
    # the palette leaves each frame close to its PNG
    assert np.abs(shown[1].astype(int) - iio.imread(paths[3])).mean() < 40
    GifFrames().save([], tmp_path / "none.gif")
    assert not (tmp_path / "none.gif").exists()
