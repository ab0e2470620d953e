"""dlib's serialization format, read without dlib: the network files of
``face-recognition-models`` (:mod:`latentplay.embed.dlib_resnet`,
:mod:`latentplay.embed.dlib_mmod`).

dlib writes an integer as one byte ``n | sign`` (sign ``0x80``) and then ``n`` little-endian
bytes, a floating-point number as two integers (``mantissa * 2**exponent``), a string as its
length and its bytes, and a parameter tensor as version 2, four dimensions and float32 values.
A network is its layers in order, each opened by its name (``con_4``, ``bn_con2``, ...);
:func:`read_con` and :func:`read_affine` read the convolution and affine (or batch norm) layers
both networks have.
"""

from __future__ import annotations

import re

import numpy as np
from torch import nn

from latentplay.errors import UserError


class DlibStream:
    """A cursor over the bytes of a dlib file; each read moves past what it read, and a file
    that ends early or holds something dlib did not write is a :class:`UserError` naming
    ``source``."""

    def __init__(self, data: bytes, source: str) -> None:
        self.data, self.source, self.at = data, source, 0

    def integer(self) -> int:
        if self.at >= len(self.data):
            raise UserError(f"{self.source} ends inside a layer")
        head = self.data[self.at]
        size = head & 0x0F
        value = int.from_bytes(self.data[self.at + 1:self.at + 1 + size], "little")
        self.at += 1 + size
        return -value if head & 0x80 else value

    def integers(self, count: int) -> list[int]:
        return [self.integer() for _ in range(count)]

    def real(self) -> float:
        """A ``float`` or ``double``: its mantissa and exponent."""
        mantissa, exponent = self.integers(2)
        return float(mantissa) * 2.0 ** exponent

    def text(self) -> str:
        size = self.integer()
        value = self.data[self.at:self.at + size]
        self.at += size
        return value.decode("latin-1")

    def tensor(self) -> np.ndarray:
        """A parameter tensor ``(n, k, rows, cols)`` float32."""
        version, *dims = self.integers(5)
        n = int(np.prod(dims))
        if version != 2 or min(dims) < 0:
            raise UserError(f"{self.source}: a parameter tensor dlib did not write (version {version}, "
                            f"shape {dims})")
        if self.at + 4 * n > len(self.data):
            raise UserError(f"{self.source} ends inside a layer")
        values = np.frombuffer(self.data, "<f4", n, self.at).reshape(dims)
        self.at += 4 * n
        return values

    def next_layer(self, names: re.Pattern[bytes]) -> str | None:
        """Moves past the next layer name ``names`` matches (a pattern of the serialized
        names, length byte included) and returns it; None when no more follow."""
        found = names.search(self.data, self.at)
        if found is None:
            return None
        self.at = found.end()
        return found.group()[2:].decode()


def read_con(stream: DlibStream, conv: nn.Conv2d) -> dict[str, np.ndarray] | None:
    """A ``con_4`` layer's weights and bias (after its name), None unless they are ``conv``'s
    (filters, kernel, strides and padding)."""
    values = stream.tensor().reshape(-1)
    filters, rows, cols, sy, sx, py, px = stream.integers(7)
    shape, size = tuple(conv.weight.shape), conv.weight.numel()
    built = (shape[0], *shape[2:], conv.stride, conv.padding)
    if (filters, rows, cols, (sy, sx), (py, px)) != built or values.size != size + filters:
        return None
    return {"weight": values[:size].reshape(shape), "bias": values[size:]}


def read_affine(stream: DlibStream, kind: str, channels: int) -> dict[str, np.ndarray] | None:
    """An ``affine_`` layer's scale and shift, or those of a ``bn_con2`` batch norm folded as
    dlib folds it (``gamma / sqrt(running variance + eps)``, ``beta - mean * scale``); None
    unless they have ``channels`` values."""
    params = stream.tensor().reshape(-1)
    if params.size != 2 * channels:
        return None
    gamma, beta = params[:channels].astype(np.float64), params[channels:].astype(np.float64)
    if kind == "bn_con2":
        stream.integers(10)  # the shapes of gamma and beta
        _means, _invstds = stream.tensor(), stream.tensor()
        running_means, running_variances = stream.tensor().reshape(-1), stream.tensor().reshape(-1)
        stream.integers(2)  # updates, window
        *_multipliers, eps = (stream.real() for _ in range(5))
        gamma = gamma / np.sqrt(running_variances + eps)
        beta = beta - running_means * gamma
    return {"gamma": gamma, "beta": beta}
