"""Bias tab: the dataset-bias chart of any two attributes, with its tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from latentplay import store
from latentplay.app import bias
from latentplay.app.state import Playground
from latentplay.errors import UserError
from latentplay.store.bias import association


def test_chart_and_tests(coded_faces: Path) -> None:
    pg = Playground.open(data=coded_faces)
    assert "gender" in bias.attributes(pg) and "smile" in bias.attributes(pg)
    image, text = bias.chart(pg, "gender", "smile", 2)
    assert image.ndim == 3 and image.shape[2] == 3 and image.std() > 5
    found = association(store.load(coded_faces), "gender", "smile")
    assert f"chi-square {found.chi2:.1f}" in text and "trend" not in text   # a 2 x 2 table
    _, ordered = bias.chart(pg, "skin_tone", "age_group")
    assert "trend along skin_tone: r " in ordered
    with pytest.raises(UserError, match="two different"):
        bias.chart(pg, "gender", "gender")
    with pytest.raises(UserError, match="choose two"):
        bias.chart(pg, "", "gender")
    assert np.asarray(image).dtype == np.uint8


def test_the_chart_is_drawn_under_the_pyplot_lock(coded_faces: Path, lock_spy) -> None:
    """Gradio runs different tabs' events in parallel threads; pyplot is not thread-safe."""
    from latentplay.app.state import PYPLOT
    from latentplay.viz import bias as viz_bias

    held = lock_spy(viz_bias, "bias_bars")
    bias.chart(Playground.open(data=coded_faces), "gender", "smile")
    assert held == [True] and not PYPLOT.locked()


def test_the_page_opens_on_a_chart_that_can_be_drawn(faces_store: Path, tmp_path: Path) -> None:
    """A store of women only: the default groups and shares (the first two attributes, skin_tone
    and gender) failed at page open ("gender has 1" value); the defaults are two attributes that
    vary, and a drawing that fails when the page opens leaves a note, not an error."""
    import gradio as gr

    from latentplay.app.ui import build_blocks
    from latentplay.store.subset import subset

    loaded = store.load(faces_store)
    women = np.flatnonzero(np.asarray(loaded.labels("gender")) == 0)
    pg = Playground.open(data=subset(loaded, tmp_path / "women", women).path)
    assert bias.attributes(pg)[:2] == ["skin_tone", "gender"]
    demo = build_blocks(pg)
    dropdowns = {b.label: b.value for b in demo.blocks.values() if isinstance(b, gr.Dropdown)}
    by, of = dropdowns["groups (by)"], dropdowns["shares of (of)"]
    assert "gender" not in (by, of)
    image, _ = bias.chart(pg, by, of)
    assert image.ndim == 3
    load = next(f for f in demo.fns.values() if any(t[1] == "load" for t in f.targets)
                and "shares of (of)" in [getattr(b, "label", None) for b in f.inputs])
    image, text = load.fn("skin_tone", "gender", 2)  # no pair works: a note, no error
    assert image is None and "gender" in text


def test_the_page_opens_on_the_first_two_attributes_that_vary(tmp_path: Path) -> None:
    """Classes other than ``unknown`` and finite numbers are what vary: a class and its unknown
    rows, or one number and NaN, give one value to compare; with fewer than two attributes that
    vary, the page opens on the first two."""
    from tests.store.tiny_store import tiny_store

    nan = np.nan
    columns = {"known": (store.Attribute("known", "categorical", ["x", "unknown"]), [0, 1] * 3),
               "number": (store.Attribute("number", "continuous"), [1.0, nan] * 3),
               "class": (store.Attribute("class", "categorical", ["p", "q"]), [0, 0, 1] * 2),
               "value": (store.Attribute("value", "continuous"), [0.5, 2.0, 1.0] * 2)}
    made = tiny_store(tmp_path / "tiny")
    for name, (attr, values) in columns.items():
        made = store.add_attributes(made, {name: (attr, np.asarray(values))})
    pg = Playground.open(data=store.save(made, tmp_path / "varied").path)
    assert bias.defaults(pg) == ("gender", "class")            # gender f/m varies too
    one = store.add_attributes(made, {"gender": (store.Attribute("gender", "categorical", ["f", "m"]),
                                                 np.zeros(6, np.int64)),
                                      "value": (store.Attribute("value", "continuous"),
                                                np.full(6, 3.0))}, replace=True)
    pg = Playground.open(data=store.save(one, tmp_path / "one").path)
    first = bias.attributes(pg)[:2]
    assert "class" not in first and bias.defaults(pg) == tuple(first)   # only class varies


def test_the_tab_says_what_limits_the_tests(faces_store: Path, unknown_gender) -> None:
    """The command's notes (rows of unknown class left out of the tests) are the tab's too."""
    path, gender = unknown_gender(faces_store)
    assert (gender == 2).sum() == 80 and len(gender) == 400            # every fifth row
    _, text = bias.chart(Playground.open(data=path), "gender", "smile")
    assert "80 of the 400 rows have an unknown gender or smile" in text
