"""model.safetensors gets the permissions of the run's other files (safetensors wrote it 0600,
readable by its owner alone, beside model.json's 0644), whatever the umask."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from torch import nn

from latentplay.train.checkpoint import MODEL_FILE, MODEL_META, save_model


@pytest.mark.parametrize("umask", [0o022, 0o027, 0o002])
def test_the_weights_have_the_mode_of_the_other_files(tmp_path: Path, umask: int) -> None:
    before = os.umask(umask)
    try:
        save_model(tmp_path, nn.Linear(3, 2), {"family": "vae"})
        (tmp_path / "other.txt").write_text("x")
    finally:
        os.umask(before)
    modes = {name: stat.S_IMODE((tmp_path / name).stat().st_mode)
             for name in (MODEL_FILE, MODEL_META, "other.txt")}
    assert modes == dict.fromkeys(modes, 0o666 & ~umask)
