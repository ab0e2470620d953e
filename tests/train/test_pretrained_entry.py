"""Which entry of a PyTorch port checkpoint an import reads: said at import, recorded in
model.json and shown by the report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from latentplay.models.stylegan2 import Generator, StyleGAN2Config
from latentplay.report.page import Facts
from latentplay.report.pretrained import page

TINY = StyleGAN2Config(resolution=16, style_dim=8, n_mlp=2, channel_max=16)


def _read_as(run: Path) -> str:
    """The report's "read as" line of imported run ``run``."""
    facts = [b for s in page(run).sections for b in s.blocks if isinstance(b, Facts)]
    return dict(facts[0].items)["read as"]


@pytest.mark.parametrize("entries", [("g",), ("g", "g_ema")])
def test_the_entry_read_is_said_recorded_and_reported(entries: tuple[str, ...], tmp_path: Path,
                                                      cli) -> None:
    torch.manual_seed(0)
    state = Generator(TINY).state_dict()
    torch.save({key: state for key in entries}, tmp_path / "g.pt")
    result = cli("import", "stylegan2", tmp_path / "g.pt", "--out", tmp_path / "run",
                 "--w-samples", "50")
    assert result.code == 0, result.err
    read = "g_ema" if "g_ema" in entries else "g"
    source = json.loads((tmp_path / "run" / "model.json").read_text())["source"]
    assert source["entry"] == read
    assert ("using g, no g_ema: the weights not averaged" in result.out) == (read == "g")
    assert f"PyTorch port ({read}" in _read_as(tmp_path / "run")
    assert ("not averaged" in _read_as(tmp_path / "run")) == (read == "g")
