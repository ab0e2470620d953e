"""Counterfactual sensitivity of a reader of values (an age regressor's years, a network's
score): how far its reading moves when only one attribute of a face changes.

The edits are :mod:`~latentplay.audit.counterfactual`'s (:class:`Edits`); at each step, per
group and over all faces:

- the mean **change** of the reading from the face's unedited one (+: the reading grows),
  with a t 95 % interval — which way the reader moves (faces read older as skin darkens);
- the mean **absolute change**, and along random directions the same; the **excess** of the
  direction's over theirs (bootstrap 95 % interval over faces and random directions) is what
  the attribute does;
- how far the reading of the face as the model sees it is from its unedited decoding's.

Readings the reader could not make (NaN: no face found) are left out, face by face and step by
step.

>>> result = value_counterfactuals(decoder, edits, age_reader)
>>> result.changes().mean(0)        # (A,) mean change per step
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from latentplay.audit.counterfactual import (
    ALL,
    Check,
    Decoder,
    Edits,
    check_columns,
    cluster_intervals,
    excess_intervals,
    mean_interval,
    read_edits,
)
from latentplay.outputs import finite_or_none
from latentplay.reprs import short_repr


@dataclass
class ValueCounterfactuals:
    """A value reader's readings at every step of an edit, and along random directions.

    Attributes:
        labels: ``A`` step names; positions: ``(A,)`` numeric steps or None (classes);
        zero: index of the reference step (the face as it is, decoded).
        attribute: what the reader reads.
        readings: ``(n, A)`` float readings (NaN: none made).
        random: ``(R, n, A)`` readings along ``R`` random directions.
        checks: the checks' readings (classes or values) at each step.
        original: ``(n,)`` readings of the faces themselves (as the model sees them), or None.
    """

    __repr__ = short_repr

    labels: list[str]
    positions: np.ndarray | None
    zero: int
    attribute: str
    readings: np.ndarray
    random: np.ndarray
    checks: list[Check] = field(default_factory=list)
    original: np.ndarray | None = None
    kind = "values"

    def changes(self) -> np.ndarray:
        """``(n, A)`` readings minus each face's unedited reading."""
        return self.readings - self.readings[:, [self.zero]]

    def random_changes(self) -> np.ndarray | None:
        """``(n, A)`` mean absolute change along the random directions (None without)."""
        if not len(self.random):
            return None
        moved = np.abs(self.random - self.readings[None, :, [self.zero]])   # (R, n, A)
        read = np.isfinite(moved)
        count = read.sum(axis=0)
        total = np.where(read, moved, 0).sum(axis=0)
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)

    def unedited_groups(self) -> tuple[list[str], np.ndarray]:
        """No default groups: every face is only in ``all faces``."""
        return [], np.full(len(self.readings), -1)

    def tables(self, groups: np.ndarray, names: Sequence[str], places: Any,
               seed: int, persons: np.ndarray | None = None) -> dict[str, Any]:
        """The summary's ``changes`` (:func:`change_table`) and how far reconstruction moves
        the reading (``reconstruction_difference``: mean, and mean absolute)."""
        out: dict[str, Any] = {"changes": change_table(self, groups, names, seed=seed,
                                                       persons=persons),
                               "reconstruction_difference": None}
        if self.original is not None:
            gap = self.readings[:, self.zero] - self.original
            out["reconstruction_difference"] = {"mean": _nanmean(gap),
                                                "mean_absolute": _nanmean(np.abs(gap))}
        return out

    def most_changed(self, count: int) -> np.ndarray:
        """``(<= count,)`` faces with the largest total absolute change."""
        total = np.nansum(np.abs(self.changes()), axis=1)
        return np.argsort(-total, kind="stable")[:count]

    def captions(self, k: int) -> list[str]:
        """Per step of face ``k``: the step and the reading."""
        return [f"{label}\n{self.attribute} {value:.3g}"
                for label, value in zip(self.labels, self.readings[k], strict=True)]

    def face_rows(self, rows: np.ndarray) -> list[dict[str, object]]:
        """One CSV row per face and step: the reading and the checks' classes."""
        return [{"row": int(row), "step": label,
                 "reading": round(float(self.readings[i, j]), 6),
                 **check_columns(self.checks, i, j)}
                for i, row in enumerate(rows) for j, label in enumerate(self.labels)]


def value_counterfactuals(decoder: Decoder, edits: Edits, reader: Any, *,
                          checks: Sequence[Any] = (),
                          images: np.ndarray | None = None) -> ValueCounterfactuals:
    """Read the decodings of every face at every step of ``edits`` (and along its random
    directions) with ``reader`` (anything with ``attribute`` and ``values(images)`` ->
    ``(N,)``, e.g. :class:`~latentplay.audit.annotate.NetworkValues`); ``checks`` and
    ``images`` as in :func:`~latentplay.audit.counterfactual.counterfactuals`."""
    read, others, readings = read_edits(decoder, edits, reader, checks)
    return ValueCounterfactuals(
        list(edits.labels), edits.positions, edits.zero, reader.attribute, read[..., 0],
        others[..., 0], readings,
        None if images is None else np.asarray(reader.values(images), float))


def change_table(result: ValueCounterfactuals, groups: np.ndarray, names: Sequence[str],
                 n_boot: int = 1000, seed: int = 0, persons: np.ndarray | None = None
                 ) -> list[dict[str, object]]:
    """Per group (``groups`` ``(n,)`` codes into ``names``; negative: in none) and over all
    faces, per step: faces read at the step and unedited ``n``, the mean ``change`` with a
    t 95 % interval (``change_low`` / ``change_high``), the mean ``abs_change``; with
    random directions their ``random_abs_change`` and the ``excess`` of the absolute change
    over it with a bootstrap 95 % interval over faces and random directions (``excess_low`` /
    ``excess_high``, :func:`~latentplay.audit.counterfactual.excess_intervals`).
    With ``persons`` ``(n,)`` (some with several faces) both intervals are bootstraps over
    persons. An interval needs two faces (two persons) read: None otherwise."""
    changes = result.changes()
    rand = result.random_changes()
    if rand is not None:
        changes = np.where(np.isfinite(rand), changes, np.nan)  # faces read on both sides
        each = np.where(np.isfinite(changes), np.abs(
            result.random - result.readings[None, :, [result.zero]]), np.nan)   # (R, n, A)
    members = [(name, np.asarray(groups) == k) for k, name in enumerate(names)]
    rows: list[dict[str, object]] = []
    for name, mask in [*members, (ALL, np.ones(len(changes), bool))]:
        if not mask.any():
            continue
        units = np.arange(int(mask.sum())) if persons is None else np.asarray(persons)[mask]
        change_ci = None if persons is None else cluster_intervals(changes[mask], units, n_boot,
                                                                   seed)
        if rand is not None:
            excess = np.abs(changes[mask]) - rand[mask]          # (m, A), NaN: unread
            excess_ci = excess_intervals(np.abs(changes[mask]), each[:, mask], units, n_boot,
                                         seed)
        for j, label in enumerate(result.labels):
            x = changes[mask, j]
            x = x[np.isfinite(x)]
            row: dict[str, object] = {"group": name, "step": label, "n": int(len(x)),
                                      **mean_interval(x, "change"),
                                      "abs_change": _nanmean(np.abs(x))}
            if change_ci is not None and row["change_low"] is not None:
                row.update(change_low=finite_or_none(change_ci[j, 0]),
                           change_high=finite_or_none(change_ci[j, 1]))
            if rand is not None:
                row.update(random_abs_change=_nanmean(np.where(np.isfinite(changes[mask, j]),
                                                               rand[mask, j], np.nan)),
                           excess=_nanmean(excess[:, j]), excess_low=finite_or_none(excess_ci[j, 0]),
                           excess_high=finite_or_none(excess_ci[j, 1]))
            rows.append(row)
    return rows


def _nanmean(x: np.ndarray) -> float | None:
    """Mean of the finite entries, None when there are none."""
    x = np.asarray(x, float)
    x = x[np.isfinite(x)]
    return float(x.mean()) if len(x) else None
