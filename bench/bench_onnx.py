"""Speed of the ``onnx:PATH`` embedder: a ResNet-18 face network at 112 x 112 (ArcFace's input).

The network is ResNet-18's layout (random weights: speed does not depend on them) exported to
ONNX here. One JSON line per pipeline, measured side by side in this one run:

* ``torch``: the same network in PyTorch eager mode on the same crops (the reference);
* ``onnx``: ``onnx:PATH`` with ``align=none`` on aligned 112 x 112 crops;
* ``onnx_flip``: the same with ``flip=true`` (two passes per face);
* ``onnx_torch_engine``: ``onnx`` with ``engine=torch`` (the file run by PyTorch, as on a GPU
  with ``device=cuda``);
* ``onnx_arcface``: the default pipeline on 256 x 256 photos: HOG detection, 68 landmarks,
  five-point warp, network.

    python bench/bench_onnx.py [--images 64]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from bench_dlib import faces as photos  # crops around the astronaut's face, shifted

from latentplay.embed.base import make_embedder


def block(cin: int, cout: int, stride: int) -> torch.nn.Module:
    """ResNet's basic block: two 3x3 convolutions and a shortcut."""

    class Basic(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.body = torch.nn.Sequential(
                torch.nn.Conv2d(cin, cout, 3, stride, 1, bias=False), torch.nn.BatchNorm2d(cout),
                torch.nn.ReLU(), torch.nn.Conv2d(cout, cout, 3, 1, 1, bias=False),
                torch.nn.BatchNorm2d(cout))
            self.short = (torch.nn.Identity() if stride == 1 and cin == cout else
                          torch.nn.Sequential(torch.nn.Conv2d(cin, cout, 1, stride, bias=False),
                                              torch.nn.BatchNorm2d(cout)))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.relu(self.body(x) + self.short(x))

    return Basic()


def resnet18(dim: int = 512) -> torch.nn.Module:
    """ResNet-18 (64-128-256-512 channels, two blocks each) with a ``dim``-d linear head."""
    layers: list[torch.nn.Module] = [
        torch.nn.Conv2d(3, 64, 3, 1, 1, bias=False), torch.nn.BatchNorm2d(64), torch.nn.ReLU()]
    cin = 64
    for cout, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
        layers += [block(cin, cout, stride), block(cout, cout, 1)]
        cin = cout
    layers += [torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(512, dim)]
    return torch.nn.Sequential(*layers).eval()


def timed(fn, n: int) -> dict[str, float]:
    fn()  # warm up outside the timing
    start_wall, start_cpu = time.perf_counter(), time.process_time()
    fn()
    wall, cpu = time.perf_counter() - start_wall, time.process_time() - start_cpu
    return {"images_per_s": round(n / wall, 1), "cpu_s_per_image": round(cpu / n, 4)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=64)
    args = parser.parse_args()
    net = resnet18()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "resnet18.onnx"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(net, (torch.zeros(2, 3, 112, 112),), str(path), dynamo=False,
                              input_names=["data"], dynamic_axes={"data": {0: "n"}})
        crops = photos(args.images, 112)
        faces = photos(args.images, 256)
        x = torch.from_numpy((crops.astype(np.float32) - 127.5) / 127.5).permute(0, 3, 1, 2)

        def run_torch() -> None:
            with torch.no_grad():
                for start in range(0, len(x), 32):
                    net(x[start:start + 32])

        plain = make_embedder(f"onnx:{path}", ["align=none"])
        engine = make_embedder(f"onnx:{path}", ["align=none", "engine=torch"])
        flip = make_embedder(f"onnx:{path}", ["align=none", "flip=true"])
        arcface = make_embedder(f"onnx:{path}")
        pipelines = {
            "torch": run_torch,
            "onnx": lambda: [plain.embed(crops[s:s + 32]) for s in range(0, len(crops), 32)],
            "onnx_flip": lambda: [flip.embed(crops[s:s + 32]) for s in range(0, len(crops), 32)],
            "onnx_torch_engine": lambda: [engine.embed(crops[s:s + 32]) for s in range(0, len(crops), 32)],
            "onnx_arcface": lambda: [arcface.embed(faces[s:s + 32])
                                     for s in range(0, len(faces), 32)],
        }
        for name, fn in pipelines.items():
            print(json.dumps({"bench": "onnx_embed", "network": "resnet18-112", "pipeline": name,
                              "images": args.images, **timed(fn, args.images),
                              "threads": torch.get_num_threads(),
                              "load_avg": round(os.getloadavg()[0], 1)}), flush=True)


if __name__ == "__main__":
    main()
