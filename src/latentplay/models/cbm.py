"""Joint concept bottleneck model (Koh et al. 2020), the baseline of GlanceNets.

A convolutional encoder (Burgess et al. network) predicts ``n_concepts`` concept activations
``sigmoid(logits)`` in (0, 1), supervised on the examples whose concept labels are used
(``masking_fact`` percent); a linear classifier reads only those activations. Concepts and
classifier are trained jointly. There is no decoder and no rejection of unfamiliar inputs.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from latentplay.errors import UserError
from latentplay.models.losses.base import check_weights
from latentplay.models.nets import ConvEncoder


@dataclass
class CBMConfig:
    """Attributes:
    width, hidden: the encoder (Burgess et al. network).
    masking_fact: percentage [0, 100] of training examples whose concept labels are used.
    concept_weight: weight of the concepts' binary cross-entropy.
    label_weight: weight of the classifier's cross-entropy.
    """

    width: int = 32
    hidden: int = 256
    masking_fact: float = 100.0
    concept_weight: float = 1.0
    label_weight: float = 1.0

    def validate(self) -> None:
        if not 0.0 <= self.masking_fact <= 100.0:
            raise UserError(f"masking_fact must be a percentage in [0, 100], got {self.masking_fact}")
        check_weights("", concept_weight=self.concept_weight, label_weight=self.label_weight)
        if self.width < 1 or self.hidden < 1:  # hidden=0 built an encoder that ignores its input
            raise UserError(f"width and hidden must be at least 1, got {self.width} and {self.hidden}")


class CBM(nn.Module):
    """Joint CBM for ``channels`` x ``size`` x ``size`` images, ``n_concepts`` concepts in [0, 1]
    and ``n_classes`` classes."""

    def __init__(self, config: CBMConfig, channels: int, size: int, n_concepts: int, n_classes: int) -> None:
        super().__init__()
        config.validate()
        self.config, self.n_concepts, self.n_classes = config, n_concepts, n_classes
        self.encoder = ConvEncoder(channels, size, n_concepts, config.width, config.hidden)
        self.classifier = nn.Linear(n_concepts, n_classes)

    def concepts(self, x: torch.Tensor) -> torch.Tensor:
        """Concept activations ``(B, n_concepts)`` in (0, 1) of images ``(B, C, S, S)``."""
        return torch.sigmoid(self.encoder(x))

    def loss(
        self, x: torch.Tensor, concepts: torch.Tensor, y: torch.Tensor, supervised: torch.Tensor, step: int
    ) -> dict[str, torch.Tensor]:
        """Named losses of a batch (``label`` and, on supervised rows, ``concepts``)."""
        logits = self.encoder(x)
        c_hat = torch.sigmoid(logits)
        losses = {"label": self.config.label_weight * F.cross_entropy(self.classifier(c_hat), y)}
        if supervised.any():
            bce = F.binary_cross_entropy_with_logits(logits[supervised], concepts[supervised])
            losses["concepts"] = self.config.concept_weight * bce
        return losses

    @torch.no_grad()
    def infer(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """``concepts`` ``(B, n_concepts)`` and class ``probs`` ``(B, n_classes)``."""
        c = self.concepts(x)
        return {"concepts": c, "probs": torch.softmax(self.classifier(c), dim=1)}
