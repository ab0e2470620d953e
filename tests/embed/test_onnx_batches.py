"""``onnx:PATH`` networks that declare any batch but do not take one: a graph that reshapes
to a batch of 1 (run one image at a time), one that returns other than a row per image
(refused at load), and networks failing while running (one error line)."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from latentplay import store as st
from latentplay.embed.base import make_embedder
from latentplay.errors import UserError


class _Base(nn.Module):
    """Pooled to 3 x 4 x 4, then a linear layer to 6 outputs."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.pool = nn.AdaptiveAvgPool2d(4)
        self.fc = nn.Linear(48, 6)


class BatchOne(_Base):
    """Right at a batch of 1 only: its graph reshapes to ``(1, 48)``."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.pool(x).reshape(1, 48))


class BatchMean(_Base):
    """One row, the batch's mean, whatever the batch."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.pool(x).flatten(1)).mean(0, keepdim=True)


class _Wide(nn.Module):
    """Takes 32 px only (a linear layer on the flattened image)."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.fc = nn.Linear(3 * 32 * 32, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x.flatten(1))


def _export(module: nn.Module, path: Path) -> Path:
    """``module`` as ONNX with input ``image`` (N, 3, 32, 32), its batch declared dynamic."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(module.eval(), (torch.zeros(1, 3, 32, 32),), str(path), dynamo=False,
                          input_names=["image"], dynamic_axes={"image": {0: "n"}})
    return path


def _store(path: Path, n: int = 5) -> Path:
    images = np.random.default_rng(0).integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)
    schema = st.Schema(attributes=[], provenance=st.Provenance(source="tests", converter="tests"))
    st.build([{"image": [st.encode_png(im) for im in images]}], schema, path)
    return path


def test_a_batch_of_one_network_runs_one_image_at_a_time(tmp_path: Path) -> None:
    module = BatchOne()
    emb = make_embedder(f"onnx:{_export(module, tmp_path / 'one.onnx')}",
                        ["align=none", "pixels=unit", "normalize=false"])
    images = np.random.default_rng(1).integers(0, 256, (5, 32, 32, 3), dtype=np.uint8)
    x = torch.from_numpy(images).float().div(255).permute(0, 3, 1, 2)
    with torch.no_grad():
        want = torch.cat([module(x[i:i + 1]) for i in range(5)]).numpy()
    np.testing.assert_allclose(emb.embed(images), want, atol=1e-5)


def test_a_network_mixing_the_batch_is_refused_in_one_line(tmp_path: Path, cli) -> None:
    path = _export(BatchMean(), tmp_path / "mean.onnx")
    with pytest.raises(UserError, match=r"returns \(1, 6\) for 2 images: one row per image needed"):
        make_embedder(f"onnx:{path}", ["align=none"])
    store = _store(tmp_path / "s")
    for args in (["embed", store, "--with", f"onnx:{path}", "--column", "c", "-o", "align=none"],
                 ["data", "predict", store, "--with", f"onnx:{path}", "--heads", "x:value",
                  "-o", "align=none"]):
        result = cli(*args)
        assert result.code == 2 and result.err.count("\n") == 1, result.err
        assert "one row per image needed" in result.err
        assert sorted(p.name for p in tmp_path.iterdir()) == ["mean.onnx", "s"]  # no scratch


def test_a_network_failing_while_running_gives_one_error(tmp_path: Path) -> None:
    emb = make_embedder(f"onnx:{_export(_Wide(), tmp_path / 'wide.onnx')}", ["align=none"])
    with pytest.raises(UserError, match=r"wide.onnx: the network fails on a batch of 3 images \("):
        emb.embed_crops(np.zeros((3, 16, 16, 3), np.uint8))  # not the 32 px the file takes


def test_the_batch_probe_and_a_failing_run_print_nothing_of_onnxruntimes(tmp_path: Path, capfd) -> None:
    """Trying a batch-of-one network on two images fails on purpose: onnxruntime logged the
    failure in red on stderr, though the embedding went on and succeeded. A real failure is
    the one error raised, not also that log line."""
    capfd.readouterr()
    emb = make_embedder(f"onnx:{_export(BatchOne(), tmp_path / 'one.onnx')}", ["align=none"])
    assert emb.step == 1 and emb.embed(np.zeros((3, 32, 32, 3), np.uint8)).shape == (3, 6)
    wide = make_embedder(f"onnx:{_export(_Wide(), tmp_path / 'wide.onnx')}", ["align=none"])
    with pytest.raises(UserError, match="the network fails on a batch of 3 images"):
        wide.embed_crops(np.zeros((3, 16, 16, 3), np.uint8))
    assert "[E:onnxruntime" not in capfd.readouterr().err
