"""Reports of concept models (``latentplay metrics concepts``) and of leakage tests
(``latentplay leakage run``): detection, numbers equal to their files, figures, bad input."""

from __future__ import annotations

import csv
import json
import shutil
from html import unescape
from pathlib import Path

import numpy as np
import pytest
from report_html import assert_self_contained, decode_image, image_size, row_of, value

from latentplay.errors import UserError
from latentplay.metrics.concepts import TrainConfig, run_concept_model
from latentplay.metrics.leakage import bar_chart, shapes_data, write_csv
from latentplay.report import build_report, detect


@pytest.fixture(scope="module")
def concept_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A GlanceNet and a CBM trained for one epoch on 150 shapes at 32 px (half the rows'
    concepts used), tested on 40, each in its own output directory."""
    root = tmp_path_factory.mktemp("concepts")
    train, _ = shapes_data(150, 0, (0, 1, 2), size=32)
    test, _ = shapes_data(40, 1, (0, 1, 2), size=32)
    runs = {}
    for kind in ("glancenet", "cbm"):
        small = {"width": 8, "hidden": 32} | ({} if kind == "cbm" else {"latent_dim": 5})
        run_concept_model(kind, train, test, root / kind, TrainConfig(epochs=1, masking_fact=50.0),
                          n_classes=4, **small)
        runs[kind] = root / kind
    return runs


@pytest.fixture(scope="module")
def leakage_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``leakage.csv`` and ``leakage.png`` as `latentplay leakage run` writes them, of made-up
    rows (training the models takes longer)."""
    out = tmp_path_factory.mktemp("leakage")
    rows: list[dict[str, float | str]] = [
        {"experiment": e, "model": m, "accuracy": 0.9 - i / 10, "leak_accuracy": 0.7 - i / 20,
         "chance": 0.34, "leakage": (0.36 - i / 20) / 0.66, "accepted": 1.0 if "+" not in m else 0.8}
        for e in ("dsprites", "parity")
        for i, m in enumerate(("vae", "cbm", "glancenet", "glancenet+rejection"))]
    for r in rows:
        if r["model"] == "glancenet+rejection":
            r["domain_accepted"] = 0.95
    write_csv(rows, out / "leakage.csv")
    bar_chart(rows, out / "leakage.png")
    return out


def test_detect_concept_and_leakage_directories(concept_runs: dict[str, Path], leakage_run: Path,
                                                tmp_path: Path) -> None:
    assert [detect(p) for p in (*concept_runs.values(), leakage_run)] == [
        "concepts", "concepts", "leakage"]
    with pytest.raises(UserError, match=r"a concept model \(metrics.json \+ downstream.npy\), a "
                                        r"leakage test \(leakage.csv\)"):
        detect(tmp_path)


@pytest.mark.parametrize("kind", ["glancenet", "cbm"])
def test_concept_report_numbers_equal_the_files(concept_runs: dict[str, Path], kind: str,
                                                tmp_path: Path) -> None:
    run = concept_runs[kind]
    page = build_report(run, tmp_path / "r.html")
    html = assert_self_contained(page)
    assert html.sections == (["concepts", "decoder", "config"] if kind != "cbm"
                             else ["concepts", "config"])
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["training"]["n_test"] == len(np.load(run / "downstream.npy"))
    assert json.dumps(metrics["training"], indent=2) in unescape(page.read_text(encoding="utf-8"))
    scores, classes, activations, intervention = html.tables["concepts"]
    curve = metrics["intervention"]["accuracy"]
    assert [value(row_of(intervention, str(m))[1]) for m in range(len(curve))] == pytest.approx(
        curve, rel=1e-4)
    for key, label in (("accuracy", "task accuracy, all test images"),
                       ("accepted", "share of test images accepted"),
                       ("alignment", "concept alignment (DCI disentanglement of the concept "
                                     "activations)")):
        assert value(row_of(scores, label)[1]) == pytest.approx(metrics[key], rel=1e-4, abs=1e-9)
    down, accepted = np.load(run / "downstream.npy"), np.load(run / "accepted.npy")
    for c in np.unique(down[:, 1]):
        mine = down[:, 1] == c
        row = row_of(classes, str(c))
        assert value(row[1]) == mine.sum()
        assert value(row[2]) == pytest.approx(np.mean(down[mine, 0] == c), rel=1e-4)
        assert value(row[3]) == pytest.approx(accepted[mine].mean(), rel=1e-4)
    everything = row_of(classes, "all")
    assert value(everything[2]) == pytest.approx(metrics["accuracy"], rel=1e-4)
    assert value(everything[3]) == pytest.approx(metrics["accepted"], rel=1e-4)
    concepts = np.load(run / "concepts.npy")
    assert len(activations) == concepts.shape[1] + 1
    assert metrics["concepts"] == ["scale", "pos_x", "pos_y"]
    assert [value(v) for v in row_of(activations, "pos_x")[1:]] == pytest.approx(
        [concepts[:, 1].mean(), concepts[:, 1].std(), concepts[:, 1].min(), concepts[:, 1].max()],
        rel=1e-2)  # three significant digits below 0.001
    pictures = [run / n for n in ("intervention.png", "recon.png", "traverse.png", "traverse.gif")
                if (run / n).exists()]
    assert len(pictures) == (1 if kind == "cbm" else 4)
    assert [decode_image(s).size for s in html.images] == [image_size(p) for p in pictures]


def test_leakage_report_numbers_equal_the_csv(leakage_run: Path, tmp_path: Path) -> None:
    out = build_report(leakage_run, tmp_path / "l.html")
    html = assert_self_contained(out)
    assert html.sections == ["leakage"] and len(html.images) == 1
    assert decode_image(html.images[0]).size == image_size(leakage_run / "leakage.png")
    assert "<h1>Concept leakage: dsprites, parity</h1>" in out.read_text(encoding="utf-8")
    with open(leakage_run / "leakage.csv", newline="") as fh:
        source = list(csv.DictReader(fh))
    table = html.tables["leakage"][0]
    assert len(table) == len(source) + 1
    under = {"task accuracy": "accuracy", "probe accuracy": "leak_accuracy", "chance": "chance",
             "leakage": "leakage", "probe images accepted": "accepted",
             "task images accepted": "domain_accepted"}   # each header over its csv column
    assert table[0][:2] == ["experiment", "model"] and sorted(table[0][2:]) == sorted(under)
    for r, row in zip(source, table[1:], strict=True):
        assert row[:2] == [r["experiment"], r["model"]]
        for header, text in zip(table[0][2:], row[2:], strict=True):
            key = under[header]
            assert (text == "—") if r[key] == "" else value(text) == pytest.approx(float(r[key]))


def test_leakage_report_shows_its_settings(leakage_run: Path, tmp_path: Path) -> None:
    """leakage.json (the settings `leakage run` measured with) is the Config section."""
    run = Path(shutil.copytree(leakage_run, tmp_path / "run"))
    settings = {"experiments": ["dsprites"], "models": ["vae"], "n_train": 600, "n_probe": 300,
                "size": 32, "training": {"epochs": 2}}
    (run / "leakage.json").write_text(json.dumps(settings))
    out = build_report(run, tmp_path / "l.html")
    assert assert_self_contained(out).sections == ["leakage", "config"]
    assert json.dumps(settings, indent=2) in unescape(out.read_text(encoding="utf-8"))


def test_directories_that_are_not_their_output(concept_runs: dict[str, Path], leakage_run: Path,
                                               tmp_path: Path) -> None:
    """A look-alike or damaged file is one UserError naming it, never a traceback."""
    run = Path(shutil.copytree(concept_runs["cbm"], tmp_path / "c"))
    (run / "accepted.npy").unlink()  # no acceptance recorded: none made up
    everything = row_of(assert_self_contained(build_report(run)).tables["concepts"][1], "all")
    assert everything[3:] == ["—", "—"] and value(everything[2]) >= 0
    np.save(run / "concepts.npy", np.zeros(5))
    with pytest.raises(UserError, match=r"concepts.npy is not \(N, k\)"):
        build_report(run)
    (run / "downstream.npy").write_bytes(b"not an array")
    with pytest.raises(UserError, match=r"downstream.npy is not a .npy array \(no NumPy header"):
        build_report(run)
    np.save(run / "downstream.npy", np.zeros(5, dtype=int))
    with pytest.raises(UserError, match=r"downstream.npy that is not \(N, 2\)"):
        build_report(run)
    (run / "metrics.json").write_text(json.dumps({"loss": 1.0}))
    with pytest.raises(UserError, match="not the output of `latentplay metrics concepts`"):
        build_report(run)
    leak = Path(shutil.copytree(leakage_run, tmp_path / "l"))
    (leak / "leakage.csv").write_text("experiment,model\ndsprites,cbm\n")
    with pytest.raises(UserError, match="not the output of `latentplay leakage run`"):
        build_report(leak)
    # a row of text was shown as a row of dashes
    leak = Path(shutil.copytree(leakage_run, tmp_path / "m"))
    lines = (leak / "leakage.csv").read_text().splitlines()
    fields = lines[1].split(",")
    fields[2] = "abc"
    (leak / "leakage.csv").write_text("\n".join([lines[0], ",".join(fields), *lines[2:]]) + "\n")
    with pytest.raises(UserError, match=r"leakage.csv, line 2: accuracy is 'abc', not a number"):
        build_report(leak)
    (leak / "leakage.csv").write_text("\n".join([*lines, "dsprites,vae,0.5"]) + "\n")
    with pytest.raises(UserError, match=rf"leakage.csv, line {len(lines) + 1}: fewer fields"):
        build_report(leak)


def test_a_flagged_concept_model_is_cautioned(concept_runs: dict[str, Path], tmp_path: Path) -> None:
    """metrics.json's ``flag`` (task near chance, no concept learned) is a caution on the page,
    with the task's chance accuracy; folders written before the flag have neither line."""
    from latentplay.report.concepts import page
    from latentplay.report.page import Facts

    def facts(run: Path) -> dict[str, str]:
        return dict(next(b for b in page(run).sections[0].blocks if isinstance(b, Facts)).items)

    run = shutil.copytree(concept_runs["cbm"], tmp_path / "cbm")
    metrics = json.loads((run / "metrics.json").read_text())
    for key in ("flag", "task_chance"):
        metrics.pop(key, None)
    (run / "metrics.json").write_text(json.dumps(metrics))
    assert "caution" not in facts(run) and "task accuracy by chance" not in facts(run)
    (run / "metrics.json").write_text(json.dumps(metrics | {"flag": "task near chance",
                                                            "task_chance": 0.25}))
    shown = facts(run)
    assert shown["task accuracy by chance"] == "0.25"
    assert shown["caution"].startswith("task near chance: the scores below say little")


def _cells(table) -> list[dict[str, str]]:
    """Each row of a report ``Table`` as its cells' texts under their headers."""
    return [dict(zip(table.columns, (c.text for c in row), strict=True)) for row in table.rows]


def test_the_concept_tables_put_each_number_under_its_header() -> None:
    """Per true class (named by the data's classes) its images, accuracy, accepted share and
    accuracy on the accepted ones by hand; each concept's mean, sd, min and max; the store's
    leakage per attribute; the held-out concept scores."""
    from latentplay.report.concepts import (
        _class_table,
        _concept_score_rows,
        _concept_table,
        _store_leakage_table,
    )

    # class 0: 3 images, right 2 (rows 0, 1), accepted rows 0 and 2 (one right of two);
    # class 1: 1 image, wrong, accepted
    down = np.array([[0, 0], [0, 0], [1, 0], [0, 1]])
    accepted = np.array([1, 0, 1, 1])
    assert _cells(_class_table(down, accepted, ["cat", "dog"])) == [
        {"true class": "cat", "test images": "3", "accuracy": f"{2 / 3:.5g}", "accepted": f"{2 / 3:.5g}",
         "accuracy, accepted": "0.5"},
        {"true class": "dog", "test images": "1", "accuracy": "0", "accepted": "1",
         "accuracy, accepted": "0"},
        {"true class": "all", "test images": "4", "accuracy": "0.5", "accepted": "0.75",
         "accuracy, accepted": f"{1 / 3:.5g}"}]
    short = _class_table(down, accepted, ["cat"])   # too few names for the codes: the codes
    assert [r["true class"] for r in _cells(short)] == ["0", "1", "all"]
    concepts = np.array([[0.1, 0.9], [0.5, 0.2], [0.3, 0.4]])
    assert _cells(_concept_table(concepts, ["scale", "pos_x"]))[1] == {
        "concept": "pos_x", "mean": "0.5", "sd": f"{np.std([0.9, 0.2, 0.4]):.5g}", "min": "0.2",
        "max": "0.9"}
    assert [r["concept"] for r in _cells(_concept_table(concepts, None))] == ["concept 0", "concept 1"]
    leakage = {"smile": {"images": 40, "accuracy": 0.8, "truth_accuracy": 0.7, "chance": 0.6,
                         "leakage": 0.5, "beyond": 0.4}, "age": {"skipped": "one class"}}
    assert _cells(_store_leakage_table(leakage)) == [
        {"attribute": "smile", "test images": "40", "from the activations": "0.8",
         "from the true concepts": "0.7", "chance": "0.6", "leakage": "0.5",
         "beyond the concepts": "0.4"},
        {"attribute": "age", "test images": "—", "from the activations": "—",
         "from the true concepts": "—", "chance": "—", "leakage": "—", "beyond the concepts": "—"}]
    rows = _concept_score_rows({"shape": {"accuracy": 0.9, "chance": 0.33, "learned": True},
                                "size": {"r2": 0.05, "mae": 0.3, "learned": False}})
    assert rows == [["concept shape: accuracy (chance 0.33)", 0.9],
                    ["concept size: R² (levels scaled to [0, 1], not learned)", 0.05],
                    ["concept size: mean absolute error", 0.3]]


def test_the_leakage_spread_table_puts_each_number_under_its_header(tmp_path: Path) -> None:
    """leakage.csv's spread columns (SD, halvings, acceptance alone, concept scores) each under
    the header that names it."""
    from latentplay.report.concepts import LEAKAGE_COLUMNS, SPREAD_COLUMNS, leakage_page

    row = dict.fromkeys(LEAKAGE_COLUMNS, "0.5") | {"experiment": "parity", "model": "vae"}
    row |= {"leakage_sd": "0.01", "splits": "20", "leakage_acceptance_only": "0.03",
            "concept_acc": "0.04", "concept_r2": "0.05", "concepts": "held out", "flag": "near chance"}
    with open(tmp_path / "leakage.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, [*LEAKAGE_COLUMNS, *SPREAD_COLUMNS])
        writer.writeheader()
        writer.writerow(row)
    spread = leakage_page(tmp_path).sections[0].blocks[1]
    assert _cells(spread) == [{
        "experiment": "parity", "model": "vae", "leakage SD": "0.01", "halvings": "20",
        "leakage from acceptance alone": "0.03", "concept accuracy (categorical)": "0.04",
        "concept R² (continuous)": "0.05", "concepts, held out": "held out", "flag": "near chance"}]


def test_the_seeds_tables_put_each_number_under_its_header(tmp_path: Path) -> None:
    """seeds.json's scores: mean, SD, lowest, highest and each seed's value under its seed;
    each seed's folder and flag on its own row."""
    from latentplay.report.concepts import seeds_page

    (tmp_path / "seed_1").mkdir()
    record = {"kind": "cbm", "seeds": [1, 2], "runs": ["seed_1", "seed_2"], "flags": [None, "no concept"],
              "scores": {"accuracy": {"mean": 0.5, "sd": 0.1, "min": 0.4, "max": 0.6,
                                      "values": [0.4, 0.6]}}}
    (tmp_path / "seeds.json").write_text(json.dumps(record))
    scores, runs = seeds_page(tmp_path).sections[0].blocks[1:]
    assert _cells(scores) == [{"score": "accuracy", "mean": "0.5", "SD": "0.1", "lowest": "0.4",
                               "highest": "0.6", "seed 1": "0.4", "seed 2": "0.6"}]
    assert _cells(runs) == [{"seed": "1", "folder": "seed_1/", "flag": "—"},
                            {"seed": "2", "folder": "seed_2/ (missing)", "flag": "no concept"}]
    # a summary written before seeds recorded their flags still lists each seed's folder
    del record["flags"]
    (tmp_path / "seeds.json").write_text(json.dumps(record))
    _, runs = seeds_page(tmp_path).sections[0].blocks[1:]
    assert _cells(runs) == [{"seed": "1", "folder": "seed_1/", "flag": "—"},
                            {"seed": "2", "folder": "seed_2/ (missing)", "flag": "—"}]


def test_the_concept_facts_count_test_images_concepts_and_latents(concept_runs: dict[str, Path]) -> None:
    """The facts give the test images (40), the concepts (3) and the latent dimensions (5) of
    the glancenet trained above, not its rows of latents or its labels' sum."""
    from latentplay.report.concepts import page
    from latentplay.report.page import Facts

    shown = dict(next(b for b in page(concept_runs["glancenet"]).sections[0].blocks
                      if isinstance(b, Facts)).items)
    assert (shown["test images"], shown["concepts"], shown["latent dimensions"]) == ("40", "3", "5")
