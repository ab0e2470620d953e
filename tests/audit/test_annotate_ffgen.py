"""An annotator file's labels of a store beside its own held-out measurement, and labels with
no class in common refused in one line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from latentplay import store as st
from latentplay.audit.annotate import StoreLabels
from latentplay.errors import UserError
from latentplay.measure.predict import annotator_line


def _store(path: Path, names: list[str], labels: list[int], size: int = 24) -> st.Store:
    """``len(labels)`` noise images of ``size`` px labelled ``gender`` with ``names``."""
    rng = np.random.default_rng(0)
    images = rng.integers(0, 255, (len(labels), size, size, 3)).astype(np.uint8)
    schema = st.Schema(attributes=[st.Attribute("gender", "categorical", names=names)],
                       provenance=st.Provenance(source="tests", converter="tests"))
    return st.build([{"image": [st.encode_png(im) for im in images], "gender": labels}],
                    schema, path)


def test_labels_with_no_class_in_common_are_one_line(tmp_path: Path, cli) -> None:  # noqa: ANN001
    """``--annotator labels`` with the images' classes named otherwise than the reference's
    (F, M against female, male) is refused, naming both; before, every share stood against a
    0 on the other side and the audit reported TV 1."""
    data = _store(tmp_path / "faces", ["female", "male"], [0, 1, 0, 1])
    images = _store(tmp_path / "renamed", ["F", "M", "unknown"], [0, 1, 2])
    with pytest.raises(UserError, match=r"no class in common .* \(F, M\) and faces "
                                        r"\(female, male\)"):
        StoreLabels(images, "gender", data)
    r = cli("audit", "compare", "--images", images.path, "--data", data.path, "--annotator",
            "labels", "--attribute", "gender", "--out", tmp_path / "out")
    assert r.code == 2 and r.err.count("\n") == 1 and "no class in common" in r.err
    assert not (tmp_path / "out").exists()
    assert StoreLabels(_store(tmp_path / "more", ["male", "other"], [0, 1]), "gender",
                       data).classes == ["female", "male", "other"]


def test_an_annotator_file_reports_its_held_out_accuracy_and_confidence(
        cli, faces: Path, skin_annotator, skin_annotator_file: Path,  # noqa: ANN001
        tmp_path: Path) -> None:
    """``data predict --with ANN.npz`` on the store the annotator was trained on agrees with the
    labels more often than held-out rows do; the printout gives the held-out accuracy beside the
    agreement, and the annotator's confidence on its held-out images and on these rows (on
    images of another size too: they are resized). The classes keep the labels' order, so a
    comparison of labels shows which way they lean."""
    copy = tmp_path / "faces"
    shutil.copytree(faces, copy)
    r = cli("data", "predict", copy, "--with", skin_annotator_file)
    assert r.code == 0, r.err
    out = " ".join(r.out.split())
    held_out = skin_annotator.evaluation
    labelled = st.load(copy)
    assert labelled.schema.attribute("predicted_skin_tone").ordered    # Monk tones keep their order
    here = float(np.mean(labelled.labels("predicted_skin_tone_p")))
    assert (f"the annotator's held-out accuracy: {held_out.accuracy:.3f} on {held_out.n} images "
            "(rows it was trained on agree more often); annotator confidence "
            f"{held_out.confidence:.3f} on labelled images, {here:.3f} on these") in out
    noise = _store(tmp_path / "noise", ["female", "male"], [0, 1] * 10, size=40)
    r = cli("data", "predict", noise.path, "--with", skin_annotator_file)
    assert r.code == 0, r.err
    out = " ".join(r.out.split())
    assert f"held-out accuracy: {held_out.accuracy:.3f} on {held_out.n} images;" in out
    assert "trained on agree" not in out          # no labels of the attribute to agree with


def test_annotator_line_cautions_when_much_less_sure() -> None:
    """The caution of ``audit compare`` where the annotator is at least 0.1 less sure of the
    rows than of its held-out images; nothing for a network's prediction."""
    entry = {"annotator": "a.npz", "confidence": 0.55,
             "held_out": {"accuracy": 0.9, "n": 40, "confidence": 0.8}}
    line = annotator_line(entry, agreed=False)
    assert line is not None and line.startswith("the annotator's held-out accuracy: 0.900 on 40 "
                                                "images; annotator confidence 0.800 on labelled "
                                                "images, 0.550 on these; they are unlike")
    assert line.endswith("its labels of them may be wrong more often than its held-out accuracy says")
    assert "unlike" not in str(annotator_line({**entry, "confidence": 0.75}, agreed=True))
    assert annotator_line({"op": "predict", "heads": []}, agreed=True) is None


def test_labels_of_a_sample_store_are_named_requested_conditions(cli, faces_store: Path,
                                                                  cvae_run: Path,
                                                                  tmp_path: Path) -> None:
    """``--annotator labels`` on a ``data generate --like`` store compares the conditions the
    samples were asked for, which match the reference by construction (TV near 0): it said
    nothing of that, and its figure called them labels. Now a note line, ``requested`` in the
    summary, and the figure's wording; a store's own labels (the reference's) stay labels."""
    from latentplay.audit.run import _reading
    from latentplay.sources.generated import generate_store

    gen = generate_store(cvae_run, tmp_path / "gen", 40, seed=1, like=faces_store)
    out = tmp_path / "audit"
    r = cli("audit", "compare", "--images", gen.path, "--data", faces_store,
            "--annotator", "labels", "--attribute", "gender", "--out", out)
    assert r.code == 0, r.err
    assert "note: gender of --images is the condition each image was generated under" in r.err
    summary = json.loads((out / "summary.json").read_text())["attributes"]["gender"]
    assert summary["annotator"]["requested"] is True
    assert cli("report", out).code == 0
    assert "conditions asked of the generator" in (out / "report.html").read_text()
    assert _reading(StoreLabels(gen, "gender", st.load(faces_store)))[0] == "requested"
    assert not StoreLabels(st.load(faces_store), "gender", st.load(faces_store)).requested
    plain = cli("audit", "compare", "--images", faces_store, "--data", faces_store,
                "--annotator", "labels", "--attribute", "gender", "--out", tmp_path / "own")
    assert plain.code == 0 and "generated under" not in plain.out
