"""The inversion figure's middle row says what the start was."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

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
