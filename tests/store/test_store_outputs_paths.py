"""Outputs inside a store are told by where they are written: ``..`` and links followed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from tiny_store import tiny_store

from latentplay import store as st
from latentplay.errors import UserError
from latentplay.outputs import output_dir, refuse_inside_store, store_around


def _store(path: Path, n: int = 8) -> st.Store:
    return tiny_store(path, n)


def test_an_out_beside_the_store_through_dot_dot_is_written(tmp_path: Path,
                                                            cli: Callable[..., object]) -> None:
    """``data subset s --out s/../sib`` was refused: 's/../sib is inside the store s'."""
    _store(tmp_path / "s")
    assert store_around(tmp_path / "s" / ".." / "sib") is None
    result = cli("data", "subset", tmp_path / "s", "--out", tmp_path / "s" / ".." / "sib",
                 "--where", "gender=f")
    assert result.code == 0, result.err
    assert len(st.load(tmp_path / "sib")) == 4
    assert store_around(tmp_path / "sib" / ".." / "s" / "inner") == tmp_path / "s"


def test_an_out_whose_link_leads_inside_a_store_is_refused(tmp_path: Path) -> None:
    """A link to a folder inside the store (or to the store) passed: nothing named it a store."""
    _store(tmp_path / "s")
    (tmp_path / "into").symlink_to(tmp_path / "s" / "deep", target_is_directory=True)
    (tmp_path / "lnk").symlink_to("s", target_is_directory=True)
    with pytest.raises(UserError, match=rf"^{tmp_path / 'into'} is inside the store {tmp_path / 's'}, "):
        output_dir(tmp_path / "into", True)
    with pytest.raises(UserError, match=rf"^{tmp_path / 'lnk' / 'x.png'} is inside the store "
                       rf"{tmp_path / 'lnk'}, "):
        refuse_inside_store(tmp_path / "lnk" / "x.png")
    assert not (tmp_path / "s" / "deep").exists()
