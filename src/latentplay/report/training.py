"""The report of a training run directory (``latentplay train``).

Sections, each present only when its files are: the run (family, data, progress, seed,
device), the resolved config, loss curves per epoch (train and test, every term), final
metrics, latent dimensions (KL, active units, the Welford variance heatmap), reconstructions,
samples, forced conditions and disentanglement metrics.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from latentplay.errors import UserError, first_line
from latentplay.outputs import shell_word
from latentplay.report import figures
from latentplay.report.files import last_file, read_csv, read_json
from latentplay.report.images import file_figure
from latentplay.report.page import Code, Facts, Figure, Page, Section, Table, Text, number, to_float
from latentplay.train.figures import AE_SAMPLES, GIF_FRAMES, ZOOM
from latentplay.train.summary import (
    condition_text,
    discriminator_beaten,
    held_text,
    read_summary,
    reconstruction_text,
)
from latentplay.viz.plain import drawn_as_written

KL_DIM = re.compile(r"kl_(\d+)$")
NOT_TERMS = {"scope", "epoch", "step", "active_units", "images_per_s", "epoch_seconds"}

Row = dict[str, str]


def read_config(path: Path) -> tuple[dict[str, Any], str]:
    """The resolved config of a run (``config.yaml``) as a dict, and its text.

    Raises:
        UserError: the file is not YAML holding a mapping with the model ``family`` every
            run's config names (another program's config.yaml is no run to report on).
    """
    text = path.read_text(encoding="utf-8")
    try:
        config = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise UserError(f"{path} is not valid YAML ({first_line(exc)}); cannot report on this run") from None
    if not isinstance(config, dict):
        raise UserError(f"{path} does not hold a run config (a YAML mapping)")
    if "family" not in config:
        raise UserError(f"{path} names no model family: not the config of a run `latentplay "
                        "train` wrote; nothing to report")
    return config, text


def terms(header: Sequence[str]) -> list[str]:
    """Loss and metric columns of a metrics table: all but bookkeeping and ``kl_<d>``."""
    return [h for h in header if h not in NOT_TERMS and not KL_DIM.match(h)]


def read_metrics(path: Path) -> list[Row]:
    """Rows of a table with a row per epoch and step (``metrics.csv``, ``test_metrics.csv``,
    ``dis_metrics.csv``, ``fidelity.csv``; [] when the file does not exist yet), less a last
    line cut short (:func:`read_log`).

    Raises:
        UserError: a damaged table (:func:`read_log`).
    """
    return read_log(path)[0]


def read_log(path: Path) -> tuple[list[Row], bool]:
    """The rows of :func:`read_metrics` and whether a last line cut short was left out: fewer
    fields than the header and no line end, as a reader finds the row a run is appending (each
    row is one append), or one killed while writing it left (a resume rewrites it).

    Raises:
        UserError: a row with more or fewer fields than the header, a field of a numeric
            column (all but ``scope``) that is not a number, or a row without an integer
            ``epoch`` and ``step``: a damaged table, its line named.
    """
    if not path.exists():
        return [], False
    rows = read_csv(path)
    cut = bool(rows) and None in rows[-1].values() and not _ends_a_line(path)
    if cut:
        rows = rows[:-1]
    for line, row in enumerate(rows, start=2):
        _check_row(path, line, row)
    return rows, cut


def _check_row(path: Path, line: int, row: Row) -> None:
    """A :class:`UserError` naming ``path`` and ``line`` unless ``row`` is a whole row of numbers."""
    damaged = f"{path}, line {line}:"
    if not (str(row.get("epoch")).isdigit() and str(row.get("step")).isdigit()):
        raise UserError(f"{damaged} no integer epoch and step; the table is damaged")
    if None in row or None in row.values():
        raise UserError(f"{damaged} {'more' if None in row else 'fewer'} fields than the header; "
                        "the table is damaged")
    for name, text in row.items():
        if name != "scope" and text != "" and to_float(text) is None:
            raise UserError(f"{damaged} {name} is {text!r}, not a number; the table is damaged")


def _ends_a_line(path: Path) -> bool:
    """Whether the file ``path`` ends with a line end (every line its writer wrote whole)."""
    with open(path, "rb") as fh:
        fh.seek(0, os.SEEK_END)
        if fh.tell() == 0:
            return True
        fh.seek(-1, os.SEEK_END)
        return fh.read(1) == b"\n"


def by_epoch(rows: Sequence[Row]) -> list[Row]:
    """One row per epoch (the last written wins, after a resume), in epoch order."""
    last: dict[int, Row] = {}
    for row in rows:
        last[int(row["epoch"])] = row
    return [last[e] for e in sorted(last)]


def kl_per_dim(row: Row) -> np.ndarray | None:
    """``(D,)`` KL per latent dimension of a metrics row (None without ``kl_<d>`` columns)."""
    dims = sorted((int(m.group(1)), k) for k in row if (m := KL_DIM.match(k)))
    values = [to_float(row[k]) for _, k in dims]
    if not values or any(v is None for v in values):
        return None
    return np.array(values, dtype=float)


def page(run: Path) -> Page:
    """The report page of training run directory ``run``."""
    config, text = read_config(run / "config.yaml")
    metrics, metrics_cut = read_log(run / "metrics.csv")
    tested, test_cut = read_log(run / "test_metrics.csv")
    _refuse_stale_cuts(run, metrics, metrics_cut, tested, test_cut)
    test = by_epoch(tested)
    epochs = by_epoch([r for r in metrics if r.get("scope") == "epoch"])
    cut = [name for name, was in (("metrics.csv", metrics_cut), ("test_metrics.csv", test_cut)) if was]
    summary = read_summary(run) or {}
    sections = [_overview(run, config, metrics, epochs, cut, summary.get("device")),
                Section("Config", "config", [Code(text, "config.yaml (the resolved config)")])]
    units = loss_units(config)
    sections += [s for s in (_losses(epochs, test, units),
                             _final(epochs, test, units, summary.get("reconstruction")),
                             _latents(run, epochs, test), _images(run, config, summary),
                             _dis_metrics(run),
                             _fidelity(run, config.get("log") or {},
                                       config.get("family") == "ae")) if s]
    family = str(config.get("family", "model"))
    return Page("training run", f"Training run {run.name}: {family}", str(run), sections)


def _refuse_stale_cuts(run: Path, metrics: Sequence[Row], metrics_cut: bool, tested: Sequence[Row],
                       test_cut: bool) -> None:
    """A :class:`UserError` unless each table's cut last line can be the row its run is writing
    (``metrics``, ``tested``: the whole rows of ``metrics.csv`` and ``test_metrics.csv``). A run
    appends an epoch's row to metrics.csv, then its evaluation to test_metrics.csv, then the
    next steps' rows: no evaluation follows a row being written to metrics.csv, and the one
    being written is of the epoch whose row ends metrics.csv."""
    tested_at = int(tested[-1]["step"]) if tested else -1
    logged_at = int(metrics[-1]["step"]) if metrics else -1
    evaluated_after = bool(tested) and (tested_at > logged_at or (
        tested_at == logged_at and metrics[-1].get("scope") != "epoch"))
    if metrics_cut and evaluated_after:
        raise UserError(f"{run / 'metrics.csv'}, line {len(metrics) + 2}: cut short, though "
                        "test_metrics.csv holds an evaluation logged after it; the table is damaged")
    untested = [r for r in metrics if r.get("scope") == "epoch" and int(r["step"]) > tested_at]
    if test_cut and (metrics_cut or len(untested) != 1 or untested[0] is not metrics[-1]):
        raise UserError(f"{run / 'test_metrics.csv'}, line {len(tested) + 2}: cut short, though the "
                        "run went on after writing it (metrics.csv's later rows); the table is damaged")


def _section(sec: Section) -> Section | None:
    return sec if sec.blocks else None


def _overview(run: Path, config: dict[str, Any], metrics: Sequence[Row],
              epochs: Sequence[Row], cut: Sequence[str], device: str | None = None) -> Section:
    """The run's facts; ``cut`` names the tables whose last line, cut short, was left out;
    ``device`` the one the run trained on (``summary.json``'s; None: not recorded)."""
    trainer, data, model = (config.get(k) or {} for k in ("trainer", "data", "model"))
    planned, max_steps = int(trainer.get("epochs", 0) or 0), int(trainer.get("max_steps", 0) or 0)
    done = int(epochs[-1]["epoch"]) if epochs else 0
    step = int(metrics[-1]["step"]) if metrics else 0
    trained = (run / "model.safetensors").exists() or (run / "checkpoint.pt").exists()
    unknown = not metrics and trained  # how far it got is in the metrics.csv it lacks
    finished = bool(epochs) and int(epochs[-1]["step"]) == step and (
        done >= planned or 0 < max_steps <= step)
    if finished:
        status = "finished"
    elif metrics:
        status = (f"stopped at step {step:,} (in epoch {metrics[-1]['epoch']}): still running, "
                  f"or interrupted; {_resume_from(run, step)}")
    elif trained:
        status = "trained, but its metrics.csv is missing or empty: the tables and curves below lack it"
    else:
        status = "not started (no metrics.csv yet)"
    channels = _channels(run, data)
    items = [
        ("model family", f"{config.get('family', '?')} (preset {config.get('preset', '?')})"),
        ("data store", str(data.get("store", "?"))),
        ("images", f"{data.get('size', '?')} px, {channels}, crop {data.get('crop', 1.0)}, "
                   f"test fraction {data.get('test_fraction', '?')} (split seed "
                   f"{data.get('split_seed', config.get('seed', '?'))})"),
        ("latent dimensions", number(model.get("latent_dim"))),
        ("epochs", f"{'—' if unknown else done} of {planned}"
                   + (f" (max_steps {max_steps:,})" if max_steps else "")),
        ("steps", "—" if unknown else number(step)),
        ("status", status),
        ("seed", number(config.get("seed"))),
        ("device", f"{device or trainer.get('device', '?')}"
                   + (f" (trainer.device {trainer.get('device')})"
                      if device and trainer.get("device") != device else "")
                   + f" × {trainer.get('devices', 1)}, "
                   f"precision {trainer.get('precision', '?')}, strategy "
                   f"{trainer.get('strategy', '?')}"),
    ]
    if model.get("condition"):
        items.append(("condition", ", ".join(str(c) for c in model["condition"])))
    loss = config.get("loss") or {}
    if loss.get("terms"):
        items.append(("loss terms", ", ".join(str(t) for t in loss["terms"])))
    seconds = [v for r in epochs if (v := to_float(r.get("epoch_seconds"))) is not None]
    if seconds:
        speed = to_float(epochs[-1].get("images_per_s"))
        items.append(("training time", duration(sum(seconds))
                      + (f"; {number(speed)} images/s in the last epoch" if speed else "")))
    if (run / "latents.npy").exists():
        try:  # memory-mapped: only the header is read
            latents = np.load(run / "latents.npy", mmap_mode="r", allow_pickle=False)
        except (ValueError, OSError, EOFError) as exc:
            raise UserError(f"{run / 'latents.npy'} is not a readable .npy array: "
                            f"{first_line(exc)}") from None
        items.append(("latents.npy", f"{len(latents):,} rows: {', '.join(latents.dtype.names or ())}"))
    resume = f"latentplay train --resume {shell_word(run)}"
    notes = [Text(f"The last line of {name} is cut short and left out: the run is writing it, or "
                  f"was stopped while writing it (`{resume}` rewrites it).")
             for name in cut]
    if beaten := discriminator_beaten(epochs):  # as `latentplay train` said after the run
        notes.insert(0, Text(f"Caution: {beaten}."))
    return Section("Run", "run", [Facts(items), *notes])


def _resume_from(run: Path, step: int) -> str:
    """Where ``latentplay train --resume`` would start the run last logged at ``step``: its
    ``checkpoint.pt`` (read without unpickling objects), at an epoch's end unless
    ``trainer.checkpoint_every`` or a stop by SIGTERM/SIGINT saved it within one."""
    from latentplay.train.checkpoint import saved_position

    saved = saved_position(run)
    if saved is None:
        return (f"no checkpoint.pt in the run, so `latentplay train --resume {shell_word(run)}` has "
                "nothing to continue from yet (it is saved at the end of every epoch, and every "
                "trainer.checkpoint_every steps)")
    at, epoch, batch = saved["step"], saved["epoch"], saved["batch"]
    where = (f"after batch {batch:,} of epoch {epoch + 1}" if batch
             else f"at the end of epoch {epoch}")
    text = (f"`latentplay train --resume {shell_word(run)}` continues from the checkpoint at step "
            f"{at:,} ({where})")
    if at < step:
        text += (f", repeating steps {at + 1:,} to {step:,} (trainer.checkpoint_every=N saves every N "
                 "steps)")
    return text


def duration(seconds: float) -> str:
    """A time as readers want it: ``"0.58 s"``, ``"12.3 s"``, ``"3 min 12 s"``, ``"2 h 05 min"``."""
    if seconds < 9.995:  # what rounds to 10.00 is written 10.0
        return f"{seconds:.2f} s"
    if seconds < 59.95:
        return f"{seconds:.1f} s"
    whole = round(seconds)
    if whole < 3600:
        return f"{whole // 60} min {whole % 60} s"
    minutes = round(seconds / 60)
    return f"{minutes // 60} h {minutes % 60:02d} min"


def loss_units(config: dict[str, Any]) -> str:
    """What the logged terms of the run's family measure, as a sentence ('' for a family
    whose terms are not described here)."""
    family = config.get("family")
    if family in ("ae", "vae", "cvae"):
        likelihood = (config.get("model") or {}).get("likelihood", "bernoulli")
        recon = ("the negative log-likelihood of the image under the decoder's Bernoulli "
                 "pixels, summed over its pixels and channels (nats)" if likelihood == "bernoulli"
                 else "the squared error summed over its pixels and channels (the NLL of a "
                 "Gaussian of variance 1/2 per pixel, less its constant)")
        kl = ("; kl the KL divergence of the encoder's posterior from the prior, summed over "
              "the latent dimensions (nats)" if family != "ae" else "")
        weighted = ("; a loss term's columns (TERM/PART, e.g. betavae/kl) hold its parts as "
                    "weighted in loss (betavae/kl is beta x kl, or gamma x |kl - C| with "
                    "capacity annealing), not the unweighted kl" if family != "ae" else "")
        return (f" Values per image, averaged over the images: recon is {recon}{kl}; loss the "
                f"objective, recon plus the weighted loss terms{weighted}."
                + _betatcvae_units(config))
    if family == "dcgan":
        return (" loss_d and loss_g are the discriminator's and the generator's logistic "
                "(binary cross-entropy) losses in nats, averaged over the images (loss_d adds "
                "its real and its generated batch's); d_real and d_fake the discriminator's "
                "mean probability that a real or a generated image is real.")
    return ""


_MWS_OFFSETS = ("off by constants (MI by +log N, TC by +(D-1) log N, dimKL by -D log N for N "
                "training images and D latents when the posteriors are all equal)")


def _betatcvae_units(config: dict[str, Any]) -> str:
    """What a beta-TCVAE run's ``betatcvae/*`` columns are ('' for a run without the term)."""
    loss = config.get("loss") or {}
    if "betatcvae" not in (loss.get("terms") or []):
        return ""
    settings = loss.get("betatcvae") or {}
    estimator = str(settings.get("estimator", "mws"))
    if settings.get("logged", "objective") == "objective":  # a run saved before the setting
        return (" betatcvae/mi, betatcvae/tc and betatcvae/dimkl are the weighted terms optimised, "
                f"estimated by minibatch{' stratified' if estimator == 'mss' else '-weighted'} "
                "sampling (loss.betatcvae.logged=objective)" + ("." if estimator == "mss" else
                f"; minibatch-weighted sampling's are {_MWS_OFFSETS}: loss.betatcvae.logged=mss, "
                "the default since, logs them by minibatch stratified sampling."))
    text = (" betatcvae/mi, betatcvae/tc and betatcvae/dimkl are alpha x the index-code mutual "
            "information, beta x the total correlation and gamma x the dimension-wise KL "
            f"(alpha {settings.get('alpha', 1.0):g}, beta {settings.get('beta', 6.0):g}, gamma "
            f"{settings.get('gamma', 1.0):g}), estimated over each batch by minibatch stratified "
            "sampling (MSS; unweighted, the three add up to the Monte-Carlo KL)")
    if estimator == "mws":
        return text + ("; the objective is minibatch-weighted sampling's (MWS, "
                       f"loss.betatcvae.estimator=mws), whose terms are {_MWS_OFFSETS}: "
                       "betatcvae/mws_minus_mss is what they add to the three, so that the terms "
                       "add up to loss.")
    return text + "; they are the objective optimised (loss.betatcvae.estimator=mss)."


def _channels(run: Path, data: dict[str, Any]) -> str:
    """The image channels: as configured, else as the run's ``model.json`` records them (a
    config's ``channels: 0`` means as stored), else ``channels as stored``."""
    count = data.get("channels") or (read_json(run / "model.json").get("channels")
                                     if (run / "model.json").exists() else None)
    return f"{count} channel(s)" if count else "channels as stored"


@drawn_as_written
def _losses(epochs: Sequence[Row], test: Sequence[Row], units: str) -> Section | None:
    if not epochs and not test:
        return None
    names = terms(list((epochs or test)[0]))
    panels = {}
    for name in names:
        lines = {}
        for label, rows in (("train", epochs), ("test", test)):
            points = [(int(r["epoch"]), v) for r in rows if (v := to_float(r.get(name))) is not None]
            if points:
                lines[label] = ([p[0] for p in points], [p[1] for p in points])
        if lines:
            panels[name] = lines
    if not panels:
        return None
    uri = figures.curves(panels, "epoch", "mean per epoch: training batches and the test split")
    return Section("Loss curves", "losses", [Figure(uri, "Loss curves: every logged term, averaged over each "
                   "epoch's training batches and evaluated on the test split after the epoch." + units)])


def _final(epochs: Sequence[Row], test: Sequence[Row], units: str,
           reconstruction: dict[str, Any] | None = None) -> Section | None:
    """Both columns of one epoch: the last both tables have (a run stopped before its last
    epoch's test evaluation, or a metrics.csv missing its last rows, would otherwise put one
    epoch's training values beside another's test values), else the last either has, the
    other column blank; and the final model's ``reconstruction`` error in pixels (``summary.json``'s)."""
    if not epochs and not test:
        return None
    train_at, test_at = ({int(r["epoch"]): r for r in rows} for rows in (epochs, test))
    both = sorted(train_at.keys() & test_at.keys())
    epoch = both[-1] if both else max(test_at or train_at)
    last_train, last_test = train_at.get(epoch, {}), test_at.get(epoch, {})
    names = terms(list(last_test or last_train))
    rows = [[name, to_float(last_train.get(name)), to_float(last_test.get(name))] for name in names]
    caption = (f"Epoch {epoch}: mean over the epoch's training batches and over the test "
               "split (test_metrics.csv).")
    if both and max(train_at) > epoch:
        caption += (f" Training ran to epoch {max(train_at)}, which test_metrics.csv has "
                    "no evaluation of (the run stopped before it, or is evaluating it).")
    if test_at and max(test_at) > epoch:
        caption += (f" test_metrics.csv goes on to epoch {max(test_at)}, which metrics.csv has no "
                    "training row of (its last rows are missing).")
    elif not last_train:
        caption += f" metrics.csv has no training row of epoch {epoch}: the train column is blank."
    caption += units
    blocks: list[Any] = [Table.of(["term", "train", "test"], rows, caption)]
    if reconstruction:
        blocks.append(Facts([("reconstruction (final model)", reconstruction_text(reconstruction))]))
    return Section("Final metrics", "final", blocks)


@drawn_as_written
def _latents(run: Path, epochs: Sequence[Row], test: Sequence[Row]) -> Section | None:
    blocks: list[Any] = []
    source = test[-1] if test else (epochs[-1] if epochs else None)
    kl = kl_per_dim(source) if source else None
    variance = active = threshold = None
    if (run / "active_units.json").exists():
        units = read_json(run / "active_units.json")
        threshold = float(units.get("threshold", 0.01))
        variance = np.asarray(units.get("variance") or [], dtype=float)
        active = variance > threshold if len(variance) else None  # None: no variances written
        dims = ", ".join(str(d) for d in units.get("dims", []))
        of = f" of {len(variance)}" if len(variance) else ""
        blocks.append(Facts([("active units", f"{number(units.get('count'))}{of} "
                                               f"(variance of E[z|x] > {threshold:g} under the "
                                               "final model; the heatmap below counts over the "
                                               "last epoch's training batches, while the model "
                                               "still changed, and may differ)"),
                             ("active dimensions", dims or "none")]))
    elif epochs and to_float(epochs[-1].get("active_units")) is not None:
        blocks.append(Facts([("active units (last epoch)", epochs[-1]["active_units"])]))
    shown = variance if variance is not None and len(variance) else None
    if kl is not None or shown is not None:
        uri = figures.latent_dimensions(kl, shown, active, threshold)
        which = "test split" if test else "training batches"
        when = (f"epoch {source['epoch']}" if source and "epoch" in source
                and epochs and int(epochs[-1]["epoch"]) > int(source["epoch"]) else "the last epoch")
        parts = ([f"KL per latent dimension at {when} ({which})"] if kl is not None
                 else []) + (["the variance of the encoder means (Burda et al.'s active units)"]
                             if shown is not None else [])
        caption = " and ".join(parts)
        blocks.append(Figure(uri, caption[0].upper() + caption[1:] + "."))
    if (run / "latent_variance.png").exists():
        blocks.append(file_figure(run / "latent_variance.png",
                                  _variance_caption(run, len(epochs), threshold)))
    return _section(Section("Latent dimensions", "latents", blocks))


def _variance_caption(run: Path, epochs: int, threshold: float | None) -> str:
    """The caption of ``latent_variance.png``: what it shows and, for a run of more than
    ``2 * ZOOM`` epochs (counted from ``latent_variance.csv``, a row per epoch, else from
    ``epochs``), its close-ups of the first and last ``ZOOM`` epochs."""
    if (run / "latent_variance.csv").exists():
        epochs = len(read_csv(run / "latent_variance.csv"))
    text = ("Variance of the encoder means per dimension (rows) and epoch (columns), log colour "
            "scale (Welford, over each epoch's batches); dimensions marked * (or with a red tick) "
            "vary by more than "
            f"{threshold if threshold is not None else 0.01:g} at the last epoch.")
    if epochs > 2 * ZOOM:
        text += (f" Left: all {epochs} epochs; middle and right: close-ups of the first and last "
                 f"{ZOOM} epochs.")
    return text


def _images(run: Path, config: dict[str, Any], summary: dict[str, Any] | None = None) -> Section | None:
    """The run's figures, with what its condition does to its samples and how much of it the
    codes hold (``summary``: the run's ``summary.json``)."""
    blocks: list[Any] = []
    summary = summary or {}
    facts = [(f"{found['attribute']} in the codes", held_text(found))
             for found in summary.get("condition_in_codes") or []]
    if summary.get("condition") and (run / "samples.png").exists():
        facts.insert(0, ("condition (samples.png)", condition_text(summary["condition"])))
    if facts:
        blocks.append(Facts(facts))
    recon = last_file(run / "recon", "epoch_*.png")
    if recon is not None:
        blocks.append(file_figure(recon, f"Reconstructions of fixed test images, {recon.stem}."))
    if (run / "recon.gif").exists():
        epochs = len(list((run / "recon").glob("epoch_*.png")))
        every = ("one frame per epoch" if epochs <= GIF_FRAMES else
                 f"{GIF_FRAMES} of its {epochs} epochs, evenly spaced, the first and last among them")
        blocks.append(file_figure(run / "recon.gif", f"Reconstructions, {every}."))
    if (run / "samples.png").exists():
        drawn = (AE_SAMPLES[0].upper() + AE_SAMPLES[1:] if config.get("family") == "ae"
                 else "Samples from the prior")
        conditional = bool((config.get("model") or {}).get("condition"))
        blocks.append(file_figure(run / "samples.png", f"{drawn}, drawn when training finished"
                                  + (": the same codes at each value of its first condition, each "
                                     "row's change from the first, and a last row of where the "
                                     "faces change from the first value to the last." if conditional
                                     else ".")))
    fixed = last_file(run / "samples", "epoch_*.png")
    if fixed is not None:
        blocks.append(file_figure(fixed, f"Samples of fixed noise, {fixed.stem}."))
    if (run / "samples.gif").exists():
        blocks.append(file_figure(run / "samples.gif", "Samples of fixed noise, one frame "
                             "per epoch."))
    if (run / "force_condition.png").exists():
        blocks.append(file_figure(run / "force_condition.png", "Forced condition: per row a "
                             "fixed test image (its own value of the first continuous condition "
                             "in brackets), its decoding at its own value, then its decodings "
                             "with that condition forced to evenly spaced values over its range (the other "
                             "entries kept). The own-value column is what reconstruction alone "
                             "changes; what differs beyond it is the forcing."))
    return _section(Section("Images", "images", blocks))


@drawn_as_written
def _dis_metrics(run: Path) -> Section | None:
    path = run / "dis_metrics.csv"
    if not path.exists():
        return None
    rows = read_metrics(path)
    if not rows:
        return Section("Disentanglement metrics", "dis", [Text("dis_metrics.csv has no rows yet.")])
    names = [h for h in rows[0] if h not in ("epoch", "step")]
    blocks: list[Any] = [Table.of(["epoch", "step", *names],
                                  [[int(r["epoch"]), int(r["step"]),
                                    *(to_float(r.get(n)) for n in names)] for r in rows],
                                  "dis_metrics.csv: the run's encoder on the store's factors.")]
    if len(rows) > 1:
        panels = {n: {n: ([int(r["epoch"]) for r in rows if to_float(r.get(n)) is not None],
                          [v for r in rows if (v := to_float(r.get(n))) is not None])}
                  for n in names}
        counts = [n for n in names if n.endswith("num_active_dims")]
        blocks.append(Figure(figures.curves(panels, "epoch", "disentanglement metrics",
                                            scale=(0.0, 1.0)),
                             "Each score over the epochs it was computed at, on its whole 0-1 scale"
                             + (f"; the counts of active dimensions ({', '.join(counts)}) on "
                                "their own scale." if counts else ".")))
    return Section("Disentanglement metrics", "dis", blocks)


def _fidelity(run: Path, log: dict[str, Any], autoencoder: bool = False) -> Section | None:
    """``fidelity.csv`` and the held-out reference; ``log`` is the config's ``log`` section
    (``fidelity_n``, ``fidelity_k``); a plain ``autoencoder``'s samples are not the prior's."""
    path = run / "fidelity.csv"
    if not path.exists():
        return None
    rows = read_metrics(path)
    names = ["precision", "recall", "density", "coverage", "authenticity", "frechet_distance",
             "kernel_distance", "kernel_distance_std"]
    table = [[int(r["epoch"]), int(r["step"]), *(to_float(r.get(n)) for n in names)]
             for r in rows]
    ref = (read_json(run / "fidelity_reference.json")
           if (run / "fidelity_reference.json").exists() else {})
    if ref:
        table.append([f"held-out ({number(ref.get('n'))})", "", *(ref.get(n) for n in names)])
    # the count each evaluation measured (in fidelity.csv, or recorded with the reference),
    # else the config's cap
    counted = to_float(rows[-1].get("n_samples")) if rows else None
    samples = (number(int(counted)) if counted is not None
               else number(ref["samples"]) if ref.get("samples") is not None
               else f"up to {number(log.get('fidelity_n'))}" if log.get("fidelity_n")
               else "log.fidelity_n")
    blocks: list[Any] = [Table.of(
        ["epoch", "step", *names], table,
        f"fidelity.csv: {samples} "
        + ("samples (codes drawn at the mean and SD of each dimension of the epoch's encoded "
           "images: an autoencoder has no prior)" if autoencoder else "prior samples")
        + " against as many training images in pixel-PCA "
        f"features, k = {number(log.get('fidelity_k'))} (log.fidelity_n, log.fidelity_k)"
        + ("; held-out: as many of the run's held-out images, measured once the same way"
           if ref else "")
        + "; falling coverage and recall with steady precision is mode collapse, "
        "authenticity falling below the held-out images' is memorisation or samples piled "
        "near a few training images (mode collapse; the run's samples tell the two apart).")]
    if (run / "fidelity.png").exists():
        blocks.append(file_figure(run / "fidelity.png", "The same over the epochs."))
    return Section("Sample fidelity and coverage", "fidelity", blocks)
