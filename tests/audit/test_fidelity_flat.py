"""Blank grey images scored precision 1.000, density 1.086 and authenticity 1.000 against
synthfaces with no caution (better than held-out faces): in pixel features they sit near the
faces' mean and no farther from their subspace than faces. ``audit fidelity`` and training-time
fidelity now count the images of a lower pixel contrast than 99 % of the real images compared
(``flat``) and caution where many are."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from latentplay import store as st
from latentplay.audit.fidelity import flat_images
from latentplay.embed.column import load_rows
from latentplay.train.fidelity import FidelityTracker, record


def _grey(n: int, size: int = 32, seed: int = 0) -> np.ndarray:
    """``(n, size, size, 3)`` uint8 grey images with faint noise (SD 3)."""
    rng = np.random.default_rng(seed)
    return np.clip(128 + rng.normal(0, 3, (n, size, size, 3)), 0, 255).astype(np.uint8)


def test_audit_fidelity_counts_grey_images_as_flat_and_cautions(
        faces_store: Path, tmp_path: Path, cli: Callable[..., Any]) -> None:
    folder = tmp_path / "grey"
    folder.mkdir()
    for i, image in enumerate(_grey(40)):
        Image.fromarray(image).save(folder / f"{i:03d}.png")
    r = cli("audit", "fidelity", "--images", folder, "--data", faces_store, "--real", "60",
            "-o", "dim=16", "--out", tmp_path / "fid")
    assert r.code == 0, r.err
    flat = json.loads((tmp_path / "fid" / "fidelity.json").read_text())["flat"]
    assert flat["count"] == 40 and flat["share"] == 1.0 and flat["threshold"] > 10
    assert "flat: 40 of 40 images of grey" in r.out
    assert "caution: 100.0% of the images of grey are flat" in r.err


def test_new_faces_are_rarely_flat(faces_store: Path) -> None:
    faces = load_rows(st.load(faces_store), np.arange(400))
    flat = flat_images(faces[:200], faces[200:])
    assert flat["share"] < 0.05 and flat["count"] == round(flat["share"] * 200)


def test_training_fidelity_records_the_flat_share_and_cautions(
        faces_store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    images = load_rows(st.load(faces_store), np.arange(120))
    tracker = FidelityTracker(images[:80], k=3, seed=0, dim=16)
    assert tracker.measure(images[80:])["flat"] < 0.1
    values = tracker.measure(_grey(40, size=images.shape[1]))
    assert values["flat"] == 1.0
    record(tmp_path, values, epoch=2, step=20)
    header = (tmp_path / "fidelity.csv").read_text().splitlines()[0].split(",")
    assert "flat" in header
    assert "caution: fidelity at epoch 2: 100.0% of the samples are flat" in capsys.readouterr().err


def test_pixel_contrast_in_chunks_is_each_image_s_sd(monkeypatch: pytest.MonkeyPatch) -> None:
    """Computed a few images at a time (all at once held two float32 copies of every image):
    each image's SD of its pixel values, whichever chunk it falls in."""
    from latentplay.train import fidelity

    monkeypatch.setattr(fidelity, "CONTRAST_CHUNK", 3)
    images = np.concatenate([_grey(5), np.zeros((2, 32, 32, 3), np.uint8)])
    got = fidelity.pixel_contrast(images)
    np.testing.assert_allclose(got, [im.astype(np.float64).std() for im in images], rtol=1e-5)
    assert got[-1] == 0 and 2 < got[0] < 4 and fidelity.pixel_contrast(images[:0]).shape == (0,)
