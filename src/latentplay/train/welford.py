"""Online mean and variance per latent dimension (Welford; Chan et al. to merge batches/ranks)."""

from __future__ import annotations

import torch


class Welford:
    """Running count ``n``, mean ``(D,)`` and sum of squared deviations ``m2`` ``(D,)``,
    kept in float64 on the data's device (no synchronisation per batch)."""

    def __init__(self, dim: int, device: torch.device | str = "cpu") -> None:
        self.n = torch.zeros((), dtype=torch.float64, device=device)
        self.mean = torch.zeros(dim, dtype=torch.float64, device=device)
        self.m2 = torch.zeros(dim, dtype=torch.float64, device=device)

    def update(self, batch: torch.Tensor) -> None:
        """Add rows of ``batch`` ``(B, D)`` (none when ``B`` is 0: its mean is undefined)."""
        if batch.shape[0] == 0:
            return
        b = batch.detach().to(torch.float64)
        nb = torch.tensor(float(b.shape[0]), dtype=torch.float64, device=b.device)
        mb = b.mean(0)
        m2b = (b - mb).square().sum(0)
        self.merge(nb, mb, m2b)

    def merge(self, nb: torch.Tensor, mb: torch.Tensor, m2b: torch.Tensor) -> None:
        """Combine with another accumulator's ``(n, mean, m2)`` (Chan et al. 1979)."""
        n = self.n + nb
        delta = mb - self.mean
        self.mean = self.mean + delta * (nb / n.clamp(min=1))
        self.m2 = self.m2 + m2b + delta.square() * (self.n * nb / n.clamp(min=1))
        self.n = n

    @property
    def variance(self) -> torch.Tensor:
        """Population variance ``(D,)`` of everything seen (zeros when empty)."""
        return self.m2 / self.n.clamp(min=1)

    def state(self) -> dict[str, torch.Tensor]:
        return {"n": self.n.cpu(), "mean": self.mean.cpu(), "m2": self.m2.cpu()}

    def load(self, state: dict[str, torch.Tensor]) -> None:
        device = self.mean.device
        self.n, self.mean, self.m2 = (state[k].to(device) for k in ("n", "mean", "m2"))
