"""``fidelity.png`` names how many samples, training images and held-out images it measures."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from latentplay.train.fidelity import SHARES, FidelityTracker, fidelity_figure, record, write_reference


def _table(counts: bool) -> np.ndarray:
    names = ["epoch", *SHARES, "frechet_distance", *(("n_samples", "n_real") if counts else ())]
    table = np.zeros(3, dtype=[(k, "f8") for k in names])
    table["epoch"] = [1, 2, 3]
    table["frechet_distance"] = [5.0, 4.0, 3.0]
    if counts:
        table["n_samples"] = table["n_real"] = 1200
    return table


def test_the_figure_states_its_counts() -> None:
    title = fidelity_figure(_table(True), {"n": 234, "samples": 1200}).axes[0].get_title()
    assert "1,200 samples vs 1,200 training images" in " ".join(title.split())
    assert "dashed: 234 held-out images" in " ".join(title.split())
    # a table written before the counts were: the reference's count of samples, else none
    title = " ".join(fidelity_figure(_table(False), {"n": 50, "samples": 50}).axes[0]
                     .get_title().split())
    assert "50 samples vs 50 training images (pixel-PCA features); dashed: 50 held-out" in title
    title = " ".join(fidelity_figure(_table(False)).axes[0].get_title().split())
    assert title.startswith("samples vs training images")


def test_the_csv_records_the_counts_and_the_reference_keeps_its_own(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (40, 8, 8, 1), dtype=np.uint8)
    tracker = FidelityTracker(images, k=3, seed=0)
    values = tracker.measure(images[:30])
    assert values["n_samples"] == 30 and values["n_real"] == 40
    write_reference(tmp_path, tracker.measure(images[:20]), 20, 40)
    reference = json.loads((tmp_path / "fidelity_reference.json").read_text())
    assert reference["n"] == 20 and reference["samples"] == 40 and "n_samples" not in reference
    record(tmp_path, values, epoch=1, step=10)
    header = (tmp_path / "fidelity.csv").read_text().splitlines()[0].split(",")
    assert {"n_samples", "n_real"} <= set(header)
    assert (tmp_path / "fidelity.png").exists()
