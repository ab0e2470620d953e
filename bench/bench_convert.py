"""Benchmark: convert 20,000 generated JPEGs in UTKFace layout; images/s and peak memory.

``peak_rss_mib`` is the converting process's maximum resident set (it counts the pages of the
memory-mapped Arrow files being written, which the kernel can drop at will);
``peak_anon_mib`` samples its anonymous memory only (heap, buffers); ``worker_peak_rss_mib`` is
the largest decoding worker. CPU milliseconds per image (converting process, workers) do not
depend on what else runs on the machine; ``load_average`` says how busy it was.

The images are synthfaces drawings upscaled to UTKFace's aligned 200x200 and saved as JPEG
(quality 90) under names ``[age]_[gender]_[race]_[datetime].jpg.chip.jpg``; 400 distinct faces
are repeated under different names. Each configuration is converted in a fresh process (so the
peak-memory figures are its own) and prints one JSON line::

    python bench/bench_convert.py [N]
"""

from __future__ import annotations

import io
import json
import multiprocessing
import os
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from PIL import Image

DISTINCT = 400


def make_utkface(root: Path, n: int) -> int:
    """Write ``n`` JPEGs in UTKFace's aligned layout under ``root``; returns total bytes."""
    from latentplay.config import resolve
    from latentplay.sources import synthfaces

    folder = root / "UTKFace"
    folder.mkdir(parents=True)
    config = resolve(synthfaces.CONFIG, [f"n={DISTINCT}", "seed=0"])
    images = np.concatenate([chunk for _, chunk in synthfaces.generate(config)])
    encoded = []
    for image in images:
        buf = io.BytesIO()
        Image.fromarray(image).resize((200, 200), Image.Resampling.BICUBIC).save(
            buf, format="JPEG", quality=90)
        encoded.append(buf.getvalue())
    rng = np.random.default_rng(0)
    total = 0
    for i in range(n):
        age, gender, race = rng.integers(1, 117), rng.integers(0, 2), rng.integers(0, 5)
        data = encoded[i % DISTINCT]
        (folder / f"{age}_{gender}_{race}_2017011{i:010d}.jpg.chip.jpg").write_bytes(data)
        total += len(data)
    return total


def _status_mib(field: str) -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _run(src: str, out: str, options: dict, queue: multiprocessing.Queue) -> None:
    from latentplay.sources.convert import convert

    peak_anon = [0.0]
    done = threading.Event()

    def sample() -> None:  # anonymous memory (heap), without memory-mapped file pages
        while not done.wait(0.05):
            peak_anon[0] = max(peak_anon[0], _status_mib("RssAnon"))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu0 = usage.ru_utime + usage.ru_stime
    start = time.perf_counter()
    store = convert("utkface", src, out, **options)
    seconds = time.perf_counter() - start
    done.set()
    sampler.join()
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    queue.put({"rows": len(store), "seconds": seconds, "peak_rss_mib": own.ru_maxrss / 1024,
               "peak_anon_mib": peak_anon[0], "worker_peak_rss_mib": kids.ru_maxrss / 1024,
               "cpu_main": own.ru_utime + own.ru_stime - cpu0,
               "cpu_workers": kids.ru_utime + kids.ru_stime})


def main(n: int = 20000) -> None:
    ctx = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory(prefix="bench_convert_") as tmp:
        src = Path(tmp) / "src"
        t0 = time.perf_counter()
        size = make_utkface(src, n)
        made = time.perf_counter() - t0
        configs = [
            {"workers": 2},
            {"workers": 1},
            {"workers": 2, "resize": 64},
        ]
        for k, options in enumerate(configs):
            queue = ctx.Queue()
            proc = ctx.Process(target=_run, args=(str(src), f"{tmp}/out{k}", options, queue))
            proc.start()
            result = queue.get()
            proc.join()
            print(json.dumps({
                "bench": "convert_utkface",
                "images": n,
                "input_mib": round(size / 2**20, 1),
                "options": options,
                "images_per_s": round(result["rows"] / result["seconds"], 1),
                "seconds": round(result["seconds"], 2),
                "peak_rss_mib": round(result["peak_rss_mib"], 1),
                "peak_anon_mib": round(result["peak_anon_mib"], 1),
                "worker_peak_rss_mib": round(result["worker_peak_rss_mib"], 1),
                "cpu_ms_per_image_main": round(1e3 * result["cpu_main"] / n, 3),
                "cpu_ms_per_image_workers": round(1e3 * result["cpu_workers"] / n, 3),
                "load_average": round(os.getloadavg()[0], 2),
                "fixture_seconds": round(made, 1),
            }), flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20000)
