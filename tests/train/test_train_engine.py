"""Training runs end to end: run directory, loss going down, resume, NaN guard, checkpoints."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from latentplay import train
from latentplay.errors import UserError
from latentplay.models.losses import BetaVAE
from latentplay.store import load_images
from latentplay.store.io import load
from latentplay.train.csvlog import read_table
from latentplay.train.engine import NonFiniteLoss


@pytest.fixture(scope="module")
def run(shapes_store: Path, tiny: list[str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "bvae"
    return train.train("betavae", shapes_store, out, epochs=3, batch_size=32,
                       overrides=[*tiny, "optim.lr=2e-3", "loss.betavae.beta=1",
                                  "log.figures_every=1"], progress=False)


def test_run_directory_holds_everything(run: Path) -> None:
    for name in ("config.yaml", "metrics.csv", "test_metrics.csv", "model.safetensors",
                 "model.json", "checkpoint.pt", "recon.gif", "latent_variance.png",
                 "latent_variance.csv", "active_units.json", "latents.npy", "samples.png"):
        assert (run / name).is_file(), name
    assert sorted(p.name for p in (run / "recon").iterdir()) == [
        "epoch_001.png", "epoch_002.png", "epoch_003.png"]
    rows = read_table(run / "metrics.csv")
    steps = [r for r in rows if r["scope"] == "step"]
    epochs = [r for r in rows if r["scope"] == "epoch"]
    assert len(epochs) == 3 and len(steps) == 3 * (288 // 32)
    assert {"loss", "recon", "kl", "betavae/kl", "kl_0", "kl_3", "active_units"} <= set(rows[0])
    dims = sum(float(steps[-1][f"kl_{d}"]) for d in range(4))
    assert dims == pytest.approx(float(steps[-1]["kl"]), rel=1e-4)
    assert len(read_table(run / "test_metrics.csv")) == 3
    var = np.loadtxt(run / "latent_variance.csv", delimiter=",", skiprows=1)
    assert var.shape == (3, 5)
    for k, row in enumerate(epochs):   # an epoch's loss is the mean of its steps' losses
        losses = [float(r["loss"]) for r in steps if int(r["epoch"]) == k + 1]
        assert float(row["loss"]) == pytest.approx(np.mean(losses), rel=1e-4)
        # Burda et al.'s active units: the dimensions whose variance exceeds 0.01
        assert int(row["active_units"]) == int((var[k, 1:] > 0.01).sum())


def test_short_training_lowers_the_loss(run: Path) -> None:
    """27 steps: the decoder starts at the data mean (see tests/models for a run long enough
    to leave the mean image), so the loss falls slowly but every epoch."""
    rows = read_table(run / "metrics.csv")
    epochs = [float(r["loss"]) for r in rows if r["scope"] == "epoch"]
    assert epochs[2] < epochs[0]
    test = [float(r["loss"]) for r in read_table(run / "test_metrics.csv")]
    assert test[2] < test[1] < test[0]


def test_latents_and_encode_agree(run: Path, shapes_store: Path) -> None:
    table = np.load(run / "latents.npy")  # no pickle needed: a structured array
    assert table.shape == (320,) and table["mu"].shape == (320, 4)
    assert set(table.dtype.names) >= {"index", "split", "mu", "logvar", "shape", "scale"}
    assert table["split"].sum() == 32
    store = load(shapes_store)
    assert np.array_equal(table["scale"], store.labels("scale").astype(np.float32))
    images = load_images(store, np.arange(5))  # 64 px: encode resizes to the run's 32
    mu = train.encode(run, images, batch_size=2)
    assert mu.dtype == np.float32 and mu.shape == (5, 4)
    assert np.allclose(mu, table["mu"][:5], atol=1e-4)
    decoded = train.decode(run, mu)
    assert decoded.shape == (5, 32, 32, 1) and decoded.dtype == np.uint8
    model = train.load_model(run)
    assert not model.training
    assert train.sample(run, 3).shape == (3, 32, 32, 1)


def test_active_units_are_those_of_the_final_model(run: Path) -> None:
    """Burda et al.'s active units: Var_x E[z|x] under the trained model, i.e. of the means in
    latents.npy, not the last epoch's running variance (which mixes that epoch's models)."""
    units = json.loads((run / "active_units.json").read_text())
    assert units["threshold"] == 0.01  # Burda et al.'s: a unit is active when Var_x E[z|x] > 0.01
    variance = np.load(run / "latents.npy")["mu"].astype(np.float64).var(0)
    assert np.allclose(units["variance"], variance, rtol=1e-6, atol=0)
    assert units["dims"] == [int(d) for d in np.flatnonzero(variance > units["threshold"])]
    assert units["count"] == len(units["dims"])


def test_epoch_active_units_and_test_metrics_weigh_what_they_should(
        shapes_store: Path, tiny: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With the threshold set to half each epoch's smallest variance, every unit counts as
    active (a threshold ten times higher would drop one); the test metrics are the mean over
    the held-out rows, the last, partial batch weighed by its rows: here each metric is replaced
    by its batch's mean pixel, so the right value is the mean pixel of all the test rows."""
    from latentplay.train import engine
    from latentplay.train.steps import VAEStepper

    merged, scored = engine.Engine._merged_welford, VAEStepper.eval_step

    def half_the_smallest(self: engine.Engine):  # noqa: ANN202
        welford = merged(self)
        monkeypatch.setattr(engine, "ACTIVE_THRESHOLD", 0.5 * float(welford.variance.min()))
        return welford

    seen: list[torch.Tensor] = []

    def pixel_mean(self: VAEStepper, x: torch.Tensor, cond: torch.Tensor | None, step: int) -> dict:
        seen.append(x.detach().double())
        mean = float(x.double().mean())
        return {k: torch.full_like(v, mean) for k, v in scored(self, x, cond, step).items()}

    monkeypatch.setattr(engine.Engine, "_merged_welford", half_the_smallest)
    monkeypatch.setattr(VAEStepper, "eval_step", pixel_mean)
    out = train.train("betavae", shapes_store, tmp_path / "weighed", epochs=1, batch_size=20,
                      overrides=[*tiny, "optim.lr=2e-3", "loss.betavae.beta=1"], progress=False)
    epoch = next(r for r in read_table(out / "metrics.csv") if r["scope"] == "epoch")
    assert int(epoch["active_units"]) == 4
    assert [len(x) for x in seen] == [20, 12]  # 32 test rows: one full batch, one partial
    test = read_table(out / "test_metrics.csv")[0]
    assert float(test["loss"]) == pytest.approx(float(torch.cat(seen).mean()), rel=1e-6)


def test_adam_gets_the_configured_betas_and_weight_decay(
        shapes_store: Path, tiny: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """optim.betas and optim.weight_decay reach the optimiser (not Adam's defaults)."""
    made: list[dict] = []

    class Recorded(torch.optim.Adam):
        def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
            super().__init__(*args, **kwargs)
            made.append(dict(self.defaults))

    monkeypatch.setattr(torch.optim, "Adam", Recorded)
    train.train("betavae", shapes_store, tmp_path / "adam", epochs=1, batch_size=32, max_steps=1,
                overrides=[*tiny, "optim.betas=[0.5,0.95]", "optim.weight_decay=0.01"], progress=False)
    assert [(d["betas"], d["weight_decay"]) for d in made] == [((0.5, 0.95), 0.01)]


@pytest.mark.slow  # the default suite resumes after a real SIGKILL below
def test_resume_after_stop_equals_uninterrupted(run: Path, shapes_store: Path, tiny: list[str],
                                                tmp_path: Path) -> None:
    part = train.train("betavae", shapes_store, tmp_path / "part", epochs=3, batch_size=32,
                       max_steps=13, overrides=[*tiny, "optim.lr=2e-3", "loss.betavae.beta=1"],
                       progress=False)
    train.resume(part, max_steps=0, progress=False)
    a, b = load_file(str(run / "model.safetensors")), load_file(str(part / "model.safetensors"))
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key
    rows = read_table(part / "metrics.csv")
    steps = [int(r["step"]) for r in rows if r["scope"] == "step"]
    assert steps == list(range(1, 28))  # no step logged twice
    # the epoch cut short at step 13 is logged once, when it ends, as in the uninterrupted run

    def ends(path: Path) -> list[tuple[str, str]]:
        return [(r["epoch"], r["step"]) for r in read_table(path) if r.get("scope", "epoch") == "epoch"]

    for table in ("metrics.csv", "test_metrics.csv"):
        assert ends(part / table) == ends(run / table)
    assert (part / "latent_variance.csv").read_text() == (run / "latent_variance.csv").read_text()
    assert json.loads((part / "model.json").read_text())["epoch"] == 3


def _poison_kl_from(first: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """β-VAE's KL term becomes NaN from step ``first`` on."""
    original = BetaVAE.forward

    def poisoned(self: BetaVAE, out: object, step: int) -> dict[str, torch.Tensor]:
        result = original(self, out, step)  # type: ignore[arg-type]
        return {"kl": result["kl"] * float("nan")} if step >= first else result

    monkeypatch.setattr(BetaVAE, "forward", poisoned)


def test_nan_guard_names_step_and_term(shapes_store: Path, tmp_path: Path, tiny: list[str],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    _poison_kl_from(5, monkeypatch)
    with pytest.raises(NonFiniteLoss, match=r"'betavae/kl'.*step 6") as info:
        train.train("vae", shapes_store, tmp_path / "nan", epochs=1, batch_size=32,
                    overrides=[*tiny, "trainer.checkpoint_every=2"], progress=False)
    assert "step 4" in str(info.value)  # the last good checkpoint
    state = torch.load(tmp_path / "nan" / "checkpoint.pt", weights_only=True)
    assert state["step"] == 4
    assert all(torch.isfinite(v).all() for v in state["model"].values())


def test_nan_guard_checking_every_few_steps_names_the_first_bad_one(
        shapes_store: Path, tmp_path: Path, tiny: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    # steps 6, 7 and 8 are looked at together at step 8 (no log row before it): the error names
    # step 6, and the checkpoint of step 5 (checked before it was written) is the one kept
    _poison_kl_from(5, monkeypatch)
    with pytest.raises(NonFiniteLoss, match=r"'betavae/kl'.*step 6\b") as info:
        train.train("vae", shapes_store, tmp_path / "nan", epochs=1, batch_size=32,
                    overrides=[*tiny, "trainer.checkpoint_every=5", "trainer.nan_check_every=4",
                               "trainer.log_every=4"],
                    progress=False)
    assert "step 5" in str(info.value)
    state = torch.load(tmp_path / "nan" / "checkpoint.pt", weights_only=True)
    assert state["step"] == 5
    assert all(torch.isfinite(v).all() for v in state["model"].values())


def test_nan_guard_before_any_checkpoint_says_so(shapes_store: Path, tmp_path: Path, tiny: list[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    _poison_kl_from(1, monkeypatch)
    with pytest.raises(NonFiniteLoss, match="No checkpoint was written yet, and nothing of the run "
                                            "was kept") as info:
        train.train("vae", shapes_store, tmp_path / "nan", epochs=1, batch_size=32,
                    overrides=[*tiny, "trainer.checkpoint_every=5"], progress=False)
    # its folder is removed, as after a set-up error: the same --out trains once the cause is fixed
    assert "--resume" not in str(info.value) and not (tmp_path / "nan").exists()
    monkeypatch.undo()
    train.train("vae", shapes_store, tmp_path / "nan", max_steps=1, batch_size=32, overrides=tiny,
                progress=False)
    assert (tmp_path / "nan" / "checkpoint.pt").is_file()


def test_a_checkpoint_of_other_loss_terms_is_refused(run: Path, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(run, copy)
    config = (copy / "config.yaml").read_text()
    assert "  - betavae\n" in config
    (copy / "config.yaml").write_text(config.replace("  - betavae\n", "  - betavae\n  - factorvae\n", 1))
    with pytest.raises(UserError, match=r"differs from what the run trained with \(loss.terms "
                                        r"\['betavae'\] -> \['betavae', 'factorvae'\]\)"):
        train.resume(copy, epochs=4, progress=False)
    state = torch.load(copy / "checkpoint.pt", weights_only=True)
    del state["config"]     # a checkpoint that recorded no config: the weights tell
    torch.save(state, copy / "checkpoint.pt")
    with pytest.raises(UserError, match="does not match its config"):
        train.resume(copy, epochs=4, progress=False)


def test_checkpoint_tamper_and_mismatch_are_rejected(run: Path, tmp_path: Path,
                                                      capfd: pytest.CaptureFixture[str]) -> None:
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(run, copy)
    data = bytearray((copy / "model.safetensors").read_bytes())
    data[-5] ^= 0xFF
    (copy / "model.safetensors").write_bytes(bytes(data))
    with pytest.raises(UserError, match="checksum"):
        train.load_model(copy)
    shutil.copy(run / "model.safetensors", copy / "model.safetensors")
    meta = json.loads((copy / "model.json").read_text())
    meta["model"]["latent_dim"] = 6
    (copy / "model.json").write_text(json.dumps(meta))
    with pytest.raises(UserError, match="does not match its config"):
        train.load_model(copy)

    class Evil:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (print, ("unpickled!",))

    torch.save({"step": 1, "evil": Evil()}, copy / "checkpoint.pt")
    capfd.readouterr()
    with pytest.raises(UserError, match="refusing to load"):
        train.resume(copy, progress=False)
    assert "unpickled!" not in capfd.readouterr().out


def test_a_run_of_a_newer_format_is_refused_naming_it(run: Path, tmp_path: Path) -> None:
    """model.json and checkpoint.pt carry a format number, checked on load: a file of a format
    this latentplay does not read is one line saying a newer latentplay wrote it, not a
    KeyError or a model rebuilt from fields whose meaning changed."""
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(run, copy)
    meta = json.loads((copy / "model.json").read_text())
    (copy / "model.json").write_text(json.dumps({**meta, "latentplay_model": 2, "version": "9.0"}))
    with pytest.raises(UserError, match=r"model.json is of format 2, written by a newer latentplay "
                                        r"\(latentplay 9.0\); this one reads format 1: upgrade"):
        train.load_model(copy)
    (copy / "model.json").write_text(json.dumps(meta))
    state = torch.load(copy / "checkpoint.pt", weights_only=True)
    torch.save({**state, "format": 2}, copy / "checkpoint.pt")
    with pytest.raises(UserError, match="checkpoint.pt is of format 2, written by a newer latentplay"):
        train.resume(copy, epochs=4, progress=False)
    torch.save({**state, "format": "x"}, copy / "checkpoint.pt")
    with pytest.raises(UserError, match="has the format 'x', which no latentplay writes"):
        train.resume(copy, epochs=4, progress=False)


def test_finished_run_and_bad_input_give_clear_errors(run: Path, shapes_store: Path,
                                                      tmp_path: Path) -> None:
    with pytest.raises(UserError, match="already finished its 3 epochs .* pass --epochs above 3"):
        train.resume(run, progress=False)
    config = (run / "config.yaml").read_text()
    with pytest.raises(UserError, match="has trained 3 epochs: pass --epochs above 3"):
        train.resume(run, epochs=3, progress=False)     # would only finish again
    assert (run / "config.yaml").read_text() == config
    with pytest.raises(UserError, match="already holds a run"):
        train.train("vae", shapes_store, run, progress=False)
    # a run that stopped before its first checkpoint: neither resumable nor "resume it"
    (tmp_path / "early").mkdir()
    (tmp_path / "early" / "config.yaml").write_text(config)
    with pytest.raises(UserError, match="stopped before its first checkpoint; pick another --out"):
        train.train("vae", shapes_store, tmp_path / "early", progress=False)
    with pytest.raises(UserError, match="stopped before its first checkpoint; start the run again"):
        train.resume(tmp_path / "early", progress=False)
    with pytest.raises(UserError, match="unknown model preset"):
        train.train("nope", shapes_store, tmp_path / "x", progress=False)
    with pytest.raises(UserError, match="exactly one of"):
        train.train("vae", shapes_store, tmp_path / "x", progress=False,
                    overrides=["loss.terms=[betavae,infovae]"])
    with pytest.raises(UserError, match="uint8 with C"):
        train.encode(run, np.zeros((2, 8), np.uint8))


def test_more_epochs_for_a_run_its_step_limit_stopped(shapes_store: Path, tiny: list[str],
                                                    tmp_path: Path) -> None:
    """A run that reached ``trainer.max_steps`` goes on only when the limit is raised: more
    epochs alone would finish it again without a step, so that is one line naming the limit."""
    out = train.train("vae", shapes_store, tmp_path / "r", epochs=5, max_steps=3, batch_size=32,
                      overrides=tiny, progress=False)
    with pytest.raises(UserError, match="it stopped at step 3, its trainer.max_steps, in epoch 1 of "
                                        "5; pass --max-steps above 3"):
        train.resume(out, progress=False)   # not "raise --epochs", which would not help
    with pytest.raises(UserError, match="stopped at step 3 and trainer.max_steps is 3: pass "
                                        "--max-steps above 3"):
        train.resume(out, epochs=8, progress=False)
    train.resume(out, max_steps=5, progress=False)
    assert torch.load(out / "checkpoint.pt", weights_only=True)["step"] == 5


def test_more_epochs_under_a_saved_step_limit_say_it_still_applies(shapes_store: Path,
                                                                  tiny: list[str], tmp_path: Path,
                                                                  capfd) -> None:  # noqa: ANN001
    """A run that ended at its epochs with a step limit still ahead (--epochs 1 --max-steps
    s + 2): --resume --epochs 3 took two steps and stopped without saying why. A note says the
    saved limit applies, and the epoch's line names it."""
    first = train.train("vae", shapes_store, tmp_path / "a", epochs=1, batch_size=32,
                        overrides=tiny, progress=False)
    per_epoch = torch.load(first / "checkpoint.pt", weights_only=True)["step"]
    out = train.train("vae", shapes_store, tmp_path / "r", epochs=1, max_steps=per_epoch + 2,
                      batch_size=32, overrides=tiny, progress=False)
    capfd.readouterr()
    train.resume(out, epochs=3, progress=True)   # (the epoch's line: standard error is no terminal)
    err = capfd.readouterr().err
    assert (f"note: the run's trainer.max_steps {per_epoch + 2} still applies: it stops at step "
            f"{per_epoch + 2} if that comes before epoch 3 ends") in err
    assert (f"epoch 2/3 (stopped after 2 batches by --max-steps {per_epoch + 2}, "
            f"step {per_epoch + 2})") in err


def test_fewer_epochs_than_a_part_done_run_has_begun_are_one_line(shapes_store: Path, tiny: list[str],
                                                                  tmp_path: Path) -> None:
    """A run its step limit stopped inside an epoch: --epochs no higher than the epochs it has
    done (with a higher --max-steps) leaves no step to take either, part-done epoch or not."""
    out = train.train("vae", shapes_store, tmp_path / "r", epochs=5, max_steps=12, batch_size=32,
                      overrides=tiny, progress=False)
    state = torch.load(out / "checkpoint.pt", weights_only=True)
    assert state["batch"] > 0  # stopped inside an epoch
    epoch = state["epoch"]
    with pytest.raises(UserError, match=rf"has trained {epoch} epochs? and {state['batch']} steps? of "
                                        rf"the next: pass --epochs above {epoch}"):
        train.resume(out, epochs=epoch, max_steps=20, progress=False)


def test_sigkill_then_resume_equals_uninterrupted(run: Path, shapes_store: Path, tiny: list[str],
                                                  tmp_path: Path) -> None:
    """Kill a training process with SIGKILL mid-epoch; resuming ends with the same weights."""
    import os
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "latentplay.train", "betavae", "--data", str(shapes_store),
           "--out", str(out), "--epochs", "3", "--batch-size", "32", *tiny, "optim.lr=2e-3",
           "loss.betavae.beta=1", "trainer.checkpoint_every=3"]
    metrics = out / "metrics.csv"
    with subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) as proc:
        deadline = time.time() + 120
        while time.time() < deadline and proc.poll() is None:
            if metrics.exists() and metrics.read_text().count("\nstep,") >= 14:  # past step 12
                os.kill(proc.pid, signal.SIGKILL)
                break
            time.sleep(0.02)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL, err.decode()[-2000:]
    state = torch.load(out / "checkpoint.pt", weights_only=True)
    assert not state["finished"] and 0 < state["step"] < 27
    train.resume(out, progress=False)
    a, b = load_file(str(run / "model.safetensors")), load_file(str(out / "model.safetensors"))
    for key in a:
        assert torch.equal(a[key], b[key]), key
    steps = [int(r["step"]) for r in read_table(metrics) if r["scope"] == "step"]
    assert steps == list(range(1, 28))
    # the latent statistics of the epoch the kill cut short are those of all its batches
    assert (out / "latent_variance.csv").read_text() == (run / "latent_variance.csv").read_text()


def test_a_store_with_its_own_split_trains_to_the_end(shapes_store: Path, tiny: list[str],
                                                      tmp_path: Path) -> None:
    """A store's ``split`` attribute (``data split``, FairFace's, CelebA's) clashed with
    ``latents.npy``'s own ``split`` field after the last epoch; it is ``label_split`` there."""
    import shutil

    from latentplay.store import split_store

    data = shutil.copytree(shapes_store, tmp_path / "shapes")
    split_store(data, test=0.25)
    run = train.train("vae", data, tmp_path / "run", epochs=1, batch_size=64,
                      overrides=[*tiny, "log.latents_max=40"], progress=False)
    table = np.load(run / "latents.npy")
    assert {"split", "label_split", "shape"} <= set(table.dtype.names)
    store = load(data)
    assert np.array_equal(table["label_split"], store.labels("split")[table["index"]].astype(np.float32))
    assert (run / "active_units.json").exists()


class _TwoProcesses:
    """Fabric as process ``rank`` of two sees it: the other process's statistics are the same
    as this one's, its random state is ``peer_rng``; ``all_reduce`` works in place, as Fabric's."""

    world_size = 2

    def __init__(self, fabric: object, rank: int, peer_rng: torch.Tensor) -> None:
        self.device, self.global_rank, self.peer_rng = fabric.device, rank, peer_rng  # type: ignore[attr-defined]

    def all_gather(self, tensor: torch.Tensor) -> torch.Tensor:
        other = self.peer_rng if tensor.dtype == torch.uint8 else tensor
        return torch.stack([tensor, other] if self.global_rank == 0 else [other, tensor])

    def all_reduce(self, tensor: torch.Tensor, reduce_op: str) -> torch.Tensor:
        return tensor.mul_(2)


def test_a_ddp_checkpoint_holds_every_process_statistics_and_random_state(
        run: Path, tmp_path: Path) -> None:
    """Under DDP only the first process writes ``checkpoint.pt``: it holds the epoch's running
    loss sums and latent statistics of all processes together (the first process resumes from
    them, the others from nothing, so nothing is counted twice) and each process's random
    state (each resumes its own, as if never interrupted)."""
    import shutil

    from latentplay.train import checkpoint as ckpt
    from latentplay.train.config import load_run_config
    from latentplay.train.engine import Engine

    copy = shutil.copytree(run, tmp_path / "copy")
    saved = ckpt.load_state(copy)
    peer = torch.Generator().manual_seed(1).get_state()
    with torch.random.fork_rng():
        engine = Engine(load_run_config(copy / "config.yaml"), copy, progress=False)
        engine.restore(saved)
        real = engine.fabric
        own_sum = engine.epoch_sum.clone()
        engine.fabric = _TwoProcesses(real, 0, peer)  # type: ignore[assignment]
        state = engine.state()
        assert torch.equal(engine.epoch_sum, own_sum)  # the running sum itself is kept
        assert torch.equal(state["epoch_sum"], 2 * own_sum)
        welford = saved["welford"]
        assert int(state["welford"]["n"]) == 2 * int(welford["n"]) > 0
        torch.testing.assert_close(state["welford"]["mean"], welford["mean"])
        torch.testing.assert_close(state["welford"]["m2"], 2 * welford["m2"])
        assert torch.equal(state["rng"]["torch"][0], torch.get_rng_state())
        assert torch.equal(state["rng"]["torch"][1], peer)
        for rank in (1, 0):
            engine.fabric = _TwoProcesses(real, rank, peer)  # type: ignore[assignment]
            engine.rank0 = rank == 0
            engine.restore(state)
            assert torch.equal(torch.get_rng_state(), state["rng"]["torch"][rank])
            assert int(engine.welford.n) == (int(state["welford"]["n"]) if rank == 0 else 0)
            assert torch.equal(engine.epoch_sum, state["epoch_sum"] * (rank == 0))


def test_a_checkpoint_saved_mid_epoch_by_another_number_of_processes_is_refused(
        run: Path, tmp_path: Path) -> None:
    """Batch ``k`` of an epoch is another slice of the epoch's order for each number of
    processes: a run of two processes stopped part-way through an epoch and resumed by one
    would repeat images (and the reverse skip them), so that is one line naming the saved
    count (also for a checkpoint without ``world``: the count of its random states); at an
    epoch's end any number goes on."""
    import shutil

    from latentplay.train import checkpoint as ckpt
    from latentplay.train.config import load_run_config
    from latentplay.train.engine import Engine

    copy = shutil.copytree(run, tmp_path / "copy")
    saved = ckpt.load_state(copy)
    assert saved["world"] == 1 and saved["batch"] == 0
    with torch.random.fork_rng():
        engine = Engine(load_run_config(copy / "config.yaml"), copy, progress=False)
        own = saved["rng"]["torch"]
        two = {**saved, "world": 2, "rng": {**saved["rng"], "torch": own.expand(2, -1).clone()}}
        engine.restore(two)  # at an epoch's end
        older = {k: v for k, v in two.items() if k != "world"}
        for state in ({**two, "batch": 4}, {**older, "batch": 4}):
            with pytest.raises(UserError, match=r"saved by 2 process\(es\) part-way through epoch "
                               r"4 \(batch 4\); this run has 1: resume with trainer.devices x "
                               r"trainer.num_nodes = 2"):
                engine.restore(state)
        engine.fabric = _TwoProcesses(engine.fabric, 0, own)  # type: ignore[assignment]
        with pytest.raises(UserError, match=r"saved by 1 process\(es\) .* this run has 2"):
            engine.restore({**saved, "batch": 4})


def test_progress_leaves_nothing_on_a_piped_stdout(shapes_store: Path, tiny: list[str],
                                                   tmp_path: Path, capfd) -> None:  # noqa: ANN001
    """The bars go to standard error and only to a terminal: a finished transient bar left
    blank lines on a piped standard output."""
    train.train("vae", shapes_store, tmp_path / "r", epochs=1, max_steps=2, batch_size=32,
                overrides=tiny, progress=True)
    out, err = capfd.readouterr()
    assert [line for line in out.splitlines() if not line.strip()] == []
    # standard error is no terminal here either: no bar, the epoch's one line instead
    line = (r"epoch 1/1 \(stopped after 2 batches by --max-steps 2, step 2\): loss \S+, test loss "
            r"\S+; \S+ images/s, \S+ s")
    assert err.splitlines() == [text for text in err.splitlines() if re.fullmatch(line, text)]
    assert len(err.splitlines()) == 1, err


class _PeerWentNonFinite:
    """Fabric as one of two processes sees it when only the other process's losses were
    non-finite: ``all_reduce`` adds the other's flag 1 to every pending step."""

    world_size = 2

    def __init__(self, fabric: object) -> None:
        self.device = fabric.device  # type: ignore[attr-defined]

    def all_reduce(self, tensor: torch.Tensor, reduce_op: str) -> torch.Tensor:
        assert reduce_op == "sum"
        return tensor + 1


def test_under_ddp_every_process_stops_where_one_process_loss_went_non_finite(
        run: Path, tmp_path: Path) -> None:
    """A process whose own losses stayed finite stops at the same step as the one whose loss
    did not (going on alone, it would wait for the other at the next gradient all-reduce)."""
    import shutil

    from latentplay.train.config import load_run_config
    from latentplay.train.engine import Engine

    copy = shutil.copytree(run, tmp_path / "copy")
    engine = Engine(load_run_config(copy / "config.yaml"), copy, progress=False)
    finite = [(step, ["loss", "recon"], torch.tensor([1.0, 2.0])) for step in (7, 8)]
    engine.pending = list(finite)
    engine._check_finite()  # one process: its own finite losses pass
    assert engine.pending == []
    engine.pending = list(finite)
    engine.fabric = _PeerWentNonFinite(engine.fabric)  # type: ignore[assignment]
    with pytest.raises(NonFiniteLoss, match="a loss term of another process became non-finite at step 7"):
        engine._check_finite()


def test_kept_epochs_are_runs_of_their_own(shapes_store: Path, tmp_path: Path, tiny: list[str]
                                           ) -> None:
    """``trainer.keep_every=2`` keeps the weights of epochs 2 and 3 (the last) in
    ``epochs/epoch_NNN``, each a run directory the model loaders take: the last equals the
    run's final weights, the earlier differs; a resume keeps the epochs it adds."""
    from latentplay.train.api import load_model
    from latentplay.train.summary import summary_lines

    run = train.train("vae", shapes_store, tmp_path / "r", epochs=3, batch_size=32,
                      overrides=[*tiny, "trainer.keep_every=2"], progress=False)
    kept = run / "epochs"
    assert sorted(p.name for p in kept.iterdir()) == ["epoch_002", "epoch_003"]
    final = load_file(run / "model.safetensors")
    last, earlier = (load_file(kept / e / "model.safetensors") for e in ("epoch_003", "epoch_002"))
    assert all(torch.equal(final[k], last[k]) for k in final)
    assert not all(torch.equal(final[k], earlier[k]) for k in final)
    model = load_model(kept / "epoch_002")
    assert all(torch.equal(v, earlier[k]) for k, v in model.state_dict().items())
    assert json.loads((kept / "epoch_002" / "model.json").read_text())["epoch"] == 2
    lines = summary_lines(run)
    assert any(line.startswith(f"kept the weights of 2 epochs in {kept} (002, 003)") for line in lines)
    train.resume(run, epochs=4, progress=False)
    assert sorted(p.name for p in kept.iterdir()) == ["epoch_002", "epoch_003", "epoch_004"]
    with pytest.raises(UserError, match="trainer.keep_every must be at least 0"):
        train.train("vae", shapes_store, tmp_path / "bad", epochs=1,
                    overrides=[*tiny, "trainer.keep_every=-1"], progress=False)


def test_a_run_stopped_while_writing_its_final_outputs_resumes_to_write_them(
        run: Path, shapes_store: Path, tiny: list[str], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Interrupted after its checkpoint was saved as finished but before ``summary.json`` was
    written, a run was refused as "already finished" and kept a half-written end; resuming
    now writes its final outputs, from the same weights."""
    from latentplay.train import engine

    def killed(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(engine, "write_summary", killed)
    out = tmp_path / "r"
    with pytest.raises(KeyboardInterrupt):
        train.train("betavae", shapes_store, out, epochs=3, batch_size=32,
                    overrides=[*tiny, "optim.lr=2e-3", "loss.betavae.beta=1"], progress=False)
    monkeypatch.undo()
    assert torch.load(out / "checkpoint.pt", weights_only=True)["finished"]
    assert not (out / "summary.json").exists()
    train.resume(out, progress=False)
    assert json.loads((out / "summary.json").read_text()) == json.loads((run / "summary.json").read_text())
    assert np.array_equal(np.load(out / "latents.npy"), np.load(run / "latents.npy"))
    a, b = load_file(str(run / "model.safetensors")), load_file(str(out / "model.safetensors"))
    assert all(torch.equal(a[key], b[key]) for key in a)
    with pytest.raises(UserError, match="already finished its 3 epochs"):
        train.resume(out, progress=False)


def _mixed_precision_run(shapes_store: Path, out: Path, tiny: list[str], extra: list[str]) -> Path:
    """A β-VAE (β 50: its posterior stays near the prior, KLs near 0) trained 6 steps in bf16."""
    return train.train("betavae", shapes_store, out, epochs=1, batch_size=32, max_steps=6,
                       overrides=[*tiny, "loss.betavae.beta=50", "trainer.precision=bf16-mixed",
                                  *extra], progress=False)


def _kls_of(table: Path) -> np.ndarray:
    """The ``(rows, D + 1)`` KL of every row of a metrics table: per dimension, then the total."""
    rows = read_table(table)
    dims = sorted((k for k in rows[0] if re.fullmatch(r"kl_\d+", k)), key=lambda k: int(k[3:]))
    return np.array([[float(r[k]) for k in [*dims, "kl"]] for r in rows if r["kl"]])


def test_under_bf16_mixed_precision_the_kl_is_taken_in_float32(shapes_store: Path, tiny: list[str],
                                                                tmp_path: Path) -> None:
    """The test split is read under autocast with the plain network: its KLs were taken in
    bf16, steps of 2^-8 where the true KLs are about 1e-3 (and below 0 in larger networks).
    They are the KLs of the final model's posteriors of the test rows (``latents.npy``, whose
    means are the float32 model's), to the 1 % bf16's rounding of the network's outputs leaves."""
    run = _mixed_precision_run(shapes_store, tmp_path / "bf16", tiny, ["trainer.channels_last=true"])
    table = np.load(run / "latents.npy")
    test = table[table["split"] == 1]
    mu, logvar = test["mu"].astype(np.float64), test["logvar"].astype(np.float64)
    expected = (0.5 * (mu**2 + np.exp(logvar) - logvar - 1)).mean(0)          # (D,)
    (kls,) = _kls_of(run / "test_metrics.csv")
    np.testing.assert_allclose(kls[:-1], expected, rtol=1e-2, atol=1e-6)
    assert kls[-1] == pytest.approx(expected.sum(), rel=1e-2)
    assert (_kls_of(run / "metrics.csv") >= 0).all()
    # the final outputs are the float32 model's, as train.encode reads it (bf16: 1e-2 apart)
    mu = train.encode(run, load_images(load(shapes_store), range(8)))
    np.testing.assert_allclose(mu, table["mu"][:8], atol=1e-4)


@pytest.mark.slow
def test_the_optimised_engine_trains_saves_and_resumes(shapes_store: Path, tiny: list[str],
                                                       tmp_path: Path) -> None:
    """bf16, channels_last and ``torch.compile`` together (the GPU benchmark's settings, here
    on the CPU, about 60 s): the run's model loads into a plain network that encodes as the
    training did, and the run resumes."""
    optimised = ["trainer.channels_last=true", "trainer.compile=true", "trainer.log_every=3"]
    run = _mixed_precision_run(shapes_store, tmp_path / "opt", tiny, optimised)
    assert train.load_model(run).latent_dim == 4 and (_kls_of(run / "test_metrics.csv") >= 0).all()
    table = np.load(run / "latents.npy")
    mu = train.encode(run, load_images(load(shapes_store), range(8)))
    np.testing.assert_allclose(mu, table["mu"][:8], atol=1e-4)
    train.resume(run, max_steps=9, progress=False)
    steps = [int(r["step"]) for r in read_table(run / "metrics.csv") if r["scope"] == "step"]
    assert steps == [3, 6, 9]
