"""``vae:RUN``: the encoder mean of a model trained with ``latentplay train`` (run directory)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from latentplay.embed.base import Embedder, Images
from latentplay.errors import UserError


@dataclass
class VaeConfig:
    """Options of the ``vae:RUN`` embedder.

    Attributes:
        run: the run directory (``model.json`` + ``model.safetensors``), usually given as
            ``vae:RUN``.
        batch_size: images per forward pass inside :func:`latentplay.train.encode`.
    """

    run: str = ""
    batch_size: int = 256

    def validate(self) -> None:
        if self.batch_size < 1:
            raise UserError(f"vae: batch_size must be at least 1, got {self.batch_size}")


class VaeEmbedder(Embedder):
    """``(N, latent_dim)`` encoder means of a trained (unconditional) latentplay model."""

    kind = "vae"
    config_type = VaeConfig
    arg_field = "run"

    def __init__(self, config: VaeConfig) -> None:
        super().__init__(config)
        if not config.run:
            raise UserError("the vae embedder needs a run directory: --with vae:RUN")
        from latentplay.train.checkpoint import read_meta

        self.meta = read_meta(config.run)  # UserError when RUN holds no trained model

    @property
    def dim(self) -> int:
        return int(self.meta["model"]["latent_dim"])

    @property
    def image_size(self) -> int:
        return int(self.meta["size"])

    @property
    def image_crop(self) -> float:
        return float(self.meta.get("crop", 1.0))

    @property
    def image_mode(self) -> str:
        return "L" if int(self.meta["channels"]) == 1 else "RGB"

    def embed(self, images: Images) -> np.ndarray:
        from latentplay.train import encode

        # the store's rows arrive cropped (image_crop) and resized (image_size) already
        return np.asarray(encode(self.config.run, images, self.config.batch_size, cropped=True),
                          np.float32)

    def state_digest(self) -> str:
        weights = Path(self.config.run) / "model.safetensors"
        stat = weights.stat() if weights.exists() else None
        key = f"{weights.absolute()}:{stat.st_size}:{stat.st_mtime_ns}" if stat else ""
        return hashlib.sha1(key.encode()).hexdigest()[:16]


EMBEDDER = VaeEmbedder
