"""What a finished training run learned, in a few numbers: ``summary.json``, written by the
engine when a run finishes, and the lines ``latentplay train`` prints from it.

``summary.json`` holds how far the run trained (its whole ``epochs``, the ``batch`` of the next
where ``trainer.max_steps`` stopped it within one, and its ``step``); for an autoencoder-family
run its ``reconstruction`` (the mean per-image RMS pixel difference, pixels in [0, 1], between
held-out images and their reconstructions ``decode(E[z|x])``, beside the same for the mean
training image, which a model that learned nothing draws; the reconstructions a reader sees,
while the logged ``recon`` is the likelihood term of a sampled ``z``); for a conditional run its
``condition``: how much its first condition attribute changes the same codes from the first
value of ``samples.png`` to the last, beside how much two samples of one value differ; and its
``condition_in_codes``: how much of each condition attribute the codes hold without it (a
``latent probe`` of the encoder means, :func:`condition_in_codes`): a conditional model whose
codes hold the condition too has two places for it, and a forced value contends with the
codes (``latent force``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from latentplay.errors import UserError
from latentplay.outputs import counted, read_json, shell_word, write_atomic

if TYPE_CHECKING:
    from latentplay.models.condition import ConditionPart

SUMMARY = "summary.json"
PROBE_ROWS = 5_000
"""At most this many rows' codes are probed for the condition they hold."""
PROBE_FOLDS = 5
"""The cross-validation folds of that probe."""
SUMMARY_ROWS = 10_000
"""At most this many held-out images are reconstructed for the summary."""

FIGURES = ("samples.png", "recon.gif", "samples.gif", "force_condition.png", "latent_variance.png",
           "fidelity.png")


def write_summary(run_dir: Path, values: dict[str, Any]) -> None:
    """Write ``values`` as the run's ``summary.json`` (whole or not at all)."""
    write_atomic(run_dir / SUMMARY, json.dumps(values, indent=2))


def final_outputs_written(run_dir: Path) -> bool:
    """Whether a run saved as finished also wrote its final outputs (``summary.json`` comes
    last): one stopped in between writes them again when resumed."""
    return (run_dir / SUMMARY).exists()


def read_summary(run: Path) -> dict[str, Any] | None:
    """The run's ``summary.json``, or None where it has none (a run unfinished, or finished by
    a version that did not write it)."""
    path = run / SUMMARY
    return read_json(path) if path.exists() else None


def summary_lines(run: Path) -> list[str]:
    """What ``latentplay train`` prints after a run: how long it trained, its last held-out
    metrics, how well it reconstructs held-out images, its active units, what its condition
    does, and the figures to look at ([] for a run without ``summary.json``).

    Raises:
        UserError: ``summary.json`` or ``active_units.json`` is not a JSON object.
    """
    from latentplay.report.training import by_epoch, duration, read_metrics, terms
    from latentplay.train.checkpoint import EPOCHS_DIR

    summary = read_summary(run)
    if summary is None:
        return []
    epochs = by_epoch([r for r in read_metrics(run / "metrics.csv") if r.get("scope") == "epoch"])
    seconds = sum(float(r["epoch_seconds"]) for r in epochs if r.get("epoch_seconds"))
    batch = summary["batch"]  # where trainer.max_steps stopped the run within an epoch
    done = counted(summary["epochs"], "epoch") + (f" and {counted(batch, 'batch', 'batches')}"
                                                  if batch else "")
    lines = [f"trained {done} ({summary['step']:,} steps) in {duration(seconds)}"]
    tested = by_epoch(read_metrics(run / "test_metrics.csv"))
    if tested:
        last = tested[-1]
        values = ", ".join(f"{name} {float(last[name]):.5g}" for name in terms(list(last)) if last[name])
        lines.append(f"test split after {_after(last['epoch'], summary)}: {values}")
    if summary.get("reconstruction"):
        lines.append(reconstruction_text(summary["reconstruction"]))
    if (run / "active_units.json").exists():
        units = read_json(run / "active_units.json")
        lines.append(f"active units: {units['count']} of {len(units['variance'])}"
                     + _which(units["dims"], len(units["variance"])))
    if summary.get("condition"):
        lines.append(condition_text(summary["condition"]) + " (samples.png)")
    lines += [held_text(found) for found in summary.get("condition_in_codes") or []]
    lines += _last_evaluations(run, summary)
    if beaten := discriminator_beaten(epochs):
        lines.append(f"caution: {beaten}")
    if "reconstruction" not in summary and not (run / "fidelity.csv").exists():
        lines.append("nothing above measures the samples (a GAN has no reconstructions): train "
                     "with log.fidelity_every=N, or run latentplay audit fidelity "
                     f"{run} --data STORE --out DIR")
    kept = sorted(p.name for p in (run / EPOCHS_DIR).glob("epoch_*") if p.is_dir())
    if kept:
        first = shell_word(run / EPOCHS_DIR / kept[0])
        lines.append(f"kept the weights of {counted(len(kept), 'epoch')} in {run / EPOCHS_DIR} "
                     f"({', '.join(k.removeprefix('epoch_') for k in kept)}), each a run of its "
                     f"own: latentplay data generate {first} --n 1000 --out DIR")
    shown = [name for name in FIGURES if (run / name).exists()]
    lines.append(f"look at {', '.join(shown)}; all of it on one page: latentplay report {shell_word(run)}")
    return lines


D_WINS = 0.05
"""A GAN's discriminator wins outright when, over its last epoch, its mean output on training
images is above ``1 - D_WINS`` and on generated ones below ``D_WINS``."""


def discriminator_wins(run: Path) -> str | None:
    """:func:`discriminator_beaten` of the epochs of the run's ``metrics.csv`` (None without one)."""
    from latentplay.report.training import by_epoch, read_metrics

    path = run / "metrics.csv"
    if not path.exists():
        return None
    return discriminator_beaten(by_epoch([r for r in read_metrics(path) if r.get("scope") == "epoch"]))


def discriminator_beaten(epochs: Sequence[Mapping[str, Any]]) -> str | None:
    """What to say of a GAN run whose discriminator tells every sample from the training
    images over its last epoch (the mean ``d_real`` and ``d_fake`` of the last of its ``epochs``
    rows of ``metrics.csv``, see :data:`D_WINS`): its generator gets no gradient to learn from,
    and its samples are most often noise or one collapsed pattern; None for any other run."""
    last = epochs[-1] if epochs else {}
    try:
        real, fake = float(last["d_real"]), float(last["d_fake"])
    except (KeyError, TypeError, ValueError):
        return None
    if real <= 1 - D_WINS or fake >= D_WINS:
        return None
    return (f"the discriminator tells every sample from the training images (mean D(real) "
            f"{real:.3f}, D(fake) {fake:.3f} over epoch {last['epoch']}): the generator has "
            "failed to fool it, and its samples are most likely noise or one collapsed "
            "pattern; look at samples.png before measuring them")


def _which(active: list[int], size: int) -> str:
    """`` (0, 11, 13)`` naming the active dimensions, or `` (all but 14)`` naming the inactive
    ones where they are fewer; '' when none or all are active."""
    inactive = sorted(set(range(size)) - set(active))
    if not active or not inactive:
        return ""
    if len(inactive) < len(active):
        return f" (all but {', '.join(map(str, inactive))})"
    return f" ({', '.join(map(str, active))})"


NEAR_MEAN = 0.9
"""Reconstructions whose error is above this share of the mean training image's are called
little better than it."""


def reconstruction_text(rec: dict[str, Any]) -> str:
    """The summary's ``reconstruction`` as a sentence, saying so where the model redraws the
    images little better than the mean training image (:data:`NEAR_MEAN`), or no better."""
    held = rec["split"] == "test"
    images = counted(rec["images"], "held-out image" if held else "training image")
    worse, little = rec["rms"] >= rec["mean_image_rms"], rec["rms"] > NEAR_MEAN * rec["mean_image_rms"]
    verdict = (": the model redraws them no better than the mean image does" if worse else
               ": the model redraws them little better than the mean image does" if little else "")
    return (f"reconstructions of {images}{'' if held else ' (no test split)'} differ from them by "
            f"{rec['rms']:.3f} (RMS, pixels 0-1); the mean training image by {rec['mean_image_rms']:.3f}"
            + verdict)


def condition_text(effect: dict[str, Any]) -> str:
    """The summary's ``condition`` as :func:`latentplay.latent.sampling.effect_line` writes it."""
    from latentplay.latent.sampling import effect_line

    return effect_line(effect["attribute"], effect["first"], effect["last"], effect["change"],
                       effect["diversity"])


def _after(epoch: str, summary: dict[str, Any]) -> str:
    """``"epoch 2"``, or ``"the 5 batches of epoch 2"`` where ``trainer.max_steps`` stopped the
    run within that epoch (``summary``: the run's ``summary.json``)."""
    batch = summary["batch"]
    if batch and int(epoch) == summary["epochs"] + 1:
        return f"the {counted(batch, 'batch', 'batches')} of epoch {epoch}"
    return f"epoch {epoch}"


def _last_evaluations(run: Path, summary: dict[str, Any]) -> list[str]:
    """The last row of ``dis_metrics.csv`` (``log.dis_metrics``) and of ``fidelity.csv``
    (``log.fidelity_every``; its shares beside the held-out images' where measured), each
    as a line; [] for a run that tracked neither."""
    from latentplay.report.training import read_metrics
    from latentplay.train.fidelity import SHARES, read_reference

    lines = []
    if scores := read_metrics(run / "dis_metrics.csv"):
        last = scores[-1]
        values = ", ".join(f"{name} {float(v):.3g}" for name, v in last.items()
                           if name not in ("epoch", "step") and v)
        lines.append(f"disentanglement after {_after(last['epoch'], summary)}: {values} (dis_metrics.csv)")
    if rows := read_metrics(run / "fidelity.csv"):
        last, reference = rows[-1], read_reference(run) or {}
        shares = ", ".join(f"{name} {float(last[name]):.3g}"
                           + (f" ({float(reference[name]):.3g})" if reference.get(name) is not None else "")
                           for name in (*SHARES, "flat", "frechet_distance")
                           if last.get(name) and (name != "flat" or float(last[name]) > 0))
        held = "; in brackets the held-out images'" if reference else ""
        lines.append(f"samples after {_after(last['epoch'], summary)}: {shares} (fidelity.csv{held})")
    return lines


def condition_in_codes(codes: np.ndarray, labels: dict[str, np.ndarray], parts: list[ConditionPart],
                       persons: np.ndarray | None, seed: int) -> list[dict[str, Any]]:
    """How much of each condition attribute ``parts`` names the codes ``(N, D)`` hold: a
    :func:`latentplay.latent.probe.probe` (linear and k-NN, :data:`PROBE_FOLDS` folds, each
    person's photos in one fold with ``persons`` ``(N,)``) of ``labels[name][:N]`` on at most
    :data:`PROBE_ROWS` seeded random rows; a part that cannot be probed (too few rows of a
    class) gets its ``refused`` reason instead."""
    from latentplay.latent.probe import probe

    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(len(codes), size=min(PROBE_ROWS, len(codes)), replace=False))
    found: list[dict[str, Any]] = []
    for part in parts:
        try:
            result = probe(codes[rows], labels[part.name][rows], part.kind, cv=PROBE_FOLDS,
                           seed=seed, attribute=part.name, class_names=part.names,
                           groups=None if persons is None else persons[rows])
        except UserError as error:
            found.append({"attribute": part.name, "refused": str(error)})
            continue
        found.append({key: value for key, value in result.to_dict().items()
                      if key in ("attribute", "measure", "n", "linear", "knn", "chance", "folds")})
    return found


HELD = 0.5
"""A condition attribute the codes read at least this share of the way from chance to a perfect
score is held by the codes as by the condition: a forced value contends with them."""
NOT_HELD = 0.1
"""One the codes read at most this share of the way is not held by them."""


def held_share(found: dict[str, Any]) -> float:
    """How far from chance (0) to a perfect score (1) the better probe of one
    :func:`condition_in_codes` entry reads its attribute from the codes."""
    chance = found["chance"]
    return (max(found["linear"], found["knn"]) - chance) / (1.0 - chance)


def codes_holding(run: Path, attribute: str) -> dict[str, Any] | None:
    """The :func:`condition_in_codes` entry of ``attribute`` in ``run``'s ``summary.json`` when
    the codes hold it (:data:`HELD`), else None (also for a run without the summary)."""
    summary = read_summary(run) or {}
    for found in summary.get("condition_in_codes") or []:
        if found["attribute"] == attribute and "refused" not in found and held_share(found) >= HELD:
            return found
    return None


def held_text(found: dict[str, Any]) -> str:
    """One :func:`condition_in_codes` entry as a line, with a reading at either end
    (:data:`NOT_HELD`, :data:`HELD`)."""
    name = found["attribute"]
    if "refused" in found:
        return f"codes alone hold {name}: not measured ({found['refused']})"
    chance, share = found["chance"], held_share(found)
    reading = ("the codes do not hold it" if share <= NOT_HELD else
               "the codes hold it as the condition does: a forced value contends with them"
               if share >= HELD else "")
    persons = ", each person's photos in one fold" if found["folds"] == "persons" else ""
    return (f"codes alone hold {name}: {found['measure']} linear {found['linear']:.3f}, k-NN "
            f"{found['knn']:.3f} (chance {chance:.3g}; {PROBE_FOLDS}-fold over {found['n']:,} "
            f"images{persons})" + (f": {reading}" if reading else ""))
