"""The example scripts in docs/examples run and give what the docs say they give."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

from latentplay import sources
from latentplay.embed.base import make_embedder

EXAMPLES = Path(__file__).parents[1] / "docs" / "examples"


def test_train_recogniser_writes_an_onnx_recogniser(tmp_path: Path) -> None:
    store = sources.make("synthfaces", tmp_path / "persons", n=48, overrides=["identities=6"])
    out = tmp_path / "rec.onnx"
    done = subprocess.run([sys.executable, str(EXAMPLES / "train_recogniser.py"), str(store.path),
                           str(out), "--epochs", "2", "--batch-size", "16"],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert "epoch 1: loss" in done.stdout and out.is_file()
    emb = make_embedder(f"onnx:{out}", ["align=none", "pixels=unit"])
    z = emb.embed(np.random.default_rng(0).integers(0, 256, (5, 64, 64, 3), dtype=np.uint8))
    assert z.shape == (5, 128)
    np.testing.assert_allclose(np.linalg.norm(z, axis=1), 1, rtol=1e-5)
