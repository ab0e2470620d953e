"""beta-TCVAE (Chen et al. 2018): the KL split into index-code mutual information, total
correlation and dimension-wise KL, estimated with minibatch-weighted sampling (MWS).

With ``N`` the dataset size and ``M`` the batch size, MWS estimates
``log q(z_i) ~ logsumexp_j log q(z_i | x_j) - log(N M)`` and the same per dimension. Then

    MI = E[log q(z|x) - log q(z)],  TC = E[log q(z) - sum_d log q(z_d)],
    dimKL = E[sum_d log q(z_d) - log p(z)],

whose sum is exactly the Monte-Carlo KL estimate ``E[log q(z|x) - log p(z)]``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from latentplay.errors import UserError
from latentplay.models.losses.base import LossTerm
from latentplay.models.vae import VAEOutput

_LOG_2PI = math.log(2 * math.pi)


@dataclass
class BetaTCVAEConfig:
    """Weights of MI (alpha), TC (beta) and dimension-wise KL (gamma); Chen et al. use
    alpha = gamma = 1 and beta = 6 on dSprites."""

    alpha: float = 1.0
    beta: float = 6.0
    gamma: float = 1.0

    def validate(self) -> None:
        if min(self.alpha, self.beta, self.gamma) < 0:
            raise UserError("loss.betatcvae: alpha, beta and gamma must be >= 0")


def gaussian_log_density(z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """Elementwise ``log N(z; mu, exp(logvar))`` (broadcasting)."""
    return -0.5 * (_LOG_2PI + logvar + (z - mu).square() * torch.exp(-logvar))


def tc_decomposition(
    z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor, dataset_size: int
) -> dict[str, torch.Tensor]:
    """MWS estimates ``{"mi", "tc", "dimkl"}`` (scalars) from samples ``z`` and posteriors
    ``mu``, ``logvar`` (each ``(M, D)``) of a minibatch drawn from ``dataset_size`` images."""
    m = z.shape[0]
    log_qz_x = gaussian_log_density(z, mu, logvar).sum(1)  # (M,)
    log_pz = gaussian_log_density(z, torch.zeros_like(z), torch.zeros_like(z)).sum(1)
    # (M, M, D): log q(z_i,d | x_j)
    mat = gaussian_log_density(z[:, None, :], mu[None, :, :], logvar[None, :, :])
    log_norm = math.log(dataset_size * m)
    log_qz = torch.logsumexp(mat.sum(2), dim=1) - log_norm
    log_prod_qzd = (torch.logsumexp(mat, dim=1) - log_norm).sum(1)
    return {
        "mi": (log_qz_x - log_qz).mean(),
        "tc": (log_qz - log_prod_qzd).mean(),
        "dimkl": (log_prod_qzd - log_pz).mean(),
    }


class BetaTCVAE(LossTerm):
    """Returns ``{"mi": alpha*MI, "tc": beta*TC, "dimkl": gamma*dimKL}``."""

    name = "betatcvae"
    provides_kl = True

    def __init__(self, config: BetaTCVAEConfig, dataset_size: int) -> None:
        super().__init__()
        self.config, self.dataset_size = config, dataset_size

    def forward(self, out: VAEOutput, step: int) -> dict[str, torch.Tensor]:
        parts = tc_decomposition(out.z, out.mu, out.logvar, self.dataset_size)  # type: ignore[arg-type]
        cfg = self.config
        return {"mi": cfg.alpha * parts["mi"], "tc": cfg.beta * parts["tc"],
                "dimkl": cfg.gamma * parts["dimkl"]}
