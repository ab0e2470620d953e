"""Store write and read throughput (MB/s): a 128-d vector column and the image column; and
the memory of rewriting a store in place (``data split``): the process's Arrow and Python
peaks (making the store included), which stay at a write batch or two, however many images
the store holds; the Python peak of decoding every image (the images once, plus a chunk);
and the time to save, and to balance over its persons, a store of labels whose identity
names many persons."""

from __future__ import annotations

import json
import shutil
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pyarrow as pa

from latentplay import sources
from latentplay import store as st
from latentplay.store.split import split_store
from latentplay.store.subset import select_rows


def _mb_dir(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6


def main(rows: int = 20000, dim: int = 128) -> None:
    tmp = Path(tempfile.mkdtemp())
    try:
        tracemalloc.start()  # the peaks below include making the store
        base = sources.make("shapes", tmp / "s", n=rows)
        start = time.perf_counter()
        base = split_store(base, 0.2)
        split_s = time.perf_counter() - start
        print(
            json.dumps(
                {
                    "bench": "store_rewrite_memory",
                    "rows": rows,
                    "store_mb": round(_mb_dir(base.path), 1),
                    "seconds": round(split_s, 3),
                    # the process's peaks so far (making the store came first)
                    "arrow_peak_mb": round(pa.default_memory_pool().max_memory() / 1e6, 1),
                    "python_peak_mb": round(tracemalloc.get_traced_memory()[1] / 1e6, 1),
                }
            )
        )
        tracemalloc.stop()
        vectors = np.random.default_rng(0).normal(size=(rows, dim)).astype(np.float32)
        mb = vectors.nbytes / 1e6
        start = time.perf_counter()
        saved = st.save(st.add_column(base, "emb", vectors), base.path)
        write_s = time.perf_counter() - start
        start = time.perf_counter()
        back = st.vectors(st.load(saved.path), "emb")
        read_s = time.perf_counter() - start
        assert np.array_equal(back, vectors)
        print(
            json.dumps(
                {
                    "bench": "store_vector_write",
                    "rows": rows,
                    "dim": dim,
                    "store_mb": round(_mb_dir(saved.path), 1),
                    "seconds": round(write_s, 3),
                    "mb_per_s": round(_mb_dir(saved.path) / write_s, 1),
                }
            )
        )
        print(
            json.dumps(
                {
                    "bench": "store_vector_read",
                    "rows": rows,
                    "dim": dim,
                    "column_mb": round(mb, 1),
                    "seconds": round(read_s, 4),
                    "mb_per_s": round(mb / read_s, 1),
                }
            )
        )
        tracemalloc.start()  # decoding writes into one array, reading the cells a chunk at a time
        start = time.perf_counter()
        images = st.load_images(saved)
        decode_s = time.perf_counter() - start
        decode_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        print(
            json.dumps(
                {
                    "bench": "store_image_decode",
                    "rows": rows,
                    "seconds": round(decode_s, 3),
                    "images_per_s": round(rows / decode_s, 1),
                    "decoded_mb_per_s": round(images.nbytes / 1e6 / decode_s, 1),
                    # the images once, and a chunk of encoded cells (a list beside its stacked
                    # copy and every cell's bytes took over twice the images)
                    "decoded_mb": round(images.nbytes / 1e6, 1),
                    "python_peak_mb": round(decode_peak / 1e6, 1),
                }
            )
        )
        print(json.dumps(save_many_classes(tmp, rows * 4, rows * 4 // 5)))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def save_many_classes(tmp: Path, rows: int, persons: int) -> dict:
    """Saving a store of labels only whose ``identity`` names ``persons`` persons (``datasets``
    reads every class name again for each batch it writes, so the time grows with rows times
    persons where batches are few rows: 4 s for 80,000 rows of 16,000 persons in 1,000-row
    batches, 0.6 s in batches of 8 MB), and ``data subset --balance-by identity``'s choice of
    one row per person (a pass over every row per person took 1.6 s there, one sort 0.2 s)."""
    rng = np.random.default_rng(0)
    schema = st.Schema(attributes=[
        st.Attribute("identity", "categorical", names=[f"person_{i:06d}" for i in range(persons)]),
        st.Attribute("gender", "categorical", names=["female", "male"])], image_column=None,
        provenance=st.Provenance(source="bench", converter="bench"))
    base = st.build([{"identity": np.arange(rows) % persons, "gender": rng.integers(0, 2, rows)}],
                    schema, tmp / "classes")
    start = time.perf_counter()
    st.save(base, tmp / "classes_copy")
    save_s = time.perf_counter() - start
    start = time.perf_counter()
    chosen = select_rows(base, balance_by="identity", per_class=1)
    assert len(chosen) == persons
    return {"bench": "store_many_classes", "rows": rows, "persons": persons,
            "save_seconds": round(save_s, 3),
            "balance_seconds": round(time.perf_counter() - start, 3)}


if __name__ == "__main__":
    main()
