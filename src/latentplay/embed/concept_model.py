"""``concepts:DIR``: the latents (or concept activations) of a concept model saved by
``latentplay metrics concepts`` (GlanceNet, its VAE without the conditional prior, or a CBM).

A GlanceNet trained on a store's faces with ``--concepts smile,eyeglasses`` holds each concept
in a latent of its own and the rest of the face in the others, so its latents are a VAE latent
in which those concepts have known places: a store embedded with it can be matched, probed or
projected like any other column. ``part=latents`` (default) gives the encoder means ``(N, D)``
(a CBM has no latents beyond its concepts: its concept activations); ``part=concepts`` the
concept activations ``(N, k)`` in [0, 1]. Images are read at the model's side after the
centred crop its store's images were read with; for a model of shapes at 32 px, at 64 px and
averaged over 2x2 blocks, as its training images were.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from latentplay.embed.base import Embedder, Images, file_digest
from latentplay.errors import UserError

PARTS = ("latents", "concepts")


@dataclass
class ConceptModelConfig:
    """Options of the ``concepts:DIR`` embedder.

    Attributes:
        folder: the concept model's folder (``metrics.json`` + ``model.pt``), usually given as
            ``concepts:DIR``.
        part: ``latents`` (the encoder means) or ``concepts`` (the concept activations).
        batch_size: images per forward pass.
    """

    folder: str = ""
    part: str = "latents"
    batch_size: int = 256

    def validate(self) -> None:
        if self.part not in PARTS:
            raise UserError(f"concepts: part must be one of {', '.join(PARTS)}, got {self.part!r}")
        if self.batch_size < 1:
            raise UserError(f"concepts: batch_size must be at least 1, got {self.batch_size}")


class ConceptModelEmbedder(Embedder):
    """``(N, D)`` latents or ``(N, k)`` concept activations of a saved concept model."""

    kind = "concepts"
    config_type = ConceptModelConfig
    arg_field = "folder"

    def __init__(self, config: ConceptModelConfig) -> None:
        super().__init__(config)
        if not config.folder:
            raise UserError("the concepts embedder needs a concept model's folder: --with "
                            "concepts:DIR (written by latentplay metrics concepts)")
        from latentplay.metrics.saved_concepts import load_concept_model

        self.saved = load_concept_model(config.folder)

    @property
    def dim(self) -> int:
        return len(self.saved.concepts) if self.config.part == "concepts" else self.saved.latent_dim

    @property
    def image_size(self) -> int:
        return 2 * self.saved.size if self.saved.halved else self.saved.size

    @property
    def image_crop(self) -> float:
        return self.saved.crop

    @property
    def image_mode(self) -> str:
        return "L" if self.saved.channels == 1 else "RGB"

    def embed(self, images: Images) -> np.ndarray:
        from latentplay.metrics.concepts import infer
        from latentplay.metrics.leakage import halved

        batch = np.asarray(images)
        side = self.image_size
        if batch.ndim != 4 or batch.shape[1:] != (side, side, self.saved.channels):
            raise UserError(f"{self.name} takes (N, {side}, {side}, {self.saved.channels}) "
                            f"images, got {batch.shape}")
        if self.saved.halved:
            batch = halved(batch)
        out = infer(self.saved.model, batch, self.config.batch_size)
        return np.asarray(out[self.config.part], np.float32)

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "model": self.saved.kind, "concepts": self.saved.concepts}

    def state_digest(self) -> str:
        return file_digest(Path(self.config.folder) / "model.pt")

    def run_record(self) -> dict[str, Any]:
        """``concept_model``: the model's folder, resolved, and ``concept_model_sha256``: the
        SHA-256 of its ``model.pt`` (not ``run``: it is no training run to decode with)."""
        from latentplay.train.checkpoint import file_sha256

        return {"concept_model": str(Path(self.config.folder).resolve()),
                "concept_model_sha256": file_sha256(Path(self.config.folder) / "model.pt")}


EMBEDDER = ConceptModelEmbedder
