"""NVIDIA's StyleGAN2 and StyleGAN3 network pickles, read without running the code inside them.

NVIDIA publishes its generators (FFHQ, MetFaces, AFHQ, ...) as ``.pkl`` files in which every
network rebuilds itself from Python source stored in the file (StyleGAN2-ADA-PyTorch and the
StyleGAN3 repository), or from TensorFlow graph code (the original StyleGAN2): unpickling one
the usual way compiles and runs that source. :func:`read_pickle`
unpickles with a restricted unpickler instead. Only tensor rebuilders (their storages read by
``torch.load(weights_only=True)``), NumPy's array rebuilders (of numbers and strings only)
and ordered dicts resolve to real callables, none of which the pickle can change or give
attributes to; a stored PyTorch network becomes a :class:`Record` of its class name and
attribute dict (the source is never compiled) and every other global, a TensorFlow network
included, an inert :class:`Opaque` stand-in that keeps its state, so nothing in the file runs.

:func:`stylegan2_state` converts the ``G_ema`` network (or TensorFlow's ``Gs``; StyleGAN2,
``skip`` generator, unconditional) to the tensor names of
:class:`latentplay.models.stylegan2.Generator`, with the settings the tensors don't show: the
activation clamp (``conv_clamp``, 256 in generators the PyTorch repositories trained, none in
TensorFlow's) and the mapping network's learning-rate multiplier. :func:`stylegan3_state` reads
a StyleGAN3's tensors, whose names :class:`latentplay.models.stylegan3.Generator3` keeps, and
its architecture from the stored layers' attributes; :func:`check_stylegan3_layers` checks
that the layers rebuilt from it are the stored ones.
"""

from __future__ import annotations

import io
import math
import pickle
import re
import struct
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from latentplay.errors import UserError
from latentplay.models.stylegan2 import blur_kernel
from latentplay.outputs import first_named, shell_word


def _refuse_state(obj: Any, state: Any) -> None:
    """``__setstate__`` of the objects the allowlist builds: a pickle's BUILD may not set their
    attributes (an ``__array_interface__`` that NumPy would read memory from, say)."""
    if state:
        raise pickle.UnpicklingError(f"the pickle sets attributes of a {type(obj).__name__}")


@dataclass
class Record:
    """A stored network that was not rebuilt: its class name and attribute dict (an
    ``nn.Module``'s ``_parameters``, ``_buffers``, ``_modules`` and plain attributes)."""

    name: str
    state: dict[str, Any] = field(default_factory=dict)

    __setstate__ = _refuse_state


class Opaque:
    """Stand-in for any other global a pickle names: it keeps what it is given and does
    nothing (a class, a function or a constructor call in the file runs no code)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.args = args

    def __setstate__(self, state: Any) -> None:
        self.state = state

    def __setitem__(self, key: Any, value: Any) -> None:
        self.__dict__.setdefault("items", {})[key] = value

    def append(self, value: Any) -> None:
        self.__dict__.setdefault("values", []).append(value)

    def extend(self, values: Any) -> None:
        self.__dict__.setdefault("values", []).extend(values)


class _Dict(dict):
    """NVIDIA's attribute dict (``dnnlib.util.EasyDict``) as a plain dict."""

    __setstate__ = _refuse_state


class _OrderedDict(OrderedDict):
    """An ordered dict whose attributes a pickle cannot set."""

    __setstate__ = _refuse_state


class _Call:
    """An allowlisted function as :class:`_Unpickler` hands it out: calling it calls the
    function, and a pickle's BUILD cannot change it (its defaults, say) for the process."""

    __slots__ = ("function",)

    def __init__(self, function: Any) -> None:
        self.function = function

    def __call__(self, *args: Any) -> Any:
        return self.function(*args)

    __setstate__ = _refuse_state


def _record(meta: Any) -> Record:
    """What ``torch_utils.persistence`` would rebuild from ``meta``, without its source."""
    meta = meta if isinstance(meta, dict) else {}
    state = dict(meta["state"]) if isinstance(meta.get("state"), dict) else {}
    name = str(meta.get("class_name", "?"))
    for group in ("_parameters", "_buffers", "_modules"):  # what _tensors and _records walk
        if state.get(group) is not None and not isinstance(state[group], dict):
            raise pickle.UnpicklingError(f"network {name}'s {group} is a {type(state[group]).__name__}, "
                                         "not a dict")
    return Record(name, state)


def _storage(data: bytes) -> Any:
    """A tensor storage pickled as ``torch.save`` bytes, read with the restricted loader; an
    ``UnpicklingError`` saying why when those bytes are damaged."""
    try:
        return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises several types, with advice meant for its own callers
        raise pickle.UnpicklingError(f"a tensor's stored data is damaged: {_reason(exc)}") from None


def _reason(exc: BaseException) -> str:
    """One line on why ``exc`` was raised: torch's restricted loader's own reason (``Unsupported
    operand 235``), without its advice to load the file unrestricted, which latentplay never
    does; else the message's first line."""
    text = str(exc).split("WeightsUnpickler error:", 1)[-1]
    lines = [line.strip() for line in text.splitlines() if line.strip() and "weights_only" not in line]
    return lines[0] if lines else type(exc).__name__


_ARRAY, _SCALAR = np.zeros(1).__reduce__()[0], np.float32(0).__reduce__()[0]  # NumPy's rebuilders


def _plain_dtype(dtype: Any) -> np.dtype:
    """``dtype`` when it is a bool, number or string type as NumPy builds one; an
    ``UnpicklingError`` otherwise. A pickled dtype's state can claim object fields while its
    flags say it holds none, which NumPy trusts: an array or scalar of it would turn the
    file's bytes into object pointers."""
    if isinstance(dtype, (bytes, str)):
        dtype = np.dtype(dtype)
    plain = isinstance(dtype, np.dtype) and dtype.kind in "biufcSU"
    if plain and dtype.fields is None and dtype.subdtype is None:
        built = np.dtype(dtype.str)
        if (dtype.flags, dtype.itemsize, dtype.alignment) == (built.flags, built.itemsize, built.alignment):
            return dtype
    name = getattr(dtype, "str", type(dtype).__name__)
    raise pickle.UnpicklingError(f"the pickle holds a NumPy array or scalar of type {name}, "
                                 "not of plain numbers or strings")


class _Array(np.ndarray):
    """A pickled array, its dtype checked (:func:`_plain_dtype`) before NumPy reads its bytes."""

    def __setstate__(self, state: Any) -> None:
        if not isinstance(state, tuple) or len(state) not in (4, 5):
            raise pickle.UnpicklingError("the pickle holds a malformed NumPy array")
        _plain_dtype(state[-3])  # (version,) shape, dtype, is_fortran, raw bytes
        super().__setstate__(state)


def _array(subtype: Any, shape: Any, dtype: Any) -> _Array:
    """NumPy's ``_reconstruct`` of an empty array that the pickle's BUILD then fills."""
    if subtype != "numpy.ndarray":
        raise pickle.UnpicklingError("the pickle rebuilds an array of a class other than numpy.ndarray")
    return _ARRAY(_Array, shape, _plain_dtype(dtype))


def _scalar(dtype: Any, data: Any) -> Any:
    """A NumPy scalar of a plain number or string type from its bytes."""
    return _SCALAR(_plain_dtype(dtype), data)


_ALLOWED: dict[tuple[str, str], Any] = {
    ("collections", "OrderedDict"): _OrderedDict,
    ("numpy", "ndarray"): "numpy.ndarray",  # only what _reconstruct is told to build, never called
    ("numpy", "dtype"): np.dtype,
    **{(f"numpy.{core}.multiarray", name): _Call(f) for core in ("core", "_core")
       for name, f in (("_reconstruct", _array), ("scalar", _scalar))},
    ("torch._utils", "_rebuild_tensor_v2"): _Call(torch._utils._rebuild_tensor_v2),
    ("torch._utils", "_rebuild_parameter"): _Call(torch._utils._rebuild_parameter),
    ("torch.storage", "_load_from_bytes"): _Call(_storage),
    ("torch_utils.persistence", "_reconstruct_persistent_obj"): _Call(_record),
    ("dnnlib.util", "EasyDict"): _Dict,
}


class _Unpickler(pickle._Unpickler):
    """Python's own unpickler, whose memo is a dict: the C one sizes its memo list by the largest
    index a file names, so a dozen bytes claiming index 2**30 made it allocate and zero 16 GiB.
    Its BYTEARRAY8 zeroes the length a file declares before reading; here it reads the bytes
    there are."""

    def find_class(self, module: str, name: str) -> Any:
        return _ALLOWED.get((module, name)) or type(name, (Opaque,), {"origin": f"{module}.{name}"})

    def persistent_load(self, pid: Any) -> Any:
        raise pickle.UnpicklingError("a network pickle has no persistent ids")

    def _bytearray8(self) -> None:
        (size,) = struct.unpack("<Q", self.read(8))
        self.append(bytearray(self.read(size)))

    dispatch = {**pickle._Unpickler.dispatch, pickle.BYTEARRAY8[0]: _bytearray8}


def is_network_pickle(path: Path) -> bool:
    """Whether ``path`` is a plain pickle (protocol 2 or later) rather than a ``torch.save``
    file (a zip archive, or a legacy file that opens with torch's magic number)."""
    with open(path, "rb") as f:
        head = f.read(14)
    legacy_torch = head[2:4] == b"\x8a\x0a" and int.from_bytes(head[4:14], "little") == 0x1950A86A20F9469CFC6C
    return head[:1] == b"\x80" and not legacy_torch


def read_pickle(path: Path) -> Any:
    """The object tree of the pickle at ``path``, networks as :class:`Record`."""
    try:
        with open(path, "rb") as f:
            return _Unpickler(f).load()
    except Exception as exc:  # a corrupt or foreign file fails in many ways
        raise UserError(f"{path} is not a readable network pickle: the file is damaged or of "
                        f"another kind ({_reason(exc)})") from None


def _tensors(record: Record, prefix: str = "") -> Iterator[tuple[str, torch.Tensor]]:
    """``(dotted name, tensor)`` of a network's parameters and buffers, children included."""
    for group in ("_parameters", "_buffers"):
        for name, value in (record.state.get(group) or {}).items():
            if isinstance(value, torch.Tensor):
                yield prefix + name, value.detach()
    for name, child in (record.state.get("_modules") or {}).items():
        if isinstance(child, Record):
            yield from _tensors(child, f"{prefix}{name}.")


def _records(record: Record) -> Iterator[Record]:
    """``record`` and every network under it."""
    yield record
    for child in (record.state.get("_modules") or {}).values():
        if isinstance(child, Record):
            yield from _records(child)


_CONV = {"affine.weight": "conv.modulation.weight", "affine.bias": "conv.modulation.bias",
         "weight": "conv.weight", "bias": "activate.bias", "noise_strength": "noise.weight"}
_RGB = {"affine.weight": "conv.modulation.weight", "affine.bias": "conv.modulation.bias",
        "weight": "conv.weight", "bias": "bias"}


def _port_name(name: str, tensor: torch.Tensor) -> tuple[str, torch.Tensor] | None:
    """The generator's name and shape for one of NVIDIA's tensors; ``None`` for the ones it
    doesn't hold (the W average of training, the [1, 3, 3, 1] resampling filters); a
    ``KeyError`` for a name outside the StyleGAN2 skip generator."""
    if m := re.fullmatch(r"mapping\.fc(\d+)\.(weight|bias)", name):
        return f"style.{int(m[1]) + 1}.{m[2]}", tensor
    if name == "mapping.w_avg" or name.endswith("resample_filter"):
        return None
    if name == "synthesis.b4.const":
        return "input.input", tensor[None]
    m = re.fullmatch(r"synthesis\.b(\d+)\.(conv0|conv1|torgb)\.(.+)", name)
    if not m or (m[1] == "4" and m[2] == "conv0"):
        raise KeyError(name)
    block, layer, rest = int(math.log2(int(m[1]))) - 3, m[2], m[3]  # block -1 is 4 px
    if rest == "weight":  # the port keeps a leading axis of 1
        tensor = tensor[None]
    if layer == "torgb":
        bias = rest == "bias"
        return (f"{'to_rgb1' if block < 0 else f'to_rgbs.{block}'}.{_RGB[rest]}",
                tensor.reshape(1, -1, 1, 1) if bias else tensor)
    index = 0 if block < 0 else 2 * block + 1 + (layer == "conv1")  # the layer's noise image
    if rest == "noise_const":
        return f"noises.noise_{index}", tensor[None, None]
    return (f"{'conv1' if block < 0 else f'convs.{index - 1}'}.{_CONV[rest]}",
            tensor.reshape(1) if rest == "noise_strength" else tensor)


def _setting(records: list[Record], key: str, what: str) -> Any:
    """The one value of attribute ``key`` over ``records`` that have it (``None`` if none)."""
    values = {repr(r.state[key]): r.state[key] for r in records if key in r.state}
    if len(values) > 1:
        raise UserError(f"the generator's layers disagree on {what} ({sorted(values)})")
    return next(iter(values.values()), None)


def _tf_tensors(network: Opaque, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """``(slash-separated name, array)`` of a TensorFlow network's variables, components
    (``mapping/``, ``synthesis/``) included."""
    state = getattr(network, "state", None) or {}
    for name, value in state.get("variables") or []:
        yield prefix + name, value
    for name, child in (state.get("components") or {}).items():
        yield from _tf_tensors(child, f"{prefix}{name}/")


_TF_LAYERS = {"Conv": "conv1", "Conv0_up": "conv0", "Conv1": "conv1", "ToRGB": "torgb"}
_TF_PARTS = {"weight": "weight", "bias": "bias", "mod_weight": "affine.weight", "mod_bias": "affine.bias",
             "noise_strength": "noise_strength"}


def _from_tensorflow(name: str, value: Any) -> tuple[str, torch.Tensor]:
    """NVIDIA's PyTorch name and layout of a TensorFlow StyleGAN2 variable (the conversion of
    the PyTorch repositories' ``legacy.py``: dense weights transposed, convolution kernels
    ``(k, k, in, out)`` to ``(out, in, k, k)`` and flipped in the upsampling layers, modulation
    biases stored minus 1); a ``KeyError`` for any other variable."""
    t = torch.as_tensor(np.asarray(value, dtype=np.float32))
    if name == "dlatent_avg":
        return "mapping.w_avg", t
    if m := re.fullmatch(r"mapping/(Dense(\d+)|LabelEmbed)/(weight|bias)", name):
        owner = f"fc{m[2]}" if m[2] is not None else "embed"
        return f"mapping.{owner}.{m[3]}", t.T if m[3] == "weight" else t
    if name == "synthesis/4x4/Const/const":
        return "synthesis.b4.const", t[0]
    if m := re.fullmatch(r"synthesis/noise(\d+)", name):
        i = int(m[1])
        res, layer = (4, "conv1") if i == 0 else (2 ** ((i + 5) // 2), "conv0" if i % 2 else "conv1")
        return f"synthesis.b{res}.{layer}.noise_const", t[0, 0]
    m = re.fullmatch(r"synthesis/(\d+)x\1/(Conv|Conv0_up|Conv1|ToRGB)/(\w+)", name)
    if not m or m[3] not in _TF_PARTS or m[2] not in (("Conv", "ToRGB") if m[1] == "4" else
                                                       ("Conv0_up", "Conv1", "ToRGB")):
        raise KeyError(name)
    part = _TF_PARTS[m[3]]
    if part == "weight":
        t = (t.flip([0, 1]) if m[2] == "Conv0_up" else t).permute(3, 2, 0, 1)
    elif part == "affine.weight":
        t = t.T
    elif part == "affine.bias":
        t = t + 1
    return f"synthesis.b{m[1]}.{_TF_LAYERS[m[2]]}.{part}", t


def _tensorflow_network(network: Opaque, source: str) -> tuple[dict[str, torch.Tensor], dict[str, float]]:
    """NVIDIA-named tensors and settings of a TensorFlow StyleGAN2 generator (``Gs``)."""
    kwargs = network.state.get("static_kwargs") or {}
    if kwargs.get("architecture", "skip") != "skip":
        raise UserError(f"{source} holds a StyleGAN2 generator of architecture "
                        f"{kwargs['architecture']!r}; only 'skip' (config E and F) is read")
    if list(kwargs.get("resample_kernel") or [1, 3, 3, 1]) != [1, 3, 3, 1]:
        raise UserError(f"{source}: resample_kernel is not the [1, 3, 3, 1] filter StyleGAN2 uses")
    tensors, unknown = {}, []
    for name, value in _tf_tensors(network):
        if name == "lod":  # the progressive-growing level G_main keeps, unused by this generator
            continue
        try:
            key, tensor = _from_tensorflow(name, value)
        except KeyError:
            unknown.append(name)
            continue
        except (TypeError, ValueError) as exc:
            raise UserError(f"{source}: variable {name} is not an array ({exc})") from None
        tensors[key] = tensor
    _refuse_unknown(unknown, source)
    _refuse_kinds(tensors, source)
    return tensors, {"conv_clamp": float(kwargs.get("conv_clamp") or 0),
                     "lr_mlp": float(kwargs.get("mapping_lrmul", 0.01))}


def _pytorch_network(network: Record, source: str) -> tuple[dict[str, torch.Tensor], dict[str, float]]:
    """NVIDIA-named tensors and settings (read from the layers' attributes) of a network
    stored by NVIDIA's persistence module."""
    tensors = dict(_tensors(network))
    _refuse_kinds(tensors, source)  # before the settings: a label embedding has its own gains
    modules = network.state.get("_modules") or {}
    synthesis, mapping = ([*_records(modules[k])] if isinstance(modules.get(k), Record) else []
                          for k in ("synthesis", "mapping"))
    clamp = _setting(synthesis, "conv_clamp", "conv_clamp")
    lr_mlp = _setting(mapping, "bias_gain", "the mapping learning rate")
    return tensors, {"conv_clamp": float(clamp or 0), "lr_mlp": float(lr_mlp) if lr_mlp else 0.01}


def _refuse_kinds(tensors: dict[str, torch.Tensor], source: str, kind: str = "stylegan2") -> None:
    """A :class:`UserError` for a class-conditional generator's tensors, for those of the
    other StyleGAN than ``kind``, or for a generator with neither's synthesis network."""
    found = ("stylegan3" if any(k.startswith("synthesis.input.") for k in tensors)
             else "stylegan2" if any(re.match(r"synthesis\.b\d+\.", k) for k in tensors) else None)
    if found is None:
        raise UserError(f"{source} holds an incomplete or unrecognised generator: none of its tensors "
                        "belong to a StyleGAN2 or StyleGAN3 synthesis network")
    if found != kind:
        raise UserError(f"{source} holds a {found} generator, not a {kind}: import it with "
                        f"`latentplay import {shell_word(found)}`")
    if any(k.startswith("mapping.embed.") for k in tensors):
        raise UserError(f"{source} holds a class-conditional generator; only unconditional ones are read")


def _refuse_unknown(unknown: list[str], source: str) -> None:
    if unknown:
        raise UserError(f"{source}: tensors outside StyleGAN2's skip generator: {first_named(unknown, 5)}")


def _is_tensorflow(obj: Any) -> bool:
    return getattr(obj, "origin", "") == "dnnlib.tflib.network.Network"


def stylegan2_state(data: Any, source: str) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """The generator tensors (named as :class:`~latentplay.models.stylegan2.Generator`'s) and
    settings (``conv_clamp``, ``lr_mlp``, and ``w_avg`` when trained: :func:`trained_average`)
    in a pickle's object tree ``data``: the ``G_ema`` network (else ``G``) of NVIDIA's PyTorch
    repositories, or ``Gs`` (the third of ``(G, D, Gs)``) of their TensorFlow StyleGAN2;
    ``source`` names the file in errors."""
    network, key = _generator(data)
    if network is not None:
        tensors, settings = _pytorch_network(network, source)
        settings = {**settings, "network": key}
    elif isinstance(data, tuple) and len(data) == 3 and _is_tensorflow(data[2]):
        tensors, settings = _tensorflow_network(data[2], source)
        settings = {**settings, "network": "Gs"}
    else:
        raise UserError(f"{source} holds no generator network (expected 'G_ema' of NVIDIA's "
                        "PyTorch repositories or the (G, D, Gs) of their TensorFlow StyleGAN2)")
    state: dict[str, torch.Tensor] = {}
    unknown = []
    for name, tensor in tensors.items():
        try:
            converted = _port_name(name, tensor)
        except KeyError:
            unknown.append(name)
            continue
        if converted is None:
            if name.endswith("resample_filter") and not torch.allclose(tensor, blur_kernel()):
                raise UserError(f"{source}: {name} is not the [1, 3, 3, 1] filter StyleGAN2 uses")
            continue
        state[converted[0]] = converted[1].float().contiguous()
    _refuse_unknown(unknown, source)
    settings = {**settings, **trained_average(tensors, source)}
    for key in [k for k in state if re.fullmatch(r"convs\.\d+\.conv\.weight", k)]:  # constant blurs
        i = int(key.split(".")[1])
        if i % 2 == 0:
            state[f"convs.{i}.conv.blur.kernel"] = blur_kernel(4.0)
            state[f"to_rgbs.{i // 2}.upsample.kernel"] = blur_kernel(4.0)
    return state, settings


def _generator(data: Any) -> tuple[Record | None, str]:
    """The ``G_ema`` network of a PyTorch network pickle's object tree, else its ``G`` (the
    weights not averaged), and which of the two; ``(None, "")`` when it holds neither."""
    for key in ("G_ema", "G"):
        if isinstance(data, dict) and isinstance(data.get(key), Record):
            return data[key], key
    return None, ""


def _network(data: Any, source: str) -> tuple[Record, str]:
    """:func:`_generator`, a :class:`UserError` when the pickle holds no generator."""
    network, key = _generator(data)
    if network is None:
        raise UserError(f"{source} holds no generator network (expected 'G_ema' of NVIDIA's "
                        "PyTorch repositories)")
    return network, key


def _number(record: Record | None, key: str, source: str) -> float:
    """Attribute ``key`` of a stored layer as a number (NumPy scalars and 1-element arrays too)."""
    value = (record.state if record is not None else {}).get(key)
    try:
        return float(np.asarray(value, dtype=np.float64).reshape(-1)[0])
    except (TypeError, ValueError, IndexError):
        raise UserError(f"{source}: the generator's {key} is not a number ({value!r})") from None


def stylegan3_state(data: Any, source: str) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """The tensors of a StyleGAN3 ``G_ema`` in a pickle's object tree ``data`` (NVIDIA's names,
    which :class:`latentplay.models.stylegan3.Generator3` keeps; the training's W average
    apart, as ``w_avg`` when trained: :func:`trained_average`) and the
    :class:`~latentplay.models.stylegan3.StyleGAN3Config` fields its layers' attributes give;
    ``source`` names the file in errors. Whether those fields rebuild the
    stored layers exactly is checked by :func:`check_stylegan3_layers`."""
    network, key = _network(data, source)
    tensors = dict(_tensors(network))
    _refuse_kinds(tensors, source, "stylegan3")
    modules = network.state.get("_modules") or {}
    synthesis, mapping = (modules.get(k) if isinstance(modules.get(k), Record) else None
                          for k in ("synthesis", "mapping"))
    if synthesis is None or mapping is None:
        raise UserError(f"{source}: the generator has no synthesis or mapping network")
    named = {k: r for k, r in (synthesis.state.get("_modules") or {}).items()
             if isinstance(r, Record) and "is_torgb" in r.state}
    layers = list(named.values())
    styled = [r for r in layers if not r.state["is_torgb"]]
    inputs = (synthesis.state.get("_modules") or {}).get("input")
    if not styled or not isinstance(inputs, Record):
        raise UserError(f"{source}: the StyleGAN3 synthesis network has no input or no layers")
    first = styled[0]
    clamp = _setting(layers, "conv_clamp", "conv_clamp")
    lr_mlp = _setting([*_records(mapping)], "bias_gain", "the mapping learning rate")
    channels = np.array([_number(r, "out_channels", source) for r in styled])
    cutoffs = np.array([_number(r, "out_cutoff", source) for r in styled])
    settings = {
        "resolution": int(_number(synthesis, "img_resolution", source)),
        "style_dim": int(_number(synthesis, "w_dim", source)),
        "n_mlp": len([k for k in tensors if re.fullmatch(r"mapping\.fc\d+\.weight", k)]),
        "channel_base": _channel_base(channels, cutoffs),
        "channel_max": int(channels.max()),
        "conv_kernel": int(_number(first, "conv_kernel", source)),
        "radial": any(bool(r.state.get("down_radial")) for r in styled),
        "num_layers": int(_number(synthesis, "num_layers", source)),
        "num_critical": int(_number(synthesis, "num_critical", source)),
        "first_cutoff": _number(inputs, "bandwidth", source),
        "margin_size": int(_number(synthesis, "margin_size", source)),
        "output_scale": _number(synthesis, "output_scale", source),
        "filter_size": int(_number(first, "up_taps", source) // max(_number(first, "up_factor", source), 1)),
        "lrelu_upsampling": int(_number(first, "tmp_sampling_rate", source)
                                // max(_number(first, "in_sampling_rate", source),
                                       _number(first, "out_sampling_rate", source))),
        "lr_mlp": float(lr_mlp) if lr_mlp else 0.01,
        "conv_clamp": float(clamp or 0),
    }
    state = {k: v.float().contiguous() for k, v in tensors.items() if k != "mapping.w_avg"}
    return state, {"layers": named, "network": key, **settings, **trained_average(tensors, source)}


def trained_average(tensors: dict[str, torch.Tensor], source: str) -> dict[str, torch.Tensor]:
    """``{"w_avg": (D,)}``: the average of the mapped ``w`` that NVIDIA's training keeps in
    ``mapping.w_avg`` (and its truncation pulls towards), or ``{}`` when the file has none or
    it was never updated (all zeros, as a generator that was not trained stores it)."""
    w_avg = tensors.get("mapping.w_avg")
    if w_avg is None or not bool(w_avg.any()):
        return {}
    if w_avg.ndim != 1 or not bool(torch.isfinite(w_avg).all()):
        raise UserError(f"{source}: mapping.w_avg is not a finite vector (shape {tuple(w_avg.shape)})")
    return {"w_avg": w_avg.float().contiguous()}


def _channel_base(channels: np.ndarray, cutoffs: np.ndarray) -> int:
    """The ``channel_base`` of StyleGAN3's ``channels = rint(min(base / 2 / cutoff, max))``
    that gives the styled layers' ``channels`` at their ``cutoffs``: twice channels times
    cutoff of a layer under the cap, as the power of two it is in every published
    configuration or else as it is (any base when every layer is capped)."""
    below = channels < channels.max()
    if not below.any():
        return int(2 ** math.ceil(math.log2(2 * channels.max() * cutoffs.max())))
    estimate = 2 * channels[below][0] * cutoffs[below][0]
    candidates = [int(2 ** round(math.log2(estimate))), int(round(estimate))]
    rebuilt = [np.rint(np.minimum(b / 2 / cutoffs, channels.max())) for b in candidates]
    return next((b for b, c in zip(candidates, rebuilt, strict=True) if np.array_equal(c, channels)),
                candidates[0])


def check_stylegan3_layers(stored: dict[str, Record], built: torch.nn.Module, source: str) -> None:
    """A :class:`UserError` unless the layers rebuilt from the read settings (``built``:
    a :class:`~latentplay.models.stylegan3.Synthesis`) are the stored ones (``{name:
    layer}``): the same names (so sizes and channels), up- and downsampling factors and
    padding."""
    names = list(built.layer_names)
    if names != list(stored):
        raise UserError(f"{source}: synthesis layers {', '.join(stored)}; the settings read "
                        f"rebuild {', '.join(names)}: a layer schedule latentplay does not rebuild")
    for name in names:
        mine, theirs = getattr(built, name), stored[name].state
        wanted = {"up_factor": mine.up, "down_factor": mine.down, "padding": list(mine.padding)}
        for key, value in wanted.items():
            got = theirs.get(key)
            got = [int(v) for v in got] if isinstance(got, (list, tuple)) else got
            if got != value:
                raise UserError(f"{source}: layer {name} has {key} {got}, the rebuilt one {value}: "
                                "a layer schedule latentplay does not rebuild")
