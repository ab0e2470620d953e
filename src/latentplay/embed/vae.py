"""``vae:RUN``: the encoder mean of a model trained with ``latentplay train`` (run directory).

A conditional run (a CVAE, ``model.condition=[gender]``) is given each row's condition from the
store's own attribute columns of the same names.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from latentplay.embed.base import Embedder, Images, file_digest
from latentplay.errors import UserError
from latentplay.models.condition import ConditionSpec


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
    """``(N, latent_dim)`` encoder means of a trained latentplay model."""

    kind = "vae"
    config_type = VaeConfig
    arg_field = "run"

    def __init__(self, config: VaeConfig) -> None:
        super().__init__(config)
        if not config.run:
            raise UserError("the vae embedder needs a run directory: --with vae:RUN")
        from latentplay.train.checkpoint import read_meta

        self.meta = read_meta(config.run)  # UserError when RUN holds no trained model
        self.condition_spec = ConditionSpec.from_dict(self.meta.get("condition") or {})
        self.conditions: np.ndarray | None = None  # (N, K) of the bound store
        self.own_samples = False  # the bound store holds this run's samples (in its frame)
        self._model: Any = None  # loaded on first use, then kept

    @property
    def dim(self) -> int:
        model = self.meta["model"]  # an imported StyleGAN2's codes have its style size
        return int(model["latent_dim"] if "latent_dim" in model else model["style_dim"])

    @property
    def image_size(self) -> int:
        return int(self.meta["size"])

    @property
    def image_crop(self) -> float:
        """The run's ``data.crop``; 1 for a store of its own samples (``latentplay data
        generate RUN``), whose images are already in the frame it decodes to."""
        return 1.0 if self.own_samples else float(self.meta.get("crop", 1.0))

    @property
    def image_mode(self) -> str:
        return "L" if int(self.meta["channels"]) == 1 else "RGB"

    def bind(self, store: Any) -> None:
        """Note whether ``store`` holds this run's own samples, and read each row's condition
        from it (conditional runs only)."""
        from latentplay.sources.generated import samples_of

        self.own_samples = samples_of(store, self.config.run)
        if not self.condition_spec.dim:
            return
        missing = [p.name for p in self.condition_spec.parts
                   if not store.schema.has_attribute(p.name)]
        if missing:
            raise UserError(f"{self.config.run} is conditional on {missing}, which the store "
                            "does not have as attributes")
        self.conditions = self.condition_spec.encode_store(store)

    def embed(self, images: Images) -> np.ndarray:
        return self._encode(images, None)

    def embed_rows(
        self, images: Images, rows: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        bound = self.conditions is not None and rows is not None
        vectors = self._encode(images, self.conditions[rows] if bound else None)
        return vectors, np.ones(len(vectors), dtype=bool)

    def _encode(self, images: Images, condition: np.ndarray | None) -> np.ndarray:
        from latentplay.train import encode, load_model

        if self.condition_spec.dim and condition is None:
            raise UserError(
                f"{self.config.run} is a conditional model: embed a store (each row's condition "
                "comes from its attributes) or call latentplay.train.encode with condition="
            )
        if self._model is None:
            self._model = load_model(self.config.run)
        # the store's rows arrive cropped (image_crop) and resized (image_size) already
        return np.asarray(encode(self._model, images, self.config.batch_size,
                                 condition=condition, cropped=True), np.float32)

    def describe(self) -> dict[str, Any]:
        out = super().describe()
        if self.condition_spec.dim:
            out["condition"] = [p.name for p in self.condition_spec.parts]
        return out

    def state_digest(self) -> str:
        return file_digest(Path(self.config.run) / "model.safetensors")

    def run_record(self) -> dict[str, Any]:
        """``run``, the run's resolved path (a relative one is taken from the folder ``embed``
        runs in), and ``run_sha256``, the SHA-256 of the weights it embedded with (that its
        ``model.json`` recorded when they were loaded, or before, when the embedder was made;
        None when it records none)."""
        sha = self.meta.get("sha256") if self._model is None else self._model.weights_sha256
        return {"run": str(Path(self.config.run).resolve()),
                "run_sha256": sha if isinstance(sha, str) else None}


EMBEDDER = VaeEmbedder
