"""Memory of the commands that rewrite a store: the image column stays memory-mapped.

``data split`` (``bin``, ``combine``, ``regroup`` alike), ``order``, ``subset`` and ``concat`` copy
every image into the new store; the copy must stream in ``datasets``' write batches, never
hold the whole image column in Arrow buffers or Python objects (FairFace's 97k photos would
take gigabytes). The peaks are measured in a fresh interpreter, whose Arrow pool peak starts
at zero.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tracemalloc
from pathlib import Path

import datasets
import numpy as np
import pyarrow as pa
import pytest
from datasets.table import InMemoryTable

from latentplay import store as st
from latentplay.errors import UserError
from latentplay.store import Attribute, Provenance, Schema, io

ROWS = 6000
SIDE = 52  # a 52 x 52 noise PNG: about 8 kB that PNG cannot compress

_OPS = r"""
import json, sys, tracemalloc
from pathlib import Path
import pyarrow as pa
import pytest
from latentplay import store as st
from latentplay.store.split import split_store
from latentplay.store.subset import select_rows, subset

path, out = Path(sys.argv[1]), Path(sys.argv[2])
ops = {  # bin, combine and regroup add an attribute and save as split does
    "split": lambda: split_store(path, 0.2),
    "order": lambda: st.order_classes(path, "gender", ["male", "female"]),
    "subset": lambda: subset(st.load(path), out / "sub",
                             select_rows(st.load(path), where={"gender": ["female"]})),
    "concat": lambda: st.concat_stores([path, out / "sub"], out / "cat"),
}
peaks = {}
tracemalloc.start()
for name, op in ops.items():
    tracemalloc.reset_peak()
    op()
    # the Arrow pool's peak only grows: an op that raised it shows in its own entry
    peaks[name] = {"arrow": pa.default_memory_pool().max_memory(),
                   "python": tracemalloc.get_traced_memory()[1]}
print(json.dumps(peaks))
"""


def _store_with_big_images(path: Path) -> tuple[st.Store, int]:
    """A ``ROWS``-row store whose image cells are incompressible PNGs; and their total bytes."""
    rng = np.random.default_rng(0)
    png = st.encode_png(rng.integers(0, 256, (SIDE, SIDE, 3), dtype=np.uint8))["bytes"]
    schema = Schema(
        attributes=[Attribute("gender", "categorical", names=["female", "male"]),
                    Attribute("tone", "categorical", names=["t0", "t1", "t2"]),
                    Attribute("smile", "continuous", range=(-1, 1))],
        provenance=Provenance(source="unit", converter="unit"))
    images = pa.StructArray.from_arrays([pa.array([png] * ROWS, pa.binary()),
                                         pa.nulls(ROWS, pa.string())], ["bytes", "path"])
    table = pa.table({"image": images, "gender": rng.integers(0, 2, ROWS),
                      "tone": rng.integers(0, 3, ROWS),
                      "smile": rng.uniform(-1, 1, ROWS).astype(np.float32)})
    dataset = datasets.Dataset(InMemoryTable(table),
                               info=datasets.DatasetInfo(features=st.features_for(schema)))
    return st.save(st.Store(dataset, schema), path), ROWS * len(png or b"")


def test_rewriting_a_store_streams_the_image_column(tmp_path: Path) -> None:
    store, image_bytes = _store_with_big_images(tmp_path / "s")
    done = subprocess.run([sys.executable, "-c", _OPS, str(store.path), str(tmp_path)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    peaks = json.loads(done.stdout.strip().splitlines()[-1])
    # the outputs hold every image: the ops did copy them
    assert len(st.load(tmp_path / "cat")) == ROWS + len(st.load(tmp_path / "sub"))
    assert "split" in st.load(store.path).columns
    # datasets writes 1,000 rows a batch (a sixth of the images), holding a batch or two at a
    # time (a third of the images); the whole column, copied once, would be all of them
    bound = 0.7 * image_bytes
    held = {op: p for op, p in peaks.items() if max(p.values()) > bound}
    assert not held, f"peak bytes above {bound:.0f} (images {image_bytes}): {held}"


def _batch_rows(store: st.Store) -> list[int]:
    (shard,) = sorted(store.path.glob("*.arrow"))
    with pa.memory_map(str(shard)) as source:
        return [len(b) for b in pa.ipc.open_stream(source)]


def test_small_rows_are_written_in_batches_of_megabytes(tmp_path: Path) -> None:
    """``datasets`` reads every class name again for each batch it writes: 5,000 rows of two
    int64 labels (80 kB, far below :data:`~latentplay.store.io.WRITE_BATCH_BYTES`) go in one
    batch, not five of 1,000 rows, and read back unchanged; a selection of them, whose rows
    ``datasets`` gathers one by one, in batches of
    :data:`~latentplay.store.io.SELECTION_BATCH_ROWS` (4,000)."""
    schema = Schema(attributes=[Attribute("identity", "categorical",
                                          names=[f"p{i}" for i in range(1000)]),
                                Attribute("gender", "categorical", names=["female", "male"])],
                    image_column=None, provenance=Provenance(source="unit", converter="unit"))
    identity, gender = np.arange(5000) % 1000, np.arange(5000) // 7 % 2
    store = st.build([{"identity": identity, "gender": gender}], schema, tmp_path / "s")
    assert _batch_rows(store) == [5000]
    assert np.array_equal(store.labels("identity"), identity)
    assert np.array_equal(store.labels("gender"), gender)
    backwards = st.save(store.select(np.arange(5000)[::-1]), tmp_path / "backwards")
    assert _batch_rows(backwards) == [4000, 1000]
    assert np.array_equal(backwards.labels("identity"), identity[::-1])
    assert datasets.config.DEFAULT_MAX_BATCH_SIZE == 1000   # datasets' own, once saved


def test_saves_in_two_threads_each_write_their_own_batches_and_leave_datasets_own(overlap) -> None:
    """``datasets``' batch size is the whole process's: a save of a selection (batches of at
    most 4,000 rows) that starts while another thread saves 8-byte rows (8 MB / 8 B = 1,048,576
    rows a batch) writes in its own batches, and once both are done the setting is datasets'
    own again (at once, the selection took the other's million rows, and it was left in place)."""
    rows = datasets.Dataset.from_dict({"x": np.arange(10, dtype=np.int64)})
    seen = []

    def first() -> None:
        with io._write_batches(rows):
            overlap.inside()

    def second() -> None:
        with io._write_batches(rows.select([3, 1, 2])):
            overlap.inside()
            seen.append(datasets.config.DEFAULT_MAX_BATCH_SIZE)

    before = datasets.config.DEFAULT_MAX_BATCH_SIZE
    overlap.run(first, second)
    assert before == 1000
    assert seen == [4000]
    assert datasets.config.DEFAULT_MAX_BATCH_SIZE == before


def _noise_store(path: Path, rows: int, side: int) -> tuple[st.Store, np.ndarray]:
    """A store of ``rows`` incompressible ``(side, side, 3)`` PNGs; and the ``(rows, side,
    side, 3)`` uint8 pixels they encode (PNG is lossless)."""
    pixels = np.random.default_rng(1).integers(0, 256, (rows, side, side, 3), dtype=np.uint8)
    schema = Schema(attributes=[Attribute("gender", "categorical", names=["female", "male"])],
                    provenance=Provenance(source="unit", converter="unit"))
    batch = {"image": [st.encode_png(p) for p in pixels], "gender": np.arange(rows) % 2}
    return st.build([batch], schema, path), pixels


def test_images_read_a_chunk_of_rows_at_a_time_come_back_in_the_rows_order(
        tmp_path: Path, monkeypatch) -> None:
    """Rows in any order, repeated, or as a mask, across several chunks of encoded cells."""
    from latentplay.store import images as store_images

    store, pixels = _noise_store(tmp_path / "s", 11, 5)
    monkeypatch.setattr(store_images, "READ_CHUNK", 3)
    rows = [10, 0, 4, 4, 7, 3, 9, 1]
    assert np.array_equal(st.load_images(store, rows), pixels[rows])
    assert np.array_equal(st.load_images(store), pixels)
    mask = np.arange(11) % 3 == 1
    assert np.array_equal(st.load_images(store, mask), pixels[mask])
    listed = store_images.load_image_list(store, rows)
    assert len(listed) == len(rows)
    assert all(np.array_equal(a, pixels[r]) for a, r in zip(listed, rows, strict=True))


def test_images_that_differ_past_the_first_chunk_name_every_difference(
        tmp_path: Path, monkeypatch) -> None:
    """Decoding stops holding images at the first that differs, yet the error names the sizes
    and channels of all of them."""
    from latentplay.store import images as store_images

    monkeypatch.setattr(store_images, "READ_CHUNK", 3)
    rgb, grey = np.zeros((8, 8, 3), np.uint8), np.zeros((8, 8), np.uint8)
    wide = np.zeros((8, 12, 3), np.uint8)
    schema = Schema(attributes=[Attribute("gender", "categorical", names=["female", "male"])],
                    provenance=Provenance(source="unit", converter="unit"))
    cells = [st.encode_png(im) for im in [rgb] * 5 + [grey, rgb, wide]]
    store = st.build([{"image": cells, "gender": np.arange(8) % 2}], schema, tmp_path / "s")
    with pytest.raises(UserError, match=r"differ in size \(8x8, 12x8; give a size to resize them, or "
                                        r"make a store of one size: latentplay data convert \.\.\. "
                                        r"--resize N\) and in channels \(1, 3; give a mode"):
        st.load_images(store)


def test_loading_every_image_holds_them_once(tmp_path: Path) -> None:
    """The decoded images go straight into one array, and the encoded cells are read a chunk
    at a time: a list of the images beside its stacked copy, with every cell's bytes as Python
    objects, took more than twice the images' size (5,000 of 32 x 32: 15 MB held 33 MB)."""
    rows, side = 5000, 32
    store, pixels = _noise_store(tmp_path / "s", rows, side)
    decoded = rows * side * side * 3
    tracemalloc.start()
    try:
        images = st.load_images(store)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert np.array_equal(images, pixels)
    assert peak < 1.5 * decoded, f"peak {peak} bytes for {decoded} bytes of images"
