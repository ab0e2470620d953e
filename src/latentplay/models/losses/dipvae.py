"""DIP-VAE I and II (Kumar et al. 2018): push the covariance of the aggregate posterior to the
identity. DIP-VAE-I penalises ``Cov[mu(x)]``; DIP-VAE-II penalises
``Cov[mu(x)] + E[diag(exp(logvar(x)))]``. The penalty is
``lambda_od * sum_{i != j} C_ij^2 + lambda_d * sum_i (C_ii - 1)^2``. These are add-ons: combine
them with a KL term (``betavae`` with beta 1 gives the paper's objective)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch

from latentplay.models.losses.base import LossTerm, check_weights
from latentplay.models.vae import VAEOutput


@dataclass
class DIPVAEIConfig:
    """Kumar et al.: ``lambda_d = 10 * lambda_od`` for DIP-VAE-I."""

    section: ClassVar[str] = "loss.dipvae_i."
    lambda_od: float = 10.0
    lambda_d: float = 100.0

    def validate(self) -> None:
        check_weights(self.section, lambda_od=self.lambda_od, lambda_d=self.lambda_d)


@dataclass
class DIPVAEIIConfig(DIPVAEIConfig):
    """Kumar et al.: ``lambda_d = lambda_od`` for DIP-VAE-II."""

    section: ClassVar[str] = "loss.dipvae_ii."
    lambda_od: float = 10.0
    lambda_d: float = 10.0


def dip_covariance(mu: torch.Tensor, logvar: torch.Tensor | None) -> torch.Tensor:
    """``(D, D)`` covariance of ``mu`` ``(B, D)`` over the batch (biased), plus the mean
    posterior variance on the diagonal when ``logvar`` is given (DIP-VAE-II)."""
    centred = mu - mu.mean(0, keepdim=True)
    cov = centred.T @ centred / mu.shape[0]
    if logvar is not None:
        cov = cov + torch.diag(logvar.exp().mean(0))
    return cov


def dip_penalties(cov: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(sum_{i != j} C_ij^2, sum_i (C_ii - 1)^2)`` of a ``(D, D)`` matrix. The off-diagonal
    entries are squared themselves: the whole sum less the diagonal's cancels in float32
    where the diagonal is near 1 (a sum of squares read 0 or -1e-5)."""
    diag = torch.diagonal(cov)
    off = (cov - torch.diag_embed(diag)).square().sum()
    return off, (diag - 1).square().sum()


class DIPVAEI(LossTerm):
    """Returns ``{"offdiag": lambda_od * ..., "diag": lambda_d * ...}`` on ``Cov[mu]``."""

    name = "dipvae_i"
    uses_logvar = False

    def __init__(self, config: DIPVAEIConfig) -> None:
        super().__init__()
        self.config = config

    def forward(self, out: VAEOutput, step: int) -> dict[str, torch.Tensor]:
        cov = dip_covariance(out.mu, out.logvar if self.uses_logvar else None)
        off, diag = dip_penalties(cov)
        return {"offdiag": self.config.lambda_od * off, "diag": self.config.lambda_d * diag}


class DIPVAEII(DIPVAEI):
    """DIP-VAE-II: the same penalties on ``Cov[mu] + E[diag(exp(logvar))]``."""

    name = "dipvae_ii"
    uses_logvar = True
