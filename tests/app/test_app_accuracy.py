"""Accuracy tab: a prediction against its label per group, with calibration and parity."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from latentplay import store
from latentplay.app import accuracy
from latentplay.app.state import Playground
from latentplay.app.ui import build_blocks
from latentplay.audit import fit_classifier
from latentplay.errors import UserError
from latentplay.measure.predict import annotate_store


@pytest.fixture(scope="module")
def predicted(tmp_path_factory: pytest.TempPathFactory, faces_store: Path) -> Path:
    """``faces_store`` with a gender annotator's predictions and their probabilities."""
    path = tmp_path_factory.mktemp("acc") / "faces"
    store.save(store.load(faces_store), path)
    annotator = fit_classifier(path, "gender").save(path.parent / "gender.npz")
    annotate_store(path, annotator)
    return path


@pytest.fixture
def undrawn(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tab's figures built but not drawn (a 1-pixel image each; drawing takes about a second
    a figure), for tests of which figures it gives."""
    import matplotlib.pyplot as plt
    import numpy as np

    from latentplay.viz import grid

    def blank(fig: Any) -> np.ndarray:
        plt.close(fig)
        return np.zeros((1, 1, 3), np.uint8)

    monkeypatch.setattr(grid, "figure_array", blank)


def test_the_tab_judges_predictions(predicted: Path, faces_store: Path, request: pytest.FixtureRequest
                                    ) -> None:
    pg = Playground.open(data=predicted)
    assert accuracy.predictions(pg) == ["predicted_gender"]
    assert accuracy.truth_of(pg, "predicted_gender") == "gender"
    assert accuracy.classes(pg, "gender") == ["female", "male"]
    images, text = accuracy.judge(pg, "predicted_gender", "gender", "skin_tone", "female")
    assert list(images) == ["accuracy", "parity", "calibration"]
    assert all(i.ndim == 3 and i.shape[2] == 3 and i.std() > 5 for i in images.values())
    assert "predicted_gender against gender (classes), by skin_tone" in text
    assert "parity for 'female'" in text and "calibration (predicted_gender_p" in text
    request.getfixturevalue("undrawn")  # the figures were drawn: now only which ones
    images, _ = accuracy.judge(pg, "predicted_gender", "gender", "skin_tone")
    assert list(images) == ["accuracy", "calibration"]      # no parity without a positive
    # labels the predictions share no class with: a message, not a ZeroDivisionError
    with pytest.raises(UserError, match="no row to judge.*its labels are 'gender'"):
        accuracy.judge(pg, "predicted_gender", "skin_tone", "gender")
    with pytest.raises(UserError, match="choose the predictions"):
        accuracy.judge(pg, "predicted_gender", "", "skin_tone")
    assert "Accuracy" in str(build_blocks(pg).config)
    plain = Playground.open(data=faces_store)
    assert accuracy.predictions(plain) == []
    assert "**Accuracy** needs predictions" in str(build_blocks(plain).config)


def test_choices_follow_the_labels_and_every_choice_redraws(predicted: Path) -> None:
    """Choosing other labels offers their classes as the positive class, and choosing another
    prediction redraws even when its label stays (each user choice, then one drawing)."""
    demo = build_blocks(Playground.open(data=predicted))
    ids = {b.label: b._id for b in demo.blocks.values() if getattr(b, "label", None)}
    fns = list(demo.fns.values())

    def on(label: str) -> Any:
        return next(f for f in fns if (ids[label], "input") in f.targets)

    relabel = on("labels")
    assert [o._id for o in relabel.outputs] == [ids["positive class (parity)"]]
    update = relabel.fn("eyeglasses")
    assert update["choices"] == ["", "no", "yes"] and update["value"] == ""
    for label in ("labels", "predictions"):
        drawn = [f for f in fns if f.trigger_after == on(label)._id]
        assert drawn and ids["accuracy"] in [o._id for o in drawn[0].outputs]


def test_positive_classes_leave_out_unknown(predicted: Path, unknown_gender: Any, undrawn: None) -> None:
    """Rows without a label (class ``unknown``) give no positive class: every class offered
    gives a parity chart."""
    pg = Playground.open(data=unknown_gender(predicted)[0])
    offered = accuracy.classes(pg, "gender")
    assert offered == ["female", "male"]
    for name in offered:
        images, _ = accuracy.judge(pg, "predicted_gender", "gender", "skin_tone", name)
        assert "parity" in images


def test_the_figures_are_drawn_under_the_pyplot_lock(predicted: Path, lock_spy: Any, undrawn: None) -> None:
    from latentplay.app.state import PYPLOT
    from latentplay.viz import accuracy as viz_accuracy

    held = lock_spy(viz_accuracy, "accuracy_figures")
    accuracy.judge(Playground.open(data=predicted), "predicted_gender", "gender", "skin_tone")
    assert held == [True] and not PYPLOT.locked()


def test_predictions_without_labels_show_no_tab(predicted: Path, tmp_path: Path) -> None:
    """A store whose only attributes are predictions (a generated store after `data predict`)
    has nothing to judge them against: no Accuracy tab that opens on an error, but a note."""
    import dataclasses

    loaded = store.load(predicted)
    kept = [a for a in loaded.schema.attributes if a.name.startswith("predicted_")]
    only = dataclasses.replace(loaded, schema=dataclasses.replace(loaded.schema, attributes=kept))
    pg = Playground.open(data=store.save(only, tmp_path / "only").path)
    assert accuracy.predictions(pg) == ["predicted_gender"] and accuracy.labels(pg) == []
    config = str(build_blocks(pg).config)
    assert "'label': 'Accuracy'" not in config and "**Accuracy** needs labels" in config


def _dropdowns(demo: Any) -> dict[str, Any]:
    import gradio as gr

    return {b.label: b for b in demo.blocks.values() if isinstance(b, gr.Dropdown)}


def test_the_dropdowns_offer_only_what_can_be_judged(predicted: Path) -> None:
    """"groups (by)" offered continuous attributes (smile, yaw, predicted_gender_p), which are
    always refused, and "labels" offered the predictions themselves."""
    pg = Playground.open(data=predicted)
    kinds = {a.name: a.kind for a in pg.need_store().schema.attributes}
    found = _dropdowns(build_blocks(pg))
    groups = [value for _, value in found["groups (by)"].choices]
    labels = [value for _, value in found["labels"].choices]
    assert "skin_tone" in groups and all(kinds[n] != "continuous" for n in groups)
    assert "gender" in labels and not any(n.startswith("predicted_") for n in labels)
    # labels the predictions can be read against: classes shared with predicted_gender's
    assert accuracy.labels(pg, "predicted_gender") == ["gender"]
    assert set(accuracy.labels(pg)) == {n for n in kinds if not n.startswith("predicted_")}


def test_a_cleared_prediction_is_a_message_not_a_type_error(predicted: Path) -> None:
    """Clearing the predictions dropdown ran truth_of(pg, None): a TypeError, a bare "Error"."""
    import gradio as gr

    demo = build_blocks(Playground.open(data=predicted))
    chosen = _dropdowns(demo)["predictions"]._id
    pick = next(f for f in demo.fns.values() if (chosen, "input") in f.targets)
    truth, positive = pick.fn(None)  # nothing to pick: the labels stay
    assert truth.get("value") is None and positive.get("value") is None
    draw = next(f for f in demo.fns.values() if f.api_name == "accuracy")
    with pytest.raises(gr.Error, match="choose the predictions"):
        draw.fn(None, "gender", "skin_tone", "")


def test_messages_name_the_page_controls(predicted: Path) -> None:
    """Like Bias and Projection, not the command's options (--by, --predicted and --truth)."""
    pg = Playground.open(data=predicted)
    with pytest.raises(UserError) as caught:
        accuracy.judge(pg, "predicted_gender", "gender", "smile")
    assert str(caught.value).startswith("groups (by) 'smile' is continuous") and "--" not in str(caught.value)
    with pytest.raises(UserError) as caught:
        accuracy.judge(pg, "predicted_gender", "predicted_gender", "skin_tone")
    assert str(caught.value) == ("predictions and labels are both 'predicted_gender': choose the "
                                 "labels the predictions are of")
    with pytest.raises(UserError) as caught:
        accuracy.judge(pg, "predicted_gender_p", "smile", "skin_tone", "female")
    assert "positive class (parity)" in str(caught.value) and "--" not in str(caught.value)


def test_values_predicted_are_judged_against_values_and_interval_groups(faces_store: Path,
                                                                        tmp_path: Path) -> None:
    """A prediction of a number (a regressor's smile) can be read against continuous labels
    and against groups named as intervals (``data bin``'s ``<0``, ``>=0``), not against
    classes."""
    import numpy as np

    from latentplay.store.binning import bin_store
    from latentplay.store.columns import add_attributes
    from latentplay.store.schema import Attribute

    path = tmp_path / "faces"
    source = store.load(faces_store)
    smile = np.asarray(source.labels("smile"), np.float32)
    guess = Attribute("predicted_smile", "continuous", range=source.schema.attribute("smile").range)
    store.save(add_attributes(source, {"predicted_smile": (guess, smile)}), path)
    bin_store(path, "smile", edges=[0.0])    # smile_group: <0, >=0
    pg = Playground.open(data=path)
    values = {a.name for a in source.schema.attributes if a.kind == "continuous"}
    assert "smile" in values and "gender" not in values
    assert set(accuracy.labels(pg, "predicted_smile")) == values | {"smile_group"}


def test_unknown_is_no_class_a_prediction_shares(tmp_path: Path) -> None:
    """Labels sharing only ``unknown`` (rows without a value) with a prediction have nothing
    to read it against."""
    import numpy as np
    from tests.store.tiny_store import tiny_store

    from latentplay.store.schema import Attribute

    codes = np.array([0, 1] * 3)
    made = store.add_attributes(tiny_store(tmp_path / "tiny"), {
        "predicted_hair": (Attribute("predicted_hair", "categorical", ["black", "unknown"]), codes),
        "hair": (Attribute("hair", "categorical", ["blond", "unknown"]), codes),
        "colour": (Attribute("colour", "categorical", ["black", "red"]), codes)})
    pg = Playground.open(data=store.save(made, tmp_path / "hair").path)
    assert accuracy.labels(pg, "predicted_hair") == ["colour"]


def test_class_names_holding_fences_stay_inside_the_code_block(tmp_path: Path, undrawn: None) -> None:
    """A group named with a newline and three backticks ended the tab's code block early, and
    the Markdown after it (``**bold**``) was read as markup; read by a CommonMark parser, the
    lines are one code block holding every name as written."""
    import numpy as np
    from markdown_it import MarkdownIt
    from tests.store.tiny_store import tiny_store

    from latentplay.store.schema import Attribute

    odd = "x\n```\n**bold** ````"
    made = store.add_attributes(tiny_store(tmp_path / "tiny"), {
        "predicted_hair": (Attribute("predicted_hair", "categorical", ["black", "red"]),
                           np.array([0, 1, 0, 1, 1, 0])),
        "hair": (Attribute("hair", "categorical", ["black", "red"]), np.array([0, 1, 1, 1, 0, 0])),
        "side": (Attribute("side", "categorical", [odd, "plain"]), np.array([0, 0, 0, 1, 1, 1]))})
    pg = Playground.open(data=store.save(made, tmp_path / "hair").path)
    _, text = accuracy.judge(pg, "predicted_hair", "hair", "side")
    blocks = [t for t in MarkdownIt("commonmark").parse(text) if t.type != "text"]
    assert [t.type for t in blocks] == ["fence"]
    assert f"  {odd}: " in blocks[0].content and "  plain: " in blocks[0].content
