"""Store write and read throughput (MB/s): a 128-d vector column and the image column."""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from latentplay import sources
from latentplay import store as st


def _mb_dir(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6


def main(rows: int = 20000, dim: int = 128) -> None:
    tmp = Path(tempfile.mkdtemp())
    try:
        base = sources.make("shapes", tmp / "s", n=rows)
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
        start = time.perf_counter()
        images = st.load_images(saved)
        decode_s = time.perf_counter() - start
        print(
            json.dumps(
                {
                    "bench": "store_image_decode",
                    "rows": rows,
                    "seconds": round(decode_s, 3),
                    "images_per_s": round(rows / decode_s, 1),
                    "decoded_mb_per_s": round(images.nbytes / 1e6 / decode_s, 1),
                }
            )
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
