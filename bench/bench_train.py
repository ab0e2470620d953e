"""Training throughput: the latentplay engine vs a plain PyTorch loop of the same model and batch.

Prints one JSON object per line: one per case (images/s over the timed steps: each case runs
``2 * steps`` steps and is timed over the last ``steps``, so that first-step costs such as
``torch.compile``'s compilation are left out alike) and a ratio line.
CPU (default): Burgess beta-VAE, 64x64 shapes, batch 64; the engine as users run it
(``metrics.csv`` row every step, NaN check every step) against a bare loop over the same
uint8 tensor. With ``--device cuda`` it adds the optimised engine (bf16 autocast,
channels_last, torch.compile, fused Adam, logging every 100 steps) at batch 256. With
``--epoch`` it then trains the optimised engine for one full epoch of the 737,280-image shapes
grid and prints its ``epoch_seconds`` (the training steps' wall time, ``torch.compile``'s
first step included) and images/s (``bench: train_epoch``).

    python bench/bench_train.py [--steps 40] [--batch 0] [--repeats 3] [--threads 0] [--device cpu|cuda]
        [--epoch]                     (--batch 0: 64 on CPU, 256 on CUDA)
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from latentplay import sources, train
from latentplay.models import build_model, family_config
from latentplay.models.losses import kl_per_dim
from latentplay.store import load, load_images
from latentplay.train.csvlog import read_table


def plain_loop(images: torch.Tensor, steps: int, batch: int, device: str, seed: int = 0) -> float:
    """images/s of a bare eager loop (index, scale, forward, recon + 4 KL, backward, Adam) over
    its steps after the first ``steps``, which warm it up as the engine's are left out."""
    torch.manual_seed(seed)
    model = build_model("vae", family_config("vae")(), 1, 64).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=5e-4, fused=device == "cuda")
    data = images.to(device)
    rng = np.random.default_rng(seed)
    order = torch.from_numpy(rng.permutation(len(data))[: 2 * steps * batch].reshape(2 * steps, batch))
    order = order.to(device)
    for k in range(2 * steps):
        if k == steps:  # the first steps done: time the rest
            if device == "cuda":
                torch.cuda.synchronize()
            start = time.perf_counter()
        x = data[order[k]].float().div_(255.0)
        out = model(x)
        loss = out.recon.mean() + 4.0 * kl_per_dim(out.mu, out.logvar).sum()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    if device == "cuda":
        torch.cuda.synchronize()
    return steps * batch / (time.perf_counter() - start)


def engine(store: Path, out: Path, steps: int, batch: int, device: str,
           extra: list[str]) -> float:
    """images/s of ``latentplay train betavae`` over its steps after the first ``steps``: the
    difference of the training time (``epoch_seconds``) of a run of ``2 * steps`` steps and
    one of ``steps``, which leaves out ``torch.compile``'s compilation and first steps."""
    seconds = []
    for n in (steps, 2 * steps):
        run = train.train("betavae", store, out / str(n), epochs=1, max_steps=n, batch_size=batch,
                          device=device, progress=False,
                          overrides=["data.test_fraction=0", "log.latents_max=1", *extra])
        epoch = [r for r in read_table(run / "metrics.csv") if r["scope"] == "epoch"][-1]
        seconds.append(float(epoch["epoch_seconds"]))
    return steps * batch / max(seconds[1] - seconds[0], 1e-9)


OPTIMISED = ["trainer.precision=bf16-mixed", "trainer.compile=true", "trainer.channels_last=true",
             "trainer.log_every=100", "trainer.nan_check_every=100"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--batch", type=int, default=0, help="0: 64 on CPU, 256 on CUDA")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--epoch", action="store_true", help="Then one full epoch of the shapes grid.")
    args = parser.parse_args()
    batch = args.batch or (256 if args.device == "cuda" else 64)
    if args.threads:
        torch.set_num_threads(args.threads)
    threads = torch.get_num_threads()
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "shapes"
        sources.make("shapes", store, n=max(2 * args.steps * batch, 2048), seed=0)
        images = torch.from_numpy(load_images(load(store))).permute(0, 3, 1, 2).contiguous()
        cases: dict[str, list[str]] = {"engine": [f"trainer.threads={threads}"]}
        if args.device == "cuda":
            cases["engine_optimised"] = OPTIMISED
        results: dict[str, list[float]] = {name: [] for name in [*cases, "plain"]}
        for rep in range(args.repeats):  # interleaved, so machine load hits every case alike
            for name, extra in cases.items():
                out = Path(tmp) / f"{name}-{rep}"
                results[name].append(engine(store, out, args.steps, batch, args.device, extra))
            results["plain"].append(plain_loop(images, args.steps, batch, args.device))
    common = {"bench": "train", "model": "betavae (Burgess 64x64)", "batch": batch,
              "steps": args.steps, "device": args.device, "threads": threads,
              "gpu": torch.cuda.get_device_name() if args.device == "cuda" else None}
    for name, values in results.items():
        print(json.dumps({**common, "case": name, "images_per_s": round(statistics.median(values), 1),
                          "runs": [round(v, 1) for v in values]}))
    plain = statistics.median(results["plain"])
    for name in cases:
        ratio = statistics.median(results[name]) / plain
        print(json.dumps({**common, "case": f"{name}/plain", "ratio": round(ratio, 3)}), flush=True)
    if args.epoch:
        full_epoch(batch, args.device, OPTIMISED if args.device == "cuda" else cases["engine"], common)


def full_epoch(batch: int, device: str, extra: list[str], common: dict[str, object]) -> None:
    """One epoch of the whole 737,280-image shapes grid by the engine: its wall time."""
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        shapes = sources.make("shapes", Path(tmp) / "shapes", overrides=["full=true"])
        made, store, rows = time.perf_counter() - start, Path(shapes.path), len(shapes)
        run = train.train("betavae", store, Path(tmp) / "epoch", epochs=1, batch_size=batch, device=device,
                          progress=False, overrides=["data.test_fraction=0", "log.latents_max=1", *extra])
        epoch = [r for r in read_table(run / "metrics.csv") if r["scope"] == "epoch"][-1]
    print(json.dumps({**common, "bench": "train_epoch", "case": "engine_optimised" if device == "cuda"
                      else "engine", "images": rows,
                      "epoch_seconds": round(float(epoch["epoch_seconds"]), 2),
                      "images_per_s": round(float(epoch["images_per_s"]), 1),
                      "store_seconds": round(made, 1)}), flush=True)


if __name__ == "__main__":
    main()
