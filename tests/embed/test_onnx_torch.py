"""ONNX networks run by PyTorch (latentplay.embed.onnx_torch) against onnxruntime."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from onnx import TensorProto, helper, numpy_helper
from torch import nn

from latentplay.embed.onnx_torch import OnnxGraph
from latentplay.errors import UserError


class _Block(nn.Module):
    """InsightFace's IResNet block: BN, conv, BN, PReLU, strided conv, BN, plus a shortcut."""

    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.BatchNorm2d(cin), nn.Conv2d(cin, cout, 3, 1, 1, bias=False),
                                  nn.BatchNorm2d(cout), nn.PReLU(cout),
                                  nn.Conv2d(cout, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout))
        self.short = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x) + self.short(x)


class ArcFaceLike(nn.Module):
    """A small IResNet with ArcFace's head (BN, dropout, flatten, FC, BN1d): ``(B, 3, 112, 112)``
    -> ``(B, 64)``."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, 1, 1, bias=False), nn.BatchNorm2d(8), nn.PReLU(8))
        self.blocks = nn.Sequential(_Block(8, 16, 2), _Block(16, 16, 2), _Block(16, 32, 2))
        self.head = nn.Sequential(nn.BatchNorm2d(32), nn.Dropout(0.4), nn.Flatten(),
                                  nn.Linear(32 * 14 * 14, 64), nn.BatchNorm1d(64))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.blocks(self.stem(x)))


def arcface_like(path: Path) -> Path:
    """An :class:`ArcFaceLike` with random weights and batch-norm statistics, exported."""
    torch.manual_seed(0)
    model = ArcFaceLike()
    for module in model.modules():
        if isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
            module.running_mean.uniform_(-0.5, 0.5)
            module.running_var.uniform_(0.5, 2.0)
            module.weight.data.uniform_(0.5, 1.5)
        if isinstance(module, nn.PReLU):
            module.weight.data.uniform_(0.0, 0.5)
    with warnings.catch_warnings():  # the TorchScript exporter's deprecation notices
        warnings.simplefilter("ignore")
        torch.onnx.export(model.eval(), (torch.zeros(2, 3, 112, 112),), str(path), dynamo=False,
                          opset_version=17, input_names=["data"], output_names=["fc1"],
                          dynamic_axes={"data": {0: "n"}})
    return path


def _ort(path: Path, x: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x})[0]


def test_an_arcface_like_network_matches_onnxruntime(tmp_path: Path) -> None:
    path = arcface_like(tmp_path / "arc.onnx")
    x = torch.randn(3, 3, 112, 112, generator=torch.Generator().manual_seed(1))
    net = OnnxGraph(path)
    assert {"Conv", "PRelu", "Add", "Gemm"} <= {op for op, *_ in net.nodes}
    np.testing.assert_allclose(net(x).detach().numpy(), _ort(path, x.numpy()), atol=1e-4, rtol=1e-4)
    x.requires_grad_()
    net(x).square().sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0  # differentiable in its input
    assert not any(p.requires_grad for p in net.parameters())  # weights are buffers


def test_latentplays_exported_encoder_matches(tmp_path: Path, vae_run: Path) -> None:
    from latentplay.train.export import export_run

    export_run(vae_run, tmp_path / "onnx")
    path = tmp_path / "onnx" / "encoder.onnx"
    x = torch.rand(4, *ort.InferenceSession(str(path)).get_inputs()[0].shape[1:],
                   generator=torch.Generator().manual_seed(2))
    np.testing.assert_allclose(OnnxGraph(path)(x).detach().numpy(), _ort(path, x.numpy()), atol=1e-5)


def test_operators_by_hand_and_refusals(tmp_path: Path) -> None:
    """Pooling with uneven padding, shape bookkeeping (Shape, Gather, Unsqueeze, Concat,
    Reshape), Transpose, Slice, Clip, Softmax and Gemm with transB, against onnxruntime."""
    rng = np.random.default_rng(0)
    weight = rng.standard_normal((6, 2 * 3 * 3)).astype(np.float32)
    nodes = [
        helper.make_node("MaxPool", ["x"], ["p"], kernel_shape=[3, 3], strides=[2, 2], pads=[0, 1, 1, 0]),
        helper.make_node("AveragePool", ["p"], ["a"], kernel_shape=[2, 2], strides=[1, 1], pads=[1, 1, 0, 0],
                         count_include_pad=1),
        helper.make_node("Slice", ["a", "starts", "ends", "axes"], ["s"]),
        helper.make_node("Clip", ["s", "lo", "hi"], ["c"]),
        helper.make_node("Shape", ["c"], ["shape"]),
        helper.make_node("Gather", ["shape", "zero"], ["n"], axis=0),
        helper.make_node("Unsqueeze", ["n", "zero1"], ["n1"]),
        helper.make_node("Concat", ["n1", "minus1"], ["target"], axis=0),
        helper.make_node("Transpose", ["c"], ["t"], perm=[0, 1, 3, 2]),
        helper.make_node("Reshape", ["t", "target"], ["flat"]),
        helper.make_node("Gemm", ["flat", "w"], ["g"], transB=1, alpha=0.5),
        helper.make_node("Softmax", ["g"], ["y"], axis=1),
    ]
    inits = [numpy_helper.from_array(v, k) for k, v in {
        "starts": np.array([0], np.int64), "ends": np.array([3], np.int64), "axes": np.array([2], np.int64),
        "lo": np.array(-0.5, np.float32), "hi": np.array(0.7, np.float32), "zero": np.array(0, np.int64),
        "zero1": np.array([0], np.int64), "minus1": np.array([-1], np.int64), "w": weight}.items()]
    graph = helper.make_graph(nodes, "ops",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 2, 7, 7])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], inits)
    path = tmp_path / "ops.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    x = rng.standard_normal((2, 2, 7, 7)).astype(np.float32)
    np.testing.assert_allclose(OnnxGraph(path)(torch.from_numpy(x)).numpy(), _ort(path, x), atol=1e-6)

    graph.node.append(helper.make_node("NonMaxSuppression", ["y"], ["z"]))
    opset = [helper.make_opsetid("", 17)]
    onnx.save(helper.make_model(graph, opset_imports=opset), str(tmp_path / "nms.onnx"))
    with pytest.raises(UserError, match="cannot run in PyTorch: NonMaxSuppression"):
        OnnxGraph(tmp_path / "nms.onnx")
    (tmp_path / "junk.onnx").write_bytes(b"not a network")
    with pytest.raises(UserError, match="not a readable ONNX file"):
        OnnxGraph(tmp_path / "junk.onnx")
    with pytest.raises(UserError, match="no output 'nope'"):
        OnnxGraph(path, output="nope")


def test_the_onnx_embedders_torch_engine(tmp_path: Path) -> None:
    """``-o engine=torch`` embeds as onnxruntime does."""
    from skimage import data

    from latentplay.embed.base import make_embedder

    path = arcface_like(tmp_path / "arc.onnx")
    faces = np.stack([data.astronaut()[:300, 80:380], data.astronaut()[10:310, 90:390]])
    ours = make_embedder(f"onnx:{path}", ["engine=torch"]).embed(faces)
    theirs = make_embedder(f"onnx:{path}").embed(faces)
    np.testing.assert_allclose(ours, theirs, atol=1e-5)
    with pytest.raises(UserError, match="engine must be one of onnxruntime, torch"):
        make_embedder(f"onnx:{path}", ["engine=tensorrt"])
    with pytest.raises(UserError, match="device is the torch engine's"):
        make_embedder(f"onnx:{path}", ["device=cuda"])


@pytest.mark.parametrize("ceil", [0, 1])
def test_uneven_average_pooling_leaves_its_padding_out(tmp_path: Path, ceil: int) -> None:
    """ONNX's AveragePool (``count_include_pad=0``, its default) averages only the input's
    pixels also where the padding is uneven, as onnxruntime does."""
    node = helper.make_node("AveragePool", ["x"], ["y"], kernel_shape=[3, 3], strides=[2, 2],
                            pads=[1, 0, 0, 1], ceil_mode=ceil)
    graph = helper.make_graph([node], "pool",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 8, 8])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    path = tmp_path / "pool.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    x = np.random.default_rng(0).uniform(1, 2, (1, 2, 8, 8)).astype(np.float32)
    np.testing.assert_allclose(OnnxGraph(path)(torch.from_numpy(x)).numpy(), _ort(path, x), atol=1e-6)


def _one_node(path: Path, node: onnx.NodeProto, shape: list[int], opset: int = 17,
              inits: dict[str, np.ndarray] | None = None) -> Path:
    """A file of the single ``node`` from input ``x`` of ``shape`` to output ``y``."""
    graph = helper.make_graph([node], "one", [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                              [numpy_helper.from_array(v, k) for k, v in (inits or {}).items()])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)]), str(path))
    return path


@pytest.mark.parametrize("case", ["softmax_opset11", "flatten_last", "gather_negative"])
def test_older_and_edge_semantics_match_onnxruntime(tmp_path: Path, case: str) -> None:
    """Softmax before opset 13 normalises over every axis from ``axis`` (default 1) together;
    Flatten's axis may be the rank; Gather's negative indices count from the end."""
    nodes = {
        "softmax_opset11": (helper.make_node("Softmax", ["x"], ["y"]), 11, {}),
        "flatten_last": (helper.make_node("Flatten", ["x"], ["y"], axis=3), 17, {}),
        "gather_negative": (helper.make_node("Gather", ["x", "i"], ["y"], axis=1), 17,
                            {"i": np.array([-1, 0], np.int64)}),
    }
    node, opset, inits = nodes[case]
    path = _one_node(tmp_path / f"{case}.onnx", node, [2, 3, 4], opset, inits)
    x = np.random.default_rng(1).standard_normal((2, 3, 4)).astype(np.float32)
    ours, theirs = OnnxGraph(path)(torch.from_numpy(x)).numpy(), _ort(path, x)
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, atol=1e-6)


@pytest.mark.parametrize("node", [
    helper.make_node("MaxPool", ["x"], ["y"], kernel_shape=[3, 3], strides=[2, 2], auto_pad="SAME_UPPER"),
    helper.make_node("AveragePool", ["x"], ["y"], kernel_shape=[3, 3], strides=[2, 2], auto_pad="SAME_LOWER"),
    helper.make_node("MaxPool", ["x"], ["y"], kernel_shape=[2, 2], dilations=[2, 2]),
], ids=["max_same_upper", "avg_same_lower", "max_dilated"])
def test_pooling_it_cannot_compute_is_refused(tmp_path: Path, node: onnx.NodeProto) -> None:
    """Pooling with automatic padding or dilations (which onnxruntime applies) is refused in one
    line, not computed without them into a map of another size."""
    path = _one_node(tmp_path / "pool.onnx", node, [1, 2, 8, 8])
    with pytest.raises(UserError, match=f"{node.op_type} with (auto_pad|dilations)"):
        OnnxGraph(path)(torch.zeros(1, 2, 8, 8))
