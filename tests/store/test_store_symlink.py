"""A store reached through a symbolic link is written where it lies: the link keeps pointing
at the updated store instead of becoming a copy of its own."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np

from latentplay import store as st
from latentplay.store import Attribute, Provenance, Schema


def _store(path: Path, n: int = 6) -> st.Store:
    schema = Schema(attributes=[Attribute("yaw", "continuous", range=(-90, 90))],
                    provenance=Provenance(source="test", converter="test"))
    images = np.random.default_rng(n).integers(0, 256, (n, 8, 8, 3), dtype=np.uint8)
    return st.build([{"image": [st.encode_png(im) for im in images],
                      "yaw": np.linspace(-60, 60, n, dtype=np.float32)}], schema, path)


def test_an_in_place_write_through_a_link_updates_the_store_it_points_to(
        tmp_path: Path, cli: Callable[..., object]) -> None:
    """``data bin lnk1 yaw ...`` made lnk1 a directory of its own with the new column, left
    real1 unchanged and a link .lnk1.old-* beside it for good."""
    _store(tmp_path / "real1")
    (tmp_path / "lnk1").symlink_to("real1", target_is_directory=True)
    result = cli("data", "bin", tmp_path / "lnk1", "yaw", "--edges=-20,20", "--names", "l,f,r")
    assert result.code == 0, result.err
    assert (tmp_path / "lnk1").is_symlink() and os.readlink(tmp_path / "lnk1") == "real1"
    assert "yaw_group" in st.load(tmp_path / "real1").columns
    saved = st.save(st.add_column(st.load(tmp_path / "lnk1"), "v", np.ones((6, 2))), tmp_path / "lnk1")
    assert saved.path == tmp_path / "lnk1" and "v" in st.load(tmp_path / "real1").columns
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lnk1", "real1"]


def test_a_link_left_moved_aside_is_removed_and_what_it_points_to_kept(tmp_path: Path) -> None:
    store = _store(tmp_path / "real1")
    (tmp_path / "lnk1").symlink_to("real1", target_is_directory=True)
    shutil.copytree(store.path, tmp_path / "kept")
    (tmp_path / ".lnk1.old-0123abcd").symlink_to("kept", target_is_directory=True)
    st.save(st.add_column(st.load(tmp_path / "lnk1"), "v", np.ones((6, 2))), tmp_path / "lnk1")
    assert not os.path.lexists(tmp_path / ".lnk1.old-0123abcd")
    assert len(st.load(tmp_path / "kept")) == 6
