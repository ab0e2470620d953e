"""Projection figures say how they were made: parameters, seed, sample; titles fit the figure."""

from __future__ import annotations

import numpy as np
import pytest

from latentplay import store as st
from latentplay.embed import column as col
from latentplay.embed.coordinates import Projection
from latentplay.embed.plots import method_note, plot_projections
from latentplay.errors import UserError
from latentplay.store.schema import Attribute
from latentplay.viz.projection import Labels, projection_png


@pytest.fixture
def embedded(blob_store):
    """120 blobs with a 6-d pixels-pca column ``pix``."""
    return col.embed_store(blob_store(n=120), "pixels-pca", "pix", options=["dim=6"],
                           progress=False)


def _proj(method: str, n: int = 100, **params) -> Projection:
    from latentplay.config import to_dict
    from latentplay.embed.coordinates import PARAMS

    return Projection(coords=np.zeros((n, 2), np.float32), rows=np.arange(n), method=method,
                      embedding="e", params=to_dict(PARAMS[method](**params)))


def test_method_note_names_the_main_and_changed_parameters_seed_and_sample():
    assert method_note(_proj("tsne"), 100, 100, 0) == "perplexity=30, seed 0"
    assert (method_note(_proj("tsne", perplexity=5.0, n_iter=1000, n_jobs=2), 600, 100, 3)
            == "perplexity=5, n_iter=1000, seed 3; 100 of 600 rows sampled")
    assert (method_note(_proj("tsne", n=100, affinity="uniform"), 100, 100, 0)
            == "uniform affinities, k_neighbors=15, seed 0")
    assert (method_note(_proj("umap", metric="cosine"), 100, 100, 1)
            == "n_neighbors=15, min_dist=0.1, init=pca, metric=cosine, seed 1")
    # the initialisation is named (umap-learn's own default is spectral)
    assert (method_note(_proj("umap", init="spectral"), 100, 100, 1)
            == "n_neighbors=15, min_dist=0.1, init=spectral, seed 1")
    assert method_note(_proj("pca"), 100, 100, 0) == ""
    assert method_note(_proj("pca", whiten=True), 120, 100, 2) == (
        "whiten=True; 100 of 120 rows sampled (seed 2)")


def test_figure_and_html_titles_state_parameters_and_sample(embedded, tmp_path, monkeypatch):
    """A map of half the rows with changed parameters must not be titled like the defaults' of
    all (t-SNE's and UMAP's texts: the test above)."""
    from latentplay.embed import plots

    titles: list[str] = []
    original = plots.projection_png

    def keep(*args, **kwargs):
        fig = original(*args, **kwargs)
        titles.append(fig.axes[0].get_title())
        return fig

    monkeypatch.setattr(plots, "projection_png", keep)
    written = plot_projections(embedded, ["pix"], by=["color"], methods=["pca"],
                               params=["whiten=true"], sample=60, seed=3,
                               out=tmp_path / "figs", cache=False)
    assert titles == ["PCA of pix by color\nwhiten=True; 60 of 120 rows sampled (seed 3)"]
    assert "(whiten=True; 60 of 120 rows sampled (seed 3); PC1" in written[1].read_text()


def test_a_long_title_is_wrapped_to_the_figure():
    title = "t-SNE of a_long_embedding_name by gender\n" + "; ".join(
        ["perplexity=5, n_iter=1000, exaggeration=4, pca_dims=0, seed 3",
         "300 of 600 rows sampled", "30 of 300 rows without a a_long_embedding_name vector left out"])
    fig = projection_png(np.random.default_rng(0).normal(size=(40, 2)),
                         Labels("g", np.arange(40) % 2, names=["a", "b"]), title=title)
    shown = fig.axes[0].get_title()
    assert shown.replace("\n", " ") == title.replace("\n", " ")
    fig.canvas.draw()
    box = fig.axes[0].title.get_window_extent()
    assert box.x0 >= 0 and box.x1 <= fig.bbox.width


def test_ordered_continuous_attribute_is_one_clear_error(embedded, tmp_path):
    s = st.add_attributes(embedded, {"score": (Attribute("score", "continuous", range=(0, 1)),
                                               np.linspace(0, 1, len(embedded)))})
    with pytest.raises(UserError, match=r"--ordered takes categorical attributes, not score "
                                        r"\(continuous\): continuous and factor attributes"):
        plot_projections(s, ["pix"], by=["score"], methods=["pca"], ordered=["score"],
                         out=tmp_path / "figs", cache=False)
    assert not (tmp_path / "figs").exists()


def test_ordered_factor_attribute_is_named_a_factor(tmp_path):
    """A factor's levels are drawn in order already; the message called them "no classes to
    order"."""
    from latentplay import sources

    sources.make("shapes", tmp_path / "shapes", n=8, seed=0)
    with pytest.raises(UserError, match=r"not shape \(factor\): continuous and factor"):
        plot_projections(st.load(tmp_path / "shapes"), ["pix"], by=["shape"], methods=["pca"],
                         ordered=["shape"], out=tmp_path / "figs", cache=False)
