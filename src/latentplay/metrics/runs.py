"""Metrics of a trained run: its encoder as the representation, a store as the ground truth.

A run's encoder maps uint8 images to the means of ``q(z|x)`` (``latentplay.train.encode``);
:func:`run_representation` wraps it as the ``represent`` function of the metrics.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from latentplay.errors import UserError
from latentplay.jsontext import parsed_json
from latentplay.metrics.evaluate import append_dis_metrics, evaluate, parse_names
from latentplay.outputs import make_parents, refuse_nonempty, write_atomic


def check_encoder(run_dir: str | os.PathLike[str]) -> None:
    """Refuse, from the run's ``model.json`` alone (no weights read), a run whose model cannot
    give the metrics codes: a generator (``dcgan``, ``stylegan2``, ``stylegan3``) has no encoder,
    and a conditional model's encoder needs a condition that the metrics' observations lack."""
    from latentplay.models import FAMILIES, ConditionSpec, family_config
    from latentplay.train.checkpoint import read_meta

    meta = read_meta(run_dir)
    family = meta["family"]
    family_config(family)  # an unknown family is named
    if not FAMILIES[family][1].has_encoder:
        raise UserError(f"{run_dir} holds a {family} generator, which has no encoder; disentanglement "
                        "metrics encode images: give an autoencoder run (ae, vae)")
    spec = ConditionSpec.from_dict(meta["condition"])
    if spec.dim:
        raise UserError(f"{run_dir} holds a {family} conditioned on {', '.join(p.name for p in spec.parts)}; "
                        "disentanglement metrics encode images without a condition: give an "
                        "unconditional run (ae, vae)")


def run_representation(
    run_dir: str | os.PathLike[str], batch_size: int = 256
) -> Callable[[np.ndarray], np.ndarray]:
    """``represent(observations (n, H, W, C) float in [0, 1]) -> (n, D) float32`` encoder means
    of the run's model. uint8 observations (0..255, what :func:`latentplay.store.load_images`
    returns) are taken as ``x / 255``; float ones outside [0, 1] (or NaN) are refused with a
    :class:`UserError` rather than encoded as other pixels. The model is loaded once (also for
    observations of another size or channel count, which go through
    :func:`latentplay.train.encode` to be converted as training did). A run without an encoder
    or with a conditional model is refused first (:func:`check_encoder`)."""
    import torch

    from latentplay.train import encode, load_model

    run = Path(run_dir)
    if not (run / "model.safetensors").exists():
        raise UserError(f"{run} holds no trained model (model.safetensors)")
    check_encoder(run)
    model = load_model(run)

    @torch.no_grad()
    def represent(observations: np.ndarray) -> np.ndarray:
        obs = unit_images(observations)
        if obs.shape[1:] != (model.size, model.size, model.channels):
            images = np.clip(np.rint(obs * 255.0), 0, 255).astype(np.uint8)
            return encode(model, images, batch_size=batch_size)
        out = []
        for s in range(0, len(obs), batch_size):
            x = torch.from_numpy(obs[s : s + batch_size]).permute(0, 3, 1, 2)
            out.append(model.encode(x, None)[0].float().numpy())
        return np.concatenate(out) if out else np.zeros((0, model.latent_dim), np.float32)

    return represent


def unit_images(observations: np.ndarray) -> np.ndarray:
    """``observations`` as float32 in [0, 1]: uint8 ones (0..255) divided by 255, others taken
    as they are; a :class:`UserError` for values outside [0, 1] or NaN (uint8 images cast to
    float, say, which would be encoded as other pixels: white where clipped)."""
    raw = np.asarray(observations)
    if raw.dtype == np.uint8:
        return raw.astype(np.float32) / np.float32(255)
    obs = raw.astype(np.float32)
    if obs.size and not (obs.min() >= 0 and obs.max() <= 1):   # NaN fails both
        known = obs[~np.isnan(obs)]
        span = f"from {known.min():g} to {known.max():g}" if known.size else "all NaN"
        nan = " and NaN" if known.size < obs.size and known.size else ""
        raise UserError(f"observations must be float in [0, 1] or uint8 0..255, got {raw.dtype} "
                        f"values {span}{nan}")
    return obs


def ground_truth_of(data: Any) -> Any:
    """The ground truth to sample metrics from for a store.

    A store made by the ``shapes`` generator is re-rendered on demand
    (:class:`~latentplay.sources.shapes.ShapesGroundTruth`, the same pixels), so every factor
    combination exists even when the store holds a sample of the grid. Any other store serves
    its own rows (:class:`~latentplay.store.StoreGroundTruth`); BetaVAE and FactorVAE then need
    the store to hold the full factor grid.
    """
    from latentplay.sources.shapes import ShapesGroundTruth
    from latentplay.store import StoreGroundTruth

    if data.schema.provenance is not None and data.schema.provenance.converter == "shapes":
        return ShapesGroundTruth()
    return StoreGroundTruth(data)


def check_grid(ground_truth: Any, names: str | Sequence[str] | None) -> None:
    """A :class:`UserError`, before any image is encoded, when ``names`` (``all`` included)
    hold BetaVAE or FactorVAE and ``ground_truth`` is a store without the full factor grid:
    they fix one factor and draw the others uniformly, so they need every combination (a
    subset of the grid failed after the other metrics, naming a row index)."""
    from latentplay.metrics.registry import get

    if getattr(ground_truth, "complete", True):
        return
    chosen = parse_names(names)
    sampled = [n for n in chosen if get(n)[0].arrays is None]
    if sampled:
        held = ground_truth.combinations
        grid = int(np.prod(ground_truth.factors_num_values))
        others = [n for n in chosen if n not in sampled]
        raise UserError(f"{', '.join(sampled)} fix one factor and draw the others from every "
                        f"combination, but this store holds {held:,} of the {grid:,} "
                        "combinations of its factors (a part of the grid); give the full grid, "
                        "or leave them out"
                        + (f" (--metrics {','.join(others)})" if others else ""))


def evaluate_run(
    run_dir: str | os.PathLike[str],
    data: str | os.PathLike[str] | Any,
    names: str | Sequence[str] | None = None,
    *,
    random_state: int = 0,
    batch_size: int = 256,
    on_done: Callable[[str, dict[str, float]], None] | None = None,
    on_start: Callable[[str, int | None], None] | None = None,
    on_encoded: Callable[[int], None] | None = None,
) -> dict[str, float]:
    """Metrics of run ``run_dir``'s encoder, sampling from store ``data``'s factors
    (:func:`ground_truth_of`; ``data`` may also be the ground truth it built, so that a
    caller who checked the store builds it once); returns ``{"<metric>.<score>": value}``.

    ``on_start(name, images)`` and ``on_done(name, scores)`` frame each metric
    (:func:`~latentplay.metrics.evaluate.evaluate`); ``on_encoded(n)`` is called after every
    encoder call with the number of images it encoded. None of them changes the scores."""
    from latentplay import store

    ground_truth = ground_truth_of(store.load(data)) if isinstance(data, (str, os.PathLike)) else data
    check_grid(ground_truth, names)
    represent = run_representation(run_dir, batch_size)
    if on_encoded is not None:
        represent = counting(represent, on_encoded)
    return evaluate(
        names,
        ground_truth=ground_truth,
        represent=represent,
        random_state=random_state,
        on_done=on_done,
        on_start=on_start,
    )


def counting(
    represent: Callable[[np.ndarray], np.ndarray], on_encoded: Callable[[int], None]
) -> Callable[[np.ndarray], np.ndarray]:
    """``represent`` that also reports ``len(observations)`` to ``on_encoded`` after each call;
    its codes are ``represent``'s, unchanged."""

    def wrapped(observations: np.ndarray) -> np.ndarray:
        codes = represent(observations)
        on_encoded(len(observations))
        return codes

    return wrapped


def log_run_metrics(
    run_dir: str | os.PathLike[str],
    data: str | os.PathLike[str] | Any,
    names: str | Sequence[str] | None,
    epoch: int,
    step: int,
    random_state: int = 0,
) -> dict[str, float]:
    """Evaluate the run's current model on store ``data`` (or its ground truth, as
    :func:`evaluate_run` takes it) and append the row to ``run_dir/dis_metrics.csv``."""
    scores = evaluate_run(run_dir, data, names, random_state=random_state)
    append_dis_metrics(run_dir, scores, epoch=epoch, step=step)
    return scores


def train_with_metrics(
    model: str,
    data: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    epochs: int,
    every: int = 1,
    names: str | Sequence[str] | None = None,
    overrides: Sequence[str] = (),
    random_state: int = 0,
    progress: bool = True,
) -> Path:
    """Train preset ``model`` on store ``data`` into ``out``; the engine writes the chosen
    metrics to ``out/dis_metrics.csv`` every ``every`` epochs and after the last one
    (``log.dis_metrics`` of the run config)."""
    from latentplay.train import train

    if epochs < 1 or every < 1:
        raise UserError("epochs and every must be at least 1")
    chosen = ",".join(parse_names(names))
    items = [*overrides, f"log.dis_metrics=[{chosen}]", f"log.dis_metrics_every={every}",
             f"log.dis_metrics_seed={random_state}"]
    return Path(train(model, data, out, epochs=epochs, overrides=items, progress=progress))


SEEDS_STARTED = "seeds_command.json"
"""What ``metrics track --seeds`` was given, written into OUT before its first seed trains: the
same command continues the seeds in OUT, another is refused there."""


def open_seeds(out: Path, settings: dict[str, Any]) -> None:
    """Make ``out`` the folder of a ``metrics track --seeds`` given ``settings``: one an earlier
    run of the same command left (its :data:`SEEDS_STARTED`) is continued; any other that is
    not empty is refused, as is one an earlier command given other settings left."""
    started = out / SEEDS_STARTED
    if started.is_file():
        try:
            earlier = parsed_json(started.read_text(encoding="utf-8"))
        except ValueError:
            earlier = None
        if earlier == settings:
            return
        differ = ([key for key in settings if settings[key] != earlier.get(key)]
                  if isinstance(earlier, dict) else ["all"])
        raise UserError(f"{out} holds the seeds of a metrics track --seeds given other settings "
                        f"({', '.join(differ)}; {started}); give another --out, or the same command")
    refuse_nonempty(out, None)  # checked before an epoch is trained
    make_parents(out).mkdir(exist_ok=True)
    write_atomic(started, json.dumps(settings, indent=2) + "\n")


def seed_run(folder: Path, train_it: Callable[[Path], Path], say: Callable[[str], None]) -> Path:
    """The run of one seed in ``folder``, continuing what an earlier, stopped command left
    there: a finished run is kept, one with a checkpoint resumed (same final weights as if
    never stopped; one stopped while writing its final outputs, before ``summary.json``, writes
    them), one stopped before its first checkpoint trained again by ``train_it``, as a folder
    without a run is. ``say`` is told what was found, before any training."""
    from latentplay.train import resume
    from latentplay.train.checkpoint import saved_position
    from latentplay.train.summary import final_outputs_written

    position = saved_position(folder) if folder.is_dir() else None
    if position is not None and position["finished"] and final_outputs_written(folder):
        say("finished earlier, kept")
        return folder
    if position is not None:
        say(f"resumed from its checkpoint at step {position['step']:,}")
        return resume(folder)
    if folder.exists():  # stopped before its first checkpoint: nothing in it to keep
        say("stopped before its first checkpoint, trained again")
        shutil.rmtree(folder)
    return train_it(folder)
