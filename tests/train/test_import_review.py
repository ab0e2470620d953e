"""Imports refused in one line: damaged and non-finite tensors, a generator without a synthesis
network, options out of range; and what the import's line says of a trained ``w_avg``."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from test_network_pickle import (  # noqa: F401  (the fixture registers NVIDIA's module names)
    _reference_tensors,
    _stored,
    _stored3,
    _write,
    _write_tensorflow,
    nvidia_modules,
)
from test_pretrained import _generator

from latentplay.errors import UserError
from latentplay.train.checkpoint import read_meta
from latentplay.train.pretrained import describe, import_generator

QUICK = {"w_samples": 100, "samples": 0}


def _nan_stylegan3(path: Path) -> Path:
    network = _stored3("t")
    network.state["_modules"]["synthesis"].state["_modules"]["input"].state["_buffers"]["freqs"] = (
        torch.full((16, 2), float("nan")))
    return _write(path, network)


def _inf_stylegan2(path: Path) -> Path:
    tensors = _reference_tensors()
    tensors["synthesis.b8.conv0.weight"] = tensors["synthesis.b8.conv0.weight"].clone()
    tensors["synthesis.b8.conv0.weight"][0, 0, 0, 0] = float("inf")
    return _write(path, _stored(tensors))


def _nan_port(path: Path, suffix: str) -> Path:
    state = _generator().state_dict()
    state["style.1.weight"] = torch.full_like(state["style.1.weight"], float("nan"))
    if suffix == ".pt":
        torch.save({"g_ema": state, "args": argparse.Namespace(size=16)}, path)
    else:
        from safetensors.torch import save_file

        save_file({k: v.contiguous() for k, v in state.items()}, str(path))
    return path


def test_non_finite_tensors_are_refused_naming_them(tmp_path: Path, cli) -> None:
    """Every format read: NaN or infinite weights drew black pictures and imported with exit 0."""
    cases = [(_nan_stylegan3(tmp_path / "nan3.pkl"), "stylegan3", "synthesis.input.freqs"),
             (_inf_stylegan2(tmp_path / "inf2.pkl"), "stylegan2", "convs.0.conv.weight"),
             (_nan_port(tmp_path / "nan.pt", ".pt"), "stylegan2", "style.1.weight"),
             (_nan_port(tmp_path / "nan.safetensors", ".safetensors"), "stylegan2", "style.1.weight")]
    for path, kind, tensor in cases:
        result = cli("import", kind, path, "--out", tmp_path / f"run-{path.name}", "--w-samples", 100)
        assert result.code == 2, (path, result.out)
        assert re.fullmatch(rf"error: .*{re.escape(tensor)}.* NaN or infinite values.*\n", result.err)
        assert not (tmp_path / f"run-{path.name}").exists()


def test_non_finite_tensorflow_variables_are_refused(tmp_path: Path) -> None:
    bias = _reference_tensors()["synthesis.b4.conv1.bias"]  # read last, in place of the good one
    path = _write_tensorflow(tmp_path / "tf.pkl", extra=(("4x4/Conv/bias", np.full(bias.shape, np.nan)),))
    with pytest.raises(UserError, match=r"tensor conv1\.activate\.bias holds NaN or infinite values"):
        import_generator(path, tmp_path / "run", **QUICK)


def test_a_damaged_pickle_is_called_damaged_without_torchs_advice(tmp_path: Path, cli) -> None:
    """A tensor's bytes damaged inside the pickle: torch's advice to load with weights_only=False
    (unsafe, and no switch the user has) was passed through."""
    good = _write(tmp_path / "g.pkl", _stored3("t")).read_bytes()
    # a tensor's storage is torch.save bytes inside the pickle; its record of the system it was
    # saved on opens with an empty dict, turned here into an opcode torch's loader refuses
    marker = good.find(b"\x80\x02}q\x00(X\x10\x00\x00\x00protocol_version")
    assert marker > 0
    (tmp_path / "d.pkl").write_bytes(good[:marker + 2] + b"\xeb" + good[marker + 3:])
    result = cli("import", "stylegan3", tmp_path / "d.pkl", "--out", tmp_path / "run")
    assert result.code == 2 and result.err.count("\n") == 1
    assert "is not a readable network pickle" in result.err and "damaged" in result.err
    assert "Unsupported operand 235" in result.err
    for advice in ("weights_only", "arbitrary code", "PyTorch 2.6", "file an issue"):
        assert advice not in result.err


def test_a_stylegan3_without_its_synthesis_network_is_not_called_a_stylegan2(tmp_path: Path) -> None:
    network = _stored3("t")
    del network.state["_modules"]["synthesis"]
    path = _write(tmp_path / "nosynth.pkl", network)
    for kind in ("stylegan3", "stylegan2"):
        with pytest.raises(UserError, match="incomplete or unrecognised generator") as info:
            import_generator(path, tmp_path / kind, kind=kind, **QUICK)
        assert "import it with" not in str(info.value)


def test_truncation_values_are_refused_before_the_file_is_read(tmp_path: Path, cli) -> None:
    """A value out of range is named before a (here unreadable) pickle is opened."""
    junk = tmp_path / "junk.pkl"
    junk.write_bytes(b"not a pickle")
    for args, named in ((("--truncation", "1.5"), "--truncation must be in [0, 1]"),
                        (("--truncation", "nan"), "--truncation must be in [0, 1]"),
                        (("--truncation-cutoff", "-1"), "--truncation-cutoff must be 0")):
        result = cli("import", "stylegan3", junk, "--out", tmp_path / "c", *args)
        assert result.code == 2 and result.err.count("\n") == 1 and named in result.err, (args, result.err)
    assert "is not a network pickle" in cli("import", "stylegan3", junk, "--out", tmp_path / "c").err


def test_space_and_truncation_cutoff_are_checked_by_their_option_names(tmp_path: Path, cli) -> None:
    path = _write(tmp_path / "t.pkl", _stored3("t"))
    result = cli("import", "stylegan3", path, "--out", tmp_path / "q", "--space", "q")
    assert result.code == 2 and result.err.startswith("error: --space ") and "model.space" not in result.err
    result = cli("import", "stylegan3", path, "--out", tmp_path / "c", "--truncation", 0.5,
                 "--truncation-cutoff", 17, "--w-samples", 100)
    assert result.code == 2 and "--truncation-cutoff 17" in result.err and "16 styles" in result.err
    assert not (tmp_path / "c").exists()
    result = cli("import", "stylegan3", path, "--out", tmp_path / "c", "--truncation", 0.5,
                 "--truncation-cutoff", 16, "--w-samples", 100)
    assert result.code == 0, result.err


def test_the_trained_w_avg_is_said_to_centre_only_w_codes(tmp_path: Path) -> None:
    """In z the codes are the mapping's inputs: w_avg is only where truncation pulls."""
    path = _write(tmp_path / "t.pkl", _stored3("t"))
    lines = {}
    for space, psi in (("w", 1.0), ("z", 1.0), ("z", 0.7)):
        run = import_generator(path, tmp_path / f"{space}{psi}", space=space, truncation=psi,
                               kind="stylegan3", **QUICK)
        lines[space, psi] = describe(read_meta(run))
    assert lines["w", 1.0].endswith("centred on its trained w_avg")
    assert "w_avg" not in lines["z", 1.0]
    assert "centred" not in lines["z", 0.7] and lines["z", 0.7].endswith("towards its trained w_avg")
