"""The Python API refuses what it cannot do right with one clear error, rather than a wrong
result or a library's traceback: a row selection saved over its store, masks, fractional
class codes, strings given for lists, bad sizes and shapes, and run paths given for models."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch
from tests.store.tiny_store import tiny_store

from latentplay import audit, embed, latent, metrics, report, sources, train, viz
from latentplay import store as st
from latentplay.app.state import Playground
from latentplay.audit.correction import correct_confusion
from latentplay.audit.goodness_of_fit import chi_square
from latentplay.embed.coordinates import compute
from latentplay.errors import UserError
from latentplay.intervals import wilson_interval
from latentplay.match.balance import matching_weights
from latentplay.match.effect import matched_difference, naive_difference
from latentplay.match.pipeline import MatchConfig
from latentplay.reprs import short_repr
from latentplay.sources.folder import convert
from latentplay.store import Attribute
from latentplay.store.subset import select_rows


def test_a_selection_saved_over_its_store_is_refused_and_the_store_kept(tmp_path: Path) -> None:
    path = tmp_path / "s"
    whole = tiny_store(path, n=6)
    view = whole.select(range(2))
    with pytest.raises(UserError, match="selection of rows"):
        st.save(view, path)
    with pytest.raises(UserError, match="selection of rows"):   # derived from one, too
        st.save(st.add_column(view, "v", np.zeros((2, 3))), path)
    assert len(st.load(path)) == 6
    assert len(st.save(view, tmp_path / "two")) == 2            # elsewhere: a store of its rows


def test_select_takes_a_boolean_mask_and_refuses_rows_outside(tmp_path: Path) -> None:
    s = tiny_store(tmp_path / "s", n=6)
    mask = np.arange(6) < 2
    assert len(s.select(mask)) == 2
    assert s.select(mask).labels("gender").tolist() == s.labels("gender")[:2].tolist()
    assert s.select(np.array([5, 0])).labels("gender").tolist() == [1, 0]
    for rows in ([6], [-1], np.ones(3, dtype=bool)):
        with pytest.raises(UserError):
            s.select(rows)


def test_fractional_class_codes_and_empty_names_are_refused(tmp_path: Path) -> None:
    s = tiny_store(tmp_path / "s", n=6)
    grp = Attribute("grp", "categorical", names=["a", "b"])
    with pytest.raises(UserError, match="whole numbers, got 0.7"):
        st.add_attributes(s, {"grp": (grp, np.full(6, 0.7))})
    with pytest.raises(UserError, match="whole numbers"):
        st.add_attributes(s, {"grp": (grp, np.array([0, 1, np.nan, 0, 1, 0]))})
    kept = st.add_attributes(s, {"grp": (grp, np.array([0.0, 1, 1, 0, 1, 0]))})   # whole floats
    assert kept.labels("grp").tolist() == [0, 1, 1, 0, 1, 0]
    with pytest.raises(UserError, match="column name"):
        st.add_column(s, "", np.zeros((6, 2)))


def test_load_images_refuses_bad_size_mode_and_crop(tmp_path: Path) -> None:
    s = tiny_store(tmp_path / "s", n=3)
    for kwargs, words in (({"size": 0}, "size"), ({"mode": "XYZ"}, "mode"),
                          ({"crop": 0}, "crop"), ({"crop": 2}, "crop")):
        with pytest.raises(UserError, match=words):
            st.load_images(s, [0], **kwargs)
    assert st.load_images(s, [0], crop=0.5, size=4).shape == (1, 4, 4, 3)


def test_one_string_is_one_item_not_its_characters(tmp_path: Path) -> None:
    faces = sources.make("synthfaces", tmp_path / "f", n=12, overrides="eyeglasses.p=1.0")
    assert (faces.labels("eyeglasses") == 1).all()
    rows = select_rows(faces, where={"gender": "female"})
    assert len(rows) == int((faces.labels("gender") == 0).sum())
    config = MatchConfig(treatment="gender", covariates="vae_mu, age_group", exact="skin_tone")
    assert config.covariates == ["vae_mu", "age_group"] and config.exact == ["skin_tone"]


def test_converter_options_by_name_and_columns_as_text(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    st.export_store(tiny_store(tmp_path / "s", n=4), src)
    with pytest.raises(UserError, match="unknown converter option.*colums"):
        convert(src, tmp_path / "out", colums="gender=gender")
    made = convert(src, tmp_path / "out", columns="file=file,gender=gender", workers=1)
    assert sorted(made.labels("gender").tolist()) == [0, 0, 1, 1]


def test_bad_seeds_batches_and_shapes_are_refused(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="seed"):
        sources.make("synthfaces", tmp_path / "f", n=4, seed=-1)
    with pytest.raises(UserError, match="x to pca"):
        compute(np.zeros(10), "pca")
    with pytest.raises(UserError, match="TSNEParams"):
        compute(np.random.default_rng(0).normal(size=(50, 3)), "tsne", params={"perplexity": 5})
    with pytest.raises(UserError, match="same classes"):
        chi_square(np.array([50, 50]), np.array([70, 30, 1]))
    with pytest.raises(UserError, match="same classes"):
        correct_confusion(np.array([0.5, 0.5]), np.eye(3))
    with pytest.raises(UserError, match="beyond the 10 units"):
        matching_weights(10, np.array([1, 12]), np.array([0, 2]))


def test_interval_and_outcome_refusals() -> None:
    for counts, n, level in ((12, 10, 0.95), (-1, 10, 0.95), (3, 10, 95)):
        with pytest.raises(ValueError):
            wilson_interval(counts, n, level)
    assert np.isnan(wilson_interval(0, 0)).all()
    y = np.array([1.0, 2.0, np.nan, 4.0])
    with pytest.raises(UserError, match="no finite outcome for 1"):
        matched_difference(y, np.array([0]), np.array([1]))
    with pytest.raises(UserError, match="no finite outcome"):
        naive_difference(y, np.array([True, False, True, False]))


def test_probe_needs_two_folds(tmp_path: Path) -> None:
    from latentplay.latent.probe import probe

    rng = np.random.default_rng(0)
    with pytest.raises(UserError, match=r"cross-validation folds\) must be at least 2"):
        probe(rng.normal(size=(40, 3)), np.arange(40) % 2, "categorical", cv=1)


def test_model_functions_take_a_run_directory(cvae_run: Path, vae_run: Path, faces_store: Path) -> None:
    sweep = latent.condition_sweep(cvae_run, "smile", [-1.0, 1.0], per_value=2,
                                   fixed={"gender": "female"})
    model = train.load_model(cvae_run)
    again = latent.condition_sweep(model, "smile", [-1.0, 1.0], per_value=2, fixed={"gender": "female"})
    np.testing.assert_array_equal(sweep.images, again.images)
    frames = latent.axis_traversal(vae_run, [0], np.array([-1.0, 1.0]))
    assert frames.shape[:2] == (1, 2)
    codes = latent.store_codes(vae_run, str(faces_store), [0, 1])     # the store by its path
    np.testing.assert_array_equal(codes.z, latent.store_codes(vae_run, st.load(faces_store), [0, 1]).z)
    assert codes.z.shape == (2, 8)
    with pytest.raises(UserError, match="run_latents"):
        latent.pca_axes(str(vae_run))
    with pytest.raises(UserError, match="batch_size"):
        train.encode(vae_run, np.zeros((2, 32, 32, 3), np.uint8), batch_size=0)
    with pytest.raises(UserError, match="seed"):
        train.sample(vae_run, 2, seed=-1)


def test_store_functions_take_a_store_or_its_path_alike(tmp_path: Path) -> None:
    path = tmp_path / "s"
    tiny_store(path, n=40)
    gender = np.arange(40) % 2                                    # tiny_store's labels: f, m, f, ...
    v = np.stack([gender * 4.0 - 2.0, np.cos(np.arange(40))], axis=1)   # column 0 holds gender
    st.save(st.add_column(st.load(path), "v", v), path)
    held = st.load(path)
    for given in (str(path), path):
        np.testing.assert_array_equal(st.vectors(given, "v"), v.astype(np.float32))
        np.testing.assert_array_equal(st.load_images(given, [0, 3]), st.load_images(held, [0, 3]))
        assert st.info(given)["rows"] == 40
        assert st.crosstab(given, "gender", "gender")["counts"] == [[20, 0], [0, 20]]
        assert len(st.add_column(given, "w", np.zeros((40, 2)))) == 40   # not len(str(path))
        direction = latent.fit_store_direction(given, "v", "gender", positive="m")
        assert direction.vector[0] > 0.99                          # m: +2 on column 0, f: -2
        [probe] = latent.probe_store(given, "v", "gender")
        assert probe.linear == 1.0                                 # column 0 separates the classes
        assert st.export_store(given, tmp_path / f"export{type(given).__name__}") == 40
        viz.save_store_grid(given, tmp_path / "grid.png", by="gender")   # was an AssertionError
        assert (tmp_path / "grid.png").stat().st_size > 0
    assert report.detect(held) == "store"                          # a directory's functions take a store
    assert Playground.open(data=str(path)).store.path == Playground.open(data=held).store.path == path
    assert report.build_report(held, out=tmp_path / "r.html") == tmp_path / "r.html"
    with pytest.raises(UserError, match="save the store before you report on it"):
        report.build_report(dataclasses.replace(held, path=None))
    with pytest.raises(UserError, match="selection of rows .* before you report on it"):
        report.build_report(held.select(range(2)))                # not a report of all 40 rows
    embed.embed_store(path, "pixels-pca", "e", options=["dim=2"], progress=False)
    assert embed.flagged_rows(str(path), "e").tolist() == []      # pixels are never missed
    with pytest.raises(TypeError, match="a Store or the path of one, got int"):
        st.vectors(42, "v")
    with pytest.raises(UserError, match="no factor attributes"):   # a path, not "neither a store"
        metrics.score("mig", ground_truth=str(path), represent=lambda x: x.reshape(len(x), -1))


def test_annotators_and_embedders_print_what_they_are(tmp_path: Path) -> None:
    faces = tiny_store(tmp_path / "s", n=40)
    labels = audit.StoreLabels(faces, "gender", faces)
    assert repr(labels) == ("StoreLabels(kind='labels', attribute='gender', classes=['f', 'm'], "
                            "accuracy=not measured)")           # was <... object at 0x...>
    labels.evaluation = audit.Evaluation(accuracy=0.75, confusion=np.eye(2), counts=np.eye(2), n=8)
    assert repr(labels).endswith("accuracy=0.75 on 8 images)")
    labels.classes = [f"person_{k}" for k in range(11)]           # identities: counted, not listed
    assert "classes=<11 classes>" in repr(labels)
    labels.classes = labels.classes[:10]
    assert "'person_9']" in repr(labels)
    pixels = embed.make_embedder("pixels-pca", ["dim=4"])
    assert repr(pixels).startswith("PixelsPCA(kind='pixels-pca', config=PixelsPCAConfig(")
    assert "dim=4" in repr(pixels)


def test_results_print_arrays_by_shape_and_small_ones_by_value() -> None:
    rng = np.random.default_rng(0)
    direction = latent.fit_direction(rng.normal(size=(60, 512)), np.arange(60) % 2, kind="categorical",
                                     classes=["f", "m"], attribute="gender")
    text = repr(direction)
    assert "\n" not in text and len(text) < 600                   # numpy's repr: 204 lines, 15 kB
    assert text.startswith("Direction(vector=<float32 (512,)>, attribute='gender'")
    assert "pattern=<float32 (512,)>" in text and "positive='m', negative='f'" in text
    comparison = audit.compare(np.array([50, 50]), np.array([30, 70]), ["f", "m"], n_boot=10)
    assert "generated=array([0.3, 0.7])" in repr(comparison)      # 2 values: shown as they are
    sweep = latent.Sweep(attribute="smile", values=[0.0], images=np.zeros((1, 2, 8, 8, 3), np.uint8),
                         diversity=np.zeros(1), in_range=[True])
    assert "images=<uint8 (1, 2, 8, 8, 3)>" in repr(sweep)

    @dataclasses.dataclass
    class Held:
        __repr__ = short_repr
        codes: np.ndarray
        cache: dict = dataclasses.field(repr=False)

    assert repr(Held(np.zeros((9, 1), np.float32), {"big": 1})) == "Held(codes=<float32 (9, 1)>)"


def test_training_and_loading_leave_torch_global_state_as_it_was(tmp_path: Path, faces_store: Path) -> None:
    torch.manual_seed(7)
    expected = torch.rand(3)                   # what the caller's next draws are without the calls
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        torch.manual_seed(7)
        run = train.train("ae", data=st.load(faces_store), out=tmp_path / "ae", epochs=1,  # a Store
                          batch_size=16, seed=0, progress=False,
                          overrides=["data.size=32", "data.limit=32", "model.width=8", "model.latent_dim=4",
                                     "trainer.threads=1", "log.recon_images=8", "log.samples=16"])
        train.load_model(run)                  # builds the layers before reading their weights
        assert torch.get_num_threads() == 2    # training ran on trainer.threads=1
        torch.testing.assert_close(torch.rand(3), expected)
    finally:
        torch.set_num_threads(threads)


def test_a_schema_prints_its_attributes_and_columns_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "s"
    tiny_store(path, n=4)
    st.save(st.with_history(st.add_column(st.load(path), "v", np.zeros((4, 3))), {"op": "v"}), path)
    schema = st.load(path).schema
    assert repr(schema) == ("Schema(attributes: gender (categorical); vectors: v (3); image column: "
                            "image; converter: test; history entries: 1)")
