"""Nothing is written inside a store: every save replaces its folder as a whole, and what was
written there went with the old copy."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from latentplay import store as st
from latentplay.errors import UserError
from latentplay.outputs import make_parents, output_dir, refuse_nonempty
from latentplay.store import Attribute, Provenance, Schema


def _store(path: Path, n: int = 12) -> st.Store:
    schema = Schema(attributes=[Attribute("smile", "continuous", range=(-1, 1))],
                    provenance=Provenance(source="test", converter="test"))
    rng = np.random.default_rng(0)
    batch = {"image": [st.encode_png(im) for im in rng.integers(0, 256, (n, 8, 8, 3), dtype=np.uint8)],
             "smile": np.linspace(-1, 1, n, dtype=np.float32)}
    return st.build([batch], schema, path)


@pytest.mark.parametrize("command", [
    ["data", "subset", "{s}", "--out", "{s}/inner", "--n", "5"],
    ["data", "export", "{s}", "--to", "{s}/exp"],
    ["data", "make", "synthfaces", "--out", "{s}/deeper/made", "--n", "4"],
    ["data", "export", "{s}", "--to", "{s}", "--overwrite"],
])
def test_an_output_inside_a_store_is_refused(tmp_path: Path, cli: Callable[..., object],
                                             command: list[str]) -> None:
    """These exited 0; the store's next in-place write (``data bin``) deleted what they wrote."""
    _store(tmp_path / "s")
    before = sorted(p.name for p in (tmp_path / "s").iterdir())
    result = cli(*(part.format(s=tmp_path / "s") for part in command))
    assert result.code == 2 and result.err.count("\n") == 1
    assert str(tmp_path / "s") in result.err and (" is inside the store " in result.err
                                                   or " is a store; " in result.err)
    assert sorted(p.name for p in (tmp_path / "s").iterdir()) == before


def test_output_directories_inside_or_at_a_store_are_refused(tmp_path: Path) -> None:
    _store(tmp_path / "s")
    for refuse in (lambda p: output_dir(p, True), lambda p: refuse_nonempty(p, True), make_parents):
        with pytest.raises(UserError, match=rf"^{tmp_path / 's' / 'a' / 'b'} is inside the store "
                           rf"{tmp_path / 's'}, which is replaced as a whole on every save; "
                           "write it elsewhere$"):
            refuse(tmp_path / "s" / "a" / "b")
        with pytest.raises(UserError, match=rf"^{tmp_path / 's'} is a store; give another directory"):
            refuse(tmp_path / "s")
    assert not (tmp_path / "s" / "a").exists()
    assert output_dir(tmp_path / "beside", False).is_dir()


def test_an_in_place_write_keeps_a_folder_inside_the_store(tmp_path: Path,
                                                          cli: Callable[..., object]) -> None:
    """A folder put inside the store (by hand, or by an earlier version) was deleted by the
    next in-place write; now the write refuses and the folder stays."""
    _store(tmp_path / "s")
    (tmp_path / "s" / "mine").mkdir()
    (tmp_path / "s" / "mine" / "notes.txt").write_text("keep me")
    result = cli("data", "bin", tmp_path / "s", "smile", "--edges", "0", "--names", "frown,smile")
    assert result.code == 2
    assert result.err == (f"error: {tmp_path / 's'} holds folder(s) that are no part of the store "
                          "(mine); writing the store replaces it as a whole and would delete them: "
                          "move them out of it first\n")
    assert (tmp_path / "s" / "mine" / "notes.txt").read_text() == "keep me"
    assert "smile_group" not in st.load(tmp_path / "s").columns
