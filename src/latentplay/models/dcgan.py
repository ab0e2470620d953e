"""DCGAN (Radford et al. 2016) as in FairFace Generator, optionally class-conditional.

Defaults are FairFace Generator's: 64x64 images, latent 128, 64 base filters; the ``dcgan`` preset adds
its optimiser (Adam, lr 2e-4, beta1 0.5) and batch 64. A conditional DCGAN concatenates the
condition vector to ``z`` in the generator and feeds it as constant extra channels to the
discriminator. Generated images are ``tanh`` outputs in [-1, 1]; :meth:`DCGAN.decode` maps
them to [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import torch
from torch import nn

from latentplay.errors import UserError
from latentplay.models.nets import checked_condition, downsampling_plan


@dataclass
class DCGANConfig:
    """Attributes:
        latent_dim: size of the noise vector (128 in FairFace Generator).
        ngf / ndf: base filters of generator / discriminator (64).
        condition: store attributes to condition on (empty = unconditional).
    """

    latent_dim: int = 128
    ngf: int = 64
    ndf: int = 64
    condition: list[str] = field(default_factory=list)

    def validate(self) -> None:
        if self.latent_dim < 1 or self.ngf < 1 or self.ndf < 1:
            raise UserError("model.latent_dim, model.ngf and model.ndf must be positive")


def _init_weights(module: nn.Module) -> None:
    """DCGAN initialisation: conv weights N(0, 0.02), batch-norm scale N(1, 0.02)."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, 0.02)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


class Generator(nn.Module):
    """``z (B, D)`` (+ condition ``(B, K)``) -> images ``(B, C, S, S)`` in [-1, 1]."""

    def __init__(self, latent_dim: int, channels: int, size: int, ngf: int, cond_dim: int) -> None:
        super().__init__()
        steps, side = downsampling_plan(size)
        feats = ngf * 2 ** (steps - 1)
        layers: list[nn.Module] = [
            nn.ConvTranspose2d(latent_dim + cond_dim, feats, side, 1, 0, bias=False),
            nn.BatchNorm2d(feats), nn.ReLU(True),
        ]
        for _ in range(steps - 1):
            layers += [nn.ConvTranspose2d(feats, feats // 2, 4, 2, 1, bias=False),
                       nn.BatchNorm2d(feats // 2), nn.ReLU(True)]
            feats //= 2
        layers += [nn.ConvTranspose2d(feats, channels, 4, 2, 1, bias=False), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        self.cond_dim = cond_dim

    def forward(self, z: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        if self.cond_dim:
            z = torch.cat([z, checked_condition(cond, self.cond_dim, z.shape[0], z)], dim=1)
        return self.net(z[:, :, None, None])


class Discriminator(nn.Module):
    """Images ``(B, C, S, S)`` in [-1, 1] (+ condition) -> real/fake logits ``(B,)``."""

    def __init__(self, channels: int, size: int, ndf: int, cond_dim: int) -> None:
        super().__init__()
        steps, side = downsampling_plan(size)
        layers: list[nn.Module] = [
            nn.Conv2d(channels + cond_dim, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, True)
        ]
        feats = ndf
        for _ in range(steps - 1):
            layers += [nn.Conv2d(feats, feats * 2, 4, 2, 1, bias=False),
                       nn.BatchNorm2d(feats * 2), nn.LeakyReLU(0.2, True)]
            feats *= 2
        layers.append(nn.Conv2d(feats, 1, side, 1, 0, bias=False))
        self.net = nn.Sequential(*layers)
        self.cond_dim = cond_dim

    def forward(self, x: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        if self.cond_dim:
            c = checked_condition(cond, self.cond_dim, x.shape[0], x)
            maps = c[:, :, None, None].expand(-1, -1, x.shape[2], x.shape[3])
            x = torch.cat([x, maps], dim=1)
        return self.net(x).flatten()


class DCGAN(nn.Module):
    """Generator plus discriminator; :meth:`decode` is the generator with output in [0, 1]."""

    family: ClassVar[str] = "dcgan"
    variational: ClassVar[bool] = False
    has_encoder: ClassVar[bool] = False

    def __init__(self, config: DCGANConfig, channels: int, size: int, cond_dim: int = 0) -> None:
        super().__init__()
        self.config, self.channels, self.size, self.cond_dim = config, channels, size, cond_dim
        self.latent_dim = config.latent_dim
        self.generator = Generator(config.latent_dim, channels, size, config.ngf, cond_dim)
        self.discriminator = Discriminator(channels, size, config.ndf, cond_dim)
        self.apply(_init_weights)

    def encode(self, x: torch.Tensor, cond: torch.Tensor | None = None) -> tuple[torch.Tensor, None]:
        raise UserError("a DCGAN has no encoder; use an autoencoder family to encode images")

    def decode(self, z: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        """Images ``(B, C, S, S)`` in [0, 1] for noise ``z`` ``(B, D)``."""
        return (self.generator(z, cond) + 1) / 2
