"""Convolutional encoders and decoders for square gray or RGB images of 28, 32, 64 or 128 px.

The layout follows Burgess et al. (2018), "Understanding disentangling in beta-VAE": 4x4
convolutions with stride 2 and ``width`` channels halve the image down to 4x4 (7x7 for 28 px),
followed by two fully connected layers of ``hidden`` units. At 64 px with ``width=32`` and
``hidden=256`` this is exactly their dSprites network; other sizes add or drop one conv layer.
"""

from __future__ import annotations

import torch
from torch import nn

from latentplay.errors import UserError

SIZES = (28, 32, 64, 128)


def downsampling_plan(size: int) -> tuple[int, int]:
    """``(number of stride-2 layers, side of the smallest feature map)`` for a ``size`` px image."""
    if size not in SIZES:
        raise UserError(f"image size {size} is not supported; choose one of {SIZES}")
    steps, side = 0, size
    while side % 2 == 0 and side > 7:
        side //= 2
        steps += 1
    return steps, side


def checked_condition(cond: torch.Tensor | None, cond_dim: int, batch: int,
                      like: torch.Tensor) -> torch.Tensor:
    """``cond`` ``(batch, cond_dim)`` in ``like``'s dtype; a :class:`UserError` saying what a
    conditional network was given instead (no condition, or one of another shape)."""
    if cond is None:
        raise UserError(f"this network is conditional: pass a condition of shape (N, {cond_dim})"
                        ", got none")
    if tuple(cond.shape) != (batch, cond_dim):
        raise UserError(f"the condition must have shape ({batch}, {cond_dim}) for {batch} inputs, "
                        f"got {tuple(cond.shape)}")
    return cond.to(like.dtype)


class ConvEncoder(nn.Module):
    """Images ``(B, C, S, S)`` in [0, 1] (+ condition ``(B, K)``) -> features ``(B, out_dim)``.

    The condition, when ``cond_dim > 0``, is concatenated to the flattened conv features.
    """

    def __init__(
        self, channels: int, size: int, out_dim: int, width: int = 32, hidden: int = 256,
        cond_dim: int = 0,
    ) -> None:
        super().__init__()
        steps, side = downsampling_plan(size)
        layers: list[nn.Module] = []
        c_in = channels
        for _ in range(steps):
            layers += [nn.Conv2d(c_in, width, 4, stride=2, padding=1), nn.ReLU(inplace=True)]
            c_in = width
        self.conv = nn.Sequential(*layers, nn.Flatten())
        self.cond_dim = cond_dim
        self.fc = nn.Sequential(
            nn.Linear(width * side * side + cond_dim, hidden), nn.ReLU(inplace=True),
            nn.Linear(hidden, hidden), nn.ReLU(inplace=True),
            nn.Linear(hidden, out_dim),
        )

    def forward(self, x: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        h = self.conv(x)
        if self.cond_dim:
            h = torch.cat([h, checked_condition(cond, self.cond_dim, h.shape[0], h)], dim=1)
        return self.fc(h)


class ConvDecoder(nn.Module):
    """Latents ``(B, D)`` (+ condition ``(B, K)``) -> image logits ``(B, C, S, S)``.

    The condition is concatenated to the latents at the first fully connected layer; with
    ``cond_every_layer`` it also enters every transposed convolution as ``K`` constant
    feature maps (one per condition entry), so that the upsampling layers that draw fine
    detail can depend on the condition directly.
    """

    def __init__(
        self, channels: int, size: int, latent_dim: int, width: int = 32, hidden: int = 256,
        cond_dim: int = 0, cond_every_layer: bool = False,
    ) -> None:
        super().__init__()
        steps, side = downsampling_plan(size)
        self.width, self.side, self.cond_dim = width, side, cond_dim
        self.cond_maps = cond_dim if cond_every_layer else 0
        self.fc = nn.Sequential(
            nn.Linear(latent_dim + cond_dim, hidden), nn.ReLU(inplace=True),
            nn.Linear(hidden, hidden), nn.ReLU(inplace=True),
            nn.Linear(hidden, width * side * side), nn.ReLU(inplace=True),
        )
        layers: list[nn.Module] = []
        for k in range(steps):
            last = k == steps - 1
            layers.append(nn.ConvTranspose2d(width + self.cond_maps, channels if last else width,
                                             4, 2, padding=1))
            if not last:
                layers.append(nn.ReLU(inplace=True))
        self.deconv = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        if self.cond_dim:
            cond = checked_condition(cond, self.cond_dim, z.shape[0], z)
            z = torch.cat([z, cond], dim=1)
        h = self.fc(z).view(-1, self.width, self.side, self.side)
        if not self.cond_maps:
            return self.deconv(h)
        assert cond is not None  # checked above: cond_maps > 0 only when cond_dim > 0
        c = cond.to(h.dtype)[:, :, None, None]
        for layer in self.deconv:
            if isinstance(layer, nn.ConvTranspose2d):
                h = torch.cat([h, c.expand(-1, -1, h.shape[2], h.shape[3])], dim=1)
            h = layer(h)
        return h
