"""Attribute directions: recovery of known directions, boundaries, conditioning, edits, JSON."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from latentplay import __version__, sources, store
from latentplay.errors import UserError
from latentplay.latent.directions import (
    Direction,
    cosine,
    edit,
    edit_to,
    fit_direction,
    fit_store_direction,
    orthogonalize,
)

D, N = 16, 2000


@pytest.fixture(scope="module")
def planted() -> tuple[np.ndarray, np.ndarray]:
    """``(N, D)`` standard normal codes and a known unit direction ``w``."""
    rng = np.random.default_rng(0)
    w = rng.normal(size=D)
    return rng.normal(size=(N, D)).astype(np.float32), w / np.linalg.norm(w)


def _binary(z: np.ndarray, w: np.ndarray, shift: float = 0.0, noise: float = 0.1) -> np.ndarray:
    """Class 1 where ``w @ z + shift`` plus noise is positive."""
    rng = np.random.default_rng(1)
    return (z @ w + shift + noise * rng.normal(size=len(z)) > 0).astype(np.int64)


def _unit(*values: float) -> np.ndarray:
    v = np.zeros(D)
    v[: len(values)] = values
    return v / np.linalg.norm(v)


def _direction(vector: np.ndarray, name: str, offset: float = 0.0) -> Direction:
    return Direction(vector=vector, attribute=name, kind="continuous", positive=None, negative=None,
                     method="ridge", offset=offset, score=0.9, n=100)


@pytest.mark.parametrize("method", ["svm", "logistic"])
def test_categorical_recovers_planted_direction(planted, method):
    z, w = planted
    y = _binary(z, w)
    d = fit_direction(z, y, kind="categorical", method=method, attribute="a")
    assert d.vector.dtype == np.float32 and d.vector.shape == (D,)
    assert abs(np.linalg.norm(d.vector) - 1) < 1e-6
    assert d.vector @ w > 0.95  # also the sign: it points to class 1
    true_accuracy = np.mean((z @ w > 0) == y)
    assert abs(d.score - true_accuracy) < 0.03
    assert (d.method, d.positive, d.negative, d.n) == (method, "1", "0", N)


def test_positive_class_sets_the_sign(planted):
    z, w = planted
    d = fit_direction(z, _binary(z, w), kind="categorical", classes=["off", "on"], positive="off")
    assert d.vector @ w < -0.95
    assert (d.positive, d.negative, d.label) == ("off", "on", "attribute: off vs on")


@pytest.mark.parametrize("method", ["svm", "logistic"])
def test_offset_places_the_boundary(planted, method):
    z, w = planted
    y = _binary(z, w, shift=-1.0)  # boundary w @ z - 1 = 0
    d = fit_direction(z, y, kind="categorical", method=method)
    assert abs(d.offset + 1.0) < 0.15
    distance = d.project(z)
    assert distance.shape == (N,)
    assert np.mean(distance[y == 1] > 0) > 0.9
    assert np.mean(distance[y == 0] < 0) > 0.9


def test_continuous_ridge_recovers_direction_and_r2(planted):
    z, w = planted
    noise = np.random.default_rng(2).normal(size=N)
    y = 2.0 * (z @ w) + 0.5 + 0.3 * noise
    d = fit_direction(z, y, kind="continuous")
    assert d.method == "ridge" and d.positive is None and d.negative is None
    assert d.vector @ w > 0.99
    assert abs(d.score - 4.0 / (4.0 + 0.09)) < 0.02
    assert abs(d.project(z).mean()) < 1e-6  # the boundary is the mean level of the fit


def test_unlabelled_rows_are_dropped(planted):
    z, w = planted
    y = _binary(z, w).astype(np.float64)
    y[:50] = np.nan
    y[50:70] = -1  # ClassLabel's "no label"
    assert fit_direction(z, y, kind="categorical").n == N - 70
    values = z @ w
    values[:30] = np.nan
    assert fit_direction(z, values, kind="continuous").n == N - 30


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"y": np.zeros(N, int)},
         r"has one class \(0\) among its labelled rows; a direction.*--with invert:RUN\)$"),
        ({"y": np.r_[0, 1, np.full(N - 2, 2)], "positive": 2},
         r"the rest \(classes other than '2'\) has 2 labelled rows"),
        ({"y": np.r_[np.ones(3, int), np.zeros(N - 3, int)]}, "class '1' has 3 labelled rows"),
        ({"y": np.arange(N) % 3}, "has 3 classes"),
        ({"positive": "up"}, "no class 'up'; classes: 0, 1"),
        ({"positive": 1, "negative": "1"}, "the same class"),
        ({"method": "ridge"}, "does not fit a categorical"),
        ({"kind": "ordinal"}, "kind must be one of"),
        ({"cv": 1}, r"cv \(--cv, the cross-validation folds\) must be at least 2, got 1"),
        # NaN failed in scikit-learn with a traceback; inf fitted without regularisation
        ({"c": float("nan")}, "regularisation c must be a finite number above 0, got nan"),
        ({"c": float("inf")}, "regularisation c must be a finite number above 0, got inf"),
        ({"y": np.zeros(N - 1, int)}, "labels must have shape"),
        ({"y": np.full(N, 0.5)}, "not fractions"),
    ],
)
def test_fit_direction_user_errors(planted, kwargs, message):
    z, w = planted
    args = {"y": _binary(z, w), "kind": "categorical", **kwargs}
    with pytest.raises(UserError, match=message):
        fit_direction(z, **args)


def test_fit_direction_rejects_bad_codes(planted):
    z, w = planted
    with pytest.raises(UserError, match=r"\(N, D\) array"):
        fit_direction(z[0], _binary(z, w)[:1], kind="categorical")
    with pytest.raises(UserError, match="all 2000 labelled rows of 'a' hold non-finite"):
        fit_direction(np.full_like(z, np.nan), _binary(z, w), kind="categorical", attribute="a")


def test_rows_with_non_finite_codes_are_left_out(planted):
    # an embedder that failed on some faces leaves NaN (or inf) codes: those rows are not fitted
    z, w = planted
    bad = z.copy()
    bad[:5, 0] = np.nan
    bad[5:8, 3] = np.inf
    y = _binary(z, w)
    found = fit_direction(bad, y, kind="categorical")
    assert found.n == N - 8 and found == fit_direction(z[8:], y[8:], kind="categorical")
    values = z @ w
    assert fit_direction(bad, values, kind="continuous") == fit_direction(z[8:], values[8:],
                                                                          kind="continuous")


def test_orthogonalize_removes_the_others():
    primary = _direction(_unit(1, 1, 1), "p", offset=0.6)
    others = [_direction(_unit(0, 1), "a"), _direction(_unit(0, 0, 1), "b")]
    result = orthogonalize(primary, *others)
    np.testing.assert_allclose(result.vector, _unit(1), atol=1e-7)
    assert result.conditioned_on == ["a", "b"]
    foot = -primary.offset * primary.vector[None].astype(np.float64)
    assert abs(result.project(foot)[0]) < 1e-6  # the boundary keeps the primary's foot point


def test_orthogonalize_general_position():
    rng = np.random.default_rng(3)
    vecs = rng.normal(size=(4, D))
    others = [_direction(v / np.linalg.norm(v), f"o{k}") for k, v in enumerate(vecs[1:])]
    others.append(others[0])  # a repeated direction adds nothing to the span
    result = orthogonalize(_direction(vecs[0] / np.linalg.norm(vecs[0]), "p"), *others)
    assert abs(np.linalg.norm(result.vector) - 1) < 1e-6
    for other in others:
        assert abs(cosine(result, other)) < 1e-6
    basis = vecs[1:].T
    residual = vecs[0] - basis @ np.linalg.lstsq(basis, vecs[0], rcond=None)[0]
    np.testing.assert_allclose(result.vector, residual / np.linalg.norm(residual), atol=1e-6)


def test_orthogonalize_rejects_a_direction_in_the_span():
    a, b = _direction(_unit(1), "a"), _direction(_unit(0, 1), "b")
    with pytest.raises(UserError, match="inside the span"):
        orthogonalize(_direction(_unit(3, -2), "p"), a, b)
    with pytest.raises(UserError, match="at least one direction"):
        orthogonalize(a)
    with pytest.raises(UserError, match="different latent spaces"):
        orthogonalize(a, _direction(np.ones(4) / 2, "c"))


def test_cosine():
    a, b = _direction(_unit(1), "a"), _direction(_unit(1, 1), "b")
    assert cosine(a, b) == pytest.approx(np.sqrt(0.5))
    assert cosine(a, a) == pytest.approx(1.0)
    near = _direction(_unit(1) * 1.0005, "near")     # unit length is checked to 1e-3 only
    assert cosine(near, near) == pytest.approx(1.0)


def test_edit_and_edit_to(planted):
    z, _ = planted
    d = _direction(_unit(1, 2, 3), "p", offset=0.4)
    start = z[:10]
    alphas = np.array([-2.0, 0.0, 1.5])
    moved = edit(start, d, alphas)
    assert moved.shape == (10, 3, D) and moved.dtype == np.float32
    np.testing.assert_array_equal(moved[:, 1], start)
    shifts = np.stack([d.project(moved[:, j]) for j in range(3)], axis=1) - d.project(start)[:, None]
    np.testing.assert_allclose(shifts, np.broadcast_to(alphas, (10, 3)), atol=1e-5)
    targets = [-3.0, 0.0, 2.5, 5.0]
    to = edit_to(start, d, targets)
    assert to.shape == (10, 4, D) and to.dtype == np.float32
    for j, target in enumerate(targets):
        np.testing.assert_allclose(d.project(to[:, j]), target, atol=1e-5)
    with pytest.raises(UserError, match="dimensions but the direction has"):
        edit(z[:, :4], d, alphas)


def test_json_round_trip(planted, tmp_path: Path):
    z, w = planted
    fitted = fit_direction(z, _binary(z, w), kind="categorical", classes=["no", "yes"],
                           attribute="glasses")
    conditioned = orthogonalize(fitted, _direction(_unit(1), "a"))
    for k, d in enumerate([fitted, conditioned]):
        path = tmp_path / f"d{k}.json"
        d.to_json(path)
        assert json.loads(path.read_text())["vector"][0] == float(d.vector[0])
        assert json.loads(path.read_text())["made_by"] == {"latentplay": __version__}  # what wrote it
        back = Direction.from_json(path)
        assert back == d
        np.testing.assert_array_equal(back.vector, d.vector)
    assert back.conditioned_on == ["a"] and back != fitted
    (tmp_path / "bad.json").write_text('{"vector": [1.0]}')
    with pytest.raises(UserError, match="not a latentplay direction"):
        Direction.from_json(tmp_path / "bad.json")
    with pytest.raises(UserError, match="no direction file"):
        Direction.from_json(tmp_path / "missing.json")


@pytest.fixture(scope="module")
def emb_store(faces_store: Path) -> store.Store:
    """``faces_store`` plus an 8-D column ``emb``: dim 0 encodes gender (male), dim 1 smile,
    dim 2 whether age_group is adult, all with noise."""
    st = store.load(faces_store)
    rng = np.random.default_rng(4)
    z = 0.5 * rng.normal(size=(len(st), 8))
    z[:, 0] += 2.0 * st.labels("gender")
    z[:, 1] += 2.0 * st.labels("smile")
    z[:, 2] += 2.0 * (st.labels("age_group") == 2)
    return store.add_column(st, "emb", z.astype(np.float32))


def test_store_categorical_by_name_or_code(emb_store):
    d = fit_store_direction(emb_store, "emb", "gender")
    assert (d.attribute, d.kind, d.positive, d.negative, d.n) == ("gender", "categorical", "male",
                                                                  "female", 400)
    assert d.vector[0] > 0.9 and d.score > 0.9
    for kwargs in ({"positive": "male"}, {"positive": 1}, {"positive": "1"}, {"negative": "female"}):
        assert fit_store_direction(emb_store, "emb", "gender", **kwargs) == d
    flipped = fit_store_direction(emb_store, "emb", "gender", positive="female")
    assert cosine(flipped, d) < -0.99 and flipped.positive == "female"


def test_store_continuous(emb_store):
    d = fit_store_direction(emb_store, "emb", "smile")
    assert (d.kind, d.method, d.positive) == ("continuous", "ridge", None)
    assert d.vector[1] > 0.9 and d.score > 0.6


def test_store_one_vs_rest(emb_store):
    d = fit_store_direction(emb_store, "emb", "age_group", positive="adult")
    assert (d.positive, d.negative, d.n, d.label) == ("adult", None, 400, "age_group: adult vs rest")
    assert d.vector[2] > 0.9 and d.score > 0.8
    pair = fit_store_direction(emb_store, "emb", "age_group", positive=2, negative="child")
    assert pair.negative == "child"
    assert pair.n == int(np.isin(emb_store.labels("age_group"), [0, 2]).sum())


def test_store_ordered_classes_along_their_order(emb_store):
    """An ordered attribute of more than two classes is fitted over the classes' places (a
    regression towards the last class); naming a class still fits that class."""
    tones = emb_store.labels("skin_tone")
    z = np.random.default_rng(6).normal(size=(len(emb_store), 4))
    z[:, 3] += tones  # monk_1 .. monk_10 at places 0..9
    d = fit_store_direction(emb_store, z, "skin_tone")
    assert (d.kind, d.method, d.negative, d.positive) == ("continuous", "ridge", "monk_1",
                                                          "monk_10")
    assert d.label == "skin_tone: monk_1 to monk_10" and d.vector[3] > 0.95 and d.score > 0.8
    one = fit_store_direction(emb_store, z, "skin_tone", positive="monk_10")
    assert (one.kind, one.label) == ("categorical", "skin_tone: monk_10 vs rest")


def test_store_factor_continuous_or_by_level(tmp_path_factory: pytest.TempPathFactory):
    path = tmp_path_factory.mktemp("data") / "shapes"
    sources.make("shapes", path, n=320, seed=0)
    st = store.load(path)
    rng = np.random.default_rng(5)
    z = 0.1 * rng.normal(size=(len(st), 4))
    z[:, 0] += st.labels("pos_x") / 31  # factor level codes 0..31 -> values 0..1
    z[:, 1] += st.labels("shape") == 2  # the shape named "heart"
    z[:, 2] += st.labels("scale") == 5  # the scale named "1"
    st = store.add_column(st, "emb", z.astype(np.float32))
    d = fit_store_direction(st, "emb", "pos_x")
    assert (d.kind, d.n) == ("continuous", 320) and d.vector[0] > 0.9 and d.score > 0.5
    by_level = fit_store_direction(st, "emb", "shape", positive="heart")
    assert (by_level.kind, by_level.positive, by_level.negative) == ("categorical", "heart", None)
    assert by_level.vector[1] > 0.9
    by_value = fit_store_direction(st, "emb", "scale", positive="1")  # a name, not code 1
    assert (by_value.kind, by_value.positive) == ("categorical", "1") and by_value.vector[2] > 0.9
    with pytest.raises(UserError, match="'shape' has 3 classes"):  # nominal: no order to fit
        fit_store_direction(st, "emb", "shape")


@pytest.mark.parametrize(
    ("column", "attribute", "kwargs", "message"),
    [
        ("emb", "mood", {}, "no attribute 'mood'"),
        ("emb", "gender", {"positive": "other"}, "no class 'other'; classes: female, male"),
        ("emb", "gender", {"positive": 2}, "no class 2"),
        ("emb", "hair_color", {}, "has 5 classes"),
        ("emb", "smile", {"positive": "1"}, "is continuous"),
        ("emb", "gender", {"method": "ridge"}, "does not fit a categorical"),
        ("vae_mu", "gender", {}, "no column 'vae_mu'"),
    ],
)
def test_store_user_errors(emb_store, column, attribute, kwargs, message):
    with pytest.raises(UserError, match=message):
        fit_store_direction(emb_store, column, attribute, **kwargs)


def test_pattern_is_the_generative_direction_of_anisotropic_codes() -> None:
    # codes generated as z = y * g + noise: a wide noisy dimension carries most of the
    # attribute's displacement, a narrow precise one lets a classifier read it best
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 4000)
    g = np.array([2.0, 0.1, 0.0])
    z = y[:, None] * g + rng.standard_normal((4000, 3)) * np.array([1.5, 0.02, 1.0])
    d = fit_direction(z, y, kind="categorical", method="logistic", c=100.0)
    assert abs(d.vector[1]) > 0.9  # the boundary reads the precise dimension
    assert float(d.pattern @ (g / np.linalg.norm(g))) > 0.99  # codes move along g
    assert d.pattern_sd > 5 * d.sd
    start = z[:5]
    moved = edit_to(start, d, [-1.0, 2.0])
    np.testing.assert_allclose(d.project(moved[:, 0]), -1.0, atol=1e-4)
    np.testing.assert_allclose(d.project(moved[:, 1]), 2.0, atol=1e-4)
    step = moved[:, 1] - moved[:, 0]
    cos = step @ d.pattern / np.linalg.norm(step, axis=1)
    np.testing.assert_allclose(cos, 1.0, atol=1e-5)  # along the pattern by default
    normal = edit(start, d, [1.0], along="normal")[:, 0] - start
    np.testing.assert_allclose(normal, np.repeat(d.vector[None], 5, 0), atol=1e-6)
    with pytest.raises(UserError, match="pattern"):
        d.axis("sideways")
    again = Direction.from_dict(json.loads(json.dumps(d.to_dict())))
    assert again == d and again.pattern_sd == d.pattern_sd


def test_orthogonalized_pattern_keeps_the_other_score() -> None:
    rng = np.random.default_rng(4)
    z = rng.standard_normal((3000, 4)) * np.array([2.0, 1.0, 0.5, 0.3])
    a = fit_direction(z, (z[:, 0] + z[:, 1] > 0).astype(int), kind="categorical", attribute="a")
    b = fit_direction(z, (z[:, 1] > 0).astype(int), kind="categorical", attribute="b")
    cond = orthogonalize(a, b)
    assert abs(float(cond.pattern @ b.pattern)) < 1e-6
    assert abs(float(cond.vector @ b.vector)) < 1e-6
    moved = edit(z[:10], cond, [2.0])[:, 0]
    np.testing.assert_allclose((moved - z[:10]) @ b.pattern, 0.0, atol=1e-5)
    assert np.all(a.project(moved) > a.project(z[:10]))
    normal = edit(z[:10], cond, [2.0], along="normal")[:, 0]
    np.testing.assert_allclose(b.project(normal), b.project(z[:10]), atol=1e-5)


def test_spread_on_measures_the_codes_along_both_axes() -> None:
    rng = np.random.default_rng(5)
    z = rng.standard_normal((2000, 3)) * np.array([3.0, 1.0, 0.2])
    d = fit_direction(z, z[:, 0] + z[:, 2], kind="continuous")
    again = d.spread_on(z)
    assert again.sd == pytest.approx(d.sd, rel=1e-6)
    assert again.pattern_sd == pytest.approx(d.pattern_sd, rel=1e-6)
    assert d.spread_on(z * 2).pattern_sd == pytest.approx(2 * d.pattern_sd, rel=1e-6)


def test_a_direction_s_score_keeps_each_person_in_one_fold(labels_store) -> None:
    """Codes that tell 40 persons apart and hold nothing else: gender (a person's own) scores
    perfectly over row folds, the persons recognised from their other photos, and near
    chance when the store's identity keeps each person's photos in one fold."""
    s = labels_store(400, overrides=("identities=40",))
    person = np.asarray(s.labels("identity"))
    rng = np.random.default_rng(0)
    z = rng.normal(size=(40, 64))[person] + 0.05 * rng.normal(size=(400, 64))
    rows = fit_direction(z, np.asarray(s.labels("gender")), kind="categorical",
                         classes=s.schema.attribute("gender").level_names)
    found = fit_store_direction(s, z, "gender")
    assert (rows.folds, found.folds) == ("rows", "persons")
    assert rows.score > 0.9 and found.score < 0.7
    assert found.to_dict()["folds"] == "persons"
    older = {k: v for k, v in found.to_dict().items() if k != "folds"}   # a file of before
    assert Direction.from_dict(older).folds == "rows"


@pytest.mark.parametrize("method", ["svm", "logistic", "ridge"])
def test_codes_far_from_the_origin_give_the_same_boundary(method):
    """Codes whose mean lies 50 units along z0 from the origin: the normal is the true one,
    the signed distances are the true ones (the boundary ``w @ z = 0.5``, or the mean level
    for a continuous attribute), and normal and offset are those of the centred codes, moved
    with them."""
    rng = np.random.default_rng(4)
    w = _unit(1.0, 1.0, 0.0, 0.0)[:4]
    z = rng.normal(size=(600, 4))
    shift = np.array([50.0, 0.0, 0.0, 0.0])
    score = z @ w - 0.5
    kind = "continuous" if method == "ridge" else "categorical"
    noisy = score + 0.1 * rng.normal(size=600)
    y = noisy if kind == "continuous" else (noisy > 0).astype(np.int64)
    d = fit_direction(z + shift, y, kind=kind, method=method)
    assert d.vector @ w > 0.99
    true_distance = score - score.mean() if kind == "continuous" else score
    assert np.abs(d.project(z + shift) - true_distance).mean() < 0.1
    centred = fit_direction(z, y, kind=kind, method=method)
    np.testing.assert_allclose(d.vector, centred.vector, atol=1e-3)
    assert d.offset == pytest.approx(centred.offset - centred.vector @ shift, abs=0.05)
    assert d.score == pytest.approx(centred.score, abs=0.01)


def test_each_side_needs_as_many_persons_as_folds():
    """The six rows of class 1 all show one person: no person fold can train on them."""
    rng = np.random.default_rng(0)
    z = rng.normal(size=(60, 4))
    y = np.r_[np.ones(6, int), np.zeros(54, int)]
    person = np.r_[np.zeros(6, int), np.arange(1, 55)]
    assert np.isfinite(fit_direction(z, y, kind="categorical").score)
    with pytest.raises(UserError, match="'glasses': class 'yes' shows 1 person, fewer than the 5"):
        fit_direction(z, y, kind="categorical", classes=["no", "yes"], attribute="glasses",
                      groups=person)


def test_a_score_that_is_not_a_number_is_weak():
    d = Direction(vector=_unit(1.0), attribute="a", kind="categorical", positive="1",
                  negative="0", method="svm", offset=0.0, score=float("nan"), n=10)
    assert d.weak
    assert not dataclasses.replace(d, score=0.9).weak and dataclasses.replace(d, score=0.5).weak


def test_unknown_rows_are_on_neither_side(planted):
    """Rows of the class ``unknown`` are unlabelled: a two-class attribute with them is fitted
    without naming a side, one-vs-rest leaves them out of the rest, and ``unknown`` is no side."""
    z, w = planted
    y = _binary(z, w)
    y[::4] = 2                                      # every fourth row: no value
    tone2 = {"kind": "categorical", "classes": ["light", "dark", "unknown"], "attribute": "tone2"}
    d = fit_direction(z, y, **tone2)
    assert (d.positive, d.negative, d.n) == ("dark", "light", N - N // 4)
    assert cosine(d, _direction(w, "w")) > 0.95
    assert fit_direction(z, y, positive="dark", **tone2) == d
    flipped = fit_direction(z, y, negative="dark", **tone2)
    assert (flipped.positive, flipped.negative, flipped.n) == ("light", "dark", d.n)
    for side in ({"positive": "unknown"}, {"negative": 2}, {"positive": "light", "negative": "2"}):
        with pytest.raises(UserError, match="'unknown' marks rows without a value of 'tone2', "
                           "not a class; choose one of: light, dark"):
            fit_direction(z, y, **tone2, **side)
    four = np.where(np.arange(N) % 5 == 1, 3, y)    # a third known class
    rest = fit_direction(z, four, kind="categorical", classes=["light", "dark", "unknown", "medium"],
                         positive="dark")
    assert rest.negative is None and rest.n == int((four != 2).sum())


def test_class_rows_leave_unknown_out(faces_store: Path, tmp_path: Path):
    from latentplay.latent.directions import class_rows
    from latentplay.store.regroup import regroup_store

    copy = store.save(store.load(faces_store), tmp_path / "faces")
    grouped = regroup_store(copy, "skin_tone", {"light": ["monk_1", "monk_2", "monk_3"],
                                                "dark": ["monk_8", "monk_9", "monk_10"]},
                            name="tone2")
    tone = grouped.labels("tone2")
    assert (class_rows(grouped, "tone2") == (tone != 2)).all() and (tone == 2).any()
    assert (class_rows(grouped, "tone2", "dark") == (tone == 1)).all()
    with pytest.raises(UserError, match="'unknown' marks rows without a value"):
        class_rows(grouped, "tone2", "unknown")


def test_a_conditioned_pattern_never_edits_against_the_attribute() -> None:
    # anisotropic codes where the primary's pattern, held off the other's pattern, points to
    # the negative side of the conditioned boundary: +a along it would lower the attribute
    rng = np.random.default_rng(0)
    z = rng.standard_normal((3000, 3)) * np.array([1.0, 4.0, 0.25])
    a = fit_direction(z, (z @ np.array([-0.5, -0.75, 0.45]) > 0).astype(int), kind="categorical",
                      attribute="a")
    b = fit_direction(z, (z @ np.array([0.55, 0.4, 0.75]) > 0).astype(int), kind="categorical",
                      attribute="b")
    held = b.pattern.astype(np.float64) / np.linalg.norm(b.pattern)
    left = a.pattern - (a.pattern @ held) * held
    cond = orthogonalize(a, b)
    assert float(left @ cond.vector) < 0  # what projecting the pattern alone gives
    moved = edit(z[:10], cond, [2.0])[:, 0]
    assert np.all(cond.project(moved) > cond.project(z[:10]))
    assert np.all(a.project(moved) > a.project(z[:10]))
    np.testing.assert_array_equal(cond.pattern, cond.vector)
    np.testing.assert_allclose(b.project(moved), b.project(z[:10]), atol=1e-5)


def test_a_direction_says_which_run_its_column_holds(vae_run: Path, tmp_path: Path):
    """The codes of a store of a run's samples are that run's; a column of no run (imported
    vectors, a recogniser's embeddings) gets a caution from ``check_run`` instead of a silent
    edit, and a direction that records no column (an older file) none."""
    from latentplay.latent.directions import column_run, run_sha256
    from latentplay.sources.generated import generate_store

    made = generate_store(vae_run, tmp_path / "samples", 4, column="z")
    assert column_run(made, "z") == (str(vae_run.resolve()), run_sha256(vae_run))
    assert column_run(made, "image") == (None, None)
    d = Direction(vector=_unit(1.0), attribute="a", kind="categorical", positive="1",
                  negative="0", method="svm", offset=0.0, score=0.9, n=10)
    assert d.check_run(vae_run) is None
    caution = dataclasses.replace(d, column="dlib").check_run(vae_run)
    assert caution is not None and "column 'dlib', which holds no known run's codes" in caution
    again = Direction.from_dict(dataclasses.replace(d, column="z", run="/x", run_sha256="0" * 64).to_dict())
    assert (again.column, again.run, again.run_sha256) == ("z", "/x", "0" * 64)
    with pytest.raises(UserError, match="fitted on codes of run /x .column 'z'., whose weights"):
        again.check_run(vae_run)


def test_an_embedded_column_keeps_the_run_and_weights_embed_saw(vae_run: Path, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch):
    """``embed --with vae:RUN`` records the run's resolved path and its weights' SHA-256: a
    direction fitted from another folder, or after the run was retrained, still names the run
    the codes came from; an entry written before they were recorded is read as before."""
    import shutil

    from latentplay.embed import column as col
    from latentplay.embed.base import make_embedder
    from latentplay.latent.directions import column_run, run_sha256
    from latentplay.sources.generated import generate_store

    run = tmp_path / "run"
    shutil.copytree(vae_run, run)  # a copy to "retrain" (its model.json is rewritten below)
    made = generate_store(run, tmp_path / "samples", 4, column="z")
    embedded_sha = run_sha256(run)
    monkeypatch.chdir(tmp_path)
    emb = make_embedder("vae:run")
    assert col._key(made, emb)["embedder"]["config"]["run"] == "run"  # resume key: as typed
    out = col.embed_store(made, emb, "mu", batch_size=4, progress=False)
    entry = col.embed_entry(out, "mu")
    assert entry is not None and entry["config"]["run"] == "run"
    assert (entry["run"], entry["run_sha256"]) == (str(run.resolve()), embedded_sha)

    meta = json.loads((run / "model.json").read_text())
    (run / "model.json").write_text(json.dumps({**meta, "sha256": "f" * 64}))  # retrained
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert column_run(out, "mu") == (str(run.resolve()), embedded_sha)

    old = {k: v for k, v in entry.items() if k not in ("run", "run_sha256")}
    history = [h for h in out.schema.history if h is not entry] + [old]
    older = dataclasses.replace(out, schema=dataclasses.replace(out.schema, history=history))
    monkeypatch.chdir(tmp_path)  # an old entry's relative path is taken from here
    assert column_run(older, "mu") == (str(run.resolve()), "f" * 64)


@pytest.mark.parametrize("kind", ["categorical", "continuous"])
def test_a_direction_does_not_depend_on_the_codes_overall_scale(kind: str) -> None:
    """Codes of SD 0.001 (a collapsed VAE's) and the same codes times 1,000 give the same
    boundary and score: with a fixed penalty the small codes were over-regularised."""
    from latentplay.latent.directions import fit_direction

    rng = np.random.default_rng(0)
    z = rng.standard_normal((300, 6)) * [3.0, 1.0, 1.0, 0.5, 0.5, 0.2]
    y = z @ [0.2, 1.0, -0.5, 0.3, 0.0, 2.0] + 0.5 * rng.standard_normal(300)
    if kind == "categorical":
        y = (y > 0).astype(int)
    small = fit_direction(z * 1e-3, y, kind=kind)
    large = fit_direction(z * 1e3, y, kind=kind)
    np.testing.assert_allclose(small.vector, large.vector, atol=1e-6)
    assert small.score == pytest.approx(large.score, abs=1e-6)
    np.testing.assert_allclose(small.project(z[:5] * 1e-3) * 1e6, large.project(z[:5] * 1e3),
                               rtol=1e-4, atol=1e-6)


def test_spread_on_is_the_sample_sd_along_each_axis() -> None:
    """Codes 0, 1, 2, 3 along the normal and 0, 2, 4, 6 along the pattern: sample SDs (n - 1)
    sqrt(5 / 3) and twice that."""
    d = dataclasses.replace(_direction(_unit(1.0), "a"), pattern=_unit(0.0, 1.0))
    z = np.zeros((4, D))
    z[:, 0], z[:, 1] = np.arange(4), 2 * np.arange(4)
    spread = d.spread_on(z)
    assert spread.sd == pytest.approx(np.sqrt(5 / 3))
    assert spread.pattern_sd == pytest.approx(2 * np.sqrt(5 / 3))


def test_the_pattern_is_the_covariance_of_codes_far_from_the_origin() -> None:
    """Codes centred at (1, 10) with independent coordinates: Cov(z) n points along the
    attribute's axis, wherever the codes lie (their second moment about 0 would point at the
    mean instead)."""
    rng = np.random.default_rng(0)
    z = rng.standard_normal((2000, 2)) + np.array([1.0, 10.0])
    d = fit_direction(z, z[:, 0], kind="continuous")
    np.testing.assert_allclose(np.abs(d.pattern), [1.0, 0.0], atol=0.05)


def test_a_conditioned_pattern_at_right_angles_to_the_boundary_becomes_the_normal() -> None:
    """Normal e1 with pattern (e2 + e3)/sqrt(2), held off e3: the pattern left over, e2, lies
    along the boundary (a step along it moves no code's distance), so the normal e1 edits."""
    a = dataclasses.replace(_direction(_unit(1.0), "a"), pattern=_unit(0.0, 1.0, 1.0))
    b = _direction(_unit(0.0, 0.0, 1.0), "b")
    cond = orthogonalize(a, b)
    np.testing.assert_allclose(cond.vector, _unit(1.0), atol=1e-7)
    np.testing.assert_array_equal(cond.pattern, cond.vector)
    z = np.zeros((1, D))
    np.testing.assert_allclose(cond.project(edit(z, cond, [2.0])[:, 0]), [2.0], atol=1e-6)


@pytest.mark.parametrize("method", ["svm", "logistic"])
def test_a_rare_class_gets_a_boundary_midway_between_the_classes(method: str) -> None:
    """900 codes about (-1, 0) and 100 about (1, 0), unit spread: weighting the classes equally
    puts the boundary at x = 0 (by symmetry); unweighted, the common class pushes it towards the
    rare one (logistic: to ln(9) / 2 = 1.1)."""
    rng = np.random.default_rng(0)
    y = (np.arange(1000) < 100).astype(int)
    z = rng.standard_normal((1000, 2)) + np.where(y[:, None] == 1, [1.0, 0.0], [-1.0, 0.0])
    d = fit_direction(z, y, kind="categorical", method=method)
    assert d.vector[0] > 0.99 and abs(d.offset / d.vector[0]) < 0.2


def test_a_large_c_leaves_ridge_unregularised() -> None:
    """Noiseless ``y = z0 + 10 z1`` on codes of SDs 1 and 0.1: ridge with ``c = 1e4`` (alpha
    1e-4) recovers the normal (1, 10) / |(1, 10)|; a strong penalty would pull it towards the
    covariance of codes and label, about (1, 0.1)."""
    rng = np.random.default_rng(0)
    z = rng.standard_normal((500, 2)) * np.array([1.0, 0.1])
    d = fit_direction(z, z @ np.array([1.0, 10.0]), kind="continuous", c=1e4)
    np.testing.assert_allclose(d.vector, np.array([1.0, 10.0]) / np.sqrt(101), atol=1e-3)
    assert d.score > 0.999
