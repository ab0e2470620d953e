"""``invert:RUN``: codes found by optimisation, so that the run's decoder redraws each image.

The way to put a store into a generator's latent space (a DCGAN has no encoder): each image's
code starts at random draws (the best of ``restarts`` kept) or, for autoencoders, at the
encoder mean, and Adam lowers the pixel error of its decoding
(:func:`latentplay.latent.invert.invert`). A conditional run gets each row's condition from the
store's attributes of the same names, as with ``vae:RUN``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from latentplay.embed.vae import VaeEmbedder
from latentplay.errors import UserError
from latentplay.models.stylegan2 import STYLE_FAMILIES
from latentplay.models.stylegan3 import style_codes


@dataclass
class InvertConfig:
    """Options of the ``invert:RUN`` embedder (see :func:`latentplay.latent.invert.invert`).

    Attributes:
        run: the run directory, usually given as ``invert:RUN``.
        steps: Adam steps per batch of images.
        lr: Adam's learning rate.
        restarts: random starts per image (generators).
        prior: weight of ``mean(z ** 2)`` in the objective.
        init: ``auto`` (encoder mean when the model has an encoder, else random), ``encoder``,
            ``random`` or ``mean`` (the zero code: a StyleGAN2's mean ``w``).
        batch_size: images optimised together.
        seed: seed of the random starts.
        device: where the codes are optimised (``cuda`` for a store of any size: on 2 CPU
            cores a 64-px DCGAN does ~180 code updates/s, see ``bench/bench_latent.py``).
        per_layer: one code per layer of a StyleGAN2 (W+; the column has ``n_layers * D``
            dimensions).
        identity: weight of the identity term (a face recogniser's cosine distance between
            the decoding and the face; 0: none).
        identity_net: its recogniser: ``dlib`` or ``onnx:PATH`` (an ArcFace-family network).
    """

    run: str = ""
    steps: int = 300
    lr: float = 0.05
    restarts: int = 4
    prior: float = 1e-3
    init: str = "auto"
    batch_size: int = 64
    seed: int = 0
    device: str = "cpu"
    per_layer: bool = False
    identity: float = 0.0
    identity_net: str = "dlib"

    def validate(self) -> None:
        if self.steps < 0 or self.restarts < 1 or self.batch_size < 1 or self.lr <= 0 or self.identity < 0:
            raise UserError("invert: need steps >= 0, restarts >= 1, batch_size >= 1, lr > 0, identity >= 0")


class InvertEmbedder(VaeEmbedder):
    """``(N, latent_dim)`` optimised codes of a trained latentplay model (any family)."""

    kind = "invert"
    config_type = InvertConfig  # type: ignore[assignment]
    arg_field = "run"

    @property
    def dim(self) -> int:
        if not self.config.per_layer:
            return super().dim
        meta = self.meta["model"]
        if self.meta["family"] not in STYLE_FAMILIES:
            raise UserError(f"invert: per_layer=true needs a StyleGAN2 or StyleGAN3; {self.config.run} "
                            f"is a {self.meta['family']}")
        return style_codes(self.meta["family"], meta) * int(meta["style_dim"])

    def _encode(self, images: np.ndarray, condition: np.ndarray | None) -> np.ndarray:
        from latentplay.latent.invert import invert
        from latentplay.train import load_model

        if self.condition_spec.dim and condition is None:
            raise UserError(f"{self.config.run} is a conditional model: embed a store (each "
                            "row's condition comes from its attributes)")
        if self._model is None:
            self._model = load_model(self.config.run, self.config.device)
        c = self.config
        result = invert(self._model, images, condition=condition, init=c.init, steps=c.steps,
                        lr=c.lr, restarts=c.restarts, prior=c.prior, batch_size=c.batch_size,
                        seed=c.seed, device=c.device, cropped=True, per_layer=c.per_layer,
                        identity=c.identity, identity_net=c.identity_net)
        return result.z


EMBEDDER = InvertEmbedder
