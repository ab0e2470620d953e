"""Colours as readers with a colour-vision deficiency see them: Machado, Oliveira & Fernandes
(2009) at severity 1.0, on linear RGB, compared in CIEDE2000."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.colors import to_rgb

VISIONS = {"normal": np.eye(3).tolist(),
           "deuteranopia": [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                            [-0.011820, 0.042940, 0.968881]],
           "protanopia": [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
                          [-0.003882, -0.048116, 1.051998]],
           "tritanopia": [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602],
                          [0.004733, 0.691367, 0.303900]]}
"""Each vision's ``(3, 3)`` matrix on linear RGB (the identity for normal vision)."""


def least_gaps(colours: Sequence[Any]) -> dict[str, float]:
    """The smallest CIEDE2000 distance between two of ``colours`` (matplotlib colours, alpha
    ignored) under each of :data:`VISIONS`."""
    from skimage.color import deltaE_ciede2000, rgb2lab

    srgb = np.array([to_rgb(c) for c in colours])
    linear = np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)
    gaps = {}
    for name, matrix in VISIONS.items():
        seen = np.clip(linear @ np.array(matrix).T, 0, 1)
        lab = rgb2lab(np.where(seen <= 0.0031308, seen * 12.92, 1.055 * seen ** (1 / 2.4) - 0.055))
        gaps[name] = min(deltaE_ciede2000(lab[i], lab[j]) for i in range(len(lab))
                         for j in range(i + 1, len(lab)))
    return gaps


def on_white(colour: Any, alpha: float, under: Any = "white") -> tuple[float, float, float]:
    """RGB of ``colour`` drawn at opacity ``alpha`` over ``under``."""
    return tuple(alpha * np.array(to_rgb(colour)) + (1 - alpha) * np.array(to_rgb(under)))


def contrast(a: Any, b: Any) -> float:
    """WCAG's contrast ratio of colours ``a`` and ``b``: (lighter + 0.05) / (darker + 0.05) of
    their relative luminances."""
    lighter, darker = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def _luminance(colour: Any) -> float:
    """Relative luminance of ``colour`` (WCAG: linear RGB weighted 0.2126, 0.7152, 0.0722)."""
    srgb = np.array(to_rgb(colour))
    linear = np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)
    return float(linear @ [0.2126, 0.7152, 0.0722])
