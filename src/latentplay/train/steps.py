"""One optimisation step per model family.

A stepper returns the step's metrics as ``{name: tensor}`` (still on the device; scalars, and
``kl_dims`` of shape ``(D,)``) and
calls ``guard(metrics)`` before any parameter changes, so a non-finite loss stops training
with the weights of the last good step.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import torch
import torch.nn.functional as F
from lightning.fabric import Fabric
from torch import nn

from latentplay.models.losses import LossSet, kl_per_dim
from latentplay.models.vae import VAEOutput

Guard = Callable[[dict[str, torch.Tensor]], None]
Metrics = dict[str, torch.Tensor]


def _sync_grads(fabric: Fabric, params: list[nn.Parameter]) -> None:
    """Average gradients of parameters that are not inside a DDP wrapper."""
    if fabric.world_size > 1:
        for p in params:
            if p.grad is not None:
                p.grad = fabric.all_reduce(p.grad, reduce_op="mean")


class VAEStepper:
    """AE / VAE / CVAE: reconstruction NLL (batch mean) + every loss term; auxiliary
    adversaries (FactorVAE's discriminator) are updated after the model."""

    def __init__(self, fabric: Fabric, model: nn.Module, optimizer: torch.optim.Optimizer | None,
                 losses: LossSet, aux_optimizers: list[torch.optim.Optimizer] | None) -> None:
        self.fabric, self.model, self.optimizer, self.losses = fabric, model, optimizer, losses
        opts = aux_optimizers if aux_optimizers is not None else [None] * len(losses.auxiliary)
        self.aux = list(zip(losses.auxiliary, opts, strict=True))

    def _metrics(self, out: VAEOutput, step: int) -> tuple[torch.Tensor, Metrics]:
        recon = out.recon.mean()
        terms = self.losses(out, step)
        total = recon + sum(terms.values()) if terms else recon
        metrics: Metrics = {"loss": total, "recon": recon, **terms}
        if out.logvar is not None:
            kl = kl_per_dim(out.mu, out.logvar)
            metrics["kl"] = kl.sum()
            metrics["kl_dims"] = kl  # (D,): written as columns kl_0 ... kl_{D-1}
        return total, metrics

    def train_step(self, x: torch.Tensor, cond: torch.Tensor | None, step: int,
                   guard: Guard) -> tuple[Metrics, torch.Tensor]:
        out: VAEOutput = self.model(x, cond)
        total, metrics = self._metrics(out, step)
        guard(metrics)
        assert self.optimizer is not None
        self.optimizer.zero_grad(set_to_none=True)
        self.fabric.backward(total)
        self.optimizer.step()
        for term, opt in self.aux:
            aux_loss = term.auxiliary_loss(out)
            metrics[f"{term.name}/adversary"] = aux_loss
            guard({f"{term.name}/adversary": aux_loss})
            assert opt is not None
            opt.zero_grad(set_to_none=True)
            self.fabric.backward(aux_loss)
            _sync_grads(self.fabric, term.auxiliary_parameters())
            opt.step()
        return {k: v.detach() for k, v in metrics.items()}, out.mu.detach()

    @torch.no_grad()
    def eval_step(self, x: torch.Tensor, cond: torch.Tensor | None, step: int) -> Metrics:
        out: VAEOutput = self.model(x, cond)
        metrics = self._metrics(out, step)[1]
        for term, _ in self.aux:
            metrics[f"{term.name}/adversary"] = term.auxiliary_loss(out)
        return metrics


@contextmanager
def batch_statistics(module: nn.Module) -> Iterator[None]:
    """Within the block, the batch-norm layers of ``module`` normalise each batch with its own
    statistics, as in training, and leave their running statistics (and counters) untouched."""
    norms = [m for m in module.modules() if isinstance(m, nn.BatchNorm2d)]
    saved = [(m.training, m.track_running_stats) for m in norms]
    for m in norms:
        m.training, m.track_running_stats = True, False
    try:
        yield
    finally:
        for m, (training, track) in zip(norms, saved, strict=True):
            m.training, m.track_running_stats = training, track


class GANStepper:
    """DCGAN: discriminator step on real and generated images, then generator step
    (non-saturating loss); a conditional GAN generates with the real batch's conditions."""

    def __init__(self, fabric: Fabric, generator: nn.Module, discriminator: nn.Module,
                 opt_g: torch.optim.Optimizer | None, opt_d: torch.optim.Optimizer | None,
                 latent_dim: int) -> None:
        self.fabric, self.g, self.d = fabric, generator, discriminator
        self.opt_g, self.opt_d, self.latent_dim = opt_g, opt_d, latent_dim

    def _d_loss(self, real: torch.Tensor, fake: torch.Tensor,
                cond: torch.Tensor | None) -> tuple[torch.Tensor, Metrics]:
        d_real, d_fake = self.d(real, cond), self.d(fake, cond)
        loss = (F.binary_cross_entropy_with_logits(d_real, torch.ones_like(d_real))
                + F.binary_cross_entropy_with_logits(d_fake, torch.zeros_like(d_fake)))
        return loss, {"loss_d": loss, "d_real": torch.sigmoid(d_real).mean(),
                      "d_fake": torch.sigmoid(d_fake).mean()}

    def _g_loss(self, fake: torch.Tensor, cond: torch.Tensor | None) -> torch.Tensor:
        logits = self.d(fake, cond)
        return F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits))

    def train_step(self, x: torch.Tensor, cond: torch.Tensor | None, step: int,
                   guard: Guard) -> tuple[Metrics, None]:
        real = x * 2 - 1
        z = torch.randn(x.shape[0], self.latent_dim, device=x.device)
        fake = self.g(z, cond)
        loss_d, metrics = self._d_loss(real, fake.detach(), cond)
        guard({"loss_d": loss_d})
        assert self.opt_d is not None and self.opt_g is not None
        self.opt_d.zero_grad(set_to_none=True)
        self.fabric.backward(loss_d)
        self.opt_d.step()
        loss_g = self._g_loss(fake, cond)
        guard({"loss_g": loss_g})
        self.opt_g.zero_grad(set_to_none=True)
        self.fabric.backward(loss_g)
        self.opt_g.step()
        metrics["loss_g"] = loss_g
        return {k: v.detach() for k, v in metrics.items()}, None

    @torch.no_grad()
    def eval_step(self, x: torch.Tensor, cond: torch.Tensor | None, step: int) -> Metrics:
        """Metrics of real images ``x`` ``(B, C, S, S)`` in [0, 1] against as many fakes from
        the generator as it stands (eval mode: the sampler that is shared). The discriminator
        normalises the real and the fake batch each with its own statistics, as in training:
        its running statistics mix real and fake batches and describe neither, so in eval mode
        it would score images with a network that training never used."""
        z = torch.randn(x.shape[0], self.latent_dim, device=x.device)
        fake = self.g(z, cond)
        with batch_statistics(self.d):
            metrics = self._d_loss(x * 2 - 1, fake, cond)[1]
            metrics["loss_g"] = self._g_loss(fake, cond)
        return metrics
