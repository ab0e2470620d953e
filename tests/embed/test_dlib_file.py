"""dlib's serialization read without dlib (``latentplay.embed.dlib_file``), on bytes written by
hand in dlib's format."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

from latentplay.embed.dlib_file import DlibStream, read_affine, read_con
from latentplay.errors import UserError


def _int(value: int) -> bytes:
    """dlib's integer: a byte ``size | sign`` then ``size`` little-endian bytes."""
    raw = abs(value).to_bytes(max(1, (abs(value).bit_length() + 7) // 8), "little")
    return bytes([len(raw) | (0x80 if value < 0 else 0)]) + raw


def _real(mantissa: int, exponent: int) -> bytes:
    return _int(mantissa) + _int(exponent)


def _text(value: str) -> bytes:
    return _int(len(value)) + value.encode()


def _tensor(values: np.ndarray, dims: tuple[int, int, int, int], version: int = 2) -> bytes:
    return b"".join(_int(v) for v in (version, *dims)) + np.asarray(values, "<f4").tobytes()


def test_integers_reals_text_and_tensors() -> None:
    data = (_int(5) + _int(-66) + _int(70000) + _real(16, -4) + _real(-3, 1) + _text("con_4")
            + _tensor(np.arange(6), (1, 2, 3, 1)))
    stream = DlibStream(data, "test.dat")
    assert stream.integers(3) == [5, -66, 70000]
    assert (stream.real(), stream.real(), stream.text()) == (1.0, -6.0, "con_4")
    np.testing.assert_array_equal(stream.tensor(), np.arange(6, dtype=np.float32).reshape(1, 2, 3, 1))
    assert stream.at == len(data)
    with pytest.raises(UserError, match="test.dat ends inside a layer"):
        stream.integer()
    with pytest.raises(UserError, match="a parameter tensor dlib did not write"):
        DlibStream(_tensor(np.zeros(1), (1, 1, 1, 1), version=3), "v3.dat").tensor()
    with pytest.raises(UserError, match="cut.dat ends inside a layer"):
        DlibStream(_tensor(np.zeros(1), (1, 1, 2, 2)), "cut.dat").tensor()


def test_layers_found_by_name_and_read() -> None:
    conv = torch.nn.Conv2d(1, 2, 3, 1, 1)
    weights = np.arange(18, dtype=np.float32)
    con = (_text("con_4") + _tensor(np.concatenate([weights, [0.5, -0.5]]), (20, 1, 1, 1))
           + b"".join(_int(v) for v in (2, 3, 3, 1, 1, 1, 1)))
    gamma, beta, means, variances = [2.0, 1.0], [0.5, 0.0], [1.0, -1.0], [3.0, 0.0]
    bn = (_text("bn_con2") + _tensor(np.array(gamma + beta), (4, 1, 1, 1))
          + b"".join(_int(v) for v in (1, 1, 2, 1, 1) * 2)  # the shapes of gamma and beta
          + _tensor(np.zeros(2), (1, 2, 1, 1)) * 2 + _tensor(np.array(means), (1, 2, 1, 1))
          + _tensor(np.array(variances), (1, 2, 1, 1)) + _int(100) + _int(100)
          + _real(1, 0) * 4 + _real(1, 0))  # multipliers, then eps 1
    stream = DlibStream(b"junk" + con + bn, "net.dat")
    names = re.compile(rb"\x01\x05con_4|\x01\x07bn_con2")
    assert stream.next_layer(names) == "con_4"
    read = read_con(stream, conv)
    assert read is not None
    np.testing.assert_array_equal(read["weight"], weights.reshape(2, 1, 3, 3))
    np.testing.assert_array_equal(read["bias"], [0.5, -0.5])
    assert stream.next_layer(names) == "bn_con2"
    folded = read_affine(stream, "bn_con2", 2)
    assert folded is not None  # gamma / sqrt(var + eps), beta - mean * scale
    np.testing.assert_allclose(folded["gamma"], [2.0 / 2.0, 1.0 / 1.0])
    np.testing.assert_allclose(folded["beta"], [0.5 - 1.0 * 1.0, 0.0 + 1.0 * 1.0])
    assert stream.at == len(stream.data) and stream.next_layer(names) is None
    other = DlibStream(con, "net.dat")
    other.next_layer(names)
    assert read_con(other, torch.nn.Conv2d(1, 2, 3, 2, 0)) is None  # another stride and padding
    assert read_affine(DlibStream(_tensor(np.zeros(6), (6, 1, 1, 1)), "a.dat"), "affine_", 2) is None
