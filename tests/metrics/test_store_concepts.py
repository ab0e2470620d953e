"""Concept models on a store (``metrics concepts --data``): a store's attributes as concept
columns and task, the held-out split, the leakage of other attributes beyond the true concepts,
and the report of such a folder."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from latentplay import sources, store
from latentplay.errors import UserError
from latentplay.metrics.store_concepts import BINS, concept_leakage, store_concept_data

TINY = ("--epochs", "1", "--size", "32", "--threads", "1")


def test_attributes_become_concept_columns(faces_store: Path) -> None:
    """smile (continuous in [-1, 1]) is scaled to [0, 1] with 20 equal-width levels; eyeglasses
    (two classes) is one column, 1 for ``yes``; hair colour (five classes) is one-hot; the task
    codes name gender's classes; the two parts cover every row once."""
    faces = store.load(faces_store)
    parts = store_concept_data(faces, ["smile", "eyeglasses", "hair_color"], "gender", size=32)
    hair = faces.schema.attribute("hair_color").names
    assert parts.train.names == ["smile", "eyeglasses=yes", *(f"hair_color={h}" for h in hair)]
    assert parts.train.categorical == {"eyeglasses=yes": [1], "hair_color": [2, 3, 4, 5, 6]}
    assert parts.classes == ["female", "male"]
    assert np.array_equal(np.sort(np.concatenate([parts.rows_train, parts.rows_test])),
                          np.arange(len(faces)))
    for part, rows in ((parts.train, parts.rows_train), (parts.test, parts.rows_test)):
        smile = (faces.labels("smile")[rows] + 1) / 2
        assert np.allclose(part.concepts[:, 0], smile)
        assert np.array_equal(part.levels[:, 0], np.minimum((smile * BINS).astype(int), BINS - 1))
        glasses = faces.labels("eyeglasses")[rows] == faces.schema.attribute("eyeglasses").names.index("yes")
        assert np.array_equal(part.concepts[:, 1], glasses.astype(float))
        onehot = part.concepts[:, 2:]
        assert np.array_equal(onehot.argmax(axis=1), faces.labels("hair_color")[rows])
        assert np.all(onehot.sum(axis=1) == 1)
        assert np.array_equal(part.labels, faces.labels("gender")[rows])
        assert part.images.shape == (len(rows), 32, 32, 3)
    assert abs(len(parts.rows_test) - 0.2 * len(faces)) <= 1 and parts.split == "rows"


def test_each_parts_images_are_decoded_alone(faces_store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The training and test images are decoded each on their own, never all rows at once (the
    whole set beside each part's copy held the images twice), and are their rows' images."""
    from latentplay.metrics import store_concepts

    faces = store.load(faces_store)
    decoded: list[int] = []
    load = store_concepts.load_images

    def counting(st, rows, **options):  # type: ignore[no-untyped-def]
        decoded.append(len(rows))
        return load(st, rows, **options)

    monkeypatch.setattr(store_concepts, "load_images", counting)
    parts = store_concept_data(faces, ["eyeglasses"], "gender", size=32)
    monkeypatch.undo()
    train, test = len(parts.rows_train), len(parts.rows_test)
    assert sorted(n for n in decoded if n > 1) == sorted([train, test]) and len(faces) > train > test
    assert sum(decoded) <= len(faces) + 2    # and at most one row each to read the channels
    for part, rows in ((parts.train, parts.rows_train), (parts.test, parts.rows_test)):
        assert np.array_equal(part.images, store.load_images(faces, rows, size=32, mode="RGB"))


def test_rows_without_a_concept_value_train_unsupervised(cli, tmp_path: Path, faces_store: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Hair colours regrouped into dark and light leave red and gray ``unknown``: those rows
    stay (known False, columns 0, levels -1) and are never concept-supervised; rows without a
    task value (age groups regrouped without adults) are left out and counted."""
    import shutil

    from latentplay.metrics import concepts as module
    from latentplay.store.regroup import regroup_store

    shutil.copytree(faces_store, tmp_path / "faces")
    regroup_store(tmp_path / "faces", "hair_color", {"dark": ["black", "brown"], "light": ["blond"]},
                  name="hair")
    regrouped = regroup_store(tmp_path / "faces", "age_group",
                              {"young": ["child", "youth"], "old": ["middle_aged", "senior"]},
                              name="age")
    names = regrouped.schema.attribute("hair_color").names
    grouped = np.isin(regrouped.labels("hair_color"),
                      [names.index(h) for h in ("black", "brown", "blond")])
    parts = store_concept_data(regrouped, ["hair", "smile"], "gender", size=32)
    assert parts.left_out == 0 and len(parts.rows_train) + len(parts.rows_test) == len(regrouped)
    assert parts.unlabelled == int((~grouped).sum()) > 0
    for part, rows in ((parts.train, parts.rows_train), (parts.test, parts.rows_test)):
        assert np.array_equal(part.known, grouped[rows])
        assert np.all(part.levels[~part.known] == -1) and np.all(part.concepts[~part.known] == 0)
        light = regrouped.labels("hair_color")[rows] == names.index("blond")
        assert np.array_equal(part.concepts[part.known, 0], light[part.known].astype(float))
    assert parts.train.names == ["hair=light", "smile"]
    adults = regrouped.labels("age_group") == regrouped.schema.attribute("age_group").names.index("adult")
    by_age = store_concept_data(regrouped, ["smile"], "age", size=32)
    assert by_age.left_out == int(adults.sum()) > 0 and by_age.unlabelled == 0

    seen: list[np.ndarray] = []  # what fit passes to the loss as concept-supervised
    real = module.CBM.loss

    def recording(self, x, c, y, supervised, step):
        seen.append(supervised.numpy().copy())
        return real(self, x, c, y, supervised, step)

    monkeypatch.setattr(module.CBM, "loss", recording)
    config = module.TrainConfig(epochs=1, batch_size=len(parts.train), threads=1)
    module.fit(module.build("cbm", parts.train, 2, config), parts.train, config)
    assert len(seen) == 1 and seen[0].sum() == parts.train.known.sum() < len(parts.train)
    monkeypatch.undo()

    # end to end: recorded, said, and the leakage probe reads only rows with true concepts
    res = cli("metrics", "concepts", "cbm", "--data", tmp_path / "faces", "--concepts",
              "hair,smile", "--label", "gender", "--leak", "background", "--out", tmp_path / "c",
              *TINY)
    assert res.code == 0, res.err
    saved = json.loads((tmp_path / "c" / "metrics.json").read_text())
    assert saved["data"]["unlabelled"] == parts.unlabelled
    assert saved["leakage"]["background"]["images"] <= int(parts.test.known.sum())
    assert f"{parts.unlabelled} without a value of some concept" in " ".join(res.err.split())


def test_persons_are_held_out_whole(tmp_path: Path) -> None:
    """A store of several photos per person holds out whole persons."""
    path = tmp_path / "persons"
    sources.make("synthfaces", path, n=120, seed=1, overrides=["identities=30"])
    persons_store = store.load(path)
    parts = store_concept_data(persons_store, ["smile"], "gender", size=32, seed=3)
    ids = persons_store.labels("identity")
    assert parts.split == "persons"
    assert not set(ids[parts.rows_train]) & set(ids[parts.rows_test])


@pytest.mark.parametrize(("concepts", "label", "message"), [
    (["gender"], "smile", "--label smile is continuous"),
    (["smile", "gender"], "gender", "--label gender is also a concept"),
    (["smile", "smile"], "gender", "--concepts names smile twice"),
    (["nose"], "gender", "nose"),
])
def test_bad_attributes_are_refused(faces_store: Path, concepts: list[str], label: str,
                                    message: str) -> None:
    with pytest.raises(UserError, match=message):
        store_concept_data(store.load(faces_store), concepts, label, size=32)


def test_leakage_beyond_the_concepts_is_measured_against_the_truth() -> None:
    """Activations equal to the true concepts leak nothing beyond them (``beyond`` 0, whatever
    the truth tells of the target); a column that is the target read exactly leaks it all."""
    rng = np.random.default_rng(0)
    truth = rng.uniform(size=(400, 2))
    target = ((truth[:, 0] + rng.normal(0, 0.3, 400)) > 0.5).astype(int)  # the truth tells some
    same = concept_leakage(truth, truth, target)
    assert same["beyond"] == 0.0 and 0.6 < same["truth_accuracy"] < 0.95
    leaky = concept_leakage(np.column_stack([truth, target]), truth, target)
    assert leaky["accuracy"] == 1.0 and leaky["beyond"] == pytest.approx(1.0)
    assert leaky["leakage"] == pytest.approx(1.0)


def test_leakage_beyond_concepts_that_tell_nothing_is_measured_from_chance() -> None:
    """Activations near chance leaked 0.075 "beyond" concepts whose probe overfitted to under
    chance: the baseline is the higher of the truth's accuracy and chance."""
    rng = np.random.default_rng(0)
    truth = rng.normal(size=(120, 20))                  # 20 columns of noise: the probe overfits
    target = rng.integers(0, 6, 120)
    noise = concept_leakage(rng.normal(size=(120, 1)), truth, target, splits=5)
    assert noise["truth_accuracy"] < noise["chance"] - 0.05
    assert noise["beyond"] == pytest.approx(noise["leakage"]) and abs(noise["beyond"]) < 0.02


def test_concepts_on_a_store_write_scores_leakage_and_report(cli, tmp_path: Path,
                                                             faces_store: Path) -> None:
    """``metrics concepts cbm --data`` trains on the store, records the data, scores against
    the chance of guessing the training rows' most frequent class, measures the leakage of the
    ``--leak`` attributes and its report names the classes and shows the leakage."""
    from html import unescape

    from latentplay.report import build_report

    out = tmp_path / "c"
    res = cli("metrics", "concepts", "cbm", "--data", faces_store, "--concepts",
              "smile,eyeglasses,hair_color", "--label", "gender", "--leak", "background,age_group",
              "--out", out, *TINY)
    assert res.code == 0, res.err
    saved = json.loads((out / "metrics.json").read_text())
    parts = store_concept_data(store.load(faces_store), ["smile", "eyeglasses", "hair_color"],
                               "gender", size=32)
    assert saved["data"]["classes"] == ["female", "male"]
    assert saved["data"]["rows_test"] == len(parts.rows_test) == len(np.load(out / "downstream.npy"))
    guess = np.bincount(parts.train.labels).argmax()
    assert saved["task_chance"] == pytest.approx(np.mean(parts.test.labels == guess))
    assert np.array_equal(np.load(out / "downstream.npy")[:, 1], parts.test.labels)
    assert set(saved["leakage"]) == {"background", "age_group"}
    for s in saved["leakage"].values():
        assert s["images"] == len(parts.rows_test) and 0.0 < s["chance"] < 1.0
        baseline = max(s["truth_accuracy"], s["chance"])
        assert s["beyond"] == pytest.approx((s["accuracy"] - baseline) / (1 - baseline))
    assert "background from the concept activations: accuracy" in " ".join(res.err.split())
    html = unescape(build_report(out, tmp_path / "report.html").read_text())
    assert "female" in html and "beyond the concepts" in html and "smile, eyeglasses" in html


@pytest.mark.parametrize(("args", "message"), [
    (("--concepts", "smile"), "error: --concepts takes a store: give it with --data"),
    (("--data", "STORE", "--concepts", "smile"), "--data needs --concepts"),
    (("--data", "STORE", "--concepts", "smile", "--label", "gender", "--leak", "yaw"),
     "--leak yaw is continuous"),
    (("--data", "STORE", "--concepts", "smile", "--label", "gender", "--leak", "gender"),
     "--leak gender is a concept or the task"),
])
def test_store_options_are_checked(cli, tmp_path: Path, faces_store: Path, args: tuple,
                                   message: str) -> None:
    given = [str(faces_store) if a == "STORE" else a for a in args]
    res = cli("metrics", "concepts", "cbm", "--out", tmp_path / "c", *given, *TINY)
    assert res.code == 2
    assert message in " ".join(res.err.split())
    assert not (tmp_path / "c").exists()


def test_a_two_valued_concept_is_scored_by_accuracy() -> None:
    """A concept of two values in one column (``eyeglasses=yes``) is on above 0.5 and scored
    by accuracy beside the most frequent value's share, not by R²."""
    from latentplay.metrics.concepts import ConceptData, concept_scores

    truth = np.array([[0.0], [1.0], [0.0], [0.0]])
    data = ConceptData(np.zeros((4, 2, 2, 1), np.uint8), truth, np.zeros(4, int),
                       truth.astype(int), ["eyeglasses=yes"], {"eyeglasses=yes": [0]})
    scores = concept_scores(np.array([[0.2], [0.7], [0.9], [0.4]]), data)
    assert scores == {"eyeglasses=yes": {"accuracy": 0.75, "chance": 0.75, "learned": False}}


def test_a_stores_glancenet_gets_latents_beyond_its_concepts(cli, tmp_path: Path,
                                                             faces_store: Path) -> None:
    """By default a store's GlanceNet has 16 latents beyond its concept columns (with few, the
    concept latents carry the rest of the face); ``--latent-dim`` sets them, and fewer than
    the concept columns, or any for a cbm, is refused."""
    from latentplay.metrics.store_concepts import FREE_LATENTS

    args = ("--data", faces_store, "--concepts", "smile,hair_color", "--label", "gender")
    res = cli("metrics", "concepts", "glancenet", *args, "--out", tmp_path / "g", "--n", "80", *TINY)
    assert res.code == 0, res.err
    saved = json.loads((tmp_path / "g" / "metrics.json").read_text())
    assert saved["model"]["latent_dim"] == 6 + FREE_LATENTS
    assert np.load(tmp_path / "g" / "latents.npy").shape[1] == 6 + FREE_LATENTS
    res = cli("metrics", "concepts", "glancenet", *args, "--out", tmp_path / "few", "--latent-dim",
              "5", *TINY)
    assert res.code == 2 and "--latent-dim 5 is fewer than the 6 concept columns" in res.err
    res = cli("metrics", "concepts", "cbm", *args, "--out", tmp_path / "c", "--latent-dim", "8", *TINY)
    assert res.code == 2 and "a cbm has no latent space" in res.err


def test_model_settings_are_given_as_key_value(cli, tmp_path: Path) -> None:
    """GlanceNets' ``--loss_terms``: ``loss.terms=[betatcvae,dipvae_ii]`` and a term's weight
    reach the model and are recorded; a setting the kind or an option decides, an unknown key
    and a term list without a KL term are refused in one line."""
    out = tmp_path / "g"
    res = cli("metrics", "concepts", "glancenet", "loss.terms=[betatcvae,dipvae_ii]",
              "loss.betatcvae.beta=4", "concept_weight=50", "--out", out, "--n", "40", *TINY)
    assert res.code == 0, res.err
    model = json.loads((out / "metrics.json").read_text())["model"]
    assert model["loss"]["terms"] == ["betatcvae", "dipvae_ii"]
    assert model["loss"]["betatcvae"]["beta"] == 4 and model["concept_weight"] == 50
    assert model["conditional_prior"] is True and model["latent_dim"] == 10
    for args, message in ((("masking_fact=10",), "masking_fact is set by --masking-fact"),
                          (("conditional_prior=false",), "conditional_prior is set by the kind"),
                          (("nose=1",), "bad config override"),
                          (("loss.terms=[dipvae_ii]",), "loss.terms needs exactly one of"),
                          # a term not in loss.terms: trained as plain β-VAE, with no word
                          (("loss.betatcvae.beta=6",), "loss.betatcvae.beta=6 has no effect: "
                                                      "betatcvae is not in loss.terms")):
        res = cli("metrics", "concepts", "glancenet", *args, "--out", tmp_path / "x", "--n", "40",
                  *TINY)
        assert res.code == 2 and message in res.err, res.err
        assert len(res.err.strip().splitlines()) == 1


def test_leakage_leaves_out_classes_of_one_test_image(faces_store: Path) -> None:
    """A class with one test image cannot be both trained and tested on by the probe: its
    image is left out (``images`` counts the rest); a target left with one class is skipped."""
    from latentplay.metrics.store_concepts import leakage_of

    faces = store.load(faces_store)
    parts = store_concept_data(faces, ["smile", "eyeglasses"], "gender", size=32)
    tones = faces.labels("skin_tone")[parts.rows_test]
    counts = np.bincount(tones)
    found = leakage_of(faces, parts, parts.test.concepts, ["skin_tone", "age_group"])
    assert found["skin_tone"]["images"] == int(np.sum(counts[tones] >= 2))
    tone = found["skin_tone"]        # the activations are the true concepts: nothing beyond them
    assert tone["beyond"] == (0.0 if tone["truth_accuracy"] >= tone["chance"] else pytest.approx(
        (tone["truth_accuracy"] - tone["chance"]) / (1 - tone["chance"])))
    from dataclasses import replace

    female = np.flatnonzero(parts.test.labels == 0)
    women = replace(parts, rows_test=parts.rows_test[female], test=parts.test.subset(female))
    assert leakage_of(faces, women, women.test.concepts, ["gender"]) == {
        "gender": {"skipped": "fewer than two classes of two test images each"}}


def test_leakage_halves_whole_persons() -> None:
    """Activations that tell persons apart but nothing of a per-person target read it over
    row halvings (the probe recognises persons seen on the other side) and not over person
    halvings, which keep every person on one side; without persons the halvings are the rows'."""
    from latentplay.metrics.leakage import probe_splits

    rng = np.random.default_rng(0)
    persons = np.repeat(np.arange(60), 8)
    target = rng.integers(0, 2, 60)[persons]
    codes = rng.normal(size=(60, 80))[persons] + rng.normal(0, 0.05, (480, 80))
    for tr, te in probe_splits(target, 5, 0, groups=persons):
        assert not set(persons[tr]) & set(persons[te]) and len(tr) + len(te) == 480
    by_rows = probe_splits(target, 3, 0)
    assert all(np.array_equal(a[0], b[0]) for a, b in
               zip(by_rows, probe_splits(target, 3, 0, groups=np.arange(480)), strict=True))
    truth = np.zeros((480, 1))
    rows = concept_leakage(codes, truth, target)
    whole = concept_leakage(codes, truth, target, groups=persons)
    assert rows["accuracy"] > 0.95 and whole["accuracy"] < 0.6


def test_leakage_of_a_store_of_persons_halves_persons(tmp_path: Path) -> None:
    from latentplay.metrics.store_concepts import leakage_of

    path = tmp_path / "persons"
    sources.make("synthfaces", path, n=200, seed=2, overrides=["identities=40"])
    people = store.load(path)
    parts = store_concept_data(people, ["smile"], "gender", size=32, seed=1)
    found = leakage_of(people, parts, parts.test.concepts, ["skin_tone"])
    assert found["skin_tone"]["halved"] == "persons"


def test_the_stores_own_split_is_held_out(cli, tmp_path: Path, faces_store: Path) -> None:
    """``--split store`` tests on the store's own test part (among the rows with a task
    value), whatever --test-fraction says; the data record, the printout and the report say
    so. Without --data, or an unknown name, it is refused."""
    from html import unescape

    from latentplay.report import build_report
    from latentplay.store.split import split_store

    path = tmp_path / "faces"
    store.save(store.load(faces_store), path)
    split_store(path, test=0.3, seed=5)
    faces = store.load(path)
    test_rows = np.flatnonzero(faces.labels("split") == 1)
    parts = store_concept_data(faces, ["smile"], "gender", size=32, test_fraction=0.9,
                               split="store")
    assert parts.split == "store" and np.array_equal(parts.rows_test, test_rows)
    out = tmp_path / "c"
    res = cli("metrics", "concepts", "cbm", "--data", path, "--concepts", "smile,eyeglasses",
              "--label", "gender", "--split", "store", "--out", out, *TINY)
    assert res.code == 0, res.err
    assert f"{len(test_rows)} test images (the store's own split held out)" in " ".join(res.err.split())
    saved = json.loads((out / "metrics.json").read_text())
    assert saved["data"]["split"] == "store" and saved["data"]["rows_test"] == len(test_rows)
    html = unescape(build_report(out, tmp_path / "report.html").read_text())
    assert "the store's own split" in html
    with pytest.raises(UserError, match="--split must be one of auto, rows, persons, store"):
        store_concept_data(faces, ["smile"], "gender", size=32, split="published")
    res = cli("metrics", "concepts", "cbm", "--split", "store", "--out", tmp_path / "d", *TINY)
    assert res.code == 2 and "--split takes a store" in res.err
