"""Two commands writing one store: the later save refuses rather than drop the other's column."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from latentplay import store as st
from latentplay.embed import coordinates as pj
from latentplay.errors import UserError
from latentplay.store import Attribute, Provenance, Schema, io
from latentplay.store.io import StoreChanged


def _store(path: Path, n: int = 12) -> st.Store:
    schema = Schema(attributes=[Attribute("gender", "categorical", names=["f", "m"]),
                                Attribute("glasses", "categorical", names=["no", "yes"])],
                    provenance=Provenance(source="test", converter="test"))
    rng = np.random.default_rng(0)
    batch = {"image": [st.encode_png(im) for im in rng.integers(0, 256, (n, 8, 8, 3), dtype=np.uint8)],
             "gender": np.arange(n) % 2, "glasses": np.arange(n) // 2 % 2}
    return st.build([batch], schema, path)


def _written_meanwhile(monkeypatch: pytest.MonkeyPatch, path: Path, *columns: str) -> None:
    """Make each of the next saves write, just before its own schema, one of ``columns`` into
    the store at ``path`` from a copy loaded then, as another command running at the same time
    does."""
    write_schema = io._write_schema
    left = list(columns)

    def other_command_first(*args: object) -> None:
        if left:
            column = left.pop(0)
            monkeypatch.setattr(io, "_write_schema", write_schema)  # the other's own save
            other = st.load(path)
            st.save(st.add_column(other, column, np.ones((len(other), 3))), path)
            _by_another_process(path)
            monkeypatch.setattr(io, "_write_schema", other_command_first)
        write_schema(*args)

    monkeypatch.setattr(io, "_write_schema", other_command_first)


def _by_another_process(path: Path) -> None:
    """Forget that this process wrote the store at ``path`` last, as when another one did."""
    io._WRITTEN.pop(os.path.realpath(path), None)


def test_a_save_over_a_store_written_since_it_was_read_refuses(tmp_path: Path) -> None:
    """Both commands loaded the store; the second to save silently dropped the first's column."""
    first = _store(tmp_path / "s")
    second = st.load(tmp_path / "s")
    st.save(st.add_column(second, "pca", np.ones((12, 3))), tmp_path / "s")
    _by_another_process(tmp_path / "s")
    with pytest.raises(StoreChanged, match=r"changed on disk since this command read it \(another "
                       r"command wrote it\); run this command again$"):
        st.save(st.add_column(first, "emb", np.zeros((12, 2))), tmp_path / "s")
    kept = st.load(tmp_path / "s")
    assert "pca" in kept.columns and "emb" not in kept.columns
    assert [p.name for p in tmp_path.iterdir()] == ["s"]  # no scratch left


def test_saving_in_place_again_and_again_in_one_process_still_works(tmp_path: Path) -> None:
    store = _store(tmp_path / "s")
    store = st.save(st.add_column(store, "a", np.ones((12, 2))), store.path)
    store = st.save(store, store.path)
    extended = st.add_attributes(store, {"x": (Attribute("x", "continuous"), np.zeros(12))})
    extended = st.with_history(st.add_column(extended, "b", np.ones((12, 4))), {"step": "t"})
    store = st.save(extended, store.path)
    assert {"a", "b", "x"} <= set(st.load(tmp_path / "s").columns)


def test_a_command_whose_store_was_written_meanwhile_is_one_line_and_the_other_kept(
        tmp_path: Path, cli: Callable[..., object], monkeypatch: pytest.MonkeyPatch) -> None:
    """``embed s --column pca &`` and ``data combine s gender,glasses``: both exited 0 and the
    store kept only the last one's column."""
    _store(tmp_path / "s")
    _written_meanwhile(monkeypatch, tmp_path / "s", "pca")
    result = cli("data", "combine", tmp_path / "s", "gender,glasses")
    assert result.code == 2
    assert result.err == (f"error: {tmp_path / 's'} changed on disk since this command read it "
                          "(another command wrote it); run this command again\n")
    kept = st.load(tmp_path / "s")
    assert "pca" in kept.columns and "gender_glasses" not in kept.columns


def test_a_projections_cache_goes_into_the_store_as_written_meanwhile(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``viz projection`` re-saved the store with its coordinates and dropped a column another
    command wrote meanwhile; now the coordinates are added to the store as it is now, and when
    it is written meanwhile again, the figure is made and the cache left unwritten."""
    store = _store(tmp_path / "s", n=30)
    rng = np.random.default_rng(1)
    store = st.save(st.add_column(store, "emb", rng.normal(size=(30, 5))), store.path)
    _written_meanwhile(monkeypatch, tmp_path / "s", "other")
    saved, (projection,) = pj.projections(store, ["emb"], ["pca"])
    assert projection.coords.shape == (30, 2) and not projection.cached
    assert {"other", projection.column} <= set(saved.columns)
    assert {"other", projection.column} <= set(st.load(tmp_path / "s").columns)

    _written_meanwhile(monkeypatch, tmp_path / "s", "third", "fourth")
    _, (umap,) = pj.projections(saved, ["emb"], ["pca"], params=["whiten=true"])
    kept = st.load(tmp_path / "s")
    assert {"other", projection.column, "third", "fourth"} <= set(kept.columns)
    assert umap.coords.shape == (30, 2) and umap.column not in kept.columns


def test_a_new_store_that_another_command_wrote_meanwhile_is_kept(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Two commands writing a new store at one path at once (without --overwrite): the later
    to finish replaced the other's store without a word; it is refused, the other's kept."""
    write_schema = io._write_schema

    def other_command_first(*args: object) -> None:
        monkeypatch.setattr(io, "_write_schema", write_schema)  # the other's own save
        _store(tmp_path / "s", n=5)
        write_schema(*args)

    monkeypatch.setattr(io, "_write_schema", other_command_first)
    with pytest.raises(UserError, match=r"s already exists: another command wrote it while this one "
                       r"wrote its store; pass --overwrite \(overwrite=True in Python\) to replace it$"):
        _store(tmp_path / "s", n=12)
    assert len(st.load(tmp_path / "s")) == 5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s"]       # no scratch left
