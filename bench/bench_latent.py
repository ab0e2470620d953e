"""Inversion throughput: how long projecting a store into a latent space takes.

``latentplay embed STORE --with invert:RUN`` optimises every image's code (Adam, ``steps``
steps, ``restarts`` codes per image for a generator). Prints one JSON line per model: code
updates per second (a code update = one Adam step of one code, forward and backward through
the decoder; timed as an inversion of ``steps`` steps less one of none, so the decodings of
the starts and of the codes found are left out), and the extrapolated time to invert 10,000
images with the defaults (300 steps; 4 restarts for a DCGAN and a StyleGAN, 1 encoder start
for a VAE), and for a StyleGAN2 (config F at ``--stylegan2-size``, as ``latentplay import
stylegan2`` makes it) and a StyleGAN3 (config T at ``--stylegan3-size``) also its decoded
images per second, how many codes it decodes at once and the process's peak resident memory
so far (run one StyleGAN per process for each one's own peak), on a GPU also the case's own
peak GPU memory. Untrained weights: the cost does not depend on them.

    python bench/bench_latent.py [--images 64] [--steps 20] [--device cpu|cuda] [--threads 0]
                                 [--stylegan2-size 256] [--stylegan2-images 1]
                                 [--stylegan3-size 0] [--stylegan3-images 1]
"""

from __future__ import annotations

import argparse
import json
import resource
import time

import numpy as np
import torch

from latentplay.latent.invert import invert
from latentplay.models import build_model, family_config
from latentplay.models.condition import ConditionSpec
from latentplay.models.stylegan2 import STYLE_FAMILIES


def _synchronize(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def case(family: str, images: int, steps: int, restarts: int, device: str, size: int = 64) -> dict:
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    config = family_config(family)()
    style = family in STYLE_FAMILIES
    if style:
        config.resolution = size
    model = build_model(family, config, 3, size).to(device)
    model.condition_spec, model.crop = ConditionSpec(), 1.0
    x = np.random.default_rng(0).integers(0, 256, (images, size, size, 3), dtype=np.uint8)
    invert(model, x[:1], steps=1, restarts=1, device=device)  # warm-up
    took = []
    for n in (0, steps):  # an inversion of no steps: the start's and the end's decodings alone
        _synchronize(device)
        start = time.perf_counter()
        invert(model, x, steps=n, restarts=restarts, batch_size=images, device=device)
        _synchronize(device)
        took.append(time.perf_counter() - start)
    seconds = took[1]
    updates = images * restarts * steps / max(took[1] - took[0], 1e-9)
    result = {"bench": "latent_invert", "family": family, "device": device, "size": size,
              "latent_dim": int(model.latent_dim), "images": images, "restarts": restarts,
              "steps": steps, "seconds": round(seconds, 3), "code_updates_per_s": float(f"{updates:.3g}"),
              "minutes_for_10k_images_300_steps": round(10_000 * restarts * 300 / updates / 60, 1)}
    if style:
        codes = torch.randn(images * restarts, model.latent_dim, device=device)
        with torch.no_grad():
            start = time.perf_counter()
            model.decode(codes)
            _synchronize(device)
        result["decoded_images_per_s"] = float(f"{len(codes) / (time.perf_counter() - start):.3g}")
        result["max_batch"] = int(model.max_batch)  # codes decoded at once; a quarter inverted
        result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
        if device == "cuda":
            result["gpu_peak_mb"] = round(torch.cuda.max_memory_allocated() / 2**20)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=64)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    parser.add_argument("--stylegan2-size", type=int, default=256, help="0: no StyleGAN2 case")
    parser.add_argument("--stylegan2-images", type=int, default=1)
    parser.add_argument("--stylegan3-size", type=int, default=0, help="0: no StyleGAN3 case")
    parser.add_argument("--stylegan3-images", type=int, default=1)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    for family, restarts in (("dcgan", 4), ("vae", 1)):
        print(json.dumps(case(family, args.images, args.steps, restarts, args.device)), flush=True)
    steps = max(1, args.steps // 10)  # ~1 min on 2 CPU cores at 256 px
    for family, size, images in (("stylegan2", args.stylegan2_size, args.stylegan2_images),
                                 ("stylegan3", args.stylegan3_size, args.stylegan3_images)):
        if size:
            print(json.dumps(case(family, images, steps, 4, args.device, size)), flush=True)


if __name__ == "__main__":
    main()
