"""Probes: linear and k-NN scores against chance, per-dimension informativeness, the command."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.linear_model import Ridge
from sklearn.metrics import mutual_info_score
from sklearn.neighbors import KNeighborsRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from latentplay import store as st
from latentplay.errors import UserError
from latentplay.latent.probe import cv_scores, informativeness, probe
from latentplay.metrics.information import histogram_discretize


def test_linear_knn_and_chance_on_known_codes() -> None:
    rng = np.random.default_rng(0)
    n = 1200
    y = rng.integers(0, 3, n)
    z = rng.normal(size=(n, 4))
    z[:, 2] += 6.0 * y  # dimension 2 carries the class, the others are noise
    p = probe(z, y.astype(float), "categorical")
    assert p.linear > 0.95 and p.knn > 0.9 and p.chance == pytest.approx(1 / 3)
    # chance is over the classes present: codes 0 and 2 (none of 1) give a half, not a third
    assert probe(z, (2 * (y > 0)).astype(float), "categorical").chance == pytest.approx(0.5)
    assert int(np.argmax(p.informativeness)) == 2 and p.informativeness[2] > 0.5
    assert np.delete(p.informativeness, 2).max() < 0.05
    noise = probe(rng.normal(size=(n, 4)), y.astype(float), "categorical")
    assert abs(noise.linear - 1 / 3) < 0.06 and abs(noise.knn - 1 / 3) < 0.06
    # informativeness against its chance level: the carrying dimension far above it; noise's
    # top dimension (the histogram's upward bias, 0.01 here) not named
    assert p.top == 2 and np.delete(p.informativeness, 2).max() <= 2 * p.informativeness_chance
    assert noise.top is None and 0 < noise.informativeness.max() <= noise.informativeness_chance
    # a continuous attribute held along a curve: linear R² ~ 0, k-NN R² high
    x = rng.uniform(-2, 2, size=(n, 2))
    curved = probe(x, x[:, 0] ** 2, "continuous")
    assert curved.linear < 0.05 and curved.knn > 0.9 and curved.chance == 0.0
    assert curved.measure == "R²" and p.measure == "balanced accuracy"


def test_fold_spreads_are_sample_standard_deviations() -> None:
    # the same folds scored again: the mean is the probe's score, the spread their sample SD
    # (n - 1, as every other spread latentplay writes)
    rng = np.random.default_rng(3)
    z = rng.normal(size=(200, 3))
    y = z[:, 0] + rng.normal(size=200)
    p = probe(z, y, "continuous", cv=4)
    folds = cv_scores(make_pipeline(StandardScaler(), Ridge(alpha=1.0)), z, y, "continuous", 4, 0)
    near = cv_scores(KNeighborsRegressor(15), z, y, "continuous", 4, 0)
    assert p.linear == pytest.approx(folds.mean()) and p.linear_std == pytest.approx(folds.std(ddof=1))
    assert p.knn == pytest.approx(near.mean()) and p.knn_std == pytest.approx(near.std(ddof=1))


def test_renaming_the_classes_leaves_the_knn_score() -> None:
    """Classes with as many of the 15 neighbours' votes went to the lowest class code, so
    reversing the codes of three classes moved k-NN's balanced accuracy; the nearer
    neighbours decide such ties now, whatever the classes are called."""
    rng = np.random.default_rng(0)
    z = rng.normal(size=(600, 6))
    y = (z[:, 0] + 0.5 * z[:, 1] + rng.normal(size=600) > 0).astype(int) + (z[:, 2] > 1)
    named = probe(z, y, "categorical", class_names=["a", "b", "c"])
    renamed = probe(z, 2 - y, "categorical", class_names=["c", "b", "a"])
    assert renamed.knn == pytest.approx(named.knn, abs=1e-12)
    assert renamed.linear == pytest.approx(named.linear, abs=1e-9)


def test_missing_labels_are_left_out() -> None:
    rng = np.random.default_rng(1)
    z = rng.normal(size=(300, 3))
    y = rng.integers(0, 2, 300).astype(float)
    y[:40] = -1  # unlabelled class code
    y[40:50] = np.nan
    assert probe(z, y, "categorical").n == 250
    values = rng.normal(size=300)
    values[:7] = np.nan
    assert probe(z, values, "continuous").n == 293


def test_rows_with_non_finite_codes_are_left_out() -> None:
    # an embedder that failed on some faces leaves NaN codes: those rows are not probed
    rng = np.random.default_rng(1)
    z = rng.normal(size=(300, 3))
    y = (z[:, 0] + 0.5 * rng.normal(size=300) > 0).astype(float)
    bad = z.copy()
    bad[:9, 1] = np.nan
    left, full = probe(bad, y, "categorical"), probe(z[9:], y[9:], "categorical")
    assert left.n == 291 and (left.linear, left.knn) == (full.linear, full.knn)
    with pytest.raises(UserError, match="no row is left to probe"):
        probe(np.full_like(z, np.nan), y, "categorical")


def test_informativeness_is_mutual_information_over_entropy() -> None:
    rng = np.random.default_rng(2)
    z = rng.normal(size=(500, 3))
    y = (z[:, 1] > 0).astype(int) + (rng.random(500) < 0.2)
    codes = histogram_discretize(z)
    entropy = mutual_info_score(y, y)
    expected = [mutual_info_score(y, codes[:, d]) / entropy for d in range(3)]
    assert informativeness(z, y.astype(float), "categorical") == pytest.approx(expected)


@pytest.mark.parametrize(("labels", "message"), [
    (np.zeros(100), "fewer than two classes"),
    (np.r_[np.zeros(97), np.ones(3)], "fewer than the 5 folds"),
])
def test_bad_labels(labels: np.ndarray, message: str) -> None:
    with pytest.raises(UserError, match=message):
        probe(np.random.default_rng(0).normal(size=(100, 2)), labels, "categorical")


def test_non_finite_codes_are_left_out_of_the_order_r2() -> None:
    """A code of NaN on a labelled row of ordered classes: the row is left out of the order R²
    too (not a fold that cannot be fitted)."""
    rng = np.random.default_rng(0)
    z = rng.normal(size=(100, 3))
    z[:, 0] += np.arange(100) % 3
    y = (np.arange(100) % 3).astype(float)
    bad = z.copy()
    bad[0] = np.nan
    left = probe(bad, y, "categorical", places=y.copy(), attribute="tone")
    full = probe(z[1:], y[1:], "categorical", places=y[1:].copy(), attribute="tone")
    assert left.n == 99 and left.order_r2 == full.order_r2


@pytest.fixture
def two_columns(faces_store: Path, tmp_path: Path) -> Path:
    """A copy of ``faces_store`` with a column that holds gender and one that does not."""
    data = st.load(faces_store)
    rng = np.random.default_rng(0)
    gender = np.asarray(data.labels("gender"), dtype=np.float32)
    informed = rng.normal(size=(len(data), 6)).astype(np.float32)
    informed[:, 3] += 4 * gender
    data = st.add_column(data, "informed", informed)
    data = st.add_column(data, "blind", rng.normal(size=(len(data), 6)).astype(np.float32))
    return Path(st.save(data, tmp_path / "faces").path)


def test_probe_command(cli, two_columns: Path, tmp_path: Path) -> None:
    out = tmp_path / "probe"
    r = cli("latent", "probe", two_columns, "--columns", "informed,blind", "--attributes",
            "gender,smile", "--out", out)
    assert r.code == 0, r.err
    assert "chance" in r.out and f"wrote {out}" in r.out
    # what the ± is and the k that the k-NN column depends on are said beneath the table
    assert "held-out scores over 5 folds: mean ± SD; k-NN with k = 15 (fewer where a training " \
           "fold is smaller)" in " ".join(r.out.split())
    summary = json.loads((out / "probe.json").read_text())
    assert summary["data"] == str(two_columns) and summary["cv"] == 5
    assert summary["made_by"]["command"] == (f"latentplay latent probe {two_columns} --columns "
                                             f"informed,blind --attributes gender,smile --out {out}")
    rows = {(p["column"], p["attribute"]): p for p in summary["probes"]}
    assert rows["informed", "gender"]["linear"] > 0.95 > 0.65 > rows["blind", "gender"]["linear"]
    assert np.argmax(rows["informed", "gender"]["informativeness"]) == 3
    assert rows["blind", "smile"]["measure"] == "R²" and rows["blind", "smile"]["linear"] < 0.1
    with open(out / "probe.csv") as fh:
        table = list(csv.DictReader(fh))
    assert len(table) == 4 and table[0]["top_dimension"] == "3"
    blind = next(row for row in table if (row["column"], row["attribute"]) == ("blind", "gender"))
    assert blind["top_dimension"] == "" and float(blind["informativeness_chance"]) > 0
    assert "none above" in r.out
    printed = r.out
    for name in ("probe.png", "informativeness_informed.png", "informativeness_blind.png"):
        assert (out / name).stat().st_size > 5_000
    r = cli("report", out)
    assert r.code == 0, r.err
    html = (out / "report.html").read_text()
    assert "Probes of informed, blind" in html and "Dimensions of blind" in html
    # the terminal's table names the top dimension as the report does, from the same numbers
    assert "top dim (informativeness)" in printed and "top dimension (informativeness)" in html
    for p in summary["probes"]:
        top, chance = int(np.argmax(p["informativeness"])), p["informativeness_chance"]
        cell = (f"{top} ({p['informativeness'][top]:.2f})" if p["informativeness"][top] > chance
                else f"none above chance ({chance:.2f})")
        line = next(line for line in printed.splitlines()
                    if f" {p['attribute']} (" in line and f" {p['column']} " in line)
        assert cell in line and f"<td>{cell}</td>" in html, (cell, line)


@pytest.mark.parametrize(("extra", "message"), [
    (("--columns", "nope"), "no column 'nope'"),
    (("--columns", "informed", "--attributes", "race"), "no attribute 'race'"),
    (("--column", "informed", "--attribute", "race"), "no attribute 'race'"),  # the singular names
    (("--column", "nope"), "no column 'nope'"),
    (("--columns", "informed", "--cv", "1"), "--cv must be at least 2"),
    (("--columns", "informed", "--max-rows", "1"),      # it named max_rows, the Python name
     "error: --max-rows must be at least 10 (two rows per fold of --cv 5), got 1"),
])
def test_probe_command_bad_input(cli, two_columns: Path, tmp_path: Path,
                                 extra: tuple[str, ...], message: str) -> None:
    r = cli("latent", "probe", two_columns, "--out", tmp_path / "bad", *extra)
    assert r.code == 2, r.err
    lines = r.err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], r.err


def test_default_attributes_leave_out_identities(labels_store) -> None:
    """An identity attribute (here 60 classes) is probed only when asked for by name — and
    over folds that keep each person's photos together each of its classes is one person,
    whom no training fold shows: a clear error."""
    from latentplay import store as st
    from latentplay.latent.probe import probe_store

    store = labels_store(300, overrides=("identities=60",))
    rng = np.random.default_rng(0)
    store = st.add_column(store, "z", rng.normal(size=(300, 3)).astype(np.float32))
    probed = {p.attribute for p in probe_store(store, ["z"], cv=2)}
    assert "identity" not in probed and "skin_tone" in probed and "smile" in probed
    with pytest.raises(UserError, match="'identity': class 'person_00000' shows 1 person, fewer than the 2"):
        probe_store(store, ["z"], ["identity"], cv=2)


def test_factors_with_many_levels_are_not_identities() -> None:
    """dSprites' 40 orientations are levels of a quantity: listed and probed like any factor."""
    from latentplay.sources import shapes
    from latentplay.store import Attribute
    from latentplay.store.summary import many_classes

    orientation = next(a for a in shapes.attributes() if a.name == "orientation")
    assert orientation.num_values == 40 and not many_classes(orientation)
    people = Attribute("identity", "categorical", names=[f"p{i}" for i in range(40)])
    assert many_classes(people)


def test_ordered_classes_get_an_order_r2(labels_store) -> None:
    """A column that holds the Monk tone's place along one axis: its order R² is high, while
    balanced accuracy over ten classes stays modest; unordered attributes get none."""
    from latentplay import store as st
    from latentplay.latent.probe import probe_store

    store = labels_store(400, seed=1)
    rng = np.random.default_rng(0)
    z = rng.normal(size=(400, 3))
    z[:, 0] += st.load(store.path).labels("skin_tone") / 2      # places 0..9, noise sd 1 (x2)
    store = st.add_column(store, "z", z.astype(np.float32))
    probes = {p.attribute: p for p in probe_store(store, ["z"], ["skin_tone", "hair_color",
                                                                  "gender"], cv=3)}
    tone = probes["skin_tone"]
    # the place's variance is 8.25 / 4 against a noise variance of 1: R² about 0.67
    assert tone.order_r2 == pytest.approx(0.67, abs=0.08) and tone.linear < 0.4
    assert probes["hair_color"].order_r2 is None and probes["gender"].order_r2 is None
    assert tone.to_dict()["order_r2"] == tone.order_r2


def test_each_persons_codes_stay_in_one_fold() -> None:
    """40 persons of 20 photos, each person's codes close together and a class drawn at
    random per person: over row folds the k-NN probe recognises persons seen in training and
    scores far above chance; over person folds at chance, as the codes hold nothing of the
    class."""
    rng = np.random.default_rng(0)
    person = np.repeat(np.arange(40), 20)
    z = rng.normal(size=(40, 6))[person] + 0.05 * rng.normal(size=(800, 6))
    y = rng.integers(0, 2, 40)[person].astype(float)
    rows = probe(z, y, "categorical", seed=1)
    persons = probe(z, y, "categorical", seed=1, groups=person)
    assert (rows.folds, persons.folds) == ("rows", "persons")
    assert rows.knn > 0.9 and persons.knn < 0.7
    assert persons.to_dict()["folds"] == "persons"
    with pytest.raises(UserError, match=r"fewer than the 5 folds .*together \(--cv 3, or leave "):
        probe(z, y, "categorical", groups=person % 3)


def test_the_store_s_persons_group_the_folds(labels_store) -> None:
    from latentplay.latent.probe import probe_store

    store = labels_store(240, overrides=("identities=40",))
    path = store.path
    z = np.random.default_rng(0).normal(size=(40, 4))[store.labels("identity")]
    st.save(st.add_column(store, "z", z.astype(np.float32)), path)
    found = probe_store(st.load(path), ["z"], ["gender"], seed=0)
    assert found[0].folds == "persons" and found[0].knn < 0.75


def test_each_class_needs_as_many_persons_as_folds() -> None:
    """Six rows of class 1, all photos of one person: no person fold can train on class 1,
    so the probe says which class is short of persons instead of scoring it."""
    rng = np.random.default_rng(0)
    z = rng.normal(size=(60, 4))
    y = np.r_[np.ones(6), np.zeros(54)]
    person = np.r_[np.zeros(6, int), np.arange(1, 55)]
    assert np.isfinite(probe(z, y, "categorical").linear)  # rows are enough over row folds
    with pytest.raises(UserError, match=r"'smile': class '1' shows 1 person, fewer than the 5 .*"
                                        r"\(leave the attribute out\)$"):
        probe(z, y, "categorical", attribute="smile", groups=person)


def test_too_few_persons_names_the_attribute() -> None:
    """A default attribute left out for want of persons is named in its reason (``latent
    probe`` prints one line per attribute left out: without the name, identical lines)."""
    rng = np.random.default_rng(0)
    z = rng.normal(size=(60, 4))
    y = rng.normal(size=60)
    with pytest.raises(UserError, match="^'pose_yaw': the labelled rows show 1 person, fewer than the 5"):
        probe(z, y, "continuous", attribute="pose_yaw", groups=np.zeros(60, int))
    with pytest.raises(UserError, match="^'pose_yaw': the labelled rows show 3 persons, fewer"):
        probe(z, y, "continuous", attribute="pose_yaw", groups=np.arange(60) % 3)


def test_a_fold_that_cannot_be_fitted_is_a_user_error() -> None:
    from sklearn.neighbors import KNeighborsClassifier

    from latentplay.latent.probe import cv_scores

    rng = np.random.default_rng(0)
    z, y = rng.normal(size=(20, 2)), np.arange(20) % 2
    with pytest.raises(UserError, match="'gender': a model could not be fitted on a training fold"):
        cv_scores(KNeighborsClassifier(50), z, y, "categorical", 5, 0, attribute="gender")


@pytest.mark.parametrize("grouped", [False, True])
def test_knn_neighbours_fit_in_the_smallest_training_fold(grouped: bool) -> None:
    """12 rows in 5 folds train on 9 or 10; 30 rows in 2 person folds, one person holding 16,
    train on as few as 7: k-NN uses that many neighbours, not 15 it cannot find."""
    from sklearn.model_selection import KFold, StratifiedGroupKFold, cross_val_score
    from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor

    rng = np.random.default_rng(3)
    if grouped:
        z, y = rng.normal(size=(30, 3)), (np.arange(30) % 2).astype(float)
        groups: np.ndarray | None = np.r_[np.zeros(16, int), np.arange(1, 15)]
        kind, cv, model, scoring = "categorical", 2, KNeighborsClassifier, "balanced_accuracy"
        folds: Any = StratifiedGroupKFold(2, shuffle=True, random_state=0)
    else:
        z = rng.normal(size=(12, 3))
        y, groups = z[:, 0] + 0.1 * rng.normal(size=12), None
        kind, cv, model, scoring = "continuous", 5, KNeighborsRegressor, "r2"
        folds = KFold(5, shuffle=True, random_state=0)
    k = min(len(train) for train, _ in folds.split(z, y, groups))
    assert k < 15
    p = probe(z, y, kind, cv=cv, groups=groups)
    expected = cross_val_score(model(k), z, y, cv=folds, scoring=scoring, groups=groups)
    assert np.isfinite(p.knn) and p.knn == pytest.approx(expected.mean())


def test_default_attributes_too_short_of_persons_are_left_out(labels_store) -> None:
    """Over person folds a default attribute with a class of too few persons is left out (and
    said so); named, it is an error."""
    from latentplay import store as st
    from latentplay.latent.probe import probe_store

    store = labels_store(300, overrides=("identities=40",))
    store = st.add_column(store, "z", np.random.default_rng(0).normal(size=(300, 3)).astype(np.float32))
    skipped: list[str] = []
    probed = {p.attribute for p in probe_store(store, ["z"], cv=5, skipped=skipped)}
    assert skipped and all("fewer than the 5 folds" in reason for reason in skipped)
    short = {reason.split("'")[1] for reason in skipped}
    assert probed and not probed & short and "smile" in probed
    with pytest.raises(UserError, match="fewer than the 5 folds"):
        probe_store(store, ["z"], [sorted(short)[0]], cv=5)


def test_rows_of_class_unknown_are_unlabelled(labels_store) -> None:
    """Rows of the class ``unknown`` (no value: here the middle Monk tones regrouped into
    none) are left out of the probe like missing labels, not probed as a third class: chance
    is 1/2 over the two known classes, and the probe is the one without those rows."""
    from latentplay.latent.probe import probe_store
    from latentplay.store.regroup import regroup_store

    store = labels_store(300)
    store = st.add_column(store, "z", np.random.default_rng(0).normal(size=(300, 3)).astype(np.float32))
    store = regroup_store(store, "skin_tone", {"light": ["monk_1", "monk_2", "monk_3", "monk_4"],
                                               "dark": ["monk_7", "monk_8", "monk_9", "monk_10"]},
                          name="tone2")
    tone = np.asarray(store.labels("tone2"), dtype=np.float64)
    assert store.schema.attribute("tone2").level_names[2] == "unknown" and (tone == 2).any()
    found = probe_store(store, ["z"], ["tone2"], cv=3)[0]
    assert found.chance == 0.5 and found.n == int((tone != 2).sum())
    z = st.vectors(store, "z")
    known = probe(z, np.where(tone == 2, np.nan, tone), "categorical", cv=3)
    assert (found.linear, found.knn) == (known.linear, known.knn)
    direct = probe(z, tone, "categorical", cv=3, class_names=["light", "dark", "unknown"])
    assert direct.n == found.n and direct.chance == 0.5


def test_probe_command_counts_rows_with_non_finite_codes(cli, faces_store: Path,
                                                         tmp_path: Path) -> None:
    data = st.load(faces_store)
    codes = np.random.default_rng(0).normal(size=(len(data), 4)).astype(np.float32)
    codes[:, 0] += 4 * np.asarray(data.labels("gender"))
    codes[:, 1] += np.asarray(data.labels("skin_tone"))  # an ordered attribute: order R² too
    codes[[3, 50, 77]] = np.nan
    path = st.save(st.add_column(data, "c", codes), tmp_path / "faces").path
    r = cli("latent", "probe", path, "--columns", "c", "--attributes", "gender,skin_tone",
            "--cv", "3", "--out", tmp_path / "probe")
    assert r.code == 0, r.err
    assert "left out: 3 of 400 rows probed, whose 'c' codes hold non-finite values" in r.out
    found = json.loads((tmp_path / "probe" / "probe.json").read_text())["probes"]
    assert [p["n"] for p in found] == [397, 397]
    assert found[0]["linear"] > 0.9 and found[1]["order_r2"] > 0.5


def test_probe_refuses_an_unknown_kind() -> None:
    """A typo of ``categorical`` ran a regression on the class codes."""
    z = np.random.default_rng(0).normal(size=(20, 2))
    with pytest.raises(UserError, match="kind must be one of categorical, continuous, got 'categoricl'"):
        probe(z, np.arange(20) % 2, "categoricl")


def test_probe_store_takes_a_single_name_as_a_string(tmp_path: Path) -> None:
    """``probe_store(s, "codes", "gender")`` probed columns c, o, d, ... and attributes g, e, ..."""
    from latentplay.latent.probe import probe_store
    from latentplay.store import Attribute, Provenance, Schema

    schema = Schema(attributes=[Attribute("gender", "categorical", names=["f", "m"])],
                    provenance=Provenance(source="test", converter="test"))
    images = np.zeros((20, 4, 4, 3), np.uint8)
    store = st.build([{"image": [st.encode_png(im) for im in images], "gender": np.arange(20) % 2}],
                     schema, tmp_path / "s")
    store = st.add_column(store, "codes", np.random.default_rng(0).normal(size=(20, 2)))
    found = probe_store(store, "codes", "gender", cv=2)
    assert [(p.column, p.attribute) for p in found] == [("codes", "gender")]


def test_a_refused_probe_scores_no_order_first() -> None:
    """Six rows of ten ordered classes: the order R² was cross-validated (a warning per fold of
    one row) before the class counts refused the probe; now the refusal comes alone."""
    import warnings

    z = np.random.default_rng(0).normal(size=(6, 2))
    labels = np.arange(6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")       # any scikit-learn warning fails the test
        with pytest.raises(UserError, match="a class has 1 labelled row, fewer than the 5 folds"):
            probe(z, labels, "categorical", attribute="skin_tone", places=labels.astype(float))


def test_when_nothing_can_be_probed_every_reason_is_named(tmp_path: Path) -> None:
    """Only the first attribute's reason was given ('source' has one class), though the one
    that mattered was the next ('gender': a class of fewer rows than folds)."""
    from latentplay.latent.probe import probe_store

    schema = st.Schema([st.Attribute("source", "categorical", names=["a"]),
                        st.Attribute("gender", "categorical", names=["f", "m"])],
                       st.Provenance("test", "test"), image_column=None)
    store = st.build([{"source": np.zeros(12, np.int64), "gender": np.arange(12) % 2}], schema,
                     tmp_path / "s")
    store = st.add_column(store, "z", np.random.default_rng(0).standard_normal((12, 3)))
    with pytest.raises(UserError) as caught:
        probe_store(store, "z", cv=10)
    text = str(caught.value)
    assert text.startswith("no attribute could be probed: ") and "'source'" in text
    assert "gender" in text.split("; ", 1)[1], text


def test_an_interrupted_probe_leaves_its_out_as_it_was(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Stopped while drawing its figures, write_probes left probe.json and probe.csv without
    the figures in --out (running it again was refused as not empty); with --overwrite another
    column's informativeness figure stayed beside the new files."""
    from latentplay.latent.probe import write_probes
    from latentplay.viz import grid

    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 200).astype(float)
    z = rng.normal(size=(200, 3)) + y[:, None]
    first = [probe(z, y, "categorical", cv=2, column="a", attribute="y")]
    out = write_probes(first, tmp_path / "p")
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    save = grid.save_figure

    def killed(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(grid, "save_figure", killed)
    other = [probe(z, y, "categorical", cv=2, column="b", attribute="y")]
    with pytest.raises(KeyboardInterrupt):
        write_probes(other, out, overwrite=True)
    with pytest.raises(KeyboardInterrupt):
        write_probes(first, tmp_path / "new")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new", "p"]   # no scratch left
    monkeypatch.setattr(grid, "save_figure", save)
    write_probes(first, tmp_path / "new")
    write_probes(other, out, overwrite=True)
    assert sorted(p.name for p in out.iterdir()) == ["informativeness_b.png", "probe.csv",
                                                     "probe.json", "probe.png"]
