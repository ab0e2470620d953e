"""The inversion figure's middle row says what the start was."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from latentplay.viz import grid


@pytest.mark.parametrize(("init", "start", "label"), [("auto", "encoder", "start:\nencoder means"),
                                                      ("mean", "mean", "start:\nzero code"),
                                                      ("random", "random", "start:\nrandom draw")])
def test_the_start_row_names_the_start(cli, vae_run: Path, faces_store: Path, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch, init: str, start: str,
                                       label: str) -> None:
    """The row was labelled ``start`` whichever start ``--init`` chose (``auto``: the encoder
    means of a VAE); the label and the JSON's ``start`` now name it."""
    drawn: list[Any] = []
    image_grid = grid.image_grid

    def recording(rows: Any, row_labels: Any, **kwargs: Any) -> Any:
        drawn.append(list(row_labels))
        return image_grid(rows, row_labels, **kwargs)

    monkeypatch.setattr(grid, "image_grid", recording)
    png = tmp_path / "inv.png"
    r = cli("latent", "invert", vae_run, "--data", faces_store, "--rows", "0:3", "--steps", "2",
            "--init", init, "--out", png)
    assert r.code == 0, r.err
    assert drawn == [["faces", label, "inverted"]]
    assert json.loads(png.with_suffix(".json").read_text())["start"] == start


def test_failed_inversions_are_cautioned_and_no_steps_refused(cli, vae_run: Path, faces_store: Path,
                                                              tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Every face's inversion failed and only inv.json said so; --steps 0 "inverted" nothing."""
    from latentplay.latent import invert

    titles: list[str] = []
    image_grid = grid.image_grid

    def recording(rows: Any, row_labels: Any, **kwargs: Any) -> Any:
        titles.append(kwargs["title"])
        return image_grid(rows, row_labels, **kwargs)

    monkeypatch.setattr(grid, "image_grid", recording)
    monkeypatch.setattr(invert, "failed", lambda loss, reference: np.ones(len(loss), bool))
    png = tmp_path / "inv.png"
    r = cli("latent", "invert", vae_run, "--data", faces_store, "--rows", "0:3", "--steps", "2",
            "--init", "mean", "--out", png)
    assert r.code == 0, r.err
    assert "caution: the codes of 3 of 3 faces redraw them hardly better than" in r.err
    assert titles[0].endswith("(2 steps); 3 of 3 failed (mean: the MSE of the run's mean code)")
    r = cli("latent", "invert", vae_run, "--data", faces_store, "--steps", "0", "--out", png)
    assert r.code == 2 and r.err.strip() == "error: --steps must be at least 1, got 0"
