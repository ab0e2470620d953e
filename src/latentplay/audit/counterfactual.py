"""Counterfactual sensitivity of a classifier: does its answer change when only one attribute
of a face changes?

Faces are changed in one attribute by a generator, decoded, and every decoded image is
classified by the classifier under audit (an annotator: a file from ``latentplay audit
annotator``, CLIP zero-shot, or one head of a network) — the image counterfactual sensitivity
analysis of Denton et al. (2019) and the causal benchmarking of Balakrishnan et al. (2021), on
any generator of the toolkit. Two edits (:class:`Edits`):

- :func:`direction_edits`: codes moved along an attribute's latent direction
  (:mod:`latentplay.latent.directions`: skin tone, age), steps in standard deviations of the
  codes along it, step 0 being the face's own code;
- :func:`condition_edits`: a conditional model's condition changed with the code kept — a
  continuous one shifted from each face's own value (SmileCVAE's forcing), a categorical one
  set to each class (``own`` being the face's own).

At each step, :func:`counterfactuals` and the tables report:

- the **flip rate**: the share of faces whose predicted class differs from the one predicted
  at the reference step (the face unedited, decoded), with a Wilson 95 % interval, over all
  faces and per group (by default the class read unedited: a gender classifier may turn women
  into men more readily than men into women);
- the mean probability of each class;
- for directions, the **random baseline**: the same steps along random directions orthogonal
  to the attribute's (a step is as many standard deviations of the edited codes along each).
  A decoder changes an image whichever way its code moves, and a classifier may change its
  mind on any changed image; the direction's **excess** flip rate over the random
  directions', with a bootstrap 95 % interval over faces and the random directions both
  (:func:`excess_intervals`), is what the attribute itself does;
- with **check** annotators, their readings at each step: one of the edited attribute says
  whether the edit moves it (an edit that does not says nothing about the classifier's
  sensitivity to it); an independent one of the classifier's own attribute (CLIP, another
  network) whether the edit changed that attribute itself rather than the classifier's
  reading of it;
- how often the classifier gives the face as the model sees it (cropped and resized like the
  decodings) and its unedited decoding the same class: how much reconstruction alone moves it.

>>> edits = direction_edits(z, None, direction.axis("pattern"), direction.sd_along("pattern"),
...                         [-2, -1, 1, 2], random=3)
>>> result = counterfactuals(decoder, edits, gender_annotator)
>>> result.flips().mean(0)          # (A,) flip rate per step
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from latentplay.audit.annotate import Annotator
from latentplay.errors import UserError
from latentplay.intervals import t_interval, wilson_interval
from latentplay.outputs import finite_or_none
from latentplay.reprs import short_repr
from latentplay.resample import cluster_sums, difference_intervals, mean_intervals, resampled

ALL = "all faces"
"""The group of every face in :func:`flip_table`."""

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
class ValueReading:
    """A check's readings of values along the steps (an age regressor's years).

    Attributes:
        attribute: the attribute it reads.
        values: ``(n, A)`` float reading of each face at each step (NaN: none made).
    """

    attribute: str
    values: np.ndarray


Check = Reading | ValueReading
"""What a check reads along the steps: classes or values."""


@dataclass
class Edits:
    """Every face's code and condition at every step of an edit.

    Attributes:
        labels: ``A`` step names (``-1``, ``0``, ``+0.5``; ``own``, ``female``).
        positions: ``(A,)`` numeric steps for plotting, or None when the steps are classes.
        zero: index of the reference step (the face as it is).
        codes: ``(n, A, D)`` float32 codes.
        conditions: ``(n, A, K)`` float32 conditions, or None for an unconditional model.
        random: ``(R, n, A, D)`` float32 codes moved along random directions by the same steps
            (``R`` may be 0), decoded under :attr:`conditions`.
    """

    __repr__ = short_repr

    labels: list[str]
    positions: np.ndarray | None
    zero: int
    codes: np.ndarray
    conditions: np.ndarray | None
    random: np.ndarray


def step_label(step: float) -> str:
    """``0``, ``+0.5``, ``-2``."""
    return "0" if step == 0 else f"{step:+g}"


def checked_steps(steps: Sequence[float]) -> np.ndarray:
    """``(A,)`` float64 sorted unique steps with 0 added; a :class:`UserError` unless every
    step is a finite number and at least one is not 0."""
    out = np.unique(np.append(np.asarray(steps, np.float64), 0.0))
    if not np.isfinite(out).all():
        raise UserError(f"--alphas must be finite numbers, got {', '.join(map(step_label, out))}")
    if len(out) < 2:
        raise UserError("--alphas: give at least one value other than 0")
    return out


def random_axes(axis: np.ndarray, count: int, seed: int, cov: np.ndarray | None = None
                ) -> np.ndarray:
    """``(count, D)`` float64 random unit vectors orthogonal to unit ``axis`` ``(D,)``: drawn
    uniformly on the sphere, or, given the codes' covariance ``cov`` ``(D, D)``, from a
    Gaussian with that covariance (``cov^(1/2) g``), so that they lean on the codes'
    high-variance axes as the faces' own differences do."""
    axis = np.asarray(axis, np.float64)
    if count and len(axis) < 2:
        raise UserError("random directions need a latent of at least 2 dimensions")
    g = np.random.default_rng(seed).standard_normal((count, len(axis)))
    if cov is not None:
        values, vectors = np.linalg.eigh(np.asarray(cov, np.float64))
        g = g @ (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T
    g -= np.outer(g @ axis, axis)
    return g / np.linalg.norm(g, axis=1, keepdims=True)


BASELINES = ("codes", "sphere")
"""How random directions are drawn: as the codes vary, or uniformly on the sphere."""


def direction_edits(z: np.ndarray, condition: np.ndarray | None, axis: np.ndarray,
                    unit: float, steps: Sequence[float], random: int = 3,
                    seed: int = 0, baseline: str = "codes") -> Edits:
    """Codes ``z`` ``(n, D)`` moved by ``steps`` (0 added) times ``unit`` along unit ``axis``
    ``(D,)``, and along ``random`` random unit directions orthogonal to it, a step along each
    being as many standard deviations of ``z`` along it; conditions ``(n, K)`` kept.

    ``baseline`` ``codes`` draws the random directions as the codes vary (from a Gaussian
    with their covariance: in expectation, the direction from one random face to another),
    so they move through the dimensions the decoder uses as much as the faces do;
    ``sphere`` draws them uniformly, which in a latent with little-used dimensions changes
    faces less (:func:`random_axes`)."""
    if baseline not in BASELINES:
        raise UserError(f"baseline must be one of {', '.join(BASELINES)}, got {baseline!r}")
    z = _faces(z)
    grid = checked_steps(steps)
    axis = np.asarray(axis, np.float64)
    others = random_axes(axis, random, seed,
                         np.cov(z, rowvar=False) if baseline == "codes" else None)
    spreads = (z @ others.T).std(axis=0, ddof=1) if random else np.zeros(0)
    moves = [np.outer(grid, axis) * unit] + [np.outer(grid, o) * sd
                                             for o, sd in zip(others, spreads, strict=True)]
    moved = [(z[:, None, :] + m[None]).astype(np.float32) for m in moves]
    return Edits([step_label(v) for v in grid], grid, int(np.flatnonzero(grid == 0)[0]),
                 moved[0], _repeat(condition, len(grid)),
                 np.array(moved[1:], np.float32).reshape(random, *moved[0].shape))


def condition_edits(z: np.ndarray, condition: np.ndarray, column: int, *,
                    shifts: Sequence[float] | None = None,
                    classes: Sequence[str] | None = None) -> Edits:
    """Codes ``z`` ``(n, D)`` decoded under their own conditions ``(n, K)`` changed in one
    part: a continuous entry at ``column`` shifted by ``shifts`` (0 added), or a one-hot part
    starting at ``column`` set to each of its ``classes`` (the first step, ``own``, keeps each
    face's class). The codes stay; there are no random directions."""
    z = _faces(z)
    condition = np.asarray(condition, np.float32)
    if (shifts is None) == (classes is None):
        raise ValueError("give shifts or classes")
    if classes is None:
        grid = checked_steps(shifts or [])
        changed = _repeat(condition, len(grid))
        changed[:, :, column] += grid[None, :].astype(np.float32)
        labels, positions, zero = [step_label(v) for v in grid], grid, int(
            np.flatnonzero(grid == 0)[0])
    else:
        k = len(classes)
        changed = _repeat(condition, k + 1)
        changed[:, 1:, column:column + k] = np.eye(k, dtype=np.float32)[None]
        labels, positions, zero = ["own", *classes], None, 0
    codes = np.repeat(z[:, None, :], len(labels), axis=1).astype(np.float32)
    return Edits(labels, positions, zero, codes, changed,
                 np.zeros((0, *codes.shape), np.float32))


def _faces(z: np.ndarray) -> np.ndarray:
    z = np.asarray(z, np.float64)
    if z.ndim != 2 or len(z) < 2:
        raise UserError(f"need the codes of at least 2 faces, got shape {z.shape}")
    return z


def _repeat(condition: np.ndarray | None, a: int) -> np.ndarray | None:
    """``(n, K)`` conditions as ``(n, a, K)`` (a copy), or None."""
    if condition is None:
        return None
    return np.repeat(np.asarray(condition, np.float32)[:, None, :], a, axis=1)


@dataclass
class Counterfactuals:
    """A classifier's answers on faces at every step of an edit, and along random directions.

    Attributes:
        labels: ``A`` step names; positions: ``(A,)`` numeric steps or None (classes);
        zero: index of the reference step (the face as it is, decoded).
        classes: the classifier's ``K`` class names.
        proba: ``(n, A, K)`` class probabilities of each face at each step.
        random: ``(R, n, A)`` int classes predicted along ``R`` random directions.
        checks: the checks' readings (classes or values) at each step.
        original: ``(n,)`` int classes predicted on the faces themselves (as the model sees
            them), or None when not known.
    """

    __repr__ = short_repr

    labels: list[str]
    positions: np.ndarray | None
    zero: int
    classes: list[str]
    proba: np.ndarray
    random: np.ndarray
    checks: list[Check] = field(default_factory=list)
    original: np.ndarray | None = None

    @property
    def predicted(self) -> np.ndarray:
        """``(n, A)`` int predicted classes at each step."""
        return self.proba.argmax(axis=2)

    @property
    def reference(self) -> np.ndarray:
        """``(n,)`` int class predicted at the reference step."""
        return self.predicted[:, self.zero]

    def reference_proba(self) -> np.ndarray:
        """``(n, A)`` probability of each face's reference class at each step."""
        return np.take_along_axis(self.proba, self.reference[:, None, None], axis=2)[..., 0]

    def flips(self) -> np.ndarray:
        """``(n, A)`` bool: the predicted class differs from the reference step's."""
        return self.predicted != self.reference[:, None]

    def random_flips(self) -> np.ndarray | None:
        """``(n, A)`` float: the share of the random directions along which each face's class
        differs from the reference step's; None without random directions."""
        if not len(self.random):
            return None
        return (self.random != self.reference[None, :, None]).mean(axis=0)

    def reconstruction_agreement(self) -> float | None:
        """Share of faces given the same class as themselves and as decoded unchanged."""
        return None if self.original is None else float(np.mean(self.original == self.reference))

    # what the runner asks of a result (ValueCounterfactuals answers the same)
    kind = "classes"

    def unedited_groups(self) -> tuple[list[str], np.ndarray]:
        """Default groups: the classes, and each face's class read unedited."""
        return self.classes, self.reference

    def tables(self, groups: np.ndarray, names: Sequence[str], places: np.ndarray | None,
               seed: int, persons: np.ndarray | None = None) -> dict[str, Any]:
        """The summary's tables (:func:`flip_table`, :func:`probability_table`) and the
        reconstruction agreement."""
        return {"reconstruction_agreement": self.reconstruction_agreement(),
                "flips": flip_table(self, groups, names, seed=seed, places=places,
                                    persons=persons),
                "probabilities": probability_table(self, persons, seed=seed)}

    def most_changed(self, count: int) -> np.ndarray:
        """:func:`most_changed`."""
        return most_changed(self, count)

    def captions(self, k: int) -> list[str]:
        """Per step of face ``k``: the step, the class read there and its probability."""
        ref = self.reference[k]
        out = []
        for j, label in enumerate(self.labels):
            c = self.predicted[k, j]
            mark = "-> " if c != ref else ""
            out.append(f"{label}\n{mark}{self.classes[c]} {self.proba[k, j, c]:.2f}")
        return out

    def face_rows(self, rows: np.ndarray) -> list[dict[str, object]]:
        """One CSV row per face and step: the class read, its probabilities, the checks'."""
        out = []
        for i, row in enumerate(rows):
            for j, label in enumerate(self.labels):
                entry: dict[str, object] = {"row": int(row), "step": label,
                                            "predicted": self.classes[self.predicted[i, j]]}
                entry.update({f"p_{c}": round(float(self.proba[i, j, k]), 6)
                              for k, c in enumerate(self.classes)})
                entry.update(check_columns(self.checks, i, j))
                out.append(entry)
        return out


def check_columns(checks: Sequence[Check], i: int, j: int) -> dict[str, object]:
    """``{check_<attribute>: class or value}`` read by each check on face ``i`` at step
    ``j`` (an empty value where none was made)."""
    return {f"check_{r.attribute}": r.classes[r.codes[i, j]] if isinstance(r, Reading)
            else (round(float(r.values[i, j]), 6) if np.isfinite(r.values[i, j]) else "")
            for r in checks}


def counterfactuals(decoder: Decoder, edits: Edits, classifier: Annotator, *,
                    checks: Sequence[Any] = (),
                    images: np.ndarray | None = None) -> Counterfactuals:
    """Classify the decodings of every face at every step of ``edits`` (and along its random
    directions).

    Args:
        decoder: codes (and conditions) to images (:data:`Decoder`).
        edits: the codes and conditions (:func:`direction_edits`, :func:`condition_edits`).
        classifier: the classifier under audit.
        checks: annotators (or value readers) read at every step too (of the edited
            attribute, or independent readers of the classifier's, or of another attribute).
        images: ``(n, H, W, C)`` uint8 images of the faces as the model sees them, classified
            for :meth:`Counterfactuals.reconstruction_agreement`, or None.
    """
    read, others, readings = read_edits(decoder, edits, classifier, checks)
    return Counterfactuals(
        list(edits.labels), edits.positions, edits.zero, list(classifier.classes), read,
        others.argmax(axis=3), readings,
        None if images is None else classifier.predict(images))


def read_edits(decoder: Decoder, edits: Edits, reader: Any, checks: Sequence[Any]
               ) -> tuple[np.ndarray, np.ndarray, list[Check]]:
    """``reader``'s outputs ``(n, A, K)`` on the decodings of ``edits`` (probabilities; ``K``
    = 1 readings of a value reader), its outputs ``(R, n, A, K)`` along the random directions,
    and each check's classes (an annotator) or values (a value reader) along the edit."""
    along = read_along(decoder, edits.codes, edits.conditions,
                       [outputs(r) for r in [reader, *checks]])
    others = [read_along(decoder, codes, edits.conditions, [outputs(reader)])[0]
              for codes in edits.random]
    shape = (len(others), *along[0].shape)
    return (along[0], np.array(others, float).reshape(shape),
            [Reading(c.attribute, list(c.classes), p.argmax(axis=2)) if isinstance(c, Annotator)
             else ValueReading(c.attribute, p[..., 0].astype(np.float64))
             for c, p in zip(checks, along[1:], strict=True)])


Read = Callable[[np.ndarray], np.ndarray]
"""``(m, H, W, C)`` uint8 images -> ``(m, K)`` outputs (probabilities, readings, vectors)."""


def outputs(reader: Any) -> Read:
    """What :func:`read_along` asks of a reader: an annotator's ``(m, K)`` probabilities, or a
    value reader's (one with ``values(images)``) ``(m, 1)`` readings."""
    if isinstance(reader, Annotator):
        return reader.predict_proba
    return lambda images: np.asarray(reader.values(images))[:, None]


def read_along(decoder: Decoder, codes: np.ndarray, conditions: np.ndarray | None,
               reads: Sequence[Read]) -> list[np.ndarray]:
    """Each read's ``(n, A, K)`` outputs (:func:`outputs`) on the decodings of ``codes``
    ``(n, A, D)`` (under ``conditions`` ``(n, A, K)``), decoded :data:`BATCH` faces at a
    time and each batch read by all of them."""
    n, a, d = codes.shape
    out: list[list[np.ndarray]] = [[] for _ in reads]
    for s in range(0, n, BATCH):
        cond = None if conditions is None else conditions[s:s + BATCH].reshape(
            -1, conditions.shape[2])
        images = decoder(codes[s:s + BATCH].reshape(-1, d), cond)
        for k, read in enumerate(reads):
            found = read(images)
            out[k].append(found.reshape(-1, a, found.shape[1]))
    return [np.concatenate(parts) for parts in out]


def flip_table(result: Counterfactuals, groups: np.ndarray, names: Sequence[str],
               n_boot: int = 1000, seed: int = 0, places: np.ndarray | None = None,
               persons: np.ndarray | None = None) -> list[dict[str, object]]:
    """Per group (``groups`` ``(n,)`` codes into ``names``; negative: in none) and over all
    faces, per step (``step``: its label): faces ``n``, ``flips``, ``rate`` with its Wilson
    ``low`` / ``high``, and ``p_reference``, the mean probability of each face's class at the
    reference step; with random directions also their ``random_rate`` and the ``excess`` over
    it with a bootstrap 95 % interval that resamples the faces and the random directions
    (:func:`excess_intervals`: the few directions drawn are a sample too), never narrower than
    Newcombe's score interval for paired rates (``excess_low`` / ``excess_high``,
    :func:`~latentplay.resample.difference_intervals`).

    ``places`` ``(K,)`` gives the classifier's classes places in an order (-1: outside it,
    e.g. ``unknown``); then ``shift`` is the mean place of the class read minus the place read
    at the reference step (+: later classes — older, darker), with a t 95 % interval
    (``shift_low`` / ``shift_high``), over the faces read inside the order at both.

    ``persons`` ``(n,)`` names each face's person when some have several faces: every
    interval is then a bootstrap over persons (each drawn with all of their faces); a group
    of one person has no ``shift`` interval (a bootstrap over one person is a point)."""
    flips = result.flips()
    moved = None
    if places is not None:
        read = np.asarray(places)[result.predicted].astype(float)     # (n, A)
        read[read < 0] = np.nan
        moved = read - read[:, [result.zero]]
    rand = result.random_flips()
    each = (result.random != result.reference[None, :, None]).astype(float)   # (R, n, A)
    p_ref = result.reference_proba()
    members = [(name, np.asarray(groups) == k) for k, name in enumerate(names)]
    rows: list[dict[str, object]] = []
    for name, mask in [*members, (ALL, np.ones(len(flips), bool))]:
        n = int(mask.sum())
        if not n:
            continue
        counts = flips[mask].sum(axis=0)
        units = np.arange(n) if persons is None else np.asarray(persons)[mask]
        rate_ci = (wilson_interval(counts, n) if persons is None
                   else mean_intervals(flips[mask].astype(float), units, n_boot, seed))
        if rand is not None:
            excess = flips[mask] - rand[mask]  # (n, A)
            paired = difference_intervals(flips[mask].astype(float), rand[mask], units,
                                          n_boot, seed)
            both = excess_intervals(flips[mask].astype(float), each[:, mask], units, n_boot,
                                    seed)
            excess_ci = np.stack([np.fmin(paired[:, 0], both[:, 0]),
                                  np.fmax(paired[:, 1], both[:, 1])], axis=1)
        if moved is not None and persons is not None:
            shift_ci = cluster_intervals(moved[mask], units, n_boot, seed)
        for j, label in enumerate(result.labels):
            row: dict[str, object] = {
                "group": name, "step": label, "n": n, "flips": int(counts[j]),
                "rate": float(counts[j] / n), "low": float(rate_ci[j, 0]),
                "high": float(rate_ci[j, 1]), "p_reference": float(p_ref[mask, j].mean())}
            if rand is not None:
                row.update(random_rate=float(rand[mask, j].mean()),
                           excess=float(excess[:, j].mean()), excess_low=float(excess_ci[j, 0]),
                           excess_high=float(excess_ci[j, 1]))
            if moved is not None:
                row.update(mean_interval(moved[mask, j], "shift"))
                if persons is not None and row["shift_low"] is not None:
                    row.update(shift_low=finite_or_none(shift_ci[j, 0]),
                               shift_high=finite_or_none(shift_ci[j, 1]))
            rows.append(row)
    return rows


def cluster_intervals(values: np.ndarray, units: np.ndarray, n_boot: int, seed: int,
                      proportion: bool = False) -> np.ndarray:
    """``(A, 2)`` bootstrap 95 % intervals of the column means of ``values`` ``(n, A)`` over
    the clusters of ``units`` ``(n,)`` (:func:`~latentplay.resample.mean_intervals`; NaN
    left out), NaN in a column whose values come from fewer than two clusters: one person
    (or one face) drawn again and again gives the same mean every time, a point interval
    that says nothing of the spread."""
    out = mean_intervals(values, units, n_boot, seed, proportion=proportion)
    for j in range(values.shape[1]):
        if len(np.unique(units[np.isfinite(values[:, j])])) < 2:
            out[j] = np.nan
    return out


def excess_intervals(edited: np.ndarray, random: np.ndarray, units: np.ndarray, n_boot: int,
                     seed: int) -> np.ndarray:
    """``(A, 2)`` bootstrap 95 % percentile intervals of the column means of ``edited``
    ``(n, A)`` (a flip, an absolute change) minus those of the same values ``random``
    ``(R, n, A)`` along ``R`` random directions (NaN: not read, left out).

    The random directions are a sample too: with three of them, the baseline depends on which
    three were drawn. So each of the ``n_boot`` draws takes the clusters of ``units`` ``(n,)``
    (faces, or persons with all of their faces) with replacement and, independently, ``R``
    of the directions with replacement (a two-level bootstrap); its excess is the mean of
    ``edited`` over the drawn faces minus the mean over the drawn directions of each one's
    mean over the drawn faces. Directions that disagree widen the interval; a single one
    (``R`` = 1) shows no spread between directions. The comparison is paired: a face counts
    at a step where ``edited`` and at least one direction are read there, as in the tables'
    point estimates (else faces read along one side only would move that side's mean alone).
    NaN in a column whose ``edited`` values come from fewer than two clusters (a point
    interval, as :func:`cluster_intervals`)."""
    r, n, a = random.shape
    edited = np.where(np.isfinite(random).any(axis=0), edited, np.nan)
    random = np.where(np.isfinite(edited), random, np.nan)
    read, read_random = np.isfinite(edited), np.isfinite(random)
    by_face = np.where(read_random, random, 0.0).transpose(1, 0, 2).reshape(n, r * a)
    per_face = np.concatenate([np.where(read, edited, 0.0), read, by_face,
                               read_random.transpose(1, 0, 2).reshape(n, r * a)], axis=1)
    boot = resampled(cluster_sums(units, list(per_face.T)), n_boot, seed)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = boot[:, :a] / boot[:, a:2 * a]                                  # (n_boot, A)
        along = (boot[:, 2 * a:2 * a + r * a] / boot[:, 2 * a + r * a:]).reshape(n_boot, r, a)
        picks = np.random.default_rng((seed, 1)).multinomial(r, np.full(r, 1 / r), n_boot)
        weight = picks[:, :, None] * np.isfinite(along)                       # (n_boot, R, A)
        excess = mean - (weight * np.nan_to_num(along)).sum(axis=1) / weight.sum(axis=1)
    out = np.full((a, 2), np.nan)
    for j in range(a):
        finite = excess[np.isfinite(excess[:, j]), j]
        if len(finite) and len(np.unique(units[read[:, j]])) >= 2:
            out[j] = np.percentile(finite, [2.5, 97.5])
    return out


def mean_interval(values: np.ndarray, key: str) -> dict[str, object]:
    """``{key: mean, key_low, key_high}`` of the finite ``values`` (t 95 % interval;
    None where fewer than two)."""
    x = values[np.isfinite(values)]
    if len(x) < 2:
        return {key: float(x.mean()) if len(x) else None, f"{key}_low": None,
                f"{key}_high": None}
    mean, low, high = t_interval(x)
    return {key: float(mean), f"{key}_low": float(low), f"{key}_high": float(high)}


def probability_table(result: Counterfactuals, persons: np.ndarray | None = None,
                      n_boot: int = 1000, seed: int = 0) -> list[dict[str, object]]:
    """Per step and class: the mean probability over faces with a t 95 % interval (a
    bootstrap over ``persons`` ``(n,)``, each drawn with all of their faces, when given)."""
    n, a, k = result.proba.shape
    mean, low, high = t_interval(result.proba)        # (A, K) each
    if persons is None:
        ci = np.stack([low, high], axis=-1)                    # (A, K, 2)
    else:
        ci = mean_intervals(result.proba.reshape(n, a * k), np.asarray(persons), n_boot,
                            seed).reshape(a, k, 2)
    return [{"step": label, "class": c, "mean": float(mean[j, i]),
             "low": float(ci[j, i, 0]), "high": float(ci[j, i, 1])}
            for j, label in enumerate(result.labels) for i, c in enumerate(result.classes)]


def check_table(result: Any) -> list[dict[str, object]]:
    """Per check annotator of classes, step and class: the share of faces it reads as that
    class."""
    return [{"attribute": r.attribute, "step": label, "class": c,
             "share": float(np.mean(r.codes[:, j] == k))}
            for r in result.checks if isinstance(r, Reading)
            for j, label in enumerate(result.labels) for k, c in enumerate(r.classes)]


def check_means(result: Any, persons: np.ndarray | None = None, n_boot: int = 1000,
                seed: int = 0) -> list[dict[str, object]]:
    """Per check of values and step: the faces read (``n``) and the mean reading with a t
    95 % interval (``mean``, ``mean_low``, ``mean_high``; a bootstrap over ``persons``
    ``(n,)`` when given; none from fewer than two persons), readings not made left out."""
    out: list[dict[str, object]] = []
    for r in result.checks:
        if not isinstance(r, ValueReading):
            continue
        ci = None if persons is None else cluster_intervals(r.values, np.asarray(persons),
                                                            n_boot, seed, proportion=True)
        for j, label in enumerate(result.labels):
            row = {"attribute": r.attribute, "step": label,
                   "n": int(np.isfinite(r.values[:, j]).sum()), **mean_interval(r.values[:, j], "mean")}
            if ci is not None and row["mean_low"] is not None:
                row.update(mean_low=finite_or_none(ci[j, 0]), mean_high=finite_or_none(ci[j, 1]))
            out.append(row)
    return out


def most_changed(result: Counterfactuals, count: int) -> np.ndarray:
    """``(<= count,)`` indices of the faces whose class changes at the most steps (ties: the
    largest total change of the reference class's probability)."""
    p_ref = result.reference_proba()
    change = np.abs(p_ref - p_ref[:, [result.zero]]).sum(axis=1)
    order = np.lexsort((-change, -result.flips().sum(axis=1)))
    return order[:count]
