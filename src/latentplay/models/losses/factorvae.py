"""FactorVAE (Kim & Mnih 2018): a discriminator tells samples of ``q(z)`` from samples of the
product of its marginals (each dimension permuted across the batch); its logit difference
estimates the total correlation, added to the VAE loss with weight ``gamma``. The
discriminator has its own Adam optimiser (lr 1e-4, betas (0.5, 0.9) as in the paper).

The discriminator sees the same minibatch's codes (detached) and their permutation, as
disentanglement_lib's FactorVAE does (``shuffle_codes`` of the batch's own samples); Kim &
Mnih's algorithm permutes a second, independent minibatch.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from latentplay.errors import UserError
from latentplay.models.losses.base import LossTerm, check_positive, check_weights
from latentplay.models.vae import VAEOutput


@dataclass
class FactorVAEConfig:
    """gamma: weight of the TC estimate (Kim & Mnih sweep 10-100 on dSprites); discriminator:
    ``layers`` hidden layers of ``hidden`` units (6 x 1000 in the paper) and its optimiser."""

    gamma: float = 35.0
    hidden: int = 1000
    layers: int = 6
    lr: float = 1e-4
    betas: list[float] = field(default_factory=lambda: [0.5, 0.9])

    def validate(self) -> None:
        check_weights("loss.factorvae.", gamma=self.gamma)
        check_positive("loss.factorvae.lr", self.lr)
        if self.hidden < 1 or self.layers < 1:
            raise UserError(f"loss.factorvae.hidden and layers must be >= 1, got {self.hidden} and "
                            f"{self.layers}")
        if len(self.betas) != 2 or not all(0 <= b < 1 for b in self.betas):
            raise UserError(f"loss.factorvae.betas must be two numbers in [0, 1) (Adam's beta1, "
                            f"beta2), got {self.betas}")


def permute_dims(z: torch.Tensor) -> torch.Tensor:
    """``z`` ``(B, D)`` with every column shuffled independently across the batch."""
    idx = torch.argsort(torch.rand(z.shape, device=z.device), dim=0)
    return torch.gather(z, 0, idx)


class FactorVAE(LossTerm):
    """Returns ``{"tc": gamma * mean(D(z)_0 - D(z)_1)}``; class 0 = "joint", 1 = "permuted"."""

    name = "factorvae"

    def __init__(self, config: FactorVAEConfig, latent_dim: int) -> None:
        super().__init__()
        self.config = config
        layers: list[nn.Module] = []
        width = latent_dim
        for _ in range(config.layers):
            layers += [nn.Linear(width, config.hidden), nn.LeakyReLU(0.2, True)]
            width = config.hidden
        self.discriminator = nn.Sequential(*layers, nn.Linear(width, 2))

    def forward(self, out: VAEOutput, step: int) -> dict[str, torch.Tensor]:
        logits = self.discriminator(out.z)
        return {"tc": self.config.gamma * (logits[:, 0] - logits[:, 1]).mean()}

    def auxiliary_parameters(self) -> list[nn.Parameter]:
        return list(self.discriminator.parameters())

    def auxiliary_loss(self, out: VAEOutput) -> torch.Tensor:
        z = out.z.detach()
        joint = self.discriminator(z)
        perm = self.discriminator(permute_dims(z))
        zeros = torch.zeros(z.shape[0], dtype=torch.long, device=z.device)
        return 0.5 * (F.cross_entropy(joint, zeros) + F.cross_entropy(perm, zeros + 1))

    def configure_optimizer(self) -> torch.optim.Optimizer:
        return torch.optim.Adam(self.auxiliary_parameters(), lr=self.config.lr,
                                betas=tuple(self.config.betas))  # type: ignore[arg-type]
