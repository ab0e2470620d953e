"""A concept model's folder read back (``latentplay metrics concepts``): the model and the
images it takes.

The folder's ``metrics.json`` records the kind, the model's config (``model``), the image side,
channels and classes (``training``) and, for a store's faces, the centred crop (``data``);
``model.pt`` holds the weights (a state dict of tensors, loaded with ``weights_only``: nothing
is unpickled). The ``concepts:DIR`` embedder (:mod:`latentplay.embed.concept_model`) reads a
store's images through it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from latentplay.errors import UserError


@dataclass
class SavedConceptModel:
    """Attributes:
        model: the GlanceNet or CBM, in eval mode.
        kind: ``glancenet``, ``vae`` or ``cbm``.
        size: image side it takes.
        channels: 1 (gray) or 3 (RGB).
        crop: the centred crop of the shorter side its store's images were read with (1: all).
        concepts: names of its concept columns, ``(k,)``.
        halved: trained on 64-px images averaged over 2x2 blocks (shapes at 32 px), not on
            images resized to ``size``.
    """

    model: torch.nn.Module
    kind: str
    size: int
    channels: int
    crop: float
    concepts: list[str]
    halved: bool = False

    @property
    def latent_dim(self) -> int:
        """Length of its latent means (a CBM's latents are its concept activations)."""
        return len(self.concepts) if self.kind == "cbm" else int(self.model.config.latent_dim)


def load_concept_model(folder: str | os.PathLike[str]) -> SavedConceptModel:
    """The concept model saved in ``folder``.

    Raises:
        UserError: no ``metrics.json`` of ``metrics concepts`` or no ``model.pt`` there, or
            weights that do not fit the recorded model.
    """
    from latentplay.config import resolve
    from latentplay.metrics.concepts import KINDS
    from latentplay.models.cbm import CBM, CBMConfig
    from latentplay.models.glancenet import GlanceNet, GlanceNetConfig
    from latentplay.outputs import read_json

    path = Path(folder)
    if not path.is_dir():
        raise UserError(f"no concept model at {path}: the folder does not exist (give the --out of "
                        "latentplay metrics concepts)")
    if not (path / "metrics.json").is_file() or not (path / "model.pt").is_file():
        raise UserError(f"{path} is not a concept model's folder (metrics.json and model.pt of "
                        "latentplay metrics concepts)")
    record = read_json(path / "metrics.json")
    kind, training = record.get("kind"), record.get("training") or {}
    if kind not in KINDS or "model" not in record or "image_size" not in training:
        raise UserError(f"{path / 'metrics.json'} does not record the model (written by an older "
                        "latentplay metrics concepts: train it again)")
    try:
        state = torch.load(path / "model.pt", map_location="cpu", weights_only=True)
    except Exception as exc:  # a damaged or foreign file: torch's many error types
        raise UserError(f"{path / 'model.pt'} cannot be read as saved weights: "
                        f"{str(exc).splitlines()[0]}") from None
    concepts = list(record.get("concepts") or [])
    data = record.get("data") or {}          # a store's; none for shapes
    size = int(training["image_size"])
    # folders written before training recorded channels and classes: from the weights, and
    # the store's classes or the shapes task's quadrants
    channels = int(training.get("channels") or _input_channels(state))
    n_classes = int(training.get("n_classes") or len(data.get("classes") or range(4)))
    model: torch.nn.Module
    if kind == "cbm":
        model = CBM(resolve(CBMConfig, values=record["model"]), channels, size, len(concepts),
                    n_classes)
    else:
        model = GlanceNet(resolve(GlanceNetConfig, values=record["model"]), channels, size,
                          len(concepts), n_classes, dataset_size=int(training.get("n_train", 1)))
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        raise UserError(f"{path / 'model.pt'} does not fit the {kind} its metrics.json records: "
                        f"{str(exc).splitlines()[0]}") from None
    halved = not data and size == 32   # shapes drawn at 64 px, 2x2-averaged
    return SavedConceptModel(model.eval(), kind, size, channels, float(data.get("crop", 1.0)),
                             concepts, halved)


def _input_channels(state: dict[str, Any]) -> int:
    """The input channels of the first convolution's weights ``(out, in, k, k)`` in ``state``
    (folders written before ``training`` recorded them)."""
    first = next(t for t in state.values() if getattr(t, "ndim", 0) == 4)
    return int(first.shape[1])
