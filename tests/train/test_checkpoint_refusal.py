"""A checkpoint that needs arbitrary objects unpickled is refused in one line of the project's own."""

from __future__ import annotations

import argparse
import os
import tarfile
from pathlib import Path

import pytest
import torch

from latentplay.errors import UserError
from latentplay.train.checkpoint import load_plain


class _Shell:
    """Unpickles to a shell command, as a hostile checkpoint would."""

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, ("echo unpickled",))


@pytest.mark.parametrize("payload", [_Shell(), argparse.Namespace(lr=0.1)], ids=["blocked", "unlisted"])
def test_a_checkpoint_holding_objects_is_refused_without_torch_advice(tmp_path: Path,
                                                                       payload: object) -> None:
    """Torch's message advised loading with ``weights_only=False`` (arbitrary code); the error now
    names the file and the object and points to files latentplay saved or .safetensors."""
    path = tmp_path / "checkpoint.pt"
    torch.save({"step": 1, "extra": payload}, path)
    with pytest.raises(UserError) as info:
        load_plain(path)
    message = str(info.value)
    assert message.startswith(f"refusing to load {path}: it holds objects other than tensors")
    assert ".safetensors" in message
    assert "weights_only" not in message and "\n" not in message


@pytest.mark.filterwarnings("ignore:`torch.jit.:DeprecationWarning")  # such archives are still met
def test_a_torchscript_archive_is_refused_without_torch_advice(tmp_path: Path) -> None:
    path = tmp_path / "scripted.pt"
    torch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), str(path))
    with pytest.raises(UserError, match=r"refusing to load .*: it is a TorchScript archive") as info:
        load_plain(path)
    assert "weights_only" not in str(info.value)


def test_a_legacy_tar_checkpoint_is_not_said_to_hold_objects(tmp_path: Path) -> None:
    """Torch refuses the legacy .tar format by its format, whatever it holds: the error said the
    file held objects other than tensors."""
    member = tmp_path / "storages"
    member.write_bytes(b"")
    path = tmp_path / "old.tar"
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
        tar.add(member, arcname="storages")
    with pytest.raises(UserError) as info:
        load_plain(path)
    message = str(info.value)
    assert message.startswith(f"refusing to load {path}: it is in torch's legacy .tar format")
    assert "holds objects" not in message and "weights_only" not in message


def test_a_damaged_file_is_called_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "checkpoint.pt"
    torch.save({"step": torch.zeros(3)}, path)
    path.write_bytes(path.read_bytes()[:40])
    with pytest.raises(UserError, match=r"is not a readable torch checkpoint \(") as info:
        load_plain(path)
    assert "weights_only" not in str(info.value) and "\n" not in str(info.value)
