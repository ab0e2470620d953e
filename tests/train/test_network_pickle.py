"""NVIDIA's StyleGAN2 network pickles: read without running their code, drawn as NVIDIA's draws.

``models/reference/stylegan2_nvidia.npz`` holds a small generator of NVIDIA's
``networks_stylegan2.py`` (StyleGAN3 repository; 32 px, style 32, mapping 3 layers, channels
capped at 16, activation clamp 0.8, which changes its images) — every tensor, as
``G.<name>`` — and what NVIDIA's own code drew from it with constant noise: ``images`` of codes
``z`` (``w`` their mapped points) and ``plus_images`` of per-layer ``ws_plus``. The tests write
those tensors into a pickle laid out as NVIDIA's persistence module writes one (each network a
call of ``torch_utils.persistence._reconstruct_persistent_obj`` with its class name, stored
source and attribute dict; ``dnnlib.util.EasyDict`` and NumPy scalars beside), import it and
compare. ``models/reference/stylegan3_{t,r}_nvidia.npz`` do the same for StyleGAN3 (see
``tests/models/test_stylegan3.py``), with the attributes NVIDIA's modules carry, which the
import reads the architecture from.
"""

from __future__ import annotations

import json
import os
import pickle
import re
import subprocess
import sys
import tracemalloc
import types
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from latentplay.errors import UserError
from latentplay.models.stylegan2 import Generator
from latentplay.train import load_model
from latentplay.train.network_pickle import _ALLOWED, Opaque, is_network_pickle, read_pickle, stylegan2_state
from latentplay.train.pretrained import import_generator, read_stylegan2_state, read_stylegan3_state

REFERENCE = np.load(Path(__file__).parents[1] / "models" / "reference" / "stylegan2_nvidia.npz")
BUFFERS = ("noise_const", "w_avg", "resample_filter")


def _reconstruct_persistent_obj(meta: dict) -> Any:  # pickled by name only, never called here
    raise AssertionError("not called when writing")


_reconstruct_persistent_obj.__module__ = "torch_utils.persistence"


class EasyDict(dict):
    """NVIDIA's attribute dict, pickled by its name."""


EasyDict.__module__, EasyDict.__qualname__ = "dnnlib.util", "EasyDict"


class Stored:
    """A network as NVIDIA's persistence module pickles it."""

    def __init__(self, class_name: str, state: dict) -> None:
        self.class_name, self.state = class_name, state

    def __reduce__(self) -> tuple:
        meta = {"type": "class", "version": 6, "module_src": "# networks_stylegan2.py source\n",
                "class_name": self.class_name, "state": self.state}
        return _reconstruct_persistent_obj, (meta,)


class Network:
    """A network of NVIDIA's TensorFlow StyleGAN2 as its pickles hold one: an object whose
    state lists its variables and components."""

    def __init__(self, name: str, variables: list, components: dict | None = None,
                 static_kwargs: dict | None = None) -> None:
        self.state = {"version": 4, "name": name, "static_kwargs": static_kwargs or {},
                      "components": components or {}, "build_module_src": "# networks_stylegan2.py\n",
                      "build_func_name": name, "variables": variables}

    def __getstate__(self) -> dict:
        return self.state


Network.__module__ = "dnnlib.tflib.network"


@pytest.fixture(autouse=True)
def nvidia_modules(monkeypatch: pytest.MonkeyPatch) -> None:
    """Modules named as NVIDIA's, so that pickle can name the functions and classes above."""
    modules: dict[str, types.ModuleType] = {}
    for name, attr, value in (("torch_utils.persistence", "_reconstruct_persistent_obj",
                               _reconstruct_persistent_obj), ("dnnlib.util", "EasyDict", EasyDict),
                              ("dnnlib.tflib.network", "Network", Network)):
        parts = name.split(".")
        for i in range(1, len(parts) + 1):
            path = ".".join(parts[:i])
            if path not in modules:
                modules[path] = types.ModuleType(path)
                if i > 1:
                    setattr(modules[".".join(parts[:i - 1])], parts[i - 1], modules[path])
        setattr(modules[name], attr, value)
    for path, module in modules.items():
        monkeypatch.setitem(sys.modules, path, module)


def _class_name(path: str) -> str:
    last = path.rsplit(".", 1)[-1]
    if path == "G":
        return "Generator"
    if last in ("mapping", "synthesis"):
        return {"mapping": "MappingNetwork", "synthesis": "SynthesisNetwork"}[last]
    if last.startswith("fc") or last == "affine":
        return "FullyConnectedLayer"
    layers = {"torgb": "ToRGBLayer", "conv0": "SynthesisLayer", "conv1": "SynthesisLayer"}
    return layers.get(last, "SynthesisBlock")


def _stored(tensors: dict[str, torch.Tensor], clamp: float | None = 0.8) -> Stored:
    """The ``G`` network tree of ``tensors`` (names relative to ``G``), with the attributes
    NVIDIA's layers carry (clamp, learning-rate gains as Python and NumPy floats)."""
    nodes: dict[str, dict] = {}

    def node(path: str) -> dict:
        if path not in nodes:
            nodes[path] = {"training": False, "_parameters": OrderedDict(), "_buffers": OrderedDict(),
                           "_modules": OrderedDict()}
            last = path.rsplit(".", 1)[-1]
            if last in ("conv0", "conv1", "torgb"):
                nodes[path]["conv_clamp"] = clamp
            if last.startswith("fc") or last in ("affine", "embed"):
                lr = 0.01 if last.startswith("fc") else 1.0  # a label embedding's is 1
                nodes[path].update(bias_gain=lr, weight_gain=np.float64(lr / 4))
            if "." in path:
                parent, _, child = path.rpartition(".")
                node(parent)["_modules"][child] = path
        return nodes[path]

    for name, value in tensors.items():
        owner, _, leaf = ("G." + name).rpartition(".")
        group = "_buffers" if leaf in BUFFERS else "_parameters"
        stored = value if group == "_buffers" else torch.nn.Parameter(value, requires_grad=False)
        node(owner)[group][leaf] = stored
    built: dict[str, Stored] = {}
    for path in sorted(nodes, key=lambda p: -p.count(".")):  # children first
        state = nodes[path]
        state["_modules"] = OrderedDict((k, built[v]) for k, v in state["_modules"].items())
        built[path] = Stored(_class_name(path), state)
    return built["G"]


def _reference_tensors() -> dict[str, torch.Tensor]:
    tensors = {k[2:]: torch.from_numpy(REFERENCE[k]) for k in REFERENCE.files if k.startswith("G.")}
    f = torch.tensor([1.0, 3.0, 3.0, 1.0])
    f = f[:, None] * f[None] / 64
    for res in (8, 16, 32):  # the resampling filters NVIDIA's networks keep as buffers
        tensors[f"synthesis.b{res}.resample_filter"] = f
        tensors[f"synthesis.b{res}.conv0.resample_filter"] = f
    return tensors


def _write(path: Path, network: Stored | None = None, **extra: Any) -> Path:
    network = network or _stored(_reference_tensors())
    with open(path, "wb") as fh:
        pickle.dump({"G": network, "G_ema": network, "D": None, "augment_pipe": None,
                     "training_set_kwargs": EasyDict(resolution=32, use_labels=False), **extra},
                    fh, protocol=4)
    return path


def _tensorflow_variables(tensors: dict[str, torch.Tensor]) -> tuple[list, list, list]:
    """The reference tensors as TensorFlow StyleGAN2 variables of ``Gs``, its mapping and its
    synthesis network: the inverse of the conversion in NVIDIA's ``legacy.py`` (dense weights
    transposed, kernels ``(k, k, in, out)``, flipped in the upsampling layers, modulation
    biases minus 1, noise images ``(1, 1, R, R)``)."""
    top, mapping, synthesis = [("lod", np.float32(0))], [], []  # G_main's variables: lod first
    layers = {"conv0": "Conv0_up", "conv1": "Conv1", "torgb": "ToRGB"}
    parts = {"weight": "weight", "bias": "bias", "affine.weight": "mod_weight", "affine.bias": "mod_bias",
             "noise_strength": "noise_strength"}
    for name, tensor in tensors.items():
        a = tensor.numpy()
        if name == "mapping.w_avg":
            top.append(("dlatent_avg", a))
        elif m := re.fullmatch(r"mapping\.fc(\d+)\.(weight|bias)", name):
            mapping.append((f"Dense{m[1]}/{m[2]}", a.T.copy() if m[2] == "weight" else a))
        elif name == "synthesis.b4.const":
            synthesis.append(("4x4/Const/const", a[None]))
        elif not name.endswith("resample_filter"):
            m = re.fullmatch(r"synthesis\.b(\d+)\.(conv0|conv1|torgb)\.(.+)", name)
            res, layer, part = int(m[1]), m[2], m[3]
            if part == "noise_const":
                i = 0 if res == 4 else 2 * int(np.log2(res)) - (5 if layer == "conv0" else 4)
                synthesis.append((f"noise{i}", a[None, None]))
                continue
            if part == "weight":
                a = a.transpose(2, 3, 1, 0)[::-1, ::-1] if layer == "conv0" else a.transpose(2, 3, 1, 0)
            elif part == "affine.weight":
                a = a.T
            elif part == "affine.bias":
                a = a - 1
            tf_layer = "Conv" if res == 4 and layer == "conv1" else layers[layer]
            synthesis.append((f"{res}x{res}/{tf_layer}/{parts[part]}", a.copy()))  # scalars stay 0-d
    return top, mapping, synthesis


def _write_tensorflow(path: Path, kwargs: dict | None = None, extra: tuple = ()) -> Path:
    """A TensorFlow StyleGAN2 pickle, ``(G, D, Gs)``, of the reference generator (without its
    clamp, which TensorFlow's StyleGAN2 did not have) with ``extra`` synthesis variables."""
    top, mapping, synthesis = _tensorflow_variables(_reference_tensors())
    static = {"num_channels": 3, "resolution": 32, "label_size": 0, "fmap_base": 8192, "fmap_max": 16,
              "mapping_layers": 3, "latent_size": 32, "dlatent_size": 32, "truncation_psi": np.float32(0.5),
              **(kwargs or {})}
    gs = Network("G", top, {"mapping": Network("G_mapping", mapping),
                            "synthesis": Network("G_synthesis", synthesis + list(extra))}, static)
    with open(path, "wb") as fh:
        pickle.dump((Network("G", []), Network("D", []), gs), fh, protocol=3)
    return path


@pytest.fixture(scope="module")
def reference_images() -> dict[str, torch.Tensor]:
    return {k: torch.from_numpy(REFERENCE[k])
            for k in ("z", "w", "images", "ws_plus", "plus_images", "unclamped", "plus_unclamped")}


def test_a_network_pickle_draws_nvidias_images(tmp_path: Path, reference_images: dict) -> None:
    pkl = _write(tmp_path / "network.pkl")
    assert is_network_pickle(pkl)
    run = import_generator(pkl, tmp_path / "run", space="z", w_samples=500, samples=0)
    model = load_model(run)
    assert model.config.conv_clamp == 0.8 and model.config.lr_mlp == 0.01
    assert (model.config.resolution, model.config.style_dim, model.config.n_mlp) == (32, 32, 3)
    r = reference_images
    with torch.no_grad():
        np.testing.assert_allclose(model.generator.mapping(r["z"]), r["w"], atol=1e-5)
        np.testing.assert_allclose(model.decode(r["z"]), (r["images"] + 1) / 2, atol=1e-4)
        np.testing.assert_allclose(model.generator.synthesis(r["ws_plus"]), r["plus_images"], atol=1e-4)
        model.generator.apply(lambda m: setattr(m, "conv_clamp", 0) if hasattr(m, "conv_clamp") else None)
        unclamped = model.generator.synthesis(r["ws_plus"])
        assert (unclamped - r["plus_images"]).abs().max() > 0.5  # the clamp mattered
    meta = (run / "model.json").read_text()
    assert '"format": "nvidia-pickle"' in meta and '"w_mean": "w_avg"' in meta
    from latentplay.report.pretrained import page

    facts = dict(page(run).sections[0].blocks[0].items)
    assert facts["read as"] == "an NVIDIA network pickle, unpickled without running its code"
    assert facts["W statistics"].endswith("mean: the average its training kept (w_avg), where NVIDIA's "
                                          "truncation centres")
    _check_truncation(pkl, tmp_path, "stylegan2", REFERENCE)


def _check_truncation(pkl: Path, tmp_path: Path, kind: str, data: Any) -> None:
    """Truncation centres on the pickle's trained ``w_avg``: NVIDIA's ``G(z, truncation_psi=0.5)``
    images, whether codes are z (the run's truncation) or whitened W (scaled draws, as
    ``sample --temperature`` and the playground's ψ scale them)."""
    z, expected = torch.from_numpy(data["z"]), (torch.from_numpy(data["truncated_images"]) + 1) / 2
    in_z = load_model(import_generator(pkl, tmp_path / "tz", kind=kind, space="z", truncation=0.5,
                                       w_samples=300, samples=0))
    in_w = load_model(import_generator(pkl, tmp_path / "tw", kind=kind, w_samples=300, samples=0))
    np.testing.assert_allclose(in_w.w_mean, data["G.mapping.w_avg"])
    with torch.no_grad():
        np.testing.assert_allclose(in_z.decode(z), expected, atol=1e-4)
        codes = in_w.from_w(in_w.generator.mapping(z))
        np.testing.assert_allclose(in_w.decode(0.5 * codes), expected, atol=1e-4)


def test_a_tensorflow_pickle_draws_nvidias_images(tmp_path: Path, reference_images: dict) -> None:
    pkl = _write_tensorflow(tmp_path / "stylegan2-tf.pkl")
    assert is_network_pickle(pkl)
    model = load_model(import_generator(pkl, tmp_path / "run", space="z", w_samples=500, samples=0))
    assert model.config.conv_clamp == 0 and model.config.lr_mlp == 0.01
    r = reference_images
    with torch.no_grad():
        np.testing.assert_allclose(model.generator.mapping(r["z"]), r["w"], atol=1e-5)
        np.testing.assert_allclose(model.decode(r["z"]), (r["unclamped"] + 1) / 2, atol=1e-4)
        np.testing.assert_allclose(model.generator.synthesis(r["ws_plus"]), r["plus_unclamped"], atol=1e-4)
    for kwargs, extra, match in (({"architecture": "resnet"}, (), "architecture 'resnet'"),
                                 ({}, [("noise9",)], "malformed StyleGAN2 network"),
                                 ({"resample_kernel": [1, 1]}, (), "resample_kernel"),
                                 ({}, [("ToRGB_lod0/weight", np.zeros((1, 1, 16, 3)))], "ToRGB_lod0/weight"),
                                 ({}, [("32x32/Conv0_up/weight_gain", np.zeros(1))], "Conv0_up/weight_gain")):
        with pytest.raises(UserError, match=match):
            read_stylegan2_state(_write_tensorflow(tmp_path / "bad.pkl", kwargs, extra))


def test_no_code_in_the_pickle_runs(tmp_path: Path) -> None:
    sentinel = tmp_path / "ran"

    class Payload:
        def __reduce__(self) -> tuple:
            return os.system, (f"touch {sentinel}",)

    tensors = _reference_tensors()
    network = _stored(tensors)
    network.state["hook"] = Payload()  # inside the generator, and beside it
    data = read_pickle(_write(tmp_path / "evil.pkl", network, payload=Payload()))
    assert not sentinel.exists()
    assert isinstance(data["payload"], Opaque) and data["payload"].origin.endswith(".system")
    state, settings = stylegan2_state(data, "evil.pkl")  # the generator still reads
    assert (settings["conv_clamp"], settings["lr_mlp"]) == (0.8, 0.01) and "input.input" in state
    with open(tmp_path / "only.pkl", "wb") as fh:
        pickle.dump(Payload(), fh)
    with pytest.raises(UserError, match="holds no generator network"):
        read_stylegan2_state(tmp_path / "only.pkl")
    assert not sentinel.exists()


def test_a_pickle_cannot_set_attributes_of_what_the_allowlist_gives(tmp_path: Path) -> None:
    """BUILD on an allowlisted global, or on a dict or network the allowlist built, is refused:
    it would let a file change torch's functions for the whole process, or give an object an
    ``__array_interface__`` through which NumPy reads any address (a crash, or memory in images)."""
    interface = {"__array_interface__": {"shape": (1,), "typestr": "<f8", "data": (8, True), "version": 3}}
    as_state = pickle.dumps(interface, protocol=2)[2:-1]
    defaults = pickle.dumps((None, {"__defaults__": (1,)}), protocol=2)[2:-1]
    bodies = {"easydict": b"cdnnlib.util\nEasyDict\n)R" + as_state,
              "ordered": b"ccollections\nOrderedDict\n)R" + as_state,
              "network": b"ctorch_utils.persistence\n_reconstruct_persistent_obj\n}\x85R" + as_state,
              **{f"{m}.{n}": f"c{m}\n{n}\n".encode() + defaults for m, n in _ALLOWED}}
    before = torch._utils._rebuild_tensor_v2.__defaults__
    for name, body in bodies.items():
        (tmp_path / f"{name}.pkl").write_bytes(b"\x80\x02" + body + b"b.")
        with pytest.raises(UserError, match="not a readable network pickle") as error:
            read_pickle(tmp_path / f"{name}.pkl")
        assert "\n" not in str(error.value), name
    assert torch._utils._rebuild_tensor_v2.__defaults__ == before
    pointer = EasyDict()
    pointer.__dict__.update(interface)
    with pytest.raises(UserError, match="sets attributes of a _Dict"):  # was read at address 8
        read_stylegan2_state(_write_tensorflow(tmp_path / "tf.pkl", extra=[("4x4/Const/const", pointer)]))


def test_numpy_values_of_other_than_plain_numbers_are_refused(tmp_path: Path) -> None:
    """A pickled dtype whose state claims an object field while its flags say it holds none
    (NumPy trusts them): an array or scalar of it read the file's bytes as object pointers, a
    crash or worse. Arrays and scalars of numbers and strings still read, as NVIDIA's pickles hold them."""
    def dtype(state: tuple) -> bytes:  # numpy.dtype("V8") with the BUILD state ``state``
        build = pickle.dumps(state, protocol=2)[2:-1]
        return b"cnumpy\ndtype\nX\x02\x00\x00\x00V8\x89\x88\x87R" + build + b"b"

    forged = dtype((3, "|", None, ("a",), {"a": (np.dtype("O"), 0)}, 8, 1, 0))
    # a float type whose flags say it holds objects: kind, fields and size are a float's
    flagged = (b"cnumpy\ndtype\nX\x02\x00\x00\x00f8\x89\x88\x87R"
               + pickle.dumps((3, "<", None, None, None, -1, -1, 1), protocol=2)[2:-1] + b"b")
    reconstruct = b"cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85C\x01b\x87R"
    bodies = {"array": reconstruct + b"(K\x01K\x01\x85" + forged + b"\x89C\x08" + b"\x08" * 8 + b"tb",
              "scalar": b"cnumpy.core.multiarray\nscalar\n" + forged + b"C\x08" + b"\x08" * 8 + b"\x86R",
              "flags": reconstruct + b"(K\x01K\x01\x85" + flagged + b"\x89C\x08" + b"\x08" * 8 + b"tb",
              "object": pickle.dumps(np.array([None, 1], dtype=object), protocol=2)[2:-1],
              "constructor": b"cnumpy\nndarray\nK\x01\x85X\x02\x00\x00\x00f8C\x08" + b"\x00" * 8 + b"\x87R"}
    for name, body in bodies.items():
        (tmp_path / f"{name}.pkl").write_bytes(b"\x80\x02" + body + b".")
        with pytest.raises(UserError, match="not a readable network pickle") as error:
            read_pickle(tmp_path / f"{name}.pkl")
        assert "\n" not in str(error.value), name
    numbers = {"a": np.arange(6, dtype=np.float32).reshape(2, 3), "b": np.float64(0.25), "c": np.int64(3),
               "d": np.array([True, False]), "e": np.asfortranarray(np.ones((2, 2))), "f": np.str_("ffhq")}
    (tmp_path / "numbers.pkl").write_bytes(pickle.dumps(numbers, protocol=4))
    read = read_pickle(tmp_path / "numbers.pkl")
    for key, value in numbers.items():
        assert np.asarray(read[key]).dtype == value.dtype and np.array_equal(read[key], value), key


def test_a_memo_index_far_past_the_file_allocates_nothing(tmp_path: Path) -> None:
    """A 12-byte pickle storing None at memo index 2**24: the C unpickler grew its memo list to
    twice the index, 2**25 pointers (256 MiB) zeroed, 16 GiB for index 2**30."""
    (tmp_path / "memo.pkl").write_bytes(b"\x80\x04Nr" + (2**24).to_bytes(4, "little") + b".")
    tracemalloc.start()
    try:
        assert read_pickle(tmp_path / "memo.pkl") is None
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2**20, peak


def test_a_bytearray_longer_than_the_file_is_not_allocated(tmp_path: Path) -> None:
    """BYTEARRAY8 declaring 1 GiB in a 14-byte file: Python's unpickler zeroed the declared
    length before reading (1 GiB of memory touched; 4 GiB for 4 GiB); it reads the 3 bytes
    there are, and the file ends too soon. Measured as the growth of a fresh process's peak
    resident memory."""
    pkl = tmp_path / "bytearray.pkl"
    pkl.write_bytes(b"\x80\x05\x96" + (2**30).to_bytes(8, "little") + b"abc")
    script = ("import resource, sys\n"
              "from latentplay.errors import UserError\n"
              "from latentplay.train.network_pickle import read_pickle\n"
              "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
              "try:\n    read_pickle(sys.argv[1])\nexcept UserError as error:\n    print(error)\n"
              "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run([sys.executable, "-c", script, str(pkl)], capture_output=True, text=True,
                          env=env, check=True)
    said, grown_kib = done.stdout.strip().splitlines()
    assert "not a readable network pickle" in said
    assert int(grown_kib) < 64 * 1024, grown_kib


def test_a_network_that_holds_itself_is_one_clear_error(tmp_path: Path) -> None:
    """A ``G_ema`` whose ``_modules`` dict holds the network itself (a cycle the pickle's memo
    builds): walking its layers recursed without end, a RecursionError traceback."""
    meta = (b"}(X\x05\x00\x00\x00state}X\x08\x00\x00\x00_modulesh\x01s"  # memo 1: that _modules dict
            b"X\n\x00\x00\x00class_nameX\t\x00\x00\x00Generatoru")
    network = b"ctorch_utils.persistence\n_reconstruct_persistent_obj\n" + meta + b"\x85Rq\x02"
    cycle = b"h\x01X\x04\x00\x00\x00selfh\x02s0"  # _modules["self"] = the network
    top = b"}X\x05\x00\x00\x00G_emah\x02s."  # {"G_ema": the network}
    (tmp_path / "cycle.pkl").write_bytes(b"\x80\x02}q\x01" + network + cycle + top)
    for read in (read_stylegan2_state, read_stylegan3_state):
        with pytest.raises(UserError, match="holds a malformed StyleGAN"):
            read(tmp_path / "cycle.pkl")


def test_what_is_not_a_stylegan2_generator_is_refused(tmp_path: Path) -> None:
    def refused(change: dict[str, torch.Tensor | None], match: str, **kwargs: Any) -> None:
        tensors = _reference_tensors()
        for k, v in change.items():
            if v is None:
                del tensors[k]
            else:
                tensors[k] = v
        path = _write(tmp_path / "g.pkl", _stored(tensors, **kwargs))
        with pytest.raises(UserError, match=match):
            read_stylegan2_state(path)

    refused({"synthesis.input.affine.weight": torch.zeros(4, 32)}, "`latentplay import stylegan3`")
    refused({"mapping.embed.weight": torch.zeros(32, 10)}, "class-conditional")
    refused({"synthesis.b8.skip.weight": torch.zeros(16, 16, 1, 1)}, "synthesis.b8.skip.weight")
    refused({"synthesis.b8.resample_filter": torch.ones(4, 4) / 16}, "1, 3, 3, 1")
    tensors = _reference_tensors()
    network = _stored(tensors)
    block = network.state["_modules"]["synthesis"].state["_modules"]["b8"]
    block.state["_modules"]["conv0"].state["conv_clamp"] = 256
    with pytest.raises(UserError, match="disagree on conv_clamp"):
        stylegan2_state(read_pickle(_write(tmp_path / "mixed.pkl", network)), "mixed.pkl")
    tensors = _reference_tensors()
    del tensors["synthesis.b16.conv1.bias"]
    with pytest.raises(UserError, match="convs.3.activate.bias"):
        import_generator(_write(tmp_path / "missing.pkl", _stored(tensors)), tmp_path / "r", samples=0)
    data = (tmp_path / "missing.pkl").read_bytes()
    (tmp_path / "cut.pkl").write_bytes(data[: len(data) // 2])
    with pytest.raises(UserError, match="not a readable network pickle"):
        read_stylegan2_state(tmp_path / "cut.pkl")
    (tmp_path / "notes.txt").write_text("not weights")
    with pytest.raises(UserError, match="is not a checkpoint"):
        read_stylegan2_state(tmp_path / "notes.txt")


def test_network_pickles_are_told_from_torch_files(tmp_path: Path) -> None:
    state = {"style.1.weight": torch.zeros(2, 2)}
    torch.save(state, tmp_path / "zip.pt")
    torch.save(state, tmp_path / "legacy.pt", _use_new_zipfile_serialization=False)
    with open(tmp_path / "plain.pkl", "wb") as fh:
        pickle.dump(state, fh, protocol=2)
    kinds = [is_network_pickle(tmp_path / n) for n in ("zip.pt", "legacy.pt", "plain.pkl")]
    assert kinds == [False, False, True]
    assert set(read_stylegan2_state(tmp_path / "legacy.pt")[0]) == {"style.1.weight"}


def test_unclamped_pickles_and_the_cli(tmp_path: Path, cli) -> None:
    pkl = _write(tmp_path / "tf-converted.pkl", _stored(_reference_tensors(), clamp=None))
    state, settings = read_stylegan2_state(pkl)
    assert settings["conv_clamp"] == 0.0
    model = load_model(import_generator(pkl, tmp_path / "a", w_samples=300, samples=0))
    assert model.config.conv_clamp == 0
    Generator(model.config).load_state_dict(state)  # the converted tensors: the whole generator
    result = cli("import", "stylegan2", _write(tmp_path / "n.pkl"), "--out", tmp_path / "run", "--size", 16,
                 "--w-samples", 300)
    assert result.code == 0, result.err
    assert "activations clamped at 0.8" in result.out and (tmp_path / "run" / "samples.png").is_file()
    assert load_model(tmp_path / "run").decode(torch.zeros(2, 32)).shape == (2, 3, 16, 16)


def test_a_pickle_without_g_ema_is_read_from_g_and_said_so(tmp_path: Path, cli) -> None:
    """A network pickle holding ``G`` but no ``G_ema`` (the weights not averaged over training)
    is read from ``G``: the import says so, model.json records it and the report's "read as"
    names it, as for a port checkpoint's ``g`` (it fell back silently)."""
    from latentplay.report.page import Facts
    from latentplay.report.pretrained import page

    assert read_stylegan2_state(_write(tmp_path / "both.pkl"))[1]["network"] == "G_ema"
    pkl = _write(tmp_path / "g.pkl", G_ema=None)
    assert read_stylegan2_state(pkl)[1]["network"] == "G"
    assert read_stylegan3_state(_write(tmp_path / "3.pkl", _stored3("t"), G_ema=None))[1]["network"] == "G"
    assert read_stylegan3_state(_write(tmp_path / "3e.pkl", _stored3("t")))[1]["network"] == "G_ema"
    result = cli("import", "stylegan2", pkl, "--out", tmp_path / "run", "--size", 16, "--w-samples", 50)
    assert result.code == 0, result.err
    assert "using G, no G_ema: the weights not averaged" in result.out
    assert json.loads((tmp_path / "run" / "model.json").read_text())["source"]["network"] == "G"
    facts = [b for s in page(tmp_path / "run").sections for b in s.blocks if isinstance(b, Facts)]
    assert "no G_ema: the weights not averaged" in dict(facts[0].items)["read as"]


def test_an_untrained_w_avg_is_not_the_centre(tmp_path: Path) -> None:
    """A never-updated (all-zero) ``w_avg`` leaves the centre at the draws' mean; a ``w_avg``
    of the wrong size is refused; a TensorFlow pickle's ``dlatent_avg`` is read as ``w_avg``."""
    from latentplay.train.pretrained import w_statistics

    tensors = _reference_tensors()
    tensors["mapping.w_avg"] = torch.zeros(32)
    run = import_generator(_write(tmp_path / "zero.pkl", _stored(tensors)), tmp_path / "a", w_samples=300,
                           samples=0)
    model = load_model(run)
    np.testing.assert_allclose(model.w_mean, w_statistics(model, 300, 0)[0], atol=1e-6)
    assert '"w_mean": "draws"' in (run / "model.json").read_text()
    tensors["mapping.w_avg"] = torch.ones(31)
    with pytest.raises(UserError, match=r"mapping.w_avg has shape \(31,\), not the style size \(32,\)"):
        import_generator(_write(tmp_path / "bad.pkl", _stored(tensors)), tmp_path / "b", samples=0)
    _, settings = read_stylegan2_state(_write_tensorflow(tmp_path / "tf.pkl"))
    np.testing.assert_array_equal(settings["w_avg"], REFERENCE["G.mapping.w_avg"])


STYLEGAN3_BUFFERS = ("magnitude_ema", "up_filter", "down_filter", "w_avg", "transform", "freqs", "phases")


def _stored3(name: str) -> Stored:
    """NVIDIA's StyleGAN3 reference generator ``name`` as its persistence module pickles it:
    every module with its class name, tensors and attributes (NumPy arrays where NVIDIA keeps
    arrays)."""
    data = np.load(Path(__file__).parents[1] / "models" / "reference" / f"stylegan3_{name}_nvidia.npz")
    modules = json.loads(str(data["attributes"]))
    states: dict[str, dict] = {}
    for path, entry in modules.items():
        plain = {k: np.array(v["ndarray"]) if isinstance(v, dict) else v
                 for k, v in entry["attributes"].items()}
        states[path] = {"training": False, "_parameters": OrderedDict(), "_buffers": OrderedDict(),
                        "_modules": OrderedDict(), **plain}
    for key in data.files:
        if key.startswith("G."):
            owner, _, leaf = ("G." + key[2:]).rpartition(".")
            owner = owner[2:] or "G"  # module paths as named_modules gives them
            group = "_buffers" if leaf in STYLEGAN3_BUFFERS else "_parameters"
            value = torch.from_numpy(data[key])
            states[owner][group][leaf] = value if group == "_buffers" else torch.nn.Parameter(value, False)
    built: dict[str, Stored] = {}
    for path in sorted(modules, key=lambda p: -p.count(".") if p != "G" else 1):  # children first
        if path != "G":
            parent, _, child = path.rpartition(".")
            states[parent or "G"]["_modules"][child] = path
        state = states[path]
        state["_modules"] = OrderedDict((k, built[v]) for k, v in state["_modules"].items())
        built[path] = Stored(modules[path]["class_name"], state)
    return built["G"]


@pytest.mark.parametrize("name", ["t", "r"])
def test_a_stylegan3_pickle_draws_nvidias_images(tmp_path: Path, name: str) -> None:
    pkl = _write(tmp_path / f"stylegan3-{name}.pkl", _stored3(name))
    run = import_generator(pkl, tmp_path / "run", kind="stylegan3", space="z", w_samples=300, samples=0)
    model = load_model(run)
    c = model.config
    assert model.family == "stylegan3" and (c.resolution, c.style_dim, c.n_mlp) == (16, 16, 2)
    assert (c.conv_kernel, c.radial, c.conv_clamp) == ((3, False, 0.6) if name == "t" else (1, True, 0.0))
    data = np.load(Path(__file__).parents[1] / "models" / "reference" / f"stylegan3_{name}_nvidia.npz")
    with torch.no_grad():
        images = model.decode(torch.from_numpy(data["z"]))
        np.testing.assert_allclose(images, (data["images"] + 1) / 2, atol=1e-5)
        plus = torch.from_numpy(data["ws_plus"])
        np.testing.assert_allclose(model.generator.synthesis(plus), data["plus_images"], atol=1e-5)
    from latentplay.train.checkpoint import read_meta
    from latentplay.train.pretrained import describe

    assert describe(read_meta(run)).startswith(f"StyleGAN3-{name.upper()} 16 px")
    assert read_meta(run)["source"]["w_mean"] == "w_avg"  # in z only truncation's centre: not said
    _check_truncation(pkl, tmp_path, "stylegan3", data)


def test_stylegan3_refusals(tmp_path: Path) -> None:
    sg3 = _write(tmp_path / "sg3.pkl", _stored3("t"))
    with pytest.raises(UserError, match="holds a stylegan3 generator, not a stylegan2"):
        import_generator(sg3, tmp_path / "a", samples=0)
    with pytest.raises(UserError, match="holds a stylegan2 generator, not a stylegan3"):
        import_generator(_write(tmp_path / "sg2.pkl"), tmp_path / "b", kind="stylegan3", samples=0)
    torch.save({"a": torch.zeros(1)}, tmp_path / "g.pt")
    with pytest.raises(UserError, match="StyleGAN3 generators are read from NVIDIA's .pkl"):
        import_generator(tmp_path / "g.pt", tmp_path / "c", kind="stylegan3", samples=0)
    with pytest.raises(UserError, match="unknown generator kind 'stylegan4'; choose from: "
                                        "stylegan2, stylegan3$"):
        import_generator(sg3, tmp_path / "d", kind="stylegan4", samples=0)
    network = _stored3("t")  # a layer padded unlike the schedule latentplay rebuilds
    layer = network.state["_modules"]["synthesis"].state["_modules"]["L5_36_16"]
    layer.state["padding"] = [8, 9, 8, 9]
    with pytest.raises(UserError, match=r"layer L5_36_16 has padding \[8, 9, 8, 9\]"):
        import_generator(_write(tmp_path / "pad.pkl", network), tmp_path / "e", kind="stylegan3", samples=0)
    network = _stored3("t")  # one more synthesis layer than the settings rebuild
    network.state["_modules"]["synthesis"].state["num_layers"] = 13
    with pytest.raises(UserError, match="a layer schedule latentplay does not rebuild"):
        import_generator(_write(tmp_path / "n.pkl", network), tmp_path / "f", kind="stylegan3", samples=0)
    network = _stored3("t")
    network.state["_modules"]["mapping"].state["_modules"]["embed"] = Stored(
        "FullyConnectedLayer", {"_parameters": OrderedDict(weight=torch.zeros(16, 4)), "_buffers": {},
                                "_modules": {}})
    with pytest.raises(UserError, match="class-conditional"):
        import_generator(_write(tmp_path / "c.pkl", network), tmp_path / "g", kind="stylegan3", samples=0)
    assert not any((tmp_path / n).exists() for n in "abcdefg")


def test_stylegan3_through_the_cli_and_latent_commands(tmp_path: Path, cli) -> None:
    result = cli("import", "stylegan3", _write(tmp_path / "r.pkl", _stored3("r")), "--out", tmp_path / "run",
                 "--w-samples", 300)
    assert result.code == 0, result.err
    assert "StyleGAN3-R 16 px" in result.out and (tmp_path / "run" / "samples.png").is_file()
    from latentplay.latent.invert import invert
    from latentplay.latent.traverse import sefa_axes

    model = load_model(tmp_path / "run")
    from latentplay.models.stylegan3 import style_codes
    from latentplay.train.checkpoint import read_meta

    assert style_codes("stylegan3", read_meta(tmp_path / "run")["model"]) == model.n_layers == 16
    axes = sefa_axes(model)  # the 14 synthesis layers' modulation weights
    stacked = torch.cat([getattr(model.generator.synthesis, n).affine.weight
                         for n in model.generator.synthesis.layer_names[:-1]]).double().detach()
    stacked /= stacked.norm(dim=1, keepdim=True)  # each channel's weights of unit length
    np.testing.assert_allclose(axes.strength, np.linalg.svd(stacked.numpy(), compute_uv=False) ** 2
                               / (stacked.numpy() ** 2).sum(), atol=1e-6)
    with pytest.raises(UserError, match="drive no styled convolution"):
        sefa_axes(model, (0, 1))  # the input's transform only
    with torch.no_grad():
        faces = (model.decode(torch.randn(2, 16, generator=torch.Generator().manual_seed(3))) * 255).round()
    faces = faces.permute(0, 2, 3, 1).to(torch.uint8).numpy()
    found = invert(model, faces, init="mean", steps=10, lr=0.05, per_layer=True)
    assert found.z.shape == (2, 16 * 16) and (found.loss < 0.5 * found.init_loss).all()  # measured 0.18, 0.06
    from latentplay.train.export import export_run

    pictures = []
    for args in ([], ["--rotate", "90", "--translate", "0.1,0"]):
        result = cli("latent", "sample", tmp_path / "run", "--n", 4, *args, "--out", tmp_path / "s.png")
        assert result.code == 0, result.err
        pictures.append((tmp_path / "s.png").read_bytes())
    assert pictures[0] != pictures[1] and json.loads((tmp_path / "s.json").read_text())["rotate"] == 90
    result = cli("latent", "sample", tmp_path / "run", "--translate", "1", "--out", tmp_path / "x.png")
    assert result.code == 2 and "give X,Y" in result.err
    sg2 = import_generator(_write(tmp_path / "sg2.pkl"), tmp_path / "sg2", w_samples=100, samples=0)
    result = cli("latent", "sample", sg2, "--rotate", "5", "--out", tmp_path / "x.png")
    assert result.code == 2 and "StyleGAN3's input signal" in result.err
    info = export_run(tmp_path / "run", tmp_path / "onnx")  # ONNX Runtime draws the same images
    assert info["files"]["generator.onnx"]["max_abs_diff"] < 1e-4


def test_the_channel_base_is_read_back_from_the_layers() -> None:
    from latentplay.models.stylegan3 import StyleGAN3Config, schedule
    from latentplay.train.network_pickle import _channel_base

    def channels_cutoffs(base: int, cap: int) -> tuple[np.ndarray, np.ndarray]:
        plans = [p for p in schedule(StyleGAN3Config(channel_base=base, channel_max=cap))[1] if not p.torgb]
        return np.array([p.out_channels for p in plans], float), np.array([p.out_cutoff for p in plans])

    for base, cap in ((32768, 512), (65536, 1024), (16384, 512)):  # T, R and FFHQ-U's 256 px
        assert _channel_base(*channels_cutoffs(base, cap)) == base
    channels, cutoffs = channels_cutoffs(24576, 512)  # not a power of two: a base that rebuilds them
    np.testing.assert_array_equal(channels_cutoffs(_channel_base(channels, cutoffs), 512)[0], channels)


@pytest.mark.parametrize("group", ["_parameters", "_buffers", "_modules"])
def test_a_network_whose_tensor_groups_are_not_dicts_is_refused(tmp_path: Path, group: str) -> None:
    """A malformed pickle whose network keeps its ``_parameters`` (or buffers, or children)
    as something other than a dict used to fail with an ``AttributeError`` traceback."""
    network = _stored(_reference_tensors())
    network.state["_modules"]["mapping"].state[group] = ["fc0.weight"]
    with pytest.raises(UserError, match=f"not a readable network pickle.*{group} is a list, not a dict"):
        read_stylegan2_state(_write(tmp_path / "g.pkl", network))
