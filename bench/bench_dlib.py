"""dlib face embedding speed (images/s) for 64x64 and 256x256 face images.

Faces are crops of scikit-image's ``astronaut()`` (shifted, so no two are identical) resized to
each size. Two pipelines per size, one JSON line each:

* ``detect``: the ``dlib`` embedder's default: HOG detection (upsampled as the embedder does
  for small images), 5-point alignment, 128-d ResNet descriptor;
* ``cnn``: ``detector=cnn``: dlib's CNN face detector instead (run by PyTorch);
* ``crop``: ``detect=false`` (images are face crops already): alignment and descriptor only.

each on one thread and on the default ``LATENTPLAY_FACE_THREADS`` (the cores), side by side.
Then the descriptor network alone on the aligned chips (``bench: dlib_network``): dlib's
``compute_face_descriptor`` (one chip at a time, on one core) against the same network in
PyTorch (:mod:`latentplay.embed.dlib_resnet`, batches of 64), side by side, with the largest
difference between their descriptors. Last, the CNN face detector alone (``bench:
dlib_detector``), on the 256-px faces upsampled once (as detection upsamples them) and on
whole 512-px photographs: dlib's ``cnn_face_detection_model_v1`` (one image at a time)
against the port (:mod:`latentplay.embed.dlib_mmod`, batches of 8), side by side, with how
many images got the same boxes. On the CPU both also give each side's CPU seconds and their
ratio (``cpu_time_ratio``), with the threads PyTorch ran on: the port may use every core where
dlib's calls use one, and the wall-time ``speedup`` counts that.

    python bench/bench_dlib.py [--images 48] [--device cuda]   # the port on a GPU
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable
from typing import TypeVar

import numpy as np
from PIL import Image
from skimage import data

from latentplay.embed.base import make_embedder
from latentplay.embed.dlib_resnet import describe_chips
from latentplay.embed.faces import FaceModels, face_threads

T = TypeVar("T")


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
        for pipeline, options in (("detect", []), ("cnn", ["detector=cnn"]), ("crop", ["detect=false"])):
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
    photos = np.stack([np.roll(data.astronaut(), 8 * k, axis=1) for k in range(max(2, args.images // 4))])
    detector(list(faces(args.images, 256)), 1, args.device)
    detector(list(photos), 0, args.device)


def network(images: np.ndarray, device: str) -> None:
    """Descriptors of the images' aligned chips by dlib and by the PyTorch port, timed side by side."""
    models = FaceModels.load()
    chips = [models.align(image, models.whole_image_box(image)) for image in images]
    describe_chips(np.stack(chips[:2]), device)  # loaded outside the timing
    models.recognizer.compute_face_descriptor(chips[:1])
    theirs, dlib_s, dlib_cpu = _timed(
        lambda: np.array([np.array(v) for v in models.recognizer.compute_face_descriptor(chips)]))
    # back on the host: the GPU has finished
    ours, torch_s, torch_cpu = _timed(lambda: describe_chips(np.stack(chips), device))
    print(json.dumps({
        "bench": "dlib_network",
        "chips": len(chips),
        "device": device,
        "dlib_chips_per_s": round(len(chips) / dlib_s, 1),
        "pytorch_chips_per_s": round(len(chips) / torch_s, 1),
        "speedup": round(dlib_s / torch_s, 1),
        **_cpu(dlib_cpu, torch_cpu, device),
        "max_abs_diff": float(np.abs(ours - theirs).max()),
    }), flush=True)


def _timed(call: Callable[[], T]) -> tuple[T, float, float]:
    """``call()``'s result, wall seconds and this process's CPU seconds (all its threads)."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = call()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def _cpu(dlib_cpu: float, torch_cpu: float, device: str) -> dict[str, float | int]:
    """The CPU seconds of both sides and their ratio, with the threads PyTorch ran on: the
    port may use every core where dlib's calls use one, which the wall-time speedup counts."""
    import torch

    if device != "cpu":
        return {}
    return {"torch_threads": torch.get_num_threads(), "dlib_cpu_s": round(dlib_cpu, 2),
            "pytorch_cpu_s": round(torch_cpu, 2), "cpu_time_ratio": round(dlib_cpu / max(torch_cpu, 1e-9), 1)}


def detector(images: list[np.ndarray], upsample: int, device: str) -> None:
    """dlib's CNN face detector against its PyTorch port on ``images``, timed side by side."""
    import dlib

    from latentplay.embed.dlib_mmod import dlib_mmod
    from latentplay.embed.faces import CNN_DETECTOR_MODEL, model_dir

    theirs = dlib.cnn_face_detection_model_v1(str(model_dir() / CNN_DETECTOR_MODEL))
    ours = dlib_mmod(device=device)
    theirs(images[0], upsample)  # loaded outside the timing
    ours.detect(images[:2], upsample)
    found, dlib_s, dlib_cpu = _timed(lambda: [theirs(image, upsample) for image in images])
    mine, torch_s, torch_cpu = _timed(lambda: ours.detect(images, upsample))
    same = sum(
        [[d.rect.left(), d.rect.top(), d.rect.right(), d.rect.bottom()] for d in f] == m.boxes.tolist()
        for f, m in zip(found, mine, strict=True))
    print(json.dumps({
        "bench": "dlib_detector",
        "images": len(images),
        "size": images[0].shape[0],
        "upsample": upsample,
        "device": device,
        "faces": sum(len(f) for f in found),
        "dlib_images_per_s": round(len(images) / dlib_s, 2),
        "pytorch_images_per_s": round(len(images) / torch_s, 2),
        "speedup": round(dlib_s / torch_s, 1),
        **_cpu(dlib_cpu, torch_cpu, device),
        "same_boxes": f"{same}/{len(images)}",
    }), flush=True)


if __name__ == "__main__":
    main()
