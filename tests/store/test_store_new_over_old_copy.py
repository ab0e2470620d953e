"""A new store is not written where a cut-off write left the old store moved aside: the next
write there would have removed that copy, the only one of the old store."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from tiny_store import tiny_store

from latentplay import store as st
from latentplay.errors import UserError


def _store(path: Path, n: int = 8, overwrite: bool = False) -> st.Store:
    return tiny_store(path, n, overwrite)


def test_a_new_store_where_an_old_copy_waits_is_refused(tmp_path: Path,
                                                        cli: Callable[..., object]) -> None:
    """``data subset src --out k1`` succeeded beside .k1.old-*, and the next in-place write
    deleted the old copy with all its columns."""
    _store(tmp_path / "src")
    st.save(st.add_column(_store(tmp_path / "k1", n=6), "emb", np.ones((6, 2))), tmp_path / "k1")
    old = tmp_path / ".k1.old-1234abcd"
    os.rename(tmp_path / "k1", old)
    result = cli("data", "subset", tmp_path / "src", "--out", tmp_path / "k1", "--where", "gender=f")
    assert result.code == 2
    assert result.err == (f"error: {tmp_path / 'k1'} holds no store, but a write to it was cut off "
                          f"after it moved the old store aside, to {old}: restore it with: mv {old} "
                          f"{tmp_path / 'k1'} (or remove {old} to write a new store there)\n")
    with pytest.raises(UserError, match="holds no store, but a write to it was cut off"):
        _store(tmp_path / "k1", overwrite=True)
    assert not (tmp_path / "k1").exists() and "emb" in st.load(old).columns
    os.rename(old, tmp_path / "k1")  # restored: writes go on
    assert len(_store(tmp_path / "k1", n=5, overwrite=True)) == 5
