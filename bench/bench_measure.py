"""Measuring speed: images/s of each measure of ``latentplay data measure`` per image size.

Synthfaces resized to each size (64 px as made; 200 px like UTKFace's crops; 448 px like a
photo); quality needs no face, pose and skin detect one with dlib's HOG detector (upsampled
to about 400 px) and read its 68 landmarks. One JSON line per (size, measure, threads): one
thread, then the default of ``LATENTPLAY_FACE_THREADS`` (the cores), side by side.

    python bench/bench_measure.py [--n 100] [--sizes 64 200 448]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from latentplay import sources
from latentplay.embed.column import load_rows
from latentplay.embed.faces import face_threads
from latentplay.measure.run import MeasureConfig, Measurer
from latentplay.store import load


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 200, 448])
    args = parser.parse_args()
    os.environ.pop("LATENTPLAY_FACE_THREADS", None)
    thread_counts = sorted({1, face_threads()})
    with tempfile.TemporaryDirectory() as tmp:
        store = sources.make("synthfaces", Path(tmp) / "faces", n=args.n, seed=0)
        faces = load_rows(load(store.path), slice(0, args.n))
    for size in args.sizes:
        images = [np.asarray(Image.fromarray(f).resize((size, size), Image.Resampling.BICUBIC))
                  for f in faces]
        for what in (["quality"], ["pose"], ["skin"], ["quality", "pose", "skin", "expression"]):
            for threads in thread_counts:
                os.environ["LATENTPLAY_FACE_THREADS"] = str(threads)
                measurer = Measurer(MeasureConfig(what=what, fallback="whole"))
                measurer.embed_rows(images[:8])  # every thread loads its models before timing
                start = time.perf_counter()
                _, found = measurer.embed_rows(images)
                seconds = time.perf_counter() - start
                print(json.dumps({"bench": "measure", "size": size, "what": ",".join(what),
                                  "threads": threads, "images": len(images),
                                  "images_per_s": round(len(images) / seconds, 1),
                                  "faces_found": int(found.sum()) if what != ["quality"] else None}),
                      flush=True)


if __name__ == "__main__":
    main()
