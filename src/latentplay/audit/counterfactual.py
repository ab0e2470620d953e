"""Counterfactual sensitivity of a classifier: does its answer change when only one attribute
of a face changes?

Faces' latent codes are moved along an attribute's direction
(:mod:`latentplay.latent.directions`: skin tone, age, smile), decoded, and every decoded image
is classified by the classifier under audit (an annotator: a file from ``latentplay audit
annotator``, CLIP zero-shot, or one head of a network) — the image counterfactual sensitivity
analysis of Denton et al. (2019) and the causal benchmarking of Balakrishnan et al. (2021), on
any generator of the toolkit. At each step ``a`` (in standard deviations of the codes along
the direction; step 0 is the face's own code, decoded):

- the **flip rate**: the share of faces whose predicted class differs from the one predicted
  at step 0, with a Wilson 95 % interval, over all faces and per group (by default the class
  predicted at step 0: a gender classifier may turn women into men more readily than men
  into women);
- the mean probability of each class;
- the **random baseline**: the same steps along random directions orthogonal to the
  attribute's (a step is as many standard deviations of the edited codes along each). A
  decoder changes an image whichever way its code moves, and a classifier may change its mind
  on any changed image; the direction's **excess** flip rate over the random directions', with
  a bootstrap 95 % interval over faces, is what the attribute itself does;
- with **check** annotators, their readings at each step: one of the edited attribute says
  whether the edit moves it (an edit that does not says nothing about the classifier's
  sensitivity to it); an independent one of the classifier's own attribute (CLIP, another
  network) whether the edit changed that attribute itself rather than the classifier's
  reading of it;
- how often the classifier gives the face as the model sees it (cropped and resized like the
  decodings) and its decoding at step 0 the same class: how much reconstruction alone moves it.

>>> result = counterfactuals(decoder, z, None, direction.axis("pattern"),
...                          direction.sd_along("pattern"), [-2, -1, 0, 1, 2], gender_ann)
>>> result.flips().mean(0)          # (A,) flip rate per step
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from latentplay import store as st
from latentplay.audit.annotate import Annotator
from latentplay.audit.distribution import wilson_interval
from latentplay.errors import UserError
from latentplay.outputs import json_default, output_dir
from latentplay.resample import resampled
from latentplay.store.schema import UNKNOWN

Decoder = Callable[[np.ndarray, np.ndarray | None], np.ndarray]
"""``(m, D)`` codes and ``(m, K)`` conditions (or None) -> ``(m, H, W, C)`` uint8 images."""

BATCH = 64
"""Faces decoded at once (times the number of steps)."""


@dataclass
class Reading:
    """A check annotator's classes along the steps.

    Attributes:
        attribute: the attribute it reads.
        classes: its ``K`` class names.
        codes: ``(n, A)`` int class read on each face at each step.
    """

    attribute: str
    classes: list[str]
    codes: np.ndarray


@dataclass
class Counterfactuals:
    """A classifier's answers on faces moved along one direction, and along random ones.

    Attributes:
        steps: ``(A,)`` ascending steps in standard deviations of the codes; one is 0.
        classes: the classifier's ``K`` class names.
        proba: ``(n, A, K)`` class probabilities of each face at each step.
        random: ``(R, n, A)`` int classes predicted along ``R`` random directions.
        checks: the check annotators' readings along the direction.
        original: ``(n,)`` int classes predicted on the faces themselves (as the model sees
            them), or None when not known.
    """

    steps: np.ndarray
    classes: list[str]
    proba: np.ndarray
    random: np.ndarray
    checks: list[Reading] = field(default_factory=list)
    original: np.ndarray | None = None

    @property
    def zero(self) -> int:
        """Index of step 0 in :attr:`steps`."""
        return int(np.flatnonzero(self.steps == 0)[0])

    @property
    def predicted(self) -> np.ndarray:
        """``(n, A)`` int predicted classes along the direction."""
        return self.proba.argmax(axis=2)

    @property
    def reference(self) -> np.ndarray:
        """``(n,)`` int class predicted at step 0 (the face's own code, decoded)."""
        return self.predicted[:, self.zero]

    def flips(self) -> np.ndarray:
        """``(n, A)`` bool: the predicted class differs from the one at step 0."""
        return self.predicted != self.reference[:, None]

    def random_flips(self) -> np.ndarray | None:
        """``(n, A)`` float: the share of the random directions along which each face's class
        differs from the one at step 0; None without random directions."""
        if not len(self.random):
            return None
        return (self.random != self.reference[None, :, None]).mean(axis=0)

    def reconstruction_agreement(self) -> float | None:
        """Share of faces given the same class as themselves and as decoded at step 0."""
        return None if self.original is None else float(np.mean(self.original == self.reference))


def checked_steps(steps: Sequence[float]) -> np.ndarray:
    """``(A,)`` float64 sorted unique steps with 0 added; a :class:`UserError` unless at least
    one is not 0."""
    out = np.unique(np.append(np.asarray(steps, np.float64), 0.0))
    if len(out) < 2:
        raise UserError("give at least one step other than 0")
    return out


def random_axes(axis: np.ndarray, count: int, seed: int) -> np.ndarray:
    """``(count, D)`` float64 random unit vectors orthogonal to unit ``axis`` ``(D,)``."""
    axis = np.asarray(axis, np.float64)
    if count and len(axis) < 2:
        raise UserError("random directions need a latent of at least 2 dimensions")
    g = np.random.default_rng(seed).standard_normal((count, len(axis)))
    g -= np.outer(g @ axis, axis)
    return g / np.linalg.norm(g, axis=1, keepdims=True)


def counterfactuals(decoder: Decoder, z: np.ndarray, condition: np.ndarray | None,
                    axis: np.ndarray, unit: float, steps: Sequence[float],
                    classifier: Annotator, *, random: int = 3, checks: Sequence[Annotator] = (),
                    images: np.ndarray | None = None, seed: int = 0) -> Counterfactuals:
    """Classify faces decoded from codes moved along ``axis``, and along ``random`` random
    directions orthogonal to it.

    Args:
        decoder: codes (and conditions) to images (:data:`Decoder`).
        z: ``(n, D)`` start codes.
        condition: ``(n, K)`` conditions of the faces (kept while moving), or None.
        axis: ``(D,)`` unit direction to move along.
        unit: latent length of one step unit along ``axis`` (its codes' standard deviation).
        steps: steps in those units; 0 is added.
        classifier: the classifier under audit.
        random: number of random directions; a step along one is as many standard deviations
            of ``z`` along it.
        checks: annotators read along ``axis`` (of the edited attribute, or independent
            readers of the classifier's).
        images: ``(n, H, W, C)`` uint8 images of the faces as the model sees them, classified
            for :meth:`Counterfactuals.reconstruction_agreement`, or None.
        seed: seed of the random directions.
    """
    z = np.asarray(z, np.float64)
    if z.ndim != 2 or len(z) < 2:
        raise UserError(f"need the codes of at least 2 faces, got shape {z.shape}")
    grid = checked_steps(steps)
    readers = [classifier, *checks]
    along = _read_along(decoder, z, condition, np.outer(grid, axis) * unit, readers)
    others = []
    for other in random_axes(axis, random, seed):
        spread = float((z @ other).std(ddof=1))
        others.append(_read_along(decoder, z, condition, np.outer(grid, other) * spread,
                                  [classifier])[0].argmax(axis=2))
    original = None if images is None else classifier.predict(images)
    return Counterfactuals(
        grid, list(classifier.classes), along[0],
        np.array(others, np.int64).reshape(len(others), len(z), len(grid)),
        [Reading(c.attribute, list(c.classes), p.argmax(axis=2))
         for c, p in zip(checks, along[1:], strict=True)], original)


def _read_along(decoder: Decoder, z: np.ndarray, condition: np.ndarray | None,
                moves: np.ndarray, readers: Sequence[Annotator]) -> list[np.ndarray]:
    """Each reader's ``(n, A, K)`` probabilities of the decodings of ``z[i] + moves[a]``
    (``moves`` ``(A, D)``)."""
    n, a = len(z), len(moves)
    out: list[list[np.ndarray]] = [[] for _ in readers]
    for s in range(0, n, BATCH):
        codes = (z[s:s + BATCH, None, :] + moves[None]).reshape(-1, z.shape[1])
        cond = None if condition is None else np.repeat(condition[s:s + BATCH], a, axis=0)
        images = decoder(codes.astype(np.float32), cond)
        for k, reader in enumerate(readers):
            out[k].append(reader.predict_proba(images).reshape(-1, a, len(reader.classes)))
    return [np.concatenate(parts) for parts in out]


def flip_table(result: Counterfactuals, groups: np.ndarray, names: Sequence[str],
               n_boot: int = 1000, seed: int = 0) -> list[dict[str, object]]:
    """Per group (``groups`` ``(n,)`` codes into ``names``; negative: in none) and over all
    faces, per step: faces ``n``, ``flips``, ``rate`` with its Wilson ``low`` / ``high``, the
    random directions' ``random_rate``, the ``excess`` over it with a bootstrap 95 % interval
    over faces (``excess_low`` / ``excess_high``), and ``p_reference``, the mean probability of
    each face's step-0 class."""
    flips = result.flips()
    rand = result.random_flips()
    p_ref = np.take_along_axis(result.proba, result.reference[:, None, None], axis=2)[..., 0]
    members = [(name, np.asarray(groups) == k) for k, name in enumerate(names)]
    rows: list[dict[str, object]] = []
    for name, mask in [*members, ("all faces", np.ones(len(flips), bool))]:
        n = int(mask.sum())
        if not n:
            continue
        counts = flips[mask].sum(axis=0)
        wilson = wilson_interval(counts, n)
        if rand is not None:
            excess = flips[mask] - rand[mask]  # (n, A)
            boot = resampled(excess, n_boot, seed) / n
            low, high = np.percentile(boot, [2.5, 97.5], axis=0)
        for j, step in enumerate(result.steps):
            row: dict[str, object] = {
                "group": name, "step": float(step), "n": n, "flips": int(counts[j]),
                "rate": float(counts[j] / n), "low": float(wilson[j, 0]),
                "high": float(wilson[j, 1]), "p_reference": float(p_ref[mask, j].mean())}
            if rand is not None:
                row.update(random_rate=float(rand[mask, j].mean()),
                           excess=float(excess[:, j].mean()), excess_low=float(low[j]),
                           excess_high=float(high[j]))
            rows.append(row)
    return rows


def probability_table(result: Counterfactuals) -> list[dict[str, object]]:
    """Per step and class: the mean probability over faces with a normal 95 % interval."""
    n = result.proba.shape[0]
    mean = result.proba.mean(axis=0)                       # (A, K)
    half = 1.96 * result.proba.std(axis=0, ddof=1) / np.sqrt(n)
    return [{"step": float(s), "class": c, "mean": float(mean[j, k]),
             "low": float(mean[j, k] - half[j, k]), "high": float(mean[j, k] + half[j, k])}
            for j, s in enumerate(result.steps) for k, c in enumerate(result.classes)]


def check_table(result: Counterfactuals) -> list[dict[str, object]]:
    """Per check annotator, step and class: the share of faces it reads as that class."""
    return [{"attribute": r.attribute, "step": float(s), "class": c,
             "share": float(np.mean(r.codes[:, j] == k))}
            for r in result.checks for j, s in enumerate(result.steps)
            for k, c in enumerate(r.classes)]


def most_changed(result: Counterfactuals, count: int) -> np.ndarray:
    """``(<= count,)`` indices of the faces whose class changes at the most steps (ties: the
    largest total change of the step-0 class's probability)."""
    p_ref = np.take_along_axis(result.proba, result.reference[:, None, None], axis=2)[..., 0]
    change = np.abs(p_ref - p_ref[:, [result.zero]]).sum(axis=1)
    order = np.lexsort((-change, -result.flips().sum(axis=1)))
    return order[:count]


def audit_counterfactual(
    run: str | os.PathLike[str], data: str | os.PathLike[str], direction: str | os.PathLike[str],
    classifier: str, out: str | os.PathLike[str], *, attribute: str | None = None,
    rows: Sequence[int] | None = None, n: int = 200, steps: Sequence[float] = (-2, -1, 1, 2),
    along: str = "pattern", random: int = 3, checks: Sequence[str] = (), by: str | None = None,
    heads: str | None = None, network_options: Sequence[str] = (), show: int = 8,
    seed: int = 0, overwrite: bool = False) -> dict[str, Any]:
    """Run the counterfactual audit of ``classifier`` (an annotator file, ``clip:WEIGHTS`` or
    ``onnx:PATH`` with ``heads``, reading ``attribute``) on ``rows`` (default: ``n`` random
    rows) of store ``data``, moved along the direction file ``direction`` fitted on the codes
    of ``run``, and write into ``out``: ``counterfactual.json`` (the summary, returned),
    ``flips.csv`` (:func:`flip_table`), ``faces.csv`` (each face's class and probabilities at
    each step), ``counterfactual.png`` and ``faces.png`` (the ``show`` faces that change most).

    ``checks`` name annotators read along the steps too (files read their own attribute,
    ``clip:`` and ``onnx:`` the direction's); ``by`` a categorical attribute of ``data`` to
    group faces by (default: the class predicted at step 0)."""
    from latentplay.latent.codes import store_codes
    from latentplay.latent.directions import Direction
    from latentplay.train import decode, load_model, model_input

    store = st.load(data)
    found = Direction.from_json(direction)
    model = load_model(run)
    found.check_dim(model.latent_dim)
    ann = _annotator(classifier, attribute, store, heads, network_options, seed)
    checkers = [_annotator(c, None if _is_file(c) else found.attribute, store, heads,
                           network_options, seed) for c in checks]
    read = [c.attribute for c in checkers]
    if len(set(read)) < len(read):
        raise UserError(f"two check annotators read the same attribute ({', '.join(read)}); "
                        "give one of each")
    group_names, group_codes = _by(store, by)
    picked = _rows(store, rows, n, seed)
    out_dir = output_dir(out, overwrite)
    codes = store_codes(model, store, picked, seed=seed)
    seen = model_input(model, codes.images)

    def decoder(z: np.ndarray, cond: np.ndarray | None) -> np.ndarray:
        return decode(model, z, condition=cond)

    result = counterfactuals(decoder, codes.z, codes.condition, found.axis(along),
                             found.sd_along(along), steps, ann, random=random, checks=checkers,
                             images=seen, seed=seed)
    if group_codes is None:
        names, groups, grouped = ann.classes, result.reference, f"{ann.attribute} at step 0"
    else:
        names, groups, grouped = group_names, group_codes[codes.rows], by
    summary = {
        "run": str(run), "data": str(store.path), "rows": codes.rows.tolist(),
        "direction": {"file": str(direction), "label": found.label, "attribute": found.attribute,
                      "positive": found.positive, "negative": found.negative,
                      "score": found.score, "score_name": found.score_name, "along": along,
                      "sd": found.sd_along(along)},
        "classifier": {"attribute": ann.attribute, "classes": ann.classes, **ann.description},
        "checks": [{"attribute": c.attribute, "classes": c.classes, **c.description}
                   for c in checkers],
        "image": {"size": int(model.size), "crop": float(model.crop)},
        "steps": result.steps.tolist(), "random_directions": random, "groups_by": grouped,
        "reconstruction_agreement": result.reconstruction_agreement(),
        "flips": flip_table(result, groups, names, seed=seed),
        "probabilities": probability_table(result), "check_shares": check_table(result)}
    (out_dir / "counterfactual.json").write_text(json.dumps(summary, indent=2,
                                                            default=json_default))
    _write_csv(out_dir / "flips.csv", summary["flips"])
    _write_csv(out_dir / "faces.csv", _face_rows(result, codes.rows))
    from latentplay.viz.counterfactual import sensitivity_figure
    from latentplay.viz.grid import image_grid, save_figure

    save_figure(sensitivity_figure(summary), out_dir / "counterfactual.png")
    faces = most_changed(result, show)
    moves = np.outer(result.steps, found.axis(along)) * found.sd_along(along)
    shown = [decoder((codes.z[k][None] + moves).astype(np.float32),
                     None if codes.condition is None
                     else np.repeat(codes.condition[k][None], len(moves), axis=0))
             for k in faces]
    lines = [np.concatenate([seen[k][None], img]) for k, img in zip(faces, shown, strict=True)]
    captions = [["original"] + _captions(result, k) for k in faces]
    save_figure(image_grid(lines, [f"row {codes.rows[k]}" for k in faces], captions=captions,
                           title=f"{ann.attribute} read along {found.label} "
                                 f"(steps in SDs; -> a changed class)"),
                out_dir / "faces.png")
    return summary


def _annotator(spec: str, attribute: str | None, store: st.Store, heads: str | None,
               options: Sequence[str], seed: int) -> Annotator:
    """The annotator ``spec`` names (a file, ``clip:WEIGHTS``, ``onnx:PATH``) of
    ``attribute`` (a file's own when None)."""
    from latentplay.audit.annotate import load_annotator
    from latentplay.audit.run import resolve_annotators

    if _is_file(spec):
        ann = load_annotator(spec)
        if attribute is not None and ann.attribute != attribute:
            raise UserError(f"{spec} reads {ann.attribute!r}, not {attribute!r}")
        return ann
    if attribute is None:
        raise UserError(f"{spec} needs --attribute: the attribute whose classes it reads")
    found = resolve_annotators([spec], store, [attribute], heads=heads,
                               network_options=options, seed=seed)[0]
    if not isinstance(found, Annotator):
        raise UserError(f"head {attribute!r} gives values, not classes; the counterfactual "
                        "audit reads classes")
    return found


def _is_file(spec: str) -> bool:
    """Whether an annotator spec names a file (not ``clip:`` or ``onnx:``)."""
    return not spec.startswith(("clip:", "onnx:"))


def _by(store: st.Store, by: str | None) -> tuple[list[str], np.ndarray | None]:
    """Class names and ``(N,)`` codes of ``by`` (``unknown``: -1), or ``([], None)``."""
    if by is None:
        return [], None
    attr = store.schema.attribute_or_error(by)
    if attr.kind == "continuous":
        raise UserError(f"--by {by!r} is continuous; cut it into groups with `latentplay data "
                        "bin` first")
    names = attr.level_names
    codes = np.asarray(store.labels(by), np.int64)
    unknown = [k for k, name in enumerate(names) if name == UNKNOWN]
    return names, np.where(np.isin(codes, unknown), -1, codes)


def _rows(store: st.Store, rows: Sequence[int] | None, n: int, seed: int) -> list[int]:
    """``rows`` as given, or ``n`` random rows of ``store`` in order."""
    if rows is not None:
        return list(rows)
    if n < 2:
        raise UserError("--n must be at least 2")
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(len(store), size=min(n, len(store)), replace=False)).tolist()


def _captions(result: Counterfactuals, k: int) -> list[str]:
    """Per step of face ``k``: the step, the class read there and its probability."""
    ref = result.reference[k]
    out = []
    for j, step in enumerate(result.steps):
        c = result.predicted[k, j]
        mark = "-> " if c != ref else ""
        out.append(f"{step:+g}\n{mark}{result.classes[c]} {result.proba[k, j, c]:.2f}")
    return out


def _face_rows(result: Counterfactuals, rows: np.ndarray) -> list[dict[str, object]]:
    """One CSV row per face and step: the class read, its probabilities, the checks'."""
    out = []
    for i, row in enumerate(rows):
        for j, step in enumerate(result.steps):
            entry: dict[str, object] = {"row": int(row), "step": float(step),
                                        "predicted": result.classes[result.predicted[i, j]]}
            entry.update({f"p_{c}": round(float(result.proba[i, j, k]), 6)
                          for k, c in enumerate(result.classes)})
            entry.update({f"check_{r.attribute}": r.classes[r.codes[i, j]]
                          for r in result.checks})
            out.append(entry)
    return out


def _write_csv(path: Path, rows: list[dict[str, object]]) -> None:
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]) if rows else [])
        writer.writeheader()
        writer.writerows(rows)
