"""Projection tab: 2-d maps of a vector column with every attribute in the hover text."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from latentplay import store
from latentplay.app import projection
from latentplay.app.state import Playground
from latentplay.errors import UserError


@pytest.fixture(scope="module")
def pg(coded_faces: Path) -> Playground:
    return Playground.open(data=coded_faces)


def test_pca_map_hovers_every_attribute(pg: Playground, coded_faces: Path) -> None:
    assert projection.vector_columns(pg) == ["vae_mu"]
    fig = projection.figure(pg, "vae_mu", "pca", "gender")
    points = sum(len(t.x) for t in fig.data)
    assert points == 400
    gender = store.load(coded_faces).labels("gender")
    names = pg.store.schema.attribute("gender").names
    for trace in fig.data:
        rows = np.asarray(trace.customdata)
        assert len(trace.text) == len(rows)
        for row, text in zip(rows[:5], trace.text[:5], strict=True):
            assert text.startswith(f"<b>row {row}</b>")
            assert f"gender: {names[gender[row]]}" in text
            assert all(f"{a.name}: " in text for a in pg.store.schema.attributes)


def test_pca_axes_say_the_variance_they_show(pg: Playground, coded_faces: Path) -> None:
    """A PCA map's axes are principal components: their titles give the share of the column's
    variance each shows (scikit-learn's ratios); t-SNE axes have no meaning and stay hidden."""
    from sklearn.decomposition import PCA

    from latentplay.outputs import share_text

    fig = projection.figure(pg, "vae_mu", "pca", "gender")
    ratio = PCA(2).fit(store.vectors(store.load(coded_faces), "vae_mu")).explained_variance_ratio_
    assert fig.layout.xaxis.visible
    assert fig.layout.xaxis.title.text == f"PC1 ({share_text(ratio[0])} of variance)"
    assert fig.layout.yaxis.title.text == f"PC2 ({share_text(ratio[1])} of variance)"
    assert not projection.figure(pg, "vae_mu", "tsne", "gender", sample=100).layout.xaxis.visible


def test_coordinates_are_cached_and_recolouring_reuses_them(pg: Playground) -> None:
    coords, rows = projection.coordinates(pg, "vae_mu", "pca")
    again, _ = projection.coordinates(pg, "vae_mu", "pca")
    assert again is coords and coords.shape == (400, 2) and len(rows) == 400
    smile = projection.figure(pg, "vae_mu", "pca", "smile")
    assert len(smile.data) == 1 and "colorbar" in smile.data[0].marker


def test_tsne_maps_a_sample(pg: Playground) -> None:
    fig = projection.figure(pg, "vae_mu", "tsne", "gender", sample=120, seed=1)
    assert sum(len(t.x) for t in fig.data) == 120


def test_bad_choices_are_user_errors(pg: Playground) -> None:
    with pytest.raises(UserError, match="method"):
        projection.figure(pg, "vae_mu", "mds", "gender")
    with pytest.raises(UserError, match="no column"):
        projection.figure(pg, "nothing", "pca", "gender")
    with pytest.raises(UserError, match="no attribute"):
        projection.figure(pg, "vae_mu", "pca", "height")


def test_rows_without_a_vector_are_said_in_the_title(coded_faces: Path, tmp_path: Path) -> None:
    import shutil

    data = shutil.copytree(coded_faces, tmp_path / "faces")
    x = store.vectors(store.load(data), "vae_mu").copy()
    x[:25] = np.nan
    store.save(store.add_column(store.load(data), "holes", x, "vae_mu with NaN rows"), data)
    holes = Playground.open(data=data)
    title = projection.figure(holes, "holes", "pca", "gender").layout.title.text
    assert f"({len(x) - 25:,} rows; 25 of {len(x):,} rows without a holes vector left out)" in title
    assert "left out" not in projection.figure(holes, "vae_mu", "pca", "gender").layout.title.text


def test_pca_maps_every_row_and_samples_follow_their_seed(pg: Playground) -> None:
    """PCA ignores the sample; t-SNE maps the seeded sample of its seed (the rows of
    ``embed.coordinates.sample_rows``), each seed's map kept apart."""
    from latentplay.embed.coordinates import sample_rows

    assert len(projection.coordinates(pg, "vae_mu", "pca", sample=100)[1]) == 400
    for seed in (1, 2):
        _, rows = projection.coordinates(pg, "vae_mu", "tsne", 120, seed)
        np.testing.assert_array_equal(rows, sample_rows(400, 120, seed))


def test_a_sample_short_of_vectors_is_counted_in_its_own_rows(coded_faces: Path,
                                                              tmp_path: Path) -> None:
    """The sample box's message counts the vectors in the seeded sample asked for; a column
    with no vector at all gets the projection's own message."""
    import re
    import shutil

    from latentplay.embed.coordinates import TSNEParams, sample_rows

    data = shutil.copytree(coded_faces, tmp_path / "faces")
    x = store.vectors(store.load(data), "vae_mu").copy()
    x[::2] = np.nan                                      # even rows have no vector
    made = store.add_column(store.load(data), "holes", x, "vae_mu, even rows NaN")
    made = store.add_column(made, "none", np.full_like(x, np.nan), "no vector")
    few = store.vectors(made, "vae_mu").copy()
    few[TSNEParams().min_rows(400):] = np.nan            # just as many vectors as t-SNE needs
    made = store.add_column(made, "few", few, "vae_mu, the first rows only")
    holes = Playground.open(data=store.save(made, data).path)
    found = int((sample_rows(400, 60, 3) % 2).sum())     # the odd rows of seed 3's sample
    assert found != int((sample_rows(400, 60, 0) % 2).sum())   # another seed's sample differs
    need = TSNEParams().min_rows(found)
    with pytest.raises(UserError, match=re.escape(f"needs at least {need} rows with a vector; the "
                                                  f"sample of 60 holds {found}: raise the sample "
                                                  "(t-SNE, UMAP)") + "$"):  # no size: it holds gaps
        projection.coordinates(holes, "holes", "tsne", 60, 3)
    kept = int((sample_rows(400, 300, 3) % 2).sum())
    title = projection.figure(holes, "holes", "tsne", None, 300, 3).layout.title.text
    assert f"({kept} rows; {300 - kept} of 300 rows without a holes vector left out)" in title
    with pytest.raises(UserError, match="raise the sample"):   # all of the column's rows will do
        projection.coordinates(holes, "few", "tsne", 60, 3)
    with pytest.raises(UserError, match="has no vector"):
        projection.coordinates(holes, "none", "tsne", 60, 3)
