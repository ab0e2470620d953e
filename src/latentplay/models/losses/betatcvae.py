"""beta-TCVAE (Chen et al. 2018): the KL split into index-code mutual information, total
correlation and dimension-wise KL, each estimated over a minibatch.

With ``N`` the dataset size and ``M`` the batch size, ``log q(z_i)`` is estimated as
``logsumexp_j [log w_ij + log q(z_i | x_j)]`` and the same per dimension, for one of two sets of
importance weights ``w_ij``:

- minibatch-weighted sampling (MWS): ``w_ij = 1 / (N M)``. Its estimate of ``log q(z)`` is
  biased low by up to ``log N`` (exactly ``log N`` when the posteriors are all equal), so its
  MI, TC and dimKL are off by constants: ``+log N``, ``+(D - 1) log N`` and ``-D log N`` when
  every posterior is the prior (a negative dimension-wise KL). The constants leave the
  gradients alone; MWS is what Chen et al. optimise and the default objective.
- minibatch stratified sampling (MSS): ``w_ii = 1 / N`` for the sample's own posterior,
  ``(N - M + 1) / (N (M - 1))`` for one other (the next in the batch) and ``1 / (M - 1)`` for
  the rest. Each row of weights sums to 1, so posteriors that are all equal give exactly
  ``log q(z | x)``: MI = TC = 0 and dimKL = KL.

Either way

    MI = E[log q(z|x) - log q(z)],  TC = E[log q(z) - sum_d log q(z_d)],
    dimKL = E[sum_d log q(z_d) - log p(z)],

whose sum is exactly the Monte-Carlo KL estimate ``E[log q(z|x) - log p(z)]``.

The logged ``betatcvae/mi``, ``betatcvae/tc`` and ``betatcvae/dimkl`` are MSS's (times their
weights) whichever is optimised (``loss.betatcvae.logged=mss``); a run that optimises MWS
(``loss.betatcvae.estimator=mws``, the default) also logs ``betatcvae/mws_minus_mss``, what
MWS's weighted terms add to them, so that the entries still sum to the objective optimised.
With ``logged=objective`` (runs saved before the setting, which keep their columns on resume)
the three entries are the weighted terms optimised.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from latentplay.errors import UserError
from latentplay.models.losses.base import LossTerm, check_weights
from latentplay.models.vae import VAEOutput

_LOG_2PI = math.log(2 * math.pi)
ESTIMATORS = ("mws", "mss")
LOGGED = ("mss", "objective")


@dataclass
class BetaTCVAEConfig:
    """Weights of MI (alpha), TC (beta) and dimension-wise KL (gamma); Chen et al. use
    alpha = gamma = 1 and beta = 6 on dSprites. ``estimator``: the estimate optimised,
    ``mws`` (minibatch-weighted sampling) or ``mss`` (minibatch stratified sampling).
    ``logged``: what the ``mi``, ``tc`` and ``dimkl`` entries are, ``mss`` (MSS's whichever is
    optimised) or ``objective`` (the terms optimised; runs saved before this setting). See
    the module docstring."""

    alpha: float = 1.0
    beta: float = 6.0
    gamma: float = 1.0
    estimator: str = "mws"
    logged: str = "mss"

    def validate(self) -> None:
        check_weights("loss.betatcvae.", alpha=self.alpha, beta=self.beta, gamma=self.gamma)
        if self.estimator not in ESTIMATORS:
            raise UserError(f"loss.betatcvae.estimator must be mws (minibatch-weighted sampling) "
                            f"or mss (minibatch stratified sampling), got {self.estimator!r}")
        if self.logged not in LOGGED:
            raise UserError(f"loss.betatcvae.logged must be mss (the parts estimated by minibatch "
                            f"stratified sampling) or objective (the terms optimised), got "
                            f"{self.logged!r}")


def gaussian_log_density(z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """Elementwise ``log N(z; mu, exp(logvar))`` (broadcasting)."""
    return -0.5 * (_LOG_2PI + logvar + (z - mu).square() * torch.exp(-logvar))


def log_importance_weights(batch: int, dataset_size: int, estimator: str,
                           like: torch.Tensor | None = None) -> torch.Tensor:
    """``(M, M)`` log importance weights ``log w_ij`` of posterior ``j`` in the estimate of
    ``log q(z_i)`` for a batch of ``M`` = ``batch`` from ``N`` = ``dataset_size`` images (the
    module docstring); on ``like``'s device and dtype.

    Raises:
        ValueError: an unknown estimator, or MSS with a batch larger than the dataset.
    """
    m, n = batch, dataset_size
    kw = {"device": like.device, "dtype": like.dtype} if like is not None else {}
    if estimator == "mws":
        return torch.full((m, m), -math.log(n * m), **kw)  # type: ignore[arg-type]
    if estimator != "mss":
        raise ValueError(f"unknown estimator {estimator!r}; choose from {ESTIMATORS}")
    if m == 1:  # the sample's own posterior is all there is
        return torch.zeros(1, 1, **kw)  # type: ignore[arg-type]
    if n < m:
        raise ValueError(f"a batch of {m} cannot be drawn from {n} images")
    w = torch.full((m, m), 1.0 / (m - 1), dtype=torch.float64)
    rows = torch.arange(m)
    w[rows, (rows + 1) % m] = (n - m + 1) / (n * (m - 1))
    w[rows, rows] = 1.0 / n
    return w.log().to(**kw)  # type: ignore[arg-type]


def tc_estimates(
    z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor, dataset_size: int,
    estimators: tuple[str, ...] = ESTIMATORS,
) -> dict[str, dict[str, torch.Tensor]]:
    """``{estimator: {"mi", "tc", "dimkl"}}`` (scalars) for each of ``estimators`` from samples
    ``z`` and posteriors ``mu``, ``logvar`` (each ``(M, D)``) of a minibatch drawn from
    ``dataset_size`` images; the ``(M, M, D)`` densities are computed once for all."""
    m = z.shape[0]
    log_qz_x = gaussian_log_density(z, mu, logvar).sum(1)  # (M,)
    log_pz = gaussian_log_density(z, torch.zeros_like(z), torch.zeros_like(z)).sum(1)
    # (M, M, D): log q(z_i,d | x_j)
    mat = gaussian_log_density(z[:, None, :], mu[None, :, :], logvar[None, :, :])
    joint = mat.sum(2)
    out = {}
    for name in estimators:
        log_w = log_importance_weights(m, dataset_size, name, like=joint)
        log_qz = torch.logsumexp(joint + log_w, dim=1)
        log_prod_qzd = torch.logsumexp(mat + log_w[:, :, None], dim=1).sum(1)
        out[name] = {
            "mi": (log_qz_x - log_qz).mean(),
            "tc": (log_qz - log_prod_qzd).mean(),
            "dimkl": (log_prod_qzd - log_pz).mean(),
        }
    return out


def tc_decomposition(
    z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor, dataset_size: int,
    estimator: str = "mws",
) -> dict[str, torch.Tensor]:
    """``{"mi", "tc", "dimkl"}`` (scalars) estimated by ``estimator`` (``mws`` or ``mss``) from
    samples ``z`` and posteriors ``mu``, ``logvar`` (each ``(M, D)``) of a minibatch drawn
    from ``dataset_size`` images."""
    return tc_estimates(z, mu, logvar, dataset_size, (estimator,))[estimator]


class BetaTCVAE(LossTerm):
    """Returns ``{"mi": alpha*MI, "tc": beta*TC, "dimkl": gamma*dimKL}`` estimated by MSS and,
    when the objective is MWS's, ``"mws_minus_mss"``: MWS's weighted sum less MSS's, so that
    the entries add up to the objective optimised (``logged=objective``: the three terms of
    the estimator optimised, nothing else)."""

    name = "betatcvae"
    provides_kl = True

    def __init__(self, config: BetaTCVAEConfig, dataset_size: int) -> None:
        super().__init__()
        self.config, self.dataset_size = config, dataset_size

    def forward(self, out: VAEOutput, step: int) -> dict[str, torch.Tensor]:
        cfg = self.config
        wanted = ((cfg.estimator,) if cfg.estimator == "mss" or cfg.logged == "objective"
                  else ("mss", "mws"))
        parts = tc_estimates(out.z, out.mu, out.logvar, self.dataset_size, wanted)  # type: ignore[arg-type]

        def weighted(p: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
            return {"mi": cfg.alpha * p["mi"], "tc": cfg.beta * p["tc"], "dimkl": cfg.gamma * p["dimkl"]}

        if cfg.logged == "objective":
            return weighted(parts[cfg.estimator])
        terms = weighted(parts["mss"])
        if cfg.estimator == "mws":
            mws = weighted(parts["mws"])
            terms["mws_minus_mss"] = sum(mws.values()) - sum(terms.values())  # type: ignore[assignment]
        return terms
