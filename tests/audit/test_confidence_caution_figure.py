"""The caution ``audit compare`` prints when its annotator is much less (or more) sure of the
audited images than of labelled ones is in distribution_<attr>.png too (and in the
intersections' heatmap of --joint, naming the attribute): a saved figure travels without the
console."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pytest

from latentplay import sources
from latentplay.audit import run as audit_run
from latentplay.audit.annotate import Annotator, Evaluation, confidence_shift


class _Unsure(Annotator):
    """Reads every image as one of two classes at probability ``sure``; ``measured``: its
    confidence on labelled images."""

    def __init__(self, sure: float, measured: float, attribute: str = "gender",
                 classes: tuple[str, str] = ("female", "male")) -> None:
        self.attribute, self.classes, self.sure = attribute, list(classes), sure
        self.evaluation = Evaluation(0.9, np.eye(2), np.eye(2, dtype=int) * 50, 100, measured)

    @property
    def description(self) -> dict[str, Any]:
        return {"kind": "test"}

    def predict_proba(self, images: Any) -> np.ndarray:
        first = np.arange(len(images)) % 2 == 0
        return np.where(first[:, None], [self.sure, 1 - self.sure], [1 - self.sure, self.sure])


def _titles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sure: float,
            measured: float = 0.9, more: tuple[_Unsure, ...] = (), joint: tuple[str, ...] = (),
            figure: str = "distribution_gender.png") -> tuple[str, dict]:
    """The texts of ``figure`` of an audit by ``_Unsure(sure, measured)`` (and ``more``
    annotators, ``joint`` attributes), whitespace folded, and the gender entry."""
    data = tmp_path / "faces"
    if not data.exists():
        sources.make("synthfaces", data, n=40, seed=0)
    texts: list[str] = []

    def save(fig: plt.Figure, path: Path) -> None:
        if path.name == figure:
            texts.extend(t.get_text() for t in fig.findobj(plt.Text))
        plt.close(fig)

    monkeypatch.setattr(audit_run, "save_figure", save)
    images = np.zeros((20, 16, 16, 3), np.uint8)
    summary = audit_run.audit_images(images, data, [_Unsure(sure, measured), *more],
                                     tmp_path / f"out{sure}{len(joint)}", joint=list(joint))
    return " ".join(" ".join(texts).split()), summary["attributes"]["gender"]


def test_the_figure_says_the_annotator_is_less_sure_of_these_images(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text, entry = _titles(tmp_path, monkeypatch, 0.55)
    assert "unlike" in str(confidence_shift(entry["annotator"]))   # the console's caution
    assert ("annotator less sure here than on labelled images (confidence 0.550 here, 0.900 "
            "on labelled images): these images may be unlike those its errors were measured "
            "on") in text
    calm, entry = _titles(tmp_path, monkeypatch, 0.85)          # within the drop: no caution
    assert "unlike" not in str(confidence_shift(entry["annotator"]))
    assert "sure here" not in calm and "chi-square p" in calm


def test_the_figure_says_the_annotator_is_surer_of_these_images(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text, entry = _titles(tmp_path, monkeypatch, 1.0, measured=0.7)
    assert "surer of these" in str(confidence_shift(entry["annotator"]))
    assert "annotator surer here than on labelled images (confidence 1.000 here" in text


def test_the_joint_heatmap_names_the_unsure_annotator(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    text, _ = _titles(tmp_path, monkeypatch, 0.55, more=(_Unsure(0.85, 0.9, "eyeglasses", ("no", "yes")),),
                      joint=("gender", "eyeglasses"), figure="distribution_gender,eyeglasses.png")
    assert "gender: annotator less sure here than on labelled images (confidence 0.550" in text
    assert "eyeglasses: annotator" not in text


def test_no_caution_without_both_confidences() -> None:
    assert audit_run.confidence_note(None, 0.4) == audit_run.confidence_note(0.9, None) == ""


def test_the_caution_stands_under_the_legend_and_the_bars_keep_their_height(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The caution and the condition note are drawn under the legend, not in the title: in it
    they made ten title lines over a strip of bars."""
    data = tmp_path / "faces"
    sources.make("synthfaces", data, n=40, seed=0)
    drawn: list[tuple[str, float, list[str]]] = []

    def save(fig: plt.Figure, path: Path) -> None:
        if path.name == "distribution_gender.png":
            ax = fig.axes[0]
            drawn.append((ax.get_title(), ax.get_position().height * fig.get_figheight(),
                          [t.get_text() for t in fig.texts]))
        plt.close(fig)

    monkeypatch.setattr(audit_run, "save_figure", save)
    images = np.zeros((20, 16, 16, 3), np.uint8)
    for sure in (0.55, 0.85):
        audit_run.audit_images(images, data, [_Unsure(sure, 0.9)], tmp_path / str(sure),
                               source={"run": "r", "condition": {"gender": "female"}})
    (title, height, notes), (_, calm_height, _) = drawn
    said = " ".join(" ".join(notes).split())
    assert "annotator less sure here" in said and "samples drawn under gender=female" in said
    assert "less sure" not in title and "drawn under" not in title and "chi-square p" in title
    assert height >= 0.95 * calm_height and height > 2.5
