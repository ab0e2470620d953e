"""Which rows show the same person: pairs of faces a recogniser calls one person, and their
clusters as an attribute.

Face collections repeat people — the same photo twice, several photos of one person under
different file names — and a test split that shares people with its training split flatters
whatever is tested on it. :func:`persons_store` finds every pair of rows whose face vectors
lie within ``threshold`` of each other (a ``dlib`` column: Euclidean distance, dlib's rule
0.6; an ArcFace column: ``metric="cosine"``, one minus the cosine similarity), joins the pairs
into clusters (connected components: a chain of close pairs is one cluster, as single-linkage
clustering at that threshold) and adds categorical attribute ``person``: ``person_0001``,
... for the clusters of two or more rows, largest first, and ``unknown`` for rows that match
no other, rows without a vector and rows where the embedder of ``column`` found no face (their
vectors describe no face: whole images, or placeholders, which would all match one another).
``data split --group person`` then keeps each cluster in one split (rows marked ``unknown`` are
each a group of their own).

The summary says how many pairs and clusters there are, how many rows had no face or no vector,
how many pairs cross the classes of a ``split`` attribute (people shared between training and
test), and, given the true person of each row (``truth``), how well the attribute written
agrees with it, over all pairs of the rows with a face vector and a named true person: of the
pairs of rows it puts in one person, the share that are one true person (``person_precision``),
and of the pairs of one true person, the share it puts in one person (``person_recall``). This
is what ``data split --group person`` and the audits rely on; chaining can make it much less precise
than the pairs within the threshold themselves, whose figures are given beside it
(``pair_precision``, ``pair_recall``).

>>> found = persons_store("data/faces", "dlib", threshold=0.6)
>>> found.summary["pairs"], found.summary["largest"]
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from latentplay.errors import UserError
from latentplay.store.columns import add_attributes, check_free_attribute, vectors, with_history
from latentplay.store.io import Store, save, saved
from latentplay.store.schema import UNKNOWN, Attribute, check_attribute_name

METRICS = ("euclidean", "cosine")
PAIR_CHUNK = 1 << 18  # pairs whose exact distance is computed at once ((chunk, D) float64)


@dataclass
class Persons:
    """Same-person pairs of a store's rows.

    Attributes:
        pairs: ``(P, 2)`` row indices ``i < j`` of the pairs within the threshold.
        distances: ``(P,)`` their distances.
        cluster: ``(N,)`` cluster of each row (``-1``: in no pair, no vector or no face),
            numbered from the largest.
        summary: the counts (module docstring).
    """

    pairs: np.ndarray
    distances: np.ndarray
    cluster: np.ndarray
    summary: dict[str, Any] = field(default_factory=dict)


def check_search(threshold: float, metric: str) -> None:
    """One line for a ``metric`` not in :data:`METRICS` or a ``threshold`` not above 0 (or
    not finite), naming the Python argument and the command line's option."""
    if metric not in METRICS:
        raise UserError(f"metric (--metric) must be one of {', '.join(METRICS)}, got {metric!r}")
    if not 0 < threshold < float("inf"):   # NaN too: no pair, and the attribute was still added
        raise UserError(f"threshold (--threshold) must be a distance above 0, got {threshold:g}")


def close_pairs(x: np.ndarray, threshold: float, metric: str = "euclidean") -> tuple[np.ndarray, np.ndarray]:
    """Every pair of rows of ``x`` ``(N, D)`` within ``threshold`` (rows with NaN are left out):
    ``(P, 2)`` indices ``i < j`` and ``(P,)`` distances, by an exact faiss range search."""
    import faiss

    check_search(threshold, metric)
    rows = np.flatnonzero(np.isfinite(x).all(1))
    data = np.ascontiguousarray(x[rows], np.float32)
    if metric == "cosine":
        data /= np.maximum(np.linalg.norm(data, axis=1, keepdims=True), 1e-12)
    radius = 2 * threshold if metric == "cosine" else threshold ** 2  # |a - b|^2 = 2 (1 - cos a.b)
    if len(data) < 2:
        return np.zeros((0, 2), np.int64), np.zeros(0)
    index = faiss.IndexFlatL2(data.shape[1])
    index.add(data)
    # faiss computes |x|^2 + |y|^2 - 2xy in float32: search a little wider, then keep the
    # pairs whose distance, computed directly, is within the threshold
    slack = 1e-4 * radius + 1e-5 * float((data.astype(np.float64) ** 2).sum(1).max())
    lims, _, found = index.range_search(data, float(radius + slack))
    found = found.astype(np.int64)
    first = np.repeat(np.arange(len(data)), np.diff(lims.astype(np.int64)))
    keep = first < found
    i, j = first[keep], found[keep]
    exact = np.concatenate([np.zeros(0)] + [   # in chunks: (chunk, D) float64 at a time
        np.linalg.norm(data[i[k:k + PAIR_CHUNK]].astype(np.float64) - data[j[k:k + PAIR_CHUNK]], axis=1)
        for k in range(0, len(i), PAIR_CHUNK)])
    distance = exact ** 2 / 2 if metric == "cosine" else exact
    inside = distance <= threshold
    order = np.lexsort((j[inside], i[inside]))
    return np.stack([rows[i[inside]], rows[j[inside]]], 1)[order], distance[inside][order]


def clusters(n: int, pairs: np.ndarray) -> np.ndarray:
    """``(N,)`` cluster of each of ``n`` rows joined by ``pairs`` ``(P, 2)``: connected
    components of two or more rows numbered from the largest (ties: by first row), ``-1``
    for rows in no pair."""
    if not len(pairs):
        return np.full(n, -1, np.int64)
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    sizes = np.bincount(labels)
    first = np.full(len(sizes), n)
    np.minimum.at(first, labels, np.arange(n))
    multi = np.flatnonzero(sizes > 1)
    ranked = multi[np.lexsort((first[multi], -sizes[multi]))]
    number = np.full(len(sizes), -1, np.int64)
    number[ranked] = np.arange(len(ranked))
    return number[labels]


def find_persons(store: Store, column: str, threshold: float, metric: str = "euclidean",
                 truth: str | None = None) -> Persons:
    """Same-person pairs and clusters of ``store``'s vector ``column`` (module docstring)."""
    no_face = np.zeros(len(store), bool)  # (N,)
    no_face[_no_face_rows(store, column)] = True
    x = np.where(no_face[:, None], np.float32(np.nan), vectors(store, column))  # (N, D); in no pair
    pairs, distances = close_pairs(x, threshold, metric)
    cluster = clusters(len(x), pairs)
    sizes = np.bincount(cluster[cluster >= 0])  # (persons,)
    summary: dict[str, Any] = {
        "column": column, "metric": metric, "threshold": threshold, "rows": len(x),
        "rows_without_face": int(no_face.sum()),
        "rows_without_vector": int((~np.isfinite(x).all(1) & ~no_face).sum()), "pairs": len(pairs),
        "persons": len(sizes), "rows_in_persons": int(sizes.sum()),
        "largest": int(sizes.max()) if len(sizes) else 0,
    }
    if store.schema.has_attribute("split") and len(pairs):
        split = np.asarray(store.labels("split"))
        summary["pairs_across_split"] = int((split[pairs[:, 0]] != split[pairs[:, 1]]).sum())
    if truth is not None:
        summary.update(_agreement(store, truth, pairs, cluster, x))
    return Persons(pairs, distances, cluster, summary)


def _no_face_rows(store: Store, column: str) -> np.ndarray:
    """``(k,)`` rows where the embedder of ``column`` found no face, from its ``latentplay
    embed`` record (none for a column made otherwise)."""
    from latentplay.embed.column import embed_entry

    entry = embed_entry(store, column) or {}
    return np.asarray(entry.get("not_found", []), dtype=np.int64)


def _pair_count(counts: np.ndarray) -> int:
    """Pairs of rows within groups of ``counts`` ``(G,)`` rows each: the sum of n (n - 1) / 2."""
    counts = np.asarray(counts, np.int64)
    return int((counts * (counts - 1) // 2).sum())


def grouped_pairs(found: np.ndarray, truth: np.ndarray) -> tuple[int, int, int]:
    """Pairs of rows that ``found`` puts in one group, pairs that ``truth`` puts in one class and
    pairs that both do, from their contingency counts (no loop over the pairs).

    Args:
        found: ``(N,)`` group of each row, ``-1`` for a row in a group of its own.
        truth: ``(N,)`` true class of each row (0 or above).
    """
    found, truth = np.asarray(found, np.int64), np.asarray(truth, np.int64)
    grouped = found >= 0
    key = found[grouped] * (int(truth.max(initial=0)) + 1) + truth[grouped]  # one per (group, class)
    _, both = np.unique(key, return_counts=True)
    return (_pair_count(np.bincount(found[grouped])), _pair_count(np.bincount(truth)),
            _pair_count(both))


def check_truth(store: Store, truth: str) -> None:
    """One line when ``truth`` is not a categorical attribute of ``store``."""
    attr = store.schema.attribute_or_error(truth)
    if attr.kind != "categorical":
        raise UserError(f"--truth {truth} is not categorical; give the attribute naming each person")


def _agreement(store: Store, truth: str, pairs: np.ndarray, cluster: np.ndarray,
               x: np.ndarray) -> dict[str, Any]:
    """How the persons written (``cluster`` ``(N,)``, ``-1``: a person of its own) and the pairs
    within the threshold (``pairs`` ``(P, 2)``) agree with the true person attribute ``truth``,
    over the rows of ``x`` ``(N, D)`` with a vector (finite) and a named true person."""
    check_truth(store, truth)
    attr = store.schema.attribute(truth)
    person = np.asarray(store.labels(truth))
    known = np.isfinite(x).all(1) & (person >= 0)  # a class code of -1: no person named
    if UNKNOWN in attr.level_names:
        known &= person != attr.level_names.index(UNKNOWN)
    identities = np.bincount(person[known])  # (classes,) rows of each true person
    in_persons, true_pairs, true_in_persons = grouped_pairs(cluster[known], person[known])
    usable = known[pairs[:, 0]] & known[pairs[:, 1]]
    same = int((person[pairs[usable, 0]] == person[pairs[usable, 1]]).sum())
    return {"truth": truth, "rows_scored": int(known.sum()),
            "identities": int((identities > 0).sum()), "identities_repeated": int((identities > 1).sum()),
            "true_pairs": true_pairs,
            "pairs_in_persons": in_persons, "true_pairs_in_persons": true_in_persons,
            "person_precision": true_in_persons / in_persons if in_persons else None,
            "person_recall": true_in_persons / true_pairs if true_pairs else None,
            "pairs_scored": int(usable.sum()), "found_true_pairs": same,
            "pair_precision": same / int(usable.sum()) if usable.any() else None,
            "pair_recall": same / true_pairs if true_pairs else None}


def persons_store(store: Store | str | os.PathLike[str], column: str, threshold: float, *,
                  metric: str = "euclidean", name: str = "person", truth: str | None = None,
                  overwrite: bool = False) -> Persons:
    """Find the same-person clusters of vector ``column`` and add them as categorical attribute
    ``name``, in place (module docstring)."""
    store = saved(store, "find its persons")
    check_attribute_name(name)
    check_search(threshold, metric)
    vectors(store, column, rows=[])   # a mistyped column is named before a taken --name is
    check_free_attribute(store, name, overwrite, "overwrite")  # before the search: minutes on 100,000 rows
    if truth is not None:
        check_truth(store, truth)
    found = find_persons(store, column, threshold, metric, truth)
    names = [f"person_{k + 1:0{max(4, len(str(found.summary['persons'])))}d}"
             for k in range(found.summary["persons"])] + [UNKNOWN]
    codes = np.where(found.cluster >= 0, found.cluster, len(names) - 1)
    described = Attribute(name, "categorical", names=names, description=(
        f"rows whose {column} vectors lie within {threshold:g} ({metric}) of another, joined into "
        "clusters; unknown: matched no other row, or had no face or vector"))
    new = add_attributes(store, {name: (described, codes)}, replace=overwrite)
    entry = {"op": "persons", "column": name, **{k: v for k, v in found.summary.items()
                                                   if k != "column"}, "vectors": column}
    save(with_history(new, entry), store.path)
    return found
