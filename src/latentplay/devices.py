"""Where PyTorch work runs: a ``--device`` setting resolved, loading torch only to look for CUDA."""

from __future__ import annotations

from latentplay.errors import UserError


def resolve_device(device: str, option: str = "--device") -> str:
    """``cpu`` or ``cuda`` for a device setting ``cpu``, ``cuda`` or ``auto`` (CUDA when there
    is one); a :class:`UserError` naming ``option`` for CUDA on a machine without it. ``cpu``
    is answered without importing torch (face detection on the CPU needs none)."""
    if device not in ("cpu", "cuda", "auto"):
        raise UserError(f"{option} must be cpu, cuda or auto, got {device!r}")
    if device == "cpu":
        return device
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if not torch.cuda.is_available():
        raise UserError(f"{option}=cuda but no CUDA device is available")
    return device
