"""Embedding a store into a vector column: shape, dtype, atomic write, resume, CLI errors."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time

import datasets
import numpy as np
import pytest

from latentplay import store as st
from latentplay.embed import column as col
from latentplay.embed.pixels import PixelsPCA, PixelsPCAConfig
from latentplay.errors import UserError


def test_pixels_pca_column_shape_dtype_and_plain_datasets(blob_store):
    s = blob_store(n=90)
    out = col.embed_store(s, "pixels-pca", "pix", options=["dim=12"], batch_size=32,
                          progress=False)
    z = st.vectors(out, "pix")
    assert z.shape == (90, 12) and z.dtype == np.float32
    assert np.isfinite(z).all() and z.std(axis=0).min() > 0
    plain = datasets.load_from_disk(str(s.path))  # no latentplay needed to read it
    assert plain.features["pix"] == datasets.List(datasets.Value("float32"), length=12)
    np.testing.assert_array_equal(np.asarray(plain["pix"], dtype=np.float32), z)
    assert out.schema.vector("pix").dim == 12
    assert len(col.flagged_rows(out, "pix")) == 0
    assert col.embed_entry(out, "pix")["detects_faces"] is False  # it never looks for faces
    assert col.embed_entry(out, "no_such_column") is None
    assert not col.scratch_dir(s.path, "pix").exists()  # scratch removed when complete


@pytest.mark.parametrize("fit_samples", [30, 500])   # some rows fitted, or all
def test_each_image_is_decoded_once_and_the_fitted_ones_embed_as_the_rest(
        blob_store, monkeypatch, fit_samples):
    """The fit sample's images were decoded twice: to fit, then again to embed."""
    s = blob_store(n=70)
    decodes = []
    decode = col.decode
    monkeypatch.setattr(col, "decode", lambda cell, row: decodes.append(row) or decode(cell, row))
    embedder = PixelsPCA(PixelsPCAConfig(dim=5, fit_samples=fit_samples))
    z = st.vectors(col.embed_store(s, embedder, "pix", batch_size=16, progress=False), "pix")
    assert sorted(decodes) == list(range(70))
    images = st.load_images(s, size=16, mode="RGB")
    np.testing.assert_allclose(z, embedder.embed(images), rtol=1e-5, atol=1e-6)
    fitted = PixelsPCA(embedder.config).fit(images[embedder.fit_rows(70)])
    assert fitted.state_digest() == embedder.state_digest()


def test_pixels_pca_separates_the_colour_classes(blob_store):
    s = col.embed_store(blob_store(n=150), "pixels-pca", "pix", options=["dim=4"],
                        progress=False)
    z, labels = st.vectors(s, "pix"), s.labels("color")
    centroids = np.stack([z[labels == k].mean(0) for k in range(3)])
    nearest = np.argmin(((z[:, None] - centroids[None]) ** 2).sum(-1), axis=1)
    assert (nearest == labels).mean() > 0.9


class _Interrupting(PixelsPCA):
    """pixels-pca that is interrupted (Ctrl-C) at its ``stop_at``-th batch."""

    stop_at = 3

    def __init__(self, config):
        super().__init__(config)
        self.calls = 0

    def embed_rows(self, images, rows=None):
        self.calls += 1
        if self.calls == self.stop_at:
            raise KeyboardInterrupt
        return super().embed_rows(images, rows)


class _Counting(PixelsPCA):
    def __init__(self, config):
        super().__init__(config)
        self.rows_seen = 0

    def embed_rows(self, images, rows=None):
        self.rows_seen += len(images)
        return super().embed_rows(images, rows)


def test_the_scratch_vectors_take_their_disk_space_when_made(blob_store):
    """The file of the vectors done so far was sparse: a disk that filled up while embedding
    killed the command with SIGBUS ("Bus error", exit status 135, no message) at the first
    write to a page it had no room for. Its blocks are now taken when it is made, where a full
    disk is an OSError (one error line)."""
    interrupting = _Interrupting(PixelsPCAConfig(dim=32, fit_samples=50))
    interrupting.stop_at = 2  # 16 rows written, into the file's first block of four
    s = blob_store(n=100)
    with pytest.raises(UserError, match="interrupted"):
        col.embed_store(s, interrupting, "z", batch_size=16, progress=False)
    partial = (col.scratch_dir(s.path, "z") / col.PARTIAL_FILE).stat()
    assert partial.st_size > 100 * 32 * 4 and partial.st_blocks * 512 >= partial.st_size


def test_interrupted_embed_resumes_to_the_same_column(blob_store, tmp_path):
    cfg = PixelsPCAConfig(dim=8, fit_samples=50)
    s = blob_store(n=100)
    reference = blob_store(n=100, name="reference")
    expected = st.vectors(col.embed_store(reference, PixelsPCA(cfg), "z", batch_size=16,
                                          progress=False), "z")
    with pytest.raises(UserError, match="interrupted after 32 of 100 rows"):
        col.embed_store(s, _Interrupting(cfg), "z", batch_size=16, progress=False)
    assert "z" not in st.load(s.path).columns  # the store is untouched
    progress = json.loads((col.scratch_dir(s.path, "z") / col.PROGRESS_FILE).read_text())
    assert progress["done"] == 32
    resumed = _Counting(cfg)
    out = col.embed_store(s, resumed, "z", batch_size=10, progress=False)  # other batch size
    assert resumed.rows_seen == 100 - 32
    z = st.vectors(out, "z")
    np.testing.assert_array_equal(z[:32], expected[:32])  # kept from the interrupted run
    # the rest was computed in batches of another size: equal up to BLAS summation order
    np.testing.assert_allclose(z, expected, rtol=1e-5, atol=1e-5)


class _Refusing(PixelsPCA):
    """pixels-pca whose first batch is refused (a DCGAN given as an encoder, say)."""

    def embed_rows(self, images, rows=None):
        raise UserError("no encoder")


def test_an_embed_refused_before_any_row_leaves_no_scratch_folder(blob_store):
    """``.store.embed-COL/`` with a partial of zeros stayed beside the store."""
    s = blob_store(n=20)
    with pytest.raises(UserError, match="no encoder"):
        col.embed_store(s, _Refusing(PixelsPCAConfig(dim=4, fit_samples=10)), "z", progress=False)
    assert not col.scratch_dir(s.path, "z").exists()


def test_partial_made_with_other_options_is_not_resumed(blob_store):
    s = blob_store(n=60)
    with pytest.raises(UserError, match="interrupted"):
        col.embed_store(s, _Interrupting(PixelsPCAConfig(dim=8)), "z", batch_size=16,
                        progress=False)
    other = _Counting(PixelsPCAConfig(dim=6))
    out = col.embed_store(s, other, "z", batch_size=16, progress=False)
    assert other.rows_seen == 60 and st.vectors(out, "z").shape == (60, 6)


_SLOW_EMBED = textwrap.dedent("""
    import sys, time
    from latentplay.embed.column import embed_store
    from latentplay.embed.pixels import PixelsPCA, PixelsPCAConfig

    class Slow(PixelsPCA):
        def embed_rows(self, images, rows=None):
            time.sleep(0.3)
            return super().embed_rows(images, rows)

    embed_store(sys.argv[1], Slow(PixelsPCAConfig(dim=8)), "z", batch_size=8, progress=False)
""")


def test_killed_embed_process_resumes_to_the_same_column(blob_store, tmp_path):
    s = blob_store(n=96)
    shutil.copytree(s.path, tmp_path / "copy")
    expected = st.vectors(col.embed_store(tmp_path / "copy", "pixels-pca", "z", batch_size=8,
                                          options=["dim=8"], progress=False), "z")
    script = tmp_path / "slow.py"
    script.write_text(_SLOW_EMBED)
    proc = subprocess.Popen([sys.executable, str(script), str(s.path)])
    progress = col.scratch_dir(s.path, "z") / col.PROGRESS_FILE
    deadline = time.monotonic() + 120
    done = 0
    while done < 24 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.1)
        if progress.exists():
            done = json.loads(progress.read_text())["done"]
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert 24 <= done < 96, f"the embedding process got to {done} rows before the kill"
    assert "z" not in st.load(s.path).columns
    resumed = _Counting(PixelsPCAConfig(dim=8))
    out = col.embed_store(s.path, resumed, "z", batch_size=8, progress=False)
    assert resumed.rows_seen <= 96 - 24
    np.testing.assert_array_equal(st.vectors(out, "z"), expected)


class _StartingAnother(PixelsPCA):
    """pixels-pca that, at its first batch, runs a second embed of the same column into the
    same store (``store_path``), as a second command started meanwhile would; ``second`` holds
    what that one said."""

    store_path = None

    def __init__(self, config):
        super().__init__(config)
        self.second = []

    def embed_rows(self, images, rows=None):
        if not self.second:
            try:
                col.embed_store(self.store_path, PixelsPCA(self.config), "z", progress=False)
                self.second.append("ran")
            except UserError as exc:
                self.second.append(str(exc))
        return super().embed_rows(images, rows)


def test_a_second_embed_of_the_column_is_refused_while_one_runs(blob_store, tmp_path):
    """Both would share the scratch folder: the second continued the first's files, which the
    first then removed under it (a traceback)."""
    s = blob_store(n=40)
    expected = st.vectors(col.embed_store(blob_store(n=40, name="reference"), "pixels-pca", "z",
                                          options=["dim=4"], batch_size=16, progress=False), "z")
    first = _StartingAnother(PixelsPCAConfig(dim=4))
    first.store_path = s.path
    out = col.embed_store(s, first, "z", batch_size=16, progress=False)
    assert first.second == [f"another embed of column 'z' is running on {s.path}; wait for it or stop it"]
    np.testing.assert_array_equal(st.vectors(out, "z"), expected)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blobs", "reference"]  # nor lock nor scratch
    again = col.embed_store(s, "pixels-pca", "z", options=["dim=4"], overwrite=True, progress=False)
    assert st.vectors(again, "z").shape == (40, 4)  # the lock went with the first


def test_existing_columns_and_bad_names(blob_store):
    s = col.embed_store(blob_store(n=40), "pixels-pca", "z", options=["dim=4"], progress=False)
    with pytest.raises(UserError, match=r"already exists \(that embedding finished; only an "
                                        r"interrupted one resumes\); pass --overwrite"):
        col.embed_store(s, "pixels-pca", "z", options=["dim=4"], progress=False)
    with pytest.raises(UserError, match="not a vector column"):
        col.embed_store(s, "pixels-pca", "color", progress=False)
    with pytest.raises(UserError, match="column name"):
        col.embed_store(s, "pixels-pca", "a b", progress=False)
    out = col.embed_store(s, "pixels-pca", "z", options=["dim=3"], overwrite=True,
                          progress=False)
    assert st.vectors(out, "z").shape == (40, 3)
    # the replaced column's history entry goes with it: one entry, the new embedding's
    entries = [h for h in out.schema.history if h.get("op") == "embed" and h.get("column") == "z"]
    assert len(entries) == 1 and entries[0]["config"]["dim"] == 3


def test_embed_cli(cli, blob_store, tmp_path):
    s = blob_store(n=40)
    r = cli("embed", s.path, "--with", "pixels-pca", "--column", "pix", "--batch-size", "16",
            "-o", "dim=5")
    assert r.code == 0, r.err
    assert "(40 x 5)" in r.out
    assert st.vectors(st.load(s.path), "pix").shape == (40, 5)
    for args, message in [
        ((tmp_path / "nowhere", "--with", "pixels-pca", "--column", "x"), "no store at"),
        ((s.path, "--with", "resnet", "--column", "x"), "unknown embedder 'resnet'"),
        ((s.path, "--with", "pixels-pca", "--column", "x", "-o", "dim=0"), "dim must be"),
        ((s.path, "--with", "pixels-pca", "--column", "x", "-o", "nope=1"), "bad config"),
        ((s.path, "--with", "pixels-pca", "--column", "x", "--batch-size", "0"),
         "--batch-size) must be at least 1, got 0"),
        ((s.path, "--with", "pixels-pca:3", "--column", "x"), "takes no ':' argument"),
    ]:
        r = cli("embed", *args)
        assert r.code == 2, (args, r.out, r.err)
        assert message in r.err and len(r.err.strip().splitlines()) == 1, r.err


def _load_rows_one_by_one(store, rows, size=None, mode=None):
    """The straightforward :func:`col.load_rows`: every cell at once, each image decoded, then
    stacked when all agree in shape."""
    from latentplay.store.images import decode, fitted_array

    cells = store.dataset.with_format("arrow", columns=["image"])[rows]["image"].to_pylist()
    out = []
    for cell in cells:
        img = decode(cell)
        img = img.convert(mode) if mode is not None and img.mode != mode else img
        out.append(fitted_array(img.convert("RGB") if img.mode not in ("L", "RGB") else img, size))
    return np.stack(out) if out and len({a.shape for a in out}) == 1 else out


@pytest.mark.parametrize("rows", [slice(None), slice(2, 9), slice(None, None, 2),
                                  slice(None, None, -1), slice(3, 3), np.array([7, 0, 5, 5, 1])])
def test_load_rows_in_chunks_gives_the_images_one_by_one(blob_store, monkeypatch, rows):
    monkeypatch.setattr(col, "READ_CHUNK", 3)  # several chunks, one of them partial
    same = blob_store(n=10)
    images = [np.full((6 + 2 * (k > 5), 6, 3), 20 * k, np.uint8) for k in range(10)]  # sizes change
    mixed = st.build([{"image": [st.encode_png(im) for im in images], "color": [0] * 10,
                       "brightness": [0.5] * 10, "constant": [0] * 10}], same.schema,
                     same.path.with_name("mixed"))
    for store, size, mode in ((same, None, None), (same, 8, "L"), (mixed, None, None)):
        got, want = col.load_rows(store, rows, size, mode), _load_rows_one_by_one(store, rows, size, mode)
        assert type(got) is type(want) and len(got) == len(want)
        for a, b in zip(got, want, strict=True):
            assert a.dtype == b.dtype == np.uint8
            np.testing.assert_array_equal(a, b)
    assert isinstance(col.load_rows(mixed, slice(None)), list)  # 6x6 and 8x6 images: a list


def test_load_rows_reads_an_rgba_image_as_rgb(blob_store):
    """Without a mode asked, images other than grey or RGB (a PNG with transparency) come as
    RGB: networks take 1 or 3 channels, not 4."""
    rgba = np.zeros((2, 6, 6, 4), np.uint8)
    rgba[..., :3], rgba[..., 3] = [10, 200, 30], 255
    images = col.load_rows(blob_store(images=rgba), slice(None))
    assert images.shape == (2, 6, 6, 3) and (images == [10, 200, 30]).all()


def test_a_corrupt_image_is_one_error_naming_its_row(cli, blob_store, tmp_path):
    """In a store of many thousand images, the broken one must be found from the message."""
    s = blob_store(n=12)
    cells = [st.encode_png(np.full((8, 8, 3), 9 * k, np.uint8)) for k in range(12)]
    cells[9] = {"bytes": cells[9]["bytes"][:30], "path": None}  # truncated
    broken = st.build([{"image": cells, "color": [0] * 12, "brightness": [0.5] * 12,
                        "constant": [0] * 12}], s.schema, tmp_path / "broken")
    with pytest.raises(UserError, match=r"^row 9 is not a readable image"):
        col.load_rows(broken, np.array([2, 9]))
    r = cli("embed", broken.path, "--with", "pixels-pca", "--column", "pix", "-o", "dim=2",
            "--batch-size", "4")
    assert r.code == 2 and "row 9 is not a readable image" in r.err, r.err
    assert len(r.err.strip().splitlines()) == 1, r.err


def test_the_history_records_the_state_the_vectors_came_from(blob_store):
    """Two columns from one embedder name and config but other weights (a retrained run, another
    file at the same path) are told apart by the recorded state digest."""
    stores = [col.embed_store(blob_store(n=40, seed=k, name=f"s{k}"), "pixels-pca", "a",
                              options=["dim=3"], progress=False) for k in range(2)]
    entries = [col.embed_entry(st.load(s.path), "a") for s in stores]
    assert entries[0]["config"] == entries[1]["config"]
    assert all(e["state"] for e in entries) and entries[0]["state"] != entries[1]["state"]


class _Faceless(PixelsPCA):
    """pixels-pca that finds no face in rows 3 and 5 and, when ``nan``, leaves them NaN."""

    nan = True

    def embed_rows(self, images, rows=None):
        vectors, found = super().embed_rows(images, rows)
        found &= ~np.isin(rows, [3, 5])
        if self.nan:
            vectors[~found] = np.nan
        return vectors, found


@pytest.mark.parametrize(("nan", "said"), [(True, "left as NaN"), (False, "embedded with the fallback")])
def test_embed_cli_says_what_rows_without_a_face_hold(cli, blob_store, monkeypatch, nan, said):
    """``-o fallback=nan`` leaves such rows NaN: they are not embedded with a fallback."""
    monkeypatch.setattr(_Faceless, "nan", nan)
    monkeypatch.setattr(col, "make_embedder",
                        lambda name, options: _Faceless(PixelsPCAConfig(dim=3)))
    s = blob_store(n=20)
    r = cli("embed", s.path, "--with", "pixels-pca", "--column", "face", "--batch-size", "4")
    assert r.code == 0, r.err
    assert f"2 rows had no detectable face ({said}; listed in the store's history): rows 3, 5" in r.out
    assert np.isnan(st.vectors(st.load(s.path), "face")[[3, 5]]).all() == nan
