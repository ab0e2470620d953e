"""Does a counterfactual edit keep the person? Identity along the edit, read by a face
embedder.

A counterfactual asks what a classifier says of *the same face* with one attribute changed.
An edit that also changes who the face is answers another question. A face recogniser
(``dlib``, an ArcFace network as ``onnx:PATH``) embeds every decoding, and at each step the
cosine similarity of a face's edited decoding to its unedited one says how much of the person
is left, as the identity-preservation scores of latent editing work do (InterFaceGAN,
Shen et al. 2020). Two references make the number readable:

- the same steps along the audit's **random directions**: a decoder changes a face whichever
  way its code moves; ``loss`` is the similarity along random directions minus the
  similarity along the attribute (+: the attribute's edit changes the person more than an
  edit of the same size in another direction), with a bootstrap 95 % interval over faces
  and the random directions (:func:`~latentplay.audit.counterfactual.excess_intervals`);
- the similarity **between different faces** (every pair of unedited decodings): ``kept``
  rescales a similarity to 1 for the unedited face and 0 for another face,
  ``(similarity - between) / (1 - between)``;
- the similarity of each face as the model sees it to its unedited decoding
  (``reconstruction``): how much of the person the decoder keeps before any edit.

Decodings in which the embedder finds no face give no similarity: they are counted
(``not_found``) and left out. Decodings are face crops already, so :func:`identity_embedder`
runs dlib without looking for the face (``detect=false``) unless told otherwise.

>>> identity = identity_along(decoder, edits, identity_embedder("dlib"))
>>> identity_table(identity, groups, names)      # per group and step
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from latentplay.audit.counterfactual import ALL, Decoder, Edits, excess_intervals, read_along
from latentplay.embed.base import Embedder, embed_images, make_embedder
from latentplay.outputs import finite_or_none
from latentplay.resample import mean_intervals


@dataclass
class Identity:
    """Similarities of every face's decodings to its unedited decoding.

    Attributes:
        embedder: the embedder's name.
        labels: ``A`` step names; zero: the reference step's index.
        similarity: ``(n, A)`` cosine similarity along the edit (NaN: no face found).
        random: ``(R, n, A)`` the same along the random directions.
        between: mean cosine similarity between the unedited decodings of different faces.
        reconstruction: ``(n,)`` cosine similarity of each face (as the model sees it) to its
            unedited decoding, or None when the faces were not given.
    """

    embedder: str
    labels: list[str]
    zero: int
    similarity: np.ndarray
    random: np.ndarray
    between: float
    reconstruction: np.ndarray | None = None


def identity_embedder(spec: str, options: Sequence[str] = ()) -> Embedder:
    """The face embedder ``spec`` with ``options``; ``dlib`` takes the decodings as face crops
    (``detect=false``) unless ``options`` set ``detect``."""
    if spec == "dlib" and not any(o.startswith("detect=") for o in options):
        options = ["detect=false", *options]
    return make_embedder(spec, options)


def identity_along(decoder: Decoder, edits: Edits, embedder: Embedder,
                   images: np.ndarray | None = None) -> Identity:
    """Embed the decodings of ``edits`` (and of its random directions) with a fitted
    ``embedder`` and compare each with the face's unedited decoding; ``images`` ``(n, H, W,
    C)`` uint8, the faces as the model sees them, are compared with it too."""
    def unit(images: np.ndarray) -> np.ndarray:
        return _unit(*embed_images(embedder, images))

    along = read_along(decoder, edits.codes, edits.conditions, [unit])[0]     # (n, A, E)
    others = [read_along(decoder, codes, edits.conditions, [unit])[0] for codes in edits.random]
    reference = along[:, edits.zero]
    similarity = _cosine(along, reference)
    random = np.array([_cosine(o, reference) for o in others]).reshape(len(others),
                                                                       *similarity.shape)
    faces = None if images is None else unit(images)
    return Identity(embedder.name, list(edits.labels), edits.zero, similarity, random,
                    _between(reference),
                    None if faces is None else np.einsum("ne,ne->n", faces, reference))


def _unit(vectors: np.ndarray, found: np.ndarray) -> np.ndarray:
    """``(m, E)`` float64 unit vectors; NaN rows where ``found`` ``(m,)`` is False."""
    vectors = np.asarray(vectors, np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        vectors = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    vectors[~np.asarray(found, bool)] = np.nan
    return vectors


def _cosine(embeddings: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """``(n, A)`` cosine of unit ``(n, A, E)`` embeddings with unit ``(n, E)`` references."""
    return np.einsum("nae,ne->na", embeddings, reference)


def _between(unit: np.ndarray) -> float:
    """Mean cosine similarity over pairs of different rows of unit ``(n, E)`` vectors (rows
    with NaN left out); NaN with fewer than two."""
    x = unit[np.isfinite(unit).all(axis=1)]
    if len(x) < 2:
        return float("nan")
    total = x.sum(axis=0)
    return float((total @ total - len(x)) / (len(x) * (len(x) - 1)))


def identity_table(identity: Identity, groups: np.ndarray, names: Sequence[str],
                   n_boot: int = 1000, seed: int = 0, persons: np.ndarray | None = None
                   ) -> list[dict[str, object]]:
    """Per group (``groups`` ``(n,)`` codes into ``names``) and over all faces, per step: the
    faces compared (``n``) and those without a face found (``not_found``), the mean
    ``similarity`` with a bootstrap 95 % interval, ``kept`` (rescaled between another face,
    0, and the face itself, 1) and, with random directions, their ``random_similarity`` and
    ``loss`` (random minus attribute) with its interval, which resamples the random directions
    too. Intervals are over faces, or over persons when ``persons`` ``(n,)`` repeat them."""
    sim = identity.similarity
    rand = None
    if len(identity.random):
        found = np.isfinite(identity.random)
        with np.errstate(invalid="ignore"):          # no face found along any: NaN
            rand = np.where(found, identity.random, 0).sum(0) / found.sum(0)
    scale = 1 - identity.between
    rows: list[dict[str, object]] = []
    members = [(name, np.asarray(groups) == k) for k, name in enumerate(names)]
    for name, mask in [*members, (ALL, np.ones(len(sim), bool))]:
        if not mask.any():
            continue
        units = np.arange(int(mask.sum())) if persons is None else np.asarray(persons)[mask]
        sim_ci = mean_intervals(sim[mask], units, n_boot, seed)
        if rand is not None:
            loss = rand[mask] - sim[mask]
            loss_ci = 0.0 - excess_intervals(sim[mask], identity.random[:, mask], units, n_boot,
                                             seed)[:, ::-1]      # 0.0 - x: no negative zeros
        for j, label in enumerate(identity.labels):
            read = np.isfinite(sim[mask, j])
            mean = float(sim[mask, j][read].mean()) if read.any() else None
            row: dict[str, object] = {
                "group": name, "step": label, "n": int(read.sum()),
                "not_found": int((~read).sum()), "similarity": mean,
                "low": finite_or_none(sim_ci[j, 0]), "high": finite_or_none(sim_ci[j, 1]),
                "kept": None if mean is None or not scale > 0
                else (mean - identity.between) / scale}
            if rand is not None:
                finite = np.isfinite(loss[:, j])
                row.update(random_similarity=_mean(rand[mask, j]),
                           loss=float(loss[finite, j].mean()) if finite.any() else None,
                           loss_low=finite_or_none(loss_ci[j, 0]),
                           loss_high=finite_or_none(loss_ci[j, 1]))
            rows.append(row)
    return rows


def _mean(x: np.ndarray) -> float | None:
    x = x[np.isfinite(x)]
    return float(x.mean()) if len(x) else None


def identity_summary(identity: Identity, table: list[dict[str, object]]) -> dict[str, Any]:
    """What ``counterfactual.json`` keeps of the identity check."""
    rec = identity.reconstruction
    return {"embedder": identity.embedder, "between": finite_or_none(identity.between),
            "reconstruction": None if rec is None else _mean(rec),
            "random": int(len(identity.random)), "table": table}


def reconstruction_identity(embedder: Embedder, faces: np.ndarray, redrawn: np.ndarray
                            ) -> dict[str, Any]:
    """How much of each face's identity its redrawing (e.g. an inversion's decoding) keeps,
    read by a fitted face ``embedder``: ``faces`` and ``redrawn`` ``(n, H, W, C)`` uint8.

    Returns ``similarity`` (per face: cosine similarity of the two embeddings; None where no
    face was found in either), ``between`` (the mean similarity of different faces to each
    other: what an unrelated face scores), ``kept`` (per face, ``(similarity - between) /
    (1 - between)``: 1 for the same embedding, 0 for an unrelated face), their means and
    ``not_found``."""
    return reconstruction_identities(embedder, faces, [redrawn])[0]


def reconstruction_identities(embedder: Embedder, faces: np.ndarray,
                              redrawings: Sequence[np.ndarray]) -> list[dict[str, Any]]:
    """:func:`reconstruction_identity` of each of several ``redrawings`` of the same
    ``faces`` (e.g. an inversion's start and end), the faces embedded once."""
    faces_unit = _unit(*embed_images(embedder, faces))
    between = _between(faces_unit)
    found = []
    for redrawn in redrawings:
        similarity = np.einsum("ne,ne->n", faces_unit, _unit(*embed_images(embedder, redrawn)))
        kept = (similarity - between) / (1 - between)
        found.append({"embedder": embedder.name, "similarity": [finite_or_none(v) for v in similarity],
                      "between": finite_or_none(between), "kept": [finite_or_none(v) for v in kept],
                      "mean_similarity": _mean(similarity), "mean_kept": _mean(kept),
                      "not_found": int((~np.isfinite(similarity)).sum())})
    return found
