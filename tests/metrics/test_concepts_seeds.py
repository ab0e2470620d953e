"""``metrics concepts --seeds``: one model per training seed on the same data, each score's
mean and spread over them, their figure and report."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from latentplay.errors import UserError
from latentplay.metrics.seeds import headline, scores_of, seed_list, seeds_for_power, summarise
from latentplay.store.io import load, store_digest

TINY = ("--epochs", "1", "--size", "32", "--n", "40")


@pytest.mark.parametrize(("text", "seeds"), [("0,1,2", [0, 1, 2]), ("3-5", [3, 4, 5]),
                                             ("0, 2-3", [0, 2, 3]), ("0-99", list(range(100))),
                                             ("0-98,200", [*range(99), 200])])
def test_seed_lists(text: str, seeds: list[int]) -> None:
    assert seed_list(text) == seeds


@pytest.mark.parametrize(("text", "message"), [
    ("4", "at least two"), ("a,b", "0 and up"), ("1,2,1", "seed 1 twice"), ("-1,2", "0 and up"),
    ("3-1", r"the range 3-1 runs backwards \(did you mean 1-3\?\)"),
    ("0-", "'0-' is not a seed or a range"), ("0,,1", "empty item"),
    ("0-1000000", "at most 100 seeds"), ("0-100", "at most 100 seeds"),
    ("0-98,200,201", "at most 100 seeds")])
def test_bad_seed_lists_are_refused(text: str, message: str) -> None:
    with pytest.raises(UserError, match=message):
        seed_list(text)


def test_scores_are_summarised_over_the_seeds_that_have_them() -> None:
    """Nested numbers become dotted scores; counts, settings, flags and text are none; the SD
    is the sample SD; a null is left out of its score's statistics."""
    runs = {0: {"kind": "vae", "accuracy": 0.5, "masking_fact": 100.0, "flag": "",
                "concept_scores": {"smile": {"r2": 0.1, "learned": True}},
                "leakage": {"bg": {"beyond": None, "images": 40, "halved": "rows"}}},
            1: {"kind": "vae", "accuracy": 0.7, "masking_fact": 100.0, "flag": "x",
                "concept_scores": {"smile": {"r2": 0.3, "learned": False}},
                "leakage": {"bg": {"beyond": 0.2, "images": 40, "halved": "rows"}}},
            2: {"kind": "vae", "accuracy": 0.9, "masking_fact": 100.0, "flag": "",
                "concept_scores": {"smile": {"r2": 0.2, "learned": True}},
                "leakage": {"bg": {"beyond": 0.4, "images": 40, "halved": "rows"}}}}
    assert dict(scores_of(runs[0])) == {"accuracy": 0.5, "concept_scores.smile.r2": 0.1,
                                        "leakage.bg.beyond": None}
    summary = summarise(runs)
    assert list(summary) == ["accuracy", "concept_scores.smile.r2", "leakage.bg.beyond"]
    acc = summary["accuracy"]
    assert acc["mean"] == pytest.approx(0.7) and acc["sd"] == pytest.approx(0.2)
    assert (acc["min"], acc["max"], acc["n"]) == (0.5, 0.9, 3)
    leak = summary["leakage.bg.beyond"]
    assert leak["values"] == [None, 0.2, 0.4] and leak["n"] == 2
    assert leak["mean"] == pytest.approx(0.3) and leak["sd"] == pytest.approx(np.std([0.2, 0.4], ddof=1))
    assert headline(summary) == ["accuracy", "concept_scores.smile.r2", "leakage.bg.beyond"]


def test_a_score_is_summarised_by_its_mean_not_its_median() -> None:
    """Skewed values 0.1, 0.2, 0.9: mean 0.4 (the median would be 0.2), sample SD 0.4359."""
    summary = summarise({0: {"accuracy": 0.1}, 1: {"accuracy": 0.2}, 2: {"accuracy": 0.9}})
    assert summary["accuracy"]["mean"] == pytest.approx(0.4)
    assert summary["accuracy"]["sd"] == pytest.approx(np.sqrt((0.09 + 0.04 + 0.25) / 2))


def test_seeds_train_on_the_same_data_and_are_summarised(cli, tmp_path: Path) -> None:
    """Each seed's model is trained into its own folder on the same test images (the same
    concept levels), with its own seed (other activations); seeds.json and seeds.csv hold each
    seed's scores as its metrics.json has them; the report shows them. A single run written
    over the folder afterwards (--overwrite) takes the seeds' summary away."""
    from html import unescape

    from latentplay.report import build_report
    from latentplay.report.kinds import detect

    out = tmp_path / "c"
    res = cli("metrics", "concepts", "cbm", "--out", out, "--seeds", "0,5", *TINY)
    assert res.code == 0, res.err
    runs = {s: json.loads((out / f"seed_{s}" / "metrics.json").read_text()) for s in (0, 5)}
    assert [runs[s]["training"]["seed"] for s in (0, 5)] == [0, 5]
    np.testing.assert_array_equal(np.load(out / "seed_0" / "factors.npy"),
                                  np.load(out / "seed_5" / "factors.npy"))
    assert not np.array_equal(np.load(out / "seed_0" / "concepts.npy"),
                              np.load(out / "seed_5" / "concepts.npy"))
    saved = json.loads((out / "seeds.json").read_text())
    assert saved["seeds"] == [0, 5] and saved["kind"] == "cbm"
    command = f"latentplay metrics concepts cbm --out {out} --seeds 0,5 {' '.join(TINY)}"
    assert saved["made_by"]["command"] == runs[5]["made_by"]["command"] == command  # what wrote them
    assert "seed" not in saved["training"] and saved["training"]["epochs"] == 1
    assert saved["scores"]["accuracy"]["values"] == [runs[0]["accuracy"], runs[5]["accuracy"]]
    with open(out / "seeds.csv") as fh:
        rows = {r["score"]: r for r in csv.DictReader(fh)}
    assert float(rows["explicitness"]["seed_5"]) == pytest.approx(runs[5]["explicitness"], rel=1e-5)
    assert (out / "seeds.png").stat().st_size > 10_000
    text = " ".join(res.err.split())
    assert "seed 0: task accuracy" in text and f"wrote {out / 'seeds.json'}" in text
    assert "over 2 seeds (0, 5)" in " ".join(res.out.split())
    html = unescape(build_report(out, tmp_path / "r.html").read_text())
    assert "Concept model cbm over 2 seeds" in html and "seed_5/" in html and "(missing)" not in html
    import shutil

    shutil.rmtree(out / "seed_5")       # a seed's folder gone: the page says so
    assert "seed_5/ (missing)" in unescape(build_report(out, tmp_path / "r.html").read_text())
    res = cli("metrics", "concepts", "cbm", "--out", out, "--overwrite", *TINY)
    assert res.code == 0, res.err
    assert not (out / "seeds.json").exists() and detect(out) == "concepts"
    assert not (out / "seed_0").exists() and "seed_0, seeds.csv, seeds.json, seeds.png" in res.err


def _files(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` by its path there, with its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _stopped(*args: object, **kwargs: object) -> None:
    raise KeyboardInterrupt


def test_an_interrupted_concepts_run_leaves_its_out_as_it_was(cli, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Stopped while drawing its first figure, a run with --overwrite had deleted the earlier
    model's files and written only some of its own; one into a new --out left files there,
    so running it again was refused as not empty."""
    from latentplay.viz import grid

    out = tmp_path / "c"
    assert cli("metrics", "concepts", "cbm", "--out", out, *TINY).code == 0
    before = _files(out)
    save = grid.save_figure
    monkeypatch.setattr(grid, "save_figure", _stopped)
    assert cli("metrics", "concepts", "cbm", "--out", out, "--seeds", "0,5", "--overwrite",
               *TINY).code != 0
    assert cli("metrics", "concepts", "cbm", "--out", tmp_path / "new", *TINY).code != 0
    assert _files(out) == before and not any((tmp_path / "new").iterdir())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c", "new"]   # no scratch left
    monkeypatch.setattr(grid, "save_figure", save)
    assert cli("metrics", "concepts", "cbm", "--out", tmp_path / "new", *TINY).code == 0
    assert _files(tmp_path / "new").keys() == before.keys()


def test_seed_and_seeds_together_are_refused(cli, tmp_path: Path) -> None:
    res = cli("metrics", "concepts", "cbm", "--out", tmp_path / "c", "--seed", "3", "--seeds",
              "0,1", *TINY)
    assert res.code == 2 and "give --seed or --seeds, not both" in res.err
    assert not (tmp_path / "c").exists()


def test_seeds_of_a_stores_concept_model_keep_its_data_and_leakage(cli, tmp_path: Path,
                                                                  faces_store: Path) -> None:
    """On a store the test rows are drawn once: every seed is scored on the same rows, and
    each leakage score is summarised."""
    out = tmp_path / "c"
    res = cli("metrics", "concepts", "cbm", "--data", faces_store, "--concepts", "smile,eyeglasses",
              "--label", "gender", "--leak", "background", "--out", out, "--seeds", "1,2",
              "--epochs", "1", "--size", "32")
    assert res.code == 0, res.err
    saved = json.loads((out / "seeds.json").read_text())
    assert saved["data"]["label"] == "gender" and saved["data"]["rows_test"] == 80
    assert saved["data"]["store_digest"] == store_digest(load(faces_store))
    for s in (1, 2):
        assert json.loads((out / f"seed_{s}" / "metrics.json").read_text())["data"] == saved["data"]
    np.testing.assert_array_equal(np.load(out / "seed_1" / "downstream.npy")[:, 1],
                                  np.load(out / "seed_2" / "downstream.npy")[:, 1])
    assert saved["scores"]["leakage.background.beyond"]["n"] == 2
    assert "leakage.background.truth_accuracy" in saved["scores"]


def test_leakage_run_over_seeds(cli, tmp_path: Path) -> None:
    """``leakage run --seeds``: each seed's table in its folder, the data and probe halvings
    drawn with the first seed (seed 0's folder is the table of a plain ``--seed 0`` run, and
    chance is the same in every seed), each row's leakage summarised, the report built; a
    plain run written over it takes the summary away."""
    from html import unescape

    from latentplay.report import build_report
    from latentplay.report.kinds import detect

    out = tmp_path / "lk"
    args = ("leakage", "run", "--experiments", "parity", "--models", "cbm", "--epochs", "1")
    res = cli(*args, "--out", out, "--seeds", "0,3")
    assert res.code == 0, res.err
    with open(out / "seed_3" / "leakage.csv") as fh:
        three = next(csv.DictReader(fh))
    with open(out / "seed_0" / "leakage.csv") as fh:
        zero = next(csv.DictReader(fh))
    assert three["chance"] == zero["chance"]
    saved = json.loads((out / "seeds.json").read_text())
    assert saved["kind"] == "leakage" and saved["data_seed"] == 0 and saved["seeds"] == [0, 3]
    command = f"latentplay {' '.join(args)} --out {out} --seeds 0,3"
    assert saved["made_by"]["command"] == command  # what wrote them, and each seed's leakage.json
    assert json.loads((out / "seed_3" / "leakage.json").read_text())["made_by"]["command"] == command
    values = saved["scores"]["parity cbm.leakage"]["values"]
    assert values == pytest.approx([float(zero["leakage"]), float(three["leakage"])], abs=1e-4)
    assert "over 2 seeds (0, 3): mean ± SD" in " ".join(res.out.split())
    html = unescape(build_report(out, tmp_path / "r.html").read_text())
    assert "Concept leakage over 2 seeds" in html and "parity cbm.leakage" in html
    single = tmp_path / "single"
    assert cli(*args, "--out", single).code == 0
    assert (single / "leakage.csv").read_text() == (out / "seed_0" / "leakage.csv").read_text()
    assert cli(*args, "--out", out, "--overwrite").code == 0
    assert not (out / "seeds.json").exists() and detect(out) == "leakage"
    assert not (out / "seed_0").exists()


def test_an_interrupted_leakage_run_leaves_its_out_as_it_was(cli, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Stopped while drawing its chart, a run with --overwrite left its new leakage.csv beside
    the earlier run's chart and settings; one into a new --out left a table there, so running
    it again was refused as not empty."""
    from latentplay.metrics import leakage

    out = tmp_path / "lk"
    args = ("leakage", "run", "--experiments", "parity", "--models", "cbm", "--epochs", "1")
    assert cli(*args, "--out", out).code == 0
    before = _files(out)
    chart = leakage.bar_chart
    monkeypatch.setattr(leakage, "bar_chart", _stopped)
    assert cli(*args, "--out", out, "--seed", "1", "--overwrite").code != 0
    assert cli(*args, "--out", tmp_path / "new").code != 0
    assert _files(out) == before and not any((tmp_path / "new").iterdir())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lk", "new"]   # no scratch left
    monkeypatch.setattr(leakage, "bar_chart", chart)
    assert cli(*args, "--out", tmp_path / "new").code == 0
    assert _files(tmp_path / "new").keys() == before.keys()


def test_a_stopped_leakage_run_says_it_wrote_nothing(cli, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Stopped after its seeds' tables but before its summary, a --seeds run had already said
    "wrote OUT/seed_0/leakage.csv ..." of files that never reached --out."""
    from latentplay.metrics import leakage_cli

    monkeypatch.setattr(leakage_cli, "_summarise_seeds", _stopped)
    out = tmp_path / "lk"
    r = cli("leakage", "run", "--experiments", "parity", "--models", "cbm", "--epochs", "1",
            "--seeds", "0,1", "--out", out)
    assert r.code != 0 and "seed 1" in r.err and "wrote" not in r.err + r.out
    assert not out.exists() or not any(out.iterdir())


def test_two_settings_are_compared_by_welch() -> None:
    """The difference, Welch's interval and p-value against scipy's Welch test; a score one
    side lacks is left out; a side of one value, or two constant sides, get no interval."""
    from scipy import stats

    from latentplay.metrics.seeds import compare_seeds

    a = summarise({0: {"accuracy": 0.70, "alignment": 0.5, "chance": 0.2},
                   1: {"accuracy": 0.74, "alignment": 0.6, "chance": 0.2},
                   2: {"accuracy": 0.69, "alignment": 0.55, "chance": 0.2}})
    b = summarise({5: {"accuracy": 0.80, "chance": 0.2}, 6: {"accuracy": 0.86, "chance": 0.2},
                   7: {"accuracy": 0.83, "chance": 0.2}})
    rows = {r["score"]: r for r in compare_seeds(a, b)}
    assert set(rows) == {"accuracy", "chance"}
    acc = rows["accuracy"]
    x, y = [0.70, 0.74, 0.69], [0.80, 0.86, 0.83]
    assert acc["difference"] == pytest.approx(np.mean(y) - np.mean(x))
    assert acc["p"] == pytest.approx(stats.ttest_ind(y, x, equal_var=False).pvalue)
    ci = stats.ttest_ind(y, x, equal_var=False).confidence_interval(0.95)
    assert (acc["ci_low"], acc["ci_high"]) == (pytest.approx(ci.low), pytest.approx(ci.high))
    assert rows["chance"]["p"] is None and rows["chance"]["ci_low"] is None
    pooled = np.sqrt((np.var(x, ddof=1) + np.var(y, ddof=1)) / 2)
    assert acc["seeds_for_80"] == seeds_for_power((np.mean(y) - np.mean(x)) / pooled)


def side(values: list[float], first: int) -> dict:
    """A seed summary of one score ``values`` (seeds from ``first``)."""
    return summarise({first + i: {"score": v} for i, v in enumerate(values)})


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_a_side_of_one_value_is_given_no_interval() -> None:
    """A side of one seed has no spread: no interval, p or planning figure, and no
    statistics run on it (nothing warns)."""
    from latentplay.metrics.seeds import compare_seeds

    for lone, many in (([0.5], [0.3, 0.4, 0.6]), ([0.3, 0.4, 0.6], [0.5])):
        row = compare_seeds(side(lone, 0), side(many, 5))[0]
        assert (row["n_first"], row["n_second"]) == (len(lone), len(many))
        assert (row["ci_low"], row["ci_high"], row["p"], row["seeds_for_80"]) == (None,) * 4


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_a_comparison_with_one_constant_side_and_the_pooled_sd() -> None:
    """One constant side beside a varying one still gets Welch's interval and p, quietly (the
    one-sample t test of the varying side against the constant: t = d / (s / sqrt 3) on 2
    degrees of freedom, where the two-sided p is 1 - t / sqrt(2 + t²)); the planning figure
    divides by the pooled SD over n1 + n2 - 2 degrees of freedom (sides 0, 1, 2 and 0.5, 1.5,
    2.5: SD 1, d 0.5, so Cohen's 64 a side)."""
    from latentplay.metrics.seeds import compare_seeds

    flat, varied = [0.1, 0.1, 0.1], [0.1, 0.2, 0.25]   # 0.1 three times: not exactly constant
    row = compare_seeds(side(flat, 0), side(varied, 5))[0]
    se = np.std(varied, ddof=1) / np.sqrt(3)
    t = (np.mean(varied) - 0.1) / se
    assert row["p"] == pytest.approx(1 - t / np.sqrt(2 + t ** 2))
    half = 4.302652729911275 * se                        # t(0.975, 2 df)
    assert (row["ci_low"], row["ci_high"]) == (pytest.approx(t * se - half), pytest.approx(t * se + half))
    row = compare_seeds(side([0.0, 1.0, 2.0], 0), side([0.5, 1.5, 2.5], 5))[0]
    assert row["difference"] == pytest.approx(0.5) and row["seeds_for_80"] == 64


def test_seeds_for_power_follow_the_t_test_tables() -> None:
    """Cohen's tables for a two-sided two-sample t test at 5 %, 80 % power: d 0.5 needs 64 a
    side, d 0.8 26, d 1 17; no effect has no answer; a simulation of d 1 at 17 a side finds it
    about four times in five."""
    from scipy import stats

    assert [seeds_for_power(d) for d in (0.5, 0.8, 1.0, -1.0)] == [64, 26, 17, 17]
    assert seeds_for_power(0.0) is None
    rng = np.random.default_rng(0)
    found = np.mean([stats.ttest_ind(rng.normal(1, 1, 17), rng.normal(0, 1, 17)).pvalue < 0.05
                     for _ in range(2000)])
    assert 0.77 < found < 0.84


def test_compare_seeds_command(cli, tmp_path: Path) -> None:
    """The command prints the shared scores of two --seeds folders and writes them as JSON;
    a folder without seeds.json, or an unknown score, is one line."""
    for name, seeds in (("a", "0,1"), ("b", "2,3")):
        assert cli("metrics", "concepts", "cbm", "--out", tmp_path / name, "--seeds", seeds,
                   *TINY).code == 0
    res = cli("metrics", "compare-seeds", tmp_path / "a", tmp_path / "b", "--scores",
              "accuracy,explicitness", "--json", tmp_path / "cmp.json")
    assert res.code == 0, res.err
    # each --seeds draws its data with its first seed
    assert "note: the two were measured on different data (seed differ)" in res.err
    saved = json.loads((tmp_path / "cmp.json").read_text())
    assert [r["score"] for r in saved["rows"]] == ["accuracy", "explicitness"]
    assert saved["made_by"]["command"] == (f"latentplay metrics compare-seeds {tmp_path / 'a'} "
                                           f"{tmp_path / 'b'} --scores accuracy,explicitness "
                                           f"--json {tmp_path / 'cmp.json'}")
    first = json.loads((tmp_path / "a" / "seeds.json").read_text())["scores"]["explicitness"]
    assert saved["rows"][1]["mean_first"] == pytest.approx(first["mean"])
    assert "explicitness" in res.out and "Welch" in " ".join(res.out.split())
    res = cli("metrics", "compare-seeds", tmp_path / "a", tmp_path / "a" / "seed_0")
    assert res.code == 2 and "holds no seeds.json" in res.err
    res = cli("metrics", "compare-seeds", tmp_path / "a", tmp_path / "b", "--scores", "nose")
    assert res.code == 2 and "--scores: nose not among" in res.err
    res = cli("metrics", "compare-seeds", tmp_path / "a", tmp_path / "a" / "seeds.json")
    assert res.code == 2 and "is given twice" in res.err
    other = json.loads((tmp_path / "b" / "seeds.json").read_text())
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "seeds.json").write_text(json.dumps(
        {**other, "data": {**other["data"], "seed": 9}, "scores": {"mig": other["scores"]["accuracy"]}}))
    res = cli("metrics", "compare-seeds", tmp_path / "a", tmp_path / "c")
    assert res.code == 2 and "share no scores" in res.err     # another command's, say
    first = json.loads((tmp_path / "a" / "seeds.json").read_text())
    (tmp_path / "c" / "seeds.json").write_text(json.dumps({**other, "data": first["data"]}))
    res = cli("metrics", "compare-seeds", tmp_path / "a" / "seeds.json", tmp_path / "c")
    assert res.code == 0 and "different data" not in res.err


def test_track_over_seeds(cli, tmp_path: Path) -> None:
    """``metrics track --seeds``: one run per training seed (its config's seed), the same
    held-out rows, each metric's last evaluation summarised and reported; a ``seed=``
    override beside --seeds is refused before training."""
    from html import unescape

    from omegaconf import OmegaConf

    from latentplay import sources
    from latentplay.report import build_report

    shapes_store = tmp_path / "shapes"
    sources.make("shapes", shapes_store, n=320, seed=0)
    out = tmp_path / "tr"
    args = ("metrics", "track", "betavae", "--data", shapes_store, "--epochs", "1", "--metrics",
            "mig_fast,sap_fast", "data.size=32", "model.width=16", "model.hidden=64",
            "model.latent_dim=4", "trainer.threads=1", "log.figures_every=100")
    res = cli(*args, "--out", out, "--seeds", "1,4")
    assert res.code == 0, res.err
    assert [OmegaConf.load(out / f"seed_{s}" / "config.yaml").seed for s in (1, 4)] == [1, 4]
    held = [np.load(out / f"seed_{s}" / "latents.npy")["split"] for s in (1, 4)]
    np.testing.assert_array_equal(*held)
    saved = json.loads((out / "seeds.json").read_text())
    with open(out / "seed_4" / "dis_metrics.csv") as fh:
        last = list(csv.DictReader(fh))[-1]
    assert saved["scores"]["mig.discrete_mig"]["values"][1] == pytest.approx(
        float(last["mig.discrete_mig"]))
    assert saved["kind"] == "betavae" and saved["metrics_seed"] == 0
    html = unescape(build_report(out, tmp_path / "r.html").read_text())
    assert "Disentanglement of betavae over 2 seeds" in html
    res = cli(*args, "--out", tmp_path / "other", "--seeds", "1,4", "seed=3")
    assert res.code == 2 and "seed=3: the training seed is set by --seeds" in res.err
    assert not (tmp_path / "other").exists()


def test_seed_figure_labels_name_a_metric_once() -> None:
    from latentplay.metrics.seeds import _label

    assert _label("mig.discrete_mig") == "discrete mig"
    assert _label("sap.SAP_score") == "SAP score"
    assert _label("dci.informativeness_test") == "dci informativeness test"
    assert _label("concept_scores.smile.r2") == "smile R²"
