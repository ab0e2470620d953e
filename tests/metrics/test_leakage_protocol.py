"""The leakage experiments' data (GlanceNets' dsprites_leakage protocol), the probe repeated
over stratified halvings against one chance, rejection scored with coin flips beside a
random-rejection control, and the concept scores."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from latentplay.errors import UserError
from latentplay.metrics.concepts import ConceptData, TrainConfig, concept_scores, concepts_not_learned
from latentplay.metrics.leakage import (
    CENTRE,
    CORNERS,
    DSPRITES_CONCEPTS,
    corner_grid,
    dsprites_domain,
    dsprites_probe,
    flag_of,
    leakage_figure,
    leakage_table,
    position_levels,
    probe,
    probe_splits,
    random_rejection,
)
from latentplay.sources.shapes import FACTOR_VALUES, render


def _centre_of_mass(images: np.ndarray) -> np.ndarray:
    """``(N, 2)`` (x, y) pixel centre of mass of ``(N, S, S, 1)`` images."""
    ink = images[..., 0].astype(np.float64)
    ys, xs = np.mgrid[: ink.shape[1], : ink.shape[2]]
    total = ink.sum(axis=(1, 2))
    return np.stack([(ink * xs).sum(axis=(1, 2)) / total, (ink * ys).sum(axis=(1, 2)) / total], axis=1)


def test_position_levels_are_glancenets_masks() -> None:
    pos = FACTOR_VALUES["pos_x"]
    assert list(position_levels(*CENTRE)) == [15, 16]  # the 2 x 2 central positions
    assert np.all((pos[[15, 16]] > 0.48) & (pos[[15, 16]] < 0.52))
    assert list(position_levels(-np.inf, CORNERS[0])) == list(range(8))  # 7/31 < 0.25 < 8/31
    assert list(position_levels(CORNERS[1], np.inf)) == list(range(24, 32))


def test_dsprites_training_domain_is_every_centred_sprite() -> None:
    d = dsprites_domain(size=64)
    assert len(d) == 3 * 6 * 40 * 4 and d.images.shape == (2880, 64, 64, 1)
    assert d.names == DSPRITES_CONCEPTS == ["is_square", "is_ellipse", "is_heart", "scale", "orientation"]
    assert d.categorical == {"shape": [0, 1, 2]}
    shape = d.concepts[:, :3].argmax(axis=1)
    assert np.array_equal(d.concepts[:, :3].sum(axis=1), np.ones(2880))
    assert np.array_equal(d.labels, shape)  # the task is the shape
    assert np.bincount(d.labels).tolist() == [960, 960, 960]
    # scale and orientation levels scaled to [0, 1], every combination present once per position
    assert np.array_equal(d.concepts[:, 3], d.levels[:, 3] / 5) and np.array_equal(d.concepts[:, 4],
                                                                                    d.levels[:, 4] / 39)
    combos = {(s, sc, o) for s, sc, o in zip(shape, d.levels[:, 3], d.levels[:, 4], strict=True)}
    assert len(combos) == 720
    # every sprite drawn at the image's centre: its ink's centre of mass within 2 px of it
    com = _centre_of_mass(d.images)
    assert np.all(np.abs(com - 31.5) < 2.5), np.abs(com - 31.5).max()
    again = dsprites_domain(size=32, n=100, seed=3)
    assert len(again) == 100 and again.images.shape[1:] == (32, 32, 1)
    with pytest.raises(UserError, match="holds 2,880 centred sprites"):
        dsprites_domain(n=3000)


def test_dsprites_probe_is_the_two_corners_and_the_target_names_the_corner() -> None:
    grid, corner = corner_grid()
    assert len(grid) == 2 * 8 * 8 * 3 * 6 * 40 and np.bincount(corner).tolist() == [46080, 46080]
    x, y = FACTOR_VALUES["pos_x"][grid[:, 3]], FACTOR_VALUES["pos_y"][grid[:, 4]]
    low, high = (x < 0.25) & (y < 0.25), (x > 0.75) & (y > 0.75)
    assert np.all(low ^ high) and np.array_equal(corner, high.astype(int))
    images, target, factors = dsprites_probe(600, seed=1, size=64)
    assert images.shape == (600, 64, 64, 1) and len(np.unique(factors, axis=0)) == 600
    assert np.array_equal(images[..., 0] > 0, render(factors) > 0)
    assert set(np.unique(target)) == {0, 1} and 0.4 < target.mean() < 0.6
    com = _centre_of_mass(images)  # the sprites lie in the corners the target names
    assert np.all(com[target == 0] < 26) and np.all(com[target == 1] > 37)
    small, target32, _ = dsprites_probe(600, seed=1, size=32)
    assert small.shape == (600, 32, 32, 1) and np.array_equal(target32, target)


def test_probe_splits_are_stratified_halves_and_reproducible() -> None:
    target = np.array([0] * 61 + [1] * 39)
    halves = probe_splits(target, 5, seed=0)
    assert len(halves) == 5
    for tr, te in halves:
        assert not set(tr) & set(te) and len(tr) + len(te) == 100
        assert np.bincount(target[tr]).tolist() == [30, 19] and np.bincount(target[te]).tolist() == [31, 20]
    assert not np.array_equal(halves[0][0], halves[1][0])
    assert all(np.array_equal(a[0], b[0]) for a, b in zip(halves, probe_splits(target, 5, 0), strict=True))


def test_probe_is_repeated_over_halvings_with_its_spread() -> None:
    rng = np.random.default_rng(0)
    target = rng.integers(0, 2, 400)
    weak = (target + 1.5 * rng.normal(size=400))[:, None]
    one = probe(weak, target, splits=1)
    many = probe(weak, target, splits=20)
    assert one["splits"] == 1 and one["leakage_sd"] == 0.0
    assert many["splits"] == 20 and 0.01 < many["leakage_sd"] < 0.2
    halves = probe_splits(target, 20, 0)  # the mean is that of the 20 halvings
    singles, accuracies = [], []
    for tr, te in halves:
        singles.append(np.mean(target[te] == np.bincount(target[tr]).argmax()))
        fitted = LogisticRegression(max_iter=1000).fit(weak[tr], target[tr])
        accuracies.append(np.mean(fitted.predict(weak[te]) == target[te]))
    assert many["chance"] == pytest.approx(np.mean(singles))
    # the spreads are sample standard deviations (ddof 1) over the halvings
    leakages = (np.array(accuracies) - singles) / (1 - np.array(singles))
    assert many["leak_accuracy"] == pytest.approx(np.mean(accuracies))
    assert many["leak_accuracy_sd"] == pytest.approx(np.std(accuracies, ddof=1))
    assert many["leakage_sd"] == pytest.approx(np.std(leakages, ddof=1))


def test_one_chance_for_every_row_and_rejection_scored_with_coin_flips() -> None:
    rng = np.random.default_rng(1)
    target = (rng.random(1000) < 0.6).astype(np.int64)  # unbalanced: chance 0.6
    leaky = (target + 0.1 * rng.normal(size=1000))[:, None]
    keeps = rng.random(1000) < 0.3
    rows = [probe(leaky, target), probe(leaky, target, keeps),
            probe(leaky, target, random_rejection(keeps, 20, 0)),
            probe(leaky, target, np.zeros(1000, dtype=bool))]
    assert len({r["chance"] for r in rows}) == 1 and rows[0]["chance"] == pytest.approx(0.6, abs=0.01)
    # nothing accepted: every test row a coin flip, 1/2, below chance
    assert rows[3]["leak_accuracy"] == 0.5 and rows[3]["leakage"] < 0 and rows[3]["accepted"] == 0
    # accepted training rows of one value: that value is predicted for the accepted test rows
    # (all of it, right), the rejected half are coin flips: (150 + 150 / 2) / 300 per halving
    balanced = np.arange(600) % 2
    one_value = probe(balanced[:, None], balanced, balanced == 0)
    assert one_value["leak_accuracy"] == pytest.approx(0.75)
    # a coin flip over three values is right a third of the time
    three = rng.integers(0, 3, 600)
    assert probe(three[:, None], three, np.zeros(600, dtype=bool))["leak_accuracy"] == pytest.approx(1 / 3)
    # 30 % answered perfectly, 70 % coin flips
    assert rows[1]["leak_accuracy"] == pytest.approx(keeps.mean() + (1 - keeps.mean()) / 2, abs=0.02)


def test_random_rejection_keeps_as_many_rows_differently_each_halving() -> None:
    accepted = np.arange(50) < 13
    masks = random_rejection(accepted, 6, seed=0)
    assert masks.shape == (6, 50) and (masks.sum(axis=1) == 13).all()
    assert len({m.tobytes() for m in masks}) == 6
    assert np.array_equal(masks, random_rejection(accepted, 6, seed=0))


def test_acceptance_alone_can_read_as_leakage_and_is_shown_apart() -> None:
    """A rejection keeping mostly one class scores above chance with no concepts at all: what
    ``leakage_acceptance_only`` measures beside the row."""
    rng = np.random.default_rng(2)
    target = rng.integers(0, 2, 2000)
    keeps = (target == 0) | (rng.random(2000) < 0.1)
    clean = rng.normal(size=(2000, 2))
    with_concepts = probe(clean, target, keeps)
    alone = probe(np.zeros((2000, 1)), target, keeps)
    assert alone["leakage"] > 0.3
    assert with_concepts["leakage"] == pytest.approx(alone["leakage"], abs=0.03)
    random = probe(clean, target, random_rejection(keeps, 20, 0))
    assert abs(random["leakage"]) < 0.05


def test_concept_scores_categorical_and_continuous() -> None:
    truth = np.array([[1, 0, 0.0], [0, 1, 0.5], [0, 1, 1.0], [0, 1, 0.25]])
    data = ConceptData(np.zeros((4, 8, 8, 1), np.uint8), truth, np.zeros(4, int),
                       np.zeros((4, 3), int), ["is_a", "is_b", "size"], {"kind": [0, 1]})
    perfect = concept_scores(truth, data)
    assert perfect["kind"] == {"accuracy": 1.0, "chance": 0.75, "learned": True}
    assert perfect["size"]["r2"] == 1.0 and perfect["size"]["mae"] == 0.0 and perfect["size"]["learned"]
    guess = np.column_stack([np.zeros(4), np.ones(4), np.full(4, truth[:, 2].mean())])
    scores = concept_scores(guess, data)
    assert scores["kind"]["accuracy"] == 0.75 and not scores["kind"]["learned"]
    assert scores["size"]["r2"] == pytest.approx(0.0) and not scores["size"]["learned"]
    assert concepts_not_learned(scores) == ["kind", "size"]
    assert flag_of(0.9, 0.5, ["kind", "size"], 2) == "no concept learned"
    assert flag_of(0.52, 0.5, ["size"], 2) == "task near chance"
    assert flag_of(0.9, 0.5, ["size"], 2) == ""


def test_leakage_figure_marks_flagged_models_spread_and_kept_shares() -> None:
    import matplotlib.pyplot as plt

    rows = [{"experiment": "dsprites", "model": m, "leakage": v, "leakage_sd": 0.03, "accepted": a,
             "flag": f}
            for m, v, a, f in (("cbm", 0.3, 1.0, "task near chance"), ("glancenet", 0.2, 1.0, ""),
                               ("glancenet+rejection", 0.1, 0.42, ""),
                               ("glancenet+random-rejection", 0.08, 0.42, ""))]
    rows[2]["leakage_acceptance_only"] = 0.09  # a diamond where the acceptance alone scores
    fig = leakage_figure(rows)
    ax = fig.axes[0]
    diamonds = [c for c in ax.collections if len(c.get_offsets()) and c.get_offsets()[0][1] == 0.09]
    assert len(diamonds) == 1
    hatched = [p.get_hatch() for p in ax.patches]
    assert hatched == ["///", None, None, None]
    texts = [t.get_text() for t in ax.texts]
    assert "0.10\n42% kept" in texts and "0.08\n42% kept" in texts and "0.30" in texts
    assert len(ax.containers) >= 4 and any(c.has_yerr for c in ax.containers if hasattr(c, "has_yerr"))
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "glancenet+random-rejection" in legend and any("hatched" in t for t in legend)
    assert "the same rejection\nwithout concepts" in legend
    plt.close(fig)


def test_leakage_figure_of_both_experiments_is_readable_on_a_page() -> None:
    """Both experiments of five models made a 9.4-inch figure with the legend beside it, its
    6.5 pt values printed at 4.8 pt on a page: scaled to a page every text is 6 points or
    more, and the legend sits under the axes, on the figure."""
    import matplotlib.pyplot as plt

    from latentplay.viz.style import PAGE_WIDTH, SMALLEST_TEXT, printed_size

    rows = [{"experiment": e, "model": m, "leakage": 0.5 - k / 10, "leakage_sd": 0.03,
             "accepted": 0.8, "flag": "task near chance" if k == 1 else ""}
            for e in ("dsprites", "parity")
            for k, m in enumerate(("vae", "cbm", "glancenet", "glancenet+rejection",
                                   "glancenet+random-rejection"))]
    fig = leakage_figure(rows)
    assert printed_size(fig, PAGE_WIDTH) >= SMALLEST_TEXT
    fig.canvas.draw()
    ax = fig.axes[0]
    legend, axes = ax.get_legend().get_window_extent(), ax.get_window_extent()
    assert legend.y1 < axes.y0 and legend.y0 >= 0 and 0 <= legend.x0 and legend.x1 <= fig.bbox.width
    title = ax.title.get_window_extent()
    assert 0 <= title.x0 and title.x1 <= fig.bbox.width and title.y1 <= fig.bbox.height
    plt.close(fig)


def test_leakage_figure_models_stay_apart_for_colour_blind_readers() -> None:
    """cbm (red) and glancenet+rejection (green) were 4.6 CIEDE2000 apart to a deuteranope,
    told apart by colour alone: every two of the five models' colours are now more than 10
    apart for every vision."""
    import matplotlib.pyplot as plt
    from tests.viz.colour_vision import least_gaps

    rows = [{"experiment": "dsprites", "model": m, "leakage": 0.3, "leakage_sd": 0.03,
             "accepted": 0.8, "flag": ""}
            for m in ("vae", "cbm", "glancenet", "glancenet+rejection", "glancenet+random-rejection")]
    fig = leakage_figure(rows)
    handles = fig.axes[0].get_legend().legend_handles
    assert [h.get_label() for h in handles] == [r["model"] for r in rows]
    gaps = least_gaps([h.get_facecolor() for h in handles])
    assert min(gaps.values()) > 10, gaps
    plt.close(fig)


@pytest.fixture(scope="module")
def parity_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list]:
    out = tmp_path_factory.mktemp("leak")
    rows = leakage_table(("parity",), TrainConfig(epochs=1, seed=0), out=out,
                         models=("cbm", "glancenet"), splits=4)
    return out, rows


def test_leakage_table_one_chance_control_and_concepts(parity_run: tuple[Path, list]) -> None:
    out, rows = parity_run
    assert [r["model"] for r in rows] == ["cbm", "glancenet", "glancenet+rejection",
                                          "glancenet+random-rejection"]
    assert len({r["chance"] for r in rows}) == 1
    by = {r["model"]: r for r in rows}
    assert by["glancenet+random-rejection"]["accepted"] == by["glancenet+rejection"]["accepted"]
    assert all(r["splits"] == 4 and r["leakage_sd"] >= 0 for r in rows)
    assert set(rows[0]["concept_scores"]) == {"digit"} and rows[0]["concept_acc"] is not None
    table = list(csv.DictReader((out / "leakage.csv").read_text().splitlines()))
    assert [r["model"] for r in table] == [r["model"] for r in rows]
    assert {"leakage_sd", "concept_acc", "concepts", "flag", "leakage_acceptance_only"} <= set(table[0])
    assert table[0]["concepts"].startswith("digit acc ")
    assert table[2]["leakage_acceptance_only"] != "" and table[0]["leakage_acceptance_only"] == ""
    settings = json.loads((out / "leakage.json").read_text())
    assert settings["asked"]["probe_splits"] == 4 and settings["used"]["parity"]["probe_splits"] == 4
    assert [c["model"] for c in settings["concept_scores"]] == ["cbm", "glancenet"]


def test_leakage_table_refuses_a_model_named_twice() -> None:
    with pytest.raises(UserError, match="a model is named twice"):
        leakage_table(("parity",), TrainConfig(epochs=1), models=("cbm", "cbm"))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--models", "cbm,cbm"], "--models names cbm twice"),
        (["--experiments", "parity,parity"], "--experiments names parity twice"),
        (["--models", "cbm,svm"], "--models: unknown svm; choose from glancenet, vae, cbm"),
        (["--probe-splits", "0"], "--probe-splits must be at least 1, got 0"),
        (["--n-train", "3000"], "the dsprites training domain holds 2,880 centred sprites"),
        (["--n-probe", "100000"], "the dsprites probe set holds 92,160 corner sprites"),
    ],
)
def test_leakage_cli_refuses_in_one_line(cli, tmp_path: Path, args: list[str], message: str) -> None:
    res = cli("leakage", "run", "--out", tmp_path / "o", *args)
    assert res.code == 2 and message in res.err and "Traceback" not in res.err, res.err
    assert len(res.err.strip().splitlines()) == 1 and not (tmp_path / "o").exists()


def test_dsprites_settings_describe_the_protocol(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """leakage.json's ``used`` says what the dsprites experiment trained and probed on."""
    from latentplay.metrics import leakage

    monkeypatch.setattr(leakage, "run_experiment", lambda *a, **k: [])
    monkeypatch.setattr(leakage, "bar_chart", lambda rows, path: None)
    leakage_table(("dsprites",), TrainConfig(epochs=2), out=tmp_path, n_probe=800, size=32)
    used = json.loads((tmp_path / "leakage.json").read_text())["used"]["dsprites"]
    domain, probed = used["training_domain"], used["probe_set"]
    assert domain["images"] == 2880 and domain["held_out"] == 576
    assert domain["concepts"] == DSPRITES_CONCEPTS and domain["task"] == "shape (3 classes)"
    assert "(0.48, 0.52)" in domain["rows"]
    assert "< 0.25" in probed["rows"] and "> 0.75" in probed["rows"] and probed["images"] == 800
    assert probed["target"].startswith("corner") and used["size"] == 32 and used["probe_splits"] == 20
