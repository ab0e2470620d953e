"""``clip:PATH``: an open_clip image encoder loaded from a local weights file.

Optional: needs ``open_clip`` (``pip install 'latentplay[clip]'``, which also needs
torchvision) and a weights file given by path; nothing is downloaded. Without either, making the
embedder raises a :class:`~latentplay.errors.UserError` that says so. open_clip reads the file
with ``torch.load``, which from PyTorch 2.6 (the floor) reads weights only: a shared file's
pickled code is refused, not run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from latentplay.embed.base import Embedder, Images, as_list, file_digest
from latentplay.errors import UserError, first_line

HUB_PREFIX = "hf-hub:"


@dataclass
class ClipConfig:
    """Options of the ``clip:PATH`` embedder.

    Attributes:
        path: local open_clip weights (``.bin``/``.pt``/``.safetensors``), usually ``clip:PATH``.
        model: open_clip architecture name matching the weights (``ViT-B-32``, ``RN50``, ...).
            OpenAI's released weights were trained with QuickGELU: give them the ``-quickgelu``
            architecture (``ViT-B-32-quickgelu``). Loaded from a file, open_clip cannot tell,
            and the plain name builds GELU layers that take the weights without complaint but
            give different embeddings.
        normalize: scale each embedding to unit length (what CLIP similarity uses).
        device: torch device.
    """

    path: str = ""
    model: str = "ViT-B-32"
    normalize: bool = True
    device: str = "cpu"


def _import_open_clip() -> Any:
    try:
        import open_clip
    except ImportError:
        raise UserError(
            "the clip embedder needs open_clip, which is not installed "
            "(pip install 'latentplay[clip]'; it also needs torchvision)"
        ) from None
    return open_clip


class ClipEmbedder(Embedder):
    """Image embeddings of an open_clip model: ``(N, embed_dim)`` float32."""

    kind = "clip"
    config_type = ClipConfig
    arg_field = "path"

    def __init__(self, config: ClipConfig) -> None:
        super().__init__(config)
        if not config.path:
            raise UserError("the clip embedder needs a local weights file: --with clip:PATH")
        if Path(config.path).is_dir():
            raise UserError(f"clip weights file {config.path} is a folder, not a file: give the "
                            "weights file in it (.bin, .pt or .safetensors)")
        if not Path(config.path).is_file():
            raise UserError(f"clip weights file {config.path} does not exist")
        if config.model.startswith(HUB_PREFIX):
            raise UserError(f"clip model {config.model!r} names a Hugging Face hub repository; "
                            "give an open_clip architecture (ViT-B-32, RN50, ...) and a local "
                            "weights file: nothing is downloaded")
        open_clip = _import_open_clip()
        import torch

        self.torch, self.open_clip = torch, open_clip
        self._tokenizer: Any = None  # made on the first embed_text
        if self._text_cfg().get("hf_model_name"):
            raise UserError(f"clip model {config.model!r} builds its text tower from a Hugging "
                            "Face hub model, which would be downloaded; give an architecture "
                            "whose towers ship with open_clip (ViT-B-32, RN50, ...)")
        try:
            # an absolute path: a bare name such as "openai" is a pretrained tag that
            # open_clip would download instead of reading the local file
            model, _, preprocess = open_clip.create_model_and_transforms(
                config.model, pretrained=str(Path(config.path).absolute()),
                device=config.device)
        except Exception as exc:  # wrong architecture (RuntimeError), not a checkpoint (KeyError,
            # UnpicklingError from torch.load, safetensors' own error): one line either way
            raise UserError(f"could not load {config.path} as {config.model}: {first_line(exc)}") from None
        self.model = model.eval()
        self.preprocess = preprocess
        self._dim = int(model.visual.output_dim)

    @property
    def dim(self) -> int:
        return self._dim

    def embed(self, images: Images) -> np.ndarray:
        from PIL import Image

        torch = self.torch
        pils = [Image.fromarray(im[..., 0] if im.shape[-1] == 1 else im).convert("RGB")
                for im in as_list(images)]
        batch = torch.stack([self.preprocess(p) for p in pils]).to(self.config.device)
        with torch.no_grad():
            return self._finish(self.model.encode_image(batch).float())

    def embed_text(self, texts: list[str]) -> np.ndarray:
        """``(len(texts), dim)`` float32 text embeddings in the image embeddings' space
        (unit length when ``normalize``), e.g. the class prompts of a zero-shot annotator.

        The tokenizer must ship with open_clip: a model whose tokenizer is fetched from the
        Hugging Face hub is refused (nothing is downloaded)."""
        if self._tokenizer is None:
            if self._text_cfg().get("hf_tokenizer_name"):
                raise UserError(f"the text tokenizer of clip model {self.config.model!r} is "
                                "fetched from the Hugging Face hub; zero-shot prompts need a "
                                "model whose tokenizer ships with open_clip (ViT-B-32, RN50, ...)")
            self._tokenizer = self.open_clip.get_tokenizer(self.config.model)
        tokens = self._tokenizer(texts).to(self.config.device)
        with self.torch.no_grad():
            return self._finish(self.model.encode_text(tokens).float())

    def _text_cfg(self) -> dict[str, Any]:
        """The ``text_cfg`` of the architecture's open_clip config (empty when unknown)."""
        return (self.open_clip.get_model_config(self.config.model) or {}).get("text_cfg") or {}

    def _finish(self, feats: Any) -> np.ndarray:
        """``(N, dim)`` features -> float32 array, unit length when ``normalize``."""
        if self.config.normalize:
            feats = feats / feats.norm(dim=-1, keepdim=True).clamp_min(1e-12)
        return feats.cpu().numpy().astype(np.float32)

    def state_digest(self) -> str:
        return file_digest(self.config.path)


EMBEDDER = ClipEmbedder
