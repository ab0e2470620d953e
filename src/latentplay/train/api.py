"""Python API of the training engine: train, resume, and use a trained run.

>>> from latentplay import train
>>> run = train.train("betavae", data="data/shapes", out="runs/bvae", epochs=5)
>>> mu = train.encode(run, images)          # (N, H, W, C) uint8 -> (N, D) float32
>>> imgs = train.decode(run, mu[:8])        # (8, S, S, C) uint8
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from latentplay.config import as_items
from latentplay.devices import resolve_device
from latentplay.errors import UserError
from latentplay.models.condition import ConditionSpec
from latentplay.models.stylegan2 import is_style_generator
from latentplay.outputs import counted, make_parents, shell_word, warn
from latentplay.rngs import torch_state_kept
from latentplay.store.images import fitted_arrays
from latentplay.train.checkpoint import STATE_FILE, load_weights
from latentplay.train.config import build_config, load_run_config

if TYPE_CHECKING:
    from latentplay.store.io import Store

PathLike = str | os.PathLike[str]


def _primary_process() -> bool:
    """False in the worker processes that Fabric's DDP launcher starts (they re-run the
    command; the first process already created the run directory)."""
    return os.environ.get("LOCAL_RANK", "0") == "0" and os.environ.get("NODE_RANK", "0") == "0"


def train(
    model: str,
    data: PathLike | Store,
    out: PathLike,
    *,
    epochs: int | None = None,
    max_steps: int | None = None,
    batch_size: int | None = None,
    seed: int | None = None,
    device: str | None = None,
    overrides: str | Sequence[str] = (),
    progress: bool = True,
) -> Path:
    """Train preset ``model`` (``configs/models/<model>.yaml`` or a YAML path) on store ``data``
    (its path, or a saved :class:`~latentplay.store.Store`) into the new run directory ``out``;
    returns ``out``.

    ``overrides`` are ``key=value`` items (e.g. ``"loss.terms=[betatcvae,dipvae_ii]"``);
    the keyword arguments are shortcuts for ``trainer.*`` / ``seed`` overrides. Training seeds
    torch and may set its thread count (``trainer.threads``); both are put back on return.
    """
    from latentplay.store import load
    from latentplay.store.io import located
    from latentplay.train.engine import Engine

    items = [f"data.store={located(data, 'train on it').absolute()}"]
    for key, value in (("trainer.epochs", epochs), ("trainer.max_steps", max_steps),
                       ("trainer.batch_size", batch_size), ("seed", seed),
                       ("trainer.device", device)):
        if value is not None:
            items.append(f"{key}={value}")
    config = build_config(model, [*items, *as_items(overrides)])
    store = load(config.data.store)  # a clear error now rather than after the setup
    ground_truth = None
    if config.log.dis_metrics:  # a store without factors would fail after the first epoch
        from latentplay.metrics.runs import check_grid, ground_truth_of

        if not store.schema.factors:
            raise UserError(f"disentanglement metrics (log.dis_metrics) need ground-truth factors, and "
                            f"{store.path} has no factor attributes (`latentplay data info` lists "
                            "them as '(factor)')")
        ground_truth = ground_truth_of(store)
        check_grid(ground_truth, config.log.dis_metrics)   # not after the first epoch either
    run_dir = Path(out).absolute()
    if not _primary_process():
        Engine(config, run_dir, progress=progress, ground_truth=ground_truth).run()
        return run_dir
    make_parents(run_dir)                 # the folder its lock is taken in
    with _sole_run(run_dir), torch_state_kept():
        return _train_new(config, run_dir, progress, ground_truth)


def _sole_run(run_dir: Path) -> AbstractContextManager[None]:
    """In the first process, the lock beside ``run_dir`` (``.<run>.train.lock``) while a run is
    trained or resumed there: a second ``train`` with the same ``--out``, or a second
    ``--resume`` of it, is refused (two interleaved their metrics and checkpoints); the
    workers of a DDP run take none."""
    from latentplay.store.io import sole_writer

    if not _primary_process():
        return nullcontext()
    return sole_writer(run_dir.with_name(f".{run_dir.name}.train"),
                       f"another latentplay train is writing {run_dir}; wait for it or stop it")


def _train_new(config: Any, run_dir: Path, progress: bool, ground_truth: Any) -> Path:
    """:func:`train`'s run in the first process, its directory's lock held."""
    from latentplay.train.engine import Engine, StoppedBeforeCheckpoint, write_config

    if (run_dir / "config.yaml").exists():
        if not (run_dir / STATE_FILE).exists():   # no step saved: nothing to resume
            raise UserError(f"{run_dir} holds a run that stopped before its first checkpoint; "
                            "pick another --out (out= in Python), or delete it first")
        raise UserError(f"{run_dir} already holds a run; resume it with "
                        f"`latentplay train --resume {shell_word(run_dir)}` (in Python "
                        f"`train.resume({str(run_dir)!r})`) or pick another --out (out=)")
    with _stops_before_checkpoint(run_dir):
        created = not run_dir.exists()
        make_parents(run_dir).mkdir(exist_ok=True)
        before = {path.name for path in run_dir.iterdir()}
        try:
            write_config(config, run_dir)
            Engine(config, run_dir, progress=progress, ground_truth=ground_truth).run()
        except BaseException as exc:  # before the first checkpoint no run began: the --out stays free
            if (run_dir / STATE_FILE).exists():
                raise
            _undo_setup(run_dir, created, before)
            if isinstance(exc, KeyboardInterrupt) and not isinstance(exc, StoppedBeforeCheckpoint):
                raise StoppedBeforeCheckpoint(signal.SIGINT, run_dir) from None  # Ctrl-C
            raise
    return run_dir


@contextmanager
def _stops_before_checkpoint(run_dir: Path) -> Iterator[None]:
    """While :func:`train` sets up and trains, SIGTERM raises :class:`StoppedBeforeCheckpoint`
    (as Ctrl-C raises ``KeyboardInterrupt``) until the run's first checkpoint is saved, so that
    what was written is removed; from then on it acts as it would have (the training loop
    stops at a saved step: :meth:`Engine._stop_signals`). Only in the main thread, and not for
    an ignored SIGTERM."""
    from latentplay.train.engine import StoppedBeforeCheckpoint

    previous = signal.getsignal(signal.SIGTERM)
    if threading.current_thread() is not threading.main_thread() or previous in (None, signal.SIG_IGN):
        yield
        return

    def stop(signum: int, frame: Any) -> None:
        if (run_dir / STATE_FILE).exists():
            signal.signal(signum, previous)
            signal.raise_signal(signum)
            return
        raise StoppedBeforeCheckpoint(signum, run_dir)

    signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _undo_setup(run_dir: Path, created: bool, before: set[str]) -> None:
    """Remove what :func:`train` wrote into ``run_dir`` before the run's first checkpoint
    (``config.yaml``, ``metrics.csv``, figures, loggers' folders: every entry whose name is not
    in ``before``), and the directory when it made it and nothing else is inside."""
    for path in run_dir.iterdir():
        if path.name not in before:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
    if created and not any(run_dir.iterdir()):
        run_dir.rmdir()


def resume(run: PathLike, *, epochs: int | None = None, max_steps: int | None = None,
           progress: bool = True) -> Path:
    """Continue the run in directory ``run`` from its last checkpoint (optionally with more
    ``epochs`` / ``max_steps``) and return it. Same seed and machine: same final weights as a
    run that was never interrupted."""
    run_dir = Path(run).absolute()
    with _sole_run(run_dir), torch_state_kept():
        return _resume(run_dir, epochs, max_steps, progress)


def _resume(run_dir: Path, epochs: int | None, max_steps: int | None, progress: bool) -> Path:
    """:func:`resume`'s work, the run directory's lock held."""
    from latentplay.train import checkpoint as ckpt
    from latentplay.train.engine import Engine, write_config

    config = load_run_config(run_dir / "config.yaml")
    if epochs is not None:
        config.trainer.epochs = epochs
    if max_steps is not None:
        config.trainer.max_steps = max_steps
    config.validate()
    state = ckpt.load_state(run_dir)
    _check_same_store(run_dir, config, state)
    _check_same_config(run_dir, config, state)
    if epochs is not None or max_steps is not None or not state["finished"]:
        _check_more_to_do(run_dir, config.trainer, state)
    if epochs is not None or max_steps is not None:
        if epochs is not None and max_steps is None and config.trainer.max_steps and _primary_process():
            warn(f"note: the run's trainer.max_steps {config.trainer.max_steps} still applies: it "
                 f"stops at step {config.trainer.max_steps} if that comes before epoch {epochs} "
                 "ends; --max-steps N raises it (0: no limit; max_steps= in Python)")
        state["finished"] = False
        if _primary_process():
            write_config(config, run_dir)
    engine = Engine(config, run_dir, progress=progress)
    engine.restore(state)
    engine.run()
    return run_dir


def _check_more_to_do(run_dir: Path, trainer: Any, state: dict[str, Any]) -> None:
    """A :class:`UserError` when the limits (``--epochs``, ``--max-steps`` or config.yaml's)
    are ones the run has passed, naming the limit, whatever stopped it: a finished run would
    only finish again; one a signal stopped would finish without logging its part-done epoch
    (its samples and codes of weights that model.safetensors does not hold). One a signal
    stopped after its last epoch's end may finish."""
    step, epoch, batch, done = state["step"], state["epoch"], state["batch"], state["finished"]
    if trainer.max_steps and step >= trainer.max_steps:
        raise UserError(f"{run_dir} stopped at step {step} and trainer.max_steps is "
                        f"{trainer.max_steps}: pass --max-steps above {step} (0: no limit; "
                        "max_steps= in Python)")
    # the loop runs only while epoch < epochs, part-done or not
    if epoch > trainer.epochs or epoch == trainer.epochs and (batch or done):
        partial = f" and {counted(batch, 'step')} of the next" if batch else ""
        least = epoch if batch or done else epoch - 1
        raise UserError(f"{run_dir} has trained {counted(epoch, 'epoch')}{partial}: pass --epochs "
                        f"above {least} (epochs= in Python)")


RESUME_CHANGES = ("trainer.", "log.", "data.store")
"""Settings of ``config.yaml`` (dotted keys, or their beginnings) a resume may find changed:
how and for how long it trains (``--epochs``, ``--max-steps``, devices, precision; the batch
size is checked with the data), what it logs, and the store's path (a moved store; its rows
are checked)."""


def _check_same_config(run_dir: Path, config: Any, state: dict[str, Any]) -> None:
    """A :class:`UserError` naming each setting of ``config.yaml`` (other than
    :data:`RESUME_CHANGES`) that differs from what the checkpoint ``state`` trained with (the
    model, its losses, the optimiser, the seed): the restored optimiser and model would not
    follow it (an edited ``optim.lr`` was overwritten by the saved optimiser state), while
    ``config.yaml`` and the report would say it was used. A checkpoint that recorded no config
    is not checked."""
    from latentplay.config import to_dict

    if state.get("config") is None:
        return
    changed = [f"{key} {old!r} -> {new!r}" for key, old, new in
               _differences(state["config"], to_dict(config)) if not key.startswith(RESUME_CHANGES)]
    if changed:
        raise UserError(f"{run_dir / 'config.yaml'} differs from what the run trained with "
                        f"({'; '.join(changed)}): a resume continues the run as it was; put the "
                        "values back, or train a new run with them")


def _differences(old: Any, new: Any, key: str = "") -> list[tuple[str, Any, Any]]:
    """``(dotted key, old, new)`` of each value that differs between two nested dicts, over
    the keys both have (a setting added to latentplay since the checkpoint, or dropped from
    it, is no edit)."""
    if isinstance(old, dict) and isinstance(new, dict):
        return [d for k in sorted(set(old) & set(new), key=str)
                for d in _differences(old.get(k), new.get(k), f"{key}.{k}" if key else str(k))]
    return [] if old == new else [(key, old, new)]


def _check_same_store(run_dir: Path, config: Any, state: dict[str, Any]) -> None:
    """A :class:`UserError` before any image is decoded when the data settings or the number of
    rows of ``config``'s store differ from what the checkpoint ``state`` recorded (the images
    themselves are compared once decoded: :meth:`Engine.restore`)."""
    from latentplay.store import load
    from latentplay.train.data import check_same_data, data_settings, rows_read

    rows = rows_read(load(config.data.store), config.data.limit)
    check_same_data(state.get("data"), {"settings": data_settings(config), "rows": rows}, run_dir,
                    config.data.store)


def _check_batch(batch_size: int) -> None:
    """Refuse a batch size below 1 (a ``range`` step of 0 failed deep inside)."""
    if batch_size < 1:
        raise UserError(f"batch_size must be at least 1, got {batch_size}")


def _device(device: str | torch.device) -> str | torch.device:
    """``device`` of a Python call checked before anything runs on it: ``cpu``, ``cuda``,
    ``cuda:N`` or ``auto`` (:func:`resolve_device`), or a :class:`torch.device`; a
    :class:`UserError` for anything else (torch's own error named no argument)."""
    if isinstance(device, torch.device):
        return device
    if isinstance(device, str) and re.fullmatch(r"cuda:\d+", device):
        resolve_device("cuda", "device")
        if int(device[5:]) >= torch.cuda.device_count():
            raise UserError(f"device={device} but this machine has {torch.cuda.device_count()} "
                            "CUDA device(s)")
        return device
    if not isinstance(device, str):
        raise UserError(f"device must be cpu, cuda or auto, got {device!r}")
    return resolve_device(device, "device")


def load_model(run_dir: PathLike, device: str | torch.device = "cpu") -> torch.nn.Module:
    """The trained model of ``run_dir`` (from ``model.safetensors``), in eval mode on ``device``
    (``cpu``, ``cuda``, ``cuda:N``, ``auto`` or a :class:`torch.device`).

    Its ``condition_spec`` attribute is the :class:`ConditionSpec` of conditional models,
    ``crop`` the centred-crop fraction its training images were cut to (``data.crop``),
    ``run_dir`` the run's absolute path and ``weights_sha256`` the checksum of the weights
    loaded (:func:`described`)."""
    device = _device(device)
    with torch_state_kept():   # building the layers draws their first weights from torch's RNG
        model, meta = load_weights(run_dir)
    return described(model, meta, run_dir).to(device).eval()


def as_model(model: torch.nn.Module | PathLike, device: str | torch.device = "cpu") -> torch.nn.Module:
    """``model`` itself, or the trained model of run directory ``model`` (:func:`load_model`
    on ``device``): what the functions that take a model accept."""
    return model if isinstance(model, torch.nn.Module) else load_model(model, device)


def described(model: torch.nn.Module, meta: Mapping[str, Any], run_dir: PathLike) -> torch.nn.Module:
    """``model`` with the attributes :func:`load_model` gives it from its ``model.json``
    fields ``meta``: ``condition_spec``, ``crop``, ``run_dir`` and ``weights_sha256`` (the
    SHA-256 of the weights loaded, None where ``model.json`` records none: what a store or an
    export made with the model records, read with the weights, never after them)."""
    sha = meta.get("sha256")
    model.weights_sha256 = sha if isinstance(sha, str) else None  # type: ignore[assignment]
    model.condition_spec = ConditionSpec.from_dict(meta["condition"])  # type: ignore[assignment]
    model.crop = float(meta.get("crop", 1.0))  # type: ignore[assignment]
    model.run_dir = Path(run_dir).absolute()  # type: ignore[assignment]
    return model


def condition_matrix(spec: ConditionSpec, values: Mapping[str, Any], n: int) -> np.ndarray:
    """``(n, K)`` conditions from ``{attribute: scalar or (n,) values}`` (class names, codes
    or floats); a :class:`UserError` for an attribute given another number of values."""
    columns = {}
    for k, v in values.items():
        arr = np.asarray(v, dtype=object)
        if arr.ndim > 1:
            raise UserError(f"condition {k!r} must be one value or {n} values, got an array of "
                            f"shape {arr.shape}")
        if arr.ndim == 1 and len(arr) != n:
            raise UserError(f"condition {k!r} holds {len(arr)} values for {n} images or codes: "
                            f"give one value (for all of them) or {n}")
        columns[k] = np.broadcast_to(arr, (n,))
    return np.stack([spec.vector({k: col[i] for k, col in columns.items()}) for i in range(n)]
                    ) if n else np.zeros((0, spec.dim), dtype=np.float32)


def _conditions(model: torch.nn.Module, condition: Any, n: int) -> torch.Tensor | None:
    spec: ConditionSpec = model.condition_spec  # type: ignore[assignment]
    if not spec.dim:
        if condition is not None:
            raise UserError("this model is not conditional; pass no condition")
        return None
    if condition is None:
        raise UserError(f"this model is conditional on {', '.join(p.name for p in spec.parts)}; pass "
                        "condition={attribute: value(s)} or an (N, K) array")
    if isinstance(condition, Mapping):
        condition = condition_matrix(spec, condition, n)
    with np.errstate(over="ignore"):  # a value beyond float32 becomes inf, refused below
        arr = np.asarray(condition, dtype=np.float32)
    if arr.shape != (n, spec.dim):
        raise UserError(f"condition must have shape ({n}, {spec.dim}), got {arr.shape}")
    if not np.isfinite(arr).all():  # NaN, inf or a value beyond float32: no face to decode
        raise UserError(f"condition holds {int((~np.isfinite(arr)).sum())} NaN or infinite "
                        "value(s) (as float32)")
    return torch.from_numpy(arr)


IMAGE_SHAPES = ("(N, H, W, C) uint8 with C = 1 or 3, (N, H, W) uint8 grey, or a list of "
                "(H, W[, C]) uint8 images")
"""The image batches :func:`encode` and :func:`model_input` take (in their messages)."""


def _prepare(images: np.ndarray | Sequence[np.ndarray], channels: int, size: int,
             crop: float = 1.0) -> np.ndarray:
    """``(N, H, W, C)`` uint8 (``(N, H, W)`` grey, or a list of ``(H, W[, C])`` of any sizes)
    -> ``(N, size, size, channels)`` uint8 as training saw them (converted, centre-cropped,
    resized). A 3-d array whose last axis is 1, 3 or ``channels`` is refused: it is more
    likely one ``(H, W, C)`` image than ``H`` grey images ``C`` pixels wide."""
    if isinstance(images, np.ndarray):
        if images.ndim == 3:
            if images.shape[2] in (1, 3, channels):
                raise UserError(f"a 3-d array is read as (N, H, W) grey images, but the last axis "
                                f"of {images.shape} looks like {images.shape[2]} colour channel(s): "
                                "pass a batch as (N, H, W, C) (one image: image[None])")
            images = images[..., None]
        if images.ndim != 4 or images.dtype != np.uint8 or images.shape[3] not in (1, 3):
            raise UserError(f"images must be {IMAGE_SHAPES} (one image: image[None]), got "
                            f"{images.shape} {images.dtype}")
        if images.shape[1:] == (size, size, channels) and crop == 1.0:
            return images
    for img in images:
        img = np.asarray(img)
        if img.dtype != np.uint8 or img.ndim not in (2, 3):
            raise UserError(f"each image must be (H, W[, C]) uint8, got {img.shape} {img.dtype}")
    out = fitted_arrays(images, size, "L" if channels == 1 else "RGB", crop)
    return out if len(out) else np.zeros((0, size, size, channels), np.uint8)


def model_input(model: torch.nn.Module, images: np.ndarray | Sequence[np.ndarray],
                cropped: bool = False) -> np.ndarray:
    """``(N, S, S, C)`` uint8: ``images`` as ``model`` (from :func:`load_model`) saw its
    training images — centre-cropped to its ``data.crop`` (unless ``cropped``: already cut
    that way), resized and converted to gray/RGB. ``images`` is an ``(N, H, W, C)`` uint8
    array (C = 1 or 3), an ``(N, H, W)`` uint8 array of grey images or a list of ``(H, W[,
    C])`` uint8 images of any sizes; one image is a batch of one (``image[None]``)."""
    return _prepare(images, model.channels, model.size, 1.0 if cropped else model.crop)


@torch.no_grad()
def encode(run_dir: PathLike | torch.nn.Module, images: np.ndarray | Sequence[np.ndarray],
           batch_size: int = 256, condition: Any = None, device: str | torch.device = "cpu",
           cropped: bool = False) -> np.ndarray:
    """Encoder means ``(N, D)`` float32 of ``images``, centre-cropped as in training
    (``data.crop``; pass ``cropped=True`` for images already cut that way), resized and
    converted to gray/RGB as the run's model needs.

    ``images``: an ``(N, H, W, C)`` uint8 array (C = 1 or 3, values 0..255), an ``(N, H, W)``
    uint8 array of grey images, or a list of ``(H, W[, C])`` uint8 images of any sizes. One
    image is a batch of one (``image[None]``): a 3-d array whose last axis looks like colour
    channels (1, 3 or the model's count) is refused rather than read as grey images.

    Conditional models need ``condition`` (``{attribute: one value or N values}`` or an ``(N,
    K)`` array). ``device``: ``cpu``, ``cuda``, ``cuda:N``, ``auto`` or a :class:`torch.device`.
    ``run_dir`` may also be a model from :func:`load_model` (already on ``device``), so that
    encoding batch after batch reads the checkpoint once."""
    _check_batch(batch_size)
    device = _device(device)
    model = as_model(run_dir, device)
    x_all = model_input(model, images, cropped)
    cond = _conditions(model, condition, len(x_all))
    out = []
    for s in range(0, len(x_all), batch_size):
        x = torch.from_numpy(x_all[s:s + batch_size]).to(device).permute(0, 3, 1, 2).float() / 255
        c = None if cond is None else cond[s:s + batch_size].to(device)
        out.append(model.encode(x, c)[0].float().cpu())
    return (torch.cat(out).numpy() if out else np.zeros((0, model.latent_dim), np.float32))


def code_sizes(model: torch.nn.Module) -> tuple[int, ...]:
    """The code sizes ``model`` decodes: its latent size, and for an imported StyleGAN2 or StyleGAN3 also
    one code per layer (W+)."""
    return tuple(getattr(model, "code_dims", (model.latent_dim,)))


@torch.no_grad()
def decode(run_dir: PathLike | torch.nn.Module, z: np.ndarray, condition: Any = None,
           batch_size: int = 256, device: str | torch.device = "cpu") -> np.ndarray:
    """Images ``(N, S, S, C)`` uint8 decoded from finite latents ``z`` ``(N, D)`` (+ condition:
    ``{attribute: one value or N values}`` or an ``(N, K)`` array), ``batch_size`` at a time
    (at most the model's ``max_batch`` when it has one). ``device``: ``cpu``, ``cuda``,
    ``cuda:N``, ``auto`` or a :class:`torch.device`. ``run_dir`` may also be a model from
    :func:`load_model` (already on ``device``)."""
    _check_batch(batch_size)
    device = _device(device)
    model = as_model(run_dir, device)
    with np.errstate(over="ignore"):  # a value beyond float32 becomes inf, refused below
        z_all = torch.from_numpy(np.array(z, dtype=np.float32))  # a copy: z may be read-only
    dims = code_sizes(model)
    if z_all.ndim != 2 or z_all.shape[1] not in dims:
        raise UserError(f"z must have shape (N, {' or '.join(map(str, dims))}), got "
                        f"{tuple(z_all.shape)}")
    if not torch.isfinite(z_all).all():  # NaN decodes to a black image, silently
        raise UserError(f"z holds {int((~torch.isfinite(z_all)).sum())} NaN or infinite "
                        "value(s) (as float32): no image to decode")
    cond = _conditions(model, condition, len(z_all))
    batch_size = min(batch_size, getattr(model, "max_batch", batch_size))  # a large generator's
    out = []
    for s in range(0, len(z_all), batch_size):
        c = None if cond is None else cond[s:s + batch_size].to(device)
        img = model.decode(z_all[s:s + batch_size].to(device), c)
        out.append(img.clamp(0, 1).mul(255).round().byte().permute(0, 2, 3, 1).cpu())
    if not out:
        return np.zeros((0, model.size, model.size, model.channels), np.uint8)
    return torch.cat(out).numpy()


def has_prior(model: torch.nn.Module) -> bool:
    """Whether ``model``'s codes are drawn from ``N(0, I)``: all but a plain autoencoder."""
    return getattr(model, "family", "") != "ae"


def prior_frame(model: torch.nn.Module) -> tuple[np.ndarray, np.ndarray] | None:
    """``(centre (D,), scale (D,))`` of a plain autoencoder's draws, which has no prior: each
    dimension's mean and standard deviation over its encoded training set (the run's
    ``latents.npy``), the playground's frame (:func:`latentplay.latent.traverse.axis_frame`);
    None for a model with a prior ``N(0, I)``."""
    if has_prior(model):
        return None
    from latentplay.latent.traverse import axis_frame, run_latents
    from latentplay.train.figures import AE_DRAWS

    run = getattr(model, "run_dir", None)
    why = (f"a plain autoencoder has no prior: its samples are drawn from the {AE_DRAWS} "
           "(latents.npy)")
    if run is None:
        raise UserError(f"{why}; load the model with train.load_model(RUN)")
    try:
        return axis_frame(model, run_latents(run))
    except UserError as err:
        raise UserError(f"{err} ({why})") from None


def prior_draws(model: torch.nn.Module, rng: np.random.Generator, n: int,
                temperature: float = 1.0) -> np.ndarray:
    """``(n, D)`` float32 codes to decode from ``n`` standard normal draws ``z`` of ``rng``:
    ``temperature * z`` for a model with a prior, ``centre + temperature * z * scale`` for a
    plain autoencoder (:func:`prior_frame`; as the playground's Sample tab draws, so that the
    same seed gives its images)."""
    frame = prior_frame(model)
    if frame is None:
        z = rng.standard_normal((n, int(model.latent_dim))).astype(np.float32)
        return z * np.float32(temperature)
    return framed_draws(*frame, rng, n, temperature)


def framed_draws(centre: np.ndarray, scale: np.ndarray, rng: np.random.Generator, n: int,
                 temperature: float = 1.0) -> np.ndarray:
    """``(n, D)`` float32 codes ``centre + temperature * z * scale`` of ``n`` standard normal
    draws ``z`` of ``rng``, for ``(D,)`` ``centre`` and ``scale`` (a plain autoencoder's
    :func:`prior_frame`)."""
    z = rng.standard_normal((n, len(centre)))
    return (centre + temperature * z * scale).astype(np.float32)


def sample(run_dir: PathLike | torch.nn.Module, n: int, seed: int = 0, condition: Any = None,
           device: str | torch.device = "cpu", temperature: float = 1.0) -> np.ndarray:
    """``n`` images ``(n, S, S, C)`` uint8 decoded from prior draws ``z ~ N(0, I)`` times
    ``temperature`` (the same draws at every temperature; for an imported StyleGAN with codes
    in whitened W, exactly the truncation trick with psi = ``temperature``); a plain
    autoencoder, which has no prior, decodes ``mean + temperature * z * SD`` of its encoded
    training set (:func:`prior_draws`: the playground's images of ``seed``). ``n`` = 0 gives
    an empty ``(0, S, S, C)`` array. ``run_dir`` may also be a model from :func:`load_model`
    (already on ``device``)."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise UserError(f"n must be a whole number of images, 0 or more, got {n!r}")
    if seed < 0:
        raise UserError(f"seed must be 0 or more, got {seed}")
    device = _device(device)
    model = as_model(run_dir, device)
    if temperature != 1 and is_style_generator(model) and model.config.space == "z":
        raise UserError("scaling a StyleGAN's z is not truncation (which acts on W): import the "
                        "generator with --space w")
    z = prior_draws(model, np.random.default_rng(seed), int(n), temperature)
    return decode(model, z, condition=condition, device=device)
