"""What the playground has loaded: a run's model, a store, and caches shared by the tabs.

:class:`Playground` opens a run directory and/or a store once and keeps what the handlers
reuse: the model, the run's encoded images (``latents.npy``), its principal axes, the codes of
store rows (encoded, or inverted for a generator), the whole store's codes, fitted
directions and 2-d projections. Every tab's work is a plain function of a :class:`Playground` in
:mod:`latentplay.app.generate`, :mod:`latentplay.app.faces` and
:mod:`latentplay.app.projection`, returning NumPy images or a figure.

>>> pg = Playground.open(run="runs/cvae", data="data/faces")
>>> pg.condition({"smile": 0.5, "gender": "female"})      # (K,) float32
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import torch

from latentplay.errors import UserError
from latentplay.latent.directions import Direction
from latentplay.latent.traverse import PCAAxes, SefaAxes
from latentplay.models.condition import ConditionPart
from latentplay.models.stylegan2 import in_w
from latentplay.store.io import Store, opened

PathLike = str | os.PathLike[str]

PYPLOT = threading.Lock()
"""Held while a tab draws with matplotlib's pyplot, which is not thread-safe: Gradio runs the
events of different tabs in parallel threads."""

INVERT_STEPS = 150
"""Optimisation steps per face when a generator's codes are found by inversion."""


def open_run(run: PathLike) -> torch.nn.Module:
    """The model of run directory ``run``; a missing path or a directory without a trained
    model is a :class:`UserError`."""
    from latentplay.train import load_model

    path = Path(run)
    if not path.is_dir():
        raise UserError(f"no run at {path}: not a directory")
    return load_model(path)


@dataclass(eq=False)
class Playground:
    """A loaded run and/or store, and the caches of the tabs.

    Attributes:
        run: run directory (None when only a store was given).
        store: the store (None when only a run was given).
        model: the run's model in eval mode on the CPU (None without a run).
        invert_steps: inversion steps per face for a generator (no encoder).
        row_codes: ``(code (D,), condition (K,) or None)`` of each store row used so far, by
            (row, the store's column of this run's codes they were read from, or None).
        directions: fitted directions by (column, attribute, positive class).
        projections: ``(coords (n, 2), rows (n,))`` by (column, method, sample, seed).
    """

    run: Path | None
    store: Store | None
    model: torch.nn.Module | None
    invert_steps: int = INVERT_STEPS
    row_codes: dict[tuple[int, str | None], tuple[np.ndarray, np.ndarray | None]] = field(
        default_factory=dict, repr=False)
    directions: dict[tuple[str, str, str | None], Direction] = field(default_factory=dict,
                                                                      repr=False)
    projections: dict[tuple[Any, ...], tuple[np.ndarray, np.ndarray]] = field(
        default_factory=dict, repr=False)

    def __repr__(self) -> str:
        """One line a notebook can show: the run with its model's family, latent size and
        condition, the store (its own one-line repr) and the inversion steps (the dataclass's
        own repr printed the whole torch model, layer by layer)."""
        model = "None"
        if self.model is not None:
            condition = ", ".join(part.name for part in self.condition_parts)
            model = f"<{self.family}, {self.latent_dim} latents" + (
                f", conditioned on {condition}>" if condition else ">")
        run = None if self.run is None else str(self.run)
        return (f"Playground(run={run!r}, model={model}, store={self.store!r}, "
                f"invert_steps={self.invert_steps})")

    @classmethod
    def open(cls, run: PathLike | None = None, data: Store | PathLike | None = None) -> Playground:
        """Load the run directory ``run`` and/or the store ``data`` (a store or its path; either
        may be None)."""
        model = open_run(run) if run is not None else None
        store = opened(data) if data is not None else None
        return cls(run=None if run is None else Path(run), store=store, model=model)

    # ---- the model ------------------------------------------------------------------------
    def need_model(self) -> torch.nn.Module:
        """The model; a :class:`UserError` when no run was loaded."""
        if self.model is None:
            raise UserError("no run loaded; start the app with --run RUN")
        return self.model

    def need_store(self) -> Store:
        """The store; a :class:`UserError` when none was loaded."""
        if self.store is None:
            raise UserError("no store loaded; start the app with --data STORE")
        return self.store

    @property
    def family(self) -> str:
        """Model family (``ae``, ``vae``, ``cvae``, ``dcgan``); empty without a run."""
        return "" if self.model is None else str(self.model.family)

    @property
    def has_encoder(self) -> bool:
        """Whether the model encodes images (autoencoders) rather than only generating."""
        return self.model is not None and bool(self.model.has_encoder)

    @property
    def latent_dim(self) -> int:
        return int(self.need_model().latent_dim)

    @property
    def condition_parts(self) -> list[ConditionPart]:
        """The parts of a conditional model's condition (empty otherwise)."""
        if self.model is None:
            return []
        return list(self.model.condition_spec.parts)

    @cached_property
    def condition_problem(self) -> str | None:
        """Why the store cannot give a conditional run's faces their conditions (the attributes
        the run is conditioned on missing, or a value the run cannot take), so that the Faces
        tab, which decodes each face at its own condition, cannot work; None when it can, or
        without a conditional run and a store."""
        if self.store is None or not self.condition_parts:
            return None
        absent = [p.name for p in self.condition_parts if not self.store.schema.has_attribute(p.name)]
        if absent:
            return f"the store has no attribute{'s' if len(absent) > 1 else ''} {', '.join(absent)}"
        try:
            self.need_model().condition_spec.encode_store(self.store)
        except UserError as exc:
            return str(exc)
        return None

    def condition(self, values: Mapping[str, Any] | None) -> np.ndarray | None:
        """``(K,)`` float32 condition from ``{attribute: value}``; None for an unconditional
        model."""
        from latentplay.latent.codes import condition_vector

        return condition_vector(self.need_model(), values if self.condition_parts else None)

    def decode(self, z: np.ndarray, condition: np.ndarray | None) -> np.ndarray:
        """``(N, S, S, C)`` uint8 images of codes ``z`` ``(N, D)``, all at the ``(K,)``
        ``condition`` (or per row when it is ``(N, K)``)."""
        from latentplay.train import decode

        cond = None
        if condition is not None:
            cond = np.asarray(condition, np.float32)
            cond = np.repeat(cond[None], len(z), 0) if cond.ndim == 1 else cond
        return decode(self.need_model(), np.asarray(z, np.float32), condition=cond)

    # ---- the run's encoded images ---------------------------------------------------------
    @cached_property
    def latents(self) -> np.ndarray | None:
        """``(N, D)`` encoder means of the run's store images, training and held-out rows (every
        row of ``latents.npy``, as its ``active_units.json`` and ``latentplay latent traverse``
        take them), or None (a generator, or a run without ``latents.npy``)."""
        from latentplay.latent.traverse import run_latents

        if not self.has_encoder or self.run is None or not (self.run / "latents.npy").exists():
            return None
        return run_latents(self.run)

    @cached_property
    def frame(self) -> tuple[np.ndarray, np.ndarray]:
        """``(centre (D,), scale (D,))`` of prior draws and traversals (the prior's ``(0, 1)``;
        the mean and SD of :attr:`latents` for a plain autoencoder)."""
        from latentplay.latent.traverse import axis_frame

        return axis_frame(self.need_model(), self.latents)

    @cached_property
    def ranked(self) -> tuple[np.ndarray, np.ndarray | None]:
        """Latent dimensions ``(D,)`` ordered by decreasing variance of the encoder means, and
        those variances ``(D,)`` in that order (dimension order and None without them)."""
        from latentplay.latent.traverse import ranked_axes

        if self.latents is None:
            return np.arange(self.latent_dim), None
        order = ranked_axes(self.latents)
        return order, self.latents.var(0)[order]

    @cached_property
    def sefa(self) -> SefaAxes | None:
        """SeFa directions of an imported StyleGAN2 or StyleGAN3 whose codes are in W; None otherwise."""
        from latentplay.latent.traverse import sefa_axes

        return sefa_axes(self.model) if in_w(self.model) else None

    def need_sefa(self) -> SefaAxes:
        """:attr:`sefa`; a :class:`UserError` for any other run."""
        if self.sefa is None:
            raise UserError("SeFa directions belong to an imported StyleGAN2 or StyleGAN3 with codes in W")
        return self.sefa

    @cached_property
    def pca(self) -> PCAAxes:
        """Principal axes of :attr:`latents`; a :class:`UserError` without them."""
        from latentplay.latent.traverse import pca_axes

        if self.latents is None:
            raise UserError("principal axes need the run's encoded images (latents.npy), "
                            "which only encoder models write")
        return pca_axes(self.latents)

    # ---- codes of store rows --------------------------------------------------------------
    def check_row(self, row: float | int | None) -> int:
        """``row`` as an int index of the store; a :class:`UserError` when out of range."""
        store = self.need_store()
        if row is None or not float(row).is_integer():
            raise UserError(f"row must be a whole number, got {row!r}")
        if not 0 <= int(row) < len(store):
            raise UserError(f"row {int(row)} out of range; the store has {len(store)} rows "
                            f"(0..{len(store) - 1})")
        return int(row)

    def image(self, row: float | int) -> np.ndarray:
        """``(H, W, C)`` uint8 store image of ``row``."""
        from latentplay.store import load_images

        return load_images(self.need_store(), [self.check_row(row)])[0]

    def code_column(self, prefer: str | None = None) -> str | None:
        """The vector column of the store holding this run's codes that :meth:`codes` reads, as
        ``latentplay latent edit`` picks it (:func:`~latentplay.latent.codes.run_column`):
        ``prefer`` (the column a direction was fitted on) when it is one, else, for a generator,
        the latest ``latentplay embed --with invert:RUN`` column of the run; None when there is
        none (encoder means, or inversion)."""
        from latentplay.latent.codes import run_column

        return run_column(self.need_store(), self.need_model(), self.latent_dim, prefer)

    @cached_property
    def inverts(self) -> bool:
        """Whether :meth:`codes` finds the codes of store faces by inversion (a generator, a
        store that is not of its own samples and holds no column of its codes), which costs
        :attr:`invert_steps` passes through the generator and back per new face."""
        from latentplay.latent.codes import generated_codes

        if self.model is None or self.store is None or self.has_encoder or not len(self.store):
            return False
        if generated_codes(self.model, self.store, np.arange(1)) is not None:
            return False
        return self.code_column() is None

    def codes(self, rows: Sequence[float | int], prefer: str | None = None
              ) -> tuple[np.ndarray, np.ndarray | None]:
        """Codes ``(n, D)`` float32 of store ``rows`` and their conditions ``(n, K)`` (None
        for an unconditional model), as ``latentplay latent edit`` finds them
        (:func:`~latentplay.latent.codes.store_codes`): the codes a store of the run's samples
        was drawn from, the store's column of this run's codes (:meth:`code_column`, ``prefer``
        first), encoder means, or codes found by inversion (:attr:`invert_steps`) for a
        generator. Cached per row and column."""
        from latentplay.latent.codes import store_codes

        model, store = self.need_model(), self.need_store()
        wanted = [self.check_row(r) for r in rows]
        column = self.code_column(prefer)
        missing = sorted({r for r in wanted if (r, column) not in self.row_codes})
        if missing:
            found = store_codes(model, store, missing, invert_steps=self.invert_steps,
                                columns=True, prefer=column)
            for k, r in enumerate(missing):
                self.row_codes[r, column] = (found.z[k], None if found.condition is None
                                             else found.condition[k])
        z = np.stack([self.row_codes[r, column][0] for r in wanted])
        conds = [self.row_codes[r, column][1] for r in wanted]
        return z, None if conds[0] is None else np.stack(conds)  # type: ignore[arg-type]

    @cached_property
    def store_codes(self) -> np.ndarray:
        """``(N, D)`` encoder means of every store row (each with its own condition); a
        :class:`UserError` for a generator, whose codes would need a whole-store inversion."""
        from latentplay.latent.codes import encode_rows

        if not self.has_encoder:
            raise UserError("a generator has no encoder; invert the store first "
                            "(`latentplay embed STORE --with invert:RUN --column z`) and pick "
                            "that column")
        store = self.need_store()
        return encode_rows(self.need_model(), store, np.arange(len(store)))

    def fitted(self, images: np.ndarray) -> np.ndarray:
        """Store images ``(n, H, W, C)`` as the model sees them ``(n, S, S, C)`` (crop, size,
        channels)."""
        from latentplay.train.api import model_input

        return model_input(self.need_model(), images)
