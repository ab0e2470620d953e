"""Autoencoders: AE, VAE (Bernoulli or Gaussian likelihood) and CVAE, with their configs.

All three share the Burgess et al. (2018) conv encoder/decoder of :mod:`latentplay.models.nets`.
Images enter as ``(B, C, S, S)`` floats in [0, 1]; :meth:`decode` returns images in [0, 1].
The VAE objective's regularisers are not part of the model: they are the composable loss
terms of :mod:`latentplay.models.losses`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from latentplay.errors import UserError
from latentplay.models.nets import ConvDecoder, ConvEncoder

LIKELIHOODS = ("bernoulli", "gaussian")
CONDITION_LAYERS = ("input", "all")


@dataclass
class AEConfig:
    """Deterministic autoencoder.

    Attributes:
        latent_dim: code size (Burgess et al. use 10 on dSprites).
        width: channels of every conv layer (32 in Burgess et al.).
        hidden: units of the two fully connected layers (256 in Burgess et al.).
        likelihood: reconstruction loss; ``bernoulli`` = summed binary cross-entropy (binary
            or [0,1] images), ``gaussian`` = summed squared error of sigmoid outputs: the
            negative log-likelihood of a Gaussian of fixed variance 1/2 per pixel, less its
            constant (disentanglement_lib's ``l2_loss``).
        output_bias: start the decoder's output bias at the logit of the training images'
            mean value per channel (see :meth:`AE.init_output_bias`); ``false`` keeps
            PyTorch's default initialisation.
    """

    latent_dim: int = 10
    width: int = 32
    hidden: int = 256
    likelihood: str = "bernoulli"
    output_bias: bool = True

    def validate(self) -> None:
        if self.latent_dim < 1:
            raise UserError(f"model.latent_dim must be at least 1, got {self.latent_dim}")
        if self.width < 1 or self.hidden < 1:  # hidden=0 built a decoder that ignores z
            raise UserError(f"model.width and model.hidden must be at least 1, got {self.width} "
                            f"and {self.hidden}")
        if self.likelihood not in LIKELIHOODS:
            raise UserError(f"model.likelihood must be one of {LIKELIHOODS}")


@dataclass
class VAEConfig(AEConfig):
    """Variational autoencoder (Kingma & Welling 2014) with a diagonal Gaussian posterior."""


@dataclass
class CVAEConfig(VAEConfig):
    """Conditional VAE (Sohn et al. 2015): the condition goes to encoder and decoder.

    Attributes:
        condition: store attributes forming the condition; continuous ones enter as their
            value (SmileCVAE's smile degree in [-1, 1]), categorical ones one-hot.
        condition_layers: where the decoder reads the condition. ``input`` (default; Sohn
            et al., SmileCVAE): concatenated to ``z`` at the first fully connected layer.
            ``all``: also as constant feature maps into every transposed convolution, which
            lets a condition that changes small details (a mouth's curve) act on the
            layers that draw them; it trains the condition's effect faster (see
            ``configs/models/cvae.yaml``). The encoder always reads it after its convolutions.
    """

    condition: list[str] = field(default_factory=list)
    condition_layers: str = "input"

    def validate(self) -> None:
        super().validate()
        if not self.condition:
            raise UserError("cvae needs model.condition=[attribute,...]")
        if self.condition_layers not in CONDITION_LAYERS:
            raise UserError(f"model.condition_layers must be one of {CONDITION_LAYERS}, "
                            f"got {self.condition_layers!r}")


@dataclass
class VAEOutput:
    """One forward pass: target ``x`` and ``logits`` ``(B, C, S, S)``; ``mu``, ``logvar`` and
    the sample ``z`` ``(B, D)`` (``logvar`` is None for the AE); ``recon`` ``(B,)`` the
    per-image negative log-likelihood."""

    x: torch.Tensor
    logits: torch.Tensor
    mu: torch.Tensor
    logvar: torch.Tensor | None
    z: torch.Tensor
    recon: torch.Tensor


def reconstruction_nll(logits: torch.Tensor, x: torch.Tensor, likelihood: str) -> torch.Tensor:
    """Per-image negative log-likelihood ``(B,)`` of targets ``x`` in [0, 1] under ``logits``
    ``(B, C, S, S)``, summed over pixels; ``gaussian``: ``sum (sigmoid(logits) - x)^2``, the NLL
    of ``N(sigmoid(logits), 1/2)`` without its constant ``C S S log(pi) / 2``."""
    if likelihood == "bernoulli":
        nll = F.binary_cross_entropy_with_logits(logits, x, reduction="none")
    else:
        nll = (torch.sigmoid(logits) - x).square()
    return nll.flatten(1).sum(1)


class AE(nn.Module):
    """Deterministic autoencoder: ``z = mu = encoder(x)``."""

    family: ClassVar[str] = "ae"
    variational: ClassVar[bool] = False
    has_encoder: ClassVar[bool] = True

    def __init__(self, config: AEConfig, channels: int, size: int, cond_dim: int = 0) -> None:
        super().__init__()
        self.config, self.channels, self.size, self.cond_dim = config, channels, size, cond_dim
        self.latent_dim = config.latent_dim
        out = config.latent_dim * (2 if self.variational else 1)
        self.encoder = ConvEncoder(channels, size, out, config.width, config.hidden, cond_dim)
        every = getattr(config, "condition_layers", "input") == "all"
        self.decoder = ConvDecoder(
            channels, size, config.latent_dim, config.width, config.hidden, cond_dim, every
        )

    @torch.no_grad()
    def init_output_bias(self, mean: torch.Tensor) -> None:
        """Set the decoder's output bias to ``logit(mean)``, ``mean`` ``(C,)`` the training
        images' mean value per channel in [0, 1].

        Every decoded image then starts as the data's average colour instead of 0.5 grey.
        On sparse images (dSprites: 3% of the pixels are on) the default start costs
        ~2,800 nats per 64x64 image and the first few hundred steps are spent learning the
        black background, long enough for a beta-VAE's KL term to push the posterior onto
        the prior (the collapse to the mean image).
        """
        p = mean.to(torch.float32).clamp(1e-3, 1 - 1e-3)
        self.decoder.deconv[-1].bias.copy_(torch.log(p) - torch.log1p(-p))

    def encode(
        self, x: torch.Tensor, cond: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``(mu, logvar)`` each ``(B, D)`` for images ``x``; logvar is None for the AE."""
        return self.encoder(x, cond), None

    def decode_logits(self, z: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        """Decoder output ``(B, C, S, S)`` before the sigmoid."""
        return self.decoder(z, cond)

    def decode(self, z: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        """Images ``(B, C, S, S)`` in [0, 1] for latents ``z`` ``(B, D)``."""
        return torch.sigmoid(self.decode_logits(z, cond))

    def forward(self, x: torch.Tensor, cond: torch.Tensor | None = None) -> VAEOutput:
        """The pass the losses read. Under mixed precision the networks run in bf16 or fp16
        and their outputs are taken to float32 before any loss: with bf16's 8-bit mantissa
        ``exp(logvar) - logvar - 1`` cancels to below 0, a negative KL."""
        mu, logvar = self.encode(x, cond)
        mu, logvar = mu.float(), None if logvar is None else logvar.float()
        z = mu if logvar is None else mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        logits = self.decode_logits(z, cond).float()
        recon = reconstruction_nll(logits, x.float(), self.config.likelihood)
        return VAEOutput(x=x, logits=logits, mu=mu, logvar=logvar, z=z, recon=recon)


class VAE(AE):
    """VAE: the encoder gives the mean and log-variance of ``q(z|x)``; ``z`` is sampled."""

    family: ClassVar[str] = "vae"
    variational: ClassVar[bool] = True

    def encode(
        self, x: torch.Tensor, cond: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        mu, logvar = self.encoder(x, cond).chunk(2, dim=1)
        return mu, logvar


class CVAE(VAE):
    """VAE whose encoder and decoder both also read a condition vector ``(B, K)``."""

    family: ClassVar[str] = "cvae"
