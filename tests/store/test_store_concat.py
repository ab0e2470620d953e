"""``latentplay data concat``: several stores as one, with the store of each row."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from latentplay import store as st
from latentplay.errors import UserError
from latentplay.store import Attribute, Provenance, Schema
from latentplay.store.concat import concat_stores
from latentplay.store.subset import subset


def _store(path: Path, n: int, attributes: list[Attribute], labels: dict[str, np.ndarray],
           vectors: dict[str, tuple[str, list[int]]] | None = None, seed: int = 0,
           side: int = 4, source: str = "test") -> st.Store:
    """A store of ``n`` 4 x 4 images; ``vectors``: column -> (embedder, rows without a face)
    written as a ``latentplay embed`` history entry would be."""
    rng = np.random.default_rng(seed)
    schema = Schema(attributes=attributes, provenance=Provenance(source=source, converter="unit"))
    images = [st.encode_png(im) for im in rng.integers(0, 256, (n, side, side, 3), np.uint8)]
    store = st.build([{"image": images, **labels}], schema, path)
    for name, (embedder, missing) in (vectors or {}).items():
        store = st.add_column(store, name, rng.normal(size=(n, 3)).astype(np.float32))
        store = st.with_history(store, {"op": "embed", "column": name, "embedder": embedder,
                                        "config": {"k": 1}, "dim": 3, "rows": n,
                                        "not_found": missing})
    return st.save(store, path)


@pytest.fixture()
def pair(tmp_path: Path) -> tuple[st.Store, st.Store]:
    tone = ["monk_1", "monk_2", "monk_3"]
    a = _store(tmp_path / "a", 4, [
        Attribute("tone", "categorical", names=tone, ordered=True),
        Attribute("gender", "categorical", names=["female", "male"]),
        Attribute("age", "continuous", range=(0, 100)),
        Attribute("only_a", "continuous")],
        {"tone": np.array([0, 1, 2, 2]), "gender": np.array([0, 1, 0, 1]),
         "age": np.array([10, 20, 30, 40], np.float32), "only_a": np.ones(4, np.float32)},
        {"dlib": ("dlib", [1]), "pca": ("pixels-pca", []), "clip": ("clip", [])})
    b = _store(tmp_path / "b", 3, [
        Attribute("gender", "categorical", names=["male", "female", "other"]),
        Attribute("tone", "categorical", names=tone, ordered=True),
        Attribute("age", "categorical", names=["young", "old"])],
        {"gender": np.array([0, 1, 2]), "tone": np.array([2, 2, 0]), "age": np.array([0, 1, 1])},
        {"dlib": ("dlib", [0, 2]), "pca": ("pixels-pca", []), "clip": ("onnx:x.onnx", [])},
        seed=1)
    return a, b


def test_rows_follow_each_other_with_their_source(pair, tmp_path: Path) -> None:
    a, b = pair
    made = concat_stores([a.path, b.path], tmp_path / "both", names=["real", "made"])
    s = made.store
    assert made.notes == []
    assert len(s) == 7 and s.schema.attribute("source").names == ["real", "made"]
    assert s.labels("source").tolist() == [0, 0, 0, 0, 1, 1, 1]
    # classes matched by name; the union in order of first appearance
    gender = s.schema.attribute("gender")
    assert gender.names == ["female", "male", "other"]
    assert [gender.names[c] for c in s.labels("gender")] == \
        ["female", "male", "female", "male", "male", "female", "other"]
    assert s.schema.attribute("tone").ordered and s.labels("tone").tolist() == [0, 1, 2, 2, 2, 2, 0]
    # a store without the attribute: NaN (continuous) or unknown (categorical)
    only_a = s.labels("only_a")
    assert only_a[:4].tolist() == [1, 1, 1, 1] and np.isnan(only_a[4:]).all()
    # images of each store, in order
    np.testing.assert_array_equal(st.load_images(s, [0, 4]),
                                  np.stack([st.load_images(a, [0])[0], st.load_images(b, [0])[0]]))
    # the kept vector column carries every store's rows without a face, at their new rows
    np.testing.assert_array_equal(st.vectors(s, "dlib"),
                                  np.vstack([st.vectors(a, "dlib"), st.vectors(b, "dlib")]))
    entry = [h for h in s.schema.history if h.get("column") == "dlib"][-1]
    assert entry["not_found"] == [1, 4, 6] and entry["rows"] == 7
    assert [v.name for v in s.schema.vectors] == ["dlib"]
    left = " | ".join(made.left_out)
    assert "age: categorical in one store, continuous in another" in left
    assert "pca: pixels-pca fits itself" in left and "clip: not made by one embedder" in left
    assert s.schema.provenance.counts == {"rows": 7, "rows_real": 4, "rows_made": 3}


def test_cached_projections_are_not_carried_over(pair, tmp_path: Path) -> None:
    a, b = pair
    cached = '{"projection": "pca", "embedding": "dlib"}'
    a = st.save(st.add_column(a, "pca__dlib", np.zeros((len(a), 2), np.float32), cached),
                tmp_path / "a2")
    made = concat_stores([a, b], tmp_path / "both")
    assert "pca__dlib" not in made.store.columns
    assert not any("pca__dlib" in reason for reason in made.left_out)


def test_unknown_fills_a_missing_categorical(tmp_path: Path) -> None:
    a = _store(tmp_path / "a", 2, [Attribute("site", "categorical", names=["x", "y"])],
               {"site": np.array([0, 1])})
    b = _store(tmp_path / "b", 2, [Attribute("other", "continuous")],
               {"other": np.zeros(2, np.float32)}, side=6)
    made = concat_stores([a, b], tmp_path / "ab")
    s = made.store
    assert s.schema.attribute("site").names == ["x", "y", "unknown"]
    assert s.labels("site").tolist() == [0, 1, 2, 2]
    assert s.schema.attribute("source").names == ["a", "b"]
    assert made.notes and "differ in size (a 4x4, b 6x6)" in made.notes[0]
    assert st.load_images(s, [2])[0].shape == (6, 6, 3)


def test_stores_of_labels_only_keep_their_rows_in_either_order(tmp_path: Path) -> None:
    """Stores without images, vectors or text (every column an attribute, each one rebuilt)
    came out with 0 rows: 'attribute 'source' has shape (5,); the store has 0 rows'. Put
    together either way round, each row keeps its labels."""
    gender = Attribute("gender", "categorical", names=["female", "male"])
    parts = []
    for name, codes, ages in (("a", [0, 1, 1], [20.0, 30.0, 40.0]), ("b", [1, 0], [50.0, 60.0])):
        schema = Schema(attributes=[gender, Attribute("age", "continuous")], image_column=None,
                        provenance=Provenance(source="test", converter="unit"))
        parts.append(st.build([{"gender": np.array(codes), "age": np.array(ages, np.float32)}],
                              schema, tmp_path / name))
    ab = concat_stores(parts, tmp_path / "ab").store
    ba = concat_stores(parts[::-1], tmp_path / "ba").store
    assert ab.labels("gender").tolist() == [0, 1, 1, 1, 0]
    assert ab.labels("age").tolist() == [20.0, 30.0, 40.0, 50.0, 60.0]
    assert ba.labels("gender").tolist() == [1, 0, 0, 1, 1]
    assert ba.labels("source").tolist() == [0, 0, 1, 1, 1]
    assert ba.schema.attribute("source").names == ["b", "a"]


def test_refusals(pair, tmp_path: Path) -> None:
    a, b = pair
    with pytest.raises(UserError, match="two or more"):
        concat_stores([a], tmp_path / "x")
    with pytest.raises(UserError, match="give 2 different names"):
        concat_stores([a, b], tmp_path / "x", names=["same", "same"])
    with pytest.raises(UserError, match="'unknown' names the rows without a value"):
        concat_stores([a, b], tmp_path / "x", names=["a", "unknown"])   # read as missing after
    with pytest.raises(UserError, match="already have an attribute 'gender'"):
        concat_stores([a, b], tmp_path / "x", source="gender")
    with pytest.raises(UserError, match="one of the stores"):
        concat_stores([a, b], a.path, overwrite=True)
    around = Path(a.path).parent / ".." / Path(a.path).parent.name / Path(a.path).name
    link = tmp_path / "link"
    link.symlink_to(a.path)
    for other in (around, link):  # the same folder by another way: refused, not replaced
        with pytest.raises(UserError, match="one of the stores"):
            concat_stores([a, b], other, overwrite=True)
    assert len(st.load(a.path)) == len(a)


def test_concat_command(pair, cli, tmp_path: Path) -> None:
    a, b = pair
    r = cli("data", "concat", a.path, b.path, "--out", tmp_path / "c", "--names", "real,made",
            "--source", "origin")
    assert r.code == 0, r.err
    out = " ".join(r.out.split())
    assert "7 rows; origin: real 4, made 3" in out and "left out pca:" in out
    r = cli("data", "concat", a.path, "--out", tmp_path / "d")
    assert r.code == 2 and r.err.startswith("error: give two or more stores")


def test_factors_keep_their_level_and_value_columns(tmp_path: Path) -> None:
    """A factor is two columns, ``factor_<name>`` (levels) and ``<name>`` (values): both stay."""
    factor = Attribute("scale", "factor", values=[0.5, 1.0, 2.0])
    stores = [_store(tmp_path / name, 4, [factor],
                     {"factor_scale": levels, "scale": np.array([0.5, 1.0, 2.0])[levels]})
              for name, levels in (("a", np.array([0, 1, 2, 0])), ("b", np.array([2, 2, 1, 0])))]
    both = concat_stores(stores, tmp_path / "both").store
    assert both.labels("scale").tolist() == [0, 1, 2, 0, 2, 2, 1, 0]
    assert set(st.features_for(both.schema)) <= set(both.columns)
    assert both.dataset["scale"] == [0.5, 1.0, 2.0, 0.5, 2.0, 2.0, 1.0, 0.5]


@pytest.mark.parametrize("states", [("w1", "w2"), ("w1", "w1"), ("w1", None)])
def test_columns_of_other_weights_are_left_out(states, tmp_path: Path) -> None:
    """Two ``vae:RUN`` columns of the same name and options but other weights (a retrained run
    at the same path) do not compare: the recorded state digests must agree where both have one
    (columns embedded before it was recorded are taken on their name and options)."""
    gender = [Attribute("gender", "categorical", names=["female", "male"])]
    stores = []
    for k, state in enumerate(states):
        s = _store(tmp_path / f"s{k}", 2, gender, {"gender": np.array([0, 1])},
                   {"vae": ("vae:run", [])}, seed=k)
        entry = {**[h for h in s.schema.history if h.get("column") == "vae"][-1]}
        if state is not None:
            entry["state"] = state
        stores.append(st.save(st.with_history(s, entry), s.path))
    made = concat_stores([s.path for s in stores], tmp_path / "both")
    kept = [v.name for v in made.store.schema.vectors]
    if states[0] == states[1] or None in states:
        assert kept == ["vae"] and made.left_out == []
    else:
        assert kept == [] and made.left_out == ["vae: made by vae:run with other weights or "
                                                "fitted state in each store"]


def test_a_self_fitting_embedders_column_says_why_it_is_left_out(tmp_path: Path) -> None:
    """pixels-pca's recorded state differs in every store (it fits itself to each): the reason
    given is that it fits itself, with what to do, not a bare difference of weights."""
    stores = []
    for k in range(2):
        s = _store(tmp_path / f"s{k}", 2, [], {}, {"pca": ("pixels-pca", [])}, seed=k)
        entry = {**[h for h in s.schema.history if h.get("column") == "pca"][-1], "state": f"fit{k}"}
        stores.append(st.save(st.with_history(s, entry), s.path))
    made = concat_stores([s.path for s in stores], tmp_path / "both")
    assert made.left_out == ["pca: pixels-pca fits itself to each store's images, so the stores' "
                             "vectors do not compare; embed the new store instead"]


def test_persons_of_different_sources_are_kept_apart(tmp_path: Path) -> None:
    identity = [Attribute("identity", "categorical", names=["person_0", "person_1"])]
    a = _store(tmp_path / "a", 4, identity, {"identity": np.array([0, 0, 1, 1])}, source="x")
    b = _store(tmp_path / "b", 2, identity, {"identity": np.array([0, 1])}, source="y")
    made = concat_stores([a, b], tmp_path / "ab")
    attr = made.store.schema.attribute("identity")
    assert attr.names == ["a/person_0", "a/person_1", "b/person_0", "b/person_1"]
    assert made.store.labels("identity").tolist() == [0, 0, 1, 1, 2, 3]
    assert any("identity: the stores' persons come from different sources" in n for n in made.notes)
    # parts of one store name one set of persons: matched by name
    parts = [subset(a, tmp_path / name, rows=rows)
             for name, rows in (("first", np.array([0, 2])), ("second", np.array([1, 3])))]
    joined = concat_stores(parts, tmp_path / "parts")
    assert joined.store.schema.attribute("identity").names == ["person_0", "person_1"]
    assert joined.store.labels("identity").tolist() == [0, 1, 0, 1] and not joined.notes


def test_an_order_the_stores_do_not_share_is_dropped_with_a_note(pair, tmp_path: Path) -> None:
    """Two stores with tone ordered each its own way gave an unordered tone without a word
    (and data bias then dropped its trend test)."""
    from latentplay.store.order import order_classes

    a, b = pair
    order_classes(b.path, "tone", ["monk_3", "monk_2", "monk_1"])
    made = concat_stores([a.path, b.path], tmp_path / "both")
    assert not made.store.schema.attribute("tone").ordered
    assert any(n.startswith("tone: ordered in 2 of the 2 stores, not in one order") and
               f"data order {tmp_path / 'both'} tone --classes" in n for n in made.notes), made.notes


def test_pairs_tables_come_along_renumbered(pair, tmp_path: Path) -> None:
    """Each store's verification pairs are kept, their rows moved to the new store's (they
    used to be dropped without a word); a store without pairs is named."""
    a, b = pair
    table = "row_a,row_b,same\n0,3,1\n-1,2,0\n"
    a = st.save(a, tmp_path / "pa", extra_files={st.PAIRS_FILE: table})
    b = st.save(b, tmp_path / "pb", extra_files={st.PAIRS_FILE: "row_a,row_b,same\n0,2,1\n1,9,0\n"})
    made = concat_stores([a, b], tmp_path / "both", names=["a", "b"])
    lines = (Path(made.store.path) / st.PAIRS_FILE).read_text().splitlines()
    assert lines == ["row_a,row_b,same", "0,3,1", "-1,2,0", "4,6,1"]  # b's 1,9: no row 9
    assert made.store.schema.history[0]["pairs"] == {"a": 1, "b": 1}
    assert not any("pairs" in n for n in made.notes)
    c = _store(tmp_path / "c", 2, [], {})
    made = concat_stores([a, c], tmp_path / "ac", names=["a", "c"])
    assert (Path(made.store.path) / st.PAIRS_FILE).read_text().splitlines() == lines[:3]
    assert any("c had none, so `audit verify`" in n for n in made.notes)
    other = st.save(c, tmp_path / "pc", extra_files={st.PAIRS_FILE: "fold,row_a,row_b,same\n1,0,1,0\n"})
    made = concat_stores([a, other], tmp_path / "ao", names=["a", "o"])
    assert not (Path(made.store.path) / st.PAIRS_FILE).exists()
    assert any(x.startswith("pairs.csv: the stores' pairs tables have different columns")
               for x in made.left_out)


def test_an_imported_column_is_left_out_with_how_to_keep_it(pair, tmp_path: Path) -> None:
    """Vectors imported into each store: the reason named an embedder they never had."""
    from latentplay.store.vector_files import import_vectors

    stores = []
    for store, name in zip(pair, ("ia", "ib"), strict=True):
        np.save(tmp_path / f"{name}.npy", np.ones((len(store), 5), np.float32))
        made, _ = import_vectors(store, "feat", tmp_path / f"{name}.npy")
        stores.append(st.save(made, tmp_path / name))
    made = concat_stores(stores, tmp_path / "both", names=["a", "b"])
    assert "feat" not in made.store.columns
    assert any(x.startswith("feat: imported (data import-vectors)") and "import them into the new "
               "store" in x for x in made.left_out)


def test_unlabelled_rows_ranges_and_factors_of_other_levels(tmp_path: Path) -> None:
    """A row without a class in a store that has the attribute is ``unknown``; a continuous
    range spans every store's; a factor whose levels differ between the stores is left out."""
    def made(name: str, codes: list[int], span: tuple[float, float], values: list[float]) -> st.Store:
        attrs = [Attribute("site", "categorical", names=["x", "y"]),
                 Attribute("age", "continuous", range=span),
                 Attribute("scale", "factor", values=values)]
        return _store(tmp_path / name, 2, attrs,
                      {"site": np.array(codes), "age": np.array(span, np.float32),
                       "factor_scale": np.array([0, 1]), "scale": np.array(values[:2])})

    both = concat_stores([made("a", [0, -1], (10, 20), [0.5, 1.0]),
                          made("b", [1, 0], (5, 30), [0.5, 2.0])], tmp_path / "ab")
    s = both.store
    assert s.schema.attribute("site").names == ["x", "y", "unknown"]
    assert s.labels("site").tolist() == [0, 2, 1, 0]
    assert s.schema.attribute("age").range == (5, 30)
    assert not s.schema.has_attribute("scale")
    assert any(line.startswith("scale: a factor") for line in both.left_out)
