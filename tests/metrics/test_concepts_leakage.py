"""GlanceNet and CBM training, their outputs, the leakage probe and the leakage table."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from latentplay.errors import UserError
from latentplay.metrics import concepts
from latentplay.metrics.concepts import (
    RECON_IMAGES,
    TRAVERSE_VALUES,
    ConceptData,
    TrainConfig,
    build,
    fit,
    infer,
    optimizers,
    run_concept_model,
    supervised_rows,
    traversal_rows,
)
from latentplay.metrics.leakage import leakage_table, parity_data, probe, shapes_data
from latentplay.models.losses import LossConfig


@pytest.fixture(scope="module")
def digits() -> tuple:
    return parity_data()


def test_parity_data_is_the_4_vs_5_domain(digits: tuple) -> None:
    domain, probe_images, parity = digits
    assert domain.images.shape[1:] == (28, 28, 1) and domain.images.dtype == np.uint8
    assert set(np.unique(domain.labels)) == {0, 1}
    assert np.array_equal(domain.concepts.sum(axis=1), np.ones(len(domain)))
    assert len(probe_images) == len(parity) and set(np.unique(parity)) == {0, 1}
    assert len(domain) + len(probe_images) == 1797


def test_glancenet_trains_and_rejects(digits: tuple) -> None:
    domain = digits[0]
    train = TrainConfig(epochs=3, batch_size=32, seed=0, masking_fact=10.0)
    loss = LossConfig(terms=["betatcvae", "dipvae_ii"])
    model = build("glancenet", domain, 2, train, latent_dim=6, loss=loss)
    x = torch.from_numpy(domain.images[:8]).permute(0, 3, 1, 2).float() / 255
    c = torch.from_numpy(domain.concepts[:8]).float()
    y = torch.from_numpy(domain.labels[:8])
    keys = set(model.loss(x, c, y, torch.ones(8, dtype=torch.bool), 0))
    assert {"recon", "label", "concepts", "betatcvae/tc", "dipvae_ii/offdiag"} <= keys
    assert "concepts" not in model.loss(x, c, y, torch.zeros(8, dtype=torch.bool), 0)
    fit(model, domain, train)
    assert torch.isfinite(model.threshold_recon) and torch.isfinite(model.threshold_class).all()
    out = infer(model, domain.images)
    assert out["latents"].shape == (len(domain), 6) and out["concepts"].shape == (len(domain), 2)
    assert 0.0 <= out["concepts"].min() and out["concepts"].max() <= 1.0
    # Thresholds sit at the training data's 95th percentiles: most training rows pass.
    assert 0.8 <= out["accepted"].mean() <= 0.96
    noise = np.random.default_rng(0).integers(0, 256, (50, 28, 28, 1)).astype(np.uint8)
    assert infer(model, noise)["accepted"].mean() < 0.2


def test_supervised_rows_follow_masking_fact() -> None:
    assert supervised_rows(200, 10.0, 0).sum() == 20
    assert supervised_rows(200, 100.0, 0).all()
    with pytest.raises(UserError, match="masking_fact"):
        build("cbm", parity_data()[0], 2, TrainConfig(masking_fact=150.0))


@pytest.mark.parametrize("kind", ["cbm", "glancenet"])
def test_fit_refuses_a_masking_fact_other_than_the_models(kind: str) -> None:
    data = _tiny_concept_data()
    model = build(kind, data, 2, TrainConfig(masking_fact=10.0), width=8, hidden=32)
    with pytest.raises(UserError, match="built with masking_fact=10 but is trained with masking_fact=100"):
        fit(model, data, TrainConfig(masking_fact=100.0))


@pytest.mark.parametrize("kind", ["glancenet", "vae"])
def test_rejection_accepts_nothing_for_a_class_without_training_rows(kind: str) -> None:
    model = build(kind, _tiny_concept_data(), 3, TrainConfig(), latent_dim=4, width=8, hidden=32)
    y = torch.tensor([0] * 10 + [1] * 10)  # class 2 never seen
    concepts = torch.linspace(-0.5, 0.5, 20)[:, None].repeat(1, 2)
    model.fit_rejection(torch.zeros(20), concepts, y)
    assert torch.isfinite(model.threshold_class[:2]).all()
    far = torch.tensor([[9.0, 9.0, 0.0]])  # far from both seen classes, on the unseen one's centre
    assert not model.accept(torch.zeros(1), far).item()
    assert model.accept(torch.zeros(1), torch.tensor([[0.0, 9.0, 9.0]])).item()


def test_supervised_rows_are_spread_over_the_first_epoch(monkeypatch: pytest.MonkeyPatch) -> None:
    """The masked rows do not follow the batch order: every batch of the first epoch holds some."""
    data = _tiny_concept_data(200)
    train = TrainConfig(epochs=1, batch_size=20, seed=0, masking_fact=50.0)
    model = build("cbm", data, 2, train, width=8, hidden=32)
    counts: list[int] = []
    loss = model.loss

    def counting(x, c, y, supervised, step):  # type: ignore[no-untyped-def]
        counts.append(int(supervised.sum()))
        return loss(x, c, y, supervised, step)

    monkeypatch.setattr(model, "loss", counting)
    fit(model, data, train)
    assert len(counts) == 10 and sum(counts) == 100
    assert min(counts) > 0  # not the first 5 batches fully supervised and the last 5 not at all


def test_training_turns_one_batch_of_images_into_floats_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """The images stay uint8 while a concept model trains: a float32 copy of all of them (four
    times their size) was made before the first step. Each step gets its own rows, in [0, 1]."""
    data = _tiny_concept_data(60)
    train = TrainConfig(epochs=1, batch_size=20, seed=0)
    model = build("glancenet", data, 2, train, latent_dim=4, width=8, hidden=32)
    converted: list[int] = []
    to_float = concepts._tensor

    def counting(images: np.ndarray) -> torch.Tensor:
        converted.append(len(images))
        return to_float(images)

    steps: list[torch.Tensor] = []
    loss_and_output = model.loss_and_output

    def seeing(x, c, y, supervised, step):  # type: ignore[no-untyped-def]
        steps.append(x)
        return loss_and_output(x, c, y, supervised, step)

    monkeypatch.setattr(concepts, "_tensor", counting)
    monkeypatch.setattr(model, "loss_and_output", seeing)
    fit(model, data, train)
    assert len(steps) == 3 and converted[:3] == [20, 20, 20]
    assert max(converted) <= 512   # then the rejection thresholds, in batches of the outputs'
    seen = np.concatenate([(x.permute(0, 2, 3, 1) * 255).round().byte().numpy() for x in steps])
    assert sorted(map(bytes, seen)) == sorted(map(bytes, data.images))   # every row once, as stored


def test_channel_means_are_the_exact_mean_of_each_channel() -> None:
    images = np.zeros((2, 2, 2, 3), np.uint8)
    images[0, 0, 0] = [255, 51, 0]   # one pixel of eight: 1/8 of 255, of 51 and of 0
    images[1, :, :, 2] = 255          # channel 2 full in one image of two: 1/2
    np.testing.assert_allclose(concepts.channel_means(images).numpy(),
                               [1 / 8, 51 / 255 / 8, 1 / 2], rtol=1e-7)


def _grid_shape(png: Path, caption_lines: int = 0) -> tuple[int, int]:
    """(rows, columns) of an image_grid PNG (120 dpi, 0.9-inch cells, title of at most 4 lines,
    ``caption_lines`` under every row's images) from its pixel size."""
    from latentplay.viz.grid import CAPTION_SIZE

    band = caption_lines * CAPTION_SIZE * 1.25 / 72 + (0.04 if caption_lines else 0.0)
    height, width = iio.imread(png).shape[:2]
    return int((height / 120 - 0.4) // (0.99 + band)), round((width / 120 - 1.6) / 0.9)


@pytest.mark.parametrize("kind", ["cbm", "glancenet"])
def test_concept_model_outputs_on_shapes(tmp_path: Path, kind: str) -> None:
    (tmp_path / "recon.png").write_bytes(b"an earlier run's")  # removed: a CBM draws none
    train_data, shape = shapes_data(150, 0, (0, 1), size=32)
    test_data, _ = shapes_data(40, 1, (0, 1), size=32)
    assert set(np.unique(shape)) == {0, 1} and train_data.concepts.max() <= 1.0
    small = {"width": 8, "hidden": 32} | ({} if kind == "cbm" else {"latent_dim": 5})
    scores = run_concept_model(
        kind, train_data, test_data, tmp_path, TrainConfig(epochs=1, seed=0), n_classes=4, **small
    )
    down = np.load(tmp_path / "downstream.npy")
    assert down.shape == (40, 2) and np.array_equal(down[:, 1], test_data.labels)
    dim = 3 if kind == "cbm" else 5  # a CBM's latents are its concepts
    assert np.load(tmp_path / "latents.npy").shape == (40, dim)
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert saved["accuracy"] == pytest.approx(np.mean(down[:, 0] == down[:, 1]))
    assert {"alignment", "explicitness", "accepted"} <= set(saved)
    # held-out concept scores: continuous levels scaled to [0, 1], so MAE and R²
    assert list(saved["concept_scores"]) == ["scale", "pos_x", "pos_y"]
    acts = np.load(tmp_path / "concepts.npy")
    mae = np.mean(np.abs(acts[:, 1] - test_data.concepts[:, 1]))
    assert saved["concept_scores"]["pos_x"]["mae"] == pytest.approx(mae, rel=1e-5)
    assert scores["concept_scores"]["pos_x"]["r2"] <= 1.0
    # the true concept levels beside the activations (concepts.npy held only the model's)
    assert np.array_equal(np.load(tmp_path / "factors.npy"), test_data.levels)
    activations = np.load(tmp_path / "concepts.npy")
    assert activations.shape == test_data.levels.shape and activations.min() >= 0
    if kind == "cbm":  # no decoder: no pictures
        assert scores["accepted"] == 1.0
        assert not any((tmp_path / n).exists() for n in ("recon.png", "traverse.png", "traverse.gif"))
    else:  # originals above reconstructions; one row per latent, one column per step
        assert _grid_shape(tmp_path / "recon.png") == (2, RECON_IMAGES)
        assert _grid_shape(tmp_path / "traverse.png", caption_lines=1) == (dim, len(TRAVERSE_VALUES))
        # animated: each step once on the way out, the inner ones again on the way back
        with Image.open(tmp_path / "traverse.gif") as gif:
            assert gif.n_frames == 2 * len(TRAVERSE_VALUES) - 2


def test_traversal_rows_move_one_latent_around_the_base_code() -> None:
    data = _tiny_concept_data(8)
    train = TrainConfig(seed=0)
    model = build("glancenet", data, 2, train, latent_dim=4, width=8, hidden=32)
    model.eval()
    codes = np.random.default_rng(0).normal(size=(8, 4)).astype(np.float32)
    codes[:, 3] = 0.5  # no spread over the held-out images: the row stays at the base code
    rows = traversal_rows(model, codes)
    assert rows.shape == (4, len(TRAVERSE_VALUES), 28, 28, 1) and rows.dtype == np.uint8
    base = concepts._decode(model, codes[:1])[0]
    middle = int(np.flatnonzero(TRAVERSE_VALUES == 0)[0])
    assert all(np.array_equal(row[middle], base) for row in rows)
    assert all(np.array_equal(image, base) for image in rows[3])
    assert not np.array_equal(rows[0, 0], rows[0, -1])  # the other latents do move the image
    steps = np.repeat(codes[:1], 2, axis=0)
    steps[:, 1] += TRAVERSE_VALUES[[0, -1]] * codes[:, 1].std()  # row 1: only latent 1 moves
    assert np.array_equal(rows[1, [0, -1]], concepts._decode(model, steps))


def test_probe_leakage_bounds() -> None:
    rng = np.random.default_rng(0)
    target = rng.integers(0, 2, 600)
    leaky = np.stack([target + 0.1 * rng.normal(size=600), rng.normal(size=600)], axis=1)
    clean = rng.normal(size=(600, 2))
    assert probe(leaky, target, None, 0)["leakage"] > 0.9
    assert abs(probe(clean, target, None, 0)["leakage"]) < 0.15
    none = probe(leaky, target, np.zeros(600, dtype=bool), 0)  # every row a coin flip
    assert none["leak_accuracy"] == 0.5 and none["accepted"] == 0.0
    assert -0.1 < none["leakage"] <= 0.0  # never above the chance of the other rows
    half = probe(leaky, target, np.arange(600) % 2 == 0, 0)
    assert 0.35 < half["leakage"] < 0.6  # half the rows answered perfectly, half at chance


def test_probe_chance_is_the_probe_without_concepts() -> None:
    """An unbalanced target is not leakage: chance is the most frequent target, not 1/K; and it
    is the same for a rejecting model (one chance per experiment)."""
    rng = np.random.default_rng(1)
    target = (rng.random(2000) < 0.1).astype(np.int64)  # 90 % class 0
    clean = rng.normal(size=(2000, 2))
    plain = probe(clean, target, None, 0)
    assert plain["chance"] == pytest.approx(0.9, abs=0.03)
    assert abs(plain["leakage"]) < 0.05  # 1/K as chance would read 0.8
    rejecting = probe(clean, target, rng.random(2000) < 0.5, 0)
    assert rejecting["chance"] == plain["chance"]


def test_leakage_table_writes_csv_and_chart(tmp_path: Path, digits: tuple) -> None:
    rows = leakage_table(("parity",), TrainConfig(epochs=1, seed=0), out=tmp_path, models=("glancenet",),
                         splits=3)
    assert [r["model"] for r in rows] == ["glancenet", "glancenet+rejection", "glancenet+random-rejection"]
    table = list(csv.DictReader((tmp_path / "leakage.csv").read_text().splitlines()))
    assert len(table) == 3 and all(0.0 <= float(r["leak_accuracy"]) <= 1.0 for r in table)
    assert float(table[0]["accepted"]) == 1.0 and float(table[1]["accepted"]) < 1.0
    assert table[2]["accepted"] == table[1]["accepted"]
    assert (tmp_path / "leakage.png").stat().st_size > 5000
    settings = json.loads((tmp_path / "leakage.json").read_text())
    assert settings["experiments"] == ["parity"] and settings["models"] == ["glancenet"]
    assert settings["asked"]["training"]["epochs"] == 1
    # what parity ran with, not the settings asked for dsprites (it recorded epochs 1, size 64)
    used = settings["used"]["parity"]
    assert used["training"]["epochs"] == 3 and used["training"]["batch_size"] == 16
    assert "size" not in used and "digits at 28 px" in used["data"]
    # the held-out digits' share of the training digits' more frequent parity, about one half
    assert len({r["task_chance"] for r in table}) == 1 and 0.4 < float(table[0]["task_chance"]) < 0.6


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--batch-size", "0"], "--batch-size must be at least 1, got 0"),
        (["--epochs", "-1"], "--epochs must be at least 1, got -1"),
        (["--seed", "-1"], "--seed must be at least 0, got -1"),
        (["--n-train", "0"], "--n-train must be at least 5, got 0"),
        (["--n-probe", "0"], "--n-probe must be at least 4, got 0"),
        (["--size", "48"], "--size must be 64 or 32, got 48"),
        # an infinite rate trained until the first loss was NaN
        (["--lr", "inf"], "--lr must be a finite number above 0, got inf"),
        (["--lr", "0"], "--lr must be a finite number above 0, got 0"),
    ],
)
def test_leakage_cli_refuses_bad_options(cli, tmp_path: Path, args: list[str], message: str) -> None:
    res = cli("leakage", "run", "--out", tmp_path / "o", "--experiments", "parity", *args)
    assert res.code == 2 and message in res.err and "Traceback" not in res.err, res.err
    assert not (tmp_path / "o").exists()


def test_leakage_cli_refuses_a_non_empty_out_before_training(cli, tmp_path: Path) -> None:
    (tmp_path / "o").mkdir()
    (tmp_path / "o" / "notes.txt").write_text("mine")
    res = cli("leakage", "run", "--out", tmp_path / "o", "--experiments", "parity")
    assert res.code == 2 and "exists and is not empty; pass --overwrite" in res.err, res.err
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == ["notes.txt"]


@pytest.mark.slow
def test_default_run_learns_its_tasks_and_rejection_refuses_the_probes(tmp_path: Path) -> None:
    """The documented run (docs/metrics.md; about 2 min 40 s of CPU time): every model learns its
    task and concepts, the corners of dsprites are read from the concepts of every model that
    answers them, and GlanceNet refuses the out-of-domain probes while accepting its domain."""
    train = TrainConfig(epochs=10, batch_size=32, lr=2e-3, seed=0, threads=1)
    rows = leakage_table(("dsprites", "parity"), train, out=tmp_path, size=32)
    by = {(r["experiment"], r["model"]): r for r in rows}
    assert not any(r["flag"] for r in rows)
    for exp in ("dsprites", "parity"):
        assert len({by[exp, m]["chance"] for m in ("vae", "cbm", "glancenet", "glancenet+rejection")}) == 1
        assert by[exp, "glancenet+rejection"]["domain_accepted"] > 0.85
        assert by[exp, "glancenet+rejection"]["accepted"] < 0.5
        assert (by[exp, "glancenet+random-rejection"]["accepted"]
                == by[exp, "glancenet+rejection"]["accepted"])
    for model in ("vae", "cbm", "glancenet"):
        assert by["dsprites", model]["accuracy"] > 0.7  # chance 1/3: the shape
        assert by["dsprites", model]["concept_scores"]["shape"]["learned"]
        assert by["dsprites", model]["leakage"] > 0.3  # the corner is in the concepts
        assert by["parity", model]["accuracy"] > 0.95
    assert by["dsprites", "glancenet+rejection"]["leakage"] < 0.1


def _tiny_concept_data(n: int = 32) -> ConceptData:
    """``n`` 28 x 28 images whose halves are lit by two binary concepts; class = concept 0."""
    rng = np.random.default_rng(0)
    c = rng.integers(0, 2, (n, 2))
    img = np.zeros((n, 28, 28), dtype=np.int64)
    img[:, :14, :] += 200 * c[:, :1, None]
    img[:, :, :14] += 50 * c[:, 1:, None]
    img = np.clip(img + rng.integers(0, 40, img.shape), 0, 255).astype(np.uint8)[..., None]
    return ConceptData(img, c.astype(np.float32), c[:, 0].copy(), c.copy(), ["top", "left"])


def _factorvae_glancenet(data: ConceptData, train: TrainConfig) -> torch.nn.Module:
    loss = LossConfig(terms=["betavae", "factorvae"])
    loss.factorvae.hidden, loss.factorvae.layers, loss.factorvae.lr = 64, 2, 1e-3
    return build("glancenet", data, 2, train, latent_dim=4, width=8, hidden=32, loss=loss)


def _discriminator_scores(model: torch.nn.Module, data: ConceptData) -> tuple[float, float]:
    """FactorVAE's TC estimate and its discriminator's cross-entropy (joint vs permuted codes)
    on the prototype-relative means ``mu - m_y`` ``(N, D)`` of ``data``."""
    x = torch.from_numpy(data.images).permute(0, 3, 1, 2).float() / 255
    y = torch.from_numpy(data.labels.astype(np.int64))
    term = model.losses.terms[1]
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        mu, _ = model.vae.encode(x)
        z = mu - model.prior(torch.nn.functional.one_hot(y, 2).float())
        joint = term.discriminator(z)
        idx = torch.argsort(torch.rand(z.shape, generator=gen), dim=0)
        perm = term.discriminator(torch.gather(z, 0, idx))
        labels = torch.zeros(len(z), dtype=torch.long)
        ce = 0.5 * (F.cross_entropy(joint, labels) + F.cross_entropy(perm, labels + 1))
        tc = term.config.gamma * (joint[:, 0] - joint[:, 1]).mean()
    return float(tc), float(ce)


def test_glancenet_trains_factorvae_discriminator_as_an_adversary() -> None:
    data = _tiny_concept_data()
    train = TrainConfig(epochs=20, batch_size=32, seed=0)
    model = fit(_factorvae_glancenet(data, train), data, train)
    tc, ce = _discriminator_scores(model, data)
    # Trained on its own cross-entropy, the discriminator does at least as well as chance
    # (ln 2 = 0.693) and its TC estimate stays near zero on these nearly independent codes;
    # trained by the VAE objective, it would push the estimate far below zero (about -27 here)
    # and its cross-entropy above chance (about 0.77).
    assert ce < 0.70
    assert tc > -5.0
    again = fit(_factorvae_glancenet(data, train), data, train)
    for (name, a), b in zip(model.state_dict().items(), again.state_dict().values(), strict=True):
        assert torch.equal(a, b), name


def test_concept_optimizers_leave_adversaries_to_their_own_optimiser() -> None:
    data = _tiny_concept_data()
    model = _factorvae_glancenet(data, TrainConfig())
    main, aux = optimizers(model, 1e-3)
    in_main = {id(p) for group in main.param_groups for p in group["params"]}
    disc = {id(p) for p in model.losses.terms[1].discriminator.parameters()}
    assert not in_main & disc
    assert in_main | disc == {id(p) for p in model.parameters()}
    assert [term.name for term, _ in aux] == ["factorvae"]
    assert {id(p) for group in aux[0][1].param_groups for p in group["params"]} == disc


def test_an_undefined_metric_is_written_as_null(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A metric without a value (accuracy over accepted images when none is accepted) is null
    in metrics.json, which stays strict JSON."""
    from latentplay.metrics import concepts

    evaluate = concepts.evaluate_outputs
    monkeypatch.setattr(concepts, "evaluate_outputs",
                        lambda *a: {**evaluate(*a), "accuracy_accepted": float("nan")})
    train_data, _ = shapes_data(60, 0, (0, 1))
    test_data, _ = shapes_data(20, 1, (0, 1))
    scores = run_concept_model("cbm", train_data, test_data, tmp_path, TrainConfig(epochs=1, seed=0),
                               n_classes=4)
    text = (tmp_path / "metrics.json").read_text()
    saved = json.loads(text, parse_constant=lambda c: pytest.fail(f"{c} in metrics.json"))
    assert saved["accuracy_accepted"] is None and scores["accuracy_accepted"] is None
    assert saved["accuracy"] == scores["accuracy"] is not None


def test_leakage_bars_on_the_whole_scale_and_none_for_a_model_not_run() -> None:
    import matplotlib.pyplot as plt

    from latentplay.metrics.leakage import leakage_figure

    rows = [{"experiment": "dsprites", "model": "vae", "leakage": 0.04},
            {"experiment": "dsprites", "model": "cbm", "leakage": 0.02},
            {"experiment": "parity", "model": "cbm", "leakage": -0.01}]
    fig = leakage_figure(rows)
    ax = fig.axes[0]
    low, high = ax.get_ylim()
    assert high >= 1.0 and low < -0.01  # 0.04 does not fill the axis
    heights = [p.get_height() for p in ax.patches]
    assert len(heights) == 4 and sum(np.isnan(heights)) == 1  # vae was not run on parity
    labels = [t.get_text() for t in ax.texts]
    assert "nan" not in " ".join(labels) and {"0.04", "0.02", "-0.01"} <= set(labels)
    plt.close(fig)


def test_leakage_of_a_model_that_has_not_learned_its_task_is_flagged(
        cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A CBM at task accuracy 0.479 (chance 0.5) had its leakage printed with no word; the
    warning now says whether its concepts were learned, and the table carries the flag."""
    from latentplay.metrics import leakage

    def table(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        digit = {"digit": {"accuracy": 0.99, "chance": 0.51, "learned": True}}
        lost = {"digit": {"accuracy": 0.52, "chance": 0.51, "learned": False}}
        return [{"experiment": "parity", "model": model, "accuracy": accuracy, "task_chance": 0.5,
                 "leak_accuracy": 0.6, "chance": 0.5, "leakage": 0.116, "leakage_sd": 0.04,
                 "accepted": 1.0, "concept_scores": concepts, "concept_acc": 0.9, "concept_r2": None,
                 "flag": "task near chance" if accuracy < 0.6 else ""}
                for model, accuracy, concepts in (("cbm", 0.479, digit), ("vae", 0.51, lost),
                                                  ("glancenet", 0.98, digit))]

    monkeypatch.setattr(leakage, "leakage_table", table)
    r = cli("leakage", "run", "--out", tmp_path / "lp", "--experiments", "parity")
    assert r.code == 0, r.err
    text = " ".join(r.err.split())
    assert ("warning: parity cbm: task accuracy 0.479 is near chance (0.500); it has not "
            "learned its task, though its concepts were learned (digit acc 0.99 (chance 0.51))") in text
    assert ("warning: parity vae: task accuracy 0.510 is near chance (0.500); it has not learned "
            "its task, and not all its concepts either (not learned: digit;") in text
    assert "glancenet: task accuracy" not in text
    assert "task near chance" in " ".join(r.out.split()) and "0.116 ± 0.040" in r.out


def test_building_and_fitting_leave_torch_global_state_as_it_was() -> None:
    """A notebook's own torch draws and thread count are the same after a concept model is
    built and trained (both seed torch; training sets its threads)."""
    torch.manual_seed(3)
    expected = torch.rand(3)
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        torch.manual_seed(3)
        data = _tiny_concept_data()
        train = TrainConfig(epochs=1, batch_size=16, seed=0, threads=1)
        fit(build("cbm", data, 2, train, width=8, hidden=32), data, train)
        assert torch.get_num_threads() == 2
        torch.testing.assert_close(torch.rand(3), expected)
    finally:
        torch.set_num_threads(threads)
