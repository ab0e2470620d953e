"""Latent codes and conditions of a store's images, and condition vectors by attribute name."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from latentplay.errors import UserError
from latentplay.store import load_images
from latentplay.store.io import Store
from latentplay.train.api import encode


def condition_vector(model: torch.nn.Module, values: Mapping[str, Any] | None) -> np.ndarray | None:
    """``(K,)`` condition of a conditional model from ``{attribute: value}``; None for an
    unconditional model (which must get no values)."""
    spec = model.condition_spec  # type: ignore[attr-defined]
    if not spec.dim:
        if values:
            raise UserError("this model is not conditional; pass no condition")
        return None
    return spec.vector(dict(values or {}))


@dataclass
class StoreCodes:
    """Codes of some rows of a store.

    Attributes:
        rows: ``(n,)`` row indices.
        images: ``(n, H, W, C)`` uint8, the store's images of those rows.
        z: ``(n, D)`` float32 codes (encoder means, or inverted codes for a generator).
        condition: ``(n, K)`` float32 conditions read from the store's attributes, or None
            for an unconditional model.
        loss: ``(n,)`` pixel MSE of the inversion, or None when the codes were encoded.
    """

    rows: np.ndarray
    images: np.ndarray
    z: np.ndarray
    condition: np.ndarray | None
    loss: np.ndarray | None = None


def checked_rows(store: Store, rows: Sequence[int]) -> np.ndarray:
    """``(n,)`` int64 row indices; a :class:`UserError` when none is given or one is out of
    range."""
    rows_arr = np.asarray(list(rows), dtype=np.int64)
    if len(rows_arr) == 0:
        raise UserError("select at least one row")
    bad = rows_arr[(rows_arr < 0) | (rows_arr >= len(store))]
    if len(bad):
        raise UserError(f"rows {bad[:5].tolist()} out of range; the store has {len(store)} rows")
    return rows_arr


def row_conditions(model: torch.nn.Module, store: Store, rows: np.ndarray) -> np.ndarray | None:
    """``(n, K)`` conditions of store ``rows`` read from its attributes (classes matched by
    name); None for an unconditional model."""
    spec = model.condition_spec  # type: ignore[attr-defined]
    return spec.encode_store(store)[rows] if spec.dim else None


def encode_rows(model: torch.nn.Module, store: Store, rows: np.ndarray, batch_size: int = 512,
                device: str = "cpu") -> np.ndarray:
    """``(n, D)`` float32 encoder means of store ``rows`` (each with its own condition), read
    ``batch_size`` images at a time, so memory does not grow with the store."""
    from latentplay.embed.column import load_rows

    cond = row_conditions(model, store, rows)
    out = [encode(model, load_rows(store, rows[s:s + batch_size]), device=device,
                  condition=None if cond is None else cond[s:s + batch_size])
           for s in range(0, len(rows), batch_size)]
    return np.concatenate(out) if out else np.zeros((0, model.latent_dim), np.float32)


def generated_codes(model: torch.nn.Module, store: Store, rows: np.ndarray) -> np.ndarray | None:
    """``(n, D)`` codes the images of ``rows`` of ``store`` were decoded from, when it was
    written by ``latentplay data generate`` from the run ``model`` was loaded from, with the
    weights it has now (a run retrained since decodes those codes to other images); else None."""
    from latentplay.latent.directions import run_sha256
    from latentplay.sources.generated import CONVERTER
    from latentplay.store.columns import vectors

    prov = store.schema.provenance
    column = prov.arguments.get("column")
    run_dir = getattr(model, "run_dir", None)
    if prov.converter != CONVERTER or run_dir is None or column not in store.columns:
        return None
    if Path(prov.source).resolve() != Path(run_dir).resolve():
        return None
    recorded = prov.arguments.get("run_sha256")
    if recorded is not None and recorded != run_sha256(run_dir):
        return None
    return vectors(store, column, rows)


def store_codes(model: torch.nn.Module, store: Store, rows: Sequence[int],
                invert_steps: int = 300, seed: int = 0, device: str = "cpu",
                per_layer: bool = False) -> StoreCodes:
    """Codes of ``rows`` of ``store``: the codes the images were decoded from when ``store``
    holds this model's own samples (:func:`generated_codes`), else encoder means for models
    with an encoder and optimised codes (:func:`latentplay.latent.invert.invert`,
    ``invert_steps`` steps) for a generator. A conditional model gets each row's own
    condition from the store's attributes. ``per_layer``: a StyleGAN2's W+ codes ``(n,
    n_layers * D)`` (a sample's own code at every layer)."""
    from latentplay.latent.invert import codes_per_image, invert

    layers = codes_per_image(model, per_layer)  # an encoder's model has no W+ either
    rows_arr = checked_rows(store, rows)
    images = load_images(store, rows_arr)
    cond = row_conditions(model, store, rows_arr)
    drawn = generated_codes(model, store, rows_arr)
    if drawn is not None:
        return StoreCodes(rows_arr, images, np.tile(drawn, (1, layers)), cond)
    if not model.has_encoder:
        result = invert(model, images, condition=cond, steps=invert_steps, seed=seed,
                        device=device, per_layer=per_layer)
        return StoreCodes(rows_arr, images, result.z, cond, result.loss)
    z = encode(model, images, condition=cond, device=device)
    return StoreCodes(rows_arr, images, z, cond)
