"""Forcing a continuous condition on real images: SmileCVAE's "forcing smiles".

A test image is encoded with its true condition, and its posterior mean is decoded again with
one continuous condition set to each of several values (the other condition entries keep the
image's own values). The run's ``force_condition.png`` shows one image per row: the original,
its decoding at its own condition, then its decodings at the forced values (SmileCVAE's
layout: the own value tells the decoder's loss apart from what forcing changes).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from latentplay.models.condition import ConditionPart, ConditionSpec
from latentplay.train.figures import save_image_rows


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """``(B, C, S, S)`` floats in [0, 1] -> ``(B, S, S, C)`` uint8."""
    arr = images.detach().float().clamp(0, 1).mul(255).round().byte().cpu().numpy()
    return arr.transpose(0, 2, 3, 1)


def continuous_values(part: ConditionPart, count: int = 5) -> list[float]:
    """``count`` evenly spaced values over the part's range (``[-1, 1]`` when it has none)."""
    lo, hi = part.range or (-1.0, 1.0)
    return [float(v) for v in np.linspace(lo, hi, count)]


def first_continuous(spec: ConditionSpec) -> tuple[ConditionPart, int] | None:
    """The first continuous part of ``spec`` and its column in the condition vector."""
    column = 0
    for part in spec.parts:
        if part.kind == "continuous":
            return part, column
        column += part.size
    return None


@torch.no_grad()
def force_condition(model: nn.Module, x: torch.Tensor, cond: torch.Tensor, column: int,
                    values: list[float], shift: bool = False, mu: torch.Tensor | None = None
                    ) -> np.ndarray:
    """Re-decode images at forced values of one condition column.

    Args:
        model: a conditional autoencoder (``encode(x, cond)``, ``decode(z, cond)``).
        x: ``(n, C, S, S)`` images in [0, 1]; cond: their true conditions ``(n, K)``.
        column: the condition entry to force; values: the ``V`` values it is set to, or,
            with ``shift``, added to each image's own value (SmileCVAE's +0.5, -0.7 ...).
        mu: ``(n, D)`` codes of the images when known (the codes a run's samples were
            decoded from); None: their encoder means at ``cond``.

    Returns:
        ``(n, 2 + V, S, S, C)`` uint8: per image the original, its decoding at its own
        condition, then one decoding per value.
    """
    if mu is None:
        mu, _ = model.encode(x, cond)
    columns = [to_uint8(x), to_uint8(model.decode(mu, cond))]
    for value in values:
        forced = cond.clone()
        forced[:, column] = value + (cond[:, column] if shift else 0)
        columns.append(to_uint8(model.decode(mu, forced)))
    return np.stack(columns, axis=1)


def force_condition_captions(true_values: np.ndarray, name: str,
                             values: list[float]) -> list[list[str]]:
    """Captions of a :func:`force_condition` grid: per image ``original`` over ``(name=true)``
    (two lines, so that the captions can be drawn large enough to read on a page), then
    ``own value``, then ``name=value`` for each forced value."""
    return [[f"original\n({name}={t:.2g})", "own value"] + [f"{name}={v:.2g}" for v in values]
            for t in true_values]


def save_force_condition(grid: np.ndarray, true_values: np.ndarray, name: str,
                         values: list[float], path: Path) -> None:
    """Write ``force_condition.png`` from a :func:`force_condition` grid: one row per image,
    captioned by :func:`force_condition_captions`."""
    captions = force_condition_captions(true_values, name, values)
    labels = [f"image {k + 1}" for k in range(len(grid))]
    save_image_rows(list(grid), labels, path,
                    f"{name} forced on test images (encoded with the true {name})",
                    captions=captions)
