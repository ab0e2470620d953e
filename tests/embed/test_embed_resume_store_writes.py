"""An embedding that other commands' writes to the store overlap: the finished batches are kept
while the store's rows and images are unchanged (another column added is no reason to start
again), and a final save refused because the store changed meanwhile is made into the store as
it is now, or refused with the finished vectors kept for the next run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from latentplay import store as st
from latentplay.embed import column as col
from latentplay.embed.pixels import PixelsPCA, PixelsPCAConfig
from latentplay.errors import UserError
from latentplay.store import io as store_io

CFG = PixelsPCAConfig(dim=8, fit_samples=50)


class _Interrupting(PixelsPCA):
    """pixels-pca that is interrupted (Ctrl-C) at its third batch."""

    def __init__(self, config):
        super().__init__(config)
        self.calls = 0

    def embed_rows(self, images, rows=None):
        self.calls += 1
        if self.calls == 3:
            raise KeyboardInterrupt
        return super().embed_rows(images, rows)


class _Counting(PixelsPCA):
    """pixels-pca that counts the rows it embeds and, with ``at_last`` set, calls it (another
    command writing the store) while it embeds the store's last batch."""

    def __init__(self, config, at_last=None):
        super().__init__(config)
        self.rows_seen = 0
        self.at_last = at_last

    def embed_rows(self, images, rows=None):
        self.rows_seen += len(images)
        if self.at_last is not None and rows is not None and rows[-1] == self.n_rows - 1:
            self.at_last()
        return super().embed_rows(images, rows)

    def bind(self, store):
        self.n_rows = len(store)
        super().bind(store)


def _as_another_process(path):
    """Forget that this process wrote the store at ``path`` (a save over a store this process
    wrote itself is let through): the write just made counts as another command's."""
    getattr(store_io, "_WRITTEN", {}).pop(os.path.realpath(path), None)


def _add_other_column(path, name="other"):
    """What another command (``data measure``, ``viz projection``'s cache) does to the store."""
    now = st.load(path)
    st.save(st.add_column(now, name, np.ones((len(now), 2), np.float32), "another command's"),
            path)
    _as_another_process(path)


def _replace_images(path, seed=7):
    """Another command writing the store anew with the same number of rows, other images."""
    now = st.load(path)
    images = np.random.default_rng(seed).integers(0, 256, (len(now), 24, 24, 3), np.uint8)
    dataset = now.dataset.remove_columns("image").add_column(
        "image", [st.encode_png(im) for im in images])
    dataset = dataset.cast_column("image", now.dataset.features["image"])
    st.save(st.Store(dataset=dataset, schema=now.schema, path=now.path, read_as=now.read_as), path)
    _as_another_process(path)


def _interrupted(store):
    with pytest.raises(UserError, match="interrupted after 32 of 100 rows"):
        col.embed_store(store, _Interrupting(CFG), "z", batch_size=16, progress=False)


def test_a_column_added_meanwhile_keeps_the_finished_batches(blob_store, capsys):
    s = blob_store(n=100)
    expected = st.vectors(col.embed_store(blob_store(n=100, name="reference"), PixelsPCA(CFG), "z",
                                          batch_size=16, progress=False), "z")
    _interrupted(s)
    _add_other_column(s.path)  # e.g. `data bin` between the kill and the rerun
    capsys.readouterr()
    resumed = _Counting(CFG)
    out = col.embed_store(s.path, resumed, "z", batch_size=16, progress=False)
    assert resumed.rows_seen == 100 - 32
    assert "continuing from row 33 of 100" in capsys.readouterr().err
    assert {"z", "other"} <= set(out.columns)
    np.testing.assert_array_equal(st.vectors(out, "z"), expected)


def test_changed_images_start_again_and_say_so(blob_store, capsys):
    s = blob_store(n=100)
    _interrupted(s)
    _replace_images(s.path)
    capsys.readouterr()
    again = _Counting(CFG)
    out = col.embed_store(s.path, again, "z", batch_size=16, progress=False)
    assert again.rows_seen == 100
    assert ("the store's images changed since the interrupted run: starting again"
            in capsys.readouterr().err)
    fresh = col.embed_store(blob_store(n=100, seed=0, name="fresh"), PixelsPCA(CFG), "z",
                            batch_size=16, progress=False)
    assert not np.array_equal(st.vectors(out, "z"), st.vectors(fresh, "z"))  # other images


def test_images_digest_ignores_other_columns_and_sees_images(blob_store):
    s = blob_store(n=40)
    before = col.images_digest(s)
    _add_other_column(s.path)
    assert col.images_digest(st.load(s.path)) == before
    _replace_images(s.path)
    assert col.images_digest(st.load(s.path)) != before


def test_a_write_during_the_embedding_is_kept_beside_the_column(blob_store):
    s = blob_store(n=100)
    embedder = _Counting(CFG, at_last=lambda: _add_other_column(s.path))
    out = col.embed_store(s, embedder, "z", batch_size=16, progress=False)
    assert embedder.rows_seen == 100
    assert {"z", "other"} <= set(out.columns)  # neither write lost
    reloaded = st.load(s.path)
    assert {"z", "other"} <= set(reloaded.columns)
    assert col.embed_entry(reloaded, "z") is not None
    assert not col.scratch_dir(s.path, "z").exists()


def test_images_changed_during_the_embedding_are_refused_in_one_line(blob_store, capsys):
    s = blob_store(n=100)
    embedder = _Counting(CFG, at_last=lambda: _replace_images(s.path))
    with pytest.raises(UserError) as info:
        col.embed_store(s, embedder, "z", batch_size=16, progress=False)
    message = str(info.value)
    assert "\n" not in message and "rows or images changed" in message
    assert "column 'z' was not saved" in message and "run the same command again" in message
    assert "z" not in st.load(s.path).columns
    assert col.scratch_dir(s.path, "z").exists()
    capsys.readouterr()
    rerun = _Counting(CFG)
    out = col.embed_store(s.path, rerun, "z", batch_size=16, progress=False)
    assert rerun.rows_seen == 100  # the store as it is now, from its first row
    assert "the store's images changed since the interrupted run" in capsys.readouterr().err
    assert "z" in out.columns


def test_a_store_written_at_every_try_keeps_the_vectors_for_the_rerun(blob_store, monkeypatch,
                                                                      capsys):
    s = blob_store(n=100)
    real = col._save_column
    writes = []

    def written_first(store, *args):  # another command writes the store before each save
        writes.append(1)
        _add_other_column(s.path, f"other{len(writes)}")
        return real(store, *args)

    monkeypatch.setattr(col, "_save_column", written_first)
    with pytest.raises(UserError, match=r"finished vectors are kept in .*run the same command "
                                        "again to continue from them") as info:
        col.embed_store(s, PixelsPCA(CFG), "z", batch_size=16, progress=False)
    assert "\n" not in str(info.value)
    assert len(writes) == col.SAVE_TRIES
    progress = json.loads((col.scratch_dir(s.path, "z") / col.PROGRESS_FILE).read_text())
    assert progress["done"] == 100
    monkeypatch.setattr(col, "_save_column", real)
    capsys.readouterr()
    rerun = _Counting(CFG)
    out = col.embed_store(s.path, rerun, "z", batch_size=16, progress=False)
    assert rerun.rows_seen == 0  # nothing embedded again
    assert "all 100 rows were finished by an earlier run" in capsys.readouterr().err
    assert {"z", *(f"other{i}" for i in range(1, col.SAVE_TRIES + 1))} <= set(out.columns)
    assert not col.scratch_dir(s.path, "z").exists()


def test_the_cli_saves_an_embedding_another_command_overlapped(cli, blob_store, monkeypatch):
    s = blob_store(n=40)
    real = col._save_column
    once = []

    def written_first(store, *args):
        if not once:
            once.append(1)
            _add_other_column(s.path)
        return real(store, *args)

    monkeypatch.setattr(col, "_save_column", written_first)
    res = cli("embed", s.path, "--with", "pixels-pca", "--column", "z", "-o", "dim=4")
    assert res.code == 0, res.err
    assert {"z", "other"} <= set(st.load(s.path).columns)


_ADD_COLUMN = textwrap.dedent("""
    import sys
    import numpy as np
    from latentplay import store as st

    now = st.load(sys.argv[1])
    st.save(st.add_column(now, "other", np.ones((len(now), 2), np.float32), "x"), sys.argv[1])
""")


def test_another_process_writing_during_the_embedding(blob_store, tmp_path):
    s = blob_store(n=48)
    script = tmp_path / "add_column.py"
    script.write_text(_ADD_COLUMN)

    def other_process():
        subprocess.run([sys.executable, str(script), str(s.path)], check=True)

    out = col.embed_store(s, _Counting(CFG, at_last=other_process), "z", batch_size=16,
                          progress=False)
    assert {"z", "other"} <= set(out.columns) and {"z", "other"} <= set(st.load(s.path).columns)
