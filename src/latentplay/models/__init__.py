"""Generative model families and their configs (one module per family, config beside it).

=============  =======================  ===========================================================
family         config                   model
=============  =======================  ===========================================================
``ae``         :class:`AEConfig`        deterministic autoencoder
``vae``        :class:`VAEConfig`       VAE; its objective is built from loss terms
``cvae``       :class:`CVAEConfig`      conditional VAE (continuous and/or one-hot)
``dcgan``      :class:`DCGANConfig`     DCGAN, optionally class-conditional
``stylegan2``  :class:`StyleGAN2Config` a pretrained StyleGAN2 generator (imported, not trained)
``stylegan3``  :class:`StyleGAN3Config` a pretrained StyleGAN3 generator (imported, not trained)
=============  =======================  ===========================================================

Every model has ``latent_dim``, ``cond_dim``, ``channels``, ``size`` and
``decode(z (B, D), cond (B, K) | None) -> images (B, C, S, S) in [0, 1]``; autoencoders also
``encode(x, cond) -> (mu, logvar | None)``.
"""

from __future__ import annotations

from typing import Any

from torch import nn

from latentplay.errors import UserError
from latentplay.models.condition import ConditionPart, ConditionSpec
from latentplay.models.dcgan import DCGAN, DCGANConfig
from latentplay.models.nets import SIZES
from latentplay.models.stylegan2 import StyleGAN2, StyleGAN2Config
from latentplay.models.stylegan3 import StyleGAN3, StyleGAN3Config
from latentplay.models.vae import AE, CVAE, VAE, AEConfig, CVAEConfig, VAEConfig, VAEOutput

FAMILIES: dict[str, tuple[type, type[nn.Module]]] = {
    "ae": (AEConfig, AE),
    "vae": (VAEConfig, VAE),
    "cvae": (CVAEConfig, CVAE),
    "dcgan": (DCGANConfig, DCGAN),
    "stylegan2": (StyleGAN2Config, StyleGAN2),
    "stylegan3": (StyleGAN3Config, StyleGAN3),
}


def family_config(family: str) -> type:
    """The config dataclass of model ``family``."""
    if family not in FAMILIES:
        raise UserError(f"unknown model family {family!r}; choose from: {', '.join(sorted(FAMILIES))}")
    return FAMILIES[family][0]


def build_model(family: str, config: Any, channels: int, size: int, cond_dim: int = 0) -> nn.Module:
    """A freshly initialised model of ``family`` for ``channels`` x ``size`` x ``size`` images."""
    family_config(family)
    return FAMILIES[family][1](config, channels, size, cond_dim)  # type: ignore[call-arg]


__all__ = [
    "AE", "CVAE", "DCGAN", "FAMILIES", "SIZES", "VAE", "AEConfig", "CVAEConfig",
    "ConditionPart", "ConditionSpec", "DCGANConfig", "StyleGAN2", "StyleGAN2Config", "StyleGAN3",
    "StyleGAN3Config", "VAEConfig",
    "VAEOutput", "build_model", "family_config",
]
