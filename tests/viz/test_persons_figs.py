"""Figures of ``audit accuracy``, ``audit verify`` and ``audit detection`` say what their
intervals are drawn over: the persons (and how many) when the store repeats them, else rows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure

from latentplay import store as st
from latentplay.audit.accuracy import group_accuracy
from latentplay.audit.verification import verify_store
from latentplay.store import Attribute, Provenance, Schema
from latentplay.viz import detection
from latentplay.viz import verification as viz_verification
from latentplay.viz.accuracy import (
    accuracy_bars,
    accuracy_figures,
    calibration_figure,
    interval_note,
    parity_figure,
)
from latentplay.viz.verification import pair_interval_note, rate_bars

PERSONS, PHOTOS = 12, 5


def _texts(fig: Figure) -> str:
    """Every text of ``fig`` (titles, legends, notes), wrapped lines joined by spaces."""
    return " ".join(" ".join(t.get_text().split()) for t in fig.findobj(plt.Text))


def _accuracy_store(path: Path, persons: bool) -> st.Store:
    """60 photos, 5 of each of 12 persons (or, without ``persons``, no ``identity``): label
    ``x``, guessed ``y`` for persons 0-3, each with a confidence, in two sites."""
    person = np.repeat(np.arange(PERSONS), PHOTOS)
    attributes = [Attribute("site", "categorical", names=["a", "b"]),
                  Attribute("label", "categorical", names=["x", "y"]),
                  Attribute("guess", "categorical", names=["x", "y"]),
                  Attribute("guess_p", "continuous", range=(0, 1))]
    batch: dict[str, Any] = {
        "image": [st.encode_png(np.zeros((4, 4, 3), np.uint8))] * len(person),
        "site": (person >= PERSONS // 2).astype(np.int64),
        "label": np.zeros(len(person), np.int64), "guess": (person < 4).astype(np.int64),
        "guess_p": np.linspace(0.55, 0.99, len(person)).astype(np.float32)}
    if persons:
        attributes.append(Attribute("identity", "categorical",
                                    names=[f"p{i}" for i in range(PERSONS)]))
        batch["identity"] = person
    schema = Schema(attributes=attributes, provenance=Provenance(source="test", converter="unit"))
    return st.build([batch], schema, path)


@pytest.mark.parametrize(("persons", "said"), [
    (True, f"95 % interval over {PERSONS} persons (bootstrap)"),
    (False, "95 % interval over rows (Wilson)")])
def test_accuracy_figures_say_what_their_intervals_are_drawn_over(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, persons: bool, said: str) -> None:
    """accuracy.png's legend and parity.png's title name the persons of a store that repeats
    them (the bootstrap the run drew), else rows; calibration.png says its bins' Wilson
    intervals take the persons' photos as independent, and its over-confidence's interval
    what it was drawn over."""
    monkeypatch.setattr("latentplay.audit.accuracy._write", lambda *args: None)
    s = group_accuracy(_accuracy_store(tmp_path / "s", persons), "guess", "label", "site",
                       tmp_path / "a", positive="x")
    figures = accuracy_figures(s)
    assert set(figures) == {"accuracy", "parity", "calibration"}
    legend = [t.get_text() for ax in figures["accuracy"].axes if ax.get_legend()
              for t in ax.get_legend().get_texts()]
    assert said in legend
    assert said in _texts(figures["parity"])
    calibration = _texts(figures["calibration"])
    drawn = said if persons else "95 % interval over rows (Student's t)"
    assert f"error bars: {drawn}" in calibration
    if persons:
        assert (f"bars: 95 % Wilson interval over rows, the {PERSONS} persons' photos taken as "
                "independent") in calibration
    else:
        assert "persons" not in calibration
    for fig in figures.values():
        plt.close(fig)


def test_value_intervals_name_their_method_and_old_summaries_claim_nothing() -> None:
    """Values' MAE and bias panels say ``normal`` over rows; a summary that says neither its
    persons nor its intervals (other callers) gets a plain ``95 % interval``."""
    row = {"group": "a", "n": 30, "mae": 4.0, "mae_low": 3.5, "mae_high": 4.5, "bias": 1.0,
           "bias_low": 0.5, "bias_high": 1.5, "r": None}
    summary = {"kind": "values", "predicted": "read", "truth": "age", "by": "g",
               "groups": [row], "overall": {"mae": 4.0, "bias": 1.0}, "across": None,
               "persons": None, "intervals": "normal"}
    fig = accuracy_bars(summary)
    for ax in fig.axes:
        assert "95 % interval over rows (normal)" in [t.get_text()
                                                       for t in ax.get_legend().get_texts()]
    plt.close(fig)
    assert interval_note({}) == "95 % interval"
    assert interval_note({}, "normal") == "95 % interval"
    assert interval_note({"persons": 7, "intervals": "bootstrap over persons"}, "normal") \
        == "95 % interval over 7 persons (bootstrap)"


def test_parity_and_calibration_of_a_bare_summary_still_draw() -> None:
    """Summaries without ``persons``/``intervals`` keep working, without a claim of rows."""
    rates = {k: 0.5 for k in ("selection", "tpr", "fpr")}
    bounds = {f"{k}_{e}": v for k in rates for e, v in (("low", 0.4), ("high", 0.6))}
    parity = {"positive": "x", "overall": rates, "across": {},
              "groups": [{"group": "a", "n": 10, "base_rate": 0.5, **rates, **bounds}]}
    fig = parity_figure({"predicted": "guess", "by": "g", "parity": parity})
    assert "error bars: 95 % interval" in _texts(fig) and "over" not in _texts(fig)
    plt.close(fig)
    bins = [{"low": 0.5, "high": 1.0, "n": 10, "confidence": 0.8, "accuracy": 0.7}]
    cal = {"groups": [{"group": "a", "n": 10, "bins": bins, "ece": 0.1, "ece_null": 0.05,
                       "overconfidence": 0.1, "low": 0.0, "high": 0.2,
                       "curve": [{"coverage": 1.0, "accuracy": 0.7}]}],
           "overall": {"bins": bins}, "threshold": None}
    fig = calibration_figure({"predicted": "guess", "by": "g", "calibration": cal})
    assert "over-confidence of guess by g error bars: 95 % interval" in _texts(fig)
    plt.close(fig)


def test_rate_bars_name_the_persons_of_the_pairs() -> None:
    """rates.png says the persons behind the pairs (Wilson at the design effect) or that the
    pairs were taken as independent; without a note (other callers) it draws as before."""
    rows = [{"group": g, "fmr": 0.02, "fmr_low": 0.01, "fmr_high": 0.04, "fnmr": 0.1,
             "fnmr_low": 0.05, "fnmr_high": 0.2} for g in ("A", "B")]
    for persons, said in ((120, "95 % interval over 120 persons (Wilson at the pairs' design "
                                "effect)"),
                          (None, "95 % interval over pairs (Wilson, pairs taken as "
                                 "independent)")):
        assert pair_interval_note(persons) == said
        fig = rate_bars(rows, 0.5, pair_interval_note(persons))
        assert f"error bars: {said}" in _texts(fig)
        plt.close(fig)
    fig = rate_bars(rows, 0.5)
    assert "error bars" not in _texts(fig)
    plt.close(fig)


def test_verify_passes_the_persons_of_its_pairs_to_rates_png(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``audit verify`` on 40 persons x 4 photos: the summary counts the 40 persons behind the
    pairs and rates.png is told so."""
    rng = np.random.default_rng(0)
    person = np.repeat(np.arange(40), 4)
    centre = rng.normal(size=(40, 8))
    z = centre[person] + rng.normal(size=(len(person), 8)) * 0.5
    schema = Schema(attributes=[Attribute("race", "categorical", names=["A", "B"]),
                                Attribute("identity", "categorical",
                                          names=[f"p{i}" for i in range(40)])],
                    provenance=Provenance(source="test", converter="unit"))
    batch = {"image": [st.encode_png(np.zeros((4, 4, 3), np.uint8))] * len(person),
             "race": (person >= 20).astype(np.int64), "identity": person}
    store = st.add_column(st.build([batch], schema, tmp_path / "s"), "z", z.astype(np.float32))
    store = st.save(store, tmp_path / "s")
    told: list[str | None] = []
    real = viz_verification.rate_bars
    monkeypatch.setattr(viz_verification, "rate_bars",
                        lambda rows, t, intervals=None: (told.append(intervals),
                                                         real(rows, t, intervals))[1])
    s = verify_store(store, "z", tmp_path / "v", by="race", n_pairs=100, threshold=1.0,
                     folds=2)
    assert s["persons"] == 40
    assert told == [pair_interval_note(40)]


@pytest.mark.parametrize(("persons", "said"), [
    (60, "bands: 95 % intervals over 60 persons (bootstrap)"),
    (None, "bands: 95 % intervals over images (Wilson)")])
def test_the_detection_title_names_what_its_bands_are_drawn_over(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, persons: int | None, said: str) -> None:
    t = np.linspace(-0.5, 1.0, 5)
    share = np.linspace(0.9, 0.2, 5)
    group = {"n": 30, "share": share, "low": share - 0.05, "high": share + 0.05}
    sweep = {"thresholds": t, "cut": 0.0, "ordered": False, "label": "hog", "by": "tone",
             "groups": {"a": group}, "all": group, "persons": persons}
    drawn: list[Figure] = []
    monkeypatch.setattr(detection, "save_figure", lambda fig, path: drawn.append(fig))
    detection.plot_sweep(sweep, tmp_path / "sweep.png")
    assert said in " ".join(drawn[0].axes[0].get_title().split())
    plt.close(drawn[0])


def test_trend_notes_name_the_classes_they_step_over() -> None:
    """A trend along an order that steps over a class without rows says so in the figure's
    title, as the printout and the report do; one without gaps does not."""
    row = {"group": "t0", "n": 30, "mae": 4.0, "mae_low": 3.5, "mae_high": 4.5, "bias": 1.0,
           "bias_low": 0.5, "bias_high": 1.5, "r": None}
    trend = {"slope": 0.5, "low": 0.1, "high": 0.9, "groups": ["t0", "t1", "t3"], "gaps": ["t2"]}
    summary = {"kind": "values", "predicted": "read", "truth": "age", "by": "tone",
               "groups": [row], "overall": {"mae": 4.0, "bias": 1.0}, "across": {"trend": trend},
               "persons": None, "intervals": "Student's t"}
    fig = accuracy_bars(summary)
    assert "(no rows in t2)" in fig._suptitle.get_text().replace("\n", " ")
    plt.close(fig)
    fig = accuracy_bars({**summary, "across": {"trend": {**trend, "gaps": []}}})
    assert "no rows" not in fig._suptitle.get_text()
    plt.close(fig)
