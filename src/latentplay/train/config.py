"""The run config: model family + its config, loss terms, data, optimiser, trainer, logging.

A preset is a YAML file in ``configs/models/<name>.yaml`` whose ``family`` key picks the model
family (``ae``, ``vae``, ``cvae``, ``dcgan``); ``key=value`` overrides follow (OmegaConf
dot-list). The resolved config is saved as ``config.yaml`` in the run directory.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from omegaconf import DictConfig, OmegaConf

from latentplay.config import load_preset, refuse_interpolation, resolve
from latentplay.errors import UserError, first_line
from latentplay.models import FAMILIES, family_config
from latentplay.models.losses import TERMS, LossConfig
from latentplay.models.losses.base import check_positive, check_weights
from latentplay.models.nets import SIZES
from latentplay.models.stylegan2 import STYLE_FAMILIES

PRESET_DIR = Path(__file__).resolve().parents[1] / "configs" / "models"  # package data
DEVICES = ("auto", "cpu", "cuda")
SPLITS = ("auto", "rows", "persons", "store")
LOGGERS = ("tensorboard", "wandb")
PRECISIONS = ("32-true", "16-mixed", "bf16-mixed", "16-true", "bf16-true", "64-true",  # Fabric's
              "transformer-engine", "transformer-engine-float16", "32", "16", "bf16", "64")


@dataclass
class DataConfig:
    """Attributes:
        store: path of the training store.
        size: image side the model sees (28, 32, 64, 128); other sizes are resized on load.
        crop: keep a centred square of this fraction of each image's shorter side before
            resizing (e.g. 0.5 for the face of a head-and-shoulders picture; 1 = whole image).
        channels: 1 (gray) or 3 (RGB); 0 keeps the store's (gray or RGB: an alpha channel
            is dropped).
        test_fraction: share of rows held out for ``test_metrics.csv`` and the recon grid.
        limit: use only the first ``limit`` rows (0 = all).
        split: how the held-out rows are drawn: ``rows``, ``persons`` (whole persons of the
            store's ``identity``, or of the ``person`` attribute ``data persons`` writes: test
            reconstructions are of faces never trained on) or ``auto`` (persons when the store
            repeats them, else rows), or ``store``: the rows of the store's own ``split``
            attribute (a converter's published split, or ``data split``'s) in its ``test``
            part, or its ``val`` part where it has no ``test`` (FairFace); every other row
            is trained on and ``test_fraction`` is not read. Runs saved before this setting
            existed keep ``rows``.
        split_version: how whole persons are drawn: 2, persons closest to ``test_fraction``
            of the rows (a line on standard error when far from it); 1, persons until they
            hold that many rows, however far past (runs saved before version 2 keep it, so
            a resumed run holds out the same persons).
        split_seed: random state of the held-out rows, apart from ``seed`` (initialisation
            and batch order), so that runs of several seeds are tested on the same rows.
            Runs saved before this setting drew their split with ``seed`` and resume so.
    """

    store: str = ""
    size: int = 64
    crop: float = 1.0
    channels: int = 0
    test_fraction: float = 0.1
    limit: int = 0
    split: str = "auto"
    split_version: int = 2
    split_seed: int = 0


@dataclass
class OptimConfig:
    """Adam. Burgess et al. use lr 5e-4; the DCGAN preset 2e-4 with betas (0.5, 0.999)."""

    lr: float = 1e-4
    betas: list[float] = field(default_factory=lambda: [0.9, 0.999])
    weight_decay: float = 0.0


@dataclass
class TrainerConfig:
    """Attributes:
        epochs / max_steps: stop after whichever comes first (``max_steps`` 0 = no limit).
        batch_size: images per optimiser step per process.
        device: ``cpu``, ``cuda`` or ``auto``; devices / num_nodes / strategy: Lightning
            Fabric's (``strategy=ddp`` with ``devices=2`` runs two processes).
        precision: Fabric precision (``32-true``, ``bf16-mixed``, ``16-mixed``).
        compile: wrap the model in ``torch.compile``; channels_last: NHWC memory format.
        checkpoint_every: also save the resumable state every this many steps (0 = per epoch).
        keep_every: also keep the weights of every this many epochs (and the last) in
            ``epochs/epoch_NNN``, a run directory of its own that every command reading a
            trained model takes (0 = only the last weights, ``model.safetensors``).
        log_every: write a ``metrics.csv`` step row every this many steps.
        nan_check_every: look for a non-finite loss every this many steps (each check waits
            for the device; the step and term of the first bad value are always reported).
        threads: CPU threads for PyTorch (0 = PyTorch's default).
        timeout_minutes: how long a process waits at a collective of a multi-process run
            (DDP, FSDP, DeepSpeed) before it gives up. Process 0 alone writes the per-epoch
            figures, ``log.dis_metrics``, ``log.fidelity`` and ``latents.npy`` while the others
            wait, which takes longer than torch's 30 min default at full metric sizes.
    """

    epochs: int = 10
    max_steps: int = 0
    batch_size: int = 64
    device: str = "auto"
    devices: int = 1
    num_nodes: int = 1
    strategy: str = "auto"
    precision: str = "32-true"
    compile: bool = False
    channels_last: bool = False
    checkpoint_every: int = 0
    keep_every: int = 0
    log_every: int = 1
    nan_check_every: int = 1
    threads: int = 0
    timeout_minutes: float = 240.0


@dataclass
class LogConfig:
    """Attributes:
        loggers: extra loggers besides ``metrics.csv``: ``tensorboard``, ``wandb`` (offline
            unless ``WANDB_API_KEY`` is set).
        recon_images: fixed test images in the per-epoch reconstruction grid.
        figures_every: draw the per-epoch reconstruction or fixed-noise grid every this many
            epochs and after the last (a few tenths of a second on a CPU, much of an epoch of a
            small store); its GIF and the latent-variance heatmap are redrawn with it about 10
            times a run (``latent_variance.csv`` is written every epoch).
        samples: images in the final sample grid (a conditional model's: up to 8 per value of
            its first condition, at most ``samples`` in all).
        latents_max: rows encoded into ``latents.npy`` (0 = every row of the store).
        project: W&B project name.
        dis_metrics: disentanglement metrics (``latentplay metrics list``; e.g.
            ``[mig_fast,dci_fast]``, ``[all]``) computed on the store's factors every
            ``dis_metrics_every`` epochs and after the last one, into ``dis_metrics.csv``.
        dis_metrics_every: epochs between two evaluations.
        dis_metrics_seed: random state of the metrics' sampling.
        fidelity_every: every this many epochs (and after the last; 0 = never) compare
            ``fidelity_n`` prior samples (a plain autoencoder's drawn at the mean and SD of its
            epoch's encoded images) with as many training images: precision, recall,
            density, coverage, Frechet and kernel distances in pixel-PCA features, into
            ``fidelity.csv`` and ``fidelity.png`` (see :mod:`latentplay.train.fidelity`).
        fidelity_n: samples (and training images) per evaluation.
        fidelity_k: neighbourhood size of precision, recall, density and coverage.
    """

    loggers: list[str] = field(default_factory=list)
    recon_images: int = 16
    figures_every: int = 1
    samples: int = 64
    latents_max: int = 0
    project: str = "latentplay"
    dis_metrics: list[str] = field(default_factory=list)
    dis_metrics_every: int = 1
    dis_metrics_seed: int = 0
    fidelity_every: int = 0
    fidelity_n: int = 1000
    fidelity_k: int = 5


@dataclass
class RunConfigBase:
    """Fields shared by every family; :func:`run_config_type` adds ``model``."""

    family: str = "vae"
    preset: str = ""
    seed: int = 0
    data: DataConfig = field(default_factory=DataConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    trainer: TrainerConfig = field(default_factory=TrainerConfig)
    log: LogConfig = field(default_factory=LogConfig)

    def validate(self) -> None:
        model = self.model  # type: ignore[attr-defined]
        model.validate()
        self.loss.check_terms(variational=getattr(FAMILIES[self.family][1], "variational", False))
        d, t = self.data, self.trainer
        if self.seed < 0:  # numpy's generators (split, batch order) take no negative seed
            raise UserError(f"seed must be at least 0, got {self.seed}")
        if d.split_seed < 0:
            raise UserError(f"data.split_seed must be at least 0, got {d.split_seed}")
        if d.size not in SIZES:
            raise UserError(f"data.size must be one of {', '.join(map(str, SIZES))}, got {d.size}")
        if not 0 < d.crop <= 1:
            raise UserError(f"data.crop must be in (0, 1], got {d.crop}")
        if d.channels not in (0, 1, 3):
            raise UserError("data.channels must be 0 (as stored), 1 or 3")
        if not 0 <= d.test_fraction < 1:
            raise UserError("data.test_fraction must be in [0, 1)")
        if d.split not in SPLITS:
            raise UserError(f"data.split must be one of {', '.join(SPLITS)}, got {d.split!r}")
        if d.split_version not in (1, 2):
            raise UserError(f"data.split_version must be 1 or 2, got {d.split_version}")
        for key, least, zero in (("epochs", 1, ""), ("batch_size", 1, ""), ("log_every", 1, ""),
                                 ("max_steps", 0, " (0: no limit)"), ("nan_check_every", 1, ""),
                                 ("checkpoint_every", 0, " (0: per epoch)"),
                                 ("keep_every", 0, " (0: the last weights only)")):
            if getattr(t, key) < least:
                raise UserError(f"trainer.{key} must be at least {least}{zero}, got "
                                f"{getattr(t, key)}")
        for key, zero in (("recon_images", ""), ("samples", ""), ("latents_max", " (0: every row)")):
            if getattr(self.log, key) < 0:  # checked after training otherwise
                raise UserError(f"log.{key} must be at least 0{zero}, got {getattr(self.log, key)}")
        if self.log.figures_every < 1:
            raise UserError(f"log.figures_every must be at least 1 (epochs; figures are always drawn "
                            f"after the last), got {self.log.figures_every}")
        if t.device not in DEVICES:
            raise UserError(f"trainer.device must be one of {', '.join(DEVICES)}, got {t.device!r}")
        self._validate_optimisation()
        bad = [name for name in self.log.loggers if name not in LOGGERS]
        if bad:
            raise UserError(f"unknown logger(s) {bad}; choose from {LOGGERS}")
        if self.family == "dcgan" and self.loss.terms:
            raise UserError("dcgan takes no loss terms: set loss.terms=[]")
        if self.log.dis_metrics:
            from latentplay.metrics.evaluate import parse_names

            if self.family == "dcgan":
                raise UserError("log.dis_metrics needs a model with an encoder; dcgan has none")
            if self.condition:
                raise UserError(f"log.dis_metrics encodes images without a condition; this {self.family} is "
                                f"conditioned on {', '.join(self.condition)}: train an unconditional model")
            if self.log.dis_metrics_every < 1:
                raise UserError("log.dis_metrics_every must be at least 1")
            parse_names(",".join(self.log.dis_metrics))  # unknown names fail here, not at epoch 1
        if self.log.fidelity_every < 0:
            raise UserError("log.fidelity_every must be 0 (off) or a number of epochs")
        if self.log.fidelity_k < 1 or self.log.fidelity_n <= self.log.fidelity_k:
            raise UserError(f"log.fidelity_n ({self.log.fidelity_n}) must exceed log.fidelity_k "
                            f"({self.log.fidelity_k}), which must be at least 1")

    def _validate_optimisation(self) -> None:
        """The Adam settings and Fabric's ``devices``, ``num_nodes``, ``precision`` and
        ``strategy``, checked here so that a wrong one is one line, not a traceback of Adam or
        Fabric after the data were decoded. Lightning, slow to import, is read only for a
        strategy other than ``auto``."""
        o, t = self.optim, self.trainer
        check_positive("optim.lr", o.lr)
        if len(o.betas) != 2 or not all(0 <= b < 1 for b in o.betas):
            raise UserError(f"optim.betas must be two numbers in [0, 1), e.g. [0.9,0.999]; got "
                            f"{list(o.betas)}")
        check_weights("optim.", weight_decay=o.weight_decay)
        if t.devices < 1 and t.devices != -1:
            raise UserError(f"trainer.devices must be at least 1 (or -1: every GPU), got {t.devices}")
        if t.num_nodes < 1:
            raise UserError(f"trainer.num_nodes must be at least 1, got {t.num_nodes}")
        check_positive("trainer.timeout_minutes", t.timeout_minutes)
        if t.precision not in PRECISIONS:
            raise UserError(f"trainer.precision must be one of {', '.join(PRECISIONS)}; got "
                            f"{t.precision!r}")
        if t.strategy.lower() != "auto":
            from lightning.fabric.strategies import STRATEGY_REGISTRY

            choices = ("auto", *STRATEGY_REGISTRY.available_strategies())
            if t.strategy.lower() not in choices:
                raise UserError(f"trainer.strategy must be one of {', '.join(choices)}; got "
                                f"{t.strategy!r}")

    @property
    def condition(self) -> list[str]:
        """Store attributes the model is conditioned on."""
        return list(getattr(self.model, "condition", []) or [])  # type: ignore[attr-defined]


@functools.cache
def run_config_type(family: str) -> type:
    """The run-config dataclass whose ``model`` field is ``family``'s config."""
    cfg = family_config(family)
    return dataclasses.make_dataclass(
        f"RunConfig_{family}", [("model", cfg, field(default_factory=cfg))], bases=(RunConfigBase,)
    )


def preset_path(name: str) -> Path:
    """``configs/models/<name>.yaml``, or ``name`` itself when it is a YAML file."""
    path = Path(name)
    if path.suffix in (".yaml", ".yml") and path.exists():
        return path
    candidate = PRESET_DIR / f"{name}.yaml"
    if not candidate.exists():
        raise UserError(f"unknown model preset {name!r}; choose from: {', '.join(presets())}")
    return candidate


def presets() -> list[str]:
    """Names of the model presets in ``configs/models``."""
    return sorted(p.stem for p in PRESET_DIR.glob("*.yaml"))


def preset_description(name: str) -> str:
    """What preset ``name`` trains: its file's first comment line ('' without one)."""
    first = (PRESET_DIR / f"{name}.yaml").read_text(encoding="utf-8").splitlines()[:1]
    return first[0].lstrip("#").strip() if first and first[0].startswith("#") else ""


def _family_of(preset: Path | None, overrides: list[str]) -> str:
    family = "vae"
    if preset is not None:
        family = str(load_preset(preset).get("family", family))
    for item in overrides:
        if item.startswith("family="):
            family = item.split("=", 1)[1]
    family_config(family)
    return family


OPTIONS = {"data.store": "--data", "trainer.epochs": "--epochs", "trainer.max_steps": "--max-steps",
           "trainer.batch_size": "--batch-size", "seed": "--seed", "trainer.device": "--device"}
"""The settings ``latentplay train``'s options (and :func:`latentplay.train.train`'s keyword
arguments) set, named in the error of a ``key=value`` item that contradicts one."""


def build_config(
    model: str | None, overrides: list[str] | tuple[str, ...] = (), preset_file: Path | None = None,
) -> Any:
    """Resolve preset ``model`` (a name in ``configs/models`` or a YAML path) plus overrides.

    Raises:
        UserError: besides what :func:`~latentplay.config.resolve` refuses, a setting given twice
            with different values (an option and a ``key=value`` item of the same setting:
            ``--epochs 3 trainer.epochs=1``), and a setting of a loss term the run does not use
            (``loss.betatcvae.beta=10`` without ``betatcvae`` in ``loss.terms``; any term of a
            family that takes none). The preset's own settings are not checked: a preset may
            set its terms' weights and the command line change ``loss.terms``.
    """
    preset = preset_file if preset_file is not None else (preset_path(model) if model else None)
    items = list(overrides)
    _check_repeats(items)
    family = _family_of(preset, items)
    if family in STYLE_FAMILIES:
        raise UserError(f"{family} generators are imported, not trained: latentplay import "
                        f"{family} CHECKPOINT --out RUN")
    if model and preset_file is None:
        items.append(f"preset={model}")
    config = resolve(run_config_type(family), items, preset)
    check_loss_items(list(overrides), list(config.loss.terms), config.family)
    return config


def _key(item: str) -> str:
    return item.split("=", 1)[0].strip().lstrip("+~")


def _check_repeats(items: list[str]) -> None:
    """A :class:`UserError` for a setting of an option (:data:`OPTIONS`) set twice to different
    values: the option and a ``key=value`` item (the item won, silently). Other keys may be
    given again: a list of common items followed by one that changes a value of theirs."""
    import yaml

    def parsed(value: str) -> Any:
        try:
            return yaml.safe_load(value)
        except yaml.YAMLError:
            return value.strip()

    seen: dict[str, str] = {}
    for item in items:
        if "=" not in item:
            continue  # resolve says what is wrong with it
        key, value = _key(item), item.split("=", 1)[1]
        if key not in OPTIONS:
            continue
        if key in seen and parsed(seen[key]) != parsed(value):
            python = OPTIONS[key][2:].replace("-", "_")
            raise UserError(f"{key} is given twice, {seen[key]} and then {value} ({OPTIONS[key]} sets "
                            f"it too; in Python {python}=): give it once")
        seen[key] = value


def check_loss_items(items: Sequence[str], terms: Sequence[str], model: str) -> None:
    """A :class:`UserError` for a ``loss.<term>...`` item whose term is not in ``terms`` (the
    resolved ``loss.terms`` of a ``model``): the setting would be saved and have no effect."""
    for item in items:
        parts = _key(item).split(".")
        if len(parts) < 2 or parts[0] != "loss" or parts[1] not in TERMS or parts[1] in terms:
            continue
        if terms:
            used = (f"this run's loss terms are {', '.join(terms)}); add it to loss.terms or leave "
                    "the setting out")
        else:
            used = f"{model} takes no loss terms); leave the setting out"
        raise UserError(f"{item.strip()} has no effect: {parts[1]} is not in loss.terms ({used}")


def load_run_config(path: str | Path) -> Any:
    """The config saved in a run's ``config.yaml`` (a run saved before ``data.split`` existed
    split by rows, one saved before ``data.split_version`` drew persons by version 1, one saved
    before ``data.split_seed`` drew its split with ``seed``, and each resumes so; a beta-TCVAE
    run saved before ``loss.betatcvae.logged`` keeps logging the terms optimised, the columns
    of its ``metrics.csv``)."""
    from latentplay.train.checkpoint import check_run_exists

    path = Path(path)
    check_run_exists(path.parent)
    if not path.exists():
        raise UserError(f"{path.parent} is not a run directory (no config.yaml)")
    try:
        conf = OmegaConf.load(path)
    except yaml.YAMLError as exc:
        raise UserError(f"{path} is not valid YAML ({first_line(exc)}); restore the run's config") from None
    if not isinstance(conf, DictConfig):
        raise UserError(f"{path} does not hold a run config (a YAML mapping); restore the run's config")
    refuse_interpolation(OmegaConf.to_container(conf, resolve=False), str(path))
    saved = conf.get("data") or {}
    older = [item for key, item in (("split", "data.split=rows"), ("split_version", "data.split_version=1"))
             if key not in saved]
    if "split_seed" not in saved:
        older.append(f"data.split_seed={conf.get('seed', 0)}")
    loss = conf.get("loss") or {}
    if "betatcvae" in (loss.get("terms") or []) and "logged" not in (loss.get("betatcvae") or {}):
        older.append("loss.betatcvae.logged=objective")
    return build_config(None, older, preset_file=path)
