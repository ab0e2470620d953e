"""The interface every loss term follows, and the KL divergence they share.

A loss term is a small ``nn.Module``: called on a :class:`~latentplay.models.vae.VAEOutput`
and the global step, it returns ``{name: weighted scalar loss}``; the training objective is
the reconstruction NLL plus the sum of every entry of every term. A term that estimates the
whole KL to the prior (or replaces it) sets ``provides_kl``; a model uses exactly one such
term, plus any number of add-ons (DIP-VAE penalties, FactorVAE's total correlation). A term
with a separate adversary (FactorVAE) also implements :meth:`LossTerm.auxiliary_loss` and
:meth:`LossTerm.auxiliary_parameters`; the engine trains those with the term's own optimiser.

Other packages (GlanceNet's concept supervision) may add their own terms by subclassing
:class:`LossTerm` and combining them with :class:`LossSet`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import ClassVar

import torch
from torch import nn

from latentplay.errors import UserError
from latentplay.models.vae import VAEOutput


def check_weights(prefix: str, **values: float) -> None:
    """A :class:`UserError` naming the first of ``values`` (setting name -> value) that is not a
    finite number >= 0, as ``{prefix}{name}``: NaN and infinity pass a check such as ``x < 0``
    and turn the loss NaN at the first steps."""
    for name, value in values.items():
        if not (math.isfinite(value) and value >= 0):
            raise UserError(f"{prefix}{name} must be a finite number >= 0, got {value}")


def check_positive(key: str, value: float) -> None:
    """A :class:`UserError` naming setting ``key`` unless ``value`` is a finite number above 0
    (NaN and infinity pass ``not x > 0`` and ``x <= 0``)."""
    if not (math.isfinite(value) and value > 0):
        raise UserError(f"{key} must be a finite number > 0, got {value}")


def kl_per_dim(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """Batch-mean KL( N(mu, exp(logvar)) || N(0, 1) ) per latent dimension: ``(B, D) -> (D,)``."""
    return 0.5 * (mu.square() + logvar.exp() - logvar - 1).mean(0)


class LossTerm(nn.Module):
    """Base class of a composable VAE loss term (see the module docstring)."""

    name: ClassVar[str]
    provides_kl: ClassVar[bool] = False

    def forward(self, out: VAEOutput, step: int) -> dict[str, torch.Tensor]:  # pragma: no cover
        raise NotImplementedError

    def auxiliary_parameters(self) -> list[nn.Parameter]:
        """Parameters trained by the term's own optimiser (none for most terms)."""
        return []

    def auxiliary_loss(self, out: VAEOutput) -> torch.Tensor | None:
        """Loss of the term's own adversary on ``out`` (detached from the VAE), or None."""
        return None

    def configure_optimizer(self) -> torch.optim.Optimizer | None:
        """The optimiser of :meth:`auxiliary_parameters`, or None."""
        return None


class LossSet(nn.Module):
    """Several terms evaluated together; keys are ``<term>/<entry>``."""

    def __init__(self, terms: Iterable[LossTerm]) -> None:
        super().__init__()
        self.terms = nn.ModuleList(terms)

    def forward(self, out: VAEOutput, step: int) -> dict[str, torch.Tensor]:
        """``{"<term>/<entry>": weighted scalar}`` of every term."""
        losses: dict[str, torch.Tensor] = {}
        for term in self.terms:
            for key, value in term(out, step).items():
                losses[f"{term.name}/{key}"] = value
        return losses

    @property
    def auxiliary(self) -> list[LossTerm]:
        """Terms with an adversary of their own."""
        return [t for t in self.terms if t.auxiliary_parameters()]
