"""beta-VAE: ``beta * KL`` (Higgins et al. 2017), or Burgess et al.'s (2018) capacity annealing
``gamma * |KL - C|`` with ``C`` growing linearly from 0 to ``capacity_max`` nats over
``capacity_steps`` steps. ``beta = 1`` without capacity is the plain VAE.

``warmup_steps`` > 0 scales the whole term by ``min(1, step / warmup_steps)`` (KL annealing,
Bowman et al. 2016; Sonderby et al. 2016): the decoder learns to use ``z`` before the KL
pressure arrives, which keeps a beta-VAE with beta > 1 from collapsing onto the prior in
its first steps."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from latentplay.errors import UserError
from latentplay.models.losses.base import LossTerm, check_weights, kl_per_dim
from latentplay.models.vae import VAEOutput


@dataclass
class BetaVAEConfig:
    """Defaults: beta 4 (Higgins et al., dSprites); capacity off; no warm-up (the papers).
    Burgess et al. on dSprites: ``capacity_max=25, capacity_steps=100000, gamma=1000``."""

    beta: float = 4.0
    capacity_max: float = 0.0
    capacity_steps: int = 100000
    gamma: float = 1000.0
    warmup_steps: int = 0

    def validate(self) -> None:
        check_weights("loss.betavae.", beta=self.beta, gamma=self.gamma, capacity_max=self.capacity_max)
        if self.capacity_steps < 1:
            raise UserError(f"loss.betavae.capacity_steps must be >= 1, got {self.capacity_steps}")
        if self.warmup_steps < 0:
            raise UserError("loss.betavae.warmup_steps must be >= 0")


def capacity(step: int, capacity_max: float, capacity_steps: int) -> float:
    """Target KL ``C`` in nats at ``step``: linear from 0 to ``capacity_max``, then constant."""
    return capacity_max * min(1.0, step / capacity_steps)


def warmup(step: int, warmup_steps: int) -> float:
    """Weight of a warmed-up term at ``step``: linear from 0 to 1 over ``warmup_steps``
    (1 throughout when ``warmup_steps`` is 0)."""
    return min(1.0, step / warmup_steps) if warmup_steps > 0 else 1.0


class BetaVAE(LossTerm):
    """Returns ``{"kl": w * beta * KL}`` or, with capacity, ``{"kl": w * gamma * |KL - C(step)|}``,
    ``w`` the warm-up weight (1 without warm-up)."""

    name = "betavae"
    provides_kl = True

    def __init__(self, config: BetaVAEConfig) -> None:
        super().__init__()
        self.config = config

    def forward(self, out: VAEOutput, step: int) -> dict[str, torch.Tensor]:
        kl = kl_per_dim(out.mu, out.logvar).sum()  # type: ignore[arg-type]
        cfg = self.config
        w = warmup(step, cfg.warmup_steps)
        if cfg.capacity_max > 0:
            c = capacity(step, cfg.capacity_max, cfg.capacity_steps)
            return {"kl": w * cfg.gamma * (kl - c).abs()}
        return {"kl": w * cfg.beta * kl}
