"""Accuracy tab: a prediction against its label per group, with calibration and parity."""

from __future__ import annotations

from pathlib import Path

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


def test_the_tab_judges_predictions(predicted: Path, faces_store: Path) -> None:
    pg = Playground.open(data=predicted)
    assert accuracy.predictions(pg) == ["predicted_gender"]
    assert accuracy.truth_of(pg, "predicted_gender") == "gender"
    assert accuracy.classes(pg, "gender") == ["female", "male"]
    images, text = accuracy.judge(pg, "predicted_gender", "gender", "skin_tone", "female")
    assert list(images) == ["accuracy", "parity", "calibration"]
    assert all(i.ndim == 3 and i.shape[2] == 3 and i.std() > 5 for i in images.values())
    assert "predicted_gender against gender (classes), by skin_tone" in text
    assert "parity for 'female'" in text and "calibration (predicted_gender_p" in text
    images, _ = accuracy.judge(pg, "predicted_gender", "gender", "skin_tone")
    assert list(images) == ["accuracy", "calibration"]      # no parity without a positive
    with pytest.raises(UserError, match="choose the predictions"):
        accuracy.judge(pg, "predicted_gender", "", "skin_tone")
    assert "Accuracy" in str(build_blocks(pg).config)
    plain = Playground.open(data=faces_store)
    assert accuracy.predictions(plain) == []
    assert "**Accuracy** needs predictions" in str(build_blocks(plain).config)
