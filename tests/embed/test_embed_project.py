"""Projections of embedding columns: cached coordinates, plots per attribute, bad input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from latentplay import store as st
from latentplay.embed import column as col
from latentplay.embed import coordinates as pj
from latentplay.embed.plots import plot_projections
from latentplay.errors import UserError

# one t-SNE thread: on a loaded machine openTSNE's threads wait on each other at every step
FAST = ["tsne.perplexity=10", "tsne.n_iter=100", "tsne.early_exaggeration_iter=50", "tsne.n_jobs=1",
        "umap.n_neighbors=10", "umap.n_epochs=50"]


@pytest.fixture(scope="module")
def embedded_once(blob_store_once) -> Path:
    """120 blobs with a 6-d pixels-pca column ``pix``, built once for the module."""
    return col.embed_store(blob_store_once(n=120), "pixels-pca", "pix", options=["dim=6"],
                           progress=False).path


@pytest.fixture
def embedded(embedded_once: Path, tmp_path: Path) -> st.Store:
    """A copy of ``embedded_once`` of this test's own (tests add cached projections to it)."""
    return st.load(shutil.copytree(embedded_once, tmp_path / "blobs"))


def _knn_agreement(coords: np.ndarray, labels: np.ndarray, k: int = 5) -> float:
    d = ((coords[:, None] - coords[None]) ** 2).sum(-1)
    np.fill_diagonal(d, np.inf)
    nn = np.argsort(d, axis=1)[:, :k]
    return float((labels[nn] == labels[:, None]).mean())


def test_projections_are_cached_and_reused(embedded, monkeypatch):
    s, projs = pj.projections(embedded, ["pix"], ["pca", "tsne", "umap"], params=FAST)
    assert [p.method for p in projs] == ["pca", "tsne", "umap"]
    for p in projs:
        assert p.coords.shape == (120, 2) and p.coords.dtype == np.float32
        assert np.isfinite(p.coords).all() and not p.cached
        assert _knn_agreement(p.coords, s.labels("color")) > 0.8  # colours stay together
    reloaded = st.load(s.path)
    names = [p.column for p in projs]
    assert names[0] == "pca__pix" and all(n in reloaded.columns for n in names)

    def no_compute(*args, **kwargs):
        raise AssertionError("cached coordinates were recomputed")

    # t-SNE and UMAP record their threads (the layout depends on them); PCA has none
    described = [json.loads(reloaded.schema.vector(n).description) for n in names]
    assert "threads" not in described[0] and described[1]["threads"] == 1
    assert described[2]["threads"] == pj._threads(-1)
    monkeypatch.setattr(pj, "compute", no_compute)
    monkeypatch.setenv("OMP_NUM_THREADS", str(pj._threads(-1) + 1))  # other threads: reused
    _, again = pj.projections(reloaded, ["pix"], ["pca", "tsne", "umap"], params=FAST)
    for first, second in zip(projs, again, strict=True):
        assert second.cached
        np.testing.assert_array_equal(first.coords, second.coords)


def test_a_store_that_cannot_be_written_gets_the_projection_without_its_cache(
        embedded, file_size_limit, capsys):
    """A projection of a store on a full or read-only disk ended with an error after the
    projection was computed (minutes of t-SNE), and ``viz`` wrote no figure; now the
    coordinates are returned, the store is left as it was and a note says they were not kept."""
    before = sorted((p.name, p.stat().st_size) for p in embedded.path.iterdir())
    file_size_limit(4096)  # the store's shard is larger
    s, [proj] = pj.projections(embedded, ["pix"], ["pca"])
    assert proj.coords.shape == (120, 2) and np.isfinite(proj.coords).all()
    assert "note: the coordinates are not kept in" in capsys.readouterr().err
    assert sorted((p.name, p.stat().st_size) for p in embedded.path.iterdir()) == before
    assert proj.column not in st.load(embedded.path).columns
    assert [p.name for p in embedded.path.parent.iterdir()] == ["blobs"]  # no scratch left


def test_a_cached_projection_with_a_hole_is_computed_again(embedded):
    """A cache column whose description matches but that lacks a row's coordinates (damaged,
    or written by hand) is not read: the map is made anew."""
    s, (first,) = pj.projections(embedded, ["pix"], ["pca"])
    holed = st.vectors(s, "pca__pix").copy()
    holed[7] = np.nan
    s = st.save(st.add_column(s, "pca__pix", holed, s.schema.vector("pca__pix").description), s.path)
    _, (again,) = pj.projections(s, ["pix"], ["pca"])
    assert not again.cached and np.isfinite(again.coords).all()
    np.testing.assert_allclose(again.coords, first.coords, atol=1e-5)


def test_a_sample_of_every_row_is_no_sample_and_caches_are_no_columns_to_offer(embedded):
    s, (a,) = pj.projections(embedded, ["pix"], ["pca"], sample=500)
    assert a.column == "pca__pix" and len(a.rows) == 120
    s = st.load(s.path)
    assert [v.name for v in s.schema.vectors if v.is_projection] == ["pca__pix"]
    summary = st.info(s)
    assert "pca__pix" not in summary["vectors"] and summary["projections"] == ["pca__pix"]
    with pytest.raises(UserError, match=r"vector columns: pix$"):
        st.vectors(s, "nosuch")
    with pytest.raises(UserError, match=r"vector columns: pix$"):
        pj.projections(s, ["nosuch"], ["pca"])


def test_cache_key_covers_params_sample_and_embedding(embedded):
    s, (a,) = pj.projections(embedded, ["pix"], ["pca"], sample=80)
    assert a.column == "pca__pix__n80" and len(a.rows) == 80
    full = st.vectors(s, a.column)
    assert np.isnan(full).all(axis=1).sum() == 40  # rows outside the sample
    s, (b,) = pj.projections(s, ["pix"], ["pca"], params=["whiten=true"], sample=80)
    assert b.column.startswith("pca__pix__n80__") and not b.cached
    assert not np.allclose(a.coords, b.coords)
    s, (c,) = pj.projections(s, ["pix"], ["pca"], sample=80, seed=3)
    assert c.column not in (a.column, b.column) and not np.array_equal(c.rows, a.rows)
    s, (d,) = pj.projections(s, ["pix"], ["pca"], sample=80)
    assert d.cached and d.column == a.column
    s = col.embed_store(s, "pixels-pca", "pix", options=["dim=5"], overwrite=True,
                        progress=False)
    s, (e,) = pj.projections(s, ["pix"], ["pca"], sample=80)
    assert e.column == a.column and not e.cached  # the embedding changed: recomputed
    s, (f,) = pj.projections(s, ["pix"], ["pca"], sample=80, cache=False)
    assert not f.cached


def test_tsne_affinity_auto_switches_to_uniform_above_auto_rows():
    params = pj.TSNEParams(auto_rows=100)
    assert params.affinity_for(100) == "perplexity" and params.neighbors_for(100) == 90
    assert params.affinity_for(101) == "uniform" and params.neighbors_for(101) == 15
    x = np.random.default_rng(0).normal(size=(150, 8)).astype(np.float32)
    params = pj.TSNEParams(auto_rows=100, n_iter=50, early_exaggeration_iter=50)
    a = pj.compute(x, "tsne", params, seed=1)
    b = pj.compute(x, "tsne", params, seed=1)
    assert a.shape == (150, 2)
    np.testing.assert_array_equal(a, b)  # seeded: same numbers


def test_fewer_rows_than_the_pca_reduction_are_projected_as_they_are():
    """40 rows of 64 dimensions: no reduction to 50 principal components (more than the rows
    hold), and UMAP needs one row more than its neighbours."""
    x = np.random.default_rng(0).normal(size=(40, 64)).astype(np.float32)
    params = pj.TSNEParams(perplexity=5, n_iter=50, early_exaggeration_iter=50)
    assert pj.compute(x, "tsne", params).shape == (40, 2)
    assert pj.UMAPParams().min_rows(40) == 16                      # 15 neighbours and the point
    with pytest.raises(UserError, match="needs at least 16 rows, got 15"):
        pj.compute(x[:15], "umap")


def test_a_sample_is_its_rows_in_store_order():
    rows = pj.sample_rows(100, 30, 4)
    assert len(set(rows.tolist())) == 30 and np.all(np.diff(rows) > 0) and rows.max() < 100
    assert not np.array_equal(rows, pj.sample_rows(100, 30, 5))     # another seed, other rows
    np.testing.assert_array_equal(pj.sample_rows(100, 100, 4), np.arange(100))


def test_bad_input_is_one_clear_error(embedded, blob_store):
    with pytest.raises(UserError, match="no column 'nope' in store; vector columns: pix"):
        pj.projections(embedded, ["nope"], ["pca"])
    with pytest.raises(UserError, match="'color' is not a fixed-length vector column"):
        pj.projections(embedded, ["color"], ["pca"])
    with pytest.raises(UserError, match=r"needs at least 92 rows, got 40; use more rows, or "
                                        r"perplexity 12 at most \(--param tsne.perplexity=12\)"):
        pj.projections(embedded, ["pix"], ["tsne"], sample=40)
    with pytest.raises(UserError, match="unknown projection method 'mds'"):
        pj.projections(embedded, ["pix"], ["mds"])
    with pytest.raises(UserError, match=r"prefix it with the method, e.g. tsne\.perplexity=5"):
        pj.projections(embedded, ["pix"], ["tsne", "umap"], params=["perplexity=5"])
    with pytest.raises(UserError, match=r"e.g. umap\.n_neighbors=5"):
        pj.projections(embedded, ["pix"], ["tsne", "umap"], params=["n_neighbors=5"])
    with pytest.raises(UserError, match=r"--param tsne\.perplexity=12\)"):
        pj.projections(embedded, ["pix"], ["tsne", "umap"], sample=40)
    with pytest.raises(UserError, match=r"got 4; use more rows$"):      # no perplexity fits 4
        pj.projections(embedded, ["pix"], ["tsne"], sample=4, params=["tsne.perplexity=5"])
    with pytest.raises(UserError, match="bad config override"):
        pj.projections(embedded, ["pix"], ["tsne"], params=["tsne.perplexty=5"])
    # a parameter of a method not asked for changed nothing, silently
    with pytest.raises(UserError, match=r"'umap\.n_neighbors=5' is for umap, which is not among "
                                        r"the methods asked \(tsne\)"):
        pj.projections(embedded, ["pix"], ["tsne"], params=["umap.n_neighbors=5"])
    with pytest.raises(UserError, match="'constant' has only one value"):
        plot_projections(embedded, ["pix"], by=["constant"], methods=["pca"], out="unused")
    with pytest.raises(UserError, match="no attribute 'race'"):
        plot_projections(embedded, ["pix"], by=["race"], methods=["pca"], out="unused")


def test_viz_projection_cli_writes_png_per_attribute_and_html(cli, embedded, tmp_path):
    out = tmp_path / "figs"
    r = cli("viz", "projection", embedded.path, "--embedding", "pix", "--method", "pca,tsne",
            "--param", "tsne.perplexity=10", "-p", "tsne.n_iter=50",
            "-p", "tsne.early_exaggeration_iter=50", "-p", "tsne.n_jobs=1", "--out", out)
    assert r.code == 0, r.err
    assert "not colouring by constant: one value at most" in r.err  # --by defaults to the rest
    expected = {f"{m}_pix_{a}.png" for m in ("pca", "tsne") for a in ("color", "brightness")}
    expected |= {"pca_pix_color+brightness.html", "tsne_pix_color+brightness.html"}
    assert {p.name for p in out.iterdir()} == expected
    assert all((out / name).stat().st_size > 10_000 for name in expected)
    html = (out / "tsne_pix_color+brightness.html").read_text()
    assert "data:image/png;base64," in html and "brightness" in html
    assert "tsne__pix__" in "".join(st.load(embedded.path).columns)

    for args, message in [
        (("--embedding", "nope", "--by", "color"), "no column 'nope'"),
        (("--column", "nope", "--by", "color"), "no column 'nope'"),  # the other commands' name
        (("--embedding", "color", "--by", "color"), "not a fixed-length vector column"),
        (("--embedding", "pix", "--by", "constant"), "has only one value"),
        (("--embedding", "pix", "--by", "color", "--method", "tsne", "--sample", "50"),
         "needs at least 92 rows"),
        (("--embedding", "pix", "--by", "color", "--method", "hexbin"),
         "unknown projection method"),
    ]:
        r = cli("viz", "projection", embedded.path, "--out", tmp_path / "bad", *args)
        assert r.code == 2, (args, r.err)
        assert message in r.err and len(r.err.strip().splitlines()) == 1, r.err
    r = cli("viz", "projection", tmp_path / "missing", "--embedding", "pix", "--out", out)
    assert r.code == 2 and "no store at" in r.err


@pytest.fixture
def umap_arguments(monkeypatch) -> dict:
    """The keyword arguments ``compute`` gives umap-learn's ``UMAP`` (which then draws no
    projection: zeros)."""
    import umap

    passed = {}

    class Recorder:
        def __init__(self, **kwargs):
            passed.update(kwargs)

        def fit_transform(self, x):
            return np.zeros((len(x), 2))

    monkeypatch.setattr(umap, "UMAP", Recorder)
    return passed


def test_umap_cosine_neighbours_reach_umap_as_one_minus_cosine(umap_arguments):
    """The Annoy index measures the angle's chord sqrt(2 (1 - cos)); umap-learn's cosine
    distances, which weigh the fuzzy graph, are 1 - cos."""
    x = np.random.default_rng(0).normal(size=(60, 5)).astype(np.float32)
    pj.compute(x, "umap", pj.UMAPParams(metric="cosine", n_neighbors=6, n_jobs=1), seed=0)
    idx, dist, _ = umap_arguments["precomputed_knn"]
    assert umap_arguments["metric"] == "cosine" and idx.shape == dist.shape == (60, 6)
    unit = x / np.linalg.norm(x, axis=1, keepdims=True)
    cosine = (unit[:, None, :] * unit[idx]).sum(-1)
    np.testing.assert_allclose(dist, 1 - cosine, atol=1e-5)


def test_missing_labels_are_not_a_value_to_colour_by(tmp_path):
    """An attribute with one class and unlabelled rows (code -1) has one value to colour by."""
    from latentplay.embed.plots import check_attributes, plottable_attributes

    schema = st.Schema(attributes=[st.Attribute("color", "categorical", names=["r", "g", "b"]),
                                   st.Attribute("glasses", "categorical", names=["no", "yes"])],
                       provenance=st.Provenance(source="tests", converter="tests"))
    image = st.encode_png(np.zeros((8, 8, 3), np.uint8))
    s = st.build([{"image": [image] * 40, "color": [0, 1, 2, 1] * 10,
                   "glasses": [0] * 30 + [-1] * 10}], schema, tmp_path / "half")
    rows = np.arange(40)
    with pytest.raises(UserError, match=r"'glasses' has only one value \(no\)"):  # its name, not 0
        check_attributes(s, ["glasses"], rows)
    check_attributes(s, ["color"], rows)
    assert plottable_attributes(s) == (["color"], ["glasses"])


def test_umap_pca_reduction_keeps_a_cosine_metric_on_the_embedding(umap_arguments):
    """PCA centres the rows, which changes their angles: a cosine (or manhattan) UMAP must find
    its neighbours in the embedding itself, not in its principal components."""
    rng = np.random.default_rng(0)
    x = (rng.normal(size=(80, 12)) + 2.0).astype(np.float32)   # rows share a direction
    pj.compute(x, "umap", pj.UMAPParams(metric="cosine", n_neighbors=6, pca_dims=4, n_jobs=1),
               seed=0)
    idx, dist, _ = umap_arguments["precomputed_knn"]
    unit = x / np.linalg.norm(x, axis=1, keepdims=True)
    cosine = (unit[:, None, :] * unit[idx]).sum(-1)
    np.testing.assert_allclose(dist, 1 - cosine, atol=1e-5)


def test_a_cosine_umap_cached_from_pca_reduced_rows_is_computed_again(embedded):
    """A cosine UMAP's record says its neighbours were found in the embedding itself, so a
    cache without that mark (made from principal components) is not reused."""
    fast = [p for p in FAST if p.startswith("umap.")]
    params = [*fast, "umap.metric=cosine"]
    s, (first,) = pj.projections(embedded, ["pix"], ["umap"], params=params)
    record = json.loads(s.schema.vector(first.column).description)
    assert record["reduced"] is False
    del record["reduced"]
    s = st.add_column(s, first.column, st.vectors(s, first.column), json.dumps(record))
    _, (again,) = pj.projections(s, ["pix"], ["umap"], params=params)
    assert not again.cached
    s, (euclidean,) = pj.projections(s, ["pix"], ["umap"], params=fast)
    assert "reduced" not in json.loads(s.schema.vector(euclidean.column).description)


@pytest.mark.parametrize("method", ["pca", "tsne", "umap"])
def test_rows_that_are_all_one_vector_are_one_clear_error(method):
    """t-SNE and UMAP turn identical rows into NaN coordinates; PCA into one point."""
    x = np.ones((100, 6), np.float32)
    with pytest.raises(UserError, match="all 100 rows to project are the same vector"):
        pj.compute(x, method, seed=0)


def test_rows_without_a_vector_are_left_out_and_said(cli, embedded, tmp_path):
    """Rows whose vector is NaN (no face found) are not projected; the command says how many,
    on stderr and in every figure's title, so empty classes are not read as absent faces."""
    x = st.vectors(embedded, "pix").copy()
    x[:30] = np.nan
    s = st.save(st.add_column(embedded, "holes", x, "pix with NaN rows"), embedded.path)
    said: list[str] = []
    written = plot_projections(s, ["holes", "pix"], by=["color"], methods=["pca"],
                               out=tmp_path / "figs", cache=False, say=said.append)
    assert said == ["holes: 30 of 120 rows without a holes vector left out"]
    assert "30 of 120 rows without a holes vector left out" in written[1].read_text()
    assert "rows without a pix vector" not in written[3].read_text()
    r = cli("viz", "projection", s.path, "--embedding", "holes", "--by", "color", "--method",
            "pca", "--sample", "60", "--no-cache", "--out", tmp_path / "cli")
    assert r.code == 0, r.err
    left = int(np.isnan(x[pj.sample_rows(120, 60, 0)]).any(axis=1).sum())
    assert f"holes: {left} of 60 rows without a holes vector left out" in r.err
    x[:] = np.nan
    s = st.add_column(s, "empty", x, "no vector at all")
    with pytest.raises(UserError, match=r"column 'empty' has no vector \(only NaN\) in the 120 rows"):
        pj.projections(s, ["empty"], ["tsne"], cache=False)


def test_html_max_below_one_is_one_clear_error_before_projecting(cli, embedded, tmp_path):
    r = cli("viz", "projection", embedded.path, "--embedding", "pix", "--by", "color",
            "--method", "pca", "--html-max", "-1", "--out", tmp_path / "figs")
    assert r.code == 2 and r.err.strip() == "error: --html-max must be at least 1, got -1", r.err
    assert not (tmp_path / "figs").exists()


@pytest.mark.parametrize(("option", "error"), [
    (["--html-max", "-1"], "error: --html-max must be at least 1, got -1"),
    (["-p", "perplexity"], "error: override 'perplexity' is not of the form key=value")])
def test_a_bad_option_is_the_only_line_when_an_attribute_is_left_uncoloured(cli, embedded, tmp_path,
                                                                          option, error):
    """Without --by the store's one-valued attribute (constant) is left out with a note, which
    came before the error of a bad option: two lines where a mistake is told in one."""
    r = cli("viz", "projection", embedded.path, "--embedding", "pix", "--method", "pca", *option,
            "--out", tmp_path / "figs")
    assert r.code == 2 and r.err.strip() == error, r.err


@pytest.mark.parametrize("method", ["pca", "tsne", "umap"])
def test_rows_with_nan_or_inf_are_one_clear_error(method):
    """``compute`` takes arrays from any caller: a NaN row must not reach scikit-learn."""
    x = np.random.default_rng(0).normal(size=(100, 6)).astype(np.float32)
    x[[4, 9], 2] = [np.nan, np.inf]
    with pytest.raises(UserError, match=f"2 of 100 rows to {method} hold NaN or infinite"):
        pj.compute(x, method, seed=0)


@pytest.mark.parametrize("perplexity", ["0.2", "0.9"])
def test_a_perplexity_below_one_is_one_clear_error(embedded, perplexity):
    """No affinities over one neighbour or more have a perplexity below 1 (openTSNE finds no
    neighbour below 1/3 and fails inside its search)."""
    with pytest.raises(UserError, match=f"perplexity must be at least 1, got {perplexity}"):
        pj.projections(embedded, ["pix"], ["tsne"], params=[f"perplexity={perplexity}"])
    x = st.vectors(embedded, "pix")
    with pytest.raises(UserError, match="perplexity must be at least 1"):
        pj.compute(x, "tsne", pj.TSNEParams(perplexity=float(perplexity)), seed=0)


def test_pca_maps_say_how_much_variance_their_axes_show(embedded, tmp_path, monkeypatch):
    """A PCA map's axes are principal components: how much of the embedding they show decides
    how far the picture can be trusted, so the axes and the HTML title say it."""
    from sklearn.decomposition import PCA

    from latentplay.embed import plots
    from latentplay.outputs import share_text

    figures = []

    def keep(*args, **kwargs):
        figures.append(original(*args, **kwargs))
        return figures[-1]

    original = plots.projection_png
    monkeypatch.setattr(plots, "projection_png", keep)
    written = plot_projections(embedded, ["pix"], by=["color"], methods=["pca", "tsne"],
                               params=["tsne.perplexity=10", "tsne.n_iter=50", "tsne.n_jobs=1"],
                               out=tmp_path / "figs", cache=False)
    ratio = PCA(2).fit(st.vectors(embedded, "pix")).explained_variance_ratio_
    labels = (f"PC1 ({share_text(ratio[0])} of variance)", f"PC2 ({share_text(ratio[1])} of variance)")
    pca, tsne = figures[0].axes[0], figures[1].axes[0]
    assert (pca.get_xlabel(), pca.get_ylabel()) == labels
    assert tsne.get_xlabel() == tsne.get_ylabel() == ""  # t-SNE axes have no meaning to label
    assert labels[0] in written[1].read_text() and "PC1" not in written[3].read_text()


def test_pca_axes_keep_a_decimal_where_one_axis_takes_almost_all(embedded) -> None:
    """An embedding whose first axis holds 99.8 % of the variance was labelled "100%" and
    "0%", as if the second axis were empty."""
    from latentplay.embed.plots import pca_axis_labels

    rng = np.random.default_rng(0)
    x = rng.standard_normal((len(embedded), 2)) * [1.0, 0.045]
    store = st.add_column(embedded, "lopsided", x.astype(np.float32))
    first, second = pca_axis_labels(store, "lopsided", np.arange(len(store)))
    assert first.startswith("PC1 (99.") and first.endswith("% of variance)")
    assert second.startswith("PC2 (0.") and second != "PC2 (0.0% of variance)"


def test_umap_kernels_are_cached_on_disk(tmp_path, monkeypatch):
    """umap-learn compiles its numba kernels anew in every process (seconds each on a small
    machine); the ones a UMAP runs are swapped for copies that numba keeps on disk, so only the
    first UMAP on a machine compiles them."""
    import importlib

    import numba

    monkeypatch.setattr(numba.config, "CACHE_DIR", str(tmp_path))
    for module_name, name in pj.UMAP_KERNELS:  # as they were, after the test
        module = importlib.import_module(module_name)
        monkeypatch.setattr(module, name, getattr(module, name))
    pj.cache_umap_kernels.__wrapped__()
    x = np.random.default_rng(0).normal(size=(60, 5)).astype(np.float32)
    pj.compute(x, "umap", pj.UMAPParams(n_neighbors=6, n_epochs=20, n_jobs=1), seed=0)
    cached = {p.name.split("-")[0] for p in tmp_path.rglob("*.nbi")}
    assert cached >= {"umap_.smooth_knn_dist", "umap_.compute_membership_strengths",
                      "layouts._optimize_layout_euclidean_single_epoch"}, cached


def test_umap_settings_reach_umap(umap_arguments):
    """n_neighbors (its own row and n_neighbors - 1 found by Annoy) and min_dist as given."""
    x = np.random.default_rng(0).normal(size=(60, 5)).astype(np.float32)
    pj.compute(x, "umap", pj.UMAPParams(n_neighbors=7, min_dist=0.3, n_jobs=1), seed=0)
    idx, dist, _ = umap_arguments["precomputed_knn"]
    assert umap_arguments["n_neighbors"] == 7 and umap_arguments["min_dist"] == 0.3
    assert idx.shape == dist.shape == (60, 7) and (idx[:, 0] == np.arange(60)).all()


def test_tsne_settings_reach_opentsne(monkeypatch):
    """The perplexity reaches the affinities, an exaggeration other than 1 the optimiser."""
    import openTSNE
    from openTSNE import affinity

    passed = {}

    class Recorder:
        def __init__(self, **kwargs):
            passed.update(kwargs)

        def fit(self, x, affinities):
            return np.zeros((len(x), 2))

    monkeypatch.setattr(openTSNE, "TSNE", Recorder)
    monkeypatch.setattr(affinity, "PerplexityBasedNN", Recorder)
    x = np.random.default_rng(0).normal(size=(60, 5)).astype(np.float32)
    pj.compute(x, "tsne", pj.TSNEParams(perplexity=7.0, exaggeration=4.0, n_jobs=1), seed=0)
    assert passed["perplexity"] == 7.0 and passed["exaggeration"] == 4.0

