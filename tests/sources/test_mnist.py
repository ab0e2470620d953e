"""MNIST: the four IDX files (raw or gzipped), bad labels and a truncated images file."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest
from convert_helpers import check_rejected
from sklearn.datasets import load_digits

from latentplay import store as st
from latentplay.errors import UserError
from latentplay.sources import mnist


def write_idx(path: Path, array: np.ndarray, gz: bool = False, keep: int | None = None) -> None:
    head = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I",
                                                                   *array.shape)
    data = head + array.astype(np.uint8).tobytes()
    if keep is not None:
        data = data[:keep]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(data) if gz else data)


def digits(n: int, offset: int = 0) -> tuple[np.ndarray, np.ndarray]:
    d = load_digits()
    images = np.kron(d.images[offset:offset + n], np.ones((3, 3)))  # 8x8 -> 24x24
    images = np.pad(images * 16, ((0, 0), (2, 2), (2, 2))).clip(0, 255).astype(np.uint8)
    return images, d.target[offset:offset + n].astype(np.uint8)


def make_mnist(root: Path, gz: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    sfx = ".gz" if gz else ""
    train_x, train_y = digits(30)
    test_x, test_y = digits(12, offset=100)
    train_y[3] = 10  # label outside 0-9
    write_idx(root / f"train-images-idx3-ubyte{sfx}", train_x, gz)
    write_idx(root / f"train-labels-idx1-ubyte{sfx}", train_y, gz)
    # the t10k images file is cut after 9 and a half images
    write_idx(root / f"t10k-images-idx3-ubyte{sfx}", test_x, gz, keep=16 + 28 * 28 * 9 + 300)
    write_idx(root / f"t10k-labels-idx1-ubyte{sfx}", test_y, gz)
    return train_x, train_y, test_x, test_y


@pytest.mark.parametrize("gz", [False, True])
def test_every_label_and_every_rejection(tmp_path: Path, gz: bool) -> None:
    root = tmp_path / "src" / "MNIST" / "raw"
    train_x, train_y, test_x, test_y = make_mnist(root, gz)
    store = mnist.convert(tmp_path / "src", tmp_path / "out", workers=2)
    check_rejected(store, {
        "train-images-idx3-ubyte" + (".gz" if gz else "") + "[3]": "label 10",
        **{f"t10k-images-idx3-ubyte{'.gz' if gz else ''}[{i}]": "truncated"
           for i in range(9, 12)},
    })
    keep = [i for i in range(30) if i != 3]
    codes = store.labels("digit")
    assert codes.tolist() == [*train_y[keep].tolist(), *test_y[:9].tolist()]
    split = store.labels("split")
    assert split.tolist() == [0] * len(keep) + [1] * 9
    images = st.load_images(store)
    np.testing.assert_array_equal(images[..., 0], np.concatenate([train_x[keep], test_x[:9]]))


def test_split_and_layout(tmp_path: Path) -> None:
    make_mnist(tmp_path / "src", gz=False)
    store = mnist.convert(tmp_path / "src", tmp_path / "out", split="train", workers=1)
    assert set(store.labels("split").tolist()) == {0} and len(store) == 29
    with pytest.raises(UserError, match="expected the IDX files"):
        mnist.convert(tmp_path / "out", tmp_path / "o2")
    (tmp_path / "src" / "t10k-labels-idx1-ubyte").write_bytes(b"\x00\x00\x08\x01\x00\x00\x00\x05")
    with pytest.raises(UserError, match="do not hold matching"):
        mnist.convert(tmp_path / "src", tmp_path / "o3")


def test_bytes_past_the_announced_images_are_not_read_as_images(tmp_path: Path) -> None:
    """An images file with trailing bytes (a download with junk after it): only the images its
    header announces are converted."""
    images, labels = digits(5)
    for kind, array in (("images-idx3", images), ("labels-idx1", labels)):
        write_idx(tmp_path / "src" / f"train-{kind}-ubyte", array)
    with open(tmp_path / "src" / "train-images-idx3-ubyte", "ab") as fh:
        fh.write(bytes(28 * 28 * 3))  # three images' worth of zeros
    store = mnist.convert(tmp_path / "src", tmp_path / "out", workers=1)
    assert len(store) == 5 and store.schema.provenance.counts["inputs"] == 5
    np.testing.assert_array_equal(st.load_images(store)[..., 0], images)
