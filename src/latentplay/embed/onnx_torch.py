"""An ONNX network run by PyTorch: the same outputs as onnxruntime, differentiable, on any device.

onnxruntime computes no gradients, so a face-recognition network given as ONNX (InsightFace's
ArcFace files) cannot drive an identity loss. :class:`OnnxGraph` reads the file with ``onnx``
and runs its nodes in order with PyTorch operations: its weights become buffers (frozen), and
the output is a differentiable function of the input. The operators are the ones image
networks exported by PyTorch, MXNet or InsightFace use (convolutions, batch norm, PReLU,
pooling, fully connected layers, elementwise arithmetic and the shape bookkeeping around
``Flatten`` and ``Reshape``); a file with any other is refused, naming them.

Checked against onnxruntime on networks exported by PyTorch (an ArcFace-like ResNet with
PReLU and a batch-normalised embedding, and latentplay's own exported encoders):
``tests/embed/test_onnx_torch.py``.

>>> net = OnnxGraph("w600k_r50.onnx")           # (B, 3, 112, 112) -> (B, 512)
>>> net(x)
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from latentplay.embed.onnxnet import nodes_normalise
from latentplay.errors import UserError

PathLike = str | os.PathLike[str]
Op = Callable[[list[Any], dict[str, Any]], Any]


def _pads(pads: list[int], dims: int) -> list[int]:
    """ONNX pads ``[x1_begin, x2_begin, ..., x1_end, x2_end, ...]`` as ``F.pad``'s (last axis
    first)."""
    begin, end = pads[:dims], pads[dims:]
    return [p for axis in reversed(range(dims)) for p in (begin[axis], end[axis])]


def _conv(x: list[Any], a: dict[str, Any]) -> torch.Tensor:
    weight, bias = x[1], x[2] if len(x) > 2 else None
    dims = weight.ndim - 2
    if a.get("auto_pad", b"NOTSET") not in (b"NOTSET", b"VALID"):
        raise UserError(f"Conv with auto_pad {a['auto_pad'].decode()} is not supported")
    pads = list(a.get("pads", [0] * 2 * dims))
    inp = x[0]
    if pads[:dims] != pads[dims:]:  # asymmetric: pad first
        inp, pads = F.pad(inp, _pads(pads, dims)), [0] * 2 * dims
    conv = F.conv2d if dims == 2 else F.conv1d
    return conv(inp, weight, bias, list(a.get("strides", [1] * dims)), pads[:dims],
                list(a.get("dilations", [1] * dims)), int(a.get("group", 1)))


def _pool(kind: str) -> Op:
    def run(x: list[Any], a: dict[str, Any]) -> torch.Tensor:
        kernel = list(a["kernel_shape"])
        dims, op = len(kernel), "MaxPool" if kind == "max" else "AveragePool"
        if a.get("auto_pad", b"NOTSET") not in (b"NOTSET", b"VALID"):
            raise UserError(f"{op} with auto_pad {a['auto_pad'].decode()} is not supported")
        if any(d != 1 for d in a.get("dilations", [])):
            raise UserError(f"{op} with dilations is not supported")
        pads = list(a.get("pads", [0] * 2 * dims))
        strides = list(a.get("strides", [1] * dims))
        ceil = bool(a.get("ceil_mode", 0))
        inp, include = x[0], bool(a.get("count_include_pad", 0))
        if pads[:dims] != pads[dims:]:
            fill = float("-inf") if kind == "max" else 0.0
            padded = F.pad(inp, _pads(pads, dims), value=fill)
            if kind == "avg" and not include:  # the sums over the input's pixels by their count
                count = F.pad(torch.ones_like(inp[:1, :1]), _pads(pads, dims))
                return (F.avg_pool2d(padded, kernel, strides, ceil_mode=ceil)
                        / F.avg_pool2d(count, kernel, strides, ceil_mode=ceil))
            inp, pads = padded, [0] * 2 * dims
        if kind == "max":
            return F.max_pool2d(inp, kernel, strides, pads[:dims], ceil_mode=ceil)
        return F.avg_pool2d(inp, kernel, strides, pads[:dims], ceil_mode=ceil, count_include_pad=include)
    return run


def _batch_norm(x: list[Any], a: dict[str, Any]) -> torch.Tensor:
    data, scale, bias, mean, var = x[:5]
    shape = [1, -1] + [1] * (data.ndim - 2)
    inv = scale / torch.sqrt(var + float(a.get("epsilon", 1e-5)))
    return data * inv.view(shape) + (bias - mean * inv).view(shape)


def _prelu(x: list[Any], a: dict[str, Any]) -> torch.Tensor:
    slope = x[1]
    if slope.ndim == 1 and x[0].ndim > 2:  # one slope per channel, broadcast from the left
        slope = slope.view(1, -1, *[1] * (x[0].ndim - 2))
    return torch.where(x[0] >= 0, x[0], x[0] * slope)


def _gemm(x: list[Any], a: dict[str, Any]) -> torch.Tensor:
    left = x[0].T if a.get("transA", 0) else x[0]
    right = x[1].T if a.get("transB", 0) else x[1]
    out = float(a.get("alpha", 1.0)) * (left @ right)
    return out + float(a.get("beta", 1.0)) * x[2] if len(x) > 2 else out


def _flatten(x: list[Any], a: dict[str, Any]) -> torch.Tensor:
    axis = int(a.get("axis", 1))
    axis += x[0].ndim if axis < 0 else 0  # ONNX allows 0..ndim: ndim gives (all, 1)
    return x[0].reshape(int(np.prod(x[0].shape[:axis])), int(np.prod(x[0].shape[axis:])))


def _reshape(x: list[Any], a: dict[str, Any]) -> torch.Tensor:
    shape = [int(v) for v in x[1].tolist()]
    shape = [x[0].shape[i] if s == 0 and not a.get("allowzero", 0) else s for i, s in enumerate(shape)]
    return x[0].reshape(shape)


def _axes(x: list[Any], a: dict[str, Any]) -> list[int]:
    """Axes given as an attribute (older opsets) or as the second input."""
    if "axes" in a:
        return [int(v) for v in a["axes"]]
    return [int(v) for v in x[1].tolist()] if len(x) > 1 and x[1] is not None else []


def _unsqueeze(x: list[Any], a: dict[str, Any]) -> torch.Tensor:
    out = x[0]
    for axis in sorted(v % (out.ndim + len(_axes(x, a))) for v in _axes(x, a)):
        out = out.unsqueeze(axis)
    return out


def _squeeze(x: list[Any], a: dict[str, Any]) -> torch.Tensor:
    axes = _axes(x, a)
    if not axes:
        return x[0].squeeze()
    return x[0].squeeze(tuple(v % x[0].ndim for v in axes))


def _reduce_mean(x: list[Any], a: dict[str, Any]) -> torch.Tensor:
    axes = _axes(x, a) or list(range(x[0].ndim))
    return x[0].mean(dim=axes, keepdim=bool(a.get("keepdims", 1)))


def _slice(x: list[Any], a: dict[str, Any]) -> torch.Tensor:
    starts, ends = x[1].tolist(), x[2].tolist()
    axes = x[3].tolist() if len(x) > 3 and x[3] is not None else list(range(len(starts)))
    steps = x[4].tolist() if len(x) > 4 and x[4] is not None else [1] * len(starts)
    index = [slice(None)] * x[0].ndim
    for start, end, axis, step in zip(starts, ends, axes, steps, strict=True):
        if step < 1:
            raise UserError("Slice with a negative step is not supported")
        size = x[0].shape[axis]
        index[axis] = slice(max(min(start, size), -size), max(min(end, size), -size - 1), step)
    return x[0][tuple(index)]


def _clip(x: list[Any], a: dict[str, Any]) -> torch.Tensor:
    low = x[1] if len(x) > 1 and x[1] is not None else a.get("min")
    high = x[2] if len(x) > 2 and x[2] is not None else a.get("max")
    return torch.clamp(x[0], None if low is None else float(low), None if high is None else float(high))


def _gather(x: list[Any], axis: int) -> torch.Tensor:
    axis %= x[0].ndim
    index = x[1].reshape(-1).long().to(x[0].device) % x[0].shape[axis]  # ONNX counts -1 from the end
    picked = torch.index_select(x[0], axis, index)
    return picked.reshape((*x[0].shape[:axis], *x[1].shape, *x[0].shape[axis + 1:]))


def _softmax(x: list[Any], a: dict[str, Any]) -> torch.Tensor:
    """ONNX's Softmax: over ``axis`` (default -1) from opset 13; before it (``legacy``, set
    when the file is read) over all axes from ``axis`` (default 1) together, the input seen as
    2-D."""
    if not a.get("legacy"):
        return torch.softmax(x[0], int(a.get("axis", -1)))
    return torch.softmax(_flatten(x, {"axis": a.get("axis", 1)}), 1).reshape(x[0].shape)


def _cast(x: list[Any], a: dict[str, Any]) -> torch.Tensor:
    to = int(a["to"])
    return x[0].float() if to in (1, 10, 11) else x[0].long() if to in (6, 7) else x[0]


OPS: dict[str, Op] = {
    "Conv": _conv,
    "BatchNormalization": _batch_norm,
    "PRelu": _prelu,
    "Relu": lambda x, a: F.relu(x[0]),
    "LeakyRelu": lambda x, a: F.leaky_relu(x[0], float(a.get("alpha", 0.01))),
    "Sigmoid": lambda x, a: torch.sigmoid(x[0]),
    "Tanh": lambda x, a: torch.tanh(x[0]),
    "Softmax": _softmax,
    "Clip": _clip,
    "Add": lambda x, a: x[0] + x[1],
    "Sub": lambda x, a: x[0] - x[1],
    "Mul": lambda x, a: x[0] * x[1],
    "Div": lambda x, a: (torch.div(x[0], x[1], rounding_mode="trunc")  # integer division stays integer
                         if not (x[0].is_floating_point() or x[1].is_floating_point()) else x[0] / x[1]),
    "Pow": lambda x, a: x[0] ** x[1],
    "Sqrt": lambda x, a: torch.sqrt(x[0]),
    "MatMul": lambda x, a: x[0] @ x[1],
    "Gemm": _gemm,
    "Flatten": _flatten,
    "Reshape": _reshape,
    "Transpose": lambda x, a: x[0].permute(*a["perm"]) if "perm" in a else x[0].permute(
        *reversed(range(x[0].ndim))),
    "Concat": lambda x, a: torch.cat(list(x), int(a["axis"])),
    "Identity": lambda x, a: x[0],
    "Dropout": lambda x, a: x[0],
    "MaxPool": _pool("max"),
    "AveragePool": _pool("avg"),
    "GlobalAveragePool": lambda x, a: x[0].mean(dim=tuple(range(2, x[0].ndim)), keepdim=True),
    "ReduceMean": _reduce_mean,
    "Shape": lambda x, a: torch.tensor(x[0].shape, dtype=torch.long, device=x[0].device),
    "Gather": lambda x, a: _gather(x, int(a.get("axis", 0))),
    "Unsqueeze": _unsqueeze,
    "Squeeze": _squeeze,
    "Slice": _slice,
    "Cast": _cast,
}


class OnnxGraph(nn.Module):
    """The network of an ONNX file run by PyTorch: ``forward(x)`` -> its first output (or the
    one named ``output``). Weights are buffers: nothing here trains them. ``input_dims``: the
    image input's dimensions (0 where open); ``normalises_itself``: InsightFace's test
    (:func:`latentplay.embed.onnxnet.normalises_itself`) on the file's first nodes."""

    def __init__(self, path: PathLike, output: str = "") -> None:
        super().__init__()
        try:
            import onnx
            from onnx import helper, numpy_helper
        except ImportError:
            raise UserError("reading an ONNX network needs onnx (pip install 'latentplay[onnx]')") from None
        try:
            model = onnx.load(str(path))
        except Exception as exc:  # whatever onnx fails on
            raise UserError(f"{path} is not a readable ONNX file ({exc})") from None
        graph = model.graph
        unknown = sorted({n.op_type for n in graph.node if n.op_type not in OPS and n.op_type != "Constant"})
        if unknown:
            raise UserError(f"{path}: operators latentplay cannot run in PyTorch: {', '.join(unknown)}")
        self.names: dict[str, str] = {}  # ONNX tensor name -> buffer name
        for i, init in enumerate(graph.initializer):
            self._keep(init.name, numpy_helper.to_array(init), i)
        self.nodes: list[tuple[str, list[str], list[str], dict[str, Any]]] = []
        opset = max((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), default=13)
        for node in graph.node:
            attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
            if node.op_type == "Constant":
                self._keep(node.output[0], numpy_helper.to_array(attrs["value"]), len(self.names))
                continue
            if node.op_type == "Softmax" and opset < 13:
                attrs["legacy"] = True
            self.nodes.append((node.op_type, list(node.input), list(node.output), attrs))
        known = set(self.names)
        inputs = [i for i in graph.input if i.name not in known]
        if len(inputs) != 1:
            raise UserError(f"{path}: the network has {len(inputs)} inputs; one image input is read")
        self.input = inputs[0].name
        self.input_dims = [d.dim_value for d in inputs[0].type.tensor_type.shape.dim]  # 0: open
        self.normalises_itself = nodes_normalise(graph.node)
        outputs = [o.name for o in graph.output]
        if output and output not in outputs:
            raise UserError(f"{path}: no output {output!r}; the network's outputs: {', '.join(outputs)}")
        self.output = output or outputs[0]

    def _keep(self, name: str, array: np.ndarray, index: int) -> None:
        tensor = torch.from_numpy(np.array(array))
        if tensor.is_floating_point():
            tensor = tensor.float()
        buffer = f"t{index}"
        self.register_buffer(buffer, tensor)
        self.names[name] = buffer

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The network's output for input ``x`` (the file's layout, e.g. ``(B, 3, 112, 112)``)."""
        values: dict[str, Any] = {self.input: x, "": None}
        for name, buffer in self.names.items():
            values[name] = getattr(self, buffer)
        for op, inputs, outputs, attrs in self.nodes:
            result = OPS[op]([values[i] for i in inputs], attrs)
            values[outputs[0]] = result
        return values[self.output]
