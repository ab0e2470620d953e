"""Checkpoints that never unpickle untrusted data.

- ``model.safetensors`` + ``model.json``: the weights for sharing, and everything needed to
  rebuild the model (family, model config, image geometry, condition layout) plus the
  SHA-256 of the weights file. Loading checks the checksum and that every tensor name and
  shape matches the config, and says what differs when they don't.
- ``checkpoint.pt``: the full training state for resuming (weights, optimisers, RNG states,
  counters), loaded with ``torch.load(weights_only=True)``: only tensors and plain
  containers, never arbitrary objects.
Each is written to a temporary file and renamed (the model's two files both written before either
is renamed), so a killed process leaves the previous one.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load as safetensors_load
from safetensors.torch import save as safetensors_bytes
from torch import nn

from latentplay import __version__
from latentplay.errors import UserError
from latentplay.jsontext import parsed_json
from latentplay.models import build_model, family_config
from latentplay.models.condition import ConditionSpec
from latentplay.outputs import made_by

MODEL_FILE = "model.safetensors"
EPOCHS_DIR = "epochs"  # the weights kept every trainer.keep_every epochs
MODEL_META = "model.json"
STATE_FILE = "checkpoint.pt"
META_KEYS = ("family", "model", "channels", "size", "condition")  # what rebuilds the model
MODEL_FORMAT = 1   # model.json's latentplay_model
STATE_FORMAT = 1   # checkpoint.pt's format


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _synced(path: Path) -> Path:
    """``path``, its contents flushed to disk."""
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())
    return path


def save_model(run_dir: Path, model: nn.Module, meta: dict[str, Any]) -> None:
    """Write ``model.safetensors`` and ``model.json`` (``meta`` plus checksum, shapes and the
    command that wrote them, :func:`~latentplay.outputs.made_by`).

    Both files are written in full (and the checksum taken) before either replaces the previous
    pair, so an interruption while writing leaves the previous weights and the description
    whose checksum matches them, and no scratch file when a write fails (a full disk). The
    weights are written by Python (safetensors' own ``save_file`` says a full disk in words
    alone, and gives its file mode 0600 beside the run's other files' 0644)."""
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    tmp, tmp_meta = run_dir / f".{MODEL_FILE}.tmp", run_dir / f".{MODEL_META}.tmp"
    try:
        data = safetensors_bytes(state)
        tmp.write_bytes(data)
        info = {"latentplay_model": MODEL_FORMAT, "version": __version__, **meta,
                "sha256": hashlib.sha256(data).hexdigest(),   # of the bytes written, not read back
                "tensors": {k: list(v.shape) for k, v in state.items()}, "made_by": made_by()}
        tmp_meta.write_text(json.dumps(info, indent=2), encoding="utf-8")
        for written in (tmp, tmp_meta):  # both on disk before either is renamed
            _synced(written)
        os.replace(tmp, run_dir / MODEL_FILE)
        os.replace(tmp_meta, run_dir / MODEL_META)
    finally:
        for left in (tmp, tmp_meta):
            left.unlink(missing_ok=True)


def keep_model(run_dir: Path, epoch: int) -> Path:
    """Copy the weights just saved (``model.safetensors``, ``model.json``) and ``config.yaml``
    into ``run_dir/epochs/epoch_NNN`` (``epoch`` from 1), written whole or not at all: a run
    directory of its own, for sampling or auditing the model as it was then."""
    target = run_dir / EPOCHS_DIR / f"epoch_{epoch:03d}"
    tmp = target.with_name(f".{target.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for name in (MODEL_FILE, MODEL_META, "config.yaml"):
        shutil.copy2(run_dir / name, tmp / name)
    shutil.rmtree(target, ignore_errors=True)   # a resumed run keeps that epoch again
    tmp.rename(target)
    return target


def model_meta(family: str, config: Any, channels: int, size: int, spec: ConditionSpec,
               epoch: int, step: int, crop: float = 1.0) -> dict[str, Any]:
    """The ``model.json`` fields that rebuild a model and prepare its images (``crop``), and
    the epoch (from 1, as in ``metrics.csv``) and step its weights were saved at."""
    from latentplay.config import to_dict

    return {"family": family, "model": to_dict(config), "channels": channels, "size": size,
            "crop": crop, "condition": spec.to_dict(), "epoch": epoch, "step": step}


def check_run_exists(run_dir: str | os.PathLike[str]) -> None:
    """Refuse a run directory that does not exist, as such (before "not a run directory",
    which is for a folder that holds no run)."""
    if not Path(run_dir).exists():
        raise UserError(f"no run at {run_dir}: path does not exist")


def read_meta(run_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """Parsed ``model.json`` of a run directory."""
    check_run_exists(run_dir)
    path = Path(run_dir) / MODEL_META
    if not path.exists():
        raise UserError(f"{run_dir} is not a run directory: it holds no trained model "
                        f"({MODEL_META} missing)")
    try:
        meta = parsed_json(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise UserError(f"{path} is not valid JSON: {exc}") from None
    if not isinstance(meta, dict) or "latentplay_model" not in meta:
        raise UserError(f"{path} is not a latentplay model description")
    check_format(path, meta["latentplay_model"], MODEL_FORMAT, meta.get("version"))
    missing = [k for k in META_KEYS if k not in meta]
    if missing:
        raise UserError(f"{path} lacks the key(s) {', '.join(missing)}: the file was edited or is "
                        "damaged (the run's training or import writes it whole)")
    return meta


def load_weights(run_dir: str | os.PathLike[str]) -> tuple[nn.Module, dict[str, Any]]:
    """Rebuild the model described by ``model.json`` and load ``model.safetensors`` into it.

    Raises:
        UserError: missing files, a checksum that differs (the weights were modified), or
            tensors whose names/shapes don't match the config.
    """
    from latentplay.config import resolve

    run_dir = Path(run_dir)
    weights = run_dir / MODEL_FILE
    meta, data = _matching_weights(run_dir)
    family = meta["family"]
    config = resolve(family_config(family), values=meta["model"])
    spec = ConditionSpec.from_dict(meta["condition"])
    model = build_model(family, config, int(meta["channels"]), int(meta["size"]), spec.dim)
    try:
        state = safetensors_load(data)
    except SafetensorError as exc:
        raise UserError(f"{weights} is not a readable safetensors file: {exc}") from None
    del data  # the file's bytes, not held while the weights are copied into the model
    check_state(model, state, str(weights))
    model.load_state_dict(state)
    return model, meta


SAVE_WAITS = (0.01, 0.05, 0.2, 0.5)
"""Seconds :func:`load_weights` waits before reading a run's model again when its training
saved it while it was read."""


def _matching_weights(run_dir: Path) -> tuple[dict[str, Any], bytes]:
    """``model.json`` of ``run_dir`` and the bytes of ``model.safetensors`` whose checksum it
    holds, read together: when the run saved its model meanwhile (its training does each
    epoch) both are read again after a short wait (:data:`SAVE_WAITS`), rather than the
    weights of one epoch loaded with another's description, or refused as modified."""
    weights = run_dir / MODEL_FILE
    for wait in (*SAVE_WAITS, None):
        meta = read_meta(run_dir)
        try:
            data = weights.read_bytes()
        except FileNotFoundError:
            raise UserError(f"{run_dir} has {MODEL_META} but no {MODEL_FILE}") from None
        if hashlib.sha256(data).hexdigest() == meta.get("sha256"):
            return meta, data
        saving = (run_dir / f".{MODEL_META}.tmp").exists() or read_meta(run_dir) != meta
        if wait is None or not saving:
            break
        time.sleep(wait)
    raise UserError(f"{weights} does not match the checksum in {MODEL_META}: "
                    "the file was modified or is corrupt")


def check_state(model: nn.Module, state: dict[str, torch.Tensor], origin: str) -> None:
    """Raise a UserError naming what differs between ``state`` and ``model``'s parameters."""
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    extra = sorted(set(state) - set(expected))
    shapes = [f"{k} {tuple(state[k].shape)} vs {tuple(v.shape)}" for k, v in expected.items()
              if k in state and state[k].shape != v.shape]
    if missing or extra or shapes:
        parts = []
        if missing:
            parts.append(f"missing {missing[:3]}")
        if extra:
            parts.append(f"unexpected {extra[:3]}")
        if shapes:
            parts.append(f"shape mismatch {shapes[:3]} (checkpoint vs config)")
        raise UserError(f"{origin} does not match its config: " + "; ".join(parts))


def save_state(run_dir: Path, state: dict[str, Any]) -> None:
    """Atomically write the resumable training state (tensors and plain containers only)."""
    tmp = run_dir / f".{STATE_FILE}.tmp"
    try:
        with open(tmp, "wb") as fh:  # a file object: a full disk is an OSError (given a path,
            torch.save(state, fh)    # torch says "unexpected pos")
        os.replace(_synced(tmp), run_dir / STATE_FILE)
    finally:
        tmp.unlink(missing_ok=True)


def load_state(run_dir: Path) -> dict[str, Any]:
    """Read ``checkpoint.pt`` with ``weights_only=True`` (no arbitrary objects)."""
    path = run_dir / STATE_FILE
    if not path.exists():
        raise UserError(f"{run_dir} has no {STATE_FILE} to resume from: it stopped before its "
                        "first checkpoint; start the run again with another --out, or delete "
                        f"{run_dir} first")
    state = load_plain(path)
    if isinstance(state, dict):
        check_format(path, state.get("format"), STATE_FORMAT)
    return state


def check_format(path: Path, found: Any, reads: int, version: Any = None) -> None:
    """A :class:`UserError` when the format number ``found`` in ``path`` is not the one this
    latentplay ``reads``: a newer latentplay (``version``, where the file names it) wrote it."""
    if found == reads:
        return
    by = f" (latentplay {version})" if isinstance(version, str) else ""
    if isinstance(found, int) and not isinstance(found, bool) and found > reads:
        raise UserError(f"{path} is of format {found}, written by a newer latentplay{by}; this "
                        f"one reads format {reads}: upgrade latentplay to use it")
    raise UserError(f"{path} has the format {found!r}, which no latentplay writes (format "
                    f"{reads} expected): the file was edited or is damaged")


def saved_position(run_dir: Path) -> dict[str, Any] | None:
    """``{"step", "epoch", "batch", "finished"}`` of the run's ``checkpoint.pt``: where a resume
    starts (``epoch`` epochs done and ``batch`` batches of the next); None without the file.
    Read as :func:`load_plain` reads (no arbitrary objects), its tensors memory-mapped rather
    than read.

    Raises:
        UserError: the file is not a readable checkpoint.
    """
    path = run_dir / STATE_FILE
    if not path.exists():
        return None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except Exception as exc:  # the restricted unpickler raises several types
        raise UserError(_load_error(path, str(exc))) from None
    if not isinstance(state, dict) or not all(k in state for k in ("step", "epoch", "batch")):
        raise UserError(f"{path} is not a latentplay training checkpoint")
    return {"step": int(state["step"]), "epoch": int(state["epoch"]), "batch": int(state["batch"]),
            "finished": bool(state.get("finished", False))}


def load_plain(path: Path, allowed: Sequence[type] = ()) -> Any:
    """``torch.load(weights_only=True)``: tensors and plain containers (and the ``allowed``
    classes, e.g. a training script's ``argparse.Namespace``), never arbitrary objects; a
    :class:`UserError` naming the file otherwise."""
    try:
        with torch.serialization.safe_globals(list(allowed)), warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*TorchScript archive")  # refused below
            return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # the restricted unpickler raises several types
        raise UserError(_load_error(path, str(exc))) from None


def _load_error(path: Path, text: str) -> str:
    """One line about why ``torch.load`` refused ``path`` (its error ``text``): what it would have
    had to unpickle (an object, a TorchScript archive, torch's legacy .tar format) and what to use
    instead, or what is unreadable about the file."""
    found = re.search(r"GLOBAL (\S+?)\.? (?:was not|whose module)", text)
    what = (f"it holds objects other than tensors and plain containers ({found.group(1)})" if found
            else "it is a TorchScript archive (code as well as tensors)" if "TorchScript" in text
            else "it is in torch's legacy .tar format (read only by unpickling arbitrary objects)"
            if "legacy .tar" in text else None)
    if what is not None:
        return (f"refusing to load {path}: {what}, and latentplay never unpickles arbitrary objects; "
                f"use a checkpoint latentplay saved, or the tensors saved as .safetensors (as a run's "
                f"{MODEL_FILE})")
    detail = text.split("WeightsUnpickler error:", 1)[-1]
    lines = [line.strip() for line in detail.splitlines() if line.strip() and "weights_only" not in line]
    reason = lines[0].split(". ")[0].rstrip(".") if lines else "unreadable"
    return f"{path} is not a readable torch checkpoint ({reason})"
