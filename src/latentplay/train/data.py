"""Training data held in memory as one uint8 tensor, indexed per batch (no DataLoader workers).

Images are decoded once from the store's PNG column (resized to ``data.size`` and converted to
gray or RGB as configured) into ``(N, C, S, S)`` uint8 -- 4 KiB per 64x64 gray image, 3 GiB
for all 737,280 dSprites-sized images -- and moved to the training device. A batch is
``images[idx].float() / 255``. Every epoch's order is a permutation seeded by
``(seed, epoch)``, so a resumed run replays exactly the batches it would have seen.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from latentplay import outputs
from latentplay.errors import UserError
from latentplay.models.condition import ConditionSpec
from latentplay.outputs import progress_bar
from latentplay.store import Store, load, load_images
from latentplay.store.bias import person_attribute, repeated_persons
from latentplay.store.split import split_counts, stored_part, stored_test_rows

CHUNK = 4096
DATA_SETTINGS = ("seed", "trainer.batch_size", "data.size", "data.crop", "data.channels",
                 "data.test_fraction", "data.limit", "data.split", "data.split_version",
                 "data.split_seed")
"""The settings that decide which images a run trains on, which it holds out and in which
batches it sees them: a resume must find them as the run's checkpoint recorded them
(:func:`check_same_data`). ``data.store`` is not among them: a store moved elsewhere may be
named anew, its rows are compared instead."""


@dataclass
class TrainingData:
    """Attributes:
        images: ``(N, C, S, S)`` uint8 tensor (on the training device once :meth:`to` ran).
        cond: ``(N, K)`` float32 condition matrix (``K`` = 0 when unconditional).
        train_idx / test_idx: sorted row numbers of the two splits.
        rows: ``(N,)`` store row of every image (``data.limit`` keeps the first rows).
        labels: attribute name -> ``(N,)`` float32 label values (codes for categories).
        spec: layout of the condition vector.
        persons: ``(N,)`` person codes where the store shows a person in several rows
            (:func:`~latentplay.store.bias.repeated_persons`), else None.
    """

    images: torch.Tensor
    cond: torch.Tensor
    train_idx: np.ndarray
    test_idx: np.ndarray
    rows: np.ndarray
    labels: dict[str, np.ndarray]
    spec: ConditionSpec
    persons: np.ndarray | None = None

    @property
    def channels(self) -> int:
        return int(self.images.shape[1])

    def to(self, device: torch.device) -> TrainingData:
        self.images = self.images.to(device)
        self.cond = self.cond.to(device)
        return self

    def batch(
        self, idx: torch.Tensor, channels_last: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Images ``(B, C, S, S)`` float32 in [0, 1] and conditions ``(B, K)`` (or None)."""
        x = self.images[idx].float().div_(255.0)
        if channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        return x, (self.cond[idx] if self.cond.shape[1] else None)

    def mean_value(self, rows: np.ndarray, limit: int = 10_000) -> torch.Tensor:
        """``(C,)`` mean value in [0, 1] per channel of the first ``limit`` of ``rows``
        (no random numbers drawn, so resumed runs stay exact)."""
        total = self._pixel_sums(rows[:limit]).sum((1, 2))
        pixels = max(len(rows[:limit]), 1) * self.images.shape[2] * self.images.shape[3]
        return (total / (255.0 * pixels)).float()

    def mean_image(self, rows: np.ndarray, limit: int = 10_000) -> torch.Tensor:
        """``(C, S, S)`` float32 mean image in [0, 1] of the first ``limit`` of ``rows``."""
        return (self._pixel_sums(rows[:limit]) / (255.0 * max(len(rows[:limit]), 1))).float()

    def _pixel_sums(self, rows: np.ndarray) -> torch.Tensor:
        """``(C, S, S)`` float64 sum of the images of ``rows`` over the rows (whole numbers,
        exact: their order of summation does not change them)."""
        total = torch.zeros(self.images.shape[1:], dtype=torch.float64, device=self.images.device)
        for start in range(0, len(rows), CHUNK):
            idx = torch.from_numpy(rows[start:start + CHUNK]).to(self.images.device)
            total += self.images[idx].sum(0, dtype=torch.float64)
        return total

    def epoch_order(self, seed: int, epoch: int, batch_size: int, rank: int = 0,
                    world: int = 1) -> torch.Tensor:
        """``(steps, batch_size)`` row numbers of this process's batches in ``epoch``
        (the last incomplete batch is dropped)."""
        perm = np.random.default_rng([seed, epoch]).permutation(self.train_idx)
        steps = len(perm) // (batch_size * world)
        if len(perm) < world:
            raise UserError(f"{len(perm)} training images are fewer than the {world} processes "
                            "(trainer.devices x trainer.num_nodes), each of which needs one a "
                            "batch: the store is too small for that many processes")
        if steps == 0:
            raise UserError(f"{len(perm)} training images are fewer than one batch of "
                            f"{batch_size} x {world} process(es); give --batch-size "
                            f"{len(perm) // world} or fewer (trainer.batch_size)")
        mine = perm[: steps * batch_size * world].reshape(steps, world, batch_size)[:, rank]
        return torch.from_numpy(np.ascontiguousarray(mine)).to(self.images.device)

    def digests(self) -> dict[str, Any]:
        """What a run's checkpoint records of its data (:func:`check_same_data`): the number of
        rows, and SHA-256 digests of the decoded images, the conditions and the held-out rows
        (one pass over the images, on the CPU: call it before :meth:`to`)."""

        def digest(array: np.ndarray) -> str:
            return hashlib.sha256(np.ascontiguousarray(array).reshape(-1).view(np.uint8)).hexdigest()

        return {"rows": len(self.rows), "images": digest(self.images.cpu().numpy()),
                "conditions": digest(self.cond.cpu().numpy()), "held_out": digest(self.test_idx)}


def load_training_data(
    store: Store | str, size: int, channels: int, condition: list[str],
    test_fraction: float, limit: int, split_seed: int, progress: bool = True, crop: float = 1.0,
    split: str = "rows", split_version: int = 2,
) -> TrainingData:
    """Decode the store's images and labels for training (see the module docstring); the
    held-out rows are drawn as :func:`held_out_rows` does with ``split_seed`` (``data.split_seed``,
    not the run's ``seed``: runs of several seeds hold out the same rows), ``split`` and
    ``split_version`` (``data.split_version``: 1 for a run saved before version 2)."""
    store = load(store) if isinstance(store, str) else store
    first = first_rows(store.require_rows("train on"), limit)
    n = len(first)
    if channels == 0:  # the store's: gray or RGB, alpha dropped (encode feeds only those)
        stored = load_images(store, [0]).shape[3]
        channels = 3 if stored == 4 else (1 if stored == 2 else 0)
    mode = {0: None, 1: "L", 3: "RGB"}[channels]
    # (n, C, S, S) uint8, filled a chunk at a time: chunks joined at the end held them twice
    images: torch.Tensor | None = None
    with progress_bar(show=progress) as bar:
        task = bar.add_task("decoding images", total=n)
        for start in range(0, n, CHUNK):
            arr = load_images(store, np.arange(start, min(n, start + CHUNK)), size=size, mode=mode,
                              crop=crop)
            chunk = torch.from_numpy(arr).permute(0, 3, 1, 2)
            if images is None:
                images = torch.empty((n, *chunk.shape[1:]), dtype=chunk.dtype)
            images[start:start + len(chunk)] = chunk
            bar.advance(task, len(arr))
    assert images is not None
    # the rows trained on: a measured condition's range spans theirs, and rows past data.limit
    # need no value
    spec = ConditionSpec.from_store(first, condition)
    for part in spec.parts:
        if part.untrained:
            outputs.warn(f"note: condition {part.name}: no row trained on is {', '.join(part.untrained)}; "
                         "decodings at it show a class the run never saw (marked outside training)")
    cond = torch.from_numpy(spec.encode_store(first))
    labels = {a.name: np.asarray(store.labels(a.name)[:n], dtype=np.float32)
              for a in store.schema.attributes}
    test_idx = held_out_rows(store, n, test_fraction, split_seed, split, split_version)
    persons = repeated_persons(store)
    return TrainingData(
        images=images, cond=cond, train_idx=np.setdiff1d(np.arange(n), test_idx),
        test_idx=test_idx, rows=np.arange(n), labels=labels, spec=spec,
        persons=None if persons is None else persons[:n],
    )


def first_rows(store: Store, limit: int) -> Store:
    """The rows a run reads of ``store``: its first ``limit`` (``data.limit``; 0 or less: all)."""
    n = rows_read(store, limit)
    return store if n == len(store) else store.select(range(n))


def rows_read(store: Store, limit: int) -> int:
    """How many rows a run reads of ``store``: its first ``limit`` (``data.limit``; 0 or less:
    all)."""
    return len(store) if limit <= 0 else min(limit, len(store))


def data_settings(config: Any) -> dict[str, Any]:
    """The run config's :data:`DATA_SETTINGS`, ``{"data.size": 64, ...}``."""
    return {key: functools.reduce(getattr, key.split("."), config) for key in DATA_SETTINGS}


def check_same_data(saved: dict[str, Any] | None, now: dict[str, Any], run_dir: Path,
                    store: str) -> None:
    """A :class:`UserError` naming the first difference between what a run's checkpoint
    recorded of its data (``saved``: ``{"settings": data_settings(...), **digests()}``; None
    for a checkpoint saved before the record, not checked) and what a resume finds (``now``:
    the same keys, or some of them, e.g. the settings and the rows before the images are
    decoded) in ``store``: going on would draw another held-out split, mix test metrics of
    different rows and declare the epoch complete."""
    if not saved:
        return
    then = saved.get("settings", {})
    for key, value in now.get("settings", {}).items():
        if key in then and then[key] != value:
            raise UserError(f"{run_dir / 'config.yaml'} sets {key}={value}, but {run_dir} was trained "
                            f"with {key}={then[key]}: set it back to resume (the run goes on only with "
                            "the rows, split and batches it began with)")
    back = "resume with the store it was trained on (data.store in config.yaml)"
    if "rows" in now and now["rows"] != saved.get("rows", now["rows"]):
        raise UserError(f"{store} has {now['rows']} rows to train on; {run_dir} was trained on "
                        f"{saved['rows']} rows: {back}")
    for key, what in (("images", "the images of"), ("conditions", "the condition values in"),
                      ("held_out", "the rows held out of")):
        if key in now and now[key] != saved.get(key, now[key]):
            raise UserError(f"{what} {store} differ from those {run_dir} was trained on (the store "
                            f"was replaced or rewritten): {back}")


def held_out_rows(store: Store, n: int, fraction: float, seed: int, split: str,
                  version: int = 2, warn: bool = True,
                  names: tuple[str, str] = ("data.split=", "data.test_fraction=")) -> np.ndarray:
    """Sorted held-out rows among the first ``n`` of ``store``, about ``fraction`` of them:
    random rows (``split`` ``rows``), or whole persons
    (:func:`~latentplay.store.bias.person_attribute`; ``persons``, or ``auto`` when the store
    repeats them, else rows); ``store``: the store's own split (:func:`stored_test_rows`),
    ``fraction`` and ``seed`` unread. With ``auto`` and ``warn``, a store that has its own
    split is told of on standard error. ``names`` spell the two settings in messages
    (``("--split ", "--test-fraction ")`` for a command's options).

    Persons are visited in a seeded random order. ``version`` 2 holds out about as close to
    ``fraction`` of the rows as whole persons allow (:func:`_closest_persons`; at least one
    person) and, with ``warn``, prints a line on standard error when the share held out is
    under half or over 1.5 times ``fraction`` (training says it; a split drawn again need not).
    ``version`` 1 (runs saved before version 2, which resume with their own split) takes
    persons in that order until they hold that many rows, however far past.

    Raises:
        UserError: ``persons`` without a person attribute, or every row held out.
    """
    setting, share = names
    if split == "store":
        return stored_test_rows(store, n, warn, setting)
    stored = stored_part(store) if split == "auto" and warn else None
    if stored is not None:
        outputs.warn(f"note: {store.path} has a split of its own ({split_counts(store, n)}); "
                     f"{setting}store holds out its {stored} rows")
    rng = np.random.default_rng(seed)
    n_test = int(round(n * fraction))
    if split == "persons" and person_attribute(store) is None:
        raise UserError(f"{setting}persons needs the store's identity (or the person "
                        "attribute of data persons)")
    persons = None if split == "rows" else repeated_persons(store)
    if persons is None or n_test == 0:
        return np.sort(rng.permutation(n)[:n_test])
    _, person, photos = np.unique(persons[:n], return_inverse=True, return_counts=True)
    order = rng.permutation(len(photos))
    if version == 1:
        chosen = order[:int(np.searchsorted(np.cumsum(photos[order]), n_test)) + 1]
    else:
        chosen = _closest_persons(photos, order, n_test)
    if len(chosen) == len(photos):
        raise UserError(f"{setting}{split} holds out every row: the first {n} rows show "
                        f"{len(photos)} person(s); use {setting}rows or {share}0")
    test = np.flatnonzero(np.isin(person, chosen))
    if warn and version != 1 and not 0.5 * n_test <= len(test) <= 1.5 * n_test:
        outputs.warn(f"warning: {setting}{split} holds out {len(test)} of {n} rows "
                     f"({len(test) / n:.1%}) as whole persons, not {share}{fraction:g}: "
                     f"the first {n} rows show {len(photos)} person(s) of {photos.min()} to "
                     f"{photos.max()} rows")
    return test


def _closest_persons(photos: np.ndarray, order: np.ndarray, target: int) -> np.ndarray:
    """Persons (indices into ``photos``, the ``(P,)`` rows of each) visited in ``order``
    (``(P,)``): each taken while the total stays within ``target``, then, when that leaves the
    total short, the one left that brings it closest to ``target`` if it gets closer (or if
    none was taken: at least one person)."""
    taken = np.zeros(len(photos), dtype=bool)
    held = 0
    for p in order:
        if held + photos[p] <= target:
            taken[p] = True
            held += photos[p]
    left = order[~taken[order]]
    if held < target and len(left):
        best = left[np.argmin(np.abs(held + photos[left] - target))]  # first of the closest
        if abs(held + photos[best] - target) < target - held or held == 0:
            taken[best] = True
    return np.flatnonzero(taken)
