"""Traversal GIF frames: how long drawing an animated image grid takes.

A traversal's animation (``latentplay latent traverse --gif``, a concept model's
``traverse.gif``) draws one image grid per step. :func:`latentplay.viz.grid.grid_frames` lays
the grid out once and redraws it with each frame's images and label; the baseline draws a new
figure per frame (:func:`~latentplay.viz.grid.image_grid` then
:func:`~latentplay.viz.grid.figure_array`). Prints one JSON line: frames per second of each,
side by side in alternating repeats, and their ratio (the median over repeats).

    python bench/bench_gif.py [--axes 16] [--steps 9] [--side 64] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from latentplay.viz.grid import figure_array, grid_frames, image_grid
from latentplay.viz.latent import FRAME_DPI


def _frames(axes: int, steps: int, side: int) -> tuple[list[list[np.ndarray]], list[list[str]]]:
    """Rows of a traversal of ``axes`` axes at ``steps`` steps there and back, ten to a row:
    frame ``f``'s rows ``(k, side, side, 3)`` uint8 and row labels."""
    rng = np.random.default_rng(0)
    rows = rng.integers(0, 256, (axes, steps, side, side, 3), dtype=np.uint8)
    values = np.linspace(-2, 2, steps)
    order = list(range(steps)) + list(range(steps - 2, 0, -1))
    parts = [slice(a, a + 10) for a in range(0, axes, 10)]
    frames = [[rows[part, v] for part in parts] for v in order]
    labels = [[f"step\n{values[v]:+.3g}" if i == 0 else "" for i in range(len(parts))] for v in order]
    return frames, labels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--axes", type=int, default=16)
    parser.add_argument("--steps", type=int, default=9)
    parser.add_argument("--side", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    frames, labels = _frames(args.axes, args.steps, args.side)
    captions = [[f"z{a}" for a in range(start, min(start + 10, args.axes))]
                for start in range(0, args.axes, 10)]
    once, each = [], []
    for _ in range(args.repeats):   # alternating: both see the same load
        start = time.perf_counter()
        grid_frames(frames, labels, captions=captions, title="traversal", dpi=FRAME_DPI)
        once.append(time.perf_counter() - start)
        start = time.perf_counter()
        for rows, row_labels in zip(frames, labels, strict=True):
            figure_array(image_grid(rows, row_labels, captions=captions, title="traversal"),
                         dpi=FRAME_DPI)
        each.append(time.perf_counter() - start)
    n = len(frames)
    ratios = np.array(each) / np.array(once)
    print(json.dumps({"bench": "gif_frames", "axes": args.axes, "frames": n,
                      "laid_out_once_frames_per_s": round(n / float(np.median(once)), 2),
                      "figure_per_frame_frames_per_s": round(n / float(np.median(each)), 2),
                      "speedup": round(float(np.median(ratios)), 2)}))


if __name__ == "__main__":
    main()
