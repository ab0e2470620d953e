"""`latentplay audit annotator/compare/sample-groups` end to end, and bad input."""

from __future__ import annotations

import csv
import html
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from latentplay import store as st
from latentplay import train
from latentplay.audit import load_annotator
from latentplay.store.io import store_digest


def _read(path: Path) -> list[dict]:
    with open(path) as fh:
        return list(csv.DictReader(fh))


def test_annotator_then_compare_a_run(cli, faces: Path, vae_run: Path, skin_annotator_file: Path,
                                      tmp_path: Path) -> None:
    ann = tmp_path / "gender.npz"
    r = cli("audit", "annotator", faces, "--attribute", "gender", "--out", ann)
    assert r.code == 0, r.err
    assert "held-out accuracy" in r.out and load_annotator(ann).attribute == "gender"
    # the baseline is the commonest held-out class's share (1/K misleads on unbalanced classes)
    counts = load_annotator(ann).evaluation.counts.sum(1)
    assert f"2 classes; naming the commonest class every time: {counts.max() / counts.sum():.3f})" in r.out
    out = tmp_path / "cmp"
    r = cli("audit", "compare", vae_run, "--data", faces, "--annotator", f"{ann},{skin_annotator_file}",
            "--attribute", "gender,skin_tone", "--n", "300", "--out", out,
            "--joint", "gender,skin_tone")
    assert r.code == 0, r.err
    for attr in ("gender", "skin_tone"):
        for name in (f"distribution_{attr}.csv", f"distribution_{attr}.png",
                     f"samples_{attr}.png"):
            assert (out / name).stat().st_size > 0
    summary = json.loads((out / "summary.json").read_text())
    s = summary["attributes"]["skin_tone"]
    assert s["n_training"] == 600 and s["n_generated"] == 300
    assert s["annotator"]["evaluation"]["accuracy"] > 0.95
    rows = _read(out / "distribution_skin_tone.csv")
    assert [r["class"] for r in rows] == ["monk_2", "monk_8"]
    assert sum(int(r["generated_count"]) for r in rows) == 300
    labels = st.load(faces).labels("skin_tone")
    assert int(rows[1]["training_count"]) == int((labels == 7).sum())
    assert float(rows[0]["generated_low"]) <= float(rows[0]["generated"]) \
        <= float(rows[0]["generated_high"])
    assert "corrected" in rows[0]
    # skin tones are ordered: where the samples sit along the order, in the output too
    assert s["shift"]["low"] <= s["shift"]["mean"] <= s["shift"]["high"]
    assert "classes along the order" in r.out and summary["attributes"]["gender"]["shift"] is None
    assert summary["source"] == {"run": str(vae_run), "n": 300, "condition": None}
    # the intersections: counted from the store's labels, the two annotators' confusions
    # multiplied, a heatmap
    joint = summary["attributes"]["gender,skin_tone"]
    assert joint["classes"] == ["female / monk_2", "female / monk_8", "male / monk_2",
                                "male / monk_8"]
    store = st.load(faces)
    gender = np.asarray(store.labels("gender"))
    rows = _read(out / "distribution_gender,skin_tone.csv")
    assert int(rows[3]["training_count"]) == int(((gender == 1) & (labels == 7)).sum())
    assert sum(int(r["generated_count"]) for r in rows) == 300
    assert joint["chi2"]["through_annotator"] and joint["annotator"]["kind"] == "joint"
    assert (out / "distribution_gender,skin_tone.png").stat().st_size > 10_000
    from latentplay.report import build_report

    assert "intersections of" in build_report(out).read_text(encoding="utf-8")
    bad = cli("audit", "compare", vae_run, "--data", faces, "--annotator", str(ann),
              "--n", "20", "--out", tmp_path / "bad", "--joint", "gender,skin_tone")
    assert bad.code == 2 and "--joint takes two of the attributes annotated" in bad.err


def test_compare_images_store_matches_training(cli, faces: Path, skin_annotator_file: Path,
                                               tmp_path: Path) -> None:
    """Auditing the training images themselves: distances near 0, chi-square not rejected."""
    out = tmp_path / "self"
    r = cli("audit", "compare", "--images", faces, "--data", faces,
            "--annotator", skin_annotator_file, "--out", out)
    assert r.code == 0, r.err
    s = json.loads((out / "summary.json").read_text())["attributes"]["skin_tone"]
    assert s["tv"] < 0.02 and s["chi2"]["p_value"] > 0.05
    # a folder of PNG files works too
    folder = tmp_path / "pngs"
    folder.mkdir()
    for i, im in enumerate(st.load_images(st.load(faces), np.arange(20))):
        (folder / f"{i:03d}.png").write_bytes(st.encode_png(im)["bytes"])
    r = cli("audit", "compare", "--images", folder, "--data", faces,
            "--annotator", skin_annotator_file, "--out", tmp_path / "folder")
    assert r.code == 0, r.err
    assert json.loads((tmp_path / "folder" / "summary.json").read_text())["n_generated"] == 20


def test_compare_counts_the_training_persons_and_reads_through_the_annotator(
        cli, tmp_path: Path) -> None:
    """A training store of 40 persons in 240 photos: the test says it went through the
    annotator's confusion and counted the persons, in the output, the summary and the report."""
    from latentplay import sources

    persons = tmp_path / "persons"
    sources.make("synthfaces", persons, n=240, seed=0, overrides=["identities=40"])
    ann = tmp_path / "gender.npz"
    assert cli("audit", "annotator", persons, "--attribute", "gender", "--out", ann).code == 0
    out = tmp_path / "cmp"
    r = cli("audit", "compare", "--images", persons, "--data", persons, "--annotator", ann,
            "--out", out)
    assert r.code == 0, r.err
    test = json.loads((out / "summary.json").read_text())["attributes"]["gender"]["chi2"]
    assert test["through_annotator"] and test["training_persons"] == 40
    assert test["design_effect"] > 1.5 and test["p_value"] > 0.05
    evaluation = json.loads((out / "summary.json").read_text())["attributes"]["gender"][
        "annotator"]["evaluation"]
    assert evaluation["persons"] < evaluation["n"] and evaluation["effective"]
    assert "the annotated class counts of the images of persons against what the annotator reads on " \
        "the reference labels' shares (C^T p), the annotator's confusion measured on " \
        f"{evaluation['n']} images of {evaluation['persons']} persons, each row counted at its " \
        f"effective size ({sum(evaluation['effective']):.0f} images in all: a person's photos " \
        "tend to be misread alike), over 40 reference persons" in r.out  # --images
    assert test["compares"].startswith("the annotated class counts of the images of persons ")
    assert cli("report", out, "--out", tmp_path / "report.html").code == 0
    page = html.unescape((tmp_path / "report.html").read_text())
    assert "over 40 reference persons" in page
    # the class table's n counts rows (240) while its intervals count the persons the test
    # counted: its caption says so, as the chart's legend does
    with open(out / "distribution_gender.csv") as fh:
        assert sum(int(row["training_count"]) for row in csv.DictReader(fh)) == 240
    assert f"persons' labels over its {test['training_persons']} persons" in page
    assert "(at the effective number of rows; n counts rows)" in page
    # a continuous attribute measured on both sides: the KS test over the persons too
    from latentplay.measure import measure_store

    measured = measure_store(persons, ["quality"], progress=False)
    r = cli("audit", "compare", "--images", measured.path, "--data", measured.path,
            "--annotator", "labels", "--attribute", "brightness", "--out", tmp_path / "values")
    assert r.code == 0, r.err
    values = json.loads((tmp_path / "values" / "summary.json").read_text())
    ks = values["attributes"]["brightness"]["ks_persons"]
    assert ks["persons"] == 40 and ks["p_value"] == pytest.approx(1.0)
    assert "KS over 40 reference persons" in r.out


def test_compare_with_the_labels_a_generated_store_has(cli, faces: Path, tmp_path: Path) -> None:
    """--annotator labels: the images' store's own labels (here measured skin groups of a
    store of all-male faces), counted over the training store's classes plus its own, the
    rows without a skin group (``unknown``: no face found) left out and counted."""
    from latentplay.measure import measure_store
    from latentplay.store.subset import subset

    training = measure_store(subset(st.load(faces), tmp_path / "training", np.arange(60)).path,
                             ["skin", "quality"], progress=False)
    other = st.load(faces)
    males = np.flatnonzero(other.labels("gender") == 1)[-40:]
    generated = measure_store(subset(other, tmp_path / "gen", males).path, ["skin"],
                              fallback="nan", progress=False)
    out = tmp_path / "labels"
    r = cli("audit", "compare", "--images", generated.path, "--data", training.path,
            "--annotator", "labels", "--attribute", "skin_group,gender", "--out", out)
    assert r.code == 0, r.err
    summary = json.loads((out / "summary.json").read_text())["attributes"]
    gender = summary["gender"]
    assert gender["annotator"]["kind"] == "labels" and gender["annotator"]["evaluation"] is None
    rows = {r["class"]: r for r in _read(out / "distribution_gender.csv")}
    assert float(rows["male"]["generated"]) == 1.0
    female = float(rows["female"]["training"])
    assert gender["tv"] == pytest.approx(female, abs=1e-9)
    # all male: more often than the training faces, female never; both beyond the intervals
    # that hold for the two classes together
    male = {row["class"]: row for row in gender["per_class"]}["male"]
    assert male["ratio"] == pytest.approx(1 / (1 - female)) and male["ratio_low"] > 1
    assert float(rows["female"]["ratio"]) == 0 and float(rows["female"]["ratio_high"]) < 1
    assert (gender["ratios"]["more"], gender["ratios"]["less"]) == (["male"], ["female"])
    assert f"gen shows more often than training: male x{1 / (1 - female):.2f} (" in r.out
    classes = [r["class"] for r in _read(out / "distribution_skin_group.csv")]
    training_classes = training.schema.attribute("skin_group").names
    assert classes[: len(training_classes)] == training_classes
    generated_classes = generated.schema.attribute("skin_group").names
    assert set(classes) == (set(training_classes) | set(generated_classes)) - {"unknown"}
    codes = generated.labels("skin_group")
    no_class = (codes < 0) | (codes == generated_classes.index("unknown"))
    assert summary["skin_group"]["without_class"]["generated"] == no_class.sum()
    assert (out / "distribution_skin_group.png").stat().st_size > 0
    for args, message in [(["--annotator", "labels", "--attribute", "gender",
                            "--images", tmp_path], "must be a store"),
                          (["--annotator", "labels", "--images", generated.path], "--attribute is"),
                          (["--annotator", "labels", "--attribute", "brightness", "--images",
                            generated.path], "has no attribute 'brightness' (measure it: "
                           f"latentplay data measure {generated.path} --what quality)")]:
        bad = cli("audit", "compare", "--data", training.path, "--out", tmp_path / "bad", *args)
        assert bad.code == 2 and message in bad.err, bad.err


def test_a_missing_label_is_named_with_the_command_that_writes_it(faces: Path) -> None:
    """A measured attribute names its measure; any other an annotator's prediction (the hint
    said `data measure` for gender, which no measure writes)."""
    from latentplay.audit.run import label_hint

    images = st.load(faces)
    assert label_hint("skin_group", images).endswith("--what skin")
    assert label_hint("face_found", images).endswith("--what pose")
    assert label_hint("pose_yaw", images).endswith("--what pose")
    gender = label_hint("gender", images)
    assert "data measure" not in gender and "data predict" in gender
    assert gender.endswith("compare predicted_gender")


def test_measured_values_of_blurred_copies(cli, faces: Path, tmp_path: Path) -> None:
    """--annotator labels with continuous attributes: blurred copies of the training faces are
    far less sharp and about as bright; the report shows both."""
    from PIL import Image, ImageFilter

    from latentplay.measure import measure_store
    from latentplay.report import build_report
    from latentplay.store.subset import subset

    training = subset(st.load(faces), tmp_path / "training", np.arange(150))
    blurred = [np.asarray(Image.fromarray(im).filter(ImageFilter.GaussianBlur(1.5)))
               for im in st.load_images(training, np.arange(150))]
    schema = st.Schema(attributes=[], provenance=st.Provenance(source="test", converter="unit"))
    copies = st.build([{"image": [st.encode_png(im) for im in blurred]}], schema, tmp_path / "blur")
    for store in (training, copies):
        measure_store(store.path, ["quality"], progress=False)
    out = tmp_path / "values"
    r = cli("audit", "compare", "--images", copies.path, "--data", training.path,
            "--annotator", "labels", "--attribute", "sharpness,brightness", "--out", out)
    assert r.code == 0, r.err
    assert "sharpness: training mean" in r.out and "SMD" in r.out
    summary = json.loads((out / "summary.json").read_text())["attributes"]
    assert summary["sharpness"]["kind"] == "continuous"
    assert summary["sharpness"]["smd"] < -2 and summary["sharpness"]["ks"] > 0.8
    assert abs(summary["brightness"]["smd"]) < 0.1  # blurring keeps the mean lightness
    rows = _read(out / "distribution_sharpness.csv")
    assert [float(r["quantile"]) for r in rows] == [0.05, 0.25, 0.5, 0.75, 0.95]
    assert (out / "distribution_sharpness.png").stat().st_size > 0
    text = build_report(out).read_text(encoding="utf-8")
    assert "Kolmogorov-Smirnov" in text and "Wasserstein" in text


def test_sample_groups(cli, faces: Path, vae_run: Path, skin_annotator_file: Path,
                       tmp_path: Path) -> None:
    out = tmp_path / "groups"
    r = cli("audit", "sample-groups", vae_run, "--data", faces, "--attribute", "skin_tone",
            "--n", "6", "--annotator", skin_annotator_file, "--measure", "100", "--out", out)
    assert r.code == 0, r.err
    assert (out / "groups.png").stat().st_size > 5000 and (out / "groups_shares.png").stat().st_size > 5000
    g = json.loads((out / "groups.json").read_text())
    assert [x["class"] for x in g["groups"]] == ["monk_2", "monk_8"]
    assert g["made_by"]["command"] == (f"latentplay audit sample-groups {vae_run} --data {faces} --attribute "
                                       f"skin_tone --n 6 --annotator {skin_annotator_file} --measure 100 "
                                       f"--out {out}")
    assert g["data_digest"] == store_digest(st.load(faces))
    minority = g["groups"][1]
    assert minority["share_annotated"] > minority["base_rate"] + 0.5
    assert minority["share_annotated"] > minority["prior_share"]
    assert all(x["components"] >= 1 for x in g["groups"])
    assert minority["annotated"]["monk_8"] == minority["share_annotated"]
    assert sum(minority["annotated"].values()) == pytest.approx(1.0)
    confusion = load_annotator(skin_annotator_file).evaluation
    assert minority["annotator_recall"] == pytest.approx(confusion.confusion[1, 1])
    assert minority["annotator_recall_n"] == confusion.counts[1].sum()
    assert (f"{minority['annotator_recall']:.3f} [{minority['annotator_recall_low']:.3f}, "
            f"{minority['annotator_recall_high']:.3f}] of real faces of the group "
            f"({minority['annotator_recall_n']} held out)") in r.out
    assert all(x["note"] is None for x in g["groups"])
    # more components than the rows support: cut, said in groups.json and the printout once
    r = cli("audit", "sample-groups", vae_run, "--data", faces, "--attribute", "skin_tone",
            "--n", "2", "--components", "1000", "--out", tmp_path / "many")
    assert r.code == 0, r.err
    notes = [x["note"] for x in json.loads((tmp_path / "many" / "groups.json").read_text())["groups"]]
    assert all(note and "not 1000" in note for note in notes)
    assert r.err.count("note: ") == 2 and "Warning" not in r.err


@pytest.fixture(scope="module")
def cvae_run(tmp_path_factory: pytest.TempPathFactory, faces: Path) -> Path:
    out = tmp_path_factory.mktemp("runs") / "cvae"
    return train.train("cvae", data=faces, out=out, epochs=1, seed=0, progress=False,
                       overrides=["data.size=32", "model.width=16", "model.hidden=64",
                                  "model.latent_dim=8", "trainer.threads=1",
                                  "model.condition=[gender]"])


def test_bad_input_is_one_line_and_status_2(cli, faces: Path, vae_run: Path, cvae_run: Path,
                                            skin_annotator_file: Path, tmp_path: Path) -> None:
    cases = [
        (("audit", "annotator", faces, "--attribute", "race", "--out", tmp_path / "a.npz"),
         "no attribute 'race'"),
        (("audit", "compare", vae_run, "--data", faces, "--annotator", skin_annotator_file,
          "--attribute", "gender", "--out", tmp_path / "c"), "no annotator for attribute 'gender'"),
        (("audit", "compare", vae_run, "--images", faces, "--data", faces, "--annotator",
          skin_annotator_file, "--out", tmp_path / "c"), "either a RUN"),
        (("audit", "compare", cvae_run, "--data", faces, "--annotator", skin_annotator_file,
          "--n", "10", "--out", tmp_path / "c"), "pass --condition gender=female"),
        (("audit", "sample-groups", cvae_run, "--data", faces, "--attribute", "skin_tone",
          "--out", tmp_path / "g"), "is conditional on gender; sample"),
        (("audit", "compare", vae_run, "--data", faces, "--annotator",
          tmp_path / "missing.npz", "--out", tmp_path / "c"), "no annotator file"),
        # an existing folder as the annotator file: it failed after training, naming a .tmp file
        (("audit", "annotator", faces, "--attribute", "gender", "--out", tmp_path / "folder"),
         "is a directory; name the annotator file"),
        # an empty annotator file: "aborted", status 1 (click's word for an EOFError)
        (("audit", "compare", vae_run, "--data", faces, "--annotator", tmp_path / "empty.npz",
          "--out", tmp_path / "c"), "is not a latentplay annotator file"),
    ]
    (tmp_path / "folder").mkdir()
    (tmp_path / "empty.npz").write_bytes(b"")
    for args, message in cases:
        r = cli(*args)
        assert r.code == 2, (args, r.err)
        lines = r.err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], r.err
    r = cli("audit", "compare", cvae_run, "--data", faces, "--annotator", skin_annotator_file,
            "--n", "10", "--condition", "gender=male", "--out", tmp_path / "cond")
    assert r.code == 0, r.err  # the printed shares say under which condition samples were drawn
    first = r.out.splitlines()[0]
    assert first == f"samples drawn under gender=male; {faces.name}'s shares are of all its rows"


def test_compare_across_truncation(cli, faces: Path, vae_run: Path, skin_annotator_file: Path,
                                   tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from latentplay.audit import truncation

    legends, ordered, strips = [], [], []  # the shares figures' titles and ramps, the draws shown
    figure, grid = truncation.share_figure, truncation.image_grid

    def drawn(*a: object) -> object:
        fig = figure(*a)
        legends.append(fig.axes[0].get_legend().get_title().get_text())
        ordered.append(a[4])
        return fig

    def shown(lines: list[np.ndarray], *a: object, **k: object) -> object:
        strips.extend(lines)
        return grid(lines, *a, **k)

    monkeypatch.setattr(truncation, "share_figure", drawn)
    monkeypatch.setattr(truncation, "image_grid", shown)
    out = tmp_path / "trunc"
    r = cli("audit", "compare", vae_run, "--data", faces, "--annotator", skin_annotator_file,
            "--n", "100", "--psi", "1,0.5,0", "--out", out)
    assert r.code == 0, r.err
    # the dotted lines are the --data store's, named by its folder
    assert "psi 0.5: monk_2" in r.out and legends == [f"dotted: {faces.name}"]
    assert ordered == [True]  # skin tone is an ordered attribute: its classes take the ramp
    # the same draws scaled by psi: at psi 0 every draw is the prior's centre, one image
    assert len(strips) == 3 and np.ptp(strips[2], axis=0).max() == 0 < np.ptp(strips[0], axis=0).max()
    summary = json.loads((out / "truncation.json").read_text())
    assert summary["made_by"]["command"] == (f"latentplay audit compare {vae_run} --data {faces} --annotator "
                                             f"{skin_annotator_file} --n 100 --psi 1,0.5,0 --out {out}")
    assert summary["data_digest"] == store_digest(st.load(faces))
    entry = summary["attributes"]["skin_tone"]
    assert summary["psi"] == [1.0, 0.5, 0.0] and entry["classes"] == ["monk_2", "monk_8"]
    for name in ("psi_1/summary.json", "psi_0.5/distribution_skin_tone.png", "psi_0/samples_skin_tone.png",
                 "truncation_skin_tone.png", "truncation_samples.png"):
        assert (out / name).stat().st_size > 0
    plain = tmp_path / "plain"  # psi 1 is the plain audit of the same draws
    assert cli("audit", "compare", vae_run, "--data", faces, "--annotator", skin_annotator_file,
               "--n", "100", "--out", plain).code == 0
    assert [float(r["generated"]) for r in _read(plain / "distribution_skin_tone.csv")] == \
        pytest.approx(entry["generated"][0])
    assert max(entry["generated"][2]) == 1.0  # psi 0: every draw is the centre, one face
    at_0 = json.loads((out / "psi_0" / "summary.json").read_text())["attributes"]["skin_tone"]
    ratios = entry["ratios"]  # each psi's ratios of shares, as its own audit has them
    assert ratios["ratio"][2] == pytest.approx([row["ratio"] for row in at_0["per_class"]])
    assert ratios["more"][2] == at_0["ratios"]["more"] and ratios["less"][2] == at_0["ratios"]["less"]
    assert entry["faithful_tv"][2] == at_0["faithful"]["tv"] > 0   # a faithful generator's TV, beside
    assert f"a faithful generator {at_0['faithful']['tv']:.3f}" in r.out
    (drawn,) = [c for c in entry["classes"] if max(entry["generated"][2]) ==
                entry["generated"][2][entry["classes"].index(c)]]
    assert ratios["more"][2] == [drawn] and len(ratios["less"][2]) == 1  # one face, one class
    lines = r.out.splitlines()
    assert lines[lines.index(next(x for x in lines if x.startswith("  psi 0:"))) + 1].startswith(
        f"    more often: {drawn} x")
    assert f"(more or less often than {faces.name}: ratios of " in r.out
    (low, high), shares = np.array(entry["generated_ci"][1]).T, np.array(entry["generated"][1])
    assert (low <= shares + 1e-12).all() and (shares <= high + 1e-12).all()
    bad = cli("audit", "compare", vae_run, "--data", faces, "--annotator", skin_annotator_file,
              "--psi", "1,1.5", "--out", tmp_path / "bad")
    assert bad.code == 2 and "psi values" in bad.err
    bad = cli("audit", "compare", vae_run, "--data", faces, "--annotator", skin_annotator_file,
              "--device", "gpu", "--out", tmp_path / "bad2")
    assert bad.code == 2 and "--device must be cpu, cuda or auto" in bad.err


def test_truncation_of_images_says_to_give_a_run(cli, faces: Path, skin_annotator_file: Path,
                                                tmp_path: Path) -> None:
    bad = cli("audit", "compare", "--images", faces, "--data", faces, "--annotator",
              skin_annotator_file, "--psi", "1,0.5", "--out", tmp_path / "bad")
    assert bad.code == 2 and "give a RUN instead of --images" in bad.err, bad.err
    assert not (tmp_path / "bad").exists()


def test_truncation_of_intersections(cli, faces: Path, vae_run: Path, skin_annotator_file: Path,
                                     gender_annotator_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "trunc"
    r = cli("audit", "compare", vae_run, "--data", faces, "--annotator",
            f"{skin_annotator_file},{gender_annotator_file}", "--n", "100", "--psi", "1,0.5",
            "--joint", "gender,skin_tone", "--out", out)
    assert r.code == 0, r.err
    entry = json.loads((out / "truncation.json").read_text())["attributes"]["gender,skin_tone"]
    assert len(entry["classes"]) == 4 and entry["confidence"] == [None, None]
    assert (out / "psi_0.5" / "distribution_gender,skin_tone.png").stat().st_size > 0
    bad = cli("audit", "compare", vae_run, "--data", faces, "--annotator", skin_annotator_file,
              "--psi", "1,0.5", "--joint", "gender,skin_tone", "--out", tmp_path / "bad")
    assert bad.code == 2 and "--joint takes two" in bad.err and not (tmp_path / "bad").exists()


def test_temperature_scales_the_same_draws(vae_run: Path) -> None:
    model = train.load_model(vae_run)
    z = np.random.default_rng(3).standard_normal((4, model.latent_dim)).astype(np.float32)
    np.testing.assert_array_equal(train.sample(model, 4, seed=3, temperature=0.5),
                                  train.decode(model, 0.5 * z))


def test_compare_images_imports_no_torch(faces: Path, skin_annotator_file: Path, tmp_path: Path) -> None:
    """``audit compare --images`` samples no model, so it does not pay for importing torch."""
    from latentplay.store.subset import subset

    images = subset(st.load(faces), tmp_path / "images", np.arange(40)).path
    argv = ["audit", "compare", "--images", str(images), "--data", str(faces),
            "--annotator", str(skin_annotator_file), "--out", str(tmp_path / "out")]
    code = ("import sys\nfrom latentplay.cli import main\ntry:\n"
            f"    main({argv!r})\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
            "print('torch' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert (tmp_path / "out" / "summary.json").exists()
    assert done.stdout.strip().splitlines()[-1] == "False"


@pytest.mark.parametrize(("command", "args", "words"), [
    ("compare", ["--n", "50"], "--n set how RUN is sampled"),
    ("compare", ["--condition", "gender=female"], "--condition set how RUN is sampled"),
    ("compare", ["--prompt", "x {}", "--calibrate", "5"], "--prompt and --calibrate set how a clip:"),
    ("fidelity", ["--n", "50"], "--images audits every image it holds"),
    ("fidelity", ["--condition", "gender=female"], "--condition set how RUN is sampled"),
])
def test_sampling_options_with_images_are_refused(cli, faces: Path, skin_annotator_file: Path,
                                                  tmp_path: Path, command: str,
                                                  args: list[str], words: str) -> None:
    """With --images, --n and --condition were ignored (600 images audited for --n 50), and
    --prompt/--calibrate too with a .npz annotator."""
    extra = ["--annotator", skin_annotator_file] if command == "compare" else []
    r = cli("audit", command, "--images", faces, "--data", faces, *extra, *args,
            "--out", tmp_path / "o")
    assert r.code == 2 and len(r.err.strip().splitlines()) == 1, r.err
    assert words in r.err and not (tmp_path / "o").exists()


def test_an_annotators_accuracy_stands_beside_naming_the_commonest_class() -> None:
    """Chance for an annotator's accuracy is the commonest true class's share: 10 of 12 held-out
    images are of one class, so 0.833 is what naming it every time scores (an annotator at
    0.75 here does worse than that)."""
    from latentplay.audit.annotate import chance_text, commonest_share

    assert commonest_share([[8, 2], [1, 1]]) == pytest.approx(10 / 12)
    assert chance_text([[8, 2], [1, 1]]) == "naming the commonest class every time: 0.833"
    assert commonest_share(np.array([[5, 0, 0], [0, 5, 0], [0, 0, 5]])) == pytest.approx(1 / 3)
    assert commonest_share([[0, 0], [0, 0]]) == 0.0
