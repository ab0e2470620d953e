"""Sampling a trained model at chosen condition values (SmileCVAE's conditional generation).

:func:`condition_sweep` decodes the same prior draws at every value of one condition
attribute, so each column of its grid is one latent code and each row one value: what changes
along a column is what the model ties to the condition. Values outside the training range are
allowed (SmileCVAE asked its CVAE for smile degrees of -3 and +3); the sweep reports the
spread of each row's images, which falls where the samples collapse towards one face, and
:func:`training_values` / :func:`near_counts` count the training faces near each value
(SmileCVAE: the samples are as varied as the faces the model saw at that value).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from latentplay.errors import UserError
from latentplay.models.condition import ConditionPart, ConditionSpec, class_code, class_names
from latentplay.reprs import short_repr
from latentplay.train.api import PathLike, as_model, decode

DIVERSITY_NOTE = ("diversity: mean RMS pixel difference between two faces of a row "
                  "(pixels 0-1; 0: all alike)")
"""What a sweep figure's per-row ``diversity`` is (for its title)."""

CHANGE_NOTE = ("change: mean RMS pixel difference from the same code at the first value (what the "
               "condition alone does)")
"""What a same-codes sweep figure's per-row ``change`` is (for its title)."""

TRAINED_NOTE = {"continuous": "training faces: the run's training rows nearer that value than the "
                              "neighbouring ones (within half the gap to each)",
                "categorical": "training faces: the run's training rows of that class"}
"""What a sweep figure's per-row count of ``training faces`` is, by the swept part's kind."""


@dataclass
class Sweep:
    """Images of one prior sample set decoded at several values of one condition attribute.

    Attributes:
        attribute: the swept condition attribute.
        values: the ``V`` values (floats, or class names for a categorical attribute).
        images: ``(V, K, S, S, C)`` uint8; ``images[v, k]`` decodes code ``k`` at value ``v``
            (the same ``K`` codes in every row unless the sweep drew new ones per value).
        diversity: ``(V,)`` mean pairwise RMS pixel distance (pixels in [0, 1]) between the
            ``K`` images of each value; low values mean the samples look alike.
        in_range: ``(V,)`` whether each value lies inside the range seen in training
            (always True for categorical values).
        trained: ``(V,)`` training faces near each value (:func:`near_counts`), or None when
            not counted.
        span: the trained range of a continuous attribute (None: categorical, or unknown).
        change: ``(V,)`` :func:`condition_change` of the images (the same codes in every row),
            or None when each value drew its own codes.
    """

    __repr__ = short_repr

    attribute: str
    values: list[Any]
    images: np.ndarray
    diversity: np.ndarray
    in_range: list[bool]
    trained: list[int] | None = None
    span: tuple[float, float] | None = None
    change: np.ndarray | None = None

    def captions(self) -> list[str]:
        """Row labels ``attribute=value``, marked ``(outside training)`` where it is."""
        return [f"{self.attribute}={_fmt(v) if ok else beyond_text(v, self.span)}"
                + ("" if ok else "\n(outside training)")
                for v, ok in zip(self.values, self.in_range, strict=True)]

    def row_labels(self) -> list[str]:
        """:meth:`captions` with each row's diversity (``diversity 0.123``; what it is:
        :data:`DIVERSITY_NOTE`, for the figure's title); ``diversity n/a`` for a row of one
        image; then its change from the first row where the codes are the same (``change
        0.045``, :data:`CHANGE_NOTE`; none on the first row); then, when counted, its training
        faces (``412 training faces``; what they are: :data:`TRAINED_NOTE`)."""
        counts = [None] * len(self.values) if self.trained is None else self.trained
        changes = [None] * len(self.values) if self.change is None else [None, *self.change[1:]]
        return [f"{c}\ndiversity " + ("n/a" if np.isnan(d) else f"{d:.3f}")
                + ("" if ch is None else f"\nchange {ch:.3f}")
                + ("" if t is None else f"\n{t} training faces")
                for c, d, ch, t in zip(self.captions(), self.diversity, changes, counts, strict=True)]

    def summary(self) -> str | None:
        """One line comparing what the condition does with what the codes do: the change
        from the first value to the last beside the diversity of the rows, e.g. ``smile -1 ->
        1 changes a face by 0.046 (RMS, pixels 0-1); two faces of one smile differ by 0.150``;
        None when each value drew its own codes or only one value was swept."""
        if self.change is None or len(self.values) < 2:
            return None
        return effect_line(self.attribute, _fmt(self.values[0]), _fmt(self.values[-1]),
                           float(self.change[-1]), mean_diversity(self.diversity))


def mean_diversity(diversity: Sequence[float] | np.ndarray) -> float | None:
    """The mean of rows' :func:`pairwise_diversity` (NaN for a row of one image); None when no
    row has two images."""
    values = np.asarray(diversity, dtype=np.float64)
    return float(np.nanmean(values)) if np.isfinite(values).any() else None


def effect_line(attribute: str, first: str, last: str, change: float, diversity: float | None) -> str:
    """``smile -1 -> 1 changes a face by 0.046 (RMS, pixels 0-1); two faces of one smile differ
    by 0.150``: the ``change`` (:func:`condition_change`) of the same codes from the ``first``
    value to the ``last`` beside the ``diversity`` of one value's faces (None: not measured),
    calling out a condition that barely shows (a change under a tenth of the diversity)."""
    line = f"{attribute} {first} -> {last} changes a face by {change:.3f} (RMS, pixels 0-1)"
    if diversity is None:
        return line
    return (line + f"; two faces of one {attribute} differ by {diversity:.3f}"
            + (": the condition barely shows" if change < diversity / 10 else ""))


def _fmt(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def beyond_text(value: float, span: tuple[float, float] | None, digits: int = 3) -> str:
    """``value`` to ``digits`` significant digits, or as many more (up to 9) as it takes to
    read as outside ``span``, the trained range: a value just beyond it (1.004) must not read
    as its edge (1) beside "(outside training)"."""
    text = f"{value:.{digits}g}"
    if span is None:
        return text
    for d in range(digits, 10):
        text = f"{value:.{d}g}"
        if not span[0] <= float(text) <= span[1]:
            break
    return text


def pairwise_diversity(images: np.ndarray) -> float:
    """Mean pairwise RMS distance between ``(K, S, S, C)`` uint8 images, pixels in [0, 1]."""
    flat = images.reshape(len(images), -1).astype(np.float64) / 255.0
    if len(flat) < 2:
        return float("nan")
    sq = (flat ** 2).sum(1)
    d2 = np.maximum(sq[:, None] + sq[None, :] - 2 * flat @ flat.T, 0.0) / flat.shape[1]
    upper = np.triu_indices(len(flat), k=1)
    return float(np.sqrt(d2[upper]).mean())


def condition_change(images: np.ndarray) -> np.ndarray:
    """How far each value moves the same codes' images from the first value's.

    Args:
        images: ``(V, K, S, S, C)`` uint8, ``images[v, k]`` code ``k`` decoded at value ``v``.

    Returns:
        ``(V,)`` mean over the ``K`` codes of the RMS pixel difference (pixels in [0, 1])
        between ``images[v, k]`` and ``images[0, k]``; 0 for the first value.
    """
    flat = images.reshape(images.shape[0], images.shape[1], -1).astype(np.float64) / 255.0
    return np.sqrt(((flat - flat[:1]) ** 2).mean(-1)).mean(-1)


def change_maps(first: np.ndarray, last: np.ndarray) -> np.ndarray:
    """Where a condition changes each face: ``(K, S, S)`` mean over the channels of
    ``|last - first|`` (pixels in [0, 1]) of ``(K, S, S, C)`` uint8 images of the same codes."""
    return np.abs(last.astype(np.float64) - first.astype(np.float64)).mean(-1) / 255.0


def where_row(images: np.ndarray, first: str, last: str) -> tuple[np.ndarray, str]:
    """The last row of a grid of the same codes decoded at several values: where each code's
    face changes from the first value to the last, as heatmaps, and the row's label.

    Args:
        images: ``(V, K, S, S, C)`` uint8, ``images[v, k]`` code ``k`` decoded at value ``v``.
        first, last: the first and last values in words (``smile=-1``).

    Returns:
        ``(K, S, S, 3)`` uint8 :func:`change_maps` drawn by
        :func:`latentplay.viz.grid.heat_images` (the brightest colour the grid's largest
        change), and its label, which gives that change.
    """
    from latentplay.viz.grid import heat_images

    maps = change_maps(images[0], images[-1])
    top = max(float(maps.max()), 1e-3)
    return heat_images(maps, top), f"where {first}\n-> {last}\nchanges them\n(brightest: {top:.2f})"


WHERE_NOTE = "last row: |last - first value| of each code, averaged over the channels"
"""What a same-codes grid's :func:`where_row` is (for its title)."""


def in_training_range(part: ConditionPart, value: Any) -> bool:
    """Whether ``value`` lies in continuous ``part``'s trained range, give or take float32
    rounding (a face's own float32 value plus a shift can land a few units in the last place
    past the end), or names a class of categorical ``part`` that rows trained on held; True
    for a part without a range."""
    if part.kind != "continuous":
        return class_names(part)[class_code(part, value)] not in part.untrained
    if part.range is None:
        return True
    lo, hi = part.range
    tol = 1e-6 * max(1.0, abs(lo), abs(hi))
    return lo - tol <= float(value) <= hi + tol


def training_values(run_dir: str | Path, part: ConditionPart) -> np.ndarray | None:
    """``part``'s values (continuous) or class codes (categorical) in the rows the run trained
    on: the first ``data.limit`` rows of its ``config.yaml``'s ``data.store`` less its held-out
    rows, drawn again as training drew them (from the store as it is now); None when the run
    has no ``config.yaml`` or its store is gone.

    Returns:
        ``(N,)`` float32 values or int64 class codes of the ``N`` training rows.

    Raises:
        UserError: the store no longer holds the attribute as the model has it.
    """
    from latentplay.store import load
    from latentplay.train.config import load_run_config
    from latentplay.train.data import first_rows, held_out_rows

    path = Path(run_dir) / "config.yaml"
    if not path.exists():
        return None
    config = load_run_config(path)
    data = config.data
    if not data.store or not Path(data.store).exists():
        return None
    store = load(data.store)
    first = first_rows(store, data.limit)
    encoded = ConditionSpec([part]).encode_store(first)  # (n, part.size)
    held = held_out_rows(store, len(first), data.test_fraction, data.split_seed, data.split,
                         data.split_version, warn=False)  # training warned of its split
    encoded = np.delete(encoded, held, axis=0)
    return encoded[:, 0] if part.kind == "continuous" else encoded.argmax(1)


def near_counts(part: ConditionPart, values: Sequence[Any],
                trained: np.ndarray) -> tuple[list[int], list[list[float]] | None] | None:
    """Training faces near each of ``V`` swept values (:data:`TRAINED_NOTE`).

    A continuous value ``v`` counts the ``trained`` values in ``[v - a/2, v + b/2)``, ``a`` and
    ``b`` the gaps to the next lower and higher distinct swept value (the one gap there is at
    either end), so nearby values split the faces between them; a categorical value counts
    the faces of its class.

    Args:
        part: the swept condition part.
        values: the ``V`` swept values (repeats allowed).
        trained: ``(N,)`` :func:`training_values`.

    Returns:
        ``(counts, windows)``: ``V`` counts and, for a continuous part, the ``V`` windows
        ``[low, high]`` (None for a categorical one); None for fewer than two distinct
        continuous values (no gap to count within).
    """
    if part.kind != "continuous":
        return [int((trained == class_code(part, v)).sum()) for v in values], None
    distinct = np.unique(np.asarray(values, dtype=np.float64))
    if len(distinct) < 2:
        return None
    gaps = np.diff(distinct)
    below = np.concatenate([gaps[:1], gaps])  # (U,) gap to the next lower value
    above = np.concatenate([gaps, gaps[-1:]])
    counts, windows = [], []
    for v in values:
        k = int(np.searchsorted(distinct, float(v)))
        low, high = distinct[k] - below[k] / 2, distinct[k] + above[k] / 2
        counts.append(int(((trained >= low) & (trained < high)).sum()))
        windows.append([float(low), float(high)])
    return counts, windows


def default_values(part: ConditionPart, count: int = 5) -> list[Any]:
    """The class names of a categorical part; ``count`` evenly spaced values over a
    continuous part's range (``[-1, 1]`` when it has none)."""
    if part.kind == "categorical":
        return list(part.names or range(part.size))
    lo, hi = part.range or (-1.0, 1.0)
    return [float(v) for v in np.linspace(lo, hi, count)]


def condition_sweep(model: torch.nn.Module | PathLike, attribute: str, values: Sequence[Any] | None = None,
                    per_value: int = 8, fixed: Mapping[str, Any] | None = None, seed: int = 0,
                    same_codes: bool = True, device: str = "cpu") -> Sweep:
    """Decode ``per_value`` prior draws ``z ~ N(0, I)`` at each value of ``attribute``.

    Args:
        model: a conditional model from :func:`latentplay.train.load_model`.
        attribute: the condition attribute to sweep.
        values: its values (floats; class names or codes for a categorical attribute);
            default: :func:`default_values`.
        per_value: ``K`` images per value.
        fixed: values of the model's other condition attributes (each one is needed).
        seed: seed of the prior draws.
        same_codes: decode the same ``K`` codes at every value (True), or new ones per value.
    """
    model = as_model(model, device)
    spec: ConditionSpec = model.condition_spec  # type: ignore[assignment]
    part = spec.part(attribute)
    fixed = dict(fixed or {})
    if attribute in fixed:
        raise UserError(f"{attribute!r} is the swept attribute; do not also fix it")
    spec.check_names(fixed)  # before asking for the others: a mistyped name is named, not asked for
    missing = [p.name for p in spec.parts if p.name != attribute and p.name not in fixed]
    if missing:
        raise UserError(f"give a value for the other condition(s) {', '.join(missing)} "
                        f"(e.g. --condition {missing[0]}=...)")
    if per_value < 1:
        raise UserError(f"per_value (--per) must be at least 1, got {per_value}")
    values = list(default_values(part) if values is None else values)
    if not values:
        raise UserError("give at least one value to sweep")
    conds = [spec.vector({**fixed, attribute: value}) for value in values]  # checks each value
    if part.kind == "continuous":
        values = [float(v) for v in values]
    rng = np.random.default_rng(seed)
    dim = int(model.latent_dim)
    z = rng.standard_normal((per_value, dim)).astype(np.float32)
    rows, diversity = [], []
    for cond in conds:
        if not same_codes and rows:
            z = rng.standard_normal((per_value, dim)).astype(np.float32)
        images = decode(model, z, condition=np.stack([cond] * per_value), device=device)
        rows.append(images)
        diversity.append(pairwise_diversity(images))
    images = np.stack(rows)
    return Sweep(attribute, values, images, np.asarray(diversity),
                 [in_training_range(part, v) for v in values],
                 span=part.range if part.kind == "continuous" else None,
                 change=condition_change(images) if same_codes else None)
