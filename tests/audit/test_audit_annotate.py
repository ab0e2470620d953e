"""Classifier and CLIP annotators: accuracy, confusion, save/load, and their errors."""

from __future__ import annotations

import copy
import json
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from audit_stores import unlabelled

from latentplay import sources
from latentplay import store as st
from latentplay.audit import (
    ClassifierAnnotator,
    ClipAnnotator,
    Evaluation,
    class_prompts,
    fit_classifier,
    load_annotator,
)
from latentplay.errors import UserError


@pytest.fixture(scope="module")
def tones(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """400 synthfaces with all 10 skin tones (uniform)."""
    path = tmp_path_factory.mktemp("tones") / "faces"
    sources.make("synthfaces", path, n=400, seed=1)
    return path


def test_ten_skin_tones_well_above_chance_and_round_trip(tones: Path, tmp_path: Path) -> None:
    ann = fit_classifier(tones, "skin_tone", options=["dim=32"], seed=0)
    ev = ann.evaluation
    assert ann.classes == [f"monk_{k}" for k in range(1, 11)]
    assert ev.n == 100 and ev.counts.sum() == 100
    assert ev.accuracy > 0.35  # chance is 0.1
    assert np.allclose(ev.confusion.sum(axis=1), 1.0)
    assert ev.accuracy == pytest.approx(np.trace(ev.counts) / ev.n)
    # neighbouring tones are confused more than distant ones
    c = ev.confusion
    near = np.mean([c[i, j] for i in range(10) for j in range(10) if abs(i - j) == 1])
    far = np.mean([c[i, j] for i in range(10) for j in range(10) if abs(i - j) >= 4])
    assert near > far
    path = ann.save(tmp_path / "ann.npz")
    loaded = load_annotator(path)
    s = st.load(tones)
    images = st.load_images(s, np.arange(60))
    assert np.array_equal(loaded.predict_proba(images), ann.predict_proba(images))
    assert loaded.classes == ann.classes and loaded.attribute == "skin_tone"
    assert np.array_equal(loaded.evaluation.confusion, ev.confusion)
    assert loaded.evaluation.confidence == ev.confidence
    # images of another size are resized like the store's
    small = np.stack([np.asarray(st.images.fit_image(
        st.images.decode({"bytes": st.encode_png(im)["bytes"]}), 32)) for im in images])
    assert np.mean(ann.predict(small) == ann.predict(images)) > 0.7


def test_evaluation_from_probabilities() -> None:
    proba = np.array([[0.9, 0.1], [0.4, 0.6], [0.7, 0.3], [0.2, 0.8]])
    ev = Evaluation.from_proba(np.array([0, 0, 1, 1]), proba)
    assert ev.accuracy == 0.5 and ev.counts.tolist() == [[1, 1], [1, 1]]
    assert ev.confidence == pytest.approx((0.9 + 0.6 + 0.7 + 0.8) / 4)
    assert ev.to_dict()["confidence"] == ev.confidence


def test_evaluate_on_a_store(skin_annotator: ClassifierAnnotator, faces: Path) -> None:
    assert skin_annotator.classes == ["monk_2", "monk_8"]
    assert skin_annotator.evaluation.accuracy > 0.95
    held_out = skin_annotator.evaluation
    annotator = copy.copy(skin_annotator)  # evaluate() keeps its result: not in the session's annotator
    ev = annotator.evaluate(faces, max_rows=200)
    assert ev.n == 200 and ev.accuracy > 0.95
    assert annotator.evaluation is ev and skin_annotator.evaluation is held_out


def test_classifier_errors(faces: Path, tmp_path: Path) -> None:
    with pytest.raises(UserError, match="continuous"):
        fit_classifier(faces, "smile")
    with pytest.raises(UserError, match="no attribute 'race'"):
        fit_classifier(faces, "race")
    bad = tmp_path / "bad.npz"
    np.savez(bad, x=np.zeros(3))
    with pytest.raises(UserError, match="not a latentplay annotator"):
        load_annotator(bad)
    with pytest.raises(UserError, match="no annotator file"):
        load_annotator(tmp_path / "missing.npz")
    pickled = tmp_path / "skin.npy"  # numpy's own words invited loading it with allow_pickle
    np.save(pickled, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(UserError, match="not a latentplay annotator") as refused:
        load_annotator(pickled)
    assert "pickle" not in str(refused.value)


def test_a_damaged_annotator_file_is_one_line(skin_annotator: ClassifierAnnotator,
                                              tmp_path: Path) -> None:
    """A file cut short (an interrupted copy) or missing an array is refused with its path."""
    whole = skin_annotator.save(tmp_path / "whole.npz")
    cut = tmp_path / "cut.npz"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    with pytest.raises(UserError, match="cut.npz is not a latentplay annotator file"):
        load_annotator(cut)
    (tmp_path / "empty.npz").write_bytes(b"")
    with pytest.raises(UserError, match="empty.npz is not a latentplay annotator file"):
        load_annotator(tmp_path / "empty.npz")
    with np.load(whole, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files if k != "coef"}
    np.savez(tmp_path / "no_coef.npz", **arrays)
    with pytest.raises(UserError, match="no_coef.npz is an incomplete latentplay annotator file "
                       "\\(no 'coef'\\)"):
        load_annotator(tmp_path / "no_coef.npz")
    meta = json.loads(str(arrays["meta"]))
    for key in ("attribute", "classes"):          # a hand-edited file missing a meta key
        edited = {**arrays, "meta": np.array(json.dumps({k: v for k, v in meta.items() if k != key}))}
        edited["coef"] = np.load(whole, allow_pickle=False)["coef"]
        np.savez(tmp_path / f"no_{key}.npz", **edited)
        with pytest.raises(UserError, match=f"no_{key}.npz is an incomplete latentplay annotator "
                           f"file \\(no '{key}'\\)"):
            load_annotator(tmp_path / f"no_{key}.npz")


def test_clip_prompts_and_missing_open_clip(tmp_path: Path) -> None:
    assert class_prompts(["female", "middle_aged"]) == [["a photo of a female person"],
                                                         ["a photo of a middle aged person"]]
    assert class_prompts(["monk_1", "monk_2"], "a face with skin tone {}",
                         {"monk_1": "a face with very light skin"}) == [
        ["a face with very light skin"], ["a face with skin tone monk 2"]]
    # several templates (a template given twice counts once) and a class's own prompts
    assert class_prompts(["female", "male"], ["a photo of a {} person", "a {} face",
                                              "a {} face"], {"male": ["a man", "a male face"]}) == [
        ["a photo of a female person", "a female face"], ["a man", "a male face"]]
    with pytest.raises(UserError, match="needs a \\{\\}"):
        class_prompts(["a"], "no placeholder")
    with pytest.raises(UserError, match="'no placeholder' needs a"):
        class_prompts(["a"], ["a {} face", "no placeholder"])
    with pytest.raises(UserError, match="at least one prompt template"):
        class_prompts(["a"], [])
    with pytest.raises(UserError, match=r"no prompt given for the classes \['a'\]"):
        class_prompts(["a", "b"], prompts={"a": []})
    with pytest.raises(UserError, match="unknown classes"):
        class_prompts(["a"], prompts={"b": "x"})
    weights = tmp_path / "clip.bin"
    weights.write_bytes(b"\0" * 16)
    try:
        import open_clip  # noqa: F401
    except ImportError:
        with pytest.raises(UserError, match="needs open_clip, which is not installed"):
            ClipAnnotator(weights, "gender", ["female", "male"])
    with pytest.raises(UserError, match="does not exist"):
        ClipAnnotator(tmp_path / "missing.bin", "gender", ["female", "male"])


class ColourDirection(torch.nn.Module):
    """A stand-in for CLIP's image encoder: the mean of each channel minus their average (a
    3-d embedding pointing towards the image's dominant colour)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        means = x.mean((2, 3))
        return means - means.mean(1, keepdim=True)


def _patches(path: Path, classes: np.ndarray, labels: np.ndarray | None = None,
             frames: np.ndarray | None = None) -> tuple[st.Store, np.ndarray]:
    """24 x 24 dark noisy images with a red, green or blue patch (``classes`` 0..2), labelled
    ``color`` by ``labels`` (default ``classes``; 3 is ``unknown``, -1 no label); with
    ``frames``, a second attribute ``frame`` (thin, thick; -1 no label)."""
    rng = np.random.default_rng(0)
    images = rng.integers(0, 40, (len(classes), 24, 24, 3)).astype(np.uint8)
    for i, c in enumerate(classes):
        images[i, 4:20, 4:20, c] = rng.integers(150, 250)
    attributes = [st.Attribute("color", "categorical",
                               names=["red", "green", "blue", *([] if labels is None else ["unknown"])])]
    batch = {"image": [st.encode_png(im) for im in images],
             "color": (classes if labels is None else labels).tolist()}
    if frames is not None:
        attributes.append(st.Attribute("frame", "categorical", names=["thin", "thick"]))
        batch["frame"] = frames.tolist()
    schema = st.Schema(attributes=attributes, provenance=st.Provenance(source="tests", converter="tests"))
    return st.build([batch], schema, path), images


def _colour_encoder(folder: Path) -> Path:
    """:class:`ColourDirection` exported as an ONNX image encoder in ``folder``."""
    encoder = folder / "image_encoder.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(ColourDirection().eval(), (torch.zeros(2, 3, 32, 32),), str(encoder),
                          dynamo=False, input_names=["image"], dynamic_axes={"image": {0: "n"}})
    return encoder


def test_clip_zero_shot_from_an_onnx_image_encoder(tmp_path: Path, cli) -> None:
    encoder = _colour_encoder(tmp_path)
    text = tmp_path / "prompts.npz"
    np.savez(text, prompts=np.array(["a red patch", "a green patch", "a blue patch", "a sky"]),
             embeddings=np.array([[2.0, -1, -1], [-1, 2, -1], [-1, -1, 2], [0, 0, 1]]))
    classes = np.arange(30) % 3
    store, images = _patches(tmp_path / "patches", classes)
    ann = ClipAnnotator(f"{encoder}@{text}", "color", ["red", "green", "blue"], template="a {} patch")
    np.testing.assert_array_equal(ann.predict(images), classes)  # 24-px images fed at 32 px
    probs = ann.predict_proba(images)
    assert probs.shape == (30, 3) and np.allclose(probs.sum(1), 1) and probs.max(1).min() > 0.9
    assert ann.evaluate(store).accuracy == 1.0 and ann.evaluation is not None
    assert ann.description["prompts"] == [["a red patch"], ["a green patch"], ["a blue patch"]]
    assert ann.description["text_embeddings"] == str(text)
    r = cli("audit", "compare", "--images", store.path, "--data", store.path, "--annotator",
            f"clip:{encoder}@{text}", "--attribute", "color", "--prompt", "a {} patch",
            "--calibrate", "30", "--out", tmp_path / "audit")
    assert r.code == 0, r.err
    color = json.loads((tmp_path / "audit" / "summary.json").read_text())["attributes"]["color"]
    assert color["annotator"]["kind"] == "clip" and color["annotator"]["evaluation"]["accuracy"] == 1.0
    assert [c["generated_count"] for c in color["per_class"]] == [10, 10, 10]
    with pytest.raises(UserError, match=r"no text embedding for the prompt\(s\) \['a purple patch'\]"):
        ClipAnnotator(f"{encoder}@{text}", "color", ["red", "purple"], template="a {} patch")
    with pytest.raises(UserError, match="needs its prompts' text embeddings"):
        ClipAnnotator(encoder, "color", ["red", "green"])
    np.savez(tmp_path / "wide.npz", prompts=np.array(["a red patch", "a green patch"]),
             embeddings=np.ones((2, 5)))
    with pytest.raises(UserError, match="5-d text embeddings"):
        ClipAnnotator(f"{encoder}@{tmp_path / 'wide.npz'}", "color", ["red", "green"], template="a {} patch")
    np.savez(tmp_path / "bad.npz", words=np.ones(2))
    with pytest.raises(UserError, match="not an .npz of 'prompts' and 'embeddings'"):
        ClipAnnotator(f"{encoder}@{tmp_path / 'bad.npz'}", "color", ["red", "green"])


def test_clip_labels_every_image_of_a_store(tmp_path: Path, cli) -> None:
    """``data predict --with clip:`` writes CLIP's zero-shot class of each image and its
    probability for every head, in one write (an .npz in the spec was taken for an annotator
    file: "no annotator file at clip:..."); the store's own labels are compared."""
    encoder = _colour_encoder(tmp_path)
    text = tmp_path / "prompts.npz"
    np.savez(text, prompts=np.array(["a red patch", "a green patch", "a blue patch",
                                     "a dark patch", "a bright patch"]),
             embeddings=np.array([[2.0, -1, -1], [-1, 2, -1], [-1, -1, 2], [0, 0, -1], [0, 0, 1]]))
    classes = np.arange(30) % 3
    store, _ = _patches(tmp_path / "patches", classes)
    spec = f"clip:{encoder}@{text}"
    r = cli("data", "predict", store.path, "--with", spec, "--heads",
            "color=red,green,blue;tone=dark,bright", "-o", "template=a {} patch")
    assert r.code == 0, r.err
    labelled = st.load(store.path)
    np.testing.assert_array_equal(labelled.labels("predicted_color"), classes)
    assert np.all(labelled.labels("predicted_color_p") > 0.9)
    assert labelled.schema.attribute("predicted_tone").names == ["dark", "bright"]
    entry = labelled.schema.history[-1]
    assert entry["annotator"] == spec and len(entry["description"]) == 2
    assert entry["attributes"] == ["predicted_color", "predicted_color_p", "predicted_tone",
                                   "predicted_tone_p"]
    assert "predicted_color equals color in 1.000 of 30 rows" in r.out
    for args, message in ((["--heads", "color:sigmoid"], "give the heads color as NAME=CLASS"),
                          ([], "--heads is needed with clip"),
                          (["--heads", "color=red,green", "-o", "align=none"],
                           "-o align=none: clip: takes template=..., model=..., device=...")):
        bad = cli("data", "predict", store.path, "--with", spec, "--prefix", "x_", *args)
        assert bad.code == 2 and message in bad.err and len(bad.err.strip().splitlines()) == 1, bad.err


def test_clip_prompt_templates_with_other_braces_are_refused_in_one_line(tmp_path: Path, cli) -> None:
    """A template with a second ``{}``, a named field or a lone brace is a UserError (it was
    an IndexError, KeyError or ValueError from str.format); ``{{ }}`` stay literal."""
    for template in ("a {} photo of a {} person", "a {} {name}", "a {} }", "a {{}} person"):
        with pytest.raises(UserError, match="needs a \\{\\} where the class goes \\(one"):
            class_prompts(["female", "male"], template)
    assert class_prompts(["female"], "a {{x}} {}") == [["a {x} female"]]
    store, _ = _patches(tmp_path / "patches", np.arange(6) % 3)
    r = cli("audit", "compare", "--images", store.path, "--data", store.path, "--annotator",
            f"clip:{tmp_path / 'none.onnx'}@{tmp_path / 'none.npz'}", "--attribute", "color",
            "--prompt", "a {} {} patch", "--out", tmp_path / "audit")
    assert r.code == 2 and "needs a {} where the class goes (one" in r.err


def test_clip_prompt_ensembles_read_each_class_by_its_prompts_mean_direction(tmp_path: Path,
                                                                            cli) -> None:
    """Several templates: each class's text embedding is the mean of its prompts' unit
    embeddings made unit length again (Radford et al. 2021), so the probabilities are the
    softmax of 100 x the images' cosines with those means; both commands take them."""
    encoder = _colour_encoder(tmp_path)
    text = tmp_path / "prompts.npz"
    table = {"a red patch": [2.0, -1, -1], "a green patch": [-1, 2, -1],
             "a red square": [3.0, 0, -3], "a green square": [0, 1, 0],
             "a blue patch": [-1, -1, 2], "a blue square": [0, -1, 2]}
    np.savez(text, prompts=np.array(list(table)), embeddings=np.array(list(table.values())))
    store, images = _patches(tmp_path / "patches", np.arange(12) % 2)
    templates = ["a {} patch", "a {} square"]
    ann = ClipAnnotator(f"{encoder}@{text}", "color", ["red", "green"], template=templates)
    assert ann.description["prompts"] == [["a red patch", "a red square"],
                                          ["a green patch", "a green square"]]

    def unit(v: list[float]) -> np.ndarray:
        return np.asarray(v) / np.linalg.norm(v)

    red = unit(unit(table["a red patch"]) + unit(table["a red square"]))
    green = unit(unit(table["a green patch"]) + unit(table["a green square"]))
    np.testing.assert_allclose(ann.text, [red, green], atol=1e-12)
    x = ann.embedder.embed(images)
    logits = 100 * x.astype(np.float64) @ np.stack([red, green]).T
    expected = np.exp(logits - logits.max(1, keepdims=True))
    np.testing.assert_allclose(ann.predict_proba(images), expected / expected.sum(1, keepdims=True),
                               atol=1e-6)
    # one template: the class's own unit vector, as before ensembles
    single = ClipAnnotator(f"{encoder}@{text}", "color", ["red", "green"], template="a {} square")
    np.testing.assert_allclose(single.text, [unit(table["a red square"]), unit(table["a green square"])])
    # audit compare --prompt twice and data predict -o template= twice reach the annotator
    r = cli("audit", "compare", "--images", store.path, "--data", store.path, "--annotator",
            f"clip:{encoder}@{text}", "--attribute", "color", "--prompt", "a {} patch",
            "--prompt", "a {} square", "--calibrate", "12", "--out", tmp_path / "audit")
    assert r.code == 0, r.err
    color = json.loads((tmp_path / "audit" / "summary.json").read_text())["attributes"]["color"]
    assert color["annotator"]["prompts"] == [*ann.description["prompts"],   # the store's 3 classes
                                             ["a blue patch", "a blue square"]]
    r = cli("data", "predict", store.path, "--with", f"clip:{encoder}@{text}", "--heads",
            "color=red,green", "-o", "template=a {} patch", "-o", "template=a {} square")
    assert r.code == 0, r.err
    entry = st.load(store.path).schema.history[-1]
    assert entry["description"]["prompts"] == ann.description["prompts"]
    np.testing.assert_allclose(st.load(store.path).labels("predicted_color_p"),
                               ann.predict_proba(images).max(1), atol=1e-5)
    bad = cli("data", "predict", store.path, "--with", f"clip:{encoder}@{text}", "--heads",
              "color=red,green", "-o", "model=ViT-B-32", "-o", "model=RN50", "--prefix", "x_")
    assert bad.code == 2 and "-o model= is given twice (ViT-B-32, RN50): give it once" in bad.err


def test_clip_needs_two_classes_and_a_positive_scale(tmp_path: Path) -> None:
    """One prompt wins every image with probability 1 (a reading that cannot err), no prompt
    failed inside numpy; a scale of 0 or below flattens or inverts the softmax."""
    encoder = _colour_encoder(tmp_path)
    text = tmp_path / "prompts.npz"
    np.savez(text, prompts=np.array(["a red patch", "a green patch"]),
             embeddings=np.array([[2.0, -1, -1], [-1, 2, -1]]))
    for classes in ([], ["red"], ["red", "red"]):
        with pytest.raises(UserError, match="needs at least two distinct classes"):
            ClipAnnotator(f"{encoder}@{text}", "color", classes, template="a {} patch")
    for scale in (0.0, -100.0):
        with pytest.raises(UserError, match="logit scale must be positive"):
            ClipAnnotator(f"{encoder}@{text}", "color", ["red", "green"], template="a {} patch",
                          logit_scale=scale)


def test_clip_from_onnx_reads_the_centred_square_as_clip_does(tmp_path: Path) -> None:
    """CLIP's preprocessing keeps the centred square of a non-square photo: a red square
    between two wide blue margins is red (squashing it whole let the margins outvote it)."""
    encoder = _colour_encoder(tmp_path)
    text = tmp_path / "prompts.npz"
    np.savez(text, prompts=np.array(["a red patch", "a green patch", "a blue patch"]),
             embeddings=np.array([[2.0, -1, -1], [-1, 2, -1], [-1, -1, 2]]))
    photo = np.zeros((32, 128, 3), np.uint8)
    photo[:, :, 2] = 220            # blue margins, 48 px each side
    photo[:, 48:80] = (220, 0, 0)   # the centred 32 x 32 square is red
    ann = ClipAnnotator(f"{encoder}@{text}", "color", ["red", "green", "blue"], template="a {} patch")
    assert ann.predict(photo[None]).tolist() == [0]


def test_an_annotator_is_measured_on_persons_it_did_not_see() -> None:
    """With persons repeated, the held-out rows are whole persons, every class on both sides;
    too few persons, or a class of one person, are refused by name."""
    from latentplay.audit.annotate import _held_out

    persons = np.repeat(np.arange(40), 5)
    y = (np.arange(40) % 3)[persons]
    train, test = _held_out(y, persons, 0.25, seed=1, names=["a", "b", "c"])
    assert not set(persons[train]) & set(persons[test])
    assert len(test) / len(y) == pytest.approx(0.25, abs=0.05)
    assert set(y[train]) == set(y[test]) == {0, 1, 2}
    rows_train, rows_test = _held_out(y, None, 0.25, seed=1, names=["a", "b", "c"])
    assert set(persons[rows_train]) & set(persons[rows_test])     # rows split persons
    with pytest.raises(UserError, match="3 persons"):
        _held_out(y[:15], persons[:15], 0.25, seed=1, names=["a", "b", "c"])
    lone = np.where(persons == 0, 2, np.minimum(y, 1))              # class c: one person
    with pytest.raises(UserError, match="'c' has too few persons"):
        _held_out(lone, persons, 0.25, seed=1, names=["a", "b", "c"])


def test_a_class_missing_from_the_held_out_rows_is_refused() -> None:
    """Split by rows, a class of two rows can round to none held out; its confusion row would
    then be unmeasured (and read as always right by the correction): refused by name."""
    from latentplay.audit.annotate import _held_out

    y = np.repeat([0, 1], [30, 2])
    outcomes = []
    for seed in range(10):
        try:
            train, test = _held_out(y, None, 0.25, seed=seed, names=["a", "b"])
        except UserError as err:
            assert "class 'b' has too few rows to be on both sides of the split: none in the " \
                   "test part" in str(err)
            outcomes.append("refused")
        else:
            assert set(y[train]) == set(y[test]) == {0, 1}
            outcomes.append("split")
    assert set(outcomes) == {"refused", "split"}


def test_bad_regularisation_row_limit_or_test_fraction_is_one_line_naming_the_option(
        faces: Path, tmp_path: Path, cli) -> None:
    for flag, value, message in (("--c", "0", r"c \(--c, the inverse regularisation strength\) "
                                  "must be a finite number above 0, got 0.0"),
                                 # scikit-learn fitted inf as no regularisation at all
                                 ("--c", "inf", r"c \(--c, the inverse regularisation strength\) "
                                  "must be a finite number above 0, got inf"),
                                 ("--max-rows", "-1", r"max_rows \(--max-rows\) must be at least 1, got -1"),
                                 # said "test size", a name no option has
                                 ("--test-fraction", "1.5",
                                  r"test_size \(--test-fraction\) must be in \(0, 1\), got 1.5")):
        r = cli("audit", "annotator", faces, "--attribute", "gender", "--out", tmp_path / "a.npz",
                flag, value)
        assert r.code == 2 and re.search(message, r.err), r.err


def test_a_store_of_persons_holds_out_persons(tmp_path: Path) -> None:
    path = tmp_path / "persons"
    sources.make("synthfaces", path, n=240, seed=0, overrides=["identities=40"])
    by_rows = fit_classifier(path, "gender", options=["dim=8"], split="rows")
    assert by_rows.info["held_out"] == "rows" and by_rows.evaluation.persons is not None
    annotator = fit_classifier(path, "gender", options=["dim=8"], split="persons")
    assert annotator.info["held_out"] == "persons"
    assert fit_classifier(path, "gender", options=["dim=8"]).info["held_out"] == "persons"
    ev = annotator.evaluation
    assert ev.n == pytest.approx(60, abs=15)
    assert ev.persons is not None and ev.persons < ev.n and ev.effective is not None
    assert (ev.effective <= ev.counts.sum(axis=1)).all() and (ev.effective >= 1).all()
    saved = annotator.save(tmp_path / "a.npz")
    again = load_annotator(saved).evaluation
    assert again.persons == ev.persons and np.allclose(again.effective, ev.effective)


def test_an_annotator_is_measured_on_the_stores_own_split(tones: Path, tmp_path: Path,
                                                          cli) -> None:
    """``--split store``: the held-out rows are exactly the store's test part (a split
    stratified by gender), whatever --test-fraction says; the printout names it. A store without a
    split, or another --split, is one line."""
    from latentplay.store.split import split_store

    path = tmp_path / "faces"
    st.save(st.load(tones), path)
    split_store(path, test=0.3, stratify=["gender"], seed=2)
    faces = st.load(path)
    test = faces.labels("split") == 1
    annotator = fit_classifier(path, "gender", options=["dim=8"], test_size=0.8, split="store")
    assert annotator.info["held_out"] == "store"
    assert annotator.evaluation.n == test.sum()
    assert np.array_equal(annotator.evaluation.counts.sum(axis=1),
                          np.bincount(faces.labels("gender")[test], minlength=2))
    r = cli("audit", "annotator", path, "--attribute", "gender", "--out", tmp_path / "a.npz",
            "--split", "store", "-o", "dim=8")
    assert r.code == 0, r.err
    assert f"on {test.sum()} images of the store's own test part" in r.out
    # a published split of train and val (FairFace's) is named as it is
    named = st.Attribute("split", "categorical", names=["train", "val"])
    st.save(st.add_attributes(faces, {"split": (named, faces.labels("split"))}, replace=True),
            path)
    r = cli("audit", "annotator", path, "--attribute", "gender", "--out", tmp_path / "v.npz",
            "--split", "store", "-o", "dim=8")
    assert f"on {test.sum()} images of the store's own val part" in r.out, r.err
    lines = r.out.splitlines()           # the columns are named above the rows
    head = lines.index("confusion (rows true, columns predicted):")
    assert lines[head + 1].split() == ["female", "male"]
    assert lines[head + 2].split()[0] == "female" and len(lines[head + 2].split()) == 3
    for store, split, message in ((tones, "store", "has none"),
                                  (path, "published", "--split must be one of auto, rows, "
                                                      "persons, store"),
                                  (path, "persons", "--split persons needs persons")):
        r = cli("audit", "annotator", store, "--attribute", "gender", "--out", tmp_path / "b.npz",
                "--split", split)
        assert r.code == 2 and message in r.err and len(r.err.strip().splitlines()) == 1, r.err


def test_rows_without_a_label_are_no_class(faces: Path, tmp_path: Path) -> None:
    """An annotator trains on labelled rows only; a store's labels read as an annotator give a
    missing label no class; training counts leave it out."""
    from latentplay.audit.annotate import StoreLabels
    from latentplay.audit.run import training_counts

    store = st.load(faces)
    gaps = unlabelled(store, "gender", 5, tmp_path / "gaps")
    annotator = fit_classifier(gaps, "gender", options=["dim=8", "size=8"])
    labelled = np.delete(store.labels("gender"), np.arange(0, len(store), 5))
    assert annotator.classes == ["female", "male"]
    assert annotator.info["class_counts"] == {"female": int((labelled == 0).sum()),
                                              "male": int((labelled == 1).sum())}
    assert training_counts(gaps, annotator).tolist() == np.bincount(labelled).tolist()
    read = StoreLabels(gaps, "gender", store)
    assert read.classes == ["female", "male"]
    assert np.flatnonzero(read.codes == -1).tolist() == list(range(0, len(store), 5))


def test_the_seed_reaches_the_embedder(faces: Path) -> None:
    seeded = fit_classifier(faces, "gender", options=["dim=8", "size=8"], seed=3)
    assert seeded.embedder.config.seed == 3 and seeded.info["options"][0] == "seed=3"
    own = fit_classifier(faces, "gender", options=["dim=8", "size=8", "seed=5"], seed=3)
    assert own.embedder.config.seed == 5


def test_unknown_rows_are_no_class(tones: Path, tmp_path: Path) -> None:
    """Rows of the class ``unknown`` (rows a command could not label) are neither trained nor
    tested on: the annotator's classes are the known ones, and its truth on a store leaves
    them out; a store's own labels give them no class either."""
    from latentplay.audit.annotate import StoreLabels
    from latentplay.store.regroup import regroup_store

    copy = st.save(st.load(tones), tmp_path / "faces")
    light, dark = [f"monk_{k}" for k in (1, 2, 3)], [f"monk_{k}" for k in (8, 9, 10)]
    grouped = regroup_store(copy, "skin_tone", {"light": light, "dark": dark}, name="tone2")
    names, tone = grouped.schema.attribute("tone2").level_names, grouped.labels("tone2")
    unknown = tone == names.index("unknown")
    assert unknown.sum() > 100
    annotator = fit_classifier(grouped, "tone2", options=["dim=8", "size=8"])
    assert annotator.classes == ["light", "dark"]
    assert set(annotator.info["class_counts"]) == {"light", "dark"}
    assert annotator.info["train_rows"] + annotator.evaluation.n == (~unknown).sum()
    assert annotator.evaluation.accuracy > 0.8      # chance 0.5
    truth = annotator.store_truth(grouped)
    assert (truth[unknown] == -1).all() and (truth[~unknown] >= 0).all()
    every = annotator.evaluate(grouped)     # every labelled row, each once
    assert every.n == (~unknown).sum()
    assert every.counts.sum(axis=1).tolist() == np.bincount(truth[~unknown], minlength=2).tolist()
    read = StoreLabels(grouped, "tone2", grouped)
    assert read.classes == ["light", "dark"] and (unknown == (read.codes == -1)).all()
    from latentplay.audit.run import training_counts

    codes = grouped.labels("tone2")
    assert training_counts(grouped, annotator).tolist() == [
        int((codes == names.index("light")).sum()), int((codes == names.index("dark")).sum())]


def test_a_continuous_attribute_asks_for_groups(faces: Path) -> None:
    from latentplay.audit.annotate import store_classes

    with pytest.raises(UserError, match="this needs a categorical attribute .bin it with "
                       "`latentplay data bin STORE smile`."):
        store_classes(st.load(faces), "smile")


def test_rows_without_a_class_are_left_out_on_both_sides(tmp_path: Path) -> None:
    """``--annotator labels``: rows labelled ``unknown`` or not at all are no class on the
    training side and in the images' store alike: the shares, Pearson's test and the TV are
    those of the known classes only, and the rows left out are counted; an intersection needs a
    class of both attributes."""
    from scipy.stats import chi2_contingency

    from latentplay.audit.annotate import StoreLabels
    from latentplay.audit.run import audit_images, joint_comparison

    train_labels = np.repeat([0, 1, 2, 3], [12, 8, 6, 5])               # 3: unknown
    gen_labels = np.repeat([0, 1, 2, 3, -1], [10, 10, 4, 3, 2])         # -1: no label
    data, _ = _patches(tmp_path / "training", train_labels % 3, train_labels,
                       frames=np.arange(31) % 2)
    gen_frames = np.where(np.arange(29) < 6, -1, np.arange(29) % 2)
    generated, images = _patches(tmp_path / "generated", gen_labels % 3, gen_labels, gen_frames)
    read = StoreLabels(generated, "color", data)
    assert read.classes == ["red", "green", "blue"]
    assert read.predict(images).tolist() == np.where(gen_labels == 3, -1, gen_labels).tolist()
    summary = audit_images(images, data, [read], tmp_path / "out")["attributes"]["color"]
    assert summary["classes"] == ["red", "green", "blue"]
    assert summary["without_class"] == {"training": 5, "generated": 5}
    table = np.array([[12, 8, 6], [10, 10, 4]])
    pearson = chi2_contingency(table, correction=False)
    assert summary["chi2"]["statistic"] == pytest.approx(pearson.statistic)
    assert summary["chi2"]["dof"] == 2
    assert summary["tv"] == pytest.approx(0.5 * np.abs(table[0] / 26 - table[1] / 24).sum())
    frame = StoreLabels(generated, "frame", data)
    joint = joint_comparison(data, (read, read.predict(images)), (frame, frame.predict(images)))
    known = (gen_labels >= 0) & (gen_labels < 3) & (gen_frames >= 0)
    assert joint.generated_counts.sum() == known.sum()
    assert joint.without_class == (5, int((~known).sum()))


def test_overwrite_removes_the_attributes_only_an_earlier_audit_wrote(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Audited again with --overwrite on fewer attributes, the folder kept the earlier run's
    distribution and samples of the others beside the new summary, which no longer had them."""
    from latentplay.audit.annotate import StoreLabels
    from latentplay.audit.run import audit_images

    data, _ = _patches(tmp_path / "training", np.arange(30) % 3, frames=np.arange(30) % 2)
    generated, images = _patches(tmp_path / "generated", np.arange(24) % 3,
                                 frames=np.arange(24) % 2)
    color, frame = StoreLabels(generated, "color", data), StoreLabels(generated, "frame", data)
    out = tmp_path / "out"
    audit_images(images, data, [color, frame], out)
    (out / "notes.txt").write_text("mine")
    audit_images(images, data, [color], out, overwrite=True)
    assert sorted(p.name for p in out.iterdir()) == [
        "distribution_color.csv", "distribution_color.png", "notes.txt", "samples_color.png",
        "summary.json"]
    assert "distribution_frame.csv, distribution_frame.png, samples_frame.png" in capsys.readouterr().err


def test_clip_leaves_the_class_unknown_out(tmp_path: Path) -> None:
    """CLIP reads the attribute's classes, not ``unknown`` (no prompt is made for it); the
    training rows labelled ``unknown`` are left out and counted."""
    from latentplay.audit.run import audit_images, resolve_annotators

    encoder = _colour_encoder(tmp_path)
    text = tmp_path / "prompts.npz"
    np.savez(text, prompts=np.array(["a red patch", "a green patch", "a blue patch"]),
             embeddings=np.array([[2.0, -1, -1], [-1, 2, -1], [-1, -1, 2]]))
    colours = np.arange(30) % 3
    labels = np.where(np.arange(30) < 6, 3, colours)                   # six rows unknown
    data, images = _patches(tmp_path / "patches", colours, labels)
    [ann] = resolve_annotators([f"clip:{encoder}@{text}"], data, ["color"],
                               clip_template="a {} patch", calibrate=30)
    assert ann.classes == ["red", "green", "blue"] and ann.evaluation.n == 24
    summary = audit_images(images, data, [ann], tmp_path / "out")["attributes"]["color"]
    assert [c["training_count"] for c in summary["per_class"]] == [8, 8, 8]
    assert [c["generated_count"] for c in summary["per_class"]] == [10, 10, 10]
    assert summary["without_class"] == {"training": 6, "generated": 0}


def test_a_network_head_with_a_class_unknown_is_refused() -> None:
    from types import SimpleNamespace

    from latentplay.audit.annotate import NetworkAnnotator
    from latentplay.measure.predict import parse_heads

    heads = {h.name: h for h in parse_heads("gender=female,male;age=young,unknown")}
    network = SimpleNamespace(head=heads.__getitem__)
    assert NetworkAnnotator(network, "gender").classes == ["female", "male"]
    with pytest.raises(UserError, match="has a class 'unknown'.*name that output otherwise"):
        NetworkAnnotator(network, "age")


def test_saving_where_the_rename_fails_leaves_no_temporary_file(
        skin_annotator: ClassifierAnnotator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The rename into place fails (a folder at the path did that before save refused one):
    the ``.NAME.tmp`` written beside it is removed."""
    def failing(src: object, dst: object) -> None:
        raise OSError("rename failed")

    monkeypatch.setattr("latentplay.audit.annotate.os.replace", failing)
    with pytest.raises(OSError, match="rename failed"):
        skin_annotator.save(tmp_path / "ann.npz")
    assert list(tmp_path.iterdir()) == []


def test_a_conditional_embedder_is_refused_before_fitting(faces_store: Path, cvae_run: Path) -> None:
    """An annotator reads generated images without their condition: a CVAE's encoder cannot be
    its embedder, and saying so names that, not "embed a store" (the user gave one)."""
    with pytest.raises(UserError, match="is a conditional model: an annotator reads images "
                       "without knowing their condition"):
        fit_classifier(faces_store, "gender", embedder=f"vae:{cvae_run}")


def test_a_confidence_far_above_the_measured_one_is_cautioned_too() -> None:
    """Uniform squares read as monk_1 at confidence 1.000 against 0.725 on real faces passed
    without a word: only a fall was cautioned."""
    from latentplay.audit.annotate import confidence_shift

    risen = confidence_shift({"evaluation": {"confidence": 0.725}, "confidence_generated": 1.0})
    assert "surer of these than of the images it was measured on" in risen
    fallen = confidence_shift({"evaluation": {"confidence": 0.9}, "confidence_generated": 0.6})
    assert "unlike the images its confusion was measured on" in fallen
    assert "surer of these" in confidence_shift({"evaluation": {"confidence": 0.7},
                                                 "confidence_generated": 0.85})
    same = confidence_shift({"evaluation": {"confidence": 0.725}, "confidence_generated": 0.732})
    assert same == "annotator confidence 0.725 on labelled images, 0.732 on these"


def test_evaluation_measures_every_class_the_random_draw_missed(tmp_path: Path) -> None:
    """A class with one photo among 200 fell outside a 10-row calibration draw, and its
    confusion row was unmeasured (the shares' correction then took it as always read right);
    evaluate adds the missed class's rows."""
    encoder = _colour_encoder(tmp_path)
    text = tmp_path / "prompts.npz"
    np.savez(text, prompts=np.array(["a red patch", "a green patch", "a blue patch"]),
             embeddings=np.array([[2.0, -1, -1], [-1, 2, -1], [-1, -1, 2]]))
    classes = np.r_[np.arange(199) % 2, 2]
    store, _ = _patches(tmp_path / "patches", classes)
    plain = np.random.default_rng(1).choice(np.arange(200), size=10, replace=False)
    assert 199 not in plain  # the premise: a random draw of 10 misses the blue photo
    ann = ClipAnnotator(f"{encoder}@{text}", "color", ["red", "green", "blue"], template="a {} patch")
    ev = ann.evaluate(store, max_rows=10, seed=1)
    assert ev.counts.sum(axis=1).tolist() == [int((classes[plain] == 0).sum()),
                                              int((classes[plain] == 1).sum()), 1]
    assert not np.isnan(ev.confusion).any() and ev.confusion[2, 2] == 1.0


def test_prompt_embeddings_are_unit_rows_in_the_prompts_order() -> None:
    """CLIP compares unit vectors: a stored text embedding of any length is scaled to 1."""
    from latentplay.audit.annotate import prompt_embeddings

    table = {"a photo of a man": np.array([3.0, 4.0]), "a photo of a woman": np.array([0.0, 2.0])}
    found = prompt_embeddings(table, [["a photo of a woman"], ["a photo of a man"]], "text.npz")
    np.testing.assert_allclose(found, [[0.0, 1.0], [0.6, 0.8]])
    with pytest.raises(UserError, match="text.npz has no text embedding for the prompt"):
        prompt_embeddings(table, [["a photo of a child"]], "text.npz")
