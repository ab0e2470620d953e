"""The DCGAN's training and test steps, on a tiny network without an engine."""

from __future__ import annotations

import copy

import torch
from torch import nn

from latentplay.models import DCGANConfig, build_model
from latentplay.train.steps import GANStepper


@torch.no_grad()
def test_gan_test_metrics_score_with_the_discriminator_as_trained() -> None:
    """Training normalises each real or fake batch with its own statistics; the discriminator's
    running statistics blend the two kinds of batch, so test metrics must not use them (nor
    change them)."""
    torch.manual_seed(0)
    model = build_model("dcgan", DCGANConfig(latent_dim=8, ngf=8, ndf=8), 3, 32)
    for m in model.discriminator.modules():
        if isinstance(m, nn.BatchNorm2d):  # running statistics unlike either batch's
            m.running_mean.fill_(2.0)
            m.running_var.fill_(0.2)
    model.eval()
    before = copy.deepcopy(model.discriminator.state_dict())
    x = torch.rand(6, 3, 32, 32)
    torch.manual_seed(1)
    metrics = GANStepper(None, model.generator, model.discriminator, None, None,  # type: ignore[arg-type]
                         8).eval_step(x, None, 0)
    torch.manual_seed(1)
    fake = model.generator(torch.randn(6, 8))
    trained = copy.deepcopy(model.discriminator).train()
    assert torch.allclose(metrics["d_real"], torch.sigmoid(trained(x * 2 - 1)).mean(), atol=1e-6)
    assert torch.allclose(metrics["d_fake"], torch.sigmoid(trained(fake)).mean(), atol=1e-6)
    assert not model.discriminator.training
    after = model.discriminator.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
