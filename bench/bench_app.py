"""The playground's costs: how long each control of ``latentplay app`` takes to answer.

Builds a store of synthfaces, a CVAE (conditioned on smile and gender, with the encoder means
as column ``vae_mu``) and a DCGAN trained for one epoch on it, opens a page state on each as
``latentplay app`` does, and times what the tabs call: samples, a traversal, a slider move, a
direction fitted on the run's own codes, a PCA map (first time and recoloured), a t-SNE map, a
face's edit; for the DCGAN, a new face's inversion against the Faces tab's own estimate of it
(timed when the page is built). Prints one JSON line per case (seconds, the median of
``--repeats`` runs after a first untimed one where the cost is paid once per page, marked
``first``). The weights' training does not change these costs.

    python bench/bench_app.py [--rows 300] [--size 32] [--threads 1] [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from latentplay import sources, store, train
from latentplay.app import faces, generate, projection
from latentplay.app.state import Playground
from latentplay.latent.codes import encode_rows

_TINY = ["model.width=16", "model.hidden=64", "log.recon_images=8", "log.samples=16",
         "log.figures_every=100"]


def _timed(call: Callable[[], Any], repeats: int) -> float:
    """Median seconds of ``repeats`` calls of ``call`` after an untimed first one."""
    call()
    took = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        took.append(time.perf_counter() - start)
    return statistics.median(took)


def _once(call: Callable[[], Any]) -> float:
    """Seconds of one call of ``call`` (a cost the page pays once and then caches)."""
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def _line(case: str, seconds: float, **extra: Any) -> None:
    print(json.dumps({"bench": "app", "case": case, "seconds": float(f"{seconds:.3g}"), **extra}),
          flush=True)


def _runs(folder: Path, rows: int, size: int, threads: int) -> tuple[Path, Path, Path]:
    """The store (with column ``vae_mu``), the CVAE run and the DCGAN run."""
    data = folder / "faces"
    sources.make("synthfaces", data, n=rows, seed=0)
    common = [f"data.size={size}", f"trainer.threads={threads}"]
    cvae = train.train("cvae", data=data, out=folder / "cvae", epochs=1, batch_size=32, seed=0,
                       progress=False, overrides=[*common, *_TINY, "model.latent_dim=8",
                                                  "model.condition=[smile,gender]"])
    dcgan = train.train("dcgan", data=data, out=folder / "dcgan", epochs=1, seed=0, progress=False,
                        overrides=[*common, "model.latent_dim=16", "model.ngf=16", "model.ndf=16",
                                   "log.samples=16"])
    loaded = store.load(data)
    mu = encode_rows(train.load_model(cvae), loaded, np.arange(len(loaded)))  # own conditions
    coded = folder / "coded"
    store.save(store.add_column(loaded, "vae_mu", mu, "CVAE encoder means"), coded)
    return coded, cvae, dcgan


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=300)
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        data, cvae, dcgan = _runs(Path(tmp), args.rows, args.size, args.threads)
        pg = Playground.open(cvae, data)
        cond = {"smile": 0.5, "gender": "female"}
        _line("sample_16", _timed(lambda: generate.sample(pg, 16, 0, cond), args.repeats))
        _line("traverse_9", _timed(lambda: generate.traverse(pg, 0, 3.0, 9, "latent", cond),
                                   args.repeats))
        _line("slider_move", _timed(lambda: generate.decode_sliders(pg, [0, 1], [1.0, -0.5], cond),
                                    args.repeats))
        _line("direction_run_codes", _once(lambda: faces.fit(pg, faces.RUN_CODES, "gender")),
              first=True, rows=args.rows)
        direction = faces.fit(pg, faces.RUN_CODES, "gender")
        _line("edit", _timed(lambda: faces.edit(pg, 1, direction, 2.0, "pattern"), args.repeats))
        _line("pca_map", _once(lambda: projection.figure(pg, "vae_mu", "pca", "gender")), first=True)
        _line("pca_recolour", _timed(lambda: projection.figure(pg, "vae_mu", "pca", "skin_tone"),
                                     args.repeats))
        _line("tsne_map", _once(lambda: projection.figure(pg, "vae_mu", "tsne", "gender")), first=True,
              rows=args.rows)

        gen = Playground.open(dcgan, data)
        built = time.perf_counter()
        estimate = faces.inversion_seconds(gen)
        probe = time.perf_counter() - built
        took = np.median([_once(lambda r=r: gen.codes([r])) for r in range(2, 2 + args.repeats)])
        _line("dcgan_face_inversion", float(took), estimate=float(f"{estimate:.3g}"),
              estimate_over_measured=round(estimate / float(took), 2), probe_seconds=float(f"{probe:.3g}"),
              steps=gen.invert_steps)


if __name__ == "__main__":
    main()
