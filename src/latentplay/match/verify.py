"""Face-verification check of matched pairs (as Matching-in-GAN-space did): how far apart the
two faces of a pair are for dlib's face-recognition network, against random pairs.

dlib's own rule of thumb: descriptors closer than 0.6 are the same person. Matched pairs of
different groups should be much closer than random pairs, never "the same person".
"""

from __future__ import annotations

import numpy as np

SAME_PERSON = 0.6


def face_descriptors(images: np.ndarray) -> np.ndarray:
    """dlib descriptors ``(n, 128)`` float32 of ``(n, H, W, C)`` uint8 face crops (each image is
    taken as the face box, aligned on dlib's 5 landmarks, then described)."""
    from latentplay.embed.faces import FaceModels

    models = FaceModels.load()
    chips = [models.align(img, models.whole_image_box(img)) for img in images]
    return models.describe(chips)


def pair_distances(desc_t: np.ndarray, desc_c: np.ndarray) -> np.ndarray:
    """``(m,)`` Euclidean distance between row-aligned ``(m, 128)`` descriptors."""
    return np.linalg.norm(desc_t.astype(np.float64) - desc_c, axis=1)


def summarize(matched: np.ndarray, random: np.ndarray) -> dict:
    """Mean/median distance of matched and random pairs and the share under 0.6."""

    def stats(d: np.ndarray) -> dict:
        if len(d) == 0:
            return {"pairs": 0, "mean": None, "median": None, f"share_below_{SAME_PERSON}": None}
        return {
            "pairs": int(len(d)),
            "mean": float(d.mean()),
            "median": float(np.median(d)),
            f"share_below_{SAME_PERSON}": float((d < SAME_PERSON).mean()),
        }

    return {"descriptor": "dlib_face_recognition_resnet_model_v1", "matched": stats(matched),
            "random": stats(random)}
