"""Style mixing: one face's coarse, middle or fine styles given to another (StyleGAN2 and StyleGAN3).

A StyleGAN takes one ``w`` per layer. Decoding face A's code at every layer except a chosen
range, where face B's code is used, gives A with B's styles at those layers: at the coarse
layers (4-8 px: pose, face shape, glasses) A takes B's pose and shape; at the fine ones (64 px
and up: colour scheme, micro-structure) only B's colours (Karras et al. 2019, section 3.1).
The "Matching in GAN-space" seed mixes projected faces this way.
"""

from __future__ import annotations

import numpy as np
import torch

from latentplay.errors import UserError
from latentplay.train.api import PathLike, as_model, decode

NAMED = {"coarse": (0, 4), "middle": (4, 8), "fine": (8, None)}
"""Layer ranges by name (StyleGAN's split: 4-8 px, 16-32 px, 64 px and up)."""


def style_layers(model: torch.nn.Module, what: str = "style mixing") -> int:
    """How many styles ``model`` takes (one ``w`` per layer); a UserError for a model that
    takes one code for all (anything but an imported StyleGAN2 or StyleGAN3), naming ``what``
    needed the styles (``"style mixing"``, an option such as ``"--layers"``)."""
    if not hasattr(model, "decode_layers"):
        raise UserError(f"{what} needs a generator with one style per layer (an imported "
                        f"StyleGAN2 or StyleGAN3); this run is a {getattr(model, 'family', '?')}")
    return int(model.n_layers)


def layer_range(text: str, n_layers: int) -> tuple[int, int]:
    """``(start, stop)`` layers of ``coarse``, ``middle``, ``fine`` or ``START:STOP``, within
    ``0..n_layers``."""
    if text in NAMED:
        start, stop = NAMED[text]
        stop = n_layers if stop is None else min(stop, n_layers)
    else:
        try:
            first, last = text.split(":")
            start = int(first) if first else 0
            stop = int(last) if last else n_layers
        except ValueError:
            raise UserError(f"layers must be coarse, middle, fine or START:STOP, got {text!r}") from None
    if stop > n_layers and 0 <= start < n_layers:
        raise UserError(f"layers {text!r}: STOP {stop} is past the last layer, {n_layers - 1} (this "
                        f"generator takes {n_layers} styles: STOP at most {n_layers})")
    if not 0 <= start < stop <= n_layers:
        raise UserError(f"layers {text!r} give no layers of 0..{n_layers - 1} (this generator "
                        f"takes {n_layers} styles)")
    return start, stop


def style_mix(model: torch.nn.Module | PathLike, destinations: np.ndarray, sources: np.ndarray,
              layers: tuple[int, int], device: str = "cpu") -> np.ndarray:
    """Each destination code with each source's code at ``layers``.

    Args:
        model: an imported StyleGAN2 or StyleGAN3 (:func:`latentplay.train.load_model`).
        destinations: ``(A, D)`` codes of the faces that keep their other styles, or their
            per-layer codes ``(A, n_layers * D)`` (W+).
        sources: ``(B, D)`` or ``(B, n_layers * D)`` codes whose styles are given at ``layers``.
        layers: ``(start, stop)``, from :func:`layer_range`.

    Returns:
        ``(A, B, S, S, 3)`` uint8 images.
    """
    model = as_model(model, device)
    dest, src = _layered(model, destinations), _layered(model, sources)  # (A, n, D), (B, n, D)
    a, b = len(dest), len(src)
    codes = np.repeat(dest[:, None], b, 1)  # (A, B, n, D)
    codes[:, :, layers[0]:layers[1]] = src[None, :, layers[0]:layers[1]]
    images = decode(model, codes.reshape(a * b, -1), device=device)  # W+ codes, batched
    return images.reshape(a, b, *images.shape[1:])


def at_layers(model: torch.nn.Module, original: np.ndarray, moved: np.ndarray,
              layers: tuple[int, int]) -> np.ndarray:
    """Edits kept to some layers (GANSpace's layer-wise edits: a direction applied at the
    coarse layers moves pose and shape, at the fine ones colour): per-layer codes ``(N, A,
    n_layers * D)`` that are ``moved`` ``(N, A, D or n_layers * D)`` at ``layers`` (``(start,
    stop)``) and the faces' ``original`` codes ``(N, D or n_layers * D)`` elsewhere."""
    n, a = moved.shape[:2]
    base = _layered(model, original)  # (N, L, D)
    edited = _layered(model, moved.reshape(n * a, -1)).reshape(n, a, *base.shape[1:])
    codes = np.repeat(base[:, None], a, 1)  # (N, A, L, D)
    codes[:, :, layers[0]:layers[1]] = edited[:, :, layers[0]:layers[1]]
    return codes.reshape(n, a, -1)


def _layered(model: torch.nn.Module, codes: np.ndarray) -> np.ndarray:
    """Codes ``(N, D)`` (one for every layer) or ``(N, n_layers * D)`` as ``(N, n_layers, D)``."""
    n, d = style_layers(model), int(model.latent_dim)
    codes = np.asarray(codes, np.float32)
    if codes.ndim != 2 or codes.shape[1] not in (d, n * d):
        raise UserError(f"codes of {codes.shape[-1]} values: this generator takes {d} (W) or "
                        f"{n * d} (W+)")
    if codes.shape[1] == d:
        return np.repeat(codes[:, None], n, 1)
    return codes.reshape(len(codes), n, d).copy()
