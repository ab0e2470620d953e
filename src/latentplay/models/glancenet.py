"""GlanceNet (Marconato, Passerini & Teso, NeurIPS 2022): an interpretable, leak-proof
concept-based classifier built on a VAE.

* The first ``n_concepts`` latents are *aligned* to supervised concepts: ``tanh(z_k / 2)`` is
  pulled towards ``2 c_k - 1`` (concept labels ``c`` in [0, 1]) on the training examples whose
  concept labels are used (``masking_fact`` percent of them, GlanceNets' ``--masking_fact``).
* A linear classifier reads only the concepts ``tanh(z[:, :n_concepts] / 2)``.
* With ``conditional_prior`` the prior is ``p(z | y) = N(W onehot(y) + b, I)`` (GlanceNets'
  ``enc_z_from_y``) instead of ``N(0, I)``; the class prototypes ``W onehot(y) + b`` are also
  aligned to the concepts of their examples.
* Open-set recognition: after training, :meth:`GlanceNet.fit_rejection` sets thresholds at
  the ``rejection_quantile`` of the training data's reconstruction error and of each class's
  distance (in concept space) to its prototype; :meth:`GlanceNet.accept` rejects inputs above
  the reconstruction threshold or far from every prototype. Rejected inputs get no prediction,
  which is what keeps unseen kinds of input from leaking into the concepts' use.

Any composable VAE loss terms (``loss.terms``, e.g. ``[betatcvae, dipvae_ii]``) regularise the
latents; with the conditional prior they see the latents relative to the class prototype, so
``KL(q(z|x) || N(m_y, I))`` is what ``betavae`` computes. Terms with an adversary of their own
(``factorvae``'s discriminator) are trained as in the main engine: the adversary has its own
optimiser, is left out of the model's optimiser and is trained after each model step on the
same (detached) latents its term saw.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from latentplay.errors import UserError
from latentplay.models.losses import LossConfig, LossSet, build_losses
from latentplay.models.losses.base import check_weights
from latentplay.models.vae import VAE, VAEConfig, VAEOutput, reconstruction_nll


def _plain_vae_losses() -> LossConfig:
    cfg = LossConfig(terms=["betavae"])
    cfg.betavae.beta = 1.0
    return cfg


@dataclass
class GlanceNetConfig:
    """Attributes:
    latent_dim, width, hidden, likelihood: the VAE (Burgess et al. network).
    conditional_prior: prior ``N(m_y, I)`` per class (GlanceNets' ``--conditional_prior``).
    masking_fact: percentage [0, 100] of training examples whose concept labels are used.
    concept_weight: weight of the concept-alignment loss (GlanceNets' ``latent_weight``).
    label_weight: weight of the classifier's cross-entropy (GlanceNets' ``label_weight``).
    rejection_quantile: training-data quantile of the open-set thresholds (GlanceNets
        search thresholds that accept 94.5-95.5 % of the training data).
    loss: composable loss terms on the latents (plain VAE KL by default).
    """

    latent_dim: int = 10
    width: int = 32
    hidden: int = 256
    likelihood: str = "bernoulli"
    conditional_prior: bool = True
    masking_fact: float = 100.0
    concept_weight: float = 100.0
    label_weight: float = 1.0
    rejection_quantile: float = 0.95
    loss: LossConfig = field(default_factory=_plain_vae_losses)

    def validate(self) -> None:
        if not 0.0 <= self.masking_fact <= 100.0:
            raise UserError(f"masking_fact must be a percentage in [0, 100], got {self.masking_fact}")
        if not 0.0 < self.rejection_quantile <= 1.0:
            raise UserError(f"rejection_quantile must be in (0, 1], got {self.rejection_quantile}")
        check_weights("", concept_weight=self.concept_weight, label_weight=self.label_weight)
        VAEConfig(self.latent_dim, self.width, self.hidden, self.likelihood).validate()
        self.loss.check_terms(variational=True)


class GlanceNet(nn.Module):
    """GlanceNet for ``channels`` x ``size`` x ``size`` images, ``n_concepts`` concepts in
    [0, 1] and ``n_classes`` classes. See the module docstring."""

    def __init__(
        self,
        config: GlanceNetConfig,
        channels: int,
        size: int,
        n_concepts: int,
        n_classes: int,
        dataset_size: int,
    ) -> None:
        super().__init__()
        config.validate()
        if not 1 <= n_concepts <= config.latent_dim:
            raise UserError(f"{n_concepts} concepts do not fit in latent_dim={config.latent_dim}")
        self.config, self.n_concepts, self.n_classes = config, n_concepts, n_classes
        vae_cfg = VAEConfig(config.latent_dim, config.width, config.hidden, config.likelihood)
        self.vae = VAE(vae_cfg, channels, size)
        self.classifier = nn.Linear(n_concepts, n_classes)
        self.prior = nn.Linear(n_classes, config.latent_dim) if config.conditional_prior else None
        self.losses: LossSet = build_losses(config.loss, config.latent_dim, dataset_size)
        self.register_buffer("threshold_recon", torch.tensor(float("inf")))
        self.register_buffer("threshold_class", torch.full((n_classes,), float("inf")))
        self.register_buffer("centres", torch.zeros(n_classes, n_concepts))

    # ---------------------------------------------------------------- parts
    def concepts(self, z: torch.Tensor) -> torch.Tensor:
        """Concept activations ``(B, n_concepts)`` in (-1, 1) of latents ``(B, D)``."""
        return torch.tanh(z[:, : self.n_concepts] / 2)

    def prototypes(self) -> torch.Tensor:
        """Prior means ``(n_classes, D)`` of the classes (zeros without the conditional prior)."""
        eye = torch.eye(self.n_classes, device=self.classifier.weight.device)
        if self.prior is None:
            return torch.zeros(self.n_classes, self.config.latent_dim, device=eye.device)
        return self.prior(eye)

    def forward(self, x: torch.Tensor) -> VAEOutput:
        return self.vae(x)

    # ---------------------------------------------------------------- training
    def loss(
        self, x: torch.Tensor, concepts: torch.Tensor, y: torch.Tensor, supervised: torch.Tensor, step: int
    ) -> dict[str, torch.Tensor]:
        """Named losses of a batch; their sum is the objective. See :meth:`loss_and_output`."""
        return self.loss_and_output(x, concepts, y, supervised, step)[0]

    def loss_and_output(
        self, x: torch.Tensor, concepts: torch.Tensor, y: torch.Tensor, supervised: torch.Tensor, step: int
    ) -> tuple[dict[str, torch.Tensor], VAEOutput]:
        """Named losses of a batch (their sum is the objective) and the VAE output the loss
        terms saw: with the conditional prior its ``mu`` and ``z`` ``(B, D)`` are relative to
        the class prototypes. Loss terms with an adversary (``factorvae``) train it on that
        output with their ``auxiliary_loss``.

        Args:
            x: ``(B, C, S, S)`` images in [0, 1].
            concepts: ``(B, n_concepts)`` concept labels in [0, 1].
            y: ``(B,)`` class indices.
            supervised: ``(B,)`` bool, examples whose concept labels may be used.
        """
        out = self.vae(x)
        losses = {"recon": out.recon.mean()}
        seen = out
        if self.prior is not None:
            m = self.prior(F.one_hot(y, self.n_classes).to(out.mu.dtype))
            seen = VAEOutput(out.x, out.logits, out.mu - m, out.logvar, out.z - m, out.recon)
        losses.update(self.losses(seen, step))
        c_hat = self.concepts(out.z)
        losses["label"] = self.config.label_weight * F.cross_entropy(self.classifier(c_hat), y)
        if supervised.any():
            target = 2 * concepts[supervised] - 1
            align = F.mse_loss(c_hat[supervised], target)
            if self.prior is not None:
                align = align + F.mse_loss(self.concepts(m[supervised]), target)
            losses["concepts"] = self.config.concept_weight * align
        return losses, seen

    # ---------------------------------------------------------------- inference
    @torch.no_grad()
    def infer(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Deterministic pass (``z = mu``): ``mu`` ``(B, D)``, ``concepts``, class ``probs``,
        per-image ``recon`` error ``(B,)`` and concept-space ``distance`` to each class
        centre ``(B, n_classes)``."""
        mu, _ = self.vae.encode(x)
        logits = self.vae.decode_logits(mu)
        recon = reconstruction_nll(logits, x, self.config.likelihood)
        c = self.concepts(mu)
        return {
            "mu": mu,
            "concepts": c,
            "probs": torch.softmax(self.classifier(c), dim=1),
            "recon": recon,
            "distance": torch.cdist(c, self._centres()),
        }

    def _centres(self) -> torch.Tensor:
        """Class centres in concept space: the prototypes' concepts with the conditional prior,
        else the training data's class means (set by :meth:`fit_rejection`)."""
        return self.concepts(self.prototypes()) if self.prior is not None else self.centres

    @torch.no_grad()
    def fit_rejection(self, recon: torch.Tensor, concepts: torch.Tensor, y: torch.Tensor) -> None:
        """Set the open-set thresholds from the training data's ``recon`` ``(N,)``, deterministic
        ``concepts`` ``(N, n_concepts)`` and classes ``y`` ``(N,)``. A class without training
        rows gets threshold ``-inf``: no input counts as near it."""
        q = self.config.rejection_quantile
        self.threshold_recon.fill_(torch.quantile(recon.float(), q).item())
        if self.prior is None:
            for k in range(self.n_classes):
                if (y == k).any():
                    self.centres[k] = concepts[y == k].mean(0)
        dist = torch.cdist(concepts, self._centres())
        self.threshold_class.fill_(float("-inf"))
        for k in range(self.n_classes):
            if (y == k).any():
                self.threshold_class[k] = torch.quantile(dist[y == k, k], q)

    @torch.no_grad()
    def accept(self, recon: torch.Tensor, distance: torch.Tensor) -> torch.Tensor:
        """``(B,)`` bool: reconstruction within its threshold and near at least one class."""
        near = (distance <= self.threshold_class[None, :]).any(dim=1)
        return (recon <= self.threshold_recon) & near
