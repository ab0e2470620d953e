"""InfoVAE (Zhao et al. 2019): ``(1 - alpha) * KL + (alpha + lam - 1) * MMD(q(z), p(z))``
(``lam`` is the paper's lambda).

MMD is the biased (V-statistic) estimate between the batch's samples ``z`` and as many draws
from the prior N(0, I), as in Zhao et al.'s MMD-VAE code, with a Gaussian (``rbf``:
``exp(-|a-b|^2 / s)``) or inverse multiquadric (``imq``: ``s / (s + |a-b|^2)``) kernel.
``scale`` ``s`` defaults to ``D^2`` for ``rbf`` (Zhao et al.'s kernel, ``exp(-mean_d
(a_d - b_d)^2 / D)``, which GlanceNets' InfoVAE uses too) and to ``2 D`` for ``imq``
(Tolstikhin et al.'s ``C = 2 D sigma_z^2`` with unit prior variance). Being biased, the
estimate is above zero even when q(z) is the prior: about 0.0055 at a batch of 64 and D 10
(0.0029 at D 20), so at the default weight of 999 the logged ``infovae/mmd`` does not fall
below about 5.5 nats (2.9); the gradient is that of the unbiased estimate up to a factor (B - 1) / B on
the within-batch term.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from latentplay.errors import UserError
from latentplay.models.losses.base import LossTerm, check_weights, kl_per_dim
from latentplay.models.vae import VAEOutput

KERNELS = ("rbf", "imq")


@dataclass
class InfoVAEConfig:
    """alpha 0 and lambda 1000 (MMD weight 999, KL weight 1): alpha 0 is Zhao et al.'s
    MMD-VAE (no mutual-information penalty); lambda, the MMD's weight against a reconstruction
    summed over pixels, must be large for the MMD to matter. ``scale`` 0 takes
    :func:`default_scale`."""

    alpha: float = 0.0
    lam: float = 1000.0
    kernel: str = "rbf"
    scale: float = 0.0

    def validate(self) -> None:
        for name, value in (("alpha", self.alpha), ("lam", self.lam)):
            if not math.isfinite(value):
                raise UserError(f"loss.infovae.{name} must be a finite number, got {value}")
        if self.alpha > 1 or self.alpha + self.lam - 1 < 0:  # a negative weight rewards divergence
            raise UserError(f"loss.infovae: the weights 1 - alpha (KL) and alpha + lam - 1 (MMD) "
                            f"must be >= 0, got {1 - self.alpha:g} and {self.alpha + self.lam - 1:g}")
        if self.kernel not in KERNELS:
            raise UserError(f"loss.infovae.kernel must be one of {KERNELS}")
        check_weights("loss.infovae.", scale=self.scale)  # 0: default_scale


def kernel_matrix(a: torch.Tensor, b: torch.Tensor, kernel: str, scale: float) -> torch.Tensor:
    """``(n, m)`` kernel values between rows of ``a`` ``(n, D)`` and ``b`` ``(m, D)``."""
    d2 = (a[:, None, :] - b[None, :, :]).square().sum(2)
    if kernel == "rbf":
        return torch.exp(-d2 / scale)
    return scale / (scale + d2)


def default_scale(kernel: str, dim: int) -> float:
    """The kernel's scale when none is set: ``dim ** 2`` for ``rbf``, ``2 * dim`` for ``imq``."""
    return float(dim * dim) if kernel == "rbf" else 2.0 * dim


def mmd(x: torch.Tensor, y: torch.Tensor, kernel: str = "rbf", scale: float = 0.0) -> torch.Tensor:
    """Biased MMD^2 estimate between samples ``x`` ``(n, D)`` and ``y`` ``(m, D)``
    (``scale`` 0: :func:`default_scale`)."""
    scale = scale or default_scale(kernel, x.shape[1])
    return (kernel_matrix(x, x, kernel, scale).mean() + kernel_matrix(y, y, kernel, scale).mean()
            - 2 * kernel_matrix(x, y, kernel, scale).mean())


class InfoVAE(LossTerm):
    """Returns ``{"kl": (1 - alpha) * KL, "mmd": (alpha + lambda - 1) * MMD}``."""

    name = "infovae"
    provides_kl = True

    def __init__(self, config: InfoVAEConfig) -> None:
        super().__init__()
        self.config = config

    def forward(self, out: VAEOutput, step: int) -> dict[str, torch.Tensor]:
        cfg = self.config
        prior = torch.randn_like(out.z)
        kl = kl_per_dim(out.mu, out.logvar).sum()  # type: ignore[arg-type]
        return {"kl": (1 - cfg.alpha) * kl,
                "mmd": (cfg.alpha + cfg.lam - 1) * mmd(out.z, prior, cfg.kernel, cfg.scale)}
