"""`latentplay audit fidelity`: a generator that never draws a group leaves that group's
training images uncovered; outputs, report and bad input."""

from __future__ import annotations

import csv
import dataclasses
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from latentplay import sources
from latentplay import store as st
from latentplay.audit.annotate import ClassifierAnnotator
from latentplay.audit.fidelity import audit_fidelity, conditional_rows, group_rows, order_trend
from latentplay.embed.column import load_rows
from latentplay.errors import UserError
from latentplay.metrics.fidelity import frechet_distance, prdc
from latentplay.metrics.verification import rate_trend
from latentplay.store.io import store_digest
from latentplay.store.schema import class_places

# the training store's (conftest `faces`) gender and background; its skin tones are monk_2 : monk_8
LIKE_FACES = ["gender.weights=[1,3]", "background.weights=[1,0,0,0,0,0]"]


def _images(path: Path) -> np.ndarray:
    store = st.load(path)
    return load_rows(store, np.arange(len(store)))


@pytest.fixture(scope="module")
def only_monk_2(tmp_path_factory: pytest.TempPathFactory) -> np.ndarray:
    """300 faces like the training store's but all of skin tone monk_2: a generator that
    never draws the store's monk_8 minority."""
    path = tmp_path_factory.mktemp("fid") / "only2"
    overrides = [*LIKE_FACES, "skin_tone.weights=[0,1,0,0,0,0,0,0,0,0]"]
    sources.make("synthfaces", path, n=300, seed=5, overrides=overrides)
    return _images(path)


@pytest.fixture(scope="module")
def like_training(tmp_path_factory: pytest.TempPathFactory) -> np.ndarray:
    """300 new faces drawn from the training store's own distribution."""
    path = tmp_path_factory.mktemp("fid") / "same"
    sources.make("synthfaces", path, n=300, seed=6,
                 overrides=[*LIKE_FACES, "skin_tone.weights=[0,3,0,0,0,0,0,1,0,0]"])
    return _images(path)


@pytest.fixture(scope="module")
def like_training_audit(faces: Path, like_training: np.ndarray,
                        tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The fidelity summary of ``like_training`` against ``faces``, broken down by skin tone."""
    return audit_fidelity(like_training, faces, tmp_path_factory.mktemp("fid") / "same",
                          by=["skin_tone"], seed=0)


@pytest.fixture(scope="module")
def persons(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """600 synthfaces of 60 persons, 10 photos each."""
    path = tmp_path_factory.mktemp("fid") / "persons"
    sources.make("synthfaces", path, n=600, seed=0, overrides=["identities=60"])
    return path


def _by_class(summary: dict, attribute: str) -> dict[str, dict]:
    return {g["class"]: g for g in summary["groups"][attribute]}


def test_dropped_group_is_uncovered(faces: Path, only_monk_2: np.ndarray, like_training_audit: dict,
                                    skin_annotator: ClassifierAnnotator, tmp_path: Path) -> None:
    dropped = audit_fidelity(only_monk_2, faces, tmp_path / "dropped", by=["skin_tone", "gender"],
                             annotators=[skin_annotator], seed=0)
    same = like_training_audit
    d, s = _by_class(dropped, "skin_tone"), _by_class(same, "skin_tone")
    assert d["monk_8"]["coverage"] < 0.2 < 0.7 < d["monk_2"]["coverage"]
    assert s["monk_8"]["coverage"] > 0.6
    assert dropped["coverage"] < same["coverage"] and dropped["recall"] < same["recall"]
    assert dropped["frechet_distance"] > 3 * same["frechet_distance"]
    assert dropped["precision"] > 0.8
    # the annotator sees (almost) no monk_8 among the generated images
    assert d["monk_8"]["n_generated"] < 0.05 * len(only_monk_2)
    assert d["monk_2"]["precision"] > 0.8
    assert min(g["coverage"] for g in dropped["groups"]["gender"]) > 0.4  # gender not dropped
    assert "NaN" not in (tmp_path / "dropped" / "fidelity.json").read_text()
    for g in dropped["groups"]["skin_tone"]:
        if g["n_real"]:
            low, high = g["coverage_ci"]
            assert low <= g["coverage"] <= high
    out = tmp_path / "dropped"
    assert json.loads((out / "fidelity.json").read_text())["coverage"] == dropped["coverage"]
    with open(out / "fidelity_skin_tone.csv") as fh:
        rows = {r["class"]: r for r in csv.DictReader(fh)}
    assert float(rows["monk_8"]["coverage"]) == pytest.approx(d["monk_8"]["coverage"], rel=1e-5)
    for name in ("fidelity_skin_tone.png", "fidelity_gender.png", "uncovered.png"):
        assert (out / name).stat().st_size > 10_000


def test_copies_of_training_images_are_not_authentic(faces: Path, like_training: np.ndarray,
                                                      like_training_audit: dict,
                                                      tmp_path: Path) -> None:
    """A generator that returns (slightly noisy) training images: authenticity near 0, far
    below what held-out training images score; new faces score like the held-out ones."""
    from latentplay.audit.fidelity import training_sample

    _, real_images = training_sample(st.load(faces), 300, like_training, seed=0)
    noise = np.random.default_rng(0).integers(-2, 3, real_images.shape)
    copies = np.clip(real_images.astype(int) + noise, 0, 255).astype(np.uint8)
    copied = audit_fidelity(copies, faces, tmp_path / "copies", seed=0, by=["skin_tone"])
    new = like_training_audit
    for g in _by_class(copied, "skin_tone").values():  # every group's samples are copies
        assert g["authenticity"] is None or g["authenticity"] < 0.1
    groups = _by_class(new, "skin_tone")
    assert groups["monk_2"]["n_nearest"] + groups["monk_8"]["n_nearest"] == 300
    assert groups["monk_8"]["reference_authenticity"] is not None
    assert copied["authenticity"] < 0.05 and copied["copies"] > 285
    ref = new["reference"]
    assert ref["n"] == 300 and ref["authenticity"] > 0.3
    assert abs(new["authenticity"] - ref["authenticity"]) < 0.15
    assert copied["reference"] == ref  # the reference does not depend on the generated images
    assert "generated_at_n" not in ref  # as many held out as generated: nothing to add
    assert (tmp_path / "copies" / "copies.png").stat().st_size > 10_000


def test_group_rows_counts_each_class(faces: Path) -> None:
    data = st.load(faces)
    rng = np.random.default_rng(0)
    rows, dropped_rows = np.arange(40), np.arange(40, 52)
    result = prdc(rng.normal(size=(40, 3)), rng.normal(size=(30, 3)), k=3)
    codes = np.asarray(data.labels("skin_tone"))
    names = data.schema.attribute("skin_tone").level_names
    groups = group_rows(data, "skin_tone", rows, result, dropped_rows=dropped_rows)
    assert [g["class"] for g in groups] == list(names)  # every class, in order, once
    assert 0 < sum(g["n_real"] > 0 for g in groups) < len(groups)  # both branches below run
    for g in groups:
        members = codes[rows] == names.index(g["class"])
        assert g["n_real"] == members.sum()
        assert g["n_not_embedded"] == (codes[dropped_rows] == names.index(g["class"])).sum()
        if members.any():
            assert g["coverage"] == pytest.approx(result.real_covered[members].mean())
            assert g["recall"] == pytest.approx(result.real_recalled[members].mean())
        else:
            assert g["coverage"] is None and g["coverage_ci"] == [None, None]


def test_cli_and_report(cli, faces: Path, vae_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "fid"
    r = cli("audit", "fidelity", vae_run, "--data", faces, "--n", "150", "--by", "skin_tone",
            "--out", out)
    assert r.code == 0, r.err
    assert "precision" in r.out and "coverage by skin_tone: monk_1 -" in r.out
    # --data may be any reference store: the lines name it instead of calling it "training"
    assert f"150 generated vs 150 images of {faces.name} (--data) in " in r.out
    assert f"held-out images of {faces.name} (--data) score: precision" in r.out
    assert "training" not in r.out
    summary = json.loads((out / "fidelity.json").read_text())
    assert summary["n_generated"] == 150 and summary["n_real"] == 150
    assert summary["source"]["run"] == str(vae_run)
    assert summary["made_by"]["command"] == (f"latentplay audit fidelity {vae_run} --data {faces} --n 150 "
                                             f"--by skin_tone --out {out}")
    assert summary["data_digest"] == store_digest(st.load(faces))
    assert 0 <= summary["coverage"] <= 1 and summary["frechet_distance"] > 0
    # the kernel distance's sd is the subsets' spread, and is not printed as if an interval
    kid = summary["kernel_distance"]
    assert f"kernel distance {kid['mean']:.4g} (SD {kid['std']:.2g} over random subsets: their " \
           "spread, not an interval; lower is closer for both)" in " ".join(r.out.split())
    assert "authenticity of the samples nearest to each skin_tone (held-out): " in r.out
    r = cli("report", out)
    assert r.code == 0, r.err
    html = (out / "report.html").read_text()
    assert "Fidelity and coverage" in html and "Coverage by skin_tone" in html
    assert "The held-out row is what other images of" in html
    assert "held-out authenticity" in html and "No held-out row" not in html


def test_a_sample_of_every_training_image_has_no_reference(cli, faces: Path, vae_run: Path,
                                                             tmp_path: Path) -> None:
    """Asking for as many training images as the store holds leaves none held out: neither
    the printout nor the report speaks of held-out values then (a "(held-out)" heading with
    none after it; "the held-out row is ..." beside a table without one)."""
    out = tmp_path / "f"
    r = cli("audit", "fidelity", vae_run, "--data", faces, "--n", "600", "--by", "skin_tone",
            "--out", out)
    assert r.code == 0, r.err
    assert "no held-out reference" in r.out
    assert "authenticity of the samples nearest to each skin_tone: " in r.out
    assert r.out.count("held-out") == 1, r.out    # the "no held-out reference" line alone
    summary = json.loads((out / "fidelity.json").read_text())
    assert summary["n_real"] == 600 and summary["reference"] is None
    assert cli("report", out).code == 0
    html = (out / "report.html").read_text()
    assert "The held-out row" not in html and "held-out authenticity" not in html
    assert f"No held-out row: the images of {faces.name} compared leave too few others" in html
    assert "beside that of held-out images" not in html


@pytest.mark.parametrize(("extra", "message"), [
    (("--by", "smile"), "--by smile: the attribute is continuous"),
    (("--by", "race"), "no attribute 'race'"),
    (("-o", "dim=8", "--k", "400"), "k=400"),
    (("--features", "nosuch"), "nosuch"),
    (("--device", "tpu"), "--device must be cpu, cuda or auto"),
    # a crop above 1 or NaN cropped nothing, silently; 0 cropped to one pixel
    (("--crop", "2"), "--crop must be in (0, 1] (the share of the shorter side kept), got 2"),
    (("--crop", "nan"), "--crop must be in (0, 1] (the share of the shorter side kept), got nan"),
    (("--crop", "0"), "--crop must be in (0, 1] (the share of the shorter side kept), got 0"),
])
def test_bad_input_is_one_line_and_status_2(cli, faces: Path, vae_run: Path, tmp_path: Path,
                                            extra: tuple[str, ...], message: str) -> None:
    r = cli("audit", "fidelity", vae_run, "--data", faces, "--n", "60", "--out",
            tmp_path / "bad", *extra)
    assert r.code == 2, r.err
    lines = r.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], r.err


@pytest.mark.parametrize("crop", [2.0, float("nan"), 0.0])
def test_a_crop_outside_0_1_is_refused_before_any_work(faces: Path, tmp_path: Path, crop: float) -> None:
    images = np.zeros((10, 64, 64, 3), np.uint8)
    with pytest.raises(UserError, match=r"crop must be in \(0, 1\]"):
        audit_fidelity(images, faces, tmp_path / "out", crop=crop)
    assert not (tmp_path / "out").exists()


def test_conditional_rows_see_a_generator_that_swaps_its_classes() -> None:
    """Samples drawn for class 0 land on class 1 and the other way round: together they cover
    both classes, but neither class is covered by the samples drawn for it."""
    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 0.0], [8.0, 0.0]])
    real_codes = np.repeat([0, 1], 150)
    real = centres[real_codes] + rng.normal(size=(300, 2))
    fake_codes = np.repeat([0, 1], 120)
    fake = centres[1 - fake_codes] + rng.normal(size=(240, 2))
    together = prdc(real, fake, k=5)
    assert together.coverage > 0.8
    rows = conditional_rows(real, fake, real_codes, fake_codes, 2, k=5)
    assert [r["n_generated_for"] for r in rows] == [120, 120]
    assert all(r["conditional_coverage"] < 0.05 and r["conditional_precision"] < 0.05
               for r in rows)
    honest = conditional_rows(real, fake, real_codes, 1 - fake_codes, 2, k=5)
    assert all(r["conditional_coverage"] > 0.8 for r in honest)
    few = conditional_rows(real, fake[:3], real_codes, fake_codes[:3], 2, k=5)
    assert few[0]["conditional_coverage"] is None and few[1]["n_generated_for"] == 0
    for drawn, scored in ((5, False), (6, True)):  # k = 5: a class needs more than k samples
        keep = np.r_[0:drawn, 120:240]
        rows = conditional_rows(real, fake[keep], real_codes, fake_codes[keep], 2, k=5)
        assert rows[0]["n_generated_for"] == drawn
        assert (rows[0]["conditional_coverage"] is not None) is scored


def test_conditional_run_samples_under_training_conditions(cli, faces: Path, cvae_run: Path,
                                                          tmp_path: Path) -> None:
    r = cli("audit", "fidelity", cvae_run, "--data", faces, "--n", "120", "-o", "dim=16",
            "--by", "gender", "--out", tmp_path / "free")
    assert r.code == 0, r.err
    assert "coverage of each gender by the samples drawn for it" in r.out
    groups = json.loads((tmp_path / "free" / "fidelity.json").read_text())["groups"]["gender"]
    assert sum(g["n_generated_for"] for g in groups) == 120
    assert all("conditional_coverage" in g for g in groups)
    assert cli("report", tmp_path / "free").code == 0
    assert "its coverage" in (tmp_path / "free" / "report.html").read_text()
    r = cli("audit", "fidelity", cvae_run, "--data", faces, "--n", "30", "-o", "dim=16",
            "--condition", "smile=0,gender=female", "--by", "gender", "--out", tmp_path / "female")
    assert r.code == 0, r.err
    source = json.loads((tmp_path / "female" / "fidelity.json").read_text())["source"]
    assert source["condition"] == {"smile": 0.0, "gender": "female"}


def test_run_and_images_are_exclusive(cli, faces: Path, vae_run: Path, tmp_path: Path) -> None:
    r = cli("audit", "fidelity", vae_run, "--images", faces, "--data", faces, "--out", tmp_path / "x")
    assert r.code == 2 and "either a RUN" in r.err


def test_order_trend_reads_coverage_along_ordered_classes(tmp_path: Path) -> None:
    from types import SimpleNamespace

    from latentplay.audit.fidelity import order_trend
    from latentplay.store import Attribute, Provenance, Schema

    tone = np.repeat([0, 1, 2, 3], 20)          # class 3 is 'unknown': outside the order
    schema = Schema(attributes=[
        Attribute("tone", "categorical", names=["t0", "t1", "t2", "unknown"], ordered=True),
        Attribute("site", "categorical", names=["a", "b", "c", "d"])],
        provenance=Provenance(source="test", converter="unit"))
    image = st.encode_png(np.zeros((4, 4, 3), np.uint8))
    store = st.build([{"image": [image] * 80, "tone": tone, "site": tone}], schema,
                     tmp_path / "s")
    rows = np.arange(80)
    covered = np.concatenate([np.ones(20), np.tile([1, 0], 10), np.zeros(20), np.ones(20)])
    result = SimpleNamespace(real_covered=covered.astype(bool),
                             real_recalled=np.ones(80, bool))
    trend = order_trend(store, "tone", rows, result)
    assert trend["classes"] == ["t0", "t1", "t2"]
    assert trend["coverage"]["slope"] == pytest.approx(-0.5)
    assert trend["coverage"]["high"] < 0 and trend["recall"]["slope"] == pytest.approx(0.0)
    assert order_trend(store, "site", rows, result) is None
    two = np.r_[0:40, 60:80]                     # t0, t1 and unknown: two classes of the order
    assert order_trend(store, "tone", two, SimpleNamespace(real_covered=covered[two].astype(bool),
                                                           real_recalled=np.ones(60, bool))) is None


def test_order_trend_steps_over_a_class_without_rows(tmp_path: Path) -> None:
    """Tones t0, t1 and t3 of t0..t3 (t2 without rows) covered 1, 0.9 and 0.7: -0.1 per step
    at places 0, 1, 3, and t2 is named the trend's gap."""
    from types import SimpleNamespace

    from latentplay.store import Attribute, Provenance, Schema

    tone = np.repeat([0, 1, 3], 10)
    schema = Schema(attributes=[Attribute("tone", "categorical", names=["t0", "t1", "t2", "t3"],
                                          ordered=True)],
                    provenance=Provenance(source="test", converter="unit"))
    store = st.build([{"image": [st.encode_png(np.zeros((4, 4, 3), np.uint8))] * 30,
                       "tone": tone}], schema, tmp_path / "s")
    covered = np.concatenate([np.arange(10) < k for k in (10, 9, 7)])
    trend = order_trend(store, "tone", np.arange(30),
                        SimpleNamespace(real_covered=covered, real_recalled=covered))
    assert trend["coverage"]["slope"] == pytest.approx(-0.1)
    assert (trend["groups"], trend["gaps"]) == (["t0", "t1", "t3"], ["t2"])


def test_the_reference_holds_out_persons_not_only_photos(persons: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """In a store of 60 persons with 10 photos each, the held-out reference images show none
    of the persons of the training sample: a new photo of a sampled person is no new face."""
    from latentplay.audit import fidelity

    drawn = []

    def recorded(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        rows, images = training_sample(*args, **kwargs)
        drawn.append(rows)
        return rows, images

    training_sample = fidelity.training_sample
    monkeypatch.setattr(fidelity, "training_sample", recorded)
    found = audit_fidelity(_images(persons)[:80], persons, tmp_path / "f", n_real=100, seed=0)
    identity = np.asarray(st.load(persons).labels("identity"))
    sample, held = drawn
    assert len(held) > 10 and not set(identity[sample]) & set(identity[held])
    assert found["reference"]["held_out"] == "persons"


def test_group_rows_and_trend_count_persons(persons: Path) -> None:
    """60 persons of 10 photos: when a person's photos are covered together, the coverage
    intervals are those of 60 persons, not 600 photos (a bootstrap over the persons)."""
    data = st.load(persons)
    identity = np.asarray(data.labels("identity"))
    rows = np.arange(600)
    result = prdc(np.random.default_rng(0).normal(size=(600, 3)),
                  np.random.default_rng(1).normal(size=(50, 3)), k=3)
    result = dataclasses.replace(result, real_covered=identity % 2 == 0)   # whole persons covered
    for g in group_rows(data, "gender", rows, result):
        n, share = g["n_real"], g["coverage"]
        low, high = g["coverage_ci"]
        wilson = 2 * 1.96 * np.sqrt(share * (1 - share) / n)
        assert low <= share <= high and high - low > 2 * wilson
    trend = order_trend(data, "skin_tone", rows, result, seed=0)
    assert trend is not None
    row_trend = rate_trend(result.real_covered.astype(float),
                           class_places(np.asarray(data.labels("skin_tone")),
                                        data.schema.attribute("skin_tone").level_names))
    width = trend["coverage"]["high"] - trend["coverage"]["low"]
    assert width > 2 * (row_trend["high"] - row_trend["low"])


def test_group_rows_set_each_class_beside_its_own_held_out_reference(faces: Path) -> None:
    """``reference_coverage``, ``reference_recall`` and ``reference_authenticity`` are the
    held-out images' measures over the class's own rows, not over all of them."""
    data = st.load(faces)
    rng = np.random.default_rng(1)
    real = rng.normal(size=(40, 3))
    result = prdc(real, rng.normal(size=(30, 3)), k=3)
    reference = prdc(real, rng.normal(size=(30, 3)) * 0.5, k=3)
    codes = np.asarray(data.labels("skin_tone"))[:40]
    names = data.schema.attribute("skin_tone").level_names
    groups = group_rows(data, "skin_tone", np.arange(40), result, reference=reference)
    per_class = []
    for g in groups:
        members = codes == names.index(g["class"])
        if not members.any():
            assert g["reference_coverage"] is None and g["reference_recall"] is None
            continue
        per_class.append(g["reference_coverage"])
        assert g["reference_coverage"] == pytest.approx(reference.real_covered[members].mean())
        assert g["reference_recall"] == pytest.approx(reference.real_recalled[members].mean())
        near = codes[reference.fake_nearest_real] == names.index(g["class"])
        assert g["reference_n_nearest"] == near.sum()
        if near.any():
            assert g["reference_authenticity"] == pytest.approx(1 - reference.fake_copy[near].mean())
    assert len(set(per_class)) > 1  # the classes differ: a pooled share would show here


def test_a_class_the_annotator_lacks_gets_no_generated_images(faces: Path) -> None:
    """The images the annotator gave no class (-1) are no store class's: a store class the
    annotator does not know has none, not the unclassified images' precision."""
    data = st.load(faces)
    rng = np.random.default_rng(0)
    result = prdc(rng.normal(size=(40, 3)), rng.normal(size=(30, 3)), k=3)
    names = data.schema.attribute("skin_tone").level_names
    known = names[:-1]                                   # the annotator lacks the last class
    predicted = np.where(np.arange(30) < 10, -1, np.arange(30) % len(known))
    rows = {g["class"]: g for g in group_rows(data, "skin_tone", np.arange(40), result,
                                              predicted, known)}
    assert rows[names[-1]]["n_generated"] == 0 and rows[names[-1]]["precision"] is None
    assert sum(rows[c]["n_generated"] for c in known) == 20
    for index, name in enumerate(known):
        mine = predicted == index
        assert rows[name]["n_generated"] == mine.sum()
        if mine.any():
            assert rows[name]["precision"] == pytest.approx(result.fake_inside[mine].mean())
            assert rows[name]["density"] == pytest.approx(result.fake_density[mine].mean())


def test_a_store_folder_named_generated_is_called_reference(cli, faces: Path, vae_run: Path,
                                                           tmp_path: Path) -> None:
    """A --data store in a folder named "generated" would name both sides alike; the lines call it
    the reference instead."""
    data = tmp_path / "generated"
    shutil.copytree(faces, data)
    r = cli("audit", "fidelity", vae_run, "--data", data, "--n", "40", "--option", "dim=8",
            "--out", tmp_path / "fid")
    assert r.code == 0, r.err
    assert "40 generated vs 40 images of reference (--data) in " in r.out
    assert "images of generated" not in r.out


@pytest.mark.parametrize("real", ["-5", "0"])
def test_a_real_count_below_one_is_one_line_and_status_2(cli, faces: Path, tmp_path: Path,
                                                          real: str) -> None:
    """--real -5 was a numpy traceback and --real 0 silently meant the default."""
    r = cli("audit", "fidelity", "--images", faces, "--data", faces, "--real", real,
            "--out", tmp_path / "bad")
    assert r.code == 2, r.err
    lines = r.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "--real" in lines[0], r.err


def test_uncovered_ratios_near_1_tell_covered_from_uncovered(monkeypatch: pytest.MonkeyPatch,
                                                            tmp_path: Path) -> None:
    """A training image is covered when its ratio is below 1: 0.9996 and 1.0004 must not both
    print as 1."""
    from latentplay.audit import fidelity
    from latentplay.viz import grid

    figures = []
    monkeypatch.setattr(grid, "save_figure", lambda fig, path: figures.append(fig))
    rng = np.random.default_rng(0)
    real, fake = rng.normal(size=(12, 2)), rng.normal(size=(12, 2))
    result = dataclasses.replace(prdc(real, fake, k=3), real_nearest=np.full(12, 1.0),
                                 real_radius=np.r_[1 / 0.9996, 1 / 1.0004, np.full(10, 2.0)])
    images = np.zeros((12, 4, 4, 3), np.uint8)
    fidelity._uncovered_figure(tmp_path / "u.png", real, fake, images, images, result, "faces")
    texts = [t.get_text() for ax in figures[0].axes for t in ax.texts]
    assert "ratio = 1.0004" in texts and "ratio = 0.9996" in texts
    assert "< 1: covered" in figures[0]._suptitle.get_text()


def test_uncovered_images_of_equal_ratio_come_in_row_order(monkeypatch: pytest.MonkeyPatch,
                                                           tmp_path: Path) -> None:
    """The 12 least covered of 30 training images whose ratios tie in blocks of ten: the ten
    at 0.7, then the first two at 0.5, each block in row order on every machine (numpy's
    default sort reordered ties where its vectorised sort runs)."""
    from latentplay.audit import fidelity
    from latentplay.viz import grid

    shown = []
    monkeypatch.setattr(fidelity, "_pairs_figure", lambda left, *args: shown.append(left))
    monkeypatch.setattr(grid, "save_figure", lambda fig, path: None)
    rng = np.random.default_rng(0)
    real, fake = rng.normal(size=(30, 2)), rng.normal(size=(30, 2))
    result = dataclasses.replace(prdc(real, fake, k=3), real_radius=np.ones(30),
                                 real_nearest=np.repeat([0.3, 0.7, 0.5], 10))
    images = np.arange(30, dtype=np.uint8)[:, None, None, None] * np.ones((1, 2, 2, 3), np.uint8)
    fidelity._uncovered_figure(tmp_path / "u.png", real, fake, images, images, result, "faces")
    assert shown[0][:, 0, 0, 0].tolist() == [*range(10, 20), 20, 21]


def test_a_small_reference_is_set_beside_the_samples_at_its_count(cli, faces: Path,
                                                                    vae_run: Path,
                                                                    tmp_path: Path) -> None:
    """500 samples against 500 of the 600 training faces leave 100 held out: the reference
    is measured at 100, and so, beside it, are 100 of the samples (coverage, recall and the
    Fréchet distance move with the count, so only those compare)."""
    from latentplay.audit.fidelity import _measures_at

    r = cli("audit", "fidelity", vae_run, "--data", faces, "--n", "500", "--out", tmp_path / "f")
    assert r.code == 0, r.err
    summary = json.loads((tmp_path / "f" / "fidelity.json").read_text())
    ref = summary["reference"]
    assert summary["n_generated"] == 500 and ref["n"] == 100
    at = ref["generated_at_n"]
    assert at["n"] == 100 and 0 <= at["coverage"] <= 1 and at["frechet_distance"] > 0
    assert "100 held-out images" in r.out and "100 of the generated, the held-out count, score" in r.out
    rng = np.random.default_rng(0)
    real, fake = rng.normal(size=(40, 3)), rng.normal(size=(30, 3))
    whole = _measures_at(real, fake, 30, 3, 0)
    assert whole == {"n": 30, **prdc(real, fake, k=3).to_dict(),
                     "frechet_distance": frechet_distance(real, fake)}
