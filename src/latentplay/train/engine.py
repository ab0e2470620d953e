"""The training engine: one loop for every family, on Lightning Fabric (CPU, GPU, DDP).

Fabric supplies devices, precision (``bf16-mixed``...), DDP over processes and nodes, and the
optional TensorBoard / W&B loggers; the loop itself is explicit so that a resumed run is
bit-for-bit the run that was never interrupted: the data order is a function of
``(seed, epoch)``, and the checkpoint holds weights, optimisers, RNG states, the position in
the epoch and the running epoch statistics. See :func:`fit` for the run directory's layout.
"""

from __future__ import annotations

import json
import math
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from lightning.fabric import Fabric
from omegaconf import OmegaConf
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from latentplay.config import to_dict
from latentplay.errors import UserError
from latentplay.models import build_model
from latentplay.models.condition import class_names
from latentplay.models.losses import LossSet, build_losses
from latentplay.outputs import bar_drawn, progress_bar, save_array, shell_word, write_atomic
from latentplay.train import checkpoint as ckpt
from latentplay.train.api import framed_draws, resolve_device
from latentplay.train.csvlog import CSVTable
from latentplay.train.data import TrainingData, check_same_data, data_settings, load_training_data
from latentplay.train.figures import (
    AE_SAMPLES,
    GifFrames,
    epoch_frames,
    save_image_rows,
    save_latent_variance,
    save_recon_grid,
)
from latentplay.train.forcing import (
    continuous_values,
    first_continuous,
    force_condition,
    save_force_condition,
    to_uint8,
)
from latentplay.train.steps import GANStepper, Metrics, VAEStepper
from latentplay.train.summary import SUMMARY_ROWS, condition_in_codes, final_outputs_written, write_summary
from latentplay.train.welford import Welford

if TYPE_CHECKING:
    from latentplay.train.config import TrainerConfig
    from latentplay.train.fidelity import FidelityTracker

ACTIVE_THRESHOLD = 0.01  # Burda et al.: a unit is active when Var_x E[z|x] > 0.01
EPOCH_FIELDS = ["active_units", "images_per_s", "epoch_seconds"]


GIF_WRITES = 10
"""About how many times a run rewrites its GIF and latent-variance heatmap (and after its last
epoch): rewriting the GIF costs time growing with its frames (hours over SmileCVAE's 1,000
epochs rewritten every epoch; 50 rewrites of it and the heatmap took a third of the time of a
100-epoch run of 200 faces)."""


class NonFiniteLoss(UserError):
    """A loss became NaN or infinite; the last good checkpoint is kept."""


STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class Stopped(KeyboardInterrupt):
    """Training stopped by SIGTERM or SIGINT (a scheduler's preemption, Ctrl-C) once its
    batch was done and saved at ``step``: a :class:`KeyboardInterrupt` to Python callers
    (``except KeyboardInterrupt`` catches it; its text says how to resume), and for
    ``latentplay train`` one line (:attr:`cli_line`) and exit status :attr:`code`, 128 + the
    signal's number (143, 130)."""

    def __init__(self, signum: int, step: int, run_dir: Path) -> None:
        super().__init__(signum, step, run_dir)
        self.signum, self.step, self.run_dir = signum, step, run_dir

    @property
    def code(self) -> int:
        return 128 + self.signum

    @property
    def _stopped(self) -> str:
        return f"stopped by {signal.Signals(self.signum).name} at step {self.step}"

    def __str__(self) -> str:
        return f"{self._stopped}; train.resume({str(self.run_dir)!r}) continues from here"

    @property
    def cli_line(self) -> str:
        return f"{self._stopped}; latentplay train --resume {shell_word(self.run_dir)} continues from here"


class StoppedBeforeCheckpoint(Stopped):
    """SIGTERM or SIGINT before a new run's first checkpoint (while its images were decoded,
    say): nothing to resume, and :func:`~latentplay.train.api.train` removed what it had
    written, so the same command starts the run again in ``run_dir``."""

    def __init__(self, signum: int, run_dir: Path) -> None:
        super().__init__(signum, 0, run_dir)

    @property
    def _stopped(self) -> str:
        return (f"stopped by {signal.Signals(self.signum).name} before the first checkpoint: "
                "nothing to resume, and")

    def __str__(self) -> str:
        return f"{self._stopped} out={str(self.run_dir)!r} is free to train into again"

    @property
    def cli_line(self) -> str:
        return f"{self._stopped} --out {self.run_dir} is free to train into again"


def _loggers(config: Any, run_dir: Path) -> list[Any]:
    loggers = []
    for name in config.log.loggers:
        if name == "tensorboard":
            from lightning.fabric.loggers import TensorBoardLogger
            from lightning.fabric.loggers.tensorboard import _TENSORBOARD_AVAILABLE

            if not _TENSORBOARD_AVAILABLE:
                raise UserError("log.loggers=[tensorboard] needs the tensorboard package: "
                                "pip install 'latentplay[track]'")
            loggers.append(TensorBoardLogger(root_dir=str(run_dir), name="tensorboard", version=""))
        else:
            try:
                import wandb  # noqa: F401
            except ImportError:
                raise UserError("log.loggers=[wandb] needs the wandb package: "
                                "pip install 'latentplay[track]'") from None
            from lightning.pytorch.loggers import WandbLogger

            offline = wandb_offline()
            if offline:  # no error reports to W&B's Sentry either
                os.environ.setdefault("WANDB_ERROR_REPORTING", "false")
            loggers.append(WandbLogger(save_dir=str(run_dir), project=config.log.project,
                                       name=run_dir.name, offline=offline))
    return loggers


def wandb_offline() -> bool:
    """W&B runs offline (files under ``RUN/wandb``, nothing sent) unless ``WANDB_API_KEY`` is
    set and ``WANDB_MODE`` is not ``offline``."""
    return not os.environ.get("WANDB_API_KEY") or os.environ.get("WANDB_MODE") == "offline"


def make_fabric(t: TrainerConfig, loggers: list[Any]) -> Fabric:
    """Fabric for the ``trainer`` settings, not launched yet. A strategy with a process group
    (DDP, FSDP, DeepSpeed: named, or chosen by ``auto`` for several devices) gets
    ``trainer.timeout_minutes`` as its collective timeout in place of Lightning's 30 min:
    process 0 alone evaluates at the end of an epoch and of the run while the others wait at a
    barrier, and a full-size ``log.dis_metrics`` alone takes about a quarter of an hour on CPU.
    Lightning has no public setter; the strategy reads ``_timeout`` when :meth:`Fabric.launch`
    starts the process group."""
    fabric = Fabric(accelerator=resolve_device(t.device, "trainer.device"), devices=t.devices,
                    num_nodes=t.num_nodes, strategy=t.strategy, precision=t.precision, loggers=loggers)
    if hasattr(fabric.strategy, "_timeout"):
        fabric.strategy._timeout = timedelta(minutes=t.timeout_minutes)
    return fabric


class Engine:
    """Set up from a resolved run config and a run directory; :meth:`run` trains.

    ``ground_truth``: the store's (:func:`~latentplay.metrics.runs.ground_truth_of`) when the
    caller built it already to check ``log.dis_metrics``; else built at the first evaluation."""

    def __init__(self, config: Any, run_dir: Path, progress: bool = True,
                 ground_truth: Any = None) -> None:
        self.config, self.run_dir, self.progress = config, run_dir, progress
        self.ground_truth = ground_truth
        t = config.trainer
        if t.threads > 0:
            torch.set_num_threads(t.threads)
        self.fabric = make_fabric(t, _loggers(config, run_dir))
        self.fabric.launch()
        self.rank0 = self.fabric.global_rank == 0
        torch.manual_seed(config.seed)
        data = load_training_data(
            config.data.store, config.data.size, config.data.channels, config.condition,
            config.data.test_fraction, config.data.limit, config.data.split_seed,
            progress=progress and self.rank0, crop=config.data.crop, split=config.data.split,
            split_version=config.data.split_version,
        )
        # what the split and batches depend on, saved in every checkpoint: a resume checks it
        self.data_record = {"settings": data_settings(config), **data.digests()}
        self.data: TrainingData = data.to(self.fabric.device)
        # fewer training rows than one batch: refused at set-up, not at the first epoch
        self.data.epoch_order(config.seed, 0, t.batch_size, self.fabric.global_rank, self.fabric.world_size)
        self.model = build_model(config.family, config.model, self.data.channels,
                                 config.data.size, self.data.spec.dim)
        if getattr(config.model, "output_bias", False):
            self.model.init_output_bias(self.data.mean_value(self.data.train_idx))
        if t.channels_last:
            self.model = self.model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
        self.losses: LossSet = build_losses(config.loss, self.model.latent_dim,
                                            len(self.data.train_idx)).to(self.fabric.device)
        self._setup_optimisation()
        torch.manual_seed(config.seed + self.fabric.global_rank)
        self.step = self.epoch = self.batch = 0
        self.finished = False
        self.names: list[str] = []
        self.epoch_sum: torch.Tensor | None = None
        self.epoch_count = 0
        self.epoch_seconds = 0.0
        dim = self.model.latent_dim
        self.welford = Welford(dim, self.fabric.device)
        self.variance_history = torch.zeros(0, dim, dtype=torch.float64)
        self.gif = GifFrames()
        # rows and variance history before an epoch cut short by max_steps logged its partial
        # results: a resume goes back to them, so the finished epoch is logged once
        self.before_partial: tuple[dict[str, int], torch.Tensor] | None = None
        self.pending: list[tuple[int, list[str], torch.Tensor]] = []
        self.last_good = 0
        self.metrics_table: CSVTable | None = None
        self.test_table: CSVTable | None = None
        self.fidelity_rows: np.ndarray | None = None  # set up at the first evaluation
        self.fidelity: FidelityTracker | None = None
        self.stopped_by: int | None = None  # the stop signal received while training

    # ------------------------------------------------------------------ setup
    def _adam(self, params: Any, lr: float, betas: Any) -> torch.optim.Optimizer:
        fused = self.fabric.device.type == "cuda"
        return torch.optim.Adam(params, lr=lr, betas=tuple(betas),
                                weight_decay=self.config.optim.weight_decay, fused=fused)

    def _compiled(self, module: torch.nn.Module) -> torch.nn.Module:
        return torch.compile(module) if self.config.trainer.compile else module  # type: ignore[return-value]

    def _setup_optimisation(self) -> None:
        o, f = self.config.optim, self.fabric
        if self.config.family == "dcgan":
            g, d = self.model.generator, self.model.discriminator
            g_f, opt_g = f.setup(self._compiled(g), self._adam(g.parameters(), o.lr, o.betas))
            d_f, opt_d = f.setup(self._compiled(d), self._adam(d.parameters(), o.lr, o.betas))
            self.optimizers = [opt_g, opt_d]
            lat = self.model.latent_dim
            self.stepper: VAEStepper | GANStepper = GANStepper(f, g_f, d_f, opt_g, opt_d, lat)
            self.evaluator: VAEStepper | GANStepper = GANStepper(f, g, d, None, None, lat)
        else:
            model_f, opt = f.setup(self._compiled(self.model),
                                   self._adam(self.model.parameters(), o.lr, o.betas))
            aux = [term.configure_optimizer() for term in self.losses.auxiliary]
            self.optimizers = [opt, *aux]
            self.stepper = VAEStepper(f, model_f, opt, self.losses, aux)  # type: ignore[arg-type]
            self.evaluator = VAEStepper(f, self.model, None, self.losses, None)

    # ------------------------------------------------------------ state I/O
    def state(self) -> dict[str, Any]:
        """The resumable state (called on every process: it gathers what each holds). The
        running epoch statistics are those of all processes merged, and ``rng`` holds each
        process's generator states, ``(world, n)`` uint8 (``cuda``: of its own device)."""
        f = self.fabric
        cuda = self._gathered(torch.cuda.get_rng_state(f.device)) if f.device.type == "cuda" else []
        epoch_sum = None if self.epoch_sum is None else self._epoch_total()
        if self.batch and self.before_partial is not None:
            rows, history = self.before_partial
        else:
            rows = {"metrics": self._rows(self.metrics_table), "test": self._rows(self.test_table)}
            history = self.variance_history
        return {
            "format": ckpt.STATE_FORMAT, "step": self.step, "epoch": self.epoch, "batch": self.batch,
            "world": f.world_size, "finished": self.finished, "names": list(self.names),
            "model": self.model.state_dict(), "losses": self.losses.state_dict(),
            "optimizers": [opt.state_dict() for opt in self.optimizers],
            "rng": {"torch": self._gathered(torch.get_rng_state()), "cuda": cuda},
            "welford": self._merged_welford().state(),
            "epoch_sum": None if epoch_sum is None else epoch_sum.cpu(),
            "epoch_count": self.epoch_count, "epoch_seconds": self.epoch_seconds,
            "variance_history": history,
            "rows": rows, "data": self.data_record, "config": to_dict(self.config),
        }

    def _epoch_total(self) -> torch.Tensor:
        """The running loss sums of every process added up (Fabric reduces in place: a copy,
        so this process's own sum is what a checkpoint keeps going)."""
        f = self.fabric
        assert self.epoch_sum is not None
        if f.world_size == 1:
            return self.epoch_sum
        return f.all_reduce(self.epoch_sum.clone(), reduce_op="sum")

    def _gathered(self, rng_state: torch.Tensor) -> torch.Tensor:
        """``(world, n)``: this process's ``(n,)`` uint8 generator state and every other's."""
        f = self.fabric
        return f.all_gather(rng_state.to(f.device)).reshape(f.world_size, -1).cpu()

    def _own_rng(self, states: torch.Tensor) -> torch.Tensor:
        """This process's row of :meth:`_gathered` states (a checkpoint of another number of
        processes, or of one state before they were gathered: the first), copied: torch's
        ``set_state`` reads a view's storage from its start."""
        f = self.fabric
        if states.ndim == 1:
            return states
        return states[f.global_rank if len(states) == f.world_size else 0].clone()

    @staticmethod
    def _rows(table: CSVTable | None) -> int:
        return 0 if table is None else table.rows

    def restore(self, state: dict[str, Any]) -> None:
        """Continue from a :meth:`state` read back from ``checkpoint.pt`` (refused when the data
        differ from those it recorded: :func:`~latentplay.train.data.check_same_data`)."""
        check_same_data(state.get("data"), self.data_record, self.run_dir, self.config.data.store)
        self._check_world(state)
        ckpt.check_state(self.model, state["model"], str(self.run_dir / ckpt.STATE_FILE))
        self.model.load_state_dict(state["model"])
        ckpt.check_state(self.losses, state["losses"], str(self.run_dir / ckpt.STATE_FILE))
        self.losses.load_state_dict(state["losses"])
        if len(state["optimizers"]) != len(self.optimizers):
            raise UserError(f"{self.run_dir / ckpt.STATE_FILE} does not match its config: "
                            f"{len(state['optimizers'])} optimiser states for "
                            f"{len(self.optimizers)} optimisers")
        for opt, saved in zip(self.optimizers, state["optimizers"], strict=True):
            opt.load_state_dict(saved)
        self.step, self.epoch, self.batch = state["step"], state["epoch"], state["batch"]
        self.finished, self.names = state["finished"], list(state["names"])
        # the epoch statistics so far are every process's merged: the first process continues
        # from them, the others from nothing, so that they are counted once at the epoch's end
        self.welford = Welford(self.model.latent_dim, self.fabric.device)
        epoch_sum = state["epoch_sum"]
        if self.rank0:
            self.welford.load(state["welford"])
        elif epoch_sum is not None:
            epoch_sum = torch.zeros_like(epoch_sum)
        self.epoch_sum = None if epoch_sum is None else epoch_sum.to(self.fabric.device)
        self.epoch_count, self.epoch_seconds = state["epoch_count"], state["epoch_seconds"]
        self.variance_history = state["variance_history"]
        self.last_good = self.step
        rng = state["rng"]
        torch.set_rng_state(self._own_rng(rng["torch"]))
        if isinstance(rng["cuda"], list):  # saved before the states were gathered: every device's
            if rng["cuda"] and torch.cuda.is_available():
                torch.cuda.set_rng_state_all(rng["cuda"])
        elif self.fabric.device.type == "cuda":
            torch.cuda.set_rng_state(self._own_rng(rng["cuda"]), self.fabric.device)
        self._rows_to_keep = state["rows"]
        if self.names:
            self._open_tables()

    def _check_world(self, state: dict[str, Any]) -> None:
        """A :class:`UserError` for a checkpoint saved part-way through an epoch by another
        number of processes: each process's batch ``k`` of an epoch is a different slice of the
        epoch's order for every number of processes (:meth:`TrainingData.epoch_order`), so
        going on from batch ``k`` would skip or repeat images. At an epoch's end any number
        may go on."""
        torch_rng = state["rng"]["torch"]
        saved = state.get("world", len(torch_rng) if torch_rng.ndim == 2 else None)
        world = self.fabric.world_size
        if state["batch"] and saved is not None and saved != world:
            raise UserError(
                f"{self.run_dir / ckpt.STATE_FILE} was saved by {saved} process(es) part-way "
                f"through epoch {state['epoch'] + 1} (batch {state['batch']}); this run has "
                f"{world}: resume with trainer.devices x trainer.num_nodes = {saved} processes "
                f"in {self.run_dir / 'config.yaml'}")

    def _save(self) -> None:
        """Check for non-finite losses, then write the resumable state (rank 0)."""
        self._check_finite()
        state = self.state()
        if self.rank0:
            ckpt.save_state(self.run_dir, state)
        self.last_good = self.step

    def _save_model(self) -> None:
        if self.rank0:
            meta = ckpt.model_meta(self.config.family, self.config.model, self.data.channels,
                                   self.config.data.size, self.data.spec, self.epoch + 1, self.step,
                                   self.config.data.crop)
            ckpt.save_model(self.run_dir, self.model, meta)

    # --------------------------------------------------------- NaN guard
    def _guard(self, metrics: Metrics) -> None:
        values = torch.stack([v.detach().float().sum() for v in metrics.values()])
        self.pending.append((self.step + 1, list(metrics), values))
        if self.config.trainer.nan_check_every == 1:
            self._check_finite()

    def _check_finite(self) -> None:
        """Raise :class:`NonFiniteLoss` for the first pending step with a NaN/inf entry. Under
        DDP the processes agree on that step (a process that went on alone would wait for the
        others at its next collective call)."""
        if not self.pending:
            return
        flags = torch.stack([~torch.isfinite(v).all() for _, _, v in self.pending]).float()
        if self.fabric.world_size > 1:
            flags = self.fabric.all_reduce(flags, reduce_op="sum")
        flags = flags.cpu() > 0
        pending, self.pending = self.pending, []
        if not bool(flags.any()):
            return
        step, names, values = pending[int(flags.nonzero()[0])]
        vals = values.cpu().tolist()
        bad = [(n, v) for n, v in zip(names, vals, strict=True) if not math.isfinite(v)]
        # name the loss term itself rather than the totals it feeds
        bad.sort(key=lambda item: (0 if "/" in item[0] else 1 if item[0] == "recon" else 2))
        what = (f"loss term {bad[0][0]!r} became {bad[0][1]}" if bad
                else "a loss term of another process became non-finite")
        also = f" (also non-finite: {', '.join(n for n, _ in bad[1:])})" if len(bad) > 1 else ""
        if (self.run_dir / ckpt.STATE_FILE).exists():
            then = (f"The last good checkpoint (step {self.last_good}) is kept in {self.run_dir}; "
                    f"lower optim.lr or check the data, then resume with "
                    f"`latentplay train --resume {shell_word(self.run_dir)}`")
        else:
            then = ("No checkpoint was written yet, and nothing of the run was kept; lower optim.lr "
                    "or check the data and start it again")
        raise NonFiniteLoss(
            f"{what} at step {step} (epoch {self.epoch + 1}){also}; "
            f"training stopped. {then}"
        )

    # ------------------------------------------------------------ logging
    def _columns(self, metrics: Metrics) -> list[str]:
        names = []
        for key, value in metrics.items():
            if key == "kl_dims":
                names += [f"kl_{d}" for d in range(value.numel())]
            else:
                names.append(key)
        return names

    @staticmethod
    def _vector(metrics: Metrics) -> torch.Tensor:
        return torch.cat([v.detach().float().reshape(-1) for v in metrics.values()])

    def _open_tables(self) -> None:
        self.metrics_table = CSVTable(self.run_dir / "metrics.csv",
                                      ["scope", "epoch", "step", *self.names, *EPOCH_FIELDS])
        self.test_table = CSVTable(self.run_dir / "test_metrics.csv",
                                   ["epoch", "step", *self.names])
        keep = getattr(self, "_rows_to_keep", None)
        if keep is not None and self.rank0:
            self.metrics_table.truncate(keep["metrics"])
            self.test_table.truncate(keep["test"])

    def _log_row(self, scope: str, values: dict[str, float]) -> None:
        row = {"scope": scope, "epoch": self.epoch + 1, "step": self.step, **values}
        if self.rank0:
            assert self.metrics_table is not None
            self.metrics_table.write(row)
        if self.config.log.loggers:
            self.fabric.log_dict({f"{scope}/{k}": v for k, v in values.items()}, step=self.step)

    # ------------------------------------------------------------- loop
    def run(self) -> None:
        """Train until ``trainer.epochs`` or ``trainer.max_steps``; the extra loggers are
        closed however training ends: W&B's run is finished and its service torn down, so the
        run's files under ``RUN/wandb`` are complete when this returns."""
        status = "failed"
        self._announce_dis_metrics()
        try:
            for logger in self.fabric.loggers:
                logger.log_hyperparams(to_dict(self.config))
            self._loop()
            status = "success"
        finally:
            for logger in self.fabric.loggers:
                logger.finalize(status)
            if "wandb" in self.config.log.loggers:
                import wandb

                wandb.finish(exit_code=0 if status == "success" else 1)
                wandb.teardown()

    def _loop(self) -> None:
        t, f = self.config.trainer, self.fabric
        max_steps = t.max_steps or math.inf
        if self.finished and not final_outputs_written(self.run_dir):
            self._finish()  # stopped while writing its final outputs: write them again
            return
        if self.finished:
            if t.max_steps and self.step >= t.max_steps:
                raise UserError(f"{self.run_dir} has already finished: it stopped at step {self.step}, "
                                f"its trainer.max_steps, in epoch {self.epoch + 1} of {t.epochs}; pass "
                                f"--max-steps above {self.step} (0: no limit; max_steps= in Python) "
                                "to go on")
            raise UserError(f"{self.run_dir} has already finished its {self.epoch} epochs ({self.step} "
                            f"steps); pass --epochs above {self.epoch} (epochs= in Python) to go on")
        with progress_bar(TextColumn("{task.description}"), BarColumn(),
                          TextColumn("{task.fields[info]}"), TimeRemainingColumn(),
                          show=self.progress and self.rank0) as bar, self._stop_signals():
            while self.epoch < t.epochs and self.step < max_steps:
                order = self.data.epoch_order(self.config.seed, self.epoch, t.batch_size,
                                              f.global_rank, f.world_size)
                task = bar.add_task(f"epoch {self.epoch + 1}/{t.epochs}", total=len(order),
                                    completed=self.batch, info="")
                if self.batch == 0:
                    self._reset_epoch()
                started = time.perf_counter()
                while self.batch < len(order) and self.step < max_steps:
                    self._train_batch(order[self.batch], bar, task)
                    if t.checkpoint_every and self.step % t.checkpoint_every == 0 or self.stopped_by:
                        self.epoch_seconds += time.perf_counter() - started
                        started = time.perf_counter()
                        self._save()
                        self._stop_if_asked()
                self.epoch_seconds += time.perf_counter() - started
                bar.remove_task(task)
                complete = self.batch >= len(order)
                self._end_epoch(complete)
                if complete:
                    self.epoch += 1
                    self.batch = 0
                self._save()
                self._stop_if_asked()
        self._stop_if_asked()  # a signal after the last check: the state is saved
        self._finish()

    @contextmanager
    def _stop_signals(self) -> Iterator[None]:
        """While training, SIGTERM and SIGINT set :attr:`stopped_by`: the loop finishes its
        batch, saves the state there and stops (:meth:`_stop_if_asked`), so that a resume goes
        on from that step exactly. A second signal acts at once, as it would have. Only in a
        single process's main thread (several processes would have to agree on the step), and
        not for a signal that was ignored (``nohup``)."""
        previous: dict[int, Any] = {}

        def stop(signum: int, frame: Any) -> None:
            if self.stopped_by is not None:
                signal.signal(signum, previous[signum])
                signal.raise_signal(signum)
                return
            self.stopped_by = signum

        if self.fabric.world_size == 1 and threading.current_thread() is threading.main_thread():
            for sig in STOP_SIGNALS:
                before = signal.getsignal(sig)
                if before is not None and before is not signal.SIG_IGN:
                    previous[sig] = before
                    signal.signal(sig, stop)
        try:
            yield
        finally:
            for sig, before in previous.items():
                signal.signal(sig, before)

    def _stop_if_asked(self) -> None:
        """After a stop signal (:meth:`_stop_signals`), with the state saved at this step:
        :class:`Stopped`."""
        if self.stopped_by is not None:
            raise Stopped(self.stopped_by, self.step, self.run_dir)

    def _reset_epoch(self) -> None:
        self.before_partial = None
        self.welford = Welford(self.model.latent_dim, self.fabric.device)
        self.epoch_sum, self.epoch_count, self.epoch_seconds = None, 0, 0.0

    def _train_batch(self, idx: torch.Tensor, bar: Progress, task: Any) -> None:
        t = self.config.trainer
        x, cond = self.data.batch(idx, t.channels_last)
        metrics, codes = self.stepper.train_step(x, cond, self.step, self._guard)
        self.step += 1
        self.batch += 1
        if not self.names:
            self.names = self._columns(metrics)
            self._open_tables()
        vec = self._vector(metrics)
        self.epoch_sum = vec.double() if self.epoch_sum is None else self.epoch_sum + vec
        self.epoch_count += 1
        if codes is not None:
            self.welford.update(codes)
        if self.step % t.nan_check_every == 0:
            self._check_finite()
        if self.step % t.log_every == 0:
            self._check_finite()
            values = dict(zip(self.names, vec.tolist(), strict=True))
            self._log_row("step", values)
            bar.update(task, completed=self.batch, info=f"loss {values[self.names[0]]:.4g}")

    def _end_epoch(self, complete: bool) -> None:
        """Epoch row, test metrics, latent variance, figures, the shareable model and, when
        due, the disentanglement metrics and the samples' fidelity."""
        f, log = self.fabric, self.config.log
        self._check_finite()
        if self.metrics_table is None:
            self._open_tables()
        assert self.epoch_sum is not None
        if not complete:
            self.before_partial = ({"metrics": self._rows(self.metrics_table),
                                    "test": self._rows(self.test_table)}, self.variance_history)
        total = self._epoch_total()
        count = self.epoch_count * f.world_size
        values = dict(zip(self.names, (total / count).tolist(), strict=True))
        images = count * self.config.trainer.batch_size
        values.update(images_per_s=images / max(self.epoch_seconds, 1e-9),
                      epoch_seconds=self.epoch_seconds)
        codes = None   # the epoch's encoded codes, merged by every process (a collective call)
        if self.model.latent_dim and getattr(self.model, "encoder", None) is not None:
            codes = self._merged_welford()
            variance = codes.variance
            self.variance_history = torch.cat([self.variance_history, variance[None].cpu()])
            values["active_units"] = int((variance > ACTIVE_THRESHOLD).sum())
        self._log_row("epoch", values)
        if self.rank0:
            test = self._evaluate()
            if self.progress and not bar_drawn():  # a log file (a cluster job): a line per epoch
                self._epoch_line(complete, values, test)
            if self._due(complete, log.figures_every):
                gif_every = max(log.figures_every, -(-self.config.trainer.epochs // GIF_WRITES))
                self._epoch_figures(self._due(complete, gif_every))
            self._write_latent_variance()
        self._save_model()
        keep = self.config.trainer.keep_every
        if self.rank0 and keep and self._due(complete, keep):
            ckpt.keep_model(self.run_dir, self.epoch + 1)
        if self.rank0 and log.dis_metrics and self._due(complete, log.dis_metrics_every):
            self._dis_metrics()
        if self.rank0 and log.fidelity_every and self._due(complete, log.fidelity_every):
            self._fidelity(codes)
        f.barrier()

    def _epoch_line(self, complete: bool, values: dict[str, float],
                    test: dict[str, float] | None) -> None:
        """The epoch's line on standard error, for logs where no progress bar is drawn:
        ``epoch 3/50 (step 1200): loss 123.4, test loss 125.1; 1,230 images/s, 9.8 s``; an
        epoch cut short says after how many batches, and by what when ``trainer.max_steps``
        did it (``epoch 19/20 (stopped after 2 batches by --max-steps 200, step 200)``)."""
        t = self.config.trainer
        shown = [n for n in ("loss", "loss_g", "loss_d") if n in values] or self.names[:1]
        limit = f" by --max-steps {t.max_steps}" if 0 < t.max_steps <= self.step else ""
        where = f"epoch {self.epoch + 1}/{t.epochs} (" + (
            "" if complete else f"stopped after {self.batch} batches{limit}, ") + f"step {self.step})"
        losses = ", ".join(f"{n} {values[n]:.5g}" for n in shown) + "".join(
            f", test {n} {test[n]:.5g}" for n in shown if test is not None)
        print(f"{where}: {losses}; {values['images_per_s']:,.0f} images/s, "
              f"{values['epoch_seconds']:.1f} s", file=sys.stderr, flush=True)

    def _due(self, complete: bool, every: int) -> bool:
        """Whether an evaluation done every ``every`` epochs is due at the end of this one
        (always after the last epoch or step)."""
        t = self.config.trainer
        last = (complete and self.epoch + 1 >= t.epochs) or 0 < t.max_steps <= self.step
        return last or (complete and (self.epoch + 1) % every == 0)

    def _announce_dis_metrics(self) -> None:
        """One line on standard error (with progress shown) of what ``log.dis_metrics`` costs:
        disentanglement_lib's sizes render millions of images, and training is silent while
        they are encoded."""
        log = self.config.log
        if not (log.dis_metrics and self.progress and self.rank0):
            return
        from latentplay.metrics.evaluate import images_to_encode, parse_names

        names = parse_names(",".join(log.dis_metrics))
        total = sum(images_to_encode(name) for name in names)
        print(f"disentanglement metrics every {log.dis_metrics_every} epoch(s) and after the "
              f"last: {total:,} images to render and encode each time"
              + ("" if all(n.endswith("_fast") for n in names)
                 else " (the _fast names take a fifth to a twentieth)"), file=sys.stderr)

    def _dis_metrics(self) -> None:
        """Metrics of the model just saved (``model.safetensors``) on the store's factors, one
        row of ``dis_metrics.csv`` (a row for the same step, left by an interrupted run, is
        replaced). Sampling uses NumPy generators of its own; the torch RNG is untouched."""
        from latentplay.metrics.runs import ground_truth_of, log_run_metrics
        from latentplay.store import load

        log = self.config.log
        if self.ground_truth is None:
            self.ground_truth = ground_truth_of(load(self.config.data.store))
        devices = [self.fabric.device] if self.fabric.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            log_run_metrics(self.run_dir, self.ground_truth, ",".join(log.dis_metrics),
                            epoch=self.epoch + 1, step=self.step, random_state=log.dis_metrics_seed)

    @torch.no_grad()
    def _fidelity(self, codes: Welford | None) -> None:
        """Compare ``log.fidelity_n`` samples with as many training images (the same rows
        every time; conditional models sample under those rows' conditions) and record one row
        of ``fidelity.csv``: prior draws, or for a plain autoencoder (no prior) draws at the
        mean and SD of each dimension of the epoch's encoded training images (``codes``,
        merged over the processes), as its samples are drawn everywhere else. The torch RNG of
        training is left untouched."""
        from latentplay.train.fidelity import (  # only runs that track
            FidelityTracker,
            count_note,
            fidelity_count,
            read_reference,
            record,
            write_reference,
        )

        log, seed = self.config.log, self.config.seed
        if self.fidelity_rows is None:
            rng = np.random.default_rng(seed)
            train_idx, test_idx = self.data.train_idx, self.data.test_idx
            before = read_reference(self.run_dir)
            n = fidelity_count(log.fidelity_n, len(train_idx), len(test_idx), log.fidelity_k, before)
            if note := count_note(n, log.fidelity_n, len(train_idx), before):
                print(note, file=sys.stderr)
            self.fidelity_rows = np.sort(rng.choice(train_idx, n, replace=False))
            self.fidelity = FidelityTracker(self._images_of(self.fidelity_rows),
                                            k=log.fidelity_k, seed=seed)
            if len(test_idx) > log.fidelity_k and before is None:  # held-out images, once
                held = np.sort(rng.choice(test_idx, n, replace=False))  # the samples' count
                write_reference(self.run_dir, self.fidelity.measure(self._images_of(held)),
                                len(held), n)
        devices = [self.fabric.device] if self.fabric.device.type == "cuda" else []
        centre, spread = 0.0, 1.0                                   # the prior, N(0, I)
        if self.config.family == "ae" and codes is not None:
            centre, spread = codes.mean.float(), codes.variance.float().sqrt()
        samples = []
        self._eval_mode(True)
        with torch.random.fork_rng(devices=devices), self.fabric.autocast():
            torch.manual_seed(seed)
            for start in range(0, len(self.fidelity_rows), self.config.trainer.batch_size):
                rows = self.fidelity_rows[start:start + self.config.trainer.batch_size]
                z = centre + spread * torch.randn(len(rows), self.model.latent_dim,
                                                  device=self.fabric.device)
                idx = torch.from_numpy(rows).to(self.fabric.device)
                cond = self.data.cond[idx] if self.data.spec.dim else None
                samples.append(to_uint8(self.model.decode(z, cond)))
        self._eval_mode(False)
        assert self.fidelity is not None
        record(self.run_dir, self.fidelity.measure(np.concatenate(samples)),
               epoch=self.epoch + 1, step=self.step)

    def _images_of(self, rows: np.ndarray) -> np.ndarray:
        """``(n, S, S, C)`` uint8 training-data images of ``rows``."""
        images = self.data.images[torch.from_numpy(rows).to(self.fabric.device)]
        return images.permute(0, 2, 3, 1).cpu().numpy()

    def _merged_welford(self) -> Welford:
        """The running statistics of the encoder means of every process together."""
        f, w = self.fabric, self.welford
        if f.world_size == 1:
            return w
        merged = Welford(w.mean.numel(), w.mean.device)
        ns, means, m2s = f.all_gather(w.n), f.all_gather(w.mean), f.all_gather(w.m2)
        for k in range(f.world_size):
            merged.merge(ns[k], means[k], m2s[k])
        return merged

    def _eval_batches(self, rows: np.ndarray) -> list[torch.Tensor]:
        bs = self.config.trainer.batch_size
        idx = torch.from_numpy(rows).to(self.fabric.device)
        return [idx[s:s + bs] for s in range(0, len(idx), bs)]

    def _evaluate(self) -> dict[str, float] | None:
        """Mean metrics over the test split (own RNG stream, so training is unaffected), as
        written to ``test_metrics.csv``; None without a test split."""
        rows = self.data.test_idx
        if len(rows) == 0:
            return None
        devices = [self.fabric.device] if self.fabric.device.type == "cuda" else []
        total, n = None, 0
        with torch.random.fork_rng(devices=devices), self.fabric.autocast():
            torch.manual_seed(self.config.seed)
            self._eval_mode(True)
            for idx in self._eval_batches(rows):
                x, cond = self.data.batch(idx, self.config.trainer.channels_last)
                vec = self._vector(self.evaluator.eval_step(x, cond, self.step)).double()
                total = vec * len(idx) if total is None else total + vec * len(idx)
                n += len(idx)
            self._eval_mode(False)
        assert total is not None and self.test_table is not None
        values = dict(zip(self.names, (total / n).tolist(), strict=True))
        self.test_table.write({"epoch": self.epoch + 1, "step": self.step, **values})
        return values

    def _eval_mode(self, on: bool) -> None:
        self.model.train(not on)
        self.losses.train(not on)

    def _fixed_rows(self) -> np.ndarray:
        rows = self.data.test_idx if len(self.data.test_idx) else self.data.train_idx
        return rows[: self.config.log.recon_images]

    @torch.no_grad()
    def _epoch_figures(self, gif: bool = True) -> None:
        """The epoch's reconstruction (or fixed-noise sample) grid, and with ``gif`` the GIF
        of the grids so far (:func:`epoch_frames`) and the variance heatmap, both summaries
        over the epochs so far (drawn together, about :data:`GIF_WRITES` times a run: the
        heatmap took longer than a small store's epoch)."""
        e = self.epoch + 1
        devices = [self.fabric.device] if self.fabric.device.type == "cuda" else []
        self._eval_mode(True)
        with torch.random.fork_rng(devices=devices), self.fabric.autocast():
            torch.manual_seed(self.config.seed)
            if self.config.family == "dcgan":
                folder, name = self.run_dir / "samples", "samples.gif"
                folder.mkdir(exist_ok=True)
                images = self._sample_images(self.config.log.recon_images)
                rows = [images[k:k + 8] for k in range(0, len(images), 8)]
                save_image_rows(rows, [""] * len(rows), folder / f"epoch_{e:03d}.png",
                                f"fixed noise, epoch {e}")
            else:
                folder, name = self.run_dir / "recon", "recon.gif"
                folder.mkdir(exist_ok=True)
                idx = torch.from_numpy(self._fixed_rows()).to(self.fabric.device)
                x, cond = self.data.batch(idx)
                mu, _ = self.model.encode(x, cond)
                save_recon_grid(to_uint8(x), to_uint8(self.model.decode(mu, cond)),
                                folder / f"epoch_{e:03d}.png", f"reconstructions, epoch {e}")
        self._eval_mode(False)
        if not gif:
            return
        self.gif.save(epoch_frames(folder, e), self.run_dir / name)
        if len(self.variance_history):
            save_latent_variance(self.variance_history.numpy(), self.run_dir / "latent_variance.png",
                                 ACTIVE_THRESHOLD)

    def _write_latent_variance(self) -> None:
        """``latent_variance.csv``: the ``(epochs, D)`` variance history, a row per epoch."""
        if len(self.variance_history):
            var = self.variance_history.numpy()
            header = "epoch," + ",".join(f"var_{d}" for d in range(var.shape[1]))
            table = np.column_stack([np.arange(1, len(var) + 1), var])
            np.savetxt(self.run_dir / "latent_variance.csv", table, delimiter=",",
                       header=header, comments="", fmt=["%d"] + ["%.6g"] * var.shape[1])

    def _sample_images(self, n: int, cond: torch.Tensor | None = None) -> np.ndarray:
        """``n`` decoded prior samples (conditions: the first fixed rows' when needed)."""
        z = torch.randn(n, self.model.latent_dim, device=self.fabric.device)
        if cond is None and self.data.spec.dim:
            rows = np.resize(self._fixed_rows(), n)
            cond = self.data.cond[torch.from_numpy(rows).to(self.fabric.device)]
        return to_uint8(self.model.decode(z, cond))

    def _framed_samples(self, n: int, codes: np.ndarray) -> np.ndarray:
        """``n`` images ``(n, S, S, C)`` uint8 of a plain autoencoder, decoded from
        ``N(mean, SD)`` of its ``(N, D)`` encoded ``codes``, drawn with ``seed`` as
        :func:`latentplay.train.api.prior_draws` draws them."""
        from latentplay.latent.traverse import axis_frame

        z = framed_draws(*axis_frame(self.model, codes), np.random.default_rng(self.config.seed), n)
        return to_uint8(self.model.decode(torch.from_numpy(z).to(self.fabric.device), None))

    # ------------------------------------------------------------ finish
    def _finish(self) -> None:
        """Save the state as finished, then write the final outputs (``latents.npy``, the
        grids, ``summary.json`` last): a run stopped before its summary was written writes
        them again when resumed. They are computed in float32 whatever the training's
        precision, as the run is read afterwards (``train.encode``): under bf16 autocast the
        means in ``latents.npy`` kept 2 to 3 digits."""
        self.finished = True
        self._save()
        if self.rank0:
            self._eval_mode(True)
            devices = [self.fabric.device] if self.fabric.device.type == "cuda" else []
            summary: dict[str, Any] = {"epochs": self.epoch, "batch": self.batch, "step": self.step,
                                       "device": self.fabric.device.type}
            with torch.no_grad(), torch.random.fork_rng(devices=devices):
                codes = None if self.config.family == "dcgan" else self._write_latents()
                if codes is not None and self.data.spec.dim:
                    persons = None if self.data.persons is None else self.data.persons[:len(codes)]
                    summary["condition_in_codes"] = condition_in_codes(
                        codes, self.data.labels, self.data.spec.parts, persons, self.config.seed)
                torch.manual_seed(self.config.seed)
                summary["condition"] = self._sample_grid(codes)
                if self.config.family != "dcgan":
                    self._force_condition_grid()
                    summary["reconstruction"] = self._reconstruction()
            self._eval_mode(False)
            write_summary(self.run_dir, summary)
        self.fabric.barrier()

    def _reconstruction(self) -> dict[str, Any]:
        """How closely the final model redraws held-out images, in pixels: over the test split
        (the training rows without one; its first :data:`SUMMARY_ROWS`), the mean of each
        image's RMS difference from its reconstruction ``decode(E[z|x])``, pixels in [0, 1],
        beside the same for the mean training image (a model that learned nothing draws it)."""
        held = len(self.data.test_idx) > 0
        rows = (self.data.test_idx if held else self.data.train_idx)[:SUMMARY_ROWS]
        mean = self.data.mean_image(self.data.train_idx)                      # (C, S, S)
        rms, baseline = [], []
        for idx in self._eval_batches(rows):
            x, cond = self.data.batch(idx)
            mu, _ = self.model.encode(x, cond)
            recon = self.model.decode(mu, cond).float().clamp(0, 1)
            rms.append((recon - x).square().mean((1, 2, 3)).sqrt().cpu())
            baseline.append((mean - x).square().mean((1, 2, 3)).sqrt().cpu())
        return {"rms": float(torch.cat(rms).double().mean()),
                "mean_image_rms": float(torch.cat(baseline).double().mean()),
                "images": len(rows), "split": "test" if held else "train"}

    def _sample_grid(self, codes: np.ndarray | None) -> dict[str, Any] | None:
        """``samples.png``: ``log.samples`` prior samples; for conditional models one row per
        condition value of the first condition attribute, the same noise in every row (up to 8
        per row and at most ``log.samples`` in all; no grid when ``log.samples`` is fewer than
        the values), the other attributes at
        their first class or the middle of their range (a value the data have), which the
        title names. A plain autoencoder, which has no prior, decodes draws around its
        ``(N, D)`` encoded ``codes`` (``latents.npy``'s means): the images ``train.sample(RUN,
        log.samples, seed)`` gives.

        Returns, for a conditional grid of several rows, what the condition does: its
        ``attribute``, ``first`` and ``last`` value drawn, the ``change`` from the first row to
        the last and the rows' mean ``diversity`` (:class:`latentplay.latent.sampling.Sweep`'s);
        else None."""
        n = self.config.log.samples
        spec = self.data.spec
        if not spec.dim:
            if self.config.family == "ae":
                assert codes is not None
                images, title = self._framed_samples(n, codes), AE_SAMPLES
            else:
                images, title = self._sample_images(n), "prior samples"
            rows = [images[k:k + 8] for k in range(0, len(images), 8)]
            save_image_rows(rows, [""] * len(rows), self.run_dir / "samples.png", title)
            return None
        part = spec.parts[0]
        if part.kind == "continuous":
            values: list[Any] = continuous_values(part)
        else:
            values = list(range(min(part.size, 10)))
        base = {p.name: (continuous_values(p, 3)[1] if p.kind == "continuous" else 0)
                for p in spec.parts}

        def shown(p: Any, value: Any) -> str:
            return f"{value:.2g}" if p.kind == "continuous" else class_names(p)[value]

        def text(p: Any, value: Any) -> str:
            return f"{p.name}={shown(p, value)}"

        per_row = min(8, n // len(values))  # at most log.samples in all, at most 8 per value
        if not per_row:
            return None
        from latentplay.latent.sampling import (
            CHANGE_NOTE,
            WHERE_NOTE,
            condition_change,
            mean_diversity,
            pairwise_diversity,
            where_row,
        )

        z = torch.randn(per_row, self.model.latent_dim, device=self.fabric.device)
        rows, labels = [], []
        for value in values:
            c = torch.from_numpy(spec.vector({**base, part.name: value})).to(self.fabric.device)
            rows.append(to_uint8(self.model.decode(z, c.expand(per_row, -1))))
            labels.append(text(part, value))
        notes, effect = "", None
        if len(rows) > 1:  # what the condition does to the same codes, and where
            images = np.stack(rows)                                     # (V, K, S, S, C)
            change = condition_change(images)
            labels[1:] = [f"{label}\nchange {c:.3f}" for label, c in zip(labels[1:], change[1:], strict=True)]
            heat, label = where_row(images, text(part, values[0]), text(part, values[-1]))
            rows.append(heat)
            labels.append(label)
            notes = f"; {CHANGE_NOTE}; {WHERE_NOTE}"
            effect = {"attribute": part.name, "first": shown(part, values[0]),
                      "last": shown(part, values[-1]), "change": float(change[-1]),
                      "diversity": mean_diversity([pairwise_diversity(row) for row in images])}
        held = ", ".join(text(p, base[p.name]) for p in spec.parts[1:])
        save_image_rows(rows, labels, self.run_dir / "samples.png",
                        f"samples by {part.name} (the same codes" + (f" and {held}" if held else "")
                        + f" in every row){notes}")
        return effect

    def _force_condition_grid(self) -> None:
        """``force_condition.png`` for models with a continuous condition: the fixed test images
        (at most 8) encoded with their true condition and decoded with the first continuous
        condition forced to each of 5 values over its range (SmileCVAE's forced smiles)."""
        found = first_continuous(self.data.spec)
        if found is None:
            return
        part, column = found
        rows = self._fixed_rows()[:8]
        x, cond = self.data.batch(torch.from_numpy(rows).to(self.fabric.device))
        assert cond is not None
        values = continuous_values(part)
        grid = force_condition(self.model, x, cond, column, values)
        save_force_condition(grid, cond[:, column].float().cpu().numpy(), part.name, values,
                             self.run_dir / "force_condition.png")

    def _write_latents(self) -> np.ndarray:
        """``latents.npy`` (structured: index, split (1: held out), mu, logvar, one field per
        label, ``label_<name>`` for a label named like one of the four: a store's own ``split``
        attribute, from ``data split`` or a converter) and
        ``active_units.json``: Burda et al.'s active units, the dimensions whose encoder means
        vary by more than :data:`ACTIVE_THRESHOLD` over the rows of ``latents.npy`` under the
        final model (the per-epoch Welford variance mixes the models of a whole epoch).
        Returns the ``(N, D)`` float32 encoder means written."""
        n = len(self.data.rows)
        if self.config.log.latents_max:
            n = min(n, self.config.log.latents_max)
        mus, logvars = [], []
        for idx in self._eval_batches(np.arange(n)):
            x, cond = self.data.batch(idx, self.config.trainer.channels_last)
            mu, logvar = self.model.encode(x, cond)
            mus.append(mu.float().cpu())
            logvars.append((torch.full_like(mu, float("nan")) if logvar is None
                            else logvar).float().cpu())
        mu_all, lv_all = torch.cat(mus).numpy(), torch.cat(logvars).numpy()
        d = mu_all.shape[1]
        fields = [("index", np.int64), ("split", np.uint8), ("mu", np.float32, (d,)),
                  ("logvar", np.float32, (d,))]
        own = {f[0] for f in fields}
        labels = {(f"label_{name}" if name in own else name): values
                  for name, values in self.data.labels.items()}
        table = np.zeros(n, dtype=fields + [(name, np.float32) for name in labels])
        table["index"] = self.data.rows[:n]
        table["split"] = np.isin(np.arange(n), self.data.test_idx).astype(np.uint8)
        table["mu"], table["logvar"] = mu_all, lv_all
        for name, values in labels.items():
            table[name] = values[:n]
        save_array(self.run_dir / "latents.npy", table)
        variance = mu_all.astype(np.float64).var(0)
        active = [int(k) for k in np.flatnonzero(variance > ACTIVE_THRESHOLD)]
        write_atomic(self.run_dir / "active_units.json", json.dumps(
            {"threshold": ACTIVE_THRESHOLD, "count": len(active), "dims": active,
             "variance": [float(v) for v in variance]}, indent=2))
        return mu_all


def write_config(config: Any, run_dir: Path) -> None:
    """Save the resolved config as ``config.yaml``."""
    write_atomic(run_dir / "config.yaml", OmegaConf.to_yaml(OmegaConf.create(to_dict(config))))
