"""The example scripts in docs/examples run and give what the docs say they give."""

from __future__ import annotations

import runpy
from pathlib import Path

import numpy as np
import pytest
import torch

from latentplay import sources
from latentplay.embed.base import make_embedder

EXAMPLES = Path(__file__).parents[1] / "docs" / "examples"


def test_train_recogniser_writes_an_onnx_recogniser(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Run as a script (in this process: torch is imported already), the seed it sets undone."""
    store = sources.make("synthfaces", tmp_path / "persons", n=32, overrides=["identities=4"])
    out = tmp_path / "rec.onnx"
    script = EXAMPLES / "train_recogniser.py"
    monkeypatch.setattr("sys.argv", [str(script), str(store.path), str(out), "--epochs", "2",
                                     "--batch-size", "16"])
    with torch.random.fork_rng():
        runpy.run_path(str(script), run_name="__main__")
    assert "epoch 1: loss" in capsys.readouterr().out and out.is_file()
    emb = make_embedder(f"onnx:{out}", ["align=none", "pixels=unit"])
    z = emb.embed(np.random.default_rng(0).integers(0, 256, (5, 64, 64, 3), dtype=np.uint8))
    assert z.shape == (5, 128)
    np.testing.assert_allclose(np.linalg.norm(z, axis=1), 1, rtol=1e-5)
