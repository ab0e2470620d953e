"""Composable VAE loss terms (GlanceNets' ``--loss_terms``): ``loss.terms=[betatcvae,dipvae_ii]``.

Each term is a small :class:`LossTerm` module returning named weighted losses; see
:mod:`latentplay.models.losses.base` for the interface. Pure functions beside each class
(``tc_decomposition``, ``dip_covariance``, ``mmd``, ``kl_per_dim``) hold the arithmetic.

==============  ==========================================  ======================
term            objective added                             provides the KL
==============  ==========================================  ======================
``betavae``     beta*KL, or gamma*|KL - C(step)| (Burgess)  yes
``betatcvae``   alpha*MI + beta*TC + gamma*dimKL (MWS/MSS)  yes
``infovae``     (1-alpha)*KL + (alpha+lam-1)*MMD            yes
``dipvae_i``    DIP-VAE-I covariance penalties              no (add-on)
``dipvae_ii``   DIP-VAE-II covariance penalties             no (add-on)
``factorvae``   gamma*TC from a discriminator (own optim)   no (add-on)
==============  ==========================================  ======================
A VAE uses exactly one term that provides the KL, plus any add-ons.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from latentplay.errors import UserError
from latentplay.models.losses.base import LossSet, LossTerm, kl_per_dim
from latentplay.models.losses.betatcvae import (
    BetaTCVAE,
    BetaTCVAEConfig,
    tc_decomposition,
    tc_estimates,
)
from latentplay.models.losses.betavae import BetaVAE, BetaVAEConfig, capacity
from latentplay.models.losses.dipvae import (
    DIPVAEI,
    DIPVAEII,
    DIPVAEIConfig,
    DIPVAEIIConfig,
    dip_covariance,
    dip_penalties,
)
from latentplay.models.losses.factorvae import FactorVAE, FactorVAEConfig, permute_dims
from latentplay.models.losses.infovae import InfoVAE, InfoVAEConfig, mmd

TERMS: dict[str, type[LossTerm]] = {
    t.name: t for t in (BetaVAE, BetaTCVAE, InfoVAE, DIPVAEI, DIPVAEII, FactorVAE)
}


@dataclass
class LossConfig:
    """Which terms make the objective (``terms``) and each term's settings."""

    terms: list[str] = field(default_factory=lambda: ["betavae"])
    betavae: BetaVAEConfig = field(default_factory=BetaVAEConfig)
    betatcvae: BetaTCVAEConfig = field(default_factory=BetaTCVAEConfig)
    infovae: InfoVAEConfig = field(default_factory=InfoVAEConfig)
    dipvae_i: DIPVAEIConfig = field(default_factory=DIPVAEIConfig)
    dipvae_ii: DIPVAEIIConfig = field(default_factory=DIPVAEIIConfig)
    factorvae: FactorVAEConfig = field(default_factory=FactorVAEConfig)

    def check_terms(self, variational: bool) -> None:
        """Reject unknown, repeated or incompatible term lists (UserError)."""
        unknown = [t for t in self.terms if t not in TERMS]
        if unknown:
            raise UserError(f"unknown loss term(s) {', '.join(map(repr, unknown))}; choose from: "
                            f"{', '.join(sorted(TERMS))}")
        if len(set(self.terms)) != len(self.terms):
            raise UserError(f"loss.terms lists a term twice: {self.terms}")
        if not variational:
            if self.terms:
                raise UserError("this model is not variational: set loss.terms=[]")
            return
        kl = [t for t in self.terms if TERMS[t].provides_kl]
        if len(kl) != 1:
            raise UserError(
                f"loss.terms needs exactly one of betavae, betatcvae, infovae (each provides the "
                f"KL); got {kl or 'none'} in {self.terms}. betavae with beta=1 is the plain VAE"
            )
        for name in self.terms:
            getattr(self, name).validate()


def build_losses(config: LossConfig, latent_dim: int, dataset_size: int) -> LossSet:
    """The :class:`LossSet` of ``config.terms`` for a model with ``latent_dim`` latents trained on
    ``dataset_size`` images (beta-TCVAE's sampling weights need it)."""
    terms: list[LossTerm] = []
    for name in config.terms:
        cfg = getattr(config, name)
        if name == "betatcvae":
            terms.append(BetaTCVAE(cfg, dataset_size))
        elif name == "factorvae":
            terms.append(FactorVAE(cfg, latent_dim))
        else:
            terms.append(TERMS[name](cfg))  # type: ignore[call-arg]
    return LossSet(terms)


__all__ = [
    "DIPVAEI", "DIPVAEII", "TERMS", "BetaTCVAE", "BetaTCVAEConfig", "BetaVAE", "BetaVAEConfig",
    "DIPVAEIConfig", "DIPVAEIIConfig", "FactorVAE", "FactorVAEConfig", "InfoVAE",
    "InfoVAEConfig", "LossConfig", "LossSet", "LossTerm", "build_losses", "capacity",
    "dip_covariance", "dip_penalties", "kl_per_dim", "mmd", "permute_dims", "tc_decomposition",
    "tc_estimates",
]
