"""dlib face embedding speed (images/s) for 64x64 and 256x256 face images.

Faces are crops of scikit-image's ``astronaut()`` (shifted, so no two are identical) resized to
each size. Two pipelines per size, one JSON line each:

* ``detect``: the ``dlib`` embedder's default: HOG detection (upsampled as the embedder does
  for small images), 5-point alignment, 128-d ResNet descriptor;
* ``crop``: ``detect=false`` (images are face crops already): alignment and descriptor only.

each on one thread and on the default ``LATENTPLAY_FACE_THREADS`` (the cores), side by side.
Then the descriptor network alone on the aligned chips (``bench: dlib_network``): dlib's
``compute_face_descriptor`` (one chip at a time, on one core) against the same network in
PyTorch (:mod:`latentplay.embed.dlib_resnet`, batches of 64), side by side, with the largest
difference between their descriptors.

    python bench/bench_dlib.py [--images 48] [--device cuda]   # the port on a GPU
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np
from PIL import Image
from skimage import data

from latentplay.embed.base import make_embedder
from latentplay.embed.dlib_resnet import describe_chips
from latentplay.embed.faces import FaceModels, face_threads


def faces(n: int, size: int) -> np.ndarray:
    """``(n, size, size, 3)`` uint8 crops around the astronaut's face."""
    img = data.astronaut()
    rng = np.random.default_rng(0)
    out = []
    for _ in range(n):
        dy, dx = rng.integers(-12, 13, 2)
        crop = img[40 + dy:320 + dy, 110 + dx:350 + dx]
        out.append(np.asarray(Image.fromarray(crop).resize((size, size), Image.BILINEAR)))
    return np.stack(out)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=48)
    parser.add_argument("--device", default="cpu", help="Where the PyTorch port runs.")
    args = parser.parse_args()
    os.environ.pop("LATENTPLAY_FACE_THREADS", None)
    for size, threads in ((s, t) for s in (64, 256) for t in sorted({1, face_threads()})):
        os.environ["LATENTPLAY_FACE_THREADS"] = str(threads)
        images = faces(args.images, size)
        for pipeline, options in (("detect", []), ("crop", ["detect=false"])):
            emb = make_embedder("dlib", options)
            emb.embed(images[:8])  # every thread loads its models outside the timing
            start_wall, start_cpu = time.perf_counter(), time.process_time()
            _, found = emb.embed_rows(images)
            wall = time.perf_counter() - start_wall
            cpu = time.process_time() - start_cpu
            print(json.dumps({
                "bench": "dlib_embed",
                "size": size,
                "pipeline": pipeline,
                "threads": threads,
                "images": len(images),
                "faces_found": int(found.sum()),
                "images_per_s": round(len(images) / wall, 1),
                "cpu_s_per_image": round(cpu / len(images), 4),
                "load_avg": round(os.getloadavg()[0], 1),
            }), flush=True)

    network(faces(args.images, 256), args.device)


def network(images: np.ndarray, device: str) -> None:
    """Descriptors of the images' aligned chips by dlib and by the PyTorch port, timed side by side."""
    models = FaceModels.load()
    chips = [models.align(image, models.whole_image_box(image)) for image in images]
    describe_chips(np.stack(chips[:2]), device)  # loaded outside the timing
    models.recognizer.compute_face_descriptor(chips[:1])
    start = time.perf_counter()
    theirs = np.array([np.array(v) for v in models.recognizer.compute_face_descriptor(chips)])
    dlib_s = time.perf_counter() - start
    start = time.perf_counter()
    ours = describe_chips(np.stack(chips), device)  # back on the host: the GPU has finished
    torch_s = time.perf_counter() - start
    print(json.dumps({
        "bench": "dlib_network",
        "chips": len(chips),
        "device": device,
        "dlib_chips_per_s": round(len(chips) / dlib_s, 1),
        "pytorch_chips_per_s": round(len(chips) / torch_s, 1),
        "speedup": round(dlib_s / torch_s, 1),
        "max_abs_diff": float(np.abs(ours - theirs).max()),
    }), flush=True)


if __name__ == "__main__":
    main()
