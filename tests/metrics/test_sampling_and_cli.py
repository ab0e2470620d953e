"""The sampling form (ground truth + represent), the registry, dis_metrics.csv and the CLI."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from latentplay import metrics, store
from latentplay.errors import UserError
from latentplay.metrics import beta_vae
from latentplay.metrics.evaluate import append_dis_metrics
from latentplay.sources.shapes import FACTOR_SIZES, ShapesConfig, ShapesGroundTruth, make_store
from latentplay.store.subset import subset


class FactorsAsObservations:
    """Ground truth whose observations are the factor levels themselves (cheap and exact)."""

    num_factors = 4
    factors_num_values = [4, 5, 6, 3]

    def sample_factors(self, num: int, random_state: np.random.Generator) -> np.ndarray:
        return np.stack([random_state.integers(0, s, num) for s in self.factors_num_values], axis=1)

    def sample_observations_from_factors(
        self, factors: np.ndarray, random_state: np.random.Generator
    ) -> np.ndarray:
        return factors.astype(np.float32)


def identity(x: np.ndarray) -> np.ndarray:
    return x[:, [2, 0, 3, 1]] * np.array([1.0, -3.0, 0.5, 2.0])


def mixed(x: np.ndarray) -> np.ndarray:
    return x @ np.random.default_rng(0).normal(size=(4, 4))


def sprite_statistics(obs: np.ndarray) -> np.ndarray:
    """Area and centroid of each binary sprite: a crude 3-d representation of shapes."""
    x = obs[..., 0]
    ys, xs = np.mgrid[0 : x.shape[1], 0 : x.shape[2]]
    area = x.sum(axis=(1, 2)) + 1e-6
    return np.stack([area, (x * xs).sum(axis=(1, 2)) / area, (x * ys).sum(axis=(1, 2)) / area], axis=1)


def test_beta_vae_and_factor_vae_on_perfect_and_mixed_codes() -> None:
    gt = FactorsAsObservations()
    perfect_b = metrics.score("beta_vae_fast", ground_truth=gt, represent=identity)
    perfect_f = metrics.score("factor_vae_fast", ground_truth=gt, represent=identity)
    mixed_f = metrics.score("factor_vae_fast", ground_truth=gt, represent=mixed)
    assert perfect_b["eval_accuracy"] == pytest.approx(1.0)
    assert perfect_f["eval_accuracy"] == pytest.approx(1.0) and perfect_f["num_active_dims"] == 4
    assert mixed_f["eval_accuracy"] < 0.9
    assert set(perfect_b) == {"train_accuracy", "eval_accuracy"}


def test_beta_vae_points_share_exactly_their_label_factor() -> None:
    """disentanglement_lib's points: two batches whose observations share the labelled factor and
    draw every other factor afresh. With codes that are the factors, a point's feature ``(D,)``
    is 0 on its label's dimension and positive on the others (16 independent draws of a factor
    all alike: at most 3**-16); codes that are noise score chance, 1/4, not a perfect 1."""
    gt = FactorsAsObservations()
    feats, labels = beta_vae._sample_points(gt, lambda x: x, 16, 200, np.random.default_rng(0))
    assert feats.shape == (200, 4) and set(labels.tolist()) == {0, 1, 2, 3}
    np.testing.assert_array_equal(feats == 0, np.eye(4, dtype=bool)[labels])
    draw = np.random.default_rng(1)
    noise = metrics.score("beta_vae_fast", ground_truth=gt, represent=lambda x: draw.normal(size=(len(x), 4)))
    assert abs(noise["eval_accuracy"] - 0.25) < 0.1


def test_factor_vae_prunes_collapsed_dimensions() -> None:
    gt = FactorsAsObservations()
    scores = metrics.score(
        "factor_vae",
        ground_truth=gt,
        represent=lambda x: np.hstack([identity(x), np.zeros((len(x), 2))]),
        num_train=300,
        num_eval=200,
        num_variance_estimate=500,
    )
    assert scores["num_active_dims"] == 4 and scores["eval_accuracy"] == pytest.approx(1.0)


def test_factor_vae_prunes_by_standard_deviation() -> None:
    """disentanglement_lib's ``prune_dims``: a dimension is kept when its standard deviation is
    at least the threshold 0.05. Factor 0 (levels 0..3, SD sqrt(1.25)) scaled by 0.1 has SD
    0.11 (variance 0.0125, below 0.05) and is kept; scaled by 0.02 (SD 0.022) it is pruned."""
    def with_small(x: np.ndarray) -> np.ndarray:
        return np.hstack([identity(x), 0.1 * x[:, :1], 0.02 * x[:, :1]])

    scores = metrics.score("factor_vae", ground_truth=FactorsAsObservations(), represent=with_small,
                           num_train=100, num_eval=50, num_variance_estimate=500)
    assert scores["num_active_dims"] == 5


def test_sampling_form_with_shapes_ground_truth() -> None:
    gt = ShapesGroundTruth()
    mig = metrics.score("mig", ground_truth=gt, represent=sprite_statistics, num_train=1500, batch_size=500)
    fv = metrics.score(
        "factor_vae",
        ground_truth=gt,
        represent=sprite_statistics,
        num_train=200,
        num_eval=100,
        num_variance_estimate=500,
        batch_size=32,
    )
    # area ~ scale, centroids ~ positions: 3 of 5 factors are captured, shape and orientation not.
    assert 0.15 < mig["discrete_mig"] < 0.8
    assert 0.45 < fv["eval_accuracy"] < 0.75
    again = metrics.score("mig", ground_truth=gt, represent=sprite_statistics, num_train=1500, batch_size=100)
    assert again == mig  # batch_size only chunks the encoding


def test_sampling_form_with_store_ground_truth(tmp_path: Path) -> None:
    s = make_store(ShapesConfig(n=400, seed=1), tmp_path / "shapes")
    gt = store.StoreGroundTruth(s)
    assert gt.factors_num_values == list(FACTOR_SIZES)
    scores = metrics.score("irs", ground_truth=gt, represent=sprite_statistics, num_train=300)
    assert 0.0 < scores["IRS"] <= 1.0 and scores["num_active_dims"] == 3


def test_registry_names_aliases_and_errors() -> None:
    assert set(metrics.names()) == {"beta_vae", "factor_vae", "mig", "sap", "dci", "irs", "modularity"}
    assert metrics.get("factor_vae_metric")[0].name == "factor_vae"
    assert metrics.get("dci_fast") == (metrics.REGISTRY["dci"], True)
    f = np.zeros((20, 2), dtype=int)
    with pytest.raises(UserError, match="unknown metric"):
        metrics.score("nope", factors=f, codes=f)
    with pytest.raises(UserError, match="needs ground_truth"):
        metrics.score("beta_vae", factors=f, codes=f)
    with pytest.raises(UserError, match="unknown parameter"):
        metrics.score("mig", factors=f, codes=f, num_train=5)
    with pytest.raises(UserError, match="rows"):
        metrics.score("mig", factors=f, codes=np.zeros((19, 2)))
    with pytest.raises(UserError, match="integer"):
        metrics.score("mig", factors=f + 0.5, codes=f)


def test_append_dis_metrics_widens_the_header(tmp_path: Path) -> None:
    append_dis_metrics(tmp_path, {"mig.discrete_mig": 0.1}, epoch=1, step=10)
    append_dis_metrics(tmp_path, {"mig.discrete_mig": 0.2, "irs.IRS": 0.5}, epoch=2, step=20)
    rows = list(csv.DictReader((tmp_path / "dis_metrics.csv").read_text().splitlines()))
    assert [r["epoch"] for r in rows] == ["1", "2"]
    assert rows[0]["irs.IRS"] == "" and rows[1]["irs.IRS"] == "0.5"


def test_cli_arrays(cli, tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    f = np.stack([rng.integers(0, 4, 400), rng.integers(0, 3, 400)], axis=1)
    np.save(tmp_path / "f.npy", f)
    np.save(tmp_path / "c.npy", f[:, ::-1] + 0.01 * rng.normal(size=(400, 2)))
    out = tmp_path / "scores.json"
    res = cli(
        "metrics",
        "disentanglement",
        "--factors",
        tmp_path / "f.npy",
        "--codes",
        tmp_path / "c.npy",
        "--metrics",
        "mig,irs,modularity",
        "--json",
        out,
    )
    assert res.code == 0, res.err
    record = json.loads(out.read_text())
    scores = record["scores"]
    # what made the scores: the metrics as asked, the seed (it changes them) and the inputs
    assert record["metrics"] == "mig,irs,modularity" and record["seed"] == 0
    assert record["codes"] == str(tmp_path / "c.npy") and record["factors_test"] is None
    assert record["made_by"]["command"] == (
        f"latentplay metrics disentanglement --factors {tmp_path / 'f.npy'} --codes {tmp_path / 'c.npy'} "
        f"--metrics mig,irs,modularity --json {out}")
    assert scores["mig.discrete_mig"] > 0.9
    assert set(scores) == {
        "mig.discrete_mig",
        "irs.IRS",
        "irs.num_active_dims",
        "modularity.modularity_score",
        "modularity.explicitness_score_train",
        "modularity.explicitness_score_test",
    }
    assert "left out" not in res.out + res.err
    # the default, all, scored five of seven metrics without a word of the other two
    res = cli("metrics", "disentanglement", "--factors", tmp_path / "f.npy", "--codes",
              tmp_path / "c.npy", "--json", out)
    assert res.code == 0, res.err
    assert "beta_vae and factor_vae left out" in " ".join((res.out + res.err).split())
    assert not any(k.startswith(("beta_vae", "factor_vae"))
                   for k in json.loads(out.read_text())["scores"])


def test_cli_errors(cli, tmp_path: Path) -> None:
    res = cli(
        "metrics", "disentanglement", "--factors", tmp_path / "missing.npy", "--codes", tmp_path / "c.npy"
    )
    assert res.code == 2 and "does not exist" in res.err
    res = cli("metrics", "disentanglement")
    assert res.code == 2 and "either --run" in res.err
    np.save(tmp_path / "f.npy", np.zeros((30, 2), dtype=int))
    res = cli(
        "metrics",
        "disentanglement",
        "--factors",
        tmp_path / "f.npy",
        "--codes",
        tmp_path / "f.npy",
        "--metrics",
        "beta_vae",
    )
    assert res.code == 2 and "--metrics beta_vae" in res.err and "need --run RUN --data STORE" in res.err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--metrics", "mig,factor_vae_fast"], "--metrics factor_vae: "),
        (["--factors-test", "{f}"], "--factors-test and --codes-test go together"),
        (["--codes-test", "{c}"], "--factors-test and --codes-test go together"),
        (["--seed", "-1"], "--seed must be at least 0, got -1"),
        (["--metrics", ","], "no metric named in ','"),
    ],
)
def test_cli_array_errors_name_the_options(cli, tmp_path: Path, args: list[str], message: str) -> None:
    rng = np.random.default_rng(0)
    f, c = tmp_path / "f.npy", tmp_path / "c.npy"
    np.save(f, rng.integers(0, 3, (40, 2)))
    np.save(c, rng.normal(size=(40, 3)))
    extra = [a.format(f=f, c=c) for a in args]
    res = cli("metrics", "disentanglement", "--factors", f, "--codes", c, *extra)
    assert res.code == 2 and message in res.err, res.err
    assert not any(word in res.err for word in ("ground_truth", "represent", "factors_test", "codes_test"))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["disentanglement", "--run", "r", "--data", "d", "--batch-size", "0"], "--batch-size must be"),
        (["track", "betavae", "--data", "d", "--out", "o", "--epochs", "0"], "--epochs must be at least 1"),
        (["track", "betavae", "--data", "d", "--out", "o", "--every", "0"], "--every must be at least 1"),
        (["concepts", "cbm", "--out", "o", "--masking-fact", "150"], "--masking-fact must be a percentage"),
        (["concepts", "cbm", "--out", "o", "--n", "1"], "--n must be at least 2, got 1"),
        (["concepts", "cbm", "--out", "o", "--batch-size", "0"], "--batch-size must be at least 1"),
        (["concepts", "cbm", "--out", "o", "--epochs", "0"], "--epochs must be at least 1, got 0"),
        (["concepts", "cbm", "--out", "o", "--seed", "-2"], "--seed must be at least 0, got -2"),
    ],
)
def test_cli_option_errors_name_the_options(cli, tmp_path: Path, args: list[str], message: str) -> None:
    res = cli("metrics", *[str(tmp_path / a) if a in ("r", "d", "o") else a for a in args])
    assert res.code == 2 and message in res.err, res.err
    assert "masking_fact" not in res.err and not (tmp_path / "o").exists()


@pytest.mark.slow
def test_train_with_metrics_writes_dis_metrics(tmp_path: Path, cli) -> None:
    from latentplay.metrics.runs import train_with_metrics

    data = make_store(ShapesConfig(n=96, seed=0), tmp_path / "shapes").path
    run = train_with_metrics(
        "betavae", data, tmp_path / "run", epochs=2, every=1, names="mig_fast,irs_fast",
        overrides=["trainer.batch_size=32", "model.latent_dim=4"], progress=False,
    )  # fmt: skip
    rows = list(csv.DictReader((run / "dis_metrics.csv").open()))
    assert [r["epoch"] for r in rows] == ["1", "2"] and int(rows[1]["step"]) == 2 * int(rows[0]["step"])
    assert {"mig.discrete_mig", "irs.IRS"} <= set(rows[0])
    assert all(0.0 <= float(r["irs.IRS"]) <= 1.0 for r in rows)
    res = cli("metrics", "disentanglement", "--run", run, "--data", data, "--metrics", "sap_fast",
              "--json", tmp_path / "fv.json")  # fmt: skip
    assert res.code == 0, res.err
    fv = json.loads((tmp_path / "fv.json").read_text())
    assert -1.0 <= fv["scores"]["sap.SAP_score"] <= 1.0
    assert (fv["metrics"], fv["run"], fv["data"]) == ("sap_fast", str(run), str(data))


def test_a_ground_truth_with_a_fixed_factor_is_refused(tmp_path: Path) -> None:
    class OneShape(FactorsAsObservations):
        factors_num_values = [4, 1, 6, 3]

    with pytest.raises(UserError, match="factor\\(s\\) 1 of the ground truth take one value"):
        metrics.score("mig", ground_truth=OneShape(), represent=identity, num_train=100)
    shapes = make_store(ShapesConfig(n=300, seed=1), tmp_path / "shapes")
    squares = subset(shapes, tmp_path / "squares", np.flatnonzero(shapes.labels("factor_shape") == 0))
    with pytest.raises(UserError, match="factor\\(s\\) shape take one value"):
        store.StoreGroundTruth(squares)


def test_images_to_encode_counts_what_each_metric_encodes_and_counting_changes_no_score() -> None:
    """The count announced before a metric is the number of images its sampling form passes to
    ``represent``, and wrapping ``represent`` to count them leaves every score as it was."""
    from latentplay.metrics.evaluate import DEFAULT_METRICS, evaluate, images_to_encode
    from latentplay.metrics.runs import counting

    gt = FactorsAsObservations()
    names = [f"{n}_fast" for n in DEFAULT_METRICS]
    seen: dict[str, int] = {}
    started: list[tuple[str, int | None]] = []

    def on_start(name: str, images: int | None) -> None:
        started.append((name, images))
        seen[name] = 0

    def on_encoded(n: int) -> None:
        seen[started[-1][0]] += n

    counted = evaluate(names, ground_truth=gt, represent=counting(mixed, on_encoded), on_start=on_start)
    plain = evaluate(names, ground_truth=gt, represent=mixed)
    assert counted == plain
    assert [n for n, _ in started] == names
    assert {n: images for n, images in started} == seen
    assert seen["beta_vae_fast"] == 2 * 64 * 750 and seen["factor_vae_fast"] == 1000 + 64 * 750
    assert images_to_encode("beta_vae") == 1_920_000 and images_to_encode("factor_vae") == 970_000
    assert images_to_encode("mig") == 10_000 and images_to_encode("dci") == 15_000


def test_progress_lines_say_what_is_encoded_and_how_long_is_left() -> None:
    from latentplay.metrics.cli import Progress

    lines: list[str] = []
    now = [0.0]
    progress = Progress(lines.append, every_s=30.0, clock=lambda: now[0])
    progress.start("beta_vae", 1_920_000)
    for _ in range(4):  # 10 s per 96,000 images; at 40 s the last line is 10 s old: none
        now[0] += 10.0
        progress.encoded_more(96_000)
    now[0] += 5.0
    progress.done("beta_vae", {"eval_accuracy": 0.5})
    assert lines == [
        "beta_vae: rendering and encoding 1,920,000 images ...",
        "  beta_vae: 288,000 of 1,920,000 images (15%), 30 s, about 2 min 50 s left",
        "beta_vae: eval_accuracy=0.5000 (45 s)",
    ]


def test_run_representation_reads_the_checkpoint_once(vae_run: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """64-px gray shapes given to a 32-px RGB run are converted by ``encode`` as training did,
    and the checkpoint is still read once, not once per encoder call (a metric makes hundreds)."""
    import latentplay.train.api as api
    from latentplay.metrics.runs import run_representation

    reads: list[object] = []
    real = api.load_weights

    def counted(run_dir, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        reads.append(run_dir)
        return real(run_dir, *args, **kwargs)

    monkeypatch.setattr(api, "load_weights", counted)
    represent = run_representation(vae_run, batch_size=4)
    gt = ShapesGroundTruth()
    rng = np.random.default_rng(0)
    obs = gt.sample_observations_from_factors(gt.sample_factors(6, rng), rng)  # (6, 64, 64, 1)
    codes = [represent(obs[:3]), represent(obs[3:])]
    assert [c.shape for c in codes] == [(3, 8), (3, 8)] and len(reads) == 1
    direct = api.encode(vae_run, np.rint(obs * 255).astype(np.uint8))
    assert np.allclose(np.concatenate(codes), direct, atol=1e-5)


def test_cli_checks_out_and_data_before_any_work(cli, tmp_path: Path) -> None:
    """``track`` trained an epoch into a non-empty --out (or with a store without factor
    columns) before failing; ``concepts`` wrote among a folder's files; ``disentanglement``
    printed its plan before saying the store is missing, has no factors or the run no model;
    an empty .npy was "aborted", status 1."""
    full = tmp_path / "full"
    full.mkdir()
    (full / "keep.txt").write_text("keep")
    faces = tmp_path / "faces"
    assert cli("data", "make", "synthfaces", "--out", faces, "--n", "5").code == 0
    shapes = tmp_path / "shapes"
    assert cli("data", "make", "shapes", "--out", shapes, "--n", "5").code == 0
    (tmp_path / "empty.npy").write_bytes(b"")
    cases = [
        (("track", "vae", "--data", shapes, "--out", full), "exists and is not empty; give a new"),
        (("track", "vae", "--data", faces, "--out", tmp_path / "run"), "has no factor attributes"),
        (("concepts", "cbm", "--out", full), "exists and is not empty; pass --overwrite"),
        (("disentanglement", "--run", tmp_path / "r", "--data", tmp_path / "nosuch"), "no store at"),
        (("disentanglement", "--run", tmp_path / "r", "--data", faces), "has no factor attributes"),
        (("disentanglement", "--run", tmp_path / "r", "--data", shapes), "path does not exist"),
        (("disentanglement", "--factors", tmp_path / "empty.npy", "--codes", tmp_path / "empty.npy"),
         "is not a .npy array of numbers"),
    ]
    for args, message in cases:
        res = cli("metrics", *args)
        lines = res.err.strip().splitlines()
        assert res.code == 2 and len(lines) == 1 and message in lines[0], (args, res.err)
    assert [p.name for p in full.iterdir()] == ["keep.txt"] and not (tmp_path / "run").exists()


def test_cli_names_a_file_that_is_no_npy_array(cli, tmp_path: Path) -> None:
    """A text file or an .npz archive given as --codes is a one-line error naming the option
    (not numpy's advice to allow pickles, nor 'codes must be numbers, got dtype <U1')."""
    np.save(tmp_path / "f.npy", np.random.default_rng(0).integers(0, 3, (40, 2)))
    np.savez(tmp_path / "c.npz", c=np.zeros((40, 2)))
    (tmp_path / "c.txt").write_text("not an array\n")
    for name, message in (("c.npz", "is an .npz archive"), ("c.txt", "is not a .npy array of numbers")):
        res = cli("metrics", "disentanglement", "--factors", tmp_path / "f.npy", "--codes", tmp_path / name,
                  "--metrics", "mig")  # fmt: skip
        assert res.code == 2 and f"--codes {tmp_path / name} {message}" in res.err, res.err
        assert "pickle" not in res.err and len(res.err.strip().splitlines()) == 1


def test_the_table_says_which_scores_start_above_0_and_codes_that_know_nothing_agree(
        cli, tmp_path: Path) -> None:
    """Beneath the scores stands what codes unrelated to the factors score, and it holds for such
    codes: MIG, SAP and DCI's disentanglement and completeness about 0; DCI's test
    informativeness at chance (1 / 5 for factors of five equal levels), explicitness about 0.5,
    IRS and modularity between 0.3 and 0.7."""
    rng = np.random.default_rng(1)
    np.save(tmp_path / "f.npy", rng.integers(0, 5, (2000, 3)))
    np.save(tmp_path / "c.npy", rng.normal(size=(2000, 10)))
    out = tmp_path / "scores.json"
    res = cli("metrics", "disentanglement", "--factors", tmp_path / "f.npy", "--codes",
              tmp_path / "c.npy", "--json", out)
    assert res.code == 0, res.err
    said = " ".join(res.out.split())
    assert "codes unrelated to the factors score about 0 on MIG, SAP and DCI's disentanglement" in said
    assert "explicitness a ROC-AUC (0.5), IRS and modularity 0.3 to 0.7" in said
    s = json.loads(out.read_text())["scores"]
    for key in ("mig.discrete_mig", "sap.SAP_score", "dci.disentanglement", "dci.completeness"):
        assert s[key] < 0.05, key
    assert abs(s["dci.informativeness_test"] - 1 / 5) < 0.1
    assert abs(s["modularity.explicitness_score_test"] - 0.5) < 0.1
    for key in ("irs.IRS", "modularity.modularity_score"):
        assert 0.3 <= s[key] <= 0.7, key


def test_cli_table_names_the_metrics_as_asked(cli, tmp_path: Path) -> None:
    """``--metrics mig_fast,sap``: the table's rows say which sizes were used (mig_fast, not the
    registry name mig); one metric asked for twice (its scores would share one JSON key) is
    refused."""
    rng = np.random.default_rng(0)
    f = np.stack([rng.integers(0, 4, 400), rng.integers(0, 3, 400)], axis=1)
    np.save(tmp_path / "f.npy", f)
    np.save(tmp_path / "c.npy", f[:, ::-1] + 0.01 * rng.normal(size=(400, 2)))
    args = ["metrics", "disentanglement", "--factors", tmp_path / "f.npy", "--codes", tmp_path / "c.npy"]
    res = cli(*args, "--metrics", "mig_fast,sap")
    assert res.code == 0, res.err
    rows = {line.split("│")[1].strip() for line in res.out.splitlines() if line.count("│") > 2}
    assert {"mig_fast", "sap"} <= rows and "mig" not in rows
    res = cli(*args, "--metrics", "mig_fast,mig")
    assert res.code == 2 and "mig_fast and mig are one metric (mig)" in res.err, res.err


def test_a_run_without_an_encoder_or_with_a_condition_is_refused_before_the_plan(
        cli, tmp_path: Path) -> None:
    """A DCGAN has no encoder and a CVAE's needs a condition that sampled observations lack:
    one line naming the run's model, from its model.json, before the plan of images to encode
    and before its weights are read (the runs' model.safetensors here are empty files)."""
    from latentplay.metrics.runs import run_representation

    shapes = make_store(ShapesConfig(n=20, seed=0), tmp_path / "shapes").path
    smile = {"name": "smile", "kind": "continuous", "size": 1, "range": [0.0, 1.0]}
    for family, parts, message in (("dcgan", [], "holds a dcgan generator, which has no encoder"),
                                   ("cvae", [smile], "holds a cvae conditioned on smile;")):
        run = tmp_path / family
        run.mkdir()
        meta = {"latentplay_model": 1, "family": family, "model": {}, "channels": 3, "size": 32,
                "condition": {"parts": parts}}
        (run / "model.json").write_text(json.dumps(meta))
        (run / "model.safetensors").write_bytes(b"")
        res = cli("metrics", "disentanglement", "--run", run, "--data", shapes, "--metrics", "mig_fast")
        lines = res.err.strip().splitlines()
        assert res.code == 2 and len(lines) == 1 and message in lines[0], res.err
        with pytest.raises(UserError, match=message):
            run_representation(run)


def test_beta_vae_and_factor_vae_on_a_part_of_the_grid_are_refused_first(cli, tmp_path: Path) -> None:
    """On a store holding part of the factor grid, BetaVAE failed after the other metrics had
    run (or after a whole epoch of ``track``) with "factor combination 83018 is not in the
    store"; it is now one line before any image is encoded or any step trained."""
    shapes = make_store(ShapesConfig(n=300, seed=1), tmp_path / "shapes")
    part = subset(shapes, tmp_path / "part", np.flatnonzero(shapes.labels("factor_shape") > 0))
    from latentplay.metrics.runs import check_grid, ground_truth_of

    gt = ground_truth_of(part)
    assert not gt.complete
    check_grid(gt, "mig_fast,irs")                                 # these need no grid
    with pytest.raises(UserError, match=r"^beta_vae_fast fix one factor .* this store holds "
                                        rf"{gt.combinations:,} of the "):
        check_grid(gt, "mig_fast,beta_vae_fast")
    res = cli("metrics", "disentanglement", "--run", tmp_path / "r", "--data", part.path,
              "--metrics", "mig_fast,factor_vae_fast")
    assert res.code == 2 and len(res.err.strip().splitlines()) == 1, res.err
    assert "(--metrics mig_fast)" in res.err and "images to render" not in res.out
    res = cli("metrics", "track", "vae", "--data", part.path, "--out", tmp_path / "run")
    assert res.code == 2 and "beta_vae, factor_vae fix one factor" in res.err, res.err
    assert not (tmp_path / "run").exists()


class RandomStateGroundTruth(FactorsAsObservations):
    """disentanglement_lib's datasets draw with ``random_state.randint`` (a RandomState)."""

    def sample_factors(self, num: int, random_state) -> np.ndarray:  # noqa: ANN001
        return np.stack([random_state.randint(0, s, size=num) for s in self.factors_num_values],
                        axis=1)

    def sample_observations_from_factors(self, factors: np.ndarray, random_state) -> np.ndarray:  # noqa: ANN001
        random_state.randint(0, 2, size=len(factors))      # as state_space.sample_all_factors
        return factors.astype(np.float32)


def test_ground_truths_written_for_randomstate_work_both_ways(tmp_path: Path) -> None:
    """A ground truth with disentanglement_lib's interface failed on the Generator the metrics
    passed ('no attribute randint'), and latentplay's failed on a RandomState ('no attribute
    integers'). Both now work; the Generator's stream, and so every score, is unchanged."""
    for name in ("mig_fast", "beta_vae_fast"):
        theirs = metrics.score(name, ground_truth=RandomStateGroundTruth(), represent=identity)
        ours = metrics.score(name, ground_truth=FactorsAsObservations(), represent=identity)
        assert theirs.keys() == ours.keys() and all(np.isfinite(v) for v in theirs.values())
    assert metrics.score("mig_fast", ground_truth=RandomStateGroundTruth(), represent=identity,
                         random_state=3) == \
        metrics.score("mig_fast", ground_truth=FactorsAsObservations(), represent=identity,
                      random_state=3)          # randint(0, s) and integers(0, s): one stream
    s = make_store(ShapesConfig(n=50, seed=1), tmp_path / "shapes")
    for gt in (store.StoreGroundTruth(s), ShapesGroundTruth()):
        drawn = gt.sample_factors(6, np.random.RandomState(0))
        assert drawn.shape == (6, 5) and (drawn < np.array(gt.factors_num_values)).all()
